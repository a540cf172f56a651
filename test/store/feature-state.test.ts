/**
 * The online feature path (DynamoFeatureState against the local store, the same DynamoDB code as in AWS)
 * gives bit-for-bit the vectors and the graph inputs of the offline replay (ml/replay.ts) over the same
 * history, the graph snapshots being stored by the service's recordCompleted as payments complete.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DEFAULT_FEATURE_OPTIONS, featureVector, GRAPH_EDGES, type FeatureTransaction } from '../../lambdas/fraud/features';
import { graphInputs, type GraphInputs } from '../../lambdas/fraud/graph';
import { recordCompleted } from '../../lambdas/fraud/service';
import { DynamoFeatureState } from '../../lambdas/fraud/state';
import { ensureTables, startLocalStore, type LocalStore } from '../../lambdas/local/dynalite';
import { LOCAL_TABLES } from '../../lambdas/local/env';
import type { LabelledTransaction } from '../../ml/dataset';
import { replay } from '../../ml/replay';
import { randomHistory, type HistoryShape } from '../fixtures/history';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 2, 2);

const history = (seed: number, n: number, shape?: HistoryShape) => randomHistory(seed, n, { start: T0, ...shape });

let store: LocalStore;
let client: DynamoDBDocumentClient;

beforeAll(async () => {
  store = await startLocalStore({});
  await ensureTables(store.endpoint, LOCAL_TABLES);
  client = DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: store.endpoint, region: 'local', credentials: { accessKeyId: 'l', secretAccessKey: 'l' } }),
    { marshallOptions: { removeUndefinedValues: true } },
  );
}, 30_000);

afterAll(async () => {
  client?.destroy();
  await store?.close();
});

test('online state gives the offline replay’s vectors, bit for bit', async () => {
  const rows = history(11, 250);
  const offline = [...replay(rows)].map((r) => Array.from(r.vector));
  const state = new DynamoFeatureState(client, LOCAL_TABLES.fraudState, DEFAULT_FEATURE_OPTIONS);
  const online: number[][] = [];
  for (const tx of rows) {
    const { customer, terminal } = await state.load(tx.customerId, tx.terminalId, tx.time);
    online.push(Array.from(featureVector(tx, customer, terminal)));
    await state.observe(tx);
    if (tx.label !== undefined) await state.observeLabel(tx, tx.label === 1);
  }
  for (let i = 0; i < rows.length; i += 1) {
    // toEqual treats NaN as equal to NaN and compares numbers exactly.
    expect({ i, v: online[i] }).toEqual({ i, v: offline[i] });
  }
}, 60_000);

/** What the model reads for each transaction, online, through the service's recordCompleted. */
async function replayOnline(rows: readonly LabelledTransaction[]): Promise<{ vectors: number[][]; graphs: GraphInputs[] }> {
  const state = new DynamoFeatureState(client, LOCAL_TABLES.fraudState, DEFAULT_FEATURE_OPTIONS);
  const model = { feedbackDelayDays: DEFAULT_FEATURE_OPTIONS.feedbackDelayDays };
  const vectors: number[][] = [];
  const graphs: GraphInputs[] = [];
  for (const tx of rows) {
    const { customer, terminal } = await state.load(tx.customerId, tx.terminalId, tx.time);
    const vector = featureVector(tx, customer, terminal);
    vectors.push(Array.from(vector));
    graphs.push(graphInputs(vector, customer?.recent, terminal?.edges, tx.time));
    await recordCompleted(tx, { state, model });
    if (tx.label !== undefined) await state.observeLabel(tx, tx.label === 1);
  }
  return { vectors, graphs };
}

test.each([
  ['few customers and terminals', { prefix: 'g1', customers: 6, terminals: 4, grid: 1 }, 300],
  ['many, with same-millisecond ties', { prefix: 'g2', customers: 25, terminals: 6, grid: 15 * 60_000 }, 500],
])('online graph inputs equal the offline replay’s, exactly (%s)', async (_name, shape, n) => {
  const rows = history(23, n, shape);
  const offline = [...replay(rows)];
  const online = await replayOnline(rows);
  for (let i = 0; i < rows.length; i += 1) {
    expect({ i, v: online.vectors[i] }).toEqual({ i, v: Array.from(offline[i].vector) });
    expect({ i, g: online.graphs[i] }).toEqual({ i, g: offline[i].graph });
  }
  // The comparison is not vacuous: neighbour lists are full at busy terminals, and customers have several.
  const graphs = offline.map((r) => r.graph);
  expect(graphs.filter((g) => g.terminalNeighbours.length === GRAPH_EDGES).length).toBeGreaterThan(n / 4);
  expect(graphs.filter((g) => g.customerNeighbours.length >= 3).length).toBeGreaterThan(n / 4);
  expect(new Set(graphs.map((g) => g.terminalNeighbours.length)).size).toBeGreaterThan(3);
  if (shape.grid > 1) {
    // Some transactions share a millisecond at one terminal (neighbours exclude the same-time ones).
    const seen = new Set<string>();
    expect(rows.some((r) => seen.size === seen.add(`${r.terminalId}@${r.time}`).size)).toBe(true);
  }
}, 120_000);

