/**
 * `npm run bench:routing`: the routing policies on the same simulated traffic, in two worlds: world A
 * (ml/routing/simulator.ts's default scenario: drift, one outage) and world B (ml/routing/world-b.ts: interactions
 * of region × network, amount band × connector and risk band × connector, fee tiers, a connector that joins
 * mid-run, an outage and a brown-out). Prints:
 * 1. per world, the scenario: connectors and fees, the traffic mix, the outage;
 * 2. per world, per policy, on the same payments and outcomes (common random numbers): authorisation rate, net
 *    revenue (Σ amount − fee over successes, USD), regret against the oracle (realised, absolute and %; and
 *    expected, from each decision's expected net under the true rates), failed first attempts during the
 *    outage, and the recovery after it (payments of its segment until the policy puts the recovered connector
 *    first on half of them again); static cheapest, round-robin, the sliding-window success-rate router
 *    (hyperswitch's approach), ours (BanditPolicy + learn, default options) and the oracle;
 * 3. across --seeds (other traffic and outcomes, same worlds), per world and seed and then their spread (worst,
 *    median, best): ours against the oracle and the sliding-window router, and the recovery;
 * 4. the goals, on every seed of both worlds: ours ≥ 98 % of the oracle's net revenue; ours above the
 *    sliding-window router on both authorisation and net revenue; recovery within 200 payments of the
 *    outage's segment; and decision p99 ≤ 1 ms;
 * 5. decision latency: BanditPolicy.rank (with the eligibility filter) paced at --rate decisions/s for
 *    --latency-s seconds after a second of warm-up, from the state ours learnt in world A, learning each
 *    attempt's outcome --latency-delay-ms later; p50/p99/max.
 * Everything but the latency is a function of the seeds. Options: --payments 100000 --seed 7 (the detailed runs)
 * --seeds 1,2,3,4,5 --delay-s 66 (outcome to the learnt model) --health-delay-s 2 (outcome to the breaker, and to
 * the sliding-window router) --rate 1000 --latency-s 5 --latency-delay-ms 250; --alpha/--epsilon/--discount add
 * a row "ours (custom)" with those bandit settings (the defaults are DEFAULT_BANDIT's).
 */
import { createHash } from 'node:crypto';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { BanditPolicy, DEFAULT_BANDIT, learn, type AttemptFeedback, type BanditOptions, type BanditState } from '../lambdas/routing/bandit';
import { segmentCell, vocabularyOf } from '../lambdas/routing/context';
import { DEFAULT_HEALTH } from '../lambdas/routing/health';
import {
  attemptOutcome,
  authProbability,
  banditSimPolicy,
  cheapestPolicy,
  DEFAULT_SLIDING_WINDOW,
  defaultScenario,
  eligibleConnectors,
  generateTraffic,
  oraclePolicy,
  policyRandom,
  roundRobinPolicy,
  simulate,
  slidingWindowPolicy,
  type BanditSimPolicy,
  type PaymentRecord,
  type PolicyResult,
  RECOVERY_SHARE,
  RECOVERY_WINDOW,
  type Region,
  type Scenario,
  type SimPayment,
  type SimPolicy,
} from '../ml/routing/simulator';
import { worldBScenario } from '../ml/routing/world-b';
import { Region as RegionSchema } from '../contracts/regions';
import { prng, quantile } from './support';

const GOAL_SHARE_OF_ORACLE = 0.98;
/** Recovery after the outage ends: payments of its segment until ours puts the connector first again (simulator.ts RECOVERY_*). */
const GOAL_RECOVERY_PAYMENTS = 200;
const GOAL_P99_MS = 1;
/** "A handful": failed first attempts on the outage connector before the breaker stops choosing it. */
const GOAL_OUTAGE_FAILURES = 5;
const REGIONS: readonly Region[] = RegionSchema.options;

