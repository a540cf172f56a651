/**
 * Fraud Lambda: POST /fraud from API Gateway; the workflow's ScoreFraud (score) and RecordFraudFeatures
 * (observe) steps from Step Functions. The model folder is loaded at cold start: a missing or corrupt one
 * fails the start with the file named.
 */
import { randomUUID } from 'node:crypto';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { z } from 'zod';
import { documentClientOf } from '../shared/clients';
import { config } from '../shared/config';
import { ENV, METRICS } from '../../contracts/resources';
import { apiRoute, isApiGatewayEvent, parseApiBody } from '../shared/http';
import { instrumented, metrics, tracer } from '../shared/powertools';
import { runStep } from '../shared/steps';
import { FraudLabelRequest, FraudRequest } from '../../contracts/api';
import { thresholdsProblem } from '../../contracts/settings';
import type { PaymentDraft, StepHandlers } from '../../contracts/steps';
import { paymentLookup } from '../payments/lookup';
import type { FeatureTransaction } from './features';
import { CUSTOMER_SNAPSHOT, TERMINAL_SNAPSHOT } from './graph';
import { DEFAULT_MODEL_DIR, loadFraudModel, type FraudModel, type Thresholds } from './model';
import { sageMakerScorer, type EndpointScorer } from './sagemaker';
import { type FraudDeps, type ScoredTransaction, labelPayment, recordCompleted, scoreTransaction } from './service';
import { DynamoFeatureState } from './state';

let deps: FraudDeps | undefined;

// Module scope: one client (and its connections) per container. No SDK retries: the time budget is a few
// tens of milliseconds, and the embedded model is the fallback.
const sageMakerClient = new SageMakerRuntimeClient({ maxAttempts: 1 });
const tracedSageMakerClient = tracer ? tracer.captureAWSv3Client(sageMakerClient) : sageMakerClient;

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

async function timedScore(tx: FeatureTransaction): Promise<ScoredTransaction> {
  const started = performance.now();
  const scored = await scoreTransaction(tx, dependencies());
  metrics.addMetric(METRICS.fraudInferenceMs, 'Milliseconds', performance.now() - started);
  return scored;
}

/** The payment the workflow carries, as a feature transaction (the merchant is the terminal). */
function fromDraft(payment: PaymentDraft): FeatureTransaction {
  const { request } = payment;
  return {
    txId: payment.paymentId,
    time: Date.parse(payment.createdAt),
    customerId: request.customerId,
    terminalId: payment.merchantId,
    amountMinor: request.amount,
    currency: request.currency,
    deviceId: request.deviceId,
    country: request.country,
  };
}

/**
 * The snapshots the score step returned (`fraud.snapshots`), handed back to the observe step so it need not
 * re-read the state; without them, or of another model's size, it recomputes them.
 */
const Snapshots = z.object({
  customer: z.array(z.number()).length(CUSTOMER_SNAPSHOT),
  terminal: z.array(z.number()).length(TERMINAL_SNAPSHOT),
});

async function onApi(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  if (event.resource === '/fraud/labels') {
    return apiRoute(event, async (merchantId) => {
      const { paymentId, fraud } = parseApiBody(event, FraudLabelRequest);
      return { status: 200, body: { label: await labelPayment(merchantId, paymentId, fraud, { state: dependencies().state, payments: paymentLookup() }) } };
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

/** The workflow's steps (statemachines/payment.asl.json: ScoreFraud, RecordFraudFeatures). */
export const steps: StepHandlers<'fraud'> = {
  score: async (input) => {
    const { assessment, snapshots } = await timedScore(fromDraft(input.payment));
    return { ...assessment, snapshots };
  },
  observe: async (input) => {
    const tx = fromDraft(input.payment);
    const snapshots = Snapshots.safeParse(input.fraud?.snapshots);
    await recordCompleted(tx, dependencies(), snapshots.success ? snapshots.data : undefined);
    return { recorded: tx.txId };
  },
};

export const handler = instrumented<unknown>('fraud', (event) => (isApiGatewayEvent(event) ? onApi(event) : runStep('fraud', steps, event)));
