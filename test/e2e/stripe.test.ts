/**
 * Stripe card payments on the local platform: the payments function runs the real Stripe adapter against the
 * embedded fake of Stripe's API, with the account's key read from the credentials secret, as in the cloud.
 */
import type { ConnectorDefinition } from '../../contracts/connectors';
import type { LocalPlatform } from '../../local/platform';
import { jsonEnvelope } from '../../contracts/steps';
import { ApiClient, card, payBody, startPlatform, uniqueCustomer, uniqueMerchant } from './client';

const STRIPE: ConnectorDefinition = {
  id: 'stripe-main', kind: 'stripe', enabled: true, methods: ['card'], currencies: ['*'], regions: ['*'],
  fee: { basisPoints: 290, fixedMinor: 30 },
};
// A sandbox ranked behind it (a higher fee), for fallback: for buyers in the US only.
const BACKUP: ConnectorDefinition = { ...STRIPE, id: 'sandbox-backup', kind: 'sandbox', regions: ['US'], fee: { basisPoints: 900, fixedMinor: 90 } };
/**
 * A payment from a buyer in GB, whom only Stripe may take: these tests are about Stripe, so which connector comes
 * first must not depend on what the routing model has learned from the tests before, or on its exploration.
 */
const stripeBody = (overrides: Record<string, unknown> = {}) => payBody({ country: 'GB', ...overrides });

let platform: LocalPlatform;
let client: ApiClient;
const merchantId = uniqueMerchant();
beforeAll(async () => {
  platform = await startPlatform({ env: { CONNECTORS: JSON.stringify([STRIPE, BACKUP]), MAX_PAYMENT_ATTEMPTS: '2', ROUTING_SEED: '17' } });
  client = await ApiClient.forMerchant(platform, merchantId);
});
afterAll(async () => {
  await platform?.close(1000);
});
afterEach(() => platform.gateways.stripe?.setFault(STRIPE.id, undefined));

const intentOf = (paymentId: string, attempt = 0) =>
  [...(platform.gateways.stripe?.intents(STRIPE.id).values() ?? [])].filter((pi) => pi.metadata.smartpay_key === `${paymentId}:${attempt}`);

test('Stripe rate limiting falls back to the next gateway (nothing was processed at Stripe)', async () => {
  platform.gateways.stripe!.setFault(STRIPE.id, 'unavailable');
  // A buyer in the US, whom both may take; first in this file, before the routing model has learned anything, and
  // with the platform's ROUTING_SEED, which draws no exploration on this first decision: Stripe (the lower fee) first.
  const result = await client.pay(payBody({ country: 'US', customerId: uniqueCustomer() }));
  expect(result.status).toBe(201);
  const { payment } = result.json;
  expect(payment.connectorId).toBe(BACKUP.id);
  expect(payment.attempts.map((a: { outcome: string; code?: string }) => [a.outcome, a.code])).toEqual([
    ['retryable_failure', 'rate_limited'],
    ['succeeded', undefined],
  ]);
  expect(intentOf(payment.paymentId)).toEqual([]);
});

test('a card payment is a PaymentIntent at Stripe under the attempt key, and the payment keeps no card number', async () => {
  const result = await client.pay(stripeBody({ amount: 2_500, customerId: uniqueCustomer() }));
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
  const result = await client.pay(stripeBody({ customerId: uniqueCustomer(), paymentMethod: card('4000000000009995') }));
  expect(result.status).toBe(402);
  expect(result.json.error.details.payment).toMatchObject({ status: 'declined' });
  const attempts = result.json.error.details.payment.attempts;
  expect(attempts).toEqual([expect.objectContaining({ connectorId: STRIPE.id, outcome: 'declined', code: 'insufficient_funds' })]);
});


