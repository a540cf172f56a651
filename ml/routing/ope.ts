/**
 * `npm run ope -- --log FILE --policy cheapest|uniform|logged|bandit [--state FILE] [--connectors FILE]
 * [--reward success|net]`: off-policy evaluation of a routing policy (issue 4). From decisions the router
 * logged with their propensities, it estimates what a candidate policy's first choice would have earned on the
 * same payments, without running it: inverse propensity scoring (IPS), self-normalised IPS (SNIPS) and
 * doubly robust (DR), each with a 95% confidence interval. docs/routing-ope.md has the log format, the
 * estimators and their assumptions; ml/routing/log.ts writes such logs from the routing simulator, where
 * the true value is known (`npm run ope:simulate`).
 *
 * Only the first attempt is evaluated: the candidate's first choice, and the reward of the logged first
 * attempt. The fallbacks depend on the whole ranked list and on what happened on the first attempt, which a
 * log of the first choice's propensity cannot reweight.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { BanditPolicy, DEFAULT_BANDIT, type BanditOptions, type BanditState } from '../../lambdas/routing/bandit';
import { routingDimension, routingFeatures, STORED_BEFORE_VOCABULARY, vocabularyOf, type RoutingContext, type RoutingVocabulary } from '../../lambdas/routing/context';
import type { HealthOutcome } from '../../lambdas/routing/health';
import { ArmScorer, type ArmState } from '../../lambdas/routing/linucb';
import { connectorFee, type ConnectorDefinition } from '../../contracts/connectors';
import { fieldIssues } from '../../contracts/issues';
import { AttemptOutcome } from '../../contracts/api';
import { CardNetwork, PaymentMethodKind } from '../../contracts/methods';
import { isSupportedCurrency } from '../../contracts/money';

// ---------------------------------------------------------------------------------------------------------
// The log

/** One logged decision: a line of the JSON-lines log (docs/routing-ope.md). */
export interface LoggedDecision {
  readonly decisionId: string;
  readonly context: RoutingContext;
  /** Every connector the router could have chosen (after eligibility), whatever its propensity. */
  readonly eligible: readonly string[];
  /** The logging policy's probability of choosing each connector first; eligible connectors not listed had 0. */
  readonly ranked: readonly { readonly connectorId: string; readonly propensity: number }[];
  /** The connector of the first attempt. */
  readonly chosen: string;
  /** The logging policy's probability of having chosen `chosen` first (> 0). */
  readonly propensity: number;
  /** The first attempt's outcome. */
  readonly outcome: HealthOutcome;
  /** The fee the first attempt cost, minor units of the payment's currency (needed for `--reward net` when it succeeded). */
  readonly feeMinor?: number;
}

/** A log line that is not a valid decision: names the line (1-based) and the field. */
export class LogLineError extends Error {
  constructor(
    readonly line: number,
    readonly field: string,
    message: string,
  ) {
    super(`line ${line}: ${field}: ${message}`);
    this.name = 'LogLineError';
  }
}

const ContextSchema = z.object({
  amountMinor: z.number().int().positive(),
  currency: z.string().refine(isSupportedCurrency, 'not a supported ISO-4217 currency'),
  method: PaymentMethodKind,
  network: CardNetwork.optional(),
  country: z.string().optional(),
  merchantCategory: z.string().optional(),
  fraudScore: z.number().min(0).max(1).optional(),
  time: z.number().int(),
});

/** Other fields (DecisionRecord's merchantId, time, features, policyVersion; ranked[].score) are allowed and ignored. */
const LineSchema = z.object({
  decisionId: z.string().min(1),
  context: ContextSchema,
  eligible: z.array(z.string().min(1)).min(1),
  ranked: z.array(z.object({ connectorId: z.string().min(1), propensity: z.number().min(0).max(1) })).min(1),
  chosen: z.string().min(1),
  propensity: z.number().gt(0, 'must be > 0 (a choice the logger could not make cannot be logged)').max(1),
  outcome: AttemptOutcome,
  feeMinor: z.number().int().min(0).optional(),
});

/** Propensities are floats from the logger: they must sum to 1 and match the chosen one within this. */
const PROPENSITY_TOLERANCE = 1e-6;

