import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FEATURE_NAMES, featureVector, observe, type CustomerState, type FeatureTransaction, type TerminalState } from '../../lambdas/fraud/features';
import { unitsPerUsd } from '../../lambdas/fraud/usd';
import { graphInputs } from '../../lambdas/fraud/graph';
import { DEFAULT_MODEL_DIR, GRAPH_REASON, loadFraudModel, loadModelFolder, reasonDetail } from '../../lambdas/fraud/model';
import { assess, decide, recordCompleted, scoreTransaction } from '../../lambdas/fraud/service';
import type { FeatureState, FeatureStatePort } from '../../lambdas/fraud/state';

const manifest = JSON.parse(readFileSync(join(DEFAULT_MODEL_DIR, 'manifest.json'), 'utf8'));
const tx: FeatureTransaction = {
  txId: 'pay_1', time: Date.UTC(2026, 10, 26, 3), customerId: 'c', terminalId: 'm', amountMinor: 50_000, currency: 'USD',
};

function copyModel(): string {
  const dir = mkdtempSync(join(tmpdir(), 'smartpay-model-'));
  cpSync(DEFAULT_MODEL_DIR, dir, { recursive: true });
  return dir;
}

describe('the served fraud model', () => {
  const model = loadFraudModel();

  it('loads the shipped folder with its version and thresholds', () => {
    expect(model.version).toBe(manifest.version);
    expect(model.thresholds).toEqual({ reviewThreshold: manifest.thresholds.review, declineThreshold: manifest.thresholds.decline });
    expect(model.feedbackDelayDays).toBe(manifest.feedbackDelayDays);
  });

  it('scores the stack of XGBoost and GraphSAGE and explains with the top positive contributions', () => {
    const vector = featureVector(tx, undefined, undefined);
    const graph = graphInputs(vector, undefined, undefined, tx.time);
    const { score, reasons } = model.score(vector, graph);
    const folder = loadModelFolder(DEFAULT_MODEL_DIR);
    const [wx, wg] = manifest.ensemble.weights;
    const xgbMargin = folder.model.margin(vector);
    const gnnLogit = folder.graphsage.logit(vector, graph);
    expect(score).toBeCloseTo(1 / (1 + Math.exp(-(wx * xgbMargin + wg * gnnLogit + manifest.ensemble.bias))), 12);
    expect(reasons.length).toBeLessThanOrEqual(3);
    const contributions = folder.model.contributions(vector);
    const candidates = FEATURE_NAMES.map((name, i) => ({ name, c: wx * contributions[i] }));
    candidates.push({ name: GRAPH_REASON, c: wg * (gnnLogit - manifest.ensemble.graphsageBaseline) });
    const top = candidates.filter((r) => r.c > 0).sort((a, b) => b.c - a.c).slice(0, 3);
    expect(reasons.map((r) => r.code)).toEqual(top.map((r) => r.name));
    for (const r of reasons.filter((x) => x.code !== GRAPH_REASON)) expect(r.detail).toMatch(new RegExp(`^${r.code} = `));
  });

  it.each([
    ['a missing folder', (dir: string) => rmSync(join(dir, 'manifest.json')), /manifest\.json: no such file/],
    ['a corrupt manifest', (dir: string) => writeFileSync(join(dir, 'manifest.json'), '{oops'), /manifest\.json: not a valid manifest/],
    [
      'features that the code does not compute',
      (dir: string) => writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ ...manifest, features: ['amount'] })),
      /manifest\.json: the model expects features \[amount\] but this code computes/,
    ],
    [
      'a model trained on major units (before the dollar scale)',
      (dir: string) => writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ ...manifest, amountScale: undefined })),
      /manifest\.json: the model does not record its amount scale.*retrain with npm run train/,
    ],
    [
      'a model trained on other reference rates',
      (dir: string) => writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ ...manifest, amountScale: 'usd-000000000000' })),
      /manifest\.json: the model's amount scale "usd-000000000000" is not this code's usd-[0-9a-f]{12}.*retrain/,
    ],
    [
      'thresholds out of order',
      (dir: string) => writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ ...manifest, thresholds: { review: 0.9, decline: 0.1 } })),
      /manifest\.json: "thresholds" must be/,
    ],
    ['a missing model file', (dir: string) => rmSync(join(dir, 'xgboost.json')), /xgboost\.json/],
    ['missing GraphSAGE weights', (dir: string) => rmSync(join(dir, 'graphsage.json')), /graphsage\.json: no such file \(named by .*manifest\.json/],
    ['corrupt GraphSAGE weights', (dir: string) => writeFileSync(join(dir, 'graphsage.json'), '{"kind": "graphsage"'), /graphsage\.json: not valid JSON/],
    [
      'an ensemble without weights',
      (dir: string) => writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ ...manifest, ensemble: { kind: 'logistic-stack' } })),
      /manifest\.json: "ensemble" must be/,
    ],
  ])('fails at startup naming the file for %s', (_name, corrupt, message) => {
    const dir = copyModel();
    corrupt(dir);
    expect(() => loadFraudModel(dir)).toThrow(message);
  });
});

