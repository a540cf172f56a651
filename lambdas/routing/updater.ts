/**
 * The routing model's updater Lambda (`routingUpdater` in the topology: one concurrent execution, the single
 * writer), fed in SQS batches (RoutingUpdates) with two kinds of event:
 * - `PaymentFinalized`, straight from the payments outbox: the payment's attempts, learnt against the context
 *   of its decision that the event carries (the updater records each outcome with its claim);
 * - `RoutingOutcomesRecorded`, from POST /route/feedback: outcomes the routing function recorded, learnt
 *   against the logged decision.
 * One batch, one model version (dynamo-model-store.ts). A message that is neither is reported as a failure of its
 * own (SQS's partial batch response): it goes back to the queue, and after its last receive to the dead-letter
 * queue, while the rest of its batch is applied.
 */
import { eventEnvelope } from '../../contracts/events';
import { documentClientOf } from '../shared/clients';
import { config } from '../shared/config';
import { parseWith } from '../shared/http';
import { instrumented, logger } from '../shared/powertools';
import { sqsMessages } from '../shared/queued';
import { vocabularyOf } from './context';
import { DynamoRoutingModel } from './dynamo-model-store';
import type { DecisionRecord, OutcomeRecord } from './ports';
import { finalizedDecision, finalizedOutcomes } from './service';

let store: DynamoRoutingModel | undefined;
function modelStore(): DynamoRoutingModel {
  store ??= new DynamoRoutingModel(documentClientOf(), config().tables.routing, vocabularyOf(config().connectors));
  return store;
}

const OutcomesEvent = eventEnvelope('RoutingOutcomesRecorded');
const FinalizedEvent = eventEnvelope('PaymentFinalized');

interface OutcomeBatch {
  readonly outcomes: OutcomeRecord[];
  /** The decisions the events carried (a /pay payment's), by id. */
  readonly known: Map<string, Pick<DecisionRecord, 'context'>>;
  /** Message ids of the SQS records that are neither event. */
  readonly malformed: string[];
}

/** Adds one event's outcomes (and its decision, when it carries one) to the batch; false when it is neither kind. */
function add(batch: OutcomeBatch, event: unknown): boolean {
  const outcomes = OutcomesEvent.safeParse(event);
  if (outcomes.success) {
    batch.outcomes.push(...outcomes.data.detail.outcomes);
    return true;
  }
  const finalized = FinalizedEvent.safeParse(event);
  if (!finalized.success) return false;
  batch.outcomes.push(...finalizedOutcomes(finalized.data.detail));
  const decision = finalizedDecision(finalized.data.detail);
  if (decision) batch.known.set(decision.decisionId, decision);
  return true;
}

function batchOf(event: unknown): OutcomeBatch | undefined {
  const batch: OutcomeBatch = { outcomes: [], known: new Map(), malformed: [] };
  if (add(batch, event)) return batch;
  const messages = sqsMessages(event);
  if (!messages) return undefined;
  for (const record of messages) {
    try {
      const parsed: unknown = JSON.parse(record.body);
      // Neither kind: the routing outcome envelope's error names what is wrong.
      if (!add(batch, parsed)) parseWith(OutcomesEvent, parsed, 'routing outcome event');
    } catch (error) {
      logger.error('routing updater: a queued message is neither a PaymentFinalized nor an outcome event; it is reported as failed', { messageId: record.messageId, error });
      batch.malformed.push(record.messageId);
    }
  }
  return batch;
}

export const handler = instrumented('routingUpdater', async (event) => {
  const batch = batchOf(event);
  if (!batch) throw new Error('routing updater: not an SQS batch of PaymentFinalized or RoutingOutcomesRecorded events');
  const batchItemFailures = batch.malformed.map((itemIdentifier) => ({ itemIdentifier }));
  if (batch.outcomes.length === 0) return { applied: 0, batchItemFailures };
  return { ...(await modelStore().applyOutcomes(batch.outcomes, batch.known)), batchItemFailures };
});
