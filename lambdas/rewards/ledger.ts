/** The reward ledger's DynamoDB adapter (dynalite locally): one item per payment, a conditional put = exactly once. */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { RewardEntry, RewardLedger } from './rewards';

export class DynamoRewardLedger implements RewardLedger {
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
}
