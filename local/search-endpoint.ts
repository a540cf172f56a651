/**
 * The local OpenSearch endpoint: the part of OpenSearch's REST API the analytics function uses (index exists and
 * create, `_bulk` index, `_search` with filters, aggregations, `match` and `knn`), on loopback, over an embedded
 * Orama index. The analytics function's OpenSearch client (lambdas/analytics/opensearch.ts) talks to it as it
 * talks to an OpenSearch Serverless collection in the cloud (OPENSEARCH_ENDPOINT), so the queries are the same.
 *
 * Like a vector-search collection, it assigns document ids itself and refuses ours. Filters and aggregations are
 * evaluated over the documents in memory (local/search-dsl.ts); `match` is BM25 full-text search and `knn`
 * cosine nearest neighbours, each under the query's filter: over the documents the filter leaves when they are few
 * (EXACT_SEARCH_LIMIT, with Orama's tokenizer: stemmed English without stop words), else through Orama's own
 * indexes. A search sees every document indexed before it
 * (OpenSearch refreshes within a second; this at once).
 *
 * Persistence: each bulk request's documents are appended to `<dir>/<index>.jsonl` before the answer, with each
 * distinct embedding stored once; a restart replays the file.
 */
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createHash, randomUUID } from 'node:crypto';
import { create, insertMultiple, search as oramaSearch, type AnyOrama } from '@orama/orama';
import { aggregate, comparator, DslError, matchesOf, predicate, project, type Source } from './search-dsl';
import { repairJournal } from '../contracts/journal';

export interface LocalSearchEndpoint {
  readonly url: string;
  /** How many documents each index holds. */
  counts(): Record<string, number>;
  close(): Promise<void>;
}

interface StoredDoc {
  readonly id: string;
  readonly source: Source;
  readonly vector?: readonly number[];
}

/** One index: its documents (by merchant, for the filters' usual first clause), its mapping, and its Orama index. */
class LocalIndex {
  readonly docs: StoredDoc[] = [];
  readonly byMerchant = new Map<string, StoredDoc[]>();
  readonly byId = new Map<string, StoredDoc>();
  /** The journal's embeddings by key (base64 of their float32s), each written once. */
  private readonly vectors = new Map<string, string>();
  /** The same embeddings as the documents hold them: one array per distinct embedding. */
  private readonly sharedVectors = new Map<string, number[]>();
  private orama: AnyOrama | undefined;
  private pending: StoredDoc[] = [];

  constructor(
    readonly name: string,
    readonly mapping: Record<string, unknown>,
    private readonly file: string | undefined,
    private readonly dimension: number | undefined,
  ) {}

