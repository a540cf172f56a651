/**
 * An embedded fake of Amazon Pay's API (v2), test-grade: the calls the Amazon Pay adapter makes (Create Charge
 * against a Charge Permission, Get Charge, Capture Charge, Create Refund, Get Refund), with Amazon Pay's request
 * shapes asserted and its error bodies (`{reasonCode, message}`) answered, so `npm start` and the tests run the
 * adapter users deploy (lambdas/payments/amazon-pay.ts).
 *
 * What it asserts, as Amazon Pay does or as our adapter must: every request signed (`authorization:
 * AMZN-PAY-RSASSA-PSS[-V2] PublicKeyId=…, SignedHeaders=…, Signature=…`), the signature verified with the
 * account's public key over the canonical request (method, path, query, the signed headers, the body's SHA-256),
 * `x-amz-pay-date`, `-host` and `-region` among the signed headers and the date within 15 minutes; JSON bodies
 * with known fields only; an `x-amz-pay-idempotency-key` (at most 32 of `A-Za-z0-9_-`) on every POST; and
 * idempotency as Amazon Pay keeps it: the same key with the same request answers the first answer, with another
 * request it is a 400 `DuplicateIdempotencyKey`.
 *
 * The buyer's Charge Permission is the wallet token; the issuer is the test world's (contracts/issuer.ts): its
 * test tokens, and the account's approval profile for the others. Every other token is a Chargeable permission.
 * Refunds start `RefundInitiated` and settle `Refunded` `refundSettleMs` later, as Amazon Pay settles them after
 * a while; each settling is notified as Amazon Pay's Instant Payment Notifications are: an SNS message, signed
 * with the fake's SNS key (SignatureVersion 1), whose self-signed certificate the fake serves at its
 * SigningCertURL, posted to the platform's `POST /webhooks/amazon-pay/{connectorId}` (`setWebhookBase`).
 * One account per Amazon Pay connector of the registry, told apart by its public key id.
 *
 * Faults, per account (`setFault`; the local platform takes them from SANDBOX_FAULTS): `unavailable` answers 429
 * before processing (retryable); `timeout` processes the call and then drops the connection (the caller cannot
 * know: it must repeat the call by its key); `server_error` processes it and answers a 500 (a repeat of its key
 * answers the call's real outcome).
 *
 * Its state is the gateway's own, outside the platform: each processed call is a line of
 * `<dir>/<connector>.jsonl`, written before the answer; a charge's lines have the sandbox ledger's fields (`key`:
 * the charge's merchantReferenceId, which is the platform's gateway key; `ok` once captured), so
 * `npm run test:faults` counts charges from it.
 */
