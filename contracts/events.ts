/**
 * The events on the SmartPay bus, defined once: source, detail type and the detail's schema. The payments
 * outbox (lambdas/payments/outbox.ts), the routing function, the CDK rules, the local bus rules and the
 * consumers all use these. Delivery is at least once: consumers are idempotent by the event's content (a
 * payment id, a decision's attempt).
 */
import { z } from 'zod';
import { AttemptOutcome, AttemptRecord, FraudDecision, TerminalStatus } from './api';
import { DecisionId, PaymentId } from './ids';
import { CardNetwork, PaymentMethodKind } from './methods';

/**
 * The graph snapshots a payment's fraud scoring computed (the customer's and the terminal's, before it): what
 * the fraud features record on the payment's edges when it succeeds, without re-reading the state.
 */
export const FraudSnapshots = z.object({ customer: z.array(z.number()).readonly(), terminal: z.array(z.number()).readonly() });
export type FraudSnapshots = z.infer<typeof FraudSnapshots>;

/**
 * A succeeded payment (detail of `PaymentSucceeded`): what the reward workflow and the fraud features need. Not
 * strict: a consumer takes a detail with more fields than it knows (a producer may add one), as EventBridge
 * consumers must. The optional fields are the fraud features' (absent on a payment the reconciler finished
 * from its record: the features then re-read the state, and record no device edge).
 */
export const PaymentSucceededDetail = z.object({
  paymentId: PaymentId,
  merchantId: z.string().min(1),
  customerId: z.string().min(1),
  amount: z.number().int().positive(),
  currency: z.string().regex(/^[A-Z]{3}$/),
  connectorId: z.string(),
  occurredAt: z.string(),
  /** When the payment's key was first claimed (the fraud features' transaction time). */
  createdAt: z.iso.datetime({ offset: true }).optional(),
  deviceId: z.string().optional(),
  country: z.string().optional(),
  /** The customer's Solana wallet for the reward (the request's rewardWallet), when it named one. */
  rewardWallet: z.string().optional(),
  fraudSnapshots: FraudSnapshots.optional(),
});
export type PaymentSucceededDetail = z.infer<typeof PaymentSucceededDetail>;

/**
 * A refund of a succeeded payment (detail of `PaymentRefunded`): the payment's fields its reward needs, and the
 * refunds so far. `refundedTotal` is cumulative, so a consumer is idempotent and indifferent to order by it (a
 * later refund's event carries the larger total). Its producer is the refund path (POST /payments/{id}/refund,
 * which the real gateways bring); the reward workflow consumes it today. The payment's fields are its own, as on
 * PaymentSucceeded (`rewardWallet` included whenever it named one): a refund whose event comes before the
 * payment's issues the reward from them.
 */
export const PaymentRefundedDetail = PaymentSucceededDetail.pick({
  paymentId: true,
  merchantId: true,
  customerId: true,
  amount: true,
  currency: true,
  rewardWallet: true,
  createdAt: true,
})
  .extend({
    refundId: z.string().min(1),
    /** This refund, in minor units. */
    refundAmount: z.number().int().positive(),
    /** Every refund of the payment so far, this one included, in minor units (at most the payment's amount). */
    refundedTotal: z.number().int().positive(),
    occurredAt: z.string(),
    /** The payment's connector, country and method (what analytics filters refunds by), when known. */
    connectorId: z.string().optional(),
    country: z.string().optional(),
    method: PaymentMethodKind.optional(),
  })
  .refine((d) => d.refundedTotal <= d.amount, { message: "must not exceed the payment's amount", path: ['refundedTotal'] })
  .refine((d) => d.refundAmount <= d.refundedTotal, { message: 'must not exceed refundedTotal', path: ['refundAmount'] });
export type PaymentRefundedDetail = z.infer<typeof PaymentRefundedDetail>;

/**
 * A payment reached its terminal state (detail of `PaymentRecorded`), whatever the state: what the analytics
 * index keeps of it (one document per payment). Every terminal payment has one, routed or not (a payment fraud
 * declined has no attempts). Never a card's number, last 4, expiry or fingerprint, a wallet's token or a key: only
 * the method's kind and a card's brand. Not strict, as every event detail.
 */
