/**
 * The reward ledger's DynamoDB adapter (dynalite locally): one item per payment, a conditional put = exactly once.
 * Its on-chain mint (mint.ts) lives on the same item (`mint`): each attempt recorded before it is sent, with a
 * condition on the attempt it replaces, then marked minted, which takes it off the sparse `unminted` index (the
 * mint sweep's work list); an attempt that failed is marked so. Every change of an item's tokens (issued, clawed
 * back, minted, failed to mint) is appended to its `changes` in the same write, with the `unannounced` mark the
 * rewards outbox (outbox.ts) clears once it has published them.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { INDEX_SHARDS, shardOf } from '../../contracts/resources';
import { scanPage } from '../shared/scan';
import type { MintLedger } from './mint';
import type { RefundChange, RefundLedger } from './refunds';
import { claimKey, type ClaimLedger, type ClaimTotal, type MintAttempt, type RewardChangeRecord, type StoredClaim, type StoredReward } from './rewards';
import type { RewardOutboxLedger } from './outbox';

export class DynamoRewardLedger implements ClaimLedger, MintLedger, RefundLedger, RewardOutboxLedger {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async recordOnce(entry: StoredReward) {
    if (await conditionHeld(this.client.send(new PutCommand({ TableName: this.tableName, Item: entry, ConditionExpression: 'attribute_not_exists(paymentId)' })))) {
      return { entry, created: true };
    }
    const existing = await this.get(entry.paymentId);
    if (!existing) throw new Error(`reward ${entry.paymentId} exists by its condition, yet could not be read`);
    return { entry: existing, created: false };
  }

  async get(paymentId: string) {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { paymentId }, ConsistentRead: true }));
    return Item as StoredReward | undefined;
  }

  async claimable(key: string, limit: number): Promise<StoredReward[]> {
    const { Items = [] } = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: 'claimable',
        KeyConditionExpression: 'claimable = :key',
        ExpressionAttributeValues: { ':key': key },
        Limit: limit,
      }),
    );
    // The index is keys only and eventually consistent: each reward is read again, and kept if still claimable.
    const rewards = await Promise.all(Items.map((item) => this.get(String(item.paymentId))));
    return rewards.filter((r): r is StoredReward => r?.claimable === key);
  }

  async openClaim(claim: StoredClaim): Promise<boolean> {
    // The claim first (an orphan, if the pointer is not won, is never referenced), then the pointer: one open claim
    // a customer at a time.
    await this.client.send(new PutCommand({ TableName: this.tableName, Item: claim, ConditionExpression: 'attribute_not_exists(paymentId)' }));
    const won = await conditionHeld(
      this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { paymentId: lastClaimKey(claimOwner(claim)), claimId: claim.paymentId, open: true },
          ConditionExpression: 'attribute_not_exists(paymentId) OR #open = :false',
          ExpressionAttributeNames: { '#open': 'open' },
          ExpressionAttributeValues: { ':false': false },
        }),
      ),
    );
    // Lost to another open claim: this one is nobody's and took nothing; it goes (a crash just before this leaves
    // it, open and unreferenced, as harmless as it is: no pointer leads to it and no reward names it).
    if (!won) {
      await conditionHeld(
        this.client.send(
          new DeleteCommand({ TableName: this.tableName, Key: { paymentId: claim.paymentId }, ConditionExpression: '#status = :open', ExpressionAttributeNames: { '#status': 'status' }, ExpressionAttributeValues: { ':open': 'open' } }),
        ),
      );
    }
    return won;
  }

  async take(paymentId: string, claim: StoredClaim): Promise<void> {
    // Not held: taken already (by this claim, or by another before it): the reads that follow decide.
    await conditionHeld(
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { paymentId },
          UpdateExpression: 'SET claimId = :claim REMOVE claimable',
          ConditionExpression: 'claimable = :key',
          ExpressionAttributeValues: { ':claim': claim.paymentId, ':key': claimOwner(claim) },
        }),
      ),
    );
  }

  async closeClaim(claim: StoredClaim, taken: ClaimTotal): Promise<void> {
    // Not held: closed already by a run that got here first (with the same reads).
    await conditionHeld(
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { paymentId: claim.paymentId },
          UpdateExpression: `SET #status = :recorded, payments = :payments, tokens = :tokens, tokensDisplay = :display${taken.unminted ? ', unminted = :unminted' : ''}`,
          ConditionExpression: '#status = :open',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':recorded': 'recorded',
            ':open': 'open',
            ':payments': taken.payments,
            ':tokens': taken.tokens,
            ':display': taken.tokensDisplay,
            ...(taken.unminted ? { ':unminted': taken.unminted } : {}),
          },
        }),
      ),
    );
    // Not held: the pointer has moved on to a later claim already.
    await conditionHeld(
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { paymentId: lastClaimKey(claimOwner(claim)) },
          UpdateExpression: 'SET #open = :false',
          ConditionExpression: 'claimId = :claim',
          ExpressionAttributeNames: { '#open': 'open' },
          ExpressionAttributeValues: { ':false': false, ':claim': claim.paymentId },
        }),
      ),
    );
  }

  async claim(claimId: string): Promise<StoredClaim | undefined> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { paymentId: claimId }, ConsistentRead: true }));
    return Item as StoredClaim | undefined;
  }

  async applyRefund(seen: StoredReward, change: RefundChange): Promise<boolean> {
    const tokensChange = change.tokens !== seen.tokens;
    const { clawedBack } = change;
    const sets = ['tokens = :tokens', 'tokensDisplay = :display', '#status = :status', '#refund = :refund', ...(clawedBack ? [APPEND_CHANGE] : [])];
    return conditionHeld(
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { paymentId: seen.paymentId },
          UpdateExpression: `SET ${sets.join(', ')}${change.status === 'reversed' ? ' REMOVE unminted, claimable' : ''}`,
          ConditionExpression: [
            'tokens = :seenTokens AND #status = :seenStatus',
            '(attribute_not_exists(#refund) OR #refund.refundedAmount < :refunded)',
            // Tokens change only while nothing has them: no mint transaction recorded, no claim took them.
            ...(tokensChange ? ['attribute_not_exists(#mint) AND attribute_not_exists(claimId)'] : []),
          ].join(' AND '),
          ExpressionAttributeNames: { '#status': 'status', '#refund': 'refund', ...(tokensChange ? { '#mint': 'mint' } : {}) },
          ExpressionAttributeValues: {
            ':tokens': change.tokens,
            ':display': change.tokensDisplay,
            ':status': change.status,
            ':refund': change.refund,
            ':seenTokens': seen.tokens,
            ':seenStatus': seen.status,
            ':refunded': change.refund.refundedAmount,
            ...(clawedBack ? appendValues(seen.paymentId, clawedBack) : {}),
          },
        }),
      ),
    );
  }

  /**
   * Counts one relay of `merchantId` on `day` (YYYY-MM-DD, UTC) unless it has `limit` already; false then. The
   * day's counter expires two days after it.
   */
  async takeRelay(merchantId: string, day: string, limit: number): Promise<boolean> {
    if (limit <= 0) return false;
    const expiresAt = Math.floor(Date.parse(`${day}T00:00:00Z`) / 1000) + 3 * 86_400;
    return conditionHeld(
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { paymentId: `relays#${merchantId}#${day}` },
          UpdateExpression: 'ADD relays :one SET expiresAt = :expires',
          ConditionExpression: 'attribute_not_exists(relays) OR relays < :limit',
          ExpressionAttributeValues: { ':one': 1, ':limit': limit, ':expires': expiresAt },
        }),
      ),
    );
  }

  async lastClaim(key: string): Promise<{ claim: StoredClaim; open: boolean } | undefined> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { paymentId: lastClaimKey(key) }, ConsistentRead: true }));
    if (!Item?.claimId) return undefined;
    const claim = await this.claim(String(Item.claimId));
    return claim && { claim, open: Item.open === true };
  }

  async mintState(paymentId: string) {
    const item = await this.get(paymentId);
    if (!item) return undefined;
    return { tokens: item.tokens, status: item.status, ...(item.wallet ? { wallet: item.wallet } : {}), ...(item.mint ? { mint: item.mint } : {}) };
  }

  /**
   * The rewards whose mint is owed and not known to be finalized, recorded before `before` (ISO), oldest first
   * in each shard of the sparse `unminted` index: up to `limit` payment ids, and the oldest one's createdAt.
   */
  async unminted(before: string, limit: number): Promise<{ paymentIds: string[]; oldest?: string }> {
    const found: Array<{ paymentId: string; createdAt: string }> = [];
    for (let shard = 0; shard < INDEX_SHARDS; shard += 1) {
      const { Items = [] } = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: 'unminted',
          KeyConditionExpression: 'unminted = :shard',
          ExpressionAttributeValues: { ':shard': String(shard) },
          Limit: limit,
        }),
      );
      for (const item of Items) found.push({ paymentId: String(item.paymentId), createdAt: String(item.createdAt) });
    }
    found.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    return {
      paymentIds: found.filter((f) => f.createdAt < before).slice(0, limit).map((f) => f.paymentId),
      ...(found.length ? { oldest: found[0].createdAt } : {}),
    };
  }

  async recordAttempt(paymentId: string, attempt: MintAttempt, replacing: string | undefined): Promise<boolean> {
    return conditionHeld(
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { paymentId },
          UpdateExpression: 'SET #mint = :attempt',
          // The first attempt, only if the tokens it mints are still the reward's (a refund may have reduced them).
          ConditionExpression:
            replacing === undefined
              ? `#status = :recorded AND attribute_not_exists(#mint)${attempt.tokens === undefined ? '' : ' AND tokens = :tokens'}`
              : '#status = :recorded AND #mint.signature = :replacing AND attribute_not_exists(#mint.mintedAt)',
          ExpressionAttributeNames: { '#mint': 'mint', '#status': 'status' },
          ExpressionAttributeValues: {
            ':attempt': attempt,
            ':recorded': 'recorded',
            ...(replacing === undefined ? (attempt.tokens === undefined ? {} : { ':tokens': attempt.tokens }) : { ':replacing': replacing }),
          },
        }),
      ),
    );
  }

  async markMinted(paymentId: string, signature: string, at: string, tokens: string): Promise<void> {
    const marked = await conditionHeld(
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { paymentId },
          UpdateExpression: `SET #mint.mintedAt = :at, ${APPEND_CHANGE} REMOVE unminted`,
          ConditionExpression: '#mint.signature = :signature AND attribute_not_exists(#mint.mintedAt)',
          ExpressionAttributeNames: { '#mint': 'mint' },
          ExpressionAttributeValues: { ':at': at, ':signature': signature, ...appendValues(paymentId, { change: 'minted', tokens, at }) },
        }),
      ),
    );
    if (marked) return;
    // Marked already (by a run before this one), or another attempt's: only the former is no error.
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { paymentId }, ConsistentRead: true }));
    const mint = (Item as { mint?: MintAttempt } | undefined)?.mint;
    if (mint?.signature !== signature) throw new Error(`reward ${paymentId}: its mint is no longer ${signature}, so it cannot be marked minted`);
  }

  async markFailed(paymentId: string, signature: string, at: string, reason: string, tokens: string): Promise<void> {
    // Not held: recorded already (a run before this one), replaced by a newer attempt, or minted after all.
    await conditionHeld(
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { paymentId },
          UpdateExpression: `SET #mint.failedAt = :at, #mint.#error = :reason, ${APPEND_CHANGE}`,
          ConditionExpression: '#mint.signature = :signature AND attribute_not_exists(#mint.mintedAt) AND attribute_not_exists(#mint.failedAt)',
          ExpressionAttributeNames: { '#mint': 'mint', '#error': 'error' },
          ExpressionAttributeValues: {
            ':at': at,
            ':reason': reason,
            ':signature': signature,
            ...appendValues(paymentId, { change: 'mint_failed', tokens, at }),
          },
        }),
      ),
    );
  }

  /** Up to `limit` ids of rewards and claims with changes not yet published (the sparse `unannounced` index, every shard). */
  async unannounced(limit: number): Promise<string[]> {
    const ids: string[] = [];
    for (let shard = 0; shard < INDEX_SHARDS && ids.length < limit; shard += 1) {
      const { Items = [] } = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: 'unannounced',
          KeyConditionExpression: 'unannounced = :shard',
          ExpressionAttributeValues: { ':shard': String(shard) },
          Limit: limit - ids.length,
        }),
      );
      for (const item of Items) ids.push(String(item.paymentId));
    }
    return ids;
  }

  async markAnnounced(id: string, count: number): Promise<void> {
    // Not held: a change was recorded since (the mark stays for it), or another run marked it first.
    await conditionHeld(
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { paymentId: id },
          UpdateExpression: 'SET announced = :count REMOVE unannounced',
          ConditionExpression: 'attribute_not_exists(changes) OR size(changes) = :count',
          ExpressionAttributeValues: { ':count': count },
        }),
      ),
    );
  }

  /** One page of the table's items (every merchant's rewards and claims, and the bookkeeping items), and the next page's cursor. */
  async scan(cursor: string | undefined, limit: number): Promise<{ items: Array<StoredReward | StoredClaim>; cursor?: string }> {
    return scanPage<StoredReward | StoredClaim>(this.client, this.tableName, cursor, limit);
  }

  /** A reward or a claim, by its id. */
  async item(id: string): Promise<StoredReward | StoredClaim | undefined> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { paymentId: id }, ConsistentRead: true }));
    return Item as StoredReward | StoredClaim | undefined;
  }
}

/** The update clause that records one change on an item and marks it for the outbox (values: appendValues). */
const APPEND_CHANGE = 'changes = list_append(if_not_exists(changes, :noChanges), :change), unannounced = :unannounced';

function appendValues(id: string, change: RewardChangeRecord): Record<string, unknown> {
  return { ':noChanges': [], ':change': [change], ':unannounced': shardOf(id) };
}

/** The item that names a customer's last claim. */
function lastClaimKey(key: string): string {
  return `lastclaim#${key}`;
}

/** The `claimable` key of the customer a claim is for. */
function claimOwner(claim: StoredClaim): string {
  return claimKey(claim.merchantId, claim.customerId);
}

/** Whether a conditional write's condition held (it wrote); any other failure is thrown. */
async function conditionHeld(write: Promise<unknown>): Promise<boolean> {
  try {
    await write;
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}
