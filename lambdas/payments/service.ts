/**
 * The payment steps of the workflow: begin (normalise, claim the key), charge (one connector, one attempt),
 * finalize (record the outcome, complete the key with the response) and abort (release the key unless
 * money may have moved). Pure domain over narrow ports; the handler wires the adapters.
 */
import {
  type DomainError,
  ForbiddenError,
  GatewayRetryableError,
  isDomainError,
  NotFoundError,
  ValidationError,
} from '../../contracts/errors';
import { parseWith } from '../shared/http';
import { newPaymentId, PaymentId } from '../../contracts/ids';
import { jsonValueProblem } from '../../contracts/json';
import { IdempotencyKey, MERCHANT_CLAIM, PaymentRequest, type FraudAssessment, type Payment } from '../../contracts/api';
import type { PaymentSucceededDetail } from '../../contracts/events';
import type {
  BeginResult,
  ChargeOutput,
  FinalizeOutput,
  PayEnvelope,
  PaymentDraft,
  StepInput,
  StoredResponse,
  WorkflowResult,
} from '../../contracts/steps';
import { GatewayAmbiguousError, type GatewayConnector } from './connectors';
import { httpResponse, type IdempotencyData, type IdempotencyPort } from './idempotency';
import { toView, type AttemptRecord, type PaymentRecord } from './model';
import type { PaymentStore, TerminalUpdate } from './store';

export type { BeginResult, ChargeOutput, FinalizeOutput, PayEnvelope, PaymentSucceededDetail, WorkflowResult };

export interface PaymentDeps {
  readonly store: PaymentStore;
  readonly idempotency: IdempotencyPort;
  readonly connectorFor: (connectorId: string) => GatewayConnector;
  readonly now: () => Date;
}

function reject(error: DomainError): BeginResult {
  return { outcome: 'respond', response: httpResponse(error.status, error.toBody()) };
}

/** Validates the envelope into idempotency data; throws the 4xx to answer. */
export function normalise(envelope: PayEnvelope): IdempotencyData {
  const merchantId = envelope.merchantId ?? '';
  if (merchantId === '') {
    throw new ForbiddenError(`the token carries no ${MERCHANT_CLAIM} claim, so it may not act for any merchant`);
  }
  const idempotencyKey = envelope.idempotencyKey ?? '';
  if (!IdempotencyKey.safeParse(idempotencyKey).success) {
    throw new ValidationError(
      idempotencyKey === ''
        ? 'the Idempotency-Key header is required for POST /pay'
        : 'the Idempotency-Key header must be 1 to 255 printable ASCII characters without spaces',
      [{ field: 'header.Idempotency-Key', problem: idempotencyKey === '' ? 'is required' : 'must be 1-255 printable ASCII characters' }],
    );
  }
  // The body arrives parsed (API Gateway's template, the local server): its shape is checked before the schema.
  const hostile = jsonValueProblem(envelope.body);
  if (hostile) throw ValidationError.of([hostile]);
  const request = parseWith(PaymentRequest, envelope.body);
  return { merchantId, idempotencyKey, request };
}

export async function begin(envelope: PayEnvelope, deps: PaymentDeps): Promise<BeginResult> {
  let data: IdempotencyData;
  try {
    data = normalise(envelope);
  } catch (error) {
    if (isDomainError(error)) return reject(error);
    throw error;
  }
  try {
    const claim = await deps.idempotency.claim(data);
    if (claim.kind === 'replay') return { outcome: 'respond', response: claim.response };
  } catch (error) {
    if (isDomainError(error)) return reject(error);
    throw error;
  }
  const now = deps.now();
  return {
    outcome: 'new',
    payment: {
      paymentId: newPaymentId(now),
      merchantId: data.merchantId,
      idempotencyKey: data.idempotencyKey,
      createdAt: now.toISOString(),
      request: data.request,
    },
  };
}

/** One attempt on one connector (the Charge step's payload; only the connector's id is used). */
export type ChargeInput = Pick<StepInput<'charge'>, 'payment' | 'attempt'> & { readonly connector: { readonly connectorId: string } };

