/**
 * The API's bodies, defined once: what each route takes and what it answers. The Lambdas parse with these
 * (Powertools parser), the CDK API renders its request models from them, the OpenAPI document and the local
 * platform's router come from the same records (contracts/topology.ts). Every type is `z.infer` of its schema.
 */
import { z } from 'zod';
import { ConnectorKind } from './connectors';
import { PaymentId, DecisionId, SolanaAddress } from './ids';
import { CardBrand, CardNetwork, containsCardNumber, passesLuhn, PaymentMethodKind, WalletName } from './methods';
import { AmountMinor, Currency } from './money';
import { CountryCode } from './regions';

export { Currency, AmountMinor } from './money';
export { CountryCode } from './regions';
export { PaymentId, DecisionId } from './ids';
export { containsCardNumber } from './methods';

/** The JWT claim that carries the merchant identity (a Cognito custom attribute). */
export const MERCHANT_CLAIM = 'custom:merchantId';

/** The header that makes `POST /pay` idempotent: 1 to 255 printable ASCII characters, no spaces. */
export const IDEMPOTENCY_HEADER = 'Idempotency-Key';
export const IdempotencyKey = z.string().regex(/^[\x21-\x7e]{1,255}$/, 'must be 1-255 printable ASCII characters');

const Identifier = z
  .string()
  .min(1, 'must not be empty')
  .max(128, 'must be at most 128 characters')
  // An id is printed, logged and matched: control characters (a NUL, a newline, an escape) are never part of one.
  // eslint-disable-next-line no-control-regex -- the control characters are what the pattern refuses
  .regex(/^[^\u0000-\u001f\u007f-\u009f]*$/, 'must not contain control characters');

// ---------------------------------------------------------------------------------------------------- requests

/**
 * Free text of yours (a description, a metadata value): printable, line breaks and tabs allowed; other control
 * characters (a NUL, an escape sequence) never are, and neither is a card number.
 */
const FreeText = (max: number) =>
  z
    .string()
    .max(max)
    // eslint-disable-next-line no-control-regex -- the control characters are what the pattern refuses
    .regex(/^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*$/, 'must not contain control characters (tabs and line breaks are fine)')
    .refine((text) => !containsCardNumber(text), 'must not contain a card number');

/** An id of yours (a customer's, a device's): printable, 1-128 characters, never a card number. */
const OwnId = Identifier.refine((id) => !containsCardNumber(id), 'must not contain a card number');

/**
 * A merchant's own key-value pairs, within Stripe's limits: at most 50 keys, keys of 1–40 characters, string
 * values of at most 500; a value that looks like a card number is refused (card data is never stored).
 * Prototype keys are refused at the edge (contracts/json.ts).
 */
export const Metadata = z
  .record(
    Identifier.max(40, 'must be at most 40 characters').refine((k) => !containsCardNumber(k), 'must not contain a card number'),
    FreeText(500),
  )
  .refine((m) => Object.keys(m).length <= 50, 'must have at most 50 keys');

/** A card tokenised by Stripe (Stripe.js, a saved PaymentMethod, or a test one such as `pm_card_visa`). */
export const StripePaymentMethodId = z.string().regex(/^pm_[A-Za-z0-9_]{1,250}$/, 'must be a Stripe PaymentMethod id (pm_…)');

/**
 * A card: tokenised (`token`, a Stripe PaymentMethod id: the normal case, and the only one where the stage
 * refuses raw cards) or raw (`number`, `expMonth`, `expYear`, `cvc`: sandbox and test stages only). Exactly one
 * of `token` and `number`.
 */
export const CardPaymentMethod = z
  .object({
    type: z.literal('card'),
    token: StripePaymentMethodId.optional(),
    number: z
      .string()
      .regex(/^\d{12,19}$/, 'must be 12 to 19 digits 0-9, nothing between them')
      // No payment card's issuer number starts with 0 (ISO/IEC 7812's industry digit 0 is not for cards).
      .regex(/^[^0]/, 'is not a card number (no card number starts with 0)')
      .refine((n) => !/^\d{12,19}$/.test(n) || passesLuhn(n), { message: 'fails the Luhn check (mistyped card number?)' })
      .optional(),
    expMonth: z.number().int().min(1).max(12).optional(),
    expYear: z.number().int().min(2000).max(2100).optional(),
    cvc: z.string().regex(/^\d{3,4}$/, 'must be 3 or 4 digits').optional(),
  })
  .strict()
  .superRefine((card, ctx) => {
    if (card.token !== undefined) {
      for (const field of ['number', 'expMonth', 'expYear', 'cvc'] as const) {
        if (card[field] !== undefined) ctx.addIssue({ code: 'custom', path: [field], message: 'must not be given with token (a tokenised card carries its own)' });
      }
      return;
    }
    if (card.number === undefined) ctx.addIssue({ code: 'custom', path: ['token'], message: 'is required (a Stripe PaymentMethod id), unless the raw card (number, expMonth, expYear) is given' });
    for (const field of ['expMonth', 'expYear'] as const) {
      if (card.number !== undefined && card[field] === undefined) ctx.addIssue({ code: 'custom', path: [field], message: 'is required with number' });
    }
  });
