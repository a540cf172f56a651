/**
 * The routing context and its feature vector: what the bandit knows about a payment when it chooses a
 * connector. One definition, used by the router online, by the routing simulator and by off-policy
 * evaluation. Categorical values are one-hot over a fixed vocabulary with an "other" slot, so an unknown
 * value still has a place and the dimension never changes.
 */
import type { z } from 'zod';
import type { RoutingContext as RoutingContextSchema } from '../../contracts/events';
import { currencyExponent } from '../../contracts/money';
import { cardNetwork, CardNetwork, PaymentMethodKind } from '../../contracts/methods';
import { REGIONS, regionOf } from '../../contracts/regions';

export type PaymentMethod = PaymentMethodKind;
export type { CardNetwork };
export const MERCHANT_CATEGORIES = ['retail', 'digital', 'travel', 'food', 'services'] as const;

/** What the bandit knows about a payment when it chooses a connector: declared once, in contracts/events.ts. */
export type RoutingContext = Readonly<z.infer<typeof RoutingContextSchema>>;

export { REGIONS, regionOf, cardNetwork };
export const CURRENCIES = ['USD', 'EUR', 'GBP', 'JPY'] as const;
export const METHODS: readonly PaymentMethod[] = PaymentMethodKind.options;
/** The named networks (one-hot), `other` taking the extra slot. */
export const NETWORKS: readonly CardNetwork[] = CardNetwork.options.filter((n) => n !== 'other');

function oneHot(values: readonly string[], value: string | undefined): number[] {
  const out = new Array<number>(values.length + 1).fill(0);
  const at = value === undefined ? -1 : values.indexOf(value);
  out[at < 0 ? values.length : at] = 1;
  return out;
}

/** The names of the feature vector's entries, in order. */
export const ROUTING_FEATURES: readonly string[] = [
  'bias',
  'log_amount',
  'fraud_score',
  ...[...MERCHANT_CATEGORIES, 'other'].map((c) => `category_${c}`),
  ...[...REGIONS, 'other'].map((r) => `region_${r}`),
  ...[...CURRENCIES, 'other'].map((c) => `currency_${c}`),
  ...METHODS.map((m) => `method_${m}`),
  ...[...NETWORKS, 'other'].map((n) => `network_${n}`),
  'hour_sin',
  'hour_cos',
];

export const ROUTING_DIMENSION = ROUTING_FEATURES.length;

/**
 * The feature vector of a context. Scales are kept near 1 so one exploration parameter suits every
 * feature: the log amount is divided by 10 (ln of 1 million major units ≈ 13.8).
 */
export function routingFeatures(context: RoutingContext): Float64Array {
  const major = context.amountMinor / 10 ** currencyExponent(context.currency);
  const hour = new Date(context.time).getUTCHours() + new Date(context.time).getUTCMinutes() / 60;
  const methodSlots = METHODS.map((m) => (m === context.method ? 1 : 0));
  const values = [
    1,
    Math.log1p(major) / 10,
    context.fraudScore ?? 0,
    ...oneHot(MERCHANT_CATEGORIES, context.merchantCategory),
    ...oneHot(REGIONS, regionOf(context.country)),
    ...oneHot(CURRENCIES, context.currency),
    ...methodSlots,
    ...(context.method === 'card' ? oneHot(NETWORKS, context.network) : new Array<number>(NETWORKS.length + 1).fill(0)),
    Math.sin((2 * Math.PI * hour) / 24),
    Math.cos((2 * Math.PI * hour) / 24),
  ];
  return Float64Array.from(values);
}
