/**
 * Routing service: eligibility first (never an ineligible connector, a named 422 when none), the decision
 * logged with its context and propensities, attempts bounded, and feedback validated against the decision.
 */
import { BanditPolicy, emptyBanditState, learn } from '../../lambdas/routing/bandit';
import { routingFeatures, vocabularyOf } from '../../lambdas/routing/context';
import { isEligible } from '../../lambdas/routing/eligibility';
import { decodeHealth, decodeState, encodeHealth, encodeState, MAX_CELLS_PER_CONNECTOR } from '../../lambdas/routing/model-encoding';
import type { DecisionRecord, OutcomeRecord } from '../../lambdas/routing/ports';
import { finalizedOutcomes, recordFeedback, recordPaymentOutcomes, route, type RoutingDeps } from '../../lambdas/routing/service';
import { LOCAL_CONNECTORS } from '../../local/connectors';
import { connectorFee, DEFAULT_CONNECTORS, parseConnectorRegistry, type ConnectorDefinition, type FeeSchedule } from '../../contracts/connectors';
import { NoEligibleConnectorError, NotFoundError, ValidationError } from '../../contracts/errors';

const card = { amount: 10_000, method: 'card' as const };
const VOCABULARY = vocabularyOf(DEFAULT_CONNECTORS);

function fakeDeps(connectors: readonly ConnectorDefinition[] = DEFAULT_CONNECTORS, maxAttempts = 3) {
  const decisions = new Map<string, DecisionRecord>();
  const outcomes = new Map<string, OutcomeRecord>();
  const queued: OutcomeRecord[][] = [];
  const folded: OutcomeRecord[][] = [];
  const deps: RoutingDeps = {
    connectors,
    model: { get: async () => ({ policy: new BanditPolicy(emptyBanditState(VOCABULARY)), version: 7 }) },
    store: {
      logDecision: async (d) => {
        if (decisions.has(d.decisionId)) return false;
        decisions.set(d.decisionId, d);
        return true;
      },
      getDecision: async (id) => decisions.get(id),
      recordOutcome: async (o) => {
        const key = `${o.decisionId}#${o.attempt}`;
        if (outcomes.has(key)) return false;
        outcomes.set(key, o);
        return true;
      },
      recordedOutcomes: async (id, n) => Array.from({ length: n }, (_, i) => outcomes.get(`${id}#${i}`)).filter((o): o is OutcomeRecord => o !== undefined),
    },
    health: { recordHealth: async (o) => void folded.push([...o]) },
    queue: { enqueue: async (o) => void queued.push([...o]) },
    maxAttempts,
    random: () => 0,
    clock: () => Date.UTC(2026, 10, 26, 12),
  };
  return { deps, decisions, outcomes, queued, folded };
}

