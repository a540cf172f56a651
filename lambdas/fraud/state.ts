/**
 * The online side of the features: customer, terminal and device state in the fraud-state table (DynamoDB;
 * dynalite locally), read before scoring and updated as payments complete, through the same functions the
 * offline replay uses (features.ts, graph.ts). Every update is a blind atomic write, so concurrent payments of
 * one customer, at one busy terminal or from one device never contend and lose nothing.
 *
 * Items (pk, sk):
 * - `cust#<id>`, `profile`: first sighting plus the string sets of terminals, devices and currencies seen
 *   (`ADD` to a set is atomic and idempotent);
 * - `cust#<id>`, `tx#<time>#<id>`: one per transaction (amount, label once known, and `z`, the terminal's
 *   graph snapshot just before it); read back for the last 30 + D days, expired by TTL after that;
 * - `term#<id>`, `meta`: the terminal's first sighting;
 * - `term#<id>`, `day#<day>`: the terminal's transactions and known frauds on one UTC day (atomic `ADD`s);
 * - `term#<id>`, `nbr#<time>#<id>`: one per transaction at the terminal, its graph edge (amount, and `z`, the
 *   customer's graph snapshot just before it); the newest GRAPH_EDGES up to the transaction's time are read
 *   back, expired by TTL like the customer's transactions. (`nbr#` sorts after `meta`, out of the day query's
 *   range.)
 * - `dev#<id>`, `nbr#<time>#<id>`: one per transaction from the device, its graph edge (customer, amount, and
 *   `z`, the customer's graph snapshot just before it, as on the terminal's edge); read back like the
 *   terminal's edges when the transaction being scored has the device. Nothing else is stored per device.
 *
 * `load` is one parallel round trip: 4 calls (the customer's profile and transactions, the terminal's days and
 * edges), 5 with a device (its edges). `observe` writes the transaction, then in parallel the profile, the
 * terminal edge (plus the device edge when the transaction has one) and the day's count (plus the terminal's
 * first sighting on its first transaction of a day): 4 or 5 calls, 5 or 6 with a device. It may run more than
 * once for a payment (its event is delivered at least once): the day is counted only by the run whose
 * transaction write was the first.
 *
 * Snapshots are lists of float32-rounded numbers; a DynamoDB number keeps their shortest decimal form (at most
 * 17 significant digits of its 38), so they read back bit for bit.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { DeviceEdge, DeviceState } from './graph';
import { usdValue } from './usd';
import {
  dayIndex,
  GRAPH_EDGES,
  MAX_RECENT,
  type CustomerState,
  type CustomerTxn,
  type DayCount,
  type EdgeSnapshots,
  type FeatureOptions,
  type FeatureTransaction,
  type TerminalEdge,
  type TerminalState,
} from './features';

export interface FeatureState {
  readonly customer?: CustomerState;
  readonly terminal?: TerminalState;
  /** The device's recent edges: only when `load` was given a device (empty for a device never seen). */
  readonly device?: DeviceState;
}

/** The port the fraud steps use. */
export interface FeatureStatePort {
  /** The state before a transaction at `time` (with the device's when the transaction has one). */
  load(customerId: string, terminalId: string, time: number, deviceId?: string): Promise<FeatureState>;
  /**
   * Folds a completed transaction in, with the graph snapshots it leaves on its edges (graph.ts `graphInputs`
   * from the state before it; the device's edge, when it has a device, keeps the customer's snapshot); without
   * them the edges carry none and the graph ignores them.
   */
  observe(tx: FeatureTransaction, snapshots?: EdgeSnapshots): Promise<void>;
  /** Records a transaction's label (fraud or not) when it becomes known. */
  observeLabel(tx: Pick<FeatureTransaction, 'txId' | 'time' | 'customerId' | 'terminalId'>, fraud: boolean): Promise<void>;
}

const DAY_MS = 86_400_000;