export const PaymentRecordedDetail = z.object({
  paymentId: PaymentId,
  merchantId: z.string().min(1),
  customerId: z.string().min(1),
  status: TerminalStatus,
  amount: z.number().int().positive(),
  currency: z.string().regex(/^[A-Z]{3}$/),
  method: PaymentMethodKind,
  /** A card's brand (visa, mastercard, …, or unknown). */
  cardBrand: z.string().optional(),
  /** The buyer's country (ISO-3166 alpha-2), when the request named it. */
  country: z.string().optional(),
  /** The connector that charged it (or the last one tried). */
  connectorId: z.string().optional(),
  /** Why it did not succeed (a gateway's or the fraud check's code). */
  code: z.string().optional(),
  /** Why the reconciler ended it, when it did. */
  reason: z.string().optional(),
  /** The merchant's own text: data for search, never instructions. */
  description: z.string().optional(),
  metadata: z.record(z.string(), z.string()).optional(),
  fraud: z
    .object({ score: z.number(), decision: FraudDecision, reasons: z.array(z.object({ code: z.string(), detail: z.string() })) })
    .optional(),
  /** Each gateway attempt, in order. */
  attempts: z.array(AttemptRecord.pick({ attempt: true, connectorId: true, outcome: true, code: true, at: true })),
  createdAt: z.iso.datetime({ offset: true }),
  finalizedAt: z.string(),
});
export type PaymentRecordedDetail = z.infer<typeof PaymentRecordedDetail>;

/** What changed a reward's tokens, put them on chain, or failed to. */
export const RewardChange = z.enum(['issued', 'clawed_back', 'minted', 'mint_failed']);
export type RewardChange = z.infer<typeof RewardChange>;

/**
 * One change of a reward or a claim (detail of `RewardChanged`), from the rewards ledger's outbox: `issued` (a
 * payment's reward recorded with its tokens), `clawed_back` (a refund reduced it before anything had its tokens),
 * `minted` (its mint transaction, or a claim's, found finalized), `mint_failed` (a mint transaction failed on chain
 * or was refused: nothing was minted by it, the tokens are still owed, and the mints schedule sends a new one).
 * Each change is recorded once, in the same write as the change itself, and numbered: `rewardId` and `seq` are the
 * event's identity, however often it is published. `tokens` is what this change issued, took back, minted or
 * failed to mint, never a running total. Not strict.
 */
export const RewardChangedDetail = z.object({
  /** The reward's payment id, or the claim's id (`clm_…`). */
  rewardId: z.string().min(1),
  /** The change's number among the reward's changes (0 first). */
  seq: z.number().int().min(0),
  change: RewardChange,
  merchantId: z.string().min(1),
  customerId: z.string().min(1),
  /** Base units of the reward token (a decimal string: bigint does not travel in JSON). */
  tokens: z.string().regex(/^\d+$/),
  decimals: z.number().int().min(0).max(18),
  /** The rewarded payment, its amount and currency (absent on a claim's change: a claim spans payments). */
  paymentId: PaymentId.optional(),
  amount: z.number().int().positive().optional(),
  currency: z.string().regex(/^[A-Z]{3}$/).optional(),
  /** When the change was made (ISO). */
  at: z.iso.datetime({ offset: true }),
});
export type RewardChangedDetail = z.infer<typeof RewardChangedDetail>;

/** One attempt's outcome of a routing decision, as the routing model's updater folds it in. */
export const RoutingOutcome = z.object({
  decisionId: DecisionId,
  /** 0 for the first attempt, then the fallbacks. */
  attempt: z.number().int().min(0),
  connectorId: z.string(),
  outcome: AttemptOutcome,
  latencyMs: z.number(),
  feeMinor: z.number().optional(),
  /** Epoch ms. */
  time: z.number(),
});
export type RoutingOutcome = z.infer<typeof RoutingOutcome>;

/**
 * The context of a /pay routing decision (what the bandit ranked on, and when): it travels with the payment's
 * plan, and routing derives the decision's features from it again when it logs the decision.
 */
