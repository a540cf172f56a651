/**
 * Stripe card payments on the local platform: the payments function runs the real Stripe adapter against the
 * embedded fake of Stripe's API, with the account's key read from the credentials secret, as in the cloud.
 */
import type { ConnectorDefinition } from '../../contracts/connectors';
import type { LocalPlatform } from '../../local/platform';
import { ApiClient, card, payBody, startPlatform, uniqueCustomer, uniqueMerchant } from './client';

const STRIPE: ConnectorDefinition = {
  id: 'stripe-main', kind: 'stripe', enabled: true, methods: ['card'], currencies: ['*'], regions: ['*'],
  fee: { basisPoints: 290, fixedMinor: 30 },
};
// A sandbox ranked behind it (a higher fee), for fallback.
const BACKUP: ConnectorDefinition = { ...STRIPE, id: 'sandbox-backup', kind: 'sandbox', fee: { basisPoints: 900, fixedMinor: 90 } };

let platform: LocalPlatform;
let client: ApiClient;
beforeAll(async () => {
  platform = await startPlatform({ env: { CONNECTORS: JSON.stringify([STRIPE, BACKUP]), MAX_PAYMENT_ATTEMPTS: '2' } });
  client = await ApiClient.forMerchant(platform, uniqueMerchant());
});
afterAll(async () => {
  await platform?.close(1000);
});
afterEach(() => platform.gateways.stripe?.setFault(STRIPE.id, undefined));

const intentOf = (paymentId: string, attempt = 0) =>
  [...(platform.gateways.stripe?.intents(STRIPE.id).values() ?? [])].filter((pi) => pi.metadata.smartpay_key === `${paymentId}:${attempt}`);

test('a card payment is a PaymentIntent at Stripe under the attempt key, and the payment keeps no card number', async () => {
  const result = await client.pay(payBody({ amount: 2_500, country: 'US', customerId: uniqueCustomer() }));
  expect(result.status).toBe(201);
  const { payment } = result.json;
  expect(payment).toMatchObject({ status: 'succeeded', connectorId: STRIPE.id, feeMinor: 103, card: { brand: 'visa', last4: '4242' } });
  expect(payment.attempts[0].gatewayReference).toMatch(/^pi_/);
  const [intent] = intentOf(payment.paymentId);
  expect(intent).toMatchObject({ id: payment.attempts[0].gatewayReference, amount: 2_500, currency: 'usd', status: 'succeeded' });
  expect(result.text).not.toContain('4242424242424242');
  // The fake saw the adapter's call: form-encoded, with the key and Stripe-Version.
  const sent = platform.gateways.stripe!.requests.find((r) => r.headers['idempotency-key'] === `${payment.paymentId}:0`);
  expect(sent?.headers['content-type']).toMatch(/x-www-form-urlencoded/);
  expect(sent?.headers['stripe-version']).toBeTruthy();
});

test('a card error is a 402 with Stripe’s decline code, and no other gateway is tried', async () => {
  const result = await client.pay(payBody({ customerId: uniqueCustomer(), paymentMethod: card('4000000000009995') }));
  expect(result.status).toBe(402);
  expect(result.json.error.details.payment).toMatchObject({ status: 'declined' });
  const attempts = result.json.error.details.payment.attempts;
  expect(attempts).toEqual([expect.objectContaining({ connectorId: STRIPE.id, outcome: 'declined', code: 'insufficient_funds' })]);
});

test('Stripe rate limiting falls back to the next gateway (nothing was processed at Stripe)', async () => {
  platform.gateways.stripe!.setFault(STRIPE.id, 'unavailable');
  const result = await client.pay(payBody({ customerId: uniqueCustomer() }));
  expect(result.status).toBe(201);
  const { payment } = result.json;
  expect(payment.connectorId).toBe(BACKUP.id);
  expect(payment.attempts.map((a: { outcome: string; code?: string }) => [a.outcome, a.code])).toEqual([
    ['retryable_failure', 'rate_limited'],
    ['succeeded', undefined],
  ]);
  expect(intentOf(payment.paymentId)).toEqual([]);
});

