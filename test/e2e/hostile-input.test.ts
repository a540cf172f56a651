/**
 * Bad input never reaches the core (issue 11's reproductions): each is a 4xx naming the problem, before any
 * gateway call, on the workflow route (/pay) and the function routes alike.
 */
import { randomUUID } from 'node:crypto';
import type { LocalPlatform } from '../../local/platform';
import { ApiClient, fieldsOf, payBody, startPlatform, uniqueMerchant } from './client';

let platform: LocalPlatform;
let client: ApiClient;
beforeAll(async () => {
  platform = await startPlatform();
  client = await ApiClient.forMerchant(platform, uniqueMerchant('m_hostile'));
});
afterAll(async () => {
  await platform?.close(1000);
});

/** The merchant's payments recorded today, through the chat's own count (once the analytics index is up to date). */
async function paymentsToday(): Promise<number> {
  await platform.idle();
  const answer = await client.call('POST', '/chat', { body: { question: 'how many payments today' } });
  expect(answer.status).toBe(200);
  return (answer.json.figures.rows[0]?.value ?? 0) as number;
}

test.each([
  ['a constructor key in metadata (charged, then lost, before)', { metadata: { constructor: 'y' } }, 'metadata.constructor'],
  ['a prototype key in metadata', { metadata: { prototype: 'y' } }, 'metadata.prototype'],
])('/pay refuses %s with a 400 naming it, and charges nothing', async (_name, extra, field) => {
  const before = await paymentsToday();
  const result = await client.pay(payBody(extra));
  expect(result.status).toBe(400);
  expect(fieldsOf(result)).toEqual([field]);
  expect(await paymentsToday()).toBe(before);
});

test('/pay refuses a __proto__ key (JSON keeps it as an own key) instead of dropping it', async () => {
  const raw = JSON.stringify(payBody()).replace('"customerId"', '"metadata":{"__proto__":{"x":"y"}},"customerId"');
  const result = await client.call('POST', '/pay', { raw, headers: { 'idempotency-key': randomUUID() } });
  expect(result.status).toBe(400);
  expect(fieldsOf(result)).toEqual(['metadata.__proto__']);
});

test('/pay refuses JSON nested 5,000 deep with a 400, not a stack overflow', async () => {
  const raw = `{"amount":${'['.repeat(5000)}${']'.repeat(5000)}}`;
  const result = await client.call('POST', '/pay', { raw, headers: { 'idempotency-key': randomUUID() } });
  expect(result.status).toBe(400);
  expect(result.json.error.message).toMatch(/nest at most 32 levels deep/);
});

test.each([
  ['/pay', true],
  ['/route', false],
])('%s answers 415 to a body that is not JSON', async (path, keyed) => {
  const result = await client.call('POST', path, {
    raw: JSON.stringify(payBody()),
    headers: { 'content-type': 'text/plain', ...(keyed ? { 'idempotency-key': randomUUID() } : {}) },
  });
  expect(result.status).toBe(415);
  expect(result.json.error.code).toBe('unsupported_media_type');
});

test('/pay refuses a card number in metadata, and a number that is no card', async () => {
  const inMetadata = await client.pay(payBody({ metadata: { note: '4242 4242 4242 4242' } }));
  expect(inMetadata.status).toBe(400);
  expect(inMetadata.text).not.toContain('4242 4242');
  const zeros = await client.pay(payBody({ paymentMethod: { type: 'card', number: '0000000000000000', expMonth: 12, expYear: 2030 } }));
  expect(zeros.status).toBe(400);
  expect(fieldsOf(zeros)).toEqual(['paymentMethod.number']);
});

test('/chat answers 400 to a date no payment can have (was a 500)', async () => {
  const result = await client.call('POST', '/chat', { body: { question: 'total volume', from: '1969-12-31T00:00:00Z' } });
  expect(result.status).toBe(400);
  expect(fieldsOf(result)).toEqual(['from']);
});
