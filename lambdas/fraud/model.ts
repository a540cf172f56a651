/**
 * The served fraud model: a model folder written by `npm run train` (manifest.json, xgboost.json,
 * graphsage.json), loaded once at cold start. A missing or corrupt folder fails the start with a message
 * naming the file, so a broken deployment never scores. The manifest's feature list must equal the serving
 * code's FEATURE_NAMES.
 *
 * The score is the ensemble: a logistic stack of XGBoost's log-odds (on the feature vector) and GraphSAGE's
 * (on the graph inputs), fitted on the validation window. The reasons are the features that pushed the
 * ensemble's log-odds up most (XGBoost's Saabas contributions times its stack weight), with the graph
 * neighbourhood as one more candidate (GraphSAGE's log-odds above its validation mean, times its weight).
 */
import type { FraudReason } from '../../contracts/api';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DOLLAR_FEATURES, FEATURE_NAMES, type FeatureName } from './features';
import { GraphSageModel, type GraphInputs } from './graph';
import { AMOUNT_SCALE } from './usd';
import { XGBoostModel } from './xgboost';
import { logit, sigmoid } from '../shared/logistic';

export interface Thresholds {
  readonly reviewThreshold: number;
  readonly declineThreshold: number;
}

/** A feature that pushed the score up, with its contribution in log-odds (contracts/api.ts). */
export type { FraudReason };

export interface ModelScore {
  readonly score: number;
  readonly reasons: FraudReason[];
  /** The log-odds the stack combined: XGBoost's (or the endpoint's) and GraphSAGE's (backtests report each). */
  readonly xgboostMargin: number;
  readonly graphsageLogit: number;
}

export interface FraudModel {
  readonly version: string;
  /** The thresholds the model was trained with (a stage may override them). */
  readonly thresholds: Thresholds;
  readonly feedbackDelayDays: number;
  /**
   * The ensemble's score. `xgboostProbability` replaces the embedded XGBoost's (the SageMaker endpoint hosts
   * the same booster); the reasons always come from the embedded one.
   */
  score(vector: Float64Array, graph: GraphInputs, xgboostProbability?: number): ModelScore;
}

/** The stack: sigmoid(w₀·xgboost log-odds + w₁·GraphSAGE log-odds + bias). */
export interface Ensemble {
  readonly weights: readonly [number, number];
  readonly bias: number;
  /** GraphSAGE's mean log-odds on validation: the graph reason counts from there. */
  readonly graphsageBaseline: number;
}

/** The reason code of the graph neighbourhood (GraphSAGE) in a score's reasons. */
export const GRAPH_REASON = 'graph_neighbourhood';

/** The model shipped with the code (trained on simulator data; see its MODEL_CARD.md). */
export const DEFAULT_MODEL_DIR = join(__dirname, 'model');
const TOP_REASONS = 3;

export interface ModelFolder {
  readonly dir: string;
  readonly version: string;
  readonly feedbackDelayDays: number;
  readonly thresholds: { readonly review: number; readonly decline: number };
  readonly model: XGBoostModel;
  readonly graphsage: GraphSageModel;
  readonly ensemble: Ensemble;
}

/** The ensemble's probability from the two models' log-odds. */
export function stack(ensemble: Ensemble, xgboostMargin: number, graphsageLogit: number): number {
  return sigmoid(ensemble.weights[0] * xgboostMargin + ensemble.weights[1] * graphsageLogit + ensemble.bias);
}

