/**
 * The routing simulator (issue 4): a seeded world of payment connectors whose authorisation rates depend on
 * the payment's context and drift over time, one connector's outage, fees, and a traffic mix; the payment
 * flow the workflow runs (rank, try, fall back on a retryable failure, at most `maxAttempts` attempts);
 * delayed feedback; and the policies the benchmark compares. `npm run bench:routing` runs it; the unit tests
 * and a later off-policy-evaluation CLI reuse it (`simulate`'s `onPayment` hook logs every decision with its
 * propensity).
 *
 * The world (all figures are for the reference payment: a Visa card, USD 50, retail, fraud score 0):
 * - Authorisation given the connector processed the attempt is a logistic model: a base rate per connector
 *   and buyer region, plus shifts in log-odds for the method (wallets are tokenised and authorise more), the
 *   card network, the amount (per ln(amount / USD 50)), the merchant category, the fraud score, the hour
 *   and a slow drift over the run. The best connector depends on the context: stripe-eu for European cards,
 *   sandbox-b for LATAM (more so for large amounts), amazon-pay for wallets, stripe-us for North America at
 *   first and sandbox-a later (drift), never sandbox-a for Amex.
 * - Retryable failures (error or timeout) have a small base rate per connector; during the outage the outage
 *   connector fails most attempts. A timeout makes the buyer give up with probability `timeoutAbandon`
 *   (they waited for it), so a failed attempt is not free; an error is retried at once.
 * - Outcomes use common random numbers: the outcome of payment i on connector k is the same whichever policy
 *   sends it there, so the policies' differences are not sampling noise of the outcomes.
 *
 * Money: amounts and fees are integer minor units of the payment's currency; revenue is summed per currency
 * and converted to USD minor units once, with fixed integer rates (USD_RATES). Expected values (the oracle's
 * criterion, the expected regret) are floats: they are expectations, not money.
 */
import { BanditPolicy, DEFAULT_BANDIT, emptyBanditState, learnArm, learnHealth, type BanditOptions, type BanditState } from '../../lambdas/routing/bandit';
import { regionOf, segmentCell, vocabularyOf, type CardNetwork, type RoutingVocabulary, type PaymentMethod, type REGIONS, type RoutingContext } from '../../lambdas/routing/context';
import { isEligible } from '../../lambdas/routing/eligibility';
import type { HealthOutcome } from '../../lambdas/routing/health';
import { connectorFee, type ConnectorDefinition } from '../../contracts/connectors';
import { logit, sigmoid } from '../../lambdas/shared/logistic';
import { prng } from '../prng';

export type Region = (typeof REGIONS)[number];

/** A connector of the simulated catalogue: the registry's own type (its success rates are in SIM_TRUTH). */
export type SimConnector = ConnectorDefinition;

/** USD cents per `den` minor units of the currency: usdMinor = minor · num / den (fixed, for reporting). */
export const USD_RATES: Readonly<Record<string, readonly [num: number, den: number]>> = {
  USD: [1, 1],
  EUR: [108, 100],
  GBP: [127, 100],
  JPY: [67, 100], // 1 yen = 0.67 US cents
  BRL: [20, 100],
  MXN: [6, 100],
  AUD: [66, 100],
  CAD: [74, 100],
};

export function toUsdMinor(amountMinor: number, currency: string): number {
  const rate = USD_RATES[currency];
  if (!rate) throw new RangeError(`no USD rate for ${currency}`);
  return Math.round((amountMinor * rate[0]) / rate[1]);
}

export const SIM_CONNECTORS: readonly SimConnector[] = [
  // Cross-border cards cost more at both Stripe accounts, as Stripe prices them.
  {
    id: 'stripe-us', kind: 'stripe', enabled: true, methods: ['card', 'wallet'], currencies: ['*'], regions: ['*'],
    fee: {
      basisPoints: 440,
      fixedMinor: 30,
      rules: [{ method: 'wallet', basisPoints: 290, fixedMinor: 30 }, { regions: ['NA'], basisPoints: 290, fixedMinor: 30 }],
    },
  },
  {
    id: 'stripe-eu', kind: 'stripe', enabled: true, methods: ['card', 'wallet'], currencies: ['EUR', 'GBP', 'USD'], regions: ['*'],
    fee: { basisPoints: 325, fixedMinor: 25, rules: [{ regions: ['EU', 'UK'], basisPoints: 250, fixedMinor: 25 }] },
  },
  {
    id: 'amazon-pay',
    kind: 'amazon_pay',
    enabled: true,
    methods: ['card', 'wallet'],
    currencies: ['USD', 'EUR', 'GBP', 'JPY'],
    regions: ['US', 'GB', 'DE', 'FR', 'IT', 'ES', 'JP'],
    fee: { basisPoints: 270, fixedMinor: 30, rules: [{ method: 'wallet', basisPoints: 240, fixedMinor: 30 }] },
  },
  { id: 'sandbox-a', kind: 'sandbox', enabled: true, methods: ['card'], currencies: ['*'], regions: ['*'], fee: { basisPoints: 235, fixedMinor: 20 } },
  { id: 'sandbox-b', kind: 'sandbox', enabled: true, methods: ['card'], currencies: ['USD', 'BRL', 'MXN', 'EUR'], regions: ['*'], fee: { basisPoints: 300, fixedMinor: 15 } },
  { id: 'solana-pay', kind: 'solana_pay', enabled: true, methods: ['solana_pay'], currencies: ['USD'], regions: ['*'], fee: { basisPoints: 100, fixedMinor: 0 } },
];

/** Eligibility: enabled, takes the method, the currency and the buyer's country. */
/** The product's own eligibility rule (lambdas/routing/eligibility.ts), so the simulated world routes as the product does. */
export function isSimEligible(connector: SimConnector, context: RoutingContext): boolean {
  return isEligible(connector, context);
}

