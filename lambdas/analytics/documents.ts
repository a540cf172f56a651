/**
 * The analytics index's documents, one per event (contracts/analytics.ts AnalyticsDocument): a terminal payment's
 * PaymentRecorded, each PaymentRefunded, and each RewardChanged. The text a document carries is what search matches and the embedding
 * encodes: what kind of payment it was and how it ended, in words, without its ids or amount (those are fields),
 * so payments that ended alike read alike, and an embedding is computed once per distinct text.
 *
 * The merchant's description is data: it goes in the text as a quotation, never as anything an answer obeys.
 */
import { NANOS_PER_TOKEN, type AnalyticsDocument } from '../../contracts/analytics';
import { formatTokens } from '../../contracts/money';
import type { PaymentRecordedDetail, PaymentRefundedDetail, RewardChange, RewardChangedDetail } from '../../contracts/events';
import type { AnalyticsEvent } from '../payments/lookup';

/** Decimals of a billionth of a token. */
const NANO_DECIMALS = 9;

const METHOD_WORDS = { card: 'card', wallet: 'wallet', solana_pay: 'Solana Pay' } as const;

/** The connectors tried, once each, in the order first tried. */
function triedConnectors(detail: PaymentRecordedDetail): string[] {
  return [...new Set(detail.attempts.map((a) => a.connectorId))];
}

function paymentText(detail: PaymentRecordedDetail): string {
  const method = detail.method === 'card' && detail.cardBrand && detail.cardBrand !== 'unknown' ? `${detail.cardBrand} card` : METHOD_WORDS[detail.method];
  const parts = [`${detail.status} ${method} payment in ${detail.currency}${detail.country ? ` from ${detail.country}` : ''}`];
  const tried = triedConnectors(detail);
  if (detail.connectorId) parts.push(`${detail.status === 'succeeded' ? 'charged by' : 'last tried'} ${detail.connectorId}`);
  if (tried.length > 1) parts.push(`fell back across ${tried.join(', ')}`);
  const codes = [...new Set([detail.code, ...detail.attempts.map((a) => a.code)].filter((c): c is string => Boolean(c)))];
  if (codes.length) parts.push(`codes ${codes.join(', ')}`);
  if (detail.fraud) {
    const reasons = detail.fraud.reasons.map((r) => r.code);
    parts.push(`fraud check ${detail.fraud.decision}${reasons.length ? ` (${reasons.join(', ')})` : ''}`);
  }
  if (detail.reason) parts.push(`ended by the reconciler: ${detail.reason}`);
  if (detail.description) parts.push(`description: "${detail.description.replace(/"/g, "'")}"`);
  return parts.join('; ');
}

export function paymentDocument(detail: PaymentRecordedDetail): AnalyticsDocument {
  const tried = triedConnectors(detail);
  return {
    eventId: `payment:${detail.paymentId}`,
    kind: 'payment',
    merchantId: detail.merchantId,
    paymentId: detail.paymentId,
    customerId: detail.customerId,
    status: detail.status,
    amount: detail.amount,
    currency: detail.currency,
    method: detail.method,
    ...(detail.cardBrand ? { cardBrand: detail.cardBrand } : {}),
    ...(detail.country ? { country: detail.country } : {}),
    ...(detail.connectorId ? { connectorId: detail.connectorId } : {}),
    ...(detail.code ? { code: detail.code } : {}),
    attemptConnectors: tried,
    attemptCount: detail.attempts.length,
    ...(detail.fraud ? { fraudDecision: detail.fraud.decision, fraudScore: detail.fraud.score } : {}),
    fraudReasons: detail.fraud?.reasons.map((r) => r.code) ?? [],
    createdAt: Date.parse(detail.createdAt),
    at: detail.finalizedAt,
    text: paymentText(detail),
    ...(detail.description ? { description: detail.description } : {}),
  };
}

/**
 * A refund's document: its payment's fields (a refund's payment succeeded), and the refund. A refund event of a
 * payment recorded before events carried `createdAt` is dated by the refund (the payment's creation is unknown).
 */
