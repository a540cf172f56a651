/**
 * The payment store port and its DynamoDB adapter (dynalite locally). One item per payment, attempts
 * inside it, every write a single-item update (no transactions: dynalite has none).
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { paymentIdRange } from '../../contracts/ids';
import type { AttemptRecord, FraudAssessment, PaymentDraft, PaymentRecord, PaymentStatus } from './model';
import { methodSummary } from './model';

export interface TerminalUpdate {
  readonly status: Exclude<PaymentStatus, 'processing'>;
  readonly code?: string;
  readonly connectorId?: string;
  readonly feeMinor?: number;
  readonly fraud?: FraudAssessment;
  /** The successful attempt, appended in the same write. */
  readonly attempt?: AttemptRecord;
  readonly at: string;
}

export interface PaymentStore {
  /** Appends an attempt, creating the payment (status processing) on the first one. */
  recordAttempt(draft: PaymentDraft, attempt: AttemptRecord): Promise<void>;
  /** Sets the terminal status once; a repeated call returns the record as first finalized. */
  finalize(draft: PaymentDraft, update: TerminalUpdate): Promise<PaymentRecord>;
  get(merchantId: string, paymentId: string): Promise<PaymentRecord | undefined>;
  /** The merchant's payments created in [from, to), oldest first, at most `limit`. */
  listWindow(merchantId: string, from: Date, to: Date, limit: number): Promise<{ items: PaymentRecord[]; truncated: boolean }>;
}

export class DynamoPaymentStore implements PaymentStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /**
   * The attributes every write sets: the names (`#method` is `card` or `wallet`, where the payment method's
   * summary is kept) and the values.
   */
  private base(draft: PaymentDraft, at: string): { names: Record<string, string>; values: Record<string, unknown> } {
    const { request } = draft;
    const [[method, summary]] = Object.entries(methodSummary(request));
    return {
      names: { '#method': method },
      values: {
        ':amount': request.amount,
        ':currency': request.currency,
        ':customerId': request.customerId,
        ':method': summary,
        ':createdAt': draft.createdAt,
        ':updatedAt': at,
        ':empty': [],
      },
    };
  }

  async recordAttempt(draft: PaymentDraft, attempt: AttemptRecord): Promise<void> {
    const base = this.base(draft, attempt.at);
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { merchantId: draft.merchantId, paymentId: draft.paymentId },
        UpdateExpression:
          'SET #status = if_not_exists(#status, :processing), amount = :amount, currency = :currency, customerId = :customerId, ' +
          '#method = :method, createdAt = if_not_exists(createdAt, :createdAt), updatedAt = :updatedAt, ' +
          'attempts = list_append(if_not_exists(attempts, :empty), :attempt)',
        ExpressionAttributeNames: { '#status': 'status', ...base.names },
        ExpressionAttributeValues: { ...base.values, ':processing': 'processing', ':attempt': [attempt] },
      }),
    );
  }

  async finalize(draft: PaymentDraft, update: TerminalUpdate): Promise<PaymentRecord> {
    const base = this.base(draft, update.at);
    const names: Record<string, string> = { '#status': 'status', ...base.names };
    const values: Record<string, unknown> = {
      ...base.values,
      ':status': update.status,
      ':processing': 'processing',
      ':finalizedAt': update.at,
      ':newAttempts': update.attempt ? [update.attempt] : [],
    };
    const sets = [
      '#status = :status', 'amount = :amount', 'currency = :currency', 'customerId = :customerId', '#method = :method',
      'createdAt = if_not_exists(createdAt, :createdAt)', 'updatedAt = :updatedAt', 'finalizedAt = :finalizedAt',
      'attempts = list_append(if_not_exists(attempts, :empty), :newAttempts)',
    ];
    const optional: Record<string, unknown> = {
      code: update.code,
      connectorId: update.connectorId,
      feeMinor: update.feeMinor,
      fraud: update.fraud,
      country: draft.request.country,
      description: draft.request.description,
      metadata: draft.request.metadata,
    };
    for (const [field, value] of Object.entries(optional)) {
      if (value === undefined) continue;
      sets.push(`#${field} = :${field}`);
      names[`#${field}`] = field;
      values[`:${field}`] = value;
    }
    try {
      const result = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { merchantId: draft.merchantId, paymentId: draft.paymentId },
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: 'attribute_not_exists(#status) OR #status = :processing',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return result.Attributes as PaymentRecord;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const existing = await this.get(draft.merchantId, draft.paymentId);
      if (!existing) throw error;
      return existing;
    }
  }

  async get(merchantId: string, paymentId: string): Promise<PaymentRecord | undefined> {
    const result = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { merchantId, paymentId }, ConsistentRead: true }),
    );
    return result.Item as PaymentRecord | undefined;
  }

  async listWindow(merchantId: string, from: Date, to: Date, limit: number) {
    const { low, high } = paymentIdRange(from, to);
    const items: PaymentRecord[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'merchantId = :m AND paymentId BETWEEN :low AND :high',
          ExpressionAttributeValues: { ':m': merchantId, ':low': low, ':high': high },
          ExclusiveStartKey: startKey,
          Limit: Math.min(1000, limit + 1 - items.length),
        }),
      );
      items.push(...((page.Items ?? []) as PaymentRecord[]));
      startKey = page.LastEvaluatedKey;
    } while (startKey && items.length <= limit);
    const truncated = items.length > limit;
    return { items: items.slice(0, limit), truncated };
  }
}
