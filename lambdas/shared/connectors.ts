/**
 * The connector catalogue: which gateway accounts exist, what each can take, and what it costs. Routing
 * reads it for eligibility and cost; payments reads it to build each connector's adapter. In this first
 * version every connector is a sandbox with Stripe's test-card semantics (see lambdas/payments/sandbox.ts).
 */
export type ConnectorKind = 'stripe' | 'amazon_pay' | 'solana_pay' | 'sandbox';
export type PaymentMethodKind = 'card';

export interface FeeSchedule {
  /** Percentage part in basis points (290 = 2.90%). */
  readonly basisPoints: number;
  /** Fixed part in minor units of the payment's currency. */
  readonly fixedMinor: number;
}

export interface ConnectorDefinition {
  readonly id: string;
  readonly kind: ConnectorKind;
  readonly enabled: boolean;
  readonly methods: readonly PaymentMethodKind[];
  /** ISO-4217 codes; `*` means every supported currency. */
  readonly currencies: readonly string[];
  /** ISO-3166 alpha-2 buyer countries; `*` means anywhere. */
  readonly regions: readonly string[];
  readonly fee: FeeSchedule;
}

export const DEFAULT_CONNECTORS: readonly ConnectorDefinition[] = [
  {
    id: 'stripe-sandbox',
    kind: 'stripe',
    enabled: true,
    methods: ['card'],
    currencies: ['*'],
    regions: ['*'],
    fee: { basisPoints: 290, fixedMinor: 30 },
  },
  {
    id: 'amazon-pay-sandbox',
    kind: 'amazon_pay',
    enabled: true,
    methods: ['card'],
    currencies: ['USD', 'EUR', 'GBP', 'JPY'],
    regions: ['US', 'GB', 'DE', 'FR', 'IT', 'ES', 'JP'],
    fee: { basisPoints: 270, fixedMinor: 30 },
  },
];

export function findConnector(id: string, catalogue: readonly ConnectorDefinition[] = DEFAULT_CONNECTORS): ConnectorDefinition | undefined {
  return catalogue.find((c) => c.id === id);
}
