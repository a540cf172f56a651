/**
 * The Amazon Pay adapter (lambdas/payments/amazon-pay.ts) against the embedded fake of Amazon Pay's API
 * (local/gateways/amazon-pay.ts), which verifies every request's signature with the account's public key: the
 * happy path with the exact request shape, each error class, an idempotent retry, ambiguous outcomes settled by
 * repeating the call under its key, capture, and the refund rules.
 */
import { createPrivateKey, createPublicKey, createSign, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebStoreClient } from '@amazonpay/amazon-pay-api-sdk-nodejs';
import type { ConnectorDefinition } from '../../contracts/connectors';
import { GatewayDeclinedError, GatewayRetryableError, RefundDeclinedError, WebhookSignatureError } from '../../contracts/errors';
import { amazonPayKey, AmazonPayConnector, chargeBody } from '../../lambdas/payments/amazon-pay';
import { ChargeOutcomeUnknownError, GatewayAmbiguousError, type ChargeRequest, type RefundCall } from '../../lambdas/payments/connectors';
import { readLedger } from '../../lambdas/payments/sandbox';
import { snsVerifier } from '../../lambdas/payments/sns';
import { startAmazonPayFake, type AmazonPayFake } from '../../local/gateways/amazon-pay';
import { selfSignedCertificate } from '../../local/gateways/certificate';

const definition: ConnectorDefinition = {
  id: 'amazon-test', kind: 'amazon_pay', enabled: true, methods: ['wallet'], currencies: ['USD', 'EUR', 'JPY'], regions: ['*'],
  fee: { basisPoints: 270, fixedMinor: 30, rules: [{ method: 'wallet', basisPoints: 240, fixedMinor: 30 }] },
};
// An account whose issuer approves no ordinary wallet (its approval profile): every such charge is soft declined.
const strict: ConnectorDefinition = { ...definition, id: 'amazon-strict', approval: { base: 0 } };
const pair = () => generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
const keys = pair();
const publicKeyId = 'SANDBOX-AMAZONTESTKEY0001';
const strictKeyId = 'SANDBOX-AMAZONSTRICTKEY01';

let dir: string;
let fake: AmazonPayFake;
let n = 0;
const request = (token: string, overrides: Partial<ChargeRequest> = {}): ChargeRequest => ({
  amount: 1234,
  currency: 'USD',
  wallet: { wallet: 'amazon_pay', token },
  idempotencyKey: `pay_amazon${(n += 1)}:0`,
  merchantId: 'm_amazon',
  ...overrides,
});
const connector = (options: { privateKey?: string; keyId?: string; retries?: number; retryDelayMs?: number; url?: string; def?: ConnectorDefinition } = {}) =>
  new AmazonPayConnector(options.def ?? definition, {
    credentials: async () => ({ publicKeyId: options.keyId ?? publicKeyId, privateKey: options.privateKey ?? keys.privateKey, region: 'us' }),
    apiUrl: options.url ?? fake.url,
    maxRetries: options.retries ?? 0,
    retryDelayMs: options.retryDelayMs ?? 1,
    timeoutMs: 2_000,
  });
const permission = () => `S01-${String(1_000_000 + (n += 1))}-7654321`;

const chargesOfKey = (key: string) => [...fake.charges(definition.id).values()].filter((c) => c.merchantMetadata?.merchantReferenceId === key);

/** A request passed on to the fake as it came (its signed headers, its body): the fake's answer. */
async function forward(req: IncomingMessage, body: string): Promise<{ status: number; text: string }> {
  const headers = Object.fromEntries(Object.entries(req.headers).filter(([name]) => !['host', 'connection', 'content-length', 'transfer-encoding'].includes(name))) as Record<string, string>;
  const answer = await fetch(`${fake.url}${req.url}`, { method: req.method, headers, ...(req.method === 'POST' ? { body } : {}) });
  return { status: answer.status, text: await answer.text() };
}

