/**
 * The payment steps of the workflow: begin (normalise, claim the key), charge (one connector, one attempt),
 * finalize (record the outcome, complete the key with the response) and abort (release the key unless
 * money may have moved). Pure domain over narrow ports; the handler wires the adapters.
 */
import {
  type DomainError,
  ConnectorNotConfiguredError,
  ForbiddenError,
  IdempotencyInProgressError,
  isDomainError,
  isTransientFailure,
  GatewayDeclinedError,
  GatewayRetryableError,
  NotFoundError,
  ValidationError,
} from '../../contracts/errors';
import { parseEnvelopeBody, requireIdempotencyKey } from '../shared/http';
import { newPaymentId, PaymentId } from '../../contracts/ids';
import { amountProblemsOf } from '../../contracts/connectors';
import {
  MERCHANT_CLAIM,
  PaymentRequest,
  rawCardOf,
  processingBody,
  type CardSummary,
  type ActionDetails,
  type NextAction,
  type FraudAssessment,
  type Payment,
} from '../../contracts/api';
import type { PaymentSucceededDetail } from '../../contracts/events';
import type { TerminalStatus } from '../../contracts/api';
import type {
  BeginResult,
  ChargeOutput,
  FinalizeOutput,
  PayEnvelope,
  PaymentDraft,
  ScoredFraud,
  StepInput,
  StoredResponse,
  WorkflowResult,
} from '../../contracts/steps';
import { ChargeOutcomeUnknownError, GatewayAmbiguousError, type ChargeRequest, type GatewayConnector } from './connectors';
import { httpResponse, type ClaimResult, type IdempotencyData, type IdempotencyPort } from './idempotency';
import { succeededEvent, toView, type AttemptRecord, type PaymentRecord, type StoredSucceeded } from './model';
import type { Fingerprinter } from './fingerprint';
import { reconcileRefunds } from './refunds';
import type { FinishedKey, PaymentStore, TerminalUpdate } from './store';

export type { BeginResult, ChargeOutput, FinalizeOutput, PayEnvelope, PaymentSucceededDetail, WorkflowResult };

export interface PaymentDeps {
  readonly store: PaymentStore;
  readonly idempotency: IdempotencyPort;
  readonly connectorFor: (connectorId: string) => GatewayConnector;
  readonly now: () => Date;
  /** Whether raw card numbers are taken (ACCEPT_RAW_CARDS: sandbox and test stages); otherwise only tokenised cards. */
  readonly acceptRawCards: boolean;
  /** The cards' keyed fingerprints (fingerprint.ts); none are kept without it. */
  readonly fingerprint?: Fingerprinter;
  /** How long a payment may sit processing before the reconciler takes it. @default RECONCILE_AFTER_MS */
  readonly reconcileAfterMs?: number;
  /** Told about a payment the reconciler could not finish this time. */
  readonly onReconcileError?: (paymentId: string, error: unknown) => void;
}

function reject(error: DomainError): BeginResult {
  return { outcome: 'respond', response: httpResponse(error.status, error.toBody()) };
}

/** Validates the envelope into idempotency data; throws the 4xx to answer. */
export function normalise(envelope: PayEnvelope, acceptRawCards: boolean): IdempotencyData {
  const merchantId = envelope.merchantId ?? '';
  if (merchantId === '') {
    throw new ForbiddenError(`the token carries no ${MERCHANT_CLAIM} claim, so it may not act for any merchant`);
  }
  const idempotencyKey = requireIdempotencyKey(envelope.idempotencyKey, 'POST /pay');
  // The body's text, as API Gateway's template and the local server pass it.
  const request = parseEnvelopeBody(envelope, PaymentRequest);
  const method = request.paymentMethod;
  if (!acceptRawCards && method.type === 'card' && method.token === undefined) {
    throw ValidationError.of([
      {
        field: 'paymentMethod.number',
        problem: 'raw card numbers are not accepted by this stage: tokenise the card (Stripe.js or a saved PaymentMethod) and send paymentMethod.token (pm_…)',
      },
    ]);
  }
  return { merchantId, idempotencyKey, request };
}

