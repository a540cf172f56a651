/**
 * The analytics index on OpenSearch, through the official client: in the cloud an OpenSearch Serverless
 * collection (SigV4, service `aoss`) or an existing endpoint (OPENSEARCH_ENDPOINT); locally the platform's
 * OpenSearch endpoint over its embedded Orama index (local/search), with the same queries.
 *
 * The query layer: every query this file sends is scoped by a `term` on the caller's merchant id, the first
 * clause of its filter, built here and nowhere else; a plan's filters only narrow it. Metrics are aggregations
 * (terms, filter, sum, cardinality), never documents added up here. Search fuses a BM25 `match` and a `knn`
 * query by reciprocal rank, each under the same filter.
 *
 * Idempotency: vector-search collections take no document ids of ours, so a document carries its event id as a
 * field and is indexed only when no document has it yet (`indexed`).
 */
import type { Client } from '@opensearch-project/opensearch';
import type { MetricFigures, MetricPlan, MetricRow, PlanFilter, PlanWindow } from '../../contracts/analytics';
import { type AnalyticsDocument, type Dimension, type Metric } from '../../contracts/analytics';
import type { RewardChange } from '../../contracts/events';
import type { InsightsQuery, InsightsResponse } from '../../contracts/insights';
import { ANALYTICS_INDEX_NAME } from '../../contracts/resources';
import { tokenDecimal } from './documents';
import type { AnalyticsIndex, IndexedDocument, Scope, SearchQuery } from './ports';
import { rewardChangeTokens, summedNanos, term, terms, type Aggs, type Bucket, type Clause } from './dsl';
import { insightsRequest } from './insights';

export const EMBEDDING_DIMENSIONS = 512;
/** The most groups a metric reads (countries, connectors, customers, …); more are reported as partial. */
const MAX_GROUPS = 1_000;
/** Below this many distinct payments a cardinality aggregation is exact. */
const CARDINALITY_PRECISION = 40_000;

/** The index's mapping: keywords for the filters and groups, numbers for the figures, the text and its embedding. */
export const INDEX_BODY = {
  settings: { index: { knn: true } },
  mappings: {
    properties: {
      eventId: { type: 'keyword' },
      kind: { type: 'keyword' },
      merchantId: { type: 'keyword' },
      paymentId: { type: 'keyword' },
      customerId: { type: 'keyword' },
      status: { type: 'keyword' },
      amount: { type: 'long' },
      currency: { type: 'keyword' },
      method: { type: 'keyword' },
      cardBrand: { type: 'keyword' },
      country: { type: 'keyword' },
      connectorId: { type: 'keyword' },
      code: { type: 'keyword' },
      attemptConnectors: { type: 'keyword' },
      attemptCount: { type: 'integer' },
      fraudDecision: { type: 'keyword' },
      fraudScore: { type: 'float' },
      fraudReasons: { type: 'keyword' },
      refundAmount: { type: 'long' },
      rewardId: { type: 'keyword' },
      rewardChange: { type: 'keyword' },
      tokensWhole: { type: 'long' },
      tokensNanos: { type: 'long' },
      createdAt: { type: 'date', format: 'epoch_millis' },
      at: { type: 'keyword' },
      text: { type: 'text' },
      description: { type: 'text' },
      embedding: { type: 'knn_vector', dimension: EMBEDDING_DIMENSIONS, method: { name: 'hnsw', engine: 'faiss', space_type: 'l2' } },
    },
  },
} as const;

/** The document field of each dimension. */
export const FIELD: Readonly<Record<Dimension, keyof AnalyticsDocument>> = {
  country: 'country',
  connector: 'connectorId',
  method: 'method',
  currency: 'currency',
  customer: 'customerId',
  status: 'status',
};


/** The statuses an amount metric adds up: the status filter's, or succeeded payments'. */
function amountStatuses(filters: readonly PlanFilter[]): readonly string[] {
  const status = filters.find((f) => f.field === 'status');
  return status ? status.in : ['succeeded'];
}