/** A proxy in front of the fake, answering each request as `handle` decides. */
async function startProxy(handle: (req: IncomingMessage, body: string, res: ServerResponse) => Promise<void>): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => void handle(req, Buffer.concat(chunks).toString('utf8'), res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'amazon-pay-fake-'));
  fake = await startAmazonPayFake({
    accounts: [
      { definition, publicKeyId, publicKey: keys.publicKey },
      { definition: strict, publicKeyId: strictKeyId, publicKey: keys.publicKey },
    ],
    dir,
  });
});
afterAll(async () => {
  await fake.close();
  rmSync(dir, { recursive: true, force: true });
});
afterEach(() => fake.setFault(definition.id, undefined));

describe('Amazon Pay adapter against the fake of Amazon Pay’s API', () => {
  it('HappyPath: Create Charge against the charge permission, signed, under the hashed attempt key; the wallet fee', async () => {
    const token = permission();
    const req = request(token);
    const result = await connector().charge(req);
    expect(result.gatewayReference).toMatch(/^S01-\d{7}-\d{7}-C\d{7}$/);
    expect(result.feeMinor).toBe(60); // the wallet rule: 2.40% of 12.34 + 30
    const sent = fake.requests.at(-1)!;
    expect(sent.method).toBe('POST');
    expect(sent.path).toBe('/v2/charges');
    expect(sent.headers['x-amz-pay-idempotency-key']).toBe(amazonPayKey(req.idempotencyKey));
    expect(sent.headers['x-amz-pay-idempotency-key']).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(sent.headers['x-amz-pay-host']).toBe('pay-api.amazon.com');
    expect(sent.headers['x-amz-pay-region']).toBe('na');
    expect(sent.headers.authorization).toMatch(
      new RegExp(`^AMZN-PAY-RSASSA-PSS-V2 PublicKeyId=${publicKeyId}, SignedHeaders=accept;content-type;user-agent;x-amz-pay-date;x-amz-pay-host;x-amz-pay-idempotency-key;x-amz-pay-region, Signature=`),
    );
    expect(JSON.parse(sent.body)).toEqual({
      chargePermissionId: token,
      chargeAmount: { amount: '12.34', currencyCode: 'USD' },
      captureNow: true,
      canHandlePendingAuthorization: false,
      merchantMetadata: { merchantReferenceId: req.idempotencyKey, customInformation: 'm_amazon' },
    });
    expect(fake.charges(definition.id).get(result.gatewayReference)?.statusDetails.state).toBe('Captured');
  });

  it('writes a zero-decimal currency in whole units (JPY)', async () => {
    await connector().charge(request(permission(), { amount: 5000, currency: 'JPY' }));
    expect(JSON.parse(fake.requests.at(-1)!.body).chargeAmount).toEqual({ amount: '5000', currencyCode: 'JPY' });
  });

  it('the fake verifies the signature: a request signed with another key, or changed after signing, is refused', async () => {
    const other = pair();
    const refused = await connector({ privateKey: other.privateKey }).charge(request(permission())).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(GatewayRetryableError);
    expect((refused as GatewayRetryableError).code).toBe('gateway_authentication_failed');

    // A body changed after signing: the SDK signs one request, another is sent.
    const client = new WebStoreClient({ publicKeyId, privateKey: keys.privateKey, region: 'us', algorithm: 'AMZN-PAY-RSASSA-PSS-V2' });
    const signed = { method: 'POST', urlFragment: 'charges', payload: chargeBody('pay_x:0', 'S01-1-2', 100, 'USD', 'm_x'), headers: { 'x-amz-pay-idempotency-key': 'tampered-body-key' } };
    const headers = client.getSignedHeaders(signed);
    const tampered = await fetch(`${fake.url}/${signed.urlFragment}`, { method: 'POST', headers, body: JSON.stringify(chargeBody('pay_x:0', 'S01-1-2', 100_000, 'USD', 'm_x')) });
    expect(tampered.status).toBe(401);
    expect(await tampered.json()).toMatchObject({ reasonCode: 'InvalidRequestSignature' });
    // The same request unchanged is taken: the check is the signature, not the path.
    const honest = await fetch(`${fake.url}/${signed.urlFragment}`, { method: 'POST', headers, body: String(signed.payload) });
    expect(honest.status).toBe(201);
  });

  it('a connector set for another region or environment than its account’s is refused as bad credentials (routing falls back)', async () => {
    const eu = new AmazonPayConnector(definition, { credentials: async () => ({ publicKeyId, privateKey: keys.privateKey, region: 'eu' }), apiUrl: fake.url, maxRetries: 0 });
    await expect(eu.charge(request(permission()))).rejects.toMatchObject({ name: 'GatewayRetryableError', code: 'gateway_authentication_failed' });
    expect(fake.requests.at(-1)!.headers['x-amz-pay-region']).toBe('eu');
    const bare = new AmazonPayConnector(definition, {
      credentials: async () => ({ publicKeyId: publicKeyId.replace('SANDBOX-', ''), privateKey: keys.privateKey, region: 'us', sandbox: 'true' }), apiUrl: fake.url, maxRetries: 0,
    });
    // A bare key id is another account here (unknown to the fake), and its calls go to /sandbox/v2/….
    await expect(bare.charge(request(permission()))).rejects.toMatchObject({ code: 'gateway_authentication_failed' });
    expect(fake.requests.at(-1)!.path).toBe('/sandbox/v2/charges');
  });

  it.each([
    ['a refused wallet is a decline (HardDeclined)', 'wallet_declined_test', definition, GatewayDeclinedError, 'hard_declined'],
    ['an unapproved wallet is a decline (SoftDeclined)', 'S01-0000000-0000001', strict, GatewayDeclinedError, 'soft_declined'],
    ['a processing failure is retryable elsewhere (ProcessingFailure)', 'wallet_processing_error_test', definition, GatewayRetryableError, 'processing_error'],
  ] as const)('%s', async (_name, token, def, kind, code) => {
    const error = await connector({ def, keyId: def === strict ? strictKeyId : publicKeyId }).charge(request(token)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(kind);
    expect((error as GatewayDeclinedError).code).toBe(code);
  });

  it('throttled on every try: retryable (rate_limited), and nothing was charged', async () => {
    fake.setFault(definition.id, 'unavailable');
    const before = fake.charges(definition.id).size;
    const error = await connector({ retries: 2 }).charge(request(permission())).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GatewayRetryableError);
    expect((error as GatewayRetryableError).code).toBe('rate_limited');
    expect(fake.charges(definition.id).size).toBe(before);
  });

  it('a refused connection: retryable (gateway_unavailable)', async () => {
    // A port that was just free: nothing listens there.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const error = await connector({ url: `http://127.0.0.1:${port}` }).charge(request(permission())).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GatewayRetryableError);
    expect((error as GatewayRetryableError).code).toBe('gateway_unavailable');
  });

  it('an idempotent retry: the same call again answers the same charge, charged once', async () => {
    const req = request(permission());
    const first = await connector().charge(req);
    const again = await connector().charge(req);
    expect(again.gatewayReference).toBe(first.gatewayReference);
    expect([...fake.charges(definition.id).values()].filter((c) => c.merchantMetadata?.merchantReferenceId === req.idempotencyKey)).toHaveLength(1);
    expect(readLedger(dir, definition.id).filter((l) => l.key === req.idempotencyKey && l.ok)).toHaveLength(1);
  });

  it('a timeout after sending is ambiguous; repeating the call by its key finds the one charge', async () => {
    const req = request(permission());
    fake.setFault(definition.id, 'timeout');
    await expect(connector().charge(req)).rejects.toBeInstanceOf(GatewayAmbiguousError);
    fake.setFault(definition.id, undefined);
    const found = await connector().retrieve(req.idempotencyKey, undefined, { amount: req.amount, currency: req.currency, walletToken: req.wallet!.token, merchantId: 'm_amazon' });
    expect(found?.gatewayReference).toMatch(/^S01-/);
    expect([...fake.charges(definition.id).values()].filter((c) => c.merchantMetadata?.merchantReferenceId === req.idempotencyKey)).toHaveLength(1);
    // Without the charge permission, Amazon Pay cannot be asked: unknown, never "not charged".
    await expect(connector().retrieve(req.idempotencyKey, undefined, { amount: req.amount, currency: req.currency })).rejects.toBeInstanceOf(ChargeOutcomeUnknownError);
  });

  it('a lookup that gets no answer about the charge (throttled, refused credentials) is unknown; a refusal of the charge itself is an answer', async () => {
    const req = request(permission());
    const expected = { amount: req.amount, currency: req.currency, walletToken: req.wallet!.token, merchantId: 'm_amazon' };
    fake.setFault(definition.id, 'unavailable');
    await expect(connector({ retries: 1 }).retrieve(req.idempotencyKey, undefined, expected)).rejects.toBeInstanceOf(ChargeOutcomeUnknownError);
    fake.setFault(definition.id, undefined);
    await expect(connector({ privateKey: pair().privateKey }).retrieve(req.idempotencyKey, undefined, expected)).rejects.toBeInstanceOf(ChargeOutcomeUnknownError);
    // Amazon Pay's ProcessingFailure for the call: nothing was charged (the reconciler records it so).
    const failing = request('wallet_processing_error_test');
    await expect(
      connector().retrieve(failing.idempotencyKey, undefined, { amount: failing.amount, currency: failing.currency, walletToken: failing.wallet!.token, merchantId: 'm_amazon' }),
    ).rejects.toBeInstanceOf(GatewayRetryableError);
  });

  it('a 500 after processing: the adapter’s own retry under the same key gets the first call’s charge', async () => {
    const req = request(permission());
    fake.setFault(definition.id, 'server_error');
    // The first try gets the 500; the fault is lifted once it arrived, so the retry (100 ms later) gets the saved answer.
    const seen = fake.requests.length;
    const lift = setInterval(() => {
      if (fake.requests.length > seen) {
        fake.setFault(definition.id, undefined);
        clearInterval(lift);
      }
    }, 1);
    const result = await connector({ retries: 2, retryDelayMs: 100 }).charge(req);
    expect(result.gatewayReference).toMatch(/^S01-/);
    expect(fake.requests.filter((r) => r.headers['x-amz-pay-idempotency-key'] === amazonPayKey(req.idempotencyKey))).toHaveLength(2);
    expect([...fake.charges(definition.id).values()].filter((c) => c.merchantMetadata?.merchantReferenceId === req.idempotencyKey)).toHaveLength(1);
  });

  it('after a try that may have landed, a refusal from before Amazon Pay’s idempotency (a proxy’s 403) is no answer: ambiguous', async () => {
    // A proxy in front of the fake: the first try reaches Amazon Pay and its answer is lost; the retry is refused by the proxy.
    let tries = 0;
    const proxy = await startProxy(async (req, body, res) => {
      tries += 1;
      if (tries === 1) {
        await forward(req, body);
        res.socket?.destroy();
      } else {
        res.writeHead(403, { 'content-type': 'application/json' }).end(JSON.stringify({ message: 'Forbidden' }));
      }
    });
    try {
      const req = request(permission());
      await expect(connector({ url: proxy.url, retries: 1 }).charge(req)).rejects.toBeInstanceOf(GatewayAmbiguousError);
      expect(chargesOfKey(req.idempotencyKey)).toHaveLength(1);
    } finally {
      await proxy.close();
    }
  });

  it('an authorisation whose capture is refused is read again: still authorised is unknown, never "nothing charged"', async () => {
    const proxy = await startProxy(async (req, body, res) => {
      if (req.url?.endsWith('/capture')) {
        res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ reasonCode: 'InvalidChargeStatus', message: 'refused' }));
        return;
      }
      const answer = await forward(req, body);
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.text);
    });
    try {
      const req = request('wallet_capture_later_test');
      await expect(connector({ url: proxy.url }).charge(req)).rejects.toBeInstanceOf(ChargeOutcomeUnknownError);
      expect(chargesOfKey(req.idempotencyKey).map((c) => c.statusDetails.state)).toEqual(['Authorized']);
      // Through Amazon Pay itself, the reconciler's repeat captures it, once.
      await expect(connector().retrieve(req.idempotencyKey, undefined, { amount: req.amount, currency: req.currency, walletToken: req.wallet!.token, merchantId: 'm_amazon' })).resolves.toMatchObject({
        gatewayReference: chargesOfKey(req.idempotencyKey)[0]!.chargeId,
      });
      expect(chargesOfKey(req.idempotencyKey).map((c) => c.statusDetails.state)).toEqual(['Captured']);
    } finally {
      await proxy.close();
    }
  });

  it('the same key with another request is the adapter’s bug (DuplicateIdempotencyKey), never a decline', async () => {
    const req = request(permission());
    await connector().charge(req);
    await expect(connector().charge({ ...req, amount: 999 })).rejects.toThrow(/DuplicateIdempotencyKey/);
  });

  it('a charge Amazon Pay leaves Authorized is captured under its own key', async () => {
    const req = request('wallet_capture_later_test');
    const result = await connector().charge(req);
    expect(fake.charges(definition.id).get(result.gatewayReference)?.statusDetails.state).toBe('Captured');
    const capture = fake.requests.at(-1)!;
    expect(capture.path).toBe(`/v2/charges/${result.gatewayReference}/capture`);
    expect(capture.headers['x-amz-pay-idempotency-key']).toBe(amazonPayKey(`${req.idempotencyKey}:capture`));
    expect(JSON.parse(capture.body)).toEqual({ captureAmount: { amount: '12.34', currencyCode: 'USD' } });
    // Repeating the whole call (a reconciliation) captures nothing twice.
    await connector().retrieve(req.idempotencyKey, undefined, { amount: req.amount, currency: req.currency, walletToken: req.wallet!.token, merchantId: 'm_amazon' });
    expect(readLedger(dir, definition.id).filter((l) => l.key === req.idempotencyKey && l.ok)).toHaveLength(1);
  });

  it('retrieve by reference reads the charge (Get Charge), and refuses a charge that is not the key’s', async () => {
    const req = request(permission());
    const charged = await connector().charge(req);
    await expect(connector().retrieve(req.idempotencyKey, charged.gatewayReference, { amount: req.amount, currency: req.currency })).resolves.toMatchObject({ gatewayReference: charged.gatewayReference });
    expect(fake.requests.at(-1)).toMatchObject({ method: 'GET', path: `/v2/charges/${charged.gatewayReference}` });
    await expect(connector().retrieve('pay_other:0', charged.gatewayReference, { amount: req.amount, currency: req.currency })).rejects.toThrow(/not the charge of/);
  });
});

