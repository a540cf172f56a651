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
import { currencyExponent } from '../shared/money.js';

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
  /** Major units (a feature value, not money arithmetic). */
  readonly amount: number;
  /** The label once known: true fraud, false legitimate. */
  readonly fraud?: boolean;
}

export interface CustomerState {
  readonly firstSeen: number;
  /** The customer's transactions of the last 30 + D days, oldest first. */
  readonly recent: readonly CustomerTxn[];
  /** Distinct terminals, devices and currencies seen, most recent last (bounded). */
  readonly terminals: readonly string[];
  readonly devices: readonly string[];
  readonly currencies: readonly string[];
}

export interface DayCount {
  readonly n: number;
  readonly fraud: number;
}

export interface TerminalState {
  readonly firstSeen: number;
  /** Transactions and known frauds per UTC day (days since the epoch), for the last 30 + D + 1 days. */
  readonly days: Readonly<Record<string, DayCount>>;
}

const DAY_MS = 86_400_000;
const WINDOWS = [1, 7, 30] as const;
const MAX_RECENT = 2_000;
const MAX_TERMINALS = 1_000;
const MAX_DEVICES = 50;
const MAX_CURRENCIES = 20;

export const FEATURE_NAMES = [
  'amount',
  'log_amount',
  ...WINDOWS.map((w) => `cust_count_${w}d`),
  ...WINDOWS.map((w) => `cust_amount_mean_${w}d`),
  'amount_over_cust_mean_30d',
  'amount_z_30d',
  'cust_known_fraud_30d',
  ...WINDOWS.map((w) => `term_count_${w}d`),
  ...WINDOWS.map((w) => `term_risk_${w}d`),
  'term_count_recent_1d',
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

export function dayIndex(time: number): number {
  return Math.floor(time / DAY_MS);
}

export function majorAmount(amountMinor: number, currency: string): number {
  return amountMinor / 10 ** currencyExponent(currency);
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
  const amount = majorAmount(tx.amountMinor, tx.currency);
  put(amount);
  put(Math.log1p(amount));

  // Customer spending windows over [t − w, t).
  const past = (customer?.recent ?? []).filter((p) => p.t < t);
  const inWindow = (w: number) => past.filter((p) => p.t >= t - w * DAY_MS);
  const windows = WINDOWS.map((w) => inWindow(w));
  for (const txns of windows) put(txns.length);
  for (const txns of windows) put(txns.length ? txns.reduce((s, p) => s + p.amount, 0) / txns.length : NaN);
  const month = windows[2];
  const mean30 = month.length ? month.reduce((s, p) => s + p.amount, 0) / month.length : NaN;
  put(month.length && mean30 > 0 ? amount / mean30 : NaN);
  if (month.length >= 2) {
    const variance = month.reduce((s, p) => s + (p.amount - mean30) ** 2, 0) / month.length;
    put(variance > 0 ? (amount - mean30) / Math.sqrt(variance) : NaN);
  } else put(NaN);
  // Labels only of transactions older than t − D.
  put(past.filter((p) => p.t >= t - delayMs - 30 * DAY_MS && p.t < t - delayMs && p.fraud === true).length);

  // Terminal risk windows: whole days [day(t) − D − w, day(t) − D).
  const today = dayIndex(t);
  const days = terminal?.days ?? {};
  const counts = WINDOWS.map((w) => {
    let n = 0;
    let fraud = 0;
    for (let d = today - options.feedbackDelayDays - w; d < today - options.feedbackDelayDays; d += 1) {
      const c = days[String(d)];
      if (c) {
        n += c.n;
        fraud += c.fraud;
      }
    }
    return { n, fraud };
  });
  for (const c of counts) put(c.n);
  for (const c of counts) put(c.n ? c.fraud / c.n : NaN);
  // Yesterday and today so far (no labels involved).
  put((days[String(today - 1)]?.n ?? 0) + (days[String(today)]?.n ?? 0));

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

function remember(list: readonly string[], value: string | undefined, max: number): readonly string[] {
  if (value === undefined) return list;
  const next = list.filter((v) => v !== value);
  next.push(value);
  return next.length > max ? next.slice(next.length - max) : next;
}

/** Folds a transaction into the states (returns new states; the inputs are not changed). */
export function observe(
  tx: FeatureTransaction,
  customer: CustomerState | undefined,
  terminal: TerminalState | undefined,
  options: FeatureOptions = DEFAULT_FEATURE_OPTIONS,
): { customer: CustomerState; terminal: TerminalState } {
  const horizon = tx.time - (30 + options.feedbackDelayDays) * DAY_MS;
  const recent = [...(customer?.recent ?? []).filter((p) => p.t >= horizon), { id: tx.txId, t: tx.time, amount: majorAmount(tx.amountMinor, tx.currency) }]
    .sort((a, b) => a.t - b.t);
  const today = dayIndex(tx.time);
  const oldestDay = today - (30 + options.feedbackDelayDays + 1);
  const days: Record<string, DayCount> = {};
  for (const [day, count] of Object.entries(terminal?.days ?? {})) if (Number(day) >= oldestDay) days[day] = count;
  const current = days[String(today)] ?? { n: 0, fraud: 0 };
  days[String(today)] = { n: current.n + 1, fraud: current.fraud };
  return {
    customer: {
      firstSeen: Math.min(customer?.firstSeen ?? tx.time, tx.time),
      recent: recent.length > MAX_RECENT ? recent.slice(recent.length - MAX_RECENT) : recent,
      terminals: remember(customer?.terminals ?? [], tx.terminalId, MAX_TERMINALS),
      devices: remember(customer?.devices ?? [], tx.deviceId, MAX_DEVICES),
      currencies: remember(customer?.currencies ?? [], tx.currency, MAX_CURRENCIES),
    },
    terminal: { firstSeen: Math.min(terminal?.firstSeen ?? tx.time, tx.time), days },
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
    ...customer,
    recent: customer.recent.map((p) => (p.id === tx.txId ? { ...p, fraud } : p)),
  };
  let nextTerminal = terminal;
  const day = String(dayIndex(tx.time));
  const count = terminal?.days[day];
  if (terminal && count) {
    // Adjust by the change, so a repeated label is not counted twice.
    const delta = (fraud ? 1 : 0) - (previous === true ? 1 : 0);
    nextTerminal = { ...terminal, days: { ...terminal.days, [day]: { n: count.n, fraud: Math.max(0, count.fraud + delta) } } };
  }
  return { customer: nextCustomer, terminal: nextTerminal };
}
