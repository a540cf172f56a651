/**
 * The offline side of the features: replays transactions in time order with in-memory state, through the
 * same functions the fraud Lambda uses online (lambdas/fraud/features.ts and graph.ts). For each transaction
 * it yields the feature vector and the graph inputs computed from the state before it, then folds it in
 * (with the graph snapshots it leaves on the new edge).
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
} from '../lambdas/fraud/features';
import { observeDevice, transactionGraph, type DeviceState, type GraphInputs } from '../lambdas/fraud/graph';
import type { LabelledTransaction } from './dataset';

export interface ReplayedRow {
  readonly tx: LabelledTransaction;
  readonly vector: Float64Array;
  readonly graph: GraphInputs;
}

/** A transaction with the (immutable) states before it, and what the model reads from them. */
export interface ReplayedState extends ReplayedRow {
  readonly customer?: CustomerState;
  readonly terminal?: TerminalState;
  /** The device's state (only when the transaction has a device). */
  readonly device?: DeviceState;
}

/** Replays in time order, yielding each transaction with the customer and terminal state before it. */
export function* replayStates(
  transactions: Iterable<LabelledTransaction>,
  options: FeatureOptions = DEFAULT_FEATURE_OPTIONS,
): Generator<ReplayedState> {
  const customers = new Map<string, CustomerState>();
  const terminals = new Map<string, TerminalState>();
  const devices = new Map<string, DeviceState>();
  let last = -Infinity;
  for (const tx of transactions) {
    if (tx.time < last) throw new Error(`replay needs transactions in time order (${tx.txId} is earlier than the one before)`);
    last = tx.time;
    const customer = customers.get(tx.customerId);
    const terminal = terminals.get(tx.terminalId);
    const vector = featureVector(tx, customer, terminal, options);
    const device = tx.deviceId === undefined ? undefined : devices.get(tx.deviceId);
    const graph = transactionGraph(tx, vector, customer, terminal, device);
    yield { tx, customer, terminal, device, vector, graph };
    let next: { customer?: CustomerState; terminal?: TerminalState } = observe(tx, customer, terminal, options, graph);
    if (tx.label !== undefined) next = observeLabel(tx, tx.label === 1, next.customer, next.terminal);
    customers.set(tx.customerId, next.customer!);
    terminals.set(tx.terminalId, next.terminal!);
    if (tx.deviceId !== undefined) devices.set(tx.deviceId, observeDevice(device, tx, graph.customer));
  }
}

/** Replays in time order, yielding each transaction with its feature vector and graph inputs. */
export function* replay(
  transactions: Iterable<LabelledTransaction>,
  options: FeatureOptions = DEFAULT_FEATURE_OPTIONS,
): Generator<ReplayedRow> {
  for (const { tx, vector, graph } of replayStates(transactions, options)) yield { tx, vector, graph };
}
