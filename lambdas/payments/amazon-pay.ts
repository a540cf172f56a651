/**
 * The Amazon Pay adapter of the connector port (Amazon Pay API v2): a wallet payment's token is the buyer's
 * Charge Permission (from the merchant's Amazon Pay checkout), charged with Create Charge (authorise and capture,
 * `captureNow`); a charge Amazon Pay leaves `Authorized` is captured with Capture Charge; refunds are Create
 * Refund; Get Charge and Get Refund read their states. The official SDK signs each request
 * (`getSignedHeaders`); the calls and their retries are this adapter's own (`fetch`), since the SDK never retries
 * and its `overrideServiceUrl` turns TLS verification off for the whole process. The same code runs in the cloud
 * against pay-api.amazon.{com,eu,jp} and locally against the embedded fake of the API
 * (local/gateways/amazon-pay.ts), only the base URL differs.
 *
 * Idempotency: Amazon Pay keeps the first answer to each `x-amz-pay-idempotency-key` indefinitely, and answers a
 * repeat of the same request with it. The key is the attempt's gateway key (payment id and attempt), hashed to
 * the 32 characters Amazon Pay takes, and the request body is built from the call alone (permission, amount,
 * currency, key), so a repeat is always the same request. Amazon Pay has no lookup by key: `retrieve` repeats the
 * Create Charge call, which answers what the first call did, or, if the first never arrived, makes it now (once:
 * later repeats get its answer). So `retrieve` needs the call's charge permission (`expected.walletToken`), and the
 * reconciler's lookup of an Amazon Pay attempt can be the charge itself. The repeated call's saved answer is the
 * charge as it was then: a charge not final then is read again by its id.
 *
 * Outcomes, onto the port's status model (the same classes as Stripe's):
 * - a decline (`HardDeclined`, `SoftDeclined`, `AmazonRejected`, a permission that cannot be charged, an amount
 *   beyond its limit) is declined, never retried elsewhere; `ProcessingFailure` and `TransactionTimedOut` charged
 *   nothing and another gateway may take them (retryable);
 * - throttling (429) and a refused connection: nothing reached Amazon Pay (retryable), after this adapter's own
 *   retries with the same key;
 * - bad credentials (401, 403): nothing was charged (retryable, `gateway_authentication_failed`; configuration to fix);
 * - a timeout, a connection lost after sending, or a 5xx: Amazon Pay may have charged (ambiguous: the caller
 *   repeats the call by its key before anything else).
 */
import { createHash } from 'node:crypto';
import { WebStoreClient, type SignableRequest } from '@amazonpay/amazon-pay-api-sdk-nodejs';
import { connectorFee, type AmazonPayCredentials, type ConnectorDefinition } from '../../contracts/connectors';
import { GatewayDeclinedError, GatewayRetryableError, RefundDeclinedError } from '../../contracts/errors';
import { formatMajor, parseMajor } from '../../contracts/money';
import {
  ChargeOutcomeUnknownError,
  GatewayAmbiguousError,
  type ChargeRequest,
  type ChargeResult,
  type Expected,
  type GatewayConnector,
  type GatewayEvent,
  type RefundCall,
  type RefundResult,
} from './connectors';
import { snsVerifier, type SnsVerifier } from './sns';

export interface AmazonPayOptions {
  /** The account's credentials, read when first needed (a secret, cached by its reader). */
  readonly credentials: () => Promise<AmazonPayCredentials>;
  /** Another base URL for Amazon Pay's API (the local fake); unset: the region's pay-api host. */
  readonly apiUrl?: string;
  /** Per request, in ms. @default 8000 */
  readonly timeoutMs?: number;
  /** Retries of a throttled, failed or unanswered call, with the same key. @default 2 */
  readonly maxRetries?: number;
  /** The first retry's delay, doubled for each next one, in ms. @default 250 */
  readonly retryDelayMs?: number;
  /** Verifies the notifications' SNS signatures. @default certificates from SNS's hosts (and `apiUrl`'s origin, locally) */
  readonly sns?: SnsVerifier;
}

/** The API host of each region (what is signed as `x-amz-pay-host`, and called without `apiUrl`). */
const HOSTS: Readonly<Record<string, string>> = { na: 'pay-api.amazon.com', us: 'pay-api.amazon.com', eu: 'pay-api.amazon.eu', uk: 'pay-api.amazon.eu', de: 'pay-api.amazon.eu', jp: 'pay-api.amazon.jp' };