export function eligibleConnectors(connectors: readonly SimConnector[], context: RoutingContext): SimConnector[] {
  return connectors.filter((c) => isSimEligible(c, context));
}

// ---------------------------------------------------------------------------------------------------------
// The world's truth

/** How one connector authorises. Shifts are in log-odds. */
export interface ConnectorTruth {
  /** Authorisation probability (given processed) of the reference payment, per buyer region. */
  readonly base: Readonly<Record<Region, number>>;
  readonly wallet?: number;
  readonly network?: Partial<Readonly<Record<CardNetwork, number>>>;
  readonly category?: Partial<Readonly<Record<string, number>>>;
  /** Per ln(amount / USD 50), on top of the common slope. */
  readonly amountSlope?: number;
  /** Per ln(amount / USD 50), LATAM buyers only. */
  readonly latamAmountSlope?: number;
  /** Shift between 02:00 and 05:00 UTC. */
  readonly nightShift?: number;
  /** Drift at run phase φ ∈ [0, 1]. */
  readonly drift?: (phase: number) => number;
  /** Retryable failure probability per attempt outside an outage. */
  readonly failure: number;
}

const flat = (p: number): Record<Region, number> => ({ NA: p, EU: p, UK: p, APAC: p, LATAM: p });

export const SIM_TRUTH: Readonly<Record<string, ConnectorTruth>> = {
  'stripe-us': {
    base: { NA: 0.92, EU: 0.895, UK: 0.905, APAC: 0.895, LATAM: 0.8 },
    network: { amex: 0.1 },
    category: { digital: 0.2 },
    drift: (phase) => -0.35 * phase,
    failure: 0.004,
  },
  'stripe-eu': {
    base: { NA: 0.885, EU: 0.93, UK: 0.925, APAC: 0.88, LATAM: 0.79 },
    wallet: 0.1,
    network: { mastercard: 0.1 },
    drift: (phase) => -0.1 * phase,
    failure: 0.004,
  },
  'amazon-pay': {
    base: { NA: 0.915, EU: 0.91, UK: 0.915, APAC: 0.905, LATAM: 0.8 },
    wallet: 0.5,
    category: { food: -0.1 },
    drift: (phase) => 0.1 * Math.sin(2 * Math.PI * phase),
    failure: 0.008,
  },
  'sandbox-a': {
    base: { NA: 0.9, EU: 0.89, UK: 0.895, APAC: 0.89, LATAM: 0.815 },
    network: { amex: -0.6, mastercard: 0.1 },
    amountSlope: -0.08,
    drift: (phase) => 0.3 * phase,
    failure: 0.01,
  },
  'sandbox-b': {
    base: { NA: 0.905, EU: 0.9, UK: 0.895, APAC: 0.875, LATAM: 0.85 },
    network: { amex: -0.3 },
    category: { travel: 0.2 },
    latamAmountSlope: 0.15,
    nightShift: -0.15,
    failure: 0.012,
  },
  'solana-pay': { base: flat(0.97), failure: 0.015 },
};

/** Shifts every connector shares. */
const COMMON = {
  wallet: 1.0,
  otherNetwork: -0.3,
  amountSlope: -0.12,
  category: { digital: -0.3, travel: -0.1 } as Record<string, number>,
  fraudScore: -2.0,
};

export interface Outage {
  readonly connectorId: string;
  /** Epoch ms, inclusive. */
  readonly from: number;
  /** Epoch ms, exclusive. */
  readonly to: number;
  /** Probabilities per attempt during the outage. */
  readonly errorRate: number;
  readonly timeoutRate: number;
}

export interface Scenario {
  /** The world's name in reports ("A", the benchmark's first; "B", ml/routing/world-b.ts). */
  readonly world?: string;
  readonly seed: number;
  readonly payments: number;
  /** Epoch ms of the run's start. */
  readonly start: number;
  readonly durationMs: number;
  /**
   * Time from an attempt's outcome to the learnt model (the event bus, the queue, the single updater and the
   * routers' model refresh, ROUTING_MODEL_TTL_MS).
   */
  readonly feedbackDelayMs: number;
  /**
   * Time from an attempt's outcome to the routers' circuit breaker (the feedback consumer folds it into the
   * breaker's own item, which the routers re-read every ROUTING_HEALTH_TTL_MS); a success-rate router that
   * updates its windows in the payment path (as hyperswitch's does) gets its outcomes this fast too.
   */
  readonly healthDelayMs: number;
  readonly maxAttempts: number;
  /** Probability the buyer gives up after a timed-out attempt. */
  readonly timeoutAbandon: number;
  /** The outage the reports follow (first attempts on it, recovery after it). */
  readonly outage?: Outage;
  /** Other failure windows (brown-outs): partial, on other connectors; in the rates, not in the reports. */
  readonly brownouts?: readonly Outage[];
  readonly connectors: readonly SimConnector[];
  /** Per connector: its retryable failure rate, and (without `auth`) how it authorises. */
  readonly truth: Readonly<Record<string, ConnectorTruth>>;
  /** When a connector joins the registry (epoch ms; absent: from the start): a cold start in the middle of the run. */
  readonly availableFrom?: Readonly<Record<string, number>>;
  /** The world's own authorisation model (replaces the one `truth` describes), at run phase φ ∈ [0, 1]. */
  readonly auth?: (connectorId: string, payment: SimPayment, phase: number) => number;
  /** The world's own traffic (replaces the default mix). */
  readonly generate?: (scenario: Scenario) => SimPayment[];
}

const HOUR = 3_600_000;
const START = Date.UTC(2026, 10, 2); // a Monday, 00:00 UTC

/**
 * The benchmark's scenario: 100k payments over 2 days, stripe-eu down from hour 30 to 33; outcomes reach
 * the learnt model after 62 s (the feedback queue's 1 s window, the updater queue's 60 s window, the routers'
 * 1 s model refresh: at this volume the window fills by time) and the breaker after 2 s (the feedback queue's
 * window and the 1 s health refresh). `--delay-s` stresses the learning delay.
 */