const { values: args } = parseArgs({
  options: {
    payments: { type: 'string', default: '100000' },
    seed: { type: 'string', default: '7' },
    'delay-s': { type: 'string', default: '62' },
    'health-delay-s': { type: 'string', default: '2' },
    rate: { type: 'string', default: '1000' },
    'latency-s': { type: 'string', default: '5' },
    'latency-delay-ms': { type: 'string', default: '250' },
    alpha: { type: 'string' },
    epsilon: { type: 'string' },
    discount: { type: 'string' },
    seeds: { type: 'string', default: '1,2,3,4,5' },
  },
});

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const usd = (minor: number) => `${minor < 0 ? '−' : ''}$${Math.abs(minor / 100).toLocaleString('en-US', { minimumFractionDigits: 0, maximumFractionDigits: 0 })}`;
const pct = (x: number, digits = 2) => `${(100 * x).toFixed(digits)}%`;
const us = (ms: number) => `${(ms * 1000).toFixed(1)} µs`;
const pad = (s: string, n: number) => (s.length >= n ? s : s + ' '.repeat(n - s.length));
const lpad = (s: string, n: number) => (s.length >= n ? s : ' '.repeat(n - s.length) + s);
const verdict = (ok: boolean) => (ok ? 'MET' : 'NOT MET');