export async function begin(envelope: PayEnvelope, deps: PaymentDeps): Promise<BeginResult> {
  let data: IdempotencyData;
  try {
    data = normalise(envelope, deps.acceptRawCards);
  } catch (error) {
    if (isDomainError(error)) return reject(error);
    throw error;
  }
  const now = deps.now();
  let claim: ClaimResult;
  try {
    claim = await deps.idempotency.claim(data, { paymentId: newPaymentId(now), createdAt: now.toISOString() }, now);
  } catch (error) {
    if (error instanceof IdempotencyInProgressError) {
      // A succeeded payment leaves its claim in progress (its answer is the record's; see `finalize`): a repeat
      // of its request is answered from the record, and completes the claim for the next one.
      const finished = await finishedAnswer(data, error, deps);
      if (finished) return { outcome: 'respond', response: finished };
    }
    if (isDomainError(error)) return reject(error);
    throw error;
  }
  if (claim.kind === 'replay') return { outcome: 'respond', response: claim.response };
  const payment: PaymentDraft = {
    paymentId: claim.paymentId,
    merchantId: data.merchantId,
    idempotencyKey: data.idempotencyKey,
    createdAt: claim.createdAt,
    request: data.request,
    run: claim.run,
  };
  if (!claim.resumed) return { outcome: 'new', payment };
  return resume(payment, await deps.store.get(payment.merchantId, payment.paymentId), deps);
}

/** The answer of a claimed key whose payment is already terminal (undefined while it is processing or unknown). */
async function finishedAnswer(data: IdempotencyData, error: IdempotencyInProgressError, deps: PaymentDeps) {
  const paymentId = PaymentId.safeParse((error.details as { paymentId?: unknown } | undefined)?.paymentId);
  if (!paymentId.success) return undefined;
  let record = await deps.store.get(data.merchantId, paymentId.data);
  if (!record || record.status === 'processing') return undefined;
  // Awaiting its customer's action: as its gateway has it now (its claim stays open while it waits).
  record = await refreshed(record, deps);
  const response = respond(toView(record));
  if (record.status !== 'pending_action') await deps.idempotency.complete({ merchantId: data.merchantId, idempotencyKey: data.idempotencyKey }, response);
  return response;
}

/**
 * Where an earlier run of the key left its payment, and how this run goes on. Nothing recorded: nothing can
 * have been charged, so start again (same payment id). A pending attempt: make it again with the same
 * gateway key (the gateway answers a repeat with its first result, so it charges at most once). Recorded
 * failures: the next connector of the plan, or the outcome they already decide. Terminal: its answer.
 */
export async function resume(payment: PaymentDraft, found: PaymentRecord | undefined, deps: PaymentDeps): Promise<BeginResult> {
  if (!found) return { outcome: 'new', payment };
  const record = await refreshed(found, deps);
  if (record.status !== 'processing') {
    const response = respond(toView(record));
    if (record.status !== 'pending_action') await deps.idempotency.complete(payment, response);
    return { outcome: 'respond', response };
  }
  const fraud = record.fraud;
  const plan = record.plan;
  const next = nextStep(record);
  if (!plan || next.kind === 'finish') {
    const result: WorkflowResult =
      next.kind === 'finish' ? next.result : { outcome: 'failed', code: 'interrupted' };
    return { outcome: 'finish', payment, ...(fraud ? { fraud } : {}), ...(plan ? { route: plan } : {}), result };
  }
  return { outcome: 'resume', payment, ...(fraud ? { fraud } : {}), route: plan, attempt: { index: next.index } };
}

/** The next thing a processing payment needs: an attempt (by index) or the outcome its attempts decide. */
function nextStep(record: PaymentRecord): { kind: 'attempt'; index: number } | { kind: 'finish'; result: WorkflowResult } {
  if (record.pendingAttempt) return { kind: 'attempt', index: record.pendingAttempt.attempt };
  const last = [...record.attempts].sort((a, b) => a.attempt - b.attempt).at(-1);
  if (last?.outcome === 'declined') return { kind: 'finish', result: { outcome: 'declined', code: 'gateway_declined' } };
  const index = last ? last.attempt + 1 : 0;
  if (record.plan && index < record.plan.attemptLimit) return { kind: 'attempt', index };
  return { kind: 'finish', result: { outcome: 'failed', code: last ? 'all_gateways_failed' : 'interrupted' } };
}

/** One attempt on one connector (the Charge step's payload; only the connector's id is used). */
export type ChargeInput = Pick<StepInput<'charge'>, 'payment' | 'attempt' | 'plan' | 'fraud'> & {
  readonly connector: { readonly connectorId: string };
};

/** The payment's assessment as the record keeps it: without the graph snapshots (the fraud features' business). */
export function assessmentOf(fraud: ScoredFraud | undefined): FraudAssessment | undefined {
  if (!fraud) return undefined;
  const { snapshots: _snapshots, ...assessment } = fraud;
  return assessment;
}

/**
 * One attempt on one connector. The payment, its plan and this attempt are recorded first (a body that
 * cannot be recorded never reaches a gateway; a crash after the call leaves the attempt pending, and the
 * next run makes it again with the same gateway key). A failed attempt's outcome is recorded here; a
 * successful one travels in the output and Finalize records it with the terminal status.
 */
