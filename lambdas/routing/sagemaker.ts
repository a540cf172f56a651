/**
 * The optional SageMaker routing path (`ROUTING_ENDPOINT_NAME`): an endpoint of yours scores the eligible
 * connectors for the context, under a strict time budget (ROUTING_ENDPOINT_TIMEOUT_MS, default 20 ms). On a
 * timeout, an error or an unusable answer the embedded bandit ranks, the `RoutingEndpointFallback` metric is
 * added and a warning says why. Eligibility, the circuit breaker, exploration and the propensities stay in
 * the routing function either way: the endpoint only supplies the scores.
 *
 * Wire format (JSON both ways):
 * - request `{"features": [...], "names": [...], "connectors": ["stripe-us", ...]}`: the context's features and
 *   their names (context.ts routingFeatureNames: the currency and region slots follow the connector registry, so
 *   an endpoint should read them by name);
 * - response `{"scores": {"stripe-us": 0.91, ...}}`, one finite number per connector asked about.
 */
import { METRICS } from '../../contracts/resources';
import { logger, metrics } from '../shared/powertools';
import { EndpointScoreError, invokeWithBudget, type InvokeEndpointClient } from '../shared/sagemaker';

export const DEFAULT_ROUTING_ENDPOINT_TIMEOUT_MS = 20;

export interface RoutingEndpoint {
  readonly endpointName: string;
  /** The score of each connector, or an EndpointScoreError. */
  scores(features: EndpointFeatures, connectorIds: readonly string[]): Promise<Record<string, number>>;
}

/** A context's features as the endpoint receives them: the values and, in the same order, their names. */
export interface EndpointFeatures {
  readonly values: readonly number[];
  readonly names: readonly string[];
}

/** The scores in the endpoint's answer, or an EndpointScoreError naming what is wrong with it. */
export function parseScores(body: Uint8Array | undefined, connectorIds: readonly string[]): Record<string, number> {
  const text = body ? new TextDecoder().decode(body) : '';
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new EndpointScoreError('invalid-response', `the endpoint answered ${JSON.stringify(text.slice(0, 64))}, not JSON`);
  }
  const scores = (json as { scores?: unknown })?.scores;
  if (typeof scores !== 'object' || scores === null) throw new EndpointScoreError('invalid-response', 'the answer has no "scores" object');
  const out: Record<string, number> = {};
  for (const id of connectorIds) {
    const value = (scores as Record<string, unknown>)[id];
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new EndpointScoreError('invalid-response', `no finite score for ${id}`);
    out[id] = value;
  }
  return out;
}

export function sageMakerRoutingEndpoint(client: InvokeEndpointClient, endpointName: string, options: { readonly timeoutMs?: number } = {}): RoutingEndpoint {
  const timeoutMs = options.timeoutMs ?? DEFAULT_ROUTING_ENDPOINT_TIMEOUT_MS;
  return {
    endpointName,
    async scores(features, connectorIds) {
      const body = await invokeWithBudget(
        client,
        endpointName,
        { contentType: 'application/json', accept: 'application/json', body: JSON.stringify({ features: features.values, names: features.names, connectors: connectorIds }) },
        timeoutMs,
      );
      return parseScores(body, connectorIds);
    },
  };
}

/** Where a fallback is reported: a metric and a warning by default. */
export interface RoutingFallbackReporter {
  fallback(endpointName: string, error: EndpointScoreError): void;
}

export const powertoolsRoutingFallbackReporter: RoutingFallbackReporter = {
  fallback(endpointName, error) {
    metrics.addMetric(METRICS.routingEndpointFallback, 'Count', 1);
    logger.warn('routing endpoint unavailable: the embedded bandit ranked', { endpointName, reason: error.kind, detail: error.message });
  },
};
