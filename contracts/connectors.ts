/**
 * The connector registry: which gateway accounts exist, what each can take, what it costs, and (sandboxes)
 * how it behaves. Routing reads it for eligibility and fees; payments reads it to build each connector's
 * adapter. It is configuration, per stage: the stage's `connectors` (lib/stages.ts) reach the functions as
 * the `CONNECTORS` JSON, checked by the same schema at synth and at cold start. Several accounts of one kind
 * are normal (`stripe-us`, `stripe-eu`).
 *
 * A connector's `kind` picks its adapter (lambdas/payments/connector-registry.ts): `stripe` is the Stripe API
 * (its account's key in the gateway credentials secret); `solana_pay` is a merchant's wallet receiving Solana
 * Pay transfers (`solanaPay`); `sandbox` is an in-process processor with the test world's issuer
 * (contracts/issuer.ts: Stripe's test cards, Amazon Pay test wallet tokens); `amazon_pay` is the Amazon Pay API
 * (its account's key pair in the gateway credentials secret; it takes wallet tokens only: a token is the buyer's
 * Charge Permission). An `approval` profile makes ordinary
 * cards and wallet tokens (not the test ones) succeed with a context-dependent probability, so routing has
 * something real to learn locally: the sandboxes apply it, and so do the local fakes of the gateways' APIs.
 */
import { z } from 'zod';
import { CardNetwork, PaymentMethodKind } from './methods';
import { MAX_AMOUNT_MINOR, percentageFee } from './money';
import { SolanaAddress } from './ids';
import { Region, regionOf } from './regions';

/** The kinds of gateway a connector talks to. */
export const ConnectorKind = z.enum(['stripe', 'amazon_pay', 'solana_pay', 'sandbox']);
export type ConnectorKind = z.infer<typeof ConnectorKind>;

/**
 * Stripe's amounts against ours (ISO 4217 minor units, contracts/money.ts), where they differ
 * (https://docs.stripe.com/currencies#special-cases):
 * - ISK: ISO 4217 has no minor unit, but Stripe's API keeps ISK two-decimal for backwards compatibility
 *   (100 = 1 króna, and only whole krónur: multiples of 100). Sent as it is, 500 krónur would be charged as 5.
 * - The three-decimal currencies (BHD, JOD, KWD, OMR, TND): Stripe takes their minor units, but only amounts whose
 *   last digit is 0 (5.124 KWD cannot be charged; 5.120 can).
 * Stripe's API also caps an amount at eight digits in its own units (MAX_AMOUNT_MINOR).
 */
const STRIPE_SCALE: Readonly<Record<string, number>> = { ISK: 100 };
const STRIPE_TENS: ReadonlySet<string> = new Set(['BHD', 'JOD', 'KWD', 'OMR', 'TND']);

/** An amount in our minor units as Stripe's API takes it (check `stripeAmountProblem` first). */
export function toStripeAmount(amountMinor: number, currency: string): number {
  return amountMinor * (STRIPE_SCALE[currency.toUpperCase()] ?? 1);
}

/** An amount of Stripe's (a charge, a fee) in our minor units: ISK's hundredths rounded to the króna. */
export function fromStripeAmount(stripeUnits: number, currency: string): number {
  const scale = STRIPE_SCALE[currency.toUpperCase()] ?? 1;
  return scale === 1 ? stripeUnits : Math.round(stripeUnits / scale);
}

/** Why Stripe cannot charge (or refund) this amount, or undefined when it can. */
export function stripeAmountProblem(amountMinor: number, currency: string): string | undefined {
  const code = currency.toUpperCase();
  if (STRIPE_TENS.has(code) && amountMinor % 10 !== 0) {
    return `Stripe takes ${code} amounts in multiples of 10 minor units (0.010 ${code}); ${amountMinor} is not one`;
  }
  if (toStripeAmount(amountMinor, code) > MAX_AMOUNT_MINOR) {
    return `Stripe takes ${code} amounts up to ${Math.floor(MAX_AMOUNT_MINOR / (STRIPE_SCALE[code] ?? 1))} minor units; ${amountMinor} is more`;
  }
  return undefined;
}

/** Why a connector of this kind cannot take this amount (its gateway's own rules), or undefined when it can. */
export function connectorAmountProblem(kind: ConnectorKind, amountMinor: number, currency: string): string | undefined {
  return kind === 'stripe' ? stripeAmountProblem(amountMinor, currency) : undefined;
}

