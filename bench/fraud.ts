/**
 * `npm run bench:fraud`: the speed of fraud scoring (issue 3). Runs in under two minutes and prints:
 * 1. the whole in-process path per transaction, i.e. `assess` minus `state.load`: featureVector and the
 *    graph inputs (transactionGraph: customer, terminal and, when present, device neighbours) from the
 *    (already loaded) state before it, the ensemble's score (XGBoost margin + Saabas
 *    contributions for the reasons, GraphSAGE forward pass, the logistic stack) and the decision. p50/p99/max
 *    over the last --rows transactions of a replayed history; goal p99 ≤ 1 ms. Then the breakdown on the same
 *    rows, each part alone: featureVector, transactionGraph, XGBoost margin, XGBoost contributions, GraphSAGE logit;
 * 2. the evaluators' rows/s over the same rows: XGBoost (margin, contributions) and GraphSAGE, and
 *    - when /usr/bin/python3 imports xgboost: xgboost's single-row inplace_predict and batch predict of the
 *      margin on the same model and rows, with the ratios and the parity (max |diff|) of margins and
 *      contributions;
 *    - when /usr/bin/python3 imports torch: ml/gnn.py's GraphSage (the training architecture) loaded with
 *      graphsage.json, single-row and batch forward on the same rows (the float32 graph rows of
 *      `npm run features --graph`), one thread, with the ratios and the parity of the log-odds;
 * 3. store I/O separately: DynamoFeatureState.load and the observe step (service.ts `recordCompleted`: load,
 *    snapshots, writes) through the SDK DocumentClient against the local store (dynalite in its own process),
 *    per call and in store calls.
 * Data: `ml/simulate.py --customers 1500 --terminals 300 --days 60 --seed 5` when /usr/bin/python3 runs it,
 * else a small seeded TS generator (said in the output); or --csv FILE (with --map and --currency as
 * `npm run score`). The model: --model DIR (default the served lambdas/fraud/model); every section names the
 * folder and its manifest version.
 * Every option, with its default: USAGE below (`npm run bench:fraud -- --help`).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { featureVector, type FeatureOptions } from '../lambdas/fraud/features';
import { transactionGraph, type GraphInputs, type GraphSageModel } from '../lambdas/fraud/graph';
import { DEFAULT_MODEL_DIR, describeServed, loadFraudModel, loadModelFolder, type FraudModel } from '../lambdas/fraud/model';
import { decide, recordCompleted, type FraudDecision } from '../lambdas/fraud/service';
import { DynamoFeatureState } from '../lambdas/fraud/state';
import type { XGBoostModel } from '../lambdas/fraud/xgboost';
import { ensureTables, startLocalStore } from '../local/dynalite';
import { LOCAL_TABLES } from '../local/env';
import { parseColumnMap, readTransactions, type LabelledTransaction } from '../ml/dataset';
import { graphLayout, graphRow } from '../ml/features';
import { exitOnError, parseCommandLine, UsageError } from '../ml/cli';
import { replayStates, type ReplayedState } from '../ml/replay';
import { prng, quantile } from './support';

const PYTHON = '/usr/bin/python3';
const ML_DIR = join(__dirname, '..', 'ml');
const SIMULATE = join(ML_DIR, 'simulate.py');
const GOAL_P99_MS = 1;
const WARM_UP = 5_000;
/** Hard stop, whatever happens (the store or Python hanging). */
const WATCHDOG_MS = 115_000;
const ROOT = join(__dirname, '..');

const DEFAULTS = { rows: 20_000, storeRows: 2_000, preload: 2_000, pyRows: 5_000, pySeconds: 5 } as const;

export const USAGE = [
  'usage: npm run bench:fraud -- [options]',
  '',
  'The speed of fraud scoring: the in-process path (features, graph inputs, the ensemble, the decision) per',
  'transaction against the goal p99 ≤ 1 ms, the evaluators against xgboost and torch when /usr/bin/python3 has',
  'them, and the feature store I/O against dynalite. Data: ml/simulate.py (1,500 customers, 300 terminals, 60',
  'days, seed 5), or --csv.',
  '',
  `  --rows N                    transactions timed in the in-process path, ≥ 1000 (default ${DEFAULTS.rows}; the data needs`,
  `                              N + ${WARM_UP} warm-up rows)`,
  `  --store-rows N              transactions timed against the store, ≥ 100 (default ${DEFAULTS.storeRows}; at most 25 s of them: the output says how many)`,
  `  --preload N                 preceding transactions recorded in the store first, ≥ 0 (default ${DEFAULTS.preload}; at most 15 s of them: the output says how many)`,
  `  --py-rows N                 rows for xgboost's and torch's single-row timings, ≥ 100 (default ${DEFAULTS.pyRows})`,
  `  --py-seconds S              time budget of each Python single-row timing, in (0, 30] (default ${DEFAULTS.pySeconds})`,
  '  --model DIR                 the model folder measured (default lambdas/fraud/model, the served one)',
  '  --csv FILE                  transactions (docs/fraud-ml.md) instead of the simulated data',
  '  --map canonical=COLUMN,...  with --csv: your column names (as npm run score; default: the canonical names)',
  '  --currency CODE             with --csv: the currency when the file has none (default USD)',
  '  --help, -h                  this text',
].join('\n');

