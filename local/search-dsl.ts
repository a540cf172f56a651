/**
 * The part of OpenSearch's query DSL the local search endpoint answers (local/search-endpoint.ts), evaluated
 * over documents in memory: filter clauses (bool, term, terms, range, exists, match_all) and aggregations (terms,
 * filter, sum, cardinality, histogram, date_histogram with a fixed interval, with sub-aggregations). Anything else is refused with OpenSearch's error type, so a
 * query the analytics adapter starts sending and this does not know fails loudly, never answers wrong.
 */

export type Source = Readonly<Record<string, unknown>>;
export type Predicate = (doc: Source) => boolean;

export class DslError extends Error {
  constructor(
    message: string,
    readonly type = 'parsing_exception',
  ) {
    super(message);
  }
}

function only(clause: unknown, what: string): [string, unknown] {
  if (!clause || typeof clause !== 'object' || Array.isArray(clause)) throw new DslError(`${what} must be an object`);
  const entries = Object.entries(clause);
  if (entries.length !== 1) throw new DslError(`${what} must hold exactly one clause, got [${entries.map(([k]) => k).join(', ')}]`);
  return entries[0]!;
}

function valuesOf(doc: Source, field: string): unknown[] {
  const value = doc[field];
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

function list(value: unknown): unknown[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) return [value];
  return value;
}

/** A filter-context clause as a predicate. `match` clauses are scored by the endpoint's text search, not here. */
export function predicate(clause: unknown): Predicate {
  const [kind, body] = only(clause, 'a query clause');
  switch (kind) {
    case 'match_all':
      return () => true;
    case 'term': {
      const [field, raw] = only(body, '[term]');
      const value = raw && typeof raw === 'object' && 'value' in raw ? (raw as { value: unknown }).value : raw;
      return (doc) => valuesOf(doc, field).includes(value);
    }
    case 'terms': {
      const [field, values] = only(body, '[terms]');
      if (!Array.isArray(values)) throw new DslError('[terms] takes an array of values');
      const set = new Set(values);
      return (doc) => valuesOf(doc, field).some((v) => set.has(v));
    }
    case 'range': {
      const [field, bounds] = only(body, '[range]');
      const b = bounds as Record<string, number>;
      for (const key of Object.keys(b)) if (!['gte', 'gt', 'lte', 'lt', 'format'].includes(key)) throw new DslError(`[range] does not support [${key}]`);
      return (doc) =>
        valuesOf(doc, field).some((raw) => {
          const v = Number(raw);
          return (b.gte === undefined || v >= b.gte) && (b.gt === undefined || v > b.gt) && (b.lte === undefined || v <= b.lte) && (b.lt === undefined || v < b.lt);
        });
    }
    case 'exists': {
      const field = (body as { field?: string }).field;
      if (!field) throw new DslError('[exists] needs a field');
      return (doc) => valuesOf(doc, field).length > 0;
    }
    case 'bool': {
      const bool = body as Record<string, unknown>;
      for (const key of Object.keys(bool)) if (!['filter', 'must', 'must_not', 'should', 'minimum_should_match'].includes(key)) throw new DslError(`[bool] does not support [${key}]`);
      const scoring = (c: unknown) => Boolean(c && typeof c === 'object' && 'match' in c);
      const must = [...list(bool.filter), ...list(bool.must).filter((c) => !scoring(c))].map(predicate);
      const mustNot = list(bool.must_not).map(predicate);
      const should = list(bool.should).map(predicate);
      return (doc) => must.every((p) => p(doc)) && !mustNot.some((p) => p(doc)) && (should.length === 0 || should.some((p) => p(doc)));
    }
    default:
      throw new DslError(`unknown query [${kind}]`);
  }
}

