/**
 * The payment as the workflow carries it, as the store keeps it, and as the API shows it: the types are the
 * contracts' (contracts/api.ts, contracts/steps.ts); this file adds what the payments area derives from them.
 */
import { rawCardOf, TerminalStatus, type CardSummary, type Payment, type PendingAttempt, type PaymentRequest, type Refund, type RefundReason, type WalletSummary } from '../../contracts/api';
import type { PlannedRoute } from '../../contracts/steps';
import type { PaymentRecordedDetail, PaymentRefundedDetail, PaymentSucceededDetail } from '../../contracts/events';
import { cardBrand, type PaymentMethodKind } from '../../contracts/methods';

export type { AttemptRecord, CardSummary, FraudAssessment, PaymentStatus, WalletSummary } from '../../contracts/api';
export type { PaymentDraft } from '../../contracts/steps';

/**
 * A pending attempt as the record keeps it: the API's, and, never shown, a wallet payment's token while the attempt
 * is pending (an Amazon Pay Charge Permission, which charges nothing without the merchant's private key), since
 * Amazon Pay finds a call only by repeating it. It goes with the pending attempt when the attempt settles.
 */
export type StoredPendingAttempt = PendingAttempt & { readonly walletToken?: string };

/**
 * The stored payment item: the API's payment plus what only the platform reads. It never holds a full card number
 * or a CVC, and a wallet token only beside a pending attempt (above).
 */
export type PaymentRecord = Omit<Payment, 'refunds' | 'pendingAttempt'> & {
  readonly pendingAttempt?: StoredPendingAttempt;
  /** The key that claimed it (the reconciler completes the key's claim with the outcome). */
  readonly idempotencyKey?: string;
  /** The route, recorded before the first gateway call: what a resumed run follows (and routing's decision). */
  readonly plan?: PlannedRoute;
  /** The description's words, for `GET /payments?q=` (store.ts searchWords; a string set). */
  readonly searchWords?: ReadonlySet<string>;
  /** Set while the payment is processing (the sparse `unfinished` index the reconciler reads). */
  readonly unfinished?: string;
  /**
   * The events of the terminal write (the outbox), published from the table's stream: what a succeeded
   * payment's event carries beyond the record (`StoredSucceeded`; records written before it hold the whole
   * detail). `succeededEvent` reads it.
   */
  readonly outbox?: { readonly PaymentSucceeded?: StoredSucceeded | PaymentSucceededDetail };
  /** Set until the outbox is published locally (the sparse `outbox` index the local drain reads). */
  readonly unpublished?: string;
  /** The payment's own events (PaymentSucceeded, PaymentFinalized) were published (a refund marks it again for its event). */
  readonly eventsPublished?: boolean;
  readonly refunds?: readonly StoredRefund[];
  /** What pending and succeeded refunds take of the amount (a new refund fits in the rest). */
  readonly refundReserved?: number;
  /** Bumped by every refund write: each is conditional on the version it read. */
  readonly refundVersion?: number;
};

/** A refund as the payment keeps it: the API's, plus what only the platform reads. */
export type StoredRefund = Refund & {
  /** The merchant's Idempotency-Key of the refund request. */
  readonly idempotencyKey: string;
  /** The request as it came (a repeat with the same key must be the same request). */
  readonly requested: { readonly amount?: number; readonly reason?: RefundReason };
  /** Every succeeded refund of the payment up to this one, in the order they succeeded (its event's refundedTotal). */
  readonly refundedTotal?: number;
  /** Its PaymentRefunded event was published. */
  readonly published?: boolean;
};

/** What the outbox keeps of a succeeded payment's event: only what the record does not hold already. */
export type StoredSucceeded = Pick<PaymentSucceededDetail, 'deviceId' | 'fraudSnapshots'>;

/** A succeeded payment's PaymentSucceeded detail, from its terminal record (undefined for any other record). */
export function succeededEvent(record: PaymentRecord): PaymentSucceededDetail | undefined {
  const stored = record.outbox?.PaymentSucceeded;
  if (record.status !== 'succeeded' || !stored) return undefined;
  if ('paymentId' in stored) return stored;
  return {
    ...paymentFields(record),
    connectorId: record.connectorId ?? '',
    occurredAt: record.finalizedAt ?? record.updatedAt,
    ...(record.country === undefined ? {} : { country: record.country }),
    ...stored,
  };
}

/** The payment's own fields its events carry (who, how much, the reward's wallet). */
function paymentFields(record: PaymentRecord) {
  return {
    paymentId: record.paymentId,
    merchantId: record.merchantId,
    customerId: record.customerId,
    amount: record.amount,
    currency: record.currency,
    createdAt: record.createdAt,
    ...(record.rewardWallet === undefined ? {} : { rewardWallet: record.rewardWallet }),
  };
}

