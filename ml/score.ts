/**
 * `npm run score -- --data CSV [--model DIR] [--from DATE] [--to DATE] [--out FILE]`: backtests a model folder
 * on a transactions CSV. Every transaction of the file is replayed in time order through the serving feature
 * and graph code (ml/replay.ts → lambdas/fraud/features.ts, graph.ts), with the model's feedback delay, so a transaction in the
 * window is scored from exactly the state serving would have had: all the history before `--from` included.
 * One row per transaction in [from, to) is written:
 *
 *   tx_id,timestamp,customer_id,terminal_id,label,score,decision,model_version,reason_1,reason_2,reason_3,
 *   score_xgboost,score_graphsage
 *
 * `score` is the ensemble's (XGBoost and GraphSAGE stacked), as served. `decision` applies the manifest's
 * thresholds as serving does (score ≥ decline: decline, ≥ review: review); the reasons are the served ones
 * (`feature:+0.123`, in the ensemble's log-odds; `graph_neighbourhood` for GraphSAGE). `score_xgboost` and
 * `score_graphsage` are each model's own probability, the sigmoid of the log-odds the stack reads
 * (lambdas/fraud/model.ts `stack`): they show what each model alone would have said.
 * Unless --quiet, progress with an ETA goes to stderr during the replay (ml/progress.ts), then a summary: rows,
 * window, time, and with labels AUC ROC, average precision and precision@100 (as ml/train.py computes them) for
 * the ensemble and each model, and the count and fraud rate per decision.
 *
 * Every option, with its default: USAGE below (`npm run score -- --help`).
 */