export function defaultScenario(overrides: Partial<Scenario> = {}): Scenario {
  const start = overrides.start ?? START;
  const durationMs = overrides.durationMs ?? 48 * HOUR;
  return {
    seed: 7,
    payments: 100_000,
    start,
    durationMs,
    feedbackDelayMs: 62_000,
    healthDelayMs: 2_000,
    maxAttempts: 3,
    timeoutAbandon: 0.3,
    outage: { connectorId: 'stripe-eu', from: start + Math.round(durationMs * 0.625), to: start + Math.round(durationMs * 0.6875), errorRate: 0.55, timeoutRate: 0.35 },
    connectors: SIM_CONNECTORS,
    truth: SIM_TRUTH,
    world: 'A',
    ...overrides,
  };
}

/** The probabilities of one attempt's outcomes (they sum to 1). */
export interface AttemptRates {
  readonly success: number;
  readonly decline: number;
  readonly error: number;
  readonly timeout: number;
}

export interface SimPayment {
  /** Position in time order. */
  readonly index: number;
  readonly context: RoutingContext;
  readonly region: Region;
  /** The amount in USD minor units (for the amount effects). */
  readonly usdMinor: number;
}

/** The authorisation probability of a processed attempt (no outage, no failure) at the payment's time. */
export function authProbability(scenario: Scenario, connectorId: string, payment: SimPayment): number {
  if (scenario.auth) return scenario.auth(connectorId, payment, phaseOf(scenario, payment.context.time));
  const t = scenario.truth[connectorId];
  if (!t) throw new Error(`no truth for connector ${connectorId}`);
  const { context } = payment;
  let z = logit(t.base[payment.region]);
  const lnAmount = Math.log(payment.usdMinor / 5_000);
  if (context.method === 'wallet') z += COMMON.wallet + (t.wallet ?? 0);
  if (context.method === 'card') {
    const network = context.network ?? 'other';
    if (network === 'other') z += COMMON.otherNetwork;
    z += t.network?.[network] ?? 0;
  }
  if (context.method !== 'solana_pay') {
    z += (COMMON.amountSlope + (t.amountSlope ?? 0)) * lnAmount;
    if (payment.region === 'LATAM') z += (t.latamAmountSlope ?? 0) * lnAmount;
    const category = context.merchantCategory ?? '';
    z += (COMMON.category[category] ?? 0) + (t.category?.[category] ?? 0);
    z += COMMON.fraudScore * (context.fraudScore ?? 0);
  }
  const hour = new Date(context.time).getUTCHours();
  if (hour >= 2 && hour < 5) z += t.nightShift ?? 0;
  z += t.drift?.(phaseOf(scenario, context.time)) ?? 0;
  return sigmoid(z);
}

/** How far into the run `time` is, in [0, 1]. */
export function phaseOf(scenario: Scenario, time: number): number {
  return Math.min(1, Math.max(0, (time - scenario.start) / scenario.durationMs));
}

/** The failure window (the outage, or a brown-out) `connectorId` is in at `time`, if any. */
export function failureWindowAt(scenario: Scenario, connectorId: string, time: number): Outage | undefined {
  return [...(scenario.outage ? [scenario.outage] : []), ...(scenario.brownouts ?? [])].find((o) => o.connectorId === connectorId && time >= o.from && time < o.to);
}

/** The true outcome probabilities of an attempt on a connector at the payment's time (outage included). */
export function trueRates(scenario: Scenario, connectorId: string, payment: SimPayment): AttemptRates {
  const t = scenario.truth[connectorId];
  if (!t) throw new Error(`no truth for connector ${connectorId}`);
  const o = failureWindowAt(scenario, connectorId, payment.context.time);
  const [error, timeout] = o ? [o.errorRate, o.timeoutRate] : [(t.failure * 2) / 3, t.failure / 3];
  const processed = 1 - error - timeout;
  const auth = authProbability(scenario, connectorId, payment);
  return { success: processed * auth, decline: processed * (1 - auth), error, timeout };
}

/** murmur3's finaliser. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A uniform in [0, 1) fixed by (seed, payment, connector, stream): the common random numbers. */
function uniformAt(seed: number, payment: number, connector: number, stream: number): number {
  let h = fmix32(seed ^ 0x9e3779b9);
  h = fmix32(h ^ Math.imul(payment + 1, 0x27d4eb2f));
  h = fmix32(h ^ Math.imul(connector + 1, 0x165667b1));
  h = fmix32(h ^ Math.imul(stream + 1, 0x61c88647));
  return h / 4294967296;
}

export interface AttemptResult {
  readonly outcome: HealthOutcome;
  /** A timeout after which the buyer gave up: the payment ends. */
  readonly abandoned: boolean;
}

/** The outcome of payment `payment` on `connectorId` (the same whichever policy sent it there). */
export function attemptOutcome(scenario: Scenario, payment: SimPayment, connectorId: string): AttemptResult {
  const k = scenario.connectors.findIndex((c) => c.id === connectorId);
  if (k < 0) throw new Error(`unknown connector ${connectorId}`);
  const r = trueRates(scenario, connectorId, payment);
  const u = uniformAt(scenario.seed, payment.index, k, 0);
  if (u < r.error) return { outcome: 'error', abandoned: false };
  if (u < r.error + r.timeout) return { outcome: 'timeout', abandoned: uniformAt(scenario.seed, payment.index, k, 1) < scenario.timeoutAbandon };
  if (u < r.error + r.timeout + r.success) return { outcome: 'succeeded', abandoned: false };
  return { outcome: 'declined', abandoned: false };
}

