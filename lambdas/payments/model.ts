/** The payment as the workflow carries it, as the store keeps it, and as the API shows it. */
import type { ScoredBy } from '../shared/sagemaker';
import type { PaymentRequest } from '../../contracts/api';

/** What Begin hands to the rest of the workflow. `request` is the normalised request, kept verbatim for the idempotency hash. */
export interface PaymentDraft {
  readonly paymentId: string;
  readonly merchantId: string;
  readonly idempotencyKey: string;
  readonly createdAt: string;
  readonly request: PaymentRequest;
}

export type AttemptOutcome = 'succeeded' | 'declined' | 'retryable_failure';

export interface AttemptRecord {
  readonly attempt: number;
  readonly connectorId: string;
  readonly outcome: AttemptOutcome;
  readonly code?: string;
  readonly latencyMs: number;
  readonly feeMinor?: number;
  readonly gatewayReference?: string;
  readonly at: string;
}

export type PaymentStatus = 'processing' | 'succeeded' | 'declined' | 'review' | 'failed';

export interface FraudSummary {
  readonly score: number;
  readonly decision: 'approve' | 'review' | 'decline';
  readonly reasons: ReadonlyArray<{ readonly code: string; readonly weight: number; readonly detail: string }>;
  readonly modelVersion: string;
  /** Which model scored: the SageMaker endpoint or the embedded one. */
  readonly scoredBy?: ScoredBy;
}

export interface WalletSummary {
  readonly wallet: 'amazon_pay';
  readonly tokenLast4: string;
}

export interface CardSummary {
  readonly brand: string;
  readonly last4: string;
  readonly expMonth: number;
  readonly expYear: number;
}

/** The stored payment item. It never holds a full card number or a CVC. */
export interface PaymentRecord {
  readonly merchantId: string;
  readonly paymentId: string;
  readonly status: PaymentStatus;
  readonly amount: number;
  readonly currency: string;
  readonly customerId: string;
  readonly card?: CardSummary;
  /** A wallet payment's summary (instead of `card`). */
  readonly wallet?: WalletSummary;
  readonly country?: string;
  readonly description?: string;
  readonly metadata?: Record<string, string>;
  readonly connectorId?: string;
  readonly feeMinor?: number;
  readonly code?: string;
  readonly fraud?: FraudSummary;
  readonly attempts: AttemptRecord[];
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly finalizedAt?: string;
}

export type PaymentView = Omit<PaymentRecord, 'merchantId'> & { readonly merchantId: string };

export function cardBrand(number: string): string {
  if (/^4/.test(number)) return 'visa';
  if (/^(5[1-5]|2[2-7])/.test(number)) return 'mastercard';
  if (/^3[47]/.test(number)) return 'amex';
  if (/^(6011|65|64[4-9])/.test(number)) return 'discover';
  if (/^35/.test(number)) return 'jcb';
  return 'unknown';
}

/** What the payment keeps of its method: a card's brand, last 4 and expiry, or a wallet's name and token's last 4. */
export function methodSummary(request: PaymentRequest): { card: CardSummary } | { wallet: WalletSummary } {
  const method = request.paymentMethod;
  if (method.type === 'wallet') return { wallet: { wallet: method.wallet, tokenLast4: method.token.slice(-4) } };
  const { number, expMonth, expYear } = method;
  return { card: { brand: cardBrand(number), last4: number.slice(-4), expMonth, expYear } };
}

/** The API's view of a payment: the stored record, with nothing sensitive to hide (none is stored). */
export function toView(record: PaymentRecord): PaymentView {
  return { ...record, attempts: [...record.attempts].sort((a, b) => a.attempt - b.attempt) };
}
