/**
 * `npm run train -- --data transactions.csv [--out DIR]`: the whole training pipeline.
 *
 * 1. Replays the CSV through the serving feature code (`npm run features`), so training sees exactly what
 *    the fraud Lambda will compute.
 * 2. Trains with xgboost in Python (ml/train.py; Debian's python3-xgboost through /usr/bin/python3).
 * 3. Loads the exported model with the TypeScript evaluator that serves it and checks it against the
 *    golden predictions xgboost wrote (parity within 1e-6), so a model that would serve differently is
 *    never published.
 *
 * Options: --map, --currency, --feedback-delay-days (as `npm run features`); --train-end, --valid-end,
 * --test-end (YYYY-MM-DD), --warmup-days, --max-rounds, --version (passed to ml/train.py); --work DIR (where
 * the features go; default a temporary folder), --python PATH (default /usr/bin/python3), --quiet.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { XGBoostModel } from '../lambdas/fraud/xgboost.js';
import { writeFeatures } from './features.js';

export const DEFAULT_MODEL_DIR = join(__dirname, '..', 'lambdas', 'fraud', 'model');
export const PARITY_TOLERANCE = 1e-6;

function run(command: string, args: string[], quiet: boolean): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', quiet ? 'ignore' : 'inherit', 'inherit'] });
    child.on('error', (error) =>
      reject(
        new Error(
          (error as NodeJS.ErrnoException).code === 'ENOENT'
            ? `${command} not found: install Python with xgboost (apt-get install python3-xgboost python3-numpy)`
            : error.message,
        ),
      ),
    );
    child.on('exit', (code) => (code === 0 ? resolvePromise() : reject(new Error(`${command} ${args[0]} failed (exit code ${code})`))));
  });
}

/** Loads the model folder's XGBoost model in TypeScript and compares it with xgboost's golden predictions. */
export function checkParity(modelDir: string): { rows: number; maxAbsDiff: number } {
  const golden = JSON.parse(readFileSync(join(modelDir, 'golden.json'), 'utf8')) as { rows: Array<Array<number | null>>; xgboost: number[] };
  const model = XGBoostModel.fromFile(join(modelDir, 'xgboost.json'));
  let maxAbsDiff = 0;
  golden.rows.forEach((row, i) => {
    const p = model.predict(row.map((v) => (v === null ? Number.NaN : v)));
    maxAbsDiff = Math.max(maxAbsDiff, Math.abs(p - golden.xgboost[i]));
  });
  if (!(maxAbsDiff <= PARITY_TOLERANCE)) {
    throw new Error(`${modelDir}: the TypeScript evaluator differs from xgboost by ${maxAbsDiff} (> ${PARITY_TOLERANCE}); not publishing`);
  }
  return { rows: golden.rows.length, maxAbsDiff };
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
      version: { type: 'string' },
      work: { type: 'string' },
      python: { type: 'string', default: '/usr/bin/python3' },
      quiet: { type: 'boolean', default: false },
    },
  });
  if (!values.data) throw new Error('usage: npm run train -- --data transactions.csv [--out lambdas/fraud/model] [--map ...] (see ml/README.md)');
  const delay = Number(values['feedback-delay-days']);
  if (!Number.isInteger(delay) || delay < 0 || delay > 90) throw new Error('--feedback-delay-days must be an integer from 0 to 90');
  if (!existsSync(values.python)) throw new Error(`${values.python} not found: install Python with xgboost (apt-get install python3-xgboost python3-numpy)`);
  const log = values.quiet ? () => undefined : (line: string) => console.error(line);
  const started = Date.now();
  const work = values.work ? resolve(values.work) : mkdtempSync(join(tmpdir(), 'smartpay-train-'));
  const features = join(work, 'features.csv');

  log(`[1/3] features: replaying ${values.data} through lambdas/fraud/features.ts`);
  await writeFeatures(values.data, features, { map: values.map, currency: values.currency, requireLabels: true, features: { feedbackDelayDays: delay }, log });

  log('[2/3] training with xgboost (ml/train.py)');
  const passThrough = ['train-end', 'valid-end', 'test-end', 'warmup-days', 'max-rounds', 'version'] as const;
  const args = [join(__dirname, 'train.py'), '--features', features, '--out', resolve(values.out), '--feedback-delay-days', String(delay), '--source', values.data];
  for (const name of passThrough) if (values[name] !== undefined) args.push(`--${name}`, String(values[name]));
  if (values.quiet) args.push('--quiet');
  await run(values.python, args, values.quiet);

  log('[3/3] parity: the TypeScript evaluator against xgboost on the golden rows');
  const { rows, maxAbsDiff } = checkParity(resolve(values.out));
  log(`  ${rows} rows, max |difference| ${maxAbsDiff.toExponential(2)} (limit ${PARITY_TOLERANCE})`);
  log(`done in ${((Date.now() - started) / 1000).toFixed(1)} s: ${resolve(values.out)}`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(`train: ${(error as Error).message}`);
    process.exit(1);
  });
}
