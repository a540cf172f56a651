/**
 * The SageMaker scoring path with a fake runtime client (no AWS): the endpoint's score when it answers in
 * time, the embedded model's on a timeout, an error or a non-numeric answer, with the fallback metric.
 */
import type { InvokeEndpointCommand } from '@aws-sdk/client-sagemaker-runtime';
import { FEATURE_NAMES, featureVector, type FeatureTransaction } from '../../lambdas/fraud/features';
import { graphInputs } from '../../lambdas/fraud/graph';
import { loadFraudModel } from '../../lambdas/fraud/model';
import {
  EndpointScoreError,
  parseProbability,
  sageMakerScorer,
  scoreWithFallback,
  toCsvRow,
  type InvokeEndpointClient,
} from '../../lambdas/fraud/sagemaker';
import { assess, type FraudDeps } from '../../lambdas/fraud/service';
import type { FeatureStatePort } from '../../lambdas/fraud/state';
import { METRICS } from '../../contracts/resources';
import { logger, metrics } from '../../lambdas/shared/powertools';

const model = loadFraudModel();
const tx: FeatureTransaction = {
  txId: 'pay_1', time: Date.UTC(2026, 10, 26, 3), customerId: 'c', terminalId: 'm', amountMinor: 50_000, currency: 'USD',
};
const state: FeatureStatePort = { load: async () => ({}), observe: async () => undefined, observeLabel: async () => undefined };
const thresholds = { reviewThreshold: 0.2, declineThreshold: 0.6 };
// A customer and a terminal never seen: the state is empty.
const vector = featureVector(tx, undefined, undefined, { feedbackDelayDays: model.feedbackDelayDays });
const graph = graphInputs(vector, undefined, undefined, tx.time);
/** The ensemble with XGBoost's probability from the endpoint (or the embedded one). */
const ensembleWith = (p?: number) => model.score(vector, graph, p);

const text = (s: string) => new TextEncoder().encode(s);

/** A fake client that records its requests and answers with `answer`. */
function fakeClient(answer: (signal: AbortSignal) => Promise<{ Body?: Uint8Array }>) {
  const requests: Array<{ input: InvokeEndpointCommand['input']; signal: AbortSignal }> = [];
  const client: InvokeEndpointClient = {
    send: (command, { abortSignal }) => {
      requests.push({ input: command.input, signal: abortSignal });
      return answer(abortSignal);
    },
  };
  return { client, requests };
}

/** Never answers; rejects like the SDK when aborted. */
const hanging = (signal: AbortSignal) =>
  new Promise<never>((_resolve, reject) => {
    signal.addEventListener('abort', () => reject(Object.assign(new Error('Request aborted'), { name: 'AbortError' })));
  });

function depsWith(client: InvokeEndpointClient, timeoutMs = 30): FraudDeps {
  return { model, state, thresholds, endpoint: sageMakerScorer(client, 'smartpay-fraud', { timeoutMs }) };
}

let addMetric: jest.SpyInstance;
let warn: jest.SpyInstance;
beforeEach(() => {
  addMetric = jest.spyOn(metrics, 'addMetric').mockImplementation(() => metrics);
  warn = jest.spyOn(logger, 'warn').mockImplementation(() => undefined);
});
afterEach(() => jest.restoreAllMocks());

const fallbacks = () => addMetric.mock.calls.filter(([name]) => name === METRICS.fraudEndpointFallback);

describe('wire format of the built-in XGBoost container', () => {
  it('sends one CSV row with missing values as empty fields', () => {
    expect(toCsvRow(Float64Array.from([1.5, Number.NaN, 0, 12, Number.NaN]))).toBe('1.5,,0,12,');
  });

  it.each([['0.25\n', 0.25], ['1e-3', 0.001], [' 1 ', 1], ['0', 0]])('reads %j as a probability', (body, value) => {
    expect(parseProbability(text(body))).toBe(value);
  });

  it.each(['', 'nan', '0.1,0.2', '{"predictions":[0.1]}', '1.5', '-0.1'])('rejects %j', (body) => {
    expect(() => parseProbability(text(body))).toThrow(EndpointScoreError);
  });
});

