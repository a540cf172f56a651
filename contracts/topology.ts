/**
 * The platform's shape, declared once: one record per area with its HTTP routes, its functions (entry,
 * memory, timeout), the tables it reads and writes, the environment each function needs, the workflow
 * placeholders that name it, and the events it emits and consumes. Everything else is a rendering of this
 * file:
 *
 * - lib/ renders API Gateway methods and models, the functions with their environment and IAM grants, the
 *   state machines' definitionSubstitutions and the event rules;
 * - contracts/openapi.ts renders the OpenAPI document;
 * - local/ renders the router, the handler table (each function with exactly its own environment), the
 *   substitutions and the bus rules.
 *
 * Adding an endpoint or a consumer means one entry here, plus its handler and its schema.
 */
import { z } from 'zod';
import * as analytics from './analytics';
import * as insights from './insights';
import * as api from './api';
import type { EventName } from './events';
import { ENV, TABLE_ENV, type TableName } from './resources';
import { PAY_INPUT_MAX_CHARS } from './steps';
import type { FunctionSettings } from './settings';

export const AREAS = ['fraud', 'routing', 'payments', 'rewards', 'analytics'] as const;
export type Area = (typeof AREAS)[number];

export type HttpMethod = 'GET' | 'POST';

/** Where a route goes. */
export type RouteTarget =
  /** A Lambda proxy integration (locally: the function's handler with an APIGatewayProxyEvent). */
  | { readonly kind: 'function'; readonly function: FunctionName }
  /** A synchronous workflow execution with the envelope of contracts/steps.ts's PayEnvelope (StartSyncExecution). */
  | { readonly kind: 'workflow'; readonly workflow: WorkflowName }
  /** A fixed answer: the health document, or this API's OpenAPI document. */
  | { readonly kind: 'static'; readonly document: StaticDocument };

/** The fixed documents: liveness, the OpenAPI document, and the API reference rendered from it (HTML). */
export type StaticDocument = 'health' | 'openapi' | 'docs';

export interface RouteSpec {
  readonly method: HttpMethod;
  /** The resource path; `{name}` is a path parameter. */
  readonly path: string;
  readonly summary: string;
  /** `jwt`: a valid ID token of the pool with `custom:merchantId` (Cognito authorizer; the local issuer). */
  readonly auth: 'jwt' | 'none';
  /** The JSON body, with the name its model and schema carry everywhere. */
  readonly request?: { readonly name: string; readonly schema: z.ZodType };
  /** Path parameters (each one required). */
  readonly pathParams?: z.ZodObject;
  /** Query-string parameters (an object schema of strings; numbers coerced): each optional unless its schema says. */
  readonly query?: z.ZodObject;
  /** Required headers and their schema. */
  readonly headers?: Readonly<Record<string, z.ZodType>>;
  /** Success statuses and their bodies. */
  readonly responses: Readonly<Record<number, { readonly description: string; readonly body: z.ZodType; readonly contentType?: 'text/html' }>>;
  /** Error statuses this route answers (each an {@link api.ErrorBody}), and when. 401/403 come with `jwt`. */
  readonly errors: Readonly<Record<number, string>>;
  readonly target: RouteTarget;
}

/** Where an environment variable's value comes from. */
export type EnvSource =
  /** A stage setting, rendered as text (JSON for objects); `optional`: unset when the stage has none. */
  | { readonly from: 'setting'; readonly setting: keyof FunctionSettings; readonly optional?: boolean }
  /** A deployment prop (e.g. a SageMaker endpoint's name); unset when not given. */
  | { readonly from: 'prop'; readonly prop: 'fraudEndpointName' | 'routingEndpointName' | 'opensearchEndpoint' | 'chatModel' | 'embeddingModel' }
  /** A knob the code reads with a default; never set by the CDK, passed through locally when you set it. */
  | { readonly from: 'tunable' }
  /** A Secrets Manager secret's ARN (a deployment prop; the CDK grants the function read on it); unset when not given. */
  | { readonly from: 'secret'; readonly prop: SecretProp };

/** The secrets a deployment may hand the functions, by their ARNs. */
export type SecretProp = 'mintAuthoritySecretArn' | 'treasurySecretArn' | 'solanaRpcUrlSecretArn' | 'gatewayCredentialsSecretArn' | 'cardFingerprintSecretArn' | 'llmApiKeySecretArn';

export interface FunctionSpec {
  readonly area: Area;
  readonly description: string;
  /** The handler file, from the repository root; it exports `handler`. */
  readonly entry: string;
  readonly memoryMB: number;
  readonly timeoutSeconds: number;
  /** Reserved concurrency (1: a single writer). */
  readonly reservedConcurrency?: number;
  /** Tables it reads (and writes); each brings its `*_TABLE_NAME` variable. */
  readonly tables: { readonly read?: readonly TableName[]; readonly readWrite?: readonly TableName[] };
  /** Events it puts on the bus (brings `EVENT_BUS_NAME` and the put grant). */
  readonly emits?: readonly EventName[];
  /** Further variables it reads, by name. */
  readonly env?: Readonly<Record<string, EnvSource>>;
  /** A folder shipped next to the bundle as `model/` (read at cold start). */
  readonly assets?: { readonly model: string };
}

