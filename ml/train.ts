/**
 * `npm run train -- --data transactions.csv [--out DIR]`: the whole training pipeline.
 *
 * 1. Replays the CSV through the serving feature and graph code (`npm run features --graph`), so training
 *    sees exactly what the fraud Lambda will compute.
 * 2. Trains XGBoost, GraphSAGE and their ensemble in Python (ml/train.py; Debian's python3-xgboost and
 *    python3-torch through /usr/bin/python3).
 * 3. Loads the exported folder with the TypeScript code that serves it and checks it against the golden
 *    predictions Python wrote (XGBoost within 1e-6 of xgboost, GraphSAGE within 1e-5 of torch, the ensemble
 *    within 1e-5), so a model that would serve differently is never published.
 *
 * Options: --map, --currency, --feedback-delay-days (as `npm run features`); --train-end, --valid-end,
 * --test-end (YYYY-MM-DD), --warmup-days, --max-rounds, --gnn-epochs, --review-share (0.01), --decline-precision (0.9), --version (passed to ml/train.py); --work DIR (where
 * the features go; default a temporary folder), --python PATH (default /usr/bin/python3), --quiet.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { GraphInputs } from '../lambdas/fraud/graph';
import { loadModelFolder, stack } from '../lambdas/fraud/model';
import { writeFeatures } from './features';

export const DEFAULT_MODEL_DIR = join(__dirname, '..', 'lambdas', 'fraud', 'model');
/** XGBoost against xgboost's predict. */
export const PARITY_TOLERANCE = 1e-6;
/** GraphSAGE (log-odds) against torch's float32 forward pass, and the ensemble's probability. */
export const GRAPH_PARITY_TOLERANCE = 1e-5;

const INSTALL = 'install Python with xgboost and torch (apt-get install python3-xgboost python3-torch python3-numpy)';

function run(command: string, args: string[], quiet: boolean): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', quiet ? 'ignore' : 'inherit', 'inherit'] });
    child.on('error', (error) =>
      reject(
        new Error(
          (error as NodeJS.ErrnoException).code === 'ENOENT'
            ? `${command} not found: ${INSTALL}`
            : error.message,
        ),
      ),
    );
    child.on('exit', (code) => (code === 0 ? resolvePromise() : reject(new Error(`${command} ${args[0]} failed (exit code ${code})`))));
  });
}

interface Golden {
  rows: Array<Array<number | null>>;
  xgboost: number[];
  graph: Array<{ features: Array<number | null> } & Pick<GraphInputs, 'customer' | 'terminal' | 'customerNeighbours' | 'terminalNeighbours'>>;
  graphsage: number[];
  ensemble: number[];
}

export interface Parity {
  readonly rows: number;
  /** |TS − Python| at worst: XGBoost probability, GraphSAGE log-odds, ensemble probability. */
  readonly xgboost: number;
  readonly graphsage: number;
  readonly ensemble: number;
}

const toVector = (row: Array<number | null>) => Float64Array.from(row, (v) => (v === null ? Number.NaN : v));

/**
 * Loads the model folder with the code that serves it and compares it with the golden predictions Python
 * wrote; throws when any model is outside its tolerance.
 */