/** What a metric counts among (beyond the plan's filters), and which documents. */
function metricClauses(metric: Metric, filters: readonly PlanFilter[]): { kinds: readonly string[]; clauses: Clause[] } {
  switch (metric) {
    case 'count':
      return { kinds: ['payment'], clauses: [] };
    case 'total_amount':
    case 'average_amount':
      return { kinds: ['payment'], clauses: [terms('status', amountStatuses(filters))] };
    case 'decline_rate':
      return { kinds: ['payment'], clauses: [terms('status', ['succeeded', 'declined'])] };
    case 'fraud_decline_rate':
      return { kinds: ['payment'], clauses: [{ exists: { field: 'fraudDecision' } }] };
    case 'refund_rate':
      return { kinds: ['payment', 'refund'], clauses: [term('status', 'succeeded')] };
    case 'approval_rate':
      return { kinds: ['payment'], clauses: [{ range: { attemptCount: { gte: 1 } } }] };
    case 'fallback_count':
      return { kinds: ['payment'], clauses: [{ range: { attemptCount: { gte: 2 } } }] };
    case 'reward_tokens':
      return { kinds: ['reward'], clauses: [] };
  }
}

/**
 * The filter of every query: the merchant first (the caller's, from the JWT claim), then the kinds of document,
 * the window and the plan's filters. An approval rate's connector filter names the connectors tried.
 */
export function scopeFilter(merchantId: string, scope: Scope, kinds: readonly string[], metric?: Metric): Clause[] {
  const clauses: Clause[] = [term('merchantId', merchantId), kinds.length === 1 ? term('kind', kinds[0]!) : terms('kind', kinds)];
  if (scope.window) clauses.push({ range: { createdAt: { gte: Date.parse(scope.window.from), lt: Date.parse(scope.window.to) } } });
  for (const filter of scope.filters) {
    const field = metric === 'approval_rate' && filter.field === 'connector' ? 'attemptConnectors' : FIELD[filter.field];
    clauses.push(terms(field, filter.in));
  }
  return clauses;
}

/** A metric's aggregations within one bucket, and how its rows are read from the bucket. */
function inner(plan: MetricPlan): { aggs: Aggs; read: (bucket: Bucket, group?: string) => MetricRow[] } {
  const ratio = (numerator: number, denominator: number, group?: string): MetricRow => ({
    ...(group === undefined ? {} : { group }),
    value: denominator === 0 ? null : numerator / denominator,
    numerator,
    denominator,
  });
  const countOf = (bucket: Bucket, name: string) => (bucket[name] as Bucket).doc_count;
  switch (plan.metric) {
    case 'count':
    case 'fallback_count':
      return { aggs: {}, read: (b, group) => [{ ...(group === undefined ? {} : { group }), value: b.doc_count }] };
    case 'total_amount':
    case 'average_amount': {
      const average = plan.metric === 'average_amount';
      return {
        aggs: { currencies: { terms: { field: 'currency', size: 200 }, aggs: { sum: { sum: { field: 'amount' } } } } },
        read: (b, group) =>
          ((b.currencies as { buckets: Bucket[] }).buckets ?? []).map((c) => {
            const sum = Math.round((c.sum as { value: number }).value);
            return {
              ...(group === undefined ? {} : { group }),
              currency: String(c.key),
              value: average ? Math.round(sum / c.doc_count) : sum,
              numerator: sum,
              denominator: c.doc_count,
            };
          }),
      };
    }
    case 'decline_rate':
      return { aggs: { num: { filter: term('status', 'declined') } }, read: (b, group) => [ratio(countOf(b, 'num'), b.doc_count, group)] };
    case 'fraud_decline_rate':
      return { aggs: { num: { filter: term('fraudDecision', 'decline') } }, read: (b, group) => [ratio(countOf(b, 'num'), b.doc_count, group)] };
    case 'refund_rate':
      return {
        aggs: {
          den: { filter: term('kind', 'payment') },
          num: { filter: term('kind', 'refund'), aggs: { payments: { cardinality: { field: 'paymentId', precision_threshold: CARDINALITY_PRECISION } } } },
        },
        read: (b, group) => [ratio(((b.num as Bucket).payments as { value: number }).value, countOf(b, 'den'), group)],
      };
    case 'approval_rate': {
      const connectors = plan.filters.find((f) => f.field === 'connector');
      const charged = { bool: { filter: [term('status', 'succeeded'), ...(connectors ? [terms('connectorId', connectors.in)] : [])] } };
      return { aggs: { num: { filter: charged } }, read: (b, group) => [ratio(countOf(b, 'num'), b.doc_count, group)] };
    }
    case 'reward_tokens': {
      return {
        aggs: { issued: rewardChangeTokens('issued'), clawed_back: rewardChangeTokens('clawed_back'), minted: rewardChangeTokens('minted') },
        read: (b, group) => {
          const nanos = (name: RewardChange) => summedNanos(b, name);
          const issued = nanos('issued');
          const clawedBack = nanos('clawed_back');
          const net = issued - clawedBack;
          return [
            {
              ...(group === undefined ? {} : { group }),
              value: Number(tokenDecimal(net)),
              tokens: { issued: tokenDecimal(issued), clawedBack: tokenDecimal(clawedBack), net: tokenDecimal(net), minted: tokenDecimal(nanos('minted')) },
            },
          ];
        },
      };
    }
  }
}