export const OPTIONS = {
  rows: { type: 'string', default: String(DEFAULTS.rows) },
  'store-rows': { type: 'string', default: String(DEFAULTS.storeRows) },
  preload: { type: 'string', default: String(DEFAULTS.preload) },
  'py-rows': { type: 'string', default: String(DEFAULTS.pyRows) },
  'py-seconds': { type: 'string', default: String(DEFAULTS.pySeconds) },
  model: { type: 'string' },
  csv: { type: 'string' },
  map: { type: 'string' },
  currency: { type: 'string' },
} as const;

/** A path as printed: relative to the repository when inside it. */
const shown = (path: string) => (relative(ROOT, path).startsWith('..') ? path : relative(ROOT, path) || '.');

/** The model folder measured, with the files the Python comparisons load. */
interface Measured {
  readonly dir: string;
  readonly version: string;
  readonly xgboostFile: string;
  readonly graphsageFile: string;
}

const us = (ms: number) => `${(ms * 1000).toFixed(1)} µs`;
const int = (n: number) => Math.round(n).toLocaleString('en-US');
const why = (r: ReturnType<typeof spawnSync>) => r.error?.message ?? (String(r.stderr).trim().split('\n').pop() || `exit ${r.status}`);

interface Summary {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly text: string;
}

function summary(times: Float64Array): Summary {
  const sorted = times.slice().sort();
  const p50 = quantile(sorted, 0.5);
  const p99 = quantile(sorted, 0.99);
  const max = sorted[sorted.length - 1];
  return { p50, p99, max, text: `p50 ${us(p50)}, p99 ${us(p99)}, max ${us(max)}` };
}

/** The neighbours GraphSAGE reads for one transaction: the customer's, the terminal's and the device's. */
const neighbourTotal = (g: GraphInputs) => g.customerNeighbours.length + g.terminalNeighbours.length + (g.deviceNeighbours?.length ?? 0);

/** Times `fn` on every row alone (after a warm-up over the rows); per-row times in ms. */
function timeEach(n: number, fn: (i: number) => number, sink: { value: number }): Float64Array {
  for (let i = 0; i < Math.min(n, 5_000); i++) sink.value += fn(i);
  const times = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    sink.value += fn(i);
    times[i] = performance.now() - t0;
  }
  return times;
}

/** Rows per second of `fn` over the rows in an untimed loop, repeated to at least `minRows` calls. */
function rowsPerSecond(n: number, minRows: number, fn: (i: number) => number, sink: { value: number }): number {
  const reps = Math.max(1, Math.ceil(minRows / n));
  const t0 = performance.now();
  for (let r = 0; r < reps; r++) for (let i = 0; i < n; i++) sink.value += fn(i);
  return (reps * n) / ((performance.now() - t0) / 1000);
}

/** The fallback when Python cannot run the simulator: customers with home terminals, ~1% fraud (bursts of large amounts). */
function generateCsv(path: string): void {
  const random = prng(5);
  const customers = 1500;
  const terminals = 300;
  const days = 60;
  const start = Date.UTC(2026, 0, 1);
  const lines = ['tx_id,timestamp,customer_id,terminal_id,amount,currency,label,device_id,country,merchant_country'];
  const rows: [number, string][] = [];
  let id = 0;
  for (let c = 0; c < customers; c++) {
    const home = Array.from({ length: 4 }, () => Math.floor(random() * terminals));
    const perDay = 0.3 + random() * 2;
    const mean = 10 + random() * 80;
    for (let d = 0; d < days; d++) {
      const n = Math.floor(perDay + random());
      for (let k = 0; k < n; k++) {
        const fraud = random() < 0.01;
        const terminal = fraud ? Math.floor(random() * terminals) : home[Math.floor(random() * home.length)];
        const amount = (fraud ? mean * (3 + random() * 5) : mean * (0.3 + random() * 1.4)).toFixed(2);
        const time = start + d * 86_400_000 + Math.floor(random() * 86_400_000);
        id += 1;
        const tx = `tx_${String(id).padStart(8, '0')}`;
        const cust = `c_${String(c).padStart(5, '0')}`;
        const term = `t_${String(terminal).padStart(4, '0')}`;
        rows.push([time, `${tx},${new Date(time).toISOString()},${cust},${term},${amount},USD,${fraud ? 1 : 0},d_${c},US,${fraud && random() < 0.5 ? 'GB' : 'US'}`]);
      }
    }
  }
  rows.sort((a, b) => a[0] - b[0]);
  for (const [, line] of rows) lines.push(line);
  writeFileSync(path, `${lines.join('\n')}\n`);
}