/** Simulated connector latency of an attempt (for the feedback's timestamps). */
const ATTEMPT_MS: Record<HealthOutcome, number> = { succeeded: 600, declined: 500, error: 300, timeout: 10_000 };

/** What trying an order promises under the true rates. */
export interface ExpectedOutcome {
  /** Expected net revenue, payment currency minor units. */
  readonly netMinor: number;
  /** Probability the payment succeeds. */
  readonly success: number;
}

/**
 * The expected outcome of trying `order` in turn under the true rates: Σₖ P(reach k) · P(success on k) ·
 * (amount − fee k), reaching k+1 after an error, or after a timeout the buyer did not abandon. At most
 * `maxAttempts` attempts.
 */
export function expectedOutcome(scenario: Scenario, payment: SimPayment, order: readonly SimConnector[]): ExpectedOutcome {
  let reach = 1;
  let netMinor = 0;
  let success = 0;
  const n = Math.min(order.length, scenario.maxAttempts);
  for (let k = 0; k < n; k += 1) {
    const r = trueRates(scenario, order[k].id, payment);
    netMinor += reach * r.success * netOf(payment, order[k]);
    success += reach * r.success;
    reach *= r.error + r.timeout * (1 - scenario.timeoutAbandon);
  }
  return { netMinor, success };
}

/** The expected net revenue (payment currency minor units) of trying `order` (see expectedOutcome). */
export function expectedNet(scenario: Scenario, payment: SimPayment, order: readonly SimConnector[]): number {
  return expectedOutcome(scenario, payment, order).netMinor;
}

export const feeOf = (payment: SimPayment, c: SimConnector) => connectorFee(c.fee, payment.context);
const netOf = (payment: SimPayment, c: SimConnector) => payment.context.amountMinor - feeOf(payment, c);

// ---------------------------------------------------------------------------------------------------------
// Traffic

/** Items with their weights (a world's traffic mix). */
export type Weighted<T> = readonly (readonly [T, number])[];

/** One item drawn in proportion to its weight. */
export function pick<T>(random: () => number, items: Weighted<T>): T {
  const total = items.reduce((s, [, w]) => s + w, 0);
  let u = random() * total;
  for (const [item, w] of items) {
    if (u < w) return item;
    u -= w;
  }
  return items[items.length - 1][0];
}

const REGION_MIX: Weighted<Region> = [['NA', 0.38], ['EU', 0.27], ['UK', 0.1], ['APAC', 0.12], ['LATAM', 0.13]];
/** Buyer countries per region, with their local currency. */
const COUNTRIES: Readonly<Record<Region, Weighted<readonly [string, string]>>> = {
  NA: [[['US', 'USD'], 0.85], [['CA', 'CAD'], 0.15]],
  EU: [[['DE', 'EUR'], 0.3], [['FR', 'EUR'], 0.22], [['IT', 'EUR'], 0.15], [['ES', 'EUR'], 0.13], [['NL', 'EUR'], 0.1], [['IE', 'EUR'], 0.05], [['PL', 'EUR'], 0.05]],
  UK: [[['GB', 'GBP'], 1]],
  APAC: [[['JP', 'JPY'], 0.45], [['AU', 'AUD'], 0.35], [['SG', 'USD'], 0.2]],
  LATAM: [[['BR', 'BRL'], 0.5], [['MX', 'MXN'], 0.35], [['CL', 'USD'], 0.15]],
};
/** UTC offset of the region's buyers, in hours (for the diurnal traffic). */
const UTC_OFFSET: Readonly<Record<Region, number>> = { NA: -5, EU: 1, UK: 0, APAC: 9, LATAM: -3 };
const METHOD_MIX: Weighted<PaymentMethod> = [['card', 0.8], ['wallet', 0.17], ['solana_pay', 0.03]];
const NETWORK_MIX: Weighted<CardNetwork> = [['visa', 0.55], ['mastercard', 0.33], ['amex', 0.1], ['other', 0.02]];
/** Category, share, median amount in USD, log-normal σ. */
const CATEGORY_MIX: Weighted<readonly [string, number, number]> = [
  [['retail', 45, 0.8], 0.35],
  [['digital', 12, 0.7], 0.22],
  [['travel', 260, 0.9], 0.1],
  [['food', 28, 0.6], 0.18],
  [['services', 90, 0.9], 0.15],
];
/** Share of non-US buyers who pay in USD (cross-border price lists). */
const CROSS_BORDER_USD = 0.12;

/** Local-hour traffic intensity in (0, 1]: quiet at night, peaking mid-afternoon. */
function intensity(localHour: number): number {
  return 0.25 + 0.75 * Math.max(0, Math.sin((Math.PI * (localHour - 7)) / 17));
}

