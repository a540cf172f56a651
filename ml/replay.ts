/**
 * The offline side of the features: replays transactions in time order with in-memory state, through the
 * same functions the fraud Lambda uses online (lambdas/fraud/features.ts). For each transaction it yields
 * the vector computed from the state before it, then folds it in.
 *
 * Labels are folded in right after their transaction. That is the same as folding them in D days later,
 * because featureVector reads no label of a transaction younger than t − D (the no-leakage rule, tested).
 */
import {
  DEFAULT_FEATURE_OPTIONS,
  featureVector,
  observe,
  observeLabel,
  type CustomerState,
  type FeatureOptions,
  type TerminalState,
} from '../lambdas/fraud/features.js';
import type { LabelledTransaction } from './dataset.js';

export interface ReplayedRow {
  readonly tx: LabelledTransaction;
  readonly vector: Float64Array;
}

export function* replay(
  transactions: Iterable<LabelledTransaction>,
  options: FeatureOptions = DEFAULT_FEATURE_OPTIONS,
): Generator<ReplayedRow> {
  const customers = new Map<string, CustomerState>();
  const terminals = new Map<string, TerminalState>();
  let last = -Infinity;
  for (const tx of transactions) {
    if (tx.time < last) throw new Error(`replay needs transactions in time order (${tx.txId} is earlier than the one before)`);
    last = tx.time;
    const vector = featureVector(tx, customers.get(tx.customerId), terminals.get(tx.terminalId), options);
    yield { tx, vector };
    let next: { customer?: CustomerState; terminal?: TerminalState } = observe(
      tx,
      customers.get(tx.customerId),
      terminals.get(tx.terminalId),
      options,
    );
    if (tx.label !== undefined) next = observeLabel(tx, tx.label === 1, next.customer, next.terminal);
    customers.set(tx.customerId, next.customer!);
    terminals.set(tx.terminalId, next.terminal!);
  }
}
