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

/** A transaction with the (immutable) states before it. */
export interface ReplayedState {
  readonly tx: LabelledTransaction;
  readonly customer?: CustomerState;
  readonly terminal?: TerminalState;
}

/** Replays in time order, yielding each transaction with the customer and terminal state before it. */
export function* replayStates(
  transactions: Iterable<LabelledTransaction>,
  options: FeatureOptions = DEFAULT_FEATURE_OPTIONS,
): Generator<ReplayedState> {
  const customers = new Map<string, CustomerState>();
  const terminals = new Map<string, TerminalState>();
  let last = -Infinity;
  for (const tx of transactions) {
    if (tx.time < last) throw new Error(`replay needs transactions in time order (${tx.txId} is earlier than the one before)`);
    last = tx.time;
    const customer = customers.get(tx.customerId);
    const terminal = terminals.get(tx.terminalId);
    yield { tx, customer, terminal };
    let next: { customer?: CustomerState; terminal?: TerminalState } = observe(tx, customer, terminal, options);
    if (tx.label !== undefined) next = observeLabel(tx, tx.label === 1, next.customer, next.terminal);
    customers.set(tx.customerId, next.customer!);
    terminals.set(tx.terminalId, next.terminal!);
  }
}

/** Replays in time order, yielding each transaction with the feature vector computed from the state before it. */
export function* replay(
  transactions: Iterable<LabelledTransaction>,
  options: FeatureOptions = DEFAULT_FEATURE_OPTIONS,
): Generator<ReplayedRow> {
  for (const { tx, customer, terminal } of replayStates(transactions, options)) {
    yield { tx, vector: featureVector(tx, customer, terminal, options) };
  }
}
