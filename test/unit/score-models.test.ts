/**
 * `npm run score`'s per-model columns and metrics: score_xgboost and score_graphsage are each model's own
 * probability (the sigmoid of the log-odds the served stack reads), appended after the existing columns, and
 * the summary measures the ensemble and each model on the same labelled rows.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_MODEL_DIR, loadModelFolder, stack } from '../../lambdas/fraud/model';
import { sigmoid } from '../../lambdas/shared/logistic';
import { readTransactions } from '../../ml/dataset';
import { replay } from '../../ml/replay';
import { MODELS, SCORE_COLUMNS, formatSummary, metricsOf, scoreWindow } from '../../ml/score';

const folder = loadModelFolder(DEFAULT_MODEL_DIR);
const dir = mkdtempSync(join(tmpdir(), 'smartpay-score-models-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** 8 customers, 5 terminals, 30 days; one terminal turns bad for a week, one card is tested then cashed out. */
function buildCsv(labels: boolean): string {
  let seed = 777;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const start = Date.UTC(2026, 0, 1);
  const rows: string[] = [];
  let id = 0;
  const add = (time: number, c: string, t: string, amount: string, label: number, device: string) =>
    rows.push([`tx${String(++id).padStart(5, '0')}`, new Date(time).toISOString(), c, t, amount, 'USD', labels ? label : '', device, 'US', 'US'].join(','));
  for (let day = 0; day < 30; day++) {
    for (let c = 1; c <= 8; c++) {
      for (let k = Math.floor(rand() * 4); k > 0; k--) {
        const terminal = `t${((c + k) % 5) + 1}`;
        const fraud = terminal === 't5' && day >= 18 && day <= 25 && rand() < 0.5;
        const time = start + day * 86_400_000 + Math.floor((rand() * 86_400_000) / 1000) * 1000;
        add(time, `c${c}`, terminal, (fraud ? 400 + rand() * 600 : 5 + rand() * 90).toFixed(2), fraud ? 1 : 0, c % 3 ? `d${c}` : '');
      }
    }
  }
  for (let k = 0; k < 8; k++) add(start + 27 * 86_400_000 + 3_600_000 + k * 30_000, 'c8', 't9', k < 7 ? '1.00' : '880.00', 1, 'dz');
  return ['tx_id,timestamp,customer_id,terminal_id,amount,currency,label,device_id,country,merchant_country', ...rows].join('\n') + '\n';
}

function readRows(path: string): Array<Record<string, string>> {
  const [header, ...lines] = readFileSync(path, 'utf8').trimEnd().split('\n');
  const columns = header.split(',');
  return lines.map((line) => Object.fromEntries(line.split(',').map((v, i) => [columns[i], v])));
}