  /** Replays the index's journal. */
  load(): void {
    if (!this.file || !existsSync(this.file)) return;
    // The index is its journal's one writer: a line a crash cut short is cut off before it appends.
    repairJournal(this.file);
    const vectors = this.sharedVectors;
    for (const line of readFileSync(this.file, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      let entry: { vector?: string; values?: string; id?: string; source?: Source; v?: string };
      try {
        entry = JSON.parse(line);
      } catch {
        continue; // a line cut by a crash mid-append: its request was never answered
      }
      if (entry.vector && entry.values) {
        const bytes = Buffer.from(entry.values, 'base64');
        vectors.set(entry.vector, Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4)));
        this.vectors.set(entry.vector, entry.values);
      } else if (entry.id && entry.source) {
        this.add({ id: entry.id, source: entry.source, ...(entry.v && vectors.has(entry.v) ? { vector: vectors.get(entry.v)! } : {}) });
      }
    }
  }

  private add(doc: StoredDoc): void {
    this.docs.push(doc);
    this.byId.set(doc.id, doc);
    const merchant = String(doc.source.merchantId ?? '');
    const list = this.byMerchant.get(merchant);
    if (list) list.push(doc);
    else this.byMerchant.set(merchant, [doc]);
    this.unsorted.add(merchant);
    this.pending.push(doc);
  }

  /** Merchants whose documents were added since they were last sorted by createdAt. */
  private readonly unsorted = new Set<string>();

  /** Indexes one bulk request's documents: journal first, then memory. */
  index(docs: ReadonlyArray<{ source: Record<string, unknown> }>): StoredDoc[] {
    const lines: string[] = [];
    const stored = docs.map(({ source }) => {
      const { embedding, ...rest } = source;
      const vector = Array.isArray(embedding) ? (embedding as number[]) : undefined;
      if (vector && this.dimension !== undefined && vector.length !== this.dimension) {
        throw new DslError(`Vector dimension mismatch. Expected: ${this.dimension}, Given: ${vector.length}`, 'mapper_parsing_exception');
      }
      let key: string | undefined;
      if (vector) {
        const values = Buffer.from(new Float32Array(vector).buffer).toString('base64');
        key = createHash('sha256').update(values).digest('base64url').slice(0, 22);
        if (!this.vectors.has(key)) {
          this.vectors.set(key, values);
          lines.push(JSON.stringify({ vector: key, values }));
        }
        // Documents with the same embedding share one array (and so one unit vector and one dot product a search).
        if (!this.sharedVectors.has(key)) this.sharedVectors.set(key, vector);
      }
      const shared = key === undefined ? undefined : this.sharedVectors.get(key);
      const doc: StoredDoc = { id: randomUUID().replace(/-/g, '').slice(0, 20), source: rest, ...(shared ? { vector: shared } : {}) };
      lines.push(JSON.stringify({ id: doc.id, source: rest, ...(key ? { v: key } : {}) }));
      return doc;
    });
    if (this.file && lines.length) appendFileSync(this.file, lines.join('\n') + '\n');
    for (const doc of stored) this.add(doc);
    return stored;
  }

  /** The Orama index, brought up to date with the documents added since it was last used. */
  private async search(): Promise<AnyOrama> {
    this.orama ??= create({
      schema: { id: 'string', merchantId: 'enum', createdAt: 'number', text: 'string', ...(this.dimension ? { embedding: `vector[${this.dimension}]` } : {}) } as never,
      // English: stemmed ("declines" finds "declined"), and without the words every question and document has.
      components: { tokenizer: TOKENIZER },
    });
    if (this.pending.length) {
      const batch = this.pending;
      this.pending = [];
      await insertMultiple(
        this.orama,
        batch.map((doc) => ({
          id: doc.id,
          merchantId: String(doc.source.merchantId ?? ''),
          createdAt: Number(doc.source.createdAt ?? 0),
          text: String(doc.source.text ?? ''),
          ...(doc.vector && this.dimension ? { embedding: [...doc.vector] } : {}),
        })) as never,
        1_000,
      );
    }
    return this.orama;
  }

  /**
   * The documents the filter can be narrowed to before it runs whole: the merchant its first clause names, within
   * the createdAt range it has (each merchant's documents are kept sorted by createdAt).
   */
  candidates(query: unknown): readonly StoredDoc[] {
    const merchant = merchantOf(query);
    if (merchant === undefined) return this.docs;
    const list = this.byMerchant.get(merchant) ?? [];
    if (this.unsorted.delete(merchant)) list.sort((a, b) => Number(a.source.createdAt ?? 0) - Number(b.source.createdAt ?? 0));
    const range = narrowingOf(query).createdAt;
    if (!range) return list;
    /** The first index whose createdAt is at least `t`. */
    const lowerBound = (t: number) => {
      let lo = 0;
      let hi = list.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (Number(list[mid]!.source.createdAt ?? 0) < t) lo = mid + 1;
        else hi = mid;
      }
      return lo;
    };
    return list.slice(range.gte === undefined ? 0 : lowerBound(range.gte), range.lt === undefined ? list.length : lowerBound(range.lt));
  }

  /** Full-text (BM25) hits of `text` among the documents `keep` admits, best first, with their scores. */
  async textHits(text: string, narrow: Narrowing, keep: (doc: StoredDoc) => boolean, limit: number): Promise<Array<{ doc: StoredDoc; score: number }>> {
    const db = await this.search();
    const result = await oramaSearch(db, { term: text, properties: ['text'], where: whereOf(narrow), limit: 10_000 } as never);
    return this.kept(result.hits as Array<{ id: string; score: number; document: { id: string } }>, keep, limit);
  }

  /** Nearest neighbours of `vector` among the documents `keep` admits, nearest first. */
  async vectorHits(vector: readonly number[], narrow: Narrowing, keep: (doc: StoredDoc) => boolean, limit: number): Promise<Array<{ doc: StoredDoc; score: number }>> {
    if (!this.dimension) throw new DslError('the index maps no knn_vector field', 'illegal_argument_exception');
    const db = await this.search();
    const result = await oramaSearch(db, {
      mode: 'vector',
      vector: { value: [...vector], property: 'embedding' },
      similarity: 0.0001,
      where: whereOf(narrow),
      limit: 10_000,
    } as never);
    return this.kept(result.hits as Array<{ id: string; score: number; document: { id: string } }>, keep, limit);
  }

  /** The tokens of a text as the Orama index's full-text search sees it (stemmed, without stop words). */
  private tokens(text: string): string[] {
    // An empty index with the same tokenizer: tokenising never waits for the documents to be inserted.
    this.tokenizer ??= create({ schema: { text: 'string' }, components: { tokenizer: TOKENIZER } }).tokenizer;
    return this.tokenizer.tokenize(text, 'english', 'text');
  }

  private tokenizer: AnyOrama['tokenizer'] | undefined;

  /** Each distinct text's term frequencies and length in tokens (texts repeat: payments that ended alike read alike). */
  private readonly textStats = new Map<string, { readonly tf: ReadonlyMap<string, number>; readonly length: number }>();

  private statsOf(text: string): { readonly tf: ReadonlyMap<string, number>; readonly length: number } {
    let stats = this.textStats.get(text);
    if (!stats) {
      const tokens = this.tokens(text);
      const tf = new Map<string, number>();
      for (const token of tokens) tf.set(token, (tf.get(token) ?? 0) + 1);
      this.textStats.set(text, (stats = { tf, length: tokens.length }));
    }
    return stats;
  }

  /**
   * BM25 (k1 1.2, b 0.75) of `text` over `docs` alone, with the same tokens as Orama's: what a filtered search
   * costs when its filter leaves few documents (Orama scores every document a term is in before any filter).
   */
  exactTextHits(text: string, docs: readonly StoredDoc[], limit: number): Array<{ doc: StoredDoc; score: number }> {
    const terms = [...new Set(this.tokens(text))];
    if (terms.length === 0 || docs.length === 0) return [];
    const stats = docs.map((doc) => this.statsOf(String(doc.source.text ?? '')));
    const average = stats.reduce((n, t) => n + t.length, 0) / docs.length || 1;
    const df = new Map(terms.map((term) => [term, stats.filter((t) => t.tf.has(term)).length]));
    const scored = docs.map((doc, i) => {
      const { tf: frequencies, length } = stats[i]!;
      let score = 0;
      for (const term of terms) {
        const tf = frequencies.get(term);
        if (!tf) continue;
        const n = df.get(term)!;
        const idf = Math.log(1 + (docs.length - n + 0.5) / (n + 0.5));
        score += (idf * tf * 2.2) / (tf + 1.2 * (0.25 + (0.75 * length) / average));
      }
      return { doc, score };
    });
    return scored.filter((h) => h.score > 0).sort((a, b) => b.score - a.score).slice(0, limit);
  }

  /** Each embedding, unit length, as Float32 (computed at its first exact search; documents share embeddings). */
  private readonly unitVectors = new WeakMap<readonly number[], Float32Array>();

  private unit(values: readonly number[]): Float32Array {
    const out = Float32Array.from(values);
    let n = 0;
    for (let i = 0; i < out.length; i++) n += out[i]! * out[i]!;
    const norm = Math.sqrt(n) || 1;
    for (let i = 0; i < out.length; i++) out[i]! /= norm;
    return out;
  }

  /** Cosine similarity of `vector` to each of `docs` with one, nearest first. */
  exactVectorHits(vector: readonly number[], docs: readonly StoredDoc[], limit: number): Array<{ doc: StoredDoc; score: number }> {
    const query = this.unit(vector);
    const scored: Array<{ doc: StoredDoc; score: number }> = [];
    const dots = new Map<Float32Array, number>();
    for (const doc of docs) {
      if (!doc.vector) continue;
      let v = this.unitVectors.get(doc.vector);
      if (!v) this.unitVectors.set(doc.vector, (v = this.unit(doc.vector)));
      let dot = dots.get(v);
      if (dot === undefined) {
        dot = 0;
        for (let i = 0; i < v.length; i++) dot += v[i]! * query[i]!;
        dots.set(v, dot);
      }
      scored.push({ doc, score: dot });
    }
    return scored.sort((a, b) => b.score - a.score).slice(0, limit);
  }

  private kept(hits: Array<{ score: number; document: { id: string } }>, keep: (doc: StoredDoc) => boolean, limit: number) {
    const out: Array<{ doc: StoredDoc; score: number }> = [];
    for (const hit of hits) {
      const doc = this.byId.get(hit.document.id);
      if (doc && keep(doc)) out.push({ doc, score: hit.score });
      if (out.length >= limit) break;
    }
    return out;
  }
}