/**
 * One attempt on one connector. A failed attempt is recorded here (the next step needs its history); a
 * successful one travels in the output and Finalize records it with the terminal status, saving a write on
 * the happy path. Either way the outcome is returned or rethrown by name.
 */
export async function charge(input: ChargeInput, deps: PaymentDeps): Promise<ChargeOutput> {
  const { payment, attempt } = input;
  const connector = deps.connectorFor(input.connector.connectorId);
  const idempotencyKey = `${payment.paymentId}:${attempt}`;
  const { request } = payment;
  const started = Date.now();
  const chargeRequest = {
    amount: request.amount,
    currency: request.currency,
    ...(request.paymentMethod.type === 'card' ? { card: request.paymentMethod } : { wallet: request.paymentMethod }),
    idempotencyKey,
    description: request.description,
    country: request.country,
  };
  let reconciled = false;
  const attemptRecord = (fields: Omit<AttemptRecord, 'attempt' | 'connectorId' | 'latencyMs' | 'at'>): AttemptRecord => ({
    attempt,
    connectorId: connector.id,
    latencyMs: Date.now() - started,
    at: deps.now().toISOString(),
    ...fields,
  });
  try {
    let result;
    try {
      result = await connector.charge(chargeRequest);
    } catch (error) {
      if (!(error instanceof GatewayAmbiguousError)) throw error;
      // Never move on to another connector before knowing whether this one charged.
      result = await connector.retrieve(idempotencyKey);
      if (!result) {
        throw new GatewayRetryableError(`${connector.id} timed out and reconciliation found no charge`, 'gateway_timeout', {
          connectorId: connector.id,
        });
      }
      reconciled = true;
    }
    const succeeded = attemptRecord({ outcome: 'succeeded', feeMinor: result.feeMinor, gatewayReference: result.gatewayReference });
    return { connectorId: connector.id, ...result, latencyMs: succeeded.latencyMs, reconciled, attempt: succeeded };
  } catch (error) {
    if (isDomainError(error) && (error.name === 'GatewayDeclinedError' || error.name === 'GatewayRetryableError')) {
      await deps.store.recordAttempt(
        payment,
        attemptRecord({ outcome: error.name === 'GatewayDeclinedError' ? 'declined' : 'retryable_failure', code: error.code }),
      );
    }
    throw error;
  }
}

export interface FinalizeInput {
  readonly payment: PaymentDraft;
  readonly fraud?: FraudAssessment;
  readonly result: WorkflowResult;
}

/** The message a failed state carries: Lambda's `{errorMessage}` JSON cause, or the cause itself. */
export function causeMessage(error: WorkflowResult['error']): string | undefined {
  if (!error?.Cause) return undefined;
  try {
    const parsed = JSON.parse(error.Cause) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') return parsed.errorMessage;
  } catch {
    // not JSON: the cause is the message
  }
  return error.Cause;
}

const FAILURE_MESSAGES: Readonly<Record<string, string>> = {
  fraud_declined: 'the payment was declined by fraud screening',
  no_eligible_connector: 'no connector can take this payment method, currency and country',
  all_gateways_failed: 'every eligible gateway failed to process the payment; it was not charged, retry later with a new Idempotency-Key',
};