export async function charge(input: ChargeInput, deps: PaymentDeps): Promise<ChargeOutput> {
  const { payment, attempt } = input;
  const connector = deps.connectorFor(input.connector.connectorId);
  const idempotencyKey = gatewayKey(payment.paymentId, attempt);
  const { request } = payment;
  const cardFingerprint = await rawCardFingerprint(payment, deps);
  await deps.store.recordIntent(payment, {
    ...(cardFingerprint ? { cardFingerprint } : {}),
    plan: input.plan,
    fraud: assessmentOf(input.fraud),
    pending: { attempt, connectorId: connector.id, at: deps.now().toISOString(), ...walletTokenOf(request.paymentMethod) },
  });
  const started = Date.now();
  const chargeRequest = {
    amount: request.amount,
    currency: request.currency,
    ...methodOf(request.paymentMethod),
    idempotencyKey,
    description: request.description,
    country: request.country,
    merchantId: payment.merchantId,
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
      result = await connector.retrieve(idempotencyKey, undefined, {
        amount: request.amount, currency: request.currency, since: new Date(started).toISOString(), merchantId: payment.merchantId, ...walletTokenOf(request.paymentMethod),
      });
      if (!result) {
        // Not found right after a timeout is no proof: the charge may still land. The attempt stays pending;
        // the next run of the key (or the reconciler) asks the gateway again by the same key.
        throw new ChargeOutcomeUnknownError(`${connector.id} timed out and has no charge for ${idempotencyKey} yet; the outcome is not known`);
      }
      reconciled = true;
    }
    const succeeded = attemptRecord({ outcome: 'succeeded', feeMinor: result.feeMinor, gatewayReference: result.gatewayReference });
    return { connectorId: connector.id, ...result, latencyMs: succeeded.latencyMs, reconciled, attempt: succeeded };
  } catch (error) {
    if (isDomainError(error) && (error.name === 'GatewayDeclinedError' || error.name === 'GatewayRetryableError')) {
      await deps.store.recordAttempt(
        payment,
        attemptRecord({ outcome: error.name === 'GatewayDeclinedError' ? 'declined' : 'retryable_failure', code: error.code, ...refusalOf(error) }),
      );
    }
    throw error;
  }
}

/**
 * The Charge step: one attempt, and on success the terminal write (with its event) and the key's answer in
 * the same step, so a charged payment is finished without another Lambda hop. A failed attempt is rethrown.
 */
export async function chargeAndFinalize(input: ChargeInput, deps: PaymentDeps): Promise<FinalizeOutput> {
  let charged = await charge(input, deps);
  if (charged.requiresAction) return awaitAction(input, charged, deps);
  const method = input.payment.request.paymentMethod;
  charged = await keyedCard(charged, method.type === 'card' && method.token !== undefined, deps);
  return finalize({ payment: input.payment, fraud: input.fraud, result: { outcome: 'succeeded', charge: charged } }, deps);
}

/** How long a payment may await its customer's action (3-D Secure) before the reconciler cancels it at its gateway. */
export const ACTION_TTL_MS = 30 * 60_000;

/** The action a payment awaits from `now`: what the gateway asks for, and when the platform gives up on it. */
function awaitedAction(details: ActionDetails, now: Date): NextAction {
  return { ...details, expiresAt: new Date(now.getTime() + ACTION_TTL_MS).toISOString() };
}

/**
 * The gateway asks the customer to act first: the payment is parked `pending_action`, with the client secret
 * the client completes it with (202). Its key's claim stays open: the webhook, a read or a repeat settles it.
 */
async function awaitAction(input: ChargeInput, charged: ChargeOutput, deps: PaymentDeps): Promise<FinalizeOutput> {
  const now = deps.now();
  if (!charged.requiresAction) throw new Error(`${charged.connectorId} asked for no action`);
  const action = awaitedAction(charged.requiresAction, now);
  const pending = { attempt: input.attempt, connectorId: charged.connectorId, at: now.toISOString(), gatewayReference: charged.gatewayReference };
  const record = await deps.store.awaitAction(input.payment, pending, action);
  return { succeeded: record.status === 'succeeded', pendingAction: record.status === 'pending_action', response: respond(toView(record)), attempts: record.attempts };
}

/**
 * Settles a `pending_action` payment from its gateway's current state (read by the charge's reference): the
 * charge succeeded, or declined (authentication failed), or, with `expire` once its action expired, is canceled
 * at the gateway (failed, `action_expired`; unless it succeeded meanwhile). Still awaiting: the record as it is.
 * Each transition is conditional on the payment still awaiting, so a late or repeated trigger never regresses it.
 */