/** How a function is fed events: a rule puts them into a queue it drains (partial batch responses). */
export interface QueueConsumer {
  readonly events: readonly [EventName, ...EventName[]];
  readonly function: FunctionName;
  readonly queue: {
    readonly id: string;
    readonly batchSize: number;
    readonly batchingWindowSeconds: number;
    readonly maxReceiveCount: number;
    /**
     * Locally, how long a failed batch waits before its one retry (@default 0: at once). The cloud retries after the
     * queue's visibility timeout (6 × the function's timeout + the window), up to maxReceiveCount receives.
     */
    readonly localRetryDelaySeconds?: number;
  };
}

/** A workflow started by its events (one rule targets the state machine; the workflow tells them apart). */
export interface WorkflowConsumer {
  readonly events: readonly [EventName, ...EventName[]];
  readonly workflow: WorkflowName;
}

/**
 * A function invoked on a schedule with `{ schedule: name }`: an EventBridge schedule rule in the cloud, a
 * timer in the local platform (which also runs it once at start-up).
 */
export interface ScheduleSpec {
  readonly name: string;
  readonly function: FunctionName;
  readonly everyMinutes: number;
  readonly description: string;
}

/** The payload of a scheduled invocation. */
export const ScheduledInvocation = z.object({ schedule: z.string().min(1) });
export type ScheduledInvocation = z.infer<typeof ScheduledInvocation>;

/** True for the scheduled invocation `name` (what a handler checks before its other event kinds). */
export function isScheduledInvocation(event: unknown, name: string): boolean {
  const parsed = ScheduledInvocation.safeParse(event);
  return parsed.success && parsed.data.schedule === name;
}

export interface AreaSpec {
  readonly functions: Readonly<Partial<Record<FunctionName, FunctionSpec>>>;
  readonly schedules?: readonly ScheduleSpec[];
  readonly routes: readonly RouteSpec[];
  /** `${Placeholder}`s of the workflow definitions that name one of this area's functions. */
  readonly placeholders: Readonly<Record<string, FunctionName>>;
  readonly consumes?: ReadonlyArray<QueueConsumer | WorkflowConsumer>;
}

export const FUNCTION_NAMES = ['fraud', 'routing', 'routingUpdater', 'payments', 'rewards', 'analytics'] as const;
export type FunctionName = (typeof FUNCTION_NAMES)[number];

export const WORKFLOW_NAMES = ['payment', 'reward'] as const;
export type WorkflowName = (typeof WORKFLOW_NAMES)[number];

const model = (name: string, schema: z.ZodType) => ({ name, schema });
const ok = (description: string, body: z.ZodType) => ({ description, body });