describe('Amazon Pay refunds', () => {
  const refund = (chargeReference: string, amount: number, key: string): RefundCall => ({ chargeReference, amount, currency: 'USD', idempotencyKey: key });

  it('partial, then the rest; never more than was captured; idempotent by key', async () => {
    const charged = await connector().charge(request(permission()));
    const partial = await connector().refund(refund(charged.gatewayReference, 234, 'pay_r1:re_a'));
    expect(partial).toMatchObject({ status: 'succeeded', gatewayReference: expect.stringMatching(/^S01-.*-R\d{7}$/) });
    const sent = fake.requests.find((r) => r.method === 'POST' && r.path === '/v2/refunds' && r.headers['x-amz-pay-idempotency-key'] === amazonPayKey('pay_r1:re_a'))!;
    expect(JSON.parse(sent.body)).toEqual({ chargeId: charged.gatewayReference, refundAmount: { amount: '2.34', currencyCode: 'USD' } });
    // The same refund again (same key): the same refund, not a second one.
    await expect(connector().refund(refund(charged.gatewayReference, 234, 'pay_r1:re_a'))).resolves.toMatchObject({ gatewayReference: partial.gatewayReference });
    const tooMuch = await connector().refund(refund(charged.gatewayReference, 1001, 'pay_r1:re_b')).catch((e: unknown) => e);
    expect(tooMuch).toBeInstanceOf(RefundDeclinedError);
    expect((tooMuch as RefundDeclinedError).details).toMatchObject({ gatewayCode: 'transaction_amount_exceeded' });
    await expect(connector().refund(refund(charged.gatewayReference, 1000, 'pay_r1:re_c'))).resolves.toMatchObject({ status: 'succeeded' });
    expect([...fake.refunds(definition.id).values()].filter((r) => r.chargeId === charged.gatewayReference)).toHaveLength(2);
  });

  it('a refund lost in a timeout is found by repeating it (retrieveRefund), once', async () => {
    const charged = await connector().charge(request(permission()));
    const call = refund(charged.gatewayReference, 500, 'pay_r2:re_a');
    fake.setFault(definition.id, 'timeout');
    await expect(connector().refund(call)).rejects.toBeInstanceOf(GatewayAmbiguousError);
    await expect(connector().retrieveRefund(call)).rejects.toBeInstanceOf(ChargeOutcomeUnknownError);
    fake.setFault(definition.id, undefined);
    await expect(connector().retrieveRefund(call)).resolves.toMatchObject({ status: 'succeeded' });
    expect([...fake.refunds(definition.id).values()].filter((r) => r.chargeId === charged.gatewayReference)).toHaveLength(1);
  });

  it('a refund Amazon Pay has not settled yet is pending', async () => {
    const slow = await startAmazonPayFake({ accounts: [{ definition, publicKeyId, publicKey: keys.publicKey }], refundSettleMs: 60_000 });
    try {
      const charged = await connector({ url: slow.url }).charge(request(permission()));
      await expect(connector({ url: slow.url }).refund(refund(charged.gatewayReference, 100, 'pay_r3:re_a'))).resolves.toMatchObject({ status: 'pending' });
    } finally {
      await slow.close();
    }
  });

  it('a charge that was never captured cannot be refunded', async () => {
    const error = await connector().refund(refund('S01-0000000-0000000-C0000000', 100, 'pay_r4:re_a')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RefundDeclinedError);
    expect((error as RefundDeclinedError).details).toMatchObject({ gatewayCode: 'resource_not_found' });
  });
});