describe('fraud service', () => {
  it('marks a reason’s amounts as the dollars they are', () => {
    expect(reasonDetail('amount', 34.0136054)).toBe('amount = 34.0136 USD (at the reference rate)');
    expect(reasonDetail('cust_amount_median_30d', 19.99)).toBe('cust_amount_median_30d = 19.99 USD (at the reference rate)');
    expect(reasonDetail('amount_over_cust_mean_30d', 1.7)).toBe('amount_over_cust_mean_30d = 1.7');
    expect(reasonDetail('cust_amount_mean_7d', NaN)).toBe('cust_amount_mean_7d = missing');
  });

  it('decides with inclusive thresholds', () => {
    const t = { reviewThreshold: 0.2, declineThreshold: 0.6 };
    expect([decide(0.6, t), decide(0.59, t), decide(0.2, t), decide(0.19, t)]).toEqual(['decline', 'review', 'review', 'approve']);
  });

  it('scores from the state before the payment and records completed payments', async () => {
    const loaded: string[] = [];
    const observed: string[] = [];
    const state: FeatureStatePort = {
      load: async (customerId, terminalId): Promise<FeatureState> => {
        loaded.push(`${customerId}/${terminalId}`);
        return {};
      },
      observe: async (t) => {
        observed.push(t.txId);
      },
      observeLabel: async () => undefined,
    };
    const model = loadFraudModel();
    const result = await assess(tx, { model, state, thresholds: { reviewThreshold: 0, declineThreshold: 1 } });
    expect(loaded).toEqual(['c/m']);
    expect(result).toMatchObject({ decision: 'review', modelVersion: manifest.version });
    const vector = featureVector(tx, undefined, undefined);
    expect(result.score).toBeCloseTo(model.score(vector, graphInputs(vector, undefined, undefined, tx.time)).score, 12);
    await recordCompleted(tx, { state, model });
    expect(observed).toEqual(['pay_1']);
    expect(loaded).toEqual(['c/m', 'c/m']); // without the score step's snapshots, the state is read again
  });

  it('scores a payment in another currency by its dollar value (JPY 5,000 after USD history is not 250 times the mean)', async () => {
    // A customer's week of USD ~20 payments at one terminal, then a payment of about $34 in JPY (a probe saw it
    // held for review, its amount read as 5,000 dollars) and the same value in USD: they differ only in the
    // currency being new to the customer.
    let customer: CustomerState | undefined;
    let terminal: TerminalState | undefined;
    for (let day = 7; day >= 1; day -= 1) {
      const past: FeatureTransaction = { ...tx, txId: `past_${day}`, time: tx.time - day * 86_400_000, amountMinor: 1999 };
      ({ customer, terminal } = observe(past, customer, terminal));
    }
    const state: FeatureStatePort = { load: async () => ({ customer, terminal }), observe: async () => undefined, observeLabel: async () => undefined };
    const model = loadFraudModel();
    const deps = { model, state, thresholds: model.thresholds };
    const jpy = await assess({ ...tx, amountMinor: 5000, currency: 'JPY' }, deps);
    const usd = await assess({ ...tx, amountMinor: Math.round((5000 / unitsPerUsd('JPY')!) * 100), currency: 'USD' }, deps);
    expect(jpy.decision).toBe('approve');
    expect(jpy.decision).toBe(usd.decision);
    expect(Math.abs(jpy.score - usd.score)).toBeLessThan(model.thresholds.reviewThreshold / 2);
    const big = await assess({ ...tx, amountMinor: 5_000_000, currency: 'USD' }, deps);
    expect(big.score).toBeGreaterThan(jpy.score); // the check can fail: $50,000 from this customer is riskier
  });

  it('records with the score step’s snapshots without reading the state again', async () => {
    const loads: string[] = [];
    const stored: unknown[] = [];
    const state: FeatureStatePort = {
      load: async (customerId): Promise<FeatureState> => {
        loads.push(customerId);
        return {};
      },
      observe: async (_t, snapshots) => {
        stored.push(snapshots);
      },
      observeLabel: async () => undefined,
    };
    const model = loadFraudModel();
    const { assessment, snapshots } = await scoreTransaction(tx, { model, state, thresholds: model.thresholds });
    expect(assessment.score).toBe((await assess(tx, { model, state, thresholds: model.thresholds })).score);
    const vector = featureVector(tx, undefined, undefined);
    const graph = graphInputs(vector, undefined, undefined, tx.time);
    expect(snapshots).toEqual({ customer: graph.customer, terminal: graph.terminal });
    loads.length = 0;
    await recordCompleted(tx, { state, model }, snapshots);
    expect(loads).toEqual([]);
    expect(stored).toEqual([snapshots]);
  });
});