/** The areas. */
export const TOPOLOGY: Readonly<Record<Area, AreaSpec>> = {
  fraud: {
    functions: {
      fraud: {
        area: 'fraud',
        description: 'fraud',
        entry: 'lambdas/fraud/handler.ts',
        // CPU scales with memory: the in-Lambda model ensemble is on the /pay latency path.
        memoryMB: 1024,
        timeoutSeconds: 5,
        // POST /fraud/labels reads the caller's payment (payments' PaymentLookup) to find the transaction it labels.
        tables: { readWrite: ['fraudState'], read: ['payments'] },
        env: {
          [ENV.fraudReviewThreshold]: { from: 'setting', setting: 'fraudReviewThreshold', optional: true },
          [ENV.fraudDeclineThreshold]: { from: 'setting', setting: 'fraudDeclineThreshold', optional: true },
          [ENV.fraudEndpointName]: { from: 'prop', prop: 'fraudEndpointName' },
          [ENV.fraudEndpointTimeoutMs]: { from: 'tunable' },
          [ENV.fraudModelDir]: { from: 'tunable' },
        },
        assets: { model: 'lambdas/fraud/model' },
      },
    },
    placeholders: { FraudFunctionArn: 'fraud' },
    consumes: [
      {
        // The fraud features learn each succeeded payment off the payment's synchronous path, from the payments
        // outbox's PaymentSucceeded (bench:fraud-lag measures what the delay costs detection). No batching
        // window: the next payment of the same card should see this one as soon as possible.
        events: ['PaymentSucceeded'],
        function: 'fraud',
        queue: { id: 'FraudFeatures', batchSize: 10, batchingWindowSeconds: 0, maxReceiveCount: 5 },
      },
    ],
    routes: [
      {
        method: 'POST',
        path: '/fraud',
        summary: 'Score a would-be payment of the caller now, without recording it (XGBoost + GraphSAGE ensemble)',
        auth: 'jwt',
        request: model('FraudRequest', api.FraudRequest),
        responses: { 200: ok('the assessment and the thresholds it was judged by', api.FraudResponse) },
        errors: { 400: 'a bad field (the message names it)' },
        target: { kind: 'function', function: 'fraud' },
      },
      {
        method: 'POST',
        path: '/fraud/labels',
        summary: 'Label one of your succeeded payments as fraud (a chargeback) or as good, for the fraud features',
        auth: 'jwt',
        request: model('FraudLabelRequest', api.FraudLabelRequest),
        responses: { 200: ok('label recorded (a repeated label counts once)', api.FraudLabelResponse) },
        errors: { 400: 'a bad field', 404: 'not one of your payments', 409: 'the payment neither succeeded nor is held for review (payment_not_completed)' },
        target: { kind: 'function', function: 'fraud' },
      },
      {
        method: 'GET',
        path: '/fraud/labels',
        summary: 'Which of these payments you labelled, and how (paymentIds: up to 50, comma-separated)',
        auth: 'jwt',
        query: api.FraudLabelsQuery,
        responses: { 200: ok('your labels of the payments named (one you did not label is absent)', api.FraudLabelsResponse) },
        errors: { 400: 'a bad query parameter (named in details)' },
        target: { kind: 'function', function: 'fraud' },
      },
    ],
  },
  routing: {
    functions: {
      routing: {
        area: 'routing',
        description: 'routing',
        entry: 'lambdas/routing/handler.ts',
        memoryMB: 512,
        timeoutSeconds: 5,
        tables: { readWrite: ['routing'] },
        emits: ['RoutingOutcomesRecorded'],
        env: {
          [ENV.maxPaymentAttempts]: { from: 'setting', setting: 'maxPaymentAttempts' },
          [ENV.connectors]: { from: 'setting', setting: 'connectors', optional: true },
          [ENV.routingFeeWeights]: { from: 'setting', setting: 'routingFeeWeights', optional: true },
          [ENV.routingEndpointName]: { from: 'prop', prop: 'routingEndpointName' },
          [ENV.routingEndpointTimeoutMs]: { from: 'tunable' },
          [ENV.routingSeed]: { from: 'tunable' },
          [ENV.routingModelTtlMs]: { from: 'tunable' },
          [ENV.routingHealthTtlMs]: { from: 'tunable' },
        },
      },
      // The routing model's single writer: the routing code with one concurrent execution, fed by a queue.
      routingUpdater: {
        area: 'routing',
        description: 'routing model updater',
        entry: 'lambdas/routing/updater.ts',
        memoryMB: 512,
        timeoutSeconds: 5,
        reservedConcurrency: 1,
        tables: { readWrite: ['routing'] },
        // The registry gives the model its currency and region features (context.ts vocabularyOf): the updater
        // must learn under the routers' vocabulary.
        env: { [ENV.connectors]: { from: 'setting', setting: 'connectors', optional: true } },
      },
    },
    placeholders: { RoutingFunctionArn: 'routing' },
    consumes: [
      {
        // Routing feedback, off the payment's synchronous path: the payments outbox's PaymentFinalized. Each
        // batch's new outcomes are folded into the circuit breaker's state at once (one small item), so a
        // connector's outage reaches the routers within a second or two.
        events: ['PaymentFinalized'],
        function: 'routing',
        queue: { id: 'RoutingFeedback', batchSize: 10, batchingWindowSeconds: 1, maxReceiveCount: 5 },
      },
      {
        // A payment's outcomes straight from its PaymentFinalized (the updater records each with its claim),
        // and those of POST /route/feedback, which the routing function records and publishes.
        events: ['PaymentFinalized', 'RoutingOutcomesRecorded'],
        function: 'routingUpdater',
        // One model commit per batch, so a big batch keeps the single writer ahead at high rates; a malformed
        // message fails alone (partial batch response), so it costs no good ones. The model item is rewritten
        // whole by each commit (≈ 27 write units once every connector has learnt), so the window gathers up to a
        // minute of outcomes a commit: the arms learn a minute late, which a bandit does not notice, while the
        // circuit breaker (its own item, folded by the feedback consumer) sees failures within seconds.
        queue: { id: 'RoutingUpdates', batchSize: 100, batchingWindowSeconds: 60, maxReceiveCount: 5 },
      },
    ],
    routes: [
      {
        method: 'POST',
        path: '/route',
        summary: 'Rank the eligible connectors (contextual bandit): the choice first, each with its score and propensity',
        auth: 'jwt',
        request: model('RouteRequest', api.RouteRequest),
        responses: { 200: ok('ranked connectors, the decision id and the policy version', api.RouteResult) },
        errors: { 400: 'a bad field', 422: 'no enabled connector takes this method, currency, country and amount (no_eligible_connector)' },
        target: { kind: 'function', function: 'routing' },
      },
      {
        method: 'GET',
        path: '/route/state',
        summary: "The router as it stands: the policy's version and exploration rate, and each connector's circuit-breaker state and fees",
        auth: 'jwt',
        responses: { 200: ok('the policy and every connector of the registry', api.RoutingStateResponse) },
        errors: {},
        target: { kind: 'function', function: 'routing' },
      },
      {
        method: 'POST',
        path: '/route/feedback',
        summary: 'Record what happened on each attempt of one of your routing decisions (idempotent); the model learns from it',
        auth: 'jwt',
        request: model('RouteFeedbackRequest', api.RouteFeedbackRequest),
        responses: { 200: ok('outcomes recorded; a replay records nothing again', api.RouteFeedbackResponse) },
        errors: {
          400: 'a bad field, or attempts one payment cannot make (a connector the decision did not rank, one tried twice, an attempt after a success or a decline, a fee above the amount)',
          404: 'not one of your decisions',
          409: 'the decision already has different feedback (feedback_conflict; details.recorded is what it has)',
        },
        target: { kind: 'function', function: 'routing' },
      },
    ],
  },
  payments: {
    functions: {
      payments: {
        area: 'payments',
        description: 'payments',
        entry: 'lambdas/payments/handler.ts',
        memoryMB: 1024,
        // Gateway calls; below the 25 s payment-machine timeout.
        timeoutSeconds: 15,
        tables: { readWrite: ['payments', 'idempotency'] },
        // The outbox's publisher (lambdas/payments/outbox.ts): the payments table's stream and the sweep.
        emits: ['PaymentSucceeded', 'PaymentRefunded'],
        env: {
          [ENV.maxPaymentAttempts]: { from: 'setting', setting: 'maxPaymentAttempts' },
          [ENV.acceptRawCards]: { from: 'setting', setting: 'acceptRawCards', optional: true },
          [ENV.connectors]: { from: 'setting', setting: 'connectors', optional: true },
          [ENV.sandboxFaults]: { from: 'tunable' },
          [ENV.sandboxLatencyMs]: { from: 'tunable' },
          [ENV.sandboxLedgerDir]: { from: 'tunable' },
          [ENV.gatewayCredentialsSecretArn]: { from: 'secret', prop: 'gatewayCredentialsSecretArn' },
          [ENV.cardFingerprintSecretArn]: { from: 'secret', prop: 'cardFingerprintSecretArn' },
          // Solana Pay transfers are verified on the cluster.
          [ENV.solanaRpcUrl]: { from: 'setting', setting: 'solanaRpcUrl', optional: true },
          [ENV.solanaRpcUrlSecretArn]: { from: 'secret', prop: 'solanaRpcUrlSecretArn' },
          [ENV.gatewayTimeoutMs]: { from: 'tunable' },
          [ENV.paymentLeaseMs]: { from: 'tunable' },
          [ENV.reconcileAfterMs]: { from: 'tunable' },
        },
      },
    },
    placeholders: { PaymentsFunctionArn: 'payments' },
    schedules: [
      {
        name: 'reconcile',
        function: 'payments',
        everyMinutes: 1,
        description: 'finish payments left processing by a run that stopped (a pending attempt is looked up at its gateway by its key)',
      },
      {
        name: 'outbox',
        function: 'payments',
        everyMinutes: 1,
        description: "publish terminal payments' events still unpublished (the stream publishes them first; locally this is the outbox drain)",
      },
    ],
    routes: [
      {
        method: 'POST',
        path: '/pay',
        summary: 'Run the whole payment orchestration (fraud → routing → charge with fallback → record), exactly once per Idempotency-Key',
        auth: 'jwt',
        request: model('PaymentRequest', api.PaymentRequest),
        headers: { [api.IDEMPOTENCY_HEADER]: api.IdempotencyKey },
        responses: {
          201: ok('succeeded', api.PaymentResponse),
          202: ok(
            'held for review ({payment} with status review), awaiting the customer ({payment} with status pending_action and its action: 3-D Secure, or a Solana Pay transfer), or still processing ({status: "processing"}): repeat the request with the same Idempotency-Key, or read GET /payments/{id}, for the outcome',
            z.union([api.PaymentResponse, api.ProcessingResponse]),
          ),
        },
        errors: {
          400: 'a bad field, or a missing or malformed Idempotency-Key',
          402: 'declined (fraud or gateway); details.payment holds the recorded payment',
          409: 'the same key is still being processed (idempotency_in_progress; details.paymentId names the payment)',
          413: `the body is too large for the payment workflow (payload_too_large): with the headers, over ${PAY_INPUT_MAX_CHARS.toLocaleString('en-US')} characters once escaped, a character outside ASCII counting 6; nothing was claimed`,
          500: 'the workflow failed before anything was recorded or charged; safe to retry with the same key',
          422: 'the same key with another body (idempotency_key_reused), or no eligible connector (no_eligible_connector)',
          503: 'every eligible gateway failed retryably, or the payment stopped before it was charged (all_gateways_failed, interrupted), or a service it needs was unavailable before anything was charged (transient_failure: retry with the same key); nothing was charged; or the platform is at capacity (service_unavailable, before the key is claimed: retry after Retry-After)',
        },
        target: { kind: 'workflow', workflow: 'payment' },
      },
      {
        method: 'GET',
        path: '/payments',
        summary: 'Your payments, newest first, a page at a time: filter by status, connector, currency, customer and creation window, or search (q: a payment id, a customer id\'s beginning, a card\'s last 4 digits, words of the description)',
        auth: 'jwt',
        query: api.PaymentListQuery,
        responses: { 200: ok('a page of payments, and the cursor of the next', api.PaymentListResponse) },
        errors: { 400: 'a bad query parameter (named in details)' },
        target: { kind: 'function', function: 'payments' },
      },
      {
        method: 'GET',
        path: '/payments/{id}',
        summary: 'One of your payments',
        auth: 'jwt',
        pathParams: api.PaymentPath,
        responses: { 200: ok('the payment', api.PaymentResponse) },
        errors: { 400: 'the id is not a payment id (pay_ + 20 characters)', 404: 'no such payment of yours' },
        target: { kind: 'function', function: 'payments' },
      },
      {
        method: 'POST',
        path: '/webhooks/stripe/{connectorId}',
        summary:
          "Stripe's webhook for one Stripe connector (the endpoint you configure in that account's dashboard, with its signing secret in the gateway credentials): settles payments awaiting the customer's action (3-D Secure) from the intent's current state; replays and any order are harmless",
        auth: 'none',
        pathParams: api.WebhookPath,
        responses: { 200: ok('received (events about nothing of ours are received and ignored)', api.WebhookResponse) },
        errors: {
          400: 'the signature does not verify on the raw body (invalid_signature): not from Stripe, or another endpoint\'s signing secret',
          404: 'no Stripe connector of that id',
          503: 'Stripe could not be read to settle the payment (transient_failure): Stripe sends the event again',
        },
        target: { kind: 'function', function: 'payments' },
      },
      {
        method: 'POST',
        path: '/webhooks/amazon-pay/{connectorId}',
        summary:
          "Amazon Pay's Instant Payment Notifications for one Amazon Pay connector (the IPN endpoint you set in that account's Seller Central): an SNS message, verified with its SNS signing certificate; settles the payment's pending refunds from Amazon Pay's current state; replays and any order are harmless",
        auth: 'none',
        pathParams: api.WebhookPath,
        responses: { 200: ok('received (notifications about nothing of ours are received and ignored)', api.WebhookResponse) },
        errors: {
          400: 'the SNS signature does not verify, or its certificate is not from an SNS host (invalid_signature)',
          404: 'no Amazon Pay connector of that id',
          503: 'Amazon Pay (or the SNS certificate) could not be read now (transient_failure): the notification is sent again',
        },
        target: { kind: 'function', function: 'payments' },
      },
      {
        method: 'POST',
        path: '/payments/{id}/refund',
        summary:
          "Refund one of your succeeded payments, all of what is left or part of it ({amount}), through the gateway that charged it; exactly once per Idempotency-Key, never beyond what was charged. The reward is reduced or clawed back (PaymentRefunded)",
        auth: 'jwt',
        pathParams: api.PaymentPath,
        request: model('RefundRequest', api.RefundRequest),
        headers: { [api.IDEMPOTENCY_HEADER]: api.IdempotencyKey },
        responses: {
          200: ok('the refund already existed (the same key): its outcome', api.RefundResponse),
          201: ok('refunded now', api.RefundResponse),
          202: ok("the gateway has not confirmed it yet (pending): repeat the request with the same key, or read GET /payments/{id}; it is settled by itself too", api.RefundResponse),
        },
        errors: {
          400: 'a bad field, or a missing or malformed Idempotency-Key',
          404: 'no such payment of yours',
          409: 'the payment did not succeed (payment_not_refundable); or the gateway refused the refund, nothing was refunded (refund_declined: details.gatewayCode, details.refund)',
          422: 'more than is left to refund (refund_exceeds_charge: details.left), or the same key with another amount or reason (idempotency_key_reused)',
          503: 'the gateway could not take it now, or concurrent refunds of the payment (transient_failure); nothing more was refunded: repeat with the same key',
        },
        target: { kind: 'function', function: 'payments' },
      },
    ],
  },
  rewards: {
    functions: {
      rewards: {
        area: 'rewards',
        description: 'rewards',
        entry: 'lambdas/rewards/handler.ts',
        memoryMB: 512,
        // Room for minting, sending and confirming on Solana (MINT_CONFIRM_TIMEOUT_MS of confirming a run).
        timeoutSeconds: 60,
        // POST /reward reads the caller's payment through payments' PaymentLookup.
        tables: { readWrite: ['rewards'], read: ['payments'] },
        // The rewards outbox's publisher (lambdas/rewards/outbox.ts): right after each change, and its sweep.
        emits: ['RewardChanged'],
        env: {
          [ENV.rewardTokenDecimals]: { from: 'setting', setting: 'rewardTokenDecimals' },
          [ENV.rewardUsdRates]: { from: 'setting', setting: 'rewardUsdRates', optional: true },
          [ENV.splTokenMintAddress]: { from: 'setting', setting: 'rewardTokenMint', optional: true },
          [ENV.rewardTokenProgram]: { from: 'setting', setting: 'rewardTokenProgram', optional: true },
          [ENV.relayDailyLimit]: { from: 'setting', setting: 'relayDailyLimit', optional: true },
          [ENV.solanaRpcUrl]: { from: 'setting', setting: 'solanaRpcUrl', optional: true },
          [ENV.solanaRpcUrlSecretArn]: { from: 'secret', prop: 'solanaRpcUrlSecretArn' },
          [ENV.solanaMintAuthoritySecretArn]: { from: 'secret', prop: 'mintAuthoritySecretArn' },
          [ENV.solanaTreasurySecretArn]: { from: 'secret', prop: 'treasurySecretArn' },
          [ENV.mintConfirmTimeoutMs]: { from: 'tunable' },
          [ENV.mintSweepAfterMs]: { from: 'tunable' },
        },
      },
    },
    placeholders: { RewardsFunctionArn: 'rewards' },
    // The reward workflow issues (and mints) on PaymentSucceeded, and adjusts on PaymentRefunded.
    consumes: [{ events: ['PaymentSucceeded', 'PaymentRefunded'], workflow: 'reward' }],
    schedules: [
      {
        name: 'mints',
        function: 'rewards',
        everyMinutes: 1,
        description: "finish rewards whose mint is not known to be finalized a while after it was recorded (the workflow gave up, or stopped), and publish the oldest one's age",
      },
      {
        name: 'reward-events',
        function: 'rewards',
        everyMinutes: 1,
        description: "publish rewards' changes (issued, clawed back, minted) still unpublished (each is published right after it is made; this is the safety net)",
      },
    ],
    routes: [
      {
        method: 'POST',
        path: '/reward',
        summary: 'Issue (or return) the reward of one of your succeeded payments ({paymentId}), or claim a customer\'s rewards recorded without a wallet to a wallet ({customerId, wallet})',
        auth: 'jwt',
        request: model('RewardRequest', api.RewardRequest),
        responses: {
          200: ok('the reward already existed; or, for a claim with nothing new to claim, the customer\'s last claim', z.union([api.RewardResponse, api.RewardClaimResponse])),
          201: ok('reward issued now; or a claim made now (its chain.state is pending until its mint is finalized)', z.union([api.RewardResponse, api.RewardClaimResponse])),
        },
        errors: {
          400: 'a bad field',
          404: 'no payment of yours has this id (not_found; another merchant\'s payment is not found either)',
          409: 'the payment did not succeed (reward_not_eligible); or nothing to claim: no rewards without a wallet and no earlier claim (nothing_to_claim)',
        },
        target: { kind: 'function', function: 'rewards' },
      },
      {
        method: 'GET',
        path: '/rewards/{wallet}',
        summary: "A wallet's balance of the reward token, read from the chain",
        auth: 'jwt',
        pathParams: api.RewardWalletPath,
        responses: { 200: ok('the balance (0 when the wallet has no token account yet)', api.RewardBalanceResponse) },
        errors: { 400: 'the wallet is not a Solana public key', 409: 'this stage mints no reward token (rewards_not_minted)', 503: "the cluster did not answer, or the reward token's keys could not be read (transient_failure); ask again" },
        target: { kind: 'function', function: 'rewards' },
      },
      {
        method: 'GET',
        path: '/reward/relay',
        summary: 'What POST /reward/relay co-signs: the fee payer to name, the reward token, the instructions and limits',
        auth: 'jwt',
        responses: { 200: ok('the relay policy', api.RelayPolicyResponse) },
        errors: { 409: 'this stage sponsors no fees: no reward token, or no treasury (relay_not_configured)', 503: "the reward token's keys could not be read (transient_failure); ask again" },
        target: { kind: 'function', function: 'rewards' },
      },
      {
        method: 'POST',
        path: '/reward/relay',
        summary:
          "Relay a customer's transfer or burn of the reward token: the treasury pays the fee, after checking the transaction touches nothing else of its own (see GET /reward/relay). Relaying the same transaction again answers its state",
        auth: 'jwt',
        request: model('RelayRequest', api.RelayRequest),
        responses: { 200: ok('sent: finalized, or pending when it was not final within the request (look its signature up)', api.RelayResponse) },
        errors: {
          400: 'the transaction is not relayed, and the problem says why: its fee payer, an instruction or account that is not allowed, a missing or bad signature, a size or compute limit, an expired blockhash, or it would fail on chain',
          409: 'this stage sponsors no fees: no reward token, or no treasury (relay_not_configured)',
          429: "your relays of today (UTC) are used up (relay_budget_exhausted; the stage's relayDailyLimit, RELAY_DAILY_LIMIT)",
          503: 'the cluster did not answer (transient_failure); send the same transaction again',
        },
        target: { kind: 'function', function: 'rewards' },
      },
    ],
  },
  analytics: {
    functions: {
      analytics: {
        area: 'analytics',
        description: 'analytics',
        entry: 'lambdas/analytics/handler.ts',
        memoryMB: 1024,
        // Below API Gateway's 29 s integration limit.
        timeoutSeconds: 28,
        // Its data is the analytics index (OpenSearch), fed by the payments' and the rewards' outbox events, with a
        // claim per event (analytics); it reads the payments and the rewards (their read ports) only to rebuild it.
        tables: { read: ['payments', 'rewards'], readWrite: ['analytics'] },
        env: {
          [ENV.opensearchEndpoint]: { from: 'prop', prop: 'opensearchEndpoint' },
          [ENV.embeddingModel]: { from: 'prop', prop: 'embeddingModel' },
          [ENV.analyticsVisibilityMs]: { from: 'tunable' },
          [ENV.chatModel]: { from: 'prop', prop: 'chatModel' },
          [ENV.llmApiKeySecretArn]: { from: 'secret', prop: 'llmApiKeySecretArn' },
          [ENV.openaiApiKey]: { from: 'tunable' },
          [ENV.openaiBaseUrl]: { from: 'tunable' },
        },
      },
    },
    placeholders: {},
    consumes: [
      {
        // The analytics index, off the payment's path: one document per terminal payment, per refund and per
        // reward change (by event id, so a redelivery adds nothing). Batches of up to 10 share one embedding call.
        events: ['PaymentRecorded', 'PaymentRefunded', 'RewardChanged'],
        function: 'analytics',
        // An event a crashed run was indexing stays claimed for the claims' 60 s lease (lambdas/analytics/claims.ts):
        // the local retry waits past it, so the event is taken over, not dropped (the cloud's 169 s visibility does too).
        queue: { id: 'AnalyticsIndex', batchSize: 10, batchingWindowSeconds: 1, maxReceiveCount: 5, localRetryDelaySeconds: 65 },
      },
    ],
    routes: [
      {
        method: 'POST',
        path: '/chat',
        summary:
          'Ask about your own payments in plain English: totals, counts, averages, decline/fraud/refund/approval rates, fallbacks, rankings by country, connector, method, currency or customer, over a window and against the one before; why one payment ended as it did; payments like one',
        auth: 'jwt',
        request: model('ChatRequest', api.ChatRequest),
        responses: { 200: ok('the answer, the plan as executed, its figures and the payments behind them (or "can\'t answer" and what can be asked)', analytics.ChatAnswer) },
        errors: { 400: 'a bad field', 409: 'this stage has no analytics index (analytics_not_configured)' },
        target: { kind: 'function', function: 'analytics' },
      },
      {
        method: 'GET',
        path: '/insights',
        summary:
          'The console\'s figures over a window, from the analytics index: view=routing (per connector the payments that tried it and those it charged, over time; fallbacks; volume), view=fraud (the score distribution, decisions over time, the top reasons) or view=rewards (tokens issued, minted and clawed back over time)',
        auth: 'jwt',
        query: insights.InsightsQuery,
        responses: { 200: ok('the view\'s figures: totals over the window, and per bucket (interval hour or day, UTC)', insights.InsightsResponse) },
        errors: { 400: 'a bad query parameter (named in details)', 409: 'this stage has no analytics index (analytics_not_configured)' },
        target: { kind: 'function', function: 'analytics' },
      },
    ],
  },
};