/** What a folder serves, in words: one model alone (the combiner fell back to it), or the stack and its weights. */
export function describeServed(folder: Pick<ModelFolder, 'ensemble' | 'model'>): string {
  const { weights: [wx, wg], bias } = folder.ensemble;
  if (wx === 1 && wg === 0 && bias === 0) return `XGBoost alone (${folder.model.numTrees} trees; GraphSAGE is loaded but has no weight)`;
  if (wx === 0 && wg === 1 && bias === 0) return `GraphSAGE alone (XGBoost's ${folder.model.numTrees} trees are loaded but have no weight)`;
  const sign = bias >= 0 ? '+' : '−';
  return `XGBoost (${folder.model.numTrees} trees) + GraphSAGE, stacked: sigmoid(${wx.toFixed(3)}·xgboost + ${wg.toFixed(3)}·graphsage ${sign} ${Math.abs(bias).toFixed(3)})`;
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

  if (manifest.amountScale !== AMOUNT_SCALE) {
    fail(
      manifest.amountScale === undefined
        ? `the model does not record its amount scale (it was trained before model folders did; before 2026-12-03 the features read each currency's major units), and this code's features are in US dollars at lambdas/fraud/usd.ts's rates (${AMOUNT_SCALE}): retrain with npm run train`
        : `the model's amount scale ${JSON.stringify(manifest.amountScale)} is not this code's ${AMOUNT_SCALE} (a rate or a currency's exponent behind lambdas/fraud/usd.ts changed since it was trained): retrain with npm run train`,
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

  const graphFile = models?.graphsage;
  if (typeof graphFile !== 'string' || graphFile === '') fail('"models.graphsage" (the GraphSAGE weights) is missing: retrain with npm run train');
  const graphPath = join(dir, graphFile as string);
  if (!existsSync(graphPath)) throw new Error(`${graphPath}: no such file (named by ${manifestPath} in models.graphsage)`);
  let graphJson: unknown;
  try {
    graphJson = JSON.parse(readFileSync(graphPath, 'utf8'));
  } catch (error) {
    throw new Error(`${graphPath}: not valid JSON (${(error as Error).message})`);
  }
  const graphsage = GraphSageModel.fromJSON(graphJson, graphPath);

  const e = manifest.ensemble as Record<string, unknown> | undefined;
  const weights = e?.weights as unknown[] | undefined;
  if (
    e?.kind !== 'logistic-stack' ||
    !Array.isArray(weights) ||
    weights.length !== 2 ||
    !weights.every((w) => Number.isFinite(w)) ||
    !Number.isFinite(e.bias) ||
    !Number.isFinite(e.graphsageBaseline) ||
    JSON.stringify(e.inputs) !== JSON.stringify(['xgboost', 'graphsage'])
  ) {
    fail(`"ensemble" must be {"kind": "logistic-stack", "inputs": ["xgboost", "graphsage"], "weights": [w0, w1], "bias": b, "graphsageBaseline": m} (${JSON.stringify(e)})`);
  }
  return {
    dir,
    version: version as string,
    feedbackDelayDays: delay as number,
    thresholds: { review: review as number, decline: decline as number },
    model,
    graphsage,
    ensemble: { weights: [weights![0] as number, weights![1] as number], bias: e!.bias as number, graphsageBaseline: e!.graphsageBaseline as number },
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

/** A reason's detail: the feature and its value, amounts marked as the US dollars they are (a JPY payment's too). */
export function reasonDetail(feature: FeatureName, value: number): string {
  const dollars = DOLLAR_FEATURES.has(feature) && !Number.isNaN(value);
  return `${feature} = ${formatValue(value)}${dollars ? ' USD (at the reference rate)' : ''}`;
}

/** The ensemble's score and reasons for one transaction (see the header). */
export function scoreWith(folder: ModelFolder, vector: Float64Array, graph: GraphInputs, xgboostProbability?: number): ModelScore {
  const { model: xgboost, graphsage, ensemble } = folder;
  const [wx, wg] = ensemble.weights;
  const contributions = xgboost.contributions(vector);
  const margin =
    xgboostProbability === undefined ? xgboost.margin(vector) : logit(Math.min(Math.max(xgboostProbability, 1e-7), 1 - 1e-7));
  const graphLogit = graphsage.logit(vector, graph);
  // A feature is a reason only when it pushed the served score up: not when XGBoost has no weight in the stack
  // (GraphSAGE published alone).
  const reasons: FraudReason[] = (wx > 0 ? topContributions(contributions, TOP_REASONS) : []).map((f) => ({
    code: FEATURE_NAMES[f],
    weight: Math.round(wx * contributions[f] * 10_000) / 10_000,
    detail: reasonDetail(FEATURE_NAMES[f], vector[f]),
  }));
  const graphWeight = wg * (graphLogit - ensemble.graphsageBaseline);
  if (graphWeight > 0) {
    reasons.push({
      code: GRAPH_REASON,
      weight: Math.round(graphWeight * 10_000) / 10_000,
      // GraphSAGE reads the two nodes' own history and their neighbours: with no neighbours, the reason is that both are new to the graph.
      detail:
        graph.customerNeighbours.length + graph.terminalNeighbours.length === 0
          ? 'GraphSAGE: a customer and a terminal with no recent neighbours in the graph (new to it), riskier than usual'
          : `GraphSAGE: the customer's and terminal's recent neighbours (${graph.customerNeighbours.length} terminals, ${graph.terminalNeighbours.length} customers) look riskier than usual`,
    });
    reasons.sort((a, b) => b.weight - a.weight);
    reasons.length = Math.min(reasons.length, TOP_REASONS);
  }
  return { score: stack(ensemble, margin, graphLogit), reasons, xgboostMargin: margin, graphsageLogit: graphLogit };
}

export function loadFraudModel(dir: string = DEFAULT_MODEL_DIR): FraudModel {
  const folder = loadModelFolder(dir);
  return {
    version: folder.version,
    thresholds: { reviewThreshold: folder.thresholds.review, declineThreshold: folder.thresholds.decline },
    feedbackDelayDays: folder.feedbackDelayDays,
    score: (vector, graph, xgboostProbability) => scoreWith(folder, vector, graph, xgboostProbability),
  };
}