export type CardPaymentMethod = z.infer<typeof CardPaymentMethod>;

/** A raw card's fields, once the schema has checked them (a card without `token`). */
export type RawCard = { readonly number: string; readonly expMonth: number; readonly expYear: number; readonly cvc?: string };

/** The raw card of a card payment method, or undefined for a tokenised one. */
export function rawCardOf(card: CardPaymentMethod): RawCard | undefined {
  if (card.number === undefined || card.expMonth === undefined || card.expYear === undefined) return undefined;
  return { number: card.number, expMonth: card.expMonth, expYear: card.expYear, ...(card.cvc ? { cvc: card.cvc } : {}) };
}

/** A wallet payment: the buyer's Amazon Pay Charge Permission id (from the merchant's Amazon Pay checkout), charged by an Amazon Pay connector. */
export const WalletPaymentMethod = z
  .object({
    type: z.literal('wallet'),
    wallet: WalletName,
    token: z.string().regex(/^[A-Za-z0-9_-]{8,256}$/, 'must be 8 to 256 letters, digits, _ or -'),
  })
  .strict();

/**
 * Solana Pay: the answer is a `pending_action` payment whose action is a Solana Pay transfer request (its URL,
 * for a wallet or a QR code); it succeeds once the transfer is found on chain by its reference and checked.
 */
export const SolanaPayPaymentMethod = z.object({ type: z.literal('solana_pay') }).strict();

/** What `/pay` charges: a card, a wallet token, or a Solana Pay transfer (each a member of PaymentMethodKind). */
export const PaymentMethod = z.discriminatedUnion('type', [CardPaymentMethod, WalletPaymentMethod, SolanaPayPaymentMethod]);
export type PaymentMethod = z.infer<typeof PaymentMethod>;

export const PaymentRequest = z
  .object({
    amount: AmountMinor,
    currency: Currency,
    customerId: OwnId.describe('your id of the buyer (1-128 characters, never a card number): fraud features and rewards are per customer'),
    paymentMethod: PaymentMethod.describe('what to charge: {type:"card", token:"pm_…"} (or a raw card on test stages), {type:"wallet", wallet:"amazon_pay", token}, or {type:"solana_pay"}'),
    /** The buyer's country (billing), ISO-3166 alpha-2. */
    country: CountryCode.optional(),
    /** The country the request came from (IP geolocation), ISO-3166 alpha-2: recorded with the payment (not a fraud feature yet). */
    ipCountry: CountryCode.optional(),
    /** A device fingerprint, when the checkout has one (a fraud feature). */
    deviceId: OwnId.describe('a device fingerprint from the checkout (a fraud feature)').optional(),
    description: FreeText(500).describe('free text for you; never a card number').optional(),
    metadata: Metadata.describe('your key-value pairs: at most 50 keys of 1-40 characters, string values of at most 500; no card numbers').optional(),
    /**
     * The customer's Solana wallet (a base58 public key) for the payment's loyalty reward: minted there once the
     * payment succeeds. Without one, the reward is recorded for the customer and not minted.
     */
    rewardWallet: SolanaAddress.describe('the customer\'s Solana wallet: the loyalty reward (2% of the amount, 1-1000 tokens) is minted there').optional(),
  })
  .strict();
export type PaymentRequest = z.infer<typeof PaymentRequest>;

export const FraudRequest = z
  .object({
    amount: AmountMinor,
    currency: Currency,
    customerId: OwnId,
    /** The customer's (billing) country, ISO-3166 alpha-2. */
    country: CountryCode.optional(),
    /** A device fingerprint, when there is one. */
    deviceId: OwnId.optional(),
  })
  .strict();
export type FraudRequest = z.infer<typeof FraudRequest>;

/** A label for a completed payment: a chargeback or a confirmed fraud (true), or confirmed good (false). */
export const FraudLabelRequest = z
  .object({
    paymentId: PaymentId,
    fraud: z.boolean(),
  })
  .strict();
export type FraudLabelRequest = z.infer<typeof FraudLabelRequest>;

export const RouteRequest = z
  .object({
    amount: AmountMinor,
    currency: Currency,
    /** What /route can rank for; /pay charges cards and wallets. */
    method: PaymentMethodKind,
    /** The card network, when known (a feature of the routing policy). */
    network: CardNetwork.optional(),
    country: CountryCode.optional(),
    /** The merchant's category: retail, digital, travel, food, services, or anything else (counted as other). */
    merchantCategory: z.string().trim().min(1).max(40).optional(),
    fraudScore: z.number().min(0).max(1).optional(),
  })
  .strict();
