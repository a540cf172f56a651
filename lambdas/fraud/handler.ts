/**
 * Fraud Lambda: POST /fraud, POST /fraud/labels and GET /fraud/labels from API Gateway; the payment workflow's ScoreFraud step
 * (beside Begin); and the fraud features' consumer of PaymentSucceeded (the FraudFeatures queue, off the
 * payment's synchronous path), which folds each succeeded payment into the feature state. The model folder is
 * loaded at cold start: a missing or corrupt one fails the start with the file named.
 */
import { randomUUID } from 'node:crypto';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { documentClientOf, traced } from '../shared/clients';
import { config } from '../shared/config';
import { ENV, METRICS } from '../../contracts/resources';
import { apiRoute, isApiGatewayEvent, parseApiBody, parseEnvelopeBody, parseQuery } from '../shared/http';
import { instrumented, metrics } from '../shared/powertools';
import { eachQueued, queuedBatch, type QueuedMessage } from '../shared/queued';
import { runStep } from '../shared/steps';
import { FraudLabelRequest, FraudLabelsQuery, FraudRequest, MERCHANT_CLAIM, PaymentRequest } from '../../contracts/api';
import { ForbiddenError } from '../../contracts/errors';
import type { PaymentSucceededDetail } from '../../contracts/events';
import { thresholdsProblem } from '../../contracts/settings';
import type { PayEnvelope, StepHandlers } from '../../contracts/steps';
import { paymentLookup } from '../payments/lookup';
import type { FeatureTransaction } from './features';
import { CUSTOMER_SNAPSHOT, TERMINAL_SNAPSHOT } from './graph';
import { DEFAULT_MODEL_DIR, loadFraudModel, type FraudModel, type Thresholds } from './model';
import { sageMakerScorer, type EndpointScorer } from './sagemaker';
import { type FraudDeps, type ScoredTransaction, labelPayment, recordCompleted, scoreTransaction } from './service';
import { DynamoLabelStore, type LabelStore } from './labels';
import { DynamoFeatureState } from './state';

let labels: LabelStore | undefined;
const labelStore = (): LabelStore => (labels ??= new DynamoLabelStore(documentClientOf(), config().tables.fraudState));

let deps: FraudDeps | undefined;

// Module scope: one client (and its connections) per container. No SDK retries: the time budget is a few
// tens of milliseconds, and the embedded model is the fallback.
const sageMakerClient = new SageMakerRuntimeClient({ maxAttempts: 1 });
const tracedSageMakerClient = traced(sageMakerClient);

function endpointScorer(): EndpointScorer | undefined {
  const { endpointName, endpointTimeoutMs } = config().fraud;
  return endpointName ? sageMakerScorer(tracedSageMakerClient, endpointName, { timeoutMs: endpointTimeoutMs }) : undefined;
}

function dependencies(): FraudDeps {
  if (deps) return deps;
  const cfg = config();
  const model: FraudModel = loadFraudModel(cfg.fraud.modelDir ?? DEFAULT_MODEL_DIR);
  const thresholds: Thresholds = {
    reviewThreshold: cfg.fraud.reviewThreshold ?? model.thresholds.reviewThreshold,
    declineThreshold: cfg.fraud.declineThreshold ?? model.thresholds.declineThreshold,
  };
  // One threshold may come from the stage and the other from the model: the pair must still hold.
  const problem = thresholdsProblem(thresholds.reviewThreshold, thresholds.declineThreshold);
  if (problem) throw new Error(`fraud thresholds: ${problem} (set ${ENV.fraudReviewThreshold} and ${ENV.fraudDeclineThreshold} together)`);
  deps = {
    model,
    thresholds,
    state: new DynamoFeatureState(documentClientOf(), cfg.tables.fraudState, { feedbackDelayDays: model.feedbackDelayDays }),
    endpoint: endpointScorer(),
  };
  return deps;
}

/**
 * The cold start's work: the model's load (a missing or mismatched folder fails here, naming the file) and the
 * configuration's checks. The local platform runs it at start; Lambda runs it at the first call.
 */
export function init(): void {
  dependencies();
}

