/**
 * The online feature path (DynamoFeatureState against the local store, the same DynamoDB code as in AWS)
 * gives bit-for-bit the vectors and the graph inputs (customer, terminal and device) of the offline replay
 * (ml/replay.ts) over the same history, the graph snapshots being stored by the service's recordCompleted as
 * payments complete.
 */
import { DEFAULT_FEATURE_OPTIONS, featureVector, GRAPH_EDGES, type FeatureTransaction } from '../../lambdas/fraud/features';
import { transactionGraph, type GraphInputs } from '../../lambdas/fraud/graph';
import { recordCompleted } from '../../lambdas/fraud/service';
import { DynamoFeatureState } from '../../lambdas/fraud/state';
import { LOCAL_TABLES } from '../../local/env';
import { useTestStore } from './support';
import type { LabelledTransaction } from '../../ml/dataset';
import { replay, replayStates } from '../../ml/replay';
import { randomHistory, type HistoryShape } from '../fixtures/history';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 2, 2);

/** Histories with different prefixes (customers, terminals and devices) stay apart in the one store. */
const history = (seed: number, n: number, shape?: HistoryShape) => randomHistory(seed, n, { start: T0, ...shape });

const db = useTestStore();

test('online state gives the offline replay’s vectors, bit for bit', async () => {
  const rows = history(11, 250);
  const offline = [...replay(rows)].map((r) => Array.from(r.vector));
  const state = new DynamoFeatureState(db.client, LOCAL_TABLES.fraudState, DEFAULT_FEATURE_OPTIONS);
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

/**
 * What the model reads for each transaction, online, through the service's recordCompleted: given the snapshots
 * of the transaction's own graph inputs (as the workflow hands over the score step's), or recomputing them.
 */
async function replayOnline(rows: readonly LabelledTransaction[], snapshots: 'from-score' | 'recomputed'): Promise<{ vectors: number[][]; graphs: GraphInputs[] }> {
  const state = new DynamoFeatureState(db.client, LOCAL_TABLES.fraudState, DEFAULT_FEATURE_OPTIONS);
  const model = { feedbackDelayDays: DEFAULT_FEATURE_OPTIONS.feedbackDelayDays };
  const vectors: number[][] = [];
  const graphs: GraphInputs[] = [];
  for (const tx of rows) {
    const { customer, terminal, device } = await state.load(tx.customerId, tx.terminalId, tx.time, tx.deviceId);
    const vector = featureVector(tx, customer, terminal);
    vectors.push(Array.from(vector));
    const graph = transactionGraph(tx, vector, customer, terminal, device);
    graphs.push(graph);
    await recordCompleted(tx, { state, model }, snapshots === 'from-score' ? { customer: graph.customer, terminal: graph.terminal } : undefined);
    if (tx.label !== undefined) await state.observeLabel(tx, tx.label === 1);
  }
  return { vectors, graphs };
}

test.each([
  ['few customers and terminals', { prefix: 'g1', customers: 6, terminals: 4, grid: 1 }, 300, 'from-score'],
  ['few customers and terminals, snapshots recomputed', { prefix: 'g4', customers: 6, terminals: 4, grid: 1 }, 300, 'recomputed'],
  ['many, with same-millisecond ties', { prefix: 'g2', customers: 25, terminals: 6, grid: 15 * 60_000 }, 500, 'from-score'],
] as const)('online graph inputs equal the offline replay’s, exactly (%s)', async (_name, shape, n, snapshots) => {
  const rows = history(23, n, shape);
  const offline = [...replayStates(rows)];
  const online = await replayOnline(rows, snapshots);
  for (let i = 0; i < rows.length; i += 1) {
    expect({ i, v: online.vectors[i] }).toEqual({ i, v: Array.from(offline[i].vector) });
    // The whole graph input, device and deviceNeighbours included (absent both sides without a device).
    expect({ i, g: online.graphs[i] }).toEqual({ i, g: offline[i].graph });
    expect({ i, device: online.graphs[i].device !== undefined }).toEqual({ i, device: rows[i].deviceId !== undefined });
  }
  // The comparison is not vacuous: neighbour lists are full at busy terminals, and customers have several.
  const graphs = offline.map((r) => r.graph);
  expect(graphs.filter((g) => g.terminalNeighbours.length === GRAPH_EDGES).length).toBeGreaterThan(n / 4);
  expect(graphs.filter((g) => g.customerNeighbours.length >= 3).length).toBeGreaterThan(n / 4);
  expect(new Set(graphs.map((g) => g.terminalNeighbours.length)).size).toBeGreaterThan(3);
  // Devices: full neighbour lists at the shared devices, every smaller size on the way there, and rows without.
  expect(graphs.filter((g) => g.deviceNeighbours?.length === GRAPH_EDGES).length).toBeGreaterThan(n / 3);
  expect(new Set(graphs.map((g) => g.deviceNeighbours?.length ?? -1)).size).toBeGreaterThan(GRAPH_EDGES);
  expect(graphs.filter((g) => g.device === undefined).length).toBeGreaterThan(n / 5);
  // ... shared by several customers (the device's neighbours are different customers' snapshots).
  expect(offline.filter((r) => new Set(r.device?.edges.map((e) => e.customerId)).size >= 3).length).toBeGreaterThan(n / 4);
  if (shape.grid > 1) {
    // Some transactions share a millisecond at one terminal and at one device (neighbours exclude the same-time ones).
    const seen = new Set<string>();
    expect(rows.some((r) => seen.size === seen.add(`${r.terminalId}@${r.time}`).size)).toBe(true);
    expect(rows.some((r) => r.deviceId !== undefined && seen.size === seen.add(`${r.deviceId}@${r.time}`).size)).toBe(true);
  }
}, 120_000);

test('the stored snapshots are the replay’s, and read back bit for bit', async () => {
  const rows = history(5, 120, { prefix: 'g3', customers: 4, terminals: 3, grid: 1 });
  const offline = [...replay(rows)];
  await replayOnline(rows, 'from-score');
  const state = new DynamoFeatureState(db.client, LOCAL_TABLES.fraudState, DEFAULT_FEATURE_OPTIONS);
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
  // The device's edges keep the customer and the customer's snapshot too.
  const deviceId = rows.findLast((r) => r.deviceId !== undefined)!.deviceId!;
  const { device } = await state.load(last.customerId, last.terminalId, last.time + 1, deviceId);
  const fromDevice = rows.filter((r) => r.deviceId === deviceId).slice(-GRAPH_EDGES);
  expect(device?.edges).toHaveLength(GRAPH_EDGES);
  expect(device?.edges.map((e) => [e.id, e.customerId, e.t])).toEqual(fromDevice.map((r) => [r.txId, r.customerId, r.time]));
  expect(new Set(device?.edges.map((e) => e.customerId)).size).toBeGreaterThan(1);
  for (const e of device?.edges ?? []) expect({ id: e.id, z: e.z }).toEqual({ id: e.id, z: byId.get(e.id)?.customer });

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

test('a retried observe does not duplicate the terminal or the device edge nor change their snapshots', async () => {
  const state = new DynamoFeatureState(db.client, LOCAL_TABLES.fraudState, DEFAULT_FEATURE_OPTIONS);
  const tx: FeatureTransaction = {
    txId: 'retry1', time: T0, customerId: 'retry-c', terminalId: 'retry-t', deviceId: 'retry-d', amountMinor: 1250, currency: 'USD',
  };
  await state.observe(tx, { customer: [1, 2, 3], terminal: [4, 5] });
  await state.observe(tx, { customer: [9, 9, 9], terminal: [9] });
  await state.observe(tx);
  const { customer, terminal, device } = await state.load('retry-c', 'retry-t', T0 + DAY, 'retry-d');
  expect(terminal?.edges).toEqual([{ id: 'retry1', t: T0, amount: 12.5, z: [1, 2, 3] }]);
  expect(customer?.recent).toEqual([{ id: 'retry1', t: T0, amount: 12.5, fraud: undefined, z: [4, 5] }]);
  expect(device).toEqual({ edges: [{ id: 'retry1', customerId: 'retry-c', t: T0, amount: 12.5, z: [1, 2, 3] }] });
  // The terminal's day counts the payment once, however often it was observed (its event is delivered at least once).
  expect(terminal?.days).toEqual([{ day: Math.floor(T0 / DAY), n: 1, fraud: 0 }]);
  // Without snapshots an edge carries none (the graph ignores it), and it is still one edge.
  await state.observe({ ...tx, txId: 'plain', time: T0 + 1000 });
  const after = await state.load('retry-c', 'retry-t', T0 + DAY, 'retry-d');
  expect(after.terminal?.days).toEqual([{ day: Math.floor(T0 / DAY), n: 2, fraud: 0 }]);
  expect(after.terminal?.edges?.map((e) => [e.id, e.z])).toEqual([
    ['retry1', [1, 2, 3]],
    ['plain', undefined],
  ]);
  expect(after.device?.edges.map((e) => [e.id, e.z])).toEqual([
    ['retry1', [1, 2, 3]],
    ['plain', undefined],
  ]);
  // An edge at or after the time being loaded is not read back (the neighbours are before it).
  const before = await state.load('retry-c', 'retry-t', T0 + 999, 'retry-d');
  expect(before.terminal?.edges?.map((e) => e.id)).toEqual(['retry1']);
  expect(before.device?.edges.map((e) => e.id)).toEqual(['retry1']);
  // Without a device nothing of a device is read; a device never seen has no edges.
  expect(await state.load('retry-c', 'retry-t', T0 + DAY)).not.toHaveProperty('device');
  expect((await state.load('retry-c', 'retry-t', T0 + DAY, 'retry-unseen')).device).toEqual({ edges: [] });
  // A transaction without a device writes no device edge.
  await state.observe({ ...tx, txId: 'nodevice', time: T0 + 2000, deviceId: undefined });
  expect((await state.load('retry-c', 'retry-t', T0 + DAY, 'retry-d')).device?.edges.map((e) => e.id)).toEqual(['retry1', 'plain']);
}, 60_000);

test('concurrent payments at one terminal and customer lose no update', async () => {
  const state = new DynamoFeatureState(db.client, LOCAL_TABLES.fraudState, DEFAULT_FEATURE_OPTIONS);
  const base = { customerId: 'busy-c', terminalId: 'busy-t', deviceId: 'busy-d', amountMinor: 500, currency: 'USD' };
  await Promise.all(Array.from({ length: 25 }, (_, i) => state.observe({ ...base, txId: `busy${i}`, time: T0 + i * 1000 })));
  const { customer, terminal, device } = await state.load('busy-c', 'busy-t', T0 + DAY, 'busy-d');
  expect(customer?.recent).toHaveLength(25);
  expect((terminal?.days ?? []).reduce((n, d) => n + d.n, 0)).toBe(25);
  const newest = Array.from({ length: GRAPH_EDGES }, (_, i) => `busy${25 - GRAPH_EDGES + i}`);
  expect(terminal?.edges?.map((e) => e.id)).toEqual(newest);
  expect(device?.edges.map((e) => e.id)).toEqual(newest);
  // A repeated label is counted once.
  await state.observeLabel({ ...base, txId: 'busy3', time: T0 + 3000 }, true);
  await state.observeLabel({ ...base, txId: 'busy3', time: T0 + 3000 }, true);
  const after = await state.load('busy-c', 'busy-t', T0 + DAY);
  expect((after.terminal?.days ?? []).reduce((n, d) => n + d.fraud, 0)).toBe(1);
}, 60_000);