export type RouteRequest = z.infer<typeof RouteRequest>;

/** How one attempt on a connector ended, as routing learns it. */
export const AttemptOutcome = z.enum(['succeeded', 'declined', 'error', 'timeout']);
export type AttemptOutcome = z.infer<typeof AttemptOutcome>;

/** What happened on each attempt of a routing decision, in order (attempt 0 first). */
export const RouteFeedbackRequest = z
  .object({
    decisionId: DecisionId,
    attempts: z
      .array(
        z
          .object({
            connectorId: z.string().min(1).max(64),
            outcome: AttemptOutcome,
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

/**
 * `{paymentId}`: one of your succeeded payments' reward (issued now if the workflow has not yet). `{customerId,
 * wallet}`: a claim: the customer's rewards recorded without a wallet, minted to `wallet` as one total, once.
 */
export const RewardRequest = z
  .object({
    paymentId: PaymentId.optional(),
    customerId: Identifier.optional(),
    /** The Solana wallet a claim mints to. */
    wallet: SolanaAddress.optional(),
  })
  .strict()
  .superRefine((request, ctx) => {
    if (request.paymentId !== undefined) {
      for (const field of ['customerId', 'wallet'] as const) {
        if (request[field] !== undefined) ctx.addIssue({ code: 'custom', path: [field], message: 'must not be given with paymentId: send {paymentId}, or {customerId, wallet} to claim' });
      }
      return;
    }
    for (const field of ['customerId', 'wallet'] as const) {
      if (request[field] === undefined) ctx.addIssue({ code: 'custom', path: [field], message: 'is required to claim (send {customerId, wallet}), unless paymentId is given' });
    }
  });
export type RewardRequest = z.infer<typeof RewardRequest>;

const ISO_DATETIME = 'must be an ISO 8601 date-time, e.g. 2026-11-01T00:00:00Z';
/**
 * A date-time a payment can have: payment ids encode milliseconds since 1970, and none is from after 2100. (Text
 * that is no date-time passes here: the format check has named it already.)
 */
export const PaymentEra = (text: string): boolean => {
  const ms = Date.parse(text);
  return Number.isNaN(ms) || (ms >= 0 && ms < Date.UTC(2100, 0, 1));
};

export const ChatRequest = z
  .object({
    question: z
      .string()
      .trim()
      .min(3, 'must be at least 3 characters')
      .max(1000)
      // An answer may quote the question's words (a window it cannot read): a card number is never among them.
      .refine((text) => !containsCardNumber(text), 'must not contain a card number')
      .describe('a question about your own payments in plain English'),
    /** ISO-8601 window start; overrides any window named in the question. */
    from: z.iso.datetime({ offset: true, error: ISO_DATETIME }).refine(PaymentEra, 'must be between 1970-01-01 and 2100-01-01').optional(),
    /** ISO-8601 window end (exclusive); defaults to now. */
    to: z.iso.datetime({ offset: true, error: ISO_DATETIME }).refine(PaymentEra, 'must be between 1970-01-01 and 2100-01-01').optional(),
  })
  .strict();
export type ChatRequest = z.infer<typeof ChatRequest>;

/** `GET /payments/{id}`'s path: a malformed id is a 400 naming `path.id` (a well-formed unknown one is a 404). */
export const PaymentPath = z.object({ id: PaymentId });

/** `POST /webhooks/stripe/{connectorId}`'s and `POST /webhooks/amazon-pay/{connectorId}`'s path: the connector whose endpoint it is. */
export const WebhookPath = z.object({ connectorId: z.string().regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'must be a connector id') });

/** Why a refund is made (Stripe's reasons). */
export const RefundReason = z.enum(['requested_by_customer', 'duplicate', 'fraudulent']);
export type RefundReason = z.infer<typeof RefundReason>;

/**
 * `POST /payments/{id}/refund`: all of what is left to refund (no `amount`), or part of it. Refunds never exceed
 * what was charged; the Idempotency-Key makes a repeat the same refund.
 */
export const RefundRequest = z
  .object({
    /** Minor units; at most what is left to refund. Absent: all of it. */
    amount: AmountMinor.optional(),
    reason: RefundReason.optional(),
  })
  .strict();
export type RefundRequest = z.infer<typeof RefundRequest>;

// --------------------------------------------------------------------------------------------------- responses

/** Every error the API answers: `{error:{code,message,details}}`. */
export const ErrorBody = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

/** One bad field of a 400: `details.issues[]`. */
export const FieldIssue = z.object({ field: z.string(), problem: z.string() });
export type FieldIssue = z.infer<typeof FieldIssue>;

/** Which model scored: the SageMaker endpoint, or the embedded one (none configured, or a fallback). */
export const ScoredBy = z.enum(['sagemaker', 'embedded']);
export type ScoredBy = z.infer<typeof ScoredBy>;

export const FraudDecision = z.enum(['approve', 'review', 'decline']);
export type FraudDecision = z.infer<typeof FraudDecision>;

/** A feature that pushed the score up, with its contribution in log-odds (Saabas attribution). */
export const FraudReason = z.object({ code: z.string(), weight: z.number(), detail: z.string() });
export type FraudReason = z.infer<typeof FraudReason>;

export const FraudThresholds = z.object({ reviewThreshold: z.number().min(0).max(1), declineThreshold: z.number().min(0).max(1) });
export type FraudThresholds = z.infer<typeof FraudThresholds>;

/** A risk assessment (what the payment keeps of it, too). */
export const FraudAssessment = z.object({
  score: z.number().min(0).max(1),
  decision: FraudDecision,
  reasons: z.array(FraudReason),
  modelVersion: z.string(),
  scoredBy: ScoredBy.optional(),
});
export type FraudAssessment = z.infer<typeof FraudAssessment>;

export const FraudResponse = FraudAssessment.extend({ thresholds: FraudThresholds });
export const FraudLabelResponse = z.object({ label: z.object({ paymentId: PaymentId, fraud: z.boolean() }) });

/** `GET /fraud/labels?paymentIds=pay_…,pay_…`: which of these payments you labelled, and how (at most 50 ids). */
export const FraudLabelsQuery = z
  .object({
    paymentIds: z
      .string()
      .transform((text) => text.split(',').map((id) => id.trim()).filter(Boolean))
      .pipe(z.array(PaymentId).min(1, 'must name at least one payment id').max(50, 'must name at most 50 payment ids')),
  })
  .strict();

export const FraudLabelsResponse = z.object({ labels: z.array(z.object({ paymentId: PaymentId, fraud: z.boolean(), labelledAt: z.string() })) });

export const HealthStatus = z.enum(['healthy', 'demoted', 'probing']);
export type HealthStatus = z.infer<typeof HealthStatus>;

export const RankedConnector = z.object({
  connectorId: z.string(),
  kind: ConnectorKind,
  estimatedFeeMinor: z.number().int(),
  /** θᵀx clipped to [0, 1]: the estimated success probability; null while the connector has no outcome of its own (its score then rests on every connector's, the pooled prior). */
  expectedSuccess: z.number().nullable(),
  /** How many outcomes of this connector its estimate rests on (always given; optional for plans stored before it was). */
  observations: z.number().int().min(0).optional(),
  /** The optimistic score the policy ranks by. */
  score: z.number(),
  status: HealthStatus,
  /** The probability this connector had of being chosen first. */
  propensity: z.number(),
});
export type RankedConnector = z.infer<typeof RankedConnector>;

export const RouteResult = z.object({
  decisionId: DecisionId,
  /** The choice first, then the fallbacks. */
  ranked: z.array(RankedConnector).min(1),
  /** The propensity of the chosen (first) connector. */
  propensity: z.number(),
  policyVersion: z.string(),
  /** How many connectors the workflow may try: min(ranked, MAX_PAYMENT_ATTEMPTS). */
  attemptLimit: z.number().int().min(1),
  scoredBy: ScoredBy,
});
export type RouteResult = z.infer<typeof RouteResult>;

/**
 * `GET /route/state`: the router as it stands: the policy's version and exploration rate, and each connector of
 * the registry with its circuit breaker's state (and a probing connector's share of first choices) and its fees.
 */
export const RoutingStateResponse = z.object({
  state: z.object({
    policyVersion: z.string(),
    /** ε: the share of first choices spread evenly over the healthy connectors (the rest go to the best score). */
    exploration: z.number().min(0).max(1),
    connectors: z.array(
      z.object({
        connectorId: z.string(),
        kind: ConnectorKind,
        enabled: z.boolean(),
        methods: z.array(z.string()),
        currencies: z.array(z.string()),
        status: HealthStatus,
        /** A probing connector's share of first choices. */
        probeShare: z.number().optional(),
        /** Outcomes the breaker holds for it (its recent attempts). */
        recentAttempts: z.number().int().min(0),
        /** Its pricing: basis points plus a fixed fee in minor units, and the rules that change them. */
        fee: z.unknown(),
      }),
    ),
  }),
});
export type RoutingStateResponse = z.infer<typeof RoutingStateResponse>;

export const RouteFeedbackResponse = z.object({
  feedback: z.object({ decisionId: DecisionId, recorded: z.number().int(), replayed: z.number().int() }),
});

/**
 * A payment's status. `pending_action`: the gateway asks the customer to act first (3-D Secure), and the
 * payment carries what the client needs (`action`); the gateway's webhook, a `GET /payments/{id}` or a repeat of
 * the request settles it, and the reconciler cancels it at its gateway when its action expires.
 */
export const PaymentStatus = z.enum(['processing', 'pending_action', 'succeeded', 'declined', 'review', 'failed']);
export type PaymentStatus = z.infer<typeof PaymentStatus>;

/**
 * What the client needs to complete a `pending_action` payment: Stripe's client secret for Stripe.js
 * (`handleNextAction`), or a Solana Pay transfer request for the customer's wallet.
 */
export const ActionDetails = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('use_stripe_sdk'),
    /** The PaymentIntent's client secret: give it to Stripe.js on the customer's device, never log it. */
    clientSecret: z.string(),
  }),
  z.object({
    type: z.literal('solana_pay'),
    /** The transfer request (`solana:<recipient>?amount=…&spl-token=…&reference=…&label=…&message=…&memo=…`): a wallet link or a QR code. */
    url: z.string(),
    recipient: z.string(),
    /** In the token's units, as a decimal string (the payment's amount: one token a major unit). */
    amount: z.string(),
    splToken: z.string(),
    /** The reference key the transfer must carry; the platform finds the transfer by it. */
    reference: z.string(),
  }),
]);
export type ActionDetails = z.infer<typeof ActionDetails>;

