/**
 * The model candidates of docs/routing-model.md beside today's LinUCB (banditSimPolicy), as simulator policies,
 * for `npm run bench:routing-candidates`. Each keeps everything of the product but the success model: eligibility,
 * the circuit breaker, ε-exploration and the propensities come from BanditPolicy.rank, given the candidate's
 * scores (the same path as a SageMaker endpoint's), and each score is (optimistic success) × (1 − fee / amount).
 *
 * - `hierarchicalPolicy`: today's LinUCB arms, plus a correction per connector and segment cell (region |
 *   method | network | amount band | risk band): the cell's discounted mean residual of the arm, shrunk toward 0
 *   (that is, toward the linear estimate) with `shrinkage` pseudo-outcomes. It represents any interaction inside a
 *   cell without more parameters per arm.
 * - `glmPolicy`: a logistic (GLM) bandit per connector: online Laplace approximation (one Newton step per outcome,
 *   A⁻¹ kept by Sherman–Morrison, forgetting by inflating it by 1/γ), a pooled arm each new arm starts from, and
 *   UCB σ(θᵀx) + α·σ′(θᵀx)·‖x‖_{A⁻¹}.
 */
import { connectorFee } from '../../contracts/connectors';
import { currencyExponent } from '../../contracts/money';
import { BanditPolicy, DEFAULT_BANDIT, emptyBanditState, learnArm, learnHealth, type BanditState } from '../../lambdas/routing/bandit';
import { regionKey, routingFeatures, vocabularyOf, type RoutingContext } from '../../lambdas/routing/context';
import { ArmScorer, emptyArm } from '../../lambdas/routing/linucb';
import type { Scenario, SimConnector, SimPolicy } from './simulator';

/** The segment cell of a payment: region | method | network | amount band (USD-ish major units) | risk band. */
export function segmentCell(c: RoutingContext): string {
  const major = c.amountMinor / 10 ** currencyExponent(c.currency);
  const band = major < 20 ? 0 : major < 100 ? 1 : major < 500 ? 2 : 3;
  const score = c.fraudScore ?? 0;
  const risk = score < 0.2 ? 0 : score < 0.5 ? 1 : 2;
  return `${regionKey(c.country) ?? '-'}|${c.method}|${c.method === 'card' ? (c.network ?? 'other') : ''}|${band}|${risk}`;
}

/** The policy's ranking with the candidate's scores in place of LinUCB's (health, exploration and propensities kept). */
function rankWith(policy: BanditPolicy, random: () => number, score: (c: SimConnector, x: Float64Array, context: RoutingContext) => number) {
  return (payment: { readonly context: RoutingContext }, eligible: readonly SimConnector[]) => {
    const x = routingFeatures(payment.context, policy.state.vocabulary);
    const margin = (c: SimConnector) => 1 - connectorFee(c.fee, payment.context) / payment.context.amountMinor;
    const scores = Object.fromEntries(eligible.map((c) => [c.id, score(c, x, payment.context) * margin(c)]));
    const choice = policy.rank(payment.context, eligible, random, undefined, scores);
    return { order: choice.ranked.map((r) => r.connectorId), propensity: choice.propensity, features: choice.features, probe: choice.ranked[0].status === 'probing' };
  };
}

export function hierarchicalPolicy(random: () => number, scenario: Scenario, shrinkage = 400, discount = 0.9999): SimPolicy {
  let state: BanditState = emptyBanditState(vocabularyOf(scenario.connectors));
  let policy = new BanditPolicy(state, DEFAULT_BANDIT);
  const { alpha, ridge } = DEFAULT_BANDIT.linucb;
  const cells = new Map<string, { residual: number; n: number }>();
  const scorers = new Map<string, { arm: unknown; prior: unknown; scorer: ArmScorer }>();
  const scorerOf = (id: string) => {
    const arm = state.arms[id];
    let entry = scorers.get(id);
    if (!entry || entry.arm !== arm || entry.prior !== state.pooled) {
      const prior = state.pooled ? new ArmScorer(state.pooled).theta : undefined;
      entry = { arm, prior: state.pooled, scorer: new ArmScorer(arm ?? emptyArm(state.dimension, ridge), prior, ridge) };
      scorers.set(id, entry);
    }
    return entry.scorer;
  };
  return {
    name: `hierarchical cells (shrinkage ${shrinkage})`,
    rank(payment, eligible) {
      const cell = segmentCell(payment.context);
      return rankWith(policy, random, (c, x) => {
        const s = scorerOf(c.id);
        const stats = cells.get(`${c.id}#${cell}`);
        const correction = stats ? stats.residual / (stats.n + shrinkage) : 0;
        return s.mean(x) + correction + alpha * s.width(x);
      })(payment, eligible);
    },
    observe(report) {
      const features = routingFeatures(report.payment.context, state.vocabulary);
      if (report.outcome === 'succeeded' || report.outcome === 'declined') {
        const key = `${report.connectorId}#${segmentCell(report.payment.context)}`;
        const stats = cells.get(key) ?? { residual: 0, n: 0 };
        const residual = (report.outcome === 'succeeded' ? 1 : 0) - scorerOf(report.connectorId).mean(features);
        cells.set(key, { residual: discount * stats.residual + residual, n: discount * stats.n + 1 });
      }
      state = learnArm(state, { connectorId: report.connectorId, outcome: report.outcome, features, time: report.time }, DEFAULT_BANDIT);
      policy = new BanditPolicy(state, DEFAULT_BANDIT, policy);
    },
    observeFast(report) {
      state = learnHealth(state, { connectorId: report.connectorId, outcome: report.outcome, time: report.time }, DEFAULT_BANDIT);
      policy = new BanditPolicy(state, DEFAULT_BANDIT, policy);
    },
  };
}

