/**
 * `GET /insights`: the figures the console charts, over a window, from the analytics index: routing (per connector,
 * the payments that tried it and those it charged, over time; fallbacks; volume), fraud (the score distribution,
 * decisions over time, the top reasons) and rewards (issued, minted and clawed back over time, in tokens; the mint
 * transactions that failed, and the rewards they failed for).
 */
import { z } from 'zod';
import { PaymentEra } from './api';

export const InsightsView = z.enum(['routing', 'fraud', 'rewards']);
export type InsightsView = z.infer<typeof InsightsView>;

/** A bucket's length, and the most buckets a window may hold in it. */
export const INSIGHTS_INTERVALS = { hour: { ms: 3_600_000, maxBuckets: 24 * 31 }, day: { ms: 86_400_000, maxBuckets: 400 } } as const;
export const InsightsInterval = z.enum(['hour', 'day']);
export type InsightsInterval = z.infer<typeof InsightsInterval>;

const DateTime = z.iso
  .datetime({ offset: true, error: (issue) => (issue.input === undefined ? 'is required (an ISO 8601 date-time, e.g. 2026-11-01T00:00:00Z)' : 'must be an ISO 8601 date-time, e.g. 2026-11-01T00:00:00Z') })
  .refine(PaymentEra, 'must be between 1970-01-01 and 2100-01-01');

export const InsightsQuery = z
  .object({
    view: InsightsView,
    /** The window's start (its first bucket starts at this time, rounded down to the interval in UTC). */
    from: DateTime,
    /** The window's end, exclusive. @default now */
    to: DateTime.optional(),
    interval: InsightsInterval.default('day'),
  })
  .strict()
  .superRefine((query, ctx) => {
    const from = Date.parse(query.from);
    const to = query.to ? Date.parse(query.to) : Date.now();
    if (Number.isNaN(from) || Number.isNaN(to)) return;
    if (from >= to) ctx.addIssue({ code: 'custom', path: [query.to ? 'to' : 'from'], message: query.to ? 'must be after from' : 'must be in the past' });
    const { ms, maxBuckets } = INSIGHTS_INTERVALS[query.interval];
    if ((to - from) / ms > maxBuckets) {
      // Days are the longest buckets: a window of more than 400 of them can only be shortened.
      const longest = query.interval === 'day';
      ctx.addIssue({
        code: 'custom',
        path: [longest ? 'from' : 'interval'],
        message: `a window of ${Math.ceil((to - from) / ms)} ${query.interval}s is over ${maxBuckets}: ${longest ? `start it at most ${maxBuckets} days before to` : 'use interval=day or a shorter window'}`,
      });
    }
  });
export type InsightsQuery = z.infer<typeof InsightsQuery>;

const Window = { from: z.string(), to: z.string(), interval: InsightsInterval };
/** Exact decimal tokens ("12.5"). */
const Tokens = z.string().regex(/^-?\d+(\.\d+)?$/);

export const ConnectorFigures = z.object({
  connectorId: z.string(),
  /** Payments that tried it (an attempt on it). */
  tried: z.number().int(),
  /** Payments it charged. */
  charged: z.number().int(),
  /** charged / tried; null when none tried it. */
  approvalRate: z.number().nullable(),
});

export const RoutingInsights = z.object({
  view: z.literal('routing'),
  ...Window,
  payments: z.number().int(),
  succeeded: z.number().int(),
  /** Payments that fell back: more than one connector tried (as /chat's fallback count). */
  fallbacks: z.number().int(),
  /** What succeeded payments moved, per currency (minor units). */
  volume: z.array(z.object({ currency: z.string(), amount: z.number().int() })),
  connectors: z.array(ConnectorFigures),
  series: z.array(z.object({ at: z.string(), payments: z.number().int(), succeeded: z.number().int(), connectors: z.array(ConnectorFigures) })),
});

export const FraudInsights = z.object({
  view: z.literal('fraud'),
  ...Window,
  /** Scored payments. */
  scored: z.number().int(),
  /** Twenty buckets of 0.05: [from, to), the last one [0.95, 1]. */
  scores: z.array(z.object({ from: z.number(), to: z.number(), count: z.number().int() })),
  decisions: z.object({ approve: z.number().int(), review: z.number().int(), decline: z.number().int() }),
  /** The reasons most often given, most first (a payment counts once per reason). */
  reasons: z.array(z.object({ code: z.string(), count: z.number().int() })),
  series: z.array(z.object({ at: z.string(), approve: z.number().int(), review: z.number().int(), decline: z.number().int() })),
});

const Change = z.object({ count: z.number().int(), tokens: Tokens });
export const RewardsInsights = z.object({
  view: z.literal('rewards'),
  ...Window,
  issued: Change,
  minted: Change,
  clawedBack: Change,
  /**
   * Mint transactions that failed on chain or were refused (each minted nothing, and its reward's tokens stayed
   * owed: the mints schedule sends a new one): how many, their tokens, how many rewards they were for, and the
   * rewards (a payment's id, or a claim's `clm_…`) with the most failures, most first.
   */
  failedMints: Change.extend({
    rewards: z.number().int(),
    mostFailed: z.array(z.object({ rewardId: z.string(), failures: z.number().int() })),
  }),
  series: z.array(z.object({ at: z.string(), issued: Tokens, minted: Tokens, clawedBack: Tokens, failedMints: z.number().int() })),
});

export const InsightsResponse = z.discriminatedUnion('view', [RoutingInsights, FraudInsights, RewardsInsights]);
export type InsightsResponse = z.infer<typeof InsightsResponse>;
export type RoutingInsights = z.infer<typeof RoutingInsights>;
export type FraudInsights = z.infer<typeof FraudInsights>;
export type RewardsInsights = z.infer<typeof RewardsInsights>;