interface XgboostResult {
  xgboost: string;
  single_inplace: { rows: number; p50_ms: number; p99_ms: number };
  batch: { rows: number; dmatrix_1t_s: number; inplace_1t_s: number };
  max_margin_diff: number;
  max_contrib_diff: number;
}

/** xgboost on the same model and rows, one thread: margins (output_margin / predict_type="margin"). */
const XGB_SCRIPT = String.raw`
import json, sys, time
import numpy as np
import xgboost as xgb
model, rows_path, n_feat, max_rows, budget = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
X = np.fromfile(rows_path, dtype=np.float64).reshape(-1, n_feat)
ts_margin = np.fromfile(rows_path + '.margin', dtype=np.float64)
ts_contrib = np.fromfile(rows_path + '.contrib', dtype=np.float64).reshape(len(X), n_feat + 1)
bst = xgb.Booster(model_file=model)
bst.set_param({'nthread': 1})
names = bst.feature_names
for i in range(200): bst.inplace_predict(X[i % len(X):i % len(X) + 1], missing=np.nan, predict_type='margin')
times, deadline = [], time.perf_counter() + budget
for i in range(min(max_rows, len(X))):
    row = X[i:i + 1]
    t0 = time.perf_counter_ns(); bst.inplace_predict(row, missing=np.nan, predict_type='margin'); times.append(time.perf_counter_ns() - t0)
    if time.perf_counter() > deadline: break
t = np.sort(np.array(times)) / 1e6
out = {'xgboost': xgb.__version__, 'single_inplace': {'rows': len(t), 'p50_ms': float(t[len(t) // 2]), 'p99_ms': float(t[min(len(t) - 1, int(0.99 * len(t)))])}}
dm = xgb.DMatrix(X, missing=np.nan, feature_names=names)
t0 = time.perf_counter(); m = bst.predict(xgb.DMatrix(X, missing=np.nan, feature_names=names), output_margin=True); d1 = time.perf_counter() - t0
t0 = time.perf_counter(); bst.inplace_predict(X, missing=np.nan, predict_type='margin'); i1 = time.perf_counter() - t0
out['batch'] = {'rows': len(X), 'dmatrix_1t_s': d1, 'inplace_1t_s': i1}
out['max_margin_diff'] = float(np.abs(m.astype(np.float64) - ts_margin).max())
c = bst.predict(dm, pred_contribs=True, approx_contribs=True)
out['max_contrib_diff'] = float(np.abs(c.astype(np.float64) - ts_contrib).max())
print(json.dumps(out))
`;

interface TorchResult {
  torch?: string;
  unavailable?: string;
  single?: { rows: number; p50_ms: number; p99_ms: number };
  batch?: { rows: number; seconds: number };
  max_logit_diff?: number;
}

/**
 * torch on the same weights and rows, one thread: ml/gnn.py's GraphSage (float32, as trained) loaded with
 * graphsage.json, its inputs from the float32 graph rows (ml/features.ts graphRow) through gnn.Inputs.
 * Single rows time the forward pass alone (the row's tensors sliced before the clock starts).
 */