export async function settleAction(record: PaymentRecord, deps: PaymentDeps, expire = false): Promise<PaymentRecord> {
  const pending = record.pendingAttempt;
  if (record.status !== 'pending_action' || !pending?.gatewayReference) return record;
  const key = gatewayKey(record.paymentId, pending.attempt);
  const connector = deps.connectorFor(pending.connectorId);
  const at = deps.now().toISOString();
  const attempt = (fields: Omit<AttemptRecord, 'attempt' | 'connectorId' | 'latencyMs' | 'at'>): AttemptRecord => ({
    attempt: pending.attempt, connectorId: pending.connectorId, latencyMs: Date.parse(at) - Date.parse(pending.at), at, ...fields,
  });
  const expected = { amount: record.amount, currency: record.currency, merchantId: record.merchantId };
  let found: Awaited<ReturnType<GatewayConnector['retrieve']>>;
  let refused: GatewayDeclinedError | GatewayRetryableError | undefined;
  try {
    found = await connector.retrieve(key, pending.gatewayReference, expected);
    if (found?.requiresAction) {
      if (!expire || !record.action || record.action.expiresAt > at) return record;
      found = connector.cancel ? await connector.cancel(key, pending.gatewayReference, expected) : undefined;
    }
  } catch (error) {
    if (!(error instanceof GatewayDeclinedError || error instanceof GatewayRetryableError)) throw error;
    refused = error;
    // The customer's action failed (authentication refused, say). The charge is canceled at its gateway before the
    // payment is declined: its client could otherwise confirm it again, with another card, and be charged for a
    // payment on record as declined. If it succeeded meanwhile, it is the payment's.
    found = connector.cancel ? await connector.cancel(key, pending.gatewayReference, expected) : undefined;
  }
  let update: TerminalUpdate;
  let result: WorkflowResult;
  if (found && !found.requiresAction) {
    const charged = await keyedCard(found, record.card?.tokenised === true, deps);
    const won = attempt({ outcome: 'succeeded', feeMinor: charged.feeMinor, gatewayReference: charged.gatewayReference });
    result = { outcome: 'succeeded', charge: { connectorId: pending.connectorId, ...charged, latencyMs: won.latencyMs, reconciled: false, attempt: won } };
    update = terminalUpdate(record.paymentId, {}, result, undefined, at, "settled after the customer's action");
  } else if (refused) {
    result = { outcome: 'declined', code: 'gateway_declined' };
    update = { status: 'declined', at, attempt: attempt({ outcome: 'declined', code: refused.code, gatewayReference: pending.gatewayReference }) };
  } else {
    result = { outcome: 'failed', code: 'action_expired' };
    update = { status: 'failed', code: 'action_expired', at, reason: `the customer's action was not completed by ${record.action?.expiresAt}; the charge was canceled at ${pending.connectorId}` };
  }
  const finished: FinishedKey = { paymentId: record.paymentId, merchantId: record.merchantId, idempotencyKey: record.idempotencyKey ?? '' };
  return (await settle(finished, update, result, deps)).record;
}

/**
 * A payment as an answer shows it: one awaiting its customer's action as its gateway has it now, or as it is
 * recorded when the gateway cannot be read (still awaiting: an answer, not an error; the webhook or the
 * reconciler settles it later).
 */
async function refreshed(record: PaymentRecord, deps: PaymentDeps): Promise<PaymentRecord> {
  if (record.status !== 'pending_action') return record;
  try {
    return await settleAction(record, deps);
  } catch (error) {
    deps.onReconcileError?.(record.paymentId, error);
    return record;
  }
}

/** The payment method as the gateway port takes it: a raw card, a gateway's token, or a wallet token. */
function methodOf(method: PaymentRequest['paymentMethod']): Pick<ChargeRequest, 'card' | 'paymentMethodId' | 'wallet' | 'solanaPay'> {
  if (method.type === 'wallet') return { wallet: method };
  if (method.type === 'solana_pay') return { solanaPay: true };
  const raw = rawCardOf(method);
  if (raw) return { card: raw };
  return { paymentMethodId: method.token ?? '' };
}

/**
 * A charge's card as the payment keeps it: a tokenised card's keyed fingerprint made from its gateway's own, which
 * is dropped (a raw card's fingerprint is its number's, written with its summary).
 */
async function keyedCard<C extends { readonly card?: CardSummary; readonly gatewayFingerprint?: string }>(charged: C, tokenised: boolean, deps: Pick<PaymentDeps, 'fingerprint'>): Promise<C> {
  const { gatewayFingerprint, ...rest } = charged;
  if (!gatewayFingerprint || !rest.card || !tokenised || !deps.fingerprint) return rest as C;
  return { ...rest, card: { ...rest.card, fingerprint: await deps.fingerprint('stripe', gatewayFingerprint) } } as C;
}

/** A wallet payment's token, as its pending attempt keeps it (Amazon Pay finds a call only by repeating it). */
function walletTokenOf(method: PaymentRequest['paymentMethod']): { walletToken?: string } {
  return method.type === 'wallet' ? { walletToken: method.token } : {};
}

