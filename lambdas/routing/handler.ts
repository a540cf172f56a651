/**
 * Routing Lambda:
 * - POST /route and POST /route/feedback from API Gateway;
 * - the workflow's Route (rank) and RoutingFeedback (feedback) steps;
 * - the model updater: `RoutingOutcomesRecorded` events, from an SQS queue in the cloud (a function of its own
 *   with one concurrent execution: the single writer) or straight from the bus locally.
 */
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { z } from 'zod';
import { documentClientOf, eventBridgeClient } from '../shared/clients';
import { config } from '../shared/config';
import { METRICS, ROUTING_EVENTS } from '../../contracts/resources';
import { apiRoute, isApiGatewayEvent, parseApiBody, parseWith } from '../shared/http';
import { instrumented, logger, metrics, tracer } from '../shared/powertools';
import { cardNetwork } from '../../contracts/regions';
import { PaymentRequest, RouteFeedbackRequest, RouteRequest } from '../../contracts/api';
import { CachedModel, DynamoRoutingModel, type OutcomeRecord } from './model-store';
import { sageMakerRoutingEndpoint } from './sagemaker';
import { recordFeedback, route, type OutcomeQueue, type RoutingDeps } from './service';

// Module scope: one client per container. No SDK retries: the budget is a few tens of milliseconds.
const sageMakerClient = new SageMakerRuntimeClient({ maxAttempts: 1 });
const tracedSageMakerClient = tracer ? tracer.captureAWSv3Client(sageMakerClient) : sageMakerClient;

/** Up to 10 entries a PutEvents call, each well under the 256 KB limit. */
const eventQueue: OutcomeQueue = {
  async enqueue(outcomes) {
    const entries = [];
    for (let i = 0; i < outcomes.length; i += 10) {
      entries.push({
        Source: ROUTING_EVENTS.source,
        DetailType: ROUTING_EVENTS.outcomesRecorded,
        EventBusName: config().eventBusName,
        Detail: JSON.stringify({ outcomes: outcomes.slice(i, i + 10) }),
      });
    }
    for (let i = 0; i < entries.length; i += 10) {
      const result = await eventBridgeClient().send(new PutEventsCommand({ Entries: entries.slice(i, i + 10) }));
      if (result.FailedEntryCount) throw new Error(`routing: ${result.FailedEntryCount} outcome event(s) were not accepted by the bus`);
    }
  },
};

let store: DynamoRoutingModel | undefined;
let deps: RoutingDeps | undefined;

function dependencies(): RoutingDeps {
  if (deps) return deps;
  const cfg = config();
  store = new DynamoRoutingModel(documentClientOf(), cfg.tables.routing);
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
    queue: eventQueue,
    maxAttempts: cfg.maxPaymentAttempts,
    feeWeight: (merchantId) => cfg.routing.feeWeights[merchantId] ?? cfg.routing.feeWeights.default,
    endpoint: cfg.routing.endpointName
      ? sageMakerRoutingEndpoint(tracedSageMakerClient, cfg.routing.endpointName, { timeoutMs: cfg.routing.endpointTimeoutMs })
      : undefined,
  };
  return deps;
}

/** The payment's attempts as the workflow records them. */
const WorkflowAttempt = z
  .object({
    connectorId: z.string(),
    outcome: z.enum(['succeeded', 'declined', 'retryable_failure']),
    code: z.string().optional(),
    latencyMs: z.number(),
    feeMinor: z.number().optional(),
  })
  .loose();

const Step = z.discriminatedUnion('step', [
  z.object({
    step: z.literal('rank'),
    payment: z.object({ merchantId: z.string().min(1), request: PaymentRequest }).loose(),
    fraud: z.object({ score: z.number() }).loose().optional(),
  }),
  z.object({
    step: z.literal('feedback'),
    merchantId: z.string().min(1),
    decisionId: z.string().min(1),
    attempts: z.array(WorkflowAttempt),
  }),
]);

const Outcome = z.object({
  decisionId: z.string(),
  attempt: z.number().int().min(0),
  connectorId: z.string(),
  outcome: z.enum(['succeeded', 'declined', 'error', 'timeout']),
  latencyMs: z.number(),
  feeMinor: z.number().optional(),
  time: z.number(),
});
const OutcomesEvent = z.object({ 'detail-type': z.literal(ROUTING_EVENTS.outcomesRecorded), detail: z.object({ outcomes: z.array(Outcome) }) }).loose();
const SqsEvent = z.object({ Records: z.array(z.object({ messageId: z.string(), body: z.string() }).loose()).min(1) }).loose();

async function onApi(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  if (event.resource === '/route/feedback') {
    return apiRoute(event, async (merchantId) => {
      const { decisionId, attempts } = parseApiBody(event, RouteFeedbackRequest);
      return { status: 200, body: { feedback: await recordFeedback(merchantId, decisionId, attempts, dependencies()) } };
    });
  }
  return apiRoute(event, async (merchantId) => ({ status: 200, body: await route(merchantId, parseApiBody(event, RouteRequest), dependencies()) }));
}

async function onStep(event: unknown): Promise<unknown> {
  const input = parseWith(Step, event, 'routing step payload');
  if (input.step === 'rank') {
    const { request, merchantId } = input.payment;
    return route(
      merchantId,
      {
        amount: request.amount,
        currency: request.currency,
        method: request.paymentMethod.type,
        network: request.paymentMethod.type === 'card' ? cardNetwork(request.paymentMethod.number) : undefined,
        country: request.country,
        fraudScore: input.fraud?.score,
      },
      dependencies(),
    );
  }
  if (input.attempts.length === 0) return { recorded: 0 };
  const attempts = input.attempts.map((a) => ({
    connectorId: a.connectorId,
    outcome: a.outcome === 'retryable_failure' ? (a.code === 'gateway_timeout' ? ('timeout' as const) : ('error' as const)) : a.outcome,
    latencyMs: a.latencyMs,
    feeMinor: a.feeMinor,
  }));
  return recordFeedback(input.merchantId, input.decisionId, attempts, dependencies());
}

/**
 * The updater: folds outcome events into the model (one batch, one version). A message that is not an outcome
 * event is reported as a failure of its own (SQS's partial batch response): it goes back to the queue, and
 * after its last receive to the dead-letter queue, while the rest of its batch is applied.
 */
async function onOutcomes({ outcomes, malformed }: OutcomeBatch): Promise<unknown> {
  dependencies();
  const batchItemFailures = malformed.map((itemIdentifier) => ({ itemIdentifier }));
  if (outcomes.length === 0) return { applied: 0, batchItemFailures };
  const result = await store!.applyOutcomes(outcomes);
  if (result.healthError !== undefined) {
    metrics.addMetric(METRICS.routingHealthNotPublished, 'Count', 1);
    logger.warn('routing health was not published; routers catch up at their next model reload', { version: result.version, error: result.healthError });
  }
  return { ...result, batchItemFailures };
}

interface OutcomeBatch {
  readonly outcomes: OutcomeRecord[];
  /** Message ids of the SQS records that are not outcome events. */
  readonly malformed: string[];
}

function outcomesOf(event: unknown): OutcomeBatch | undefined {
  const direct = OutcomesEvent.safeParse(event);
  if (direct.success) return { outcomes: direct.data.detail.outcomes, malformed: [] };
  const sqs = SqsEvent.safeParse(event);
  if (!sqs.success) return undefined;
  const batch: OutcomeBatch = { outcomes: [], malformed: [] };
  for (const record of sqs.data.Records) {
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
  const batch = outcomesOf(event);
  return batch ? onOutcomes(batch) : onStep(event);
});