export function checkParity(modelDir: string): Parity {
  const folder = loadModelFolder(modelDir);
  const golden = JSON.parse(readFileSync(join(modelDir, 'golden.json'), 'utf8')) as Golden;
  if (!(golden.graph?.length === golden.rows.length && golden.graphsage?.length === golden.rows.length && golden.ensemble?.length === golden.rows.length)) {
    throw new Error(`${join(modelDir, 'golden.json')}: needs "graph", "graphsage" and "ensemble" for every row: retrain with npm run train`);
  }
  let xgboost = 0;
  let graphsage = 0;
  let ensemble = 0;
  golden.rows.forEach((row, i) => {
    const vector = toVector(row);
    xgboost = Math.max(xgboost, Math.abs(folder.model.predict(vector) - golden.xgboost[i]));
    // GraphSAGE reads exactly what torch read (the float32 graph row, its features included).
    const g = golden.graph[i];
    const logit = folder.graphsage.logit(toVector(g.features), g);
    graphsage = Math.max(graphsage, Math.abs(logit - golden.graphsage[i]));
    ensemble = Math.max(ensemble, Math.abs(stack(folder.ensemble, folder.model.margin(vector), logit) - golden.ensemble[i]));
  });
  const failures = [
    xgboost <= PARITY_TOLERANCE ? '' : `XGBoost differs from xgboost by ${xgboost} (> ${PARITY_TOLERANCE})`,
    graphsage <= GRAPH_PARITY_TOLERANCE ? '' : `GraphSAGE differs from torch by ${graphsage} (> ${GRAPH_PARITY_TOLERANCE})`,
    ensemble <= GRAPH_PARITY_TOLERANCE ? '' : `the ensemble differs from Python's by ${ensemble} (> ${GRAPH_PARITY_TOLERANCE})`,
  ].filter(Boolean);
  if (failures.length) throw new Error(`${modelDir}: ${failures.join('; ')}; not publishing`);
  return { rows: golden.rows.length, xgboost, graphsage, ensemble };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      data: { type: 'string' },
      out: { type: 'string', default: DEFAULT_MODEL_DIR },
      map: { type: 'string' },
      currency: { type: 'string' },
      'feedback-delay-days': { type: 'string', default: '7' },
      'train-end': { type: 'string' },
      'valid-end': { type: 'string' },
      'test-end': { type: 'string' },
      'warmup-days': { type: 'string' },
      'max-rounds': { type: 'string' },
      'gnn-epochs': { type: 'string' },
      'review-share': { type: 'string' },
      'decline-precision': { type: 'string' },
      version: { type: 'string' },
      work: { type: 'string' },
      python: { type: 'string', default: '/usr/bin/python3' },
      quiet: { type: 'boolean', default: false },
    },
  });
  if (!values.data) throw new Error('usage: npm run train -- --data transactions.csv [--out lambdas/fraud/model] [--map ...] (see ml/README.md)');
  const delay = Number(values['feedback-delay-days']);
  if (!Number.isInteger(delay) || delay < 0 || delay > 90) throw new Error('--feedback-delay-days must be an integer from 0 to 90');
  if (!existsSync(values.python)) throw new Error(`${values.python} not found: ${INSTALL}`);
  const log = values.quiet ? () => undefined : (line: string) => console.error(line);
  const started = Date.now();
  const work = values.work ? resolve(values.work) : mkdtempSync(join(tmpdir(), 'smartpay-train-'));
  const features = join(work, 'features.csv');
  const graph = join(work, 'graph.f32');

  log(`[1/3] features: replaying ${values.data} through lambdas/fraud/features.ts and graph.ts`);
  await writeFeatures(values.data, features, { map: values.map, currency: values.currency, requireLabels: true, features: { feedbackDelayDays: delay }, graphOut: graph, log });

  log('[2/3] training XGBoost, GraphSAGE and the ensemble (ml/train.py)');
  const passThrough = ['train-end', 'valid-end', 'test-end', 'warmup-days', 'max-rounds', 'gnn-epochs', 'review-share', 'decline-precision', 'version'] as const;
  const args = [join(__dirname, 'train.py'), '--features', features, '--graph', graph, '--out', resolve(values.out), '--feedback-delay-days', String(delay), '--source', values.data];
  for (const name of passThrough) if (values[name] !== undefined) args.push(`--${name}`, String(values[name]));
  if (values.quiet) args.push('--quiet');
  await run(values.python, args, values.quiet);

  log('[3/3] parity: the TypeScript serving code against xgboost and torch on the golden rows');
  const parity = checkParity(resolve(values.out));
  log(
    `  ${parity.rows} rows, max |difference|: XGBoost ${parity.xgboost.toExponential(2)} (limit ${PARITY_TOLERANCE}), ` +
      `GraphSAGE ${parity.graphsage.toExponential(2)}, ensemble ${parity.ensemble.toExponential(2)} (limit ${GRAPH_PARITY_TOLERANCE})`,
  );
  log(`done in ${((Date.now() - started) / 1000).toFixed(1)} s: ${resolve(values.out)}`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(`train: ${(error as Error).message}`);
    process.exit(1);
  });
}