/**
 * The end of routing's no-eligible-connector message when the amount is why (its connectors' amount problems), and
 * its reading back: the payment workflow's failure carries the message alone, and /pay names the field from it.
 */
export function amountProblemsClause(problems: readonly string[]): string {
  return problems.length ? ` of this amount (amount: ${problems.join('; ')})` : '';
}

export function amountProblemsOf(message: string): string | undefined {
  return / of this amount \(amount: (.+)\)$/.exec(message)?.[1];
}

const Delta = z.number().min(-1).max(1);
const FeeFields = {
  /** Percentage part in basis points (290 = 2.90%). */
  basisPoints: z.number().int().min(0).max(10_000),
  /** Fixed part in minor units of the payment's currency. */
  fixedMinor: z.number().int().min(0),
};

/** A fee for some payments: of one method, from buyers in some regions, or both. */
export const FeeRule = z
  .object({
    /** Only payments of this method (absent: every method). */
    method: PaymentMethodKind.optional(),
    /** Only buyers in these regions (absent: anywhere; a buyer of unknown region matches only rules without). */
    regions: z.array(Region).min(1).readonly().optional(),
    ...FeeFields,
  })
  .strict()
  .refine((rule) => rule.method !== undefined || rule.regions !== undefined, 'a rule names a method, regions or both');
export type FeeRule = z.infer<typeof FeeRule>;

/** A connector's pricing: the first matching rule, else the base fee. */
export const FeeSchedule = z.object({ ...FeeFields, rules: z.array(FeeRule).readonly().optional() }).strict();
export type FeeSchedule = z.infer<typeof FeeSchedule>;

/** How often a sandbox approves an ordinary card: a base rate, adjusted by buyer region, network and amount. */
export const ApprovalProfile = z
  .object({
    /** Approval probability in [0, 1] without adjustments. */
    base: z.number().min(0).max(1),
    /** Added per buyer region. */
    byRegion: z.partialRecord(Region, Delta).optional(),
    /** Added per card network. */
    byNetwork: z.partialRecord(CardNetwork, Delta).optional(),
    /** Added when the amount is at least `minor` minor units. */
    large: z.object({ minor: z.number().int().positive(), delta: Delta }).strict().optional(),
  })
  .strict();
export type ApprovalProfile = z.infer<typeof ApprovalProfile>;

/**
 * A Solana Pay connector's account: the merchant's wallet that receives the transfers, and the SPL token each
 * currency is paid in (a stablecoin: its mint and decimals), plus the label wallets show.
 */
export const SolanaPayAccount = z
  .object({
    recipient: SolanaAddress,
    label: z.string().min(1).max(64).optional(),
    tokens: z.partialRecord(z.string().regex(/^[A-Z]{3}$/), z.object({ mint: SolanaAddress, decimals: z.number().int().min(0).max(9) }).strict()),
  })
  .strict();
export type SolanaPayAccount = z.infer<typeof SolanaPayAccount>;

export const ConnectorDefinition = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'must be lowercase letters, digits and dashes'),
    kind: ConnectorKind,
    enabled: z.boolean(),
    methods: z.array(PaymentMethodKind).min(1).readonly(),
    /** ISO-4217 codes; `*` means every supported currency. */
    currencies: z.array(z.string().regex(/^([A-Z]{3}|\*)$/, 'must be ISO-4217 codes or *')).min(1).readonly(),
    /** ISO-3166 alpha-2 buyer countries; `*` means anywhere. */
    regions: z.array(z.string().regex(/^([A-Z]{2}|\*)$/, 'must be ISO-3166 alpha-2 codes or *')).min(1).readonly(),
    fee: FeeSchedule,
    /** The test world's approval of ordinary cards (sandboxes, and the local fakes of gateways); absent: they always succeed. */
    approval: ApprovalProfile.optional(),
    /** A `solana_pay` connector's account (required for that kind). */
    solanaPay: SolanaPayAccount.optional(),
  })
  .strict()
  .refine((c) => c.kind !== 'solana_pay' || c.solanaPay !== undefined, { message: 'a solana_pay connector needs its solanaPay account (recipient and tokens)', path: ['solanaPay'] })
  .refine((c) => c.kind !== 'amazon_pay' || c.methods.every((m) => m === 'wallet'), {
    message: "an amazon_pay connector takes wallet tokens only (Amazon Pay charges a buyer's Charge Permission, not a card): methods must be [\"wallet\"]",
    path: ['methods'],
  });
