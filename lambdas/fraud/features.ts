/**
 * The fraud features: ONE definition, used online by the fraud Lambda (state from the store) and offline by
 * the training pipeline (`npm run features` replays a CSV in time order with in-memory state). Both call
 * `featureVector` with the state *before* a transaction, then `observe` it, and `observeLabel` when its
 * label is known, so training and serving cannot skew. See docs/fraud-ml.md for the table of features.
 *
 * No leakage: labels are only read for transactions older than t − D (D = the feedback delay); terminal
 * risk windows are whole UTC days ending D days before the transaction's day; nothing at or after t is
 * used. A missing value is NaN, never 0.
 */
import { usdValue } from './usd';

export interface FeatureTransaction {
  readonly txId: string;
  /** Epoch milliseconds. */
  readonly time: number;
  readonly customerId: string;
  readonly terminalId: string;
  /** Integer minor units. */
  readonly amountMinor: number;
  readonly currency: string;
  readonly deviceId?: string;
  /** The customer's (billing) country. */
  readonly country?: string;
  /** The terminal's country. */
  readonly merchantCountry?: string;
}

export interface FeatureOptions {
  /** Days after a transaction before its label may be used. */
  readonly feedbackDelayDays: number;
}

export const DEFAULT_FEATURE_OPTIONS: FeatureOptions = { feedbackDelayDays: 7 };

/** A past transaction of a customer, as the state keeps it. */
export interface CustomerTxn {
  readonly id: string;
  readonly t: number;
  /** Its value in US dollars at the reference rate (usd.ts): a feature value, not money. */
  readonly amount: number;
  /** The label once known: true fraud, false legitimate. */
  readonly fraud?: boolean;
  /** The terminal's graph snapshot just before this transaction (graph.ts). */
  readonly z?: readonly number[];
}

export interface CustomerState {
  readonly firstSeen: number;
  /** The customer's transactions of the last 30 + D days, oldest first. */
  readonly recent: readonly CustomerTxn[];
  /** Every terminal, device and currency seen, sorted. */
  readonly terminals: readonly string[];
  readonly devices: readonly string[];
  readonly currencies: readonly string[];
}

export interface DayCount {
  /** UTC day: days since the epoch. */
  readonly day: number;
  readonly n: number;
  readonly fraud: number;
}

/** A recent transaction at a terminal, for the graph: the customer's snapshot just before it (graph.ts). */
export interface TerminalEdge {
  readonly id: string;
  readonly t: number;
  /** Its value in US dollars at the reference rate (usd.ts). */
  readonly amount: number;
  readonly z?: readonly number[];
}

export interface TerminalState {
  readonly firstSeen: number;
  /** Transactions and known frauds per UTC day for the last 30 + D + 1 days, oldest first. */
  readonly days: readonly DayCount[];
  /** The terminal's most recent transactions (at most GRAPH_EDGES), oldest first. */
  readonly edges?: readonly TerminalEdge[];
}

/** The graph snapshots a transaction leaves on the two nodes' new edge (graph.ts `graphInputs`). */
export interface EdgeSnapshots {
  /** The customer's snapshot: kept on the terminal's edge. */
  readonly customer: readonly number[];
  /** The terminal's snapshot: kept on the customer's transaction. */
  readonly terminal: readonly number[];
}

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const WINDOWS = [1, 7, 30] as const;
/** A past amount above this multiple of the customer's 30-day median counts as a high one (cust_high_share_7d). */
const HIGH_MULTIPLE = 3;
/** MAD × this estimates the standard deviation of normal data (the robust z-score's scale). */
const MAD_TO_STD = 1.4826;
/** The most recent transactions a customer's state keeps (the store reads back as many). */
export const MAX_RECENT = 2_000;
/** The recent edges a terminal's state keeps for the graph (its K neighbours; graph.ts reads no more). */
export const GRAPH_EDGES = 8;

export const FEATURE_NAMES = [
  'amount',
  'log_amount',
  ...WINDOWS.map((w) => `cust_count_${w}d`),
  ...WINDOWS.map((w) => `cust_amount_mean_${w}d`),
  'amount_over_cust_mean_30d',
  'amount_z_30d',
  'cust_known_fraud_30d',
  'cust_count_1h',
  'log_gap_prev_cust',
  'cust_amount_median_30d',
  'amount_over_cust_median_30d',
  'amount_robust_z_30d',
  'amount_over_cust_max_30d',
  'cust_high_share_7d',
  ...WINDOWS.map((w) => `term_count_${w}d`),
  ...WINDOWS.map((w) => `term_risk_${w}d`),
  'term_count_recent_1d',
  'term_risk_last_day',
  'term_days_since_fraud',
  'term_fraud_run_days',
  'hour',
  'is_weekend',
  'is_night',
  'country_mismatch',
  'currency_new_for_customer',
  'first_seen_customer',
  'first_seen_terminal',
  'first_seen_pair',
  'first_seen_device',
] as const;