/** A standard normal draw (Box–Muller). */
export function gaussian(random: () => number): number {
  const u = Math.max(random(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

/** The seeded traffic, in time order: the world's own, or the default mix. */
export function generateTraffic(scenario: Scenario): SimPayment[] {
  return scenario.generate ? scenario.generate(scenario) : defaultTraffic(scenario);
}

function defaultTraffic(scenario: Scenario): SimPayment[] {
  const random = prng(scenario.seed);
  const rows: Omit<SimPayment, 'index'>[] = [];
  for (let i = 0; i < scenario.payments; i += 1) {
    const region = pick(random, REGION_MIX);
    const [country, localCurrency] = pick(random, COUNTRIES[region]);
    let time: number;
    for (;;) {
      time = scenario.start + Math.floor(random() * scenario.durationMs);
      const local = (((time / HOUR + UTC_OFFSET[region]) % 24) + 24) % 24;
      if (random() < intensity(local)) break;
    }
    const method = pick(random, METHOD_MIX);
    const [category, median, sigma] = pick(random, CATEGORY_MIX);
    const usd = Math.min(15_000, Math.max(0.5, median * Math.exp(sigma * gaussian(random))));
    const usdMinor = Math.round(usd * 100);
    const currency = method === 'solana_pay' || (country !== 'US' && random() < CROSS_BORDER_USD) ? 'USD' : localCurrency;
    const [num, den] = USD_RATES[currency];
    const amountMinor = Math.max(1, Math.round((usdMinor * den) / num));
    const network = method === 'card' ? pick(random, NETWORK_MIX) : undefined;
    const fraudScore = Math.round(random() ** 3 * 0.5 * 1000) / 1000;
    const context: RoutingContext = {
      amountMinor,
      currency,
      method,
      ...(network ? { network } : {}),
      country,
      merchantCategory: category,
      fraudScore,
      time,
    };
    rows.push({ context, region, usdMinor: toUsdMinor(amountMinor, currency) });
  }
  return inTimeOrder(rows);
}

/** A world's payments in time order, numbered (the index the common random numbers key on). */
export function inTimeOrder(rows: Array<Omit<SimPayment, 'index'>>): SimPayment[] {
  rows.sort((a, b) => a.context.time - b.context.time);
  return rows.map((r, index) => ({ index, ...r }));
}

// ---------------------------------------------------------------------------------------------------------
// Policies

export interface Decision {
  /** Connector ids in the order to try (choice first). */
  readonly order: readonly string[];
  /** The probability the policy had of choosing order[0]. */
  readonly propensity: number;
  /** The features the bandit kept with the decision. */
  readonly features?: readonly number[];
  /**
   * order[0] was a trial of the circuit breaker's recovery: a probe of a demoted connector after its
   * cool-down, or an attempt on one that recovered and is still on probation.
   */
  readonly probe?: boolean;
}

/** One attempt's outcome, as it reaches the policy (after the feedback delay). */
export interface AttemptFeedbackReport {
  readonly connectorId: string;
  readonly outcome: HealthOutcome;
  /** Epoch ms of the outcome. */
  readonly time: number;
  readonly payment: SimPayment;
  readonly decision: Decision;
}

export interface SimPolicy {
  readonly name: string;
  /** `eligible` is never empty and holds only eligible connectors. */
  rank(payment: SimPayment, eligible: readonly SimConnector[]): Decision;
  /** Every attempt's outcome (first and fallbacks), after the scenario's `feedbackDelayMs` (the learning loop). */
  observe(report: AttemptFeedbackReport): void;
  /** Every attempt's outcome again, after `healthDelayMs` (the breaker's faster path), for policies that have one. */
  observeFast?(report: AttemptFeedbackReport): void;
}

const byId = (a: SimConnector, b: SimConnector) => a.id.localeCompare(b.id);

/** The first policy (lambdas/routing/policy.ts): cheapest estimated fee first. */
export function cheapestPolicy(): SimPolicy {
  return {
    name: 'static cheapest',
    rank(payment, eligible) {
      const order = [...eligible].sort((a, b) => feeOf(payment, a) - feeOf(payment, b) || byId(a, b)).map((c) => c.id);
      return { order, propensity: 1 };
    },
    observe() {},
  };
}

/** Round-robin over the eligible connectors: payment i starts at the (i mod n)-th. */
export function roundRobinPolicy(): SimPolicy {
  let turn = 0;
  return {
    name: 'round-robin',
    rank(_payment, eligible) {
      const sorted = [...eligible].sort(byId);
      const start = turn % sorted.length;
      turn += 1;
      const order = [...sorted.slice(start), ...sorted.slice(0, start)].map((c) => c.id);
      return { order, propensity: 1 / sorted.length };
    },
    observe() {},
  };
}

export interface SlidingWindowOptions {
  /** N: outcomes kept per (segment, connector). */
  readonly window: number;
  /** ε: share of first choices drawn uniformly among the eligible connectors. */
  readonly epsilon: number;
  /** Below this many outcomes a connector's rate is `defaultRate`. */
  readonly minSamples: number;
  readonly defaultRate: number;
}

/**
 * hyperswitch's success-rate routing, in the terms of its docs: a per-segment success rate over the last N
 * outcomes of each connector (a sliding window), the highest first, and a fixed exploration ("hedging")
 * share. Every attempt counts: success 1, anything else (decline, error, timeout) 0. Fees play no part.
 * Defaults: N = 200, ε = 10 % (the decision engine's example hedging), 10 outcomes before a rate is trusted
 * with an optimistic 100 % before that (as hyperswitch's default_success_rate).
 */
export const DEFAULT_SLIDING_WINDOW: SlidingWindowOptions = { window: 200, epsilon: 0.1, minSamples: 10, defaultRate: 1 };

/** The segment key: method, buyer region, card network (hyperswitch's PaymentMethod + Country + CardNetwork, with the country as region). */
export function segmentOf(context: RoutingContext): string {
  return `${context.method}|${regionOf(context.country) ?? 'other'}|${context.method === 'card' ? (context.network ?? 'other') : '-'}`;
}

export function slidingWindowPolicy(random: () => number, options: SlidingWindowOptions = DEFAULT_SLIDING_WINDOW): SimPolicy {
  /** Per `segment#connector`: a ring of the last N outcomes and their sum. */
  const windows = new Map<string, { ring: Uint8Array; next: number; count: number; sum: number }>();
  const rate = (key: string) => {
    const w = windows.get(key);
    return !w || w.count < options.minSamples ? options.defaultRate : w.sum / w.count;
  };
  return {
    name: `sliding-window SR (N=${options.window}, ε=${options.epsilon})`,
    rank(payment, eligible) {
      const segment = segmentOf(payment.context);
      const scored = eligible.map((c) => ({ c, sr: rate(`${segment}#${c.id}`) })).sort((a, b) => b.sr - a.sr || byId(a.c, b.c));
      const n = scored.length;
      const eps = n > 1 ? options.epsilon : 0;
      let first = 0;
      if (eps > 0 && random() < eps) first = Math.min(n - 1, Math.floor(random() * n));
      const order = [scored[first], ...scored.filter((_, i) => i !== first)].map((s) => s.c.id);
      return { order, propensity: eps / n + (first === 0 ? 1 - eps : 0) };
    },
    observe() {},
    // hyperswitch updates the windows in the payment path, so they get the outcomes as fast as a breaker would.
    observeFast(report) {
      const key = `${segmentOf(report.payment.context)}#${report.connectorId}`;
      let w = windows.get(key);
      if (!w) {
        w = { ring: new Uint8Array(options.window), next: 0, count: 0, sum: 0 };
        windows.set(key, w);
      }
      const value = report.outcome === 'succeeded' ? 1 : 0;
      if (w.count === options.window) w.sum -= w.ring[w.next];
      else w.count += 1;
      w.ring[w.next] = value;
      w.sum += value;
      w.next = (w.next + 1) % options.window;
    },
  };
}

export interface BanditSimPolicy extends SimPolicy {
  readonly state: () => BanditState;
  readonly policy: () => BanditPolicy;
}

/**
 * Ours: BanditPolicy.rank; the arms learn each attempt's outcome after the learning delay, the circuit breaker
 * counts it after the health delay (a new BanditPolicy after each; in the product the feedback consumer folds
 * the breaker's item at once and the updater the arms up to a minute later, and the routers re-read the health
 * more often than the model).
 */
export function banditSimPolicy(
  random: () => number,
  start: BanditState | RoutingVocabulary,
  options: BanditOptions = DEFAULT_BANDIT,
  name = 'ours (LinUCB bandit)',
): BanditSimPolicy {
  let state = 'arms' in start ? start : emptyBanditState(start);
  let policy = new BanditPolicy(state, options);
  return {
    name,
    state: () => state,
    policy: () => policy,
    rank(payment, eligible) {
      const choice = policy.rank(payment.context, eligible, random);
      return {
        order: choice.ranked.map((r) => r.connectorId),
        propensity: choice.propensity,
        features: choice.features,
        probe: choice.ranked[0].status === 'probing' || (state.health[choice.ranked[0].connectorId]?.probation ?? 0) > 0,
      };
    },
    observe(report) {
      if (!report.decision.features) throw new Error('bandit feedback without the decision features');
      state = learnArm(
        state,
        { connectorId: report.connectorId, outcome: report.outcome, features: report.decision.features, cell: segmentCell(report.payment.context), time: report.time },
        options,
      );
      policy = new BanditPolicy(state, options, policy);
    },
    observeFast(report) {
      state = learnHealth(state, { connectorId: report.connectorId, outcome: report.outcome, time: report.time }, options);
      policy = new BanditPolicy(state, options, policy);
    },
  };
}

/**
 * The oracle: knows the true rates at the payment's time (outage and drift included) and takes the order
 * with the best expected net revenue (expectedNet), searched over every ordered choice of `maxAttempts`
 * connectors (at most 5·4·3 = 60 here); the connectors it would never reach follow by fee.
 */
export function oraclePolicy(scenario: Scenario): SimPolicy {
  return {
    name: 'oracle (true rates)',
    rank(payment, eligible) {
      const m = Math.min(scenario.maxAttempts, eligible.length);
      const values = eligible.map((c) => ({ c, rates: trueRates(scenario, c.id, payment), net: netOf(payment, c) }));
      let best: number[] = [];
      let bestValue = -Infinity;
      const chosen: number[] = [];
      const search = (reach: number, value: number) => {
        if (chosen.length === m) {
          if (value > bestValue) {
            bestValue = value;
            best = [...chosen];
          }
          return;
        }
        for (let i = 0; i < values.length; i += 1) {
          if (chosen.includes(i)) continue;
          const { rates, net } = values[i];
          chosen.push(i);
          search(reach * (rates.error + rates.timeout * (1 - scenario.timeoutAbandon)), value + reach * rates.success * net);
          chosen.pop();
        }
      };
      search(1, 0);
      const rest = values
        .filter((_, i) => !best.includes(i))
        .sort((a, b) => b.net - a.net || byId(a.c, b.c))
        .map((v) => v.c.id);
      return { order: [...best.map((i) => values[i].c.id), ...rest], propensity: 1 };
    },
    observe() {},
  };
}

// ---------------------------------------------------------------------------------------------------------
// The run

export interface PaymentRecord {
  readonly payment: SimPayment;
  readonly eligible: readonly string[];
  readonly decision: Decision;
  readonly attempts: readonly { readonly connectorId: string; readonly outcome: HealthOutcome; readonly time: number }[];
  readonly succeeded: boolean;
  readonly abandoned: boolean;
  /** Payment currency minor units (0 unless succeeded). */
  readonly feeMinor: number;
  readonly netMinor: number;
  /** Under the true rates, of the decision's order (payment currency minor units). */
  readonly expectedNetMinor: number;
  /** Under the true rates, the decision's probability of success. */
  readonly expectedSuccess: number;
}

export interface PolicyResult {
  readonly name: string;
  readonly payments: number;
  readonly succeeded: number;
  readonly authRate: number;
  /** Σ (amount − fee) over successes, per currency then converted: integer USD minor units. */
  readonly netRevenueUsdMinor: number;
  readonly feesUsdMinor: number;
  /** Σ expected net of each decision under the true rates, USD minor units (a float: an expectation). */
  readonly expectedNetUsdMinor: number;
  /** Mean probability of success of each decision under the true rates (less noisy than authRate). */
  readonly expectedAuthRate: number;
  readonly attempts: number;
  readonly abandoned: number;
  /** First attempts that failed (error or timeout), whole run. */
  readonly failedFirstAttempts: number;
  /** Within the outage window. */
  readonly outage: {
    readonly payments: number;
    /** First attempts on the outage connector. */
    readonly firstOnConnector: number;
    /** Of which failed (error or timeout). */
    readonly failedFirstOnConnector: number;
    /**
     * Of those, trials of the breaker's recovery (probes after a cool-down, attempts on probation); the rest
     * were sent while the breaker trusted the connector (before it demoted it, or after a recovery's probation).
     */
    readonly failedProbes: number;
    /** First attempts that failed, on any connector. */
    readonly failedFirstAttempts: number;
    readonly succeeded: number;
  };
  /** First choices per connector id. */
  readonly firstChoices: Readonly<Record<string, number>>;
  /**
   * After the outage ends: its segment (the payments whose best connector under the true rates is the outage
   * connector again), and how many of them passed before the policy chose it first for RECOVERY_SHARE of the
   * last RECOVERY_WINDOW of them (null: it never did).
   */
  readonly recovery?: { readonly segment: number; readonly recoveredAfter: number | null };
  /** The first EARLY_PAYMENTS payments alone (the cold start): net revenue, realised and expected, USD minor units. */
  readonly early: { readonly payments: number; readonly netRevenueUsdMinor: number; readonly expectedNetUsdMinor: number };
}

/** The payments the cold start is measured on (PolicyResult.early). */
export const EARLY_PAYMENTS = 2_000;

/** Recovery: the policy chooses the recovered connector first for this share of the last RECOVERY_WINDOW payments of its segment. */
export const RECOVERY_SHARE = 0.5;
export const RECOVERY_WINDOW = 20;

/** The connector with the best expected net of one attempt under the true rates (the segment a recovery is measured on). */
function bestSingle(scenario: Scenario, payment: SimPayment, eligible: readonly SimConnector[]): string {
  let best = eligible[0].id;
  let value = -Infinity;
  for (const c of eligible) {
    const v = trueRates(scenario, c.id, payment).success * netOf(payment, c);
    if (v > value) {
      value = v;
      best = c.id;
    }
  }
  return best;
}

/** Whether a connector is in the registry at `time` (a world may add one mid-run: Scenario.availableFrom). */
export function availableAt(scenario: Scenario, connector: SimConnector, time: number): boolean {
  const from = scenario.availableFrom?.[connector.id];
  return from === undefined || time >= from;
}

/** A min-heap of pending feedback by delivery time (then sequence, so the order is deterministic). */
class FeedbackQueue {
  private readonly items: { at: number; seq: number; report: AttemptFeedbackReport }[] = [];
  private seq = 0;

  get size(): number {
    return this.items.length;
  }

  push(at: number, report: AttemptFeedbackReport): void {
    const items = this.items;
    items.push({ at, seq: this.seq++, report });
    let i = items.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(items[i], items[p])) break;
      [items[i], items[p]] = [items[p], items[i]];
      i = p;
    }
  }

  /** Pops the reports due at `now` (delivery time ≤ now), earliest first. */
  *due(now: number): Generator<AttemptFeedbackReport> {
    const items = this.items;
    while (items.length && items[0].at <= now) {
      const top = items[0];
      const last = items.pop()!;
      if (items.length) {
        items[0] = last;
        let i = 0;
        for (;;) {
          const l = 2 * i + 1;
          const r = l + 1;
          let m = i;
          if (l < items.length && this.less(items[l], items[m])) m = l;
          if (r < items.length && this.less(items[r], items[m])) m = r;
          if (m === i) break;
          [items[i], items[m]] = [items[m], items[i]];
          i = m;
        }
      }
      yield top.report;
    }
  }

  private less(a: { at: number; seq: number }, b: { at: number; seq: number }): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }
}