import { createWriteStream, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { once } from 'node:events';
import { DEFAULT_MODEL_DIR, describeServed, loadModelFolder, scoreWith, type FraudReason } from '../lambdas/fraud/model';
import { sigmoid } from '../lambdas/shared/logistic';
import { FraudDecision as FraudDecisionSchema } from '../contracts/api';
import { decide, type FraudDecision } from '../lambdas/fraud/service';
import { isCalendarTime } from '../lambdas/shared/calendar';
import { parseColumnMap, readTransactions } from './dataset';
import { TRAINING_FILE } from './train';
import { csvField } from './features';
import { checkDataOptions, exitOnError, parseCommandLine, UsageError } from './cli';
import { progressLogger } from './progress';
import { replay } from './replay';

const DAY_MS = 86_400_000;
const REASONS = 3;
const DECISIONS: readonly FraudDecision[] = FraudDecisionSchema.options;

export const USAGE = [
  'usage: npm run score -- --data transactions.csv [--model DIR] [--from DATE] [--to DATE] [--out scores.csv]',
  '                        [--map canonical=COLUMN,...] [--currency USD] [--quiet]',
  '',
  'Backtests a model folder: replays the whole CSV as serving would and writes one row per transaction in',
  '[--from, --to): tx_id,timestamp,customer_id,terminal_id,label,score,decision,model_version,reason_1..3,',
  'score_xgboost,score_graphsage (score is the served ensemble; the last two each model alone).',
  '',
  '  --data CSV                  transactions (docs/fraud-ml.md); ALL of them are replayed, so history before --from',
  '                              counts; required',
  '  --model DIR                 the model folder (manifest.json and the models it names; default lambdas/fraud/model)',
  '  --from DATE                 first transaction scored: YYYY-MM-DD (00:00 UTC) or ISO-8601 time (default: the first one)',
  '  --to DATE                   end of the window, exclusive: an ISO-8601 time, or YYYY-MM-DD meaning the END of that',
  '                              day (--to 2026-04-30 scores all of 30 April; default: up to the last transaction)',
  '  --out FILE                  where the scores go (default: stdout)',
  '  --map canonical=COLUMN,...  your column names (docs/fraud-ml.md; default: the canonical names)',
  '  --currency CODE             the currency when the file has no currency column (default USD)',
  '  --quiet                     print nothing on stderr (default: progress with an ETA, then a summary with AUC ROC,',
  '                              average precision and precision@100 per model when the window has labels)',
  '  --help, -h                  this text',
].join('\n');

export const OPTIONS = {
  data: { type: 'string' },
  model: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  out: { type: 'string' },
  map: { type: 'string' },
  currency: { type: 'string' },
  quiet: { type: 'boolean', default: false },
} as const;

// ---------------------------------------------------------------------------------------------------------------
// The window

const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?$/i;

/**
 * A window bound in epoch ms: `YYYY-MM-DD` (UTC) or an ISO-8601 time (a zone-less time is UTC). A date-only
 * `--to` is the end of that day (the next midnight), so `--from D --to D` is the whole day D.
 */
export function parseWindowBound(text: string, which: 'from' | 'to'): number {
  const value = text.trim();
  const usage = `--${which} "${text}" is not a date: use YYYY-MM-DD or an ISO-8601 time such as 2026-04-13T00:00:00Z`;
  const match = DATE_ONLY.exec(value) ?? DATE_TIME.exec(value);
  if (!match) throw new Error(usage);
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const midnight = Date.UTC(year, month - 1, day);
  // Date.UTC rolls 2026-02-30 over to March: reject instead.
  if (!isCalendarTime(year, month, day)) throw new Error(`${usage} (no such day)`);
  if (match[4] === undefined) return which === 'to' ? midnight + DAY_MS : midnight;
  if (!isCalendarTime(year, month, day, Number(match[4]), Number(match[5]), Number(match[6] ?? 0))) throw new Error(`${usage} (no such time)`);
  const normalised = value.replace(' ', 'T');
  const ms = Date.parse(/(Z|[+-]\d{2}:?\d{2})$/i.test(normalised) ? normalised : `${normalised}Z`);
  if (Number.isNaN(ms)) throw new Error(usage);
  return ms;
}

// ---------------------------------------------------------------------------------------------------------------
// Metrics (the same definitions as ml/train.py)

/** Area under the ROC curve, ties by average ranks; NaN without both classes. */
export function aucRoc(labels: ArrayLike<number>, scores: ArrayLike<number>): number {
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a] - scores[b]);
  let positives = 0;
  let positiveRanks = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1]] === scores[order[i]]) j += 1;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) {
      if (labels[order[k]] === 1) {
        positives += 1;
        positiveRanks += rank;
      }
    }
    i = j + 1;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return Number.NaN;
  return (positiveRanks - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** Indices by descending score; ties keep their input order (numpy's stable argsort of −s). */
function descending(scores: ArrayLike<number>): number[] {
  return Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[b] - scores[a]);
}

/**
 * Average precision as scikit-learn computes it: Σ (Rₙ − Rₙ₋₁) · Pₙ over the distinct score thresholds, from
 * the highest (tied scores enter together). NaN without positives.
 */
export function averagePrecision(labels: ArrayLike<number>, scores: ArrayLike<number>): number {
  const order = descending(scores);
  let positives = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] === 1) positives += 1;
  if (positives === 0) return Number.NaN;
  let tp = 0;
  let previousRecall = 0;
  let sum = 0;
  for (let i = 0; i < order.length; i++) {
    if (labels[order[i]] === 1) tp += 1;
    // The end of a group of tied scores: a threshold.
    if (i === order.length - 1 || scores[order[i + 1]] !== scores[order[i]]) {
      const recall = tp / positives;
      sum += (recall - previousRecall) * (tp / (i + 1));
      previousRecall = recall;
    }
  }
  return sum;
}

/** The fraud share of the k highest scores (ties in input order, as ml/train.py); NaN when empty. */
export function precisionAt(labels: ArrayLike<number>, scores: ArrayLike<number>, k: number): number {
  const top = descending(scores).slice(0, Math.min(k, scores.length));
  if (!top.length) return Number.NaN;
  return top.reduce((s, i) => s + (labels[i] === 1 ? 1 : 0), 0) / top.length;
}

// ---------------------------------------------------------------------------------------------------------------
// Scoring

/** The served reasons as `feature:+0.123` (log-odds), padded with empty columns to REASONS. */
export function formatReasons(reasons: readonly FraudReason[]): string[] {
  const out = reasons.slice(0, REASONS).map((r) => `${r.code}:${r.weight >= 0 ? '+' : ''}${r.weight.toFixed(3)}`);
  while (out.length < REASONS) out.push('');
  return out;
}

export const SCORE_COLUMNS = [
  'tx_id', 'timestamp', 'customer_id', 'terminal_id', 'label', 'score', 'decision', 'model_version',
  ...Array.from({ length: REASONS }, (_, i) => `reason_${i + 1}`),
  'score_xgboost', 'score_graphsage',
] as const;