describe('Amazon Pay Instant Payment Notifications (SNS-signed)', () => {
  /** Receives the fake's notifications: the raw body of each, as the platform's endpoint would. */
  async function receiver(): Promise<{ bodies: string[]; close(): Promise<void> }> {
    const bodies: string[] = [];
    const proxy = await startProxy(async (_req, body, res) => {
      bodies.push(body);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"received":true}');
    });
    fake.setWebhookBase(proxy.url);
    return { bodies, close: proxy.close };
  }

  it('a notification about a refund names the charge’s payment and merchant, read back from Amazon Pay', async () => {
    const inbox = await receiver();
    try {
      const req = request(permission());
      const charged = await connector().charge(req);
      const refunded = await connector().refund({ chargeReference: charged.gatewayReference, amount: 100, currency: 'USD', idempotencyKey: `${req.idempotencyKey}:re_1` });
      await expect(fake.notify(definition.id, 'REFUND', refunded.gatewayReference)).resolves.toMatchObject({ status: 200 });
      const raw = inbox.bodies.at(-1)!;
      const envelope = JSON.parse(raw);
      expect(envelope).toMatchObject({ Type: 'Notification', SignatureVersion: '1', SigningCertURL: expect.stringMatching(/\.pem$/) });
      expect(JSON.parse(envelope.Message)).toMatchObject({ ObjectType: 'REFUND', ObjectId: refunded.gatewayReference, NotificationType: 'STATE_CHANGE', NotificationVersion: 'V2' });
      await expect(connector().parseWebhook(raw)).resolves.toEqual({
        eventId: JSON.parse(envelope.Message).NotificationId,
        type: 'REFUND.STATE_CHANGE',
        idempotencyKey: req.idempotencyKey,
        merchantId: 'm_amazon',
        gatewayReference: charged.gatewayReference,
      });
      // The same notification again is the same event (the endpoint reads state back, so a replay is harmless).
      await expect(connector().parseWebhook(raw)).resolves.toMatchObject({ idempotencyKey: req.idempotencyKey });
    } finally {
      await inbox.close();
    }
  });

  it('refuses a changed message, a signature of another key, and a certificate from anywhere but SNS (or the local fake)', async () => {
    const inbox = await receiver();
    try {
      const charged = await connector().charge(request(permission()));
      await fake.notify(definition.id, 'CHARGE', charged.gatewayReference);
      const envelope = JSON.parse(inbox.bodies.at(-1)!);
      const changed = { ...envelope, Message: envelope.Message.replace(charged.gatewayReference, 'S01-0000000-0000000-C0000000') };
      await expect(connector().parseWebhook(JSON.stringify(changed))).rejects.toBeInstanceOf(WebhookSignatureError);
      const elsewhere = { ...envelope, SigningCertURL: 'https://attacker.example.com/SimpleNotificationService-x.pem' };
      await expect(connector().parseWebhook(JSON.stringify(elsewhere))).rejects.toThrow(/not an SNS certificate host/);
      await expect(connector().parseWebhook('not json')).rejects.toBeInstanceOf(WebhookSignatureError);
      // In the cloud (no local origin), the fake's own certificate URL is not trusted either.
      const cloud = new AmazonPayConnector(definition, { credentials: async () => ({ publicKeyId, privateKey: keys.privateKey, region: 'us' }), sns: snsVerifier() });
      await expect(cloud.parseWebhook(JSON.stringify(envelope))).rejects.toThrow(/not an SNS certificate host/);
    } finally {
      await inbox.close();
    }
  });

  it('verifies a SignatureVersion 2 (SHA256withRSA) message with an SNS-hosted certificate', async () => {
    const signer = pair();
    const pem = selfSignedCertificate(createPrivateKey(signer.privateKey), createPublicKey(signer.publicKey), 'sns.amazonaws.com');
    const fields = { Type: 'Notification', MessageId: 'm-1', TopicArn: 'arn:aws:sns:us-east-1:1:t', Message: '{"ObjectType":"CHARGE_PERMISSION","ObjectId":"S01-1-1"}', Timestamp: '2026-12-02T00:00:00.000Z' };
    const canonical = ['Message', 'MessageId', 'Timestamp', 'TopicArn', 'Type'].map((k) => `${k}\n${fields[k as keyof typeof fields]}\n`).join('');
    const signed = { ...fields, SignatureVersion: '2', Signature: createSign('RSA-SHA256').update(canonical).sign(signer.privateKey, 'base64'), SigningCertURL: 'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem' };
    const fetched: string[] = [];
    const verifier = snsVerifier({ fetchText: async (url) => (fetched.push(url), pem) });
    await expect(verifier.verify(JSON.stringify(signed))).resolves.toMatchObject({ MessageId: 'm-1' });
    await verifier.verify(JSON.stringify(signed));
    expect(fetched).toEqual([signed.SigningCertURL]); // fetched once, then kept
    await expect(verifier.verify(JSON.stringify({ ...signed, Timestamp: '2026-12-02T00:00:01.000Z' }))).rejects.toBeInstanceOf(WebhookSignatureError);
  });
});
