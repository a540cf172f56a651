/**
 * `npm run train -- --data transactions.csv [--out DIR]`: the whole training pipeline (`--help` lists every option).
 *
 * 1. Replays the CSV through the serving feature and graph code (`npm run features --graph`), so training
 *    sees exactly what the fraud Lambda will compute. Rows with an empty label are replayed too: they are
 *    history (features, graph edges), never a target.
 * 2. Trains XGBoost, GraphSAGE and their ensemble in Python (ml/train.py, windows in ml/windows.py; Debian's
 *    python3-xgboost and python3-torch through /usr/bin/python3): settings chosen on the most recent labels
 *    the feedback delay allows, then a refit on every usable label.
 * 3. Loads the exported folder with the TypeScript code that serves it and checks it against the golden
 *    predictions Python wrote (XGBoost within 1e-6 of xgboost, GraphSAGE within 1e-5 of torch, the ensemble
 *    within 1e-5), so a model that would serve differently is never published.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { GraphInputs } from '../lambdas/fraud/graph';
import { loadModelFolder, stack } from '../lambdas/fraud/model';
import { AMOUNT_SCALE } from '../lambdas/fraud/usd';
import { calendarDay } from '../lambdas/shared/calendar';
import { checkDataOptions, exitOnError, parseCommandLine, UsageError } from './cli';
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

export const USAGE = [
  'usage: npm run train -- --data transactions.csv [options]',
  '',
  'Replays the CSV through the serving feature code, trains XGBoost, GraphSAGE and their ensemble, checks the',
  'TypeScript serving code against them and writes a model folder. Windows (ml/windows.py):',
  '  warm-up | fit | gap D | valid | (gap D | test) ; then a refit on every usable label.',
  '',
  '  --data CSV                  transactions (docs/fraud-ml.md); an empty label = not known yet (history only)',
  '  --out DIR                   the model folder (default lambdas/fraud/model: the one served)',
  '  --map canonical=COLUMN,...  your column names (docs/fraud-ml.md)',
  '  --currency CODE             the currency when the file has none (default USD)',
  '  --feedback-delay-days N     days before a label is known, for features and windows (default 7)',
  '  --until YYYY-MM-DD          train as of that day: later rows are ignored, and labels of the last N',
  '                              feedback-delay days before it are not known yet (default: the whole file)',
  '  --warmup-days N             skip the start while the 30-day windows fill (default 30)',
  '  --valid-days N              validation: the last N days of usable labels (default 14)',
  '  --test-days N               hold out the last N labelled days and measure the published models (default 0)',
  '  --no-refit                  publish the selection models instead of refitting on every usable label',
  '  --max-rounds N              XGBoost rounds at most (default 600; stops after 40 without a better',
  '                              validation average precision)',
  '  --gnn-epochs N              GraphSAGE epochs at most (default 12; stops after 3 without gain)',
  `  --threads N                 threads for xgboost and torch (default ${availableParallelism()}: the CPUs)`,
  '  --review-share X            share of validation transactions in the review band (default 0.01)',
  '  --decline-precision X       the decline threshold keeps this validation precision (default 0.9)',
  '  --version NAME              the model version (default fraud-<date>-<hash>)',
  '  --work DIR                  where the features go (default a temporary folder)',
  '  --python PATH               Python with numpy, xgboost and torch (default /usr/bin/python3)',
  '  --quiet                     no progress',
  '  --help, -h                  this text',
].join('\n');

/** The file of a model folder that records the options it was trained with (training.json). */
export const TRAINING_FILE = 'training.json';

export const OPTIONS = {
  data: { type: 'string' },
  out: { type: 'string' },
  map: { type: 'string' },
  currency: { type: 'string' },
  'feedback-delay-days': { type: 'string', default: '7' },
  until: { type: 'string' },
  'warmup-days': { type: 'string' },
  'valid-days': { type: 'string' },
  'test-days': { type: 'string' },
  'no-refit': { type: 'boolean', default: false },
  'max-rounds': { type: 'string' },
  'gnn-epochs': { type: 'string' },
  threads: { type: 'string', default: String(availableParallelism()) },
  'review-share': { type: 'string' },
  'decline-precision': { type: 'string' },
  version: { type: 'string' },
  work: { type: 'string' },
  python: { type: 'string', default: '/usr/bin/python3' },
  quiet: { type: 'boolean', default: false },
} as const;

/** A non-negative number option, or a clear error naming it. */
function numberOption(name: string, text: string | undefined, integer: boolean, min: number, max: number): string | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || (integer && !Number.isInteger(value)) || value < min || value > max) {
    throw new UsageError(`--${name} ${text}: must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}`);
  }
  return text;
}

