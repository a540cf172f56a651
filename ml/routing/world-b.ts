/**
 * World B (issue 15): a second routing world, written apart from the first (simulator.ts's default scenario), to
 * develop against interactions a linear model per connector cannot represent, a cold start, an outage and a
 * brown-out, and fee tiers. The simulator runs it as it runs world A (the same flow, delays and policies); only
 * the truth, the catalogue and the traffic are this file's.
 *
 * What makes it hard (all in log-odds of authorisation given the attempt was processed):
 * - region × network: global-1 is the best acquirer of American Express in North America and the worst
 *   elsewhere; eu-local is the best for European Visa and Mastercard, and poor for Amex;
 * - amount band × connector: latam-acq authorises large LATAM payments (above USD 100) far better than any
 *   other, and small ones worse;
 * - risk band × connector: risk-shield declines risky payments (fraud score above 0.3) much less than the others
 *   (its slope on the score is −0.5, theirs −3.5), and costs more;
 * - fee tiers: bulk-rate takes 1.20% + 0.60 (cheap for large amounts, dear for small ones), global-1 2.90% + 0.30,
 *   eu-local 1.40% + 0.25 for EU buyers (1.80% for UK ones), latam-acq 3.50% + 0.10;
 * - a cold start: newcomer joins at 45% of the run, and is then the best for North American Visa and Mastercard;
 * - an outage: bulk-rate fails 95% of its attempts from hour 14 to hour 16; a brown-out: eu-local fails 35%
 *   from hour 30 to hour 33;
 * - drift: latam-acq improves over the run, eu-local degrades for UK buyers.
 */
import type { CardNetwork, RoutingContext } from '../../lambdas/routing/context';
import { logit, sigmoid } from '../../lambdas/shared/logistic';
import { prng } from '../prng';
import { defaultScenario, gaussian, inTimeOrder, pick, toUsdMinor, USD_RATES, type ConnectorTruth, type Region, type Scenario, type SimConnector, type SimPayment, type Weighted } from './simulator';

const HOUR = 3_600_000;

export const WORLD_B_CONNECTORS: readonly SimConnector[] = [
  {
    id: 'global-1', kind: 'sandbox', enabled: true, methods: ['card', 'wallet'], currencies: ['*'], regions: ['*'],
    fee: { basisPoints: 290, fixedMinor: 30, rules: [{ method: 'wallet', basisPoints: 250, fixedMinor: 30 }] },
  },
  {
    id: 'eu-local', kind: 'sandbox', enabled: true, methods: ['card'], currencies: ['EUR', 'GBP'], regions: ['DE', 'FR', 'ES', 'NL', 'GB'],
    fee: { basisPoints: 180, fixedMinor: 25, rules: [{ regions: ['EU'], basisPoints: 140, fixedMinor: 25 }] },
  },
  { id: 'latam-acq', kind: 'sandbox', enabled: true, methods: ['card'], currencies: ['BRL', 'MXN', 'USD'], regions: ['BR', 'MX'], fee: { basisPoints: 350, fixedMinor: 10 } },
  { id: 'risk-shield', kind: 'sandbox', enabled: true, methods: ['card'], currencies: ['*'], regions: ['*'], fee: { basisPoints: 390, fixedMinor: 30 } },
  { id: 'bulk-rate', kind: 'sandbox', enabled: true, methods: ['card'], currencies: ['USD', 'EUR', 'GBP', 'JPY', 'AUD', 'CAD'], regions: ['US', 'CA', 'DE', 'FR', 'ES', 'NL', 'GB', 'JP', 'AU'], fee: { basisPoints: 120, fixedMinor: 60 } },
  { id: 'wallet-pay', kind: 'amazon_pay', enabled: true, methods: ['wallet'], currencies: ['USD', 'EUR', 'GBP', 'JPY'], regions: ['US', 'CA', 'DE', 'FR', 'ES', 'NL', 'GB', 'JP', 'AU'], fee: { basisPoints: 240, fixedMinor: 30 } },
  { id: 'newcomer', kind: 'sandbox', enabled: true, methods: ['card'], currencies: ['USD', 'CAD'], regions: ['US', 'CA'], fee: { basisPoints: 220, fixedMinor: 20 } },
];

