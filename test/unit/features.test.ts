import {
  DEFAULT_FEATURE_OPTIONS,
  FEATURE_GROUPS,
  FEATURE_NAMES,
  featureVector,
  observe,
  observeLabel,
  type CustomerState,
  type FeatureTransaction,
  type TerminalState,
} from '../../lambdas/fraud/features';
import { unitsPerUsd, usdValue } from '../../lambdas/fraud/usd';
import { supportedCurrencies } from '../../contracts/money';
import type { LabelledTransaction } from '../../ml/dataset';
import { replay } from '../../ml/replay';
import { randomHistory as seededHistory } from '../fixtures/history';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 5, 12, 0, 0); // a Monday, noon UTC

const tx = (id: string, dayOffset: number, amountMinor: number, extra: Partial<LabelledTransaction> = {}): LabelledTransaction => ({
  txId: id,
  time: T0 + dayOffset * DAY,
  customerId: 'c1',
  terminalId: 't1',
  amountMinor,
  currency: 'USD',
  ...extra,
});

function vectorOf(history: LabelledTransaction[], target: FeatureTransaction): Record<string, number> {
  let customer: CustomerState | undefined;
  const terminals = new Map<string, TerminalState>();
  for (const h of history) {
    const next = observe(h, h.customerId === target.customerId ? customer : undefined, terminals.get(h.terminalId));
    const labelled = h.label === undefined ? next : observeLabel(h, h.label === 1, next.customer, next.terminal);
    if (h.customerId === target.customerId) customer = labelled.customer;
    terminals.set(h.terminalId, labelled.terminal!);
  }
  const v = featureVector(target, customer, terminals.get(target.terminalId));
  return Object.fromEntries(FEATURE_NAMES.map((name, i) => [name, v[i]]));
}

