/**
 * The routing policy's math and rules: LinUCB against a hand-computed example, the circuit breaker's
 * demotion and recovery, and the bandit's propensities, eligibility of the first choice and learning.
 */
import { DEFAULT_BANDIT, BanditPolicy, emptyBanditState, learn, withVocabulary, type BanditState } from '../../lambdas/routing/bandit';
import {
  cardNetwork,
  regionOf,
  routingDimension,
  routingFeatureNames,
  routingFeatures,
  segmentCell,
  STORED_BEFORE_VOCABULARY,
  vocabularyOf,
  type RoutingContext,
  type RoutingVocabulary,
} from '../../lambdas/routing/context';
import { decodeHealth, decodeState, encodeState } from '../../lambdas/routing/model-encoding';
import { DEFAULT_HEALTH, HEALTHY, recordOutcome, statusAt, type ConnectorHealth } from '../../lambdas/routing/health';
import { ArmScorer, emptyArm, inverseSpd, updateArm } from '../../lambdas/routing/linucb';
import { DEFAULT_CONNECTORS, type ConnectorDefinition } from '../../contracts/connectors';

/** The vocabulary of the tests' contexts: the default registry's (USD, EUR, GBP, JPY; NA, EU, UK, APAC). */
const VOCABULARY: RoutingVocabulary = vocabularyOf(DEFAULT_CONNECTORS);

describe('LinUCB', () => {
  const params = { alpha: 0.5, ridge: 1, discount: 1 };

  it('matches a hand-computed 2-d example', () => {
    // A = I + x1x1ᵀ + x2x2ᵀ with x1 = (1, 0), r1 = 1 and x2 = (1, 1), r2 = 0:
    // A = [[3, 1], [1, 2]], b = (1, 0), A⁻¹ = [[2, −1], [−1, 3]] / 5, θ = (0.4, −0.2).
    let arm = emptyArm(2, 1);
    arm = updateArm(arm, [1, 0], 1, params);
    arm = updateArm(arm, [1, 1], 0, params);
    expect(arm.a).toEqual([3, 1, 1, 2]);
    expect(arm.b).toEqual([1, 0]);
    expect(arm.n).toBe(2);
    const s = new ArmScorer(arm);
    expect(s.theta[0]).toBeCloseTo(0.4, 12);
    expect(s.theta[1]).toBeCloseTo(-0.2, 12);
    // x = (0, 1): mean −0.2, width √(3/5).
    expect(s.mean([0, 1])).toBeCloseTo(-0.2, 12);
    expect(s.width([0, 1])).toBeCloseTo(Math.sqrt(0.6), 12);
  });

  it('inverts a symmetric positive-definite matrix', () => {
    const a = [4, 2, 0.6, 2, 5, 1, 0.6, 1, 3];
    const inv = inverseSpd(a, 3);
    for (let i = 0; i < 3; i += 1) {
      for (let j = 0; j < 3; j += 1) {
        let sum = 0;
        for (let k = 0; k < 3; k += 1) sum += a[i * 3 + k] * inv[k * 3 + j];
        expect(sum).toBeCloseTo(i === j ? 1 : 0, 12);
      }
    }
    expect(() => inverseSpd([1, 2, 2, 1], 2)).toThrow(/not positive definite/);
  });

  it('forgets old evidence with a discount, back towards the prior', () => {
    let arm = emptyArm(1, 1);
    for (let i = 0; i < 200; i += 1) arm = updateArm(arm, [1], 1, { ...params, discount: 0.99 });
    for (let i = 0; i < 200; i += 1) arm = updateArm(arm, [1], 0, { ...params, discount: 0.99 });
    // Without forgetting the mean would be 200/401 ≈ 0.5; with it the recent failures dominate.
    expect(new ArmScorer(arm).mean([1])).toBeLessThan(0.2);
    expect(arm.a[0]).toBeLessThan(101); // bounded: about 1/(1 − γ)
  });

  it('rejects features of another dimension', () => {
    expect(() => updateArm(emptyArm(3, 1), [1, 2], 1, params)).toThrow(/dimension 3, the features 2/);
  });
});

