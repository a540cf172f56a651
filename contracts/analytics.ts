/**
 * The analytics query plan: what a question about a merchant's payments asks, as data. A plan is one of a metric
 * (with filters, a group-by, a time window and an optional comparison window), a lookup of one payment, or a
 * similarity search from one payment. The deterministic planner (lambdas/analytics/planner.ts) and an LLM's tool
 * call both produce it, and it is validated against this schema before anything runs it.
 *
 * A plan never names a merchant: the merchant is the caller's (the JWT claim), applied inside the query layer.
 * Every object is strict, so a plan carrying `merchantId` (or any unknown field) is refused, not ignored.
 */
import { z } from 'zod';
import { FraudDecision, PaymentStatus } from './api';
import { PaymentId } from './ids';
import { PaymentMethodKind } from './methods';
import { RewardChange } from './events';

/**
 * What a metric plan measures: `count` (how many payments); `total_amount` and `average_amount` (their amount per
 * currency, minor units: succeeded payments', or the status filter's); `decline_rate` (declined of succeeded and
 * declined); `fraud_decline_rate` (declined by the fraud check of those scored); `refund_rate` (refunded, in part or
 * in whole, of those succeeded); `approval_rate` (charged of those that tried a connector; per connector, of those
 * that tried it); `fallback_count` (payments that tried more than one connector); `reward_tokens` (reward tokens
 * issued, clawed back by refunds and minted on chain in the window, by when each happened).
 */
export const Metric = z.enum(['count', 'total_amount', 'average_amount', 'decline_rate', 'fraud_decline_rate', 'refund_rate', 'approval_rate', 'fallback_count', 'reward_tokens']);
export type Metric = z.infer<typeof Metric>;

/** What a metric can be grouped by (and what a filter can name). */
export const Dimension = z.enum(['country', 'connector', 'method', 'currency', 'customer', 'status']);
export type Dimension = z.infer<typeof Dimension>;


/** One condition on the payments measured (values are the stored ones: ISO codes, connector ids, method kinds). */
export const PlanFilter = z.discriminatedUnion('field', [
  z.object({ field: z.literal('country'), in: z.array(z.string().regex(/^[A-Z]{2}$/, 'must be ISO-3166 alpha-2 codes')).min(1).max(50) }).strict(),
  z.object({ field: z.literal('connector'), in: z.array(z.string().regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'must be connector ids')).min(1).max(50) }).strict(),
  z.object({ field: z.literal('method'), in: z.array(PaymentMethodKind).min(1) }).strict(),
  z.object({ field: z.literal('currency'), in: z.array(z.string().regex(/^[A-Z]{3}$/, 'must be ISO-4217 codes')).min(1).max(50) }).strict(),
  z.object({ field: z.literal('customer'), in: z.array(z.string().min(1).max(128)).min(1).max(50) }).strict(),
  z.object({ field: z.literal('status'), in: z.array(PaymentStatus).min(1) }).strict(),
]);
export type PlanFilter = z.infer<typeof PlanFilter>;

/** A half-open time window [from, to) of payments' creation, and how an answer names it. */
export const PlanWindow = z
  .object({
    from: z.iso.datetime({ offset: true }),
    to: z.iso.datetime({ offset: true }),
    label: z.string().min(1).max(120),
  })
  .strict()
  .refine((w) => Date.parse(w.from) < Date.parse(w.to), { message: 'must end after it starts', path: ['to'] });
export type PlanWindow = z.infer<typeof PlanWindow>;

/** The longest window a plan may cover (a year and a day: "in March" of a leap year, "compared with last year"). */
export const MAX_WINDOW_DAYS = 367;

/** What reward figures can be filtered and grouped by (a reward document knows its customer and currency, no more). */
export const REWARD_DIMENSIONS: readonly Dimension[] = ['customer', 'currency'];

export const MetricPlan = z
  .object({
    kind: z.literal('metric'),
    metric: Metric,
    filters: z.array(PlanFilter).max(8).default([]),
    groupBy: Dimension.optional(),
    /** With `groupBy`: only the first `top` groups, best first (the metric's order: larger first). */
    top: z.number().int().min(1).max(50).optional(),
    window: PlanWindow,
    /** The same metric over another window (the previous period), for "compared with last week". */
    compareTo: PlanWindow.optional(),
  })
  .strict()
  .refine((p) => p.top === undefined || p.groupBy !== undefined, { message: 'needs groupBy', path: ['top'] })
  .refine((p) => p.metric !== 'reward_tokens' || [...p.filters.map((f) => f.field), ...(p.groupBy ? [p.groupBy] : [])].every((d) => REWARD_DIMENSIONS.includes(d)), {
    message: `reward figures can be filtered and grouped by ${REWARD_DIMENSIONS.join(' and ')} only`,
    path: ['metric'],
  })
  .refine((p) => [p.window, p.compareTo].every((w) => !w || Date.parse(w.to) - Date.parse(w.from) <= MAX_WINDOW_DAYS * 86_400_000), {
    message: `a window covers at most ${MAX_WINDOW_DAYS} days`,
    path: ['window'],
  });
