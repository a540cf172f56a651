/**
 * `npm run ope:simulate -- [--out FILE] [--logger bandit|uniform] [--epsilon E] [--payments N] [--seed S]`:
 * logged decisions from the routing simulator (ml/routing/simulator.ts), for off-policy evaluation
 * (ml/routing/ope.ts), and the true values the estimates should find.
 *
 * A logging policy routes the simulator's traffic: ours (BanditPolicy + learn, as in the benchmark, with its
 * exploration ε) or uniformly random first choices. Every decision is written as a line of the OPE log, with
 * the logger's propensity of choosing each eligible connector first and the first attempt's outcome and
 * fee. Because the simulator knows each connector's true rates, the TRUE value of a candidate policy on the
 * same payments is known too: the mean over the decisions of Σₐ π(a|x) · E[reward | x, a], from the true
 * first-attempt success probability (trueRates, outage and drift included) and, for the net reward, the fee.
 *
 * The simulator is used by composition only: its `simulate` runs the logger, and its `onPayment` hook
 * collects the decisions.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_BANDIT, type BanditOptions, type BanditState } from '../../lambdas/routing/bandit';
import { vocabularyOf, type RoutingVocabulary } from '../../lambdas/routing/context';
import {
  banditSimPolicy,
  defaultScenario,
  feeOf,
  generateTraffic,
  policyRandom,
  simulate,
  trueRates,
  type Scenario,
  type SimPayment,
  type SimPolicy,
} from './simulator';
import {
  banditCandidate,
  cheapestCandidate,
  evaluate,
  loggedCandidate,
  parseRegistry,
  uniformCandidate,
  type CandidatePolicy,
  type LoggedDecision,
  type OpeResult,
  type Registry,
  type RewardKind,
} from './ope';

export type LoggerKind = 'bandit' | 'uniform';

export interface LoggingOptions {
  readonly logger: LoggerKind;
  /** The bandit logger's options (its ε is the logging exploration). Default DEFAULT_BANDIT. */
  readonly bandit?: BanditOptions;
}

/** A simulated log, with the simulator's payments (aligned with the decisions) for the true values. */
export interface SimulatedLog {
  readonly scenario: Scenario;
  readonly decisions: readonly LoggedDecision[];
  readonly payments: readonly SimPayment[];
  /** The bandit logger's state at the end of the run (a candidate to evaluate). */
  readonly finalState?: BanditState;
}

type Ranked = LoggedDecision['ranked'];

/** A simulator policy that also says, for the decision it just made, every eligible connector's propensity. */
interface LoggingPolicy extends SimPolicy {
  /** The propensities of the last decision (rank's), read by the onPayment hook right after it. */
  readonly lastRanked: () => Ranked;
  readonly finalState?: () => BanditState;
}

/** Uniformly random first choice; the rest in id order (fallbacks). */
export function uniformLogger(random: () => number): LoggingPolicy {
  let last: Ranked = [];
  return {
    name: 'uniform random',
    rank(_payment, eligible) {
      const ids = eligible.map((c) => c.id).sort();
      const first = Math.min(ids.length - 1, Math.floor(random() * ids.length));
      last = ids.map((id) => ({ connectorId: id, propensity: 1 / ids.length }));
      return { order: [ids[first], ...ids.filter((_, i) => i !== first)], propensity: 1 / ids.length };
    },
    observe() {},
    lastRanked: () => last,
  };
}

/**
 * Ours, as benchmarked (banditSimPolicy: BanditPolicy.rank, learning every attempt's delayed outcome). The
 * propensities of all connectors come from ranking the same context again on the same policy with a fixed
 * random source: rank's propensities do not depend on the draw.
 */
export function banditLogger(random: () => number, vocabulary: RoutingVocabulary, options: BanditOptions = DEFAULT_BANDIT): LoggingPolicy {
  const inner = banditSimPolicy(random, vocabulary, options, `ours (ε ${options.epsilon})`);
  let last: Ranked = [];
  return {
    name: inner.name,
    rank(payment, eligible) {
      const decision = inner.rank(payment, eligible);
      last = inner
        .policy()
        .rank(payment.context, eligible, () => 0)
        .ranked.map((r) => ({ connectorId: r.connectorId, propensity: r.propensity }));
      return decision;
    },
    observe: (report) => inner.observe(report),
    observeFast: (report) => inner.observeFast?.(report),
    lastRanked: () => last,
    finalState: () => inner.state(),
  };
}