import { createHash, createSign, createVerify, constants as cryptoConstants, generateKeyPairSync, randomInt, randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { connectorFee, type ConnectorDefinition } from '../../contracts/connectors';
import { CAPTURE_LATER_WALLET_TOKEN, issuerAnswer } from '../../contracts/issuer';
import { formatMajor, parseMajor } from '../../contracts/money';
import { selfSignedCertificate } from './certificate';
import { deliverWebhook, Journal, keepRequest, serveJson, type Answer, type FakeOptions, type LedgerFields, type WebhookDelivery } from './server';

export type AmazonPayFault = 'unavailable' | 'timeout' | 'server_error';
export const AMAZON_PAY_FAULTS: readonly AmazonPayFault[] = ['unavailable', 'timeout', 'server_error'];

/** An Amazon Pay connector the fake serves: its public key id and the public key its requests are verified with. */
export interface AmazonPayAccount {
  readonly definition: ConnectorDefinition;
  readonly publicKeyId: string;
  /** The account's RSA public key (PEM). */
  readonly publicKey: string;
  /** The account's region (`us`/`na`, `eu`/`uk`/`de`, `jp`): its requests must be signed for that region's host. @default us */
  readonly region?: string;
}

export interface AmazonPayFakeOptions extends FakeOptions<AmazonPayFault> {
  readonly accounts: readonly AmazonPayAccount[];
  /** How long after its creation a refund reads `Refunded`. @default 0 */
  readonly refundSettleMs?: number;
}

export interface AmazonPayFake {
  readonly url: string;
  /** Where the accounts' Instant Payment Notifications go: `<base>/<connectorId>` (the platform's POST /webhooks/amazon-pay/{connectorId}). */
  setWebhookBase(base: string): void;
  /**
   * Sends an Instant Payment Notification about an object (as Amazon Pay does on a state change, or again, as it
   * retries one): an SNS message signed with the fake's SNS key, whose certificate it serves at SigningCertURL. The
   * endpoint's answer, or undefined when no webhook base is set.
   */
  notify(connectorId: string, objectType: 'CHARGE' | 'REFUND', objectId: string): Promise<WebhookDelivery | undefined>;
  /** How long after its creation a refund settles (`Refunded`, and its notification sent). */
  setRefundSettleMs(ms: number): void;
  setFault(connectorId: string, fault: AmazonPayFault | undefined): void;
  /** The latest requests it received (method, path, headers, body text; at most 500), oldest first: what tests assert shapes on. */
  readonly requests: ReadonlyArray<{ method: string; path: string; headers: IncomingMessage['headers']; body: string }>;
  /** The account's charges, by id. */
  charges(connectorId: string): ReadonlyMap<string, AmazonPayCharge>;
  /** The account's refunds, by id. */
  refunds(connectorId: string): ReadonlyMap<string, AmazonPayRefund>;
  close(): Promise<void>;
}

interface Price {
  readonly amount: string;
  readonly currencyCode: string;
}

interface StatusDetails {
  readonly state: string;
  readonly reasonCode: string | null;
  readonly reasonDescription: string | null;
  readonly lastUpdatedTimestamp: string;
}

/** The Charge object (Amazon Pay's field names). */
export interface AmazonPayCharge {
  readonly chargeId: string;
  readonly chargePermissionId: string;
  readonly chargeAmount: Price;
  readonly captureAmount: Price | null;
  readonly refundedAmount: Price;
  readonly softDescriptor: string | null;
  readonly merchantMetadata: Record<string, string | null> | null;
  readonly statusDetails: StatusDetails;
  readonly creationTimestamp: string;
  readonly expirationTimestamp: string;
  readonly releaseEnvironment: 'Sandbox';
}

/** The Refund object (Amazon Pay's field names). */
export interface AmazonPayRefund {
  readonly refundId: string;
  readonly chargeId: string;
  readonly refundAmount: Price;
  readonly softDescriptor: string | null;
  readonly statusDetails: StatusDetails;
  readonly creationTimestamp: string;
  readonly releaseEnvironment: 'Sandbox';
}

/** A line of an account's file: a processed POST (its key, request hash and answer), or an object's later state. */
interface Line extends LedgerFields {
  readonly amazon: {
    readonly idempotencyKey?: string;
    readonly requestHash?: string;
    readonly answer?: Answer;
    readonly charge?: AmazonPayCharge;
    readonly refund?: AmazonPayRefund;
  };
}

const CHARGE_FIELDS = new Set(['chargePermissionId', 'chargeAmount', 'captureNow', 'canHandlePendingAuthorization', 'softDescriptor', 'merchantMetadata', 'providerMetadata', 'platformId']);
const METADATA_FIELDS = new Set(['merchantReferenceId', 'merchantStoreName', 'noteToBuyer', 'customInformation']);
const CAPTURE_FIELDS = new Set(['captureAmount', 'softDescriptor']);
const REFUND_FIELDS = new Set(['chargeId', 'refundAmount', 'softDescriptor']);
const SIGNED_REQUIRED = ['x-amz-pay-date', 'x-amz-pay-host', 'x-amz-pay-region'];
const ALGORITHMS: Readonly<Record<string, number>> = { 'AMZN-PAY-RSASSA-PSS': 20, 'AMZN-PAY-RSASSA-PSS-V2': 32 };
/** Each region's `x-amz-pay-region` and API host (what a request for an account of that region is signed for). */
const REGIONS: Readonly<Record<string, { readonly code: string; readonly host: string }>> = {
  us: { code: 'na', host: 'pay-api.amazon.com' }, na: { code: 'na', host: 'pay-api.amazon.com' },
  eu: { code: 'eu', host: 'pay-api.amazon.eu' }, uk: { code: 'eu', host: 'pay-api.amazon.eu' }, de: { code: 'eu', host: 'pay-api.amazon.eu' },
  jp: { code: 'jp', host: 'pay-api.amazon.jp' },
};
/** Amazon Pay allows at most 10 refunds of a charge. */
const MAX_REFUNDS = 10;
/** Where the fake serves its SNS signing certificate (SNS's own live at sns.<region>.amazonaws.com). */
const CERT_PATH = '/sns/SimpleNotificationService-local.pem';

const error = (status: number, reasonCode: string, message: string): Answer => ({ status, body: { reasonCode, message } });

/** An Amazon Pay style object id (`S01-1234567-1234567`, a charge's with `-C…`, a refund's with `-R…`). */
function objectId(suffix = ''): string {
  const digits = () => String(randomInt(1_000_000, 10_000_000));
  return `S01-${digits()}-${digits()}${suffix ? `-${suffix}${digits()}` : ''}`;
}

class Account {
  readonly charges = new Map<string, AmazonPayCharge>();
  readonly refunds = new Map<string, AmazonPayRefund>();
  /** Processed POSTs by idempotency key: the request's hash and the first answer. */
  readonly calls = new Map<string, { readonly requestHash: string; readonly answer: Answer }>();
  private readonly journal: Journal<Line>;

  constructor(
    readonly definition: ConnectorDefinition,
    readonly publicKeyId: string,
    readonly publicKey: string,
    readonly region: string,
    dir: string | undefined,
  ) {
    this.journal = new Journal(dir, definition.id);
    for (const line of this.journal.lines()) if (line.amazon) this.apply(line);
  }

  private apply(line: Line): void {
    const { idempotencyKey, requestHash, answer, charge, refund } = line.amazon;
    if (idempotencyKey && requestHash && answer && !this.calls.has(idempotencyKey)) this.calls.set(idempotencyKey, { requestHash, answer });
    if (charge) this.charges.set(charge.chargeId, charge);
    if (refund) this.refunds.set(refund.refundId, refund);
  }

  record(line: Line): void {
    this.apply(line);
    this.journal.append(line);
  }

  /** What a charge's refunds took (every refund not declined). */
  refunded(chargeId: string): number {
    let total = 0;
    for (const r of this.refunds.values()) {
      if (r.chargeId === chargeId && r.statusDetails.state !== 'Declined') total += parseMajor(r.refundAmount.amount, r.refundAmount.currencyCode) ?? 0;
    }
    return total;
  }
}

/** A JSON object's own fields, or undefined when the value is not one. */
function objectOf(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/** A price field checked: its minor units, or the 400 Amazon Pay answers. */
function priceOf(value: unknown, field: string): { minor: number; price: Price } | Answer {
  const price = objectOf(value);
  if (!price) return error(400, 'MissingParameterValue', `The mandatory parameter ${field} is missing`);
  const { amount, currencyCode } = price;
  if (typeof amount !== 'string' || typeof currencyCode !== 'string' || !/^[A-Z]{3}$/.test(currencyCode)) {
    return error(400, 'InvalidParameterValue', `The value provided for ${field} is invalid: amount is a decimal string and currencyCode an ISO 4217 code`);
  }
  const minor = parseMajor(amount, currencyCode);
  if (minor === undefined || minor <= 0) return error(400, 'InvalidParameterValue', `The value provided for ${field}.amount (${amount}) is invalid`);
  return { minor, price: { amount, currencyCode } };
}

const isAnswer = (value: object): value is Answer => 'status' in value && 'body' in value;

export async function startAmazonPayFake(options: AmazonPayFakeOptions): Promise<AmazonPayFake> {
  const now = options.now ?? (() => new Date());
  const byKeyId = new Map<string, Account>();
  const byId = new Map<string, Account>();
  for (const a of options.accounts) {
    if (!REGIONS[a.region ?? 'us']) throw new Error(`the fake of Amazon Pay has no region ${a.region}`);
    const account = new Account(a.definition, a.publicKeyId, a.publicKey, a.region ?? 'us', options.dir);
    byKeyId.set(a.publicKeyId, account);
    byId.set(a.definition.id, account);
  }
  const faults = new Map<string, AmazonPayFault>(Object.entries(options.faults ?? {}));
  const requests: { method: string; path: string; headers: IncomingMessage['headers']; body: string }[] = [];
  // The notifications' SNS signing key and its certificate (served at CERT_PATH).
  const sns = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const certificate = selfSignedCertificate(sns.privateKey, sns.publicKey, 'sns.amazon-pay.local');
  let webhookBase: string | undefined;
  let refundSettleMs = options.refundSettleMs ?? 0;
  const timers = new Set<NodeJS.Timeout>();
  let url = '';
  const stamp = () => now().toISOString().replace(/\.\d+Z$/, 'Z');
  const status = (state: string, reasonCode: string | null = null, reasonDescription: string | null = null): StatusDetails => ({
    state, reasonCode, reasonDescription, lastUpdatedTimestamp: stamp(),
  });

  /** The request's signature checked: its account, or the error Amazon Pay answers. */
  function authenticate(req: IncomingMessage, path: string, query: string, raw: string): Account | Answer {
    const auth = /^(AMZN-PAY-RSASSA-PSS(?:-V2)?) PublicKeyId=([^,\s]+), SignedHeaders=([^,\s]+), Signature=([A-Za-z0-9+/=]+)$/.exec(String(req.headers.authorization ?? ''));
    if (!auth) return error(400, 'MissingHeader', 'The authorization header is missing or is not AMZN-PAY-RSASSA-PSS[-V2] PublicKeyId=…, SignedHeaders=…, Signature=…');
    const [, algorithm, publicKeyId, signedList, signature] = auth;
    const account = byKeyId.get(publicKeyId!);
    if (!account) return error(401, 'UnauthorizedAccess', `The public key id ${publicKeyId} is not authorized to execute this request`);
    const signed = signedList!.split(';');
    const required = req.method === 'POST' ? [...SIGNED_REQUIRED, 'x-amz-pay-idempotency-key'] : SIGNED_REQUIRED;
    for (const name of required) {
      if (!signed.includes(name)) return error(400, 'MissingHeader', `The ${name} header is missing from the signed headers`);
    }
    for (const name of signed) {
      if (req.headers[name] === undefined) return error(400, 'MissingHeaderValue', `The signed header ${name} was not sent`);
    }
    const canonical = [
      req.method,
      path,
      query,
      ...signed.map((name) => `${name}:${String(req.headers[name])}`),
      '',
      signedList,
      createHash('sha256').update(raw).digest('hex'),
    ].join('\n');
    const toSign = `${algorithm}\n${createHash('sha256').update(canonical).digest('hex')}`;
    const valid = createVerify('RSA-SHA256')
      .update(toSign)
      .verify({ key: account.publicKey, padding: cryptoConstants.RSA_PKCS1_PSS_PADDING, saltLength: ALGORITHMS[algorithm!] }, signature!, 'base64');
    if (!valid) return error(401, 'InvalidRequestSignature', 'The signature does not match the request: check the signing key, the signed headers and the body');
    // Signed for this account's region and host, and for its environment: a key with its environment in its id
    // (SANDBOX-…/LIVE-…) calls /v2/…, a bare one /sandbox/v2/… (the fake is a sandbox).
    const region = REGIONS[account.region]!;
    if (req.headers['x-amz-pay-region'] !== region.code || req.headers['x-amz-pay-host'] !== region.host) {
      return error(401, 'UnauthorizedAccess', `the request is signed for ${String(req.headers['x-amz-pay-region'])} (${String(req.headers['x-amz-pay-host'])}), not this account's region ${region.code} (${region.host})`);
    }
    const prefixed = /^(SANDBOX|LIVE)-/i.test(account.publicKeyId);
    if (prefixed ? !path.startsWith('/v2/') : !path.startsWith('/sandbox/v2/')) {
      return error(401, 'UnauthorizedAccess', `${path} is not this key's environment: ${prefixed ? '/v2/… for a SANDBOX- key' : '/sandbox/v2/… for a bare sandbox key'}`);
    }
    const date = Date.parse(String(req.headers['x-amz-pay-date']));
    if (!Number.isFinite(date) || Math.abs(date - now().getTime()) > 15 * 60_000) {
      return error(400, 'InvalidHeaderValue', 'x-amz-pay-date must be the request time (ISO 8601, within 15 minutes)');
    }
    return account;
  }

  /** A processed call's answer, and its line (none for a request refused before processing: nothing is kept of it). */
  type Processed = { readonly answer: Answer; readonly line?: Line };

  function createCharge(account: Account, body: Record<string, unknown>): Processed {
    for (const name of Object.keys(body)) if (!CHARGE_FIELDS.has(name)) return { answer: error(400, 'InvalidRequest', `The parameter ${name} is not a Create Charge parameter`) };
    const permission = body.chargePermissionId;
    if (typeof permission !== 'string' || permission === '') return { answer: error(400, 'MissingParameterValue', 'The mandatory parameter chargePermissionId is missing') };
    const price = priceOf(body.chargeAmount, 'chargeAmount');
    if (isAnswer(price)) return { answer: price };
    const { currencies } = account.definition;
    if (!currencies.includes('*') && !currencies.includes(price.price.currencyCode)) {
      return { answer: error(400, 'CurrencyMismatch', `The account does not charge ${price.price.currencyCode}`) };
    }
    const metadata = body.merchantMetadata === undefined ? {} : objectOf(body.merchantMetadata);
    if (!metadata || Object.entries(metadata).some(([k, v]) => !METADATA_FIELDS.has(k) || typeof v !== 'string')) {
      return { answer: error(400, 'InvalidParameterValue', 'merchantMetadata takes merchantReferenceId, merchantStoreName, noteToBuyer and customInformation strings') };
    }
    if (typeof metadata.merchantReferenceId === 'string' && metadata.merchantReferenceId.length > 256) {
      return { answer: error(400, 'InvalidParameterValue', 'merchantMetadata.merchantReferenceId is at most 256 characters') };
    }
    for (const flag of ['captureNow', 'canHandlePendingAuthorization'] as const) {
      if (body[flag] !== undefined && typeof body[flag] !== 'boolean') return { answer: error(400, 'InvalidParameterValue', `${flag} is a boolean`) };
    }
    if (body.softDescriptor !== undefined && (typeof body.softDescriptor !== 'string' || body.softDescriptor.length > 16)) {
      return { answer: error(400, 'InvalidParameterValue', 'softDescriptor is a string of at most 16 characters') };
    }
    const reference = typeof metadata.merchantReferenceId === 'string' ? metadata.merchantReferenceId : undefined;
    const key = reference ?? permission;
    const issued = issuerAnswer({ amount: price.minor, wallet: { token: permission } }, { connectorId: account.definition.id, key, approval: account.definition.approval, now: now() });
    const at = now().toISOString();
    const base = { key, at, amount: price.minor, currency: price.price.currencyCode };
    if (issued.kind !== 'approved') {
      // Amazon Pay's decline codes: a refused wallet is HardDeclined, an unapproved one SoftDeclined.
      const answer =
        issued.kind === 'retryable'
          ? error(500, 'ProcessingFailure', 'Amazon could not process the Charge because of an internal processing error; retry the Charge if the Charge Permission is Chargeable')
          : issued.kind === 'declined' && issued.code === 'payment_method_declined'
            ? error(400, 'HardDeclined', 'The Charge was hard declined: retries will not succeed; ask the buyer for another payment method')
            : error(400, 'SoftDeclined', 'The Charge was soft declined: ask the buyer to choose another payment method');
      return { answer, line: { ...base, ok: false, amazon: {} } };
    }
    const capture = body.captureNow === true && permission !== CAPTURE_LATER_WALLET_TOKEN;
    const zero = { amount: formatMajor({ amount: 0, currency: price.price.currencyCode }), currencyCode: price.price.currencyCode };
    const charge: AmazonPayCharge = {
      chargeId: objectId('C'),
      chargePermissionId: permission,
      chargeAmount: price.price,
      captureAmount: capture ? price.price : null,
      refundedAmount: zero,
      softDescriptor: typeof body.softDescriptor === 'string' ? body.softDescriptor : null,
      merchantMetadata: { merchantReferenceId: reference ?? null, merchantStoreName: null, noteToBuyer: null, customInformation: null, ...metadata },
      statusDetails: status(capture ? 'Captured' : 'Authorized'),
      creationTimestamp: stamp(),
      expirationTimestamp: new Date(now().getTime() + 30 * 86_400_000).toISOString().replace(/\.\d+Z$/, 'Z'),
      releaseEnvironment: 'Sandbox',
    };
    const fee = connectorFee(account.definition.fee, { amountMinor: price.minor, method: 'wallet' });
    return {
      answer: { status: 201, body: charge },
      line: { ...base, ok: capture, ...(capture ? { result: { gatewayReference: charge.chargeId, feeMinor: fee } } : {}), amazon: { charge } },
    };
  }

  function captureCharge(account: Account, chargeId: string, body: Record<string, unknown>): Processed {
    for (const name of Object.keys(body)) if (!CAPTURE_FIELDS.has(name)) return { answer: error(400, 'InvalidRequest', `The parameter ${name} is not a Capture Charge parameter`) };
    const charge = account.charges.get(chargeId);
    if (!charge) return { answer: error(404, 'ResourceNotFound', `The Charge ${chargeId} does not exist`) };
    const price = priceOf(body.captureAmount, 'captureAmount');
    if (isAnswer(price)) return { answer: price };
    if (charge.statusDetails.state !== 'Authorized') return { answer: error(400, 'InvalidChargeStatus', `The Charge is ${charge.statusDetails.state}; only an Authorized Charge can be captured`) };
    const authorised = parseMajor(charge.chargeAmount.amount, charge.chargeAmount.currencyCode) ?? 0;
    if (price.price.currencyCode !== charge.chargeAmount.currencyCode) return { answer: error(400, 'CurrencyMismatch', 'captureAmount is not in the Charge\'s currency') };
    if (price.minor > authorised) return { answer: error(400, 'TransactionAmountExceeded', `captureAmount exceeds the authorized ${charge.chargeAmount.amount}`) };
    const captured: AmazonPayCharge = { ...charge, captureAmount: price.price, statusDetails: status('Captured') };
    const fee = connectorFee(account.definition.fee, { amountMinor: price.minor, method: 'wallet' });
    const key = charge.merchantMetadata?.merchantReferenceId ?? charge.chargeId;
    return {
      answer: { status: 200, body: captured },
      line: { key, at: now().toISOString(), amount: price.minor, currency: price.price.currencyCode, ok: true, result: { gatewayReference: chargeId, feeMinor: fee }, amazon: { charge: captured } },
    };
  }

  function createRefund(account: Account, body: Record<string, unknown>): Processed {
    for (const name of Object.keys(body)) if (!REFUND_FIELDS.has(name)) return { answer: error(400, 'InvalidRequest', `The parameter ${name} is not a Create Refund parameter`) };
    if (typeof body.chargeId !== 'string') return { answer: error(400, 'MissingParameterValue', 'The mandatory parameter chargeId is missing') };
    const charge = account.charges.get(body.chargeId);
    if (!charge) return { answer: error(404, 'ResourceNotFound', `The Charge ${body.chargeId} does not exist`) };
    const price = priceOf(body.refundAmount, 'refundAmount');
    if (isAnswer(price)) return { answer: price };
    if (charge.statusDetails.state !== 'Captured' || !charge.captureAmount) return { answer: error(400, 'InvalidChargeStatus', `The Charge is ${charge.statusDetails.state}; only a Captured Charge can be refunded`) };
    if (price.price.currencyCode !== charge.captureAmount.currencyCode) return { answer: error(400, 'CurrencyMismatch', 'refundAmount is not in the Charge\'s currency') };
    const refunds = [...account.refunds.values()].filter((r) => r.chargeId === charge.chargeId);
    if (refunds.length >= MAX_REFUNDS) return { answer: error(400, 'TransactionCountExceeded', `A Charge can be refunded at most ${MAX_REFUNDS} times`) };
    const captured = parseMajor(charge.captureAmount.amount, charge.captureAmount.currencyCode) ?? 0;
    const left = captured - account.refunded(charge.chargeId);
    if (price.minor > left) {
      return { answer: error(400, 'TransactionAmountExceeded', `refundAmount ${price.price.amount} exceeds what the Charge has left to refund (${formatMajor({ amount: left, currency: price.price.currencyCode })})`) };
    }
    const refund: AmazonPayRefund = {
      refundId: objectId('R'),
      chargeId: charge.chargeId,
      refundAmount: price.price,
      softDescriptor: typeof body.softDescriptor === 'string' ? body.softDescriptor : null,
      statusDetails: status('RefundInitiated'),
      creationTimestamp: stamp(),
      releaseEnvironment: 'Sandbox',
    };
    const refundedAmount = { amount: formatMajor({ amount: account.refunded(charge.chargeId) + price.minor, currency: price.price.currencyCode }), currencyCode: price.price.currencyCode };
    return { answer: { status: 201, body: refund }, line: { key: '', at: now().toISOString(), amazon: { refund, charge: { ...charge, refundedAmount } } } };
  }

  /** A refund as read now: `Refunded` once `refundSettleMs` have passed since its creation (kept as a line). */
  function settledRefund(account: Account, refund: AmazonPayRefund): AmazonPayRefund {
    if (refund.statusDetails.state !== 'RefundInitiated') return refund;
    if (now().getTime() - Date.parse(refund.creationTimestamp) < refundSettleMs) return refund;
    const done: AmazonPayRefund = { ...refund, statusDetails: status('Refunded') };
    account.record({ key: '', at: now().toISOString(), amazon: { refund: done } });
    // Amazon Pay notifies the state change (after this answer: the endpoint reads the refund back).
    setImmediate(() => void notify(account.definition.id, 'REFUND', done.refundId).catch(() => undefined));
    return done;
  }

  /** An SNS envelope of an IPN about an object, signed (SignatureVersion 1: SHA1withRSA over SNS's canonical string). */
  function envelope(account: Account, objectType: string, objectId: string): Record<string, string> {
    const charge = objectType === 'CHARGE' ? account.charges.get(objectId) : account.charges.get(account.refunds.get(objectId)?.chargeId ?? '');
    const message = JSON.stringify({
      MerchantID: `LOCAL${account.definition.id.toUpperCase().replace(/[^A-Z0-9]/g, '')}`,
      ObjectType: objectType,
      ObjectId: objectId,
      ChargePermissionId: charge?.chargePermissionId ?? '',
      NotificationType: 'STATE_CHANGE',
      NotificationId: randomUUID(),
      NotificationVersion: 'V2',
    });
    const fields = {
      Type: 'Notification',
      MessageId: randomUUID(),
      TopicArn: `arn:aws:sns:us-east-1:000000000000:AmazonPay-${account.definition.id}`,
      Message: message,
      Timestamp: now().toISOString(),
    };
    const canonical = ['Message', 'MessageId', 'Timestamp', 'TopicArn', 'Type'].map((k) => `${k}\n${fields[k as keyof typeof fields]}\n`).join('');
    return {
      ...fields,
      SignatureVersion: '1',
      Signature: createSign('RSA-SHA1').update(canonical).sign(sns.privateKey, 'base64'),
      SigningCertURL: `${url}${CERT_PATH}`,
      UnsubscribeURL: `${url}/sns/unsubscribe`,
    };
  }

  async function notify(connectorId: string, objectType: 'CHARGE' | 'REFUND', objectId: string): Promise<WebhookDelivery | undefined> {
    const account = byId.get(connectorId);
    if (!account) throw new Error(`the fake has no account ${connectorId}`);
    if (!(objectType === 'CHARGE' ? account.charges.has(objectId) : account.refunds.has(objectId))) throw new Error(`the fake has no ${objectType} ${objectId} at ${connectorId}`);
    if (!webhookBase) return undefined;
    // Amazon Pay posts IPNs as text/plain.
    return deliverWebhook(`${webhookBase}/${connectorId}`, { headers: { 'content-type': 'text/plain; charset=UTF-8' }, body: JSON.stringify(envelope(account, objectType, objectId)) });
  }

  function handle(req: IncomingMessage, raw: string): Answer | 'drop' {
    const url = new URL(req.url ?? '/', 'http://amazon-pay.local');
    keepRequest(requests, { method: req.method ?? '', path: url.pathname, headers: req.headers, body: raw });
    if (req.method === 'GET' && url.pathname === CERT_PATH) return { status: 200, body: certificate, contentType: 'application/x-pem-file' };
    const query = [...url.searchParams.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
    const account = authenticate(req, url.pathname, query, raw);
    if (isAnswer(account)) return account;
    const route = /^\/(?:sandbox\/)?v2\/(.+)$/.exec(url.pathname)?.[1] ?? '';
    const chargeRead = /^charges\/([A-Za-z0-9-]+)$/.exec(route);
    const refundRead = /^refunds\/([A-Za-z0-9-]+)$/.exec(route);
    if (req.method === 'GET' && chargeRead) {
      const charge = account.charges.get(chargeRead[1]!);
      return charge ? { status: 200, body: charge } : error(404, 'ResourceNotFound', `The Charge ${chargeRead[1]} does not exist`);
    }
    if (req.method === 'GET' && refundRead) {
      const refund = account.refunds.get(refundRead[1]!);
      return refund ? { status: 200, body: settledRefund(account, refund) } : error(404, 'ResourceNotFound', `The Refund ${refundRead[1]} does not exist`);
    }
    const capturing = /^charges\/([A-Za-z0-9-]+)\/capture$/.exec(route);
    const creates =
      req.method !== 'POST'
        ? undefined
        : route === 'charges'
          ? (body: Record<string, unknown>) => createCharge(account, body)
          : route === 'refunds'
            ? (body: Record<string, unknown>) => createRefund(account, body)
            : capturing
              ? (body: Record<string, unknown>) => captureCharge(account, capturing[1]!, body)
              : undefined;
    if (!creates) return error(404, 'ResourceNotFound', `This fake does not serve ${req.method} ${url.pathname} (it serves the calls of the SmartPay adapter)`);
    if (!String(req.headers['content-type'] ?? '').startsWith('application/json')) return error(400, 'InvalidRequestFormat', 'The request body is JSON (content-type: application/json)');
    const key = String(req.headers['x-amz-pay-idempotency-key'] ?? '');
    if (!/^[A-Za-z0-9_-]{1,32}$/.test(key)) return error(400, 'InvalidHeaderValue', 'x-amz-pay-idempotency-key is 1 to 32 letters, digits, - or _');
    let body: Record<string, unknown> | undefined;
    try {
      body = objectOf(JSON.parse(raw));
    } catch {
      body = undefined;
    }
    if (!body) return error(400, 'InvalidRequestFormat', 'The request body is not a JSON object');
    const fault = faults.get(account.definition.id);
    if (fault === 'unavailable') return error(429, 'TooManyRequests', 'The request was throttled: retry with exponential backoff');
    const requestHash = createHash('sha256').update(`${url.pathname}\u0000${raw}`).digest('hex');
    const seen = account.calls.get(key);
    if (seen) {
      if (seen.requestHash !== requestHash) return error(400, 'DuplicateIdempotencyKey', `The idempotency key ${key} was used with a different request`);
      if (fault === 'timeout') return 'drop';
      return seen.answer;
    }
    const { answer, line } = creates(body);
    if (!line) return answer; // refused before processing: nothing kept
    account.record({ ...line, amazon: { ...line.amazon, idempotencyKey: key, requestHash, answer } });
    const refund = line.amazon.refund;
    if (refund) {
      // The refund settles on its own after refundSettleMs (read back, and notified), as Amazon Pay's do.
      const timer = setTimeout(() => {
        timers.delete(timer);
        const latest = account.refunds.get(refund.refundId);
        if (latest) settledRefund(account, latest);
      }, refundSettleMs + 10);
      timer.unref();
      timers.add(timer);
    }
    if (fault === 'timeout') return 'drop';
    if (fault === 'server_error') return error(500, 'InternalServerError', 'An internal server error occurred');
    return answer;
  }

  const server = await serveJson(handle, (failure) => error(500, 'InternalServerError', `the fake failed: ${failure.message}`), options.host);
  url = server.url;
  return {
    url: server.url,
    requests,
    setWebhookBase(base) {
      webhookBase = base.replace(/\/$/, '');
    },
    notify,
    setRefundSettleMs(ms) {
      refundSettleMs = ms;
    },
    setFault(connectorId, fault) {
      if (fault === undefined) faults.delete(connectorId);
      else faults.set(connectorId, fault);
    },
    charges: (connectorId) => byId.get(connectorId)?.charges ?? new Map(),
    refunds: (connectorId) => byId.get(connectorId)?.refunds ?? new Map(),
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      await server.close();
    },
  };
}
