import {
  attemptOutcome,
  banditSimPolicy,
  defaultScenario,
  eligibleConnectors,
  expectedNet,
  generateTraffic,
  isSimEligible,
  oraclePolicy,
  policyRandom,
  simulate,
  standardPolicies,
  trueRates,
  type PaymentRecord,
  type SimConnector,
  type SimPayment,
  type SimPolicy,
} from '../../ml/routing/simulator';
import { worldBAuth, worldBScenario } from '../../ml/routing/world-b';
import { vocabularyOf } from '../../lambdas/routing/context';

const scenario = defaultScenario({ payments: 3_000 });
const traffic = generateTraffic(scenario);
/** A shorter run where every policy runs several times. */
const small = defaultScenario({ payments: 1_000 });

/** Wraps a policy and records what it was offered. */
function spy(policy: SimPolicy, offered: { payment: SimPayment; ids: string[] }[]): SimPolicy {
  return {
    name: policy.name,
    rank(payment, eligible) {
      offered.push({ payment, ids: eligible.map((c) => c.id) });
      return policy.rank(payment, eligible);
    },
    observe: (report) => policy.observe(report),
  };
}

/** The catalogue's rules written out by hand, independently of isSimEligible. */
function allowedByHand(id: string, p: SimPayment): boolean {
  const { method, currency, country } = p.context;
  switch (id) {
    case 'solana-pay':
      return method === 'solana_pay' && currency === 'USD';
    case 'stripe-us':
      return method !== 'solana_pay';
    case 'stripe-eu':
      return method !== 'solana_pay' && ['EUR', 'GBP', 'USD'].includes(currency);
    case 'amazon-pay':
      return method !== 'solana_pay' && ['USD', 'EUR', 'GBP', 'JPY'].includes(currency) && ['US', 'GB', 'DE', 'FR', 'IT', 'ES', 'JP'].includes(country!);
    case 'sandbox-a':
      return method === 'card';
    case 'sandbox-b':
      return method === 'card' && ['USD', 'BRL', 'MXN', 'EUR'].includes(currency);
    default:
      return false;
  }
}

function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]));
}