test('a lost answer is reconciled by key: the charge Stripe made is the payment’s, and never made twice', async () => {
  platform.gateways.stripe!.setFault(STRIPE.id, 'timeout');
  const body = stripeBody({ customerId: uniqueCustomer() });
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
  const paid = await client.pay(stripeBody({ amount: 50_000, customerId: uniqueCustomer(), rewardWallet: wallet }));
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
  const declined = await client.pay(stripeBody({ customerId: uniqueCustomer(), paymentMethod: card('4000000000000002') }));
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

test('a tokenised card (pm_…) goes to Stripe only, and the payment keeps the brand and last 4 Stripe names', async () => {
  const result = await client.pay(stripeBody({ customerId: uniqueCustomer(), paymentMethod: { type: 'card', token: 'pm_card_mastercard' } }));
  expect(result.status).toBe(201);
  const { payment } = result.json;
  expect(payment).toMatchObject({ connectorId: STRIPE.id, card: { brand: 'mastercard', last4: '4444', tokenised: true, expMonth: 12 } });
  expect(intentOf(payment.paymentId)[0]).toMatchObject({ status: 'succeeded' });
  const sent = platform.gateways.stripe!.requests.find((r) => r.headers['idempotency-key'] === `${payment.paymentId}:0`);
  expect(sent?.form.payment_method).toBe('pm_card_mastercard');
  // Stripe rate limiting: the sandbox cannot charge a Stripe token, so nothing else is tried.
  platform.gateways.stripe!.setFault(STRIPE.id, 'unavailable');
  const limited = await client.pay(stripeBody({ customerId: uniqueCustomer(), paymentMethod: { type: 'card', token: 'pm_card_visa' } }));
  expect(limited.status).toBe(503);
  expect(limited.json.error.details.payment.attempts.map((a: { connectorId: string }) => a.connectorId)).toEqual([STRIPE.id]);
});

test("a token Stripe does not know is a 402 naming Stripe's code, marked as Stripe's refusal, and routing does not learn it as a decline", async () => {
  const observations = async () => {
    await platform.idle();
    const route = await client.call('POST', '/route', { body: { amount: 1_000, currency: 'USD', method: 'card', country: 'US' } });
    return (route.json.ranked as Array<{ connectorId: string; observations: number }>).find((r) => r.connectorId === STRIPE.id)!.observations;
  };
  // The model learns a batching window after a payment: wait until what the earlier tests paid is learnt (the
  // count holds still for 2 s), so the count moves only with this test's payments.
  const settled = async (atLeast = 0) => {
    let last = await observations();
    for (let i = 0; i < 30; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const now = await observations();
      if (now === last && now >= atLeast && i >= 1) return now;
      last = now;
    }
    return last;
  };
  const before = await settled();
  for (let i = 0; i < 3; i += 1) {
    const junk = await client.pay(stripeBody({ customerId: uniqueCustomer(), paymentMethod: { type: 'card', token: `pm_nope${i}` } }));
    expect(junk.status).toBe(402);
    expect(junk.json.error).toMatchObject({ code: 'resource_missing', message: expect.stringContaining(`pm_nope${i}`) });
    expect(junk.json.error.details.payment.attempts).toEqual([expect.objectContaining({ connectorId: STRIPE.id, outcome: 'declined', code: 'resource_missing', requestRefused: true })]);
  }
  // An issuer's answer is learnt (the loop runs), the three refusals are not.
  expect((await client.pay(stripeBody({ customerId: uniqueCustomer(), paymentMethod: { type: 'card', token: 'pm_card_visa' } }))).status).toBe(201);
  expect(await settled(before + 1)).toBe(before + 1);
}, 90_000);

test("an amount Stripe cannot take (KWD not in tens of fils) with a token only Stripe can charge: a 422 naming amount, nothing charged; ISK is charged in Stripe's units", async () => {
  const kwd = await client.pay(stripeBody({ amount: 12_345, currency: 'KWD', customerId: uniqueCustomer(), paymentMethod: { type: 'card', token: 'pm_card_visa' } }));
  expect(kwd.status).toBe(422);
  expect(kwd.json.error).toMatchObject({ code: 'no_eligible_connector', details: { issues: [{ field: 'amount', problem: expect.stringContaining('multiples of 10') }] } });
  expect(kwd.json.error.details.payment.attempts).toEqual([]);
  expect(intentOf(kwd.json.error.details.paymentId)).toEqual([]);
  // 500 krónur: 50000 hundredths at Stripe, 500 on the payment; a US test token pays the domestic fee (2.90% + 30).
  const isk = await client.pay(stripeBody({ amount: 500, currency: 'ISK', customerId: uniqueCustomer(), paymentMethod: { type: 'card', token: 'pm_card_visa' } }));
  expect(isk.status).toBe(201);
  expect(isk.json.payment).toMatchObject({ amount: 500, currency: 'ISK', connectorId: STRIPE.id, feeMinor: 45 });
  expect(intentOf(isk.json.payment.paymentId)[0]).toMatchObject({ amount: 50_000, currency: 'isk', status: 'succeeded' });
});

test('a stage that refuses raw cards answers 400 naming paymentMethod.number, and takes tokens', async () => {
  const strict = await startPlatform({ env: { CONNECTORS: JSON.stringify([STRIPE]), ACCEPT_RAW_CARDS: 'false' } });
  try {
    const strictClient = await ApiClient.forMerchant(strict, uniqueMerchant());
    const raw = await strictClient.pay(payBody({ customerId: uniqueCustomer() }));
    expect(raw.status).toBe(400);
    expect(raw.json.error.details.issues).toEqual([expect.objectContaining({ field: 'paymentMethod.number', problem: expect.stringMatching(/tokenise the card/) })]);
    expect(raw.text).not.toContain('4242424242424242');
    const token = await strictClient.pay(payBody({ customerId: uniqueCustomer(), paymentMethod: { type: 'card', token: 'pm_card_visa' } }));
    expect(token.status).toBe(201);
  } finally {
    await strict.close(1000);
  }
});

describe('3-D Secure', () => {
  const threeDS = { type: 'card', token: 'pm_card_threeDSecure2Required' };
  const webhook = (body: string, signature: string) =>
    fetch(`${platform.url}/webhooks/stripe/${STRIPE.id}`, { method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': signature }, body });

  test('requires_action is a pending_action payment carrying the client secret; the webhook settles it, and replays or stale events never regress it', async () => {
    const key = `3ds-${Date.now()}`;
    const body = stripeBody({ amount: 50_000, customerId: uniqueCustomer(), paymentMethod: threeDS, rewardWallet: '9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin' });
    // The workflow's own path: it ends in AwaitingCustomerAction, answering 202.
    const { response, execution } = await platform.workflows.executePayment(jsonEnvelope(body, { merchantId, idempotencyKey: key, requestId: '3ds' }));
    expect(execution.states).toEqual(expect.arrayContaining(['Charge', 'Charged', 'AwaitingCustomerAction']));
    expect(response.status).toBe(202);
    const { payment } = JSON.parse(response.body);
    expect(payment).toMatchObject({ status: 'pending_action', action: { type: 'use_stripe_sdk', clientSecret: expect.stringMatching(/^pi_.+_secret_/), expiresAt: expect.any(String) } });
    const [intent] = intentOf(payment.paymentId);
    expect(intent.status).toBe('requires_action');

    // A repeat while it waits: the same payment, still awaiting; no second intent.
    const again = await client.pay(body, key);
    expect(again.status).toBe(202);
    expect(again.json.payment).toMatchObject({ paymentId: payment.paymentId, status: 'pending_action' });
    expect(intentOf(payment.paymentId)).toHaveLength(1);

    // The customer authenticates; Stripe's webhook settles the payment (its answer says so, before anyone reads it).
    expect(await platform.gateways.stripe!.authenticate(STRIPE.id, intent.id, 'succeed')).toEqual({ status: 200, body: { received: true, paymentId: payment.paymentId, status: 'succeeded' } });
    const read = await client.call('GET', `/payments/${payment.paymentId}`);
    expect(read.json.payment).toMatchObject({ status: 'succeeded', connectorId: STRIPE.id, feeMinor: expect.any(Number) });
    expect(read.json.payment.action).toBeUndefined();
    expect(read.json.payment.attempts).toEqual([expect.objectContaining({ outcome: 'succeeded', gatewayReference: intent.id })]);

    // A replay of the event, and a stale failure event after it: received, and the payment stays succeeded.
    expect(await platform.gateways.stripe!.resend(STRIPE.id, intent.id, 'payment_intent.succeeded')).toMatchObject({ status: 200, body: { status: 'succeeded' } });
    expect(await platform.gateways.stripe!.resend(STRIPE.id, intent.id, 'payment_intent.payment_failed')).toMatchObject({ status: 200, body: { status: 'succeeded' } });
    expect((await client.call('GET', `/payments/${payment.paymentId}`)).json.payment.status).toBe('succeeded');
    // The repeat of the request now answers the succeeded payment.
    expect((await client.pay(body, key)).status).toBe(201);

    // Its events went out: the reward workflow issued its reward.
    await platform.idle();
    const reward = (await client.call('POST', '/reward', { body: { paymentId: payment.paymentId } })).json.reward;
    expect(reward).toMatchObject({ paymentId: payment.paymentId, tokens: '10000000' });
  });

  test('a failed authentication declines the payment, with Stripe’s code', async () => {
    const result = await client.pay(stripeBody({ customerId: uniqueCustomer(), paymentMethod: threeDS }));
    expect(result.status).toBe(202);
    const { paymentId } = result.json.payment;
    expect(await platform.gateways.stripe!.authenticate(STRIPE.id, intentOf(paymentId)[0].id, 'fail')).toMatchObject({ status: 200, body: { status: 'declined' } });
    const read = await client.call('GET', `/payments/${paymentId}`);
    expect(read.json.payment).toMatchObject({ status: 'declined' });
    expect(read.json.payment.attempts).toEqual([expect.objectContaining({ outcome: 'declined', code: 'payment_intent_authentication_failure' })]);
    // The intent was canceled before the payment was declined: the client cannot confirm it again with another card.
    expect(intentOf(paymentId)[0].status).toBe('canceled');
  });

  test('a webhook that is not Stripe’s is a 400, and changes nothing', async () => {
    const result = await client.pay(stripeBody({ customerId: uniqueCustomer(), paymentMethod: threeDS }));
    const { paymentId } = result.json.payment;
    const intent = intentOf(paymentId)[0];
    const forged = JSON.stringify({ id: 'evt_forged', object: 'event', type: 'payment_intent.succeeded', data: { object: { ...intent, status: 'succeeded' } } });
    const response = await webhook(forged, `t=${Math.floor(Date.now() / 1000)},v1=${'0'.repeat(64)}`);
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('invalid_signature');
    expect((await webhook(forged, '')).status).toBe(400);
    expect((await client.call('GET', `/payments/${paymentId}`)).json.payment.status).toBe('pending_action');
    const unknown = await fetch(`${platform.url}/webhooks/stripe/no-such-connector`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(unknown.status).toBe(404);
  });
});

test('a card keeps a keyed fingerprint: the same card matches across payments and gateways, another card does not', async () => {
  const pay = async (paymentMethod: unknown) => (await client.pay(payBody({ customerId: uniqueCustomer(), paymentMethod }))).json.payment;
  const first = await pay(card('4242424242424242'));
  const again = await pay(card('4242424242424242'));
  const other = await pay(card('5555555555554444'));
  expect(first.card.fingerprint).toMatch(/^[A-Za-z0-9_-]{27}$/);
  expect(again.card.fingerprint).toBe(first.card.fingerprint);
  expect(other.card.fingerprint).not.toBe(first.card.fingerprint);
  // A tokenised card is fingerprinted from its gateway's own fingerprint, keyed.
  const tokenA = await pay({ type: 'card', token: 'pm_card_visa' });
  const tokenB = await pay({ type: 'card', token: 'pm_card_visa' });
  expect(tokenA.card.fingerprint).toMatch(/^[A-Za-z0-9_-]{27}$/);
  expect(tokenB.card.fingerprint).toBe(tokenA.card.fingerprint);
  // Nothing of the number is in it.
  expect(first.card.fingerprint).not.toContain('4242');
});
