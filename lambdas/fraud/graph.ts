/**
 * The graph side of the fraud model: a temporal, inductive GraphSAGE on the customer–terminal graph, with
 * devices where present. ONE definition of its inputs, used online (state from the store) and offline (the
 * replay), like features.ts.
 *
 * Every past transaction is an edge. When a transaction is folded into the state, each endpoint keeps the
 * *snapshot* of the other endpoint as it was just before that transaction: the customer's transaction record
 * keeps the terminal's snapshot, and the terminal's recent-edge list (and the device's, when the transaction
 * has one) keeps the customer's. A snapshot z(v) is [x(v) ‖ s(v)]:
 * - x(v), the node's own block, derived from the transaction's feature vector (customer windows, known frauds,
 *   first sighting; or terminal counts, label-based risk windows, recent volume);
 * - s(v), the mean message over v's K most recent edges of the last 30 days: the counterpart's x at that edge,
 *   the edge's log amount and its age in hours, plus log(1 + number of such edges).
 * A device has no feature block: its snapshot is [1 ‖ s(d)], where s(d) also counts the distinct customers
 * among its edges (one device, many cards). Devices are leaves: nothing stores a device's snapshot.
 *
 * The model (`GraphSageModel`, weights trained by ml/train_gnn.py):
 * - layer 1: h1(v) = ReLU(W1[type(v)]·z(v) + b);
 * - layer 2: h2(v) = ReLU(W2[type(v)]·[h1(v) ‖ mean over v's K most recent edges e of h1(z_e)] + b), where
 *   z_e is the neighbour's snapshot stored on the edge (zeros when v has no edges);
 * - head: logit = w·ReLU(W3·[h2(customer) ‖ h2(terminal) ‖ h2(device) ‖ f] + b3) + b, with f the
 *   transaction's standardised features and h2(device) = 0 when the transaction has no device.
 * Two hops (v's neighbours, whose snapshots summarise *their* neighbours), and inductive: a node never seen
 * has x and s from its (empty) state and no edges, and still gets an embedding.
 *
 * No leakage: a snapshot is computed from the state before its transaction, an edge enters the state only
 * after its transaction, and x carries labels only through the feature vector's delayed windows.
 */
import { FEATURE_NAMES, GRAPH_EDGES, type FeatureTransaction } from './features';
import { usdValue } from './usd';
import { sigmoid } from '../shared/logistic';

/** Neighbours per node: the K most recent edges. */
export const GRAPH_K = GRAPH_EDGES;
/** Edges older than this are not neighbours. */
export const GRAPH_WINDOW_DAYS = 30;

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/** An edge as a node's state keeps it: when, how much, and the counterpart's snapshot at that time. */
export interface GraphEdge {
  /** Epoch milliseconds. */
  readonly t: number;
  /** US dollars at the reference rate (usd.ts). */
  readonly amount: number;
  /** The counterpart's snapshot just before this transaction (absent on records written before the graph). */
  readonly z?: readonly number[];
}

const index = (name: (typeof FEATURE_NAMES)[number]) => FEATURE_NAMES.indexOf(name);
const F = {
  custCount: [index('cust_count_1d'), index('cust_count_7d'), index('cust_count_30d')],
  custMean30: index('cust_amount_mean_30d'),
  custKnownFraud: index('cust_known_fraud_30d'),
  firstSeenCustomer: index('first_seen_customer'),
  termCount: [index('term_count_1d'), index('term_count_7d'), index('term_count_30d')],
  termRisk: [index('term_risk_1d'), index('term_risk_7d'), index('term_risk_30d')],
  termRecent: index('term_count_recent_1d'),
  firstSeenTerminal: index('first_seen_terminal'),
};

/** The names of x(customer), x(terminal), and the message's edge part. */
export const CUSTOMER_BLOCK = [
  'log_cust_count_1d', 'log_cust_count_7d', 'log_cust_count_30d', 'log_cust_amount_mean_30d', 'cust_amount_mean_missing',
  'cust_known_fraud', 'first_seen_customer',
] as const;
export const TERMINAL_BLOCK = [
  'log_term_count_1d', 'log_term_count_7d', 'log_term_count_30d', 'term_risk_1d', 'term_risk_7d', 'term_risk_30d',
  'term_risk_missing', 'log_term_count_recent_1d', 'first_seen_terminal',
] as const;
const EDGE_PART = 2; // log amount, log age in hours
/** Snapshot sizes: x(v) plus the mean message (counterpart block + edge part) plus the degree. */
export const CUSTOMER_SNAPSHOT = CUSTOMER_BLOCK.length + TERMINAL_BLOCK.length + EDGE_PART + 1;
export const TERMINAL_SNAPSHOT = TERMINAL_BLOCK.length + CUSTOMER_BLOCK.length + EDGE_PART + 1;

