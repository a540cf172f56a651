/**
 * The analytics index's event claims against the local store (dynalite) and the local search endpoint: an event
 * another instance is indexing is left to it (the delivery fails and comes again), an indexed one is skipped,
 * an expired lease is taken over without a second document, and a rebuild indexes again only what the index lacks.
 */
import { Client } from '@opensearch-project/opensearch';
import type { PaymentRecordedDetail } from '../../contracts/events';
import { CLAIM_LEASE_MS, DynamoEventClaims, REINDEX_AFTER_MS } from '../../lambdas/analytics/claims';
import { paymentDocument } from '../../lambdas/analytics/documents';
import { EventsBusyError, indexDocuments } from '../../lambdas/analytics/indexer';
import { OpenSearchIndex } from '../../lambdas/analytics/opensearch';
import { LOCAL_TABLES } from '../../local/env';
import { startLocalSearchEndpoint, type LocalSearchEndpoint } from '../../local/search-endpoint';
import { useTestStore } from './support';

const store = useTestStore();
let search: LocalSearchEndpoint;
let index: OpenSearchIndex;
beforeAll(async () => {
  search = await startLocalSearchEndpoint();
  index = new OpenSearchIndex(() => new Client({ node: search.url }));
});
afterAll(async () => {
  await search.close();
});

let n = 0;
const doc = () => {
  n += 1;
  const detail: PaymentRecordedDetail = {
    paymentId: `pay_${String(n).padStart(20, '0')}`,
    merchantId: 'm_claims',
    customerId: 'cus_1',
    status: 'succeeded',
    amount: 1000,
    currency: 'USD',
    method: 'card',
    attempts: [],
    createdAt: '2026-12-01T00:00:00.000Z',
    finalizedAt: '2026-12-01T00:00:01.000Z',
  };
  return paymentDocument(detail);
};
const claims = () => new DynamoEventClaims(() => store.client, () => LOCAL_TABLES.analytics);
const count = async (eventId: string) => (await index.indexed([eventId])).size;
const documents = () => search.counts()['smartpay-analytics'] ?? 0;

test('indexed once: a second delivery of an indexed event adds nothing', async () => {
  const d = doc();
  const t0 = new Date('2026-12-01T10:00:00Z');
  expect(await indexDocuments([d], { index, claims: claims(), now: () => t0 })).toBe(1);
  const before = documents();
  expect(await indexDocuments([d], { index, claims: claims(), now: () => t0 })).toBe(0);
  expect(documents()).toBe(before);
});

test("an event another instance holds is left to it: the delivery fails, and the rest of the batch is indexed", async () => {
  const held = doc();
  const other = doc();
  const t0 = new Date('2026-12-01T10:00:00Z');
  // Another instance claimed it and has not finished.
  expect((await claims().claim([held.eventId], t0)).claimed).toEqual([held.eventId]);
  await expect(indexDocuments([held, other], { index, claims: claims(), now: () => new Date(t0.getTime() + 1000) })).rejects.toBeInstanceOf(EventsBusyError);
  expect(await count(held.eventId)).toBe(0);
  expect(await count(other.eventId)).toBe(1);
});

test('a lease that expired is taken over; a document its holder wrote is not written again', async () => {
  const d = doc();
  const t0 = new Date('2026-12-01T10:00:00Z');
  // The holder claimed it, wrote the document, and crashed before marking it indexed.
  await claims().claim([d.eventId], t0);
  await index.put([{ doc: d }]);
  const later = new Date(t0.getTime() + CLAIM_LEASE_MS + 1);
  expect(await indexDocuments([d], { index, claims: claims(), now: () => later })).toBe(0);
  expect(await count(d.eventId)).toBe(1);
  // And a holder that crashed before writing: its successor writes it.
  const e = doc();
  await claims().claim([e.eventId], t0);
  expect(await indexDocuments([e], { index, claims: claims(), now: () => later })).toBe(1);
  expect(await count(e.eventId)).toBe(1);
});

test('a rebuild indexes again only what the index lacks, and only claims indexed a while ago', async () => {
  const kept = doc();
  const lost = doc();
  const t0 = new Date('2026-12-01T10:00:00Z');
  expect(await indexDocuments([kept], { index, claims: claims(), now: () => t0 })).toBe(1);
  // `lost`'s claim says indexed, but the index lost its document (a new collection).
  await claims().claim([lost.eventId], t0);
  await claims().complete([lost.eventId], t0);
  // Soon after, a rebuild leaves both alone (a document written a moment ago may not show in a search yet).
  expect(await indexDocuments([kept, lost], { index, claims: claims(), now: () => new Date(t0.getTime() + 1000) }, { rebuild: true })).toBe(0);
  // Later, it looks: `kept` is there, `lost` is written again.
  const later = new Date(t0.getTime() + REINDEX_AFTER_MS + 1);
  expect(await indexDocuments([kept, lost], { index, claims: claims(), now: () => later }, { rebuild: true })).toBe(1);
  expect(await count(kept.eventId)).toBe(1);
  expect(await count(lost.eventId)).toBe(1);
});
