/**
 * The connector registry: which gateway accounts exist, what each can take, what it costs, and (sandboxes)
 * how it behaves. Routing reads it for eligibility and fees; payments reads it to build each connector's
 * adapter. It is configuration, per stage: the stage's `connectors` (lib/stages.ts) reach the functions as
 * the `CONNECTORS` JSON, checked by the same schema at synth and at cold start. Several accounts of one kind
 * are normal (`stripe-us`, `stripe-eu`).
 *
 * Every connector today is a sandbox with Stripe's test-card semantics and Amazon Pay test wallet tokens
 * (lambdas/payments/sandbox.ts). A sandbox `approval` profile makes ordinary cards and wallet tokens (not the
 * test ones) succeed with a context-dependent probability, so routing has something real to learn locally.
 */
import { z } from 'zod';
import { percentageFee } from './money';
import { regionOf, REGIONS, type Region } from './regions';

export type ConnectorKind = 'stripe' | 'amazon_pay' | 'solana_pay' | 'sandbox';
/** Cards and wallets go through /pay today; Solana Pay is routed (eligibility, ranking) but not charged yet. */
export type PaymentMethodKind = 'card' | 'wallet' | 'solana_pay';

export interface Fee {
  /** Percentage part in basis points (290 = 2.90%). */
  readonly basisPoints: number;
  /** Fixed part in minor units of the payment's currency. */
  readonly fixedMinor: number;
}

/** A fee for some payments: of one method, from buyers in some regions, or both. */
export interface FeeRule extends Fee {
  /** Only payments of this method (absent: every method). */
  readonly method?: PaymentMethodKind;
  /** Only buyers in these regions (absent: anywhere; a buyer of unknown region matches only rules without). */
  readonly regions?: readonly Region[];
}

/** A connector's pricing: the first matching rule, else the base fee. */
export interface FeeSchedule extends Fee {
  readonly rules?: readonly FeeRule[];
}

/** How often a sandbox approves an ordinary card: a base rate, adjusted by buyer region, network and amount. */
export interface ApprovalProfile {
  /** Approval probability in [0, 1] without adjustments. */
  readonly base: number;
  /** Added per buyer region (NA, EU, UK, APAC, LATAM). */
  readonly byRegion?: Readonly<Partial<Record<(typeof REGIONS)[number], number>>>;
  /** Added per card network. */
  readonly byNetwork?: Readonly<Partial<Record<'visa' | 'mastercard' | 'amex' | 'other', number>>>;
  /** Added when the amount is at least `minor` minor units. */
  readonly large?: { readonly minor: number; readonly delta: number };
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
  /** Sandboxes only: the approval profile of ordinary cards (absent: they always succeed). */
  readonly approval?: ApprovalProfile;
}