const customerPk = (id: string) => `cust#${id}`;
const txSk = (time: number, txId: string) => `tx#${String(time).padStart(15, '0')}#${txId}`;
const terminalPk = (id: string) => `term#${id}`;
const daySk = (day: number) => `day#${String(day).padStart(7, '0')}`;
const devicePk = (id: string) => `dev#${id}`;
const edgeSk = (time: number, txId: string) => `nbr#${String(time).padStart(15, '0')}#${txId}`;

/** A stored snapshot: a list of numbers, or undefined (absent, or written before the graph). */
function snapshot(value: unknown): number[] | undefined {
  return Array.isArray(value) ? value.map(Number) : undefined;
}

/** A stored graph edge (`nbr#` item) as the states keep it. */
function edge(item: Record<string, unknown>): TerminalEdge {
  return { id: String(item.txId), t: Number(item.t), amount: Number(item.amount), z: snapshot(item.z) };
}

function asArray(set: unknown): string[] {
  return set instanceof Set ? [...(set as Set<string>)].sort() : [];
}

export class DynamoFeatureState implements FeatureStatePort {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly options: FeatureOptions,
  ) {}

  private horizon(time: number): number {
    return time - (30 + this.options.feedbackDelayDays) * DAY_MS;
  }

  private async getCustomer(customerId: string, time: number): Promise<CustomerState | undefined> {
    const [{ Item: profile }, { Items = [] }] = await Promise.all([
      this.client.send(new GetCommand({ TableName: this.tableName, Key: { pk: customerPk(customerId), sk: 'profile' }, ConsistentRead: true })),
      this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
          ExpressionAttributeValues: { ':pk': customerPk(customerId), ':from': txSk(this.horizon(time), ''), ':to': 'tx#~' },
          ScanIndexForward: false,
          Limit: MAX_RECENT,
          ConsistentRead: true,
        }),
      ),
    ]);
    if (!profile) return undefined;
    const recent: CustomerTxn[] = Items.map((item) => ({
      id: String(item.txId),
      t: Number(item.t),
      amount: Number(item.amount),
      fraud: item.fraud === undefined ? undefined : Boolean(item.fraud),
      z: snapshot(item.z),
    })).reverse();
    return {
      firstSeen: Number(profile.firstSeen),
      recent,
      terminals: asArray(profile.terminals),
      devices: asArray(profile.devices),
      currencies: asArray(profile.currencies),
    };
  }

  private async getTerminal(terminalId: string, time: number): Promise<TerminalState | undefined> {
    const from = dayIndex(time) - (30 + this.options.feedbackDelayDays + 1);
    const [{ Items = [] }, edgeItems] = await Promise.all([
      this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :meta',
          ExpressionAttributeValues: { ':pk': terminalPk(terminalId), ':from': daySk(from), ':meta': 'meta' },
          ConsistentRead: true,
        }),
      ),
      this.getEdges(terminalPk(terminalId), time),
    ]);
    const meta = Items.find((item) => item.sk === 'meta');
    if (!meta) return undefined;
    // Query returns the days in sort-key order: oldest first.
    const days: DayCount[] = [];
    for (const item of Items) {
      if (item.sk === 'meta') continue;
      days.push({ day: Number(String(item.sk).slice(4)), n: Number(item.n ?? 0), fraud: Number(item.fraud ?? 0) });
    }
    return { firstSeen: Number(meta.firstSeen), days, edges: edgeItems.map(edge) };
  }

  private async getDevice(deviceId: string, time: number): Promise<DeviceState> {
    const items = await this.getEdges(devicePk(deviceId), time);
    return { edges: items.map((item): DeviceEdge => ({ ...edge(item), customerId: String(item.customerId) })) };
  }

  /**
   * The edge items (`nbr#`) of a terminal or a device: the newest GRAPH_EDGES at or before `time` (every
   * `nbr#<time>#<id>` sorts below `nbr#<time + 1>`, so a payment recorded late does not have later ones crowd
   * its neighbours out) and within the horizon, oldest first, ordered by (time, id) as the sort key is (and
   * as the replay's states keep them).
   */
  private async getEdges(pk: string, time: number): Promise<Record<string, unknown>[]> {
    const { Items = [] } = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
        ExpressionAttributeValues: { ':pk': pk, ':from': edgeSk(this.horizon(time), ''), ':to': `nbr#${String(time + 1).padStart(15, '0')}` },
        ScanIndexForward: false,
        Limit: GRAPH_EDGES,
        ConsistentRead: true,
      }),
    );
    return Items.reverse();
  }

  async load(customerId: string, terminalId: string, time: number, deviceId?: string): Promise<FeatureState> {
    const [customer, terminal, device] = await Promise.all([
      this.getCustomer(customerId, time),
      this.getTerminal(terminalId, time),
      deviceId === undefined ? undefined : this.getDevice(deviceId, time),
    ]);
    return deviceId === undefined ? { customer, terminal } : { customer, terminal, device };
  }

  async observe(tx: FeatureTransaction, snapshots?: EdgeSnapshots): Promise<void> {
    const expiresAt = Math.floor((tx.time + (30 + this.options.feedbackDelayDays + 2) * DAY_MS) / 1000);
    const sets: string[] = ['terminals :terminal', 'currencies :currency'];
    const values: Record<string, unknown> = { ':t': tx.time, ':terminal': new Set([tx.terminalId]), ':currency': new Set([tx.currency]) };
    if (tx.deviceId !== undefined) {
      sets.push('devices :device');
      values[':device'] = new Set([tx.deviceId]);
    }
    const amount = usdValue(tx.amountMinor, tx.currency);
    // A retry finds the item already there: harmless (and must not forget a label that arrived in between).
    const ignoreExisting = (error: unknown) => {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    };
    // A graph edge (terminal's or device's): the customer's snapshot, written once.
    const putEdge = (pk: string, extra: Record<string, unknown>) =>
      this.client
        .send(
          new PutCommand({
            TableName: this.tableName,
            Item: {
              pk,
              sk: edgeSk(tx.time, tx.txId),
              txId: tx.txId,
              ...extra,
              t: tx.time,
              amount,
              ...(snapshots ? { z: [...snapshots.customer] } : {}),
              expiresAt,
            },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        )
        .catch(ignoreExisting);
    // The customer's transaction item is written once: whether this write made it says whether the payment was
    // counted before (a redelivered event), so the terminal's day count, the one write that is not idempotent
    // by itself, is added only by the first observation. (A crash between the two leaves the day one short:
    // never counted twice.)
    const first = await this.client
      .send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            pk: customerPk(tx.customerId),
            sk: txSk(tx.time, tx.txId),
            txId: tx.txId,
            t: tx.time,
            amount,
            ...(snapshots ? { z: [...snapshots.terminal] } : {}),
            expiresAt,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      )
      .then(
        () => true,
        (error: unknown) => {
          ignoreExisting(error);
          return false;
        },
      );
    const day = dayIndex(tx.time);
    const [, , , counted] = await Promise.all([
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: customerPk(tx.customerId), sk: 'profile' },
          UpdateExpression: `SET firstSeen = if_not_exists(firstSeen, :t) ADD ${sets.join(', ')}`,
          ExpressionAttributeValues: values,
        }),
      ),
      putEdge(terminalPk(tx.terminalId), {}),
      tx.deviceId === undefined ? undefined : putEdge(devicePk(tx.deviceId), { customerId: tx.customerId }),
      first
        ? this.client.send(
            new UpdateCommand({
              TableName: this.tableName,
              Key: { pk: terminalPk(tx.terminalId), sk: daySk(day) },
              UpdateExpression: 'ADD n :one SET expiresAt = :expiresAt',
              ExpressionAttributeValues: { ':one': 1, ':expiresAt': expiresAt },
              ReturnValues: 'UPDATED_NEW',
            }),
          )
        : undefined,
    ]);
    if (Number(counted?.Attributes?.n) === 1) {
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
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: customerPk(tx.customerId), sk: txSk(tx.time, tx.txId) },
          UpdateExpression: 'SET fraud = :fraud',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':fraud': fraud },
          ReturnValues: 'UPDATED_OLD',
        }),
      );
      previous = Attributes?.fraud === undefined ? undefined : Boolean(Attributes.fraud);
    } catch (error) {
      // Never observed (or expired): the terminal count below still learns the label, as offline.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
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
