/**
 * The SageMaker routing path with a fake runtime client (no AWS): the endpoint's scores rank when it answers
 * in time; on a timeout, an error or an unusable answer the embedded bandit ranks and the fallback is reported.
 */
import type { InvokeEndpointCommand } from '@aws-sdk/client-sagemaker-runtime';
import { BanditPolicy, emptyBanditState } from '../../lambdas/routing/bandit';
import { routingDimension, routingFeatureNames, vocabularyOf } from '../../lambdas/routing/context';
import { parseScores, sageMakerRoutingEndpoint } from '../../lambdas/routing/sagemaker';
import { route, type RoutingDeps } from '../../lambdas/routing/service';
import { DEFAULT_CONNECTORS } from '../../contracts/connectors';
import { EndpointScoreError, type InvokeEndpointClient } from '../../lambdas/shared/sagemaker';

const text = (s: string) => new TextEncoder().encode(s);

function fakeClient(answer: (signal: AbortSignal) => Promise<{ Body?: Uint8Array }>) {
  const requests: Array<InvokeEndpointCommand['input']> = [];
  const client: InvokeEndpointClient = {
    send: (command, { abortSignal }) => {
      requests.push(command.input);
      return answer(abortSignal);
    },
  };
  return { client, requests };
}

function deps(client: InvokeEndpointClient, reported: string[], timeoutMs = 20): RoutingDeps {
  return {
    connectors: DEFAULT_CONNECTORS,
    model: { get: async () => ({ policy: new BanditPolicy(emptyBanditState(vocabularyOf(DEFAULT_CONNECTORS))), version: 1 }) },
    store: { logDecision: async () => true, getDecision: async () => undefined, recordOutcome: async () => true, recordedOutcomes: async () => [] },
    health: { recordHealth: async () => undefined },
    queue: { enqueue: async () => undefined },
    maxAttempts: 3,
    random: () => 0,
    endpoint: sageMakerRoutingEndpoint(client, 'smartpay-routing', { timeoutMs }),
    fallbackReporter: { fallback: (name, e) => reported.push(`${name}:${e.kind}`) },
  };
}

const input = { amount: 10_000, currency: 'USD', method: 'card' as const, country: 'US' };

describe('routing endpoint', () => {
  it('ranks by the endpoint scores when it answers in time, and sends the features and the eligible connectors', async () => {
    const reported: string[] = [];
    // The embedded bandit (empty) would put the cheaper amazon-pay-sandbox first; the endpoint prefers stripe.
    const { client, requests } = fakeClient(async () => ({ Body: text('{"scores":{"stripe-sandbox":0.97,"amazon-pay-sandbox":0.5}}') }));
    const result = await route('m1', input, deps(client, reported));
    expect(result.scoredBy).toBe('sagemaker');
    expect(result.ranked.map((r) => [r.connectorId, r.score])).toEqual([['stripe-sandbox', 0.97], ['amazon-pay-sandbox', 0.5]]);
    expect(reported).toEqual([]);
    const sent = JSON.parse(new TextDecoder().decode(requests[0].Body as Uint8Array));
    // The features under the registry's vocabulary, with their names (the endpoint reads them by name).
    expect(sent.features).toHaveLength(routingDimension(vocabularyOf(DEFAULT_CONNECTORS)));
    expect(sent.names).toEqual(routingFeatureNames(vocabularyOf(DEFAULT_CONNECTORS)));
    expect(sent.features[sent.names.indexOf('currency_USD')]).toBe(1);
    expect(sent.connectors.sort()).toEqual(['amazon-pay-sandbox', 'stripe-sandbox']);
    expect(requests[0]).toMatchObject({ EndpointName: 'smartpay-routing', ContentType: 'application/json', Accept: 'application/json' });
  });

  it.each([
    ['a timeout', () => new Promise<never>(() => undefined), 'timeout'],
    ['an error', async () => Promise.reject(new Error('throttled')), 'error'],
    ['an answer without every connector', async () => ({ Body: text('{"scores":{"stripe-sandbox":0.9}}') }), 'invalid-response'],
  ])('falls back to the embedded bandit on %s, within the budget, and reports it', async (_name, answer, kind) => {
    const reported: string[] = [];
    const started = performance.now();
    const result = await route('m1', input, deps(fakeClient(answer as () => Promise<{ Body?: Uint8Array }>).client, reported, 15));
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(result.scoredBy).toBe('embedded');
    expect(result.ranked[0].connectorId).toBe('amazon-pay-sandbox'); // the embedded prior: equal success, cheaper
    expect(reported).toEqual([`smartpay-routing:${kind}`]);
  });

  it('reads only a JSON object of finite scores', () => {
    expect(parseScores(text('{"scores":{"a":1,"b":-0.5}}'), ['a', 'b'])).toEqual({ a: 1, b: -0.5 });
    for (const bad of ['nope', '{}', '{"scores":{"a":"1"}}', '{"scores":{"a":null}}']) {
      expect(() => parseScores(text(bad), ['a'])).toThrow(EndpointScoreError);
    }
  });
});
