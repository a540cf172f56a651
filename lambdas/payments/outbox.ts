/**
 * The outbox's publisher. A payment's terminal write carries its `PaymentSucceeded` detail (`outbox`) and a
 * mark that its events are not yet published (`unpublished`, the sparse `outbox` index); its events are a
 * function of the record: `PaymentSucceeded` for a succeeded payment, `PaymentFinalized` (the decision and the
 * attempts, for routing to learn from) for a routed one, `PaymentRecorded` (what analytics indexes) for every one,
 * until `eventsPublished`; and `PaymentRefunded` for each
 * succeeded refund not yet `published` (a refund's settlement marks the payment again). Publishing puts them on
 * the bus and then records what went out and clears the mark. Delivery is at least once (a crash between the two publishes
 * again), so every consumer is idempotent (the reward ledger by payment id, routing by decision and attempt).
 *
 * Two ways in, one code path: in the cloud the table's stream hands the new images to the payments function
 * (the fast path); a scheduled sweep (`outbox`) publishes whatever is still marked, which is the local
 * platform's drain and the cloud's safety net.
 */
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { RoutingDecisionContext, RoutingDecisionLog } from '../../contracts/events';
import type { BusEvent, EventPublisher } from '../shared/bus';
import { TerminalStatus } from '../../contracts/api';
import type { PlannedRoute } from '../../contracts/steps';
import { recordedEvent, refundedEvent, succeededEvent, type PaymentRecord } from './model';
import type { PaymentKey, PaymentStore } from './store';

/** One event of the outbox. */
export type OutboxEvent = BusEvent<'PaymentSucceeded' | 'PaymentRefunded' | 'PaymentFinalized' | 'PaymentRecorded'>;

export interface OutboxDeps {
  readonly store: PaymentStore;
  readonly publisher: EventPublisher<OutboxEvent['name']>;
}

/** What routing logs of the payment's decision: its context and the plan's ranking. */
function decisionLog(plan: PlannedRoute, decision: RoutingDecisionContext): RoutingDecisionLog {
  return {
    ...decision,
    ranked: plan.ranked.map(({ connectorId, propensity, score }) => ({ connectorId, propensity, score })),
    propensity: plan.propensity,
    policyVersion: plan.policyVersion,
  };
}

/** The refunds whose events are still to publish: succeeded and not published (their indexes). */
function unpublishedRefunds(record: PaymentRecord): number[] {
  return (record.refunds ?? []).flatMap((refund, index) => (refund.status === 'succeeded' && !refund.published ? [index] : []));
}

/** The unpublished events of a terminal payment record: its own (until published), and its succeeded refunds'. */
export function eventsOf(record: PaymentRecord): OutboxEvent[] {
  const events: OutboxEvent[] = [];
  for (const index of unpublishedRefunds(record)) events.push({ name: 'PaymentRefunded', detail: refundedEvent(record, record.refunds![index]!) });
  if (record.eventsPublished) return events;
  const succeeded = succeededEvent(record);
  if (succeeded) events.push({ name: 'PaymentSucceeded', detail: succeeded });
  const recorded = recordedEvent(record);
  if (recorded) events.push({ name: 'PaymentRecorded', detail: recorded });
  const terminal = TerminalStatus.safeParse(record.status);
  if (record.plan && record.attempts.length > 0 && terminal.success) {
    events.push({
      name: 'PaymentFinalized',
      detail: {
        paymentId: record.paymentId,
        merchantId: record.merchantId,
        decisionId: record.plan.decisionId,
        status: terminal.data,
        attempts: record.attempts,
        ...(record.plan.decision ? { decision: decisionLog(record.plan, record.plan.decision) } : {}),
      },
    });
  }
  return events;
}

/** What a publication did: the events it published, and each payment's lag from its last write to now. */
export interface Published {
  readonly events: number;
  readonly lagsMs: readonly number[];
}

/** Publishes the events of these records that are still marked, then clears their marks. */
export async function publishRecords(records: readonly PaymentRecord[], deps: OutboxDeps, now: () => number = Date.now): Promise<Published> {
  const marked = records.filter((record) => record.unpublished !== undefined && TerminalStatus.safeParse(record.status).success);
  if (marked.length === 0) return { events: 0, lagsMs: [] };
  const events = marked.flatMap(eventsOf);
  if (events.length) await deps.publisher.publish(events);
  await Promise.all(marked.map((record) => deps.store.markPublished(record, { refunds: unpublishedRefunds(record), refundVersion: record.refundVersion ?? 0 })));
  const published = now();
  return { events: events.length, lagsMs: marked.map((record) => Math.max(0, published - Date.parse(record.updatedAt))) };
}

/** The sweep: everything still marked, up to `limit` payments. */
export async function publishPending(deps: OutboxDeps, limit = 100): Promise<Published> {
  const keys: PaymentKey[] = await deps.store.listUnpublished(limit);
  const records = await Promise.all(keys.map((key) => deps.store.get(key.merchantId, key.paymentId)));
  return publishRecords(records.filter((record): record is PaymentRecord => record !== undefined), deps);
}

/** A DynamoDB stream batch (the new images; the event source mapping's filter passes only marked ones). */
export interface StreamBatch {
  readonly Records: ReadonlyArray<{ readonly eventSource?: string; readonly dynamodb?: { readonly NewImage?: Record<string, AttributeValue> } }>;
}

export function isStreamBatch(event: unknown): event is StreamBatch {
  const records = (event as { Records?: unknown })?.Records;
  return Array.isArray(records) && records.length > 0 && (records[0] as { eventSource?: unknown }).eventSource === 'aws:dynamodb';
}

export async function publishStream(batch: StreamBatch, deps: OutboxDeps): Promise<Published> {
  const records = batch.Records.flatMap((record) => (record.dynamodb?.NewImage ? [unmarshall(record.dynamodb.NewImage) as PaymentRecord] : []));
  return publishRecords(records, deps);
}