describe('routing service', () => {
  it('ranks only eligible connectors and logs the decision with its context and propensities', async () => {
    const { deps, decisions } = fakeDeps();
    const result = await route('m1', { ...card, currency: 'USD', country: 'US' }, deps);
    expect(result.ranked.map((r) => r.connectorId).sort()).toEqual(['amazon-pay-sandbox', 'stripe-sandbox']);
    expect(result).toMatchObject({ policyVersion: 'linucb-7', attemptLimit: 2 });
    const logged = decisions.get(result.decisionId)!;
    expect(logged).toMatchObject({ merchantId: 'm1', chosen: result.ranked[0].connectorId, propensity: result.propensity, policyVersion: 'linucb-7' });
    expect(logged.context).toMatchObject({ amountMinor: 10_000, currency: 'USD', country: 'US', method: 'card' });
    expect(logged.ranked.map((r) => r.connectorId)).toEqual(result.ranked.map((r) => r.connectorId));
    // Only stripe takes CHF, or a buyer in BR.
    expect((await route('m1', { ...card, currency: 'CHF' }, deps)).ranked.map((r) => r.connectorId)).toEqual(['stripe-sandbox']);
    expect((await route('m1', { ...card, currency: 'USD', country: 'BR' }, deps)).ranked.map((r) => r.connectorId)).toEqual(['stripe-sandbox']);
  });

  it('routes each method only to connectors that take it: Solana Pay never to a card processor, and back', async () => {
    const { deps } = fakeDeps(LOCAL_CONNECTORS);
    const ids = async (method: 'card' | 'wallet' | 'solana_pay') =>
      (await route('m1', { amount: 5_000, currency: 'USD', method, country: 'US' }, deps)).ranked.map((r) => r.connectorId).sort();
    expect(await ids('solana_pay')).toEqual(['solana-pay']);
    expect(await ids('wallet')).toEqual(['amazon-pay']);
    expect(await ids('card')).toEqual(['sandbox-latam', 'stripe-eu', 'stripe-us']);
    await expect(route('m1', { amount: 5_000, currency: 'JPY', method: 'solana_pay' }, deps)).rejects.toThrow('no enabled connector takes solana_pay payments in JPY');
  });

  it('bounds the attempts by MAX_PAYMENT_ATTEMPTS', async () => {
    expect((await route('m1', { ...card, currency: 'USD' }, fakeDeps(DEFAULT_CONNECTORS, 1).deps)).attemptLimit).toBe(1);
  });

  it('fails with a named 422 when nothing is eligible', async () => {
    const disabled = DEFAULT_CONNECTORS.map((c) => ({ ...c, enabled: false }));
    const attempt = route('m1', { ...card, currency: 'USD', country: 'US' }, fakeDeps(disabled).deps);
    await expect(attempt).rejects.toThrow(NoEligibleConnectorError);
    await expect(attempt).rejects.toMatchObject({ status: 422, message: 'no enabled connector takes card payments in USD from US' });
  });

  it("leaves out a connector whose gateway cannot take the amount, and names the amount when that leaves nothing", async () => {
    // Stripe takes KWD only in multiples of 10 fils (contracts/connectors.ts stripeAmountProblem).
    const { deps } = fakeDeps(LOCAL_CONNECTORS);
    const ids = async (amount: number) => (await route('m1', { amount, currency: 'KWD', method: 'card', country: 'KW' }, deps)).ranked.map((r) => r.connectorId).sort();
    expect(await ids(5_120)).toEqual(['sandbox-latam', 'stripe-us']);
    expect(await ids(5_124)).toEqual(['sandbox-latam']);
    const stripeOnly = fakeDeps(LOCAL_CONNECTORS.filter((c) => c.kind === 'stripe')).deps;
    await expect(route('m1', { amount: 5_124, currency: 'KWD', method: 'card' }, stripeOnly)).rejects.toMatchObject({
      status: 422,
      message: 'no enabled connector takes card payments in KWD of this amount (amount: Stripe takes KWD amounts in multiples of 10 minor units (0.010 KWD); 5124 is not one)',
      details: { issues: [{ field: 'amount', problem: expect.stringContaining('multiples of 10') }] },
    });
    // ISK: up to 999,999 krónur through Stripe (eight digits of hundredths).
    expect((await route('m1', { amount: 999_999, currency: 'ISK', method: 'card' }, stripeOnly)).ranked.length).toBe(1);
    await expect(route('m1', { amount: 1_000_000, currency: 'ISK', method: 'card' }, stripeOnly)).rejects.toMatchObject({ status: 422, details: { issues: [{ field: 'amount' }] } });
  });

  it('checks method, currency, region and enabled', () => {
    const c = DEFAULT_CONNECTORS[1];
    expect(isEligible(c, { ...card, currency: 'JPY', country: 'JP' })).toBe(true);
    expect(isEligible(c, { ...card, currency: 'AUD' })).toBe(false);
    expect(isEligible(c, { method: 'solana_pay', currency: 'USD' })).toBe(false);
    expect(isEligible({ ...c, enabled: false }, { ...card, currency: 'USD' })).toBe(false);
  });

  it('records feedback once per attempt, queues it every time, never folds it into the shared breaker, and refuses what the decision did not rank', async () => {
    const { deps, queued, folded } = fakeDeps();
    const { decisionId, ranked } = await route('m1', { ...card, currency: 'USD', country: 'US' }, deps);
    const attempts = [
      { connectorId: ranked[0].connectorId, outcome: 'timeout' as const, latencyMs: 3000 },
      { connectorId: ranked[1].connectorId, outcome: 'succeeded' as const, latencyMs: 90, feeMinor: 320 },
    ];
    expect(await recordFeedback('m1', decisionId, attempts, deps)).toEqual({ decisionId, recorded: 2, replayed: 0 });
    expect(await recordFeedback('m1', decisionId, attempts, deps)).toEqual({ decisionId, recorded: 0, replayed: 2 });
    expect(queued).toHaveLength(2);
    expect(queued[0].map((o) => [o.attempt, o.outcome])).toEqual([[0, 'timeout'], [1, 'succeeded']]);
    // A merchant's reports teach the model, never the breaker every merchant's payments share.
    expect(folded).toEqual([]);
    await expect(recordFeedback('m2', decisionId, attempts, deps)).rejects.toThrow(NotFoundError);
    await expect(recordFeedback('m1', 'rt_unknown', attempts, deps)).rejects.toThrow(NotFoundError);
    await expect(recordFeedback('m1', decisionId, [{ connectorId: 'other', outcome: 'succeeded', latencyMs: 1 }], deps)).rejects.toThrow(ValidationError);
  });

  it('a decision\'s feedback is given once: different attempts are a conflict, naming what is recorded', async () => {
    const { deps } = fakeDeps();
    const { decisionId, ranked } = await route('m1', { ...card, currency: 'USD', country: 'US' }, deps);
    await recordFeedback('m1', decisionId, [{ connectorId: ranked[0].connectorId, outcome: 'succeeded', latencyMs: 80 }], deps);
    for (const changed of [
      [{ connectorId: ranked[0].connectorId, outcome: 'declined' as const, latencyMs: 80 }],
      [{ connectorId: ranked[1].connectorId, outcome: 'succeeded' as const, latencyMs: 80 }],
      [{ connectorId: ranked[0].connectorId, outcome: 'error' as const, latencyMs: 80 }, { connectorId: ranked[1].connectorId, outcome: 'succeeded' as const, latencyMs: 80 }],
    ]) {
      await expect(recordFeedback('m1', decisionId, changed, deps)).rejects.toMatchObject({ status: 409, code: 'feedback_conflict', details: { recorded: [{ connectorId: ranked[0].connectorId, outcome: 'succeeded' }] } });
    }
  });

  it('a feedback that stopped part-way is finished by its retry; a conflicting one after it is refused', async () => {
    const { deps, outcomes } = fakeDeps();
    const { decisionId, ranked } = await route('m1', { ...card, currency: 'USD', country: 'US' }, deps);
    const attempts = [
      { connectorId: ranked[0].connectorId, outcome: 'timeout' as const, latencyMs: 3000 },
      { connectorId: ranked[1].connectorId, outcome: 'succeeded' as const, latencyMs: 90 },
    ];
    // The first call recorded attempt 0 and stopped (a throttled write, a crash).
    const write = deps.store.recordOutcome;
    deps.store.recordOutcome = async (o) => {
      if (o.attempt === 1) throw new Error('throttled');
      return write(o);
    };
    await expect(recordFeedback('m1', decisionId, attempts, deps)).rejects.toThrow('throttled');
    deps.store.recordOutcome = write;
    expect(await recordFeedback('m1', decisionId, attempts, deps)).toEqual({ decisionId, recorded: 1, replayed: 1 });
    expect(outcomes.size).toBe(2);
    await expect(recordFeedback('m1', decisionId, attempts.slice(0, 1), deps)).rejects.toMatchObject({ code: 'feedback_conflict' });
  });

  it.each([
    ['a connector twice', (r: string[]) => [{ connectorId: r[0], outcome: 'error' }, { connectorId: r[0], outcome: 'succeeded' }], 'attempts.1.connectorId'],
    ['an attempt after a success', (r: string[]) => [{ connectorId: r[0], outcome: 'succeeded' }, { connectorId: r[1], outcome: 'error' }], 'attempts.0.outcome'],
    ['an attempt after a decline', (r: string[]) => [{ connectorId: r[0], outcome: 'declined' }, { connectorId: r[1], outcome: 'succeeded' }], 'attempts.0.outcome'],
    ['more attempts than connectors ranked', (r: string[]) => [...r, r[0]].map((c) => ({ connectorId: c, outcome: 'error' })), 'attempts'],
    ['a fee above the amount', (r: string[]) => [{ connectorId: r[0], outcome: 'succeeded', feeMinor: 10_001 }], 'attempts.0.feeMinor'],
  ])('refuses %s, naming the field', async (_name, make, field) => {
    const { deps, outcomes } = fakeDeps();
    const { decisionId, ranked } = await route('m1', { ...card, currency: 'USD', country: 'US' }, deps);
    const attempts = make(ranked.map((r) => r.connectorId)).map((a) => ({ latencyMs: 50, ...a })) as Parameters<typeof recordFeedback>[2];
    await expect(recordFeedback('m1', decisionId, attempts, deps)).rejects.toMatchObject({ status: 400, issues: [expect.objectContaining({ field })] });
    expect(outcomes.size).toBe(0);
  });
});