/** The `match` clauses of a query's bool.must (the endpoint scores them with its full-text index). */
export function matchesOf(query: unknown): Array<{ field: string; text: string }> {
  const bool = (query as { bool?: { must?: unknown } } | undefined)?.bool;
  return list(bool?.must).flatMap((clause) => {
    const match = (clause as { match?: Record<string, unknown> }).match;
    if (!match) return [];
    const [field, raw] = only(match, '[match]');
    const text = typeof raw === 'object' && raw ? String((raw as { query?: unknown }).query) : String(raw);
    return [{ field, text }];
  });
}

type AggResult = Record<string, unknown>;

function termsAgg(docs: readonly Source[], body: Record<string, unknown>, sub: Record<string, unknown> | undefined): AggResult {
  for (const key of Object.keys(body)) if (!['field', 'size', 'include'].includes(key)) throw new DslError(`[terms] aggregation does not support [${key}]`);
  const field = String(body.field);
  const size = Number(body.size ?? 10);
  const include = Array.isArray(body.include) ? new Set(body.include) : undefined;
  const groups = new Map<unknown, Source[]>();
  for (const doc of docs) {
    for (const value of new Set(valuesOf(doc, field))) {
      if (include && !include.has(value)) continue;
      const group = groups.get(value);
      if (group) group.push(doc);
      else groups.set(value, [doc]);
    }
  }
  const sorted = [...groups.entries()].sort(([ka, a], [kb, b]) => b.length - a.length || String(ka).localeCompare(String(kb)));
  const kept = sorted.slice(0, size);
  return {
    doc_count_error_upper_bound: 0,
    sum_other_doc_count: sorted.slice(size).reduce((n, [, g]) => n + g.length, 0),
    buckets: kept.map(([key, group]) => ({ key, doc_count: group.length, ...aggregate(group, sub) })),
  };
}

/** A fixed interval (`30m`, `1h`, `1d`, ...) in milliseconds, as date_histogram's `fixed_interval` takes it. */
function fixedInterval(text: unknown): number {
  const match = /^(\d+)(ms|s|m|h|d)$/.exec(String(text));
  if (!match) throw new DslError(`failed to parse [fixed_interval] [${String(text)}]`, 'illegal_argument_exception');
  return Number(match[1]) * { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as 'ms' | 's' | 'm' | 'h' | 'd'];
}

/**
 * histogram and date_histogram: buckets of `interval` (key = floor(value / interval) * interval), ascending; with
 * min_doc_count 0 (the default) the empty buckets between the first and the last, or `extended_bounds`, too.
 */
function histogramAgg(docs: readonly Source[], body: Record<string, unknown>, sub: Record<string, unknown> | undefined, date: boolean): AggResult {
  const allowed = date ? ['field', 'fixed_interval', 'min_doc_count', 'extended_bounds'] : ['field', 'interval', 'min_doc_count', 'extended_bounds'];
  for (const key of Object.keys(body)) if (!allowed.includes(key)) throw new DslError(`[${date ? 'date_histogram' : 'histogram'}] aggregation does not support [${key}]`);
  const field = String(body.field);
  const interval = date ? fixedInterval(body.fixed_interval) : Number(body.interval);
  if (!(interval > 0)) throw new DslError('[interval] must be positive', 'illegal_argument_exception');
  const minDocCount = Number(body.min_doc_count ?? 0);
  const keyOf = (value: number) => Math.floor(value / interval) * interval;
  const groups = new Map<number, Source[]>();
  for (const doc of docs) {
    for (const value of valuesOf(doc, field)) {
      const number = Number(value);
      if (!Number.isFinite(number)) continue;
      const key = keyOf(number);
      groups.set(key, [...(groups.get(key) ?? []), doc]);
    }
  }
  const bounds = body.extended_bounds as { min?: number; max?: number } | undefined;
  const keys = [...groups.keys()];
  if (minDocCount === 0) {
    const low = Math.min(...keys, ...(bounds?.min !== undefined ? [keyOf(Number(bounds.min))] : []));
    const high = Math.max(...keys, ...(bounds?.max !== undefined ? [keyOf(Number(bounds.max))] : []));
    // Steps by index, not by repeated addition (0.05 added twenty times is not 1).
    if (Number.isFinite(low) && Number.isFinite(high)) {
      const first = Math.round(low / interval);
      for (let i = first; i <= Math.round(high / interval); i += 1) {
        const key = keyOf(i * interval);
        if (!groups.has(key)) groups.set(key, []);
      }
    }
  }
  const buckets = [...groups.entries()]
    .filter(([, group]) => group.length >= minDocCount)
    .sort(([a], [b]) => a - b)
    .map(([key, group]) => ({ key, ...(date ? { key_as_string: new Date(key).toISOString() } : {}), doc_count: group.length, ...aggregate(group, sub) }));
  return { buckets };
}