/** Runs the logger over the scenario's traffic and collects one logged decision per payment. */
export function simulateLog(scenario: Scenario, options: LoggingOptions): SimulatedLog {
  const traffic = generateTraffic(scenario);
  const random = policyRandom(scenario, 10);
  const logger = options.logger === 'bandit' ? banditLogger(random, vocabularyOf(scenario.connectors), options.bandit) : uniformLogger(random);
  const decisions: LoggedDecision[] = [];
  const payments: SimPayment[] = [];
  const byId = new Map(scenario.connectors.map((c) => [c.id, c]));
  simulate(scenario, traffic, logger, {
    onPayment(record) {
      const ranked = logger.lastRanked();
      const chosen = record.decision.order[0];
      const first = record.attempts[0];
      const own = ranked.find((r) => r.connectorId === chosen)?.propensity;
      if (own === undefined || Math.abs(own - record.decision.propensity) > 1e-12) {
        throw new Error(`payment ${record.payment.index}: the logger's propensities do not match its decision`);
      }
      decisions.push({
        decisionId: `sim-${scenario.seed}-${record.payment.index}`,
        context: record.payment.context,
        eligible: record.eligible,
        ranked,
        chosen,
        propensity: record.decision.propensity,
        outcome: first.outcome,
        ...(first.outcome === 'succeeded' ? { feeMinor: feeOf(record.payment, byId.get(chosen)!) } : {}),
      });
      payments.push(record.payment);
    },
  });
  return { scenario, decisions, payments, finalState: logger.finalState?.() };
}

/** The simulated catalogue as a registry (the OPE tool reads ids and fees). */
export function simRegistry(scenario: Scenario): Registry {
  return parseRegistry(JSON.parse(JSON.stringify(scenario.connectors)), 'the simulator catalogue');
}

/**
 * The true value of a candidate on the log's payments: mean over decisions of Σₐ π(a|x) · P(first attempt on
 * a succeeds | x) · (1, or 1 − fee/amount), from the simulator's true rates.
 */
export function trueValue(log: SimulatedLog, candidate: CandidatePolicy, reward: RewardKind): number {
  const byId = new Map(log.scenario.connectors.map((c) => [c.id, c]));
  let sum = 0;
  log.decisions.forEach((d, i) => {
    const payment = log.payments[i];
    for (const [id, p] of candidate.distribution(d)) {
      if (p <= 0) continue;
      const success = trueRates(log.scenario, id, payment).success;
      const margin = reward === 'net' ? 1 - feeOf(payment, byId.get(id)!) / payment.context.amountMinor : 1;
      sum += p * success * margin;
    }
  });
  return sum / log.decisions.length;
}

/** The log as JSON lines. */
export function toJsonLines(decisions: readonly LoggedDecision[]): string {
  return decisions.map((d) => JSON.stringify(d)).join('\n') + '\n';
}

export interface TruthRow {
  readonly candidate: string;
  readonly reward: RewardKind;
  readonly truth: number;
  readonly result: OpeResult;
}

/** True values and estimates of candidates on a simulated log, for both rewards. */
export function compare(log: SimulatedLog, candidates: readonly CandidatePolicy[], registry: Registry = simRegistry(log.scenario)): TruthRow[] {
  const rows: TruthRow[] = [];
  for (const reward of ['success', 'net'] as const) {
    for (const c of candidates) {
      rows.push({ candidate: c.name, reward, truth: trueValue(log, c, reward), result: evaluate(log.decisions, c, { reward, registry }) });
    }
  }
  return rows;
}

/** The seed offset of the run that trains the bandit candidate: other traffic and outcomes of the same world. */
export const TRAINING_SEED_OFFSET = 1000;

const f4 = (v: number) => v.toFixed(4);
const int = (v: number) => Math.round(v).toLocaleString('en-US');
const covers = (lo: number, hi: number, v: number) => (lo <= v && v <= hi ? 'yes' : 'NO');

