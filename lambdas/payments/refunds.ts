/**
 * Refunds (`POST /payments/{id}/refund`), full or partial, under the money rules the charges follow:
 * - a refund is recorded (pending, its amount reserved) before its gateway call, under an id derived from the
 *   merchant's Idempotency-Key, so a repeat of the request is the same refund, and another body with the same
 *   key is a 422;
 * - refunds never exceed what was charged: a new one fits in what pending and succeeded refunds leave, and
 *   every refund write is conditional on the refund state it read (concurrent refunds cannot overdraw);
 * - the gateway call carries a key derived from the payment and the refund, so a retried or resumed call is the
 *   same refund at the gateway; an ambiguous answer is looked up by that key, and a refund still unknown stays
 *   pending (202) until a repeat of the request, or the reconciler, finds out;
 * - a succeeded refund's `PaymentRefunded` event leaves through the outbox, written with its settlement (the
 *   reward is reduced or clawed back by the rewards area's policy).
 */
import { createHash } from 'node:crypto';
import type { Payment, Refund, RefundRequest, RefundResponse } from '../../contracts/api';
import {
  GatewayRetryableError,
  IdempotencyConflictError,
  NotFoundError,
  PaymentNotRefundableError,
  RefundDeclinedError,
  RefundExceedsChargeError,
  TransientError,
  ValidationError,
} from '../../contracts/errors';
import { formatMajor } from '../../contracts/money';
import { PaymentId } from '../../contracts/ids';
import { ChargeOutcomeUnknownError, GatewayAmbiguousError, type GatewayConnector, type RefundCall, type RefundResult } from './connectors';
import { refundView, toView, type PaymentRecord, type StoredRefund } from './model';
import type { PaymentStore, RefundSettlement, RefundState } from './store';

export interface RefundDeps {
  readonly store: PaymentStore;
  readonly connectorFor: (connectorId: string) => GatewayConnector;
  readonly now: () => Date;
}

/**
 * How many times a refund reads the payment and tries its conditional writes before answering 503: refunds of one
 * payment at once take turns, each waiting a jittered, growing moment after losing one.
 */
const ROUNDS = 12;

/** The refund id of a merchant's Idempotency-Key on a payment (the same key, the same refund). */
export function refundIdOf(merchantId: string, paymentId: string, idempotencyKey: string): string {
  return `re_${createHash('sha256').update(`${merchantId}\u0000${paymentId}\u0000${idempotencyKey}`).digest('base64url').slice(0, 20)}`;
}

/** The gateway's idempotency key of a refund: the same for every run of it. */
export function gatewayRefundKey(paymentId: string, refundId: string): string {
  return `${paymentId}:${refundId}`;
}

function stateOf(record: PaymentRecord): RefundState {
  return { refundVersion: record.refundVersion ?? 0, refundReserved: record.refundReserved ?? 0, refundedAmount: record.refundedAmount ?? 0 };
}

/** The charge a refund goes back through: the succeeded attempt's gateway reference. */
function chargeReferenceOf(record: PaymentRecord): string {
  const attempt = record.attempts.find((a) => a.outcome === 'succeeded' && a.connectorId === record.connectorId);
  if (!attempt?.gatewayReference || !record.connectorId) throw new Error(`payment ${record.paymentId} succeeded without its charge's gateway reference`);
  return attempt.gatewayReference;
}

export interface RefundAnswer {
  readonly status: 200 | 201 | 202;
  readonly body: RefundResponse;
}

function answer(status: RefundAnswer['status'], refund: StoredRefund, record: PaymentRecord): RefundAnswer {
  return { status, body: { refund: refundView(refund), payment: toView(record) } };
}

/** A refund the gateway refused: 409 with the refund (failed) and the payment. */
function declined(refund: StoredRefund, record: PaymentRecord): RefundDeclinedError {
  return new RefundDeclinedError(`the gateway refused the refund (${refund.code ?? 'declined'}); nothing was refunded`, {
    gatewayCode: refund.code,
    refund: refundView(refund),
    payment: toView(record),
  });
}