async function timedScore(tx: FeatureTransaction): Promise<ScoredTransaction> {
  const started = performance.now();
  const scored = await scoreTransaction(tx, dependencies());
  metrics.addMetric(METRICS.fraudInferenceMs, 'Milliseconds', performance.now() - started);
  return scored;
}

/**
 * The payment a /pay request asks for, as a feature transaction to score now (the merchant is the terminal).
 * Begin, beside it, validates the same envelope and answers a bad one with its 4xx: this only refuses to score it.
 */
function requested(envelope: PayEnvelope, txId: string): FeatureTransaction {
  if (envelope.merchantId === '') throw new ForbiddenError(`the token carries no ${MERCHANT_CLAIM} claim`);
  const request = parseEnvelopeBody(envelope, PaymentRequest);
  return {
    txId,
    time: Date.now(),
    customerId: request.customerId,
    terminalId: envelope.merchantId,
    amountMinor: request.amount,
    currency: request.currency,
    deviceId: request.deviceId,
    country: request.country,
  };
}

/** A succeeded payment, as the feature transaction it was scored as (its id and the time its key was claimed). */
function succeeded(detail: PaymentSucceededDetail): FeatureTransaction {
  return {
    txId: detail.paymentId,
    time: Date.parse(detail.createdAt ?? detail.occurredAt),
    customerId: detail.customerId,
    terminalId: detail.merchantId,
    amountMinor: detail.amount,
    currency: detail.currency,
    deviceId: detail.deviceId,
    country: detail.country,
  };
}

/** The snapshots an event carries, when they are this model's size (otherwise the state is read again). */
function snapshotsOf(detail: PaymentSucceededDetail) {
  const snapshots = detail.fraudSnapshots;
  return snapshots && snapshots.customer.length === CUSTOMER_SNAPSHOT && snapshots.terminal.length === TERMINAL_SNAPSHOT ? snapshots : undefined;
}

/**
 * The fraud features' consumer: each succeeded payment is folded into the state once, however often its event
 * comes (the state's writes are keyed by the payment id; see DynamoFeatureState.observe).
 */
function onSucceeded(messages: readonly QueuedMessage[]): Promise<unknown> {
  return eachQueued(messages, 'PaymentSucceeded', async (detail) => {
    await recordCompleted(succeeded(detail), dependencies(), snapshotsOf(detail));
    return 1;
  });
}

async function onApi(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  if (event.resource === '/fraud/labels') {
    return apiRoute(event, async (merchantId) => {
      if (event.httpMethod === 'GET') {
        const { paymentIds } = parseQuery(event, FraudLabelsQuery);
        return { status: 200, body: { labels: await labelStore().get(merchantId, paymentIds) } };
      }
      const { paymentId, fraud } = parseApiBody(event, FraudLabelRequest);
      return { status: 200, body: { label: await labelPayment(merchantId, paymentId, fraud, { state: dependencies().state, payments: paymentLookup(), labels: labelStore(), now: () => new Date() }) } };
    });
  }
  return apiRoute(event, async (merchantId) => {
    const request = parseApiBody(event, FraudRequest);
    // Scores a would-be payment now, without recording it.
    const { assessment } = await timedScore({
      txId: event.requestContext.requestId || randomUUID(),
      time: Date.now(),
      customerId: request.customerId,
      terminalId: merchantId,
      amountMinor: request.amount,
      currency: request.currency,
      deviceId: request.deviceId,
      country: request.country,
    });
    return { status: 200, body: { ...assessment, thresholds: dependencies().thresholds } };
  });
}

/** The workflow's step (statemachines/payment.asl.json: ScoreFraud, beside Begin). */
export const steps: StepHandlers<'fraud'> = {
  score: async (input) => {
    const { assessment, snapshots } = await timedScore(requested(input.envelope, input.envelope.requestId || input.executionId));
    return { ...assessment, snapshots };
  },
};

export const handler = instrumented<unknown>('fraud', (event) => {
  if (isApiGatewayEvent(event)) return onApi(event);
  const features = queuedBatch(event, 'PaymentSucceeded');
  return features ? onSucceeded(features) : runStep('fraud', steps, event);
});
