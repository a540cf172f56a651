/**
 * `npm run bench:fraud-protocol`: the fraud pipeline against a plain XGBoost on the Fraud Detection
 * Handbook's rolling-window features, trained on the same labels, on the handbook's protocol (issue 16):
 * labels known before a cut-off C, a feedback delay D (7 days), a test week from C + D, and the customers
 * known to be compromised removed from it (ml/protocol.py).
 *
 * For each world:
 * 1. generate it: `nodevice` = our simulator without devices (`ml/simulate.py --no-devices`), `handbook` = the
 *    harder re-implementation of the handbook's generator (`ml/handbook.py --world drift`), `classic` = the
 *    handbook's generator as published (`--world classic`), `default` = our simulator as it is;
 * 2. train the whole pipeline as of the test week's start (`npm run train -- --until C+D`: labels known
 *    before C, the delay's rows as history);
 * 3. score the test week as serving would (`npm run score`: the ensemble and each model);
 * 4. evaluate on the protocol's test rows beside the two baselines (`ml/protocol.py`), and with `--ablation`
 *    run the feature-group ablation on the same rows (`ml/ablation.py`).
 * The goal (issue 16): on `nodevice` and `handbook`, the ensemble's AP ≥ the better baseline's + 0.03.
 *
 * Options: --worlds nodevice,handbook --work DIR (kept, so a second run reuses the data) --threads N
 *          --ablation --quick (small worlds, for a smoke run) --help
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { FEATURE_GROUPS } from '../lambdas/fraud/features';
import { exitOnError, parseCommandLine, UsageError } from '../ml/cli';

const ROOT = join(__dirname, '..');
const PYTHON = '/usr/bin/python3';
const DAY_MS = 86_400_000;
const DELAY_DAYS = 7;
const TEST_DAYS = 7;
const GOAL_AP_DELTA = 0.03;

interface World {
  readonly name: string;
  readonly describe: string;
  /** The generator's command line, without --out. */
  readonly generate: (quick: boolean) => string[];
  /** C: labels of transactions before this day are known. */
  readonly cutoff: (quick: boolean) => string;
  /** Whether issue 16's goal applies to it. */
  readonly goal: boolean;
}

const day = (iso: string, plus: number) => new Date(Date.parse(`${iso}T00:00:00Z`) + plus * DAY_MS).toISOString().slice(0, 10);
// Our simulator: 120 days from 2026-01-01 (quick: 90); the test week is its last week.
const simulated = (extra: string[]) => (quick: boolean) => ['ml/simulate.py', ...extra, ...(quick ? ['--customers', '1500', '--terminals', '300', '--days', '90'] : []), '--quiet'];
const simulatedCutoff = (quick: boolean) => day('2026-01-01', (quick ? 90 : 120) - TEST_DAYS - DELAY_DAYS);
// The handbook's generator (183 days from 2018-04-01; quick: 140, enough for the test week).
const handbook = (world: 'drift' | 'classic') => (quick: boolean) => ['ml/handbook.py', '--world', world, ...(quick ? ['--customers', '1500', '--terminals', '3000', '--days', '140'] : []), '--quiet'];

const WORLDS: Record<string, World> = {
  nodevice: { name: 'nodevice', describe: 'our simulator without devices', generate: simulated(['--no-devices']), cutoff: simulatedCutoff, goal: true },
  default: { name: 'default', describe: 'our simulator (devices included)', generate: simulated([]), cutoff: simulatedCutoff, goal: false },
  handbook: {
    name: 'handbook',
    describe: "the handbook's generator, harder: drifting compromises (ml/handbook.py --world drift)",
    generate: handbook('drift'),
    // The held-back benchmark's cut-off: labels known to 2018-07-31, test 2018-08-08 to 08-14.
    cutoff: () => '2018-08-01',
    goal: true,
  },
  classic: {
    name: 'classic',
    describe: "the handbook's generator as published (ml/handbook.py --world classic)",
    generate: handbook('classic'),
    cutoff: () => '2018-08-01',
    goal: false,
  },
};

