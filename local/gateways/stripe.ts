/**
 * An embedded fake of Stripe's API, test-grade: the PaymentIntents the Stripe adapter uses (create with
 * confirm, retrieve, search by metadata) and Refunds (create, never beyond what the charge has left; list by
 * intent), with Stripe's request shapes asserted and its documented error
 * bodies answered, so `npm start` and the tests run the adapter users deploy (lambdas/payments/stripe.ts).
 *
 * What it asserts, as Stripe does or as our adapter must: `Authorization: Bearer <an account's key>` (else 401
 * with Stripe's body), a `Stripe-Version`, form-encoded POST bodies (`a[b][c]=v`), an `Idempotency-Key` on
 * every POST (our adapter always sends one), known parameters only (`parameter_unknown`), and idempotency as
 * Stripe keeps it: the same key with the same parameters replays the first answer (`Idempotent-Replayed`), with
 * other parameters it is a 400 `idempotency_error`.
 *
 * The issuer is the test world's (contracts/issuer.ts): Stripe's test cards and test PaymentMethods
 * (`pm_card_visa`…), the 3-D Secure test cards (`requires_action`), and the account's approval profile for
 * ordinary cards. One account per Stripe connector of the registry, told apart by its secret key.
 *
 * Faults, per account (`setFault`; the local platform takes them from SANDBOX_FAULTS): `unavailable` answers 429
 * before processing (retryable); `timeout` processes the call and then drops the connection (the caller cannot
 * know: it must reconcile); `server_error` processes it and answers (and replays) a 500, as Stripe saves it.
 *
 * Its state is the gateway's own, outside the platform: each processed call is a line of
 * `<dir>/<connector>.jsonl`, written before the answer, in the sandbox ledger's shape (lambdas/payments/sandbox.ts
 * LedgerLine: key, amount, ok, result), so a restart keeps every intent and replay, and `npm run test:faults`
 * counts charges from it.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { connectorFee, fromStripeAmount, toStripeAmount, type ConnectorDefinition } from '../../contracts/connectors';
import { issuerAnswer, STRIPE_TEST_PAYMENT_METHODS } from '../../contracts/issuer';
import { cardBrand } from '../../contracts/methods';
import { parseStripeForm, type FormValue } from './form';
import { deliverWebhook, Journal, keepRequest, serveJson, type Answer, type FakeOptions, type LedgerFields, type WebhookDelivery } from './server';

export type { WebhookDelivery };

/** The API version the fake's events say they are (the SDK's pinned one). */
const STRIPE_API_VERSION = '2026-10-28.endive';

export type StripeFault = 'unavailable' | 'timeout' | 'server_error';
export const STRIPE_FAULTS: readonly StripeFault[] = ['unavailable', 'timeout', 'server_error'];

/** A Stripe connector the fake serves, with its secret key. */
export interface StripeAccount {
  readonly definition: ConnectorDefinition;
  readonly secretKey: string;
  /** The account's webhook endpoint's signing secret (whsec_…): events are signed with it. */
  readonly webhookSecret?: string;
}

export interface StripeFakeOptions extends FakeOptions<StripeFault> {
  readonly accounts: readonly StripeAccount[];
}

export interface StripeFake {
  readonly url: string;
  /** Where the accounts' webhooks go: `<base>/<connectorId>` (the platform's POST /webhooks/stripe/{connectorId}). */
  setWebhookBase(base: string): void;
  /**
   * The customer's 3-D Secure step on an intent awaiting it (Stripe.js, in real life): `succeed` charges it,
   * `fail` leaves it declined (requires_payment_method); the account's webhook is sent either way, and its
   * delivery is awaited (the endpoint's answer, or undefined when no webhook base is set).
   */
  authenticate(connectorId: string, intentId: string, outcome: 'succeed' | 'fail'): Promise<WebhookDelivery | undefined>;
  /** Sends an intent's event again, as Stripe retries or replays one (the endpoint's answer). */
  resend(connectorId: string, intentId: string, type: string): Promise<WebhookDelivery | undefined>;
  setFault(connectorId: string, fault: StripeFault | undefined): void;
  /** The latest requests it received (method, path, headers, parsed form; at most 500), oldest first: what tests assert shapes on. */
  readonly requests: ReadonlyArray<{ method: string; path: string; headers: IncomingMessage['headers']; form: Record<string, FormValue> }>;
  /** The account's intents, by id. */
  intents(connectorId: string): ReadonlyMap<string, PaymentIntent>;
  close(): Promise<void>;
}