test('the stored snapshots are the replay’s, and read back bit for bit', async () => {
  const rows = history(5, 120, { prefix: 'g3', customers: 4, terminals: 3, grid: 1 });
  const offline = [...replay(rows)];
  await replayOnline(rows);
  const state = new DynamoFeatureState(client, LOCAL_TABLES.fraudState, DEFAULT_FEATURE_OPTIONS);
  const last = rows[rows.length - 1];
  const { customer, terminal } = await state.load(last.customerId, last.terminalId, last.time + 1);
  const byId = new Map(offline.map((r) => [r.tx.txId, r.graph]));
  // The customer's transactions keep the terminal's snapshot, the terminal's edges the customer's.
  expect(customer?.recent.length).toBeGreaterThan(10);
  for (const p of customer?.recent ?? []) expect({ id: p.id, z: p.z }).toEqual({ id: p.id, z: byId.get(p.id)?.terminal });
  expect(terminal?.edges).toHaveLength(GRAPH_EDGES);
  const atTerminal = rows.filter((r) => r.terminalId === last.terminalId).slice(-GRAPH_EDGES);
  expect(terminal?.edges?.map((e) => e.id)).toEqual(atTerminal.map((r) => r.txId));
  for (const e of terminal?.edges ?? []) expect({ id: e.id, z: e.z }).toEqual({ id: e.id, z: byId.get(e.id)?.customer });

  // Float32 values of every magnitude survive the DynamoDB number type (decimal, 38 digits) unchanged.
  let s = 7;
  const rand = () => {
    s = (s * 1_103_515_245 + 12_345) % 2 ** 31;
    return s / 2 ** 31;
  };
  const values = [
    0, 1, -1, Math.fround(0.1), Math.fround(1 / 3), Math.fround(Math.log1p(12.34)), 1.401298464324817e-45, 1.1754943508222875e-38,
    Math.fround(-2.5e-7), Math.fround(123_456.789), Math.fround(2 ** 52),
    ...Array.from({ length: 200 }, () => Math.fround((rand() - 0.5) * 10 ** Math.floor(rand() * 20 - 10))),
  ];
  const tx: FeatureTransaction = { txId: 'f32', time: T0, customerId: 'f32-c', terminalId: 'f32-t', amountMinor: 100, currency: 'USD' };
  await state.observe(tx, { customer: values, terminal: values.slice().reverse() });
  const back = await state.load('f32-c', 'f32-t', T0 + 1);
  const asBits = (v: readonly number[] | undefined) => Array.from(new Float64Array(v ?? [])).map((x) => new BigUint64Array(new Float64Array([x]).buffer)[0]);
  expect(asBits(back.terminal?.edges?.[0].z)).toEqual(asBits(values));
  expect(asBits(back.customer?.recent[0].z)).toEqual(asBits(values.slice().reverse()));
}, 60_000);

test('a retried observe does not duplicate the terminal edge nor change its snapshot', async () => {
  const state = new DynamoFeatureState(client, LOCAL_TABLES.fraudState, DEFAULT_FEATURE_OPTIONS);
  const tx: FeatureTransaction = { txId: 'retry1', time: T0, customerId: 'retry-c', terminalId: 'retry-t', amountMinor: 1250, currency: 'USD' };
  await state.observe(tx, { customer: [1, 2, 3], terminal: [4, 5] });
  await state.observe(tx, { customer: [9, 9, 9], terminal: [9] });
  await state.observe(tx);
  const { customer, terminal } = await state.load('retry-c', 'retry-t', T0 + DAY);
  expect(terminal?.edges).toEqual([{ id: 'retry1', t: T0, amount: 12.5, z: [1, 2, 3] }]);
  expect(customer?.recent).toEqual([{ id: 'retry1', t: T0, amount: 12.5, fraud: undefined, z: [4, 5] }]);
  // Without snapshots an edge carries none (the graph ignores it), and it is still one edge.
  await state.observe({ ...tx, txId: 'plain', time: T0 + 1000 });
  const after = await state.load('retry-c', 'retry-t', T0 + DAY);
  expect(after.terminal?.edges?.map((e) => [e.id, e.z])).toEqual([
    ['retry1', [1, 2, 3]],
    ['plain', undefined],
  ]);
  // An edge at or after the time being loaded is not read back (the neighbours are before it).
  const before = await state.load('retry-c', 'retry-t', T0 + 999);
  expect(before.terminal?.edges?.map((e) => e.id)).toEqual(['retry1']);
}, 60_000);

test('concurrent payments at one terminal and customer lose no update', async () => {
  const state = new DynamoFeatureState(client, LOCAL_TABLES.fraudState, DEFAULT_FEATURE_OPTIONS);
  const base = { customerId: 'busy-c', terminalId: 'busy-t', amountMinor: 500, currency: 'USD' };
  await Promise.all(Array.from({ length: 25 }, (_, i) => state.observe({ ...base, txId: `busy${i}`, time: T0 + i * 1000 })));
  const { customer, terminal } = await state.load('busy-c', 'busy-t', T0 + DAY);
  expect(customer?.recent).toHaveLength(25);
  expect((terminal?.days ?? []).reduce((n, d) => n + d.n, 0)).toBe(25);
  expect(terminal?.edges?.map((e) => e.id)).toEqual(Array.from({ length: GRAPH_EDGES }, (_, i) => `busy${25 - GRAPH_EDGES + i}`));
  // A repeated label is counted once.
  await state.observeLabel({ ...base, txId: 'busy3', time: T0 + 3000 }, true);
  await state.observeLabel({ ...base, txId: 'busy3', time: T0 + 3000 }, true);
  const after = await state.load('busy-c', 'busy-t', T0 + DAY);
  expect((after.terminal?.days ?? []).reduce((n, d) => n + d.fraud, 0)).toBe(1);
}, 60_000);