/** The merchant a query's filter names first (`bool.filter[0]` a term on merchantId), if it does. */
function merchantOf(query: unknown): string | undefined {
  const first = (query as { bool?: { filter?: unknown[] } } | undefined)?.bool?.filter?.[0] as { term?: { merchantId?: unknown } } | undefined;
  const merchant = first?.term?.merchantId;
  return typeof merchant === 'string' ? merchant : undefined;
}

/**
 * What Orama's own filter can narrow a search to before the query's whole filter runs (which still runs on every
 * hit): the merchant and a createdAt range.
 */
interface Narrowing {
  readonly merchant?: string;
  readonly createdAt?: { readonly gte?: number; readonly lt?: number };
}

function narrowingOf(query: unknown): Narrowing {
  const filters = ((query as { bool?: { filter?: unknown[] } } | undefined)?.bool?.filter ?? []) as Array<{ range?: { createdAt?: { gte?: number; lt?: number } } }>;
  const range = filters.find((f) => f.range?.createdAt)?.range?.createdAt;
  const merchant = merchantOf(query);
  return { ...(merchant ? { merchant } : {}), ...(range ? { createdAt: range } : {}) };
}

function whereOf(narrow: Narrowing): Record<string, unknown> {
  return {
    ...(narrow.merchant ? { merchantId: { eq: narrow.merchant } } : {}),
    ...(narrow.createdAt ? { createdAt: { between: [narrow.createdAt.gte ?? 0, (narrow.createdAt.lt ?? Number.MAX_SAFE_INTEGER) - 1] } } : {}),
  };
}


