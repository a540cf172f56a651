import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  featureVector,
  observe,
  observeLabel,
  type CustomerState,
  type TerminalState,
} from '../../lambdas/fraud/features';
import { observeDevice, transactionGraph, type DeviceState } from '../../lambdas/fraud/graph';
import { readTransactions, type LabelledTransaction } from '../../ml/dataset';
import {
  SCORE_COLUMNS,
  aucRoc,
  averagePrecision,
  parseWindowBound,
  precisionAt,
  scoreWindow,
  formatReasons,
} from '../../ml/score';
import { loadModelFolder, scoreWith, type ModelScore } from '../../lambdas/fraud/model';

const MODEL_DIR = join(__dirname, '..', '..', 'lambdas', 'fraud', 'model');
const manifest = JSON.parse(readFileSync(join(MODEL_DIR, 'manifest.json'), 'utf8')) as {
  version: string;
  feedbackDelayDays: number;
  thresholds: { review: number; decline: number };
  models: { xgboost: string; graphsage: string };
  features: string[];
};
const folder = loadModelFolder(MODEL_DIR);
const dir = mkdtempSync(join(tmpdir(), 'smartpay-score-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const DAY = 86_400_000;
const START = Date.UTC(2026, 0, 1);

/** A small deterministic world: 6 customers, 4 terminals, 40 days, a compromised terminal and a fraud burst. */
function buildCsv(): string {
  let seed = 12345;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const rows: string[][] = [];
  let id = 0;
  for (let day = 0; day < 40; day++) {
    for (let c = 1; c <= 6; c++) {
      const n = Math.floor(rand() * 3);
      for (let k = 0; k < n; k++) {
        const time = START + day * DAY + Math.floor(rand() * DAY / 1000) * 1000;
        const terminal = `t${((c + k) % 4) + 1}`;
        let amount = (5 + rand() * 120).toFixed(2);
        let label = '0';
        if (terminal === 't4' && day >= 10 && day <= 20 && rand() < 0.5) {
          label = '1';
          amount = (300 + rand() * 500).toFixed(2);
        }
        rows.push([`tx${String(++id).padStart(4, '0')}`, new Date(time).toISOString(), `c${c}`, terminal, amount, 'USD', label, c % 2 ? `d${c}` : '', 'US', 'US']);
      }
    }
    if (day === 33 || day === 34) {
      // Card testing on c6 at a new terminal, then a cash-out.
      for (let k = 0; k < 6; k++) {
        const time = START + day * DAY + 2 * 3_600_000 + k * 40_000;
        rows.push([`tx${String(++id).padStart(4, '0')}`, new Date(time).toISOString(), 'c6', 't9', k < 5 ? '1.00' : '950.00', 'USD', '1', 'dX', 'US', 'GB']);
      }
    }
  }
  rows.forEach((row, i) => {
    if (i % 17 === 5) row[6] = ''; // some unlabelled rows
  });
  // Out of order on purpose: every tool sorts.
  rows.reverse();
  return ['tx_id,timestamp,customer_id,terminal_id,amount,currency,label,device_id,country,merchant_country', ...rows.map((r) => r.join(','))].join('\n') + '\n';
}

const DATA = join(dir, 'tx.csv');
writeFileSync(DATA, buildCsv());
const FROM = Date.UTC(2026, 1, 1); // --from 2026-02-01
const TO = Date.UTC(2026, 1, 6); // --to 2026-02-05: through the end of 5 February

type Row = Record<(typeof SCORE_COLUMNS)[number], string>;
function readScores(path: string): Row[] {
  const [header, ...lines] = readFileSync(path, 'utf8').trimEnd().split('\n');
  expect(header).toBe(SCORE_COLUMNS.join(','));
  return lines.map((line) => {
    const values = line.split(',');
    expect(values).toHaveLength(SCORE_COLUMNS.length);
    return Object.fromEntries(SCORE_COLUMNS.map((c, i) => [c, values[i]])) as Row;
  });
}

/**
 * The served score of every transaction from the state before it: an independent replay of the whole file
 * (features, graph inputs, the ensemble).
 */
function referenceScores(transactions: readonly LabelledTransaction[], delay: number): Map<string, ModelScore> {
  const customers = new Map<string, CustomerState>();
  const terminals = new Map<string, TerminalState>();
  const devices = new Map<string, DeviceState>();
  const out = new Map<string, ModelScore>();
  for (const tx of transactions) {
    const customer = customers.get(tx.customerId);
    const terminal = terminals.get(tx.terminalId);
    const device = tx.deviceId === undefined ? undefined : devices.get(tx.deviceId);
    const vector = featureVector(tx, customer, terminal, { feedbackDelayDays: delay });
    const graph = transactionGraph(tx, vector, customer, terminal, device);
    if (tx.deviceId !== undefined) devices.set(tx.deviceId, observeDevice(device, tx, graph.customer));
    out.set(tx.txId, scoreWith(folder, vector, graph));
    let next: { customer?: CustomerState; terminal?: TerminalState } = observe(tx, customer, terminal, { feedbackDelayDays: delay }, graph);
    if (tx.label !== undefined) next = observeLabel(tx, tx.label === 1, next.customer, next.terminal);
    customers.set(tx.customerId, next.customer!);
    terminals.set(tx.terminalId, next.terminal!);
  }
  return out;
}

describe('npm run score', () => {
  let all: LabelledTransaction[];
  let rows: Row[];
  let summary: Awaited<ReturnType<typeof scoreWindow>>;

  beforeAll(async () => {
    all = await readTransactions(DATA);
    summary = await scoreWindow({ data: DATA, model: MODEL_DIR, from: '2026-02-01', to: '2026-02-05', out: join(dir, 'scores.csv') });
    rows = readScores(join(dir, 'scores.csv'));
  });

  it('writes exactly the transactions in [from, to), in time order', () => {
    const expected = all.filter((tx) => tx.time >= FROM && tx.time < TO);
    expect(expected.length).toBeGreaterThan(20);
    expect(all.some((tx) => tx.time >= TO)).toBe(true); // the file goes on after the window
    expect(rows.map((r) => r.tx_id)).toEqual(expected.map((tx) => tx.txId));
    expect(rows.map((r) => r.timestamp)).toEqual(expected.map((tx) => new Date(tx.time).toISOString()));
    expect(rows.map((r) => r.label)).toEqual(expected.map((tx) => (tx.label === undefined ? '' : String(tx.label))));
    expect(rows.some((r) => r.label === '')).toBe(true);
    expect(summary.rows).toBe(expected.length);
    expect(summary.history).toBe(all.filter((tx) => tx.time < FROM).length);
    expect(rows.every((r) => r.model_version === manifest.version)).toBe(true);
  });

  it('scores each row from the state after ALL the history before it, as serving would', () => {
    const scores = referenceScores(all, manifest.feedbackDelayDays);
    for (const row of rows) expect(Number(row.score)).toBe(scores.get(row.tx_id)!.score);
  });

  it('uses the history before --from: the same window scored from a file cut at --from differs', async () => {
    const lines = readFileSync(DATA, 'utf8').trimEnd().split('\n');
    const cut = join(dir, 'cut.csv');
    writeFileSync(cut, [lines[0], ...lines.slice(1).filter((l) => Date.parse(l.split(',')[1]) >= FROM)].join('\n') + '\n');
    await scoreWindow({ data: cut, model: MODEL_DIR, from: '2026-02-01', to: '2026-02-05', out: join(dir, 'cut-scores.csv') });
    const cutRows = readScores(join(dir, 'cut-scores.csv'));
    expect(cutRows.map((r) => r.tx_id)).toEqual(rows.map((r) => r.tx_id));
    const differing = cutRows.filter((r, i) => r.score !== rows[i].score).length;
    expect(differing).toBeGreaterThan(rows.length / 4);
    // … and the cut file's scores are what a replay of the cut file gives.
    const scores = referenceScores(await readTransactions(cut), manifest.feedbackDelayDays);
    for (const row of cutRows) expect(Number(row.score)).toBe(scores.get(row.tx_id)!.score);
  });

  it('replays with the feedback delay of the manifest', async () => {
    const other = join(dir, 'delay-1');
    mkdirSync(other);
    for (const file of [manifest.models.xgboost, manifest.models.graphsage]) copyFileSync(join(MODEL_DIR, file), join(other, file));
    writeFileSync(join(other, 'manifest.json'), JSON.stringify({ ...manifest, feedbackDelayDays: 1 }));
    await scoreWindow({ data: DATA, model: other, from: '2026-02-01', to: '2026-02-05', out: join(dir, 'delay-1.csv') });
    const delayRows = readScores(join(dir, 'delay-1.csv'));
    const scores = referenceScores(all, 1);
    for (const row of delayRows) expect(Number(row.score)).toBe(scores.get(row.tx_id)!.score);
    expect(delayRows.some((r, i) => r.score !== rows[i].score)).toBe(true);
  });

  it('decides with the manifest thresholds', () => {
    const { review, decline } = manifest.thresholds;
    for (const row of rows) {
      const score = Number(row.score);
      expect(row.decision).toBe(score >= decline ? 'decline' : score >= review ? 'review' : 'approve');
    }
    // The little world has both legitimate and fraud-like rows.
    expect(new Set(rows.map((r) => r.decision)).size).toBeGreaterThan(1);
    const counted = Object.fromEntries(Object.entries(summary.decisions).map(([d, c]) => [d, c.rows]));
    for (const d of ['approve', 'review', 'decline']) expect(counted[d]).toBe(rows.filter((r) => r.decision === d).length);
  });

  it('gives the served reasons: the top three positive contributions to the ensemble', () => {
    const scores = referenceScores(all, manifest.feedbackDelayDays);
    let withReasons = 0;
    for (const row of rows) {
      const { reasons } = scores.get(row.tx_id)!;
      const written = [row.reason_1, row.reason_2, row.reason_3].filter(Boolean);
      expect(written).toHaveLength(Math.min(3, reasons.length));
      written.forEach((reason, i) => {
        const match = /^([a-z0-9_]+):\+(\d+\.\d{3})$/.exec(reason);
        expect(match).not.toBeNull();
        expect(match![1]).toBe(reasons[i].code);
        expect(`+${match![2]}`).toBe(`+${reasons[i].weight.toFixed(3)}`);
      });
      if (written.length) withReasons += 1;
    }
    expect(withReasons).toBeGreaterThan(0);
    expect(formatReasons([{ code: 'amount', weight: 0.25, detail: '' }])).toEqual(['amount:+0.250', '', '']);
  });

  it('summarises the labelled rows with the metric functions', () => {
    const labelled = rows.filter((r) => r.label !== '');
    const y = labelled.map((r) => Number(r.label));
    const s = labelled.map((r) => Number(r.score));
    expect(summary.labelled).toBe(labelled.length);
    expect(summary.frauds).toBe(y.filter((v) => v === 1).length);
    expect(summary.frauds).toBeGreaterThan(0);
    expect(summary.metrics!.aucRoc).toBe(aucRoc(y, s));
    expect(summary.metrics!.averagePrecision).toBe(averagePrecision(y, s));
    expect(summary.metrics!.precisionAt100).toBe(precisionAt(y, s, 100));
  });

  it('scores the whole file without --from and --to', async () => {
    const out = join(dir, 'whole.csv');
    const whole = await scoreWindow({ data: DATA, model: MODEL_DIR, out });
    expect(whole.rows).toBe(all.length);
    expect(whole.history).toBe(0);
    expect(readScores(out)).toHaveLength(all.length);
  });
});

describe('window bounds', () => {
  it('reads dates as UTC midnights and a date-only --to as the end of that day', () => {
    expect(parseWindowBound('2026-04-13', 'from')).toBe(Date.UTC(2026, 3, 13));
    expect(parseWindowBound('2026-04-13', 'to')).toBe(Date.UTC(2026, 3, 14));
    expect(parseWindowBound('2026-04-13T06:30:00Z', 'to')).toBe(Date.UTC(2026, 3, 13, 6, 30));
    expect(parseWindowBound('2026-04-13T06:30', 'from')).toBe(Date.UTC(2026, 3, 13, 6, 30));
    expect(parseWindowBound('2026-04-13 08:30:00+02:00', 'from')).toBe(Date.UTC(2026, 3, 13, 6, 30));
    expect(() => parseWindowBound('13/04/2026', 'from')).toThrow(/--from "13\/04\/2026" is not a date: use YYYY-MM-DD/);
    expect(() => parseWindowBound('2026-02-30', 'to')).toThrow(/--to .*no such day/);
    expect(() => parseWindowBound('yesterday', 'to')).toThrow(/not a date/);
  });

  it('rejects --from after --to, a bad date and an empty window', async () => {
    const out = join(dir, 'never.csv');
    await expect(scoreWindow({ data: DATA, model: MODEL_DIR, from: '2026-02-05', to: '2026-02-01', out })).rejects.toThrow(
      /--from 2026-02-05 is not before --to 2026-02-01/,
    );
    await expect(scoreWindow({ data: DATA, model: MODEL_DIR, from: 'Feb 1', out })).rejects.toThrow(/--from "Feb 1" is not a date/);
    await expect(scoreWindow({ data: DATA, model: MODEL_DIR, from: '2027-01-01', out })).rejects.toThrow(/tx\.csv: no transactions in the window/);
  });
});

describe('metrics (as ml/train.py)', () => {
  it('match hand-computed values, ties included', () => {
    // The scikit-learn documentation's example.
    expect(aucRoc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])).toBeCloseTo(0.75, 12);
    expect(averagePrecision([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])).toBeCloseTo(5 / 6, 12);
    // Ties: positives ranked 3.5 (0.5), 5 (0.9) and 1.5 (0.2) → (10 − 6) / (3·2).
    const y = [1, 0, 0, 1, 1];
    const s = [0.5, 0.5, 0.2, 0.9, 0.2];
    expect(aucRoc(y, s)).toBeCloseTo(4 / 6, 12);
    // Thresholds 0.9, 0.5, 0.2: recall steps of 1/3 at precisions 1, 2/3, 3/5. Per row (ties split) it would be
    // 1/3 · (1 + 1 + 3/5) = 13/15.
    expect(averagePrecision(y, s)).toBeCloseTo(34 / 45, 12);
    // Tied scores keep their input order, as numpy's stable argsort: the top 2 are rows 3 and 0 (not 1).
    expect(precisionAt(y, s, 2)).toBe(1);
    expect(precisionAt(y, s, 3)).toBeCloseTo(2 / 3, 12);
    expect(precisionAt(y, s, 100)).toBeCloseTo(3 / 5, 12);
    expect(aucRoc([1, 1], [0.2, 0.3])).toBeNaN();
    expect(averagePrecision([0, 0], [0.2, 0.3])).toBeNaN();
    expect(precisionAt([], [], 100)).toBeNaN();
  });

  it('match ml/train.py on a larger array with many ties', () => {
    // Values from ml/train.py's auc_roc, average_precision and precision_at on the same arrays.
    const n = 40;
    const s = Array.from({ length: n }, (_, i) => ((i * 37) % 11) / 10);
    const y = Array.from({ length: n }, (_, i) => ((i * 7) % 5 === 0 || i % 9 === 4 ? 1 : 0));
    expect(aucRoc(y, s)).toBeCloseTo(0.5059523809523809, 12);
    expect(averagePrecision(y, s)).toBeCloseTo(0.3242303992303992, 12);
    expect(precisionAt(y, s, 5)).toBeCloseTo(0.4, 12);
    expect(precisionAt(y, s, 7)).toBeCloseTo(0.2857142857142857, 12);
  });
});

