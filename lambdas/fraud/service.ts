/**
 * Fraud scoring over narrow ports: the feature state (store) and the model. `assess` reads the state before
 * the payment, computes the same vector the training pipeline computed offline, scores it and decides with
 * the stage's thresholds. `recordCompleted` folds a completed payment into the state.
 */
import { featureVector, type FeatureTransaction } from './features.js';
import type { FraudModel, FraudReason, Thresholds } from './model.js';
import type { FeatureStatePort } from './state.js';

export type FraudDecision = 'approve' | 'review' | 'decline';

export interface FraudAssessment {
  readonly score: number;
  readonly decision: FraudDecision;
  /** The features that pushed the score up most, with their contributions. */
  readonly reasons: FraudReason[];
  readonly modelVersion: string;
}

export interface FraudDeps {
  readonly model: FraudModel;
  readonly state: FeatureStatePort;
  readonly thresholds: Thresholds;
}

export function decide(score: number, thresholds: Thresholds): FraudDecision {
  if (score >= thresholds.declineThreshold) return 'decline';
  if (score >= thresholds.reviewThreshold) return 'review';
  return 'approve';
}

export async function assess(tx: FeatureTransaction, deps: FraudDeps): Promise<FraudAssessment> {
  const { customer, terminal } = await deps.state.load(tx.customerId, tx.terminalId, tx.time);
  const { score, reasons } = deps.model.score(featureVector(tx, customer, terminal, { feedbackDelayDays: deps.model.feedbackDelayDays }));
  return { score, decision: decide(score, deps.thresholds), reasons, modelVersion: deps.model.version };
}

export async function recordCompleted(tx: FeatureTransaction, deps: Pick<FraudDeps, 'state'>): Promise<void> {
  await deps.state.observe(tx);
}