/** A raw card's keyed fingerprint (none without a fingerprinter, or for a token or a wallet). */
async function rawCardFingerprint(payment: PaymentDraft, deps: Pick<PaymentDeps, 'fingerprint'>): Promise<string | undefined> {
  const method = payment.request.paymentMethod;
  const raw = method.type === 'card' ? rawCardOf(method) : undefined;
  return raw && deps.fingerprint ? deps.fingerprint('card', raw.number) : undefined;
}

/** The gateway's idempotency key of an attempt: the same for every run of the payment. */
export function gatewayKey(paymentId: string, attempt: number): string {
  return `${paymentId}:${attempt}`;
}

export interface FinalizeInput {
  readonly payment: PaymentDraft;
  /** The assessment (recorded) with its snapshots (the succeeded payment's event carries them to the features). */
  readonly fraud?: ScoredFraud;
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
  no_eligible_connector: 'no connector can take this payment method, currency, country and amount',
  all_gateways_failed: 'every eligible gateway failed to process the payment; it was not charged, retry later with a new Idempotency-Key',
  interrupted: 'the payment stopped before it was charged (each gateway was asked by its idempotency key); it was not charged, pay again with a new Idempotency-Key',
};

/**
 * What a succeeded payment's event carries beyond its record (the record holds the rest: model.ts
 * `succeededEvent`): the request's device and the graph snapshots its scoring computed, for the fraud features.
 */
function eventExtras(payment: PaymentDraft, fraud?: ScoredFraud): StoredSucceeded {
  const { deviceId } = payment.request;
  return { ...(deviceId === undefined ? {} : { deviceId }), ...(fraud?.snapshots ? { fraudSnapshots: fraud.snapshots } : {}) };
}

/** The terminal write of a workflow result (its event, on success, goes to the outbox in the same write). */
function terminalUpdate(
  paymentId: string,
  extras: StoredSucceeded,
  result: WorkflowResult,
  fraud: FraudAssessment | undefined,
  at: string,
  reason?: string,
): TerminalUpdate {
  const winning = result.charge;
  switch (result.outcome) {
    case 'succeeded':
      if (!winning) throw new Error(`payment ${paymentId} finished as succeeded without its charge`);
      return {
        status: 'succeeded', connectorId: winning.connectorId, feeMinor: winning.feeMinor, fraud, at, attempt: winning.attempt, reason, event: extras,
        ...(winning.card ? { card: winning.card } : {}),
      };
    case 'review':
      return { status: 'review', code: result.code ?? 'held_for_review', fraud, at, reason };
    case 'declined':
      return { status: 'declined', code: result.code === 'gateway_declined' ? undefined : result.code, fraud, at, reason };
    default:
      return { status: 'failed', code: result.code ?? 'failed', fraud, at, reason };
  }
}

/**
 * Records the terminal state (with its events) and completes the key's claim with the answer. The workflow
 * leaves a succeeded payment's claim as it is (`completeSucceeded: false`), one store round trip less on the
 * hot path: its answer is a function of the record, and a repeat of the request is answered from it (`begin`).
 * Every other outcome completes the claim, whose answer may carry the cause the workflow caught.
 */
async function settle(
  payment: PaymentDraft | FinishedKey,
  update: TerminalUpdate,
  result: WorkflowResult,
  deps: Pick<PaymentDeps, 'store' | 'idempotency'>,
  completeSucceeded = true,
) {
  const record = await deps.store.finalize(payment, update);
  const response = respond(toView(record), result);
  if (completeSucceeded || record.status !== 'succeeded') await deps.idempotency.complete(payment, response);
  return { record, response };
}

export async function finalize(input: FinalizeInput, deps: PaymentDeps): Promise<FinalizeOutput> {
  const { payment, fraud, result } = input;
  const at = deps.now().toISOString();
  const update = terminalUpdate(payment.paymentId, eventExtras(payment, fraud), result, assessmentOf(fraud), at);
  // The terminal write carries the request's fields (a payment that never reached a gateway is first written here).
  const cardFingerprint = await rawCardFingerprint(payment, deps);
  const { record, response } = await settle(payment, { ...update, ...(cardFingerprint ? { cardFingerprint } : {}) }, result, deps, false);
  const succeeded = record.status === 'succeeded';
  const event = succeededEvent(record);
  return { succeeded, response, attempts: record.attempts, ...(succeeded && event ? { event } : {}) };
}

