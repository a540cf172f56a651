/**
 * Fraud scoring over narrow ports: the feature state (store) and the model. `assess` reads the state before
 * the payment, computes the same vector the training pipeline computed offline, scores it (on the SageMaker
 * endpoint when one is configured, falling back to the embedded model) and decides with the stage's
 * thresholds. The score is the ensemble of XGBoost on the features and GraphSAGE on the graph inputs (the
 * customer's, the terminal's and the device's recent neighbours). `recordCompleted` folds a completed payment
 * into the state with the graph snapshots it leaves behind.
 */
import { NotFoundError, PaymentNotCompletedError } from '../shared/errors.js';
import { featureVector, type FeatureTransaction } from './features.js';
import { transactionGraph, type GraphInputs } from './graph.js';
import type { FraudModel, FraudReason, Thresholds } from './model.js';
import { scoreWithFallback, type EndpointScorer, type FallbackReporter, type ScoredBy } from './sagemaker.js';
import type { FeatureStatePort } from './state.js';

export type FraudDecision = 'approve' | 'review' | 'decline';

export interface FraudAssessment {
  readonly score: number;
  readonly decision: FraudDecision;
  /** The features that pushed the score up most, with their contributions. */
  readonly reasons: FraudReason[];
  readonly modelVersion: string;
  /** Which model produced the score: the SageMaker endpoint, or the embedded one (none configured, or a fallback). */
  readonly scoredBy: ScoredBy;
}

export interface FraudDeps {
  readonly model: FraudModel;
  readonly state: FeatureStatePort;
  readonly thresholds: Thresholds;
  /** The SageMaker endpoint scorer (`FRAUD_ENDPOINT_NAME`); the embedded model is the fallback. */
  readonly endpoint?: EndpointScorer;
  /** Where an endpoint fallback is reported (default: the FraudEndpointFallback metric and a warning). */
  readonly fallbackReporter?: FallbackReporter;
}

export function decide(score: number, thresholds: Thresholds): FraudDecision {
  if (score >= thresholds.declineThreshold) return 'decline';
  if (score >= thresholds.reviewThreshold) return 'review';
  return 'approve';
}

/** What the models read for `tx`, from the stored state before it: the same code the replay runs. */
async function modelInputs(
  tx: FeatureTransaction,
  deps: Pick<FraudDeps, 'state'> & { readonly model: Pick<FraudModel, 'feedbackDelayDays'> },
): Promise<{ vector: Float64Array; graph: GraphInputs }> {
  const { customer, terminal, device } = await deps.state.load(tx.customerId, tx.terminalId, tx.time, tx.deviceId);
  const vector = featureVector(tx, customer, terminal, { feedbackDelayDays: deps.model.feedbackDelayDays });
  return { vector, graph: transactionGraph(tx, vector, customer, terminal, device) };
}

export async function assess(tx: FeatureTransaction, deps: FraudDeps): Promise<FraudAssessment> {
  const { vector, graph } = await modelInputs(tx, deps);
  const { score, reasons, scoredBy } = await scoreWithFallback(vector, (p) => deps.model.score(vector, graph, p), deps.endpoint, deps.fallbackReporter);
  return { score, decision: decide(score, deps.thresholds), reasons, modelVersion: deps.model.version, scoredBy };
}

/**
 * Folds a completed payment into the state with the graph snapshots it leaves on its edges, computed from the
 * state before it exactly as the offline replay does (ml/replay.ts), so the stored graph matches training
 * (the terminal's and the device's edges keep the customer's snapshot, the customer's the terminal's).
 */
export async function recordCompleted(
  tx: FeatureTransaction,
  deps: Pick<FraudDeps, 'state'> & { readonly model: Pick<FraudModel, 'feedbackDelayDays'> },
): Promise<void> {
  const { graph } = await modelInputs(tx, deps);
  await deps.state.observe(tx, { customer: graph.customer, terminal: graph.terminal });
}

/** The narrow view of the payments store a label needs: the caller's own payment. */
export interface LabelledPaymentLookup {
  get(merchantId: string, paymentId: string): Promise<{ status: string; createdAt: string; customerId: string } | undefined>;
}

/**
 * Records a label (a chargeback or confirmed fraud: true; confirmed good: false) for one of the merchant's
 * completed payments. The features read it only once the payment is older than the feedback delay, as the
 * training pipeline does. A repeated label counts once.
 */
export async function labelPayment(
  merchantId: string,
  paymentId: string,
  fraud: boolean,
  deps: Pick<FraudDeps, 'state'> & { readonly payments: LabelledPaymentLookup },
): Promise<{ paymentId: string; fraud: boolean }> {
  const payment = await deps.payments.get(merchantId, paymentId);
  if (!payment) throw new NotFoundError(`payment ${paymentId} was not found`);
  if (payment.status !== 'succeeded') {
    throw new PaymentNotCompletedError(`payment ${paymentId} is ${payment.status}; only succeeded payments can be labelled`);
  }
  await deps.state.observeLabel(
    { txId: paymentId, time: Date.parse(payment.createdAt), customerId: payment.customerId, terminalId: merchantId },
    fraud,
  );
  return { paymentId, fraud };
}