test('a lost answer is reconciled by key: the charge Stripe made is the payment’s, and never made twice', async () => {
  platform.gateways.stripe!.setFault(STRIPE.id, 'timeout');
  const body = payBody({ customerId: uniqueCustomer() });
  const key = `stripe-timeout-${Date.now()}`;
  const result = await client.pay(body, key);
  expect(result.status).toBe(201);
  const { payment } = result.json;
  expect(payment).toMatchObject({ status: 'succeeded', connectorId: STRIPE.id });
  expect(intentOf(payment.paymentId)).toHaveLength(1);
  expect(payment.attempts[0].gatewayReference).toBe(intentOf(payment.paymentId)[0].id);
  // The same request again: the same payment, and still one intent.
  platform.gateways.stripe!.setFault(STRIPE.id, undefined);
  const again = await client.pay(body, key);
  expect(again.json.payment.paymentId).toBe(payment.paymentId);
  expect(intentOf(payment.paymentId)).toHaveLength(1);
});

test('a partial then a full refund through POST /payments/{id}/refund: Stripe refunds, the reward follows, and nothing beyond the charge', async () => {
  const wallet = '9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin';
  const paid = await client.pay(payBody({ amount: 50_000, customerId: uniqueCustomer(), rewardWallet: wallet }));
  expect(paid.status).toBe(201);
  const { paymentId } = paid.json.payment;
  await platform.idle();
  const refundOf = (key: string, body: unknown) => client.call('POST', `/payments/${paymentId}/refund`, { body, headers: { 'idempotency-key': key } });

  const part = await refundOf('refund-1', { amount: 30_000, reason: 'requested_by_customer' });
  expect(part.status).toBe(201);
  expect(part.json.refund).toMatchObject({ amount: 30_000, currency: 'USD', status: 'succeeded', reason: 'requested_by_customer', gatewayReference: expect.stringMatching(/^re_/) });
  expect(part.json.payment).toMatchObject({ paymentId, status: 'succeeded', refundedAmount: 30_000 });
  expect((await refundOf('refund-1', { amount: 30_000, reason: 'requested_by_customer' })).status).toBe(200);

  const rest = await refundOf('refund-2', {});
  expect(rest.status).toBe(201);
  expect(rest.json.refund.amount).toBe(20_000);
  const over = await refundOf('refund-3', { amount: 1 });
  expect(over.status).toBe(422);
  expect(over.json.error.code).toBe('refund_exceeds_charge');

  // At Stripe: two refunds of the intent, 500.00 in all.
  const intent = intentOf(paymentId)[0];
  const refunds = [...(platform.gateways.stripe?.requests ?? [])].filter((r) => r.method === 'POST' && r.path === '/v1/refunds' && r.form.payment_intent === intent.id);
  expect(new Set(refunds.map((r) => r.headers['idempotency-key'])).size).toBe(2);

  // The events went out through the outbox, and the reward followed them: refunded in full, it is reversed or kept.
  await platform.idle();
  const adjusted = platform.workflows
    .executions('reward')
    .filter((r) => (r.input as { 'detail-type'?: string; detail?: { paymentId?: string } })['detail-type'] === 'PaymentRefunded' && (r.input as { detail: { paymentId: string } }).detail.paymentId === paymentId);
  expect(adjusted.map((r) => [r.status, (r.input as { detail: { refundedTotal: number } }).detail.refundedTotal])).toEqual([
    ['SUCCEEDED', 30_000],
    ['SUCCEEDED', 50_000],
  ]);
  const reward = (await client.call('POST', '/reward', { body: { paymentId } })).json.reward;
  expect(reward.refund).toMatchObject({ refundedAmount: 50_000 });

  // GET shows the refunds.
  const read = await client.call('GET', `/payments/${paymentId}`);
  expect(read.json.payment.refunds.map((r: { amount: number; status: string }) => [r.amount, r.status])).toEqual([
    [30_000, 'succeeded'],
    [20_000, 'succeeded'],
  ]);
});

test('a refund without an Idempotency-Key, or of a declined payment, is a 4xx naming the problem', async () => {
  const declined = await client.pay(payBody({ customerId: uniqueCustomer(), paymentMethod: card('4000000000000002') }));
  const paymentId = declined.json.error.details.payment.paymentId;
  const noKey = await client.call('POST', `/payments/${paymentId}/refund`, { body: {} });
  expect(noKey.status).toBe(400);
  expect(noKey.json.error.details.issues[0].field).toBe('header.Idempotency-Key');
  const notRefundable = await client.call('POST', `/payments/${paymentId}/refund`, { body: {}, headers: { 'idempotency-key': 'r' } });
  expect(notRefundable.status).toBe(409);
  expect(notRefundable.json.error.code).toBe('payment_not_refundable');
  const bad = await client.call('POST', `/payments/${paymentId}/refund`, { body: { amount: -5 }, headers: { 'idempotency-key': 'r2' } });
  expect(bad.status).toBe(400);
  expect(bad.json.error.details.issues[0].field).toBe('amount');
});