/** A device's snapshot: presence, the mean message over its customers, the degree and the distinct customers. */
export const DEVICE_SNAPSHOT = 1 + CUSTOMER_BLOCK.length + EDGE_PART + 2;

/** A recent transaction from a device: the customer and the customer's snapshot just before it. */
export interface DeviceEdge extends GraphEdge {
  readonly id: string;
  readonly customerId: string;
}

export interface DeviceState {
  /** The device's most recent transactions (at most GRAPH_K), oldest first. */
  readonly edges: readonly DeviceEdge[];
}

/** The device's state with one more transaction (the newest GRAPH_K kept, in time order, as the store keeps them). */
export function observeDevice(device: DeviceState | undefined, tx: FeatureTransaction, customerSnapshot: readonly number[]): DeviceState {
  const edges = (device?.edges ?? []).slice();
  const edge: DeviceEdge = { id: tx.txId, customerId: tx.customerId, t: tx.time, amount: usdValue(tx.amountMinor, tx.currency), z: customerSnapshot };
  let at = edges.length;
  while (at > 0 && (edges[at - 1].t > edge.t || (edges[at - 1].t === edge.t && edges[at - 1].id > edge.id))) at -= 1;
  edges.splice(at, 0, edge);
  return { edges: edges.length > GRAPH_K ? edges.slice(edges.length - GRAPH_K) : edges };
}

const nz = (v: number) => (Number.isNaN(v) ? 0 : v);

/** x(customer) from the transaction's feature vector. */
export function customerBlock(f: ArrayLike<number>): number[] {
  const mean = f[F.custMean30];
  return [
    ...F.custCount.map((i) => Math.log1p(f[i])),
    Math.log1p(nz(mean)),
    Number.isNaN(mean) ? 1 : 0,
    f[F.custKnownFraud] > 0 ? 1 : 0,
    f[F.firstSeenCustomer],
  ];
}

/** x(terminal) from the transaction's feature vector. */
export function terminalBlock(f: ArrayLike<number>): number[] {
  return [
    ...F.termCount.map((i) => Math.log1p(f[i])),
    ...F.termRisk.map((i) => nz(f[i])),
    Number.isNaN(f[F.termRisk[2]]) ? 1 : 0,
    Math.log1p(f[F.termRecent]),
    f[F.firstSeenTerminal],
  ];
}

/**
 * The node's neighbours at `now`: its K most recent edges of the last GRAPH_WINDOW_DAYS days that carry a
 * snapshot, oldest first. `edges` must be oldest first (as both states keep them).
 */
export function neighbours(edges: readonly GraphEdge[] | undefined, now: number): GraphEdge[] {
  const out: GraphEdge[] = [];
  if (!edges) return out;
  const from = now - GRAPH_WINDOW_DAYS * DAY_MS;
  for (let i = edges.length - 1; i >= 0 && out.length < GRAPH_K; i -= 1) {
    const e = edges[i];
    if (e.t >= now) continue;
    if (e.t < from) break;
    if (e.z) out.push(e);
  }
  return out.reverse();
}

/** s(v): the mean message over the neighbours (counterpart block, log amount, log age) and the log degree. */
function summary(edges: readonly GraphEdge[], now: number, blockSize: number): number[] {
  const out = new Array<number>(blockSize + EDGE_PART + 1).fill(0);
  for (const e of edges) {
    for (let j = 0; j < blockSize; j += 1) out[j] += e.z![j];
    out[blockSize] += Math.log1p(e.amount);
    out[blockSize + 1] += Math.log1p((now - e.t) / HOUR_MS);
  }
  if (edges.length) for (let j = 0; j < blockSize + EDGE_PART; j += 1) out[j] /= edges.length;
  out[blockSize + EDGE_PART] = Math.log1p(edges.length);
  return out;
}

/** Float32 values, so the stored snapshot, the training tensors and the served model see the same numbers. */
const f32 = (values: number[]): number[] => values.map((v) => Math.fround(v));