describe('routing simulator', () => {
  it('is deterministic for a seed, and the seed matters', () => {
    const run = (seed: number) => {
      const s = { ...small, seed };
      const t = generateTraffic(s);
      return { traffic: t, results: standardPolicies(s).map((p) => simulate(s, t, p)) };
    };
    const a = run(7);
    const b = run(7);
    expect(b.traffic).toEqual(a.traffic);
    expect(b.results).toEqual(a.results);
    const other = { ...small, seed: 8 };
    const otherTraffic = generateTraffic(other);
    expect(otherTraffic).not.toEqual(a.traffic);
    expect(simulate(other, otherTraffic, standardPolicies(other)[0]).netRevenueUsdMinor).not.toBe(a.results[0].netRevenueUsdMinor);
  });

  it('offers every policy exactly the eligible connectors, solana_pay only to solana-pay', () => {
    const smallTraffic = generateTraffic(small);
    expect(new Set(smallTraffic.map((p) => p.context.method))).toEqual(new Set(['card', 'wallet', 'solana_pay']));
    for (const policy of standardPolicies(small)) {
      const offered: { payment: SimPayment; ids: string[] }[] = [];
      const records: PaymentRecord[] = [];
      simulate(small, smallTraffic, spy(policy, offered), { onPayment: (r) => records.push(r) });
      expect(offered).toHaveLength(smallTraffic.length);
      const wrong: string[] = [];
      for (const { payment, ids } of offered) {
        const byHand = small.connectors.filter((c) => allowedByHand(c.id, payment)).map((c) => c.id);
        const solanaOk = payment.context.method === 'solana_pay' ? ids.join() === 'solana-pay' : !ids.includes('solana-pay');
        if (ids.join() !== byHand.join() || !solanaOk) wrong.push(`${policy.name} #${payment.index} ${payment.context.method}: [${ids}] vs [${byHand}]`);
      }
      for (const r of records) {
        for (const a of r.attempts) if (!r.eligible.includes(a.connectorId)) wrong.push(`${policy.name} #${r.payment.index} tried ${a.connectorId}`);
      }
      expect(wrong).toEqual([]);
    }
  });

  it('refuses a policy that routes to a connector it was not offered', () => {
    const rogue: SimPolicy = { name: 'rogue', rank: () => ({ order: ['solana-pay'], propensity: 1 }), observe: () => {} };
    const cardFirst = traffic.findIndex((p) => p.context.method === 'card');
    expect(() => simulate(scenario, traffic.slice(cardFirst, cardFirst + 1), rogue)).toThrow(/rogue returned \[solana-pay\]/);
  });

  it('runs the payment flow: at most 3 attempts, fall back only after an error or timeout, fees on success only', () => {
    const records: PaymentRecord[] = [];
    const [, roundRobin] = standardPolicies(scenario);
    const result = simulate(scenario, traffic, roundRobin, { onPayment: (r) => records.push(r) });
    let fallbacks = 0;
    const wrong: number[] = [];
    for (const r of records) {
      const last = r.attempts[r.attempts.length - 1];
      const ok =
        r.attempts.length >= 1 &&
        r.attempts.length <= scenario.maxAttempts &&
        r.attempts.slice(0, -1).every((a) => a.outcome === 'error' || a.outcome === 'timeout') &&
        r.succeeded === (last.outcome === 'succeeded') &&
        r.feeMinor > 0 === r.succeeded &&
        Number.isInteger(r.feeMinor) &&
        r.netMinor === (r.succeeded ? r.payment.context.amountMinor - r.feeMinor : 0);
      if (!ok) wrong.push(r.payment.index);
      if (r.attempts.length > 1) fallbacks += 1;
    }
    expect(wrong).toEqual([]);
    expect(fallbacks).toBeGreaterThan(0);
    expect(Number.isInteger(result.netRevenueUsdMinor)).toBe(true);
    expect(result.succeeded).toBe(records.filter((r) => r.succeeded).length);
  });

  it("gives the oracle the best expected net revenue: per payment over every order, and summed over every policy's run", () => {
    const oracle = oraclePolicy(scenario);
    const beaten: string[] = [];
    for (const payment of traffic.filter((_, i) => i % 10 === 0)) {
      const eligible = eligibleConnectors(scenario.connectors, payment.context);
      const byId = new Map(eligible.map((c) => [c.id, c]));
      const best = expectedNet(scenario, payment, oracle.rank(payment, eligible).order.map((id) => byId.get(id)!));
      for (const order of permutations<SimConnector>(eligible)) {
        if (expectedNet(scenario, payment, order) > best + 1e-9) beaten.push(`#${payment.index} by [${order.map((c) => c.id)}]`);
      }
    }
    expect(beaten).toEqual([]);
    const results = standardPolicies(small).map((p) => simulate(small, generateTraffic(small), p));
    const oracleResult = results.find((r) => r.name.startsWith('oracle'))!;
    for (const r of results) expect(r.expectedNetUsdMinor).toBeLessThanOrEqual(oracleResult.expectedNetUsdMinor + 1e-6);
    // The comparison has teeth: the cheapest-first policy is clearly worse in expectation.
    expect(results[0].expectedNetUsdMinor).toBeLessThan(oracleResult.expectedNetUsdMinor * 0.99);
  });

  it('makes the outage connector fail during the outage window, and only then', () => {
    const outage = scenario.outage!;
    const connector = scenario.connectors.find((c) => c.id === outage.connectorId)!;
    const tally = { inside: { attempts: 0, failed: 0 }, outside: { attempts: 0, failed: 0 } };
    const wrongRates: number[] = [];
    for (const p of traffic) {
      if (!isSimEligible(connector, p.context)) continue;
      const during = p.context.time >= outage.from && p.context.time < outage.to;
      const rates = trueRates(scenario, connector.id, p);
      if (Math.abs(rates.error + rates.timeout - (during ? outage.errorRate + outage.timeoutRate : 0.004)) > 1e-9) wrongRates.push(p.index);
      const { outcome } = attemptOutcome(scenario, p, connector.id);
      const t = during ? tally.inside : tally.outside;
      t.attempts += 1;
      if (outcome === 'error' || outcome === 'timeout') t.failed += 1;
    }
    expect(wrongRates).toEqual([]);
    expect(tally.inside.attempts).toBeGreaterThan(50);
    expect(tally.inside.failed / tally.inside.attempts).toBeGreaterThan(0.8);
    expect(tally.outside.failed / tally.outside.attempts).toBeLessThan(0.02);
    // A policy that always tries it first shows the outage in its first attempts.
    const loyal: SimPolicy = {
      name: 'loyal',
      rank: (_p, eligible) => ({ order: [...eligible].sort((a, b) => Number(b.id === connector.id) - Number(a.id === connector.id)).map((c) => c.id), propensity: 1 }),
      observe: () => {},
    };
    const result = simulate(scenario, traffic, loyal);
    expect(result.outage.firstOnConnector).toBe(tally.inside.attempts);
    expect(result.outage.failedFirstOnConnector).toBe(tally.inside.failed);
  });

  it("delivers each outcome to a policy's breaker after healthDelayMs and to its learning after feedbackDelayMs", () => {
    const quick = defaultScenario({ payments: 2_000, feedbackDelayMs: 600_000, healthDelayMs: 60_000 });
    const late: string[] = [];
    const pending: { channel: 'learning' | 'fast'; time: number }[] = [];
    let lastPaymentTime = -Infinity;
    const counts = { learning: 0, fast: 0 };
    const watcher: SimPolicy = {
      name: 'watcher',
      rank(payment, eligible) {
        for (const r of pending.splice(0)) {
          const delay = r.channel === 'fast' ? quick.healthDelayMs : quick.feedbackDelayMs;
          // Delivered before the first payment at or after time + delay, and not before.
          if (payment.context.time < r.time + delay || lastPaymentTime >= r.time + delay) late.push(`${r.channel} ${r.time}`);
        }
        lastPaymentTime = payment.context.time;
        return { order: eligible.map((c) => c.id), propensity: 1 };
      },
      observe: (r) => {
        counts.learning += 1;
        pending.push({ channel: 'learning', time: r.time });
      },
      observeFast: (r) => {
        counts.fast += 1;
        pending.push({ channel: 'fast', time: r.time });
      },
    };
    const attemptTimes: number[] = [];
    simulate(quick, generateTraffic(quick), watcher, { onPayment: (r) => attemptTimes.push(...r.attempts.map((x) => x.time)) });
    expect(late).toEqual([]);
    // Every attempt reaches each channel once its delay is over by the last payment, and no other.
    const due = (delay: number) => attemptTimes.filter((t) => t + delay <= lastPaymentTime).length;
    expect(counts).toEqual({ learning: due(quick.feedbackDelayMs), fast: due(quick.healthDelayMs) });
    expect(counts.learning).toBeGreaterThan(1_900);
    expect(counts.fast).toBeGreaterThan(counts.learning);
  });

  it('ours stops choosing the outage connector after a handful of failed first attempts; its recovery trials are counted apart', () => {
    // Enough traffic for the outage to matter: about 800 payments in its 3 hours.
    const busy = defaultScenario({ payments: 20_000 });
    const busyTraffic = generateTraffic(busy);
    const result = simulate(busy, busyTraffic, banditSimPolicy(policyRandom(busy, 2), vocabularyOf(busy.connectors)));
    const detection = result.outage.failedFirstOnConnector - result.outage.failedProbes;
    expect(detection).toBeGreaterThanOrEqual(1);
    expect(detection).toBeLessThanOrEqual(5);
    // A breaker whose outcomes arrive an hour late (both channels) pays several times more.
    const blind = simulate({ ...busy, healthDelayMs: 3_600_000, feedbackDelayMs: 3_600_000 }, busyTraffic, banditSimPolicy(policyRandom(busy, 2), vocabularyOf(busy.connectors)));
    expect(blind.outage.failedFirstOnConnector - blind.outage.failedProbes).toBeGreaterThan(3 * detection);
  }, 30_000);
});