describe('a payment\'s outcomes (PaymentFinalized)', () => {
  const at = '2026-11-26T12:00:01.000Z';
  const attempts = [
    { attempt: 1, connectorId: 'stripe-sandbox', outcome: 'succeeded' as const, latencyMs: 90.4, feeMinor: 320, at: '2026-11-26T12:00:02.000Z' },
    { attempt: 0, connectorId: 'amazon-pay-sandbox', outcome: 'retryable_failure' as const, code: 'gateway_timeout', latencyMs: 3000, at },
  ];
  const decision = {
    time: Date.parse(at) - 500,
    context: { amountMinor: 10_000, currency: 'USD', method: 'card' as const, country: 'US', time: Date.parse(at) - 500 },
    ranked: [{ connectorId: 'amazon-pay-sandbox', propensity: 0.98, score: 1 }, { connectorId: 'stripe-sandbox', propensity: 0.02, score: 0.9 }],
    propensity: 0.98,
    policyVersion: 'linucb-3',
  };

  it('are the attempts in order, each at its own time, a gateway timeout a timeout', () => {
    expect(finalizedOutcomes({ decisionId: 'rt_x', attempts })).toEqual([
      { decisionId: 'rt_x', attempt: 0, connectorId: 'amazon-pay-sandbox', outcome: 'timeout', latencyMs: 3000, time: Date.parse(at) },
      { decisionId: 'rt_x', attempt: 1, connectorId: 'stripe-sandbox', outcome: 'succeeded', latencyMs: 90, feeMinor: 320, time: Date.parse('2026-11-26T12:00:02.000Z') },
    ]);
  });

  it('log the decision once and fold the attempts into the breaker the first time only; the updater records them', async () => {
    const { deps, decisions, outcomes, folded, queued } = fakeDeps();
    const payment = { merchantId: 'm1', decisionId: 'rt_pay', decision, attempts };
    expect(await recordPaymentOutcomes(payment, deps)).toEqual({ decisionId: 'rt_pay', recorded: 2, replayed: 0 });
    expect(await recordPaymentOutcomes(payment, deps)).toEqual({ decisionId: 'rt_pay', recorded: 0, replayed: 2 });
    expect(decisions.get('rt_pay')).toMatchObject({ merchantId: 'm1', chosen: 'amazon-pay-sandbox', context: decision.context });
    expect(folded).toEqual([finalizedOutcomes(payment)]);
    expect(outcomes.size).toBe(0);
    expect(queued).toEqual([]);
  });

  it('without the decision (an old event): the logged one must be the merchant\'s, and the new outcomes are recorded and folded', async () => {
    const { deps, folded, outcomes } = fakeDeps();
    const { decisionId } = await route('m1', { ...card, currency: 'USD', country: 'US' }, deps);
    const payment = { merchantId: 'm1', decisionId, attempts };
    expect(await recordPaymentOutcomes(payment, deps)).toEqual({ decisionId, recorded: 2, replayed: 0 });
    expect(await recordPaymentOutcomes(payment, deps)).toEqual({ decisionId, recorded: 0, replayed: 2 });
    expect(outcomes.size).toBe(2);
    expect(folded).toHaveLength(1);
    await expect(recordPaymentOutcomes({ ...payment, merchantId: 'm2' }, deps)).rejects.toThrow(NotFoundError);
  });
});

