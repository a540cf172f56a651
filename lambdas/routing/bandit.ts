/**
 * The routing policy: disjoint LinUCB on the success of each connector (linucb.ts), with a pooled prior and a
 * correction per segment cell (BanditState.cells), priced with the known fee schedule, behind the circuit
 * breaker (health.ts), with ε-greedy exploration so that every eligible, healthy connector keeps a known,
 * non-zero probability of being chosen first (the propensity logged for off-policy evaluation).
 *
 * Score of connector a for context x: (UCB_a(x) + c_a(cell)) · (1 − λ · fee_a / amount), where UCB_a(x) is the
 * optimistic linear estimate of a's success probability, c_a(cell) the cell's shrunk mean residual and λ the
 * merchant's fee weight. With λ = 1 the score is the
 * optimistic expected net revenue per unit of amount, which is what routing should maximise.
 *
 * The first choice is drawn from:
 * - each probing connector (health.ts): its probe share (together at most half);
 * - the rest over the healthy connectors: ε spread evenly, 1 − ε on the best score.
 * The ranked list is the choice first, then the others by score, demoted connectors last (fallbacks only).
 */
import { connectorFee, type ConnectorDefinition, type ConnectorKind } from '../../contracts/connectors';
import { routingDimension, routingFeatureNames, routingFeatures, sameVocabulary, segmentCell, type RoutingContext, type RoutingVocabulary } from './context';
import { DEFAULT_HEALTH, recordOutcome, statusAt, type HealthOptions, type HealthOutcome, type HealthState, type HealthStatus } from './health';
import { ArmScorer, DEFAULT_LINUCB, emptyArm, updateArm, type ArmState, type LinUcbParams } from './linucb';

export interface BanditOptions {
  readonly linucb: LinUcbParams;
  /** Share of first choices spread evenly over the healthy connectors. */
  readonly epsilon: number;
  /** λ: how much a unit of fee (as a share of the amount) costs against a unit of success. */
  readonly feeWeight: number;
  readonly health: HealthOptions;
  /** Centre each arm's ridge on the pooled arm (every connector's outcomes) instead of on zero. @default true */
  readonly pooledPrior?: boolean;
  /** Each connector's correction per segment cell (see BanditState.cells); false: the linear estimate alone. */
  readonly cells?: CellOptions | false;
}

export interface CellOptions {
  /** Pseudo-outcomes a cell's mean residual is shrunk with (towards 0, that is towards the linear estimate). */
  readonly shrinkage: number;
  /** Forgetting factor per outcome of the cell. */
  readonly discount: number;
}

/**
 * Measured on both simulated worlds (docs/routing-model.md, `npm run bench:routing-candidates`): 100 and 1,000
 * pseudo-outcomes did no better than 400.
 */
export const DEFAULT_CELLS: CellOptions = { shrinkage: 400, discount: 0.9999 };

export const DEFAULT_BANDIT: BanditOptions = { linucb: DEFAULT_LINUCB, epsilon: 0.03, feeWeight: 1, health: DEFAULT_HEALTH, cells: DEFAULT_CELLS };

/** A connector's outcomes in one segment cell: the discounted sum of (outcome − linear estimate), and their discounted count. */
export interface CellStats {
  readonly residual: number;
  readonly n: number;
}

/** The policy's learnt state: serialisable as JSON. */
export interface BanditState {
  /** The currencies and regions its features tell apart (context.ts); `dimension` follows from it. */
  readonly vocabulary: RoutingVocabulary;
  readonly dimension: number;
  /** Per connector id. */
  readonly arms: Readonly<Record<string, ArmState>>;
  /**
   * Every connector's outcomes in one arm: the prior each connector's arm is centred on (linucb.ts ArmScorer), so
   * a new connector, or one with few outcomes in a context, starts from what all of them have shown there.
   */
  readonly pooled?: ArmState;
  /**
   * Per connector id, per segment cell (context.ts segmentCell): what the linear arm gets wrong there. The score
   * adds the cell's mean residual shrunk towards 0 (residual / (n + shrinkage)), so an interaction the linear
   * features cannot represent (a connector that is better for large payments in one region on one network) is
   * learnt where the data shows it, without more parameters per arm. Absent in states stored before.
   */
  readonly cells?: Readonly<Record<string, Readonly<Record<string, CellStats>>>>;
  /**
   * The breaker's state per connector id. The stored model keeps none: the breaker's state is its own item,
   * folded by the feedback consumer and overlaid by the routers (model-cache.ts).
   */
  readonly health: HealthState;
}