/** A succeeded refund's PaymentRefunded detail, from the payment's record. */
export function refundedEvent(record: PaymentRecord, refund: StoredRefund): PaymentRefundedDetail {
  return {
    ...paymentFields(record),
    refundId: refund.refundId,
    refundAmount: refund.amount,
    refundedTotal: refund.refundedTotal ?? refund.amount,
    occurredAt: refund.completedAt ?? record.updatedAt,
    method: methodKind(record),
    ...(record.connectorId === undefined ? {} : { connectorId: record.connectorId }),
    ...(record.country === undefined ? {} : { country: record.country }),
  };
}

/** The kind of a payment's method, from what the record keeps of it. */
export function methodKind(record: { readonly card?: unknown; readonly wallet?: unknown }): PaymentMethodKind {
  return record.card ? 'card' : record.wallet ? 'wallet' : 'solana_pay';
}

/**
 * A terminal payment's PaymentRecorded detail (what analytics indexes), or undefined for a payment still under way.
 * Only the method's kind and a card's brand: never its last 4, expiry or fingerprint, nor a wallet token's last 4.
 */
export function recordedEvent(record: PaymentRecord): PaymentRecordedDetail | undefined {
  const status = TerminalStatus.safeParse(record.status);
  if (!status.success) return undefined;
  const optional = <K extends string, V>(key: K, value: V | undefined) => (value === undefined ? {} : ({ [key]: value } as Record<K, V>));
  // A declined payment keeps its connector and code on its last attempt.
  const last = record.attempts.at(-1);
  return {
    paymentId: record.paymentId,
    merchantId: record.merchantId,
    customerId: record.customerId,
    status: status.data,
    amount: record.amount,
    currency: record.currency,
    method: methodKind(record),
    ...optional('cardBrand', record.card?.brand),
    ...optional('country', record.country),
    ...optional('connectorId', record.connectorId ?? last?.connectorId),
    ...optional('code', record.code ?? (record.status === 'succeeded' ? undefined : last?.code)),
    ...optional('reason', record.reason),
    ...optional('description', record.description),
    ...optional('metadata', record.metadata),
    ...(record.fraud
      ? { fraud: { score: record.fraud.score, decision: record.fraud.decision, reasons: record.fraud.reasons.map(({ code, detail }) => ({ code, detail })) } }
      : {}),
    attempts: record.attempts.map(({ attempt, connectorId, outcome, code, at }) => ({ attempt, connectorId, outcome, ...optional('code', code), at })),
    createdAt: record.createdAt,
    finalizedAt: record.finalizedAt ?? record.updatedAt,
  };
}

/** What the payment keeps of its method: a card's brand, last 4 and expiry, or a wallet's name and token's last 4. */
export function methodSummary(request: PaymentRequest, fingerprint?: string): { card: CardSummary } | { wallet: WalletSummary } | { solanaPay: Record<string, never> } {
  const method = request.paymentMethod;
  if (method.type === 'wallet') return { wallet: { wallet: method.wallet, tokenLast4: method.token.slice(-4) } };
  // Solana Pay: nothing of the customer is known before the transfer (its signature is the attempt's reference).
  if (method.type === 'solana_pay') return { solanaPay: {} };
  const raw = rawCardOf(method);
  // A tokenised card is known by its gateway's answer (Finalize records it); until then, only that it is tokenised.
  if (!raw) return { card: { brand: 'unknown', tokenised: true } };
  return { card: { brand: cardBrand(raw.number), last4: raw.number.slice(-4), expMonth: raw.expMonth, expYear: raw.expYear, ...(fingerprint ? { fingerprint } : {}) } };
}

/** The API's view of a refund: without the platform's fields. */
export function refundView(refund: StoredRefund): Refund {
  const { idempotencyKey: _key, requested: _requested, refundedTotal: _total, published: _published, ...view } = refund;
  return view;
}

/** The API's view of a payment: the stored record with its attempts in order (nothing sensitive is stored). */
export function toView(record: PaymentRecord): Payment {
  const {
    idempotencyKey: _key, searchWords: _words, plan, unfinished: _unfinished, outbox: _outbox, unpublished: _unpublished, eventsPublished: _published,
    refundReserved: _reserved, refundVersion: _version, refunds, pendingAttempt, ...payment
  } = record;
  // Routing's choice as recorded, without the decision's feature context (the bandit's, for its learning).
  const routing = plan && (({ decision: _decision, ...shown }) => shown)(plan);
  // A pending wallet attempt's token is kept for its gateway's lookup, never shown.
  const pending: PendingAttempt | undefined = pendingAttempt && (({ walletToken: _token, ...shown }) => shown)(pendingAttempt);
  return {
    ...payment,
    ...(pending ? { pendingAttempt: pending } : {}),
    ...(routing ? { routing } : {}),
    attempts: [...record.attempts].sort((a, b) => a.attempt - b.attempt),
    ...(refunds?.length ? { refunds: refunds.map(refundView) } : {}),
  };
}