/**
 * The rows best first: larger values first, no value last, then by group. Amounts are per currency and are never
 * added across currencies, so their rows are ranked within each currency (`top` in each), the currency with the
 * most payments first. Grouped by currency itself (`byCurrency`), a row is a currency: amounts in different
 * currencies cannot be ranked against each other, so the busiest `top` currencies are kept, busiest first.
 */
export function ranked(rows: readonly MetricRow[], top?: number, byCurrency = false): MetricRow[] {
  const payments = new Map<string, number>();
  for (const row of rows) if (row.currency !== undefined) payments.set(row.currency, (payments.get(row.currency) ?? 0) + (row.denominator ?? 0));
  const weight = (row: MetricRow) => (row.currency === undefined ? 0 : (payments.get(row.currency) ?? 0));
  const sorted = [...rows].sort(
    (a, b) =>
      weight(b) - weight(a) ||
      (a.currency ?? '').localeCompare(b.currency ?? '') ||
      (b.value ?? -Infinity) - (a.value ?? -Infinity) ||
      (a.group ?? '').localeCompare(b.group ?? ''),
  );
  if (top === undefined) return sorted;
  if (byCurrency) return sorted.slice(0, top);
  const seen = new Map<string, number>();
  return sorted.filter((row) => {
    const n = (seen.get(row.currency ?? '') ?? 0) + 1;
    seen.set(row.currency ?? '', n);
    return n <= top;
  });
}

/** The metric's whole request: the query, the aggregations, and how to read the response into rows. */
export function metricRequest(merchantId: string, plan: MetricPlan, window: PlanWindow): { body: Record<string, unknown>; read: (aggs: Record<string, unknown>) => MetricRow[] } {
  const { kinds, clauses } = metricClauses(plan.metric, plan.filters);
  const query = { bool: { filter: [...scopeFilter(merchantId, { window, filters: plan.filters }, kinds, plan.metric), ...clauses] } };
  const within = inner(plan);
  if (!plan.groupBy) {
    return {
      body: { size: 0, track_total_hits: true, query, aggs: { all: { filter: { match_all: {} }, aggs: within.aggs } } },
      read: (aggs) => within.read(aggs.all as Bucket),
    };
  }
  if (plan.metric === 'approval_rate' && plan.groupBy === 'connector') {
    // Per connector: the payments that tried it, and those it charged.
    const connectors = plan.filters.find((f) => f.field === 'connector');
    const include = connectors ? { include: [...connectors.in] } : {};
    return {
      body: {
        size: 0,
        track_total_hits: true,
        query,
        aggs: {
          tried: { terms: { field: 'attemptConnectors', size: MAX_GROUPS, ...include } },
          charged: { filter: term('status', 'succeeded'), aggs: { by: { terms: { field: 'connectorId', size: MAX_GROUPS, ...include } } } },
        },
      },
      read: (aggs) => {
        const charged = new Map(((aggs.charged as Bucket).by as { buckets: Bucket[] }).buckets.map((b) => [String(b.key), b.doc_count]));
        return (aggs.tried as { buckets: Bucket[] }).buckets.map((b) => {
          const numerator = charged.get(String(b.key)) ?? 0;
          return { group: String(b.key), value: b.doc_count === 0 ? null : numerator / b.doc_count, numerator, denominator: b.doc_count };
        });
      },
    };
  }
  return {
    body: { size: 0, track_total_hits: true, query, aggs: { groups: { terms: { field: FIELD[plan.groupBy], size: MAX_GROUPS }, aggs: within.aggs } } },
    read: (aggs) => (aggs.groups as { buckets: Bucket[] }).buckets.flatMap((b) => within.read(b, String(b.key))),
  };
}