/** Routes that belong to no area: liveness and the API's own description and reference. None needs a token. */
export const PLATFORM_ROUTES: readonly RouteSpec[] = [
  {
    method: 'GET',
    path: '/health',
    summary: 'Liveness (no auth)',
    auth: 'none',
    responses: { 200: ok('{"status":"ok"}', api.HealthResponse) },
    errors: {},
    target: { kind: 'static', document: 'health' },
  },
  {
    method: 'GET',
    path: '/openapi.json',
    summary: "This API's OpenAPI 3.0 document, rendered from contracts/topology.ts (no auth)",
    auth: 'none',
    responses: { 200: ok('the OpenAPI document', api.OpenApiDocument) },
    errors: {},
    target: { kind: 'static', document: 'openapi' },
  },
  {
    method: 'GET',
    path: '/docs',
    summary: 'This API\'s reference, a readable page rendered from its OpenAPI document (no auth)',
    auth: 'none',
    responses: { 200: { description: 'the API reference (HTML)', body: z.string(), contentType: 'text/html' } },
    errors: {},
    target: { kind: 'static', document: 'docs' },
  },
];

/** The workflows: their definition file, type, and the placeholders that are resources rather than functions. */
export const WORKFLOWS: Readonly<
  Record<WorkflowName, { readonly file: string; readonly type: 'EXPRESS' | 'STANDARD'; readonly resources: Readonly<Record<string, 'eventBus' | 'rewardDlq'>>; readonly emits?: readonly EventName[] }>