export function main(argv: readonly string[] = process.argv.slice(2)): void {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      out: { type: 'string', default: 'data/routing-ope/log.jsonl' },
      'connectors-out': { type: 'string' },
      'state-out': { type: 'string' },
      logger: { type: 'string', default: 'bandit' },
      epsilon: { type: 'string', default: String(DEFAULT_BANDIT.epsilon) },
      payments: { type: 'string', default: '5000' },
      seed: { type: 'string', default: '7' },
      'no-outage': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log([
      `usage: npm run ope:simulate -- [--out data/routing-ope/log.jsonl] [--logger bandit|uniform] [--epsilon ${DEFAULT_BANDIT.epsilon}]`,
      '                               [--payments 5000] [--seed 7] [--no-outage] [--connectors-out FILE] [--state-out FILE]',
      '  writes the log, the simulator\'s connector registry (connectors.json next to the log) and a bandit state learnt on',
      '  other traffic of the same world (bandit-state.json); prints the true value of each candidate and the estimates',
    ].join('\n'));
    return;
  }
  if (values.logger !== 'bandit' && values.logger !== 'uniform') throw new Error(`--logger "${values.logger}": use bandit or uniform`);
  const epsilon = Number(values.epsilon);
  const payments = Number(values.payments);
  const seed = Number(values.seed);
  if (!(epsilon >= 0 && epsilon <= 1)) throw new Error(`--epsilon "${values.epsilon}": a number in [0, 1]`);
  if (!Number.isInteger(payments) || payments < 10) throw new Error(`--payments "${values.payments}": an integer ≥ 10`);
  if (!Number.isInteger(seed)) throw new Error(`--seed "${values.seed}": an integer`);

  const outage = values['no-outage'] ? { outage: undefined } : {};
  const scenario = defaultScenario({ seed, payments, ...outage });
  const log = simulateLog(scenario, { logger: values.logger, bandit: { ...DEFAULT_BANDIT, epsilon } });
  // The bandit candidate: DEFAULT_BANDIT's state after routing other traffic of the same world (another seed).
  const training = simulateLog(defaultScenario({ seed: seed + TRAINING_SEED_OFFSET, payments, ...outage }), { logger: 'bandit' });
  const registry = simRegistry(scenario);
  const candidates = [cheapestCandidate(registry), uniformCandidate(), loggedCandidate(), banditCandidate(training.finalState!, registry, DEFAULT_BANDIT, 'bandit (--state)')];
  if (log.finalState) candidates.push(banditCandidate(log.finalState, registry, DEFAULT_BANDIT, "logger's final state*"));

  const dir = dirname(values.out);
  const connectorsOut = values['connectors-out'] ?? `${dir}/connectors.json`;
  const stateOut = values['state-out'] ?? `${dir}/bandit-state.json`;
  for (const path of [values.out, connectorsOut, stateOut]) mkdirSync(dirname(path), { recursive: true });
  writeFileSync(values.out, toJsonLines(log.decisions));
  writeFileSync(connectorsOut, JSON.stringify(scenario.connectors, null, 2) + '\n');
  writeFileSync(stateOut, JSON.stringify(training.finalState) + '\n');

  const loggerName = values.logger === 'bandit' ? `our bandit (DEFAULT_BANDIT with ε ${epsilon})` : 'uniformly random first choices';
  console.log(`Wrote ${int(log.decisions.length)} decisions of ${loggerName} on simulator seed ${seed}${values['no-outage'] ? ' (no outage)' : ''} to ${values.out};`);
  console.log(`  the connector registry to ${connectorsOut}; to ${stateOut}, the state DEFAULT_BANDIT learnt routing ${int(payments)} payments of seed ${seed + TRAINING_SEED_OFFSET}`);
  console.log(`\nTrue value (the simulator's true first-attempt rates, the log's payments) and the estimates (95% CI, normal approximation):`);
  console.log(`  ${'reward'.padEnd(8)}${'candidate'.padEnd(23)}${'true'.padStart(7)}${'IPS'.padStart(8)}${'IPS 95% CI'.padStart(19)}${'DR'.padStart(8)}${'DR 95% CI'.padStart(19)}  covers   ESS`);
  for (const r of compare(log, candidates, registry)) {
    const { ips, dr } = r.result;
    const ci = (lo: number, hi: number) => `[${f4(lo)}, ${f4(hi)}]`.padStart(19);
    console.log(`  ${r.reward.padEnd(8)}${r.candidate.padEnd(23)}${f4(r.truth).padStart(7)}${f4(ips.value).padStart(8)}${ci(ips.low, ips.high)}${f4(dr.value).padStart(8)}${ci(dr.low, dr.high)}  ` +
      `${covers(ips.low, ips.high, r.truth)}/${covers(dr.low, dr.high, r.truth)}`.padEnd(9) + `${int(r.result.effectiveSampleSize)}`.padStart(5) +
      (r.result.unsupported.decisions ? `  ${int(r.result.unsupported.decisions)} unsupported` : ''));
  }
  console.log('  covers: whether the IPS/DR interval contains the true value; ESS: effective sample size of the IPS weights.');
  if (log.finalState) {
    console.log("  * the logger's own final state learnt from this log's outcomes, so the log tends to over-rate it (it prefers what");
    console.log('    happened to succeed here; docs/routing-ope.md): evaluate a state on decisions it did not learn from.');
  }
  console.log(`\nTry: npm run ope -- --log ${values.out} --connectors ${connectorsOut} --policy cheapest`);
  console.log(`     npm run ope -- --log ${values.out} --connectors ${connectorsOut} --policy bandit --state ${stateOut} --reward net`);
}

if (require.main === module) {
  try {
    main();
  } catch (error) {
    console.error(`ope:simulate: ${(error as Error).message}`);
    process.exit(1);
  }
}