/** Moves a checked staging folder into place: the old folder is kept aside until the new one is in. */
function publish(staging: string, out: string): void {
  const previous = `${out}.previous-${process.pid}`;
  const had = existsSync(out);
  if (had) renameSync(out, previous);
  renameSync(staging, out);
  if (had) rmSync(previous, { recursive: true, force: true });
}

async function main(): Promise<void> {
  const values = parseCommandLine('npm run train', USAGE, OPTIONS);
  if (!values) return;
  if (!values.data) throw new UsageError('--data is required (npm run train -- --help lists the options)');
  checkDataOptions('npm run train', values);
  const delay = Number(numberOption('feedback-delay-days', values['feedback-delay-days'], true, 0, 90));
  numberOption('warmup-days', values['warmup-days'], false, 0, 3650);
  numberOption('valid-days', values['valid-days'], false, 1, 3650);
  numberOption('test-days', values['test-days'], false, 0, 3650);
  numberOption('max-rounds', values['max-rounds'], true, 1, 100_000);
  numberOption('gnn-epochs', values['gnn-epochs'], true, 1, 1000);
  numberOption('threads', values.threads, true, 1, 1024);
  // The review band's share and the decline's precision target: a share of transactions, a precision.
  numberOption('review-share', values['review-share'], false, 0, 0.5);
  numberOption('decline-precision', values['decline-precision'], false, 0.01, 1);
  if (values.until !== undefined && calendarDay(values.until) === undefined) {
    throw new UsageError(`--until ${values.until}: use YYYY-MM-DD, a day of the calendar`);
  }
  if (!existsSync(values.python)) throw new Error(`${values.python} not found: ${INSTALL}`);
  const out = resolve(values.out ?? DEFAULT_MODEL_DIR);
  const log = values.quiet ? () => undefined : (line: string) => console.error(line);
  const started = Date.now();
  // A folder of its own unless --work names one (kept then, for inspection); removed at the end either way it goes.
  const work = values.work ? resolve(values.work) : mkdtempSync(join(tmpdir(), 'smartpay-train-'));
  try {
    await trainIn(work, { ...values, data: values.data }, out, delay, log, started);
  } finally {
    if (!values.work) rmSync(work, { recursive: true, force: true });
  }
}

async function trainIn(
  work: string,
  values: NonNullable<ReturnType<typeof parseCommandLine<typeof OPTIONS>>> & { readonly data: string },
  out: string,
  delay: number,
  log: (line: string) => void,
  started: number,
): Promise<void> {
  const features = join(work, 'features.csv');
  const graph = join(work, 'graph.f32');

  log(`[1/3] features: replaying ${values.data} through lambdas/fraud/features.ts and graph.ts`);
  await writeFeatures(values.data, features, { map: values.map, currency: values.currency, requireLabels: true, features: { feedbackDelayDays: delay }, graphOut: graph, log });

  log('[2/3] training XGBoost, GraphSAGE and the ensemble (ml/train.py)');
  const passThrough = ['until', 'warmup-days', 'valid-days', 'test-days', 'max-rounds', 'gnn-epochs', 'threads', 'review-share', 'decline-precision', 'version'] as const;
  // Python writes a staging folder beside the destination; it replaces the destination only after the parity
  // check, so a failed run never leaves a half-written or unservable model where one is served.
  const staging = `${out}.staging-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  const args = [join(__dirname, 'train.py'), '--features', features, '--graph', graph, '--out', staging, '--feedback-delay-days', String(delay), '--source', values.data, '--amount-scale', AMOUNT_SCALE];
  for (const name of passThrough) if (values[name] !== undefined) args.push(`--${name}`, String(values[name]));
  if (values['no-refit']) args.push('--no-refit');
  if (values.quiet) args.push('--quiet');
  await run(values.python, args, values.quiet);

  log('[3/3] parity: the TypeScript serving code against xgboost and torch on the golden rows');
  const parity = checkParity(staging);
  // How the folder was made, so it can be made again or rescored the same way (npm run score reads map and currency from it).
  const made = Object.fromEntries(Object.entries(values).filter(([name, value]) => value !== undefined && !['out', 'work', 'python', 'quiet', 'threads', 'help'].includes(name)));
  writeFileSync(join(staging, TRAINING_FILE), `${JSON.stringify({ command: 'npm run train', options: made }, null, 2)}\n`);
  publish(staging, out);
  log(
    `  ${parity.rows} rows, max |difference|: XGBoost ${parity.xgboost.toExponential(2)} (limit ${PARITY_TOLERANCE}), ` +
      `GraphSAGE ${parity.graphsage.toExponential(2)}, ensemble ${parity.ensemble.toExponential(2)} (limit ${GRAPH_PARITY_TOLERANCE})`,
  );
  log(`done in ${((Date.now() - started) / 1000).toFixed(1)} s: ${out}`);
}

if (require.main === module) main().catch(exitOnError('train'));