> = {
  payment: { file: 'payment.asl.json', type: 'EXPRESS', resources: {} },
  // EXPRESS (asynchronous, at least once) for cost: a Standard execution's transitions cost $25 a million, 25x an
  // Express request; exactly-once comes from the reward ledger (a conditional put by payment id), not the engine.
  reward: { file: 'reward.asl.json', type: 'EXPRESS', resources: { RewardDlqUrl: 'rewardDlq' } },
};

// ------------------------------------------------------------------------------------------------- renderings

/**
 * Every error status a route answers, and when: its own, the authorizer's (401, 403) on `jwt` routes, and 415 on
 * routes with a JSON body (any other Content-Type).
 */
export function errorStatuses(route: RouteSpec): Readonly<Record<number, string>> {
  const statuses: Record<number, string> = { ...route.errors };
  if (route.auth === 'jwt') {
    statuses[401] = 'a missing, invalid or expired token';
    statuses[403] = 'the token carries no custom:merchantId claim';
  }
  if (route.request) {
    statuses[413] ??= 'the body is over 1 MB (payload_too_large)';
    statuses[415] = 'the body is not JSON (Content-Type must be application/json)';
  }
  return statuses;
}

/** A `${Name}` placeholder of a workflow definition (as `definitionSubstitutions` fills them). */
export const PLACEHOLDER = /\$\{([A-Za-z0-9_]+)\}/g;