/** Parses one line of the log (1-based `line` for the messages). */
export function parseLogLine(text: string, line: number): LoggedDecision {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new LogLineError(line, '(line)', `not JSON (${(error as Error).message})`);
  }
  const parsed = LineSchema.safeParse(json);
  if (!parsed.success) {
    const issue = fieldIssues(parsed.error, json)[0] ?? { field: '(root)', problem: parsed.error.message };
    throw new LogLineError(line, issue.field === '(root)' ? '(line)' : issue.field, issue.problem);
  }
  const d = parsed.data;
  const eligible = new Set(d.eligible);
  if (eligible.size !== d.eligible.length) throw new LogLineError(line, 'eligible', 'lists a connector twice');
  const seen = new Set<string>();
  let sum = 0;
  d.ranked.forEach((r, i) => {
    if (!eligible.has(r.connectorId)) throw new LogLineError(line, `ranked.${i}.connectorId`, `${r.connectorId} is not in eligible`);
    if (seen.has(r.connectorId)) throw new LogLineError(line, `ranked.${i}.connectorId`, `${r.connectorId} is ranked twice`);
    seen.add(r.connectorId);
    sum += r.propensity;
  });
  if (Math.abs(sum - 1) > PROPENSITY_TOLERANCE) throw new LogLineError(line, 'ranked', `the propensities sum to ${sum}, not 1`);
  if (!eligible.has(d.chosen)) throw new LogLineError(line, 'chosen', `${d.chosen} is not in eligible`);
  const own = d.ranked.find((r) => r.connectorId === d.chosen)?.propensity ?? 0;
  if (Math.abs(own - d.propensity) > PROPENSITY_TOLERANCE) {
    throw new LogLineError(line, 'propensity', `${d.propensity}, but ranked gives ${d.chosen} ${own}`);
  }
  return { ...d, context: d.context as RoutingContext };
}

/**
 * Parses a JSON-lines log; blank lines are skipped; a repeated decisionId is an error. With `reward` net, a
 * succeeded first attempt without `feeMinor` is an error too.
 */
export function parseLog(text: string, reward: RewardKind = 'success'): LoggedDecision[] {
  const out: LoggedDecision[] = [];
  const ids = new Map<string, number>();
  text.split('\n').forEach((raw, i) => {
    if (!raw.trim()) return;
    const d = parseLogLine(raw, i + 1);
    if (reward === 'net' && d.outcome === 'succeeded' && d.feeMinor === undefined) {
      throw new LogLineError(i + 1, 'feeMinor', 'missing: --reward net needs the fee of a succeeded first attempt');
    }
    const previous = ids.get(d.decisionId);
    if (previous !== undefined) throw new LogLineError(i + 1, 'decisionId', `${d.decisionId} was already logged on line ${previous}`);
    ids.set(d.decisionId, i + 1);
    out.push(d);
  });
  if (!out.length) throw new Error('the log has no decisions');
  return out;
}

/** The connectors the tool needs: id and fee schedule (kind for the bandit's output); other fields are ignored. */
export type Registry = ReadonlyMap<string, ConnectorDefinition>;

const RegistrySchema = z
  .array(
    z.looseObject({
      id: z.string().min(1),
      kind: z.string().optional(),
      fee: z.object({ basisPoints: z.number().int().min(0).max(10_000), fixedMinor: z.number().int().min(0) }),
    }),
  )
  .min(1);

/**
 * A connector registry (an array of ConnectorDefinition, e.g. the stage's CONNECTORS JSON). Only `id` and
 * `fee` are read (and `kind`, echoed by the bandit), so a simulator catalogue with wallet methods works too.
 */
export function parseRegistry(json: unknown, source: string): Registry {
  const parsed = RegistrySchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${source}: not a connector registry (${issue.path.map(String).join('.') || '(root)'}: ${issue.message})`);
  }
  const map = new Map<string, ConnectorDefinition>();
  for (const c of parsed.data) {
    if (map.has(c.id)) throw new Error(`${source}: connector ${c.id} is listed twice`);
    map.set(c.id, { kind: 'sandbox', enabled: true, methods: ['card'], currencies: ['*'], regions: ['*'], ...c } as ConnectorDefinition);
  }
  return map;
}

function connectorOf(registry: Registry | undefined, id: string, why: string): ConnectorDefinition {
  if (!registry) throw new Error(`${why} needs the connectors' fees: pass --connectors FILE`);
  const c = registry.get(id);
  if (!c) throw new Error(`connector ${id} is in the log but not in the connector registry`);
  return c;
}