export type MetricPlan = z.infer<typeof MetricPlan>;

/** "Why was pay_… declined?": one payment, with its attempts and fraud reasons. */
export const LookupPlan = z.object({ kind: z.literal('lookup'), paymentId: PaymentId }).strict();
export type LookupPlan = z.infer<typeof LookupPlan>;

/** "Payments like pay_…": the payments nearest to one. */
export const SimilarPlan = z.object({ kind: z.literal('similar'), paymentId: PaymentId, limit: z.number().int().min(1).max(20).default(5) }).strict();
export type SimilarPlan = z.infer<typeof SimilarPlan>;

export const QueryPlan = z.discriminatedUnion('kind', [MetricPlan, LookupPlan, SimilarPlan]);
export type QueryPlan = z.infer<typeof QueryPlan>;

/**
 * What a language model proposes for a question (its tool call's input): a plan, or that the question cannot be
 * answered from the data, and why. Validated like any plan: strict, never a merchant.
 */
export const ProposedPlan = z.union([QueryPlan, z.object({ kind: z.literal('cannot'), reason: z.string().min(1).max(300) }).strict()]);
export type ProposedPlan = z.infer<typeof ProposedPlan>;

/** What can be asked, for a question no plan answers (an answer says so, never invents a number). */
export const ASKABLE = [
  'totals, counts and averages: "total volume last week", "how many payments yesterday", "average amount in March"',
  'rates: "decline rate yesterday compared with the day before", "fraud rate this month", "refund rate last 30 days"',
  'rankings: "top 5 countries by volume", "which connector approves Brazilian cards best", "top customers this week"',
  'fallbacks and rewards: "how many payments fell back to another gateway", "reward tokens earned this month"',
  'one payment: "why was pay_… declined?", "payments like pay_…"',
] as const;

/** What a document of the analytics index records: a terminal payment, one succeeded refund of one, or one change of a reward's tokens. */
export const DocumentKind = z.enum(['payment', 'refund', 'reward']);
export type DocumentKind = z.infer<typeof DocumentKind>;

/** Billionths of a token: a reward document's fraction of a token (reward tokens have at most 9 decimals). */
export const NANOS_PER_TOKEN = 1_000_000_000n;

/**
 * One document of the analytics index, per event: `payment:<paymentId>` for a payment's PaymentRecorded,
 * `refund:<refundId>` for a PaymentRefunded, `reward:<rewardId>:<seq>` for a RewardChanged. The event id makes
 * indexing idempotent: a document already indexed is not indexed again. The fields are the filters' and groups' (a
 * refund carries its payment's), the figures the metrics add up, and a short text (full-text search, and the
 * embedding's input).
 */
export const AnalyticsDocument = z.object({
  eventId: z.string().regex(/^(payment|refund|reward):[A-Za-z0-9_:-]{1,200}$/),
  kind: DocumentKind,
  merchantId: z.string().min(1),
  /** The payment (absent on a claim's reward document: a claim spans payments). */
  paymentId: PaymentId.optional(),
  customerId: z.string(),
  /** The payment's status (a refund's payment succeeded). */
  status: PaymentStatus,
  /** The payment's amount, in minor units. */
  amount: z.number().int(),
  currency: z.string(),
  /** The method's kind (unknown on a refund of a payment recorded before events carried it). */
  method: PaymentMethodKind.optional(),
  cardBrand: z.string().optional(),
  country: z.string().optional(),
  /** The connector that charged it (or the last one tried). */
  connectorId: z.string().optional(),
  code: z.string().optional(),
  /** Every connector tried, once each, in order. */
  attemptConnectors: z.array(z.string()),
  attemptCount: z.number().int().min(0),
  fraudDecision: FraudDecision.optional(),
  fraudScore: z.number().optional(),
  /** The fraud reasons' codes. */
  fraudReasons: z.array(z.string()),
  /** A refund document's refund, in minor units. */
  refundAmount: z.number().int().optional(),
  /** A reward document's reward (the payment's id) or claim (`clm_…`), and what changed. */
  rewardId: z.string().optional(),
  rewardChange: RewardChange.optional(),
  /**
   * A reward document's tokens (issued, clawed back or minted), as whole tokens and billionths of one: sums of each
   * are exact (a sum of base units could pass 2^53, where an index's sums stop being exact).
   */
  tokensWhole: z.number().int().min(0).optional(),
  tokensNanos: z.number().int().min(0).optional(),
  /** Epoch milliseconds, what windows select on: the payment's creation (a refund's too), a reward change's time. */
  createdAt: z.number().int(),
  /** The event's time (ISO). */
  at: z.string(),
  /** The summary: what search matches and the embedding encodes. */
  text: z.string(),
  /** The merchant's description (data, never instructions). */
  description: z.string().optional(),
});
export type AnalyticsDocument = z.infer<typeof AnalyticsDocument>;