/** Connection failures that prove the request never reached Amazon Pay. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/** Amazon Pay's refusals of a charge that charged nothing and that another gateway may take. */
const RETRYABLE_REASONS = new Set(['ProcessingFailure', 'TransactionTimedOut']);
/** Amazon Pay's refusals of a charge that are the buyer's (declined, never retried elsewhere). */
const DECLINE_REASONS = new Set([
  'HardDeclined', 'SoftDeclined', 'AmazonRejected', 'PaymentMethodNotAllowed', 'TransactionAmountExceeded', 'TransactionCountExceeded',
  'InvalidChargePermissionStatus', 'MFANotCompleted', 'ResourceNotFound', 'BuyerCanceled', 'ChargePermissionCanceled',
]);
/** Of those, Amazon Pay's refusals of the request itself (a Charge Permission it does not know, or cannot charge): no issuer answered. */
const REQUEST_REFUSALS = new Set(['ResourceNotFound', 'InvalidChargePermissionStatus', 'ChargePermissionCanceled']);
/** Amazon Pay's refusals of a refund (nothing refunded). */
const REFUND_REFUSALS = new Set(['TransactionAmountExceeded', 'TransactionCountExceeded', 'InvalidChargeStatus', 'ResourceNotFound', 'AmazonRejected', 'ProcessingFailure', 'SoftDeclined', 'HardDeclined']);

/** An amount as Amazon Pay writes it: a decimal string in major units, and its currency. */
interface Price {
  readonly amount: string;
  readonly currencyCode: string;
}

interface StatusDetails {
  readonly state: string;
  readonly reasonCode?: string | null;
}

/** The Charge object, as much of it as the adapter reads. */
interface AmazonCharge {
  readonly chargeId: string;
  readonly chargePermissionId: string;
  readonly chargeAmount: Price;
  readonly statusDetails: StatusDetails;
  readonly merchantMetadata?: { readonly merchantReferenceId?: string | null; readonly customInformation?: string | null } | null;
}

/** The Refund object, as much of it as the adapter reads. */
interface AmazonRefund {
  readonly refundId: string;
  readonly chargeId: string;
  readonly refundAmount: Price;
  readonly statusDetails: StatusDetails;
}

/** An error body: `{reasonCode, message}` (the message is not passed on). */
interface AmazonError {
  readonly reasonCode?: string;
}

interface Answer {
  readonly status: number;
  readonly body: unknown;
}

/** The idempotency key Amazon Pay takes (at most 32 of `A-Za-z0-9_-`) for a call's gateway key: the same for every repeat. */
export function amazonPayKey(key: string): string {
  return createHash('sha256').update(key).digest('base64url').slice(0, 32);
}

/**
 * A charge's Create Charge body: built from the call alone (its key, permission, amount and merchant), so every
 * repeat of its key is the same request. The charge keeps the gateway key (`merchantReferenceId`) and the payment's
 * merchant (`customInformation`): what a notification about it names the payment by.
 */
export function chargeBody(key: string, chargePermissionId: string, amount: number, currency: string, merchantId: string): Record<string, unknown> {
  return {
    chargePermissionId,
    chargeAmount: { amount: formatMajor({ amount, currency }), currencyCode: currency },
    captureNow: true,
    canHandlePendingAuthorization: false,
    merchantMetadata: { merchantReferenceId: key, customInformation: merchantId },
  };
}

/** An Instant Payment Notification (the SNS message's `Message`): which object changed; its state is read from Amazon Pay. */
interface Notification {
  readonly ObjectType?: string;
  readonly ObjectId?: string;
  readonly NotificationType?: string;
  readonly NotificationId?: string;
}

export class AmazonPayConnector implements GatewayConnector {
  readonly id: string;
  private client: Promise<{ client: WebStoreClient; base: string }> | undefined;
  private readonly sns: SnsVerifier;

  constructor(
    private readonly definition: ConnectorDefinition,
    private readonly options: AmazonPayOptions,
  ) {
    this.id = definition.id;
    this.sns = options.sns ?? snsVerifier(options.apiUrl ? { localOrigin: options.apiUrl } : {});
  }

