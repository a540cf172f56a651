/**
 * Named domain errors. Each carries the HTTP status and the stable error code the API returns as
 * `{error:{code,message,details}}`. The state machines catch them by name (`error.name` is the class name,
 * which is also the Lambda errorType).
 */
import type { ErrorBody, FieldIssue } from './api';

export type { ErrorBody, FieldIssue };

export abstract class DomainError extends Error {
  abstract readonly status: number;
  abstract readonly code: string;
  readonly details?: unknown;

  constructor(message: string, details?: unknown) {
    super(message);
    this.name = new.target.name;
    this.details = details;
  }

  toBody(): ErrorBody {
    return {
      error: { code: this.code, message: this.message, ...(this.details === undefined ? {} : { details: this.details }) },
    };
  }
}

export class ValidationError extends DomainError {
  readonly status = 400;
  readonly code = 'validation_error';
  constructor(message: string, readonly issues: FieldIssue[] = []) {
    super(message, issues.length ? { issues } : undefined);
  }

  /** The 400 for these problems of `what`: "invalid request body: amount: is required; ...". */
  static of(issues: FieldIssue[], what = 'request body'): ValidationError {
    const summary = issues.map((i) => `${i.field}: ${i.problem}`).join('; ');
    return new ValidationError(`invalid ${what}${summary ? `: ${summary}` : ''}`, issues);
  }
}

export class UnauthorizedError extends DomainError {
  readonly status = 401;
  readonly code = 'unauthorized';
}

export class ForbiddenError extends DomainError {
  readonly status = 403;
  readonly code = 'forbidden';
}

/** The body is not JSON (its Content-Type). */
export class UnsupportedMediaTypeError extends DomainError {
  readonly status = 415;
  readonly code = 'unsupported_media_type';
}

/** The body is larger than the route can carry (details.issues names `(body)` and the limit). */
export class PayloadTooLargeError extends DomainError {
  readonly status = 413;
  readonly code = 'payload_too_large';
  constructor(message: string, readonly issues: FieldIssue[] = []) {
    super(message, issues.length ? { issues } : undefined);
  }
}

export class NotFoundError extends DomainError {
  readonly status = 404;
  readonly code = 'not_found';
}

/** The same Idempotency-Key is still being processed. */
export class IdempotencyInProgressError extends DomainError {
  readonly status = 409;
  readonly code = 'idempotency_in_progress';
}

/** The same Idempotency-Key was used with a different payload. */
export class IdempotencyConflictError extends DomainError {
  readonly status = 422;
  readonly code = 'idempotency_key_reused';
}

/** No connector can take this payment (method, currency or region). */
export class NoEligibleConnectorError extends DomainError {
  readonly status = 422;
  readonly code = 'no_eligible_connector';
}

/**
 * The gateway declined the payment for a reason another gateway would not change (card declined, funds).
 * `requestRefused`: the gateway refused the request itself (a payment method it does not know or take, an amount
 * it cannot charge) before any issuer answered; routing does not learn that as the connector's decline.
 */
export class GatewayDeclinedError extends DomainError {
  readonly status = 402;
  readonly code: string;
  readonly requestRefused: boolean;
  constructor(message: string, declineCode: string, details?: unknown, options: { readonly requestRefused?: boolean } = {}) {
    super(message, details);
    this.code = declineCode;
    this.requestRefused = options.requestRefused === true;
  }
}

/** A failure where trying the next connector is safe and sensible (processing error, outage, rate limit). */
export class GatewayRetryableError extends DomainError {
  readonly status = 503;
  readonly code: string;
  constructor(message: string, reason: string, details?: unknown) {
    super(message, details);
    this.code = reason;
  }
}

/** A reward cannot be issued for this payment (not succeeded, not the caller's). */
export class RewardNotEligibleError extends DomainError {
  readonly status = 409;
  readonly code = 'reward_not_eligible';
}