interface LogisticArm {
  readonly theta: Float64Array;
  /** A⁻¹, d × d, row-major. */
  readonly inverse: Float64Array;
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

function times(m: Float64Array, x: ArrayLike<number>, d: number): Float64Array {
  const out = new Float64Array(d);
  for (let i = 0; i < d; i += 1) {
    let sum = 0;
    for (let j = 0; j < d; j += 1) sum += m[i * d + j] * x[j];
    out[i] = sum;
  }
  return out;
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < a.length; i += 1) sum += a[i] * b[i];
  return sum;
}

/** One Newton step of the arm on (x, y), A⁻¹ first inflated by 1/γ (forgetting). */
function learnLogistic(arm: LogisticArm, x: ArrayLike<number>, y: number, d: number, discount: number): void {
  for (let i = 0; i < d * d; i += 1) arm.inverse[i] /= discount;
  const mu = sigmoid(dot(arm.theta, x));
  const w = Math.max(mu * (1 - mu), 0.02);
  const px = times(arm.inverse, x, d);
  const denominator = 1 + w * dot(px, x);
  for (let i = 0; i < d; i += 1) for (let j = 0; j < d; j += 1) arm.inverse[i * d + j] -= (w * px[i] * px[j]) / denominator;
  const step = times(arm.inverse, x, d);
  for (let i = 0; i < d; i += 1) arm.theta[i] += step[i] * (y - mu);
}

export function glmPolicy(random: () => number, scenario: Scenario, alpha = 2, discount = 0.9999, ridge = 1): SimPolicy {
  let state: BanditState = emptyBanditState(vocabularyOf(scenario.connectors));
  let policy = new BanditPolicy(state, DEFAULT_BANDIT);
  const d = state.dimension;
  const fresh = (from?: LogisticArm): LogisticArm => {
    const inverse = new Float64Array(d * d);
    for (let i = 0; i < d; i += 1) inverse[i * d + i] = 1 / ridge;
    return { theta: from ? Float64Array.from(from.theta) : new Float64Array(d), inverse };
  };
  const pooled = fresh();
  const arms = new Map<string, LogisticArm>();
  const armOf = (id: string) => {
    let arm = arms.get(id);
    if (!arm) arms.set(id, (arm = fresh(pooled)));
    return arm;
  };
  return {
    name: `logistic (GLM) bandit (α ${alpha})`,
    rank(payment, eligible) {
      return rankWith(policy, random, (c, x) => {
        const arm = armOf(c.id);
        const mu = sigmoid(dot(arm.theta, x));
        return mu + alpha * mu * (1 - mu) * Math.sqrt(Math.max(0, dot(x, times(arm.inverse, x, d))));
      })(payment, eligible);
    },
    observe(report) {
      if (report.outcome !== 'succeeded' && report.outcome !== 'declined') return;
      const x = routingFeatures(report.payment.context, state.vocabulary);
      const y = report.outcome === 'succeeded' ? 1 : 0;
      learnLogistic(armOf(report.connectorId), x, y, d, discount);
      learnLogistic(pooled, x, y, d, discount);
    },
    observeFast(report) {
      state = learnHealth(state, { connectorId: report.connectorId, outcome: report.outcome, time: report.time }, DEFAULT_BANDIT);
      policy = new BanditPolicy(state, DEFAULT_BANDIT, policy);
    },
  };
}