describe('routing context', () => {
  const base: RoutingContext = { amountMinor: 12_345, currency: 'EUR', method: 'card', network: 'visa', country: 'DE', merchantCategory: 'travel', fraudScore: 0.2, time: Date.UTC(2026, 0, 1, 6) };
  const f = (ctx: RoutingContext, vocabulary = VOCABULARY) => Object.fromEntries(routingFeatureNames(vocabulary).map((n, i) => [n, routingFeatures(ctx, vocabulary)[i]]));

  it('encodes each feature of the issue, one-hot with an "other" slot', () => {
    const x = f(base);
    expect(routingFeatures(base, VOCABULARY)).toHaveLength(routingDimension(VOCABULARY));
    expect(x.log_amount).toBeCloseTo(Math.log1p(123.45) / 10, 12);
    expect(x.fraud_score).toBe(0.2);
    expect([x.category_travel, x.region_EU, x.currency_EUR, x.method_card, x.network_visa]).toEqual([1, 1, 1, 1, 1]);
    expect(x.hour_sin).toBeCloseTo(1, 12); // 06:00 UTC
    const other = f({ ...base, merchantCategory: 'casino', country: 'ZA', currency: 'CHF', network: undefined });
    expect([other.category_other, other.region_other, other.currency_other, other.network_other]).toEqual([1, 1, 1, 1]);
    const wallet = f({ ...base, method: 'wallet' });
    expect([wallet.method_wallet, wallet.network_visa, wallet.network_other]).toEqual([1, 0, 0]);
  });

  it('takes its currency and region slots from the registry: the currencies it names, the regions of the countries it names, countries in none their own', () => {
    const registry = [
      { currencies: ['*'], regions: ['*'] },
      { currencies: ['BRL', 'USD', 'MXN'], regions: ['BR', 'MX', 'ZA'] },
      { currencies: ['EUR'], regions: ['de'], fee: { basisPoints: 100, fixedMinor: 0, rules: [{ regions: ['UK' as const], basisPoints: 90, fixedMinor: 0 }] } },
    ];
    const vocabulary = vocabularyOf(registry);
    expect(vocabulary).toEqual({ currencies: ['BRL', 'EUR', 'MXN', 'USD'], regions: ['EU', 'UK', 'LATAM', 'ZA'] });
    // The same registry in another order: the same features.
    expect(vocabularyOf([...registry].reverse())).toEqual(vocabulary);
    expect(vocabularyOf(DEFAULT_CONNECTORS)).toEqual({ currencies: ['EUR', 'GBP', 'JPY', 'USD'], regions: ['NA', 'EU', 'UK', 'APAC'] });
    const brazil = f({ ...base, currency: 'BRL', country: 'BR' }, vocabulary);
    expect([brazil.currency_BRL, brazil.region_LATAM, brazil.currency_other, brazil.region_other]).toEqual([1, 1, 0, 0]);
    const southAfrica = f({ ...base, currency: 'ZAR', country: 'za' }, vocabulary);
    expect([southAfrica.region_ZA, southAfrica.currency_other]).toEqual([1, 1]);
    // Under the default registry's vocabulary, Brazil and BRL have no slot of their own.
    const before = f({ ...base, currency: 'BRL', country: 'BR' });
    expect([before.currency_other, before.region_other, before.currency_BRL]).toEqual([1, 1, undefined]);
  });

  it('carries a learnt state over to a new vocabulary by feature name: what it knew still scores the same, a new slot starts from the prior', () => {
    const a: ConnectorDefinition = { id: 'a', kind: 'sandbox', enabled: true, methods: ['card'], currencies: ['*'], regions: ['*'], fee: { basisPoints: 290, fixedMinor: 30 } };
    const old = { currencies: ['EUR', 'USD'], regions: ['NA', 'EU'] };
    const usCard: RoutingContext = { ...base, currency: 'USD', country: 'US' };
    let state = emptyBanditState(old);
    for (let i = 0; i < 200; i += 1) {
      const ctx = i % 2 ? usCard : { ...usCard, currency: 'BRL', country: 'BR', amountMinor: 500 + i };
      state = learn(state, { connectorId: 'a', outcome: i % 5 ? 'succeeded' : 'declined', features: routingFeatures(ctx, old), time: ctx.time });
    }
    const next = { currencies: ['BRL', 'USD'], regions: ['NA', 'LATAM'] };
    const moved = withVocabulary(state, next);
    expect(moved.dimension).toBe(routingDimension(next));
    expect(moved.vocabulary).toBe(next);
    expect(withVocabulary(state, { ...old })).toBe(state);
    // A US card has the same features under both (its slots exist in both): the same estimate and width.
    const before = new BanditPolicy({ ...state }).rank(usCard, [a], () => 0).ranked[0];
    const after = new BanditPolicy(moved).rank(usCard, [a], () => 0).ranked[0];
    expect(after.expectedSuccess).toBeCloseTo(before.expectedSuccess!, 9);
    expect(after.score).toBeCloseTo(before.score, 9);
    // The new slots hold no data: the BRL and LATAM entries of b are 0, their diagonal the ridge.
    const names = routingFeatureNames(next);
    for (const name of ['currency_BRL', 'region_LATAM']) {
      const i = names.indexOf(name);
      expect(moved.arms.a.b[i]).toBe(0);
      expect(moved.arms.a.a[i * moved.dimension + i]).toBe(DEFAULT_BANDIT.linucb.ridge);
    }
    // It keeps learning under the new vocabulary, and is stored with it.
    const learnt = learn(moved, { connectorId: 'a', outcome: 'succeeded', features: routingFeatures({ ...usCard, currency: 'BRL', country: 'BR' }, next), time: base.time });
    expect(decodeState(encodeState(learnt))).toMatchObject({ vocabulary: next, dimension: routingDimension(next) });
    // A state stored before states kept their vocabulary reads with the fixed one of then.
    const legacy = JSON.parse(encodeState(emptyBanditState(STORED_BEFORE_VOCABULARY)));
    delete legacy.vocabulary;
    expect(decodeState(JSON.stringify(legacy)).vocabulary).toEqual(STORED_BEFORE_VOCABULARY);
  });

  it('knows regions and card networks', () => {
    expect([regionOf('us'), regionOf('GB'), regionOf('JP'), regionOf('BR'), regionOf('ZA'), regionOf(undefined)]).toEqual(['NA', 'UK', 'APAC', 'LATAM', undefined, undefined]);
    expect(['4242424242424242', '5555555555554444', '2223003122003222', '378282246310005', '6011111111111117'].map(cardNetwork)).toEqual([
      'visa', 'mastercard', 'mastercard', 'amex', 'other',
    ]);
  });
});