/** A pending action, with when the platform gives up on it (and cancels the payment at its gateway). */
export const NextAction = z.intersection(ActionDetails, z.object({ expiresAt: z.string() }));
export type NextAction = z.infer<typeof NextAction>;

/** How a charge attempt ended, as the payment records it: a retryable failure falls back to the next connector. */
export const ChargeOutcome = z.enum(['succeeded', 'declined', 'retryable_failure']);
export type ChargeOutcome = z.infer<typeof ChargeOutcome>;

/** The statuses a payment ends in. */
export const TerminalStatus = PaymentStatus.exclude(['processing', 'pending_action']);
export type TerminalStatus = z.infer<typeof TerminalStatus>;

/** One attempt on one connector, as the payment records it. */
export const AttemptRecord = z.object({
  attempt: z.number().int().min(0),
  connectorId: z.string(),
  outcome: ChargeOutcome,
  code: z.string().optional(),
  /**
   * A decline by the gateway itself (a payment method it does not know or take, an amount it cannot charge), not
   * by the card's issuer: routing does not count it against the connector.
   */
  requestRefused: z.literal(true).optional(),
  latencyMs: z.number(),
  feeMinor: z.number().int().optional(),
  gatewayReference: z.string().optional(),
  at: z.string(),
});
export type AttemptRecord = z.infer<typeof AttemptRecord>;

