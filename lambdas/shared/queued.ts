/**
 * Bus events delivered through an SQS queue (contracts/topology.ts `QueueConsumer`): recognising a batch of one
 * event kind, and handling its messages one by one with SQS's partial batch response, so a message that fails
 * goes back to the queue alone (and, after its last receive, to the queue's DLQ) while the rest of the batch
 * is done.
 */
import { z } from 'zod';
import { EVENTS, eventEnvelope, type EventName } from '../../contracts/events';
import { parseWith } from './http';
import { logger } from './powertools';

export interface QueuedMessage {
  readonly messageId: string;
  readonly body: string;
}

const SqsEvent = z.object({ Records: z.array(z.object({ messageId: z.string(), body: z.string() }).loose()).min(1) }).loose();

/** The messages of an SQS batch (any), or undefined for any other event. */
export function sqsMessages(event: unknown): readonly QueuedMessage[] | undefined {
  const sqs = SqsEvent.safeParse(event);
  return sqs.success ? sqs.data.Records : undefined;
}

/** The messages of an SQS batch carrying `name` events (judged by its first message), or undefined. */
export function queuedBatch(event: unknown, name: EventName): readonly QueuedMessage[] | undefined {
  const messages = sqsMessages(event);
  return messages?.[0]?.body.includes(`"detail-type":"${EVENTS[name].detailType}"`) ? messages : undefined;
}

/**
 * Handles each message's event detail; a message whose handling throws (or that is not a `name` event) is
 * reported in `batchItemFailures`. `handle` returns how much it did, summed into `handled`.
 */
export async function eachQueued<N extends EventName>(
  messages: readonly QueuedMessage[],
  name: N,
  handle: (detail: z.output<(typeof EVENTS)[N]['detail']>, messageId: string) => Promise<number>,
): Promise<{ handled: number; batchItemFailures: Array<{ itemIdentifier: string }> }> {
  const envelope = eventEnvelope(name);
  const batchItemFailures: Array<{ itemIdentifier: string }> = [];
  let handled = 0;
  for (const message of messages) {
    try {
      const { detail } = parseWith(envelope, JSON.parse(message.body), `${name} event`);
      handled += await handle(detail as z.output<(typeof EVENTS)[N]['detail']>, message.messageId);
    } catch (error) {
      logger.error(`a queued ${name} event failed; the message goes back to the queue`, { messageId: message.messageId, error });
      batchItemFailures.push({ itemIdentifier: message.messageId });
    }
  }
  return { handled, batchItemFailures };
}
