/**
 * Amazon Pay wallet payments on the local platform: routing sends a wallet token (the buyer's Charge Permission)
 * only to a connector that takes wallets (amazon-pay here), and the payments function runs the real Amazon Pay
 * adapter against the embedded fake of Amazon Pay's API, with the account's key pair read from the credentials
 * secret, as in the cloud. The payment keeps the wallet's name and the token's last 4, never the token; declines,
 * ineligible buyers, timeouts and refunds get their own answers.
 */
import { amazonPayKey } from '../../lambdas/payments/amazon-pay';
import type { LocalPlatform } from '../../local/platform';
import { LOCAL_CONNECTORS } from '../../local/connectors';
import { ApiClient, payBody, startPlatform, uniqueCustomer, uniqueMerchant } from './client';

// The local registry, with amazon-pay approving every ordinary token so the outcomes are certain.
const CONNECTORS = LOCAL_CONNECTORS.map((c) => (c.id === 'amazon-pay' ? { ...c, approval: undefined } : c));
const wallet = (token: string) => ({ type: 'wallet', wallet: 'amazon_pay', token });

let platform: LocalPlatform;
let client: ApiClient;
beforeAll(async () => {
  // The reconciler takes a payment left processing after a second (so a test can wait for it).
  platform = await startPlatform({ env: { CONNECTORS: JSON.stringify(CONNECTORS), RECONCILE_AFTER_MS: '1000', PAYMENT_LEASE_MS: '1000' } });
  client = await ApiClient.forMerchant(platform, uniqueMerchant());
});
afterAll(async () => {
  await platform?.close(1000);
});
afterEach(() => platform.gateways.amazonPay?.setFault('amazon-pay', undefined));

/** The fake's charges made for a payment's attempt (its merchantReferenceId is the attempt's gateway key). */
const chargesOf = (paymentId: string, attempt = 0) =>
  [...(platform.gateways.amazonPay?.charges('amazon-pay').values() ?? [])].filter((c) => c.merchantMetadata?.merchantReferenceId === `${paymentId}:${attempt}`);

test('a wallet payment is a Create Charge at Amazon Pay against its charge permission, at the wallet rate, kept without its token', async () => {
  const token = 'S01-5105180-3221187';
  const result = await client.pay(payBody({ amount: 4_200, country: 'US', customerId: uniqueCustomer(), paymentMethod: wallet(token) }));
  expect(result.status).toBe(201);
  const { payment } = result.json;
  expect(payment).toMatchObject({ status: 'succeeded', connectorId: 'amazon-pay', feeMinor: 131, wallet: { wallet: 'amazon_pay', tokenLast4: '1187' } });
  expect(payment.card).toBeUndefined();
  expect(payment.attempts).toEqual([expect.objectContaining({ connectorId: 'amazon-pay', outcome: 'succeeded', gatewayReference: expect.stringMatching(/^S01-\d{7}-\d{7}-C\d{7}$/) })]);
  const [charge] = chargesOf(payment.paymentId);
  expect(charge).toMatchObject({ chargeId: payment.attempts[0].gatewayReference, chargePermissionId: token, chargeAmount: { amount: '42.00', currencyCode: 'USD' }, statusDetails: { state: 'Captured' } });
  // The fake saw the adapter's call, signed, under the attempt's hashed key.
  const sent = platform.gateways.amazonPay!.requests.find((r) => r.headers['x-amz-pay-idempotency-key'] === amazonPayKey(`${payment.paymentId}:0`));
  expect(sent?.headers.authorization).toMatch(/^AMZN-PAY-RSASSA-PSS-V2 PublicKeyId=SANDBOX-LOCAL/);
  const read = await client.call('GET', `/payments/${payment.paymentId}`);
  expect(read.json.payment.wallet).toEqual({ wallet: 'amazon_pay', tokenLast4: '1187' });
  expect(read.text).not.toContain(token);
  expect(result.text).not.toContain(token);
  await platform.idle();
  expect(platform.bus.failures()).toEqual([]);
});

test('a declined wallet payment is a 402 with Amazon Pay’s reason, and no other gateway is tried', async () => {
  const result = await client.pay(payBody({ country: 'US', customerId: uniqueCustomer(), paymentMethod: wallet('wallet_declined_test') }));
  expect(result.status).toBe(402);
  expect(result.json.error.code).toBe('hard_declined');
  expect(result.json.error.details.payment.attempts).toEqual([expect.objectContaining({ connectorId: 'amazon-pay', outcome: 'declined', code: 'hard_declined' })]);
});