/** Every placeholder in a definition (its text, or its parsed JSON). */
export function placeholdersOf(definition: unknown): Set<string> {
  const text = typeof definition === 'string' ? definition : JSON.stringify(definition);
  return new Set([...text.matchAll(PLACEHOLDER)].map((m) => m[1] as string));
}

/** What a placeholder names: one of an area's functions, or a resource of its workflow. */
export type PlaceholderTarget =
  | { readonly kind: 'function'; readonly function: FunctionName }
  | { readonly kind: 'resource'; readonly resource: (typeof WORKFLOWS)[WorkflowName]['resources'][string] };

/**
 * What each placeholder of a workflow's definition names, as the CDK and the local platform both substitute
 * them; a placeholder the topology does not declare is an error naming the file.
 */
export function resolvePlaceholders(workflow: WorkflowName, definition: unknown): Array<[string, PlaceholderTarget]> {
  return [...placeholdersOf(definition)].map((placeholder) => {
    const fn = functionPlaceholders()[placeholder];
    const resource = WORKFLOWS[workflow].resources[placeholder];
    if (fn) return [placeholder, { kind: 'function', function: fn }];
    if (resource) return [placeholder, { kind: 'resource', resource }];
    throw new Error(
      `statemachines/${WORKFLOWS[workflow].file}: \${${placeholder}} names nothing in contracts/topology.ts (a function placeholder of an area, or a resource of the ${workflow} workflow)`,
    );
  });
}

