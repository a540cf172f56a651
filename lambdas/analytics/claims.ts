/**
 * The claims of the analytics index's events: exactly one document per event id, however many instances are
 * handed the same event at once (the outbox's stream and its sweep may both publish a payment's events, and a
 * queue delivers at least once). A search collection cannot be asked "index this unless it exists" (vector
 * collections take no document ids of ours), and a search right after a write may not see it yet, so the
 * exclusion is a DynamoDB item per event id, written by one conditional put:
 * - `indexing` (with a lease) while one instance indexes it; another instance leaves it alone until the lease
 *   expires, then takes it over and looks for the document first (by then the index has long shown it);
 * - `indexed` once its document is written: every later delivery skips it.
 * A rebuild (a lost or new index) may take over an `indexed` claim too, once it is older than the index's
 * visibility lag (ANALYTICS_VISIBILITY_MS), and indexes the event again only if its document is missing.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** How long an instance may hold an event's claim while it indexes it (past the function's 28 s timeout). */
export const CLAIM_LEASE_MS = 60_000;
/**
 * How old an `indexed` claim must be before a rebuild may look again: by default well past the time a search
 * collection takes to show a new document (ANALYTICS_VISIBILITY_MS; the local endpoint shows it at once).
 */
export const REINDEX_AFTER_MS = 10 * 60_000;
/** Claims outlive any redelivery: a year. */
const CLAIM_TTL_S = 366 * 86_400;

export interface ClaimOutcome {
  /** Claimed by this call: index them (after looking for a document of those `taken` over). */
  readonly claimed: readonly string[];
  /** Of `claimed`, those an earlier holder may have indexed: look for their documents first. */
  readonly takenOver: ReadonlySet<string>;
  /** Indexed already: nothing to do. */
  readonly done: readonly string[];
  /** Another instance is indexing them now: try again later. */
  readonly busy: readonly string[];
}

export interface EventClaims {
  claim(eventIds: readonly string[], now: Date, options?: { readonly rebuild?: boolean }): Promise<ClaimOutcome>;
  /** Marks these claimed events indexed. */
  complete(eventIds: readonly string[], now: Date): Promise<void>;
}

export class DynamoEventClaims implements EventClaims {
  constructor(
    private readonly client: () => DynamoDBDocumentClient,
    private readonly tableName: () => string,
    private readonly reindexAfterMs = REINDEX_AFTER_MS,
  ) {}

  private key(eventId: string) {
    return { pk: `event#${eventId}` };
  }

  async claim(eventIds: readonly string[], now: Date, options: { readonly rebuild?: boolean } = {}): Promise<ClaimOutcome> {
    const claimed: string[] = [];
    const takenOver = new Set<string>();
    const done: string[] = [];
    const busy: string[] = [];
    const at = now.getTime();
    await Promise.all(
      eventIds.map(async (eventId) => {
        const item = { ...this.key(eventId), state: 'indexing', leaseUntil: at + CLAIM_LEASE_MS, at, expiresAt: Math.floor(at / 1000) + CLAIM_TTL_S };
        try {
          await this.client().send(new PutCommand({ TableName: this.tableName(), Item: item, ConditionExpression: 'attribute_not_exists(pk)' }));
          claimed.push(eventId);
          return;
        } catch (error) {
          if (!(error instanceof ConditionalCheckFailedException)) throw error;
        }
        // Held already: take it over if its lease expired (or, for a rebuild, if it was indexed a while ago).
        try {
          await this.client().send(
            new UpdateCommand({
              TableName: this.tableName(),
              Key: this.key(eventId),
              UpdateExpression: 'SET #state = :indexing, leaseUntil = :lease, #at = :at',
              ConditionExpression: options.rebuild
                ? '(#state = :indexing AND leaseUntil < :now) OR (#state = :indexed AND #at < :old)'
                : '#state = :indexing AND leaseUntil < :now',
              ExpressionAttributeNames: { '#state': 'state', '#at': 'at' },
              ExpressionAttributeValues: {
                ':indexing': 'indexing',
                ':lease': at + CLAIM_LEASE_MS,
                ':at': at,
                ':now': at,
                ...(options.rebuild ? { ':indexed': 'indexed', ':old': at - this.reindexAfterMs } : {}),
              },
            }),
          );
          claimed.push(eventId);
          takenOver.add(eventId);
        } catch (error) {
          if (!(error instanceof ConditionalCheckFailedException)) throw error;
          const current = await this.client().send(new GetCommand({ TableName: this.tableName(), Key: this.key(eventId), ConsistentRead: true }));
          (current.Item?.state === 'indexed' ? done : busy).push(eventId);
        }
      }),
    );
    return { claimed, takenOver, done, busy };
  }

  async complete(eventIds: readonly string[], now: Date): Promise<void> {
    await Promise.all(
      eventIds.map((eventId) =>
        this.client().send(
          new UpdateCommand({
            TableName: this.tableName(),
            Key: this.key(eventId),
            UpdateExpression: 'SET #state = :indexed, #at = :at REMOVE leaseUntil',
            ExpressionAttributeNames: { '#state': 'state', '#at': 'at' },
            ExpressionAttributeValues: { ':indexed': 'indexed', ':at': now.getTime() },
          }),
        ),
      ),
    );
  }
}