const Delta = z.number().min(-1).max(1);
const FeeFields = { basisPoints: z.number().int().min(0).max(10_000), fixedMinor: z.number().int().min(0) };
const ConnectorSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'must be lowercase letters, digits and dashes'),
    kind: z.enum(['stripe', 'amazon_pay', 'solana_pay', 'sandbox']),
    enabled: z.boolean(),
    methods: z.array(z.enum(['card', 'wallet', 'solana_pay'])).min(1),
    currencies: z.array(z.string().regex(/^([A-Z]{3}|\*)$/, 'must be ISO-4217 codes or *')).min(1),
    regions: z.array(z.string().regex(/^([A-Z]{2}|\*)$/, 'must be ISO-3166 alpha-2 codes or *')).min(1),
    fee: z
      .object({
        ...FeeFields,
        rules: z
          .array(
            z
              .object({ method: z.enum(['card', 'wallet', 'solana_pay']).optional(), regions: z.array(z.enum(REGIONS)).min(1).optional(), ...FeeFields })
              .strict()
              .refine((rule) => rule.method !== undefined || rule.regions !== undefined, 'a rule names a method, regions or both'),
          )
          .optional(),
      })
      .strict(),
    approval: z
      .object({
        base: z.number().min(0).max(1),
        byRegion: z.partialRecord(z.enum(REGIONS), Delta).optional(),
        byNetwork: z.partialRecord(z.enum(['visa', 'mastercard', 'amex', 'other']), Delta).optional(),
        large: z.object({ minor: z.number().int().positive(), delta: Delta }).strict().optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

export const ConnectorRegistry = z
  .array(ConnectorSchema)
  .min(1)
  .refine((list) => new Set(list.map((c) => c.id)).size === list.length, 'connector ids must be unique');

/** Parses and checks a registry (e.g. the CONNECTORS JSON); the error names `source` and each bad field. */
export function parseConnectorRegistry(json: unknown, source: string): ConnectorDefinition[] {
  const parsed = ConnectorRegistry.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new Error(`${source}: not a valid connector registry (${issues})`);
  }
  return parsed.data;
}

/** The registry a stage gets when it configures none: two sandbox accounts. */
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

/**
 * The local platform's registry: four card processors whose approval of ordinary cards depends on the
 * buyer's region, the network and the amount, with different fees, so the routing bandit has something
 * real to learn (the test cards keep their fixed outcomes on every connector), and a Solana Pay connector.
 */
export const LOCAL_CONNECTORS: readonly ConnectorDefinition[] = [
  {
    id: 'stripe-us', kind: 'stripe', enabled: true, methods: ['card'], currencies: ['*'], regions: ['*'],
    // North American cards at the domestic rate; the rest of the world (unknown countries too) 1.5 points more.
    fee: { basisPoints: 440, fixedMinor: 30, rules: [{ regions: ['NA'], basisPoints: 290, fixedMinor: 30 }] },
    approval: { base: 0.9, byRegion: { NA: 0.06, EU: -0.05, UK: -0.04, APAC: -0.08, LATAM: -0.12 }, byNetwork: { amex: -0.05 } },
  },
  {
    id: 'stripe-eu', kind: 'stripe', enabled: true, methods: ['card'], currencies: ['EUR', 'GBP', 'USD'], regions: ['*'],
    // European and UK cards at the domestic rate; the rest of the world at the international one.
    fee: { basisPoints: 325, fixedMinor: 25, rules: [{ regions: ['EU', 'UK'], basisPoints: 250, fixedMinor: 25 }] },
    approval: { base: 0.88, byRegion: { EU: 0.08, UK: 0.07, NA: -0.06, APAC: -0.05, LATAM: -0.1 } },
  },
  {
    id: 'amazon-pay', kind: 'amazon_pay', enabled: true, methods: ['card', 'wallet'], currencies: ['USD', 'EUR', 'GBP', 'JPY'],
    regions: ['US', 'GB', 'DE', 'FR', 'IT', 'ES', 'JP'],
    // Amazon Pay wallets cost less than cards.
    fee: { basisPoints: 270, fixedMinor: 30, rules: [{ method: 'wallet', basisPoints: 240, fixedMinor: 30 }] },
    approval: { base: 0.91, byNetwork: { mastercard: -0.06 }, large: { minor: 50_000, delta: -0.1 } },
  },
  {
    id: 'sandbox-latam', kind: 'sandbox', enabled: true, methods: ['card'], currencies: ['*'], regions: ['*'],
    fee: { basisPoints: 320, fixedMinor: 40 },
    approval: { base: 0.8, byRegion: { LATAM: 0.15, APAC: 0.05 }, large: { minor: 100_000, delta: 0.05 } },
  },
  {
    // Takes Solana Pay only: a card is never routed to it, and it is the only choice for Solana Pay.
    id: 'solana-pay', kind: 'solana_pay', enabled: true, methods: ['solana_pay'], currencies: ['USD', 'EUR'], regions: ['*'],
    fee: { basisPoints: 100, fixedMinor: 0 },
  },
];

/** The fee a connector charges for a payment, in minor units: its first matching rule's, else its base fee. */
export function connectorFee(fee: FeeSchedule, payment: { readonly amountMinor: number; readonly method: PaymentMethodKind; readonly country?: string }): number {
  const region = regionOf(payment.country);
  const rule = fee.rules?.find(
    (r) => (r.method === undefined || r.method === payment.method) && (r.regions === undefined || (region !== undefined && r.regions.includes(region))),
  );
  const applied = rule ?? fee;
  return percentageFee(payment.amountMinor, applied.basisPoints, applied.fixedMinor);
}

export function findConnector(id: string, catalogue: readonly ConnectorDefinition[] = DEFAULT_CONNECTORS): ConnectorDefinition | undefined {
  return catalogue.find((c) => c.id === id);
}