describe('circuit breaker', () => {
  const t0 = 1_000_000;
  const run = (outcomes: Array<'succeeded' | 'declined' | 'error' | 'timeout'>, start?: ConnectorHealth, time = t0) =>
    outcomes.reduce<ConnectorHealth | undefined>((h, o) => recordOutcome(h, o, time), start);

  it('demotes after a handful of errors or timeouts in a row, not after declines or sporadic errors', () => {
    const history = Array.from({ length: 19 }, () => 'succeeded' as const);
    expect(statusAt(run(['declined', 'declined', 'declined', 'declined', 'declined']), t0)).toBe('healthy');
    expect(statusAt(run([...history, 'error', 'timeout', 'succeeded', 'error', 'declined', 'error']), t0)).toBe('healthy');
    const down = run([...history, 'error', 'timeout', 'error']);
    expect(statusAt(down, t0)).toBe('demoted');
    expect(statusAt(down, t0 + DEFAULT_HEALTH.coolDownMs - 1)).toBe('demoted');
  });

  it('counts only the last minute (or the last 6 attempts) in the failure share: an hour of successes does not hide a fresh outage', () => {
    const quietHour = Array.from({ length: 17 }, (_, i) => ({ failed: false, t: t0 - 3_600_000 + i * 200_000 }));
    const start: ConnectorHealth = { ...HEALTHY, recent: quietHour };
    // Failed, succeeded, failed, failed within a minute: 3 of 4 recent attempts failed, though not 3 in a row.
    const steps: Array<['error' | 'succeeded', number]> = [['error', 0], ['succeeded', 10_000], ['error', 20_000], ['error', 30_000]];
    const h = steps.reduce<ConnectorHealth>((acc, [o, dt]) => recordOutcome(acc, o, t0 + dt), start);
    expect(h.status).toBe('demoted');
    // The same attempts with the quiet hour inside the minute are 3 failures in the last 20: healthy.
    const recentQuiet: ConnectorHealth = { ...HEALTHY, recent: quietHour.map((a) => ({ ...a, t: t0 - 1_000 })) };
    expect(steps.reduce<ConnectorHealth>((acc, [o, dt]) => recordOutcome(acc, o, t0 + dt), recentQuiet).status).toBe('healthy');
  });

  it('still sees a brown-out at a few attempts a minute: the last 6 count whatever their age', () => {
    // Two failures in every three attempts, never three in a row, one attempt every 30 s.
    const pattern = ['error', 'error', 'succeeded'] as const;
    const slow = Array.from({ length: 9 }, (_, i) => pattern[i % 3]).reduce<ConnectorHealth>((h, o, i) => recordOutcome(h, o, t0 + i * 30_000), HEALTHY);
    expect(slow.status).toBe('demoted');
    // One failure in three at the same pace is not a brown-out.
    const mild = ['error', 'succeeded', 'succeeded'] as const;
    const fine = Array.from({ length: 12 }, (_, i) => mild[i % 3]).reduce<ConnectorHealth>((h, o, i) => recordOutcome(h, o, t0 + i * 30_000), HEALTHY);
    expect(fine.status).toBe('healthy');
  });

  it('reads a stored health whose attempts had no times (an older state)', () => {
    const old = { a: { status: 'healthy', recent: [false, true, true], until: 0, coolDownMs: 0, probes: 0 } } as unknown as Record<string, ConnectorHealth>;
    const h = decodeHealth(old).a;
    expect(h.recent).toEqual([{ failed: false, t: 0 }, { failed: true, t: 0 }, { failed: true, t: 0 }]);
    expect(recordOutcome(h, 'error', t0).status).toBe('demoted'); // three in a row still counts
  });

  it('demotes a brown-out: half of the recent attempts failing, interleaved with successes', () => {
    const flaky = Array.from({ length: 20 }, (_, i) => (i % 2 ? 'error' : 'succeeded') as 'error' | 'succeeded');
    expect(statusAt(run(flaky), t0)).toBe('demoted');
  });

  it('probes after the cool-down on a share of the decisions: halved by each failed probe (to a floor), grown by each success, healthy after a few', () => {
    const down = run(['error', 'error', 'error'])!;
    expect(statusAt(down, t0 + DEFAULT_HEALTH.coolDownMs - 1)).toBe('demoted');
    const later = t0 + DEFAULT_HEALTH.coolDownMs;
    expect(statusAt(down, later)).toBe('probing');
    expect(down.share).toBe(DEFAULT_HEALTH.probeShare);
    // The outage goes on: each failed probe halves the share, down to the floor; the connector stays on probe.
    let failing = down;
    const shares: number[] = [];
    for (let i = 0; i < 5; i++) {
      failing = recordOutcome(failing, i % 2 ? 'timeout' : 'error', later + i);
      expect(statusAt(failing, later + i)).toBe('probing');
      shares.push(failing.share!);
    }
    expect(shares).toEqual([0.025, 0.0125, 0.01, 0.01, 0.01]);
    // It is back: each success multiplies the share, and probeSuccesses of them in a row make it healthy.
    const first = recordOutcome(failing, 'succeeded', later + 10);
    expect([statusAt(first, later + 10), first.share]).toEqual(['probing', 0.04]);
    const declined = recordOutcome(first, 'declined', later + 11);
    expect([statusAt(declined, later + 11), declined.share, declined.probes]).toEqual(['probing', 0.04, 1]);
    const second = recordOutcome(declined, 'succeeded', later + 12);
    expect([statusAt(second, later + 12), second.share]).toEqual(['probing', 0.16]);
    const healed = recordOutcome(second, 'succeeded', later + 13);
    expect(healed.status).toBe('healthy');
    expect(healed.recent).toEqual([]);
    expect(healed.probation).toBe(DEFAULT_HEALTH.probation);
    expect(DEFAULT_HEALTH.probeSuccesses).toBe(3);
  });

  it('keeps a recovered connector on probation: one failure sends it back to probing at the least share, clean attempts end it', () => {
    const later = t0 + DEFAULT_HEALTH.coolDownMs;
    const healed = run(['succeeded', 'succeeded', 'succeeded'], run(['error', 'error', 'error']), later)!;
    expect(statusAt(healed, later)).toBe('healthy');
    const relapse = recordOutcome(healed, 'timeout', later + 1);
    expect([statusAt(relapse, later + 1), relapse.share]).toEqual(['probing', DEFAULT_HEALTH.minProbeShare]);
    // Declines and successes count down the probation; after it, a single failure is ordinary again.
    const served = run(['succeeded', 'declined', 'succeeded', 'succeeded', 'succeeded'], healed, later + 1)!;
    expect(served.probation).toBeUndefined();
    expect(statusAt(recordOutcome(served, 'error', later + 2), later + 2)).toBe('healthy');
    // One attempt short of the end, it still goes back to probing.
    const almost = run(['succeeded', 'succeeded', 'succeeded', 'succeeded'], healed, later + 1)!;
    expect(statusAt(recordOutcome(almost, 'error', later + 2), later + 2)).toBe('probing');
  });
});