/** The answer a payment's record gives (`result` adds the cause of a failure the workflow caught). */
function respond(view: Payment, result?: WorkflowResult): StoredResponse {
  switch (view.status) {
    case 'succeeded':
      return httpResponse(201, { payment: view });
    case 'review':
    case 'pending_action':
      return httpResponse(202, { payment: view });
    case 'processing':
      return processing(view.paymentId);
    case 'declined': {
      // The gateway's decline code (card_declined, insufficient_funds, ...) is recorded on the attempt.
      const code = view.code ?? view.attempts.at(-1)?.code ?? 'card_declined';
      const message = FAILURE_MESSAGES[code] ?? causeMessage(result?.error) ?? 'the payment was declined';
      return httpResponse(402, { error: { code, message, details: { paymentId: view.paymentId, payment: { ...view, code } } } });
    }
    default: {
      const code = view.code ?? 'failed';
      const status = code === 'no_eligible_connector' ? 422 : 503;
      // Routing's own message says which method, currency and country nothing takes.
      const message =
        (code === 'no_eligible_connector' ? causeMessage(result?.error) : undefined) ?? FAILURE_MESSAGES[code] ?? causeMessage(result?.error) ?? 'the payment failed';
      // Nothing took it for its amount (a gateway's own rule, lambdas/routing/eligibility.ts): the field, named.
      const amountProblem = code === 'no_eligible_connector' ? amountProblemsOf(message) : undefined;
      const issues = amountProblem ? { issues: [{ field: 'amount', problem: amountProblem }] } : {};
      return httpResponse(status, { error: { code, message, details: { paymentId: view.paymentId, payment: view, ...issues } } });
    }
  }
}

/** 202 `processing`: the outcome is not known yet; the same request with the same key resumes or replays it. */
export function processing(paymentId?: string): StoredResponse {
  return httpResponse(202, processingBody(paymentId));
}

export type AbortInput = Pick<StepInput<'abort'>, 'input' | 'state'>;

/**
 * Something unexpected failed. Nothing recorded: nothing can have been charged, so release the key (a retry
 * with it starts again) and answer 503 transient_failure when a dependency was unavailable (isTransientFailure),
 * else 500. A recorded payment: money may have moved, so answer 202
 * `processing` and end the key's lease, so the next request with the key resumes the payment at once (its
 * pending attempt is made again with the same gateway key); if nobody asks, the reconciler finishes it.
 */
export async function abort(input: AbortInput, deps: PaymentDeps): Promise<{ response: StoredResponse }> {
  const failure = input.state.error?.Error ?? 'unknown';
  // Nothing was charged: a dependency that was unavailable for a while (the store throttled, a Task timed out) is a
  // 503 to retry; anything else is a bug, a 500. Both say the same key is safe.
  const failed = (when: string, details: Record<string, unknown> = {}) => ({
    response: isTransientFailure(failure)
      ? httpResponse(503, { error: { code: 'transient_failure', message: `a service the payment needs was unavailable ${when}`, details: { ...details, failure } } })
      : httpResponse(500, { error: { code: 'internal_error', message: `the payment failed ${when}`, details: { ...details, failure } } }),
  });
  let data: IdempotencyData;
  try {
    data = normalise(input.input, deps.acceptRawCards);
  } catch {
    return failed('before its request could be checked; nothing was charged'); // it never claimed its key
  }
  const payment = input.state.payment;
  const record = payment ? await deps.store.get(data.merchantId, payment.paymentId) : undefined;
  if (record && record.status !== 'processing') {
    const response = respond(toView(record));
    // A payment awaiting its customer's action is not finished: its key is answered from the record until it is.
    if (record.status !== 'pending_action') await deps.idempotency.complete(data, response);
    return { response };
  }
  if (record && payment) {
    await deps.idempotency.expireLease(data, payment.run);
    return { response: processing(record.paymentId) };
  }
  if (!payment) {
    // Begin itself failed: this run may not own the key's claim (another run of the same key may hold it and be
    // charging, or have charged: the retry of a request whose first run was cut off), so the claim is left alone,
    // and the answer is what the claim says: its stored answer, or `processing` while it is under way. Only a key
    // never claimed had nothing charged (a claim comes before any gateway call), and only then is it "failed".
    let claim: Awaited<ReturnType<IdempotencyPort['find']>>;
    try {
      claim = await deps.idempotency.find(data, deps.now());
    } catch {
      return { response: processing() }; // the key's state could not be read: nothing can be said but "processing"
    }
    if (claim?.response) return { response: claim.response };
    if (claim) return { response: processing(claim.paymentId) };
    const leaseS = Math.ceil(deps.idempotency.leaseMs / 1000);
    return failed(`before anything was charged; retry with the same Idempotency-Key (for up to ${leaseS} s it may answer 409 while the key is held)`);
  }
  await deps.idempotency.release(data, payment.paymentId, payment.run);
  return failed('before anything was charged; it is safe to retry with the same Idempotency-Key', { paymentId: payment.paymentId });
}

