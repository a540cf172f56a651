/**
 * Routing Lambda, two functions of the topology with this one entry:
 * - `routing`: POST /route and POST /route/feedback from API Gateway, and the workflow's Route (rank) and
 *   RoutingFeedback (feedback) steps;
 * - `routingUpdater`: the model's single writer, fed `RoutingOutcomesRecorded` events in SQS batches (one
 *   concurrent execution).
 */
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { RouteFeedbackRequest, RouteRequest, type AttemptRecord } from '../../contracts/api';
import { isDomainError } from '../../contracts/errors';
import { eventEnvelope } from '../../contracts/events';
import { cardNetwork } from '../../contracts/methods';
import { METRICS } from '../../contracts/resources';
import type { StepHandlers } from '../../contracts/steps';
import { documentClientOf, eventBridgeClient } from '../shared/clients';
import { config } from '../shared/config';
import { apiRoute, isApiGatewayEvent, parseApiBody, parseWith } from '../shared/http';
import { instrumented, logger, metrics, tracer } from '../shared/powertools';
import { eachQueued, queuedBatch, sqsMessages, type QueuedMessage } from '../shared/queued';
import { runStep } from '../shared/steps';
import { DynamoRoutingModel } from './dynamo-model-store';
import { CachedModel } from './model-cache';
import { outcomeEvents } from './outcome-events';
import type { HealthLog, OutcomeRecord } from './ports';
import { sageMakerRoutingEndpoint } from './sagemaker';
import { decide, recordFeedback, recordPaymentOutcomes, route, type RoutingDeps } from './service';

// Module scope: one client per container. No SDK retries: the budget is a few tens of milliseconds.
const sageMakerClient = new SageMakerRuntimeClient({ maxAttempts: 1 });
const tracedSageMakerClient = tracer ? tracer.captureAWSv3Client(sageMakerClient) : sageMakerClient;

let store: DynamoRoutingModel | undefined;
let deps: RoutingDeps | undefined;

/** The model store: all the updater needs (its function has the routing table and nothing else). */
function modelStore(): DynamoRoutingModel {
  store ??= new DynamoRoutingModel(documentClientOf(), config().tables.routing);
  return store;
}

function dependencies(): RoutingDeps {
  if (deps) return deps;
  const cfg = config();
  const store = modelStore();
  deps = {
    connectors: cfg.connectors,
    model: new CachedModel(store, {
      modelTtlMs: cfg.routingModelTtlMs,
      healthTtlMs: cfg.routingHealthTtlMs,
      // A slow health read must not hold up routing: past this, the last health read is used.
      healthTimeoutMs: 200,
      onHealthError: (error) => logger.warn('routing health could not be read; ranking with the last one read', { error }),
    }),
    store,
    health: reportedHealth(store),
    queue: outcomeEvents(eventBridgeClient, () => config().eventBusName),
    maxAttempts: cfg.maxPaymentAttempts,
    feeWeight: (merchantId) => cfg.routing.feeWeights[merchantId] ?? cfg.routing.feeWeights.default,
    endpoint: cfg.routing.endpointName
      ? sageMakerRoutingEndpoint(tracedSageMakerClient, cfg.routing.endpointName, { timeoutMs: cfg.routing.endpointTimeoutMs })
      : undefined,
  };
  return deps;
}

/**
 * The breaker's state over the store, a failure reported rather than thrown: the outcomes are recorded and reach
 * the model all the same, and the breaker counts the next attempts.
 */
function reportedHealth(health: HealthLog): HealthLog {
  return {
    async recordHealth(outcomes) {
      try {
        await health.recordHealth(outcomes);
      } catch (error) {
        metrics.addMetric(METRICS.routingHealthNotPublished, 'Count', 1);
        logger.warn('routing health: recorded outcomes were not folded into the circuit breaker', { outcomes: outcomes.length, error });
      }
    },
  };
}

const OutcomesEvent = eventEnvelope('RoutingOutcomesRecorded');

/** A payment's attempt outcomes, as routing learns them: a retryable failure is a timeout or an error. */
function attemptReports(attempts: readonly AttemptRecord[]) {
  return [...attempts]
    .sort((a, b) => a.attempt - b.attempt)
    .map((a) => ({
      connectorId: a.connectorId,
      outcome: a.outcome === 'retryable_failure' ? (a.code === 'gateway_timeout' ? ('timeout' as const) : ('error' as const)) : a.outcome,
      latencyMs: a.latencyMs,
      feeMinor: a.feeMinor,
    }));
}

