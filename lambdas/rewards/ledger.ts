/**
 * The reward ledger's DynamoDB adapter (dynalite locally): one item per payment, a conditional put = exactly once.
 * Its on-chain mint (mint.ts) lives on the same item (`mint`): each attempt recorded before it is sent, with a
 * condition on the attempt it replaces, then marked minted.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { MintAttempt, MintLedger } from './mint';
import type { RewardEntry, RewardLedger } from './rewards';

export class DynamoRewardLedger implements RewardLedger, MintLedger {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async recordOnce(entry: RewardEntry) {
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
    return Item as RewardEntry | undefined;
  }

  async mintState(paymentId: string) {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { paymentId }, ConsistentRead: true }));
    if (!Item) return undefined;
    return { tokens: String(Item.tokens), status: String(Item.status), ...(Item.mint ? { mint: Item.mint as MintAttempt } : {}) };
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
        UpdateExpression: 'SET #mint.mintedAt = if_not_exists(#mint.mintedAt, :at)',
        ConditionExpression: '#mint.signature = :signature',
        ExpressionAttributeNames: { '#mint': 'mint' },
        ExpressionAttributeValues: { ':at': at, ':signature': signature },
      }),
    );
  }
}
