/**
 * `npm run features -- --data CSV --out FILE`: replays a transactions CSV in time order through the same
 * feature code the fraud Lambda runs (lambdas/fraud/features.ts) and writes one feature vector per
 * transaction, for the training pipeline. Missing values are written as `nan`.
 *
 * With --graph FILE it also writes the GraphSAGE inputs of every transaction (lambdas/fraud/graph.ts), in
 * the same order, as little-endian float32 rows (layout in `graphLayout()`, also written to FILE.json).
 *
 * Options: --map canonical=COLUMN,... (see docs/fraud-ml.md), --currency USD (when the file has none),
 * --feedback-delay-days 7, --graph FILE, --quiet.
 */
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { FEATURE_NAMES, type FeatureOptions } from '../lambdas/fraud/features';
import { CUSTOMER_SNAPSHOT, DEVICE_SNAPSHOT, GRAPH_K, TERMINAL_SNAPSHOT, type GraphInputs } from '../lambdas/fraud/graph';
import { parseColumnMap, readTransactions } from './dataset';
import { replay } from './replay';

/** A CSV field, quoted when it must be (RFC 4180). */
export function csvField(value: string): string {
  return /[",\n\r]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/**
 * One float32 row per transaction: the feature vector (NaN = missing), the customer's and the terminal's
 * snapshots, K customer-neighbour snapshots (terminals; zero-padded), K terminal-neighbour snapshots
 * (customers; zero-padded), the two neighbour counts, then the device part: 1 when the transaction has a
 * device, its snapshot, K device-neighbour snapshots (customers; zero-padded) and their count (zeros without
 * a device).
 */
function computeLayout() {
  const parts: Array<[string, number]> = [
    ['features', FEATURE_NAMES.length],
    ['customer', CUSTOMER_SNAPSHOT],
    ['terminal', TERMINAL_SNAPSHOT],
    ['customer_neighbours', GRAPH_K * TERMINAL_SNAPSHOT],
    ['terminal_neighbours', GRAPH_K * CUSTOMER_SNAPSHOT],
    ['customer_neighbour_count', 1],
    ['terminal_neighbour_count', 1],
    ['has_device', 1],
    ['device', DEVICE_SNAPSHOT],
    ['device_neighbours', GRAPH_K * CUSTOMER_SNAPSHOT],
    ['device_neighbour_count', 1],
  ];
  let at = 0;
  const offsets: Record<string, [number, number]> = {};
  for (const [name, size] of parts) {
    offsets[name] = [at, at + size];
    at += size;
  }
  return { format: 2, k: GRAPH_K, customerSnapshot: CUSTOMER_SNAPSHOT, terminalSnapshot: TERMINAL_SNAPSHOT, deviceSnapshot: DEVICE_SNAPSHOT, width: at, offsets };
}

const LAYOUT = computeLayout();

export function graphLayout(): typeof LAYOUT {
  return LAYOUT;
}

/** Fills `row` with one transaction's graph row (graphLayout). */
export function graphRow(row: Float32Array, vector: Float64Array, graph: GraphInputs): void {
  const { offsets, width } = graphLayout();
  row.fill(0, 0, width);
  row.set(vector, offsets.features[0]);
  row.set(graph.customer, offsets.customer[0]);
  row.set(graph.terminal, offsets.terminal[0]);
  graph.customerNeighbours.forEach((z, i) => row.set(z, offsets.customer_neighbours[0] + i * TERMINAL_SNAPSHOT));
  graph.terminalNeighbours.forEach((z, i) => row.set(z, offsets.terminal_neighbours[0] + i * CUSTOMER_SNAPSHOT));
  row[offsets.customer_neighbour_count[0]] = graph.customerNeighbours.length;
  row[offsets.terminal_neighbour_count[0]] = graph.terminalNeighbours.length;
  if (graph.device) {
    row[offsets.has_device[0]] = 1;
    row.set(graph.device, offsets.device[0]);
    const neighbours = graph.deviceNeighbours ?? [];
    neighbours.forEach((z, i) => row.set(z, offsets.device_neighbours[0] + i * CUSTOMER_SNAPSHOT));
    row[offsets.device_neighbour_count[0]] = neighbours.length;
  }
}

export async function writeFeatures(
  data: string,
  out: string,
  options: { map?: string; currency?: string; requireLabels?: boolean; features: FeatureOptions; graphOut?: string; log: (line: string) => void },
): Promise<number> {
  const started = Date.now();
  const transactions = await readTransactions(data, { map: parseColumnMap(options.map), currency: options.currency, requireLabels: options.requireLabels });
  options.log(`read ${transactions.length} transactions from ${data} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  mkdirSync(dirname(resolve(out)), { recursive: true });
  const stream = createWriteStream(out);
  stream.write(`${['tx_id', 'timestamp', 'customer_id', 'terminal_id', 'label', ...FEATURE_NAMES].join(',')}\n`);
  const layout = graphLayout();
  const graphStream = options.graphOut ? createWriteStream(options.graphOut) : undefined;
  if (options.graphOut) writeFileSync(`${options.graphOut}.json`, `${JSON.stringify({ ...layout, rows: transactions.length }, null, 2)}\n`);
  const batch = 1024;
  const rows = new Float32Array(batch * layout.width);
  let inBatch = 0;
  const flush = async () => {
    if (!graphStream || !inBatch) return;
    const bytes = Buffer.from(rows.buffer, 0, inBatch * layout.width * 4);
    // A copy: the buffer is reused for the next batch while the stream may still hold this one.
    if (!graphStream.write(Buffer.from(bytes))) await once(graphStream, 'drain');
    inBatch = 0;
  };
  let n = 0;
  for (const { tx, vector, graph } of replay(transactions, options.features)) {
    if (graphStream) {
      graphRow(rows.subarray(inBatch * layout.width, (inBatch + 1) * layout.width), vector, graph);
      inBatch += 1;
      if (inBatch === batch) await flush();
    }
    const values = Array.from(vector, (v) => (Number.isNaN(v) ? 'nan' : String(v)));
    const line = [csvField(tx.txId), new Date(tx.time).toISOString(), csvField(tx.customerId), csvField(tx.terminalId), tx.label ?? '', ...values];
    if (!stream.write(`${line.join(',')}\n`)) await once(stream, 'drain');
    n += 1;
    if (n % 100_000 === 0) options.log(`  ${n} / ${transactions.length} vectors`);
  }
  stream.end();
  await once(stream, 'finish');
  if (graphStream) {
    await flush();
    graphStream.end();
    await once(graphStream, 'finish');
  }
  options.log(`wrote ${n} vectors (${FEATURE_NAMES.length} features) to ${out} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      data: { type: 'string' },
      out: { type: 'string' },
      map: { type: 'string' },
      currency: { type: 'string' },
      'feedback-delay-days': { type: 'string', default: '7' },
      graph: { type: 'string' },
      quiet: { type: 'boolean', default: false },
    },
  });
  if (!values.data || !values.out) throw new Error('usage: npm run features -- --data transactions.csv --out features.csv [--graph graph.f32] [--map ...] [--currency USD] [--feedback-delay-days 7]');
  const delay = Number(values['feedback-delay-days']);
  if (!Number.isInteger(delay) || delay < 0 || delay > 90) throw new Error('--feedback-delay-days must be an integer from 0 to 90');
  await writeFeatures(values.data, values.out, {
    map: values.map,
    currency: values.currency,
    features: { feedbackDelayDays: delay },
    graphOut: values.graph,
    log: values.quiet ? () => undefined : (line) => console.error(line),
  });
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(`features: ${(error as Error).message}`);
    process.exit(1);
  });
}