/** A claim found nothing to claim: the customer has no rewards recorded without a wallet, and never claimed any. */
export class NothingToClaimError extends DomainError {
  readonly status = 409;
  readonly code = 'nothing_to_claim';
}

/** This stage has no reward token (SPL_TOKEN_MINT_ADDRESS): nothing is minted, so there is no balance to read. */
export class RewardsNotMintedError extends DomainError {
  readonly status = 409;
  readonly code = 'rewards_not_minted';
}

/** This stage sponsors no fees: it has no reward token, or no treasury (SOLANA_TREASURY_SECRET_ARN). */
export class RelayNotConfiguredError extends DomainError {
  readonly status = 409;
  readonly code = 'relay_not_configured';
}

/** This stage has no analytics index (OPENSEARCH_ENDPOINT): POST /chat has nothing to answer from. */
export class AnalyticsNotConfiguredError extends DomainError {
  readonly status = 409;
  readonly code = 'analytics_not_configured';
}

/** The merchant's relays of the day are used up (RELAY_DAILY_LIMIT): each costs the treasury a fee. */
export class RelayBudgetExhaustedError extends DomainError {
  readonly status = 429;
  readonly code = 'relay_budget_exhausted';
}

/** Only a succeeded payment can be refunded. */
export class PaymentNotRefundableError extends DomainError {
  readonly status = 409;
  readonly code = 'payment_not_refundable';
}

/**
 * A payment's connector is no longer in the stage's registry (removed or renamed in CONNECTORS): what it holds
 * there (a charge to refund, an attempt to settle) waits until the connector is added back with its credentials.
 */
export class ConnectorNotConfiguredError extends DomainError {
  readonly status = 409;
  readonly code = 'connector_not_configured';
}

/** A refund would exceed what is left to refund of the payment (what was charged, less earlier refunds). */
export class RefundExceedsChargeError extends DomainError {
  readonly status = 422;
  readonly code = 'refund_exceeds_charge';
}

/** The gateway refused the refund (a disputed charge, say): nothing was refunded; details name its code. */
export class RefundDeclinedError extends DomainError {
  readonly status = 409;
  readonly code = 'refund_declined';
}

/** The payment did not complete, so there is nothing to label. */
export class PaymentNotCompletedError extends DomainError {
  readonly status = 409;
  readonly code = 'payment_not_completed';
}

/** A webhook that is not the gateway's: its signature does not verify on the raw body with the signing secret. */
export class WebhookSignatureError extends DomainError {
  readonly status = 400;
  readonly code = 'invalid_signature';
}

/** A transient failure the caller (or the state machine's Retry) may retry. */
export class TransientError extends DomainError {
  readonly status = 503;
  readonly code = 'transient_failure';
}

/**
 * Error names (a Lambda's errorType, as a state machine's Catch sees it) of a dependency that was unavailable for a
 * while: DynamoDB's throttling and outages, the SDK's timeouts, Lambda's own, a Task's timeout, TransientError.
 * Anything else is a bug.
 */
const TRANSIENT_FAILURES = new Set([
  'ProvisionedThroughputExceededException', 'ThrottlingException', 'RequestLimitExceeded', 'InternalServerError', 'ServiceUnavailable',
  'TransactionConflictException', 'TimeoutError', 'RequestTimeout', 'States.Timeout', 'TransientError',
  'Lambda.ServiceException', 'Lambda.AWSLambdaException', 'Lambda.SdkClientException', 'Lambda.TooManyRequestsException',
]);

/** Whether a failure's name (a Catch's `Error`) is a dependency's transient failure rather than a bug. */
export function isTransientFailure(name: string | undefined): boolean {
  return name !== undefined && TRANSIENT_FAILURES.has(name);
}

export function isDomainError(error: unknown): error is DomainError {
  return error instanceof DomainError;
}

/** A routing decision already has feedback, and this differs from it: a decision's feedback is given once (details: what is recorded). */
export class FeedbackConflictError extends DomainError {
  readonly status = 409;
  readonly code = 'feedback_conflict';
}
