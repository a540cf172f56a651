/** Logging and tracing knobs: DEBUG namespaces, LOG_LEVEL locally, and what correlates an invocation. */
import { debugEnabled } from '../../contracts/debug';
import { correlation } from '../../lambdas/shared/powertools';
import { localEnvironments } from '../../local/env';

describe('DEBUG=smartpay:*', () => {
  it.each([
    ['smartpay:*', 'smartpay:payments', true],
    ['smartpay:*', 'smartpay:local', true],
    ['smartpay:payments', 'smartpay:payments', true],
    ['smartpay:payments', 'smartpay:routing', false],
    ['smartpay:routing*', 'smartpay:routing-updater', true],
    ['smartpay:*,-smartpay:local', 'smartpay:local', false],
    ['smartpay:*,-smartpay:local', 'smartpay:fraud', true],
    ['express:* smartpay:fraud', 'smartpay:fraud', true],
    ['*', 'smartpay:fraud', true],
    ['', 'smartpay:fraud', false],
    [undefined, 'smartpay:fraud', false],
    ['smartpay:pay.ents', 'smartpay:payments', false],
  ])('%s for %s: %s', (setting, namespace, on) => {
    expect(debugEnabled(setting, namespace)).toBe(on);
  });
});

describe('LOG_LEVEL and DEBUG on the local platform', () => {
  const base = { dynamodbEndpoint: 'http://127.0.0.1:1', eventsEndpoint: 'http://127.0.0.1:2' };

  it('passes both to every function; LOG_LEVEL replaces the quiet default', () => {
    const envs = localEnvironments({ ...base, inherited: { LOG_LEVEL: 'DEBUG', DEBUG: 'smartpay:*' } });
    for (const env of Object.values(envs)) expect(env).toMatchObject({ LOG_LEVEL: 'DEBUG', DEBUG: 'smartpay:*', POWERTOOLS_LOG_LEVEL: 'DEBUG' });
  });

  it('keeps POWERTOOLS_LOG_LEVEL when both are given, and WARN when neither is', () => {
    expect(localEnvironments({ ...base, inherited: { LOG_LEVEL: 'DEBUG', POWERTOOLS_LOG_LEVEL: 'ERROR' } }).payments.POWERTOOLS_LOG_LEVEL).toBe('ERROR');
    expect(localEnvironments(base).payments.POWERTOOLS_LOG_LEVEL).toBe('WARN');
  });

  it('refuses a tunable out of its range before anything starts, naming the variable, the limit and the value', () => {
    expect(() => localEnvironments({ ...base, inherited: { SANDBOX_LATENCY_MS: '12000' } })).toThrow('environment variable SANDBOX_LATENCY_MS must be at most 10000, got "12000"');
    expect(() => localEnvironments({ ...base, env: { GATEWAY_TIMEOUT_MS: 'soon' } })).toThrow('environment variable GATEWAY_TIMEOUT_MS must be a number, got "soon"');
    expect(() => localEnvironments({ ...base, inherited: { SANDBOX_FAULTS: 'bogus' } })).toThrow(/SANDBOX_FAULTS entries look like connector=fault/);
    // In range: passed on to the functions that read it.
    expect(localEnvironments({ ...base, inherited: { SANDBOX_LATENCY_MS: '10000' } }).payments.SANDBOX_LATENCY_MS).toBe('10000');
  });
});

describe('correlation', () => {
  it('finds the payment, its key and the execution in each kind of event', () => {
    expect(correlation({ step: 'charge', executionId: 'exec-1', payment: { paymentId: 'pay_01ABCDEFGHJKMNPQRSTV', idempotencyKey: 'k1' } })).toEqual({ executionId: 'exec-1', paymentId: 'pay_01ABCDEFGHJKMNPQRSTV', idempotencyKey: 'k1' });
    expect(correlation({ step: 'score', envelope: { idempotencyKey: 'k2' } })).toEqual({ idempotencyKey: 'k2' });
    expect(correlation({ detail: { paymentId: 'pay_01ABCDEFGHJKMNPQRSTW' } })).toEqual({ paymentId: 'pay_01ABCDEFGHJKMNPQRSTW' });
    expect(correlation({ httpMethod: 'GET', pathParameters: { id: 'pay_01ABCDEFGHJKMNPQRSTX' } })).toEqual({ paymentId: 'pay_01ABCDEFGHJKMNPQRSTX' });
    expect(correlation({ pathParameters: { id: 'not-a-payment' } })).toEqual({});
    expect(correlation(null)).toEqual({});
    expect(correlation({ paymentId: 'x'.repeat(1000) })).toEqual({});
  });
});
