/**
 * The single source of request validation. The Lambdas parse with these (Powertools parser), the CDK API
 * generates its API Gateway request models from them (`toRequestModelSchema`), and the OpenAPI document
 * comes from the same place.
 */
import { z } from 'zod';
import { isSupportedCurrency, MAX_AMOUNT_MINOR } from './money';

export const Currency = z
  .string()
  .regex(/^[A-Za-z]{3}$/, 'must be a three-letter ISO-4217 code')
  .transform((code) => code.toUpperCase())
  .refine(isSupportedCurrency, { message: 'is not a supported ISO-4217 currency' });

export const AmountMinor = z
  .number()
  .int('must be an integer number of minor units (no decimals)')
  .positive('must be greater than zero')
  .max(MAX_AMOUNT_MINOR, `must be at most ${MAX_AMOUNT_MINOR} minor units`);

export const CountryCode = z
  .string()
  .regex(/^[A-Za-z]{2}$/, 'must be a two-letter ISO-3166 country code')
  .transform((code) => code.toUpperCase());

/** The Luhn (mod 10) check every card number passes. */
export function passesLuhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i += 1) {
    let digit = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}

const Identifier = z.string().min(1, 'must not be empty').max(128, 'must be at most 128 characters');

export const CardPaymentMethod = z
  .object({
    type: z.literal('card'),
    number: z
      .string()
      .regex(/^\d{12,19}$/, 'must be 12 to 19 digits')
      .refine(passesLuhn, { message: 'fails the Luhn check (mistyped card number?)' }),
    expMonth: z.number().int().min(1).max(12),
    expYear: z.number().int().min(2000).max(2100),
    cvc: z.string().regex(/^\d{3,4}$/, 'must be 3 or 4 digits').optional(),
  })
  .strict();

/** A wallet payment: the wallet's payment token (Amazon Pay's, in the sandbox: see lambdas/payments/sandbox.ts). */
export const WalletPaymentMethod = z
  .object({
    type: z.literal('wallet'),
    wallet: z.enum(['amazon_pay']),
    token: z.string().regex(/^[A-Za-z0-9_-]{8,256}$/, 'must be 8 to 256 letters, digits, _ or -'),
  })
  .strict();

export const PaymentMethod = z.discriminatedUnion('type', [CardPaymentMethod, WalletPaymentMethod]);

export const PaymentRequest = z
  .object({
    amount: AmountMinor,
    currency: Currency,
    customerId: Identifier,
    paymentMethod: PaymentMethod,
    /** The buyer's country (billing), ISO-3166 alpha-2. */
    country: CountryCode.optional(),
    /** The country the request came from (IP geolocation), ISO-3166 alpha-2. */
    ipCountry: CountryCode.optional(),
    /** A device fingerprint, when the checkout has one (a fraud feature). */
    deviceId: z.string().min(1).max(128).optional(),
    description: z.string().max(500).optional(),
    metadata: z.record(z.string().max(40), z.string().max(500)).optional(),
  })
  .strict();
export type PaymentRequest = z.infer<typeof PaymentRequest>;

export const FraudRequest = z
  .object({
    amount: AmountMinor,
    currency: Currency,
    customerId: Identifier,
    /** The customer's (billing) country, ISO-3166 alpha-2. */
    country: CountryCode.optional(),
    /** A device fingerprint, when there is one. */
    deviceId: z.string().min(1).max(128).optional(),
  })
  .strict();
export type FraudRequest = z.infer<typeof FraudRequest>;

export const PaymentId = z.string().regex(/^pay_[0-9A-Z]{20}$/, 'must be a payment id (pay_...)');

/** A label for a completed payment: a chargeback or a confirmed fraud (true), or confirmed good (false). */
export const FraudLabelRequest = z
  .object({
    paymentId: PaymentId,
    fraud: z.boolean(),
  })
  .strict();
export type FraudLabelRequest = z.infer<typeof FraudLabelRequest>;

export const PaymentMethodType = z.enum(['card']);

export const CardNetworkName = z.enum(['visa', 'mastercard', 'amex', 'other']);

/** What /route can rank for; /pay charges cards only today. */
export const RouteMethod = z.enum(['card', 'wallet', 'solana_pay']);

export const RouteRequest = z
  .object({
    amount: AmountMinor,
    currency: Currency,
    method: RouteMethod,
    /** The card network, when known (a feature of the routing policy). */
    network: CardNetworkName.optional(),
    country: CountryCode.optional(),
    /** The merchant's category: retail, digital, travel, food, services, or anything else (counted as other). */
    merchantCategory: z.string().trim().min(1).max(40).optional(),
    fraudScore: z.number().min(0).max(1).optional(),
  })
  .strict();
export type RouteRequest = z.infer<typeof RouteRequest>;

/** What happened on each attempt of a routing decision, in order (attempt 0 first). */
export const RouteFeedbackRequest = z
  .object({
    decisionId: z.string().regex(/^rt_[A-Za-z0-9_-]{8,64}$/, 'must be a decisionId returned by POST /route'),
    attempts: z
      .array(
        z
          .object({
            connectorId: z.string().min(1).max(64),
            outcome: z.enum(['succeeded', 'declined', 'error', 'timeout']),
            latencyMs: z.number().min(0).max(600_000),
            feeMinor: z.number().int().min(0).optional(),
          })
          .strict(),
      )
      .min(1)
      .max(10),
  })
  .strict();
export type RouteFeedbackRequest = z.infer<typeof RouteFeedbackRequest>;

export const RewardRequest = z
  .object({
    paymentId: PaymentId,
  })
  .strict();
export type RewardRequest = z.infer<typeof RewardRequest>;

const ISO_DATETIME = 'must be an ISO 8601 date-time, e.g. 2026-11-01T00:00:00Z';

export const ChatRequest = z
  .object({
    question: z.string().trim().min(3, 'must be at least 3 characters').max(1000),
    /** ISO-8601 window start; overrides any window named in the question. */
    from: z.iso.datetime({ offset: true, error: ISO_DATETIME }).optional(),
    /** ISO-8601 window end (exclusive); defaults to now. */
    to: z.iso.datetime({ offset: true, error: ISO_DATETIME }).optional(),
  })
  .strict();
export type ChatRequest = z.infer<typeof ChatRequest>;

/** The request body schemas of the API's POST routes, keyed by resource path. */
export const REQUEST_SCHEMAS = {
  '/pay': PaymentRequest,
  '/fraud': FraudRequest,
  '/fraud/labels': FraudLabelRequest,
  '/route': RouteRequest,
  '/route/feedback': RouteFeedbackRequest,
  '/reward': RewardRequest,
  '/chat': ChatRequest,
} as const;

/**
 * The JSON Schema (draft 4, the dialect API Gateway models use) of a request schema, describing what a
 * client may send (the input side of transforms).
 */
export function toRequestModelSchema(schema: z.ZodType): Record<string, unknown> {
  const json = z.toJSONSchema(schema, { target: 'draft-4', io: 'input', unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  delete json.$schema;
  return json;
}
