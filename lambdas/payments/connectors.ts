/**
 * The gateway connector port: what payments need from any gateway. Outcomes map onto one status model: a
 * result (`succeeded`; a refund may be `pending`), or a named error: GatewayDeclinedError (declined, with the
 * gateway's reason code; never retried elsewhere), GatewayRetryableError (nothing was done: another gateway
 * may take it), GatewayAmbiguousError (a timeout after sending: unknown, reconciled by the call's key before
 * anything else).
 */
import type { ActionDetails, CardSummary, RefundReason } from '../../contracts/api';


export interface ChargeRequest {
  readonly amount: number;
  readonly currency: string;
  /** Exactly one of `card`, `wallet`, `paymentMethodId` and `solanaPay`. */
  readonly card?: { readonly number: string; readonly expMonth: number; readonly expYear: number; readonly cvc?: string };
  readonly wallet?: { readonly wallet: 'amazon_pay'; readonly token: string };
  /** A card tokenised by the gateway (Stripe's `pm_…`), instead of `card`. */
  readonly paymentMethodId?: string;
  /** A Solana Pay transfer, instead of a card or a wallet. */
  readonly solanaPay?: true;
  /** Derived from payment id and attempt, so a retried call is the same call to the gateway. */
  readonly idempotencyKey: string;
  readonly description?: string;
  /** The buyer's country, when known. */
  readonly country?: string;
  /** The payment's merchant (kept on the gateway's charge, so its webhooks name the payment). */
  readonly merchantId?: string;
}

export interface ChargeResult {
  readonly gatewayReference: string;
  readonly feeMinor: number;
  /** The card as the gateway charged it, when it says (what a tokenised card's payment keeps of it). */
  readonly card?: CardSummary;
  /** The gateway's own fingerprint of the card (what a tokenised card's keyed fingerprint is made from; never kept). */
  readonly gatewayFingerprint?: string;
  /**
   * Not charged yet: the customer acts first (3-D Secure with Stripe.js and the intent's client secret, or a
   * Solana Pay transfer). The charge is `gatewayReference`'s, settled later.
   */
  readonly requiresAction?: ActionDetails;
}

/** What the call asked for and when it was made: what a gateway checks a lookup against. */
export interface Expected {
  readonly amount: number;
  readonly currency: string;
  /** When the attempt was recorded, just before its call (a gateway whose lookup lags trusts a miss only later). */
  readonly since?: string;
  /**
   * The wallet token the call charged (an Amazon Pay Charge Permission): a gateway that finds a call only by
   * repeating it (Amazon Pay) needs it.
   */
  readonly walletToken?: string;
  /** The payment's merchant (a gateway that repeats the call repeats it with its merchant, as the charge keeps it). */
  readonly merchantId?: string;
}

/** A gateway's webhook, verified: which call it is about (its state is read from the gateway, not the event). */
export interface GatewayEvent {
  readonly eventId: string;
  readonly type: string;
  /** The call's gateway key (payment id and attempt), and the payment's merchant, from the charge's metadata. */
  readonly idempotencyKey: string;
  readonly merchantId: string;
  readonly gatewayReference: string;
}

/** A refund of a charge, full or partial. */
export interface RefundCall {
  /** The charge's reference at the gateway (its PaymentIntent, say). */
  readonly chargeReference: string;
  readonly amount: number;
  readonly currency: string;
  /** Derived from the payment and the refund, so a repeated call is the same refund at the gateway. */
  readonly idempotencyKey: string;
  readonly reason?: RefundReason;
}

/** A refund the gateway took: done (`succeeded`), or still on its way (`pending`: look it up again later). */
export interface RefundResult {
  readonly gatewayReference: string;
  readonly status: 'succeeded' | 'pending';
}

export interface GatewayConnector {
  readonly id: string;
  /** Why the gateway cannot charge or refund this amount (its own rules on amounts), or undefined when it can. */
  amountProblem?(amountMinor: number, currency: string): string | undefined;
  /** Charges the card or wallet; throws GatewayDeclinedError, GatewayRetryableError or GatewayAmbiguousError. */
  charge(request: ChargeRequest): Promise<ChargeResult>;
  /**
   * Looks up what happened to a call by its idempotency key (reconciliation after an ambiguous outcome), or by
   * its reference when known (a charge awaiting action): the charge (or still `requiresAction`), undefined when
   * the gateway has no such call, or the decline or failure it answered, thrown by name.
   */
  retrieve(idempotencyKey: string, gatewayReference?: string, expected?: Expected): Promise<ChargeResult | undefined>;
  /**
   * Cancels a charge awaiting the customer's action (its action expired): undefined once canceled, or the
   * charge when it succeeded meanwhile. Gateways without actions have nothing to cancel.
   */
  cancel?(idempotencyKey: string, gatewayReference: string, expected?: Expected): Promise<ChargeResult | undefined>;
  /**
   * Verifies a webhook on its raw body (WebhookSignatureError when it is not the gateway's) and names the call
   * it is about; undefined for an event that concerns no charge. Gateways without webhooks do not have it.
   */
  parseWebhook?(rawBody: string, headers: Readonly<Record<string, string | undefined>>): Promise<GatewayEvent | undefined>;
  /**
   * Refunds part or all of a charge; throws RefundDeclinedError (the gateway refused: nothing was refunded),
   * GatewayRetryableError (nothing reached it) or GatewayAmbiguousError (it may have refunded).
   */
  refund(call: RefundCall): Promise<RefundResult>;
  /**
   * The refund made under the call's key; undefined when there is none; RefundDeclinedError when it failed. A
   * gateway without a lookup by key (Amazon Pay) repeats the call: its first answer, or the refund made now, once.
   */
  retrieveRefund(call: RefundCall): Promise<RefundResult | undefined>;
}

/** The gateway may or may not have charged (a timeout after sending): reconcile before doing anything else. */
export class GatewayAmbiguousError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GatewayAmbiguousError';
  }
}

/**
 * An attempt's outcome is not known (a timeout, and the gateway has no charge under its key yet). The
 * attempt stays pending: the next run of the key, or the reconciler, asks the gateway again by the same key.
 */
export class ChargeOutcomeUnknownError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ChargeOutcomeUnknownError';
  }
}
