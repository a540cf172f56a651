/**
 * The Stripe adapter of the connector port, on the `stripe` SDK. A refund is a Refund of the payment's intent
 * under its own derived key (found again by listing the intent's refunds). A charge is a PaymentIntent created and
 * confirmed in one call, under the attempt's gateway key (payment id and attempt) as Stripe's Idempotency-Key
 * and as the intent's `smartpay_key` metadata, so a retried call is the same call and reconciliation finds the
 * intent by its key. The same code runs in the cloud against api.stripe.com and locally against the embedded
 * fake of Stripe's API (local/gateways/stripe.ts), only the base URL differs.
 *
 * Outcomes, onto the port's status model:
 * - a card error (402) declines, never retried elsewhere; except `processing_error`, which Stripe asks to
 *   retry and which charged nothing, so another gateway may take it (retryable);
 * - a rate limit (429), a refused connection or a failed DNS lookup: nothing reached Stripe (retryable);
 * - bad credentials or permissions (401, 403): nothing was charged, another gateway may take it (retryable,
 *   code `gateway_authentication_failed`; it is a configuration error to fix);
 * - a timeout, a connection lost after sending, or a 5xx: Stripe may have charged (ambiguous: the caller
 *   looks the intent up by its key before anything else). The SDK first retries these itself with the same
 *   key (`maxNetworkRetries`), which Stripe answers with the first call's result.
 *
 * Card numbers: a tokenised card (`pm_…` from Stripe.js, a saved PaymentMethod, or a test one such as
 * `pm_card_visa`) is the normal case. A raw number reaches this adapter only where the stage allows raw cards,
 * and goes as `payment_method_data` with the buyer's country as its billing country: Stripe takes it on an
 * account with raw card data APIs enabled, and otherwise refuses it (a decline naming Stripe's reason).
 */
import Stripe from 'stripe';
import type { CardSummary } from '../../contracts/api';
import { connectorFee, fromStripeAmount, stripeAmountProblem, toStripeAmount, type ConnectorDefinition } from '../../contracts/connectors';
import { CardBrand } from '../../contracts/methods';
import { GatewayDeclinedError, GatewayRetryableError, RefundDeclinedError, WebhookSignatureError } from '../../contracts/errors';
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

/** The metadata key of the gateway key on each intent (what `retrieve` searches by). */
export const STRIPE_KEY_METADATA = 'smartpay_key';
/** The metadata key of the payment's merchant on each intent (a webhook names the payment by both). */
export const STRIPE_MERCHANT_METADATA = 'smartpay_merchant';

/** A Stripe account's credentials (the gateway credentials secret's entry of a `stripe` connector). */
export interface StripeCredentials {
  readonly secretKey: string;
  /** The webhook endpoint's signing secret (whsec_…), for POST /webhooks/stripe/{connectorId}. */
  readonly webhookSecret?: string;
}

export interface StripeOptions {
  /** The account's credentials, read when first needed (a secret, cached by its reader). */
  readonly credentials: () => Promise<StripeCredentials>;
  /** Another base URL for Stripe's API (the local fake); unset: api.stripe.com. */
  readonly apiUrl?: string;
  /** Per request, in ms (the SDK's `timeout`). @default 8000 */
  readonly timeoutMs?: number;
  /** The SDK's own retries of a connection error or a 5xx, with the same key. @default 2 */
  readonly maxNetworkRetries?: number;
}

/** How long after a call a search miss is trusted to mean Stripe never got it (search lags writes). */
export const SEARCH_SETTLED_MS = 15 * 60_000;