/** The PaymentIntent object, as much of it as the adapter reads (Stripe's field names). */
export interface PaymentIntent {
  readonly id: string;
  readonly object: 'payment_intent';
  readonly amount: number;
  readonly currency: string;
  readonly status: 'succeeded' | 'requires_action' | 'requires_payment_method' | 'canceled';
  readonly cancellation_reason?: string | null;
  readonly client_secret: string;
  readonly created: number;
  readonly livemode: false;
  readonly description: string | null;
  readonly metadata: Record<string, string>;
  readonly payment_method: string | null;
  readonly latest_charge: string | Charge | null;
  readonly last_payment_error: StripeErrorBody | null;
  readonly next_action: { readonly type: 'use_stripe_sdk'; readonly use_stripe_sdk: { readonly type: 'three_d_secure_redirect' } } | null;
}

interface Charge {
  readonly id: string;
  readonly object: 'charge';
  readonly amount: number;
  readonly currency: string;
  /** Stripe's charge status (succeeded, pending or failed). */
  readonly status: string;
  readonly paid: boolean;
  readonly payment_intent: string;
  readonly balance_transaction: { readonly id: string; readonly object: 'balance_transaction'; readonly amount: number; readonly fee: number; readonly net: number; readonly currency: string } | null;
  readonly payment_method_details: { readonly type: 'card'; readonly card: { readonly brand: string; readonly last4: string; readonly exp_month: number; readonly exp_year: number; readonly fingerprint: string } };
}

interface StripeErrorBody {
  readonly type: 'card_error' | 'invalid_request_error' | 'api_error' | 'idempotency_error';
  readonly code?: string;
  readonly decline_code?: string;
  readonly message: string;
  readonly param?: string;
  readonly charge?: string;
  readonly payment_intent?: PaymentIntent;
  readonly doc_url?: string;
}

/**
 * A line of an account's file: a processed POST by its Idempotency-Key. A charge's line has the sandbox ledger's
 * fields (`ok`, `amount`, `result`: what the fault suite counts); a refund's has none of them.
 */
interface Line extends LedgerFields {
  /** A processed POST has its params and answer (what a repeat of its key replays); a later change of an intent has neither. */
  readonly stripe: {
    readonly paramsHash?: string;
    readonly answer?: Answer;
    readonly intent?: PaymentIntent;
    readonly refund?: StripeRefund;
    /** An intent awaiting authentication: the card it will charge, and its billing country (the fake's own). */
    readonly awaiting?: { readonly card: CardDetails; readonly country?: string };
  };
}

/** The Refund object, as much of it as the adapter reads. */
export interface StripeRefund {
  readonly id: string;
  readonly object: 'refund';
  readonly amount: number;
  readonly currency: string;
  readonly payment_intent: string;
  readonly charge: string;
  readonly status: 'succeeded';
  readonly reason: string | null;
  readonly metadata: Record<string, string>;
  readonly created: number;
}

/** The parameters POST /v1/payment_intents takes here (what the adapter sends; Stripe takes more). */
/** A charge's fee in Stripe's units: the account's fee schedule (in ISO minor units) on the amount it charged. */
function feeOf(account: Account, stripeAmount: number, currency: string, country: string | undefined): number {
  const minor = fromStripeAmount(stripeAmount, currency);
  return toStripeAmount(connectorFee(account.definition.fee, { amountMinor: minor, method: 'card', ...(country ? { country } : {}) }), currency);
}

/**
 * Stripe's own rules on amounts in a few currencies (https://docs.stripe.com/currencies#special-cases): ISK stays
 * two-decimal in its API but takes whole krónur only (multiples of 100); the three-decimal currencies take amounts
 * whose last digit is 0. The fake refuses the rest as Stripe does, so an adapter that sends ISO minor units as they
 * are is caught here.
 */
function amountRule(amount: number, currency: string): Answer | undefined {
  if (currency === 'isk' && amount % 100 !== 0) {
    return invalid('Invalid amount. Currency ISK has become effectively zero-decimal and charged amounts must be evenly divisible by 100.', 'invalid_charge_amount_no_decimal_compatible', 'amount');
  }
  if (['bhd', 'jod', 'kwd', 'omr', 'tnd'].includes(currency) && amount % 10 !== 0) {
    return invalid(`Invalid amount. Amounts in ${currency.toUpperCase()} must have 0 as their last digit (round to the nearest ten).`, 'parameter_invalid_integer', 'amount');
  }
  return undefined;
}