describe('npm run score: each model beside the ensemble', () => {
  const data = join(dir, 'tx.csv');
  writeFileSync(data, buildCsv(true));
  const out = join(dir, 'scores.csv');
  let summary: Awaited<ReturnType<typeof scoreWindow>>;
  let rows: Array<Record<string, string>>;

  beforeAll(async () => {
    summary = await scoreWindow({ data, from: '2026-01-15', out });
    rows = readRows(out);
  });

  it('keeps the existing columns in order and appends score_xgboost and score_graphsage', () => {
    expect(SCORE_COLUMNS).toEqual([
      'tx_id', 'timestamp', 'customer_id', 'terminal_id', 'label', 'score', 'decision', 'model_version', 'reason_1', 'reason_2', 'reason_3',
      'score_xgboost', 'score_graphsage',
    ]);
    expect(readFileSync(out, 'utf8').split('\n')[0]).toBe(SCORE_COLUMNS.join(','));
    expect(rows.length).toBeGreaterThan(100);
  });

  it("writes each model's own probability: the sigmoid of the log-odds the served stack combines", async () => {
    const expected = new Map<string, { xgboost: number; graphsage: number; ensemble: number }>();
    for (const { tx, vector, graph } of replay(await readTransactions(data), { feedbackDelayDays: folder.feedbackDelayDays })) {
      const margin = folder.model.margin(vector);
      const logit = folder.graphsage.logit(vector, graph);
      expected.set(tx.txId, { xgboost: sigmoid(margin), graphsage: sigmoid(logit), ensemble: stack(folder.ensemble, margin, logit) });
    }
    for (const row of rows) {
      const e = expected.get(row.tx_id)!;
      expect(Number(row.score_xgboost)).toBe(e.xgboost);
      expect(Number(row.score_graphsage)).toBe(e.graphsage);
      expect(Number(row.score)).toBe(e.ensemble); // the three columns are one row's parts
    }
    // The models disagree somewhere, or the columns would say nothing.
    expect(rows.some((r) => Math.abs(Number(r.score_xgboost) - Number(r.score_graphsage)) > 0.01)).toBe(true);
  });

  it('measures the ensemble and each model on the same labelled rows, and prints all three', () => {
    const y = rows.map((r) => Number(r.label));
    expect(y.some((v) => v === 1)).toBe(true);
    expect(summary.metrics).toEqual(metricsOf(y, rows.map((r) => Number(r.score))));
    for (const name of MODELS) expect(summary.modelMetrics![name]).toEqual(metricsOf(y, rows.map((r) => Number(r[`score_${name}`]))));
    const lines = formatSummary(summary, out);
    for (const [name, m] of [['ensemble', summary.metrics!], ['xgboost', summary.modelMetrics!.xgboost], ['graphsage', summary.modelMetrics!.graphsage]] as const) {
      expect(lines).toContain(
        `    ${name.padEnd(10)} AUC ROC ${m.aucRoc.toFixed(4)}, average precision ${m.averagePrecision.toFixed(4)}, precision@100 ${m.precisionAt100.toFixed(2)}`,
      );
    }
  });

  it('has no metrics without labels, but still both columns', async () => {
    const unlabelled = join(dir, 'unlabelled.csv');
    writeFileSync(unlabelled, buildCsv(false));
    const s = await scoreWindow({ data: unlabelled, from: '2026-01-15', out: join(dir, 'unlabelled-scores.csv') });
    expect(s.metrics).toBeUndefined();
    expect(s.modelMetrics).toBeUndefined();
    expect(formatSummary(s)).toContain('  no labels in the window: no metrics');
    const written = readRows(join(dir, 'unlabelled-scores.csv'));
    expect(written.every((r) => Number(r.score_xgboost) > 0 && Number(r.score_graphsage) > 0)).toBe(true);
  });

  it('logs progress through the log callback only (nothing when it is absent: --quiet)', async () => {
    const lines: string[] = [];
    await scoreWindow({ data, from: '2026-01-15', out: join(dir, 'logged.csv'), log: (line) => lines.push(line) });
    expect(lines.some((l) => /^replaying \d+ transactions of history, then scoring \d+$/.test(l))).toBe(true);
    // What the folder serves, as its manifest says (the shipped one: the stack).
    expect(lines[0]).toMatch(/^model fraud-\S+ from \S+: XGBoost \(\d+ trees\) \+ GraphSAGE, stacked: sigmoid\(/);
    // The rows scored (January 2026) end before the shipped model's training window (from 31 January): no
    // in-sample warning, though the window asked for has no end.
    expect(lines.filter((l) => /in-sample/.test(l))).toEqual([]);
  });

  it('warns when the rows scored fall in the model\'s own training window, and names it', async () => {
    const model = join(dir, 'model-trained-on-january');
    cpSync(DEFAULT_MODEL_DIR, model, { recursive: true });
    const manifest = JSON.parse(readFileSync(join(model, 'manifest.json'), 'utf8'));
    manifest.windows.refit = ['2026-01-10T00:00:00Z', '2026-01-20T00:00:00Z'];
    writeFileSync(join(model, 'manifest.json'), JSON.stringify(manifest));
    const lines: string[] = [];
    await scoreWindow({ data, model, from: '2026-01-15', out: join(dir, 'in-sample.csv'), log: (line) => lines.push(line) });
    expect(lines.filter((l) => /in-sample/.test(l))).toEqual([
      "warning: the rows scored overlap the model's own training window (2026-01-10T00:00:00Z to 2026-01-20T00:00:00Z): their metrics are in-sample, not a backtest",
    ]);
    // Rows after it: none.
    const after: string[] = [];
    await scoreWindow({ data, model, from: '2026-01-21', out: join(dir, 'after.csv'), log: (line) => after.push(line) });
    expect(after.filter((l) => /in-sample/.test(l))).toEqual([]);
    // Progress lines (if the run is slow enough to have any) have the shared format.
    for (const l of lines.filter((x) => /rows \(\d+%\)/.test(x))) expect(l).toMatch(/^ {2}(history|scoring): [\d,]+ \/ [\d,]+ rows \(\d+%\)/);
  });
});
