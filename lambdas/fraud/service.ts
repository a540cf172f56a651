/**
 * Fraud scoring over narrow ports: the feature state (store) and the model. `assess` reads the state before
 * the payment, computes the same vector the training pipeline computed offline, scores it (on the SageMaker
 * endpoint when one is configured, falling back to the embedded model) and decides with the stage's
 * thresholds. The score is the ensemble of XGBoost on the features and GraphSAGE on the graph inputs (the
 * customer's, the terminal's and the device's recent neighbours). `recordCompleted` folds a completed payment
 * into the state with the graph snapshots it leaves behind.
 */
import type { FraudAssessment as ContractAssessment, FraudDecision } from '../../contracts/api';
import { NotFoundError, PaymentNotCompletedError } from '../../contracts/errors';
import { featureVector, type EdgeSnapshots, type FeatureTransaction } from './features';
import { transactionGraph, type GraphInputs } from './graph';
import type { FraudModel, Thresholds } from './model';
import { scoreWithFallback, type EndpointScorer, type FallbackReporter, type ScoredBy } from './sagemaker';
import type { FeatureStatePort } from './state';
import type { LabelStore } from './labels';

export type { FraudDecision };

/** An assessment (contracts/api.ts), always saying which model scored. */
export type FraudAssessment = ContractAssessment & { readonly scoredBy: ScoredBy };

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

/** An assessment with the graph snapshots the payment leaves on its edges if it completes. */
export interface ScoredTransaction {
  readonly assessment: FraudAssessment;
  /** The customer's and the terminal's snapshots before the payment: what `recordCompleted` stores. */
  readonly snapshots: EdgeSnapshots;
}

/** Scores `tx` from the state before it; the snapshots it returns let `recordCompleted` skip re-reading that state. */
export async function scoreTransaction(tx: FeatureTransaction, deps: FraudDeps): Promise<ScoredTransaction> {
  const { vector, graph } = await modelInputs(tx, deps);
  const { score, reasons, scoredBy } = await scoreWithFallback(vector, (p) => deps.model.score(vector, graph, p), deps.endpoint, deps.fallbackReporter);
  return {
    assessment: { score, decision: decide(score, deps.thresholds), reasons, modelVersion: deps.model.version, scoredBy },
    snapshots: { customer: graph.customer, terminal: graph.terminal },
  };
}

export async function assess(tx: FeatureTransaction, deps: FraudDeps): Promise<FraudAssessment> {
  return (await scoreTransaction(tx, deps)).assessment;
}

/**
 * Folds a completed payment into the state with the graph snapshots it leaves on its edges (the terminal's and
 * the device's edges keep the customer's snapshot, the customer's the terminal's): the ones its scoring
 * computed (`scoreTransaction`), or, without them, recomputed from the state before it as the offline replay
 * does (ml/replay.ts). Passing them saves the state's 4 or 5 reads. Either way the stored graph is the
 * replay's when payments come one at a time (tested); with concurrent payments at one terminal, the scoring
 * time's snapshot misses the ones that complete between scoring and recording (milliseconds), where a
 * re-read would instead include ones that started after this payment: neither is the replay's exact order.
 */
export async function recordCompleted(
  tx: FeatureTransaction,
  deps: Pick<FraudDeps, 'state'> & { readonly model: Pick<FraudModel, 'feedbackDelayDays'> },
  snapshots?: EdgeSnapshots,
): Promise<void> {
  await deps.state.observe(tx, snapshots ?? (await modelInputs(tx, deps)).graph);
}

/** The narrow view of the payments store a label needs: the caller's own payment. */
export interface LabelledPaymentLookup {
  get(merchantId: string, paymentId: string): Promise<{ status: string; createdAt: string; customerId: string } | undefined>;
}

/**
 * Records a label (a chargeback or confirmed fraud: true; confirmed good: false) for one of the merchant's
 * succeeded payments, or a reviewer's verdict on one held for review. The features read it only once the payment is older than the feedback delay, as the
 * training pipeline does. A repeated label counts once.
 */
export async function labelPayment(
  merchantId: string,
  paymentId: string,
  fraud: boolean,
  deps: Pick<FraudDeps, 'state'> & { readonly payments: LabelledPaymentLookup; readonly labels: LabelStore; readonly now: () => Date },
): Promise<{ paymentId: string; fraud: boolean }> {
  const payment = await deps.payments.get(merchantId, paymentId);
  if (!payment) throw new NotFoundError(`payment ${paymentId} was not found`);
  // A succeeded payment (a chargeback, a confirmed fraud or good), or one held for review (the reviewer's verdict).
  if (payment.status !== 'succeeded' && payment.status !== 'review') {
    throw new PaymentNotCompletedError(`payment ${paymentId} is ${payment.status}; only succeeded payments and payments held for review can be labelled`);
  }
  await deps.state.observeLabel(
    { txId: paymentId, time: Date.parse(payment.createdAt), customerId: payment.customerId, terminalId: merchantId },
    fraud,
  );
  await deps.labels.record(merchantId, { paymentId, fraud, labelledAt: deps.now().toISOString() });
  return { paymentId, fraud };
}
