/** The pieces of OpenSearch's query DSL the analytics adapter's requests are built from, and a response bucket. */
import { NANOS_PER_TOKEN } from '../../contracts/analytics';
import type { RewardChange } from '../../contracts/events';
export type Clause = Record<string, unknown>;
export type Aggs = Record<string, unknown>;

export interface Bucket {
  readonly key?: string | number;
  readonly doc_count: number;
  readonly [agg: string]: unknown;
}

export const term = (field: string, value: string | number): Clause => ({ term: { [field]: value } });
export const terms = (field: string, values: readonly (string | number)[]): Clause => ({ terms: { [field]: [...values] } });

/** The reward documents of one change, with their tokens summed as whole tokens and billionths (exact when added). */
export const rewardChangeTokens = (change: RewardChange): Aggs => ({ filter: term('rewardChange', change), aggs: { whole: { sum: { field: 'tokensWhole' } }, nanos: { sum: { field: 'tokensNanos' } } } });

/** The billionths of a token a bucket of `rewardChangeTokens(change)` sums to. */
export function summedNanos(bucket: Bucket, change: RewardChange): bigint {
  const sums = bucket[change] as Bucket & { whole: { value: number }; nanos: { value: number } };
  return BigInt(Math.round(sums.whole.value)) * NANOS_PER_TOKEN + BigInt(Math.round(sums.nanos.value));
}
