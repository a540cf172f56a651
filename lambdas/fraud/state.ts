/**
 * The online side of the features: customer and terminal state in the fraud-state table (DynamoDB; dynalite
 * locally), read before scoring and updated as payments complete, through the same functions the offline
 * replay uses (features.ts).
 *
 * Items (pk, sk):
 * - `cust#<id>`, `state`: the CustomerState plus a version (optimistic locking; retried on conflict);
 * - `term#<id>`, `meta`: the terminal's first sighting;
 * - `term#<id>`, `day#<day>`: the terminal's transactions and known frauds on one UTC day, updated with
 *   atomic ADDs so concurrent payments at a busy terminal lose no count. Expired by TTL after 30 + D + 2 days.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { TransientError } from '../shared/errors.js';
import {
  dayIndex,
  observe,
  observeLabel,
  type CustomerState,
  type DayCount,
  type FeatureOptions,
  type FeatureTransaction,
  type TerminalState,
} from './features.js';

export interface FeatureState {
  readonly customer?: CustomerState;
  readonly terminal?: TerminalState;
}

/** The port the fraud steps use. */
export interface FeatureStatePort {
  /** The state before a transaction at `time`. */
  load(customerId: string, terminalId: string, time: number): Promise<FeatureState>;
  /** Folds a completed transaction in. */
  observe(tx: FeatureTransaction): Promise<void>;
  /** Records a transaction's label (fraud or not) when it becomes known. */
  observeLabel(tx: Pick<FeatureTransaction, 'txId' | 'time' | 'customerId' | 'terminalId'>, fraud: boolean): Promise<void>;
}

const DAY_MS = 86_400_000;
const MAX_CONFLICT_RETRIES = 25;

const customerKey = (id: string) => ({ pk: `cust#${id}`, sk: 'state' });
const terminalPk = (id: string) => `term#${id}`;
const daySk = (day: number) => `day#${String(day).padStart(7, '0')}`;

type StoredCustomer = CustomerState & { readonly version: number };

export class DynamoFeatureState implements FeatureStatePort {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly options: FeatureOptions,
  ) {}

  private async getCustomer(customerId: string): Promise<StoredCustomer | undefined> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: customerKey(customerId), ConsistentRead: true }));
    if (!Item) return undefined;
    const { pk: _pk, sk: _sk, ...state } = Item;
    return state as StoredCustomer;
  }

  private async getTerminal(terminalId: string, time: number): Promise<TerminalState | undefined> {
    const from = dayIndex(time) - (30 + this.options.feedbackDelayDays + 1);
    const { Items = [] } = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :meta',
        ExpressionAttributeValues: { ':pk': terminalPk(terminalId), ':from': daySk(from), ':meta': 'meta' },
        ConsistentRead: true,
      }),
    );
    const meta = Items.find((item) => item.sk === 'meta');
    if (!meta) return undefined;
    // Query returns the days in sort-key order: oldest first.
    const days: DayCount[] = [];
    for (const item of Items) {
      if (item.sk === 'meta') continue;
      days.push({ day: Number(String(item.sk).slice(4)), n: Number(item.n ?? 0), fraud: Number(item.fraud ?? 0) });
    }
    return { firstSeen: Number(meta.firstSeen), days };
  }

  async load(customerId: string, terminalId: string, time: number): Promise<FeatureState> {
    const [customer, terminal] = await Promise.all([this.getCustomer(customerId), this.getTerminal(terminalId, time)]);
    if (!customer) return { terminal };
    const { version: _version, ...state } = customer;
    return { customer: state, terminal };
  }

  /** Read, change and write the customer item, retrying when another writer got there first. */
  private async updateCustomer(customerId: string, change: (current: CustomerState | undefined) => CustomerState | undefined): Promise<CustomerState | undefined> {
    for (let attempt = 0; attempt < MAX_CONFLICT_RETRIES; attempt += 1) {
      const stored = await this.getCustomer(customerId);
      const current = stored && (({ version: _v, ...s }) => s)(stored);
      const next = change(current);
      if (!next) return current;
      try {
        await this.client.send(
          new PutCommand({
            TableName: this.tableName,
            Item: { ...customerKey(customerId), ...next, version: (stored?.version ?? 0) + 1 },
            ConditionExpression: stored ? 'version = :v' : 'attribute_not_exists(pk)',
            ExpressionAttributeValues: stored ? { ':v': stored.version } : undefined,
          }),
        );
        return current;
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        // Another writer won: back off (full jitter, capped) and try again with its state.
        await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(100, 2 ** attempt)));
      }
    }
    throw new TransientError(`customer ${customerId}: too many concurrent feature updates; retry`);
  }

  async observe(tx: FeatureTransaction): Promise<void> {
    const day = dayIndex(tx.time);
    const expiresAt = Math.floor((tx.time + (30 + this.options.feedbackDelayDays + 2) * DAY_MS) / 1000);
    await this.updateCustomer(tx.customerId, (current) => observe(tx, current, undefined, this.options).customer);
    const { Attributes } = await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: terminalPk(tx.terminalId), sk: daySk(day) },
        UpdateExpression: 'ADD n :one SET expiresAt = :expiresAt',
        ExpressionAttributeValues: { ':one': 1, ':expiresAt': expiresAt },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    if (Number(Attributes?.n) === 1) {
      // First transaction of the day: make sure the terminal's first sighting is recorded.
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: terminalPk(tx.terminalId), sk: 'meta' },
          UpdateExpression: 'SET firstSeen = if_not_exists(firstSeen, :t)',
          ExpressionAttributeValues: { ':t': tx.time },
        }),
      );
    }
  }

  async observeLabel(tx: Pick<FeatureTransaction, 'txId' | 'time' | 'customerId' | 'terminalId'>, fraud: boolean): Promise<void> {
    let previous: boolean | undefined;
    await this.updateCustomer(tx.customerId, (current) => {
      previous = current?.recent.find((p) => p.id === tx.txId)?.fraud;
      return current && observeLabel(tx, fraud, current, undefined).customer;
    });
    const delta = (fraud ? 1 : 0) - (previous === true ? 1 : 0);
    if (delta === 0) return;
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: terminalPk(tx.terminalId), sk: daySk(dayIndex(tx.time)) },
          UpdateExpression: 'ADD fraud :delta',
          ConditionExpression: 'attribute_exists(n)',
          ExpressionAttributeValues: { ':delta': delta },
        }),
      );
    } catch (error) {
      // The day has left the window (or the transaction was never observed): nothing to count.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }
}
