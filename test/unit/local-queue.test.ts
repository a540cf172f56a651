/**
 * The local stand-in for a consumer's SQS queue: SQS-shaped batches of up to 10 to one consumer at a
 * time; a failed batch retried once, then reported; a partial batch response fails only the messages it names.
 */
import { createLocalQueue } from '../../local/queue';

type Batch = { Records: Array<{ messageId: string; body: string }> };

describe('local queue', () => {
  it('delivers SQS-shaped batches of up to 10, one at a time', async () => {
    const batches: string[][] = [];
    let running = 0;
    let overlap = false;
    const queue = createLocalQueue(async (event: Batch) => {
      running += 1;
      overlap ||= running > 1;
      batches.push(event.Records.map((r) => r.body));
      await new Promise((resolve) => setTimeout(resolve, 5));
      running -= 1;
    });
    for (let i = 0; i < 23; i += 1) queue.send(`m${i}`);
    await queue.idle();
    expect(batches.map((b) => b.length)).toEqual([10, 10, 3]);
    expect(batches.flat()).toEqual(Array.from({ length: 23 }, (_, i) => `m${i}`));
    expect(overlap).toBe(false);
  });

  it('gathers a batch for up to its batching window, hands over a full one at once, and idle() ends the window', async () => {
    const batches: Array<{ size: number; at: number }> = [];
    const started = Date.now();
    const queue = createLocalQueue(
      async (event: Batch) => {
        batches.push({ size: event.Records.length, at: Date.now() - started });
      },
      { batchSize: 5, batchingWindowMs: 300 },
    );
    // Three messages over 100 ms: one batch, handed over about 300 ms after the first.
    queue.send('a');
    await new Promise((resolve) => setTimeout(resolve, 50));
    queue.send('b');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const third = queue.send('c');
    await new Promise((resolve) => setImmediate(resolve));
    // Held by the open window on purpose (admission control does not count them as behind).
    expect(queue.held()).toBe(3);
    await third;
    expect(queue.held()).toBe(0);
    expect(batches).toEqual([{ size: 3, at: expect.any(Number) }]);
    expect(batches[0].at).toBeGreaterThanOrEqual(250);
    // A full batch does not wait for the window.
    const fullAt = Date.now() - started;
    await Promise.all(['d', 'e', 'f', 'g', 'h'].map((m) => queue.send(m)));
    expect(batches[1]).toEqual({ size: 5, at: expect.any(Number) });
    expect(batches[1].at - fullAt).toBeLessThan(200);
    // idle() hands over what the window holds at once.
    const idleAt = Date.now() - started;
    void queue.send('i');
    await queue.idle();
    expect(batches[2]).toEqual({ size: 1, at: expect.any(Number) });
    expect(batches[2].at - idleAt).toBeLessThan(200);
  });

  it('retries a failed batch once, then reports it', async () => {
    const errors: string[] = [];
    let calls = 0;
    const queue = createLocalQueue(
      async () => {
        calls += 1;
        throw new Error('down');
      },
      { onError: (message) => errors.push(message) },
    );
    queue.send('a');
    queue.send('b');
    await queue.idle();
    expect(calls).toBe(2);
    expect(errors).toEqual(['[queue] 2 message(s) failed twice and were dropped']);
  });

  it('waits the retry delay before the retry (a claim a crashed run held expires meanwhile), busy all along', async () => {
    const attempts: number[] = [];
    const started = Date.now();
    const queue = createLocalQueue(
      async () => {
        attempts.push(Date.now() - started);
        if (attempts.length === 1) throw new Error('busy elsewhere');
      },
      { retryDelayMs: 300 },
    );
    const done = queue.send('a');
    await new Promise((r) => setTimeout(r, 100));
    expect(attempts).toHaveLength(1);
    expect(queue.busy()).toBe(true); // the bus must not take it for delivered yet
    await done;
    expect(attempts).toHaveLength(2);
    expect(attempts[1] - attempts[0]).toBeGreaterThanOrEqual(290);
    await queue.idle();
    expect(queue.busy()).toBe(false);
  });

  it('retries only the messages a partial batch response names', async () => {
    const seen: string[][] = [];
    const errors: string[] = [];
    const queue = createLocalQueue(
      async (event: Batch) => {
        seen.push(event.Records.map((r) => r.body));
        return { batchItemFailures: event.Records.filter((r) => r.body === 'bad').map((r) => ({ itemIdentifier: r.messageId })) };
      },
      { onError: (message) => errors.push(message) },
    );
    queue.send('good');
    queue.send('bad');
    queue.send('also good');
    await queue.idle();
    expect(seen).toEqual([['good', 'bad', 'also good'], ['bad']]);
    expect(errors).toEqual(['[queue] 1 message(s) failed twice and were dropped']);
  });
});

describe('local queue: when a message is done', () => {
  it('send resolves once its message was consumed (what the bus acknowledges), or failed twice and was dropped', async () => {
    const consumed: string[] = [];
    let failB = true;
    const queue = createLocalQueue(async (event: Batch) => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      const failures = event.Records.filter((r) => r.body === 'b' && failB).map((r) => ({ itemIdentifier: r.messageId }));
      consumed.push(...event.Records.filter((r) => !(r.body === 'b' && failB)).map((r) => r.body));
      return { batchItemFailures: failures };
    }, { onError: () => undefined });
    const order: string[] = [];
    const a = queue.send('a').then(() => order.push(`a done after ${consumed.join(',')}`));
    const b = queue.send('b').then(() => order.push('b done'));
    await Promise.all([a, b]);
    expect(order[0]).toBe('a done after a');
    expect(order).toContain('b done');
    expect(consumed).toEqual(['a']);
    failB = false;
  });
});
