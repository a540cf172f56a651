/**
 * The routing context and its feature vector: what the bandit knows about a payment when it chooses a
 * connector. One definition, used by the router online, by the routing simulator and by off-policy
 * evaluation. Categorical values are one-hot with an "other" slot, so an unknown value still has a place.
 *
 * The currency and region slots come from the connector registry (`vocabularyOf`): the currencies its
 * connectors name, and the regions of the buyer countries they name (a country in no region of
 * contracts/regions.ts is its own slot), so a registry that adds BRL or Brazil gives them their own
 * features. The vocabulary is kept with the learnt state (bandit.ts), and a state learnt under another
 * vocabulary is carried over to the registry's by feature name (`withVocabulary`).
 */
import type { z } from 'zod';
import type { RoutingContext as RoutingContextSchema } from '../../contracts/events';
import type { ConnectorDefinition } from '../../contracts/connectors';
import { currencyExponent } from '../../contracts/money';
import { cardNetwork, CardNetwork, PaymentMethodKind } from '../../contracts/methods';
import { REGIONS, regionOf } from '../../contracts/regions';

export type PaymentMethod = PaymentMethodKind;
export type { CardNetwork };
export const MERCHANT_CATEGORIES = ['retail', 'digital', 'travel', 'food', 'services'] as const;

/** What the bandit knows about a payment when it chooses a connector: declared once, in contracts/events.ts. */
export type RoutingContext = Readonly<z.infer<typeof RoutingContextSchema>>;

export { REGIONS, regionOf, cardNetwork };
export const METHODS: readonly PaymentMethod[] = PaymentMethodKind.options;
/** The named networks (one-hot), `other` taking the extra slot. */
export const NETWORKS: readonly CardNetwork[] = CardNetwork.options.filter((n) => n !== 'other');

/** The currencies and buyer regions that have a feature of their own (the rest share an `other` slot each). */
export interface RoutingVocabulary {
  /** ISO-4217 codes. */
  readonly currencies: readonly string[];
  /** Regions of contracts/regions.ts, and countries in none of them (ISO-3166 alpha-2). */
  readonly regions: readonly string[];
}

/** The vocabulary of states stored before it came from the registry: a fixed list. */
export const STORED_BEFORE_VOCABULARY: RoutingVocabulary = { currencies: ['USD', 'EUR', 'GBP', 'JPY'], regions: REGIONS };

/** The region slot of a buyer country: its region, or the country itself when it is in none (undefined: no country). */
export function regionKey(country: string | undefined): string | undefined {
  return country === undefined ? undefined : (regionOf(country) ?? country.toUpperCase());
}

/**
 * The vocabulary a registry distinguishes: every currency its connectors name, and the region slot of every
 * buyer country they name, with the regions of their fee rules and approval profiles (`*` names none). In a
 * stable order (regions as contracts/regions.ts lists them, then countries, currencies alphabetically), so the
 * same registry always gives the same features.
 */
export function vocabularyOf(connectors: ReadonlyArray<Pick<ConnectorDefinition, 'currencies' | 'regions'> & Partial<Pick<ConnectorDefinition, 'fee' | 'approval'>>>): RoutingVocabulary {
  const currencies = new Set<string>();
  const regions = new Set<string>();
  for (const c of connectors) {
    for (const code of c.currencies) if (code !== '*') currencies.add(code);
    for (const country of c.regions) if (country !== '*') regions.add(regionKey(country)!);
    for (const rule of c.fee?.rules ?? []) for (const region of rule.regions ?? []) regions.add(region);
    for (const region of Object.keys(c.approval?.byRegion ?? {})) regions.add(region);
  }
  const named = REGIONS.filter((r) => regions.has(r));
  const countries = [...regions].filter((r) => !(REGIONS as readonly string[]).includes(r)).sort();
  return { currencies: [...currencies].sort(), regions: [...named, ...countries] };
}

export function sameVocabulary(a: RoutingVocabulary, b: RoutingVocabulary): boolean {
  const same = (x: readonly string[], y: readonly string[]) => x.length === y.length && x.every((v, i) => v === y[i]);
  return a === b || (same(a.currencies, b.currencies) && same(a.regions, b.regions));
}

/**
 * The segment cell of a payment, where the bandit keeps each connector's correction of its linear estimate
 * (bandit.ts): buyer region slot | currency | method | card network | amount band | risk band. The amount bands
 * are in the currency's major units (under 20, 100, 500, and above), within the currency's own cells; the risk
 * bands on the fraud score (under 0.2, 0.5, and above; none counts as 0).
 */
export function segmentCell(context: RoutingContext): string {
  const major = context.amountMinor / 10 ** currencyExponent(context.currency);
  const band = major < 20 ? 0 : major < 100 ? 1 : major < 500 ? 2 : 3;
  const score = context.fraudScore ?? 0;
  const risk = score < 0.2 ? 0 : score < 0.5 ? 1 : 2;
  const network = context.method === 'card' ? (context.network ?? 'other') : '';
  return `${regionKey(context.country) ?? '-'}|${context.currency}|${context.method}|${network}|${band}|${risk}`;
}

function oneHot(values: readonly string[], value: string | undefined): number[] {
  const out = new Array<number>(values.length + 1).fill(0);
  const at = value === undefined ? -1 : values.indexOf(value);
  out[at < 0 ? values.length : at] = 1;
  return out;
}

/** The names of the feature vector's entries under a vocabulary, in order. */
export function routingFeatureNames(vocabulary: RoutingVocabulary): string[] {
  return [
    'bias',
    'log_amount',
    'fraud_score',
    ...[...MERCHANT_CATEGORIES, 'other'].map((c) => `category_${c}`),
    ...[...vocabulary.regions, 'other'].map((r) => `region_${r}`),
    ...[...vocabulary.currencies, 'other'].map((c) => `currency_${c}`),
    ...METHODS.map((m) => `method_${m}`),
    ...[...NETWORKS, 'other'].map((n) => `network_${n}`),
    'hour_sin',
    'hour_cos',
  ];
}

/** The length of the feature vector under a vocabulary. */
export function routingDimension(vocabulary: RoutingVocabulary): number {
  return routingFeatureNames(vocabulary).length;
}

/**
 * The feature vector of a context under a vocabulary. Scales are kept near 1 so one exploration parameter suits
 * every feature: the log amount is divided by 10 (ln of 1 million major units ≈ 13.8).
 */
export function routingFeatures(context: RoutingContext, vocabulary: RoutingVocabulary): Float64Array {
  const major = context.amountMinor / 10 ** currencyExponent(context.currency);
  const hour = new Date(context.time).getUTCHours() + new Date(context.time).getUTCMinutes() / 60;
  const methodSlots = METHODS.map((m) => (m === context.method ? 1 : 0));
  const values = [
    1,
    Math.log1p(major) / 10,
    context.fraudScore ?? 0,
    ...oneHot(MERCHANT_CATEGORIES, context.merchantCategory),
    ...oneHot(vocabulary.regions, regionKey(context.country)),
    ...oneHot(vocabulary.currencies, context.currency),
    ...methodSlots,
    ...(context.method === 'card' ? oneHot(NETWORKS, context.network) : new Array<number>(NETWORKS.length + 1).fill(0)),
    Math.sin((2 * Math.PI * hour) / 24),
    Math.cos((2 * Math.PI * hour) / 24),
  ];
  return Float64Array.from(values);
}
