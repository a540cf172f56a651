/**
 * The local OpenSearch endpoint's journal (local/search-endpoint.ts): documents with embeddings survive a restart,
 * each distinct embedding stored once, and knn finds the same neighbours after the replay as before it. (The chat
 * suite's restart test runs without embeddings, to spare three loads of the sentence encoder.)
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ANALYTICS_INDEX_NAME } from '../../contracts/resources';
import { EMBEDDING_DIMENSIONS, INDEX_BODY } from '../../lambdas/analytics/opensearch';
import { startLocalSearchEndpoint } from '../../local/search-endpoint';

const unit = (i: number) => Array.from({ length: EMBEDDING_DIMENSIONS }, (_, d) => (d === i ? 1 : 0));
const docs = [
  { eventId: 'payment:a', merchantId: 'm1', text: 'coffee beans', embedding: unit(0) },
  { eventId: 'payment:b', merchantId: 'm1', text: 'espresso machine', embedding: unit(1) },
  { eventId: 'payment:c', merchantId: 'm1', text: 'coffee grinder', embedding: unit(0) }, // the same embedding as a
  { eventId: 'payment:d', merchantId: 'm2', text: 'tea', embedding: unit(1) },
];

/** What the endpoint answers: a bulk request's `errors`, a search's hits. */
interface Answer {
  readonly errors?: boolean;
  readonly hits: { readonly hits: ReadonlyArray<{ readonly _source: { readonly eventId: string }; readonly _score: number }> };
}

async function call(url: string, method: string, path: string, body?: string) {
  const res = await fetch(`${url}${path}`, { method, headers: { 'content-type': 'application/json' }, body });
  return { status: res.status, json: (await res.json().catch(() => undefined)) as Answer };
}

const nearest = async (url: string, vector: number[], merchantId: string) =>
  (
    await call(url, 'POST', `/${ANALYTICS_INDEX_NAME}/_search`, JSON.stringify({ size: 5, query: { knn: { embedding: { vector, k: 5, filter: { bool: { filter: [{ term: { merchantId } }] } } } } } }))
  ).json.hits.hits.map((h): [string, number] => [h._source.eventId, Math.round(h._score * 1000) / 1000]);

test('documents with embeddings are replayed after a restart: the same knn answers, each embedding written once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'smartpay-search-'));
  try {
    let search = await startLocalSearchEndpoint({ dir });
    expect((await call(search.url, 'PUT', `/${ANALYTICS_INDEX_NAME}`, JSON.stringify(INDEX_BODY))).status).toBe(200);
    const bulk = docs.flatMap((d) => [JSON.stringify({ index: { _index: ANALYTICS_INDEX_NAME } }), JSON.stringify(d)]).join('\n') + '\n';
    const indexed = await call(search.url, 'POST', '/_bulk', bulk);
    expect(indexed.json.errors).toBe(false);
    const before = await nearest(search.url, unit(0), 'm1');
    expect(before.map(([id]) => id).slice(0, 2).sort()).toEqual(['payment:a', 'payment:c']);
    await search.close();

    // Two distinct embeddings in four documents: each is in the journal once.
    const journal = readFileSync(join(dir, `${ANALYTICS_INDEX_NAME}.jsonl`), 'utf8');
    const entries = journal.split('\n').filter(Boolean).map((line) => JSON.parse(line) as { vector?: string; id?: string; v?: string });
    const written = entries.filter((e) => e.vector !== undefined);
    expect(written).toHaveLength(2);
    expect(entries.filter((e) => e.id !== undefined).map((e) => e.v)).toEqual([written[0]!.vector, written[1]!.vector, written[0]!.vector, written[1]!.vector]);

    search = await startLocalSearchEndpoint({ dir });
    try {
      expect(search.counts()[ANALYTICS_INDEX_NAME]).toBe(4);
      expect(await nearest(search.url, unit(0), 'm1')).toEqual(before);
      expect((await nearest(search.url, unit(1), 'm1'))[0]?.[0]).toBe('payment:b');
      // The other merchant's document is still its own.
      expect((await nearest(search.url, unit(1), 'm2')).map(([id]) => id)).toEqual(['payment:d']);
    } finally {
      await search.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
