/**
 * `npm run features -- --data CSV --out FILE`: replays a transactions CSV in time order through the same
 * feature code the fraud Lambda runs (lambdas/fraud/features.ts) and writes one feature vector per
 * transaction, for the training pipeline. Missing values are written as `nan`.
 *
 * With --graph FILE it also writes the GraphSAGE inputs of every transaction (lambdas/fraud/graph.ts), in
 * the same order, as little-endian float32 rows (layout in `graphLayout()`, also written to FILE.json).
 *
 * Unless --quiet, progress goes to stderr every 5 s or 100,000 rows, with the rate and an ETA (ml/progress.ts).
 * Every option, with its default: USAGE below (`npm run features -- --help`).
 */
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { once } from 'node:events';
import { FEATURE_NAMES, type FeatureOptions } from '../lambdas/fraud/features';
import { CUSTOMER_SNAPSHOT, DEVICE_SNAPSHOT, GRAPH_K, TERMINAL_SNAPSHOT, type GraphInputs } from '../lambdas/fraud/graph';
import { parseColumnMap, readTransactions } from './dataset';
import { checkDataOptions, exitOnError, parseCommandLine, UsageError } from './cli';
import { progressLogger } from './progress';
import { replay } from './replay';

const DEFAULT_FEEDBACK_DELAY_DAYS = 7;

export const USAGE = [
  'usage: npm run features -- --data transactions.csv --out features.csv [options]',
  '',
  'Replays the CSV in time order through the serving feature code (lambdas/fraud/features.ts, graph.ts) and',
  'writes one feature vector per transaction (missing values as nan).',
  '',
  '  --data CSV                  transactions (docs/fraud-ml.md); required',
  '  --out FILE                  the feature vectors: tx_id,timestamp,customer_id,terminal_id,label,<features>; required',
  '  --graph FILE                also write GraphSAGE\'s inputs as float32 rows, in the same order, and their',
  '                              layout in FILE.json (default: not written)',
  '  --map canonical=COLUMN,...  your column names (docs/fraud-ml.md; default: the canonical names)',
  '  --currency CODE             the currency when the file has no currency column (default USD)',
  `  --feedback-delay-days N     days before a label may be used by the features, 0 to 90 (default ${DEFAULT_FEEDBACK_DELAY_DAYS})`,
  '  --quiet                     print nothing (default: progress with an ETA on stderr)',
  '  --help, -h                  this text',
].join('\n');

export const OPTIONS = {
  data: { type: 'string' },
  out: { type: 'string' },
  graph: { type: 'string' },
  map: { type: 'string' },
  currency: { type: 'string' },
  'feedback-delay-days': { type: 'string', default: String(DEFAULT_FEEDBACK_DELAY_DAYS) },
  quiet: { type: 'boolean', default: false },
} as const;

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
  const progress = progressLogger(transactions.length, options.log);
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
    progress(n);
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
  const values = parseCommandLine('npm run features', USAGE, OPTIONS);
  if (!values) return;
  const { data, out } = values;
  if (!data || !out) {
    const missing = [data ? '' : '--data', out ? '' : '--out'].filter(Boolean);
    throw new UsageError(`${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} required (npm run features -- --help lists the options)`);
  }
  checkDataOptions('npm run features', values);
  const delay = Number(values['feedback-delay-days']);
  if (!Number.isInteger(delay) || delay < 0 || delay > 90) throw new UsageError(`--feedback-delay-days ${values['feedback-delay-days']}: must be an integer from 0 to 90`);
  await writeFeatures(data, out, {
    map: values.map,
    currency: values.currency,
    features: { feedbackDelayDays: delay },
    graphOut: values.graph,
    log: values.quiet ? () => undefined : (line) => console.error(line),
  });
}

if (require.main === module) main().catch(exitOnError('features'));
