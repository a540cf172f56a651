/**
 * The Stripe adapter (lambdas/payments/stripe.ts) against the embedded fake of Stripe's API
 * (local/gateways/stripe.ts): the happy path with the exact request shape, each error class, an idempotent
 * retry, and ambiguous outcomes reconciled by key.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConnectorDefinition } from '../../contracts/connectors';
import { GatewayDeclinedError, type GatewayRetryableError } from '../../contracts/errors';
import { ChargeOutcomeUnknownError, GatewayAmbiguousError, type ChargeRequest } from '../../lambdas/payments/connectors';
import { SEARCH_SETTLED_MS, StripeConnector } from '../../lambdas/payments/stripe';
import { readLedger } from '../../lambdas/payments/sandbox';
import { startStripeFake, type StripeFake } from '../../local/gateways/stripe';

const definition: ConnectorDefinition = {
  id: 'stripe-test', kind: 'stripe', enabled: true, methods: ['card'], currencies: ['*'], regions: ['*'],
  fee: { basisPoints: 440, fixedMinor: 30, rules: [{ regions: ['NA'], basisPoints: 290, fixedMinor: 30 }] },
};
const secretKey = 'sk_test_fake0123456789abcdef';

let dir: string;
let fake: StripeFake;
let n = 0;
const request = (number: string, overrides: Partial<ChargeRequest> = {}): ChargeRequest => ({
  amount: 1000,
  currency: 'USD',
  card: { number, expMonth: 12, expYear: 2030, cvc: '123' },
  idempotencyKey: `pay_test${(n += 1)}:0`,
  country: 'US',
  ...overrides,
});
const connector = (options: { key?: string; retries?: number } = {}) =>
  new StripeConnector(definition, { credentials: async () => ({ secretKey: options.key ?? secretKey }), apiUrl: fake.url, maxNetworkRetries: options.retries ?? 0, timeoutMs: 2_000 });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'stripe-fake-'));
  fake = await startStripeFake({ accounts: [{ definition, secretKey }], dir, now: () => new Date('2026-06-15T00:00:00Z') });
});
afterAll(async () => {
  await fake.close();
  rmSync(dir, { recursive: true, force: true });
});
afterEach(() => fake.setFault(definition.id, undefined));

describe('Stripe adapter against the fake of Stripe’s API', () => {
  it('HappyPath: creates and confirms a PaymentIntent under the attempt key, form-encoded, and takes the fee from its balance transaction', async () => {
    const req = request('4242424242424242');
    const result = await connector().charge(req);
    expect(result.gatewayReference).toMatch(/^pi_/);
    expect(result.feeMinor).toBe(59); // a US card at the domestic rule: 2.90% + 30
    const sent = fake.requests.at(-1)!;
    expect(sent.method).toBe('POST');
    expect(sent.path).toBe('/v1/payment_intents');
    expect(sent.headers['content-type']).toMatch(/^application\/x-www-form-urlencoded/);
    expect(sent.headers['idempotency-key']).toBe(req.idempotencyKey);
    expect(sent.headers['stripe-version']).toMatch(/^\d{4}-\d{2}-\d{2}/);
    expect(sent.headers.authorization).toBe(`Bearer ${secretKey}`);
    expect(sent.form).toMatchObject({
      amount: '1000',
      currency: 'usd',
      confirm: 'true',
      metadata: { smartpay_key: req.idempotencyKey },
      payment_method_data: { type: 'card', card: { number: '4242424242424242', exp_month: '12', exp_year: '2030', cvc: '123' }, billing_details: { address: { country: 'US' } } },
      expand: ['latest_charge.balance_transaction'],
    });
    expect(fake.intents(definition.id).get(result.gatewayReference)?.status).toBe('succeeded');
  });

  it('charges a tokenised card by its PaymentMethod id', async () => {
    const req = { ...request('4242424242424242'), card: undefined, paymentMethodId: 'pm_card_mastercard' };
    const result = await connector().charge(req);
    expect(result.gatewayReference).toMatch(/^pi_/);
    expect(fake.requests.at(-1)!.form.payment_method).toBe('pm_card_mastercard');
    expect(fake.requests.at(-1)!.form.payment_method_data).toBeUndefined();
  });

  it.each([
    ['4000000000000002', 'card_declined'],
    ['4000000000009995', 'insufficient_funds'],
    ['4000000000009987', 'lost_card'],
    ['4000000000000069', 'expired_card'],
    ['4000000000000127', 'incorrect_cvc'],
  ])('a card error declines (never retried elsewhere): %s is %s', async (number, code) => {
    const error = await connector().charge(request(number)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GatewayDeclinedError);
    expect(error).toMatchObject({ code, details: { connectorId: definition.id } });
  });

  it('a processing error charged nothing and may go elsewhere (retryable)', async () => {
    await expect(connector().charge(request('4000000000000119'))).rejects.toMatchObject({ name: 'GatewayRetryableError', code: 'processing_error' });
  });

  it('a PaymentMethod Stripe does not know is declined with its code, not a 5xx', async () => {
    const req = { ...request('4242424242424242'), card: undefined, paymentMethodId: 'pm_nonexistent' };
    await expect(connector().charge(req)).rejects.toMatchObject({ name: 'GatewayDeclinedError', code: 'resource_missing' });
  });

  it('a rate limit is retryable, and nothing was processed', async () => {
    fake.setFault(definition.id, 'unavailable');
    const req = request('4242424242424242');
    await expect(connector().charge(req)).rejects.toMatchObject({ name: 'GatewayRetryableError', code: 'rate_limited' });
    fake.setFault(definition.id, undefined);
    await expect(connector().retrieve(req.idempotencyKey)).resolves.toBeUndefined();
  });

  it('a refused connection (nothing sent) is retryable, after the SDK’s retries too (no try reached Stripe)', async () => {
    const closed = new StripeConnector(definition, { credentials: async () => ({ secretKey }), apiUrl: 'http://127.0.0.1:9', maxNetworkRetries: 0 });
    await expect(closed.charge(request('4242424242424242'))).rejects.toMatchObject({ name: 'GatewayRetryableError', code: 'gateway_unavailable' });
    // Every try refused (as when Stripe's name does not resolve): another gateway may take the payment.
    const retried = new StripeConnector(definition, { credentials: async () => ({ secretKey }), apiUrl: 'http://127.0.0.1:9', maxNetworkRetries: 2 });
    await expect(retried.charge(request('4242424242424242'))).rejects.toMatchObject({ name: 'GatewayRetryableError', code: 'gateway_unavailable' });
  });

  it('bad credentials are retryable (nothing charged) and say so; unreadable ones too', async () => {
    await expect(connector({ key: 'sk_test_wrongwrongwrong' }).charge(request('4242424242424242'))).rejects.toMatchObject({
      name: 'GatewayRetryableError',
      code: 'gateway_authentication_failed',
    });
    const unreadable = new StripeConnector(definition, { credentials: async () => Promise.reject(new Error('secret x has no entry')), apiUrl: fake.url });
    await expect(unreadable.charge(request('4242424242424242'))).rejects.toMatchObject({ name: 'GatewayRetryableError', code: 'gateway_misconfigured' });
  });

  it('an idempotent retry is the same call: one intent, the same answer', async () => {
    const req = request('4242424242424242');
    const first = await connector().charge(req);
    const again = await connector().charge(req);
    expect(again).toEqual(first);
    expect(fake.requests.at(-1)!.path).toBe('/v1/payment_intents');
    expect([...fake.intents(definition.id).values()].filter((pi) => pi.metadata.smartpay_key === req.idempotencyKey)).toHaveLength(1);
    // The same key with another amount is Stripe's idempotency_error: a bug of ours, never a charge.
    const error = (await connector().charge({ ...req, amount: 999 }).catch((e: unknown) => e)) as Error;
    expect(error.name).toBe('Error');
    expect(error.message).toMatch(/StripeIdempotencyError.*same parameters/);
  });

  it('a timeout after sending is ambiguous, and the key finds the charge (reconciled)', async () => {
    fake.setFault(definition.id, 'timeout');
    const req = request('4242424242424242');
    await expect(connector().charge(req)).rejects.toBeInstanceOf(GatewayAmbiguousError);
    const found = await connector().retrieve(req.idempotencyKey);
    expect(found?.gatewayReference).toMatch(/^pi_/);
    expect(found?.feeMinor).toBe(59);
    // The search was by the key, in Stripe's query language.
    expect(fake.requests.at(-1)!.form.query).toBe(`metadata['smartpay_key']:'${req.idempotencyKey}'`);
  });

  it('a 5xx is ambiguous (Stripe may have charged), and the key finds what happened', async () => {
    fake.setFault(definition.id, 'server_error');
    const charged = request('4242424242424242');
    await expect(connector().charge(charged)).rejects.toBeInstanceOf(GatewayAmbiguousError);
    await expect(connector().retrieve(charged.idempotencyKey)).resolves.toMatchObject({ gatewayReference: expect.stringMatching(/^pi_/) });
    const declined = request('4000000000000002');
    await expect(connector().charge(declined)).rejects.toBeInstanceOf(GatewayAmbiguousError);
    await expect(connector().retrieve(declined.idempotencyKey)).rejects.toMatchObject({ name: 'GatewayDeclinedError', code: 'card_declined' });
  });

  it('a lookup that cannot reach Stripe leaves the outcome unknown (never "not charged")', async () => {
    const closed = new StripeConnector(definition, { credentials: async () => ({ secretKey }), apiUrl: 'http://127.0.0.1:9', maxNetworkRetries: 0 });
    await expect(closed.retrieve('pay_x:0')).rejects.toBeInstanceOf(ChargeOutcomeUnknownError);
  });

  it('ordinary cards follow the account’s approval profile, the same answer for the same key', async () => {
    const strict = { ...definition, id: 'stripe-strict', approval: { base: 0 } };
    const other = await startStripeFake({ accounts: [{ definition: strict, secretKey }] });
    try {
      const adapter = new StripeConnector(strict, { credentials: async () => ({ secretKey }), apiUrl: other.url, maxNetworkRetries: 0 });
      await expect(adapter.charge(request('4111111111111111'))).rejects.toMatchObject({ code: 'do_not_honor' });
      await expect(adapter.charge(request('4242424242424242'))).resolves.toMatchObject({ gatewayReference: expect.stringMatching(/^pi_/) });
    } finally {
      await other.close();
    }
  });

  it('keeps its calls on disk: a restarted fake replays a key, and its file is the ledger the fault suite counts', async () => {
    const req = request('4242424242424242');
    const first = await connector().charge(req);
    await fake.close();
    fake = await startStripeFake({ accounts: [{ definition, secretKey }], dir });
    await expect(connector().charge(req)).resolves.toEqual(first);
    const lines = readLedger(dir, definition.id).filter((line) => line.key === req.idempotencyKey);
    expect(lines).toEqual([expect.objectContaining({ ok: true, amount: 1000, result: { gatewayReference: first.gatewayReference, feeMinor: first.feeMinor } })]);
  });

  it('refuses what Stripe refuses: no key, another content type, unknown parameters', async () => {
    const post = (headers: Record<string, string>, body: string) =>
      fetch(`${fake.url}/v1/payment_intents`, { method: 'POST', headers: { 'stripe-version': '2026-10-28.endive', ...headers }, body });
    const noAuth = await post({ 'content-type': 'application/x-www-form-urlencoded', 'idempotency-key': 'k1' }, 'amount=100');
    expect(noAuth.status).toBe(401);
    expect(((await noAuth.json()) as { error: { type: string } }).error.type).toBe('invalid_request_error');
    const auth = { authorization: `Bearer ${secretKey}` };
    const json = await post({ ...auth, 'content-type': 'application/json', 'idempotency-key': 'k2' }, '{}');
    expect(json.status).toBe(400);
    const noKey = await post({ ...auth, 'content-type': 'application/x-www-form-urlencoded' }, 'amount=100&currency=usd&confirm=true');
    expect(((await noKey.json()) as { error: { message: string } }).error.message).toMatch(/Idempotency-Key/);
    const unknown = await post({ ...auth, 'content-type': 'application/x-www-form-urlencoded', 'idempotency-key': 'k3' }, 'amount=100&currency=usd&confirm=true&capture=now');
    expect(await unknown.json()).toMatchObject({ error: { code: 'parameter_unknown', param: 'capture' } });
  });
});

it('a refusal after the SDK retried an ambiguous try is ambiguous too (the first try may have charged)', async () => {
  const { createServer } = await import('node:http');
  let posts = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      posts += 1;
      // The first try is processed and its answer lost; the retry (same key) is refused before processing.
      if (posts === 1) {
        req.socket.destroy();
        return;
      }
      res.writeHead(429, { 'content-type': 'application/json', 'stripe-should-retry': 'false' });
      res.end(JSON.stringify({ error: { type: 'invalid_request_error', code: 'rate_limit', message: 'Too many requests' } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as { port: number };
    const adapter = new StripeConnector(definition, { credentials: async () => ({ secretKey }), apiUrl: `http://127.0.0.1:${port}`, maxNetworkRetries: 2 });
    await expect(adapter.charge(request('4242424242424242'))).rejects.toBeInstanceOf(GatewayAmbiguousError);
    expect(posts).toBe(2);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

it('a search miss soon after the call is no proof (Stripe’s search lags): unknown until it has settled', async () => {
  const since = (msAgo: number) => ({ amount: 1000, currency: 'USD', since: new Date(Date.now() - msAgo).toISOString() });
  await expect(connector().retrieve('pay_never_sent:0', undefined, since(60_000))).rejects.toBeInstanceOf(ChargeOutcomeUnknownError);
  await expect(connector().retrieve('pay_never_sent:0', undefined, since(SEARCH_SETTLED_MS + 1))).resolves.toBeUndefined();
});

describe("Stripe's units where they differ from ISO 4217's", () => {
  it('ISK: 500 krónur are sent as 50000 (Stripe keeps ISK two-decimal), the intent is 500 krónur, and the fee comes back in krónur', async () => {
    const req = request('4242424242424242', { amount: 500, currency: 'ISK', country: 'IS' });
    const result = await connector().charge(req);
    expect(fake.requests.at(-1)!.form).toMatchObject({ amount: '50000', currency: 'isk' });
    expect(fake.intents(definition.id).get(result.gatewayReference)).toMatchObject({ amount: 50_000, currency: 'isk', status: 'succeeded' });
    // The account's fee (4.40% + 30 minor units of ISK: 52 krónur) reaches Stripe's balance transaction as 5200
    // hundredths, and comes back as 52 krónur, not 5200.
    expect(result.feeMinor).toBe(52);
    expect(fake.intents(definition.id).get(result.gatewayReference)?.latest_charge).toMatchObject({ balance_transaction: { fee: 5_200 } });
    // A refund of 200 krónur is 20000 at Stripe.
    await expect(connector().refund({ chargeReference: result.gatewayReference, amount: 200, currency: 'ISK', idempotencyKey: `${req.idempotencyKey}:re_isk` })).resolves.toMatchObject({ status: 'succeeded' });
    expect(fake.requests.at(-1)!.form).toMatchObject({ amount: '20000' });
  });

  it("the fake refuses ISK hundredths that are not whole krónur, as Stripe does (what an adapter sending ISO units would hit)", async () => {
    const res = await fetch(`${fake.url}/v1/payment_intents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${secretKey}`, 'content-type': 'application/x-www-form-urlencoded', 'stripe-version': '2025-01-27', 'idempotency-key': 'isk-hundredths' },
      body: 'amount=550&currency=isk&confirm=true&payment_method=pm_card_visa',
    });
    const body = (await res.json()) as { error: unknown };
    expect({ status: res.status, error: body.error }).toMatchObject({ status: 400, error: { code: 'invalid_charge_amount_no_decimal_compatible', param: 'amount' } });
  });

  it('KWD: an amount whose last digit is not 0 is declined before anything is sent; one that ends in 0 is charged as it is', async () => {
    const before = fake.requests.length;
    await expect(connector().charge(request('4242424242424242', { amount: 5_124, currency: 'KWD' }))).rejects.toMatchObject({
      name: 'GatewayDeclinedError',
      code: 'amount_not_supported',
      message: expect.stringContaining('multiples of 10'),
    });
    expect(fake.requests.length).toBe(before);
    const result = await connector().charge(request('4242424242424242', { amount: 5_120, currency: 'KWD' }));
    expect(fake.requests.at(-1)!.form).toMatchObject({ amount: '5120', currency: 'kwd' });
    expect(fake.intents(definition.id).get(result.gatewayReference)?.status).toBe('succeeded');
  });

  it('names the amount rules: ISK up to 999,999 krónur (eight digits in Stripe units), three-decimal currencies in tens', () => {
    const stripe = connector();
    expect(stripe.amountProblem(999_999, 'ISK')).toBeUndefined();
    expect(stripe.amountProblem(1_000_000, 'ISK')).toMatch(/up to 999999 minor units/);
    expect(stripe.amountProblem(99_999_999, 'USD')).toBeUndefined();
    expect(stripe.amountProblem(1_005, 'JOD')).toMatch(/JOD amounts in multiples of 10/);
    expect(stripe.amountProblem(1_005, 'USD')).toBeUndefined();
    expect(stripe.amountProblem(1_005, 'JPY')).toBeUndefined();
  });
});

describe('Stripe refunds', () => {
  const charged = async () => {
    const req = request('4242424242424242', { amount: 3000 });
    return { req, charge: await connector().charge(req) };
  };

  it('a partial then a full refund of the intent, each under its own key; a repeat is the same refund', async () => {
    const { charge } = await charged();
    const first = await connector().refund({ chargeReference: charge.gatewayReference, amount: 1000, currency: 'USD', idempotencyKey: 'pay_r1:re_a', reason: 'requested_by_customer' });
    expect(first).toEqual({ gatewayReference: expect.stringMatching(/^re_/), status: 'succeeded' });
    expect(fake.requests.at(-1)).toMatchObject({
      method: 'POST',
      path: '/v1/refunds',
      headers: expect.objectContaining({ 'idempotency-key': 'pay_r1:re_a' }),
      form: { payment_intent: charge.gatewayReference, amount: '1000', reason: 'requested_by_customer', metadata: { smartpay_key: 'pay_r1:re_a' } },
    });
    await expect(connector().refund({ chargeReference: charge.gatewayReference, amount: 1000, currency: 'USD', idempotencyKey: 'pay_r1:re_a', reason: 'requested_by_customer' })).resolves.toEqual(first);
    const rest = await connector().refund({ chargeReference: charge.gatewayReference, amount: 2000, currency: 'USD', idempotencyKey: 'pay_r1:re_b' });
    expect(rest.status).toBe('succeeded');
    // Nothing is left: Stripe refuses, and nothing is refunded.
    await expect(connector().refund({ chargeReference: charge.gatewayReference, amount: 1, currency: 'USD', idempotencyKey: 'pay_r1:re_c' })).rejects.toMatchObject({
      name: 'RefundDeclinedError',
      details: { gatewayCode: 'charge_already_refunded' },
    });
  });

  it('more than the charge has left is refused by Stripe (amount_too_large)', async () => {
    const { charge } = await charged();
    await expect(connector().refund({ chargeReference: charge.gatewayReference, amount: 3001, currency: 'USD', idempotencyKey: 'pay_r2:re_a' })).rejects.toMatchObject({
      name: 'RefundDeclinedError',
      details: { gatewayCode: 'amount_too_large' },
    });
  });

  it('a lost answer is ambiguous, and the refund is found by its key among the intent’s refunds', async () => {
    const { charge } = await charged();
    fake.setFault(definition.id, 'timeout');
    await expect(connector().refund({ chargeReference: charge.gatewayReference, amount: 500, currency: 'USD', idempotencyKey: 'pay_r3:re_a' })).rejects.toBeInstanceOf(GatewayAmbiguousError);
    fake.setFault(definition.id, undefined);
    await expect(connector().retrieveRefund({ idempotencyKey: 'pay_r3:re_a', chargeReference: charge.gatewayReference, amount: 0, currency: 'USD' })).resolves.toMatchObject({ status: 'succeeded' });
    await expect(connector().retrieveRefund({ idempotencyKey: 'pay_r3:re_never', chargeReference: charge.gatewayReference, amount: 0, currency: 'USD' })).resolves.toBeUndefined();
  });

  it('a refund of an intent Stripe does not know is refused (refund_declined), not a payment decline', async () => {
    await expect(connector().refund({ chargeReference: 'pi_unknown', amount: 100, currency: 'USD', idempotencyKey: 'pay_r5:re_a' })).rejects.toMatchObject({
      name: 'RefundDeclinedError',
      details: { gatewayCode: 'resource_missing' },
    });
  });

  it('a rate limit is retryable: nothing was refunded', async () => {
    const { charge } = await charged();
    fake.setFault(definition.id, 'unavailable');
    await expect(connector().refund({ chargeReference: charge.gatewayReference, amount: 500, currency: 'USD', idempotencyKey: 'pay_r4:re_a' })).rejects.toMatchObject({ name: 'GatewayRetryableError' });
    fake.setFault(definition.id, undefined);
    await expect(connector().retrieveRefund({ idempotencyKey: 'pay_r4:re_a', chargeReference: charge.gatewayReference, amount: 0, currency: 'USD' })).resolves.toBeUndefined();
  });
});

it('a 3-D Secure card is not charged yet: the intent requires an action, with its client secret; cancel ends it', async () => {
  const req = request('4000000000003220');
  const pending = await connector().charge(req);
  expect(pending).toMatchObject({ gatewayReference: expect.stringMatching(/^pi_/), requiresAction: { clientSecret: expect.stringMatching(/^pi_.+_secret_/) } });
  await expect(connector().retrieve(req.idempotencyKey, pending.gatewayReference)).resolves.toMatchObject({ requiresAction: expect.any(Object) });
  await expect(connector().cancel(req.idempotencyKey, pending.gatewayReference)).resolves.toBeUndefined();
  expect(fake.intents(definition.id).get(pending.gatewayReference)?.status).toBe('canceled');
  // Canceled, it is no charge: a lookup by reference says so (declined), and a second cancel is not an error.
  await expect(connector().retrieve(req.idempotencyKey, pending.gatewayReference)).rejects.toMatchObject({ name: 'GatewayDeclinedError', code: 'canceled' });
});

it('a charge that succeeded is not canceled: cancel answers the charge', async () => {
  const req = request('4000000000003220');
  const pending = await connector().charge(req);
  await fake.authenticate(definition.id, pending.gatewayReference, 'succeed');
  await expect(connector().cancel(req.idempotencyKey, pending.gatewayReference)).resolves.toMatchObject({ gatewayReference: pending.gatewayReference, feeMinor: 59 });
  // The fake's ledger counts the charge once, under the key that created the intent (what the fault suite reads).
  expect(readLedger(dir, definition.id).filter((line) => line.key === req.idempotencyKey && line.ok)).toHaveLength(1);
});

it('webhooks verify on the raw body with the signing secret; a forged one is refused', async () => {
  const webhookSecret = 'whsec_unit_test_secret_1';
  const signed = new StripeConnector(definition, { credentials: async () => ({ secretKey, webhookSecret }), apiUrl: fake.url });
  const payload = JSON.stringify({ id: 'evt_1', object: 'event', type: 'payment_intent.succeeded', data: { object: { id: 'pi_1', object: 'payment_intent', metadata: { smartpay_key: 'pay_x:0', smartpay_merchant: 'm_1' } } } });
  const t = Math.floor(Date.now() / 1000);
  const { createHmac } = await import('node:crypto');
  const v1 = createHmac('sha256', webhookSecret).update(`${t}.${payload}`).digest('hex');
  await expect(signed.parseWebhook(payload, { 'stripe-signature': `t=${t},v1=${v1}` })).resolves.toEqual({
    eventId: 'evt_1', type: 'payment_intent.succeeded', idempotencyKey: 'pay_x:0', merchantId: 'm_1', gatewayReference: 'pi_1',
  });
  await expect(signed.parseWebhook(payload.replace('pay_x', 'pay_y'), { 'stripe-signature': `t=${t},v1=${v1}` })).rejects.toMatchObject({ name: 'WebhookSignatureError', status: 400 });
  // An event about an intent the platform did not create is received and ignored.
  const foreign = JSON.stringify({ id: 'evt_2', object: 'event', type: 'payment_intent.succeeded', data: { object: { id: 'pi_2', object: 'payment_intent', metadata: {} } } });
  const v1f = createHmac('sha256', webhookSecret).update(`${t}.${foreign}`).digest('hex');
  await expect(signed.parseWebhook(foreign, { 'stripe-signature': `t=${t},v1=${v1f}` })).resolves.toBeUndefined();
});

it('the declines carry no card data', async () => {
  const error = (await connector().charge(request('4000000000000002')).catch((e: unknown) => e)) as GatewayRetryableError;
  expect(JSON.stringify({ message: error.message, details: error.details })).not.toMatch(/4000000000000002/);
});
