/**
 * The served fraud model: a model folder written by `npm run train` (manifest.json + xgboost.json), loaded
 * once at cold start. A missing or corrupt folder fails the start with a message naming the file, so a
 * broken deployment never scores. The manifest's feature list must equal the serving code's FEATURE_NAMES.
 */
import { existsSync, readFileSync } from 'node:fs';
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

export interface ModelFolder {
  readonly dir: string;
  readonly version: string;
  readonly feedbackDelayDays: number;
  readonly thresholds: { readonly review: number; readonly decline: number };
  readonly model: XGBoostModel;
}

/** Loads and checks a model folder; every error names the file at fault. */
export function loadModelFolder(dir: string): ModelFolder {
  const manifestPath = join(dir, 'manifest.json');
  if (!existsSync(manifestPath)) {
    throw new Error(`${manifestPath}: no such file (a model folder holds manifest.json and the model it names; train one with npm run train)`);
  }
  let manifest: Record<string, unknown>;
  try {
    const json: unknown = JSON.parse(readFileSync(manifestPath, 'utf8'));
    if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error('not a JSON object');
    manifest = json as Record<string, unknown>;
  } catch (error) {
    throw new Error(`${manifestPath}: not a valid manifest (${(error as Error).message})`);
  }
  const fail = (detail: string): never => {
    throw new Error(`${manifestPath}: ${detail}`);
  };
  const version = manifest.version;
  if (typeof version !== 'string' || version === '') fail('"version" is missing or not a string');

  const raw = manifest.features;
  if (!Array.isArray(raw) || !raw.every((f) => typeof f === 'string')) fail('"features" is missing or not a list of names');
  const features = raw as string[];
  const expected: readonly string[] = FEATURE_NAMES;
  if (features.length !== expected.length || features.some((f, i) => f !== expected[i])) {
    const missing = expected.filter((f) => !features.includes(f));
    const extra = features.filter((f) => !expected.includes(f));
    const detail = [missing.length ? `not in the model: ${missing.join(', ')}` : '', extra.length ? `no longer computed: ${extra.join(', ')}` : '']
      .filter(Boolean)
      .join('; ');
    fail(
      `the model expects features [${features.join(', ')}] but this code computes [${expected.join(', ')}]` +
        `${detail ? ` (${detail})` : ' (a different order)'}: retrain with npm run train`,
    );
  }

  const delay = manifest.feedbackDelayDays;
  if (typeof delay !== 'number' || !Number.isInteger(delay) || delay < 0 || delay > 90) {
    fail(`"feedbackDelayDays" must be an integer from 0 to 90 (${JSON.stringify(delay)})`);
  }

  const thresholds = manifest.thresholds as Record<string, unknown> | undefined;
  const review = thresholds?.review;
  const decline = thresholds?.decline;
  if (typeof review !== 'number' || typeof decline !== 'number' || !(review >= 0 && review <= decline && decline <= 1)) {
    fail(`"thresholds" must be {"review": r, "decline": d} with 0 ≤ r ≤ d ≤ 1 (${JSON.stringify(manifest.thresholds)})`);
  }

  const models = manifest.models as Record<string, unknown> | undefined;
  const file = models?.xgboost;
  if (typeof file !== 'string' || file === '') fail('"models.xgboost" (the model file) is missing');
  const modelPath = join(dir, file as string);
  if (!existsSync(modelPath)) throw new Error(`${modelPath}: no such file (named by ${manifestPath} in models.xgboost)`);
  const model = XGBoostModel.fromFile(modelPath); // its errors name the file
  if (model.numFeatures !== expected.length) {
    throw new Error(`${modelPath}: the model has ${model.numFeatures} features (num_feature) but ${manifestPath} lists ${expected.length}: retrain with npm run train`);
  }
  return {
    dir,
    version: version as string,
    feedbackDelayDays: delay as number,
    thresholds: { review: review as number, decline: decline as number },
    model,
  };
}

/** The features with the largest positive contributions (the bias term excluded), largest first. */
export function topContributions(contributions: ArrayLike<number>, n: number): number[] {
  const picked: number[] = [];
  for (let f = 0; f < FEATURE_NAMES.length; f += 1) if (contributions[f] > 0) picked.push(f);
  picked.sort((a, b) => contributions[b] - contributions[a] || a - b);
  return picked.slice(0, n);
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'missing';
  return Number.isInteger(value) ? String(value) : value.toFixed(4).replace(/0+$/, '');
}

export function loadFraudModel(dir: string = DEFAULT_MODEL_DIR): FraudModel {
  const folder = loadModelFolder(dir);
  const { model: xgboost } = folder;
  return {
    version: folder.version,
    thresholds: { reviewThreshold: folder.thresholds.review, declineThreshold: folder.thresholds.decline },
    feedbackDelayDays: folder.feedbackDelayDays,
    score(vector) {
      const contributions = xgboost.contributions(vector);
      const reasons = topContributions(contributions, TOP_REASONS).map((f) => ({
        code: FEATURE_NAMES[f],
        weight: Math.round(contributions[f] * 10_000) / 10_000,
        detail: `${FEATURE_NAMES[f]} = ${formatValue(vector[f])}`,
      }));
      return { score: xgboost.predict(vector), reasons };
    },
  };
}
