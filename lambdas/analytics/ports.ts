/**
 * The analytics area's ports. The index (documents, metrics, search) has one adapter, OpenSearch's
 * (opensearch.ts): in the cloud an OpenSearch Serverless collection, locally the platform's OpenSearch endpoint
 * over an embedded Orama index (local/search). Embeddings come from Bedrock in the cloud and from the shipped
 * Universal Sentence Encoder locally (embeddings.ts).
 *
 * Every read takes the merchant: the query layer puts it in every query it sends, and nothing of a plan or a
 * question can widen it.
 */
import type { AnalyticsDocument, MetricFigures, MetricPlan, PlanFilter, PlanWindow } from '../../contracts/analytics';
import type { InsightsQuery, InsightsResponse } from '../../contracts/insights';

/** A document with its embedding (absent when none could be computed: it is still counted, and found by text). */
export interface IndexedDocument {
  readonly doc: AnalyticsDocument;
  readonly embedding?: readonly number[];
}

/**
 * Which payments a search looks among: a window, filters, and a metric's focus (a decline rate's declined
 * payments, a refund rate's refunds, a fallback count's fallbacks, …).
 */
export interface Scope {
  readonly window?: PlanWindow;
  readonly filters: readonly PlanFilter[];
  readonly focus?: MetricPlan['metric'];
}

export interface SearchQuery {
  readonly scope: Scope;
  /** Full-text query (BM25 over the documents' text). */
  readonly text?: string;
  /** Nearest neighbours of this embedding. */
  readonly vector?: readonly number[];
  /** A payment to leave out (the one a similarity search starts from). */
  readonly exclude?: string;
  readonly limit: number;
}

export interface AnalyticsIndex {
  /** Which of these event ids are indexed already. */
  indexed(eventIds: readonly string[]): Promise<ReadonlySet<string>>;
  /** Indexes these documents (the caller leaves out those indexed already). */
  put(docs: readonly IndexedDocument[]): Promise<void>;
  /** A metric plan's figures over one window. */
  figures(merchantId: string, plan: MetricPlan, window: PlanWindow): Promise<MetricFigures>;
  /** One payment's documents (its own and its refunds'), with its embedding. */
  payment(merchantId: string, paymentId: string): Promise<{ readonly docs: readonly AnalyticsDocument[]; readonly embedding?: readonly number[] }>;
  /** The documents that match a query best (text and nearest neighbours fused by rank), or the latest ones. */
  search(merchantId: string, query: SearchQuery): Promise<readonly AnalyticsDocument[]>;
  /** A console view's figures over a window (`to` defaults to `now`). */
  insights(merchantId: string, query: InsightsQuery, now: Date): Promise<InsightsResponse>;
}

export interface Embedder {
  /** One embedding per text, in order. */
  embed(texts: readonly string[]): Promise<number[][]>;
}