/** The models whose own scores are written and measured beside the ensemble's. */
export const MODELS = ['xgboost', 'graphsage'] as const;
export type ModelName = (typeof MODELS)[number];

export interface ScoreOptions {
  readonly data: string;
  /** The model folder (default lambdas/fraud/model). */
  readonly model?: string;
  /** Window bounds as on the command line (see parseWindowBound); absent: the whole file. */
  readonly from?: string;
  readonly to?: string;
  /** Output file; absent: stdout. */
  readonly out?: string;
  readonly map?: string;
  readonly currency?: string;
  readonly log?: (line: string) => void;
}

export interface DecisionCount {
  readonly rows: number;
  readonly labelled: number;
  readonly frauds: number;
}

export interface Metrics {
  readonly aucRoc: number;
  readonly averagePrecision: number;
  readonly precisionAt100: number;
}

export function metricsOf(labels: ArrayLike<number>, scores: ArrayLike<number>): Metrics {
  return { aucRoc: aucRoc(labels, scores), averagePrecision: averagePrecision(labels, scores), precisionAt100: precisionAt(labels, scores, 100) };
}

export interface ScoreSummary {
  readonly modelVersion: string;
  readonly rows: number;
  /** Transactions replayed before the window (its history). */
  readonly history: number;
  /** The first and last scored transaction (epoch ms). */
  readonly first: number;
  readonly last: number;
  readonly from?: number;
  readonly to?: number;
  readonly seconds: number;
  readonly labelled: number;
  readonly frauds: number;
  /** The ensemble's (the served score), over the labelled rows of the window; absent without labels. */
  readonly metrics?: Metrics;
  /** Each model's own score (score_xgboost, score_graphsage) on the same rows; absent without labels. */
  readonly modelMetrics?: Readonly<Record<ModelName, Metrics>>;
  readonly decisions: Readonly<Record<FraudDecision, DecisionCount>>;
}

/** The options a model folder was trained with (ml/train.ts writes its training.json); none for an older folder. */
function trainingOptions(dir: string): { map?: string; currency?: string } {
  const file = join(dir, TRAINING_FILE);
  if (!existsSync(file)) return {};
  const options = (JSON.parse(readFileSync(file, 'utf8')) as { options?: Record<string, unknown> }).options ?? {};
  return {
    ...(typeof options.map === 'string' ? { map: options.map } : {}),
    ...(typeof options.currency === 'string' ? { currency: options.currency } : {}),
  };
}

/** The model's training window ("refit", else "fit") where it overlaps [from, to), as text; undefined when it does not. */
function refitOverlap(dir: string, from: number | undefined, to: number | undefined): string | undefined {
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { windows?: { refit?: [string, string] | null; fit?: [string, string] | null } };
  const trained = manifest.windows?.refit ?? manifest.windows?.fit;
  if (!trained) return undefined;
  const [start, end] = trained.map((t) => Date.parse(t)) as [number, number];
  return (from ?? -Infinity) < end && (to ?? Infinity) > start ? `${trained[0]} to ${trained[1]}` : undefined;
}