describe('bandit policy', () => {
  const connector = (id: string, basisPoints: number, extra: Partial<ConnectorDefinition> = {}): ConnectorDefinition => ({
    id, kind: 'sandbox', enabled: true, methods: ['card'], currencies: ['*'], regions: ['*'], fee: { basisPoints, fixedMinor: 30 }, ...extra,
  });
  const a = connector('a', 290);
  const b = connector('b', 250);
  const c = connector('c', 270);
  const ctx: RoutingContext = { amountMinor: 10_000, currency: 'USD', method: 'card', network: 'visa', country: 'US', time: Date.UTC(2026, 0, 1, 12) };
  const seq = (...values: number[]) => {
    let i = 0;
    return () => values[i++ % values.length];
  };

  it('starts a connector without outcomes from the pooled arm: expectedSuccess null with 0 observations, its score from every connector\'s data', () => {
    const state = trained(200, { a: 0.9, b: 0.7 });
    expect(state.pooled?.n).toBe(400);
    const fresh = connector('fresh', 290);
    const withPrior = new BanditPolicy(state).rank(ctx, [a, fresh], () => 0.99);
    const noPrior = new BanditPolicy(state, { ...DEFAULT_BANDIT, pooledPrior: false }).rank(ctx, [a, fresh], () => 0.99);
    const of = (choice: typeof withPrior, id: string) => choice.ranked.find((r) => r.connectorId === id)!;
    expect(of(withPrior, 'fresh')).toMatchObject({ expectedSuccess: null, observations: 0 });
    expect(of(withPrior, 'a')).toMatchObject({ observations: 200 });
    expect(of(withPrior, 'a').expectedSuccess).toBeCloseTo(0.9, 1);
    // Its score: the pooled estimate (about 0.8 here) plus the same width, not the bare width of a zero prior.
    expect(of(withPrior, 'fresh').score - of(noPrior, 'fresh').score).toBeGreaterThan(0.5);
  });

  it('learns how a connector authorises from processed attempts only: errors and timeouts move the breaker, never the arm', () => {
    const x = Array.from(routingFeatures(ctx, VOCABULARY));
    const declined = learn(emptyBanditState(VOCABULARY), { connectorId: 'a', outcome: 'declined', features: x, time: ctx.time });
    expect(declined.arms.a?.n).toBe(1);
    let state = declined;
    for (const outcome of ['error', 'timeout', 'error'] as const) state = learn(state, { connectorId: 'a', outcome, features: x, time: ctx.time + 1 });
    expect(state.arms.a).toBe(declined.arms.a);
    expect(statusAt(state.health.a, ctx.time + 1)).toBe('demoted');
  });

  function trained(rounds: number, successOf: Record<string, number>): BanditState {
    let state = emptyBanditState(VOCABULARY);
    const x = Array.from(routingFeatures(ctx, VOCABULARY));
    for (let i = 0; i < rounds; i += 1) {
      for (const id of Object.keys(successOf)) {
        // Exactly the given share of successes, spread evenly.
        const ok = Math.floor((i + 1) * successOf[id]) > Math.floor(i * successOf[id]);
        state = learn(state, { connectorId: id, outcome: ok ? 'succeeded' : 'declined', features: x, time: ctx.time });
      }
    }
    return state;
  }

  it('learns which connector succeeds for the context and ranks it first', () => {
    const policy = new BanditPolicy(trained(300, { a: 0.95, b: 0.7, c: 0.8 }));
    const choice = policy.rank(ctx, [a, b, c], seq(0)); // the inverse-CDF draw walks by score: 0 takes the best
    expect(choice.ranked.map((r) => r.connectorId)).toEqual(['a', 'c', 'b']);
    expect(choice.ranked[0].expectedSuccess).toBeGreaterThan(0.9);
    expect(choice.ranked[0].expectedSuccess).toBeLessThan(1);
  });

  it('weighs fees: with equal success the cheaper connector wins, and λ scales it', () => {
    const policy = new BanditPolicy(trained(300, { a: 0.9, b: 0.9, c: 0.9 }));
    expect(policy.rank(ctx, [a, b, c], seq(0)).ranked[0].connectorId).toBe('b');
    const expensive = connector('x', 2_000); // 20%: worth it only when fees do not count
    const withX = new BanditPolicy(trained(300, { a: 0.9, b: 0.9, c: 0.9, x: 0.95 }));
    expect(withX.rank(ctx, [a, b, c, expensive], seq(0)).ranked[0].connectorId).toBe('b');
    expect(withX.rank(ctx, [a, b, c, expensive], seq(0), 0).ranked[0].connectorId).toBe('x');
  });

  it('gives exact propensities that sum to 1, and explores with probability ε', () => {
    const policy = new BanditPolicy(trained(300, { a: 0.95, b: 0.7, c: 0.8 }));
    const choice = policy.rank(ctx, [a, b, c], seq(0));
    const eps = DEFAULT_BANDIT.epsilon;
    const p = Object.fromEntries(choice.ranked.map((r) => [r.connectorId, r.propensity]));
    expect(p.a).toBeCloseTo(1 - eps + eps / 3, 12);
    expect(p.b).toBeCloseTo(eps / 3, 12);
    expect(choice.propensity).toBe(p.a);
    expect(choice.ranked.reduce((s, r) => s + r.propensity, 0)).toBeCloseTo(1, 12);
    // A draw in the tail of the distribution (by score: a, c, b) picks the last, with its own propensity.
    const explored = policy.rank(ctx, [a, b, c], seq(1 - eps / 6));
    expect(explored.ranked.map((r) => r.connectorId)).toEqual(['b', 'a', 'c']);
    expect(explored.propensity).toBeCloseTo(eps / 3, 12);
  });

  it('never chooses a demoted connector first, keeps it as the last fallback, and probes it after the cool-down', () => {
    let state = trained(300, { a: 0.95, b: 0.7, c: 0.8 });
    const x = Array.from(routingFeatures(ctx, VOCABULARY));
    for (let i = 0; i < 3; i += 1) state = learn(state, { connectorId: 'a', outcome: 'error', features: x, time: ctx.time });
    const policy = new BanditPolicy(state);
    for (const u of [0, 0.3, 0.6, 0.99]) {
      const choice = policy.rank(ctx, [a, b, c], seq(u));
      expect(choice.ranked[0].connectorId).not.toBe('a');
      expect(choice.ranked.at(-1)).toMatchObject({ connectorId: 'a', status: 'demoted', propensity: 0 });
    }
    const later = { ...ctx, time: ctx.time + DEFAULT_HEALTH.coolDownMs };
    const probe = policy.rank(later, [a, b, c], seq(0));
    expect(probe.ranked[0]).toMatchObject({ connectorId: 'a', status: 'probing' });
    expect(probe.propensity).toBeCloseTo(DEFAULT_HEALTH.probeShare, 12);
  });

  it('learns in its segment cells what the linear arm cannot represent: a connector better for large payments in one region and worse in another', () => {
    const eu = (amountMinor: number): RoutingContext => ({ ...ctx, country: 'DE', currency: 'EUR', amountMinor });
    const us = (amountMinor: number): RoutingContext => ({ ...ctx, amountMinor });
    // Truth: small payments 85% on both; large ones: a 97% in DE and 70% in the US, b 85% everywhere.
    const truth = (id: string, c: RoutingContext) => (c.amountMinor < 50_000 || id === 'b' ? 0.85 : c.country === 'DE' ? 0.97 : 0.7);
    const train = (options: typeof DEFAULT_BANDIT) => {
      let state = emptyBanditState(VOCABULARY);
      const seen = new Map<string, number>();
      for (let i = 0; i < 4_000; i += 1) {
        const c = [eu(2_000), eu(90_000), us(2_000), us(90_000)][i % 4]!;
        for (const id of ['a', 'b']) {
          // Exactly the true share of successes per connector and context, spread evenly.
          const key = `${id}${i % 4}`;
          const k = seen.get(key) ?? 0;
          seen.set(key, k + 1);
          const ok = Math.floor((k + 1) * truth(id, c)) > Math.floor(k * truth(id, c));
          state = learn(state, { connectorId: id, outcome: ok ? 'succeeded' : 'declined', features: routingFeatures(c, VOCABULARY), cell: segmentCell(c), time: ctx.time }, options);
        }
      }
      return new BanditPolicy(state, options);
    };
    const same = connector('b', 290); // the same fee as a: only success decides
    const withCells = train(DEFAULT_BANDIT);
    const linear = train({ ...DEFAULT_BANDIT, cells: false });
    const expected = (policy: BanditPolicy, c: RoutingContext) => Object.fromEntries(policy.rank(c, [a, same], () => 0.5).ranked.map((r) => [r.connectorId, r.expectedSuccess!]));
    // The linear arm spreads a's large-payment effect over both regions; the cells put it where it is.
    const error = (policy: BanditPolicy) => Math.abs(expected(policy, eu(90_000)).a - 0.97) + Math.abs(expected(policy, us(90_000)).a - 0.7);
    expect(error(withCells)).toBeLessThan(0.5 * error(linear));
    expect(expected(withCells, eu(90_000)).a).toBeGreaterThan(expected(withCells, eu(90_000)).b);
    expect(expected(withCells, us(90_000)).a).toBeLessThan(expected(withCells, us(90_000)).b);
    expect(Object.keys(withCells.state.cells!.a!).sort()).toEqual([eu(2_000), eu(90_000), us(2_000), us(90_000)].map(segmentCell).sort());
  });

  it('keys a segment cell by region, currency, method, network, amount band and risk band', () => {
    expect(segmentCell(ctx)).toBe('NA|USD|card|visa|2|0'); // 100.00 USD: the 100–500 band, no fraud score
    expect(segmentCell({ ...ctx, amountMinor: 1_999, fraudScore: 0.2 })).toBe('NA|USD|card|visa|0|1');
    expect(segmentCell({ ...ctx, amountMinor: 50_000, fraudScore: 0.5, country: 'za', network: undefined })).toBe('ZA|USD|card|other|3|2');
    // Bands in the currency's major units: 9,000 yen is in the top band of the JPY cells.
    expect(segmentCell({ ...ctx, currency: 'JPY', country: 'JP', amountMinor: 9_000, method: 'wallet' })).toBe('APAC|JPY|wallet||3|0');
    expect(segmentCell({ ...ctx, country: undefined })).toBe('-|USD|card|visa|2|0');
  });

  it('reuses the scorers of unchanged arms and refuses a state of another dimension', () => {
    const state = trained(10, { a: 0.9, b: 0.8 });
    const first = new BanditPolicy(state);
    first.rank(ctx, [a, b], seq(0.5));
    const next = learn(state, { connectorId: 'b', outcome: 'succeeded', features: Array.from(routingFeatures(ctx, VOCABULARY)), time: ctx.time });
    expect(next.arms.a).toBe(state.arms.a);
    expect(next.arms.b).not.toBe(state.arms.b);
    expect(new BanditPolicy(next, DEFAULT_BANDIT, first).rank(ctx, [a, b], seq(0.5)).ranked).toHaveLength(2);
    expect(() => new BanditPolicy({ ...state, dimension: 3 })).toThrow(/dimension 3/);
    expect(() => learn(state, { connectorId: 'a', outcome: 'succeeded', features: [1, 2], time: 0 })).toThrow(/dimension 2/);
  });
});