// ---------------------------------------------------------------------------------------------------------
// Rewards

/**
 * - `success`: 1 if the first attempt succeeded, else 0 (the first-attempt authorisation rate).
 * - `net`: success × (1 − fee / amount): the share of the amount kept after the connector's fee, 0 on a
 *   failure. It is the quantity the bandit maximises with fee weight 1, per unit of amount (each decision
 *   counts the same, whatever its amount).
 */
export type RewardKind = 'success' | 'net';
export const REWARD_KINDS: readonly RewardKind[] = ['success', 'net'];

/** The observed reward of a logged decision. */
export function rewardOf(d: LoggedDecision, kind: RewardKind): number {
  if (d.outcome !== 'succeeded') return 0;
  if (kind === 'success') return 1;
  if (d.feeMinor === undefined) throw new Error(`decision ${d.decisionId}: feeMinor missing: --reward net needs the fee of a succeeded first attempt`);
  return 1 - d.feeMinor / d.context.amountMinor;
}

/** The reward a success on `connector` would give for the context: 1, or 1 − fee/amount with the registry's fee. */
export function marginOf(context: RoutingContext, connector: ConnectorDefinition | undefined, kind: RewardKind): number {
  if (kind === 'success') return 1;
  const fee = connectorFee(connector!.fee, context);
  return 1 - fee / context.amountMinor;
}

// ---------------------------------------------------------------------------------------------------------
// Candidate policies

/** A policy to evaluate: its probability of choosing each eligible connector first (summing to 1). */
export interface CandidatePolicy {
  readonly name: string;
  distribution(d: LoggedDecision): ReadonlyMap<string, number>;
}

/** Deterministic: the lowest estimated fee first, ties by id (the simulator's static cheapest). */
export function cheapestCandidate(registry: Registry | undefined): CandidatePolicy {
  return {
    name: 'cheapest',
    distribution(d) {
      const fee = (id: string) => {
        const c = connectorOf(registry, id, '--policy cheapest');
        return connectorFee(c.fee, d.context);
      };
      const best = [...d.eligible].sort((a, b) => fee(a) - fee(b) || a.localeCompare(b))[0];
      return new Map([[best, 1]]);
    },
  };
}

/** Uniform over the eligible connectors. */
export function uniformCandidate(): CandidatePolicy {
  return { name: 'uniform', distribution: (d) => new Map(d.eligible.map((id) => [id, 1 / d.eligible.length])) };
}

/** The logging policy itself (its logged propensities): IPS then equals the logged mean reward exactly. */
export function loggedCandidate(): CandidatePolicy {
  return { name: 'logged', distribution: (d) => new Map(d.ranked.map((r) => [r.connectorId, r.propensity])) };
}

/**
 * A frozen bandit state: BanditPolicy.rank's propensities of being chosen first for the context (health and
 * exploration included). It is evaluated as a fixed policy: it does not learn from the log.
 */
export function banditCandidate(state: BanditState, registry: Registry | undefined, options: BanditOptions = DEFAULT_BANDIT, name = 'bandit'): CandidatePolicy {
  const policy = new BanditPolicy(state, options);
  // The first choice's draw is the only use of the random source; the propensities do not depend on it.
  const fixed = () => 0;
  return {
    name,
    distribution(d) {
      const eligible = d.eligible.map((id) => connectorOf(registry, id, '--policy bandit'));
      return new Map(policy.rank(d.context, eligible, fixed).ranked.map((r) => [r.connectorId, r.propensity]));
    },
  };
}

const ArmSchema = z.object({ a: z.array(z.number()), b: z.array(z.number()), n: z.number() });
const VocabularySchema = z.object({ currencies: z.array(z.string()), regions: z.array(z.string()) });
const CellsSchema = z.record(z.string(), z.record(z.string(), z.object({ residual: z.number(), n: z.number() })));
const StateSchema = z.object({ vocabulary: VocabularySchema.optional(), cells: CellsSchema.optional(), dimension: z.number().int(), arms: z.record(z.string(), ArmSchema), pooled: ArmSchema.optional(), health: z.record(z.string(), z.unknown()) });