/** How long a processing payment may go without a write before the reconciler takes it by default: past any lease and Lambda. */
export const RECONCILE_AFTER_MS = 60_000;

export interface ReconcileReport {
  readonly examined: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly declined: number;
  /** Held by a live run (its lease), or finished meanwhile. */
  readonly skipped: number;
  /** Could not be reconciled this time (the gateway or the store failed); the next run tries again. */
  readonly errors: number;
  /** Pending refunds settled. */
  readonly refunds: number;
}

/** An attempt record's mark of a gateway's refusal of the request itself (AttemptRecord.requestRefused), if it was one. */
function refusalOf(error: unknown): Pick<AttemptRecord, 'requestRefused'> {
  return error instanceof GatewayDeclinedError && error.requestRefused ? { requestRefused: true } : {};
}

/** Whether a connector tells the platform of its outcomes (webhooks); one no longer configured: nothing to ask it. */
function notifies(connectorId: string | undefined, deps: PaymentDeps): boolean {
  try {
    return deps.connectorFor(connectorId ?? '').parseWebhook !== undefined;
  } catch {
    return true;
  }
}

/** How many of the unfinished index's oldest entries one reconciler run may read (each a consistent GetItem). */
export const RECONCILE_READ_BUDGET = 1000;
/** How long one run may go on starting work (the payments function has 15 s; the next run, a minute on, continues). */
const RECONCILE_TIME_BUDGET_MS = 10_000;

/**
 * Drives payments left processing past RECONCILE_AFTER_MS to a terminal state, with a reason, and settles
 * refunds left pending as long (refunds.ts `reconcileRefunds`). It starts no new charge: a pending attempt is
 * looked up at its gateway by its key (found: succeeded; not found after all this time: it never happened). A
 * gateway without a lookup by key (Amazon Pay) repeats the attempt's own call under its key, which answers what
 * the first call did, or makes that call now, once. Without a pending attempt, the recorded attempts decide
 * (declined, or failed and not charged). The key's claim is completed with the answer, so a late retry replays it.
 *
 * A run acts on at most `limit` payments, from at most `budget` of the index's oldest: what it passes over (a
 * payment awaiting its customer's action for up to 30 minutes, one a live run holds) does not take a place, so a
 * crowd of those never keeps the payments behind them from being reconciled.
 */
export async function reconcile(deps: PaymentDeps, limit = 100, budget = RECONCILE_READ_BUDGET): Promise<ReconcileReport> {
  const cutoff = () => new Date(deps.now().getTime() - (deps.reconcileAfterMs ?? RECONCILE_AFTER_MS));
  const keys = await deps.store.listUnfinished(cutoff(), Math.max(limit, budget));
  const report = { examined: 0, succeeded: 0, failed: 0, declined: 0, skipped: 0, errors: 0, refunds: 0 };
  const stopAt = Date.now() + RECONCILE_TIME_BUDGET_MS;
  // A payment that cannot be worked on now takes no place: one whose connector left the registry is passed over
  // (reported every run), and failures are bounded by the run's time, not its places.
  const failed = (paymentId: string, error: unknown) => {
    report[error instanceof ConnectorNotConfiguredError ? 'skipped' : 'errors'] += 1;
    deps.onReconcileError?.(paymentId, error);
  };
  for (const key of keys) {
    if (report.examined - report.skipped - report.errors >= limit || Date.now() > stopAt) break;
    report.examined += 1;
    const record = await deps.store.get(key.merchantId, key.paymentId);
    if (record?.status === 'succeeded' && record.refunds?.some((r) => r.status === 'pending')) {
      // A succeeded payment is here for its refunds: each pending one is made again by its key, and settled.
      try {
        report.refunds += (await reconcileRefunds(record, cutoff(), deps)).settled;
      } catch (error) {
        failed(record.paymentId, error);
      }
      continue;
    }
    if (record?.status === 'pending_action') {
      // Awaiting its customer's action. A gateway that notifies (Stripe's and Amazon Pay's webhooks; a read of the
      // payment too) settles it: left alone until the action expires, then canceled there (or settled, if it
      // succeeded). One that does not (a Solana Pay transfer on the cluster) is looked at every run, taking no place.
      if (record.action && record.action.expiresAt > deps.now().toISOString() && notifies(record.pendingAttempt?.connectorId, deps)) {
        report.skipped += 1;
        continue;
      }
      try {
        const settled = await settleAction(record, deps, true);
        if (settled.status === 'pending_action') report.skipped += 1;
        else report[settled.status === 'succeeded' ? 'succeeded' : settled.status === 'declined' ? 'declined' : 'failed'] += 1;
      } catch (error) {
        failed(record.paymentId, error);
      }
      continue;
    }
    // The consistent read decides (the index may lag a late write of a live run).
    if (!record || record.status !== 'processing' || !record.idempotencyKey || record.updatedAt >= cutoff().toISOString()) {
      report.skipped += 1;
      continue;
    }
    const ref = { merchantId: record.merchantId, idempotencyKey: record.idempotencyKey };
    if (!(await deps.idempotency.takeOver(ref, deps.now()))) {
      report.skipped += 1;
      continue;
    }
    try {
      report[await reconcileOne(record, deps)] += 1;
    } catch (error) {
      // One payment's failure (its gateway is down, say) does not hold up the others. Its lease expires,
      // and the next run (or a retry of its key) takes it again.
      failed(record.paymentId, error);
    }
  }
  return report;
}

