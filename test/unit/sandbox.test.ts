import { GatewayAmbiguousError } from '../../lambdas/payments/connectors';
import { SandboxConnector } from '../../lambdas/payments/sandbox';
import { DEFAULT_CONNECTORS } from '../../lambdas/shared/connectors';
import { GatewayDeclinedError, GatewayRetryableError } from '../../lambdas/shared/errors';

const now = () => new Date('2026-06-15T00:00:00Z');
const stripe = { ...DEFAULT_CONNECTORS[0], id: `stripe-test-${Math.random()}` };
let n = 0;
const request = (number: string, overrides = {}) => ({
  amount: 1000,
  currency: 'USD',
  card: { number, expMonth: 12, expYear: 2030, cvc: '123' },
  idempotencyKey: `key-${(n += 1)}`,
  ...overrides,
});

describe('sandbox connector (Stripe test cards)', () => {
  const connector = new SandboxConnector(stripe, { now });

  it('charges 4242… and takes its fee', async () => {
    const result = await connector.charge(request('4242424242424242'));
    expect(result.feeMinor).toBe(59);
    expect(result.gatewayReference).toMatch(/^stripe_[0-9a-f]{24}$/);
  });

  it.each([
    ['4000000000000002', 'card_declined'],
    ['4000000000009995', 'insufficient_funds'],
    ['4000000000009987', 'lost_card'],
    ['4000000000000069', 'expired_card'],
  ])('declines %s with %s', async (number, code) => {
    await expect(connector.charge(request(number))).rejects.toMatchObject({ name: 'GatewayDeclinedError', code, status: 402 });
  });

  it('declines a card whose expiry has passed', async () => {
    const error = await connector.charge(request('4242424242424242', { card: { number: '4242424242424242', expMonth: 5, expYear: 2026 } })).catch((e) => e);
    expect(error).toBeInstanceOf(GatewayDeclinedError);
    expect(error.code).toBe('expired_card');
  });

  it('fails 4000000000000119 retryably (processing error)', async () => {
    await expect(connector.charge(request('4000000000000119'))).rejects.toBeInstanceOf(GatewayRetryableError);
  });

  it('returns the first result for a repeated idempotency key', async () => {
    const req = request('4242424242424242');
    const first = await connector.charge(req);
    await expect(connector.charge({ ...req, amount: 99 })).resolves.toEqual(first);
    await expect(connector.retrieve(req.idempotencyKey)).resolves.toEqual(first);
    await expect(connector.retrieve('never-sent')).resolves.toBeUndefined();
  });

  it('is unavailable before processing under the unavailable fault', async () => {
    const down = new SandboxConnector({ ...stripe, id: 'down-1' }, { fault: 'unavailable', now });
    const req = request('4242424242424242');
    await expect(down.charge(req)).rejects.toMatchObject({ name: 'GatewayRetryableError', code: 'gateway_unavailable' });
    await expect(down.retrieve(req.idempotencyKey)).resolves.toBeUndefined();
  });

  it('charges and then loses the answer under the timeout fault', async () => {
    const slow = new SandboxConnector({ ...stripe, id: 'timeout-1' }, { fault: 'timeout', now });
    const req = request('4242424242424242');
    await expect(slow.charge(req)).rejects.toBeInstanceOf(GatewayAmbiguousError);
    await expect(slow.retrieve(req.idempotencyKey)).resolves.toMatchObject({ feeMinor: 59 });
  });

  it('rejects an unknown fault name', () => {
    expect(() => new SandboxConnector(stripe, { fault: 'gremlins' })).toThrow(/unknown sandbox fault "gremlins"/);
  });
});