describe('fraud features', () => {
  it('are NaN where unknown and flag first sightings for a brand-new customer and terminal', () => {
    const v = vectorOf([], tx('x', 0, 1999));
    expect(v.amount).toBeCloseTo(19.99, 10);
    expect(v.log_amount).toBeCloseTo(Math.log1p(19.99), 12);
    expect(v.cust_count_30d).toBe(0);
    expect(v.cust_amount_mean_30d).toBeNaN();
    expect(v.amount_over_cust_mean_30d).toBeNaN();
    expect(v.amount_z_30d).toBeNaN();
    expect(v.term_risk_30d).toBeNaN();
    expect(v.country_mismatch).toBeNaN();
    expect(v.currency_new_for_customer).toBeNaN();
    expect(v.first_seen_device).toBeNaN();
    expect([v.first_seen_customer, v.first_seen_terminal, v.first_seen_pair]).toEqual([1, 1, 1]);
    expect([v.hour, v.is_weekend, v.is_night]).toEqual([12, 0, 0]);
  });

  it('compute the customer windows over [t − w, t)', () => {
    const history = [tx('a', -40, 10_000), tx('b', -20, 1_000), tx('c', -5, 3_000), tx('d', -0.5, 2_000)];
    const v = vectorOf(history, tx('x', 0, 12_000, { terminalId: 't2' }));
    expect([v.cust_count_1d, v.cust_count_7d, v.cust_count_30d]).toEqual([1, 2, 3]);
    expect(v.cust_amount_mean_1d).toBeCloseTo(20, 12);
    expect(v.cust_amount_mean_7d).toBeCloseTo(25, 12);
    expect(v.cust_amount_mean_30d).toBeCloseTo(20, 12);
    expect(v.amount_over_cust_mean_30d).toBeCloseTo(6, 12);
    const std = Math.sqrt(((10 - 20) ** 2 + (30 - 20) ** 2 + (20 - 20) ** 2) / 3);
    expect(v.amount_z_30d).toBeCloseTo((120 - 20) / std, 12);
    expect([v.first_seen_customer, v.first_seen_terminal, v.first_seen_pair]).toEqual([0, 1, 1]);
  });

  it('compute terminal risk over whole days ending D days before the day of the transaction', () => {
    const d = DEFAULT_FEATURE_OPTIONS.feedbackDelayDays; // 7
    const history = [
      tx('old-fraud', -(d + 1), 500, { customerId: 'c9', label: 1 }), // day −8: inside the 1-day window
      tx('old-good', -(d + 3), 500, { customerId: 'c8', label: 0 }), // day −10: 7- and 30-day windows
      tx('recent-fraud', -(d - 1), 500, { customerId: 'c7', label: 1 }), // day −6: too recent for any label window
      tx('yesterday', -1, 500, { customerId: 'c6' }),
    ];
    const v = vectorOf(history, tx('x', 0, 1000));
    expect([v.term_count_1d, v.term_count_7d, v.term_count_30d]).toEqual([1, 2, 2]);
    expect([v.term_risk_1d, v.term_risk_7d, v.term_risk_30d]).toEqual([1, 0.5, 0.5]);
    expect(v.term_count_recent_1d).toBe(1);
    expect(v.first_seen_terminal).toBe(0);
  });

  it('compare the amount with the customer’s robust 30-day statistics, velocity and recent high share', () => {
    // 30-day amounts 10, 30, 20 and 200 (a fraudster's) plus one 40 days back (outside); the last 40 min ago.
    const history = [tx('a', -40, 10_000), tx('b', -20, 1_000), tx('c', -5, 3_000), tx('h', -3, 20_000), tx('d', -40 / 1440, 2_000)];
    const v = vectorOf(history, tx('x', 0, 12_000, { terminalId: 't2' }));
    expect(v.cust_count_1h).toBe(1);
    expect(v.log_gap_prev_cust).toBeCloseTo(Math.log1p(40 * 60), 9);
    expect(v.cust_amount_median_30d).toBeCloseTo(25, 12); // 10, 20, 30, 200
    expect(v.amount_over_cust_median_30d).toBeCloseTo(120 / 25, 12);
    const mad = 10; // |10−25|, |20−25|, |30−25|, |200−25| → 15, 5, 5, 175: median 10
    expect(v.amount_robust_z_30d).toBeCloseTo((120 - 25) / (1.4826 * mad), 9);
    expect(v.amount_over_cust_max_30d).toBeCloseTo(120 / 200, 12);
    expect(v.cust_high_share_7d).toBeCloseTo(1 / 3, 12); // of c, h, d only h is above 3 × 25
    const fresh = vectorOf([], tx('y', 0, 1000));
    for (const name of ['log_gap_prev_cust', 'cust_amount_median_30d', 'amount_over_cust_median_30d', 'amount_robust_z_30d', 'amount_over_cust_max_30d', 'cust_high_share_7d']) {
      expect(fresh[name]).toBeNaN();
    }
    expect(fresh.cust_count_1h).toBe(0);
  });

  it('take the exact median and MAD of the 30-day amounts, duplicates and even counts included (against a sort)', () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    const history: LabelledTransaction[] = [];
    for (let i = 0; i < 400; i += 1) history.push(tx(`h${i}`, -45 + i * 0.11, 100 * (1 + Math.floor(random() * 12)), { terminalId: `t${i % 5}` }));
    const sortedMedian = (values: number[]) => {
      const v = [...values].sort((a, b) => a - b);
      return v.length % 2 ? v[v.length >> 1] : (v[(v.length >> 1) - 1] + v[v.length >> 1]) / 2;
    };
    let checked = 0;
    for (const { tx: t, vector } of replay(history)) {
      const window = history.filter((h) => h.time < t.time && h.time >= t.time - 30 * DAY).map((h) => h.amountMinor / 100);
      const v = Object.fromEntries(FEATURE_NAMES.map((name, i) => [name, vector[i]]));
      if (!window.length) continue;
      const m = sortedMedian(window);
      expect(v.cust_amount_median_30d).toBe(m);
      const mad = sortedMedian(window.map((a) => Math.abs(a - m)));
      const amount = t.amountMinor / 100;
      if (window.length >= 3 && mad > 1e-9 * Math.max(1, m)) expect(v.amount_robust_z_30d).toBe((amount - m) / (1.4826 * mad));
      checked += 1;
    }
    expect(checked).toBeGreaterThan(390);
  });

  it('follow the terminal’s latest labelled days: last share, days since a fraud and the current run of fraud days', () => {
    const d = DEFAULT_FEATURE_OPTIONS.feedbackDelayDays;
    const at = (id: string, day: number, label: 0 | 1) => tx(id, -(d + day), 500, { customerId: `c-${id}`, label });
    // Labelled days (counted back from day(t) − D): 12 fraud, 9 fine, 5 fraud, 3 two frauds of two, 2 one of two;
    // and a fraud 3 days ago, too recent for any label window.
    const history = [at('a', 12, 1), at('b', 9, 0), at('c', 5, 1), at('d', 3, 1), at('e', 3, 1), at('f', 2, 1), at('g', 2, 0), tx('r', -3, 500, { customerId: 'cr', label: 1 })];
    const v = vectorOf(history, tx('x', 0, 1000));
    expect(v.term_risk_last_day).toBeCloseTo(0.5, 12);
    expect(v.term_days_since_fraud).toBe(2);
    expect(v.term_fraud_run_days).toBe(5); // days −5, −3, −2 all had frauds; −9 had none
    const clean = vectorOf([at('a', 4, 1), at('b', 1, 0)], tx('y', 0, 1000));
    expect([clean.term_risk_last_day, clean.term_days_since_fraud, clean.term_fraud_run_days]).toEqual([0, 4, 0]);
    const fresh = vectorOf([], tx('z', 0, 1000));
    for (const name of ['term_risk_last_day', 'term_days_since_fraud', 'term_fraud_run_days']) expect(fresh[name]).toBeNaN();
  });

  it('are each in exactly one ablation group', () => {
    const grouped = Object.values(FEATURE_GROUPS).flat();
    expect([...grouped].sort()).toEqual([...FEATURE_NAMES].sort());
    expect(new Set(grouped).size).toBe(grouped.length);
  });

  it('flag mismatches and new devices and currencies only when the data is there', () => {
    const history = [tx('a', -3, 1000, { deviceId: 'd1', country: 'US', merchantCountry: 'US' })];
    const v = vectorOf(history, tx('x', 0, 1000, { currency: 'EUR', deviceId: 'd2', country: 'US', merchantCountry: 'FR' }));
    expect([v.country_mismatch, v.currency_new_for_customer, v.first_seen_device, v.first_seen_pair]).toEqual([1, 1, 1, 0]);
    const same = vectorOf(history, tx('y', 0, 1000, { deviceId: 'd1', country: 'US', merchantCountry: 'US' }));
    expect([same.country_mismatch, same.currency_new_for_customer, same.first_seen_device]).toEqual([0, 0, 0]);
  });

  it('put every amount in US dollars, so a history in several currencies is one scale', () => {
    // The probe's case: JPY 5,000 (about $34) after USD 19.99 read as 250 times the customer's mean.
    const history = [tx('a', -2, 1999), tx('b', -1, 1999, { currency: 'EUR' })];
    const v = vectorOf(history, tx('x', 0, 5000, { currency: 'JPY' }));
    expect(v.amount).toBeCloseTo(5000 / unitsPerUsd('JPY')!, 10);
    expect(v.amount).toBeGreaterThan(25);
    expect(v.amount).toBeLessThan(45);
    expect(v.cust_amount_mean_30d).toBeCloseTo((19.99 + 19.99 / unitsPerUsd('EUR')!) / 2, 10);
    expect(v.amount_over_cust_mean_30d).toBeGreaterThan(1);
    expect(v.amount_over_cust_mean_30d).toBeLessThan(2);
    // KWD has three decimals, ISK none: 1 KWD is about $3.3, ISK 1,000,000 about $8,000.
    expect(vectorOf([], tx('k', 0, 1000, { currency: 'KWD' })).amount).toBeCloseTo(1 / unitsPerUsd('KWD')!, 10);
    expect(vectorOf([], tx('i', 0, 1_000_000, { currency: 'ISK' })).amount).toBeCloseTo(1_000_000 / unitsPerUsd('ISK')!, 6);
  });

  it('count the customer’s known frauds only once the feedback delay has passed', () => {
    const history = [tx('f1', -10, 1000, { label: 1 }), tx('f2', -3, 1000, { label: 1 }), tx('g', -12, 1000, { label: 0 })];
    expect(vectorOf(history, tx('x', 0, 1000)).cust_known_fraud_30d).toBe(1);
  });
});