describe('fee schedules', () => {
  const fee: FeeSchedule = {
    basisPoints: 290,
    fixedMinor: 30,
    rules: [
      { method: 'wallet', regions: ['EU'], basisPoints: 150, fixedMinor: 10 },
      { method: 'wallet', basisPoints: 200, fixedMinor: 20 },
      { regions: ['EU', 'UK'], basisPoints: 440, fixedMinor: 30 },
    ],
  };

  it('takes the first matching rule by method and buyer region, else the base fee', () => {
    const at = (method: 'card' | 'wallet', country?: string) => connectorFee(fee, { amountMinor: 10_000, method, country });
    expect(at('wallet', 'DE')).toBe(160); // method and region
    expect(at('wallet', 'US')).toBe(220); // method only
    expect(at('wallet')).toBe(220);
    expect(at('card', 'GB')).toBe(470); // region only
    expect(at('card', 'US')).toBe(320); // base
    expect(at('card')).toBe(320); // unknown region: only rules without regions match
  });

  it('prices the bandit’s ranking with them: the international rate makes stripe-us dearer for a European card', () => {
    const stripeUs = LOCAL_CONNECTORS.find((c) => c.id === 'stripe-us')!;
    const policy = new BanditPolicy(emptyBanditState(VOCABULARY));
    const rank = (country: string) =>
      policy.rank({ amountMinor: 10_000, currency: 'USD', method: 'card', network: 'visa', country, time: Date.UTC(2026, 0, 1) }, [stripeUs], () => 0).ranked[0];
    expect(rank('US').estimatedFeeMinor).toBe(320);
    expect(rank('FR').estimatedFeeMinor).toBe(470);
    expect(rank('ZA').estimatedFeeMinor).toBe(470); // a country of no known region: the base fee
  });

  it('refuses a rule that names neither a method nor regions, or an unknown region', () => {
    const base = { ...DEFAULT_CONNECTORS[0] };
    expect(() => parseConnectorRegistry([{ ...base, fee: { ...base.fee, rules: [{ basisPoints: 100, fixedMinor: 0 }] } }], 'CONNECTORS')).toThrow(
      'CONNECTORS: not a valid connector registry (0.fee.rules.0: a rule names a method, regions or both)',
    );
    expect(() => parseConnectorRegistry([{ ...base, fee: { ...base.fee, rules: [{ regions: ['US'], basisPoints: 100, fixedMinor: 0 }] } }], 'CONNECTORS')).toThrow(
      /0\.fee\.rules\.0\.regions\.0: /,
    );
  });
});