/** Checks a BanditState JSON (its shape and dimension) with a message naming `source`; one without a vocabulary has the one of before. */
export function parseBanditState(json: unknown, source: string): BanditState {
  const parsed = StateSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${source}: not a bandit state (${issue.path.map(String).join('.') || '(root)'}: ${issue.message})`);
  }
  const s = { ...parsed.data, vocabulary: parsed.data.vocabulary ?? STORED_BEFORE_VOCABULARY };
  const expected = routingDimension(s.vocabulary);
  if (s.dimension !== expected) throw new Error(`${source}: the state has dimension ${s.dimension}, its vocabulary ${expected}`);
  for (const [id, arm] of Object.entries(s.arms)) {
    if (arm.b.length !== s.dimension || arm.a.length !== s.dimension * s.dimension) throw new Error(`${source}: arms.${id} does not have dimension ${s.dimension}`);
  }
  return s as unknown as BanditState;
}

// ---------------------------------------------------------------------------------------------------------
// The reward model (for DR)

/**
 * A ridge regression of `y` on `x` as a LinUCB arm: A = λI + Σ x·xᵀ, b = Σ y·x, what folding the rows in
 * with updateArm and discount 1 gives (linucb.ts), accumulated in place (most features are one-hot zeros).
 */
export function ridgeArm(rows: readonly { readonly x: ArrayLike<number>; readonly y: number }[], dimension: number, ridge: number): ArmState {
  const a = new Float64Array(dimension * dimension);
  const b = new Float64Array(dimension);
  for (let i = 0; i < dimension; i += 1) a[i * dimension + i] = ridge;
  const nz: number[] = [];
  for (const { x, y } of rows) {
    if (x.length !== dimension) throw new Error(`ridgeArm: features of dimension ${x.length}, expected ${dimension}`);
    nz.length = 0;
    for (let i = 0; i < dimension; i += 1) if (x[i] !== 0) nz.push(i);
    for (const i of nz) {
      b[i] += y * x[i];
      for (const j of nz) a[i * dimension + j] += x[i] * x[j];
    }
  }
  return { a: Array.from(a), b: Array.from(b), n: rows.length };
}

/**
 * The model of the first attempt's success: a pooled ridge regression on routingFeatures (every connector),
 * plus a ridge regression per connector on the pooled model's residuals, so a connector with little data
 * shrinks towards the pooled model rather than towards 0. Predictions are clipped to [0, 1]. The expected
 * reward of a connector is its predicted success times the margin (marginOf).
 */
export class SuccessModel {
  private constructor(
    private readonly pooled: ArmScorer,
    private readonly arms: ReadonlyMap<string, ArmScorer>,
  ) {}

  static fit(rows: readonly { readonly x: ArrayLike<number>; readonly connectorId: string; readonly success: number }[], dimension: number, ridge = 1): SuccessModel {
    const pooled = new ArmScorer(ridgeArm(rows.map((r) => ({ x: r.x, y: r.success })), dimension, ridge));
    const byArm = new Map<string, { x: ArrayLike<number>; y: number }[]>();
    for (const r of rows) {
      const list = byArm.get(r.connectorId) ?? [];
      list.push({ x: r.x, y: r.success - pooled.mean(r.x) });
      byArm.set(r.connectorId, list);
    }
    return new SuccessModel(pooled, new Map([...byArm].map(([id, list]) => [id, new ArmScorer(ridgeArm(list, dimension, ridge))])));
  }

  predict(x: ArrayLike<number>, connectorId: string): number {
    const v = this.pooled.mean(x) + (this.arms.get(connectorId)?.mean(x) ?? 0);
    return Math.min(1, Math.max(0, v));
  }
}

// ---------------------------------------------------------------------------------------------------------
// The estimators

/** z for a two-sided 95% normal interval. */
const Z95 = 1.959963984540054;

export interface Estimate {
  readonly value: number;
  /** Standard error from the per-decision terms (normal approximation). */
  readonly se: number;
  readonly low: number;
  readonly high: number;
}

export interface OpeResult {
  readonly policy: string;
  readonly reward: RewardKind;
  readonly decisions: number;
  /** The mean observed reward: the logging policy's own value. */
  readonly loggedMean: number;
  /** (1/n) Σ wᵢ rᵢ, wᵢ = π(aᵢ|xᵢ) / μ(aᵢ|xᵢ). */
  readonly ips: Estimate;
  /** Σ wᵢ rᵢ / Σ wᵢ (undefined when every weight is 0: the candidate never agrees with the log). */
  readonly snips: Estimate | undefined;
  /** (1/n) Σ [Σₐ π(a|xᵢ) q̂(xᵢ, a) + wᵢ (rᵢ − q̂(xᵢ, aᵢ))], q̂ cross-fitted. */
  readonly dr: Estimate;
  /** The direct method (the model alone, Σₐ π q̂): biased by the model, for comparison; no interval. */
  readonly dm: number;
  /** (Σ w)² / Σ w²: how many logged decisions the IPS estimate is worth. */
  readonly effectiveSampleSize: number;
  readonly maxWeight: number;
  /** Decisions where the candidate could have chosen the logged connector (w > 0). */
  readonly matched: number;
  /** Decisions where the candidate puts mass on connectors the logger could not choose (propensity 0). */
  readonly unsupported: { readonly decisions: number; readonly meanMass: number };
}

export interface EvaluateOptions {
  readonly reward: RewardKind;
  /** Fees (net reward's margins); required for `net`. */
  readonly registry?: Registry;
  /** Cross-fitting folds of the reward model (decision i is in fold i mod folds). Default 2. */
  readonly folds?: number;
  readonly ridge?: number;
}

function estimate(terms: Float64Array, value = mean(terms)): Estimate {
  const n = terms.length;
  let ss = 0;
  for (const t of terms) ss += (t - value) ** 2;
  const se = n > 1 ? Math.sqrt(ss / (n - 1) / n) : NaN;
  return { value, se, low: value - Z95 * se, high: value + Z95 * se };
}

function mean(values: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < values.length; i += 1) s += values[i];
  return values.length ? s / values.length : NaN;
}

/**
 * The reward model's vocabulary: the currencies and buyer countries of the log itself (it is fit on the log),
 * ordered as a registry's would be.
 */
function logVocabulary(log: readonly LoggedDecision[]): RoutingVocabulary {
  return vocabularyOf(log.map((d) => ({ currencies: [d.context.currency], regions: d.context.country ? [d.context.country] : []})));
}

/** Evaluates a candidate on a log. */
export function evaluate(log: readonly LoggedDecision[], candidate: CandidatePolicy, options: EvaluateOptions): OpeResult {
  const n = log.length;
  const folds = options.folds ?? 2;
  if (n < 2 * folds) throw new Error(`the log has ${n} decisions; off-policy evaluation needs at least ${2 * folds}`);
  const { reward: kind, registry } = options;
  if (kind === 'net' && !registry) throw new Error('--reward net needs the connectors\' fees: pass --connectors FILE');

  const vocabulary = logVocabulary(log);
  const xs = log.map((d) => routingFeatures(d.context, vocabulary));
  const rewards = Float64Array.from(log, (d) => rewardOf(d, kind));
  const models = Array.from({ length: folds }, (_, k) =>
    SuccessModel.fit(
      log.flatMap((d, i) => (i % folds === k ? [] : [{ x: xs[i], connectorId: d.chosen, success: d.outcome === 'succeeded' ? 1 : 0 }])),
      routingDimension(vocabulary),
      options.ridge,
    ),
  );

  const ipsTerms = new Float64Array(n);
  const weights = new Float64Array(n);
  const drTerms = new Float64Array(n);
  const dmTerms = new Float64Array(n);
  let unsupportedDecisions = 0;
  let unsupportedMass = 0;
  for (let i = 0; i < n; i += 1) {
    const d = log[i];
    const pi = candidate.distribution(d);
    const mu = new Map(d.ranked.map((r) => [r.connectorId, r.propensity]));
    const model = models[i % folds];
    const q = (id: string) => model.predict(xs[i], id) * marginOf(d.context, kind === 'net' ? connectorOf(registry, id, '--reward net') : undefined, kind);
    let dm = 0;
    let missing = 0;
    for (const [id, p] of pi) {
      if (p <= 0) continue;
      if (!d.eligible.includes(id)) throw new Error(`${candidate.name} chose ${id}, which is not eligible for decision ${d.decisionId}`);
      dm += p * q(id);
      if (!((mu.get(id) ?? 0) > 0)) missing += p;
    }
    if (missing > 0) {
      unsupportedDecisions += 1;
      unsupportedMass += missing;
    }
    const w = (pi.get(d.chosen) ?? 0) / d.propensity;
    weights[i] = w;
    ipsTerms[i] = w * rewards[i];
    dmTerms[i] = dm;
    drTerms[i] = dm + w * (rewards[i] - q(d.chosen));
  }

  let sumW = 0;
  let sumW2 = 0;
  let maxWeight = 0;
  let matched = 0;
  for (const w of weights) {
    sumW += w;
    sumW2 += w * w;
    maxWeight = Math.max(maxWeight, w);
    if (w > 0) matched += 1;
  }
  let snips: Estimate | undefined;
  if (sumW > 0) {
    const value = mean(ipsTerms) / (sumW / n);
    // Delta method: the influence of decision i is wᵢ (rᵢ − V) / mean(w).
    const influence = Float64Array.from(weights, (w, i) => (w * (rewards[i] - value)) / (sumW / n));
    const se = estimate(influence, 0).se;
    snips = { value, se, low: value - Z95 * se, high: value + Z95 * se };
  }
  return {
    policy: candidate.name,
    reward: kind,
    decisions: n,
    loggedMean: mean(rewards),
    ips: estimate(ipsTerms),
    snips,
    dr: estimate(drTerms),
    dm: mean(dmTerms),
    effectiveSampleSize: sumW2 > 0 ? (sumW * sumW) / sumW2 : 0,
    maxWeight,
    matched,
    unsupported: { decisions: unsupportedDecisions, meanMass: unsupportedMass / n },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Output

const f4 = (v: number) => (Number.isFinite(v) ? v.toFixed(4) : 'n/a');
const int = (v: number) => Math.round(v).toLocaleString('en-US');

/** The report's lines: the table and the weights. */
export function formatResult(r: OpeResult, source: string): string[] {
  const ci = (e: Estimate | undefined) => (e ? `[${f4(e.low)}, ${f4(e.high)}]` : '(every weight is 0)').padEnd(20);
  const row = (name: string, e: Estimate | undefined) => `  ${name.padEnd(7)}${(e ? f4(e.value) : 'n/a').padStart(8)}   ${ci(e)}${e ? f4(e.se) : ''}`;
  const share = (k: number) => `${((100 * k) / r.decisions).toFixed(1)}%`;
  return [
    `Off-policy evaluation of "${r.policy}" on ${source}: ${int(r.decisions)} decisions, reward ${r.reward === 'success' ? 'success (1 if the first attempt succeeded)' : 'net (success × (1 − fee/amount))'}`,
    `  logged mean reward (the logging policy's own value): ${f4(r.loggedMean)}`,
    `  ${'method'.padEnd(7)}${'value'.padStart(8)}   ${'95% CI'.padEnd(20)}SE`,
    row('IPS', r.ips),
    row('SNIPS', r.snips),
    row('DR', r.dr),
    `  ${'DM'.padEnd(7)}${f4(r.dm).padStart(8)}   (the reward model alone: biased, no interval)`,
    `  intervals: ±1.96 standard errors of the per-decision terms (normal approximation)`,
    `  weights: the candidate could have made the logged choice in ${int(r.matched)} decisions (${share(r.matched)}); ` +
      `effective sample size ${int(r.effectiveSampleSize)} (${share(r.effectiveSampleSize)}); max weight ${r.maxWeight.toFixed(2)}`,
  ];
}