/** What a payment keeps of its card: the brand, last 4 and expiry (a tokenised card's, as its gateway names them once charged). */
export const CardSummary = z.object({
  brand: CardBrand,
  last4: z.string().optional(),
  expMonth: z.number().int().optional(),
  expYear: z.number().int().optional(),
  /** The card was tokenised (`paymentMethod.token`): the platform never saw its number. */
  tokenised: z.boolean().optional(),
  /**
   * The same card gives the same fingerprint across your payments (an HMAC under the stage's secret key, of the
   * number, or of a tokenised card's gateway fingerprint), and nothing can be learnt of the number from it.
   */
  fingerprint: z.string().optional(),
});
export type CardSummary = z.infer<typeof CardSummary>;
export const WalletSummary = z.object({ wallet: WalletName, tokenLast4: z.string() });
export type WalletSummary = z.infer<typeof WalletSummary>;

/**
 * A refund's state: `pending` from before its gateway call until the gateway's answer is known (a repeat of the
 * request with its key, or the reconciler, finishes it); `succeeded`; `failed` (the gateway refused it: nothing
 * was refunded, and its amount is refundable again).
 */
export const RefundStatus = z.enum(['pending', 'succeeded', 'failed']);
export type RefundStatus = z.infer<typeof RefundStatus>;

/** One refund of a payment, as the payment keeps it. */
export const Refund = z.object({
  refundId: z.string(),
  amount: z.number().int(),
  currency: z.string(),
  status: RefundStatus,
  reason: RefundReason.optional(),
  /** The gateway's refund id, once it has one. */
  gatewayReference: z.string().optional(),
  /** A failed refund's reason (the gateway's code). */
  code: z.string().optional(),
  createdAt: z.string(),
  completedAt: z.string().optional(),
});
export type Refund = z.infer<typeof Refund>;

/** A payment as the API shows it (and the store keeps it): never a full card number, a CVC or a token. */
/**
 * The attempt in flight: recorded before its gateway call, with the gateway idempotency key derived from the
 * payment id and the attempt number, and cleared when its outcome is recorded. A payment found with one
 * after a crash is reconciled with the gateway by that key before anything else happens.
 */
