/**
 * Routing Lambda (`routing` in the topology): POST /route and POST /route/feedback from API Gateway, the
 * workflow's Route step (rank), and the circuit breaker's feedback (PaymentFinalized events in SQS batches). The
 * model's single writer is its own Lambda (updater.ts).
 */
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { RouteFeedbackRequest, RouteRequest } from '../../contracts/api';
import { isDomainError } from '../../contracts/errors';
import { cardNetwork } from '../../contracts/methods';
import { METRICS } from '../../contracts/resources';
import type { StepHandlers } from '../../contracts/steps';
import { documentClientOf, eventBridgeClient, traced } from '../shared/clients';
import { eventBridgePublisher } from '../shared/bus';
import { prng } from '../shared/prng';
import { config } from '../shared/config';
import { apiRoute, isApiGatewayEvent, parseApiBody } from '../shared/http';
import { countBy, instrumented, logger, metrics } from '../shared/powertools';
import { eachQueued, queuedBatch, type QueuedMessage } from '../shared/queued';
import { runStep } from '../shared/steps';
import { vocabularyOf } from './context';
import { DynamoRoutingModel } from './dynamo-model-store';
import { CachedModel } from './model-cache';
import { outcomeEvents } from './outcome-events';
import type { HealthLog, OutcomeRecord } from './ports';
import { sageMakerRoutingEndpoint } from './sagemaker';
import { decide, recordFeedback, recordPaymentOutcomes, route, type RoutingDeps, routingState } from './service';

// Module scope: one client per container. No SDK retries: the budget is a few tens of milliseconds.
const sageMakerClient = new SageMakerRuntimeClient({ maxAttempts: 1 });
const tracedSageMakerClient = traced(sageMakerClient);

let deps: RoutingDeps | undefined;

function dependencies(): RoutingDeps {
  if (deps) return deps;
  const cfg = config();
  const store = new DynamoRoutingModel(documentClientOf(), cfg.tables.routing, vocabularyOf(cfg.connectors));
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
    queue: outcomeEvents(eventBridgePublisher(eventBridgeClient, () => config().eventBusName)),
    maxAttempts: cfg.maxPaymentAttempts,
    feeWeight: (merchantId) => cfg.routing.feeWeights[merchantId] ?? cfg.routing.feeWeights.default,
    // ROUTING_SEED: exploration from a seeded PRNG, so a replay draws the same choices (each instance from the seed).
    ...(cfg.routing.seed !== undefined ? { random: prng(cfg.routing.seed) } : {}),
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

/**
 * Routing feedback for the circuit breaker, off the payment's synchronous path: `PaymentFinalized` events from
 * the payments outbox, through the RoutingFeedback queue. Each payment's decision is logged and its attempts are
 * folded in once however often the event comes (the outbox delivers at least once; the updater learns the same
 * events through its own queue). A message that fails goes back to the queue alone. The batch's new attempts are
 * folded into the breaker's state in one write.
 */
async function onFinalized(messages: readonly QueuedMessage[]): Promise<unknown> {
  const fresh: OutcomeRecord[] = [];
  const batchDeps: RoutingDeps = { ...dependencies(), health: { recordHealth: async (outcomes) => fresh.push(...outcomes) } };
  const result = await eachQueued(messages, 'PaymentFinalized', async (detail, messageId) => {
    try {
      return (await recordPaymentOutcomes(detail, batchDeps)).recorded;
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
  // The router's state is the platform's (the connectors are every merchant's), read by any merchant's token.
  if (event.resource === '/route/state') return apiRoute(event, async () => ({ status: 200, body: await routingState(dependencies()) }));
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
        network: method.type === 'card' && method.number !== undefined ? cardNetwork(method.number) : undefined,
        // A tokenised card is a Stripe PaymentMethod: only a Stripe account can charge it.
        ...(method.type === 'card' && method.token !== undefined ? { kinds: ['stripe' as const] } : {}),
        country: request.country,
        fraudScore: input.fraud?.score,
      },
      dependencies(),
    );
    const chosen = result.ranked[0]!;
    countBy(METRICS.routingDecision, { connector: chosen.connectorId });
    // Exploring: the first choice is not the best-scored connector (the policy sampled another).
    if (result.ranked.some((c) => c.score > chosen.score)) countBy(METRICS.routingExploration, { connector: chosen.connectorId });
    return { ...result, decision: { time: decision.time, context: decision.context } };
  },
};

export const handler = instrumented('routing', (event) => {
  if (isApiGatewayEvent(event)) return onApi(event);
  const finalized = queuedBatch(event, 'PaymentFinalized');
  return finalized ? onFinalized(finalized) : runStep('routing', steps, event);
});
