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
import { PaymentStatus } from './api';
import { PaymentId } from './ids';
import { PaymentMethodKind } from './methods';

/** What a metric plan measures. */
export const Metric = z.enum([
  /** How many payments. */
  'count',
  /** Their amount, summed per currency (minor units). */
  'total_amount',
  /** Their average amount per currency (minor units). */
  'average_amount',
  /** Declined (by a gateway or by fraud) out of those decided. */
  'decline_rate',
  /** Declined by fraud scoring out of those scored. */
  'fraud_decline_rate',
  /** Refunded (in part or in whole) out of those succeeded. */
  'refund_rate',
  /** Succeeded out of the attempts made (per connector: a gateway's approval). */
  'approval_rate',
  /** Payments that needed more than one connector. */
  'fallback_count',
  /** Reward tokens earned (base units). */
  'reward_tokens',
]);
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

/** What can be asked, for a question no plan answers (an answer says so, never invents a number). */
export const ASKABLE = [
  'totals, counts and averages: "total volume last week", "how many payments yesterday", "average amount in March"',
  'rates: "decline rate yesterday compared with the day before", "fraud rate this month", "refund rate last 30 days"',
  'rankings: "top 5 countries by volume", "which connector approves Brazilian cards best", "top customers this week"',
  'fallbacks and rewards: "how many payments fell back to another gateway", "reward tokens earned this month"',
  'one payment: "why was pay_… declined?", "payments like pay_…"',
] as const;