describe('routing model encoding', () => {
  const ctx = { amountMinor: 1234, currency: 'EUR', method: 'card' as const, country: 'DE', time: Date.UTC(2026, 0, 1) };
  const x = Array.from(routingFeatures(ctx, VOCABULARY));

  it('stores A as its upper triangle and reads back the same state', () => {
    let state = emptyBanditState(VOCABULARY);
    for (let i = 0; i < 20; i += 1) state = learn(state, { connectorId: i % 2 ? 'a' : 'b', outcome: i % 3 ? 'succeeded' : 'error', features: x, time: ctx.time + i });
    expect(state.health.a.recent.length).toBeGreaterThan(5);
    expect(decodeState(encodeState(state))).toEqual(state);
    expect(encodeState(state).length).toBeLessThan(0.6 * JSON.stringify(state).length);
  });

  it('stores the breaker’s attempts compactly, and reads the earlier formats', () => {
    const health = {
      a: { status: 'demoted' as const, recent: [{ failed: false, t: 1_000 }, { failed: true, t: 5_500 }, { failed: true, t: 2_000 }], until: 9_000, probes: 0 },
      b: { status: 'healthy' as const, recent: [], until: 0, probes: 0, probation: 3 },
    };
    const stored = encodeHealth(health);
    expect(stored.a).toMatchObject({ rt: 5_500, r: [4_500, -1, -3_501] });
    expect(decodeHealth(JSON.parse(JSON.stringify(stored)))).toEqual(health);
    // Attempts as objects (the health item before) and as booleans (before attempts had times).
    expect(decodeHealth({ a: health.a })).toEqual({ a: health.a });
    const booleans = { a: { ...health.a, recent: [false, true] } } as unknown as Parameters<typeof decodeHealth>[0];
    expect(decodeHealth(booleans).a.recent).toEqual([{ failed: false, t: 0 }, { failed: true, t: 0 }]);
    // A format-2 model (health stored plain) still loads.
    const v2 = JSON.parse(encodeState({ ...emptyBanditState(VOCABULARY), health }));
    expect(decodeState(JSON.stringify({ ...v2, format: 2, health }))).toEqual({ ...emptyBanditState(VOCABULARY), health });
  });

  it('stores a learnt (dense) arm as base64 doubles, exactly, shorter than as JSON numbers; format 3 still reads', () => {
    let state = emptyBanditState(VOCABULARY);
    const countries = ['DE', 'US', 'BR', 'JP', 'GB', undefined];
    const currencies = ['EUR', 'USD', 'JPY', 'GBP', 'CHF'];
    // Traffic varied on every feature (as a model's after a while), so every entry of A is learnt.
    const categories = ['retail', 'digital', 'travel', 'food', 'services', 'other'];
    const networks = ['visa', 'mastercard', 'amex', undefined] as const;
    const methods = ['card', 'card', 'wallet', 'solana_pay'] as const;
    for (let i = 0; i < 600; i += 1) {
      const features = Array.from(
        routingFeatures({
          ...ctx,
          amountMinor: 100 + i * 37,
          country: countries[i % 6],
          currency: currencies[i % 5],
          merchantCategory: categories[i % 6],
          method: methods[i % 4],
          network: networks[i % 4],
          fraudScore: (i % 7) / 7,
          time: ctx.time + i * 600_000,
        }, VOCABULARY),
      );
      state = learn(state, { connectorId: 'dense', outcome: i % 4 ? 'succeeded' : 'declined', features, time: ctx.time });
    }
    const text = encodeState(state);
    const stored = JSON.parse(text) as { format: number; arms: { dense: { upper: unknown; b: unknown } } };
    expect(stored.format).toBe(4);
    expect(typeof stored.arms.dense.upper).toBe('string');
    expect(decodeState(text)).toEqual(state); // exact: the same doubles
    // The same state as format 3 (numbers as JSON) decodes to the same, and is much longer.
    const d = state.dimension;
    const plain = (arm: { a: readonly number[]; b: readonly number[]; n: number }) => {
      const upper: number[] = [];
      for (let i = 0; i < d; i += 1) for (let j = i; j < d; j += 1) upper.push(arm.a[i * d + j]);
      return { upper, b: arm.b, n: arm.n };
    };
    expect(state.pooled?.n).toBe(state.arms.dense.n); // the pooled arm learns every connector's outcomes
    const v3 = JSON.stringify({ ...JSON.parse(text), format: 3, arms: { dense: plain(state.arms.dense) }, pooled: plain(state.pooled!) });
    expect(decodeState(v3)).toEqual(state);
    expect(text.length).toBeLessThan(0.9 * v3.length);
  });

  it('stores the segment cells exactly, keeping the most used MAX_CELLS_PER_CONNECTOR of a connector', () => {
    const many = Object.fromEntries(Array.from({ length: MAX_CELLS_PER_CONNECTOR + 50 }, (_, i) => [`NA|USD|card|visa|${i}|0`, { residual: 0.1 * Math.sin(i), n: 1 + i / 3 }]));
    const few = { 'EU|EUR|card|mastercard|1|0': { residual: -2.718281828459045, n: 31.41592653589793 } };
    const state = { ...emptyBanditState(VOCABULARY), cells: { a: many, b: few } };
    const read = decodeState(encodeState(state));
    expect(read.cells?.b).toEqual(few);
    const kept = Object.keys(read.cells?.a ?? {});
    expect(kept).toHaveLength(MAX_CELLS_PER_CONNECTOR);
    // The 50 least used (the first 50: the smallest counts) are the ones dropped; the rest are exact.
    expect(kept).not.toContain('NA|USD|card|visa|49|0');
    expect(read.cells?.a?.['NA|USD|card|visa|50|0']).toEqual(many['NA|USD|card|visa|50|0']);
    // A state stored before the cells has none.
    expect(decodeState(encodeState(emptyBanditState(VOCABULARY))).cells).toBeUndefined();
  });

  it('keeps fewer cells a connector, the most used, rather than fail, when a large registry would overflow the item', () => {
    const cellsOf = () => Object.fromEntries(Array.from({ length: MAX_CELLS_PER_CONNECTOR }, (_, i) => [`LATAM|BRL|card|mastercard|${i}|0`, { residual: Math.PI * i, n: 1 + i + Math.E }]));
    const ids = Array.from({ length: 40 }, (_, i) => `connector-${i}`);
    const state = { ...emptyBanditState(VOCABULARY), cells: Object.fromEntries(ids.map((id) => [id, cellsOf()])) };
    const text = encodeState(state);
    expect(text.length).toBeLessThanOrEqual(350_000);
    const read = decodeState(text);
    for (const id of ids) {
      const kept = Object.keys(read.cells?.[id] ?? {});
      expect(kept.length).toBe(MAX_CELLS_PER_CONNECTOR / 2);
      expect(kept).toContain(`LATAM|BRL|card|mastercard|${MAX_CELLS_PER_CONNECTOR - 1}|0`); // the most used stay
    }
  });

  it('refuses a state too large for one item, and an unknown format', () => {
    let state = emptyBanditState(VOCABULARY);
    // Varied contexts fill A, as in a model that has run a while.
    const countries = ['DE', 'US', 'BR', 'JP', 'GB', undefined];
    const currencies = ['EUR', 'USD', 'JPY', 'GBP', 'CHF'];
    for (let i = 0; i < 1200; i += 1) {
      const features = Array.from(
        routingFeatures({ ...ctx, amountMinor: 100 + i * 37, country: countries[i % 6], currency: currencies[i % 5], fraudScore: (i % 7) / 7, time: ctx.time + i * 600_000 }, VOCABULARY),
      );
      state = learn(state, { connectorId: `connector-${Math.floor(i / 8)}`, outcome: 'succeeded', features, time: ctx.time });
    }
    expect(() => encodeState(state)).toThrow(/bytes, over 350000 for one DynamoDB item \(150 connectors, 28 features: 4 currencies and 4 regions named by the registry\); use fewer connectors/);
    expect(() => decodeState('{"dimension":3,"arms":{},"health":{}}')).toThrow(/unknown state format/);
  });
});