/** Every route: the areas' in order, then the platform's. */
export function allRoutes(): RouteSpec[] {
  return [...AREAS.flatMap((area) => TOPOLOGY[area].routes), ...PLATFORM_ROUTES];
}

/** Every function by name. */
export function allFunctions(): Readonly<Record<FunctionName, FunctionSpec>> {
  const out: Partial<Record<FunctionName, FunctionSpec>> = {};
  for (const area of AREAS) Object.assign(out, TOPOLOGY[area].functions);
  return out as Record<FunctionName, FunctionSpec>;
}

/** Every function placeholder of the workflow definitions and the function it names. */
export function functionPlaceholders(): Readonly<Record<string, FunctionName>> {
  return Object.assign({}, ...AREAS.map((area) => TOPOLOGY[area].placeholders)) as Record<string, FunctionName>;
}

/** Every event consumer. */
export function allSchedules(): readonly ScheduleSpec[] {
  return AREAS.flatMap((area) => TOPOLOGY[area].schedules ?? []);
}

export function allConsumers(): ReadonlyArray<QueueConsumer | WorkflowConsumer> {
  return AREAS.flatMap((area) => TOPOLOGY[area].consumes ?? []);
}

/** The events a consumer is fed. */
export function consumedEvents(consumer: QueueConsumer | WorkflowConsumer): readonly [EventName, ...EventName[]] {
  return consumer.events;
}