export interface SimulateHooks {
  /** Every payment's record, in time order (for tests and off-policy evaluation logs). */
  readonly onPayment?: (record: PaymentRecord) => void;
}

/** A payment's attempts down `order`, as the product makes them (at most maxAttempts; a decline or an abandonment ends it). */
export function playAttempts(
  scenario: Scenario,
  payment: SimPayment,
  order: readonly SimConnector[],
): { attempts: Array<{ connectorId: string; outcome: HealthOutcome; time: number; latencyMs: number }>; success?: SimConnector; abandoned: boolean } {
  const attempts: Array<{ connectorId: string; outcome: HealthOutcome; time: number; latencyMs: number }> = [];
  let time = payment.context.time;
  for (const connector of order.slice(0, scenario.maxAttempts)) {
    const result = attemptOutcome(scenario, payment, connector.id);
    time += ATTEMPT_MS[result.outcome];
    attempts.push({ connectorId: connector.id, outcome: result.outcome, time, latencyMs: ATTEMPT_MS[result.outcome] });
    if (result.outcome === 'succeeded') return { attempts, success: connector, abandoned: false };
    if (result.outcome === 'declined') break;
    if (result.abandoned) return { attempts, abandoned: true };
  }
  return { attempts, abandoned: false };
}

/**
 * Runs one policy over the traffic: for each payment, delivers the feedback that is due, asks the policy
 * for an order of the eligible connectors, tries them (a decline or an abandoned timeout ends the
 * payment; an error or timeout falls back), and queues each attempt's outcome for delivery after
 * `feedbackDelayMs`. Throws if the policy returns a connector that was not offered or repeats one.
 */
