/** The gateway connector port: what a payment step needs from any gateway. */

export interface ChargeRequest {
  readonly amount: number;
  readonly currency: string;
  /** Exactly one of `card`, `wallet` and `paymentMethodId`. */
  readonly card?: { readonly number: string; readonly expMonth: number; readonly expYear: number; readonly cvc?: string };
  readonly wallet?: { readonly wallet: 'amazon_pay'; readonly token: string };
  /** A card tokenised by the gateway (Stripe's `pm_…`), instead of `card`. */
  readonly paymentMethodId?: string;
  /** Derived from payment id and attempt, so a retried call is the same call to the gateway. */
  readonly idempotencyKey: string;
  readonly description?: string;
  /** The buyer's country, when known. */
  readonly country?: string;
}

export interface ChargeResult {
  readonly gatewayReference: string;
  readonly feeMinor: number;
}

export interface GatewayConnector {
  readonly id: string;
  /** Charges the card or wallet; throws GatewayDeclinedError, GatewayRetryableError or GatewayAmbiguousError. */
  charge(request: ChargeRequest): Promise<ChargeResult>;
  /**
   * Looks up what happened to a call by its idempotency key (reconciliation after an ambiguous outcome): the
   * charge, undefined when the gateway has no such call, or the decline or failure it answered, thrown by name.
   */
  retrieve(idempotencyKey: string): Promise<ChargeResult | undefined>;
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
