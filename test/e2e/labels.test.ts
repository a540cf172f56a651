/** POST /fraud/labels over HTTP: labels reach the fraud feature state, scoped to the caller's own payments. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DEFAULT_FEATURE_OPTIONS } from '../../lambdas/fraud/features';
import { DynamoFeatureState } from '../../lambdas/fraud/state';
import { LOCAL_TABLES } from '../../local/env';
import type { LocalPlatform } from '../../local/platform';
import { ApiClient, card, fieldsOf, payBody, startPlatform, uniqueMerchant } from './client';

let platform: LocalPlatform;
let client: DynamoDBDocumentClient;
beforeAll(async () => {
  platform = await startPlatform();
  client = DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: platform.store.endpoint, region: 'local', credentials: { accessKeyId: 'l', secretAccessKey: 'l' } }),
  );
});
afterAll(async () => {
  client?.destroy();
  await platform?.close(1000);
});

test('a chargeback label on a succeeded payment is recorded once in the feature state', async () => {
  const merchant = uniqueMerchant();
  const api = await ApiClient.forMerchant(platform, merchant);
  const paid = await api.pay(payBody({ customerId: 'cus_label' }));
  expect(paid.status).toBe(201);
  const paymentId = paid.json.payment.paymentId as string;
  // The features record the payment off its path (its PaymentSucceeded event); a label comes later (a chargeback
  // takes days), so it finds the payment's transaction there.
  await platform.idle();

  for (let i = 0; i < 2; i += 1) {
    const labelled = await api.call('POST', '/fraud/labels', { body: { paymentId, fraud: true } });
    expect(labelled.status).toBe(200);
    expect(labelled.json).toEqual({ label: { paymentId, fraud: true } });
  }
  const state = new DynamoFeatureState(client, LOCAL_TABLES.fraudState, DEFAULT_FEATURE_OPTIONS);
  const { customer, terminal } = await state.load('cus_label', merchant, Date.now() + 60_000);
  expect(customer?.recent.find((p) => p.id === paymentId)?.fraud).toBe(true);
  // Counted once on the terminal's day, however often it is sent.
  expect((terminal?.days ?? []).reduce((n, d) => n + d.fraud, 0)).toBe(1);

  const cleared = await api.call('POST', '/fraud/labels', { body: { paymentId, fraud: false } });
  expect(cleared.status).toBe(200);
  const after = await state.load('cus_label', merchant, Date.now() + 60_000);
  expect((after.terminal?.days ?? []).reduce((n, d) => n + d.fraud, 0)).toBe(0);
});

test('a payment held for review takes its reviewer\'s verdict', async () => {
  const held = await startPlatform({ env: { FRAUD_REVIEW_THRESHOLD: '0', FRAUD_DECLINE_THRESHOLD: '1' } });
  try {
    const owner = await ApiClient.forMerchant(held, uniqueMerchant());
    const review = await owner.pay(payBody());
    expect(review.status).toBe(202);
    expect(review.json.payment.status).toBe('review');
    const id = review.json.payment.paymentId;
    const labelled = await owner.call('POST', '/fraud/labels', { body: { paymentId: id, fraud: true } });
    expect(labelled.status).toBe(200);
    expect(labelled.json).toEqual({ label: { paymentId: id, fraud: true } });
    // Read back by its owner only; a payment not labelled is absent.
    const other = (await owner.pay(payBody())).json.payment.paymentId;
    const read = await owner.call('GET', `/fraud/labels?paymentIds=${id},${other}`);
    expect(read.status).toBe(200);
    expect(read.json).toEqual({ labels: [{ paymentId: id, fraud: true, labelledAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/) }] });
    const stranger = await ApiClient.forMerchant(held, uniqueMerchant());
    expect((await stranger.call('GET', `/fraud/labels?paymentIds=${id}`)).json).toEqual({ labels: [] });
    // A change of mind replaces the label.
    await owner.call('POST', '/fraud/labels', { body: { paymentId: id, fraud: false } });
    expect((await owner.call('GET', `/fraud/labels?paymentIds=${id}`)).json.labels[0].fraud).toBe(false);
    for (const [query, field] of [['', 'query.paymentIds'], ['paymentIds=nope', 'query.paymentIds.0'], [`paymentIds=${Array.from({ length: 51 }, () => id).join(',')}`, 'query.paymentIds']] as const) {
      const bad = await owner.call('GET', `/fraud/labels?${query}`);
      expect({ query: query.slice(0, 20), status: bad.status, fields: fieldsOf(bad) }).toEqual({ query: query.slice(0, 20), status: 400, fields: [field] });
    }
  } finally {
    await held.close(1000);
  }
});

test("another merchant's payment is 404, a declined one 409, a bad body 400 naming the field", async () => {
  const owner = await ApiClient.forMerchant(platform, uniqueMerchant());
  const stranger = await ApiClient.forMerchant(platform, uniqueMerchant());
  const paid = await owner.pay(payBody());
  expect((await stranger.call('POST', '/fraud/labels', { body: { paymentId: paid.json.payment.paymentId, fraud: true } })).status).toBe(404);

  const declined = await owner.pay(payBody({ paymentMethod: card('4000000000000002') }));
  expect(declined.status).toBe(402);
  const refused = await owner.call('POST', '/fraud/labels', { body: { paymentId: declined.json.error.details.paymentId, fraud: true } });
  expect(refused.status).toBe(409);
  expect(refused.json.error.code).toBe('payment_not_completed');

  const bad = await owner.call('POST', '/fraud/labels', { body: { paymentId: 'nope', fraud: 'yes' } });
  expect(bad.status).toBe(400);
  expect(fieldsOf(bad).sort()).toEqual(['fraud', 'paymentId']);
});