export function emptyBanditState(vocabulary: RoutingVocabulary): BanditState {
  return { vocabulary, dimension: routingDimension(vocabulary), arms: {}, health: {} };
}

/**
 * The state under another vocabulary (the registry's, when it changed): each arm's A and b carried over by
 * feature name. A new slot starts as the ridge prior (no data); a dropped one's data is dropped. What was learnt
 * under `other` stays there, though `other` now holds fewer values: the forgetting factor replaces it as new
 * outcomes come. The state itself when the vocabulary is the same.
 */
export function withVocabulary(state: BanditState, vocabulary: RoutingVocabulary, ridge: number = DEFAULT_BANDIT.linucb.ridge): BanditState {
  if (sameVocabulary(state.vocabulary, vocabulary)) return state;
  const from = new Map(routingFeatureNames(state.vocabulary).map((name, i) => [name, i]));
  const at = routingFeatureNames(vocabulary).map((name) => from.get(name));
  const d = at.length;
  const D = state.dimension;
  const remap = (arm: ArmState): ArmState => {
    const a = new Array<number>(d * d).fill(0);
    for (let i = 0; i < d; i += 1) {
      const oi = at[i];
      for (let j = 0; j < d; j += 1) {
        const oj = at[j];
        a[i * d + j] = oi !== undefined && oj !== undefined ? arm.a[oi * D + oj] : i === j ? ridge : 0;
      }
    }
    return { a, b: at.map((o) => (o === undefined ? 0 : arm.b[o])), n: arm.n };
  };
  return {
    ...state,
    vocabulary,
    dimension: d,
    arms: Object.fromEntries(Object.entries(state.arms).map(([id, arm]) => [id, remap(arm)])),
    ...(state.pooled ? { pooled: remap(state.pooled) } : {}),
  };
}

export interface RankedConnector {
  readonly connectorId: string;
  readonly kind: ConnectorKind;
  readonly estimatedFeeMinor: number;
  /**
   * θᵀx plus the segment cell's correction, clipped to [0, 1]: the estimated success probability; null while the
   * connector has no outcome of its own.
   */
  readonly expectedSuccess: number | null;
  /** The outcomes its estimate rests on (processed attempts learnt). */
  readonly observations: number;
  /** The optimistic score the policy ranks by (see the header). */
  readonly score: number;
  readonly status: HealthStatus;
  /** The probability this connector had of being chosen first. */
  readonly propensity: number;
}

export interface RouteChoice {
  /** The choice first, then fallbacks by score, demoted connectors last. */
  readonly ranked: RankedConnector[];
  /** The propensity of the chosen (first) connector. */
  readonly propensity: number;
  /** The context's features under the state's vocabulary (what an outcome of the decision is learnt against). */
  readonly features: number[];
}

const clip01 = (v: number) => Math.min(1, Math.max(0, v));

/** Scores and chooses; holds the per-arm scorers of one state (build one per state version). */
export class BanditPolicy {
  private readonly scorers = new Map<string, ArmScorer>();
  private empty: ArmScorer | undefined;
  /** The pooled arm's θ: every arm's prior (absent before any outcome). */
  private readonly prior: Float64Array | undefined;

  /** `previous`: the policy of an earlier state, whose scorers are reused for the arms that did not change. */
  constructor(
    readonly state: BanditState,
    readonly options: BanditOptions = DEFAULT_BANDIT,
    previous?: BanditPolicy,
  ) {
    if (state.dimension !== routingDimension(state.vocabulary)) {
      throw new Error(`routing state has dimension ${state.dimension}, its vocabulary ${routingDimension(state.vocabulary)}: reset the routing model`);
    }
    const samePrior =
      previous !== undefined && previous.state.dimension === state.dimension && previous.state.pooled === state.pooled && previous.options.linucb.ridge === options.linucb.ridge && previous.options.pooledPrior === options.pooledPrior;
    this.prior = samePrior ? previous.prior : state.pooled && options.pooledPrior !== false ? new ArmScorer(state.pooled).theta : undefined;
    if (samePrior) {
      this.empty = previous.empty;
      for (const [id, scorer] of previous.scorers) if (state.arms[id] === scorer.state) this.scorers.set(id, scorer);
    }
  }