async function reconcileOne(record: PaymentRecord, deps: PaymentDeps): Promise<Exclude<TerminalStatus, 'review'> | 'skipped'> {
  const at = deps.now().toISOString();
  // The record does not keep the request (no card number); the terminal write of a recorded payment needs only its key.
  const payment: FinishedKey = { paymentId: record.paymentId, merchantId: record.merchantId, idempotencyKey: record.idempotencyKey ?? '' };
  const pending = record.pendingAttempt;
  let result: WorkflowResult;
  let reason: string;
  if (pending) {
    const key = gatewayKey(record.paymentId, pending.attempt);
    let found: Awaited<ReturnType<GatewayConnector['retrieve']>>;
    let refused: DomainError | undefined;
    try {
      const expected = { amount: record.amount, currency: record.currency, since: pending.at, merchantId: record.merchantId, ...(pending.walletToken ? { walletToken: pending.walletToken } : {}) };
      found = await deps.connectorFor(pending.connectorId).retrieve(key, undefined, expected);
    } catch (error) {
      // The gateway processed the call and refused it: nothing was charged.
      if (!isDomainError(error) || (error.name !== 'GatewayDeclinedError' && error.name !== 'GatewayRetryableError')) throw error;
      refused = error;
    }
    if (refused) {
      const declined = refused.name === 'GatewayDeclinedError';
      await deps.store.recordAttempt(payment, {
        attempt: pending.attempt, connectorId: pending.connectorId, outcome: declined ? 'declined' : 'retryable_failure', code: refused.code, latencyMs: 0, at,
        ...refusalOf(refused),
      });
      result = declined ? { outcome: 'declined', code: 'gateway_declined' } : { outcome: 'failed', code: 'interrupted' };
      reason = `reconciled: ${pending.connectorId} answered attempt ${pending.attempt} (${key}) with ${refused.code}; nothing was charged`;
    } else if (found?.requiresAction) {
      // The run stopped after the gateway asked for the customer's action: the payment awaits it, as the run would
      // have left it (GET /payments/{id} shows the action; the reconciler cancels it when it expires).
      const { walletToken: _token, ...awaiting } = pending;
      await deps.store.awaitAction(payment, { ...awaiting, gatewayReference: found.gatewayReference, at }, awaitedAction(found.requiresAction, deps.now()));
      return 'skipped';
    } else if (found) {
      const charged = await keyedCard(found, record.card?.tokenised === true, deps);
      const attempt: AttemptRecord = {
        attempt: pending.attempt, connectorId: pending.connectorId, outcome: 'succeeded', latencyMs: 0, at, gatewayReference: charged.gatewayReference, feeMinor: charged.feeMinor,
      };
      result = { outcome: 'succeeded', charge: { connectorId: pending.connectorId, ...charged, latencyMs: 0, reconciled: true, attempt } };
      reason = `reconciled: ${pending.connectorId} has the charge of attempt ${pending.attempt} (${key})`;
    } else {
      result = { outcome: 'failed', code: 'interrupted' };
      reason = `reconciled: ${pending.connectorId} has no charge for attempt ${pending.attempt} (${key}); nothing was charged`;
    }
  } else {
    const next = nextStep(record);
    result = next.kind === 'finish' ? next.result : { outcome: 'failed', code: 'interrupted' };
    reason = `reconciled: the payment stopped between attempts; its recorded attempts decide it (${result.outcome})`;
  }
  const { record: final } = await settle(payment, terminalUpdate(record.paymentId, {}, result, undefined, at, reason), result, deps);
  return final.status === 'succeeded' ? 'succeeded' : final.status === 'declined' ? 'declined' : 'failed';
}

/** GET /payments/{id}: only the caller's own payments exist for it. */
export async function getPayment(merchantId: string, paymentId: string, deps: PaymentDeps): Promise<Payment> {
  const record = PaymentId.safeParse(paymentId).success ? await deps.store.get(merchantId, paymentId) : undefined;
  if (!record) throw new NotFoundError(`payment ${paymentId} was not found`);
  // A payment awaiting its customer's action is read as its gateway has it now.
  return toView(await refreshed(record, deps));
}
