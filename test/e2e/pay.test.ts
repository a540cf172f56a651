/** POST /pay over HTTP: validation, idempotency (replay, conflict, in-flight), GET /payments/{id}, rewards. */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { HandlerOverride } from '../../local/functions';
import { LOCAL_TABLES } from '../../local/env';
import type { LocalPlatform } from '../../local/platform';
import { ApiClient, card, expectDeclaredPayment, fieldsOf, payBody, startPlatform, uniqueCustomer, uniqueMerchant } from './client';

/** Holds the charge of payments whose Idempotency-Key is `gated`, until the test releases it. */
const gate = { key: '', entered: () => undefined as void, release: () => undefined as void };
let entered: Promise<void>;
let released: Promise<void>;
const holdCharge: HandlerOverride = async (event, next) => {
  const step = event as { step?: string; payment?: { idempotencyKey?: string } };
  if (step.step === 'charge' && gate.key !== '' && step.payment?.idempotencyKey === gate.key) {
    gate.entered();
    await released;
  }
  return next(event);
};

let platform: LocalPlatform;
let db: DynamoDBDocumentClient;
let raw: DynamoDBClient;

beforeAll(async () => {
  platform = await startPlatform({ handlerOverrides: { payments: holdCharge } });
  raw = new DynamoDBClient({ endpoint: platform.store.endpoint, region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  db = DynamoDBDocumentClient.from(raw);
});
afterAll(async () => {
  gate.release();
  raw?.destroy();
  await platform?.close(1000);
});

async function paymentsOf(merchantId: string): Promise<Array<Record<string, unknown>>> {
  const { Items } = await db.send(
    new QueryCommand({ TableName: LOCAL_TABLES.payments, KeyConditionExpression: 'merchantId = :m', ExpressionAttributeValues: { ':m': merchantId } }),
  );
  return Items ?? [];
}

describe('validation: 400 naming the field', () => {
  let client: ApiClient;
  beforeAll(async () => {
    client = await ApiClient.forMerchant(platform, uniqueMerchant());
  });

  test.each([
    ['unsupported currency XYZ', { currency: 'XYZ' }, 'currency'],
    ['amount 0', { amount: 0 }, 'amount'],
    ['fractional amount 12.5', { amount: 12.5 }, 'amount'],
    ['missing paymentMethod', { paymentMethod: undefined }, 'paymentMethod'],
    ['card number with letters', { paymentMethod: { ...card(), number: '4242abcd42424242' } }, 'paymentMethod.number'],
  ])('%s', async (_label, overrides, field) => {
    const result = await client.pay(payBody(overrides));
    expect(result.status).toBe(400);
    expect(result.json.error.code).toBe('validation_error');
    expect(fieldsOf(result)).toContain(field);
  });

  test('invalid JSON', async () => {
    const result = await client.call('POST', '/pay', { raw: '{"amount": 1999,', headers: { 'idempotency-key': randomUUID() } });
    expect(result.status).toBe(400);
    expect(result.json.error.code).toBe('validation_error');
    expect(fieldsOf(result)).toEqual(['(body)']);
  });

  test('missing Idempotency-Key', async () => {
    const result = await client.pay(payBody(), null);
    expect(result.status).toBe(400);
    expect(result.json.error.code).toBe('validation_error');
    expect(result.json.error.message).toMatch(/Idempotency-Key/);
  });

  test('a rejected request does not create a payment', async () => {
    const merchantId = uniqueMerchant();
    const other = await ApiClient.forMerchant(platform, merchantId);
    expect((await other.pay(payBody({ amount: 0 }))).status).toBe(400);
    expect(await paymentsOf(merchantId)).toHaveLength(0);
  });
});

test('what the request said is on the payment: ipCountry too (nothing accepted is dropped), and the description\'s word set is never shown', async () => {
  const client = await ApiClient.forMerchant(platform, uniqueMerchant());
  const paid = await client.pay(payBody({ customerId: uniqueCustomer(), country: 'US', ipCountry: 'DE', description: 'Blue mug' }));
  expect(paid.status).toBe(201);
  const read = await client.call('GET', `/payments/${paid.json.payment.paymentId}`);
  expect(read.json.payment).toMatchObject({ country: 'US', ipCountry: 'DE', description: 'Blue mug' });
  expect(read.json.payment.searchWords).toBeUndefined();
  expectDeclaredPayment(paid.json.payment);
  expectDeclaredPayment(read.json.payment);
});

describe('idempotency', () => {
  test('same key, same payload: the identical response, one payment', async () => {
    const merchantId = uniqueMerchant();
    const client = await ApiClient.forMerchant(platform, merchantId);
    const key = randomUUID();
    const first = await client.pay(payBody(), key);
    const second = await client.pay(payBody(), key);
    expect(first.status).toBe(201);
    expect(second.status).toBe(first.status);
    expect(second.text).toBe(first.text);
    expect(await paymentsOf(merchantId)).toHaveLength(1);
  });

  test('same key, different payload: 422', async () => {
    const client = await ApiClient.forMerchant(platform, uniqueMerchant());
    const key = randomUUID();
    expect((await client.pay(payBody(), key)).status).toBe(201);
    const conflict = await client.pay(payBody({ amount: 2999 }), key);
    expect(conflict.status).toBe(422);
    expect(conflict.json.error.code).toBe('idempotency_key_reused');
  });

  test('the same key from another merchant is another request', async () => {
    const key = randomUUID();
    const a = await (await ApiClient.forMerchant(platform, uniqueMerchant())).pay(payBody(), key);
    const b = await (await ApiClient.forMerchant(platform, uniqueMerchant())).pay(payBody(), key);
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(a.json.payment.paymentId).not.toBe(b.json.payment.paymentId);
  });

  test('a duplicate while the first is in flight: 409, then the first completes', async () => {
    const merchantId = uniqueMerchant();
    const client = await ApiClient.forMerchant(platform, merchantId);
    const key = randomUUID();
    entered = new Promise<void>((resolve) => {
      gate.entered = resolve;
    });
    released = new Promise<void>((resolve) => {
      gate.release = resolve;
    });
    gate.key = key;
    try {
      const first = client.pay(payBody(), key);
      await entered; // the first request is charging, its key claimed
      const duplicate = await client.pay(payBody(), key);
      expect(duplicate.status).toBe(409);
      expect(duplicate.json.error.code).toBe('idempotency_in_progress');
      gate.release();
      const completed = await first;
      expect(completed.status).toBe(201);
      const replay = await client.pay(payBody(), key);
      expect(replay.text).toBe(completed.text);
      expect(await paymentsOf(merchantId)).toHaveLength(1);
    } finally {
      gate.key = '';
      gate.release();
    }
  });
});

describe('GET /payments/{id} and rewards', () => {
  let owner: ApiClient;
  let paymentId: string;
  beforeAll(async () => {
    owner = await ApiClient.forMerchant(platform, uniqueMerchant());
    const result = await owner.pay(payBody({ amount: 25_000, customerId: uniqueCustomer() }));
    expect(result.status).toBe(201);
    paymentId = result.json.payment.paymentId;
  });

  test("the owner reads it; the card number never appears", async () => {
    const result = await owner.call('GET', `/payments/${paymentId}`);
    expect(result.status).toBe(200);
    expect(result.json.payment).toMatchObject({ paymentId, status: 'succeeded', amount: 25_000, currency: 'USD' });
    expect(result.text).not.toContain('4242424242424242');
  });

  test("another merchant's payment is 404", async () => {
    const stranger = await ApiClient.forMerchant(platform, uniqueMerchant());
    const result = await stranger.call('GET', `/payments/${paymentId}`);
    expect(result.status).toBe(404);
    expect(result.json.error.code).toBe('not_found');
  });

  test('an unknown id is 404; a malformed one is 400 naming path.id (never echoed back at length)', async () => {
    expect((await owner.call('GET', '/payments/pay_00000000000000000000')).status).toBe(404);
    for (const bad of ['%E0%A4%A', '..%2F..%2Fetc', `pay_${'A'.repeat(3000)}`, 'pay_0000000000000000000a']) {
      const result = await owner.call('GET', `/payments/${bad}`);
      expect(result.status).toBe(400);
      expect(result.json.error.details.issues).toEqual([{ field: 'path.id', problem: 'must be a payment id (pay_...)' }]);
      expect(result.text.length).toBeLessThan(400);
    }
  });

  test('the reward workflow recorded the ledger entry; POST /reward returns it (tokens as base units)', async () => {
    await platform.idle();
    const result = await owner.call('POST', '/reward', { body: { paymentId } });
    expect(result.status).toBe(200); // already issued by the workflow, so not created now
    expect(result.json.reward).toMatchObject({ paymentId, amount: 25_000, currency: 'USD' });
    expect(result.json.reward.tokens).toMatch(/^\d+$/);
    expect(BigInt(result.json.reward.tokens)).toBeGreaterThan(0n);
  });

  test('a payment in a currency without a USD rate gets a reward that says so, with no tokens; the payment is untouched', async () => {
    const paid = await owner.pay(payBody({ amount: 4_200, currency: 'GBP', customerId: uniqueCustomer() }));
    expect(paid.status).toBe(201);
    await platform.idle();
    expect((await owner.call('GET', `/payments/${paid.json.payment.paymentId}`)).json.payment.status).toBe('succeeded');
    const reward = await owner.call('POST', '/reward', { body: { paymentId: paid.json.payment.paymentId } });
    expect(reward.status).toBe(200); // recorded by the workflow, without retries or the DLQ
    expect(reward.json.reward).toMatchObject({ currency: 'GBP', tokens: '0', status: 'error', error: expect.stringMatching(/no USD rate for GBP.*REWARD_USD_RATES/) });
    expect(platform.dlq.count()).toBe(0);
  });

  test("POST /reward for another merchant's payment is refused", async () => {
    const stranger = await ApiClient.forMerchant(platform, uniqueMerchant());
    const result = await stranger.call('POST', '/reward', { body: { paymentId } });
    expect([404, 409]).toContain(result.status);
  });
});