/** Everything the GraphSAGE model reads for one transaction, and the snapshots the transaction leaves behind. */
export interface GraphInputs {
  /** The customer's and the terminal's snapshots now: stored on the new edge by `observe`. */
  readonly customer: number[];
  readonly terminal: number[];
  /** The snapshots stored on their neighbour edges (terminals of the customer, customers of the terminal). */
  readonly customerNeighbours: ReadonlyArray<readonly number[]>;
  readonly terminalNeighbours: ReadonlyArray<readonly number[]>;
  /** The device's snapshot and its customers' (absent when the transaction has no device). */
  readonly device?: number[];
  readonly deviceNeighbours?: ReadonlyArray<readonly number[]>;
}

/**
 * The graph inputs of a transaction at `now`, from its feature vector and the two nodes' edges before it
 * (the customer's transactions with terminal snapshots; the terminal's recent edges with customer snapshots).
 */
export function graphInputs(
  vector: ArrayLike<number>,
  customerEdges: readonly GraphEdge[] | undefined,
  terminalEdges: readonly GraphEdge[] | undefined,
  now: number,
  /** The device's state, when the transaction has a device (an empty one for a device never seen). */
  device?: { readonly edges?: readonly DeviceEdge[] },
): GraphInputs {
  const cn = neighbours(customerEdges, now);
  const tn = neighbours(terminalEdges, now);
  const inputs: GraphInputs = {
    customer: f32([...customerBlock(vector), ...summary(cn, now, TERMINAL_BLOCK.length)]),
    terminal: f32([...terminalBlock(vector), ...summary(tn, now, CUSTOMER_BLOCK.length)]),
    customerNeighbours: cn.map((e) => e.z!),
    terminalNeighbours: tn.map((e) => e.z!),
  };
  if (!device) return inputs;
  const dn = neighbours(device.edges, now) as DeviceEdge[];
  const customers = new Set(dn.map((e) => e.customerId)).size;
  return {
    ...inputs,
    device: f32([1, ...summary(dn, now, CUSTOMER_BLOCK.length), Math.log1p(customers)]),
    deviceNeighbours: dn.map((e) => e.z!),
  };
}

/** The graph inputs of `tx` from its nodes' states before it (the device's only when `tx` has a device). */
export function transactionGraph(
  tx: FeatureTransaction,
  vector: ArrayLike<number>,
  customer: { readonly recent: readonly GraphEdge[] } | undefined,
  terminal: { readonly edges?: readonly GraphEdge[] } | undefined,
  device: DeviceState | undefined,
): GraphInputs {
  return graphInputs(vector, customer?.recent, terminal?.edges, tx.time, tx.deviceId === undefined ? undefined : (device ?? {}));
}

// ---------------------------------------------------------------------------------------------------------
// The model: weights in JSON (written by ml/train_gnn.py), a plain forward pass.

interface Dense {
  /** out × in, row-major by output. */
  readonly weight: number[][];
  readonly bias: number[];
}

export interface GraphSageWeights {
  readonly kind: 'graphsage';
  readonly format: 1;
  readonly k: number;
  readonly hidden: number;
  readonly features: readonly string[];
  /** Standardisation of the transaction features: (slog1p(v) − mean) / std, missing → 0. */
  readonly input: { readonly mean: number[]; readonly std: number[] };
  readonly customer: { readonly layer1: Dense; readonly layer2: Dense };
  readonly terminal: { readonly layer1: Dense; readonly layer2: Dense };
  readonly device: { readonly layer1: Dense; readonly layer2: Dense };
  readonly head: { readonly hidden: Dense; readonly out: Dense };
}

function dense(layer: Dense, input: ArrayLike<number>, relu: boolean): Float64Array {
  const out = new Float64Array(layer.bias.length);
  for (let o = 0; o < out.length; o += 1) {
    const w = layer.weight[o];
    let sum = layer.bias[o];
    for (let i = 0; i < w.length; i += 1) sum += w[i] * input[i];
    out[o] = relu && sum < 0 ? 0 : sum;
  }
  return out;
}

function concat(...parts: ArrayLike<number>[]): Float64Array {
  const out = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p as ArrayLike<number>, at);
    at += p.length;
  }
  return out;
}

/** Signed log1p: the transform applied to every transaction feature before standardising. */
export const slog1p = (v: number): number => Math.sign(v) * Math.log1p(Math.abs(v));

function check(condition: boolean, file: string, detail: string): asserts condition {
  if (!condition) throw new Error(`${file}: ${detail}`);
}

function checkDense(layer: Dense | undefined, outputs: number, inputs: number, file: string, name: string): void {
  check(
    !!layer && Array.isArray(layer.weight) && Array.isArray(layer.bias) && layer.bias.length === outputs && layer.weight.length === outputs,
    file,
    `${name} must have ${outputs} outputs`,
  );
  for (const row of layer.weight) {
    check(Array.isArray(row) && row.length === inputs && row.every(Number.isFinite), file, `${name}: every weight row must hold ${inputs} finite numbers`);
  }
  check(layer.bias.every(Number.isFinite), file, `${name}: the biases must be finite numbers`);
}

