/**
 * `npm run test:ml`: the training pipeline end to end on a small simulated set, with Debian's Python
 * (numpy, xgboost, torch): simulate → features and graph inputs (the serving code) → XGBoost, GraphSAGE and
 * the ensemble → a model folder that the TypeScript serving code loads with parity.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FEATURE_NAMES } from '../../lambdas/fraud/features';
import { checkParity } from '../../ml/train';

const root = join(__dirname, '..', '..');
const work = mkdtempSync(join(tmpdir(), 'smartpay-test-ml-'));
const run = (args: string[]) => execFileSync('node', ['--import', 'tsx', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });

test('simulate, train and serve with parity; an unlabelled tail is history, not an error', () => {
  const simulated = join(work, 'sim.csv');
  execFileSync('/usr/bin/python3', ['ml/simulate.py', '--out', simulated, '--customers', '1200', '--terminals', '250', '--days', '90', '--seed', '3', '--quiet'], { cwd: root });
  // Real data ends with transactions whose labels are not known yet: blank the labels of the last 5 days.
  const [header, ...lines] = readFileSync(simulated, 'utf8').trimEnd().split('\n');
  const labelAt = header.split(',').indexOf('label');
  const tailFrom = '2026-03-27';
  let blanked = 0;
  const data = join(work, 'tail.csv');
  const rows = lines.map((line) => {
    const cells = line.split(',');
    if (cells[1] < tailFrom) return line;
    blanked += 1;
    cells[labelAt] = '';
    return cells.join(',');
  });
  writeFileSync(data, `${[header, ...rows].join('\n')}\n`);
  expect(blanked).toBeGreaterThan(1000);
  const out = join(work, 'model');
  run(['ml/train.ts', '--data', data, '--out', out, '--test-days', '14', '--threads', '1', '--quiet']);
  for (const file of ['xgboost.json', 'graphsage.json', 'manifest.json', 'metrics.json', 'golden.json', 'MODEL_CARD.md']) expect(existsSync(join(out, file))).toBe(true);
  const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
  for (const name of ['xgboost', 'graphsage', 'ensemble']) {
    const m = metrics.test[name];
    for (const value of [m.auc_roc, m.average_precision, m.precision_at_100]) {
      expect(value).toBeGreaterThanOrEqual(0);
      expect(value).toBeLessThanOrEqual(1);
    }
    // Better than chance on held-out time: the features and the graph carry signal.
    expect(m.auc_roc).toBeGreaterThan(0.8);
  }
  const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
  expect(manifest.features).toEqual([...FEATURE_NAMES]);
  expect(manifest.ensemble.kind).toBe('logistic-stack');
  // The unlabelled tail: replayed as history, never a label; every window ends before it.
  expect(manifest.data.unlabelled).toBe(blanked);
  expect(manifest.windows.labelsKnownUntil < `${tailFrom}T00:00:01Z`).toBe(true);
  expect(manifest.windows.test[1] <= manifest.windows.labelsKnownUntil).toBe(true);
  // Settings chosen on validation, then a refit on every usable label up to the test window's gap.
  expect(manifest.training).toMatchObject({ refit: true, stoppingMetric: 'aucpr' });
  expect(manifest.training.trees).toBeLessThanOrEqual(manifest.training.roundsRun);
  expect(manifest.windows.refit[1]).toBe(manifest.windows.valid[1]);
  expect(manifest.windows.fit[1] < manifest.windows.valid[0]).toBe(true);
  // The combiner says what it chose, and a single model is published as exactly itself.
  expect(['stack', 'xgboost', 'graphsage']).toContain(manifest.ensemble.chosen);
  if (manifest.ensemble.chosen !== 'stack') expect(manifest.ensemble.bias).toBe(0);
  const card = readFileSync(join(out, 'MODEL_CARD.md'), 'utf8');
  expect(card).toContain(`${manifest.training.trees} trees`);
  expect(card).toContain('early stopping on validation average precision');
  expect(card).toContain(`chosen **${manifest.ensemble.chosen}**`);
  const parity = checkParity(out);
  expect(parity.xgboost).toBeLessThanOrEqual(1e-6);
  expect(parity.graphsage).toBeLessThanOrEqual(1e-5);
  expect(parity.ensemble).toBeLessThanOrEqual(1e-5);
}, 240_000);

test('a file without labels cannot be trained on, and says so', () => {
  const data = join(work, 'nolabels.csv');
  writeFileSync(data, 'tx_id,timestamp,customer_id,terminal_id,amount\na,2026-01-01T00:00:00Z,c,t,1.00\n');
  expect(() => run(['ml/train.ts', '--data', data, '--out', join(work, 'm2'), '--quiet'])).toThrow(/missing column "label"/);
});