export const OPTIONS = {
  worlds: { type: 'string', default: 'nodevice,handbook' },
  work: { type: 'string' },
  threads: { type: 'string', default: String(availableParallelism()) },
  ablation: { type: 'boolean', default: false },
  quick: { type: 'boolean', default: false },
} as const;

export const USAGE = [
  'usage: npm run bench:fraud-protocol -- [--worlds nodevice,handbook] [--work DIR] [--threads N] [--ablation] [--quick]',
  '',
  "Trains the fraud pipeline as of a test week and compares it with a plain XGBoost on the handbook's features,",
  "trained on the same labels, on the handbook's protocol (ml/protocol.py). Goal: ensemble AP >= best baseline + 0.03.",
  '',
  `  --worlds LIST   comma-separated, from: ${Object.values(WORLDS).map((w) => `${w.name} (${w.describe})`).join('; ')}`,
  '                  (default nodevice,handbook: the goal worlds)',
  '  --work DIR      where data, models and reports go; kept, and data already there is reused (default a temporary folder)',
  `  --threads N     threads for xgboost and torch (default ${availableParallelism()}: the CPUs)`,
  '  --ablation      also the feature-group ablation on each world (XGBoost, about 1 min a group)',
  '  --quick         small worlds, for a smoke run (figures not comparable with the goal)',
  '  --help, -h      this text',
].join('\n');

function run(command: string, args: string[], options: { stdout?: string } = {}): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', options.stdout ? 'pipe' : 'inherit', 'inherit'] });
    const chunks: Buffer[] = [];
    child.stdout?.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      process.stdout.write(chunk);
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (options.stdout) writeFileSync(options.stdout, Buffer.concat(chunks));
      if (code === 0) resolvePromise();
      else reject(new Error(`${command} ${args.slice(0, 2).join(' ')} failed (exit code ${code})`));
    });
  });
}

interface Metrics {
  readonly rows: number;
  readonly frauds: number;
  readonly auc_roc: number;
  readonly average_precision: number;
}

interface Outcome {
  readonly world: World;
  readonly metrics: Record<string, Metrics>;
  readonly bestBaseline: string;
  readonly removed: number;
  readonly chosen: string;
}

