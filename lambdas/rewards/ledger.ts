/**
 * The reward ledger's DynamoDB adapter (dynalite locally): one item per payment, a conditional put = exactly once.
 * Its on-chain mint (mint.ts) lives on the same item (`mint`): each attempt recorded before it is sent, with a
 * condition on the attempt it replaces, then marked minted, which takes it off the sparse `unminted` index (the
 * mint sweep's work list).
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { INDEX_SHARDS } from '../../contracts/resources';
import type { MintLedger } from './mint';
import type { MintAttempt, RewardLedger, StoredReward } from './rewards';

export class DynamoRewardLedger implements RewardLedger, MintLedger {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async recordOnce(entry: StoredReward) {
    try {
      await this.client.send(
        new PutCommand({ TableName: this.tableName, Item: entry, ConditionExpression: 'attribute_not_exists(paymentId)' }),
      );
      return { entry, created: true };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const existing = await this.get(entry.paymentId);
      if (!existing) throw error;
      return { entry: existing, created: false };
    }
  }

  async get(paymentId: string) {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { paymentId }, ConsistentRead: true }));
    return Item as StoredReward | undefined;
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
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { paymentId },
          UpdateExpression: 'SET #mint = :attempt',
          ConditionExpression:
            replacing === undefined
              ? '#status = :recorded AND attribute_not_exists(#mint)'
              : '#status = :recorded AND #mint.signature = :replacing AND attribute_not_exists(#mint.mintedAt)',
          ExpressionAttributeNames: { '#mint': 'mint', '#status': 'status' },
          ExpressionAttributeValues: { ':attempt': attempt, ':recorded': 'recorded', ...(replacing === undefined ? {} : { ':replacing': replacing }) },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async markMinted(paymentId: string, signature: string, at: string): Promise<void> {
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { paymentId },
        UpdateExpression: 'SET #mint.mintedAt = if_not_exists(#mint.mintedAt, :at) REMOVE unminted',
        ConditionExpression: '#mint.signature = :signature',
        ExpressionAttributeNames: { '#mint': 'mint' },
        ExpressionAttributeValues: { ':at': at, ':signature': signature },
      }),
    );
  }
}