const REFUND_PARAMS = new Set(['payment_intent', 'amount', 'reason', 'metadata', 'expand']);
const REFUND_REASONS = new Set(['requested_by_customer', 'duplicate', 'fraudulent']);

const CREATE_PARAMS = new Set([
  'amount', 'currency', 'confirm', 'allowed_payment_method_types', 'payment_method', 'payment_method_data', 'metadata', 'description', 'expand',
]);


const stripeError = (status: number, error: StripeErrorBody): Answer => ({ status, body: { error } });
const invalid = (message: string, code: string, param?: string, status = 400): Answer =>
  stripeError(status, { type: 'invalid_request_error', code, message, ...(param ? { param } : {}), doc_url: `https://stripe.com/docs/error-codes/${code.replace(/_/g, '-')}` });

function id(prefix: string): string {
  return `${prefix}_${randomBytes(12).toString('base64url').replace(/[-_]/g, 'x')}`;
}

type CardDetails = Charge['payment_method_details']['card'];

class Account {
  readonly intents = new Map<string, PaymentIntent>();
  /** What an intent awaiting authentication will charge (the fake's own memory; Stripe keeps it on the PaymentMethod). */
  readonly awaiting = new Map<string, { readonly card: CardDetails; readonly country?: string }>();
  readonly refunds = new Map<string, StripeRefund>();
  /** The Idempotency-Key that created each intent. */
  readonly creators = new Map<string, string>();
  readonly calls = new Map<string, Line>();
  private readonly journal: Journal<Line>;

  constructor(
    readonly definition: ConnectorDefinition,
    dir: string | undefined,
  ) {
    this.journal = new Journal(dir, definition.id);
    // An intent's latest state is its last line's.
    for (const line of this.journal.lines()) if (line.stripe) this.apply(line);
  }

  private apply(line: Line): void {
    if (line.stripe.answer && !this.calls.has(line.key)) this.calls.set(line.key, line);
    if (line.stripe.answer && line.stripe.intent && !this.creators.has(line.stripe.intent.id)) this.creators.set(line.stripe.intent.id, line.key);
    if (line.stripe.intent) this.intents.set(line.stripe.intent.id, line.stripe.intent);
    if (line.stripe.refund) this.refunds.set(line.stripe.refund.id, line.stripe.refund);
    if (line.stripe.awaiting && line.stripe.intent) this.awaiting.set(line.stripe.intent.id, line.stripe.awaiting);
  }

  /** What the intent's refunds took. */
  refunded(intentId: string): number {
    let total = 0;
    for (const refund of this.refunds.values()) if (refund.payment_intent === intentId) total += refund.amount;
    return total;
  }

  record(line: Line): void {
    if (line.stripe.answer) this.calls.set(line.key, line);
    this.apply(line);
    this.journal.append(line);
  }
}

const text = (value: FormValue | undefined): string | undefined => (typeof value === 'string' ? value : undefined);

/** The intent as the caller asked to see it: `latest_charge` expanded (with its balance transaction) or its id. */
function rendered(intent: PaymentIntent, expand: readonly string[]): PaymentIntent {
  const charge = intent.latest_charge;
  if (!charge || typeof charge === 'string') return intent;
  if (expand.some((path) => path === 'latest_charge' || path.startsWith('latest_charge.'))) {
    if (expand.includes('latest_charge.balance_transaction')) return intent;
    return { ...intent, latest_charge: { ...charge, balance_transaction: (charge.balance_transaction?.id ?? null) as unknown as Charge['balance_transaction'] } };
  }
  return { ...intent, latest_charge: charge.id };
}

function expansions(form: Record<string, FormValue>, prefix = ''): string[] {
  const raw = form.expand;
  const list = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  return list.filter((v): v is string => typeof v === 'string').map((v) => (prefix && v.startsWith(prefix) ? v.slice(prefix.length) : v));
}