/** The `aggregations` of a response: each aggregation of `aggs` over `docs`. */
export function aggregate(docs: readonly Source[], aggs: Record<string, unknown> | undefined): AggResult {
  const out: AggResult = {};
  for (const [name, spec] of Object.entries(aggs ?? {})) {
    const { aggs: sub, aggregations, ...rest } = spec as Record<string, unknown>;
    const subs = (sub ?? aggregations) as Record<string, unknown> | undefined;
    const [kind, body] = only(rest, `aggregation [${name}]`);
    switch (kind) {
      case 'terms':
        out[name] = termsAgg(docs, body as Record<string, unknown>, subs);
        break;
      case 'filter': {
        const kept = docs.filter(predicate(body));
        out[name] = { doc_count: kept.length, ...aggregate(kept, subs) };
        break;
      }
      case 'sum': {
        const field = String((body as { field: string }).field);
        out[name] = { value: docs.reduce((sum, doc) => sum + valuesOf(doc, field).reduce<number>((s, v) => s + Number(v), 0), 0) };
        break;
      }
      case 'histogram':
      case 'date_histogram':
        out[name] = histogramAgg(docs, body as Record<string, unknown>, subs, kind === 'date_histogram');
        break;
      case 'cardinality': {
        const field = String((body as { field: string }).field);
        out[name] = { value: new Set(docs.flatMap((doc) => valuesOf(doc, field))).size };
        break;
      }
      default:
        throw new DslError(`unknown aggregation type [${kind}]`, 'named_object_not_found_exception');
    }
  }
  return out;
}

/** `_source` filtering: false, a list of fields, or {includes, excludes}. */
export function project(source: Source, spec: unknown): Source | undefined {
  if (spec === undefined || spec === true) return source;
  if (spec === false) return undefined;
  const includes = Array.isArray(spec) ? spec : typeof spec === 'string' ? [spec] : ((spec as { includes?: string[] }).includes ?? undefined);
  const excludes = Array.isArray(spec) || typeof spec === 'string' ? [] : ((spec as { excludes?: string[] }).excludes ?? []);
  const kept = Object.entries(source).filter(([key]) => (!includes || includes.includes(key)) && !excludes.includes(key));
  return Object.fromEntries(kept);
}

/** A `sort` of one or more fields, each `{field: {order}}` or `{field: 'asc'|'desc'}`. */
export function comparator(sort: unknown): ((a: Source, b: Source) => number) | undefined {
  if (sort === undefined) return undefined;
  const keys = list(sort).map((entry) => {
    const [field, spec] = only(entry, '[sort]');
    const order = typeof spec === 'string' ? spec : (spec as { order?: string }).order ?? 'asc';
    return { field, sign: order === 'desc' ? -1 : 1 };
  });
  return (a, b) => {
    for (const { field, sign } of keys) {
      const x = a[field] as number | string;
      const y = b[field] as number | string;
      if (x === y) continue;
      if (x === undefined) return 1;
      if (y === undefined) return -1;
      return (x < y ? -1 : 1) * sign;
    }
    return 0;
  };
}
