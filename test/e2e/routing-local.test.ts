/**
 * The local platform's own world (LOCAL_CONNECTORS: four sandbox processors whose approval of ordinary
 * cards depends on the buyer's region): payments through /pay, with real sandbox outcomes fed back by the
 * workflow, teach routing which processor succeeds for LATAM buyers (the model learns them a batching window
 * later: the payments are spread over several windows).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { vocabularyOf } from '../../lambdas/routing/context';
import { decodeState, MODEL_KEY } from '../../lambdas/routing/model-encoding';
import { LOCAL_TABLES } from '../../local/env';
import type { LocalPlatform } from '../../local/platform';
import { LOCAL_CONNECTORS } from '../../local/connectors';
import { ApiClient, payBody, startPlatform, uniqueCustomer, uniqueMerchant } from './client';

let platform: LocalPlatform;
beforeAll(async () => {
  platform = await startPlatform({ env: { CONNECTORS: JSON.stringify(LOCAL_CONNECTORS), ROUTING_MODEL_TTL_MS: '0' } });
});
afterAll(async () => {
  await platform?.close(1000);
});

test('after real sandbox outcomes, /route expects sandbox-latam to succeed best for a LATAM buyer', async () => {
  const client = await ApiClient.forMerchant(platform, uniqueMerchant());
  const card = { type: 'card', number: '4111111111111111', expMonth: 12, expYear: 2030, cvc: '123' };
  const statuses = new Map<number, number>();
  for (let i = 0; i < 160; i += 1) {
    const result = await client.pay(payBody({ amount: 4_200, country: 'BR', customerId: uniqueCustomer(), paymentMethod: card }));
    statuses.set(result.status, (statuses.get(result.status) ?? 0) + 1);
    // The payments come over a few minutes: the updater's batching window (a minute) closes every 20 of them.
    if (i % 20 === 19) await platform.idle();
  }
  await platform.idle();
  // Ordinary cards are approved or declined by the processors' profiles: both happen.
  expect(statuses.get(201)).toBeGreaterThan(100);
  expect(statuses.get(402)).toBeGreaterThan(0);
  expect(platform.bus.failures()).toEqual([]);

  const route = await client.call('POST', '/route', { body: { amount: 4_200, currency: 'USD', method: 'card', network: 'visa', country: 'BR' } });
  expect(route.status).toBe(200);
  // amazon-pay does not take Brazilian buyers: never ranked.
  expect(route.json.ranked.map((r: { connectorId: string }) => r.connectorId).sort()).toEqual(['sandbox-latam', 'stripe-eu', 'stripe-us']);
  const expected = Object.fromEntries(route.json.ranked.map((r: { connectorId: string; expectedSuccess: number }) => [r.connectorId, r.expectedSuccess]));
  expect(expected['sandbox-latam']).toBeGreaterThan(expected['stripe-us']);
  expect(expected['sandbox-latam']).toBeGreaterThan(expected['stripe-eu']);

  // The updater learnt under the registry's vocabulary (its LATAM slot among them), the one the routers read: the
  // stored item, not a read that would carry it over.
  const raw = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: platform.store.endpoint, region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }));
  const { Item } = await raw.send(new GetCommand({ TableName: LOCAL_TABLES.routing, Key: { pk: MODEL_KEY }, ConsistentRead: true }));
  const stored = decodeState(String(Item?.state));
  expect(stored.vocabulary).toEqual(vocabularyOf(LOCAL_CONNECTORS));
  expect(stored.vocabulary.regions).toContain('LATAM');
  expect(Object.keys(stored.cells?.['sandbox-latam'] ?? {}).some((cell) => cell.startsWith('LATAM|'))).toBe(true);
}, 120_000);