  private signer(): Promise<{ client: WebStoreClient; base: string }> {
    this.client ??= this.options.credentials().then((credentials) => {
      const host = HOSTS[credentials.region];
      if (!host) throw new Error(`region ${credentials.region} is not an Amazon Pay region`);
      const client = new WebStoreClient({
        publicKeyId: credentials.publicKeyId,
        privateKey: credentials.privateKey,
        region: credentials.region,
        ...(credentials.sandbox !== undefined ? { sandbox: credentials.sandbox === 'true' } : {}),
        algorithm: 'AMZN-PAY-RSASSA-PSS-V2',
      });
      return { client, base: (this.options.apiUrl ?? `https://${host}`).replace(/\/$/, '') };
    });
    // A failed read (the secret, say) is not kept: the next call reads again.
    this.client.catch(() => {
      this.client = undefined;
    });
    return this.client;
  }

  /** The signer before a call that moves money: credentials that cannot be read mean nothing was sent (retryable). */
  private async ready(): Promise<{ client: WebStoreClient; base: string }> {
    try {
      return await this.signer();
    } catch (error) {
      throw new GatewayRetryableError(`${this.id}: its credentials could not be read (${(error as Error).message})`, 'gateway_misconfigured', { connectorId: this.id });
    }
  }

  /**
   * One API call, signed anew for each try, retried with the same key on throttling, a 5xx or no answer. Answers
   * the first other answer (2xx or 4xx). When every try failed: GatewayRetryableError if none can have been
   * processed (throttled or refused before sending), else GatewayAmbiguousError.
   */
  private async call(method: 'GET' | 'POST', path: string, payload?: Record<string, unknown>, key?: string): Promise<Answer> {
    const { client, base } = await this.ready();
    const retries = this.options.maxRetries ?? 2;
    let mayHaveLanded = false;
    let last = '';
    for (let attempt = 0; attempt <= retries; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, (this.options.retryDelayMs ?? 250) * 2 ** (attempt - 1)));
      const request: SignableRequest = { method, urlFragment: path, payload, headers: key ? { 'x-amz-pay-idempotency-key': key } : {} };
      const headers = client.getSignedHeaders(request);
      let response: Response;
      try {
        response = await fetch(`${base}/${request.urlFragment}`, {
          method,
          headers,
          ...(method === 'POST' ? { body: String(request.payload) } : {}),
          signal: AbortSignal.timeout(this.options.timeoutMs ?? 8_000),
        });
      } catch (error) {
        const code = ((error as { cause?: { code?: string } }).cause?.code ?? '') as string;
        if (!NOT_SENT_CODES.has(code)) mayHaveLanded = true;
        last = code || (error as Error).name || 'no answer';
        continue;
      }
      if (response.status === 429) {
        // Throttled before processing, whatever its body says.
        await response.body?.cancel();
        last = '429 TooManyRequests';
        continue;
      }
      let body: unknown;
      try {
        body = await response.json();
      } catch {
        // The answer was cut off (or is not JSON): the call may have been processed.
        mayHaveLanded = true;
        last = `an unreadable ${response.status} answer`;
        continue;
      }
      const reasonCode = (body as AmazonError | null)?.reasonCode;
      if (response.status >= 500 && !RETRYABLE_REASONS.has(reasonCode ?? '')) {
        mayHaveLanded = true;
        last = `${response.status} ${reasonCode ?? ''}`.trim();
        continue;
      }
      // After a try that may have landed, an answer given before Amazon Pay's idempotency (refused credentials, a
      // proxy's refusal without a reason code) says nothing of that try: it is not an answer to trust.
      if (mayHaveLanded && response.status >= 400 && (response.status === 401 || response.status === 403 || !reasonCode)) {
        last = `${response.status} ${reasonCode ?? ''}`.trim();
        continue;
      }
      return { status: response.status, body };
    }
    if (mayHaveLanded) throw new GatewayAmbiguousError(`${this.id}: ${method} ${path} got no answer it could use after ${retries + 1} tries (last: ${last}); an earlier try may have been done`);
    throw new GatewayRetryableError(`${this.id} could not be reached or is throttling (${last})`, last.startsWith('429') ? 'rate_limited' : 'gateway_unavailable', { connectorId: this.id });
  }

  async charge(request: ChargeRequest): Promise<ChargeResult> {
    const permission = request.wallet?.token;
    if (!permission || request.wallet?.wallet !== 'amazon_pay') throw new Error(`${this.id}: an Amazon Pay connector charges Amazon Pay wallet tokens only (routing sends it nothing else)`);
    if (!request.merchantId) throw new Error(`${this.id}: a charge names its merchant`);
    return this.create(request.idempotencyKey, permission, { amount: request.amount, currency: request.currency, merchantId: request.merchantId }, request.country);
  }

  /**
   * Create Charge under the call's key (the first call, or a repeat of it), and the charge it answers, settled.
   * `lookup`: the repeat asks what happened, so an answer that says nothing of the charge (no answer, throttling,
   * refused credentials) leaves it unknown, never "nothing was charged".
   */
  private async create(key: string, permission: string, expected: Expected, country?: string, lookup = false): Promise<ChargeResult> {
    let answer: Answer;
    try {
      answer = await this.call('POST', 'charges', chargeBody(key, permission, expected.amount, expected.currency, expected.merchantId ?? ''), amazonPayKey(key));
    } catch (error) {
      if (lookup && (error instanceof GatewayAmbiguousError || error instanceof GatewayRetryableError)) throw new ChargeOutcomeUnknownError(`${this.id}: ${error.message}`);
      throw error;
    }
    if (lookup && (answer.status === 401 || answer.status === 403)) throw new ChargeOutcomeUnknownError(`${this.id}: could not ask for ${key} (${describe(answer)})`);
    if (answer.status !== 200 && answer.status !== 201) throw this.refusal(answer);
    return this.settled(answer.body as AmazonCharge, key, expected, country);
  }

  async retrieve(idempotencyKey: string, gatewayReference?: string, expected?: Expected): Promise<ChargeResult | undefined> {
    if (!expected) throw new Error(`${this.id}: a charge is looked up with what it asked for (its amount), which was not given`);
    if (gatewayReference) return this.settled(await this.read(gatewayReference), idempotencyKey, expected);
    if (!expected.walletToken || !expected.merchantId) {
      throw new ChargeOutcomeUnknownError(`${this.id}: Amazon Pay finds a call only by repeating it, and ${idempotencyKey}'s charge permission or merchant is not known here`);
    }
    // No usable answer again leaves the outcome unknown (the attempt stays pending; the next repeat asks again).
    return this.create(idempotencyKey, expected.walletToken, expected, undefined, true);
  }

  /**
   * An Instant Payment Notification (an SNS message, verified on its raw body): the charge it is about (a charge's,
   * or a refund's charge), read from Amazon Pay, named by its gateway key and merchant. Undefined for a notification
   * about nothing of ours (a Charge Permission, a chargeback, a charge made elsewhere).
   */
  async parseWebhook(rawBody: string): Promise<GatewayEvent | undefined> {
    const envelope = await this.sns.verify(rawBody);
    if (envelope.Type !== 'Notification') return undefined;
    let notification: Notification;
    try {
      notification = JSON.parse(envelope.Message) as Notification;
    } catch {
      return undefined;
    }
    const objectId = notification.ObjectId;
    if (typeof objectId !== 'string' || !/^[A-Za-z0-9-]{1,64}$/.test(objectId)) return undefined;
    let chargeId: string;
    if (notification.ObjectType === 'CHARGE') chargeId = objectId;
    else if (notification.ObjectType === 'REFUND') chargeId = (await this.readRefund(objectId)).chargeId;
    else return undefined;
    const charge = await this.read(chargeId);
    const key = charge.merchantMetadata?.merchantReferenceId;
    const merchantId = charge.merchantMetadata?.customInformation;
    if (!key || !merchantId) return undefined;
    return {
      eventId: notification.NotificationId ?? envelope.MessageId,
      type: `${notification.ObjectType}.${notification.NotificationType ?? 'STATE_CHANGE'}`,
      idempotencyKey: key,
      merchantId,
      gatewayReference: charge.chargeId,
    };
  }

  /** Get Refund: the refund as it is now (unknown when it cannot be read). */
  private readRefund(refundId: string): Promise<AmazonRefund> {
    return this.get<AmazonRefund>('refund', `refunds/${encodeURIComponent(refundId)}`, refundId);
  }

  /** Get Charge: the charge as it is now (unknown when it cannot be read). */
  private read(chargeId: string): Promise<AmazonCharge> {
    return this.get<AmazonCharge>('charge', `charges/${encodeURIComponent(chargeId)}`, chargeId);
  }

  /** A GET of one object: its body, or ChargeOutcomeUnknownError when it cannot be read now. */
  private async get<T>(what: string, path: string, id: string): Promise<T> {
    let answer: Answer;
    try {
      answer = await this.call('GET', path);
    } catch (error) {
      throw new ChargeOutcomeUnknownError(`${this.id}: could not read ${what} ${id} (${(error as Error).message})`);
    }
    if (answer.status !== 200) throw new ChargeOutcomeUnknownError(`${this.id}: could not read ${what} ${id} (${describe(answer)})`);
    return answer.body as T;
  }

  /**
   * A charge as the port's outcome. Captured: the charge. Authorized (not captured): captured now, under its own
   * key. Still on its way: read again by its id once, else unknown (the reconciler asks later). Declined or
   * canceled: thrown by name.
   */
  private async settled(charge: AmazonCharge, key: string, expected: Expected, country?: string, reread = true, capture = true): Promise<ChargeResult> {
    if (charge.merchantMetadata?.merchantReferenceId && charge.merchantMetadata.merchantReferenceId !== key) {
      throw new Error(`${this.id}: charge ${charge.chargeId} is not the charge of ${key}`);
    }
    const amount = parseMajor(charge.chargeAmount.amount, charge.chargeAmount.currencyCode);
    if (amount !== expected.amount || charge.chargeAmount.currencyCode !== expected.currency) {
      throw new Error(`${this.id}: charge ${charge.chargeId} is ${charge.chargeAmount.amount} ${charge.chargeAmount.currencyCode}, not the ${expected.amount} minor units of ${expected.currency} asked for`);
    }
    const { state, reasonCode } = charge.statusDetails;
    const details = { connectorId: this.id, gatewayReference: charge.chargeId };
    switch (state) {
      case 'Captured':
        return { gatewayReference: charge.chargeId, feeMinor: connectorFee(this.definition.fee, { amountMinor: expected.amount, method: 'wallet', ...(country ? { country } : {}) }) };
      case 'Authorized':
        // Captured once per settling; a charge still Authorized after it stays unknown (the next look captures again, by its key).
        if (!capture) throw new ChargeOutcomeUnknownError(`${this.id}: charge ${charge.chargeId} is authorized and not captured yet`);
        return this.settled(await this.capture(charge, key, expected), key, expected, country, reread, false);
      case 'Declined': {
        const reason = reasonCode ?? 'Declined';
        if (RETRYABLE_REASONS.has(reason)) throw new GatewayRetryableError(`Amazon Pay could not process the charge (${reason})`, codeOf(reason), details);
        throw new GatewayDeclinedError(`Amazon Pay declined the charge (${reason})`, codeOf(reason), details);
      }
      case 'Canceled':
        throw new GatewayDeclinedError('the charge was canceled at Amazon Pay', 'canceled', details);
      default:
        // AuthorizationInitiated, CaptureInitiated: on its way. A repeated Create Charge answers its first state.
        if (reread) return this.settled(await this.read(charge.chargeId), key, expected, country, false, capture);
        throw new ChargeOutcomeUnknownError(`${this.id}: charge ${charge.chargeId} is ${state}`);
    }
  }

  /**
   * Capture Charge for the whole amount (built from the call, so a repeat is the same request), under its own key (a
   * repeat captures once). The charge as it is after: the capture's answer, or, when the capture was refused, the
   * charge read again (captured meanwhile, still authorised, or canceled), so an authorisation is never taken for
   * "nothing was charged".
   */
  private async capture(charge: AmazonCharge, key: string, expected: Expected): Promise<AmazonCharge> {
    let answer: Answer;
    const body = { captureAmount: { amount: formatMajor({ amount: expected.amount, currency: expected.currency }), currencyCode: expected.currency } };
    try {
      answer = await this.call('POST', `charges/${encodeURIComponent(charge.chargeId)}/capture`, body, amazonPayKey(`${key}:capture`));
    } catch (error) {
      // Authorised, and the capture's outcome is not known: unknown (a repeat, or the reconciler, captures again by its key).
      throw new ChargeOutcomeUnknownError(`${this.id}: charge ${charge.chargeId} is authorized and its capture's outcome is not known (${(error as Error).message})`);
    }
    if (answer.status === 200 || answer.status === 201) return answer.body as AmazonCharge;
    return this.read(charge.chargeId);
  }

  async refund(call: RefundCall): Promise<RefundResult> {
    const body = { chargeId: call.chargeReference, refundAmount: { amount: formatMajor({ amount: call.amount, currency: call.currency }), currencyCode: call.currency } };
    const answer = await this.call('POST', 'refunds', body, amazonPayKey(call.idempotencyKey));
    if (answer.status !== 200 && answer.status !== 201) {
      const error = answer.body as AmazonError;
      if (REFUND_REFUSALS.has(error.reasonCode ?? '')) {
        throw new RefundDeclinedError(`${this.id} refused the refund (${error.reasonCode})`, { connectorId: this.id, gatewayCode: codeOf(error.reasonCode ?? 'declined') });
      }
      throw this.refusal(answer);
    }
    return this.refundOutcome(answer.body as AmazonRefund, true);
  }

  /** Amazon Pay has no lookup by key: the refund's Create Refund is repeated (its first answer, or the refund made now, once). */
  async retrieveRefund(call: RefundCall): Promise<RefundResult | undefined> {
    try {
      return await this.refund(call);
    } catch (error) {
      if (error instanceof GatewayAmbiguousError || error instanceof GatewayRetryableError) throw new ChargeOutcomeUnknownError(`${this.id}: ${error.message}`);
      throw error;
    }
  }

  /** A refund's state: done, on its way (Amazon Pay refunds take a while: read again by its id once), or refused. */
  private async refundOutcome(refund: AmazonRefund, reread: boolean): Promise<RefundResult> {
    const { state, reasonCode } = refund.statusDetails;
    if (state === 'Refunded') return { gatewayReference: refund.refundId, status: 'succeeded' };
    if (state === 'Declined') {
      throw new RefundDeclinedError(`${this.id} could not refund (${reasonCode ?? state})`, { connectorId: this.id, gatewayCode: codeOf(reasonCode ?? 'declined'), gatewayReference: refund.refundId });
    }
    if (!reread) return { gatewayReference: refund.refundId, status: 'pending' };
    let latest: AmazonRefund;
    try {
      latest = await this.readRefund(refund.refundId);
    } catch {
      return { gatewayReference: refund.refundId, status: 'pending' };
    }
    return this.refundOutcome(latest, false);
  }

  /** A 4xx answer as the port's named error: the buyer's decline, nothing done, or this adapter's bug. */
  private refusal(answer: Answer, gatewayReference?: string): Error {
    // Amazon Pay's own message is not passed on: it may quote the buyer's Charge Permission, which is never shown.
    const { reasonCode = 'unknown' } = (answer.body ?? {}) as AmazonError;
    const details = { connectorId: this.id, ...(gatewayReference ? { gatewayReference } : {}) };
    if (DECLINE_REASONS.has(reasonCode)) {
      return new GatewayDeclinedError(`Amazon Pay declined the charge (${reasonCode})`, codeOf(reasonCode), details, { requestRefused: REQUEST_REFUSALS.has(reasonCode) });
    }
    if (RETRYABLE_REASONS.has(reasonCode)) return new GatewayRetryableError(`Amazon Pay could not process the charge (${reasonCode})`, codeOf(reasonCode), details);
    if (answer.status === 401 || answer.status === 403) {
      return new GatewayRetryableError(`${this.id} refused its credentials (${answer.status} ${reasonCode})`, 'gateway_authentication_failed', details);
    }
    // An invalid or conflicting request (DuplicateIdempotencyKey, InvalidParameterValue…) is this adapter's bug, not the buyer's.
    return new Error(`${this.id}: Amazon Pay refused the request (${answer.status} ${reasonCode})`);
  }
}

/** Amazon Pay's reason code as the platform's decline codes are written (`HardDeclined` → `hard_declined`). */
function codeOf(reasonCode: string): string {
  if (reasonCode === 'ProcessingFailure') return 'processing_error';
  return reasonCode.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2').toLowerCase();
}

/** An answer as logs and errors name it: its status and reason code (never Amazon Pay's message, which may quote the token). */
function describe(answer: Answer): string {
  const { reasonCode } = (answer.body ?? {}) as AmazonError;
  return `${answer.status} ${reasonCode ?? ''}`.trim();
}
