/** The edge: health, JWKS, the Cognito-like authorizer (401/403) and the HTTP error shapes (404/405/413). */
import { createLocalIssuer } from '../../local/issuer';
import type { LocalPlatform } from '../../local/platform';
import { ApiClient, fieldsOf, payBody, startPlatform, uniqueCustomer } from './client';

let platform: LocalPlatform;
let anonymous: ApiClient;
let merchant: ApiClient;

beforeAll(async () => {
  platform = await startPlatform();
  anonymous = new ApiClient(platform);
  merchant = await ApiClient.forMerchant(platform, 'm_auth');
});
afterAll(async () => {
  await platform?.close(1000);
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response JSON is navigated freely in assertions
const expectError = (result: { status: number; json: any; headers: Headers }, status: number, code: string) => {
  expect({ status: result.status, code: result.json?.error?.code }).toEqual({ status, code });
  expect(typeof result.json.error.message).toBe('string');
  expect(result.headers.get('content-type')).toContain('application/json');
};

test('GET /health needs no token', async () => {
  const result = await anonymous.call('GET', '/health');
  expect(result.status).toBe(200);
  expect(result.json).toEqual({ status: 'ok' });
});

test('GET /docs serves the API reference as HTML, with no token', async () => {
  const result = await anonymous.call('GET', '/docs');
  expect(result.status).toBe(200);
  expect(result.headers.get('content-type')).toBe('text/html; charset=utf-8');
  expect(result.text).toMatch(/^<!doctype html>/);
  for (const anchor of ['post-pay', 'get-payments-id', 'post-chat', 'post-reward-relay']) expect(result.text).toContain(`id="${anchor}"`);
});

test('GET /.well-known/jwks.json publishes the public key only', async () => {
  const result = await anonymous.call('GET', '/.well-known/jwks.json');
  expect(result.status).toBe(200);
  expect(result.json.keys).toHaveLength(1);
  expect(result.json.keys[0]).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig' });
  expect(result.json.keys[0].kid).toEqual(expect.any(String));
  for (const secret of ['d', 'p', 'q', 'dp', 'dq', 'qi']) expect(result.json.keys[0]).not.toHaveProperty(secret);
});

describe('401 like the Cognito authorizer', () => {
  test.each(['/pay', '/fraud', '/route', '/reward', '/chat'])('POST %s without a token', async (path) => {
    expectError(await anonymous.call('POST', path, { body: payBody() }), 401, 'unauthorized');
  });

  test('GET /payments/{id} without a token', async () => {
    expectError(await anonymous.call('GET', '/payments/pay_01ABCDEFGHJKMNPQRSTV'), 401, 'unauthorized');
  });

  test('a malformed token', async () => {
    expectError(await new ApiClient(platform, 'not.a.jwt').pay(payBody()), 401, 'unauthorized');
  });

  test('an Authorization header that is not Bearer', async () => {
    expectError(await anonymous.call('POST', '/pay', { body: payBody(), headers: { authorization: 'Basic dXNlcjpwYXNz' } }), 401, 'unauthorized');
  });

  test('a token signed by another key', async () => {
    const stranger = await createLocalIssuer();
    const token = await stranger.signToken({ merchantId: 'm_auth' });
    expectError(await new ApiClient(platform, token).pay(payBody()), 401, 'unauthorized');
  });

  test('an expired token', async () => {
    const token = await platform.issuer.signToken({ merchantId: 'm_auth', expiresIn: -60 });
    const result = await new ApiClient(platform, token).pay(payBody());
    expectError(result, 401, 'unauthorized');
    expect(result.json.error.message).toMatch(/expired/);
  });

  test('a token that is not an ID token', async () => {
    const token = await platform.issuer.signToken({ merchantId: 'm_auth', claims: { token_use: 'access' } });
    expectError(await new ApiClient(platform, token).pay(payBody()), 401, 'unauthorized');
  });
});

describe('403 for a valid token without the merchant claim', () => {
  let noMerchant: ApiClient;
  beforeAll(async () => {
    noMerchant = await ApiClient.forMerchant(platform, undefined);
  });

  test('POST /pay', async () => {
    expectError(await noMerchant.pay(payBody()), 403, 'forbidden');
  });

  test.each([
    ['/fraud', { amount: 1000, currency: 'USD', customerId: 'c' }],
    ['/route', { amount: 1000, currency: 'USD', method: 'card' }],
    ['/chat', { question: 'total volume today' }],
  ])('POST %s', async (path, body) => {
    expectError(await noMerchant.call('POST', path, { body }), 403, 'forbidden');
  });

  test('GET /payments/{id}', async () => {
    expectError(await noMerchant.call('GET', '/payments/pay_01ABCDEFGHJKMNPQRSTV'), 403, 'forbidden');
  });
});

describe('HTTP errors keep the error shape and are never 5xx', () => {
  test('unknown route → 404', async () => {
    expectError(await merchant.call('GET', '/nope'), 404, 'not_found');
  });

  test('wrong method → 405 with Allow', async () => {
    const result = await merchant.call('GET', '/pay');
    expectError(result, 405, 'method_not_allowed');
    expect(result.headers.get('allow')).toBe('POST');
  });

  test('body over 1 MB → 413', async () => {
    const result = await merchant.pay({ ...payBody(), description: 'x'.repeat(1024 * 1024 + 10) });
    expectError(result, 413, 'payload_too_large');
    // The same answer as the functions give in the cloud (lambdas/shared/http.ts), where API Gateway passes up to 10 MB.
    expect(result.json.error).toMatchObject({ message: 'request body must be at most 1048576 bytes', details: { issues: [{ field: '(body)', problem: 'must be at most 1048576 bytes' }] } });
    // The connection is still usable afterwards.
    expect((await merchant.call('GET', '/health')).status).toBe(200);
  });

  test('a /pay body the workflow input cannot hold → 413 naming the body, before the key is claimed', async () => {
    // 40,000 × "€": 120 KB of UTF-8, under the 1 MB every route takes, but 240,000 characters once escaped into the
    // payment workflow's input (6 each), over PAY_INPUT_MAX_CHARS: Step Functions could not start it in the cloud.
    const key = `oversize-${Date.now()}`;
    const result = await merchant.pay(payBody({ description: '€'.repeat(40_000) }), key);
    expectError(result, 413, 'payload_too_large');
    expect(fieldsOf(result)).toEqual(['(body)']);
    expect(result.json.error.message).toMatch(/^request body is too large for a payment: with it the workflow's input would take 24\d{4} characters once escaped .*at most 160000$/);
    // Nothing was claimed: the same key then takes a payment.
    const paid = await merchant.pay(payBody({ customerId: uniqueCustomer() }), key);
    expect(paid.status).toBe(201);
  });
});