describe('assess with a SageMaker endpoint', () => {
  it("stacks the endpoint's XGBoost probability with GraphSAGE when it answers in time, with the embedded model's reasons", async () => {
    const { client, requests } = fakeClient(async () => ({ Body: text('0.7\n') }));
    const result = await assess(tx, depsWith(client));
    const embedded = await assess(tx, { model, state, thresholds });
    expect(result).toMatchObject({ score: ensembleWith(0.7).score, scoredBy: 'sagemaker', modelVersion: model.version });
    expect(result.score).not.toBeCloseTo(embedded.score, 3);
    expect(result.reasons).toEqual(embedded.reasons);
    expect(embedded.scoredBy).toBe('embedded');
    expect(requests).toHaveLength(1);
    expect(requests[0].input).toMatchObject({ EndpointName: 'smartpay-fraud', ContentType: 'text/csv', Accept: 'text/csv' });
    const row = new TextDecoder().decode(requests[0].input.Body as Uint8Array);
    expect(row.split(',')).toHaveLength(FEATURE_NAMES.length);
    expect(row).not.toMatch(/NaN|\n/);
    expect(fallbacks()).toHaveLength(0);
  });

  it('decides on the stacked score with the thresholds, rising with the endpoint probability', async () => {
    const scores: number[] = [];
    for (const p of [0.01, 0.2, 0.6, 0.99]) {
      const { client } = fakeClient(async () => ({ Body: text(String(p)) }));
      const result = await assess(tx, depsWith(client));
      expect(result.decision).toBe(result.score >= 0.6 ? 'decline' : result.score >= 0.2 ? 'review' : 'approve');
      scores.push(result.score);
    }
    for (let i = 1; i < scores.length; i += 1) expect(scores[i]).toBeGreaterThan(scores[i - 1]);
  });

  it('falls back to the embedded model when the endpoint does not answer within the budget, and aborts the call', async () => {
    const { client, requests } = fakeClient(hanging);
    const started = performance.now();
    const result = await assess(tx, depsWith(client, 25));
    expect(performance.now() - started).toBeLessThan(1_000);
    const embedded = ensembleWith();
    expect(result).toMatchObject({ score: embedded.score, reasons: embedded.reasons, scoredBy: 'embedded' });
    expect(requests[0].signal.aborted).toBe(true);
    expect(fallbacks()).toEqual([[METRICS.fraudEndpointFallback, 'Count', 1]]);
    expect(warn).toHaveBeenCalledWith(expect.any(String), expect.objectContaining({ endpointName: 'smartpay-fraud', reason: 'timeout' }));
  });

  it('keeps the budget even when the client ignores the abort signal', async () => {
    const { client } = fakeClient(() => new Promise<never>(() => undefined));
    const result = await assess(tx, depsWith(client, 10));
    expect(result.scoredBy).toBe('embedded');
    expect(fallbacks()).toHaveLength(1);
  });

  it('falls back on an endpoint error', async () => {
    const { client } = fakeClient(async () => {
      throw Object.assign(new Error('Endpoint smartpay-fraud of account 1 not found.'), { name: 'ValidationError' });
    });
    const result = await assess(tx, depsWith(client));
    expect(result.scoredBy).toBe('embedded');
    expect(fallbacks()).toHaveLength(1);
    expect(warn).toHaveBeenCalledWith(expect.any(String), expect.objectContaining({ reason: 'error', detail: expect.stringContaining('not found') }));
  });

  it('falls back on a non-numeric answer', async () => {
    const { client } = fakeClient(async () => ({ Body: text('<html>busy</html>') }));
    const result = await assess(tx, depsWith(client));
    expect(result.scoredBy).toBe('embedded');
    expect(fallbacks()).toHaveLength(1);
    expect(warn).toHaveBeenCalledWith(expect.any(String), expect.objectContaining({ reason: 'invalid-response' }));
  });

  it('reports a fallback through an injected reporter, and scores embedded without an endpoint', async () => {
    const reported: string[] = [];
    const failing = { endpointName: 'e', score: () => Promise.reject(new Error('boom')) };
    const result = await scoreWithFallback(vector, ensembleWith, failing, { fallback: (name, e) => reported.push(`${name}:${e.kind}`) });
    expect(result).toMatchObject({ score: ensembleWith().score, scoredBy: 'embedded' });
    expect(reported).toEqual(['e:error']);
    expect((await scoreWithFallback(vector, ensembleWith)).scoredBy).toBe('embedded');
    expect(fallbacks()).toHaveLength(0);
  });
});