export const RoutingContext = z.object({
  /** Integer minor units. */
  amountMinor: z.number().int(),
  currency: z.string(),
  method: PaymentMethodKind,
  /** The card network, for card payments, when known. */
  network: CardNetwork.optional(),
  /** The buyer's country (ISO-3166 alpha-2). */
  country: z.string().optional(),
  /** The merchant's category (lambdas/routing/context.ts MERCHANT_CATEGORIES); anything else counts as "other". */
  merchantCategory: z.string().optional(),
  /** The fraud score in [0, 1], when the payment was scored. */
  fraudScore: z.number().optional(),
  /** Epoch milliseconds of the decision (its UTC hour is a feature). */
  time: z.number(),
});

export const RoutingDecisionContext = z.object({
  /** Epoch ms. */
  time: z.number(),
  /** What the bandit knows about a payment when it chooses a connector (lambdas/routing/context.ts). */
  context: RoutingContext,
});
export type RoutingDecisionContext = z.infer<typeof RoutingDecisionContext>;

/**
 * What routing logs of a /pay decision, off the payment's synchronous path (from its PaymentFinalized event,
 * before learning the attempts' outcomes): the context and the plan's ranking. POST /route logs its decisions
 * at once.
 */
export const RoutingDecisionLog = RoutingDecisionContext.extend({
  ranked: z.array(z.object({ connectorId: z.string(), propensity: z.number(), score: z.number() })).min(1),
  propensity: z.number(),
  policyVersion: z.string(),
});
export type RoutingDecisionLog = z.infer<typeof RoutingDecisionLog>;

/**
 * A routed payment reached its terminal state (detail of `PaymentFinalized`): its routing decision and every
 * attempt's outcome, which routing learns from (once per decision and attempt, however often it is delivered).
 * `decision` is the decision itself when routing has not logged it yet (the /pay path).
 */
export const PaymentFinalizedDetail = z.object({
  paymentId: PaymentId,
  merchantId: z.string().min(1),
  decisionId: DecisionId,
  status: TerminalStatus,
  attempts: z.array(AttemptRecord).min(1),
  decision: RoutingDecisionLog.optional(),
});
export type PaymentFinalizedDetail = z.infer<typeof PaymentFinalizedDetail>;

export const RoutingOutcomesDetail = z.object({ outcomes: z.array(RoutingOutcome) });
export type RoutingOutcomesDetail = z.infer<typeof RoutingOutcomesDetail>;

/** Every event: its source, detail type and detail schema. */
export const EVENTS = {
  PaymentSucceeded: { source: 'smartpay.payments', detailType: 'PaymentSucceeded', detail: PaymentSucceededDetail },
  PaymentFinalized: { source: 'smartpay.payments', detailType: 'PaymentFinalized', detail: PaymentFinalizedDetail },
  PaymentRefunded: { source: 'smartpay.payments', detailType: 'PaymentRefunded', detail: PaymentRefundedDetail },
  PaymentRecorded: { source: 'smartpay.payments', detailType: 'PaymentRecorded', detail: PaymentRecordedDetail },
  RoutingOutcomesRecorded: { source: 'smartpay.routing', detailType: 'RoutingOutcomesRecorded', detail: RoutingOutcomesDetail },
  RewardChanged: { source: 'smartpay.rewards', detailType: 'RewardChanged', detail: RewardChangedDetail },
} as const;
export type EventName = keyof typeof EVENTS;
/** The detail of an event of kind `N`. */
export type EventDetail<N extends EventName> = z.infer<(typeof EVENTS)[N]['detail']>;

/**
 * The EventBridge rule pattern that matches these events (the CDK rule and the local bus both use it). Each detail
 * type has its own source, so the pattern matches exactly these events.
 */
export function eventPattern(...names: [EventName, ...EventName[]]): { readonly source: string[]; readonly 'detail-type': string[] } {
  return { source: [...new Set(names.map((n) => EVENTS[n].source))], 'detail-type': names.map((n) => EVENTS[n].detailType) };
}

/** An EventBridge event of one kind, as a rule delivers it: the envelope and the parsed detail. */
export function eventEnvelope<N extends EventName>(name: N) {
  return z
    .object({
      source: z.literal(EVENTS[name].source),
      'detail-type': z.literal(EVENTS[name].detailType),
      detail: EVENTS[name].detail as (typeof EVENTS)[N]['detail'],
    })
    .loose();
}