export const PendingAttempt = z.object({
  attempt: z.number().int().min(0),
  connectorId: z.string(),
  at: z.string(),
  /** The gateway's charge awaiting the customer's action (a `pending_action` payment's). */
  gatewayReference: z.string().optional(),
});
export type PendingAttempt = z.infer<typeof PendingAttempt>;

export const Payment = z.object({
  merchantId: z.string(),
  paymentId: PaymentId,
  status: PaymentStatus,
  amount: z.number().int(),
  currency: z.string(),
  customerId: z.string(),
  card: CardSummary.optional(),
  wallet: WalletSummary.optional(),
  /** A Solana Pay payment's method: nothing of the customer is known before the transfer (its signature is the attempt's reference). */
  solanaPay: z.object({}).strict().optional(),
  country: z.string().optional(),
  /** The country the request came from (the request's ipCountry), as given. */
  ipCountry: z.string().optional(),
  description: z.string().optional(),
  metadata: z.record(z.string(), z.string()).optional(),
  /** The customer's Solana wallet its reward is minted to, when the request named one. */
  rewardWallet: z.string().optional(),
  connectorId: z.string().optional(),
  feeMinor: z.number().int().optional(),
  code: z.string().optional(),
  fraud: FraudAssessment.optional(),
  /**
   * How routing chose, as recorded before the first gateway call: the connectors ranked (the choice first) with
   * each one's score, estimated success and propensity, the policy's version and the decision id.
   */
  routing: RouteResult.optional(),
  attempts: z.array(AttemptRecord),
  pendingAttempt: PendingAttempt.optional(),
  /** A `pending_action` payment's action for the client. */
  action: NextAction.optional(),
  /** Why a payment ended without the workflow finishing it (the reconciler's reason), when it did. */
  reason: z.string().optional(),
  /** What has been refunded, in minor units (succeeded refunds). */
  refundedAmount: z.number().int().optional(),
  /** Its refunds, oldest first. */
  refunds: z.array(Refund).optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
  finalizedAt: z.string().optional(),
});
export type Payment = z.infer<typeof Payment>;

export const PaymentResponse = z.object({ payment: Payment });

const ConnectorIdParam = z.string().regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'must be a connector id');

/**
 * `GET /payments`: your payments, newest first, a page at a time. Filters combine (all must hold); `from`/`to` is
 * the creation window [from, to); `q` finds a payment id, a customer id's beginning, a card's last 4 digits or
 * words of the description. `cursor` is the previous page's `nextCursor`.
 */
export const PaymentListQuery = z
  .object({
    status: PaymentStatus.optional(),
    connectorId: ConnectorIdParam.optional(),
    currency: Currency.optional(),
    customerId: Identifier.optional(),
    from: z.iso.datetime({ offset: true, error: ISO_DATETIME }).refine(PaymentEra, 'must be between 1970-01-01 and 2100-01-01').optional(),
    to: z.iso.datetime({ offset: true, error: ISO_DATETIME }).refine(PaymentEra, 'must be between 1970-01-01 and 2100-01-01').optional(),
    q: z.string().trim().min(1, 'must not be empty').max(128, 'must be at most 128 characters').optional(),
    // Digits only: Number() would also read "0x10", "1e1" and " 5" as numbers.
    limit: z.preprocess(
      (value) => (typeof value === 'string' && /^\d{1,6}$/.test(value) ? Number(value) : value),
      z.number('must be a whole number from 1 to 100, in digits').int('must be a whole number').min(1, 'must be at least 1').max(100, 'must be at most 100').default(25),
    ),
    cursor: PaymentId.describe('the previous page\'s nextCursor').optional(),
  })
  .strict()
  .superRefine((query, ctx) => {
    if (query.from && query.to && Date.parse(query.from) >= Date.parse(query.to)) ctx.addIssue({ code: 'custom', path: ['to'], message: 'must be after from' });
  });
export type PaymentListQuery = z.infer<typeof PaymentListQuery>;

export const PaymentListResponse = z.object({
  payments: z.array(Payment),
  /** Pass it as `cursor` for the next page; absent on the last. */
  nextCursor: PaymentId.optional(),
});
export type PaymentListResponse = z.infer<typeof PaymentListResponse>;

/** `POST /payments/{id}/refund`'s answer: the refund, and the payment with it. */
export const RefundResponse = z.object({ refund: Refund, payment: Payment });
export type RefundResponse = z.infer<typeof RefundResponse>;

/** A webhook's answer: received (its state is read from the gateway), with what it did to the payment it names. */
export const WebhookResponse = z.object({
  received: z.literal(true),
  /** The payment the event names, and its status after (absent for an event about nothing of ours). */
  paymentId: z.string().optional(),
  status: PaymentStatus.optional(),
});
export type WebhookResponse = z.infer<typeof WebhookResponse>;