/** Replays the whole file and writes one score per transaction in [from, to). */
export async function scoreWindow(options: ScoreOptions): Promise<ScoreSummary> {
  const started = Date.now();
  const log = options.log ?? (() => undefined);
  const from = options.from === undefined ? undefined : parseWindowBound(options.from, 'from');
  const to = options.to === undefined ? undefined : parseWindowBound(options.to, 'to');
  if (from !== undefined && to !== undefined && from >= to) {
    throw new Error(`--from ${options.from} is not before --to ${options.to} (${new Date(to).toISOString()}, exclusive)`);
  }
  const folder = loadModelFolder(resolve(options.model ?? DEFAULT_MODEL_DIR));
  log(`model ${folder.version} from ${folder.dir}: ${describeServed(folder)}, feedback delay ${folder.feedbackDelayDays} days`);

  // The column map and currency the model was trained with (its training.json), unless given here.
  const made = trainingOptions(folder.dir);
  const map = options.map ?? made.map;
  const currency = options.currency ?? made.currency;
  if (options.map === undefined && made.map !== undefined) log(`column map from the model's ${TRAINING_FILE}: ${made.map}`);
  if (options.currency === undefined && made.currency !== undefined) log(`currency from the model's ${TRAINING_FILE}: ${made.currency}`);
  const transactions = await readTransactions(options.data, { map: parseColumnMap(map), currency });
  log(`read ${transactions.length} transactions from ${options.data} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const inWindow = (time: number) => (from === undefined || time >= from) && (to === undefined || time < to);
  const windowRows = transactions.reduce((n, tx) => n + (inWindow(tx.time) ? 1 : 0), 0);
  // What the replay goes through: everything before the end of the window (the history, then the window).
  const replayRows = to === undefined ? transactions.length : transactions.reduce((n, tx) => n + (tx.time < to ? 1 : 0), 0);
  if (windowRows === 0) {
    const span = `${new Date(transactions[0].time).toISOString()} to ${new Date(transactions[transactions.length - 1].time).toISOString()}`;
    throw new Error(`${options.data}: no transactions in the window ${describeWindow(from, to)} (the file runs from ${span})`);
  }
  // In-sample: the rows scored (not the window asked for, which may be unbounded) fall in the model's training window.
  let firstScored = Infinity;
  let lastScored = -Infinity;
  for (const tx of transactions) {
    if (!inWindow(tx.time)) continue;
    firstScored = Math.min(firstScored, tx.time);
    lastScored = Math.max(lastScored, tx.time);
  }
  const inSample = refitOverlap(folder.dir, firstScored, lastScored + 1);
  if (inSample) log(`warning: the rows scored overlap the model's own training window (${inSample}): their metrics are in-sample, not a backtest`);

  const stream = options.out === undefined ? process.stdout : createWriteStream(prepare(options.out));
  let failed: Error | undefined;
  const onError = (error: NodeJS.ErrnoException) => {
    failed ??= Object.assign(new Error(`${options.out ?? 'stdout'}: ${error.message}`), { code: error.code });
  };
  stream.on('error', onError);
  const write = async (line: string) => {
    if (failed) throw failed;
    if (!stream.write(line)) await once(stream, 'drain').catch((error: unknown) => Promise.reject(failed ?? error));
  };
  await write(`${SCORE_COLUMNS.join(',')}\n`);

  const { thresholds, version } = folder;
  const labels: number[] = [];
  const scores: number[] = [];
  const modelScores: Record<ModelName, number[]> = { xgboost: [], graphsage: [] };
  const decisions = Object.fromEntries(DECISIONS.map((d) => [d, { rows: 0, labelled: 0, frauds: 0 }])) as Record<
    FraudDecision,
    { rows: number; labelled: number; frauds: number }
  >;
  let history = 0;
  let rows = 0;
  let first = Number.NaN;
  let last = Number.NaN;
  const historyRows = replayRows - windowRows;
  log(`replaying ${historyRows} transactions of history, then scoring ${windowRows}`);
  const replayed = Date.now();
  // Two phases at different speeds (scoring runs the models), each with its own progress and ETA.
  const historyProgress = progressLogger(historyRows, log, { phase: 'history' });
  let scoringProgress: ((done: number) => void) | undefined;
  for (const { tx, vector, graph } of replay(transactions, { feedbackDelayDays: folder.feedbackDelayDays })) {
    if (to !== undefined && tx.time >= to) break; // nothing after the window matters
    if (!inWindow(tx.time)) {
      history += 1;
      historyProgress(history);
      continue;
    }
    scoringProgress ??= progressLogger(windowRows, log, { phase: 'scoring' });
    const scored = scoreWith(folder, vector, graph);
    const { score } = scored;
    // Each model's own probability, from the log-odds the stack combined.
    const xgboost = sigmoid(scored.xgboostMargin);
    const graphsage = sigmoid(scored.graphsageLogit);
    const decision = decide(score, { reviewThreshold: thresholds.review, declineThreshold: thresholds.decline });
    const reasons = formatReasons(scored.reasons);
    const count = decisions[decision];
    count.rows += 1;
    if (tx.label !== undefined) {
      labels.push(tx.label);
      scores.push(score);
      modelScores.xgboost.push(xgboost);
      modelScores.graphsage.push(graphsage);
      count.labelled += 1;
      count.frauds += tx.label;
    }
    const line = [
      csvField(tx.txId),
      new Date(tx.time).toISOString(),
      csvField(tx.customerId),
      csvField(tx.terminalId),
      tx.label ?? '',
      String(score), // the shortest decimal that reads back as the same number
      decision,
      csvField(version),
      ...reasons,
      String(xgboost),
      String(graphsage),
    ];
    await write(`${line.join(',')}\n`);
    if (rows === 0) first = tx.time;
    last = tx.time;
    rows += 1;
    scoringProgress(rows);
  }
  if (stream !== process.stdout) {
    stream.end();
    await once(stream, 'finish').catch((error: unknown) => Promise.reject(failed ?? error));
  }
  stream.off('error', onError);
  if (failed) throw failed;
  log(`replayed ${history} transactions of history and scored ${rows} in ${((Date.now() - replayed) / 1000).toFixed(1)} s`);

  const frauds = labels.reduce((s, y) => s + y, 0);
  return {
    modelVersion: version,
    rows,
    history,
    first,
    last,
    from,
    to,
    seconds: (Date.now() - started) / 1000,
    labelled: labels.length,
    frauds,
    metrics: labels.length ? metricsOf(labels, scores) : undefined,
    modelMetrics: labels.length ? { xgboost: metricsOf(labels, modelScores.xgboost), graphsage: metricsOf(labels, modelScores.graphsage) } : undefined,
    decisions,
  };
}

function prepare(out: string): string {
  try {
    mkdirSync(dirname(resolve(out)), { recursive: true });
  } catch (error) {
    throw new Error(`${out}: cannot create its folder (${(error as Error).message})`);
  }
  return out;
}

function describeWindow(from: number | undefined, to: number | undefined): string {
  return `[${from === undefined ? 'start' : new Date(from).toISOString()}, ${to === undefined ? 'end' : new Date(to).toISOString()})`;
}

/** The summary for stderr. */
export function formatSummary(s: ScoreSummary, out = 'stdout'): string[] {
  const number = (v: number, digits = 4) => (Number.isNaN(v) ? 'n/a' : v.toFixed(digits));
  const percent = (part: number, whole: number) => (whole ? `${((100 * part) / whole).toFixed(2)}%` : 'n/a');
  const lines = [
    `scored ${s.rows} transactions with ${s.modelVersion} to ${out} in ${s.seconds.toFixed(1)} s`,
    `  window ${describeWindow(s.from, s.to)}: transactions ${new Date(s.first).toISOString()} to ${new Date(s.last).toISOString()}, ` +
      `after ${s.history} of history`,
  ];
  if (s.metrics) {
    const metrics = (name: string, m: Metrics) =>
      `    ${name.padEnd(10)} AUC ROC ${number(m.aucRoc)}, average precision ${number(m.averagePrecision)}, precision@100 ${number(m.precisionAt100, 2)}`;
    lines.push(`  labels on ${s.labelled} rows, ${s.frauds} frauds (${percent(s.frauds, s.labelled)}):`);
    lines.push(metrics('ensemble', s.metrics));
    for (const name of MODELS) if (s.modelMetrics) lines.push(metrics(name, s.modelMetrics[name]));
  } else {
    lines.push('  no labels in the window: no metrics');
  }
  for (const d of DECISIONS) {
    const c = s.decisions[d];
    lines.push(
      `  ${d.padEnd(8)} ${String(c.rows).padStart(9)} (${percent(c.rows, s.rows).padStart(7)})` +
        (c.labelled ? `, fraud rate ${percent(c.frauds, c.labelled)} (${c.frauds} of ${c.labelled})` : ''),
    );
  }
  return lines;
}

async function main(): Promise<void> {
  const values = parseCommandLine('npm run score', USAGE, OPTIONS);
  if (!values) return;
  if (!values.data) throw new UsageError('--data is required (npm run score -- --help lists the options)');
  checkDataOptions('npm run score', values);
  for (const which of ['from', 'to'] as const) {
    const text = values[which];
    if (text === undefined) continue;
    try {
      parseWindowBound(text, which);
    } catch (error) {
      throw new UsageError(`${(error as Error).message} (npm run score -- --help lists the options)`);
    }
  }
  const log = values.quiet ? () => undefined : (line: string) => console.error(line);
  const summary = await scoreWindow({ ...values, data: values.data, log });
  for (const line of formatSummary(summary, values.out ?? 'stdout')) log(line);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    // The reader went away (`npm run score ... | head`): stop quietly, like other command-line tools.
    if ((error as NodeJS.ErrnoException).code === 'EPIPE') process.exit(0);
    exitOnError('score')(error);
  });
}