export async function startStripeFake(options: StripeFakeOptions): Promise<StripeFake> {
  const now = options.now ?? (() => new Date());
  const byKey = new Map<string, Account>();
  const byId = new Map<string, Account>();
  const webhookSecrets = new Map<string, string>();
  for (const { definition, secretKey, webhookSecret } of options.accounts) {
    const account = new Account(definition, options.dir);
    byKey.set(secretKey, account);
    byId.set(definition.id, account);
    if (webhookSecret) webhookSecrets.set(definition.id, webhookSecret);
  }
  let webhookBase: string | undefined;

  /** Sends an event about an intent to the account's endpoint, signed as Stripe signs (`Stripe-Signature: t=…,v1=…`). */
  async function sendEvent(account: Account, type: string, intent: PaymentIntent): Promise<WebhookDelivery | undefined> {
    const secret = webhookSecrets.get(account.definition.id);
    if (!webhookBase || !secret) return undefined;
    const created = Math.floor(now().getTime() / 1000);
    const payload = JSON.stringify({ id: id('evt'), object: 'event', type, created, livemode: false, api_version: STRIPE_API_VERSION, pending_webhooks: 1, data: { object: intent } });
    const signature = createHmac('sha256', secret).update(`${created}.${payload}`).digest('hex');
    return deliverWebhook(`${webhookBase}/${account.definition.id}`, {
      headers: { 'content-type': 'application/json; charset=utf-8', 'stripe-signature': `t=${created},v1=${signature}`, 'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)' },
      body: payload,
    }).catch(() => undefined);
  }

  /** An intent's new state, kept (a line of its own, with the charge fields when it was charged now). */
  function changed(account: Account, before: PaymentIntent, after: PaymentIntent): void {
    // Kept under the Idempotency-Key that created it, as its charge line is (what the fault suite counts by).
    const key = account.creators.get(before.id) ?? before.id;
    const charged = after.status === 'succeeded' && before.status !== 'succeeded';
    const charge = after.latest_charge;
    const fee = typeof charge === 'object' && charge?.balance_transaction ? charge.balance_transaction.fee : 0;
    account.record({
      key, at: now().toISOString(),
      // The ledger's fields in the platform's units (ISO minor units), as the sandbox ledger keeps them.
      ...(charged ? { amount: fromStripeAmount(after.amount, after.currency), currency: after.currency.toUpperCase(), ok: true, result: { gatewayReference: after.id, feeMinor: fromStripeAmount(fee, after.currency) } } : {}),
      stripe: { intent: after },
    });
  }

  function cancel(account: Account, form: Record<string, FormValue>, intentId: string): { answer: Answer; line?: Line } {
    for (const name of Object.keys(form)) {
      if (name !== 'cancellation_reason') return { answer: invalid(`Received unknown parameter: ${name}`, 'parameter_unknown', name) };
    }
    const intent = account.intents.get(intentId);
    if (!intent) return { answer: invalid(`No such payment_intent: '${intentId}'`, 'resource_missing', 'intent', 404) };
    if (intent.status !== 'requires_action' && intent.status !== 'requires_payment_method') {
      return {
        answer: invalid(`You cannot cancel this PaymentIntent because it has a status of ${intent.status}. Only a PaymentIntent with one of the following statuses may be canceled: requires_payment_method, requires_capture, requires_confirmation, requires_action, processing.`, 'payment_intent_unexpected_state', undefined),
      };
    }
    const after: PaymentIntent = { ...intent, status: 'canceled', cancellation_reason: text(form.cancellation_reason) ?? null, next_action: null };
    changed(account, intent, after);
    void sendEvent(account, 'payment_intent.canceled', after);
    return { answer: { status: 200, body: after }, line: { key: '', at: now().toISOString(), stripe: {} } };
  }
  const faults = new Map<string, StripeFault>(Object.entries(options.faults ?? {}));
  const requests: StripeFake['requests'] extends ReadonlyArray<infer R> ? R[] : never = [];

  function create(account: Account, form: Record<string, FormValue>, key: string): { answer: Answer; line?: Line } {
    for (const name of Object.keys(form)) {
      if (!CREATE_PARAMS.has(name)) return { answer: invalid(`Received unknown parameter: ${name}`, 'parameter_unknown', name) };
    }
    const amountText = text(form.amount);
    if (amountText === undefined) return { answer: invalid('Missing required param: amount.', 'parameter_missing', 'amount') };
    const amount = Number(amountText);
    if (!/^\d+$/.test(amountText) || amount < 1 || amount > 99_999_999) return { answer: invalid('Invalid integer: ' + amountText, 'parameter_invalid_integer', 'amount') };
    const currency = text(form.currency);
    if (currency === undefined) return { answer: invalid('Missing required param: currency.', 'parameter_missing', 'currency') };
    if (!/^[a-z]{3}$/.test(currency)) return { answer: invalid(`Invalid currency: ${currency}. Stripe currencies are three-letter ISO codes in lowercase.`, 'parameter_invalid_string', 'currency') };
    const unitRule = amountRule(amount, currency);
    if (unitRule) return { answer: unitRule };
    if (text(form.confirm) !== 'true') return { answer: invalid('This fake confirms on create only: send confirm=true (the SmartPay adapter always does).', 'parameter_invalid_string', 'confirm') };
    const metadata = form.metadata ?? {};
    if (typeof metadata !== 'object' || Array.isArray(metadata) || Object.values(metadata).some((v) => typeof v !== 'string')) {
      return { answer: invalid('Invalid object', 'parameter_invalid_string', 'metadata') };
    }
    let card: { number: string; expMonth: number; expYear: number } | undefined;
    let country: string | undefined;
    const pm = text(form.payment_method);
    const data = form.payment_method_data;
    if (pm !== undefined) {
      const number = STRIPE_TEST_PAYMENT_METHODS[pm];
      if (!number) return { answer: invalid(`No such PaymentMethod: '${pm}'`, 'resource_missing', 'payment_method') };
      card = { number, expMonth: 12, expYear: now().getUTCFullYear() + 3 };
      // Stripe's test PaymentMethods are US-issued cards: their fee is the domestic one for a US account.
      country = 'US';
    } else if (data && typeof data === 'object' && !Array.isArray(data) && text(data.type) === 'card' && typeof data.card === 'object' && !Array.isArray(data.card)) {
      const c = data.card;
      const number = text(c.number) ?? '';
      if (!/^\d{12,19}$/.test(number)) return { answer: invalid('Your card number is incorrect.', 'incorrect_number', 'payment_method_data[card][number]', 402) };
      card = { number, expMonth: Number(text(c.exp_month)), expYear: Number(text(c.exp_year)) };
      // The card's country, as far as the fake knows it: the billing address's (fees and approval by region).
      const billing = data.billing_details;
      const address = billing && typeof billing === 'object' && !Array.isArray(billing) ? billing.address : undefined;
      country = address && typeof address === 'object' && !Array.isArray(address) ? text(address.country) : undefined;
    } else {
      return { answer: invalid('You must provide a payment_method or payment_method_data[type]=card with confirm=true.', 'parameter_missing', 'payment_method') };
    }

    const answer = issuerAnswer({ amount, card, ...(country ? { country } : {}) }, { connectorId: account.definition.id, key, approval: account.definition.approval, now: now(), authenticates: true });
    const piId = id('pi');
    const chargeId = id('ch');
    const base = {
      id: piId,
      object: 'payment_intent' as const,
      amount,
      currency,
      client_secret: `${piId}_secret_${randomBytes(12).toString('hex')}`,
      created: Math.floor(now().getTime() / 1000),
      livemode: false as const,
      description: text(form.description) ?? null,
      metadata: metadata as Record<string, string>,
      payment_method: id('pm'),
      next_action: null,
      last_payment_error: null,
    };
    const details = {
      type: 'card' as const,
      card: {
        brand: cardBrand(card.number),
        last4: card.number.slice(-4),
        exp_month: card.expMonth,
        exp_year: card.expYear,
        fingerprint: createHash('sha256').update(`${account.definition.id}:${card.number}`).digest('base64url').slice(0, 16),
      },
    };
    let intent: PaymentIntent;
    let result: Answer;
    if (answer.kind === 'approved') {
      const fee = feeOf(account, amount, currency, country);
      const charge: Charge = {
        id: chargeId, object: 'charge', amount, currency, status: 'succeeded', paid: true, payment_intent: piId,
        balance_transaction: { id: id('txn'), object: 'balance_transaction', amount, fee, net: amount - fee, currency },
        payment_method_details: details,
      };
      intent = { ...base, status: 'succeeded', latest_charge: charge };
      result = { status: 200, body: intent };
    } else if (answer.kind === 'authenticate') {
      intent = { ...base, status: 'requires_action', latest_charge: null, next_action: { type: 'use_stripe_sdk', use_stripe_sdk: { type: 'three_d_secure_redirect' } } };
      result = { status: 200, body: intent };
    } else {
      const cardError: StripeErrorBody = {
        type: 'card_error',
        // Stripe's codes: a decline is card_declined with a decline_code; expiry, CVC and processing have their own.
        code: ['expired_card', 'incorrect_cvc', 'processing_error'].includes(answer.code) ? answer.code : 'card_declined',
        ...(['expired_card', 'incorrect_cvc', 'processing_error'].includes(answer.code) ? {} : { decline_code: answer.code }),
        message: answer.message,
        charge: chargeId,
        doc_url: 'https://stripe.com/docs/error-codes/card-declined',
      };
      intent = { ...base, status: 'requires_payment_method', latest_charge: chargeId, last_payment_error: cardError };
      result = stripeError(402, { ...cardError, payment_intent: intent });
    }
    const ok = intent.status === 'succeeded';
    const charge = intent.latest_charge;
    const feeMinor = typeof charge === 'object' && charge?.balance_transaction ? charge.balance_transaction.fee : 0;
    return {
      answer: result,
      line: {
        key, at: now().toISOString(), amount: fromStripeAmount(amount, currency), currency: currency.toUpperCase(), ok,
        ...(ok ? { result: { gatewayReference: piId, feeMinor: fromStripeAmount(feeMinor, currency) } } : {}),
        stripe: { paramsHash: '', answer: result, intent, ...(answer.kind === 'authenticate' ? { awaiting: { card: details.card, ...(country ? { country } : {}) } } : {}) },
      },
    };
  }

  function createRefund(account: Account, form: Record<string, FormValue>, key: string): { answer: Answer; line?: Line } {
    for (const name of Object.keys(form)) {
      if (!REFUND_PARAMS.has(name)) return { answer: invalid(`Received unknown parameter: ${name}`, 'parameter_unknown', name) };
    }
    const intentId = text(form.payment_intent);
    if (intentId === undefined) return { answer: invalid('One of the following params should be provided for this request: payment_intent or charge.', 'parameter_missing', 'payment_intent') };
    const intent = account.intents.get(intentId);
    if (!intent) return { answer: invalid(`No such payment_intent: '${intentId}'`, 'resource_missing', 'payment_intent') };
    const charge = intent.latest_charge;
    if (intent.status !== 'succeeded' || !charge || typeof charge === 'string') {
      return { answer: invalid(`This PaymentIntent (${intentId}) does not have a successful charge to refund.`, 'charge_not_refundable', 'payment_intent') };
    }
    const left = intent.amount - account.refunded(intentId);
    if (left <= 0) return { answer: invalid(`Charge ${charge.id} has already been refunded.`, 'charge_already_refunded') };
    const amountText = text(form.amount);
    const amount = amountText === undefined ? left : Number(amountText);
    if (amountText !== undefined && (!/^\d+$/.test(amountText) || amount < 1)) return { answer: invalid(`Invalid positive integer: ${amountText}`, 'parameter_invalid_integer', 'amount') };
    const unitRule = amountRule(amount, intent.currency);
    if (unitRule) return { answer: unitRule };
    if (amount > left) {
      return { answer: invalid(`Refund amount (${amount}) is greater than unrefunded amount on charge (${left})`, 'amount_too_large', 'amount') };
    }
    const reason = text(form.reason);
    if (reason !== undefined && !REFUND_REASONS.has(reason)) return { answer: invalid(`Invalid reason: must be one of ${[...REFUND_REASONS].join(', ')}`, 'parameter_invalid_string', 'reason') };
    const metadata = form.metadata ?? {};
    if (typeof metadata !== 'object' || Array.isArray(metadata)) return { answer: invalid('Invalid object', 'parameter_invalid_string', 'metadata') };
    const refund: StripeRefund = {
      id: id('re'), object: 'refund', amount, currency: intent.currency, payment_intent: intentId, charge: charge.id, status: 'succeeded',
      reason: reason ?? null, metadata: metadata as Record<string, string>, created: Math.floor(now().getTime() / 1000),
    };
    const answer = { status: 200, body: refund };
    // In the platform's units beside Stripe's, as the sandbox ledger keeps refunds (no `ok`: not a charge).
    return { answer, line: { key, at: now().toISOString(), amount: fromStripeAmount(amount, intent.currency), currency: intent.currency.toUpperCase(), stripe: { paramsHash: '', answer, refund } } };
  }

  function search(account: Account, query: string, form: Record<string, FormValue>): Answer {
    const clause = /^metadata\['([A-Za-z0-9_]+)'\]:'([^']*)'$/.exec(query.trim());
    if (!clause) return invalid(`This fake searches by one metadata clause only (metadata['key']:'value'), got: ${query}`, 'parameter_invalid_string', 'query');
    const [, field, value] = clause;
    const expand = expansions(form, 'data.');
    const data = [...account.intents.values()].filter((pi) => pi.metadata[field] === value).sort((a, b) => b.created - a.created);
    const limit = Math.min(100, Math.max(1, Number(text(form.limit) ?? 10)));
    return { status: 200, body: { object: 'search_result', url: '/v1/payment_intents/search', has_more: data.length > limit, next_page: null, data: data.slice(0, limit).map((pi) => rendered(pi, expand)) } };
  }

  function handle(req: IncomingMessage, raw: string, res: ServerResponse): Answer | 'drop' {
    const url = new URL(req.url ?? '/', 'http://stripe.local');
    const auth = String(req.headers.authorization ?? '');
    const secretKey = auth.startsWith('Bearer ') ? auth.slice('Bearer '.length) : '';
    const account = byKey.get(secretKey);
    const form = parseStripeForm(req.method === 'GET' ? url.search.slice(1) : raw);
    keepRequest(requests, { method: req.method ?? '', path: url.pathname, headers: req.headers, form });
    if (!account) {
      const shown = secretKey ? `${secretKey.slice(0, 8)}${'*'.repeat(Math.max(0, secretKey.length - 12))}${secretKey.slice(-4)}` : '';
      return stripeError(401, { type: 'invalid_request_error', message: secretKey ? `Invalid API Key provided: ${shown}` : "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY')." });
    }
    if (!req.headers['stripe-version']) return invalid('This fake expects a Stripe-Version header (the SDK pins one).', 'parameter_missing');
    res.setHeader('Request-Id', id('req'));
    const canceling = /^\/v1\/payment_intents\/([A-Za-z0-9_]+)\/cancel$/.exec(url.pathname);
    type Create = (a: Account, f: Record<string, FormValue>, k: string) => { answer: Answer; line?: Line };
    const creates: Create | undefined =
      req.method !== 'POST'
        ? undefined
        : url.pathname === '/v1/payment_intents'
          ? create
          : url.pathname === '/v1/refunds'
            ? createRefund
            : canceling
              ? (a, f) => cancel(a, f, canceling[1]!)
              : undefined;
    if (creates) {
      if (!String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
        return invalid('Stripe takes form-encoded bodies (application/x-www-form-urlencoded).', 'parameter_invalid_string');
      }
      const key = String(req.headers['idempotency-key'] ?? '');
      if (!key) return invalid('This fake expects an Idempotency-Key on every POST (the SmartPay adapter derives one from the payment id and attempt).', 'parameter_missing');
      const fault = faults.get(account.definition.id);
      if (fault === 'unavailable') {
        res.setHeader('Stripe-Should-Retry', 'false');
        return stripeError(429, { type: 'invalid_request_error', code: 'rate_limit', message: 'Too many requests hit the API too quickly. We recommend an exponential backoff of your requests.' });
      }
      const paramsHash = createHash('sha256').update(`${url.pathname}\u0000${JSON.stringify(form)}`).digest('hex');
      const seen = account.calls.get(key);
      if (seen) {
        if (seen.stripe.paramsHash !== paramsHash) {
          return stripeError(400, {
            type: 'idempotency_error',
            message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
          });
        }
        res.setHeader('Idempotent-Replayed', 'true');
        if (fault === 'timeout') return 'drop';
        const first = seen.stripe.answer as Answer; // what `calls` holds always has its answer
        return { status: first.status, body: replayBody(first, expansions(form)) };
      }
      const { answer, line } = creates(account, form, key);
      if (!line) return answer; // refused before processing: nothing kept, as Stripe keeps nothing for it
      const kept = fault === 'server_error' ? stripeError(500, { type: 'api_error', message: 'An unknown error occurred' }) : answer;
      account.record({ ...line, key, stripe: { ...line.stripe, paramsHash, answer: kept } });
      if (fault === 'timeout') return 'drop';
      return { status: kept.status, body: replayBody(kept, expansions(form)) };
    }
    if (req.method === 'GET' && url.pathname === '/v1/refunds') {
      const intentId = text(form.payment_intent);
      const data = [...account.refunds.values()].filter((r) => intentId === undefined || r.payment_intent === intentId).sort((a, b) => b.created - a.created);
      return { status: 200, body: { object: 'list', url: '/v1/refunds', has_more: false, data: data.slice(0, Math.min(100, Number(text(form.limit) ?? 10))) } };
    }
    if (req.method === 'GET' && url.pathname === '/v1/payment_intents/search') {
      return search(account, text(form.query) ?? '', form);
    }
    const one = /^\/v1\/payment_intents\/([A-Za-z0-9_]+)$/.exec(url.pathname);
    if (req.method === 'GET' && one) {
      const intent = account.intents.get(one[1]);
      return intent ? { status: 200, body: rendered(intent, expansions(form)) } : invalid(`No such payment_intent: '${one[1]}'`, 'resource_missing', 'intent', 404);
    }
    return invalid(`Unrecognized request URL (${req.method}: ${url.pathname}). This fake serves the PaymentIntents calls of the SmartPay adapter.`, 'resource_missing', undefined, 404);
  }

  /** A kept answer as this call asked to see it (an intent's expansions differ per call). */
  function replayBody(answer: Answer, expand: readonly string[]): unknown {
    const body = answer.body as PaymentIntent | { error: StripeErrorBody };
    if ('object' in body && body.object === 'payment_intent') return rendered(body, expand);
    return body;
  }

  const server = await serveJson(handle, (error) => stripeError(500, { type: 'api_error', message: `the fake failed: ${error.message}` }), options.host);
  return {
    url: server.url,
    requests,
    setWebhookBase(base) {
      webhookBase = base.replace(/\/$/, '');
    },
    async authenticate(connectorId, intentId, outcome) {
      const account = byId.get(connectorId);
      const intent = account?.intents.get(intentId);
      if (!account || !intent) throw new Error(`the fake has no intent ${intentId} at ${connectorId}`);
      if (intent.status !== 'requires_action') throw new Error(`intent ${intentId} is ${intent.status}, not awaiting authentication`);
      let after: PaymentIntent;
      if (outcome === 'succeed') {
        const chargeId = id('ch');
        const awaited = account.awaiting.get(intent.id);
        const fee = feeOf(account, intent.amount, intent.currency, awaited?.country);
        const charge: Charge = {
          id: chargeId, object: 'charge', amount: intent.amount, currency: intent.currency, status: 'succeeded', paid: true, payment_intent: intent.id,
          balance_transaction: { id: id('txn'), object: 'balance_transaction', amount: intent.amount, fee, net: intent.amount - fee, currency: intent.currency },
          payment_method_details: { type: 'card', card: awaited?.card ?? { brand: 'visa', last4: '0000', exp_month: 12, exp_year: now().getUTCFullYear() + 3, fingerprint: 'unknown' } },
        };
        after = { ...intent, status: 'succeeded', next_action: null, latest_charge: charge };
      } else {
        const failure: StripeErrorBody = {
          type: 'card_error', code: 'payment_intent_authentication_failure',
          message: 'The provided PaymentMethod has failed authentication. You can provide payment_method_data or a new PaymentMethod to attempt to fulfill this PaymentIntent again.',
        };
        after = { ...intent, status: 'requires_payment_method', next_action: null, last_payment_error: failure };
      }
      changed(account, intent, after);
      return sendEvent(account, outcome === 'succeed' ? 'payment_intent.succeeded' : 'payment_intent.payment_failed', after);
    },
    async resend(connectorId, intentId, type) {
      const account = byId.get(connectorId);
      const intent = account?.intents.get(intentId);
      if (!account || !intent) throw new Error(`the fake has no intent ${intentId} at ${connectorId}`);
      return sendEvent(account, type, intent);
    },
    setFault(connectorId, fault) {
      if (fault === undefined) faults.delete(connectorId);
      else faults.set(connectorId, fault);
    },
    intents: (connectorId) => byId.get(connectorId)?.intents ?? new Map(),
    close: () => server.close(),
  };
}
