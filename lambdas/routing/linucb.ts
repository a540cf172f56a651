/**
 * Disjoint LinUCB (Li et al., 2010) with exponential forgetting: one ridge regression per connector of the
 * success indicator on the context features.
 *
 *   A ← γ·A + (1 − γ)·λ·I + x·xᵀ        b ← γ·b + r·x          (γ = 1: no forgetting)
 *   θ = A⁻¹·b     mean(x) = θᵀx     width(x) = √(xᵀ·A⁻¹·x)     UCB(x) = mean(x) + α·width(x)
 *
 * The state (A, b, n) is plain numbers, so it persists as JSON and merges by replaying updates. A starts at
 * λ·I; the forgetting term keeps it there in directions no longer seen, so slow drift is tracked without
 * the uncertainty blowing up. A⁻¹ is computed by Cholesky once per state and cached by the scorer.
 */

export interface ArmState {
  /** A, d × d, row-major. */
  readonly a: readonly number[];
  readonly b: readonly number[];
  /** Updates folded in (not discounted): for reporting and for minimum-data rules. */
  readonly n: number;
}

export interface LinUcbParams {
  /** Exploration weight α on the confidence width. */
  readonly alpha: number;
  /** Ridge λ: the prior precision. */
  readonly ridge: number;
  /** Forgetting factor γ per update, in (0, 1]. */
  readonly discount: number;
}

/** γ = 0.9999 keeps roughly the last 10,000 outcomes of an arm: measured best of 0.9995–1 by `npm run bench:routing`. */
export const DEFAULT_LINUCB: LinUcbParams = { alpha: 0.6, ridge: 1, discount: 0.9999 };

export function emptyArm(dimension: number, ridge: number): ArmState {
  const a = new Array<number>(dimension * dimension).fill(0);
  for (let i = 0; i < dimension; i += 1) a[i * dimension + i] = ridge;
  return { a, b: new Array<number>(dimension).fill(0), n: 0 };
}

/** The arm after one observation: reward `r` (here 1 success, 0 failure) for features `x`. */
export function updateArm(state: ArmState, x: ArrayLike<number>, r: number, params: LinUcbParams): ArmState {
  const d = x.length;
  if (state.b.length !== d) throw new Error(`updateArm: the arm has dimension ${state.b.length}, the features ${d}`);
  const g = params.discount;
  const a = new Array<number>(d * d);
  for (let i = 0; i < d; i += 1) {
    for (let j = 0; j < d; j += 1) a[i * d + j] = g * state.a[i * d + j] + x[i] * x[j] + (i === j ? (1 - g) * params.ridge : 0);
  }
  const b = state.b.map((v, i) => g * v + r * x[i]);
  return { a, b, n: state.n + 1 };
}

/** Cholesky factor L (lower, row-major) of a symmetric positive-definite matrix. */
function cholesky(a: readonly number[], d: number): Float64Array {
  const l = new Float64Array(d * d);
  for (let i = 0; i < d; i += 1) {
    for (let j = 0; j <= i; j += 1) {
      let sum = a[i * d + j];
      for (let k = 0; k < j; k += 1) sum -= l[i * d + k] * l[j * d + k];
      if (i === j) {
        if (!(sum > 0)) throw new Error('LinUCB: A is not positive definite');
        l[i * d + i] = Math.sqrt(sum);
      } else l[i * d + j] = sum / l[j * d + j];
    }
  }
  return l;
}

/** The inverse of a symmetric positive-definite matrix, from its Cholesky factor. */
export function inverseSpd(a: readonly number[], d: number): Float64Array {
  const l = cholesky(a, d);
  // L⁻¹ by forward substitution, then A⁻¹ = L⁻ᵀ·L⁻¹.
  const li = new Float64Array(d * d);
  for (let c = 0; c < d; c += 1) {
    for (let i = c; i < d; i += 1) {
      let sum = i === c ? 1 : 0;
      for (let k = c; k < i; k += 1) sum -= l[i * d + k] * li[k * d + c];
      li[i * d + c] = sum / l[i * d + i];
    }
  }
  const inv = new Float64Array(d * d);
  for (let i = 0; i < d; i += 1) {
    for (let j = 0; j <= i; j += 1) {
      let sum = 0;
      for (let k = i; k < d; k += 1) sum += li[k * d + i] * li[k * d + j];
      inv[i * d + j] = sum;
      inv[j * d + i] = sum;
    }
  }
  return inv;
}

/** Each arm state's A⁻¹, computed once (states are immutable: a learnt arm is a new object). */
const inverses = new WeakMap<ArmState, Float64Array>();

function inverseOf(state: ArmState): Float64Array {
  let inv = inverses.get(state);
  if (!inv) inverses.set(state, (inv = inverseSpd(state.a, state.b.length)));
  return inv;
}

/**
 * A scorer for one arm state: A⁻¹ (cached per state) and θ. With a `prior` (the pooled arm's θ), the ridge is
 * centred on it instead of on zero: θ = A⁻¹·(b + λ·prior), so an arm with little data scores as the pooled
 * estimate does, and its own data moves it away (a hierarchical prior: a new connector starts from what every
 * connector has shown).
 */
export class ArmScorer {
  private readonly inv: Float64Array;
  readonly theta: Float64Array;
  private readonly d: number;

  constructor(
    readonly state: ArmState,
    readonly prior?: ArrayLike<number>,
    ridge = 1,
  ) {
    this.d = state.b.length;
    this.inv = inverseOf(state);
    this.theta = new Float64Array(this.d);
    for (let i = 0; i < this.d; i += 1) {
      let sum = 0;
      for (let j = 0; j < this.d; j += 1) sum += this.inv[i * this.d + j] * (state.b[j] + (prior ? ridge * prior[j] : 0));
      this.theta[i] = sum;
    }
  }

  /** θᵀx: the estimated reward. */
  mean(x: ArrayLike<number>): number {
    let sum = 0;
    for (let i = 0; i < this.d; i += 1) sum += this.theta[i] * x[i];
    return sum;
  }

  /** √(xᵀA⁻¹x): the confidence width. */
  width(x: ArrayLike<number>): number {
    let sum = 0;
    for (let i = 0; i < this.d; i += 1) {
      let row = 0;
      for (let j = 0; j < this.d; j += 1) row += this.inv[i * this.d + j] * x[j];
      sum += x[i] * row;
    }
    return Math.sqrt(Math.max(0, sum));
  }
}
