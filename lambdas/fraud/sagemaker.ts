/**
 * The optional SageMaker scoring path (`FRAUD_ENDPOINT_NAME`): the feature vector goes to an endpoint serving
 * the built-in XGBoost container (lib/ml.ts), under a strict time budget. It never fails a payment: on a
 * timeout, an error or an answer that is not a probability, the embedded model's score is used, the
 * `FraudEndpointFallback` metric is added and a warning says why.
 *
 * Wire format (the built-in container, sagemaker-xgboost 1.x):
 * - request `text/csv`, one row, no label column, the features in FEATURE_NAMES order;
 * - a missing value (NaN) is an **empty field**: the container's CSV decoder maps `''` to `nan` before it
 *   builds the DMatrix, and XGBoost treats NaN as missing, exactly as the embedded evaluator does. The text
 *   `NaN` would also parse, but an empty field is the documented CSV convention;
 * - response `text/csv`: the binary:logistic probability as text (e.g. `0.0123\n`).
 *
 * The reasons always come from the embedded model's contributions: the container answers a probability only
 * (no per-feature attributions without a second request with `pred_contribs`, which the time budget cannot
 * afford), and both serve the same booster, so the embedded attributions explain the endpoint's score too.
 */
import { METRICS } from '../../contracts/resources';
import { EndpointScoreError, invokeWithBudget, type InvokeEndpointClient, type ScoredBy } from '../shared/sagemaker';
import { logger, metrics } from '../shared/powertools';
import type { FraudReason, ModelScore } from './model';

/** The default time budget of one endpoint call, in milliseconds. */
export const DEFAULT_ENDPOINT_TIMEOUT_MS = 30;

export { EndpointScoreError, type EndpointFailure, type InvokeEndpointClient, type ScoredBy } from '../shared/sagemaker';

/** Scores a feature vector remotely; resolves with a probability or rejects with an EndpointScoreError. */
export interface EndpointScorer {
  readonly endpointName: string;
  score(vector: Float64Array): Promise<number>;
}

/** One CSV row; NaN (missing) becomes an empty field. */
export function toCsvRow(vector: ArrayLike<number>): string {
  return Array.from(vector, (v) => (Number.isNaN(v) ? '' : String(v))).join(',');
}

/** The probability in the container's text answer, or an EndpointScoreError. */
export function parseProbability(body: Uint8Array | undefined): number {
  const text = body ? new TextDecoder().decode(body).trim() : '';
  // One value only: a single-row request must yield a single prediction.
  const value = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text) ? Number(text) : Number.NaN;
  if (!(value >= 0 && value <= 1)) {
    throw new EndpointScoreError('invalid-response', `the endpoint answered ${JSON.stringify(text.slice(0, 64))}, not a probability`);
  }
  return value;
}

/** A scorer over `InvokeEndpoint`, aborted after `timeoutMs`. */
export function sageMakerScorer(
  client: InvokeEndpointClient,
  endpointName: string,
  options: { readonly timeoutMs?: number } = {},
): EndpointScorer {
  const timeoutMs = options.timeoutMs ?? DEFAULT_ENDPOINT_TIMEOUT_MS;
  return {
    endpointName,
    async score(vector) {
      const body = await invokeWithBudget(client, endpointName, { contentType: 'text/csv', accept: 'text/csv', body: toCsvRow(vector) }, timeoutMs);
      return parseProbability(body);
    },
  };
}

/** Where a fallback is reported: a metric and a warning by default. */
export interface FallbackReporter {
  fallback(endpointName: string, error: EndpointScoreError): void;
}

export const powertoolsFallbackReporter: FallbackReporter = {
  fallback(endpointName, error) {
    metrics.addMetric(METRICS.fraudEndpointFallback, 'Count', 1);
    logger.warn('fraud endpoint unavailable: the embedded model scored', { endpointName, reason: error.kind, detail: error.message });
  },
};

export interface ScoredVector {
  readonly score: number;
  readonly reasons: FraudReason[];
  readonly scoredBy: ScoredBy;
}

/**
 * Scores with the endpoint when one is configured, else (or when it fails) with the embedded model. The
 * endpoint hosts the XGBoost booster; `embedded(p)` gives the ensemble's score with XGBoost's probability
 * `p` taken from the endpoint (or, without `p`, from the embedded booster). The request is sent first, so
 * the embedded scoring (needed for the reasons and as the fallback anyway) overlaps the network call.
 */
export async function scoreWithFallback(
  vector: Float64Array,
  embedded: (xgboostProbability?: number) => ModelScore,
  endpoint?: EndpointScorer,
  reporter: FallbackReporter = powertoolsFallbackReporter,
): Promise<ScoredVector> {
  if (!endpoint) return { ...embedded(), scoredBy: 'embedded' };
  const remote = endpoint.score(vector).then(
    (score) => ({ ok: true as const, score }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  const local = embedded();
  const answer = await remote;
  if (answer.ok) return { ...embedded(answer.score), scoredBy: 'sagemaker' };
  const error =
    answer.error instanceof EndpointScoreError
      ? answer.error
      : new EndpointScoreError('error', (answer.error as Error)?.message ?? String(answer.error), { cause: answer.error });
  reporter.fallback(endpoint.endpointName, error);
  return { ...local, scoredBy: 'embedded' };
}
