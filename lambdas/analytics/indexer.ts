/**
 * The indexer: the payments outbox's PaymentRecorded and PaymentRefunded events and the rewards outbox's
 * RewardChanged, off the payment's path, become analytics documents (documents.ts) with their embeddings. Idempotent by event id: an event delivered again (the outbox and
 * the queue deliver at least once) finds its document indexed and adds nothing.
 */
import { z } from 'zod';
import type { AnalyticsDocument } from '../../contracts/analytics';
import { eventEnvelope } from '../../contracts/events';
import { parseWith } from '../shared/http';
import { logger } from '../shared/powertools';
import type { QueuedMessage } from '../shared/queued';
import type { PaymentLookup } from '../payments/lookup';
import type { RewardLookup } from '../rewards/lookup';
import { documentOfEvent, rewardDocument, type IndexedEvent } from './documents';
import type { EventClaims } from './claims';
import type { AnalyticsIndex, Embedder } from './ports';

export interface IndexerDeps {
  readonly index: AnalyticsIndex;
  /** Absent: documents without embeddings (full-text search alone). */
  readonly embedder?: Embedder;
  /** Each event's claim across instances (claims.ts); absent: this instance's check of the index alone. */
  readonly claims?: EventClaims;
  readonly now?: () => Date;
}

/** Events another instance is indexing right now: the batch is delivered again later (and then skips them). */
export class EventsBusyError extends Error {
  override readonly name = 'EventsBusyError';
}

const IndexedEnvelope = z.union([eventEnvelope('PaymentRecorded'), eventEnvelope('PaymentRefunded'), eventEnvelope('RewardChanged')]);

/** The document of one event envelope (as the bus delivers it); throws on anything else. */
export function documentOf(envelope: unknown): AnalyticsDocument {
  const event = parseWith(IndexedEnvelope, envelope, 'analytics event');
  return documentOfEvent({ name: event['detail-type'], detail: event.detail } as IndexedEvent);
}

/**
 * One instance indexes one batch at a time: a queue's batch and a rebuild's page that hold the same event then
 * never both find it missing and both index it.
 */
let turn: Promise<unknown> = Promise.resolve();

/** Indexes the documents not indexed yet (one per event id); how many were new. */
export function indexDocuments(docs: readonly AnalyticsDocument[], deps: IndexerDeps, options: { readonly rebuild?: boolean } = {}): Promise<number> {
  const unique = [...new Map(docs.map((doc) => [doc.eventId, doc])).values()];
  const mine = turn.then(() => (deps.claims ? indexClaimed(unique, deps, deps.claims, options.rebuild ?? false) : indexNew(unique, deps)));
  turn = mine.catch(() => undefined);
  return mine;
}

/** Embeds and writes documents (the caller knows they are not indexed). */
async function write(docs: readonly AnalyticsDocument[], deps: IndexerDeps): Promise<void> {
  if (docs.length === 0) return;
  const embeddings = deps.embedder ? await deps.embedder.embed(docs.map((doc) => doc.text)) : [];
  await deps.index.put(docs.map((doc, i) => (embeddings[i] ? { doc, embedding: embeddings[i] } : { doc })));
}

/**
 * With claims: index the events this call claims (those taken over from an earlier holder only when the index has
 * no document of them), mark them indexed, skip those indexed already; events another instance holds make the call
 * fail after the rest is done, so their delivery comes again.
 */
async function indexClaimed(unique: readonly AnalyticsDocument[], deps: IndexerDeps, claims: EventClaims, rebuild: boolean): Promise<number> {
  const now = deps.now?.() ?? new Date();
  const outcome = await claims.claim(unique.map((doc) => doc.eventId), now, { rebuild });
  const claimed = new Set(outcome.claimed);
  const present = outcome.takenOver.size ? await deps.index.indexed([...outcome.takenOver]) : new Set<string>();
  const fresh = unique.filter((doc) => claimed.has(doc.eventId) && !present.has(doc.eventId));
  await write(fresh, deps);
  if (outcome.claimed.length) await claims.complete(outcome.claimed, deps.now?.() ?? new Date());
  if (outcome.busy.length) throw new EventsBusyError(`${outcome.busy.length} event(s) are being indexed by another instance (${outcome.busy.slice(0, 3).join(', ')}); they come again`);
  return fresh.length;
}

async function indexNew(unique: readonly AnalyticsDocument[], deps: IndexerDeps): Promise<number> {
  const already = await deps.index.indexed(unique.map((doc) => doc.eventId));
  const fresh = unique.filter((doc) => !already.has(doc.eventId));
  if (fresh.length === 0) return 0;
  await write(fresh, deps);
  return fresh.length;
}

/**
 * A queue batch: each message's event becomes a document; one that is not an event of ours is reported alone (to
 * its DLQ after its last receive), the others are indexed together. If indexing fails, the whole batch returns.
 */
export async function indexBatch(messages: readonly QueuedMessage[], deps: IndexerDeps): Promise<{ indexed: number; batchItemFailures: Array<{ itemIdentifier: string }> }> {
  const batchItemFailures: Array<{ itemIdentifier: string }> = [];
  const docs: AnalyticsDocument[] = [];
  for (const message of messages) {
    try {
      docs.push(documentOf(JSON.parse(message.body)));
    } catch (error) {
      logger.error('an analytics event could not be read; the message goes back to the queue', { messageId: message.messageId, error });
      batchItemFailures.push({ itemIdentifier: message.messageId });
    }
  }
  const indexed = await indexDocuments(docs, deps);
  return { indexed, batchItemFailures };
}

/** Where a rebuild's cursor is in the rewards table (its payments pages come first, their cursors as the store gives them). */
const REWARDS_PHASE = 'rewards:';

/**
 * One page of the rebuild of the index from the stores: the payments first (every merchant's), then the rewards'
 * changes, their documents indexed when missing. The next page's cursor, until neither store has more.
 */
export async function rebuildPage(
  stores: { readonly payments: PaymentLookup; readonly rewards: RewardLookup },
  cursor: string | undefined,
  deps: IndexerDeps,
  limit = 500,
): Promise<{ payments: number; rewards: number; indexed: number; cursor?: string }> {
  if (cursor?.startsWith(REWARDS_PHASE)) {
    const page = await stores.rewards.rewardEvents(cursor.slice(REWARDS_PHASE.length) || undefined, limit);
    const indexed = await indexDocuments(page.events.map(rewardDocument), deps, { rebuild: true });
    return { payments: 0, rewards: page.items, indexed, ...(page.cursor ? { cursor: `${REWARDS_PHASE}${page.cursor}` } : {}) };
  }
  const page = await stores.payments.analyticsEvents(cursor, limit);
  const indexed = await indexDocuments(page.events.map(documentOfEvent), deps, { rebuild: true });
  return { payments: page.payments, rewards: 0, indexed, cursor: page.cursor ?? REWARDS_PHASE };
}