export class GraphSageModel {
  private constructor(private readonly w: GraphSageWeights) {}

  /** Checks the shapes against this code's inputs; every error names `file`. */
  static fromJSON(json: unknown, file: string): GraphSageModel {
    check(typeof json === 'object' && json !== null, file, 'not a JSON object');
    const w = json as GraphSageWeights;
    check(w.kind === 'graphsage' && w.format === 1, file, `not GraphSAGE weights of format 1 (kind ${JSON.stringify(w.kind)}, format ${JSON.stringify(w.format)})`);
    check(w.k === GRAPH_K, file, `trained with K = ${w.k} neighbours but this code samples ${GRAPH_K}: retrain with npm run train`);
    check(
      Array.isArray(w.features) && w.features.length === FEATURE_NAMES.length && w.features.every((f, i) => f === FEATURE_NAMES[i]),
      file,
      'its features differ from lambdas/fraud/features.ts: retrain with npm run train',
    );
    const h = w.hidden;
    check(Number.isInteger(h) && h > 0, file, '"hidden" must be a positive integer');
    const n = FEATURE_NAMES.length;
    check(
      w.input?.mean?.length === n && w.input.std?.length === n && w.input.std.every((s) => s > 0) && w.input.mean.every(Number.isFinite),
      file,
      `"input" must hold ${n} means and ${n} positive standard deviations`,
    );
    checkDense(w.customer?.layer1, h, CUSTOMER_SNAPSHOT, file, 'customer.layer1');
    checkDense(w.terminal?.layer1, h, TERMINAL_SNAPSHOT, file, 'terminal.layer1');
    checkDense(w.customer?.layer2, h, 2 * h, file, 'customer.layer2');
    checkDense(w.terminal?.layer2, h, 2 * h, file, 'terminal.layer2');
    checkDense(w.device?.layer1, h, DEVICE_SNAPSHOT, file, 'device.layer1');
    checkDense(w.device?.layer2, h, 2 * h, file, 'device.layer2');
    checkDense(w.head?.hidden, w.head?.hidden?.bias?.length ?? 0, 3 * h + n, file, 'head.hidden');
    checkDense(w.head?.out, 1, w.head.hidden.bias.length, file, 'head.out');
    return new GraphSageModel(w);
  }

  /** The standardised transaction features the head reads. */
  private standardise(vector: ArrayLike<number>): Float64Array {
    const { mean, std } = this.w.input;
    const out = new Float64Array(mean.length);
    for (let i = 0; i < out.length; i += 1) out[i] = Number.isNaN(vector[i]) ? 0 : (slog1p(vector[i]) - mean[i]) / std[i];
    return out;
  }

  /** h2 of a node: its own snapshot through layer 1, and the mean of its neighbours' (of the other type). */
  private embed(type: 'customer' | 'terminal' | 'device', z: readonly number[], neighbourSnapshots: ReadonlyArray<readonly number[]>): Float64Array {
    const own = this.w[type];
    const other = this.w[type === 'customer' ? 'terminal' : 'customer'];
    const h1 = dense(own.layer1, z, true);
    const mean = new Float64Array(this.w.hidden);
    for (const zn of neighbourSnapshots) {
      const hn = dense(other.layer1, zn, true);
      for (let j = 0; j < mean.length; j += 1) mean[j] += hn[j];
    }
    if (neighbourSnapshots.length) for (let j = 0; j < mean.length; j += 1) mean[j] /= neighbourSnapshots.length;
    return dense(own.layer2, concat(h1, mean), true);
  }

  /** The log-odds of fraud. */
  logit(vector: ArrayLike<number>, inputs: GraphInputs): number {
    const hc = this.embed('customer', inputs.customer, inputs.customerNeighbours);
    const ht = this.embed('terminal', inputs.terminal, inputs.terminalNeighbours);
    const hd = inputs.device ? this.embed('device', inputs.device, inputs.deviceNeighbours ?? []) : new Float64Array(this.w.hidden);
    const hidden = dense(this.w.head.hidden, concat(hc, ht, hd, this.standardise(vector)), true);
    return dense(this.w.head.out, hidden, false)[0];
  }

  predict(vector: ArrayLike<number>, inputs: GraphInputs): number {
    return sigmoid(this.logit(vector, inputs));
  }
}