/** The values a platform gives the environment renderer. */
export interface EnvValues {
  readonly stage: string;
  readonly tableName: (table: TableName) => string;
  /** The bus, for the functions that emit (the CDK adds it with the put grant: leave it out there). */
  readonly eventBusName?: string;
  readonly settings: FunctionSettings;
  readonly props: { readonly fraudEndpointName?: string; readonly routingEndpointName?: string; readonly opensearchEndpoint?: string; readonly chatModel?: string; readonly embeddingModel?: string } & { readonly [P in SecretProp]?: string };
  /** Values for tunables (locally, what you set; the CDK passes none). */
  readonly tunables?: Readonly<Record<string, string | undefined>>;
}

/** The SmartPay variables every function gets: its stage and its Powertools service name. */
export function commonEnvironment(name: FunctionName, stage: string): Record<string, string> {
  return { [ENV.stage]: stage, POWERTOOLS_SERVICE_NAME: serviceName(name) };
}

/** The Powertools service name of a function (its metrics' `service` dimension). */
export function serviceName(name: FunctionName): string {
  return name === 'routingUpdater' ? 'routing-updater' : name;
}

/**
 * The environment of one function: the common variables, its tables' names, the bus when it emits, and the
 * variables it declares (settings, props, tunables) that have a value. The same in the cloud and locally.
 */
export function renderEnvironment(name: FunctionName, values: EnvValues): Record<string, string> {
  const spec = allFunctions()[name];
  const env: Record<string, string> = commonEnvironment(name, values.stage);
  for (const table of [...(spec.tables.readWrite ?? []), ...(spec.tables.read ?? [])]) env[TABLE_ENV[table]] = values.tableName(table);
  if (spec.emits?.length && values.eventBusName !== undefined) env[ENV.eventBusName] = values.eventBusName;
  for (const [variable, source] of Object.entries(spec.env ?? {})) {
    let value: unknown;
    if (source.from === 'setting') value = values.settings[source.setting];
    else if (source.from === 'prop' || source.from === 'secret') value = values.props[source.prop];
    else value = values.tunables?.[variable];
    if (value === undefined || value === '') {
      if (source.from === 'setting' && !source.optional) throw new Error(`${name}: ${variable} needs the setting ${source.setting}`);
      continue;
    }
    env[variable] = typeof value === 'string' ? value : typeof value === 'number' ? String(value) : JSON.stringify(value);
  }
  return env;
}