const TORCH_SCRIPT = String.raw`
import json, sys, time
ml_dir, weights_path, rows_path, max_rows, budget = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
try:
    import numpy as np
    import torch
except ImportError as error:
    print(json.dumps({'unavailable': str(error)})); sys.exit(0)
sys.path.insert(0, ml_dir)
import gnn
torch.set_num_threads(1)
with open(rows_path + '.json') as handle: layout = json.load(handle)
with open(weights_path) as handle: w = json.load(handle)
rows = np.fromfile(rows_path, dtype='<f4').reshape(-1, layout['width'])
ts_logit = np.fromfile(rows_path + '.logit', dtype=np.float64)
inputs = gnn.Inputs(layout, rows, np.array(w['input']['mean']), np.array(w['input']['std']))
types = [t for t in ('customer', 'terminal', 'device') if t + 'Snapshot' in layout]
model = gnn.GraphSage(len(w['features']), *[layout[t + 'Snapshot'] for t in types], hidden=w['hidden'], head=len(w['head']['hidden']['bias']))
layers = [(model.head, w['head']['hidden']), (model.out, w['head']['out'])]
for t in types: layers += [(getattr(model, t + '1'), w[t]['layer1']), (getattr(model, t + '2'), w[t]['layer2'])]
with torch.no_grad():
    for layer, d in layers:
        layer.weight.copy_(torch.tensor(d['weight'])); layer.bias.copy_(torch.tensor(d['bias']))
model.eval()
out = {'torch': torch.__version__}
with torch.inference_mode():
    for i in range(200): model(*inputs.batch(slice(i % len(inputs), i % len(inputs) + 1)))
    times, deadline = [], time.perf_counter() + budget
    for i in range(min(max_rows, len(inputs))):
        b = inputs.batch(slice(i, i + 1))
        t0 = time.perf_counter_ns(); model(*b); times.append(time.perf_counter_ns() - t0)
        if time.perf_counter() > deadline: break
    t = np.sort(np.array(times)) / 1e6
    out['single'] = {'rows': len(t), 'p50_ms': float(t[len(t) // 2]), 'p99_ms': float(t[min(len(t) - 1, int(0.99 * len(t)))])}
    b = inputs.batch(slice(0, len(inputs)))
    model(*b)
    t0 = time.perf_counter(); logits = model(*b); seconds = time.perf_counter() - t0
out['batch'] = {'rows': len(inputs), 'seconds': seconds}
out['max_logit_diff'] = float(np.abs(logits.numpy().astype(np.float64) - ts_logit).max())
print(json.dumps(out))
`;

