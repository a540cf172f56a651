/**
 * The model candidate of docs/routing-model.md that the product does not run, as a simulator policy for
 * `npm run bench:routing-candidates` (the hierarchical cells, measured here first, are now the product's:
 * bandit.ts). It keeps everything of the product but the success model: eligibility, the circuit breaker,
 * ε-exploration and the propensities come from BanditPolicy.rank, given the candidate's scores (the same path as
 * a SageMaker endpoint's), and each score is (optimistic success) × (1 − fee / amount).
 *
 * - `glmPolicy`: a logistic (GLM) bandit per connector: online Laplace approximation (one Newton step per outcome,
 *   A⁻¹ kept by Sherman–Morrison, forgetting by inflating it by 1/γ), a pooled arm each new arm starts from, and
 *   UCB σ(θᵀx) + α·σ′(θᵀx)·‖x‖_{A⁻¹}.
 */
import { connectorFee } from '../../contracts/connectors';
import { BanditPolicy, DEFAULT_BANDIT, emptyBanditState, learnHealth, type BanditState } from '../../lambdas/routing/bandit';
import { routingFeatures, vocabularyOf, type RoutingContext } from '../../lambdas/routing/context';
import type { Scenario, SimConnector, SimPolicy } from './simulator';

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