  private scorer(connectorId: string): ArmScorer {
    const { ridge } = this.options.linucb;
    const arm = this.state.arms[connectorId];
    if (!arm) return (this.empty ??= new ArmScorer(emptyArm(this.state.dimension, ridge), this.prior, ridge));
    let s = this.scorers.get(connectorId);
    if (!s) {
      s = new ArmScorer(arm, this.prior, ridge);
      this.scorers.set(connectorId, s);
    }
    return s;
  }

  /**
   * Ranks the eligible connectors for a context. `random` draws the exploration (inject a seeded one in
   * tests and simulations). `feeWeight` overrides λ (per merchant). `scores` (a SageMaker endpoint's, per
   * connector id) replace the model's scores; health, exploration and propensities stay the same.
   */
  rank(
    context: RoutingContext,
    eligible: readonly ConnectorDefinition[],
    random: () => number,
    feeWeight: number = this.options.feeWeight,
    scores?: Readonly<Record<string, number>>,
  ): RouteChoice {
    if (eligible.length === 0) throw new Error('rank: no eligible connector (check eligibility first)');
    const x = routingFeatures(context, this.state.vocabulary);
    const { alpha } = this.options.linucb;
    const cell = segmentCell(context);
    const scored = eligible.map((c) => {
      const s = this.scorer(c.id);
      const mean = s.mean(x) + cellCorrection(this.state, c.id, cell, this.options);
      const estimatedFeeMinor = connectorFee(c.fee, context);
      const margin = 1 - (feeWeight * estimatedFeeMinor) / context.amountMinor;
      const observations = this.state.arms[c.id]?.n ?? 0;
      return {
        connector: c,
        estimatedFeeMinor,
        expectedSuccess: observations > 0 ? clip01(mean) : null,
        observations,
        score: scores?.[c.id] ?? (mean + alpha * s.width(x)) * margin,
        status: statusAt(this.state.health[c.id], context.time),
      };
    });
    const byScore = [...scored].sort((a, b) => b.score - a.score || a.connector.id.localeCompare(b.connector.id));
    const healthy = byScore.filter((s) => s.status === 'healthy');
    const probing = byScore.filter((s) => s.status === 'probing');
    // Who may be chosen first, and with what probability.
    const main = healthy.length ? healthy : probing.length ? probing : byScore;
    // Each probing connector is put first on its share of the decisions (health.ts), together at most half.
    const shares = probing.map((s) => this.state.health[s.connector.id]?.share ?? this.options.health.probeShare);
    const wanted = shares.reduce((sum, share) => sum + share, 0);
    const probeMass = healthy.length ? Math.min(wanted, 0.5) : 0;
    const p = new Map<string, number>();
    if (healthy.length) probing.forEach((s, i) => p.set(s.connector.id, (probeMass * shares[i]!) / wanted));
    const eps = main.length > 1 ? this.options.epsilon : 0;
    main.forEach((s, i) => p.set(s.connector.id, (p.get(s.connector.id) ?? 0) + (1 - probeMass) * (eps / main.length + (i === 0 ? 1 - eps : 0))));

    // Draw the first choice from p (in byScore order, so a draw is reproducible).
    let u = random();
    let chosen = main[0];
    for (const s of byScore) {
      const q = p.get(s.connector.id) ?? 0;
      if (q > 0 && u < q) {
        chosen = s;
        break;
      }
      u -= q;
    }
    const rest = byScore.filter((s) => s !== chosen);
    const ordered = [chosen, ...rest.filter((s) => s.status !== 'demoted'), ...rest.filter((s) => s.status === 'demoted')];
    return {
      ranked: ordered.map((s) => ({
        connectorId: s.connector.id,
        kind: s.connector.kind,
        estimatedFeeMinor: s.estimatedFeeMinor,
        expectedSuccess: s.expectedSuccess,
        observations: s.observations,
        score: s.score,
        status: s.status,
        propensity: p.get(s.connector.id) ?? 0,
      })),
      propensity: p.get(chosen.connector.id) ?? 0,
      features: Array.from(x),
    };
  }
}

