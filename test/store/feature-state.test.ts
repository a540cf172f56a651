/**
 * The online feature path (DynamoFeatureState against the local store, the same DynamoDB code as in AWS)
 * gives bit-for-bit the vectors of the offline replay (ml/replay.ts) over the same history.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DEFAULT_FEATURE_OPTIONS, featureVector } from '../../lambdas/fraud/features';
import { DynamoFeatureState } from '../../lambdas/fraud/state';
import { ensureTables, startLocalStore, type LocalStore } from '../../lambdas/local/dynalite';
import { LOCAL_TABLES } from '../../lambdas/local/env';
import type { LabelledTransaction } from '../../ml/dataset';
import { replay } from '../../ml/replay';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 2, 2);

function history(seed: number, n: number): LabelledTransaction[] {
  let s = seed;
  const rand = () => {
    s = (s * 1_103_515_245 + 12_345) % 2 ** 31;
    return s / 2 ** 31;
  };
  return Array.from({ length: n }, (_, i) => ({
    txId: `tx${String(i).padStart(4, '0')}`,
    time: T0 + Math.floor(rand() * 50 * DAY),
    customerId: `c${Math.floor(rand() * 6)}`,
    terminalId: `t${Math.floor(rand() * 4)}`,
    amountMinor: 1 + Math.floor(rand() * 90_000),
    currency: rand() < 0.85 ? 'USD' : 'JPY',
    deviceId: rand() < 0.7 ? `d${Math.floor(rand() * 3)}` : undefined,
    country: rand() < 0.9 ? 'US' : undefined,
    merchantCountry: rand() < 0.8 ? 'US' : 'GB',
    label: (rand() < 0.12 ? 1 : 0) as 0 | 1,
  })).sort((a, b) => a.time - b.time || a.txId.localeCompare(b.txId));
}

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

test('concurrent payments at one terminal and customer lose no update', async () => {
  const state = new DynamoFeatureState(client, LOCAL_TABLES.fraudState, DEFAULT_FEATURE_OPTIONS);
  const base = { customerId: 'busy-c', terminalId: 'busy-t', amountMinor: 500, currency: 'USD' };
  await Promise.all(Array.from({ length: 25 }, (_, i) => state.observe({ ...base, txId: `busy${i}`, time: T0 + i * 1000 })));
  const { customer, terminal } = await state.load('busy-c', 'busy-t', T0 + DAY);
  expect(customer?.recent).toHaveLength(25);
  expect((terminal?.days ?? []).reduce((n, d) => n + d.n, 0)).toBe(25);
  // A repeated label is counted once.
  await state.observeLabel({ ...base, txId: 'busy3', time: T0 + 3000 }, true);
  await state.observeLabel({ ...base, txId: 'busy3', time: T0 + 3000 }, true);
  const after = await state.load('busy-c', 'busy-t', T0 + DAY);
  expect((after.terminal?.days ?? []).reduce((n, d) => n + d.fraud, 0)).toBe(1);
}, 60_000);
