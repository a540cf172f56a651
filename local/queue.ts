/**
 * The local stand-in for an SQS queue with a Lambda event source: messages are buffered and handed to one
 * consumer at a time (as the cloud delivers them to the routing model's updater: one concurrent execution, the
 * single writer), in batches of up to `batchSize` shaped like an SQS event (`{Records: [{body}]}`), gathered for
 * up to the source's batching window as Lambda gathers them, so a consumer's per-batch work (the routing model's
 * commit above all) is shared as in the cloud. A failed batch is retried once, then reported and dropped (the
 * cloud would redrive it to the DLQ). A consumer may fail only some messages with SQS's partial batch response
 * (`{batchItemFailures: [{itemIdentifier}]}`, the message ids): those alone are retried, then reported.
 */
/** SQS's partial batch response: the messages of a batch that failed. */
interface PartialBatchResponse {
  readonly batchItemFailures?: ReadonlyArray<{ readonly itemIdentifier: string }>;
}

export interface LocalQueue {
  /**
   * Buffers a message; resolves when it is done: consumed, or failed twice and dropped (reported, as the cloud
   * would move it to the DLQ). The local bus acknowledges a rule's delivery then, so a message a crash left
   * in the queue is delivered again at the next start (its journal).
   */
  send(body: string): Promise<void>;
  /** Resolves when nothing is buffered or being consumed (what a batching window holds is handed over at once). */
  idle(): Promise<void>;
  /** Runs `work` with the batching window off: batches are handed over at once until it settles. */
  withoutWindow<T>(work: () => Promise<T>): Promise<T>;
  busy(): boolean;
  /** Messages an open batching window is holding (fewer than a batch): gathered on purpose, not behind. */
  held(): number;
}

export function createLocalQueue(
  consumer: (event: { Records: Array<{ messageId: string; body: string }> }) => Promise<unknown>,
  options: {
    readonly batchSize?: number;
    /**
     * As the SQS event source's MaximumBatchingWindowInSeconds: a batch is handed over once it is full or this long
     * after its first message (`idle()` hands it over at once). @default 0
     */
    readonly batchingWindowMs?: number;
    readonly onError?: (message: string, error: unknown) => void;
    /** How long a failed message waits before its retry (topology's localRetryDelaySeconds). @default 0 */
    readonly retryDelayMs?: number;
  } = {},
): LocalQueue {
  const batchSize = options.batchSize ?? 10;
  const windowMs = options.batchingWindowMs ?? 0;
  /** Ends the current batching window early (a full batch, or `idle()`). */
  let closeWindow: (() => void) | undefined;
  let flushing = 0;
  const buffered: Array<{ body: string; attempts: number; done: () => void }> = [];
  let running: Promise<void> | undefined;
  let sequence = 0;
  /** Failed messages waiting out the retry delay (not buffered yet). */
  let waiting = 0;
  const retryDelayMs = options.retryDelayMs ?? 0;

  const drain = async () => {
    while (buffered.length) {
      const batch = buffered.splice(0, batchSize).map((m) => ({ ...m, messageId: `local-${(sequence += 1)}` }));
      const fail = (failed: typeof batch, error: unknown) => {
        const retry = failed.filter((m) => m.attempts < 1).map((m) => ({ body: m.body, attempts: m.attempts + 1, done: m.done }));
        if (retry.length && retryDelayMs > 0) {
          // As SQS keeps a failed message invisible for a while. The message is not done meanwhile: the platform's
          // idle() and close() wait for its retry (up to the delay), and a process that dies first leaves its delivery
          // unacknowledged, so the bus delivers it again at the next start.
          waiting += retry.length;
          setTimeout(() => {
            waiting -= retry.length;
            buffered.push(...retry);
            kick();
          }, retryDelayMs).unref();
        } else if (retry.length) buffered.push(...retry);
        const dropped = failed.filter((m) => m.attempts >= 1);
        if (dropped.length) options.onError?.(`[queue] ${dropped.length} message(s) failed twice and were dropped`, error);
        for (const m of dropped) m.done();
      };
      try {
        const result = await consumer({ Records: batch.map((m) => ({ messageId: m.messageId, body: m.body })) });
        const ids = new Set(((result as PartialBatchResponse | undefined)?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
        for (const m of batch) if (!ids.has(m.messageId)) m.done();
        if (ids.size) fail(batch.filter((m) => ids.has(m.messageId)), new Error('reported in the partial batch response'));
      } catch (error) {
        fail(batch, error);
      }
    }
  };

  const kick = () => {
    if (buffered.length >= batchSize) closeWindow?.();
    running ??= (async () => {
      // Let the producers of this tick add to the batch first.
      await new Promise((resolve) => setImmediate(resolve));
      if (windowMs > 0 && flushing === 0 && buffered.length < batchSize) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, windowMs);
          closeWindow = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        closeWindow = undefined;
      }
      await drain();
    })().finally(() => {
      running = undefined;
      if (buffered.length) kick();
    });
  };

  const withoutWindow = async <T>(work: () => Promise<T>): Promise<T> => {
    flushing += 1;
    try {
      closeWindow?.();
      return await work();
    } finally {
      flushing -= 1;
    }
  };

  return {
    send(body) {
      return new Promise<void>((done) => {
        buffered.push({ body, attempts: 0, done });
        kick();
      });
    },
    withoutWindow,
    idle: () =>
      withoutWindow(async () => {
        while (running) await running;
      }),
    busy: () => running !== undefined || buffered.length > 0 || waiting > 0,
    held: () => (closeWindow ? buffered.length : 0),
  };
}