/**
 * The payments a metric's answer rests on: those it counts among, narrowed for a rate to those its numerator
 * counts (a decline rate's declined payments, a fraud rate's fraud declines, a refund rate's refunds).
 */
function focusClauses(metric: Metric, filters: readonly PlanFilter[]): { kinds: readonly string[]; clauses: Clause[] } {
  switch (metric) {
    case 'decline_rate':
      return { kinds: ['payment'], clauses: [term('status', 'declined')] };
    case 'fraud_decline_rate':
      return { kinds: ['payment'], clauses: [term('fraudDecision', 'decline')] };
    case 'refund_rate':
      return { kinds: ['refund'], clauses: [] };
    case 'reward_tokens':
      return { kinds: ['reward'], clauses: [term('rewardChange', 'issued')] };
    default:
      return metricClauses(metric, filters);
  }
}

/** What a search looks among: the scope, and a metric's focus (focusClauses). */
export function searchFilter(merchantId: string, scope: Scope, exclude?: string): Clause {
  const { kinds, clauses } = focusClauses(scope.focus ?? 'count', scope.filters);
  return {
    bool: {
      filter: [...scopeFilter(merchantId, scope, kinds), ...clauses],
      ...(exclude ? { must_not: [term('paymentId', exclude)] } : {}),
    },
  };
}

/** Reciprocal-rank fusion of ranked lists of documents (by event id), k = 60. */
export function fuse(lists: ReadonlyArray<readonly AnalyticsDocument[]>, limit: number): AnalyticsDocument[] {
  const scores = new Map<string, { doc: AnalyticsDocument; score: number }>();
  for (const list of lists) {
    list.forEach((doc, rank) => {
      const entry = scores.get(doc.eventId) ?? { doc, score: 0 };
      entry.score += 1 / (60 + rank + 1);
      scores.set(doc.eventId, entry);
    });
  }
  return [...scores.values()]
    .sort((a, b) => b.score - a.score || b.doc.createdAt - a.doc.createdAt)
    .slice(0, limit)
    .map((e) => e.doc);
}

interface Hit {
  readonly _source: AnalyticsDocument & { readonly embedding?: number[] };
}

const WITHOUT_EMBEDDING = { excludes: ['embedding'] };

function hitsOf(body: unknown): Hit[] {
  return ((body as { hits?: { hits?: Hit[] } }).hits?.hits ?? []) as Hit[];
}

function withoutEmbedding(hit: Hit): AnalyticsDocument {
  const { embedding: _embedding, ...doc } = hit._source;
  return doc;
}

export class OpenSearchIndex implements AnalyticsIndex {
  private ready: Promise<void> | undefined;

  constructor(
    private readonly client: () => Client,
    private readonly index = ANALYTICS_INDEX_NAME,
  ) {}

  /** Creates the index when it is missing (once per instance; a concurrent creator's index is as good). */
  private ensure(): Promise<void> {
    this.ready ??= (async () => {
      const exists = await this.client().indices.exists({ index: this.index });
      if (exists.body) return;
      try {
        await this.client().indices.create({ index: this.index, body: INDEX_BODY as never });
      } catch (error) {
        if (!/resource_already_exists_exception/.test(String((error as { message?: string }).message))) throw error;
      }
    })().catch((error: unknown) => {
      this.ready = undefined;
      throw error;
    });
    return this.ready;
  }