describe('world B', () => {
  const world = worldBScenario({ payments: 4_000, seed: 3 });
  const paymentsB = generateTraffic(world);
  const at = (p: SimPayment, changes: Partial<SimPayment['context']>, usdMinor = p.usdMinor): SimPayment => ({ ...p, usdMinor, context: { ...p.context, ...changes } });

  it('is its own world: its catalogue, its traffic, and a connector offered only once it has joined', () => {
    expect(world.world).toBe('B');
    expect(new Set(paymentsB.map((p) => p.region)).size).toBe(5);
    const offered: { payment: SimPayment; ids: string[] }[] = [];
    simulate(world, paymentsB, spy(oraclePolicy(world), offered));
    expect(offered).toHaveLength(paymentsB.length);
    const joins = world.availableFrom!.newcomer!;
    expect(offered.some((o) => o.ids.includes('newcomer'))).toBe(true);
    expect(offered.filter((o) => o.ids.includes('newcomer')).every((o) => o.payment.context.time >= joins)).toBe(true);
  });

  it('has the interactions a linear model per connector cannot represent', () => {
    const card = paymentsB.find((p) => p.region === 'LATAM' && p.context.method === 'card')!;
    const plain = at(card, { fraudScore: 0, network: 'visa' }, 5_000);
    // Amount band × connector: latam-acq gains above USD 100 and loses below USD 20, where global-1 does not jump.
    const large = at(plain, {}, 20_000);
    const small = at(plain, {}, 1_000);
    const jump = (id: string) => worldBAuth(id, large, 0) - worldBAuth(id, small, 0);
    expect(jump('latam-acq')).toBeGreaterThan(0.1);
    expect(jump('global-1')).toBeLessThan(0);
    // Risk band × connector: a risky payment costs risk-shield little, global-1 much.
    const risky = at(plain, { fraudScore: 0.6 });
    const drop = (id: string) => worldBAuth(id, plain, 0) - worldBAuth(id, risky, 0);
    expect(drop('global-1')).toBeGreaterThan(3 * drop('risk-shield'));
    // Region × network: Amex is global-1's best in North America and its worst elsewhere.
    const na = at(plain, { network: 'amex', country: 'US' });
    const amexNA = worldBAuth('global-1', { ...na, region: 'NA' }, 0) - worldBAuth('global-1', { ...at(na, { network: 'visa' }), region: 'NA' }, 0);
    const amexEU = worldBAuth('global-1', { ...na, region: 'EU' }, 0) - worldBAuth('global-1', { ...at(na, { network: 'visa' }), region: 'EU' }, 0);
    expect(amexNA).toBeGreaterThan(0);
    expect(amexEU).toBeLessThan(0);
  });

  it('reports the recovery after its outage: the oracle at once, a policy that never returns to the connector never', () => {
    const busy = worldBScenario({ payments: 20_000, seed: 3 });
    const busyTraffic = generateTraffic(busy);
    const oracle = simulate(busy, busyTraffic, oraclePolicy(busy));
    expect(oracle.recovery).toEqual({ segment: 20, recoveredAfter: 20 });
    const shunning: SimPolicy = { name: 'never bulk-rate first', rank: (_p, eligible) => ({ order: [...eligible].sort((a, b) => Number(a.id === 'bulk-rate') - Number(b.id === 'bulk-rate')).map((c) => c.id), propensity: 1 }), observe() {} };
    const never = simulate(busy, busyTraffic, shunning);
    expect(never.recovery?.recoveredAfter).toBeNull();
    expect(never.recovery?.segment).toBeGreaterThan(100);
  });
});