/** POST /payments/{id}/refund. */
export async function refundPayment(merchantId: string, paymentId: string, idempotencyKey: string, request: RefundRequest, deps: RefundDeps): Promise<RefundAnswer> {
  if (!PaymentId.safeParse(paymentId).success) throw new NotFoundError(`payment ${paymentId} was not found`);
  const refundId = refundIdOf(merchantId, paymentId, idempotencyKey);
  let fresh = false;
  for (let round = 0; round < ROUNDS; round += 1) {
    // Another refund of the payment wrote first: wait a little (jittered, growing) before reading again, so a
    // handful of refunds at once all get their answer rather than a 503.
    if (round > 0) await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * 2 ** Math.min(round, 5)));
    const record = await deps.store.get(merchantId, paymentId);
    if (!record) throw new NotFoundError(`payment ${paymentId} was not found`);
    let index = (record.refunds ?? []).findIndex((r) => r.refundId === refundId);
    let refund = record.refunds?.[index];
    if (refund) {
      if (refund.requested.amount !== request.amount || refund.requested.reason !== request.reason) {
        throw new IdempotencyConflictError('this Idempotency-Key was used for another refund of this payment (another amount or reason); use a new key for a new refund', {
          refundId,
        });
      }
      if (refund.status === 'succeeded') return answer(fresh ? 201 : 200, refund, record);
      if (refund.status === 'failed') throw declined(refund, record);
    } else {
      const reserved = await reserve(record, refundId, idempotencyKey, request, deps);
      if (!reserved) continue;
      fresh = true;
      refund = reserved;
      index = record.refunds?.length ?? 0;
    }
    // A refund made before (a repeat, or a concurrent run) is looked up first: its key may have expired at the
    // gateway (Stripe keeps keys 24 hours), and a gateway's own `pending` is replayed as it was first answered.
    const outcome = await callGateway(record, refund, deps, !fresh);
    if (outcome.kind === 'pending') return answer(202, refund, (await deps.store.get(merchantId, paymentId)) ?? record);
    const settled = await settle(record, index, refund, outcome.settlement, deps);
    if (!settled) continue; // another write came first: read again (this refund's answer is then on record)
    const after = (await deps.store.get(merchantId, paymentId)) ?? record;
    if (settled.status === 'failed') throw declined(settled, after);
    return answer(fresh ? 201 : 200, settled, after);
  }
  throw new TransientError('the payment is being refunded concurrently; repeat the request with the same Idempotency-Key');
}

/** Checks the refund against what is left and records it pending; undefined when another refund write came first. */
async function reserve(record: PaymentRecord, refundId: string, idempotencyKey: string, request: RefundRequest, deps: RefundDeps): Promise<StoredRefund | undefined> {
  if (record.status !== 'succeeded') {
    throw new PaymentNotRefundableError(`payment ${record.paymentId} is ${record.status}: only a succeeded payment can be refunded`, { status: record.status });
  }
  // What the refund goes through is checked before anything is reserved (a configuration error reserves nothing).
  chargeReferenceOf(record);
  const connector = deps.connectorFor(record.connectorId ?? '');
  const state = stateOf(record);
  const left = record.amount - state.refundReserved;
  const money = (minor: number) => `${formatMajor({ amount: minor, currency: record.currency })} ${record.currency}`;
  if (left <= 0) {
    throw new RefundExceedsChargeError(`nothing is left to refund of payment ${record.paymentId}: its ${money(record.amount)} is refunded or being refunded`, { left: 0 });
  }
  const amount = request.amount ?? left;
  if (amount > left) {
    throw new RefundExceedsChargeError(
      `amount: ${money(amount)} exceeds what is left to refund of payment ${record.paymentId} (${money(left)} of ${money(record.amount)}; refunds pending or done take the rest)`,
      { field: 'amount', left },
    );
  }
  const problem = connector.amountProblem?.(amount, record.currency);
  if (problem) throw ValidationError.of([{ field: 'amount', problem }]);
  const at = deps.now().toISOString();
  const refund: StoredRefund = {
    refundId,
    amount,
    currency: record.currency,
    status: 'pending',
    ...(request.reason ? { reason: request.reason } : {}),
    createdAt: at,
    idempotencyKey,
    requested: { ...(request.amount === undefined ? {} : { amount: request.amount }), ...(request.reason ? { reason: request.reason } : {}) },
  };
  return (await deps.store.reserveRefund(record, refund, state, at)) ? refund : undefined;
}

type GatewayOutcome = { readonly kind: 'pending' } | { readonly kind: 'settle'; readonly settlement: RefundSettlement };

/**
 * The refund at its gateway, by its key: settled (succeeded or refused), or pending (unknown, or the gateway's own
 * pending). `lookupFirst` (a refund made before): the gateway's refund under the key is read before any call that
 * could make it, so it is never made twice.
 */
