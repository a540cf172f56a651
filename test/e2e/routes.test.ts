/** /fraud and /route over HTTP (/chat: chat.test.ts). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FEATURE_NAMES } from '../../lambdas/fraud/features';
import { GRAPH_REASON } from '../../lambdas/fraud/model';
import type { LocalPlatform } from '../../local/platform';
import { ApiClient, fieldsOf, startPlatform, uniqueMerchant } from './client';

let platform: LocalPlatform;
beforeAll(async () => {
  platform = await startPlatform();
});
afterAll(async () => {
  await platform?.close(1000);
});

test('POST /fraud scores a request with the served model', async () => {
  const client = await ApiClient.forMerchant(platform, uniqueMerchant());
  const result = await client.call('POST', '/fraud', { body: { amount: 1_500_000, currency: 'USD', customerId: 'cus_1', country: 'US', deviceId: 'dev-1' } });
  expect(result.status).toBe(200);
  const manifest = JSON.parse(readFileSync(join(__dirname, '../../lambdas/fraud/model/manifest.json'), 'utf8'));
  expect(result.json).toMatchObject({
    modelVersion: manifest.version,
    thresholds: { reviewThreshold: manifest.thresholds.review, declineThreshold: manifest.thresholds.decline },
  });
  expect(result.json.score).toBeGreaterThanOrEqual(0);
  expect(result.json.score).toBeLessThanOrEqual(1);
  const expected = result.json.score >= manifest.thresholds.decline ? 'decline' : result.json.score >= manifest.thresholds.review ? 'review' : 'approve';
  expect(result.json.decision).toBe(expected);
  for (const reason of result.json.reasons) {
    expect([...FEATURE_NAMES, GRAPH_REASON]).toContain(reason.code);
    expect(reason.weight).toBeGreaterThan(0);
  }
});

test('POST /fraud validation names the field', async () => {
  const client = await ApiClient.forMerchant(platform, uniqueMerchant());
  const result = await client.call('POST', '/fraud', { body: { amount: -1, currency: 'USD', customerId: 'cus_1' } });
  expect(result.status).toBe(400);
  expect(fieldsOf(result)).toContain('amount');
});

test('POST /route ranks eligible connectors', async () => {
  const client = await ApiClient.forMerchant(platform, uniqueMerchant());
  const result = await client.call('POST', '/route', { body: { amount: 1999, currency: 'USD', method: 'card', country: 'US' } });
  expect(result.status).toBe(200);
  expect(result.json.ranked.length).toBeGreaterThan(0);
  expect(result.json.attemptLimit).toBeGreaterThanOrEqual(1);
  expect(result.json.ranked[0]).toMatchObject({ connectorId: expect.any(String) });
});
