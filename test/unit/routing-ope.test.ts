import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_BANDIT, emptyBanditState } from '../../lambdas/routing/bandit';
import { routingDimension, routingFeatures, STORED_BEFORE_VOCABULARY, type RoutingContext } from '../../lambdas/routing/context';
import { emptyArm, updateArm } from '../../lambdas/routing/linucb';
import { simRegistry, simulateLog, toJsonLines, trueValue, type SimulatedLog } from '../../ml/routing/log';
import {
  banditCandidate,
  cheapestCandidate,
  evaluate,
  loggedCandidate,
  main,
  parseBanditState,
  parseLog,
  parseRegistry,
  ridgeArm,
  uniformCandidate,
  warningsOf,
  type LoggedDecision,
  type OpeResult,
} from '../../ml/routing/ope';
import { defaultScenario, eligibleConnectors, expectedOutcome, type SimConnector } from '../../ml/routing/simulator';

// ---------------------------------------------------------------------------------------------------------
// A tiny log, computed by hand

const T0 = Date.UTC(2026, 10, 2, 12);
const context = (amountMinor = 1000): RoutingContext => ({ amountMinor, currency: 'USD', method: 'card', network: 'visa', country: 'US', merchantCategory: 'retail', fraudScore: 0, time: T0 });
/** cheap: 1%, dear: 3%, free: 0% (no fixed fees): on 10.00 USD, fees 10, 30 and 0 minor units. */
const registry = parseRegistry(
  [
    { id: 'cheap', kind: 'sandbox', fee: { basisPoints: 100, fixedMinor: 0 } },
    { id: 'dear', kind: 'sandbox', fee: { basisPoints: 300, fixedMinor: 0 } },
    { id: 'free', kind: 'sandbox', fee: { basisPoints: 0, fixedMinor: 0 } },
  ],
  'test registry',
);

function decision(id: string, mu: Record<string, number>, chosen: string, outcome: LoggedDecision['outcome'], extra: Partial<LoggedDecision> = {}): LoggedDecision {
  const fee = { cheap: 10, dear: 30, free: 0 }[chosen];
  return {
    decisionId: id,
    context: context(),
    eligible: Object.keys(mu),
    ranked: Object.entries(mu).map(([connectorId, propensity]) => ({ connectorId, propensity })),
    chosen,
    propensity: mu[chosen],
    outcome,
    ...(outcome === 'succeeded' ? { feeMinor: fee } : {}),
    ...extra,
  };
}

/**
 * Under `cheapest` (always cheap) the weights are π/μ of the logged choice: 1/0.5 = 2, 0 (dear was chosen),
 * 1/0.25 = 4, 1/0.8 = 1.25; the rewards (success) 1, 1, 0, 1.
 */
const tiny: LoggedDecision[] = [
  decision('d1', { cheap: 0.5, dear: 0.5 }, 'cheap', 'succeeded'),
  decision('d2', { cheap: 0.25, dear: 0.75 }, 'dear', 'succeeded'),
  decision('d3', { cheap: 0.25, dear: 0.75 }, 'cheap', 'declined'),
  decision('d4', { cheap: 0.8, dear: 0.2 }, 'cheap', 'succeeded'),
];