/** Connection failures that prove the request never reached Stripe. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

export class StripeConnector implements GatewayConnector {
  readonly id: string;
  private client: Promise<Stripe> | undefined;
  /**
   * Each try of each call in flight, by its idempotency key: whether it may have reached Stripe (an answer other
   * than a 429, or a failure other than a refused connection or a failed DNS lookup). The SDK retries a failed
   * try with the same key, and a refusal of the last try says nothing of an earlier one that may have landed; when
   * none did, nothing was sent at all (a DNS failure on every try: another gateway may take the payment).
   */
  private readonly tries = new Map<string, boolean[]>();

  constructor(
    private readonly definition: ConnectorDefinition,
    private readonly options: StripeOptions,
  ) {
    this.id = definition.id;
  }

  private stripe(): Promise<Stripe> {
    this.client ??= this.options.credentials().then(({ secretKey }) => {
      const url = this.options.apiUrl ? new URL(this.options.apiUrl) : undefined;
      // The SDK's own HTTP client, watched: each try of a call in flight is noted under its key.
      const http = Stripe.createNodeHttpClient();
      const watched = Object.create(http) as Stripe.HttpClient;
      watched.makeRequest = async (...args: Parameters<Stripe.HttpClient['makeRequest']>) => {
        const headers = args[4] as Record<string, string>;
        const key = Object.entries(headers).find(([name]) => name.toLowerCase() === 'idempotency-key')?.[1];
        const note = (landed: boolean) => {
          if (key !== undefined) this.tries.get(key)?.push(landed);
        };
        try {
          const response = await http.makeRequest(...args);
          note(response.getStatusCode() !== 429);
          return response;
        } catch (error) {
          note(!NOT_SENT_CODES.has((error as { code?: string }).code ?? ''));
          throw error;
        }
      };
      return new Stripe(secretKey, {
        maxNetworkRetries: this.options.maxNetworkRetries ?? 2,
        timeout: this.options.timeoutMs ?? 8_000,
        telemetry: false,
        appInfo: { name: 'SmartPay' },
        httpClient: watched,
        ...(url ? { host: url.hostname, port: url.port || (url.protocol === 'http:' ? 80 : 443), protocol: url.protocol === 'http:' ? 'http' : 'https' } : {}),
      });
    });
    // A failed read (the secret, say) is not kept: the next call reads again.
    this.client.catch(() => {
      this.client = undefined;
    });
    return this.client;
  }

  /**
   * Runs a call that moves money, noting its tries under its key; a failure is mapped knowing whether a try before
   * the last may have reached Stripe (read for this call alone: another call's tries are under its own key).
   */
  private async tracked<T>(key: string, call: () => Promise<T>, map: (error: unknown, earlierLanded: boolean) => Error): Promise<T> {
    const tries: boolean[] = [];
    this.tries.set(key, tries);
    try {
      return await call();
    } catch (error) {
      throw map(error, tries.slice(0, -1).some(Boolean));
    } finally {
      this.tries.delete(key);
    }
  }

  /** The client before a call that moves money: credentials that cannot be read mean nothing was sent (retryable). */
  private async ready(): Promise<Stripe> {
    try {
      return await this.stripe();
    } catch (error) {
      // Another gateway may take it; the message names the secret and the connector (it is configuration to fix).
      throw new GatewayRetryableError(`${this.id}: its credentials could not be read (${(error as Error).message})`, 'gateway_misconfigured', { connectorId: this.id });
    }
  }

  amountProblem(amountMinor: number, currency: string): string | undefined {
    return stripeAmountProblem(amountMinor, currency);
  }

  async charge(request: ChargeRequest): Promise<ChargeResult> {
    // Routing never ranks Stripe for an amount it cannot take (eligibility); nothing is sent if one comes anyway.
    const problem = this.amountProblem(request.amount, request.currency);
    if (problem) throw new GatewayDeclinedError(`${this.id}: ${problem}`, 'amount_not_supported', { connectorId: this.id }, { requestRefused: true });
    const stripe = await this.ready();
    const params: Stripe.PaymentIntentCreateParams = {
      amount: toStripeAmount(request.amount, request.currency),
      currency: request.currency.toLowerCase(),
      confirm: true,
      allowed_payment_method_types: ['card'],
      ...paymentMethodOf(request),
      metadata: { [STRIPE_KEY_METADATA]: request.idempotencyKey, ...(request.merchantId ? { [STRIPE_MERCHANT_METADATA]: request.merchantId } : {}) },
      ...(request.description ? { description: request.description } : {}),
      expand: ['latest_charge.balance_transaction'],
    };
    const intent = await this.tracked(
      request.idempotencyKey,
      () => stripe.paymentIntents.create(params, { idempotencyKey: request.idempotencyKey }),
      (error, earlierLanded) => this.mapped(error, earlierLanded),
    );
    return this.outcome(intent, request);
  }

  async retrieve(idempotencyKey: string, gatewayReference?: string, expected?: Expected): Promise<ChargeResult | undefined> {
    if (!/^[\w:.-]+$/.test(idempotencyKey)) throw new Error(`not a gateway key: ${idempotencyKey}`);
    const stripe = await this.stripe();
    if (gatewayReference) {
      // By its id: consistent at once (a search may lag the intent's latest state).
      let intent: Stripe.PaymentIntent;
      try {
        intent = await stripe.paymentIntents.retrieve(gatewayReference, { expand: ['latest_charge.balance_transaction'] });
      } catch (error) {
        throw new ChargeOutcomeUnknownError(`${this.id}: could not read ${gatewayReference} (${this.mapped(error).message})`);
      }
      if (intent.metadata?.[STRIPE_KEY_METADATA] !== idempotencyKey) throw new Error(`${this.id}: ${gatewayReference} is not the intent of ${idempotencyKey}`);
      return this.outcome(intent);
    }
    let found: Stripe.ApiSearchResult<Stripe.PaymentIntent>;
    try {
      found = await stripe.paymentIntents.search({
        query: `metadata['${STRIPE_KEY_METADATA}']:'${idempotencyKey}'`,
        limit: 1,
        expand: ['data.latest_charge.balance_transaction'],
      });
    } catch (error) {
      const mapped = this.mapped(error);
      // The lookup itself failed: the outcome stays unknown (the attempt stays pending), whatever the error.
      throw new ChargeOutcomeUnknownError(`${this.id}: could not look ${idempotencyKey} up (${mapped.message})`);
    }
    const intent = found.data[0];
    if (intent) return this.outcome(intent);
    // Stripe's search lags its writes (usually under a minute, longer in incidents): a miss soon after the call is
    // no proof it never arrived.
    const age = expected?.since ? Date.now() - Date.parse(expected.since) : Number.POSITIVE_INFINITY;
    if (age < SEARCH_SETTLED_MS) throw new ChargeOutcomeUnknownError(`${this.id} has no intent for ${idempotencyKey} yet; its search may lag, so the outcome is not known`);
    return undefined;
  }

  async cancel(idempotencyKey: string, gatewayReference: string): Promise<ChargeResult | undefined> {
    const stripe = await this.stripe();
    try {
      await stripe.paymentIntents.cancel(gatewayReference, { cancellation_reason: 'abandoned' }, { idempotencyKey: `${idempotencyKey}:cancel` });
      return undefined;
    } catch (error) {
      // It is no longer cancelable (it succeeded, or failed, meanwhile): its state is the answer.
      if (error instanceof Stripe.errors.StripeInvalidRequestError && error.code === 'payment_intent_unexpected_state') {
        try {
          return await this.retrieve(idempotencyKey, gatewayReference);
        } catch (state) {
          // Canceled already (or declined): nothing was charged.
          if (state instanceof GatewayDeclinedError) return undefined;
          throw state;
        }
      }
      throw this.mapped(error);
    }
  }

  async parseWebhook(rawBody: string, headers: Readonly<Record<string, string | undefined>>): Promise<GatewayEvent | undefined> {
    const secret = (await this.options.credentials()).webhookSecret;
    if (!secret) throw new Error(`connector ${this.id} has no webhookSecret in its credentials: add the endpoint's signing secret (whsec_…)`);
    const signature = headers['stripe-signature'];
    let event: Stripe.Event;
    try {
      event = (await this.stripe()).webhooks.constructEvent(rawBody, signature ?? '', secret);
    } catch (error) {
      throw new WebhookSignatureError(`not a webhook of ${this.id}: ${(error as Error).message}`);
    }
    if (!event.type.startsWith('payment_intent.')) return undefined;
    const intent = event.data.object as Stripe.PaymentIntent;
    const key = intent.metadata?.[STRIPE_KEY_METADATA];
    const merchantId = intent.metadata?.[STRIPE_MERCHANT_METADATA];
    // An intent the platform did not create (the account's other traffic) is not ours to settle.
    if (!key || !merchantId) return undefined;
    return { eventId: event.id, type: event.type, idempotencyKey: key, merchantId, gatewayReference: intent.id };
  }

  async refund(call: RefundCall): Promise<RefundResult> {
    const stripe = await this.ready();
    const refund = await this.tracked(
      call.idempotencyKey,
      () =>
        stripe.refunds.create(
          {
            payment_intent: call.chargeReference,
            amount: toStripeAmount(call.amount, call.currency),
            ...(call.reason ? { reason: call.reason } : {}),
            metadata: { [STRIPE_KEY_METADATA]: call.idempotencyKey },
          },
          { idempotencyKey: call.idempotencyKey },
        ),
      (error, earlierLanded) => this.refundError(error, earlierLanded),
    );
    return this.refundOutcome(refund);
  }

  async retrieveRefund({ idempotencyKey, chargeReference }: RefundCall): Promise<RefundResult | undefined> {
    const stripe = await this.stripe();
    try {
      // A charge's refunds are few: list them (consistent, unlike search) and find the key's.
      for await (const refund of stripe.refunds.list({ payment_intent: chargeReference, limit: 100 })) {
        if (refund.metadata?.[STRIPE_KEY_METADATA] === idempotencyKey) return this.refundOutcome(refund);
      }
      return undefined;
    } catch (error) {
      if (error instanceof RefundDeclinedError) throw error;
      throw new ChargeOutcomeUnknownError(`${this.id}: could not look refund ${idempotencyKey} up (${this.mapped(error).message})`);
    }
  }

  private refundOutcome(refund: Stripe.Refund): RefundResult {
    if (refund.status === 'succeeded') return { gatewayReference: refund.id, status: 'succeeded' };
    if (refund.status === 'failed' || refund.status === 'canceled') {
      throw new RefundDeclinedError(`${this.id} could not refund (${refund.failure_reason ?? refund.status})`, { connectorId: this.id, gatewayCode: refund.failure_reason ?? refund.status, gatewayReference: refund.id });
    }
    return { gatewayReference: refund.id, status: 'pending' };
  }

  /** Stripe's refusal of a refund (already refunded, too large, disputed) is a decline; the rest as for charges. */
  private refundError(error: unknown, earlierLanded: boolean): Error {
    // Stripe refused it (nothing left, too large, disputed, an intent it does not know): nothing was refunded.
    if (error instanceof Stripe.errors.StripeInvalidRequestError && error.code !== 'idempotency_error' && error.code !== 'parameter_unknown') {
      return new RefundDeclinedError(`${this.id} refused the refund: ${error.message}`, { connectorId: this.id, gatewayCode: error.code ?? 'invalid_request' });
    }
    // Anything else maps as for a charge (retryable, ambiguous, or a bug of ours).
    return this.mapped(error, earlierLanded);
  }

  /** A PaymentIntent's state as the port's outcome: the charge, or the decline or unknown outcome, thrown. */
  private outcome(intent: Stripe.PaymentIntent, request?: ChargeRequest): ChargeResult {
    switch (intent.status) {
      case 'succeeded': {
        const card = this.cardOf(intent);
        const charge = typeof intent.latest_charge === 'object' ? intent.latest_charge : undefined;
        const gatewayFingerprint = charge?.payment_method_details?.card?.fingerprint ?? undefined;
        return { gatewayReference: intent.id, feeMinor: this.feeOf(intent, request), ...(card ? { card } : {}), ...(gatewayFingerprint ? { gatewayFingerprint } : {}) };
      }
      case 'requires_payment_method': {
        // The confirmation failed: Stripe keeps the decline on the intent.
        const failure = intent.last_payment_error;
        const code = failure?.decline_code || failure?.code || 'card_declined';
        if (code === 'processing_error') throw new GatewayRetryableError(failure?.message ?? 'processing error', code, { connectorId: this.id, gatewayReference: intent.id });
        throw new GatewayDeclinedError(failure?.message ?? 'the card was declined', code, { connectorId: this.id, gatewayReference: intent.id });
      }
      case 'requires_action':
        // Not charged yet: the customer authenticates (3-D Secure) with Stripe.js and the client secret.
        if (!intent.client_secret) throw new Error(`${this.id}: payment intent ${intent.id} requires an action but has no client secret`);
        return { gatewayReference: intent.id, feeMinor: 0, requiresAction: { type: 'use_stripe_sdk', clientSecret: intent.client_secret } };
      case 'canceled':
        throw new GatewayDeclinedError('the payment intent was canceled', 'canceled', { connectorId: this.id, gatewayReference: intent.id });
      default:
        // processing, requires_confirmation, requires_capture: not (yet) an outcome.
        throw new ChargeOutcomeUnknownError(`${this.id}: payment intent ${intent.id} is ${intent.status}`);
    }
  }

  /** The card as Stripe charged it (brand, last 4, expiry), from the expanded charge. */
  private cardOf(intent: Stripe.PaymentIntent): CardSummary | undefined {
    const charge = typeof intent.latest_charge === 'object' ? intent.latest_charge : undefined;
    const card = charge?.payment_method_details?.card;
    if (!card) return undefined;
    const brand = CardBrand.safeParse(card.brand);
    return { brand: brand.success ? brand.data : 'unknown', last4: card.last4 ?? undefined, expMonth: card.exp_month, expYear: card.exp_year };
  }

  /** Stripe's fee from the charge's balance transaction when it is in the payment's currency, else the schedule's. */
  private feeOf(intent: Stripe.PaymentIntent, request?: ChargeRequest): number {
    const charge = typeof intent.latest_charge === 'object' ? intent.latest_charge : undefined;
    const balance = charge && typeof charge.balance_transaction === 'object' ? charge.balance_transaction : undefined;
    if (balance && balance.currency === intent.currency) return fromStripeAmount(balance.fee, intent.currency);
    const country = request?.country ?? charge?.billing_details?.address?.country ?? undefined;
    return connectorFee(this.definition.fee, { amountMinor: fromStripeAmount(intent.amount, intent.currency), method: 'card', ...(country ? { country } : {}) });
  }

  /**
   * A thrown SDK error as the port's named error (an unexpected one is rethrown as it is). `earlierLanded`: a try
   * before the last may have reached Stripe, so a refusal of the last (a refused connection, a 429, a 401) is no
   * proof that nothing was done.
   */
  private mapped(error: unknown, earlierLanded = false): Error {
    if (!(error instanceof Stripe.errors.StripeError)) return error as Error;
    const details = { connectorId: this.id, ...(error.requestId ? { requestId: error.requestId } : {}) };
    if (earlierLanded && !(error instanceof Stripe.errors.StripeCardError) && !(error instanceof Stripe.errors.StripeInvalidRequestError)) {
      return new GatewayAmbiguousError(`${this.id}: the last try was answered ${error.statusCode ?? error.type} (${error.message}), and an earlier try may have been done`);
    }
    if (error instanceof Stripe.errors.StripeCardError) {
      const code = error.decline_code || error.code || 'card_declined';
      if (error.code === 'processing_error') return new GatewayRetryableError(error.message, 'processing_error', details);
      return new GatewayDeclinedError(error.message, code, details);
    }
    if (error instanceof Stripe.errors.StripeRateLimitError) return new GatewayRetryableError(`${this.id} is rate limiting`, 'rate_limited', details);
    if (error instanceof Stripe.errors.StripeAuthenticationError || error instanceof Stripe.errors.StripePermissionError) {
      return new GatewayRetryableError(`${this.id} refused its credentials (${error.message})`, 'gateway_authentication_failed', details);
    }
    if (error instanceof Stripe.errors.StripeConnectionError) {
      const cause = (error.detail as { code?: string } | undefined)?.code;
      if (cause && NOT_SENT_CODES.has(cause)) return new GatewayRetryableError(`${this.id} could not be reached (${cause})`, 'gateway_unavailable', details);
      return new GatewayAmbiguousError(`${this.id}: ${error.message}`);
    }
    if (error instanceof Stripe.errors.StripeAPIError || (error.statusCode ?? 0) >= 500) return new GatewayAmbiguousError(`${this.id} answered ${error.statusCode ?? 'an error'}: ${error.message}`);
    if (error instanceof Stripe.errors.StripeInvalidRequestError && error.code !== 'idempotency_error' && error.code !== 'parameter_unknown') {
      // Stripe refused the request before charging: a payment method it does not know, say. Refusals of the buyer's
      // input (the payment method, the amount) say nothing of how this account authorises, and routing does not learn
      // them; the rest (a currency or method this account does not take) is the connector's, and it does.
      const buyerInput = error.param?.startsWith('payment_method') === true || /^(amount_|invalid_charge_amount)/.test(error.code ?? '');
      return new GatewayDeclinedError(error.message, error.code ?? 'invalid_request', details, { requestRefused: buyerInput });
    }
    // An idempotency conflict or an unknown parameter is this adapter's bug, not the buyer's.
    return new Error(`${this.id}: Stripe refused the request (${error.code ?? error.type}): ${error.message}`);
  }
}

/** The request's card as Stripe takes it: a PaymentMethod id, or the raw card with its billing country. */
function paymentMethodOf(request: ChargeRequest): Pick<Stripe.PaymentIntentCreateParams, 'payment_method' | 'payment_method_data'> {
  if (request.paymentMethodId) return { payment_method: request.paymentMethodId };
  const card = request.card;
  if (!card) throw new Error('stripe: a charge request without a card (routing sends Stripe cards only)');
  return {
    payment_method_data: {
      type: 'card',
      card: { number: card.number, exp_month: card.expMonth, exp_year: card.expYear, ...(card.cvc ? { cvc: card.cvc } : {}) },
      ...(request.country ? { billing_details: { address: { country: request.country } } } : {}),
    } as Stripe.PaymentIntentCreateParams.PaymentMethodData,
  };
}
