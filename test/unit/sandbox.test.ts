import { GatewayAmbiguousError } from '../../lambdas/payments/connectors';
import { approvalProbability } from '../../contracts/issuer';
import { SandboxConnector } from '../../lambdas/payments/sandbox';
import { DEFAULT_CONNECTORS } from '../../contracts/connectors';
import { LOCAL_CONNECTORS } from '../../local/connectors';
import { GatewayDeclinedError, GatewayRetryableError } from '../../contracts/errors';

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
    expect(result.gatewayReference).toMatch(/^sandbox_[0-9a-f]{24}$/);
  });

  it.each([
    ['4000000000000002', 'card_declined'],
    ['4000000000009995', 'insufficient_funds'],
    ['4000000000009987', 'lost_card'],
    ['4000000000000069', 'expired_card'],
  ])('declines %s with %s', async (number, code) => {
    await expect(connector.charge(request(number))).rejects.toMatchObject({ name: 'GatewayDeclinedError', code, status: 402 });
  });

  it('charges the fee of its first matching fee rule (an international card at stripe-us)', async () => {
    const stripeUs = new SandboxConnector({ ...LOCAL_CONNECTORS.find((c) => c.id === 'stripe-us')!, approval: undefined }, { now });
    expect((await stripeUs.charge(request('4242424242424242', { country: 'US' }))).feeMinor).toBe(59); // 2.90% + 30
    expect((await stripeUs.charge(request('4242424242424242', { country: 'DE' }))).feeMinor).toBe(74); // 4.40% + 30
    expect((await stripeUs.charge(request('4242424242424242'))).feeMinor).toBe(74); // no country: the base (international) fee
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

describe('sandbox latency against the caller\'s budget (SANDBOX_LATENCY_MS, GATEWAY_TIMEOUT_MS)', () => {
  it('an answer later than the budget is a timeout of unknown outcome, after the budget; the charge was made and is found by its key', async () => {
    const slow = new SandboxConnector({ ...stripe, id: `stripe-slow-${Math.random()}` }, { now, latencyMs: 5_000, timeoutMs: 50 });
    const call = request('4242424242424242');
    const started = Date.now();
    const error = await slow.charge(call).catch((e: unknown) => e);
    const took = Date.now() - started;
    expect(error).toBeInstanceOf(GatewayAmbiguousError);
    expect((error as Error).message).toBe(`${slow.id} did not answer the charge within 50 ms (GATEWAY_TIMEOUT_MS)`);
    expect(took).toBeGreaterThanOrEqual(45);
    expect(took).toBeLessThan(4_000); // at the budget, not after the latency
    expect(await slow.retrieve(call.idempotencyKey)).toMatchObject({ feeMinor: 59 });
    // The same call again answers the same charge (late again), never a second one.
    await expect(slow.charge(call)).rejects.toBeInstanceOf(GatewayAmbiguousError);
  });

  it('an answer within the budget comes after the latency', async () => {
    const slow = new SandboxConnector({ ...stripe, id: `stripe-slow-${Math.random()}` }, { now, latencyMs: 60, timeoutMs: 1_000 });
    const started = Date.now();
    expect((await slow.charge(request('4242424242424242'))).feeMinor).toBe(59);
    expect(Date.now() - started).toBeGreaterThanOrEqual(55);
  });
});

describe('sandbox wallet payments (Amazon Pay tokens)', () => {
  const amazon = { ...LOCAL_CONNECTORS.find((c) => c.id === 'amazon-pay')!, approval: undefined, id: `amazon-test-${Math.random()}` };
  const connector = new SandboxConnector(amazon, { now });
  const wallet = (token: string, overrides = {}) => ({ ...request('4242424242424242', overrides), card: undefined, wallet: { wallet: 'amazon_pay' as const, token } });

  it('charges an ordinary token at the wallet rate', async () => {
    expect((await connector.charge(wallet('amzn_tok_ordinary1'))).feeMinor).toBe(54); // 2.40% of 1000 + 30
  });

  it('declines wallet_declined_test and fails wallet_processing_error_test retryably', async () => {
    await expect(connector.charge(wallet('wallet_declined_test'))).rejects.toMatchObject({ name: 'GatewayDeclinedError', code: 'payment_method_declined' });
    await expect(connector.charge(wallet('wallet_processing_error_test'))).rejects.toBeInstanceOf(GatewayRetryableError);
  });

  it('is declined by a connector that takes no wallets', async () => {
    const cardOnly = new SandboxConnector({ ...DEFAULT_CONNECTORS[0], id: `cards-${Math.random()}` }, { now });
    await expect(cardOnly.charge(wallet('amzn_tok_ordinary1'))).rejects.toMatchObject({ code: 'payment_method_not_supported' });
  });

  it('approves ordinary tokens by the profile, without a network adjustment', () => {
    const profile = { base: 0.9, byNetwork: { visa: -0.5 } };
    expect(approvalProbability(profile, { amount: 1000, country: 'US' })).toBe(0.9);
    expect(approvalProbability(profile, { amount: 1000, country: 'US', card: { number: '4242424242424242', expMonth: 1, expYear: 2030 } })).toBeCloseTo(0.4);
  });
});

describe('sandbox approval profiles (ordinary cards)', () => {
  const latam = LOCAL_CONNECTORS.find((c) => c.id === 'sandbox-latam')!;
  const us = LOCAL_CONNECTORS.find((c) => c.id === 'stripe-us')!;

  it('computes the approval probability from region, network and amount', () => {
    expect(approvalProbability(latam.approval!, { amount: 1000, country: 'BR', card: { number: '4111111111111111', expMonth: 1, expYear: 2030 } })).toBeCloseTo(0.95, 12);
    expect(approvalProbability(latam.approval!, { amount: 200_000, country: 'BR', card: { number: '4111111111111111', expMonth: 1, expYear: 2030 } })).toBe(1);
    expect(approvalProbability(us.approval!, { amount: 1000, country: 'BR', card: { number: '378282246310005', expMonth: 1, expYear: 2030 } })).toBeCloseTo(0.73, 12);
    expect(approvalProbability(us.approval!, { amount: 1000, country: undefined, card: { number: '4111111111111111', expMonth: 1, expYear: 2030 } })).toBeCloseTo(0.9, 12);
  });

  it('approves ordinary cards at about that rate, the same answer for a retried call, and always the test card', async () => {
    const connector = new SandboxConnector({ ...us, id: `stripe-us-test-${Math.random()}` }, { now });
    let approved = 0;
    const total = 2000;
    for (let i = 0; i < total; i += 1) {
      const req = request('4111111111111111', { country: 'BR' });
      const first = await connector.charge(req).then(() => true, (e: unknown) => (e as GatewayDeclinedError).code === 'do_not_honor' ? false : Promise.reject(e));
      const again = await connector.charge(req).then(() => true, () => false);
      expect(again).toBe(first);
      if (first) approved += 1;
    }
    expect(approved / total).toBeGreaterThan(0.74);
    expect(approved / total).toBeLessThan(0.82); // 0.78 for a visa in LATAM
    for (let i = 0; i < 50; i += 1) await expect(connector.charge(request('4242424242424242', { country: 'BR' }))).resolves.toBeDefined();
  });
});