export async function finalize(input: FinalizeInput, deps: PaymentDeps): Promise<FinalizeOutput> {
  const { payment, fraud, result } = input;
  const at = deps.now().toISOString();
  const winning = result.charge;
  const lastAttemptCode = (record?: PaymentRecord) => record?.attempts.at(-1)?.code;

  let update: TerminalUpdate;
  switch (result.outcome) {
    case 'succeeded':
      if (!winning) throw new Error(`payment ${payment.paymentId} finished as succeeded without its charge`);
      update = { status: 'succeeded', connectorId: winning.connectorId, feeMinor: winning.feeMinor, fraud, at, attempt: winning.attempt };
      break;
    case 'review':
      update = { status: 'review', code: result.code ?? 'held_for_review', fraud, at };
      break;
    case 'declined':
      update = { status: 'declined', code: result.code === 'gateway_declined' ? undefined : result.code, fraud, at };
      break;
    default:
      update = { status: 'failed', code: result.code ?? 'failed', fraud, at };
  }
  let record = await deps.store.finalize(payment, update);
  if (result.outcome === 'declined' && result.code === 'gateway_declined' && !record.code) {
    // The decline code is the gateway's (card_declined, insufficient_funds, ...), recorded on the attempt.
    record = { ...record, code: lastAttemptCode(record) ?? 'card_declined' };
  }
  const view = toView(record);
  const response = respond(view, result);
  await deps.idempotency.complete({ merchantId: payment.merchantId, idempotencyKey: payment.idempotencyKey, request: payment.request }, response);
  const succeeded = record.status === 'succeeded';
  return {
    succeeded,
    response,
    attempts: record.attempts,
    ...(succeeded
      ? {
          event: {
            paymentId: record.paymentId,
            merchantId: record.merchantId,
            customerId: record.customerId,
            amount: record.amount,
            currency: record.currency,
            connectorId: record.connectorId ?? 'unknown',
            occurredAt: record.finalizedAt ?? at,
          },
        }
      : {}),
  };
}

function respond(view: Payment, result: WorkflowResult): StoredResponse {
  switch (view.status) {
    case 'succeeded':
      return httpResponse(201, { payment: view });
    case 'review':
      return httpResponse(202, { payment: view });
    case 'declined': {
      const code = view.code ?? 'card_declined';
      const message = FAILURE_MESSAGES[code] ?? causeMessage(result.error) ?? 'the payment was declined';
      return httpResponse(402, { error: { code, message, details: { paymentId: view.paymentId, payment: view } } });
    }
    default: {
      const code = view.code ?? 'failed';
      const status = code === 'no_eligible_connector' ? 422 : 503;
      // Routing's own message says which method, currency and country nothing takes.
      const message =
        (code === 'no_eligible_connector' ? causeMessage(result.error) : undefined) ?? FAILURE_MESSAGES[code] ?? causeMessage(result.error) ?? 'the payment failed';
      return httpResponse(status, { error: { code, message, details: { paymentId: view.paymentId, payment: view } } });
    }
  }
}

export type AbortInput = Pick<StepInput<'abort'>, 'input' | 'state'>;

/**
 * Something unexpected failed. If no attempt could have charged, release the key so the client can retry
 * with it; otherwise keep the key (a retry must not charge twice) and store the 500 as its answer.
 */
export async function abort(input: AbortInput, deps: PaymentDeps): Promise<{ response: StoredResponse }> {
  let data: IdempotencyData | undefined;
  try {
    data = normalise(input.input);
  } catch {
    data = undefined; // the request never got as far as claiming its key
  }
  const paymentId = input.state.payment?.paymentId;
  const record = paymentId && data ? await deps.store.get(data.merchantId, paymentId) : undefined;
  const moneyMayHaveMoved = input.state.charge !== undefined || Boolean(record?.attempts.some((a) => a.outcome === 'succeeded'));
  const errorName = input.state.error?.Error ?? 'unknown';
  const response = httpResponse(500, {
    error: {
      code: 'internal_error',
      message: moneyMayHaveMoved
        ? `the payment ${paymentId} was charged but could not be recorded; do not retry, it will be reconciled`
        : 'the payment failed before anything was charged; it is safe to retry with the same Idempotency-Key',
      details: { paymentId, failure: errorName },
    },
  });
  if (data) {
    if (moneyMayHaveMoved) await deps.idempotency.complete(data, response);
    else await deps.idempotency.release(data);
  }
  return { response };
}

/** GET /payments/{id}: only the caller's own payments exist for it. */
export async function getPayment(merchantId: string, paymentId: string, deps: Pick<PaymentDeps, 'store'>): Promise<Payment> {
  const record = PaymentId.safeParse(paymentId).success ? await deps.store.get(merchantId, paymentId) : undefined;
  if (!record) throw new NotFoundError(`payment ${paymentId} was not found`);
  return toView(record);
}