/** A number of reward tokens as an exact decimal string ("12.5"). */
const TokenFigure = z.string().regex(/^-?\d+(\.\d+)?$/);

/** One figure of a metric: for a group (and a currency, for amounts), with what it was computed from. */
export const MetricRow = z.object({
  /** The group's value (a country code, a connector id, …), with `groupBy`. */
  group: z.string().optional(),
  /** Amounts are per currency. */
  currency: z.string().optional(),
  /** The figure: a count, minor units, a rate in [0, 1], or null when it has no denominator. */
  value: z.number().nullable(),
  /** A rate's or an average's parts: numerator / denominator. */
  numerator: z.number().optional(),
  denominator: z.number().optional(),
  /**
   * Reward tokens (reward_tokens), in whole tokens as exact decimal strings: issued, clawed back by refunds, net
   * (issued less clawed back: negative when refunds took back more than was issued), and minted on chain. `value`
   * is the net, as a number.
   */
  tokens: z.object({ issued: TokenFigure, clawedBack: TokenFigure, net: TokenFigure, minted: TokenFigure }).optional(),
});
export type MetricRow = z.infer<typeof MetricRow>;

/** A metric plan's figures over one window. */
export const MetricFigures = z.object({
  window: PlanWindow,
  rows: z.array(MetricRow),
  /** How many payment documents matched the plan's filters in the window. */
  matched: z.number().int(),
});
export type MetricFigures = z.infer<typeof MetricFigures>;

/** A payment as an answer cites it: its document's fields, never card data or keys. */
export const Evidence = AnalyticsDocument.pick({
  paymentId: true,
  status: true,
  amount: true,
  currency: true,
  method: true,
  country: true,
  connectorId: true,
  code: true,
  attemptConnectors: true,
  fraudDecision: true,
  fraudScore: true,
  fraudReasons: true,
  text: true,
}).extend({ paymentId: PaymentId, createdAt: z.string(), refundedAmount: z.number().int().optional() });
export type Evidence = z.infer<typeof Evidence>;

/** Who turned the question into the plan, and who phrased the answer. */
export const Planner = z.enum(['parser', 'bedrock', 'openai']);
export type Planner = z.infer<typeof Planner>;
export const Composer = z.enum(['template', 'bedrock', 'openai']);
export type Composer = z.infer<typeof Composer>;

/** `POST /chat`'s answer: the text, the plan as executed, the figures, and the payments behind them. */
export const ChatAnswer = z.object({
  answer: z.string(),
  /** The plan as executed (a window given in the request replaces the question's); absent for "can't answer". */
  plan: QueryPlan.optional(),
  /** A metric plan's figures, and its comparison window's. */
  figures: MetricFigures.optional(),
  comparison: MetricFigures.optional(),
  /** The payments the answer rests on (a sample of those counted, the one looked up, its neighbours). */
  citations: z.array(PaymentId),
  evidence: z.array(Evidence),
  /** For a question no plan answers: what can be asked. */
  askable: z.array(z.string()).optional(),
  plannedBy: Planner,
  composedBy: Composer,
});
export type ChatAnswer = z.infer<typeof ChatAnswer>;

/**
 * The analytics function's rebuild step (an invocation, not an API route): one page of the stores indexed (the
 * payments table's pages, then the rewards table's), from `cursor` (absent: the first page); the answer's `cursor`
 * is the next page's, absent after the last. The local platform runs it at start when its index is missing; in the
 * cloud, invoke the function with it, page after page, to rebuild a lost or new collection.
 */
export const RebuildIndexEvent = z.object({ rebuild: z.object({ cursor: z.string().max(2048).optional(), limit: z.number().int().min(1).max(1000).optional() }).strict() }).strict();
export type RebuildIndexEvent = z.infer<typeof RebuildIndexEvent>;