  private async query(body: Record<string, unknown>): Promise<Record<string, unknown>> {
    await this.ensure();
    const response = await this.client().search({ index: this.index, body: body as never });
    return response.body as unknown as Record<string, unknown>;
  }

  async indexed(eventIds: readonly string[]): Promise<ReadonlySet<string>> {
    if (eventIds.length === 0) return new Set();
    const body = await this.query({ size: eventIds.length, _source: ['eventId'], query: { bool: { filter: [terms('eventId', eventIds)] } } });
    return new Set(hitsOf(body).map((hit) => hit._source.eventId));
  }

  async put(docs: readonly IndexedDocument[]): Promise<void> {
    if (docs.length === 0) return;
    await this.ensure();
    const body = docs.flatMap(({ doc, embedding }) => [{ index: { _index: this.index } }, embedding ? { ...doc, embedding: [...embedding] } : doc]);
    const response = await this.client().bulk({ body: body as never });
    const result = response.body as { errors?: boolean; items?: Array<Record<string, { status: number; error?: { reason?: string } }>> };
    if (result.errors) {
      const failed = (result.items ?? []).map((item) => Object.values(item)[0]).filter((item) => item && item.status >= 300);
      throw new Error(`analytics index: ${failed.length} of ${docs.length} document(s) were not indexed (${failed[0]?.error?.reason ?? 'no reason given'})`);
    }
  }

  async figures(merchantId: string, plan: MetricPlan, window: PlanWindow): Promise<MetricFigures> {
    const request = metricRequest(merchantId, plan, window);
    const body = await this.query(request.body);
    const total = (body.hits as { total?: { value?: number } | number } | undefined)?.total;
    const matched = typeof total === 'number' ? total : (total?.value ?? 0);
    return { window, rows: ranked(request.read((body.aggregations ?? {}) as Record<string, unknown>), plan.top, plan.groupBy === 'currency'), matched };
  }

  async insights(merchantId: string, query: InsightsQuery, now: Date): Promise<InsightsResponse> {
    const request = insightsRequest(merchantId, query, now);
    const body = await this.query(request.body);
    const total = (body.hits as { total?: { value?: number } | number } | undefined)?.total;
    return request.read(typeof total === 'number' ? total : (total?.value ?? 0), (body.aggregations ?? {}) as Record<string, unknown>);
  }

  async payment(merchantId: string, paymentId: string): Promise<{ docs: AnalyticsDocument[]; embedding?: number[] }> {
    const body = await this.query({ size: 100, query: { bool: { filter: [term('merchantId', merchantId), term('paymentId', paymentId)] } } });
    const hits = hitsOf(body);
    const own = hits.find((hit) => hit._source.kind === 'payment');
    return { docs: hits.map(withoutEmbedding), ...(own?._source.embedding ? { embedding: own._source.embedding } : {}) };
  }

  async search(merchantId: string, query: SearchQuery): Promise<AnalyticsDocument[]> {
    const filter = searchFilter(merchantId, query.scope, query.exclude);
    const depth = Math.max(query.limit * 4, 20);
    // The two legs at once: BM25 over the text, and nearest neighbours of the vector, each under the filter.
    const legs: Array<Promise<AnalyticsDocument[]>> = [];
    if (query.text) {
      legs.push(this.query({ size: depth, _source: WITHOUT_EMBEDDING, query: { bool: { ...(filter.bool as object), must: [{ match: { text: query.text } }] } } }).then((body) => hitsOf(body).map(withoutEmbedding)));
    }
    if (query.vector) {
      legs.push(this.query({ size: depth, _source: WITHOUT_EMBEDDING, query: { knn: { embedding: { vector: [...query.vector], k: depth, filter } } } }).then((body) => hitsOf(body).map(withoutEmbedding)));
    }
    const lists = await Promise.all(legs);
    if (lists.every((list) => list.length === 0)) {
      const body = await this.query({ size: query.limit, _source: WITHOUT_EMBEDDING, sort: [{ createdAt: { order: 'desc' } }], query: filter });
      return hitsOf(body).map(withoutEmbedding);
    }
    return fuse(lists, query.limit);
  }
}
