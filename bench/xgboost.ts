/**
 * `npm run bench:xgboost`: the TypeScript XGBoost evaluator (lambdas/fraud/xgboost.ts) on the fixture model
 * (test/fixtures/xgboost/model.json), against xgboost itself in the same run when /usr/bin/python3 can import it.
 *
 * Rows: a seeded pool of 10,000 rows resampled column-wise from the golden rows (so NaNs keep their rate).
 * TS: warm-up, then --rows predictions timed one by one (p50/p99 per row; the timer adds ~0.1 µs) and an untimed
 * loop for rows/s. Python (nthread=1 unless said otherwise): single-row inplace_predict and single-row
 * predict(DMatrix) timed one by one, then batch predict of all the rows; each phase stops after --py-seconds.
 * Options: --rows 100000 --py-rows 5000 --py-seconds 10
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { XGBoostModel } from '../lambdas/fraud/xgboost';
import { prng, quantile } from './support';

const FIXTURES = join(__dirname, '..', 'test', 'fixtures', 'xgboost');
const PYTHON = '/usr/bin/python3';
const POOL = 10_000;


const us = (ms: number) => `${(ms * 1000).toFixed(2)} µs`;

interface PythonResult {
  xgboost: string;
  single_inplace: { rows: number; p50_ms: number; p99_ms: number };
  single_dmatrix: { rows: number; p50_ms: number; p99_ms: number };
  batch: { rows: number; dmatrix_1t_s: number; inplace_1t_s: number; dmatrix_all_s: number; threads: number };
  max_prob_diff: number;
}

const PY_SCRIPT = String.raw`
import json, os, sys, time
import numpy as np
import xgboost as xgb
model, rows_path, n_feat, max_rows, budget = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
X = np.fromfile(rows_path, dtype=np.float64).reshape(-1, n_feat)
ts_prob = np.fromfile(rows_path + '.prob', dtype=np.float64)
bst = xgb.Booster(model_file=model)
bst.set_param({'nthread': 1})
names = bst.feature_names  # DMatrix predict validates them; inplace_predict on a numpy array does not
def single(fn):
    for i in range(200): fn(X[i:i + 1])  # warm-up
    times, deadline = [], time.perf_counter() + budget
    for i in range(min(max_rows, len(X))):
        row = X[i:i + 1]
        t0 = time.perf_counter_ns(); fn(row); times.append(time.perf_counter_ns() - t0)
        if time.perf_counter() > deadline: break
    t = np.sort(np.array(times)) / 1e6
    return {'rows': len(t), 'p50_ms': float(t[len(t) // 2]), 'p99_ms': float(t[min(len(t) - 1, int(0.99 * len(t)))])}
out = {'xgboost': xgb.__version__}
out['single_inplace'] = single(lambda r: bst.inplace_predict(r, missing=np.nan))
out['single_dmatrix'] = single(lambda r: bst.predict(xgb.DMatrix(r, missing=np.nan, feature_names=names)))
t0 = time.perf_counter(); p = bst.predict(xgb.DMatrix(X, missing=np.nan, feature_names=names)); d1 = time.perf_counter() - t0
t0 = time.perf_counter(); bst.inplace_predict(X, missing=np.nan); i1 = time.perf_counter() - t0
threads = os.cpu_count() or 1
bst.set_param({'nthread': threads})
t0 = time.perf_counter(); bst.predict(xgb.DMatrix(X, missing=np.nan, nthread=threads, feature_names=names)); da = time.perf_counter() - t0
out['batch'] = {'rows': len(X), 'dmatrix_1t_s': d1, 'inplace_1t_s': i1, 'dmatrix_all_s': da, 'threads': threads}
out['max_prob_diff'] = float(np.abs(p.astype(np.float64) - ts_prob).max())
print(json.dumps(out))
`;

function main(): void {
  const { values } = parseArgs({
    options: {
      rows: { type: 'string', default: '100000' },
      'py-rows': { type: 'string', default: '5000' },
      'py-seconds': { type: 'string', default: '10' },
    },
  });
  const n = Number(values.rows);
  const pyRows = Number(values['py-rows']);
  const pySeconds = Number(values['py-seconds']);
  if (!Number.isInteger(n) || n < 1000 || !Number.isInteger(pyRows) || pyRows < 100 || !(pySeconds > 0 && pySeconds <= 60)) {
    throw new Error('--rows must be an integer ≥ 1000, --py-rows an integer ≥ 100, --py-seconds in (0, 60]');
  }

  const modelPath = join(FIXTURES, 'model.json');
  let started = performance.now();
  const model = XGBoostModel.fromFile(modelPath);
  const loadMs = performance.now() - started;
  const golden = JSON.parse(readFileSync(join(FIXTURES, 'golden.json'), 'utf8')) as { rows: (number | null)[][] };
  const random = prng(7);
  const pool = Array.from({ length: POOL }, () =>
    Array.from({ length: model.numFeatures }, (_, f) => golden.rows[Math.floor(random() * golden.rows.length)][f] ?? NaN),
  );
  const missing = pool.flat().filter(Number.isNaN).length / (POOL * model.numFeatures);
  console.log(
    `model: ${model.numTrees} trees, ${model.numNodes} nodes, ${model.numFeatures} features (${model.objective}); ` +
      `loaded and compiled in ${loadMs.toFixed(1)} ms`,
  );
  console.log(`load average ${loadavg()[0].toFixed(2)} on ${cpus().length} cores (other work on the machine slows every figure)`);
  console.log(`rows: a pool of ${POOL} seeded rows, ${(missing * 100).toFixed(1)}% missing (NaN)`);

  // TS: warm-up, per-row latency, then throughput.
  let sink = 0;
  for (let i = 0; i < 20_000; i++) sink += model.predict(pool[i % POOL]);
  const times = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    sink += model.predict(pool[i % POOL]);
    times[i] = performance.now() - t0;
  }
  times.sort();
  started = performance.now();
  const cpu = process.cpuUsage();
  for (let i = 0; i < n; i++) sink += model.predict(pool[i % POOL]);
  const tsSeconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  const tsCpuUs = (used.user + used.system) / n;
  const tsRowsPerSecond = n / tsSeconds;
  started = performance.now();
  for (let i = 0; i < POOL; i++) sink += model.contributions(pool[i])[0];
  const contribUs = ((performance.now() - started) * 1000) / POOL;
  const tsP50 = quantile(times, 0.5);
  console.log(`TS evaluator, ${n} predictions (one core):`);
  console.log(`  per row p50 ${us(tsP50)}, p99 ${us(quantile(times, 0.99))}; ${Math.round(tsRowsPerSecond).toLocaleString('en-US')} rows/s untimed (${tsCpuUs.toFixed(2)} µs CPU per row)`);
  console.log(`  contributions (Saabas) ${contribUs.toFixed(2)} µs per row`);

  const probe = spawnSync(PYTHON, ['-c', 'import xgboost, numpy'], { encoding: 'utf8', timeout: 30_000 });
  if (probe.status !== 0) {
    const why = probe.error ? probe.error.message : (probe.stderr.trim().split('\n').pop() ?? `exit ${probe.status}`);
    console.log(`xgboost: NOT AVAILABLE (${PYTHON} cannot import xgboost and numpy: ${why}); TS figures only`);
    if (Number.isNaN(sink)) console.log('(unexpected NaN)');
    return;
  }

  const dir = mkdtempSync(join(tmpdir(), 'bench-xgb-'));
  try {
    const rowsPath = join(dir, 'rows.f64');
    const flat = new Float64Array(POOL * model.numFeatures);
    pool.forEach((row, i) => flat.set(row, i * model.numFeatures));
    writeFileSync(rowsPath, flat);
    writeFileSync(`${rowsPath}.prob`, model.predictBatch(pool));
    const py = spawnSync(PYTHON, ['-c', PY_SCRIPT, modelPath, rowsPath, String(model.numFeatures), String(pyRows), String(pySeconds)], {
      encoding: 'utf8',
      timeout: (pySeconds * 2 + 60) * 1000,
      env: { ...process.env, OMP_NUM_THREADS: undefined },
    });
    if (py.status !== 0) {
      console.log(`xgboost: the Python run failed (${py.error?.message ?? `exit ${py.status}`}): ${py.stderr.trim().slice(-500)}`);
      return;
    }
    const r = JSON.parse(py.stdout.trim().split('\n').pop() as string) as PythonResult;
    const b = r.batch;
    console.log(`xgboost ${r.xgboost} (${PYTHON}, nthread=1 unless said), same rows:`);
    console.log(
      `  single-row inplace_predict: p50 ${us(r.single_inplace.p50_ms)}, p99 ${us(r.single_inplace.p99_ms)} (${r.single_inplace.rows} rows)` +
        ` → TS is ${(r.single_inplace.p50_ms / tsP50).toFixed(0)}× faster at p50`,
    );
    console.log(
      `  single-row predict(DMatrix(row)): p50 ${us(r.single_dmatrix.p50_ms)}, p99 ${us(r.single_dmatrix.p99_ms)} (${r.single_dmatrix.rows} rows)` +
        ` → TS is ${(r.single_dmatrix.p50_ms / tsP50).toFixed(0)}× faster at p50`,
    );
    const rate = (seconds: number) => b.rows / seconds;
    console.log(
      `  batch of ${b.rows}: predict(DMatrix) ${Math.round(rate(b.dmatrix_1t_s)).toLocaleString('en-US')} rows/s, ` +
        `inplace_predict ${Math.round(rate(b.inplace_1t_s)).toLocaleString('en-US')} rows/s, ` +
        `predict(DMatrix) on ${b.threads} threads ${Math.round(rate(b.dmatrix_all_s)).toLocaleString('en-US')} rows/s`,
    );
    console.log(
      `  TS rows/s ÷ xgboost batch rows/s: ${(tsRowsPerSecond / rate(b.dmatrix_1t_s)).toFixed(2)} (DMatrix, 1 thread), ` +
        `${(tsRowsPerSecond / rate(b.inplace_1t_s)).toFixed(2)} (inplace, 1 thread), ${(tsRowsPerSecond / rate(b.dmatrix_all_s)).toFixed(2)} (DMatrix, ${b.threads} threads)`,
    );
    console.log(`  parity on the ${b.rows} rows: max |prob(TS) − prob(xgboost)| = ${r.max_prob_diff.toExponential(2)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (Number.isNaN(sink)) console.log('(unexpected NaN)');
}

try {
  main();
} catch (error: unknown) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
}
