/**
 * The functions publish their metrics under the namespace the construct gives them (POWERTOOLS_METRICS_NAMESPACE,
 * `SmartPay/<instanceName>`), the one its alarms and dashboard read (test/lib/platform.test.ts checks the construct
 * sets the variable to its alarms' namespace): a namespace fixed in code would win over the variable, and the alarms
 * would watch a namespace nothing writes to.
 */
import type * as Powertools from '../../lambdas/shared/powertools';

afterEach(() => {
  delete process.env.POWERTOOLS_METRICS_NAMESPACE;
});

const namespaceOf = (): string => {
  let namespace = '';
  jest.isolateModules(() => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { metrics } = require('../../lambdas/shared/powertools') as typeof Powertools;
    metrics.addMetric('FraudInferenceMs', 'Milliseconds', 12);
    namespace = (metrics.serializeMetrics() as { _aws: { CloudWatchMetrics: Array<{ Namespace: string }> } })._aws.CloudWatchMetrics[0]!.Namespace;
    metrics.clearMetrics();
  });
  return namespace;
};

test("the platform's namespace from the environment", () => {
  process.env.POWERTOOLS_METRICS_NAMESPACE = 'SmartPay/prod-1e702c4a';
  expect(namespaceOf()).toBe('SmartPay/prod-1e702c4a');
});

test('SmartPay without one (the local platform, tests)', () => {
  expect(namespaceOf()).toBe('SmartPay');
});