/** World B's connectors: authorisation of the reference payment (a USD 50 Visa, score 0) per region, and failures. */
interface TruthB {
  readonly base: Readonly<Record<Region, number>>;
  /** Log-odds shifts by network, per region ('*': every region). */
  readonly network?: Readonly<Partial<Record<Region | '*', Partial<Record<CardNetwork, number>>>>>;
  /** Shift above USD 100 and below USD 20 (LATAM buyers only when `latamOnly`). */
  readonly large?: number;
  readonly small?: number;
  readonly latamOnly?: boolean;
  /** Slope on the fraud score (common: −3.5). */
  readonly fraudSlope?: number;
  readonly wallet?: number;
  /** Drift at phase φ, per region ('*': every region). */
  readonly drift?: Readonly<Partial<Record<Region | '*', (phase: number) => number>>>;
  readonly failure: number;
}

const flat = (p: number): Record<Region, number> => ({ NA: p, EU: p, UK: p, APAC: p, LATAM: p });

const TRUTH_B: Readonly<Record<string, TruthB>> = {
  'global-1': { base: { NA: 0.9, EU: 0.86, UK: 0.87, APAC: 0.86, LATAM: 0.78 }, network: { NA: { amex: 0.5 }, EU: { amex: -0.5 }, UK: { amex: -0.5 }, APAC: { amex: -0.5 }, LATAM: { amex: -0.5 } }, failure: 0.005 },
  'eu-local': {
    base: { NA: 0.8, EU: 0.935, UK: 0.92, APAC: 0.8, LATAM: 0.7 },
    network: { '*': { amex: -0.9 } },
    drift: { UK: (phase) => -0.6 * phase },
    failure: 0.006,
  },
  'latam-acq': { base: flat(0.8), large: 0.8, small: -0.5, latamOnly: true, drift: { '*': (phase) => 0.3 * phase }, failure: 0.01 },
  'risk-shield': { base: flat(0.875), fraudSlope: -0.5, failure: 0.006 },
  'bulk-rate': { base: { NA: 0.905, EU: 0.88, UK: 0.885, APAC: 0.885, LATAM: 0.75 }, network: { '*': { mastercard: 0.15 } }, failure: 0.008 },
  'wallet-pay': { base: flat(0.9), wallet: 0.5, failure: 0.008 },
  newcomer: { base: { NA: 0.945, EU: 0.8, UK: 0.8, APAC: 0.8, LATAM: 0.7 }, network: { '*': { amex: -0.7 } }, failure: 0.005 },
};

const COMMON_B = { wallet: 0.9, otherNetwork: -0.4, amountSlope: -0.1, fraudSlope: -3.5, digital: -0.3 };

/** World B's authorisation probability of a processed attempt. */
export function worldBAuth(connectorId: string, payment: SimPayment, phase: number): number {
  const t = TRUTH_B[connectorId];
  if (!t) throw new Error(`world B has no connector ${connectorId}`);
  const { context, region } = payment;
  let z = logit(t.base[region]);
  if (context.method === 'wallet') z += COMMON_B.wallet + (t.wallet ?? 0);
  if (context.method === 'card') {
    const network = context.network ?? 'other';
    if (network === 'other') z += COMMON_B.otherNetwork;
    z += (t.network?.['*']?.[network] ?? 0) + (t.network?.[region]?.[network] ?? 0);
  }
  const usd = payment.usdMinor / 100;
  z += COMMON_B.amountSlope * Math.log(usd / 50);
  if (!t.latamOnly || region === 'LATAM') {
    if (usd > 100) z += t.large ?? 0;
    if (usd < 20) z += t.small ?? 0;
  }
  z += (t.fraudSlope ?? COMMON_B.fraudSlope) * (context.fraudScore ?? 0);
  if (context.merchantCategory === 'digital') z += COMMON_B.digital;
  z += (t.drift?.['*']?.(phase) ?? 0) + (t.drift?.[region]?.(phase) ?? 0);
  return sigmoid(z);
}