export function refundDocument(detail: PaymentRefundedDetail): AnalyticsDocument {
  return {
    eventId: `refund:${detail.refundId}`,
    kind: 'refund',
    merchantId: detail.merchantId,
    paymentId: detail.paymentId,
    customerId: detail.customerId,
    status: 'succeeded',
    amount: detail.amount,
    currency: detail.currency,
    ...(detail.method ? { method: detail.method } : {}),
    ...(detail.country ? { country: detail.country } : {}),
    ...(detail.connectorId ? { connectorId: detail.connectorId } : {}),
    attemptConnectors: detail.connectorId ? [detail.connectorId] : [],
    attemptCount: detail.connectorId ? 1 : 0,
    fraudReasons: [],
    refundAmount: detail.refundAmount,
    createdAt: Date.parse(detail.createdAt ?? detail.occurredAt),
    at: detail.occurredAt,
    text: `refund of a ${detail.method ? `${METHOD_WORDS[detail.method]} ` : ''}payment in ${detail.currency}${detail.country ? ` from ${detail.country}` : ''}${detail.connectorId ? `; charged by ${detail.connectorId}` : ''}`,
  };
}

/** A reward token amount (base units of `decimals`) as whole tokens and billionths of one (decimals are at most 9). */
export function tokenParts(baseUnits: string, decimals: number): { tokensWhole: number; tokensNanos: number } {
  const units = BigInt(baseUnits);
  const scale = 10n ** BigInt(decimals);
  return { tokensWhole: Number(units / scale), tokensNanos: Number(((units % scale) * NANOS_PER_TOKEN) / scale) };
}

/** Billionths of a token as a decimal string of tokens ("12.5", "-3"). */
export function tokenDecimal(nanos: bigint): string {
  return formatTokens(nanos, NANO_DECIMALS);
}

/** A reward document's tokens, in billionths of a token. */
export function documentNanos(doc: AnalyticsDocument): bigint {
  return BigInt(doc.tokensWhole ?? 0) * NANOS_PER_TOKEN + BigInt(doc.tokensNanos ?? 0);
}

const REWARD_WORDS: Readonly<Record<RewardChange, string>> = {
  issued: 'reward issued',
  clawed_back: 'reward clawed back after a refund',
  minted: 'reward minted on chain',
  mint_failed: 'reward mint failed on chain',
};

/**
 * A reward change's document: the tokens it issued, took back, minted or failed to mint, dated when it happened. A
 * claim's (its mint) has no payment, amount or currency of its own (`XXX`, ISO 4217's "no currency").
 */
export function rewardDocument(detail: RewardChangedDetail): AnalyticsDocument {
  const claim = detail.paymentId === undefined;
  return {
    eventId: `reward:${detail.rewardId}:${detail.seq}`,
    kind: 'reward',
    merchantId: detail.merchantId,
    ...(detail.paymentId ? { paymentId: detail.paymentId } : {}),
    customerId: detail.customerId,
    status: 'succeeded',
    amount: detail.amount ?? 0,
    currency: detail.currency ?? NO_CURRENCY,
    attemptConnectors: [],
    attemptCount: 0,
    fraudReasons: [],
    rewardId: detail.rewardId,
    rewardChange: detail.change,
    ...tokenParts(detail.tokens, detail.decimals),
    createdAt: Date.parse(detail.at),
    at: detail.at,
    text: claim ? `claim of rewards ${detail.change === 'mint_failed' ? 'failed to mint' : 'minted'} on chain` : `${REWARD_WORDS[detail.change]} for a payment in ${detail.currency}`,
  };
}

/** What a claim's reward document names as its currency: ISO 4217's code for "no currency". */
export const NO_CURRENCY = 'XXX';

/** An event the analytics index takes: the payments outbox's, or the rewards outbox's. */
export type IndexedEvent = AnalyticsEvent | { readonly name: 'RewardChanged'; readonly detail: RewardChangedDetail };

/** The document of one analytics event, whichever it is. */
export function documentOfEvent(event: IndexedEvent): AnalyticsDocument {
  if (event.name === 'RewardChanged') return rewardDocument(event.detail);
  return event.name === 'PaymentRecorded' ? paymentDocument(event.detail) : refundDocument(event.detail);
}
