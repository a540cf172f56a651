/** The pieces of OpenSearch's query DSL the analytics adapter's requests are built from, and a response bucket. */
export type Clause = Record<string, unknown>;
export type Aggs = Record<string, unknown>;

export interface Bucket {
  readonly key?: string | number;
  readonly doc_count: number;
  readonly [agg: string]: unknown;
}

export const term = (field: string, value: string | number): Clause => ({ term: { [field]: value } });
export const terms = (field: string, values: readonly (string | number)[]): Clause => ({ terms: { [field]: [...values] } });