test('a wallet payment no connector can take is a 422 that says why', async () => {
  // amazon-pay, the only wallet connector, does not take Brazilian buyers.
  const result = await client.pay(payBody({ currency: 'USD', country: 'BR', customerId: uniqueCustomer(), paymentMethod: wallet('amzn_tok_e2e_BR01') }));
  expect(result.status).toBe(422);
  expect(result.json.error).toMatchObject({ code: 'no_eligible_connector' });
  expect(result.json.error.message).toBe('no enabled connector takes wallet payments in USD from BR');
});

test('Amazon Pay timing out after charging: never answered as failed, and the same request later finds the one charge', async () => {
  platform.gateways.amazonPay!.setFault('amazon-pay', 'timeout');
  const body = payBody({ amount: 3_000, country: 'US', customerId: uniqueCustomer(), paymentMethod: wallet('S01-7000001-7000001') });
  const key = `amazon-timeout-${Date.now()}`;
  const first = await client.pay(body, key);
  // The outcome is unknown: not a decline or a failure the client could act on by paying again.
  expect(first.status).not.toBe(402);
  expect(first.status).toBe(202);
  expect(first.json).toMatchObject({ status: 'processing' });
  platform.gateways.amazonPay!.setFault('amazon-pay', undefined);
  const again = await client.pay(body, key);
  expect(again.status).toBe(201);
  const { payment } = again.json;
  expect(payment).toMatchObject({ status: 'succeeded', connectorId: 'amazon-pay' });
  expect(chargesOf(payment.paymentId)).toHaveLength(1);
  expect(payment.attempts[0].gatewayReference).toBe(chargesOf(payment.paymentId)[0]!.chargeId);
});

test('left processing by a timeout, the reconciler repeats the call under its key: the one charge is the payment’s', async () => {
  platform.gateways.amazonPay!.setFault('amazon-pay', 'timeout');
  const token = 'S01-7000002-7000002';
  const first = await client.pay(payBody({ amount: 1_500, country: 'US', customerId: uniqueCustomer(), paymentMethod: wallet(token) }));
  expect(first.status).toBe(202);
  const { paymentId } = first.json;
  // While it is processing, its record keeps the charge permission for the lookup, and never shows it.
  const pending = await client.call('GET', `/payments/${paymentId}`);
  expect(pending.json.payment).toMatchObject({ status: 'processing', pendingAttempt: { connectorId: 'amazon-pay', attempt: 0 } });
  expect(pending.text).not.toContain(token);
  expect(chargesOf(paymentId)).toHaveLength(1); // Amazon Pay charged; the answer was lost
  platform.gateways.amazonPay!.setFault('amazon-pay', undefined);
  await new Promise((resolve) => setTimeout(resolve, 1_200));
  await platform.schedules.run('reconcile');
  const read = await client.call('GET', `/payments/${paymentId}`);
  expect(read.json.payment).toMatchObject({ status: 'succeeded', connectorId: 'amazon-pay' });
  expect(read.json.payment.attempts[0].gatewayReference).toBe(chargesOf(paymentId)[0]!.chargeId);
  expect(chargesOf(paymentId)).toHaveLength(1);
});

test('a partial then a full refund of a wallet payment: Amazon Pay refunds, never beyond the charge', async () => {
  const paid = await client.pay(payBody({ amount: 10_000, country: 'US', customerId: uniqueCustomer(), paymentMethod: wallet('S01-8000001-8000001') }));
  expect(paid.status).toBe(201);
  const { paymentId } = paid.json.payment;
  const refundOf = (key: string, body: unknown) => client.call('POST', `/payments/${paymentId}/refund`, { body, headers: { 'idempotency-key': key } });
  const part = await refundOf('amazon-refund-1', { amount: 2_500 });
  expect(part.status).toBe(201);
  expect(part.json.refund).toMatchObject({ amount: 2_500, status: 'succeeded', gatewayReference: expect.stringMatching(/^S01-.*-R\d{7}$/) });
  const tooMuch = await refundOf('amazon-refund-2', { amount: 7_501 });
  expect(tooMuch.status).toBe(422);
  const rest = await refundOf('amazon-refund-3', {});
  expect(rest.status).toBe(201);
  expect(rest.json.payment).toMatchObject({ refundedAmount: 10_000 });
  const refunds = [...platform.gateways.amazonPay!.refunds('amazon-pay').values()].filter((r) => r.chargeId === paid.json.payment.attempts[0].gatewayReference);
  expect(refunds.map((r) => r.refundAmount.amount).sort()).toEqual(['25.00', '75.00']);
});