function printScenario(scenario: Scenario, traffic: readonly SimPayment[]): void {
  const hours = scenario.durationMs / 3_600_000;
  console.log(`Scenario: seed ${scenario.seed}, ${int(traffic.length)} payments over ${hours} h, at most ${scenario.maxAttempts} attempts, ` +
    `buyers abandon ${pct(scenario.timeoutAbandon, 0)} of timed-out attempts`);
  const perHour = traffic.length / hours;
  const between = (ms: number) => (perHour / 3600) * (ms / 1000);
  console.log(`  each outcome reaches the learnt model ${scenario.feedbackDelayMs / 1000} s after the attempt (≈ ${between(scenario.feedbackDelayMs).toFixed(1)} decisions later on average), ` +
    `the breaker (and the sliding-window router's windows) ${scenario.healthDelayMs / 1000} s after (≈ ${between(scenario.healthDelayMs).toFixed(1)})`);
  console.log('Connectors (fee; methods; currencies; buyer countries):');
  for (const c of scenario.connectors) {
    const rules = (c.fee.rules ?? []).map((r) => `${[r.method, r.regions?.join('/')].filter(Boolean).join(' ')} ${(r.basisPoints / 100).toFixed(2)}% + ${r.fixedMinor}`);
    console.log(`  ${pad(c.id, 11)} ${pad(c.kind, 10)} ${lpad((c.fee.basisPoints / 100).toFixed(2), 5)}% + ${lpad(String(c.fee.fixedMinor), 2)} minor` +
      `${rules.length ? ` (${rules.join('; ')})` : ''}; ${c.methods.join('/')}; ${c.currencies.join(',')}; ${c.regions.join(',')}`);
  }
  const share = <K extends string>(key: (p: SimPayment) => K) => {
    const counts = new Map<K, number>();
    for (const p of traffic) counts.set(key(p), (counts.get(key(p)) ?? 0) + 1);
    return [...counts].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${pct(n / traffic.length, 0)}`).join(', ');
  };
  console.log(`Traffic: regions ${share((p) => p.region)}`);
  console.log(`         methods ${share((p) => p.context.method)}; currencies ${share((p) => p.context.currency)}`);
  console.log(`         categories ${share((p) => p.context.merchantCategory ?? '-')}; card networks ${share((p) => p.context.network ?? '(not card)')}`);
  const amounts = Float64Array.from(traffic, (p) => p.usdMinor).sort();
  console.log(`         amount (USD) p10 ${usd(quantile(amounts, 0.1))}, median ${usd(quantile(amounts, 0.5))}, p90 ${usd(quantile(amounts, 0.9))}, p99 ${usd(quantile(amounts, 0.99))}`);

  // The truth: mean authorisation (given processed) of card payments per region, first and last 5 % of the run.
  const ids = scenario.connectors.filter((c) => c.methods.includes('card')).map((c) => c.id);
  const slice = Math.floor(traffic.length * 0.05);
  const parts: [string, readonly SimPayment[]][] = [['start', traffic.slice(0, slice)], ['end', traffic.slice(traffic.length - slice)]];
  console.log('True authorisation of card payments (given processed), mean over the region\'s eligible payments:');
  console.log(`  ${pad('region', 12)}${ids.map((id) => lpad(id, 12)).join('')}`);
  for (const [label, payments] of parts) {
    for (const region of REGIONS) {
      const cells = ids.map((id) => {
        const c = scenario.connectors.find((x) => x.id === id)!;
        let sum = 0;
        let n = 0;
        for (const p of payments) {
          if (p.region !== region || p.context.method !== 'card' || !eligibleConnectors([c], p.context).length) continue;
          sum += authProbability(scenario, id, p);
          n += 1;
        }
        return lpad(n ? pct(sum / n, 1) : '-', 12);
      });
      console.log(`  ${pad(`${region} ${label}`, 12)}${cells.join('')}`);
    }
  }
  const o = scenario.outage;
  if (o) {
    const fromH = (o.from - scenario.start) / 3_600_000;
    const toH = (o.to - scenario.start) / 3_600_000;
    console.log(`Outage: ${o.connectorId} from hour ${fromH} to ${toH}: ${pct(o.errorRate, 0)} errors, ${pct(o.timeoutRate, 0)} timeouts per attempt`);
  }
  for (const b of scenario.brownouts ?? []) {
    console.log(`Brown-out: ${b.connectorId} from hour ${(b.from - scenario.start) / 3_600_000} to ${(b.to - scenario.start) / 3_600_000}: ${pct(b.errorRate, 0)} errors, ${pct(b.timeoutRate, 0)} timeouts per attempt`);
  }
  for (const [id, from] of Object.entries(scenario.availableFrom ?? {})) {
    console.log(`Cold start: ${id} joins the registry at hour ${((from - scenario.start) / 3_600_000).toFixed(1)}`);
  }
}

/** First-choice shares per segment key, from the payment records. */
class FirstChoices {
  readonly counts = new Map<string, Map<string, number>>();
  add(key: string, id: string): void {
    const m = this.counts.get(key) ?? new Map<string, number>();
    m.set(id, (m.get(id) ?? 0) + 1);
    this.counts.set(key, m);
  }
  top(key: string, n = 2): string {
    const m = this.counts.get(key);
    if (!m) return '-';
    const total = [...m.values()].reduce((a, b) => a + b, 0);
    return [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([id, c]) => `${id} ${pct(c / total, 0)}`).join(', ');
  }
}

interface Run {
  readonly result: PolicyResult;
  readonly seconds: number;
}

function run(scenario: Scenario, traffic: readonly SimPayment[], policy: SimPolicy, choices?: FirstChoices): Run {
  const started = performance.now();
  const result = simulate(scenario, traffic, policy, {
    onPayment: choices
      ? (r: PaymentRecord) => {
          if (r.payment.context.method !== 'card') return;
          const phase = r.payment.index < traffic.length / 2 ? 'first half' : 'second half';
          choices.add(`${r.payment.region} ${phase}`, r.decision.order[0]);
        }
      : undefined,
  });
  return { result, seconds: (performance.now() - started) / 1000 };
}

function printResults(runs: readonly Run[], oracle: PolicyResult, outageId: string | undefined): void {
  const header = [pad('policy', 34), lpad('auth rate', 10), lpad('exp. auth', 10), lpad('net revenue', 13), lpad('regret', 11), lpad('regret %', 9), lpad('exp. regret %', 14),
    lpad('fees', 11), lpad('att./pay', 9), lpad('outage 1st fail', 20), lpad('recovery', 10), lpad('time', 7)];
  console.log(header.join(''));
  for (const { result: r, seconds } of runs) {
    const regret = oracle.netRevenueUsdMinor - r.netRevenueUsdMinor;
    const expRegret = 1 - r.expectedNetUsdMinor / oracle.expectedNetUsdMinor;
    console.log([
      pad(r.name, 34),
      lpad(pct(r.authRate), 10),
      lpad(pct(r.expectedAuthRate), 10),
      lpad(usd(r.netRevenueUsdMinor), 13),
      lpad(usd(regret), 11),
      lpad(pct(regret / oracle.netRevenueUsdMinor), 9),
      lpad(pct(expRegret), 14),
      lpad(usd(r.feesUsdMinor), 11),
      lpad((r.attempts / r.payments).toFixed(3), 9),
      lpad(`${int(r.outage.failedFirstOnConnector)}/${int(r.outage.firstOnConnector)}${r.outage.failedProbes ? ` (${int(r.outage.failedProbes)} pr.)` : ''}`, 20),
      lpad(recoveryText(r), 10),
      lpad(`${seconds.toFixed(1)} s`, 7),
    ].join(''));
  }
  console.log(`  regret = oracle − policy (realised, same payments and outcomes); exp. auth and exp. regret: from each decision's probability of`);
  console.log(`  success and expected net under the true rates (no outcome noise).`);
  if (outageId) {
    console.log(`  outage 1st fail: first attempts on ${outageId} during the outage that failed / first attempts on it then (pr.: of the failed, trials of`);
    console.log(`  the breaker's recovery: probes after a cool-down, attempts on probation). All first-attempt failures then:`);
    console.log(`  ${runs.map(({ result: r }) => `${r.name.split(' (')[0]} ${int(r.outage.failedFirstAttempts)}`).join('; ')} (of ${int(oracle.outage.payments)} payments)`);
    console.log(`  recovery: after the outage ends, payments of its segment (those whose best connector under the true rates is ${outageId} again) until`);
    console.log(`  the policy puts it first on ${pct(RECOVERY_SHARE, 0)} of the last ${RECOVERY_WINDOW} of them ("never": not by the end of the run).`);
  }
}

function recoveryText(r: PolicyResult): string {
  if (!r.recovery) return '-';
  return r.recovery.recoveredAfter === null ? 'never' : int(r.recovery.recoveredAfter);
}

interface SeedRow {
  readonly world: string;
  readonly seed: number;
  readonly share: number;
  readonly authAbove: boolean;
  readonly netAbove: boolean;
  readonly recovery: number | null;
}

/** The goals on other seeds of one world (same world otherwise): is a verdict an accident of its seed? */
function acrossSeeds(make: (overrides: Partial<Scenario>) => Scenario, base: Partial<Scenario>, seeds: readonly number[]): SeedRow[] {
  const rows: SeedRow[] = [];
  const world = make(base).world ?? '?';
  console.log(`\nWorld ${world}, seeds ${seeds.join(', ')} (sliding-window router, ours and the oracle; realised | expected):`);
  console.log(`  ${pad('seed', 6)}${lpad('ours / oracle net', 21)}${lpad('auth: ours vs SR', 28)}${lpad('net: ours − SR', 24)}${lpad('recovery ours | SR', 20)}  outage 1st fail (ours, SR)`);
  for (const seed of seeds) {
    const scenario = make({ ...base, seed });
    const traffic = generateTraffic(scenario);
    const sliding = simulate(scenario, traffic, slidingWindowPolicy(policyRandom(scenario, 1)));
    const ours = simulate(scenario, traffic, banditSimPolicy(policyRandom(scenario, 2), vocabularyOf(scenario.connectors), DEFAULT_BANDIT));
    const oracle = simulate(scenario, traffic, oraclePolicy(scenario));
    const share = ours.netRevenueUsdMinor / oracle.netRevenueUsdMinor;
    rows.push({ world, seed, share, authAbove: ours.authRate > sliding.authRate, netAbove: ours.netRevenueUsdMinor > sliding.netRevenueUsdMinor, recovery: ours.recovery?.recoveredAfter ?? null });
    console.log(`  ${pad(String(seed), 6)}${lpad(`${pct(share)} | ${pct(ours.expectedNetUsdMinor / oracle.expectedNetUsdMinor)}`, 21)}` +
      `${lpad(`${pct(ours.authRate)} vs ${pct(sliding.authRate)} | ${pct(ours.expectedAuthRate - sliding.expectedAuthRate)}`, 28)}` +
      `${lpad(`${usd(ours.netRevenueUsdMinor - sliding.netRevenueUsdMinor)} | ${usd(ours.expectedNetUsdMinor - sliding.expectedNetUsdMinor)}`, 24)}` +
      `${lpad(`${recoveryText(ours)} | ${recoveryText(sliding)}`, 20)}` +
      `  ${ours.outage.failedFirstOnConnector - ours.outage.failedProbes} + ${ours.outage.failedProbes} probes, ${sliding.outage.failedFirstOnConnector}`);
  }
  const spread = (values: readonly number[], show: (v: number) => string) => {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted.length ? `worst ${show(sorted[0]!)}, median ${show(sorted[Math.floor((sorted.length - 1) / 2)]!)}, best ${show(sorted[sorted.length - 1]!)}` : '-';
  };
  const recovered = rows.map((r) => r.recovery).filter((r): r is number => r !== null);
  console.log(`  spread: ours / oracle ${spread(rows.map((r) => r.share), (v) => pct(v))}; recovery (payments) ${spread(recovered.map((r) => -r), (v) => int(-v))}` +
    `${recovered.length < rows.length ? ` (never on ${rows.length - recovered.length} seeds)` : ''}; above SR on both ${rows.filter((r) => r.authAbove && r.netAbove).length}/${rows.length} seeds`);
  return rows;
}

function fingerprint(results: readonly PolicyResult[]): string {
  return createHash('sha256').update(JSON.stringify(results)).digest('hex').slice(0, 16);
}

/**
 * The decision latency: BanditPolicy.rank (eligibility included) paced at `rate`/s; each attempt's outcome
 * is learnt `delayMs` later (learn + a new BanditPolicy, timed apart). rank pays for rebuilding the scorer
 * of an arm that learnt since the last decision (A⁻¹ by Cholesky), as it would in the router.
 */
function latency(scenario: Scenario, traffic: readonly SimPayment[], initial: BanditState, options: BanditOptions, rate: number, seconds: number, delayMs: number): number {
  const random = prng(scenario.seed ^ 0x5eed);
  let state = initial;
  let policy = new BanditPolicy(state, options);
  const pending: { at: number; feedback: AttemptFeedback }[] = [];
  const warmUp = rate; // one second
  const total = warmUp + Math.round(rate * seconds);
  const decisions = new Float64Array(total - warmUp);
  const learns: number[] = [];
  let late = 0;
  const interval = 1000 / rate;
  const t0 = performance.now();
  for (let i = 0; i < total; i += 1) {
    const slot = t0 + i * interval;
    // Outcomes that are due are learnt between decisions, as the feedback would arrive.
    while (pending.length && pending[0].at <= performance.now()) {
      const { feedback } = pending.shift()!;
      const s = performance.now();
      state = learn(state, feedback, options);
      policy = new BanditPolicy(state, options, policy);
      if (i >= warmUp) learns.push(performance.now() - s);
    }
    let now = performance.now();
    if (now > slot + 1) late += i >= warmUp ? 1 : 0;
    while (now < slot) now = performance.now();
    const payment = traffic[i % traffic.length];
    const context = { ...payment.context, time: Date.now() };
    const started = performance.now();
    const eligible = eligibleConnectors(scenario.connectors, context);
    const choice = policy.rank(context, eligible, random);
    const took = performance.now() - started;
    if (i >= warmUp) decisions[i - warmUp] = took;
    for (const ranked of choice.ranked.slice(0, scenario.maxAttempts)) {
      const { outcome } = attemptOutcome(scenario, payment, ranked.connectorId);
      pending.push({ at: performance.now() + delayMs, feedback: { connectorId: ranked.connectorId, outcome, features: choice.features, cell: segmentCell(context), time: Date.now() } });
      if (outcome === 'succeeded' || outcome === 'declined') break;
    }
  }
  const elapsed = (performance.now() - t0) / 1000;
  decisions.sort();
  const learnt = Float64Array.from(learns).sort();
  console.log(`Decision latency (BanditPolicy.rank with eligibility, in-process), ${int(decisions.length)} decisions paced at ${int(rate)}/s ` +
    `(achieved ${int(total / elapsed)}/s, ${int(late)} started > 1 ms late), learning each outcome ${delayMs} ms later:`);
  const p99 = quantile(decisions, 0.99);
  console.log(`  rank: p50 ${us(quantile(decisions, 0.5))}, p99 ${us(p99)}, max ${us(decisions[decisions.length - 1])}`);
  if (learnt.length) console.log(`  learn + new BanditPolicy per outcome (${int(learnt.length)}): p50 ${us(quantile(learnt, 0.5))}, p99 ${us(quantile(learnt, 0.99))}`);
  // The same decisions on a policy that learns nothing meanwhile: every scorer cached, so rank alone.
  const still = new Float64Array(decisions.length);
  for (let i = 0; i < still.length; i += 1) {
    const payment = traffic[i % traffic.length];
    const context = { ...payment.context, time: Date.now() };
    const started = performance.now();
    policy.rank(context, eligibleConnectors(scenario.connectors, context), random);
    still[i] = performance.now() - started;
  }
  still.sort();
  console.log(`  rank with every scorer cached (no learning in between, unpaced): p50 ${us(quantile(still, 0.5))}, p99 ${us(quantile(still, 0.99))}; ` +
    `the difference is rebuilding A⁻¹ of the arms that learnt since the last decision`);
  return p99;
}

/** One world's detailed run on --seed: its scenario, every policy, the first choices (world A), its goals on this seed. */
function detailed(scenario: Scenario, customOptions: BanditOptions | undefined): { ours: BanditSimPolicy; traffic: SimPayment[] } {
  console.log(`\n=== World ${scenario.world ?? '?'} ===`);
  const traffic = generateTraffic(scenario);
  printScenario(scenario, traffic);
  const ours = banditSimPolicy(policyRandom(scenario, 2), vocabularyOf(scenario.connectors), DEFAULT_BANDIT);
  const oursChoices = new FirstChoices();
  const oracleChoices = new FirstChoices();
  const runs: Run[] = [
    run(scenario, traffic, cheapestPolicy()),
    run(scenario, traffic, roundRobinPolicy()),
    run(scenario, traffic, slidingWindowPolicy(policyRandom(scenario, 1), DEFAULT_SLIDING_WINDOW)),
    run(scenario, traffic, ours, oursChoices),
  ];
  if (customOptions) {
    const l = customOptions.linucb;
    runs.push(run(scenario, traffic, banditSimPolicy(policyRandom(scenario, 2), vocabularyOf(scenario.connectors), customOptions, `ours (α ${l.alpha}, ε ${customOptions.epsilon}, γ ${l.discount})`)));
  }
  const oracleRun = run(scenario, traffic, oraclePolicy(scenario), oracleChoices);
  runs.push(oracleRun);
  const oracle = oracleRun.result;
  console.log('');
  printResults(runs, oracle, scenario.outage?.connectorId);

  console.log('\nFirst choice for card payments (top two), oracle | ours:');
  for (const region of REGIONS) {
    for (const phase of ['first half', 'second half']) {
      const key = `${region} ${phase}`;
      console.log(`  ${pad(key, 18)} ${pad(oracleChoices.top(key), 36)} | ${oursChoices.top(key)}`);
    }
  }

  const oursResult = runs[3].result;
  const slidingResult = runs[2].result;
  const detection = oursResult.outage.failedFirstOnConnector - oursResult.outage.failedProbes;
  console.log(`\nOn seed ${scenario.seed}: ours ${pct(oursResult.netRevenueUsdMinor / oracle.netRevenueUsdMinor)} of the oracle's net revenue (expected ` +
    `${pct(oursResult.expectedNetUsdMinor / oracle.expectedNetUsdMinor)}); authorisation ${pct(oursResult.authRate)} vs the sliding-window router's ` +
    `${pct(slidingResult.authRate)}, net revenue ${usd(oursResult.netRevenueUsdMinor)} vs ${usd(slidingResult.netRevenueUsdMinor)}; the outage cost ours ` +
    `${detection} failed first attempts while its breaker trusted ${scenario.outage?.connectorId ?? '-'} (goal ≤ ${GOAL_OUTAGE_FAILURES}: ${verdict(detection <= GOAL_OUTAGE_FAILURES)}), ` +
    `then ${oursResult.outage.failedProbes} failed probes (a share of ${pct(DEFAULT_HEALTH.probeShare, 0)} of decisions, halved by each failure to ` +
    `${pct(DEFAULT_HEALTH.minProbeShare, 0)}) and attempts on probation; recovery after it: ${recoveryText(oursResult)} payments of its segment.`);
  console.log(`  figures fingerprint ${fingerprint(runs.map((r) => r.result))} (the same seed and options give the same fingerprint)`);
  return { ours, traffic };
}

function main(): void {
  const started = performance.now();
  const base: Partial<Scenario> = {
    seed: Number(args.seed),
    payments: Number(args.payments),
    feedbackDelayMs: Number(args['delay-s']) * 1000,
    healthDelayMs: Number(args['health-delay-s']) * 1000,
  };
  console.log(`bench:routing — ${new Date().toISOString().slice(0, 10)}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.versions.node}`);
  const custom = args.alpha !== undefined || args.epsilon !== undefined || args.discount !== undefined;
  const customOptions: BanditOptions | undefined = custom
    ? {
        ...DEFAULT_BANDIT,
        epsilon: args.epsilon !== undefined ? Number(args.epsilon) : DEFAULT_BANDIT.epsilon,
        linucb: {
          ...DEFAULT_BANDIT.linucb,
          alpha: args.alpha !== undefined ? Number(args.alpha) : DEFAULT_BANDIT.linucb.alpha,
          discount: args.discount !== undefined ? Number(args.discount) : DEFAULT_BANDIT.linucb.discount,
        },
      }
    : undefined;
  const sw = DEFAULT_SLIDING_WINDOW;
  console.log(`Policies: the sliding-window router keeps the last N = ${sw.window} outcomes per (segment, connector), segment = method|region|card network ` +
    `(e.g. card|EU|visa), explores ε = ${pct(sw.epsilon, 0)}, and trusts a rate after ${sw.minSamples} outcomes (${pct(sw.defaultRate, 0)} before).`);
  const { alpha, discount, ridge } = DEFAULT_BANDIT.linucb;
  console.log(`Ours: DEFAULT_BANDIT (LinUCB α ${alpha}, ridge ${ridge}, discount ${discount}; ε ${DEFAULT_BANDIT.epsilon}; fee weight ${DEFAULT_BANDIT.feeWeight}; circuit breaker defaults).`);

  const worldA = defaultScenario(base);
  const { ours, traffic } = detailed(worldA, customOptions);
  detailed(worldBScenario(base), customOptions);

  const seeds = (args.seeds ?? '').split(',').filter(Boolean).map(Number);
  const rows = seeds.length ? [...acrossSeeds(defaultScenario, base, seeds), ...acrossSeeds(worldBScenario, base, seeds)] : [];

  console.log('');
  const p99 = latency(worldA, traffic, ours.state(), DEFAULT_BANDIT, Number(args.rate), Number(args['latency-s']), Number(args['latency-delay-ms']));

  if (rows.length) {
    const every = (ok: (r: SeedRow) => boolean) => `${rows.filter(ok).length}/${rows.length} — ${verdict(rows.every(ok))}`;
    const worst = rows.reduce((w, r) => (r.share < w.share ? r : w));
    const slowest = rows.reduce((w, r) => ((r.recovery ?? Infinity) > (w.recovery ?? Infinity) ? r : w));
    console.log(`\nGoals, on every seed of both worlds (${rows.length} runs):`);
    console.log(`  ours ≥ ${pct(GOAL_SHARE_OF_ORACLE, 0)} of the oracle's net revenue: ${every((r) => r.share >= GOAL_SHARE_OF_ORACLE)} (worst ${pct(worst.share)}, world ${worst.world} seed ${worst.seed})`);
    console.log(`  ours above the sliding-window router on authorisation and net revenue: ${every((r) => r.authAbove && r.netAbove)}` +
      ` (authorisation above on ${rows.filter((r) => r.authAbove).length}, net revenue above on ${rows.filter((r) => r.netAbove).length})`);
    console.log(`  recovery after the outage within ${GOAL_RECOVERY_PAYMENTS} payments of its segment: ${every((r) => r.recovery !== null && r.recovery <= GOAL_RECOVERY_PAYMENTS)}` +
      ` (slowest ${slowest.recovery === null ? 'never' : int(slowest.recovery)}, world ${slowest.world} seed ${slowest.seed})`);
  }
  console.log(`  decision p99 ≤ ${GOAL_P99_MS} ms in-process: ${us(p99)} — ${verdict(p99 <= GOAL_P99_MS)}`);
  console.log(`\nTotal ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

main();