describe('reference USD rates (the features’ scale)', () => {
  it('cover every currency a payment can be made in, each a positive finite rate', () => {
    const missing = supportedCurrencies().filter((c) => !(Number.isFinite(unitsPerUsd(c)) && unitsPerUsd(c)! > 0));
    expect(missing).toEqual([]);
    expect(unitsPerUsd('XYZ')).toBeUndefined();
    expect(() => usdValue(100, 'XYZ')).toThrow(/unknown currency XYZ/);
  });

  it('leave USD amounts exactly major units, so a USD-only data set keeps its features', () => {
    for (const minor of [1, 1999, 99_999_999]) expect(usdValue(minor, 'USD')).toBe(minor / 100);
  });

  it('put the same purchase in different currencies within a factor of 2 of each other', () => {
    // About $50 in each currency at 2025 rates (a stale or rough rate is tolerable, a currency read as dollars is not).
    const fifty: Record<string, number> = { USD: 5000, EUR: 4300, GBP: 3700, JPY: 7400, KRW: 69_000, ISK: 6200, KWD: 15_300, INR: 430_000, IDR: 81_500_000, VND: 1_300_000 };
    for (const [currency, minor] of Object.entries(fifty)) {
      const usd = usdValue(minor, currency);
      expect([currency, usd > 25 && usd < 100]).toEqual([currency, true]);
    }
  });
});