test('Amazon Pay’s notification settles a pending refund from Amazon Pay’s state: early, replayed or forged, it never settles one wrongly', async () => {
  const amazonPay = platform.gateways.amazonPay!;
  amazonPay.setRefundSettleMs(60_000); // Amazon Pay takes its time
  try {
    const paid = await client.pay(payBody({ amount: 6_000, country: 'US', customerId: uniqueCustomer(), paymentMethod: wallet('S01-9000001-9000001') }));
    const { paymentId } = paid.json.payment;
    const chargeId = paid.json.payment.attempts[0].gatewayReference;
    const refund = await client.call('POST', `/payments/${paymentId}/refund`, { body: { amount: 2_500 }, headers: { 'idempotency-key': 'amazon-ipn-1' } });
    expect(refund.status).toBe(202);
    expect(refund.json.refund).toMatchObject({ status: 'pending' });
    const [atAmazon] = [...amazonPay.refunds('amazon-pay').values()].filter((r) => r.chargeId === chargeId);
    // A notification before Amazon Pay has settled it (early, or out of order): the refund stays pending.
    const early = await amazonPay.notify('amazon-pay', 'REFUND', atAmazon!.refundId);
    expect(early).toMatchObject({ status: 200, body: { received: true, paymentId, status: 'succeeded' } });
    expect((await client.call('GET', `/payments/${paymentId}`)).json.payment.refunds[0]).toMatchObject({ status: 'pending' });
    // Amazon Pay settles it and notifies: the refund is settled from Amazon Pay's state, without waiting for the reconciler.
    amazonPay.setRefundSettleMs(0);
    await expect(amazonPay.notify('amazon-pay', 'REFUND', atAmazon!.refundId)).resolves.toMatchObject({ status: 200 });
    const settled = (await client.call('GET', `/payments/${paymentId}`)).json.payment;
    expect(settled).toMatchObject({ refundedAmount: 2_500, refunds: [expect.objectContaining({ status: 'succeeded', gatewayReference: atAmazon!.refundId })] });
    // The same notification again changes nothing.
    await amazonPay.notify('amazon-pay', 'REFUND', atAmazon!.refundId);
    expect((await client.call('GET', `/payments/${paymentId}`)).json.payment).toMatchObject({ refundedAmount: 2_500 });
    expect([...amazonPay.refunds('amazon-pay').values()].filter((r) => r.chargeId === chargeId)).toHaveLength(1);
  } finally {
    amazonPay.setRefundSettleMs(0);
  }
});

test('a notification that is not Amazon Pay’s is refused before anything is read; the route takes Amazon Pay connectors only', async () => {
  const forged = JSON.stringify({
    Type: 'Notification', MessageId: 'x', TopicArn: 'arn:aws:sns:us-east-1:1:t', Message: '{"ObjectType":"REFUND","ObjectId":"S01-1-1-R1"}',
    Timestamp: new Date().toISOString(), SignatureVersion: '1', Signature: Buffer.from('forged').toString('base64'),
    SigningCertURL: 'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-x.pem',
  });
  const post = (path: string, body: string) => fetch(`${platform.url}${path}`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body });
  // The certificate host is SNS's, so it is fetched: with no network here that is a 503 (SNS sends it again), and
  // a signature that does not verify is a 400: never a 200.
  const answer = await post('/webhooks/amazon-pay/amazon-pay', forged);
  expect([400, 503]).toContain(answer.status);
  const local = JSON.stringify({ ...JSON.parse(forged), SigningCertURL: `${platform.gateways.amazonPay!.url}/sns/SimpleNotificationService-local.pem` });
  const refused = await post('/webhooks/amazon-pay/amazon-pay', local);
  expect(refused.status).toBe(400);
  expect(await refused.json()).toMatchObject({ error: { code: 'invalid_signature' } });
  expect((await post('/webhooks/stripe/amazon-pay', local)).status).toBe(404);
  expect((await post('/webhooks/amazon-pay/stripe-us', local)).status).toBe(404);
});