export type FeatureName = (typeof FEATURE_NAMES)[number];

/** The features whose values are amounts in US dollars (usd.ts): a reason's detail says so. */
export const DOLLAR_FEATURES: ReadonlySet<FeatureName> = new Set<FeatureName>([
  'amount',
  ...WINDOWS.map((w) => `cust_amount_mean_${w}d` as const),
  'cust_amount_median_30d',
]);

/**
 * The features in groups, for ablations (`npm run bench:fraud-protocol -- --ablation`): every feature is in
 * exactly one group (tested).
 */
export const FEATURE_GROUPS: Readonly<Record<string, readonly FeatureName[]>> = {
  amount: ['amount', 'log_amount'],
  customer_windows: [
    ...WINDOWS.map((w) => `cust_count_${w}d` as const),
    ...WINDOWS.map((w) => `cust_amount_mean_${w}d` as const),
    'amount_over_cust_mean_30d',
    'amount_z_30d',
  ],
  customer_known_fraud: ['cust_known_fraud_30d'],
  customer_velocity: ['cust_count_1h', 'log_gap_prev_cust'],
  customer_robust_amount: ['cust_amount_median_30d', 'amount_over_cust_median_30d', 'amount_robust_z_30d', 'amount_over_cust_max_30d', 'cust_high_share_7d'],
  terminal_windows: [...WINDOWS.map((w) => `term_count_${w}d` as const), ...WINDOWS.map((w) => `term_risk_${w}d` as const), 'term_count_recent_1d'],
  terminal_recency: ['term_risk_last_day', 'term_days_since_fraud', 'term_fraud_run_days'],
  time: ['hour', 'is_weekend', 'is_night'],
  novelty: ['country_mismatch', 'currency_new_for_customer', 'first_seen_customer', 'first_seen_terminal', 'first_seen_pair', 'first_seen_device'],
};

export function dayIndex(time: number): number {
  return Math.floor(time / DAY_MS);
}

/**
 * Scratch space for the 30-day amounts and their deviations: reused across calls, so a customer at the
 * MAX_RECENT cap costs no allocation per score (one process scores one transaction at a time).
 */
let scratch = new Float64Array(64);
let deviations = new Float64Array(64);

function ensureScratch(n: number): void {
  if (scratch.length >= n) return;
  const size = Math.max(n, scratch.length * 2);
  scratch = new Float64Array(size);
  deviations = new Float64Array(size);
}

/** The k-th smallest (0-based) of a[0..n), by quickselect; reorders a[0..n). */
function select(a: Float64Array, n: number, k: number): number {
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i += 1;
      while (a[j] > pivot) j -= 1;
      if (i <= j) {
        const swap = a[i];
        a[i] = a[j];
        a[j] = swap;
        i += 1;
        j -= 1;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k];
  }
  return a[k];
}

/** The median of a[0..n) (NaN for none); reorders a[0..n). Exact: the same value a sort would give. */
function median(a: Float64Array, n: number): number {
  if (n === 0) return NaN;
  const upper = select(a, n, n >> 1);
  if (n % 2) return upper;
  // The lower middle is the largest of the part below the upper middle, which select left in a[0..n/2).
  let lower = -Infinity;
  for (let i = 0; i < n >> 1; i += 1) if (a[i] > lower) lower = a[i];
  return (lower + upper) / 2;
}

function flag(value: boolean): number {
  return value ? 1 : 0;
}