/** Warnings about the result: too few effective samples; unsupported actions. */
export function warningsOf(r: OpeResult): string[] {
  const out: string[] = [];
  if (r.effectiveSampleSize < 100) out.push(`WARNING: effective sample size ${r.effectiveSampleSize.toFixed(1)} < 100: the IPS and DR intervals' normal approximation is not to be trusted`);
  if (r.unsupported.decisions > 0) {
    out.push(
      `WARNING: in ${int(r.unsupported.decisions)} decision(s) (${((100 * r.unsupported.decisions) / r.decisions).toFixed(2)}%) the candidate puts mass on connectors the logger ` +
        `could not choose (propensity 0), ${(100 * r.unsupported.meanMass).toPrecision(2)}% of its first choices in all: IPS and SNIPS cannot see that part of its value ` +
        `(they count it as 0), DR sees it through the reward model only`,
    );
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// The command line

export const USAGE = [
  'usage: npm run ope -- --log FILE --policy cheapest|uniform|logged|bandit [--state FILE] [--connectors FILE]',
  '                      [--reward success|net] [--epsilon E] [--fee-weight L] [--json]',
  '  --log FILE         JSON lines, one logged decision a line (docs/routing-ope.md)',
  '  --policy P         the candidate: cheapest (lowest fee first), uniform (over the eligible connectors),',
  '                     logged (the logger itself: a sanity check), bandit (a BanditState, --state FILE)',
  '  --connectors FILE  a connector registry (JSON array of ConnectorDefinition): the fees, for cheapest, bandit and net',
  '  --reward R         success (default): 1 if the first attempt succeeded; net: success × (1 − fee/amount)',
  '  --epsilon E, --fee-weight L   the bandit candidate\'s exploration and fee weight (default DEFAULT_BANDIT\'s)',
  '  --json             print the result as JSON instead of the table',
].join('\n');

function readJson(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`cannot read ${what} ${path}: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`${what} ${path} is not JSON: ${(error as Error).message}`);
  }
}

const number = (text: string | undefined, flag: string): number | undefined => {
  if (text === undefined) return undefined;
  const v = Number(text);
  if (!Number.isFinite(v)) throw new Error(`${flag} "${text}" is not a number`);
  return v;
};

export function main(argv: readonly string[] = process.argv.slice(2)): void {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      log: { type: 'string' },
      policy: { type: 'string' },
      state: { type: 'string' },
      connectors: { type: 'string' },
      reward: { type: 'string', default: 'success' },
      epsilon: { type: 'string' },
      'fee-weight': { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (!values.log) throw new Error(`--log is required\n${USAGE}`);
  if (!values.policy) throw new Error(`--policy is required\n${USAGE}`);
  const reward = values.reward as RewardKind;
  if (!REWARD_KINDS.includes(reward)) throw new Error(`--reward "${values.reward}": use success or net`);
  const registry = values.connectors ? parseRegistry(readJson(values.connectors, '--connectors'), values.connectors) : undefined;

  let candidate: CandidatePolicy;
  switch (values.policy) {
    case 'cheapest':
      if (!registry) throw new Error('--policy cheapest needs the connectors\' fees: pass --connectors FILE');
      candidate = cheapestCandidate(registry);
      break;
    case 'uniform':
      candidate = uniformCandidate();
      break;
    case 'logged':
      candidate = loggedCandidate();
      break;
    case 'bandit': {
      if (!values.state) throw new Error('--policy bandit needs --state FILE (a BanditState JSON)');
      if (!registry) throw new Error('--policy bandit needs the connectors\' fees: pass --connectors FILE');
      const options: BanditOptions = {
        ...DEFAULT_BANDIT,
        epsilon: number(values.epsilon, '--epsilon') ?? DEFAULT_BANDIT.epsilon,
        feeWeight: number(values['fee-weight'], '--fee-weight') ?? DEFAULT_BANDIT.feeWeight,
      };
      candidate = banditCandidate(parseBanditState(readJson(values.state, '--state'), values.state), registry, options, `bandit (${values.state}, ε ${options.epsilon})`);
      break;
    }
    default:
      throw new Error(`--policy "${values.policy}": use cheapest, uniform, logged or bandit`);
  }

  let text: string;
  try {
    text = readFileSync(values.log, 'utf8');
  } catch (error) {
    throw new Error(`cannot read --log ${values.log}: ${(error as Error).message}`);
  }
  let log: LoggedDecision[];
  try {
    log = parseLog(text, reward);
  } catch (error) {
    throw new Error(`${values.log}: ${(error as Error).message}`);
  }
  let result: OpeResult;
  try {
    result = evaluate(log, candidate, { reward, registry });
  } catch (error) {
    throw new Error(`${values.log}: ${(error as Error).message}`);
  }
  if (values.json) console.log(JSON.stringify(result, null, 2));
  else for (const line of formatResult(result, values.log)) console.log(line);
  for (const line of warningsOf(result)) console.error(line);
}

if (require.main === module) {
  try {
    main();
  } catch (error) {
    console.error(`ope: ${(error as Error).message}`);
    process.exit(1);
  }
}
