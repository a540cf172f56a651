/**
 * The model shipped in lambdas/fraud/model (trained by `npm run train` on the simulator's default data) is
 * served by the TypeScript evaluator exactly as xgboost scored it, and expects the features the serving
 * code computes, in the same order. A change to features.ts without retraining fails here.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FEATURE_NAMES } from '../../lambdas/fraud/features';
import { XGBoostModel } from '../../lambdas/fraud/xgboost';
import { checkParity, DEFAULT_MODEL_DIR } from '../../ml/train';

const manifest = JSON.parse(readFileSync(join(DEFAULT_MODEL_DIR, 'manifest.json'), 'utf8'));
const metrics = JSON.parse(readFileSync(join(DEFAULT_MODEL_DIR, 'metrics.json'), 'utf8'));

test('the shipped model expects exactly the serving features, in order', () => {
  expect(manifest.features).toEqual([...FEATURE_NAMES]);
  expect(XGBoostModel.fromFile(join(DEFAULT_MODEL_DIR, manifest.models.xgboost)).featureNames).toEqual([...FEATURE_NAMES]);
});

test('the TypeScript evaluator matches xgboost on the golden rows (1e-6)', () => {
  const { rows, maxAbsDiff } = checkParity(DEFAULT_MODEL_DIR);
  expect(rows).toBeGreaterThanOrEqual(200);
  expect(maxAbsDiff).toBeLessThanOrEqual(1e-6);
});

test('the manifest carries ordered thresholds and the test-window metrics are real', () => {
  expect(manifest.thresholds.review).toBeGreaterThan(0);
  expect(manifest.thresholds.decline).toBeGreaterThanOrEqual(manifest.thresholds.review);
  expect(metrics.test.xgboost.auc_roc).toBeGreaterThan(0.9);
  expect(metrics.test.xgboost.frauds).toBeGreaterThan(100);
});
