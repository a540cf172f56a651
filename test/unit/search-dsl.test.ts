/** The local search endpoint's histogram aggregations: OpenSearch's bucket keys, empty buckets and bounds. */
import { aggregate, DslError } from '../../local/search-dsl';

const HOUR = 3_600_000;
const t0 = Date.UTC(2026, 11, 1);
const docs = [
  { createdAt: t0 + 10, score: 0.01, status: 'succeeded' },
  { createdAt: t0 + 20, score: 0.97, status: 'declined' },
  { createdAt: t0 + 2 * HOUR + 5, score: 0.42, status: 'succeeded' },
  { createdAt: t0 + 2 * HOUR + 9, score: 1, status: 'succeeded' },
];

describe('date_histogram', () => {
  it('buckets by a fixed interval, fills the empty ones, and runs sub-aggregations per bucket', () => {
    const out = aggregate(docs, { by: { date_histogram: { field: 'createdAt', fixed_interval: '1h', min_doc_count: 0 }, aggs: { ok: { filter: { term: { status: 'succeeded' } } } } } });
    expect(out.by).toEqual({
      buckets: [
        { key: t0, key_as_string: '2026-12-01T00:00:00.000Z', doc_count: 2, ok: { doc_count: 1 } },
        { key: t0 + HOUR, key_as_string: '2026-12-01T01:00:00.000Z', doc_count: 0, ok: { doc_count: 0 } },
        { key: t0 + 2 * HOUR, key_as_string: '2026-12-01T02:00:00.000Z', doc_count: 2, ok: { doc_count: 2 } },
      ],
    });
  });

  it('extends to extended_bounds, and drops buckets under min_doc_count', () => {
    const extended = aggregate(docs, { by: { date_histogram: { field: 'createdAt', fixed_interval: '1h', extended_bounds: { min: t0 - HOUR, max: t0 + 4 * HOUR } } } });
    expect((extended.by as { buckets: Array<{ key: number; doc_count: number }> }).buckets.map((b) => [b.key - t0, b.doc_count])).toEqual([
      [-HOUR, 0], [0, 2], [HOUR, 0], [2 * HOUR, 2], [3 * HOUR, 0], [4 * HOUR, 0],
    ]);
    const sparse = aggregate(docs, { by: { date_histogram: { field: 'createdAt', fixed_interval: '1h', min_doc_count: 1 } } });
    expect((sparse.by as { buckets: unknown[] }).buckets).toHaveLength(2);
  });

  it('refuses what OpenSearch would', () => {
    expect(() => aggregate(docs, { by: { date_histogram: { field: 'createdAt', fixed_interval: '1 hour' } } })).toThrow(DslError);
    expect(() => aggregate(docs, { by: { date_histogram: { field: 'createdAt', calendar_interval: 'month' } } })).toThrow(/does not support \[calendar_interval\]/);
  });
});

describe('histogram', () => {
  it('keys each value by floor(value / interval) * interval, a score of 1 in its own bucket', () => {
    const out = aggregate(docs, { by: { histogram: { field: 'score', interval: 0.25, extended_bounds: { min: 0, max: 1 } } } });
    expect((out.by as { buckets: Array<{ key: number; doc_count: number }> }).buckets.map((b) => [b.key, b.doc_count])).toEqual([
      [0, 1], [0.25, 1], [0.5, 0], [0.75, 1], [1, 1],
    ]);
  });
});