/**
 * Below this many documents left by a search's filter, it is scored exactly over them (BM25, cosine), as OpenSearch's
 * k-NN switches to exact search under a restrictive filter; above it, Orama's indexes find the hits, then the filter.
 */
export const EXACT_SEARCH_LIMIT = 20_000;

/** Words that carry nothing in a question about payments or in a document's summary. */
const STOP_WORDS = [
  'a', 'an', 'and', 'are', 'as', 'at', 'be', 'by', 'did', 'do', 'does', 'for', 'from', 'had', 'has', 'have', 'how', 'i', 'in', 'is', 'it', 'its',
  'last', 'me', 'my', 'of', 'on', 'or', 'our', 'over', 'past', 'show', 'that', 'the', 'this', 'to', 'was', 'we', 'were', 'what', 'when', 'which',
  'who', 'why', 'with', 'you', 'your', 'payment', 'payments', 'day', 'days', 'week', 'weeks', 'month', 'months',
];

/** English, stemmed ("declines" finds "declined"), without the words every question and document has. */
const TOKENIZER = { language: 'english', stemming: true, stopWords: STOP_WORDS } as const;

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolvePromise(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function knnDimension(mapping: Record<string, unknown>): number | undefined {
  const properties = ((mapping.mappings as { properties?: Record<string, { type?: string; dimension?: number }> } | undefined)?.properties ?? {}) as Record<string, { type?: string; dimension?: number }>;
  return Object.values(properties).find((p) => p.type === 'knn_vector')?.dimension;
}

export async function startLocalSearchEndpoint(options: { readonly dir?: string; readonly host?: string } = {}): Promise<LocalSearchEndpoint> {
  const host = options.host ?? '127.0.0.1';
  const indices = new Map<string, LocalIndex>();
  if (options.dir) mkdirSync(options.dir, { recursive: true });
  const fileOf = (name: string, suffix: string) => (options.dir ? join(options.dir, `${name}${suffix}`) : undefined);

  const open = (name: string, mapping: Record<string, unknown>): LocalIndex => {
    const index = new LocalIndex(name, mapping, fileOf(name, '.jsonl'), knnDimension(mapping));
    index.load();
    indices.set(name, index);
    return index;
  };
  // The indices created before a restart.
  if (options.dir) {
    for (const file of readdirSync(options.dir)) {
      const match = /^(.+)\.mapping\.json$/.exec(file);
      if (match) open(match[1]!, JSON.parse(readFileSync(join(options.dir, file), 'utf8')));
    }
  }
  const existing = (name: string): LocalIndex => {
    const index = indices.get(name);
    if (!index) throw new HttpError(404, 'index_not_found_exception', `no such index [${name}]`);
    return index;
  };

  async function searchIndex(index: LocalIndex, body: Record<string, unknown>) {
    const size = Number(body.size ?? 10);
    const knn = (body.query as { knn?: Record<string, { vector: number[]; k: number; filter?: unknown }> } | undefined)?.knn;
    let hits: Array<{ doc: StoredDoc; score: number }>;
    let total: number;
    let matched: readonly StoredDoc[];
    if (knn) {
      const [field, spec] = Object.entries(knn)[0] ?? [];
      if (field !== 'embedding' || !spec) throw new DslError('[knn] needs one knn_vector field');
      const keep = spec.filter ? predicate(spec.filter) : () => true;
      const candidates = index.candidates(spec.filter).filter((doc) => keep(doc.source));
      hits =
        candidates.length <= EXACT_SEARCH_LIMIT
          ? index.exactVectorHits(spec.vector, candidates, Math.min(spec.k, size))
          : await index.vectorHits(spec.vector, narrowingOf(spec.filter), (doc) => keep(doc.source), Math.min(spec.k, size));
      total = hits.length;
      matched = [];
    } else {
      const keep = body.query === undefined ? () => true : predicate(body.query);
      const matches = matchesOf(body.query);
      if (matches.length) {
        if (matches.length > 1 || matches[0]!.field !== 'text') throw new DslError('[match] is served on the text field only');
        const candidates = index.candidates(body.query).filter((doc) => keep(doc.source));
        hits =
          candidates.length <= EXACT_SEARCH_LIMIT
            ? index.exactTextHits(matches[0]!.text, candidates, size)
            : await index.textHits(matches[0]!.text, narrowingOf(body.query), (doc) => keep(doc.source), size);
        total = hits.length;
        matched = [];
      } else {
        matched = index.candidates(body.query).filter((doc) => keep(doc.source));
        total = matched.length;
        const order = comparator(body.sort);
        const ordered = order ? [...matched].sort((a, b) => order(a.source, b.source)) : matched;
        hits = ordered.slice(0, size).map((doc) => ({ doc, score: 1 }));
      }
    }
    return {
      took: 1,
      timed_out: false,
      _shards: { total: 1, successful: 1, skipped: 0, failed: 0 },
      hits: {
        total: { value: total, relation: 'eq' },
        max_score: hits[0]?.score ?? null,
        hits: hits.map(({ doc, score }) => {
          const source = doc.vector ? { ...doc.source, embedding: doc.vector } : doc.source;
          const projected = project(source, body._source);
          return { _index: index.name, _id: doc.id, _score: score, ...(projected ? { _source: projected } : {}) };
        }),
      },
      ...(body.aggs || body.aggregations ? { aggregations: aggregate(matched.map((d) => d.source), (body.aggs ?? body.aggregations) as Record<string, unknown>) } : {}),
    };
  }

  function bulk(text: string, defaultIndex: string | undefined) {
    const lines = text.split('\n').filter((line) => line.trim());
    const items: unknown[] = [];
    let errors = false;
    const batches = new Map<LocalIndex, Array<{ source: Record<string, unknown>; item: number }>>();
    for (let i = 0; i < lines.length; i += 2) {
      const action = JSON.parse(lines[i]!) as Record<string, { _index?: string; _id?: string }>;
      const [op, meta] = Object.entries(action)[0] ?? [];
      const name = meta?._index ?? defaultIndex;
      if (op !== 'index' && op !== 'create') throw new HttpError(400, 'illegal_argument_exception', `the local endpoint serves index and create actions only, got [${op}]`);
      if (meta?._id !== undefined) {
        // As a vector-search collection does: it assigns the ids.
        items.push({ [op]: { _index: name, status: 400, error: { type: 'illegal_argument_exception', reason: 'Document ID is not supported in create/index operation request' } } });
        errors = true;
        continue;
      }
      const index = name ? indices.get(name) : undefined;
      if (!index) {
        items.push({ [op]: { _index: name, status: 404, error: { type: 'index_not_found_exception', reason: `no such index [${name}]` } } });
        errors = true;
        continue;
      }
      const list = batches.get(index) ?? [];
      list.push({ source: JSON.parse(lines[i + 1] ?? '{}'), item: items.length });
      batches.set(index, list);
      items.push(undefined);
    }
    for (const [index, batch] of batches) {
      const stored = index.index(batch);
      batch.forEach(({ item }, n) => {
        items[item] = { index: { _index: index.name, _id: stored[n]!.id, _version: 1, result: 'created', status: 201 } };
      });
    }
    return { took: 1, errors, items };
  }

  async function route(req: IncomingMessage): Promise<{ status: number; body?: unknown }> {
    const url = new URL(req.url ?? '/', 'http://local');
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const text = await readBody(req);
    const json = () => (text ? (JSON.parse(text) as Record<string, unknown>) : {});
    if (parts.length === 1 && req.method === 'HEAD') return { status: indices.has(parts[0]!) ? 200 : 404 };
    if (parts.length === 1 && req.method === 'PUT') {
      if (indices.has(parts[0]!)) throw new HttpError(400, 'resource_already_exists_exception', `index [${parts[0]}] already exists`);
      const mapping = json();
      const file = fileOf(parts[0]!, '.mapping.json');
      if (file) writeFileSync(file, JSON.stringify(mapping));
      open(parts[0]!, mapping);
      return { status: 200, body: { acknowledged: true, shards_acknowledged: true, index: parts[0] } };
    }
    if (parts.at(-1) === '_bulk' && (req.method === 'POST' || req.method === 'PUT')) return { status: 200, body: bulk(text, parts.length === 2 ? parts[0] : undefined) };
    if (parts.length === 2 && parts[1] === '_search' && (req.method === 'POST' || req.method === 'GET')) return { status: 200, body: await searchIndex(existing(parts[0]!), json()) };
    if (parts.length === 2 && parts[1] === '_count') {
      const index = existing(parts[0]!);
      const query = json().query;
      return { status: 200, body: { count: query ? index.candidates(query).filter((d) => predicate(query)(d.source)).length : index.docs.length } };
    }
    throw new HttpError(405, 'illegal_argument_exception', `the local search endpoint does not serve ${req.method} ${url.pathname}`);
  }

  const server: Server = createServer((req, res: ServerResponse) => {
    route(req)
      .then(({ status, body }) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(body === undefined ? undefined : JSON.stringify(body));
      })
      .catch((error: unknown) => {
        const status = error instanceof HttpError ? error.status : 400;
        const type = error instanceof HttpError || error instanceof DslError ? error.type : 'parsing_exception';
        const reason = (error as Error).message;
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { root_cause: [{ type, reason }], type, reason }, status }));
      });
  });
  await new Promise<void>((resolvePromise) => server.listen(0, host, resolvePromise));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    counts: () => Object.fromEntries([...indices].map(([name, index]) => [name, index.docs.length])),
    close: () => new Promise<void>((resolvePromise) => server.close(() => resolvePromise())),
  };
}
