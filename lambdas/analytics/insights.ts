/**
 * `GET /insights` as one OpenSearch request a view, and how its aggregations become the answer: the window's
 * documents of the merchant, totals over the window and the same figures per bucket (a date_histogram of the
 * creation time, empty buckets included).
 */
import type { RewardChange } from '../../contracts/events';
import { INSIGHTS_INTERVALS, type FraudInsights, type InsightsQuery, type InsightsResponse, type RewardsInsights, type RoutingInsights } from '../../contracts/insights';
import { tokenDecimal } from './documents';
import { rewardChangeTokens, summedNanos, term, type Aggs, type Bucket, type Clause } from './dsl';

type Terms = { buckets: Bucket[] };
const bucketsOf = (bucket: Bucket, name: string) => (bucket[name] as Terms).buckets;
const countOf = (bucket: Bucket, name: string) => (bucket[name] as Bucket).doc_count;

/** The request of a view over the query's window, and the reader of its answer. */
export function insightsRequest(merchantId: string, query: InsightsQuery, now: Date): { body: Record<string, unknown>; read: (total: number, aggs: Record<string, unknown>) => InsightsResponse } {
  const { ms } = INSIGHTS_INTERVALS[query.interval];
  const from = Math.floor(Date.parse(query.from) / ms) * ms;
  const to = query.to ? Date.parse(query.to) : now.getTime();
  const window = { from: new Date(from).toISOString(), to: new Date(to).toISOString(), interval: query.interval };
  const overTime = (aggs: Aggs) => ({ date_histogram: { field: 'createdAt', fixed_interval: query.interval === 'hour' ? '1h' : '1d', min_doc_count: 0, extended_bounds: { min: from, max: to - 1 } }, aggs });
  const scope = (kind: string, ...more: Clause[]): Clause => ({ bool: { filter: [term('merchantId', merchantId), term('kind', kind), { range: { createdAt: { gte: from, lt: to } } }, ...more] } });
  const at = (bucket: Bucket) => new Date(Number(bucket.key)).toISOString();

  if (query.view === 'routing') {
    const perConnector: Aggs = { tried: { terms: { field: 'attemptConnectors', size: 50 } }, charged: { filter: term('status', 'succeeded'), aggs: { by: { terms: { field: 'connectorId', size: 50 } } } } };
    const connectors = (bucket: Bucket) => {
      const charged = new Map(((bucket.charged as Bucket).by as Terms).buckets.map((b) => [String(b.key), b.doc_count]));
      return bucketsOf(bucket, 'tried')
        .map((b) => ({ connectorId: String(b.key), tried: b.doc_count, charged: charged.get(String(b.key)) ?? 0, approvalRate: b.doc_count ? (charged.get(String(b.key)) ?? 0) / b.doc_count : null }))
        .sort((a, b) => b.tried - a.tried || a.connectorId.localeCompare(b.connectorId));
    };
    return {
      body: {
        size: 0,
        track_total_hits: true,
        query: scope('payment', { range: { attemptCount: { gte: 1 } } }),
        aggs: {
          ...perConnector,
          succeeded: { filter: term('status', 'succeeded'), aggs: { currencies: { terms: { field: 'currency', size: 50 }, aggs: { amount: { sum: { field: 'amount' } } } } } },
          fallbacks: { filter: { range: { attemptCount: { gte: 2 } } } },
          over: overTime({ ...perConnector, succeeded: { filter: term('status', 'succeeded') } }),
        },
      },
      read: (total, aggs): RoutingInsights => {
        const all = { doc_count: total, ...aggs } as Bucket;
        return {
          view: 'routing',
          ...window,
          payments: total,
          succeeded: countOf(all, 'succeeded'),
          fallbacks: countOf(all, 'fallbacks'),
          volume: bucketsOf(all.succeeded as Bucket, 'currencies').map((b) => ({ currency: String(b.key), amount: Math.round((b.amount as { value: number }).value) })),
          connectors: connectors(all),
          series: bucketsOf(all, 'over').map((b) => ({ at: at(b), payments: b.doc_count, succeeded: countOf(b, 'succeeded'), connectors: connectors(b) })),
        };
      },
    };
  }

  if (query.view === 'fraud') {
    const decisions = { terms: { field: 'fraudDecision', size: 3 } };
    const decisionCounts = (bucket: Bucket) => {
      const counts = new Map(bucketsOf(bucket, 'decisions').map((b) => [String(b.key), b.doc_count]));
      return { approve: counts.get('approve') ?? 0, review: counts.get('review') ?? 0, decline: counts.get('decline') ?? 0 };
    };
    return {
      body: {
        size: 0,
        track_total_hits: true,
        query: scope('payment', { exists: { field: 'fraudDecision' } }),
        aggs: {
          scores: { histogram: { field: 'fraudScore', interval: 0.05, min_doc_count: 0, extended_bounds: { min: 0, max: 0.95 } } },
          decisions,
          reasons: { terms: { field: 'fraudReasons', size: 10 } },
          over: overTime({ decisions }),
        },
      },
      read: (total, aggs): FraudInsights => {
        const all = { doc_count: total, ...aggs } as Bucket;
        // Twenty buckets by index (a key is floor(score / 0.05) * 0.05 in floating point); a score of 1 joins the last.
        const counts = new Array<number>(20).fill(0);
        for (const b of bucketsOf(all, 'scores')) counts[Math.min(19, Math.max(0, Math.round(Number(b.key) / 0.05)))]! += b.doc_count;
        return {
          view: 'fraud',
          ...window,
          scored: total,
          scores: counts.map((count, i) => ({ from: Math.round(i * 5) / 100, to: Math.round((i + 1) * 5) / 100, count })),
          decisions: decisionCounts(all),
          reasons: bucketsOf(all, 'reasons').map((b) => ({ code: String(b.key), count: b.doc_count })),
          series: bucketsOf(all, 'over').map((b) => ({ at: at(b), ...decisionCounts(b) })),
        };
      },
    };
  }

  const changes: Aggs = Object.fromEntries((['issued', 'minted', 'clawed_back', 'mint_failed'] as const).map((change) => [change, rewardChangeTokens(change)]));
  const tokens = (bucket: Bucket, name: RewardChange) => tokenDecimal(summedNanos(bucket, name));
  const failing: Aggs = { filter: term('rewardChange', 'mint_failed'), aggs: { rewards: { cardinality: { field: 'rewardId' } }, most: { terms: { field: 'rewardId', size: 10 } } } };
  return {
    body: { size: 0, track_total_hits: true, query: scope('reward'), aggs: { ...changes, failing, over: overTime(changes) } },
    read: (total, aggs): RewardsInsights => {
      const all = { doc_count: total, ...aggs } as Bucket;
      const figure = (name: RewardChange) => ({ count: countOf(all, name), tokens: tokens(all, name) });
      const failed = all.failing as Bucket;
      return {
        view: 'rewards',
        ...window,
        issued: figure('issued'),
        minted: figure('minted'),
        clawedBack: figure('clawed_back'),
        failedMints: {
          ...figure('mint_failed'),
          rewards: (failed.rewards as { value: number }).value,
          mostFailed: bucketsOf(failed, 'most').map((b) => ({ rewardId: String(b.key), failures: b.doc_count })),
        },
        series: bucketsOf(all, 'over').map((b) => ({ at: at(b), issued: tokens(b, 'issued'), minted: tokens(b, 'minted'), clawedBack: tokens(b, 'clawed_back'), failedMints: countOf(b, 'mint_failed') })),
      };
    },
  };
}