async function main(): Promise<void> {
  const values = parseCommandLine('npm run bench:fraud', USAGE, OPTIONS);
  if (!values) return;
  const n = Number(values.rows);
  const storeRows = Number(values['store-rows']);
  const preload = Number(values.preload);
  const pyRows = Number(values['py-rows']);
  const pySeconds = Number(values['py-seconds']);
  if (![n, storeRows, preload, pyRows].every(Number.isInteger) || n < 1000 || storeRows < 100 || preload < 0 || pyRows < 100 || !(pySeconds > 0 && pySeconds <= 30)) {
    throw new UsageError(
      `--rows ≥ 1000, --store-rows ≥ 100, --preload ≥ 0 and --py-rows ≥ 100 are integers; --py-seconds in (0, 30] (got --rows ${values.rows} --store-rows ${values['store-rows']} --preload ${values.preload} --py-rows ${values['py-rows']} --py-seconds ${values['py-seconds']}; npm run bench:fraud -- --help lists the options)`,
    );
  }
  if (!values.csv && (values.map !== undefined || values.currency !== undefined)) {
    throw new UsageError('--map and --currency describe a --csv FILE: give one (npm run bench:fraud -- --help lists the options)');
  }
  let columns: ReturnType<typeof parseColumnMap>;
  try {
    columns = parseColumnMap(values.map); // a bad --map fails before the minutes of work
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  // The model first: a bad folder fails at once, with the file at fault named.
  const modelDir = resolve(values.model ?? DEFAULT_MODEL_DIR);
  const folder = loadModelFolder(modelDir);
  const model = loadFraudModel(modelDir);
  const files = (JSON.parse(readFileSync(join(modelDir, 'manifest.json'), 'utf8')) as { models: { xgboost: string; graphsage: string } }).models;
  const measured: Measured = { dir: shown(modelDir), version: folder.version, xgboostFile: join(modelDir, files.xgboost), graphsageFile: join(modelDir, files.graphsage) };

  const watchdog = setTimeout(() => {
    console.error(`bench:fraud: stopped after ${WATCHDOG_MS / 1000} s (watchdog)`);
    process.exit(1);
  }, WATCHDOG_MS);
  watchdog.unref();
  const began = performance.now();
  const [l1, l5, l15] = loadavg();
  console.log(`load average ${l1.toFixed(2)} ${l5.toFixed(2)} ${l15.toFixed(2)} on ${cpus().length} cores at start (other work on the machine slows every figure)`);
  console.log(`model: ${measured.dir}, version ${measured.version} (feedback delay ${folder.feedbackDelayDays} days)`);
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

  const dir = mkdtempSync(join(tmpdir(), 'bench-fraud-'));
  try {
    // 1. Data.
    let csv = values.csv;
    if (!csv) {
      csv = join(dir, 'transactions.csv');
      const args = [SIMULATE, '--customers', '1500', '--terminals', '300', '--days', '60', '--seed', '5', '--quiet', '--out', csv];
      const sim = spawnSync(PYTHON, args, { encoding: 'utf8', timeout: 60_000 });
      if (sim.status === 0) console.log('data: ml/simulate.py --customers 1500 --terminals 300 --days 60 --seed 5');
      else {
        console.log(`data: ${PYTHON} could not run ml/simulate.py (${why(sim)}); using the seeded TS generator (1500 customers, 300 terminals, 60 days, ~1% fraud)`);
        generateCsv(csv);
      }
    } else console.log(`data: ${csv}`);
    const rows = await readTransactions(csv, { map: columns, currency: values.currency });
    const frauds = rows.filter((r) => r.label === 1).length;
    const labelled = rows.filter((r) => r.label !== undefined).length;
    const days = (rows[rows.length - 1].time - rows[0].time) / 86_400_000;
    console.log(`  ${int(rows.length)} transactions over ${days.toFixed(1)} days, ${((frauds / Math.max(1, labelled)) * 100).toFixed(2)}% fraud of the ${int(labelled)} labelled`);
    if (rows.length < n + WARM_UP) throw new Error(`the data has ${rows.length} transactions; --rows ${n} needs at least ${n + WARM_UP}`);

    // 2. The in-process path: replay with in-memory state; time the last n transactions.
    const { model: xgb, graphsage } = folder;
    const options: FeatureOptions = { feedbackDelayDays: model.feedbackDelayDays };
    const start = rows.length - n;
    const warmFrom = start - WARM_UP;
    // Replay first, keeping the (immutable) states before each transaction of the window, so the replay's own
    // bookkeeping (observe copies the states) neither runs nor collects garbage inside the timed calls.
    const replayStarted = performance.now();
    const window: ReplayedState[] = [];
    let i = 0;
    for (const state of replayStates(rows, options)) {
      if (i >= warmFrom) window.push(state);
      i += 1;
    }
    const replaySeconds = (performance.now() - replayStarted) / 1000;
    const total = new Float64Array(n);
    const featureTimes = new Float64Array(n);
    const graphTimes = new Float64Array(n);
    const scoring = new Float64Array(n);
    const vectors: Float64Array[] = [];
    const graphs: GraphInputs[] = [];
    const decisions: Record<FraudDecision, number> = { approve: 0, review: 0, decline: 0 };
    let neighbourCount = 0;
    let withDevice = 0;
    for (let j = 0; j < window.length; j++) {
      const { tx, customer, terminal, device } = window[j];
      const t0 = performance.now();
      const vector = featureVector(tx, customer, terminal, options);
      const t1 = performance.now();
      const graph = transactionGraph(tx, vector, customer, terminal, device);
      const t2 = performance.now();
      const { score } = model.score(vector, graph);
      const decision = decide(score, model.thresholds);
      const t3 = performance.now();
      const k = j - WARM_UP;
      if (k >= 0) {
        total[k] = t3 - t0;
        featureTimes[k] = t1 - t0;
        graphTimes[k] = t2 - t1;
        scoring[k] = t3 - t2;
        vectors.push(vector);
        graphs.push(graph);
        decisions[decision] += 1;
        neighbourCount += neighbourTotal(graph);
        withDevice += graph.device ? 1 : 0;
      }
    }
    // The breakdown: each part alone on the same rows (after its own warm-up).
    const sink = { value: 0 };
    const feat = summary(timeEach(n, (i) => featureVector(window[WARM_UP + i].tx, window[WARM_UP + i].customer, window[WARM_UP + i].terminal, options).length, sink));
    const gin = summary(
      timeEach(n, (i) => {
        const { tx, customer, terminal, device } = window[WARM_UP + i];
        return transactionGraph(tx, vectors[i], customer, terminal, device).customer[0];
      }, sink),
    );
    const mar = summary(timeEach(n, (i) => xgb.margin(vectors[i]), sink));
    const con = summary(timeEach(n, (i) => xgb.contributions(vectors[i])[0], sink));
    const gsl = summary(timeEach(n, (i) => graphsage.logit(vectors[i], graphs[i]), sink));
    const all = summary(total);
    const sc = summary(scoring);
    console.log(`model ${model.version} (XGBoost: ${xgb.numTrees} trees, ${xgb.numNodes} nodes, ${xgb.numFeatures} features) serves ${describeServed(folder)}`);
    console.log(
      `in-process path (assess minus state.load: featureVector + transactionGraph + model.score + decide), ${int(n)} transactions after ${int(WARM_UP)} warm-up ` +
        `(history replayed in ${replaySeconds.toFixed(1)} s; ${((withDevice / n) * 100).toFixed(0)}% with a device; ` +
        `on average ${(neighbourCount / n).toFixed(1)} graph neighbours per transaction):`,
    );
    console.log(`  whole path      ${all.text}`);
    console.log(`    featureVector          ${summary(featureTimes).text}`);
    console.log(`    transactionGraph       ${summary(graphTimes).text}`);
    console.log(`    model.score + decide   ${sc.text}`);
    console.log(`  decisions: ${decisions.approve} approve, ${decisions.review} review, ${decisions.decline} decline`);
    console.log(`  GOAL p99 ≤ ${GOAL_P99_MS} ms (excluding store I/O): ${all.p99 <= GOAL_P99_MS ? 'MET' : 'NOT MET'} (p99 ${us(all.p99)}, model ${measured.version})`);
    console.log('  breakdown, each part alone on the same rows:');
    console.log(`    featureVector          ${feat.text}`);
    console.log(`    transactionGraph       ${gin.text}`);
    console.log(`    XGBoost margin         ${mar.text}`);
    console.log(`    XGBoost contributions  ${con.text}`);
    console.log(`    GraphSAGE logit        ${gsl.text}`);
    console.log(
      `    the three model parts' p50s add up to ${us(mar.p50 + con.p50 + gsl.p50)} (model.score + decide in the path: p50 ${us(sc.p50)}; ` +
        'the reasons and the stack are the rest, within the noise)',
    );

    // 3. The evaluators' throughput over the same rows (untimed loops).
    const marginRate = rowsPerSecond(n, 100_000, (i) => xgb.margin(vectors[i]), sink);
    const some = Math.min(n, 10_000);
    const contribRate = rowsPerSecond(some, some, (i) => xgb.contributions(vectors[i])[0], sink);
    const graphRate = rowsPerSecond(some, some, (i) => graphsage.logit(vectors[i], graphs[i]), sink);
    const scoreRate = rowsPerSecond(some, some, (i) => model.score(vectors[i], graphs[i]).score, sink);
    console.log(
      `TS evaluators on ${measured.dir} (${measured.version}), the rows above (one core, untimed loops; ` +
        `the margin over the ${int(n)} rows repeated to ≥ 100,000 calls, the others over the first ${int(some)}):`,
    );
    console.log(
      `  XGBoost margin ${int(marginRate)} rows/s; contributions ${int(contribRate)} rows/s; GraphSAGE logit ${int(graphRate)} rows/s; ` +
        `model.score (all + reasons + stack) ${int(scoreRate)} rows/s`,
    );
    compareXgboost(dir, measured, vectors, xgb, mar, marginRate, pyRows, pySeconds);
    compareTorch(dir, measured, vectors, graphs, graphsage, gsl, graphRate, pyRows, pySeconds);

    // 4. Store I/O, separately: the real DynamoFeatureState against dynalite in its own process.
    await benchStore(rows.slice(Math.max(0, start - preload), start), rows.slice(start, start + storeRows + 200), options, model, sink);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`done in ${((performance.now() - began) / 1000).toFixed(1)} s (model ${measured.version} from ${measured.dir})`);
}

/** xgboost (Python) against the TS evaluator on the same model and rows. */
function compareXgboost(dir: string, measured: Measured, vectors: readonly Float64Array[], xgb: XGBoostModel, margin: Summary, marginRate: number, pyRows: number, pySeconds: number): void {
  const probe = spawnSync(PYTHON, ['-c', 'import xgboost, numpy'], { encoding: 'utf8', timeout: 30_000 });
  if (probe.status !== 0) {
    console.log(`xgboost: NOT AVAILABLE (${PYTHON} cannot import xgboost and numpy: ${why(probe)}); no comparison`);
    return;
  }
  const f = xgb.numFeatures;
  const rowsPath = join(dir, 'rows.f64');
  const flat = new Float64Array(vectors.length * f);
  const margins = new Float64Array(vectors.length);
  const contribs = new Float64Array(vectors.length * (f + 1));
  vectors.forEach((v, i) => {
    flat.set(v, i * f);
    margins[i] = xgb.margin(v);
    contribs.set(xgb.contributions(v), i * (f + 1));
  });
  writeFileSync(rowsPath, flat);
  writeFileSync(`${rowsPath}.margin`, margins);
  writeFileSync(`${rowsPath}.contrib`, contribs);
  const py = spawnSync(PYTHON, ['-c', XGB_SCRIPT, measured.xgboostFile, rowsPath, String(f), String(pyRows), String(pySeconds)], {
    encoding: 'utf8',
    timeout: (pySeconds + 60) * 1000,
    env: { ...process.env, OMP_NUM_THREADS: '1' },
  });
  if (py.status !== 0) {
    console.log(`xgboost: the Python run failed (${py.error?.message ?? `exit ${py.status}`}): ${py.stderr.trim().slice(-500)}`);
    return;
  }
  const r = JSON.parse(py.stdout.trim().split('\n').pop() as string) as XgboostResult;
  const b = r.batch;
  const rate = (seconds: number) => b.rows / seconds;
  console.log(`xgboost ${r.xgboost} (${PYTHON}, nthread=1), same model (${shown(measured.xgboostFile)}), same rows, margins:`);
  console.log(
    `  single-row inplace_predict: p50 ${us(r.single_inplace.p50_ms)}, p99 ${us(r.single_inplace.p99_ms)} (${int(r.single_inplace.rows)} rows)` +
      ` → TS margin p50 is ${(r.single_inplace.p50_ms / margin.p50).toFixed(0)}× faster`,
  );
  console.log(
    `  batch of ${int(b.rows)}: predict(DMatrix) ${int(rate(b.dmatrix_1t_s))} rows/s, inplace_predict ${int(rate(b.inplace_1t_s))} rows/s` +
      ` → TS rows/s ÷ xgboost rows/s = ${(marginRate / rate(b.dmatrix_1t_s)).toFixed(2)} (DMatrix), ${(marginRate / rate(b.inplace_1t_s)).toFixed(2)} (inplace)`,
  );
  console.log(
    `  parity on the ${int(b.rows)} rows: max |margin(TS) − margin(xgboost)| = ${r.max_margin_diff.toExponential(2)}; ` +
      `max |contribution diff| (pred_contribs, approx) = ${r.max_contrib_diff.toExponential(2)}`,
  );
}

/** torch (ml/gnn.py's GraphSage with graphsage.json) against the TS forward pass on the same rows. */
function compareTorch(
  dir: string,
  measured: Measured,
  vectors: readonly Float64Array[],
  graphs: readonly GraphInputs[],
  graphsage: GraphSageModel,
  logit: Summary,
  graphRate: number,
  pyRows: number,
  pySeconds: number,
): void {
  const layout = graphLayout();
  const rowsPath = join(dir, 'graph.f32');
  const flat = new Float32Array(vectors.length * layout.width);
  const logits = new Float64Array(vectors.length);
  vectors.forEach((v, i) => {
    graphRow(flat.subarray(i * layout.width, (i + 1) * layout.width), v, graphs[i]);
    logits[i] = graphsage.logit(v, graphs[i]);
  });
  writeFileSync(rowsPath, flat);
  writeFileSync(`${rowsPath}.json`, JSON.stringify(layout));
  writeFileSync(`${rowsPath}.logit`, logits);
  const py = spawnSync(PYTHON, ['-c', TORCH_SCRIPT, ML_DIR, measured.graphsageFile, rowsPath, String(pyRows), String(pySeconds)], {
    encoding: 'utf8',
    timeout: (pySeconds + 60) * 1000,
    env: { ...process.env, OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' },
  });
  if (py.status !== 0) {
    console.log(`torch: the Python run failed (${py.error?.message ?? `exit ${py.status}`}): ${py.stderr.trim().slice(-500)}`);
    return;
  }
  const r = JSON.parse(py.stdout.trim().split('\n').pop() as string) as TorchResult;
  if (r.unavailable !== undefined || !r.single || !r.batch || r.max_logit_diff === undefined) {
    console.log(`torch: NOT AVAILABLE (${PYTHON} cannot import numpy and torch: ${r.unavailable}); no comparison`);
    return;
  }
  const batchRate = r.batch.rows / r.batch.seconds;
  console.log(`torch ${r.torch} (${PYTHON}, 1 thread, float32), ml/gnn.py GraphSage with ${shown(measured.graphsageFile)}, same rows:`);
  console.log(
    `  single-row forward: p50 ${us(r.single.p50_ms)}, p99 ${us(r.single.p99_ms)} (${int(r.single.rows)} rows)` +
      ` → TS GraphSAGE logit p50 is ${(r.single.p50_ms / logit.p50).toFixed(0)}× faster`,
  );
  console.log(`  batch of ${int(r.batch.rows)}: forward ${int(batchRate)} rows/s → TS rows/s ÷ torch rows/s = ${(graphRate / batchRate).toFixed(2)}`);
  console.log(
    `  parity on the ${int(r.batch.rows)} rows: max |logit(TS, float64) − logit(torch, float32 inputs and weights)| = ${r.max_logit_diff.toExponential(2)}`,
  );
}

async function benchStore(
  history: readonly LabelledTransaction[],
  measured: readonly LabelledTransaction[],
  options: FeatureOptions,
  model: FraudModel,
  sink: { value: number },
): Promise<void> {
  const store = await startLocalStore({});
  const ddb = new DynamoDBClient({ endpoint: store.endpoint, region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  let calls = 0;
  ddb.middlewareStack.add(
    (next) => (args) => {
      calls += 1;
      return next(args);
    },
    { step: 'initialize', name: 'benchFraudCallCounter' },
  );
  const client = DynamoDBDocumentClient.from(ddb, { marshallOptions: { removeUndefinedValues: true } });
  try {
    await ensureTables(store.endpoint, LOCAL_TABLES);
    const state = new DynamoFeatureState(client, LOCAL_TABLES.fraudState, options);
    const deps = { state, model };
    // The preceding history, bounded: at most 15 s, 4 at a time (the observe step with its snapshots, then the label).
    const deadline = performance.now() + 15_000;
    let next = 0;
    let t0 = performance.now();
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next < history.length && performance.now() < deadline) {
          const tx = history[next++];
          await recordCompleted(tx, deps);
          if (tx.label !== undefined) await state.observeLabel(tx, tx.label === 1);
        }
      }),
    );
    const loaded = next;
    console.log(
      `store I/O (DynamoFeatureState + SDK DocumentClient → dynalite in its own process, sequential calls): ` +
        `${int(loaded)} preceding transactions recorded (and labelled) first in ${((performance.now() - t0) / 1000).toFixed(1)} s ` +
        '(a thin history: a customer read back here has far fewer transactions than with the full 37-day window)',
    );
    const warm = Math.min(200, measured.length - 100);
    const count = measured.length - warm;
    const loadTimes = new Float64Array(count);
    const recordTimes = new Float64Array(count);
    const computeTimes = new Float64Array(count);
    let loadCalls = 0;
    let recordCalls = 0;
    let recentItems = 0;
    let dayItems = 0;
    let neighbours = 0;
    let done = 0;
    const stop = performance.now() + 25_000;
    await store.stats(); // the IPC path warm
    for (let i = 0; i < measured.length && performance.now() < stop; i++) {
      const tx = measured[i];
      if (i === warm) store.resetStats();
      const beforeLoad = calls;
      t0 = performance.now();
      const { customer, terminal, device } = await state.load(tx.customerId, tx.terminalId, tx.time, tx.deviceId);
      const t1 = performance.now();
      const vector = featureVector(tx, customer, terminal, options);
      const graph = transactionGraph(tx, vector, customer, terminal, device);
      sink.value += decide(model.score(vector, graph).score, model.thresholds).length;
      const t2 = performance.now();
      const afterLoad = calls;
      await recordCompleted(tx, deps);
      const t3 = performance.now();
      if (i < warm) continue;
      const k = i - warm;
      loadTimes[k] = t1 - t0;
      computeTimes[k] = t2 - t1;
      recordTimes[k] = t3 - t2;
      loadCalls += afterLoad - beforeLoad;
      recordCalls += calls - afterLoad;
      recentItems += customer?.recent.length ?? 0;
      dayItems += terminal?.days.length ?? 0;
      neighbours += neighbourTotal(graph);
      done += 1;
    }
    const stats = await store.stats();
    const fit = (a: Float64Array) => a.subarray(0, done);
    const load = summary(fit(loadTimes));
    const record = summary(fit(recordTimes));
    const assessTimes = fit(loadTimes).map((v, i) => v + computeTimes[i]);
    console.log(`  ${int(done)} transactions timed after ${warm} warm-up (load state, score, then the observe step; each call awaited alone):`);
    console.log(
      `  state.load        ${load.text}; ${(loadCalls / done).toFixed(2)} store calls each ` +
        `(read back on average ${(recentItems / done).toFixed(1)} customer transactions, ${(dayItems / done).toFixed(1)} terminal days, ` +
        `${(neighbours / done).toFixed(1)} graph neighbours)`,
    );
    console.log(
      `  recordCompleted   ${record.text}; ${(recordCalls / done).toFixed(2)} store calls each (its own state.load, the snapshots, then the writes; ` +
        `the writes ≈ ${us(Math.max(0, record.p50 - load.p50))} at p50)`,
    );
    console.log(`  assess with the store (load + in-process path, model ${model.version}): ${summary(assessTimes).text}`);
    console.log(`  store operations served while timed: ${Object.entries(stats).map(([op, k]) => `${op.replace(` ${LOCAL_TABLES.fraudState}`, '')} ${k}`).join(', ')}`);
  } finally {
    client.destroy();
    await store.close();
  }
  if (Number.isNaN(sink.value)) console.log('(unexpected NaN)');
}

if (require.main === module) main().catch(exitOnError('bench:fraud'));