/** The feature vector of `tx` from the state before it (undefined state: never seen). */
export function featureVector(
  tx: FeatureTransaction,
  customer: CustomerState | undefined,
  terminal: TerminalState | undefined,
  options: FeatureOptions = DEFAULT_FEATURE_OPTIONS,
): Float64Array {
  const out = new Float64Array(FEATURE_NAMES.length);
  let i = 0;
  const put = (value: number) => {
    out[i] = value;
    i += 1;
  };
  const t = tx.time;
  const delayMs = options.feedbackDelayDays * DAY_MS;
  const amount = usdValue(tx.amountMinor, tx.currency);
  put(amount);
  put(Math.log1p(amount));

  // Customer spending windows over [t − w, t), in one pass. Labels only of transactions older than t − D.
  const counts = [0, 0, 0];
  const sums = [0, 0, 0];
  let sumSquares30 = 0;
  let knownFraud = 0;
  let count1h = 0;
  let previous = -Infinity;
  let n30Amounts = 0;
  ensureScratch(customer?.recent.length ?? 0);
  for (const p of customer?.recent ?? []) {
    if (p.t >= t) continue;
    for (let w = 0; w < WINDOWS.length; w += 1) {
      if (p.t >= t - WINDOWS[w] * DAY_MS) {
        counts[w] += 1;
        sums[w] += p.amount;
      }
    }
    if (p.t >= t - 30 * DAY_MS) {
      sumSquares30 += p.amount * p.amount;
      scratch[n30Amounts] = p.amount;
      n30Amounts += 1;
    }
    if (p.t >= t - HOUR_MS) count1h += 1;
    if (p.t > previous) previous = p.t;
    if (p.fraud === true && p.t < t - delayMs && p.t >= t - delayMs - 30 * DAY_MS) knownFraud += 1;
  }
  for (let w = 0; w < WINDOWS.length; w += 1) put(counts[w]);
  for (let w = 0; w < WINDOWS.length; w += 1) put(counts[w] ? sums[w] / counts[w] : NaN);
  const n30 = counts[2];
  const mean30 = n30 ? sums[2] / n30 : NaN;
  put(n30 && mean30 > 0 ? amount / mean30 : NaN);
  if (n30 >= 2) {
    // Two-pass variance for exactness would need the values again; E[x²] − mean² is exact enough here and
    // identical online and offline (same code, same order of additions).
    const variance = Math.max(0, sumSquares30 / n30 - mean30 * mean30);
    put(variance > 1e-12 * mean30 * mean30 ? (amount - mean30) / Math.sqrt(variance) : NaN);
  } else put(NaN);
  put(knownFraud);
  put(count1h);
  put(previous > -Infinity ? Math.log1p((t - previous) / 1000) : NaN);
  // Robust statistics of the 30-day amounts: a fraudster's own spending inflates the mean and the std,
  // not the median.
  let max30 = 0;
  for (let i = 0; i < n30Amounts; i += 1) if (scratch[i] > max30) max30 = scratch[i];
  const median30 = median(scratch, n30Amounts);
  put(median30);
  put(median30 > 0 ? amount / median30 : NaN);
  if (n30Amounts >= 3) {
    for (let i = 0; i < n30Amounts; i += 1) deviations[i] = Math.abs(scratch[i] - median30);
    const mad = median(deviations, n30Amounts);
    put(mad > 1e-9 * Math.max(1, median30) ? (amount - median30) / (MAD_TO_STD * mad) : NaN);
  } else put(NaN);
  put(max30 > 0 ? amount / max30 : NaN);
  if (counts[1] > 0 && median30 > 0) {
    let high = 0;
    for (const p of customer?.recent ?? []) if (p.t < t && p.t >= t - 7 * DAY_MS && p.amount > HIGH_MULTIPLE * median30) high += 1;
    put(high / counts[1]);
  } else put(NaN);

  // Terminal risk windows: whole days [day(t) − D − w, day(t) − D).
  const today = dayIndex(t);
  const labelledUntil = today - options.feedbackDelayDays; // exclusive
  const termN = [0, 0, 0];
  const termFraud = [0, 0, 0];
  let recentN = 0;
  const labelledDays: DayCount[] = [];
  for (const c of terminal?.days ?? []) {
    if (c.day >= today - 1 && c.day <= today) recentN += c.n;
    if (c.day >= labelledUntil) continue;
    if (c.day >= labelledUntil - 30 && c.n > 0) labelledDays.push(c);
    for (let w = 0; w < WINDOWS.length; w += 1) {
      if (c.day >= labelledUntil - WINDOWS[w]) {
        termN[w] += c.n;
        termFraud[w] += c.fraud;
      }
    }
  }
  for (let w = 0; w < WINDOWS.length; w += 1) put(termN[w]);
  for (let w = 0; w < WINDOWS.length; w += 1) put(termN[w] ? termFraud[w] / termN[w] : NaN);
  // Yesterday and today so far (no labels involved).
  put(recentN);
  // The terminal's labelled days of the last 30 (days with transactions, oldest first): the latest one's
  // fraud share, how long since a known fraud, and how long its current run of days with frauds has lasted
  // (a compromise in progress; 0 when the latest labelled day had none).
  const last = labelledDays.at(-1);
  put(last ? last.fraud / last.n : NaN);
  let lastFraudDay = -Infinity;
  for (const c of labelledDays) if (c.fraud > 0) lastFraudDay = c.day;
  put(lastFraudDay > -Infinity ? labelledUntil - lastFraudDay : NaN);
  if (last) {
    let runStart = labelledUntil;
    for (let i = labelledDays.length - 1; i >= 0 && labelledDays[i].fraud > 0; i -= 1) runStart = labelledDays[i].day;
    put(labelledUntil - runStart);
  } else put(NaN);

  const date = new Date(t);
  const hour = date.getUTCHours();
  put(hour);
  put(flag(date.getUTCDay() === 0 || date.getUTCDay() === 6));
  put(flag(hour < 6));
  put(tx.country && tx.merchantCountry ? flag(tx.country !== tx.merchantCountry) : NaN);
  put(customer ? flag(!customer.currencies.includes(tx.currency)) : NaN);
  put(flag(!customer));
  put(flag(!terminal));
  put(flag(!customer || !customer.terminals.includes(tx.terminalId)));
  put(tx.deviceId ? flag(!customer || !customer.devices.includes(tx.deviceId)) : NaN);
  return out;
}