const randomHistory = (seed: number, n: number) => seededHistory(seed, n, { customers: 8, terminals: 5, start: T0, days: 60 });

describe('no leakage', () => {
  const history = randomHistory(7, 600);
  const baseline = [...replay(history)].map((r) => r.vector);
  const D = DEFAULT_FEATURE_OPTIONS.feedbackDelayDays * DAY;

  it('labels of transactions younger than t − D never change a vector at t', () => {
    for (const index of [150, 300, 450, 599]) {
      const t = history[index].time;
      // Flip every label the transaction at `index` must not see.
      const flipped = history.map((h) => (h.time >= t - D ? { ...h, label: (1 - (h.label ?? 0)) as 0 | 1 } : h));
      const vectors = [...replay(flipped)].map((r) => r.vector);
      expect(Array.from(vectors[index])).toEqual(Array.from(baseline[index]));
    }
  });

  it('older labels do change vectors (the check above can fail)', () => {
    const flipped = history.map((h) => ({ ...h, label: (1 - (h.label ?? 0)) as 0 | 1 }));
    const vectors = [...replay(flipped)].map((r) => r.vector);
    expect(vectors.some((v, i) => Array.from(v).some((x, j) => !Object.is(x, baseline[i][j])))).toBe(true);
  });

  it('the future never changes the past: a vector depends only on earlier transactions', () => {
    const prefix = [...replay(history.slice(0, 300))].map((r) => r.vector);
    for (let i = 0; i < 300; i += 1) expect(Array.from(prefix[i])).toEqual(Array.from(baseline[i]));
  });

  it('rejects transactions out of time order', () => {
    expect(() => [...replay([history[5], history[1]])]).toThrow(/time order/);
  });
});