describe('the model folder', () => {
  const folder = (name: string, edit: (m: Record<string, unknown>) => Record<string, unknown>, copyModel = true): string => {
    const path = join(dir, name);
    mkdirSync(path);
    if (copyModel) for (const file of [manifest.models.xgboost, manifest.models.graphsage]) copyFileSync(join(MODEL_DIR, file), join(path, file));
    writeFileSync(join(path, 'manifest.json'), JSON.stringify(edit({ ...manifest })));
    return path;
  };

  it('loads the shipped model', () => {
    const loaded = loadModelFolder(MODEL_DIR);
    expect(loaded.version).toBe(manifest.version);
    expect(loaded.feedbackDelayDays).toBe(7);
    expect(loaded.thresholds).toEqual(manifest.thresholds);
  });

  it('names manifest.json when the features differ from the code', () => {
    const swapped = [...manifest.features];
    [swapped[0], swapped[1]] = [swapped[1], swapped[0]];
    const order = folder('order', (m) => ({ ...m, features: swapped }));
    expect(() => loadModelFolder(order)).toThrow(
      new RegExp(`${join(order, 'manifest.json')}: the model expects features \\[log_amount, amount, .*\\] but this code computes \\[amount, log_amount, .*retrain with npm run train`),
    );
    const dropped = folder('dropped', (m) => ({ ...m, features: [...manifest.features.slice(0, -1), 'old_feature'] }));
    expect(() => loadModelFolder(dropped)).toThrow(/manifest\.json: the model expects features .*not in the model: first_seen_device; no longer computed: old_feature/);
  });

  it('names the missing or broken file', async () => {
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    expect(() => loadModelFolder(empty)).toThrow(new RegExp(`${join(empty, 'manifest.json')}: no such file`));
    await expect(scoreWindow({ data: DATA, model: empty, out: join(dir, 'never.csv') })).rejects.toThrow(/empty\/manifest\.json: no such file/);

    const noModel = folder('no-model', (m) => m, false);
    expect(() => loadModelFolder(noModel)).toThrow(new RegExp(`${join(noModel, 'xgboost.json')}: no such file \\(named by .*manifest.json`));

    const corrupt = join(dir, 'corrupt');
    mkdirSync(corrupt);
    writeFileSync(join(corrupt, 'manifest.json'), '{"version": ');
    expect(() => loadModelFolder(corrupt)).toThrow(/corrupt\/manifest\.json: not a valid manifest/);

    const badModel = folder('bad-model', (m) => m, false);
    writeFileSync(join(badModel, 'xgboost.json'), '{"learner": {}}');
    expect(() => loadModelFolder(badModel)).toThrow(/bad-model\/xgboost\.json: /);

    const badDelay = folder('bad-delay', (m) => ({ ...m, feedbackDelayDays: 2.5 }));
    expect(() => loadModelFolder(badDelay)).toThrow(/manifest\.json: "feedbackDelayDays" must be an integer/);

    const badThresholds = folder('bad-thresholds', (m) => ({ ...m, thresholds: { review: 0.9, decline: 0.1 } }));
    expect(() => loadModelFolder(badThresholds)).toThrow(/manifest\.json: "thresholds"/);
  });
});
