/**
 * The test world's issuer, defined once: what the sandbox processors (lambdas/payments/sandbox.ts) and the
 * local fakes of the gateways' APIs (local/gateways/) answer for a card or a wallet token. It follows Stripe's
 * documented test cards and test PaymentMethods, so a test written against the local platform behaves the same
 * against Stripe's test mode.
 *
 * Test cards: 4242424242424242 succeeds; 4000000000000002 card_declined; 4000000000009995 insufficient_funds;
 * 4000000000009987 lost_card; 4000000000009979 stolen_card; 4000000000000069 expired_card; 4000000000000127
 * incorrect_cvc; 4000000000000119 processing_error (retryable: another gateway may succeed); 4000002500003155
 * and 4000000000003220 require 3-D Secure authentication at a gateway that does it. A past expiry date is
 * expired_card. Any other Luhn-valid number is an ordinary card: it succeeds, unless the connector has an
 * approval profile (contracts/connectors.ts), which approves it with a probability that depends on the buyer's
 * region, the card network and the amount. The draw is a hash of the connector and the idempotency key, so a
 * retried call gets the same answer, and it is otherwise a `do_not_honor` decline.
 *
 * Wallet tokens (Amazon Pay Charge Permissions): `wallet_declined_test` payment_method_declined;
 * `wallet_processing_error_test` processing_error (retryable); any other token is an ordinary wallet payment,
 * approved like an ordinary card (without the network adjustment). `wallet_capture_later_test` is approved, and the
 * fake of Amazon Pay's API authorises it without capturing it (the adapter's Capture Charge takes it from there).
 */
import { createHash } from 'node:crypto';
import type { ApprovalProfile } from './connectors';
import { cardNetwork } from './methods';
import { regionOf } from './regions';

export const SUCCESS_CARD = '4242424242424242';
export const PROCESSING_ERROR_CARD = '4000000000000119';
export const DECLINED_WALLET_TOKEN = 'wallet_declined_test';
export const PROCESSING_ERROR_WALLET_TOKEN = 'wallet_processing_error_test';
export const CAPTURE_LATER_WALLET_TOKEN = 'wallet_capture_later_test';

/** The test cards that decline, and how (Stripe's decline codes). */
export const DECLINING_CARDS: Readonly<Record<string, { readonly code: string; readonly message: string }>> = {
  '4000000000000002': { code: 'card_declined', message: 'the card was declined' },
  '4000000000009995': { code: 'insufficient_funds', message: 'the card has insufficient funds' },
  '4000000000009987': { code: 'lost_card', message: 'the card was reported lost' },
  '4000000000009979': { code: 'stolen_card', message: 'the card was reported stolen' },
  '4000000000000069': { code: 'expired_card', message: 'the card has expired' },
  '4000000000000127': { code: 'incorrect_cvc', message: "the card's security code is incorrect" },
};

/** The test cards that need 3-D Secure authentication before a gateway that does it charges them. */
export const AUTHENTICATION_CARDS: ReadonlySet<string> = new Set(['4000002500003155', '4000000000003220']);

/** Stripe's test PaymentMethods (`pm_card_…`) and the test card each stands for. */
export const STRIPE_TEST_PAYMENT_METHODS: Readonly<Record<string, string>> = {
  pm_card_visa: SUCCESS_CARD,
  pm_card_mastercard: '5555555555554444',
  pm_card_amex: '378282246310005',
  pm_card_chargeDeclined: '4000000000000002',
  pm_card_chargeDeclinedInsufficientFunds: '4000000000009995',
  pm_card_chargeDeclinedLostCard: '4000000000009987',
  pm_card_chargeDeclinedStolenCard: '4000000000009979',
  pm_card_chargeDeclinedExpiredCard: '4000000000000069',
  pm_card_chargeDeclinedIncorrectCvc: '4000000000000127',
  pm_card_chargeDeclinedProcessingError: PROCESSING_ERROR_CARD,
  pm_card_authenticationRequired: '4000002500003155',
  pm_card_threeDSecure2Required: '4000000000003220',
};

/** What the issuer is asked: an amount, a buyer's country, and a card or a wallet token. */
export interface IssuerRequest {
  readonly amount: number;
  readonly country?: string;
  readonly card?: { readonly number: string; readonly expMonth: number; readonly expYear: number };
  readonly wallet?: { readonly token: string };
}

/** The issuer's answer: approved, authentication first, or a decline (retryable elsewhere or not) with its code. */
export type IssuerAnswer =
  | { readonly kind: 'approved' }
  | { readonly kind: 'authenticate' }
  | { readonly kind: 'declined' | 'retryable'; readonly code: string; readonly message: string };

/** The approval probability of an ordinary card or wallet payment under a profile, clamped to [0, 1]. */
export function approvalProbability(profile: ApprovalProfile, request: Pick<IssuerRequest, 'amount' | 'card' | 'country'>): number {
  const region = regionOf(request.country);
  let p = profile.base;
  if (region) p += profile.byRegion?.[region] ?? 0;
  if (request.card) p += profile.byNetwork?.[cardNetwork(request.card.number)] ?? 0; // a wallet has no network
  if (profile.large && request.amount >= profile.large.minor) p += profile.large.delta;
  return Math.min(1, Math.max(0, p));
}

/** A uniform draw in [0, 1) from a connector and a call's key: the same call always gets the same answer. */
export function issuerDraw(connectorId: string, key: string): number {
  const hex = createHash('sha256').update(`${connectorId}:${key}`).digest('hex');
  return parseInt(hex.slice(0, 12), 16) / 2 ** 48;
}

/**
 * The issuer's answer to a call of `connectorId` with idempotency key `key`. `authenticates`: the gateway does
 * 3-D Secure (the authentication test cards ask for it; elsewhere they are ordinary cards).
 */
export function issuerAnswer(
  request: IssuerRequest,
  context: { readonly connectorId: string; readonly key: string; readonly approval?: ApprovalProfile; readonly now: Date; readonly authenticates?: boolean },
): IssuerAnswer {
  let always = false;
  if (request.card) {
    const { number, expMonth, expYear } = request.card;
    const decline = DECLINING_CARDS[number];
    if (decline) return { kind: 'declined', ...decline };
    const year = context.now.getUTCFullYear();
    if (expYear < year || (expYear === year && expMonth < context.now.getUTCMonth() + 1)) {
      return { kind: 'declined', code: 'expired_card', message: 'the card has expired' };
    }
    if (number === PROCESSING_ERROR_CARD) return { kind: 'retryable', code: 'processing_error', message: 'an error occurred while processing the card' };
    if (context.authenticates && AUTHENTICATION_CARDS.has(number)) return { kind: 'authenticate' };
    always = number === SUCCESS_CARD;
  } else {
    const token = request.wallet?.token ?? '';
    if (token === DECLINED_WALLET_TOKEN) return { kind: 'declined', code: 'payment_method_declined', message: 'the wallet payment was declined' };
    if (token === PROCESSING_ERROR_WALLET_TOKEN) {
      return { kind: 'retryable', code: 'processing_error', message: 'an error occurred while processing the wallet payment' };
    }
  }
  if (!always && context.approval && issuerDraw(context.connectorId, context.key) >= approvalProbability(context.approval, request)) {
    return { kind: 'declined', code: 'do_not_honor', message: 'the issuer did not approve the payment' };
  }
  return { kind: 'approved' };
}