/** Adds a value to a set kept as a sorted list (the store keeps the same set: every value ever seen). */
function remember(list: readonly string[], value: string | undefined): readonly string[] {
  if (value === undefined || list.includes(value)) return list;
  return [...list, value].sort();
}

/** The terminal's recent edges with one more, in time order, the newest GRAPH_EDGES kept. */
function addEdge(edges: readonly TerminalEdge[] | undefined, edge: TerminalEdge): TerminalEdge[] {
  const next = (edges ?? []).slice();
  let at = next.length;
  while (at > 0 && (next[at - 1].t > edge.t || (next[at - 1].t === edge.t && next[at - 1].id > edge.id))) at -= 1;
  next.splice(at, 0, edge);
  return next.length > GRAPH_EDGES ? next.slice(next.length - GRAPH_EDGES) : next;
}

/** Folds a transaction into the states (returns new states; the inputs are not changed). */
export function observe(
  tx: FeatureTransaction,
  customer: CustomerState | undefined,
  terminal: TerminalState | undefined,
  options: FeatureOptions = DEFAULT_FEATURE_OPTIONS,
  snapshots?: EdgeSnapshots,
): { customer: CustomerState; terminal: TerminalState } {
  const horizon = tx.time - (30 + options.feedbackDelayDays) * DAY_MS;
  const kept = customer?.recent ?? [];
  let first = 0;
  while (first < kept.length && kept[first].t < horizon) first += 1;
  const recent = kept.slice(first);
  // Keep time order (an online payment may complete out of order).
  let at = recent.length;
  while (at > 0 && recent[at - 1].t > tx.time) at -= 1;
  const amount = usdValue(tx.amountMinor, tx.currency);
  recent.splice(at, 0, { id: tx.txId, t: tx.time, amount, fraud: undefined, z: snapshots?.terminal });
  const today = dayIndex(tx.time);
  const oldestDay = today - (30 + options.feedbackDelayDays + 1);
  const days = (terminal?.days ?? []).filter((c) => c.day >= oldestDay);
  const index = days.findIndex((c) => c.day >= today);
  if (index >= 0 && days[index].day === today) days[index] = { day: today, n: days[index].n + 1, fraud: days[index].fraud };
  else days.splice(index < 0 ? days.length : index, 0, { day: today, n: 1, fraud: 0 });
  return {
    customer: {
      firstSeen: Math.min(customer?.firstSeen ?? tx.time, tx.time),
      recent: recent.length > MAX_RECENT ? recent.slice(recent.length - MAX_RECENT) : recent,
      terminals: remember(customer?.terminals ?? [], tx.terminalId),
      devices: remember(customer?.devices ?? [], tx.deviceId),
      currencies: remember(customer?.currencies ?? [], tx.currency),
    },
    terminal: { firstSeen: Math.min(terminal?.firstSeen ?? tx.time, tx.time), days, edges: addEdge(terminal?.edges, { id: tx.txId, t: tx.time, amount, z: snapshots?.customer }) },
  };
}

/**
 * Records the label of an observed transaction (a chargeback, a confirmed fraud or a confirmed good
 * payment). Features read it only once the transaction is older than the feedback delay. A repeated or
 * changed label replaces the earlier one.
 */
export function observeLabel(
  tx: Pick<FeatureTransaction, 'txId' | 'time'>,
  fraud: boolean,
  customer: CustomerState | undefined,
  terminal: TerminalState | undefined,
): { customer?: CustomerState; terminal?: TerminalState } {
  const previous = customer?.recent.find((p) => p.id === tx.txId)?.fraud;
  const nextCustomer = customer && {
    firstSeen: customer.firstSeen,
    recent: customer.recent.map((p) => (p.id === tx.txId ? { ...p, fraud } : p)),
    terminals: customer.terminals,
    devices: customer.devices,
    currencies: customer.currencies,
  };
  let nextTerminal = terminal;
  const day = dayIndex(tx.time);
  const index = terminal ? terminal.days.findIndex((c) => c.day === day) : -1;
  if (terminal && index >= 0) {
    // Adjust by the change, so a repeated label is not counted twice.
    const delta = (fraud ? 1 : 0) - (previous === true ? 1 : 0);
    const days = terminal.days.slice();
    days[index] = { day, n: days[index].n, fraud: Math.max(0, days[index].fraud + delta) };
    nextTerminal = { ...terminal, days };
  }
  return { customer: nextCustomer, terminal: nextTerminal };
}