export type ConnectorDefinition = z.infer<typeof ConnectorDefinition>;

export const ConnectorRegistry = z
  .array(ConnectorDefinition)
  .min(1)
  .refine((list) => new Set(list.map((c) => c.id)).size === list.length, 'connector ids must be unique')
  .readonly();

/** Parses and checks a registry (e.g. the CONNECTORS JSON); the error names `source` and each bad field. */
export function parseConnectorRegistry(json: unknown, source: string): readonly ConnectorDefinition[] {
  const parsed = ConnectorRegistry.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new Error(`${source}: not a valid connector registry (${issues})`);
  }
  return parsed.data;
}

/**
 * The gateways' credentials, as the credentials secret (GATEWAY_CREDENTIALS_SECRET_ARN) holds them: an entry
 * per real gateway connector, by its id. Each adapter checks its own entry's shape.
 */
export const GatewayCredentials = z.record(z.string(), z.record(z.string(), z.string()));
export type GatewayCredentials = z.infer<typeof GatewayCredentials>;

/** A Stripe account's entry: its secret (or restricted) API key. */
export const StripeCredentials = z
  .object({
    secretKey: z.string().regex(/^(sk|rk)_(test|live)_[A-Za-z0-9_]{8,}$/, 'must be a Stripe secret or restricted key (sk_… or rk_…)'),
    /** The webhook endpoint's signing secret (POST /webhooks/stripe/{connectorId}). */
    webhookSecret: z.string().regex(/^whsec_[A-Za-z0-9_+/=]{8,}$/, 'must be a webhook signing secret (whsec_…)').optional(),
  })
  .strict();
export type StripeCredentials = z.infer<typeof StripeCredentials>;

/**
 * An Amazon Pay account's entry: the API key pair's public key id and RSA private key (PEM; JSON-escaped newlines),
 * its region, and, for a public key id without its environment prefix (`SANDBOX-`/`LIVE-`), `sandbox`.
 */
export const AmazonPayCredentials = z
  .object({
    publicKeyId: z.string().regex(/^[A-Za-z0-9-]{8,128}$/, 'must be an Amazon Pay public key id (SANDBOX-…, LIVE-…, or the bare id)'),
    privateKey: z.string().regex(/^-----BEGIN (RSA )?PRIVATE KEY-----[\s\S]+-----END (RSA )?PRIVATE KEY-----\s*$/, 'must be the RSA private key in PEM'),
    region: z.enum(['us', 'na', 'eu', 'uk', 'de', 'jp']),
    sandbox: z.enum(['true', 'false']).optional(),
  })
  .strict()
  .refine((c) => /^(SANDBOX|LIVE)-/i.test(c.publicKeyId) || c.sandbox !== undefined, {
    message: 'is required ("true" or "false") when publicKeyId has no SANDBOX- or LIVE- prefix',
    path: ['sandbox'],
  });
export type AmazonPayCredentials = z.infer<typeof AmazonPayCredentials>;

/** The kinds whose connectors are real gateways (their adapters call the gateway's API with credentials). */
export const GATEWAY_KINDS: ReadonlySet<ConnectorKind> = new Set(['stripe', 'amazon_pay']);

/** Fault testing's `connector=fault,…` list (SANDBOX_FAULTS) by connector id; `variable` names it in the error. */
export function parseFaultList(raw: string | undefined, variable: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const pair of (raw ?? '').split(',').map((p) => p.trim()).filter(Boolean)) {
    const [connectorId, fault] = pair.split('=');
    if (!connectorId || !fault) throw new Error(`${variable} entries look like connector=fault, got "${pair}"`);
    result[connectorId] = fault;
  }
  return result;
}

/** The registry a stage gets when it configures none: two sandbox processors (no credentials needed). */
export const DEFAULT_CONNECTORS: readonly ConnectorDefinition[] = [
  {
    id: 'stripe-sandbox',
    kind: 'sandbox',
    enabled: true,
    methods: ['card'],
    currencies: ['*'],
    regions: ['*'],
    fee: { basisPoints: 290, fixedMinor: 30 },
  },
  {
    id: 'amazon-pay-sandbox',
    kind: 'sandbox',
    enabled: true,
    methods: ['card'],
    currencies: ['USD', 'EUR', 'GBP', 'JPY'],
    regions: ['US', 'GB', 'DE', 'FR', 'IT', 'ES', 'JP'],
    fee: { basisPoints: 270, fixedMinor: 30 },
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