/** The message of a payment whose outcome is not known yet (202 `processing`). */
export const PROCESSING_MESSAGE =
  'the payment is still processing; repeat the same request with the same Idempotency-Key for its outcome (a repeat resumes or replays it and never charges twice)';

/**
 * 202 while the outcome is not known (the workflow reached its deadline, or failed after money may have
 * moved). Never a 5xx or "failed" for such a payment: the same request with the same key resumes or
 * replays it, and the reconciler finishes it if nobody asks.
 */
export const ProcessingResponse = z.object({
  status: z.literal('processing'),
  message: z.string(),
  /** Known once the payment was recorded; poll `GET /payments/{id}`. */
  paymentId: PaymentId.optional(),
  poll: z.string().optional(),
});
export type ProcessingResponse = z.infer<typeof ProcessingResponse>;

/** The 202 body of a payment whose outcome is not known yet (the workflow, the local server, the API template). */
export function processingBody(paymentId?: string): ProcessingResponse {
  return { status: 'processing', message: PROCESSING_MESSAGE, ...(paymentId ? { paymentId, poll: `/payments/${paymentId}` } : {}) };
}

/**
 * Where a reward's tokens are on chain:
 * - `no_wallet`: the payment named no rewardWallet; the tokens are recorded for the customer to claim (POST /reward
 *   with {customerId, wallet});
 * - `claimed`: a claim (`claimId`) took it: the claim's mint carries its tokens;
 * - `not_configured`: this stage mints no tokens (no SPL_TOKEN_MINT_ADDRESS); recorded only;
 * - `pending`: its mint transaction is being sent or confirmed (`signature` once one is on record);
 * - `failed`: its latest mint transaction (`signature`) failed on chain or was refused (`error`, `failedAt`): nothing
 *   was minted by it and the tokens are still owed; the mints schedule sends a new one, which succeeds once an
 *   operator has fixed the cause (a treasury out of SOL, a rotated mint authority: the reward DLQ's alarm fires);
 * - `minted`: finalized on chain (`signature`, `mintedAt`).
 */
export const RewardChainState = z.enum(['no_wallet', 'claimed', 'not_configured', 'pending', 'failed', 'minted']);
export type RewardChainState = z.infer<typeof RewardChainState>;

export const RewardChain = z.object({
  state: RewardChainState,
  /** The customer's wallet (the owner of `recipient`). */
  wallet: z.string().optional(),
  /** The SPL token's mint address. */
  tokenMint: z.string().optional(),
  /** The wallet's associated token account, which receives the tokens. */
  recipient: z.string().optional(),
  /** The mint transaction's signature (base58): look it up on any explorer of the cluster. */
  signature: z.string().optional(),
  mintedAt: z.string().optional(),
  /** Why the latest mint transaction failed (`failed`): the cluster's words. */
  error: z.string().optional(),
  failedAt: z.string().optional(),
  /** The claim that took a reward recorded without a wallet. */
  claimId: z.string().optional(),
});
export type RewardChain = z.infer<typeof RewardChain>;

/** An amount of the reward token: base units as a decimal string (bigint does not travel in JSON), for display, and the token's decimals. */
const TokenAmount = z.object({
  tokens: z.string().regex(/^\d+$/),
  tokensDisplay: z.string(),
  decimals: z.number().int(),
});

export const RewardEntry = z.object({
  paymentId: PaymentId,
  merchantId: z.string(),
  customerId: z.string(),
  amount: z.number().int(),
  currency: z.string(),
  ...TokenAmount.shape,
  /**
   * `recorded`: the tokens are the customer's; `error`: none could be computed (`error` says why; the payment is
   * untouched); `reversed`: the payment was refunded in full before anything was minted or claimed (no tokens).
   */
  status: z.enum(['recorded', 'error', 'reversed']),
  error: z.string().optional(),
  /**
   * The payment's refunds and what they did to the reward: before a mint or a claim has the tokens, the reward is
   * reduced to that of the amount kept (`tokensClawedBack`); after, the tokens stand (`tokensKept`: what the refund
   * would have taken back). A minted reward is never un-minted.
   */
  refund: z
    .object({
      /** Refunded so far, in the payment's minor units. */
      refundedAmount: z.number().int(),
      /** The reward's tokens before any refund. */
      tokensBefore: z.string(),
      tokensClawedBack: z.string(),
      tokensKept: z.string(),
    })
    .optional(),
  /** Where the tokens are on chain (absent on an `error` reward: there are none). */
  chain: RewardChain.optional(),
  createdAt: z.string(),
});
export type RewardEntry = z.infer<typeof RewardEntry>;
export const RewardResponse = z.object({ reward: RewardEntry });