/** The correction of a connector's linear estimate in a segment cell (0 without cells, or without outcomes there). */
function cellCorrection(state: BanditState, connectorId: string, cell: string, options: BanditOptions): number {
  if (!options.cells) return 0;
  const stats = state.cells?.[connectorId]?.[cell];
  return stats ? stats.residual / (stats.n + options.cells.shrinkage) : 0;
}

/** What one attempt on a connector gave. */
export interface AttemptFeedback {
  readonly connectorId: string;
  readonly outcome: HealthOutcome;
  /** The decision's segment cell (context.ts segmentCell); absent: no cell learns the outcome. */
  readonly cell?: string;
  /** The decision's features (RouteChoice.features) under the state's vocabulary. */
  readonly features: ArrayLike<number>;
  /** Epoch ms of the outcome. */
  readonly time: number;
}

/** The state after one attempt's outcome: the arm learns success or not, the breaker counts failures. */
export function learn(state: BanditState, feedback: AttemptFeedback, options: BanditOptions = DEFAULT_BANDIT): BanditState {
  return learnHealth(learnArm(state, feedback, options), feedback, options);
}

/**
 * The arm's half of `learn`: the connector's LinUCB arm learns, in the decision's context, whether a processed
 * attempt authorised (1) or was declined (0). An error or a timeout is the breaker's (health.ts), not the arm's: an
 * outage says nothing of how the connector authorises, and an arm that learnt it would shun the connector for
 * thousands of payments after it recovered.
 */
export function learnArm(state: BanditState, feedback: AttemptFeedback, options: BanditOptions = DEFAULT_BANDIT): BanditState {
  if (feedback.features.length !== state.dimension) {
    throw new Error(`learn: features of dimension ${feedback.features.length}, the model ${state.dimension}`);
  }
  if (feedback.outcome !== 'succeeded' && feedback.outcome !== 'declined') return state;
  const { ridge } = options.linucb;
  const arm = state.arms[feedback.connectorId] ?? emptyArm(state.dimension, ridge);
  const reward = feedback.outcome === 'succeeded' ? 1 : 0;
  return {
    ...state,
    arms: { ...state.arms, [feedback.connectorId]: updateArm(arm, feedback.features, reward, options.linucb) },
    pooled: updateArm(state.pooled ?? emptyArm(state.dimension, ridge), feedback.features, reward, options.linucb),
    ...(options.cells && feedback.cell !== undefined ? { cells: learnCell(state, arm, feedback.connectorId, feedback.cell, feedback.features, reward, options) } : {}),
  };
}

/** The cells after one outcome: its cell learns how far the outcome was from the arm's linear estimate before it. */
function learnCell(
  state: BanditState,
  arm: ArmState,
  connectorId: string,
  cell: string,
  features: ArrayLike<number>,
  reward: number,
  options: BanditOptions,
): BanditState['cells'] {
  const { discount } = options.cells as CellOptions;
  const { ridge } = options.linucb;
  const prior = state.pooled && options.pooledPrior !== false ? new ArmScorer(state.pooled).theta : undefined;
  const residual = reward - new ArmScorer(arm, prior, ridge).mean(features);
  const own = state.cells?.[connectorId] ?? {};
  const stats = own[cell] ?? { residual: 0, n: 0 };
  return { ...state.cells, [connectorId]: { ...own, [cell]: { residual: discount * stats.residual + residual, n: discount * stats.n + 1 } } };
}

/** The breaker's half of `learn`: the connector's health counts the attempt (health.ts). */
export function learnHealth(
  state: BanditState,
  feedback: Pick<AttemptFeedback, 'connectorId' | 'outcome' | 'time'>,
  options: BanditOptions = DEFAULT_BANDIT,
): BanditState {
  return {
    ...state,
    health: { ...state.health, [feedback.connectorId]: recordOutcome(state.health[feedback.connectorId], feedback.outcome, feedback.time, options.health) },
  };
}