describe('OPE by hand', () => {
  it('IPS, SNIPS, their standard errors and the effective sample size of cheapest', () => {
    const r = evaluate(tiny, cheapestCandidate(registry), { reward: 'success', registry });
    // IPS = (2·1 + 0·1 + 4·0 + 1.25·1) / 4 = 3.25 / 4.
    expect(r.ips.value).toBeCloseTo(0.8125, 12);
    // Terms 2, 0, 0, 1.25 around 0.8125: Σ squared deviations = 1.1875² + 0.8125² + 0.8125² + 0.4375² = 2.921875.
    expect(r.ips.se).toBeCloseTo(Math.sqrt(2.921875 / 3 / 4), 12);
    expect(r.ips.low).toBeCloseTo(0.8125 - 1.959963984540054 * r.ips.se, 12);
    // SNIPS = 3.25 / (2 + 0 + 4 + 1.25).
    expect(r.snips!.value).toBeCloseTo(3.25 / 7.25, 12);
    // ESS = (Σw)² / Σw² = 7.25² / (4 + 16 + 1.5625).
    expect(r.effectiveSampleSize).toBeCloseTo(52.5625 / 21.5625, 12);
    expect(r.maxWeight).toBe(4);
    expect(r.matched).toBe(3);
    expect(r.loggedMean).toBe(0.75);
    expect(r.unsupported.decisions).toBe(0);
  });

  it('net reward: success × (1 − fee/amount) from the logged fee', () => {
    const r = evaluate(tiny, cheapestCandidate(registry), { reward: 'net', registry });
    // The rewards become 0.99, 0.97, 0, 0.99.
    expect(r.ips.value).toBeCloseTo((2 * 0.99 + 1.25 * 0.99) / 4, 12);
    expect(r.loggedMean).toBeCloseTo((0.99 + 0.97 + 0.99) / 4, 12);
  });

  it('uniform: weights 0.5/μ', () => {
    const r = evaluate(tiny, uniformCandidate(), { reward: 'success', registry });
    // Weights 1, 2/3, 2, 0.625; rewards 1, 1, 0, 1.
    expect(r.ips.value).toBeCloseTo((1 + 2 / 3 + 0.625) / 4, 12);
    expect(r.snips!.value).toBeCloseTo((1 + 2 / 3 + 0.625) / (1 + 2 / 3 + 2 + 0.625), 12);
  });

  it('logged: every weight is 1, so IPS is the logged mean exactly', () => {
    const r = evaluate(tiny, loggedCandidate(), { reward: 'success' });
    expect(r.ips.value).toBe(r.loggedMean);
    expect(r.effectiveSampleSize).toBeCloseTo(4, 12);
  });

  it('a candidate that never agrees with the log: IPS 0, SNIPS undefined', () => {
    const never = { name: 'dear', distribution: (d: LoggedDecision) => new Map([[d.chosen === 'dear' ? 'cheap' : 'dear', 1]]) };
    const r = evaluate(tiny, never, { reward: 'success' });
    expect(r.ips.value).toBe(0);
    expect(r.snips).toBeUndefined();
    expect(r.effectiveSampleSize).toBe(0);
  });

  it('counts unsupported actions: mass on connectors the logger gave propensity 0 (listed or not)', () => {
    const log = [
      ...tiny,
      // free is eligible and cheapest, but the logger could not choose it: listed with 0, or left out of ranked.
      decision('d5', { cheap: 0.5, dear: 0.5, free: 0 }, 'dear', 'succeeded'),
      { ...decision('d6', { cheap: 0.5, dear: 0.5 }, 'cheap', 'declined'), eligible: ['cheap', 'dear', 'free'] },
    ];
    const cheapest = evaluate(log, cheapestCandidate(registry), { reward: 'success', registry });
    expect(cheapest.unsupported.decisions).toBe(2);
    expect(cheapest.unsupported.meanMass).toBeCloseTo(2 / 6, 12);
    const uniform = evaluate(log, uniformCandidate(), { reward: 'success', registry });
    expect(uniform.unsupported.decisions).toBe(2);
    expect(uniform.unsupported.meanMass).toBeCloseTo(2 / 3 / 6, 12);
    expect(warningsOf(uniform).join('\n')).toMatch(/in 2 decision\(s\) .*propensity 0/);
    expect(evaluate(log, loggedCandidate(), { reward: 'success' }).unsupported.decisions).toBe(0);
    expect(evaluate(tiny, uniformCandidate(), { reward: 'success' }).unsupported.decisions).toBe(0);
  });

  it('the ridge fit equals folding the rows into a LinUCB arm with discount 1', () => {
    const rows = tiny.map((d, i) => ({ x: routingFeatures({ ...d.context, amountMinor: 1000 + 700 * i, time: T0 + i * 3_600_000 }, STORED_BEFORE_VOCABULARY), y: i % 2 }));
    const d = routingDimension(STORED_BEFORE_VOCABULARY);
    let arm = emptyArm(d, 1);
    for (const r of rows) arm = updateArm(arm, r.x, r.y, { alpha: 0, ridge: 1, discount: 1 });
    const fast = ridgeArm(rows, d, 1);
    fast.a.forEach((v, i) => expect(v).toBeCloseTo(arm.a[i], 12));
    fast.b.forEach((v, i) => expect(v).toBeCloseTo(arm.b[i], 12));
  });

  it('a bandit state: its propensities, whatever the random source', () => {
    const candidate = banditCandidate(emptyBanditState(STORED_BEFORE_VOCABULARY), registry, { ...DEFAULT_BANDIT, epsilon: 0.3 });
    const p = candidate.distribution(decision('x', { cheap: 0.5, dear: 0.5, free: 0 }, 'cheap', 'declined'));
    // An empty state scores by fee alone: free first with 1 − ε + ε/3, the others ε/3.
    expect(p.get('free')).toBeCloseTo(0.8, 12);
    expect(p.get('cheap')).toBeCloseTo(0.1, 12);
    expect(p.get('dear')).toBeCloseTo(0.1, 12);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Bad logs

describe('the log parser', () => {
  const good = JSON.stringify(tiny[0]);
  const line = (patch: (d: Record<string, unknown>) => void) => {
    const d = JSON.parse(good) as Record<string, unknown>;
    patch(d);
    return JSON.stringify(d);
  };

  it.each([
    ['not JSON', '{"decisionId": "x",', /^line 2: \(line\): not JSON/],
    ['a missing field', line((d) => delete (d.context as Record<string, unknown>).amountMinor), /^line 2: context\.amountMinor: is required \(a number\)/],
    ['a bad method', line((d) => ((d.context as Record<string, unknown>).method = 'cash')), /^line 2: context\.method: /],
    ['an unknown currency', line((d) => ((d.context as Record<string, unknown>).currency = 'XXX')), /^line 2: context\.currency: not a supported/],
    ['a zero propensity', line((d) => (d.propensity = 0)), /^line 2: propensity: must be > 0/],
    ['a propensity that is not the chosen one\'s', line((d) => (d.propensity = 0.4)), /^line 2: propensity: 0\.4, but ranked gives cheap 0\.5/],
    ['propensities that do not sum to 1', line((d) => (d.ranked = [{ connectorId: 'cheap', propensity: 0.5 }])), /^line 2: ranked: the propensities sum to 0\.5/],
    ['a chosen connector that was not eligible', line((d) => (d.chosen = 'free')), /^line 2: chosen: free is not in eligible/],
    ['a ranked connector that was not eligible', line((d) => (d.eligible = ['cheap'])), /^line 2: ranked\.1\.connectorId: dear is not in eligible/],
    ['an unknown outcome', line((d) => (d.outcome = 'maybe')), /^line 2: outcome: /],
  ])('names the line and the field: %s', (_name, bad, message) => {
    const other = JSON.stringify({ ...tiny[1] });
    expect(() => parseLog(`${good}\n${bad}\n${other}\n`)).toThrow(message);
  });

  it('counts blank lines in the line numbers and rejects a repeated decision id', () => {
    expect(() => parseLog(`${good}\n\n${good}\n`)).toThrow(/^line 3: decisionId: d1 was already logged on line 1/);
  });

  it('net reward needs the fee of a succeeded first attempt', () => {
    const noFee = line((d) => delete d.feeMinor);
    expect(() => parseLog(`${noFee}\n`, 'success')).not.toThrow();
    expect(() => parseLog(`${JSON.stringify(tiny[2])}\n${noFee}\n`, 'net')).toThrow(/^line 2: feeMinor: missing/);
  });

  it('reads what it writes, with DecisionRecord\'s other fields ignored', () => {
    const text = toJsonLines(tiny.map((d) => ({ ...d, merchantId: 'm', policyVersion: '3', features: [1] }) as LoggedDecision));
    expect(parseLog(text)).toEqual(tiny);
  });

  it('the command fails with the file, the line and the field', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ope-'));
    const file = join(dir, 'log.jsonl');
    writeFileSync(file, `${good}\n${line((d) => ((d.context as Record<string, unknown>).amountMinor = -5))}\n`);
    expect(() => main(['--log', file, '--policy', 'uniform'])).toThrow(`${file}: line 2: context.amountMinor: `);
    expect(() => main(['--log', join(dir, 'missing.jsonl'), '--policy', 'uniform'])).toThrow(/cannot read --log/);
    expect(() => main(['--log', file, '--policy', 'cheapest'])).toThrow(/--policy cheapest needs the connectors' fees/);
    expect(() => main(['--log', file, '--policy', 'best'])).toThrow(/--policy "best": use cheapest, uniform, logged or bandit/);
    // And the process exits non-zero with the message on stderr.
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'ml/routing/ope.ts', '--log', file, '--policy', 'uniform'], { encoding: 'utf8', cwd: join(__dirname, '../..') });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`ope: ${file}: line 2: context.amountMinor: `);
  });
});

// ---------------------------------------------------------------------------------------------------------
// On the simulator, where the true value is known

/**
 * 4,000 payments of the benchmark's world (drift and the stripe-eu outage included). The seeds are fixed: a
 * 95% interval misses about one time in twenty by design. Over seeds 1–12, every interval below held on 11
 * seeds with uniform logging (all but 12) and on 11 with bandit logging (all but 2; on 7 before the arms stopped
 * learning errors and timeouts, which the breaker alone counts); docs/routing-ope.md has the coverage over more
 * seeds, measured before that change.
 */
const PAYMENTS = 4_000;
const LOGS: readonly { readonly name: string; readonly seed: number; readonly logger: 'uniform' | 'bandit' }[] = [
  { name: 'uniform logging', seed: 2, logger: 'uniform' },
  { name: 'uniform logging', seed: 7, logger: 'uniform' },
  { name: 'bandit logging (ε 0.2)', seed: 3, logger: 'bandit' },
];
/** Our bandit with more exploration; its tunables pinned, so that retuning DEFAULT_BANDIT does not change these logs. */
const LOGGING_BANDIT = { ...DEFAULT_BANDIT, epsilon: 0.2, feeWeight: 1, linucb: { alpha: 0.6, ridge: 1, discount: 0.9999 }, cells: false as const };
/** The feedback delays pinned too, so that a change in the product's (the scenario's defaults) does not change these logs. */
const LOGGING_DELAYS = { feedbackDelayMs: 10_000, healthDelayMs: 2_000 };
const logs = new Map<string, SimulatedLog>();
function logOf(seed: number, logger: 'uniform' | 'bandit'): SimulatedLog {
  const key = `${logger}#${seed}`;
  let log = logs.get(key);
  if (!log) {
    log = simulateLog(defaultScenario({ seed, payments: PAYMENTS, ...LOGGING_DELAYS }), { logger, bandit: LOGGING_BANDIT });
    logs.set(key, log);
  }
  return log;
}
const contains = (e: OpeResult['ips'], v: number) => e.low <= v && v <= e.high;

describe.each(LOGS)('OPE on the simulator: $name, seed $seed', ({ seed, logger }) => {
  it.each(['success', 'net'] as const)('the IPS and DR 95%% intervals of cheapest and uniform contain the true value (reward %s)', (reward) => {
    const log = logOf(seed, logger);
    const reg = simRegistry(log.scenario);
    for (const candidate of [cheapestCandidate(reg), uniformCandidate()]) {
      const truth = trueValue(log, candidate, reward);
      const r = evaluate(log.decisions, candidate, { reward, registry: reg });
      const where = `${candidate.name}: truth ${truth}, IPS [${r.ips.low}, ${r.ips.high}], DR [${r.dr.low}, ${r.dr.high}]`;
      expect([where, contains(r.ips, truth), contains(r.dr, truth)]).toEqual([where, true, true]);
      // Uniform logging supports everything; the bandit gives 0 to a connector its breaker has demoted.
      if (logger === 'uniform') expect(r.unsupported.decisions).toBe(0);
      else expect(r.unsupported.decisions).toBeLessThan(PAYMENTS / 100);
      // DR is narrower than IPS off-policy; on-policy (uniform on a uniform log) every weight is 1 and they match.
      if (logger === 'uniform' && candidate.name === 'uniform') {
        expect(r.ips.value).toBe(r.loggedMean);
        expect(r.dr.se).toBeLessThan(r.ips.se * 1.05);
      } else {
        expect(r.dr.se).toBeLessThan(r.ips.se * 0.6);
      }
    }
  });

  it('logged: IPS is the logged mean reward, and its interval contains the logger\'s true value', () => {
    const log = logOf(seed, logger);
    const r = evaluate(log.decisions, loggedCandidate(), { reward: 'success' });
    expect(r.ips.value).toBeCloseTo(r.loggedMean, 12);
    expect(r.effectiveSampleSize).toBeCloseTo(PAYMENTS, 6);
    expect(contains(r.ips, trueValue(log, loggedCandidate(), 'success'))).toBe(true);
  });
});

describe('OPE on the simulator: the checks can fail', () => {
  it('the true value is the simulator\'s own expected first-attempt success', () => {
    const log = logOf(2, 'uniform');
    const byId = new Map<string, SimConnector>(log.scenario.connectors.map((c) => [c.id, c]));
    const reg = simRegistry(log.scenario);
    let sum = 0;
    let sameEligible = 0;
    log.decisions.forEach((d, i) => {
      const first = [...cheapestCandidate(reg).distribution(d).keys()][0];
      if (eligibleConnectors(log.scenario.connectors, log.payments[i].context).map((c) => c.id).join() === d.eligible.join()) sameEligible += 1;
      sum += expectedOutcome({ ...log.scenario, maxAttempts: 1 }, log.payments[i], [byId.get(first)!]).success;
    });
    expect(sameEligible).toBe(log.decisions.length);
    expect(trueValue(log, cheapestCandidate(reg), 'success')).toBeCloseTo(sum / log.decisions.length, 12);
  });

  it('with wrong propensities (the bandit\'s log claiming half its true ones) the IPS interval misses the truth', () => {
    const log = logOf(2, 'bandit');
    const reg = simRegistry(log.scenario);
    // (Claiming uniform logging instead can land near the truth by coincidence: when the logger picks the
    // candidate's choice about 1/n of the time, the wrong weights cancel out.)
    const lied = log.decisions.map((d) => ({
      ...d,
      ranked: d.ranked.map((r) => ({ ...r, propensity: r.propensity / 2 })),
      propensity: d.propensity / 2,
    }));
    const truth = trueValue(log, cheapestCandidate(reg), 'success');
    const r = evaluate(lied, cheapestCandidate(reg), { reward: 'success', registry: reg });
    expect(contains(r.ips, truth)).toBe(false);
    expect(Math.abs(r.ips.value - truth) / r.ips.se).toBeGreaterThan(3);
  });

  it('a greedy logger (ε 0) leaves most of uniform\'s choices unsupported', () => {
    const log = simulateLog(defaultScenario({ seed: 3, payments: 500 }), { logger: 'bandit', bandit: { ...DEFAULT_BANDIT, epsilon: 0 } });
    const r = evaluate(log.decisions, uniformCandidate(), { reward: 'success' });
    const expected = log.decisions.filter((d) => d.eligible.some((id) => !(d.ranked.find((x) => x.connectorId === id)?.propensity ?? 0))).length;
    expect(expected).toBeGreaterThan(400);
    expect(r.unsupported.decisions).toBe(expected);
  });
});

test('a bandit state file keeps its vocabulary and segment cells; one without a vocabulary has the one of before', () => {
  const vocabulary = { currencies: ['BRL', 'USD'], regions: ['NA', 'LATAM'] };
  const cells = { a: { 'LATAM|BRL|card|visa|1|0': { residual: -3.5, n: 12.25 } } };
  const state = JSON.parse(JSON.stringify({ ...emptyBanditState(vocabulary), cells }));
  expect(parseBanditState(state, 'state.json')).toMatchObject({ vocabulary, cells });
  const { vocabulary: _dropped, ...before } = JSON.parse(JSON.stringify(emptyBanditState(STORED_BEFORE_VOCABULARY)));
  expect(parseBanditState(before, 'old.json').vocabulary).toEqual(STORED_BEFORE_VOCABULARY);
  expect(() => parseBanditState({ ...state, dimension: 3 }, 'bad.json')).toThrow(/bad.json: the state has dimension 3, its vocabulary/);
});