/** A claim: a customer's rewards recorded without a wallet, minted to one wallet as one total. */
export const RewardClaim = z.object({
  claimId: z.string(),
  merchantId: z.string(),
  customerId: z.string(),
  wallet: z.string(),
  /** The sum of the claimed rewards. */
  ...TokenAmount.shape,
  /** The payments whose rewards it claimed. */
  payments: z.array(PaymentId),
  /** Where the tokens are on chain (`pending` or `minted`; `not_configured` on a stage without a reward token). */
  chain: RewardChain,
  createdAt: z.string(),
});
export type RewardClaim = z.infer<typeof RewardClaim>;
export const RewardClaimResponse = z.object({ claim: RewardClaim });

export const RewardWalletPath = z.object({ wallet: SolanaAddress });

/** A wallet's balance of the stage's reward token, read from the chain (its associated token account). */
export const RewardBalance = z.object({
  wallet: z.string(),
  tokenMint: z.string(),
  /** The wallet's associated token account (it may not exist yet: then the balance is 0). */
  recipient: z.string(),
  ...TokenAmount.shape,
});
export const RewardBalanceResponse = z.object({ balance: RewardBalance });

/**
 * What POST /reward/relay co-signs: a customer's transaction of the reward token that the treasury pays the fee
 * of, and nothing else of the treasury's. The numbers are the relay's limits (GET /reward/relay lists them).
 */
export const RELAY_LIMITS = {
  /** The wire size of a transaction (Solana's packet size, 1232 bytes). */
  maxBytes: 1232,
  /** Instructions in one transaction. */
  maxInstructions: 4,
  /** Signatures the treasury pays a fee for (5000 lamports each), its own included. */
  maxSignatures: 3,
  /** A memo's UTF-8 bytes. */
  maxMemoBytes: 256,
  /** Compute units the transaction may use (simulated before the treasury signs). */
  maxComputeUnits: 60_000,
} as const;

/** The instructions the relay accepts; each names the program it belongs to. */
export const RELAY_INSTRUCTIONS = [
  'transferChecked (the reward token program, of the reward token)',
  'burnChecked (the reward token program, of the reward token)',
  'memo (Memo program v1 or v2, UTF-8, at most one)',
  'setComputeUnitLimit (Compute Budget program, at most maxComputeUnits; no compute-unit price: the treasury would pay it)',
] as const;

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
export const RelayRequest = z
  .object({
    /**
     * The transaction's wire form in base64: fee payer the treasury (GET /reward/relay's `feePayer`), a recent
     * blockhash, signed by every signer but the treasury.
     */
    transaction: z
      .string()
      .min(1, 'is required: the base64 of a signed transaction')
      // Base64 of at most maxBytes: 4 characters per 3 bytes.
      .max(4 * Math.ceil(RELAY_LIMITS.maxBytes / 3), `must be at most ${RELAY_LIMITS.maxBytes} bytes (${4 * Math.ceil(RELAY_LIMITS.maxBytes / 3)} base64 characters): Solana's packet size`)
      .regex(BASE64, 'must be base64 (the transaction\'s wire form)'),
  })
  .strict();
export type RelayRequest = z.infer<typeof RelayRequest>;

export const RelayPolicy = z.object({
  /** The treasury: name it as the fee payer. */
  feePayer: z.string(),
  tokenMint: z.string(),
  /** The reward token's program id (SPL Token or Token-2022). */
  tokenProgram: z.string(),
  decimals: z.number().int(),
  instructions: z.array(z.string()),
  limits: z.object({
    maxBytes: z.number().int(),
    maxInstructions: z.number().int(),
    maxSignatures: z.number().int(),
    maxMemoBytes: z.number().int(),
    maxComputeUnits: z.number().int(),
  }),
});
export const RelayPolicyResponse = z.object({ relay: RelayPolicy });

export const RelayResult = z.object({
  /** The transaction's signature (its first: the treasury's). */
  signature: z.string(),
  /** `finalized` on chain, or `pending`: sent but not yet final within the request (look the signature up). */
  state: z.enum(['finalized', 'pending']),
  feePayer: z.string(),
  /** The fee the treasury pays, in lamports. */
  feeLamports: z.number().int(),
  /** Compute units the simulation used. */
  unitsConsumed: z.number().int(),
});
export const RelayResponse = z.object({ relay: RelayResult });


export const HealthResponse = z.object({ status: z.literal('ok') });

/**
 * The JSON Schema (draft 4, the dialect API Gateway models use) of a request schema, describing what a
 * client may send (the input side of transforms).
 */
export function toRequestModelSchema(schema: z.ZodType): Record<string, unknown> {
  const json = z.toJSONSchema(schema, { target: 'draft-4', io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  delete json.$schema;
  return json;
}

/** An OpenAPI 3.0 document (contracts/openapi.ts renders this API's). */
export const OpenApiDocument = z.object({ openapi: z.string(), info: z.object({ title: z.string(), version: z.string() }).loose(), paths: z.record(z.string(), z.unknown()) }).loose();