const REGIONS_B: Weighted<Region> = [['NA', 0.3], ['EU', 0.3], ['UK', 0.08], ['APAC', 0.12], ['LATAM', 0.2]];
const COUNTRIES_B: Readonly<Record<Region, Weighted<readonly [string, string]>>> = {
  NA: [[['US', 'USD'], 0.8], [['CA', 'CAD'], 0.2]],
  EU: [[['DE', 'EUR'], 0.35], [['FR', 'EUR'], 0.25], [['ES', 'EUR'], 0.2], [['NL', 'EUR'], 0.2]],
  UK: [[['GB', 'GBP'], 1]],
  APAC: [[['JP', 'JPY'], 0.5], [['AU', 'AUD'], 0.5]],
  LATAM: [[['BR', 'BRL'], 0.55], [['MX', 'MXN'], 0.45]],
};
/** Category, share, median amount in USD, log-normal σ. */
const CATEGORIES_B: Weighted<readonly [string, number, number]> = [
  [['retail', 40, 0.9], 0.4],
  [['digital', 10, 0.6], 0.25],
  [['travel', 320, 0.8], 0.15],
  [['services', 120, 1.0], 0.2],
];
const NETWORKS_B: Weighted<CardNetwork> = [['visa', 0.5], ['mastercard', 0.3], ['amex', 0.15], ['other', 0.05]];

/** World B's traffic: its own mix, evenly over the run, 15% of it risky (fraud score 0.3–0.8). */
export function worldBTraffic(scenario: Scenario): SimPayment[] {
  const random = prng(scenario.seed ^ 0x0b0b);
  const rows: Array<Omit<SimPayment, 'index'>> = [];
  for (let i = 0; i < scenario.payments; i += 1) {
    const region = pick(random, REGIONS_B);
    const [country, local] = pick(random, COUNTRIES_B[region]);
    const time = scenario.start + Math.floor(random() * scenario.durationMs);
    const method = random() < 0.15 && region !== 'LATAM' ? 'wallet' : 'card';
    const [category, median, sigma] = pick(random, CATEGORIES_B);
    const usdMinor = Math.round(Math.min(12_000, Math.max(1, median * Math.exp(sigma * gaussian(random)))) * 100);
    const currency = method === 'card' && random() < 0.1 && region !== 'EU' && region !== 'UK' ? 'USD' : local;
    const [num, den] = USD_RATES[currency]!;
    const amountMinor = Math.max(1, Math.round((usdMinor * den) / num));
    const fraudScore = Math.round((random() < 0.15 ? 0.3 + random() * 0.5 : random() ** 3 * 0.3) * 1000) / 1000;
    const context: RoutingContext = {
      amountMinor,
      currency,
      method,
      ...(method === 'card' ? { network: pick(random, NETWORKS_B) } : {}),
      country,
      merchantCategory: category,
      fraudScore,
      time,
    };
    rows.push({ context, region, usdMinor: toUsdMinor(amountMinor, currency) });
  }
  return inTimeOrder(rows);
}

/** World B's scenario, on world A's delays and defaults (overrides as defaultScenario's). */
export function worldBScenario(overrides: Partial<Scenario> = {}): Scenario {
  const base = defaultScenario(overrides);
  const { start, durationMs } = base;
  const truth = Object.fromEntries(Object.entries(TRUTH_B).map(([id, t]) => [id, { base: t.base, failure: t.failure } satisfies ConnectorTruth]));
  return {
    ...base,
    world: 'B',
    connectors: WORLD_B_CONNECTORS,
    truth,
    auth: worldBAuth,
    generate: worldBTraffic,
    outage: { connectorId: 'bulk-rate', from: start + 14 * HOUR * (durationMs / (48 * HOUR)), to: start + 16 * HOUR * (durationMs / (48 * HOUR)), errorRate: 0.7, timeoutRate: 0.25 },
    brownouts: [{ connectorId: 'eu-local', from: start + 30 * HOUR * (durationMs / (48 * HOUR)), to: start + 33 * HOUR * (durationMs / (48 * HOUR)), errorRate: 0.25, timeoutRate: 0.1 }],
    availableFrom: { newcomer: start + Math.round(0.45 * durationMs) },
    ...overrides,
  };
}