async function benchWorld(world: World, work: string, quick: boolean, threads: number, ablation: boolean): Promise<Outcome> {
  const dir = join(work, world.name + (quick ? '-quick' : ''));
  mkdirSync(dir, { recursive: true });
  const data = join(dir, 'transactions.csv');
  const cutoff = world.cutoff(quick);
  const testStart = day(cutoff, DELAY_DAYS);
  const testLast = day(testStart, TEST_DAYS - 1);
  const t0 = Date.now();
  const step = (text: string) => console.error(`\n== ${world.name}: ${text} (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  if (existsSync(data)) step(`reusing ${data}`);
  else {
    step(`generating ${world.describe}`);
    await run(PYTHON, [...world.generate(quick), '--out', data]);
  }
  step(`training as of ${testStart} (labels known before ${cutoff})`);
  const model = join(dir, 'model');
  await run('node', ['--import', 'tsx', 'ml/train.ts', '--data', data, '--out', model, '--work', join(dir, 'train'), '--until', testStart, '--threads', String(threads)]);
  step(`scoring the test week ${testStart} .. ${testLast}`);
  const scores = join(dir, 'scores.csv');
  await run('node', ['--import', 'tsx', 'ml/score.ts', '--data', data, '--model', model, '--from', testStart, '--to', testLast, '--out', scores]);
  step('the protocol: baselines and our scores on the same test rows');
  const report = join(dir, 'protocol.json');
  await run(PYTHON, ['ml/protocol.py', '--data', data, '--cutoff', cutoff, '--delay-days', String(DELAY_DAYS), '--test-days', String(TEST_DAYS), '--scores', scores, '--json', report, '--threads', String(threads)]);
  if (ablation) {
    step('feature-group ablation (XGBoost)');
    const groups = join(dir, 'groups.json');
    writeFileSync(groups, JSON.stringify(FEATURE_GROUPS, null, 2));
    await run(PYTHON, ['ml/ablation.py', '--features', join(dir, 'train', 'features.csv'), '--groups', groups, '--cutoff', cutoff, '--json', join(dir, 'ablation.json'), '--threads', String(threads)]);
  }
  const json = JSON.parse(readFileSync(report, 'utf8')) as { metrics: Record<string, Metrics>; best_baseline: string; test: { removed_rows: number } };
  const manifest = JSON.parse(readFileSync(join(model, 'manifest.json'), 'utf8')) as { ensemble: { chosen?: string } };
  return { world, metrics: json.metrics, bestBaseline: json.best_baseline, removed: json.test.removed_rows, chosen: manifest.ensemble.chosen ?? 'stack' };
}

async function main(): Promise<void> {
  const values = parseCommandLine('npm run bench:fraud-protocol', USAGE, OPTIONS);
  if (!values) return;
  const names = values.worlds.split(',').map((w) => w.trim()).filter(Boolean);
  const unknown = names.filter((w) => !(w in WORLDS));
  if (unknown.length || !names.length) throw new UsageError(`--worlds: unknown ${unknown.join(', ') || '(none given)'}; use ${Object.keys(WORLDS).join(', ')}`);
  const threads = Number(values.threads);
  if (!Number.isInteger(threads) || threads < 1) throw new UsageError(`--threads ${values.threads}: must be a positive integer`);
  const work = values.work ?? join(tmpdir(), 'smartpay-bench-fraud-protocol');
  const started = Date.now();
  const outcomes: Outcome[] = [];
  for (const name of names) outcomes.push(await benchWorld(WORLDS[name], work, values.quick, threads, values.ablation));

  console.log(`\nbench:fraud-protocol: the handbook's protocol (delay ${DELAY_DAYS} d, test ${TEST_DAYS} d, known compromised customers removed)${values.quick ? ', QUICK worlds' : ''}`);
  console.log(`${'world'.padEnd(10)} ${'test rows'.padStart(9)} ${'frauds'.padStart(6)} | ${'ensemble'.padStart(15)} ${'xgboost'.padStart(15)} ${'graphsage'.padStart(15)} | ${'base plain'.padStart(15)} ${'base tuned'.padStart(15)} | ${'AP delta'.padStart(8)} goal`);
  const cell = (m?: Metrics) => (m ? `${m.average_precision.toFixed(3)} / ${m.auc_roc.toFixed(3)}`.padStart(15) : '-'.padStart(15));
  let missed = 0;
  for (const o of outcomes) {
    const ens = o.metrics.score;
    const delta = ens.average_precision - o.metrics[o.bestBaseline].average_precision;
    const met = delta >= GOAL_AP_DELTA;
    if (o.world.goal && !met) missed += 1;
    console.log(
      `${o.world.name.padEnd(10)} ${ens.rows.toLocaleString('en-US').padStart(9)} ${String(ens.frauds).padStart(6)} | ${cell(ens)} ${cell(o.metrics.score_xgboost)} ${cell(o.metrics.score_graphsage)} | ` +
        `${cell(o.metrics['baseline plain'])} ${cell(o.metrics['baseline tuned'])} | ${(delta >= 0 ? '+' : '') + delta.toFixed(3)} ${o.world.goal ? (met ? 'met' : 'MISSED') : '(no goal)'}`,
    );
  }
  console.log(`cells: average precision / AUC ROC on the protocol's test rows; AP delta = ensemble − the better baseline; goal +${GOAL_AP_DELTA}`);
  console.log(`combiner chosen on validation: ${outcomes.map((o) => `${o.world.name} ${o.chosen}`).join(', ')}; reports in ${work}; ${((Date.now() - started) / 60_000).toFixed(1)} min`);
  if (missed) process.exitCode = 1;
}

if (require.main === module) main().catch(exitOnError('bench:fraud-protocol'));
