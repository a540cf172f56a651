/**
 * The labels merchants gave their payments (POST /fraud/labels), as labels: one item per payment in the fraud
 * state table (`pk` = `labels#<merchantId>`, `sk` = the payment id), read back by GET /fraud/labels (the console's
 * label queue shows which held payments are labelled). The features learn the label on their own items
 * (state.ts observeLabel); this is the merchant's record of what it said.
 */
import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { batchGetItems } from '../shared/batch-get';

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
    const keys = [...new Set(paymentIds)].map((id) => ({ pk: pk(merchantId), sk: id }));
    const items = await batchGetItems(this.client, this.tableName, keys, { maxRounds: 5, what: 'fraud labels' });
    const labels = items.map((item): PaymentLabel => ({ paymentId: String(item.sk), fraud: Boolean(item.fraud), labelledAt: String(item.labelledAt) }));
    return labels.sort((a, b) => paymentIds.indexOf(a.paymentId) - paymentIds.indexOf(b.paymentId));
  }
}
