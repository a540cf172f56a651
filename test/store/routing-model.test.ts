/**
 * The routing model's learning loop against the local store (the same DynamoDB code as in AWS): outcomes are
 * recorded once, folded in by the updater with a version check, and concurrent updaters lose none and apply
 * none twice.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { BanditPolicy, emptyBanditState, learnArm, type BanditState } from '../../lambdas/routing/bandit';
import { routingFeatures, segmentCell, vocabularyOf, type RoutingContext } from '../../lambdas/routing/context';
import { DEFAULT_CONNECTORS } from '../../contracts/connectors';
import { HEALTHY, recordOutcomes, type ConnectorHealth } from '../../lambdas/routing/health';
import { CLAIM_LEASE_MS, DynamoRoutingModel } from '../../lambdas/routing/dynamo-model-store';
import { CachedModel } from '../../lambdas/routing/model-cache';
import { applyOutcomesOnce, outcomeId, type ClaimStore } from '../../lambdas/routing/model-protocol';
import { HEALTH_KEY } from '../../lambdas/routing/model-encoding';
import type { DecisionRecord, OutcomeRecord, PublishedHealth } from '../../lambdas/routing/ports';
import { LOCAL_TABLES } from '../../local/env';
import { exportDecisions } from '../../ml/routing/export';
import { parseLog } from '../../ml/routing/ope';
import { useTestStore } from './support';

const db = useTestStore();

const T0 = Date.UTC(2026, 10, 1, 12);
const VOCABULARY = vocabularyOf(DEFAULT_CONNECTORS);
const context = (i: number): RoutingContext => ({
  amountMinor: 1_000 + 37 * i, currency: i % 2 ? 'EUR' : 'USD', method: 'card', network: 'visa', country: i % 3 ? 'DE' : 'US', time: T0 + i * 1000,
});

function decision(prefix: string, i: number): DecisionRecord {
  const ctx = context(i);
  return {
    decisionId: `${prefix}-d${i}`, merchantId: 'm1', time: ctx.time, context: ctx,
    ranked: [{ connectorId: 'a', propensity: 0.98, score: 0.9 }, { connectorId: 'b', propensity: 0.02, score: 0.8 }],
    chosen: 'a', propensity: 0.98, policyVersion: 'linucb-0',
  };
}

const outcome = (prefix: string, i: number): OutcomeRecord => ({
  decisionId: `${prefix}-d${i}`, attempt: 0, connectorId: i % 4 ? 'a' : 'b', outcome: i % 5 ? 'succeeded' : 'declined', latencyMs: 120, time: T0 + i * 1000 + 500,
});

// The tests share the one model item and run in order; each starts from what it finds.
test('records an outcome once and folds it into the arms exactly as learnArm() does', async () => {
  const model = new DynamoRoutingModel(db.client, LOCAL_TABLES.routing);
  const before = await model.load(true);
  for (let i = 0; i < 5; i += 1) await model.logDecision(decision('one', i));
  const outcomes = Array.from({ length: 5 }, (_, i) => outcome('one', i));
  for (const o of outcomes) expect(await model.recordOutcome(o)).toBe(true);
  expect(await model.recordOutcome(outcomes[0])).toBe(false); // a replay
  expect(await model.getDecision('one-d3')).toMatchObject({ chosen: 'a', context: context(3) });

  const healthBefore = await model.loadHealth(undefined, true);
  const result = await model.applyOutcomes([...outcomes, outcomes[2]]); // a duplicate delivery too
  expect(result).toEqual({ version: before.version + 1, applied: 5 });
  // The model keeps no breaker state (a model written before drops its own at this commit).
  let expected = { ...before.state, health: {} };
  outcomes.forEach((o, i) => {
    // Learnt against the logged context's features under the model's vocabulary (the default registry's here), and
    // in the context's segment cell.
    expected = learnArm(expected, { connectorId: o.connectorId, outcome: o.outcome, features: routingFeatures(context(i), VOCABULARY), cell: segmentCell(context(i)), time: o.time });
  });
  expect((await model.load(true)).state).toEqual(expected);
  expect(Object.keys(expected.cells?.a ?? {})).toContain(segmentCell(context(1)));
  // The breaker's state is its own item, which the updater leaves alone.
  expect(await model.loadHealth(undefined, true)).toEqual(healthBefore);

  // Delivered again (an at-least-once queue): nothing changes.
  expect(await model.applyOutcomes(outcomes)).toEqual({ version: before.version + 1, applied: 0 });
  // Outcomes of unknown (expired) decisions are skipped.
  await model.recordOutcome(outcome('gone', 1));
  expect((await model.applyOutcomes([outcome('gone', 1)])).applied).toBe(0);
  // A decision's recorded outcomes read back as recorded, in order, without the updater's claim (feedback's conflict check).
  await model.recordOutcome({ ...outcome('one', 2), attempt: 1, connectorId: 'b', outcome: 'error' });
  expect(await model.recordedOutcomes('one-d2', 2)).toEqual([outcome('one', 2), { ...outcome('one', 2), attempt: 1, connectorId: 'b', outcome: 'error' }]);
  expect(await model.recordedOutcomes('one-d7', 2)).toEqual([]);
});

test("a gateway's refusal of the request (requestRefused) is claimed once but not learnt: the arm is as before", async () => {
  const model = new DynamoRoutingModel(db.client, LOCAL_TABLES.routing);
  for (let i = 0; i < 3; i += 1) await model.logDecision(decision('refused', i));
  const before = await model.load(true);
  const refused: OutcomeRecord = { ...outcome('refused', 1), connectorId: 'a', outcome: 'declined', requestRefused: true };
  const issuer: OutcomeRecord = { ...outcome('refused', 2), connectorId: 'a', outcome: 'declined' };
  const result = await model.applyOutcomes([refused, issuer]);
  expect(result).toEqual({ version: before.version + 1, applied: 2 });
  // Only the issuer's decline is in the arm.
  const expected = learnArm({ ...before.state, health: {} }, { connectorId: 'a', outcome: 'declined', features: routingFeatures(context(2), VOCABULARY), cell: segmentCell(context(2)), time: issuer.time });
  expect((await model.load(true)).state).toEqual(expected);
  // And it stays claimed: delivered again, nothing is applied.
  expect((await model.applyOutcomes([refused])).applied).toBe(0);
});

test('concurrent updaters lose no outcome and apply none twice', async () => {
  const model = new DynamoRoutingModel(db.client, LOCAL_TABLES.routing);
  const start = await model.load(true);
  const n = 60;
  for (let i = 0; i < n; i += 1) {
    await model.logDecision(decision('many', i));
    await model.recordOutcome(outcome('many', i));
  }
  const all = Array.from({ length: n }, (_, i) => outcome('many', i));
  // Six writers at once over overlapping batches (every outcome is in two batches).
  const writers = Array.from({ length: 6 }, () => new DynamoRoutingModel(db.client, LOCAL_TABLES.routing));
  const batches = writers.map((_, w) => all.filter((_o, i) => i % 6 === w || (i + 1) % 6 === w));
  const results = await Promise.all(writers.map((writer, w) => writer.applyOutcomes(batches[w], undefined, { maxRetries: 50 })));
  expect(results.reduce((s, r) => s + r.applied, 0)).toBe(n);
  const end = await model.load(true);
  const count = (state: typeof end.state) => Object.values(state.arms).reduce((s, arm) => s + arm.n, 0);
  expect(count(end.state) - count(start.state)).toBe(n);
  expect(end.version).toBeGreaterThan(start.version);
  expect(end.version - start.version).toBeLessThanOrEqual(6);
}, 60_000);

test('a crashed writer’s claim is respected during its lease and taken over after it', async () => {
  const model = new DynamoRoutingModel(db.client, LOCAL_TABLES.routing);
  await model.logDecision(decision('crash', 1));
  const o = outcome('crash', 1);
  await model.recordOutcome(o);
  const { version } = await model.load(true);
  // A writer claimed it for the next version, then died before committing.
  const now = Date.now();
  await db.client.send(
    new UpdateCommand({
      TableName: LOCAL_TABLES.routing,
      Key: { pk: 'outcome#crash-d1#0' },
      UpdateExpression: 'SET appliedIn = :v, claimedBy = :t, claimedAt = :at',
      ExpressionAttributeValues: { ':v': version + 1, ':t': 'dead-writer', ':at': now },
    }),
  );
  expect(await model.applyOutcomes([o], undefined, { clock: () => now + 1_000 })).toEqual({ version, applied: 0 });
  expect(await model.applyOutcomes([o], undefined, { clock: () => now + CLAIM_LEASE_MS + 1 })).toEqual({ version: version + 1, applied: 1 });
  expect((await model.applyOutcomes([o], undefined, { clock: () => now + 10 * CLAIM_LEASE_MS })).applied).toBe(0);
});

test('an outcome not recorded yet (a payment\'s, from its event) is recorded with its claim, once, even racing its recording', async () => {
  const model = new DynamoRoutingModel(db.client, LOCAL_TABLES.routing);
  const count = (state: BanditState) => Object.values(state.arms).reduce((s, arm) => s + arm.n, 0);
  // The event carries the decision's context: its features are known, it need not be logged.
  const d1 = decision('evt', 1);
  const o1 = outcome('evt', 1);
  const before = await model.load(true);
  expect(await model.applyOutcomes([o1], new Map([[d1.decisionId, d1]]))).toEqual({ version: before.version + 1, applied: 1 });
  expect((await model.claims([o1])).get(outcomeId(o1))).toMatchObject({ recorded: true, appliedIn: before.version + 1 });
  expect(await model.recordOutcome(o1)).toBe(false); // the updater recorded it
  expect(await model.applyOutcomes([o1], new Map([[d1.decisionId, d1]]))).toEqual({ version: before.version + 1, applied: 0 });
  // Neither known nor logged: skipped, and not recorded.
  expect((await model.applyOutcomes([outcome('evt', 2)])).applied).toBe(0);
  expect((await model.claims([outcome('evt', 2)])).get(outcomeId(outcome('evt', 2)))).toEqual({ recorded: false });

  // Recorded by another between the updater's read and its claim: the recording claim fails, and the updater
  // claims the recorded outcome from a fresh read instead of dropping it.
  const d3 = decision('evt', 3);
  const o3 = outcome('evt', 3);
  let raced = 0;
  const racing: ClaimStore = {
    loadModel: () => model.loadModel(),
    decisions: (ids) => model.decisions(ids),
    claims: (os) => model.claims(os),
    claim: async (o, observed, next, token, now) => {
      if (!observed.recorded && raced++ === 0) expect(await model.recordOutcome(o)).toBe(true);
      return model.claim(o, observed, next, token, now);
    },
    commit: (read, next, now) => model.commit(read, next, now),
    release: (os, lost, token) => model.release(os, lost, token),
  };
  const start = await model.load(true);
  expect(await applyOutcomesOnce(racing, [o3], undefined, 10, Date.now, new Map([[d3.decisionId, d3]]))).toEqual({ version: start.version + 1, applied: 1 });
  expect(raced).toBe(1);
  expect(count((await model.load(true)).state) - count(start.state)).toBe(1);
});

test('exports logged decisions with their first outcome as the OPE log (npm run ope:export)', async () => {
  const model = new DynamoRoutingModel(db.client, LOCAL_TABLES.routing);
  const since = T0 + 10_000_000; // after the other tests' decisions
  const logged = [decision('exp', 20_000), decision('exp', 20_001), decision('exp', 20_002)];
  for (const d of logged) await model.logDecision(d);
  await model.recordOutcome({ ...outcome('exp', 20_000), connectorId: 'a', outcome: 'succeeded', feeMinor: 320 });
  await model.recordOutcome({ ...outcome('exp', 20_001), connectorId: 'a', outcome: 'declined' });
  // exp-d20002: no outcome yet.
  const out = join(mkdtempSync(join(tmpdir(), 'smartpay-ope-')), 'log.jsonl');
  expect(await exportDecisions(model, out, since)).toEqual({ written: 2, pending: 1 });
  // A Scan returns items in no particular order.
  const lines = parseLog(readFileSync(out, 'utf8'), 'net').sort((x, y) => x.decisionId.localeCompare(y.decisionId));
  expect(lines.map((l) => [l.decisionId, l.chosen, l.propensity, l.outcome, l.feeMinor])).toEqual([
    ['exp-d20000', 'a', 0.98, 'succeeded', 320],
    ['exp-d20001', 'a', 0.98, 'declined', undefined],
  ]);
  expect(lines[0]).toMatchObject({ eligible: ['a', 'b'], ranked: [{ connectorId: 'a', propensity: 0.98 }, { connectorId: 'b', propensity: 0.02 }], context: logged[0].context });
});

test('concurrent health folds lose no outcome: each writes on the version it read, or reads again', async () => {
  const model = new DynamoRoutingModel(db.client, LOCAL_TABLES.routing);
  await db.client.send(new DeleteCommand({ TableName: LOCAL_TABLES.routing, Key: { pk: HEALTH_KEY } }));
  expect(await model.loadHealth()).toBeUndefined();
  // Eight consumers at once, three failures of one connector each, the times interleaved across them.
  const batches = Array.from({ length: 8 }, (_, w) =>
    Array.from({ length: 3 }, (_, i): OutcomeRecord => ({ decisionId: `h-${w}-${i}`, attempt: 0, connectorId: 'down', outcome: 'error', latencyMs: 5, time: T0 + i * 8 + w })),
  );
  await Promise.all(batches.map((b) => new DynamoRoutingModel(db.client, LOCAL_TABLES.routing).recordHealth(b, undefined, 50)));
  const health = (await model.loadHealth(undefined, true))!;
  expect(health.version).toBe(8);
  // All 24 attempts counted (the window keeps the last 20), and the connector is demoted.
  expect(health.health.down.recent).toHaveLength(20);
  expect(health.health.down.status).toBe('demoted');
  // One more fold is exactly recordOutcomes() over the state read.
  const more: OutcomeRecord = { decisionId: 'h-more', attempt: 0, connectorId: 'up', outcome: 'succeeded', latencyMs: 5, time: T0 + 100 };
  expect(await model.recordHealth([more])).toEqual({ version: 9, health: recordOutcomes(health.health, [more]) });
  expect(await model.loadHealth()).toEqual({ version: 9, health: recordOutcomes(health.health, [more]) });
});

test('an item that is not the breaker\'s state reads as none, and the next fold replaces it', async () => {
  const model = new DynamoRoutingModel(db.client, LOCAL_TABLES.routing);
  for (const Item of [{ pk: HEALTH_KEY, health: '{}' }, { pk: HEALTH_KEY, version: 0, health: '{}' }, { pk: HEALTH_KEY, version: 3, health: 7 }]) {
    await db.client.send(new PutCommand({ TableName: LOCAL_TABLES.routing, Item }));
    expect(await model.loadHealth()).toBeUndefined();
    const o: OutcomeRecord = { decisionId: 'h-foreign', attempt: 0, connectorId: 'a', outcome: 'timeout', latencyMs: 5, time: T0 };
    expect(await model.recordHealth([o])).toEqual({ version: 1, health: recordOutcomes({}, [o]) });
  }
});

test('the routing function reads a cached copy, reloaded after the TTL', async () => {
  let now = 0;
  let loads = 0;
  const stub = {
    load: async () => {
      loads += 1;
      return { version: loads, state: emptyBanditState(VOCABULARY), history: {} };
    },
    loadHealth: async () => undefined,
  };
  const cached = new CachedModel(stub, { modelTtlMs: 5_000, clock: () => now });
  const first = await cached.get();
  expect(first.policy).toBeInstanceOf(BanditPolicy);
  await Promise.all([cached.get(), cached.get()]);
  expect(loads).toBe(1);
  now = 5_000;
  const [a, b] = await Promise.all([cached.get(), cached.get()]); // one reload for both
  expect(loads).toBe(2);
  expect(a.version).toBe(2);
  expect(b.policy).toBe(a.policy);
});

test('the routing function ranks with the breaker\'s own item, not the model\'s, re-read after its own TTL', async () => {
  let now = 0;
  let healthReads = 0;
  let published: PublishedHealth | undefined;
  const demoted: ConnectorHealth = { status: 'demoted', recent: [{ failed: true, t: 1 }, { failed: true, t: 2 }, { failed: true, t: 3 }], until: 60_000, probes: 0 };
  const stub = {
    // A model written before the breaker's state was apart carries its own: it is ignored.
    load: async () => ({ version: 3, state: { ...emptyBanditState(VOCABULARY), health: { a: demoted } }, history: {} }),
    loadHealth: async () => {
      healthReads += 1;
      return published;
    },
  };
  const cached = new CachedModel(stub, { modelTtlMs: 5_000, healthTtlMs: 1_000, clock: () => now });
  const base = (await cached.get()).policy;
  expect(base.state.health).toEqual({});
  published = { version: 1, health: { a: demoted } };
  now = 999;
  expect((await cached.get()).policy).toBe(base); // the health is still fresh
  now = 1_000;
  const overlaid = await cached.get();
  expect(overlaid.version).toBe(3); // the learnt model is still version 3
  expect(overlaid.policy.state.health).toEqual({ a: demoted });
  expect(overlaid.policy.state.arms).toBe(base.state.arms);
  expect((await cached.get()).policy).toBe(overlaid.policy); // built once per health version
  published = { version: 2, health: { a: HEALTHY } };
  now = 2_000;
  expect((await cached.get()).policy.state.health).toEqual({ a: HEALTHY });
  expect(healthReads).toBe(3);
});

test.each([
  ['slower than its time limit', 'slow'],
  ['that fails', 'throws'],
] as const)('a health read %s gives way to the last one read, and is reported', async (_name, mode) => {
  let now = 0;
  let failing = false;
  const errors: unknown[] = [];
  const health: PublishedHealth = { version: 2, health: { a: { ...HEALTHY, status: 'demoted', until: 1e12 } } };
  const stub = {
    load: async () => ({ version: 1, state: emptyBanditState(VOCABULARY), history: {} }),
    loadHealth: (signal?: AbortSignal) =>
      new Promise<PublishedHealth>((resolve, reject) => {
        if (!failing) resolve(health);
        else if (mode === 'throws') reject(new Error('throttled'));
        else signal?.addEventListener('abort', () => reject(signal.reason)); // answers only when aborted
      }),
  };
  const cached = new CachedModel(stub, { modelTtlMs: 5_000, healthTtlMs: 1_000, healthTimeoutMs: 20, clock: () => now, onHealthError: (e) => errors.push(e) });
  expect((await cached.get()).policy.state.health).toEqual(health.health);
  failing = true;
  now = 1_000;
  const started = performance.now();
  expect((await cached.get()).policy.state.health).toEqual(health.health);
  expect(performance.now() - started).toBeLessThan(1_000);
  expect(errors).toHaveLength(1);
});

test('a registry that names new currencies or countries: the model is read under its vocabulary, learns under it and is stored so', async () => {
  const before = await new DynamoRoutingModel(db.client, LOCAL_TABLES.routing).load(true);
  expect(before.state.vocabulary).toEqual(VOCABULARY);
  const brazil = vocabularyOf([...DEFAULT_CONNECTORS, { currencies: ['BRL'], regions: ['BR'] }]);
  const model = new DynamoRoutingModel(db.client, LOCAL_TABLES.routing, brazil);
  const read = await model.load(true);
  expect(read.version).toBe(before.version);
  expect(read.state.vocabulary).toEqual(brazil);
  expect(read.state.arms.a.n).toBe(before.state.arms.a.n);
  const ctx: RoutingContext = { ...context(1), currency: 'BRL', country: 'BR' };
  await model.logDecision({ ...decision('brl', 1), context: ctx });
  const o = { ...outcome('brl', 1), connectorId: 'a', outcome: 'succeeded' as const };
  await model.recordOutcome(o);
  expect(await model.applyOutcomes([o])).toEqual({ version: before.version + 1, applied: 1 });
  const stored = await model.load(true);
  expect(stored.state).toEqual(learnArm(read.state, { connectorId: 'a', outcome: 'succeeded', features: routingFeatures(ctx, brazil), cell: segmentCell(ctx), time: o.time }));
  // A store of the old registry reads it back under its own vocabulary (the BRL and LATAM slots dropped).
  expect((await new DynamoRoutingModel(db.client, LOCAL_TABLES.routing).load(true)).state.vocabulary).toEqual(VOCABULARY);
});