export function simulate(scenario: Scenario, traffic: readonly SimPayment[], policy: SimPolicy, hooks: SimulateHooks = {}): PolicyResult {
  const byIdMap = new Map(scenario.connectors.map((c) => [c.id, c]));
  const queue = new FeedbackQueue();
  const fastQueue = new FeedbackQueue();
  const netByCurrency = new Map<string, number>();
  const feesByCurrency = new Map<string, number>();
  const firstChoices: Record<string, number> = {};
  let succeeded = 0;
  let attemptsTotal = 0;
  let abandonedTotal = 0;
  let failedFirst = 0;
  let expectedUsd = 0;
  let expectedSuccesses = 0;
  const outage = { payments: 0, firstOnConnector: 0, failedFirstOnConnector: 0, failedProbes: 0, failedFirstAttempts: 0, succeeded: 0 };
  const o = scenario.outage;
  const recovery = { segment: 0, recoveredAfter: null as number | null, window: [] as boolean[] };
  const early = { payments: 0, netRevenueUsdMinor: 0, expectedNetUsdMinor: 0 };

  for (const payment of traffic) {
    const now = payment.context.time;
    for (const report of fastQueue.due(now)) policy.observeFast?.(report);
    for (const report of queue.due(now)) policy.observe(report);
    const eligible = eligibleConnectors(scenario.connectors, payment.context).filter((c) => availableAt(scenario, c, now));
    if (eligible.length === 0) throw new Error(`payment ${payment.index}: no eligible connector (the traffic must not make one)`);
    const decision = policy.rank(payment, eligible);
    if (o && now >= o.to && recovery.recoveredAfter === null && eligible.some((c) => c.id === o.connectorId) && bestSingle(scenario, payment, eligible) === o.connectorId) {
      recovery.segment += 1;
      recovery.window.push(decision.order[0] === o.connectorId);
      if (recovery.window.length > RECOVERY_WINDOW) recovery.window.shift();
      if (recovery.window.length === RECOVERY_WINDOW && recovery.window.filter(Boolean).length >= RECOVERY_SHARE * RECOVERY_WINDOW) recovery.recoveredAfter = recovery.segment;
    }
    const offered = new Set(eligible.map((c) => c.id));
    if (decision.order.length === 0 || new Set(decision.order).size !== decision.order.length || decision.order.some((id) => !offered.has(id))) {
      throw new Error(`${policy.name} returned [${decision.order.join(', ')}] for eligible [${[...offered].join(', ')}]`);
    }
    const order = decision.order.map((id) => byIdMap.get(id)!);
    firstChoices[order[0].id] = (firstChoices[order[0].id] ?? 0) + 1;

    const { attempts, success, abandoned } = playAttempts(scenario, payment, order);
    for (const a of attempts) {
      const report = { connectorId: a.connectorId, outcome: a.outcome, time: a.time, payment, decision };
      queue.push(a.time + scenario.feedbackDelayMs, report);
      if (policy.observeFast) fastQueue.push(a.time + scenario.healthDelayMs, report);
    }

    const currency = payment.context.currency;
    const feeMinor = success ? feeOf(payment, success) : 0;
    const netMinor = success ? payment.context.amountMinor - feeMinor : 0;
    if (success) {
      succeeded += 1;
      netByCurrency.set(currency, (netByCurrency.get(currency) ?? 0) + netMinor);
      feesByCurrency.set(currency, (feesByCurrency.get(currency) ?? 0) + feeMinor);
    }
    const expected = expectedOutcome(scenario, payment, order);
    const [num, den] = USD_RATES[currency];
    expectedUsd += (expected.netMinor * num) / den;
    if (payment.index < EARLY_PAYMENTS) {
      early.payments += 1;
      early.netRevenueUsdMinor += toUsdMinor(netMinor, currency);
      early.expectedNetUsdMinor += (expected.netMinor * num) / den;
    }
    expectedSuccesses += expected.success;
    attemptsTotal += attempts.length;
    if (abandoned) abandonedTotal += 1;
    const firstFailed = attempts[0].outcome === 'error' || attempts[0].outcome === 'timeout';
    if (firstFailed) failedFirst += 1;
    if (o && now >= o.from && now < o.to) {
      outage.payments += 1;
      if (success) outage.succeeded += 1;
      if (firstFailed) outage.failedFirstAttempts += 1;
      if (order[0].id === o.connectorId) {
        outage.firstOnConnector += 1;
        if (firstFailed) outage.failedFirstOnConnector += 1;
        if (firstFailed && decision.probe) outage.failedProbes += 1;
      }
    }
    hooks.onPayment?.({
      payment,
      eligible: eligible.map((c) => c.id),
      decision,
      attempts,
      succeeded: success !== undefined,
      abandoned,
      feeMinor,
      netMinor,
      expectedNetMinor: expected.netMinor,
      expectedSuccess: expected.success,
    });
  }

  const usd = (m: Map<string, number>) => [...m].reduce((sum, [currency, minor]) => sum + toUsdMinor(minor, currency), 0);
  return {
    name: policy.name,
    payments: traffic.length,
    succeeded,
    authRate: traffic.length ? succeeded / traffic.length : 0,
    netRevenueUsdMinor: usd(netByCurrency),
    feesUsdMinor: usd(feesByCurrency),
    expectedNetUsdMinor: expectedUsd,
    expectedAuthRate: traffic.length ? expectedSuccesses / traffic.length : 0,
    attempts: attemptsTotal,
    abandoned: abandonedTotal,
    failedFirstAttempts: failedFirst,
    outage,
    firstChoices,
    ...(o ? { recovery: { segment: recovery.segment, recoveredAfter: recovery.recoveredAfter } } : {}),
    early,
  };
}

/** A policy's seeded random source, derived from the scenario's seed and the policy's slot. */
export function policyRandom(scenario: Scenario, slot: number): () => number {
  return prng(fmix32(scenario.seed ^ Math.imul(slot + 1, 0x9e3779b1)));
}

/** The five policies of the benchmark, each with its own seeded randomness. */
export function standardPolicies(scenario: Scenario, bandit: BanditOptions = DEFAULT_BANDIT): SimPolicy[] {
  return [
    cheapestPolicy(),
    roundRobinPolicy(),
    slidingWindowPolicy(policyRandom(scenario, 1)),
    banditSimPolicy(policyRandom(scenario, 2), vocabularyOf(scenario.connectors), bandit),
    oraclePolicy(scenario),
  ];
}
