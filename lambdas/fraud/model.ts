/**
 * The served fraud model: a model folder written by `npm run train` (manifest.json + xgboost.json), loaded
 * once at cold start. A missing or corrupt folder fails the start with a message naming the file, so a
 * broken deployment never scores. The manifest's feature list must equal the serving code's FEATURE_NAMES.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FEATURE_NAMES } from './features.js';
import { XGBoostModel } from './xgboost.js';

export interface Thresholds {
  readonly reviewThreshold: number;
  readonly declineThreshold: number;
}

export interface FraudReason {
  /** The feature. */
  readonly code: string;
  /** Its contribution to the score, in log-odds (Saabas attribution). */
  readonly weight: number;
  /** The feature and its value, for people. */
  readonly detail: string;
}

export interface ModelScore {
  readonly score: number;
  readonly reasons: FraudReason[];
}

export interface FraudModel {
  readonly version: string;
  /** The thresholds the model was trained with (a stage may override them). */
  readonly thresholds: Thresholds;
  readonly feedbackDelayDays: number;
  score(vector: Float64Array): ModelScore;
}

/** The model shipped with the code (trained on simulator data; see its MODEL_CARD.md). */
export const DEFAULT_MODEL_DIR = join(__dirname, 'model');
const TOP_REASONS = 3;

interface Manifest {
  version: string;
  features: string[];
  feedbackDelayDays: number;
  models: { xgboost: string };
  thresholds: { review: number; decline: number };
}

function fail(file: string, problem: string): never {
  throw new Error(`fraud model: ${file}: ${problem}`);
}

function readManifest(dir: string): Manifest {
  const file = join(dir, 'manifest.json');
  let manifest: Manifest;
  try {
    manifest = JSON.parse(readFileSync(file, 'utf8')) as Manifest;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    fail(file, code === 'ENOENT' ? 'not found (train one with npm run train)' : `unreadable: ${(error as Error).message}`);
  }
  if (typeof manifest?.version !== 'string' || !manifest.version) fail(file, 'has no version');
  if (!Array.isArray(manifest.features)) fail(file, 'has no features list');
  const expected = FEATURE_NAMES.join(',');
  if (manifest.features.join(',') !== expected) {
    fail(file, `the model expects the features [${manifest.features.join(', ')}] but this code computes [${FEATURE_NAMES.join(', ')}]; retrain with npm run train`);
  }
  const { review, decline } = manifest.thresholds ?? {};
  if (!(typeof review === 'number' && typeof decline === 'number' && review >= 0 && review <= decline && decline <= 1)) {
    fail(file, 'thresholds must be numbers with 0 ≤ review ≤ decline ≤ 1');
  }
  if (typeof manifest.feedbackDelayDays !== 'number' || manifest.feedbackDelayDays < 0) fail(file, 'has no feedbackDelayDays');
  if (typeof manifest.models?.xgboost !== 'string') fail(file, 'names no xgboost model file');
  return manifest;
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'missing';
  return Number.isInteger(value) ? String(value) : value.toFixed(4).replace(/0+$/, '');
}

export function loadFraudModel(dir: string = DEFAULT_MODEL_DIR): FraudModel {
  const manifest = readManifest(dir);
  const xgboost = XGBoostModel.fromFile(join(dir, manifest.models.xgboost));
  if (xgboost.numFeatures !== FEATURE_NAMES.length) {
    fail(join(dir, manifest.models.xgboost), `has ${xgboost.numFeatures} features, the serving code computes ${FEATURE_NAMES.length}`);
  }
  return {
    version: manifest.version,
    thresholds: { reviewThreshold: manifest.thresholds.review, declineThreshold: manifest.thresholds.decline },
    feedbackDelayDays: manifest.feedbackDelayDays,
    score(vector) {
      const score = xgboost.predict(vector);
      const contributions = xgboost.contributions(vector);
      const reasons = FEATURE_NAMES.map((name, i) => ({ code: name, weight: contributions[i], value: vector[i] }))
        .filter((r) => r.weight > 0)
        .sort((a, b) => b.weight - a.weight)
        .slice(0, TOP_REASONS)
        .map((r) => ({ code: r.code, weight: Math.round(r.weight * 10_000) / 10_000, detail: `${r.code} = ${formatValue(r.value)}` }));
      return { score: Math.round(score * 1e6) / 1e6, reasons };
    },
  };
}