async function callGateway(record: PaymentRecord, refund: StoredRefund, deps: RefundDeps, lookupFirst: boolean): Promise<GatewayOutcome> {
  const connector = deps.connectorFor(record.connectorId ?? '');
  const key = gatewayRefundKey(record.paymentId, refund.refundId);
  const call: RefundCall = {
    chargeReference: chargeReferenceOf(record), amount: refund.amount, currency: record.currency, idempotencyKey: key, ...(refund.reason ? { reason: refund.reason } : {}),
  };
  const at = () => deps.now().toISOString();
  let result: RefundResult | undefined;
  try {
    if (lookupFirst) result = await connector.retrieveRefund(call);
    if (!result) {
      try {
        result = await connector.refund(call);
      } catch (error) {
        if (!(error instanceof GatewayAmbiguousError)) throw error;
        result = await connector.retrieveRefund(call);
      }
    }
  } catch (error) {
    if (error instanceof RefundDeclinedError) {
      const gatewayCode = (error.details as { gatewayCode?: string } | undefined)?.gatewayCode ?? 'declined';
      return { kind: 'settle', settlement: { status: 'failed', code: gatewayCode, amount: refund.amount, at: at() } };
    }
    if (error instanceof GatewayRetryableError) {
      // Nothing reached the gateway: the refund stays pending; a repeat (or the reconciler) settles it.
      throw new TransientError(`${connector.id} could not take the refund now (${error.code}); nothing was refunded yet: repeat the request with the same Idempotency-Key`, {
        refundId: refund.refundId,
      });
    }
    // The lookup after an ambiguous answer could not tell: pending, and a repeat (or the reconciler) asks again.
    if (error instanceof ChargeOutcomeUnknownError) return { kind: 'pending' };
    throw error;
  }
  if (!result || result.status === 'pending') return { kind: 'pending' };
  return { kind: 'settle', settlement: { status: 'succeeded', gatewayReference: result.gatewayReference, amount: refund.amount, at: at() } };
}

/** Writes a refund's settlement; the refund as settled, or undefined when another refund write came first. */
async function settle(record: PaymentRecord, index: number, refund: StoredRefund, settlement: RefundSettlement, deps: RefundDeps): Promise<StoredRefund | undefined> {
  // `record` is as read before this refund was reserved when it is new: its state then includes the reservation.
  const current = await deps.store.get(record.merchantId, record.paymentId);
  if (!current) return undefined;
  const stored = current.refunds?.[index];
  if (!stored || stored.refundId !== refund.refundId || stored.status !== 'pending') return undefined;
  const pendingAfter = (current.refunds ?? []).filter((r, i) => i !== index && r.status === 'pending').length;
  const state = stateOf(current);
  if (!(await deps.store.settleRefund(current, index, settlement, { ...state, pendingAfter }))) return undefined;
  return {
    ...stored,
    status: settlement.status,
    completedAt: settlement.at,
    ...(settlement.gatewayReference ? { gatewayReference: settlement.gatewayReference } : {}),
    ...(settlement.status === 'succeeded' ? { refundedTotal: state.refundedAmount + settlement.amount } : { code: settlement.code }),
  };
}

/** How many pending refunds of a payment the reconciler settled, and how many it left pending. */
export interface RefundReconcileReport {
  readonly settled: number;
  readonly pending: number;
}

/**
 * The reconciler's part for a payment with pending refunds older than `before`: each is made again at its
 * gateway with the same key (the gateway answers a repeat with the first refund; a refund never sent is made
 * now, once: the merchant asked for it and its amount is reserved), and settled as the gateway says. A gateway
 * that is down, or still pending, leaves it pending for the next run.
 */
export async function reconcileRefunds(record: PaymentRecord, before: Date, deps: RefundDeps): Promise<RefundReconcileReport> {
  let settled = 0;
  let pending = 0;
  let failure: unknown;
  for (const [index, refund] of (record.refunds ?? []).entries()) {
    if (refund.status !== 'pending') continue;
    let outcome: GatewayOutcome = { kind: 'pending' };
    if (refund.createdAt < before.toISOString()) {
      try {
        outcome = await callGateway(record, refund, deps, true);
      } catch (error) {
        // One refund's failure does not hold up the payment's others; the first one is reported after them.
        if (!(error instanceof TransientError)) failure ??= error;
      }
    }
    if (outcome.kind === 'settle' && (await settle(record, index, refund, outcome.settlement, deps))) settled += 1;
    else pending += 1;
  }
  if (failure !== undefined) throw failure;
  return { settled, pending };
}

export type { Payment, Refund };
