/**
 * The labels merchants gave their payments (POST /fraud/labels), as labels: one item per payment in the fraud
 * state table (`pk` = `labels#<merchantId>`, `sk` = the payment id), read back by GET /fraud/labels (the console's
 * label queue shows which held payments are labelled). The features learn the label on their own items
 * (state.ts observeLabel); this is the merchant's record of what it said.
 */
import { BatchGetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export interface PaymentLabel {
  readonly paymentId: string;
  readonly fraud: boolean;
  readonly labelledAt: string;
}

export interface LabelStore {
  /** Records (or replaces) the merchant's label of a payment. */
  record(merchantId: string, label: PaymentLabel): Promise<void>;
  /** The merchant's labels of these payments (those it labelled). */
  get(merchantId: string, paymentIds: readonly string[]): Promise<PaymentLabel[]>;
}

/** Kept past any review and chargeback window (then the table's TTL removes it). */
const KEEP_SECONDS = 400 * 86_400;

const pk = (merchantId: string) => `labels#${merchantId}`;

export class DynamoLabelStore implements LabelStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async record(merchantId: string, label: PaymentLabel): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { pk: pk(merchantId), sk: label.paymentId, fraud: label.fraud, labelledAt: label.labelledAt, expiresAt: Math.floor(Date.parse(label.labelledAt) / 1000) + KEEP_SECONDS },
      }),
    );
  }

  async get(merchantId: string, paymentIds: readonly string[]): Promise<PaymentLabel[]> {
    const labels: PaymentLabel[] = [];
    const unique = [...new Set(paymentIds)];
    for (let i = 0; i < unique.length; i += 100) {
      let keys: Record<string, unknown>[] = unique.slice(i, i + 100).map((id) => ({ pk: pk(merchantId), sk: id }));
      // Unprocessed keys (throttling) are asked again.
      for (let round = 0; keys.length && round < 5; round += 1) {
        const result = await this.client.send(new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: keys, ConsistentRead: true } } }));
        for (const item of result.Responses?.[this.tableName] ?? []) labels.push({ paymentId: String(item.sk), fraud: Boolean(item.fraud), labelledAt: String(item.labelledAt) });
        keys = (result.UnprocessedKeys?.[this.tableName]?.Keys ?? []) as Record<string, unknown>[];
      }
      if (keys.length) throw new Error(`fraud labels: ${keys.length} keys left unprocessed after 5 rounds`);
    }
    return labels.sort((a, b) => paymentIds.indexOf(a.paymentId) - paymentIds.indexOf(b.paymentId));
  }
}