/**
 * Routing feedback, off the payment's synchronous path: `PaymentFinalized` events from the payments outbox,
 * through the RoutingFeedback queue. Each outcome is recorded once per decision and attempt however often the
 * event comes (the outbox delivers at least once). A message that fails goes back to the queue alone. The
 * batch's newly recorded outcomes are folded into the breaker's state in one write.
 */
async function onFinalized(messages: readonly QueuedMessage[]): Promise<unknown> {
  const fresh: OutcomeRecord[] = [];
  const batchDeps: RoutingDeps = { ...dependencies(), health: { recordHealth: async (outcomes) => fresh.push(...outcomes) } };
  const result = await eachQueued(messages, 'PaymentFinalized', async (detail, messageId) => {
    try {
      // A /pay decision is logged here first, off the payment's path (a repeat writes the same item).
      return (await recordPaymentOutcomes(detail, attemptReports(detail.attempts), batchDeps)).recorded;
    } catch (error) {
      if (!(isDomainError(error) && error.status === 404)) throw error;
      // The decision expired (its TTL) before the feedback came: nothing left to learn it against.
      logger.warn('routing feedback for an unknown decision is dropped', { messageId, error });
      return 0;
    }
  });
  if (fresh.length) await dependencies().health.recordHealth(fresh);
  return result;
}

async function onApi(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  if (event.resource === '/route/feedback') {
    return apiRoute(event, async (merchantId) => {
      const { decisionId, attempts } = parseApiBody(event, RouteFeedbackRequest);
      return { status: 200, body: { feedback: await recordFeedback(merchantId, decisionId, attempts, dependencies()) } };
    });
  }
  return apiRoute(event, async (merchantId) => ({ status: 200, body: await route(merchantId, parseApiBody(event, RouteRequest), dependencies()) }));
}

/** The workflow's step (statemachines/payment.asl.json: Route). */
export const steps: StepHandlers<'routing'> = {
  rank: async (input) => {
    const { request, merchantId } = input.payment;
    const method = request.paymentMethod;
    const { result, decision } = await decide(
      merchantId,
      {
        amount: request.amount,
        currency: request.currency,
        method: method.type,
        network: method.type === 'card' ? cardNetwork(method.number) : undefined,
        country: request.country,
        fraudScore: input.fraud?.score,
      },
      dependencies(),
    );
    return { ...result, decision: { time: decision.time, context: decision.context } };
  },
};

/**
 * The updater: folds outcome events into the model (one batch, one version). A message that is not an outcome
 * event is reported as a failure of its own (SQS's partial batch response): it goes back to the queue, and
 * after its last receive to the dead-letter queue, while the rest of its batch is applied.
 */
async function onOutcomes({ outcomes, malformed }: OutcomeBatch): Promise<unknown> {
  const batchItemFailures = malformed.map((itemIdentifier) => ({ itemIdentifier }));
  if (outcomes.length === 0) return { applied: 0, batchItemFailures };
  return { ...(await modelStore().applyOutcomes(outcomes)), batchItemFailures };
}

interface OutcomeBatch {
  readonly outcomes: OutcomeRecord[];
  /** Message ids of the SQS records that are not outcome events. */
  readonly malformed: string[];
}

function outcomesOf(event: unknown): OutcomeBatch | undefined {
  const direct = OutcomesEvent.safeParse(event);
  if (direct.success) return { outcomes: direct.data.detail.outcomes, malformed: [] };
  const messages = sqsMessages(event);
  if (!messages) return undefined;
  const batch: OutcomeBatch = { outcomes: [], malformed: [] };
  for (const record of messages) {
    try {
      batch.outcomes.push(...parseWith(OutcomesEvent, JSON.parse(record.body), 'routing outcome event').detail.outcomes);
    } catch (error) {
      logger.error('routing updater: a queued message is not an outcome event; it is reported as failed', { messageId: record.messageId, error });
      batch.malformed.push(record.messageId);
    }
  }
  return batch;
}

export const handler = instrumented('routing', (event) => {
  if (isApiGatewayEvent(event)) return onApi(event);
  const finalized = queuedBatch(event, 'PaymentFinalized');
  if (finalized) return onFinalized(finalized);
  const batch = outcomesOf(event);
  return batch ? onOutcomes(batch) : runStep('routing', steps, event);
});
