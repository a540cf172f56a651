/** GET /insights: the console's figures from the analytics index, per view, over a window, for the caller only. */
import type { LocalPlatform } from '../../local/platform';
import { ApiClient, card, fieldsOf, payBody, startPlatform, uniqueCustomer, uniqueMerchant } from './client';

let platform: LocalPlatform;
let merchant: ApiClient;
let other: ApiClient;
const from = new Date(Date.now() - 3_600_000).toISOString();
const statuses: string[] = [];

beforeAll(async () => {
  platform = await startPlatform();
  merchant = await ApiClient.forMerchant(platform, uniqueMerchant('m_insights'));
  other = await ApiClient.forMerchant(platform, uniqueMerchant('m_insights_other'));
  for (const number of ['4242424242424242', '4242424242424242', '5555555555554444', '4000000000000002']) {
    const result = await merchant.pay(payBody({ customerId: uniqueCustomer(), paymentMethod: card(number) }));
    statuses.push((result.json.payment ?? result.json.error.details.payment).status);
  }
  expect((await other.pay(payBody())).status).toBe(201);
  await platform.idle();
}, 60_000);
afterAll(async () => {
  await platform?.close(1000);
});

const insights = (query: string, client = merchant) => client.call('GET', `/insights?${query}`);

test('view=routing: per connector tried and charged, over the window and per bucket', async () => {
  const result = await insights(`view=routing&from=${encodeURIComponent(from)}&interval=hour`);
  expect(result.status).toBe(200);
  const succeeded = statuses.filter((s) => s === 'succeeded').length;
  expect(result.json).toMatchObject({ view: 'routing', interval: 'hour', payments: 4, succeeded, volume: [{ currency: 'USD', amount: 1999 * succeeded }] });
  const charged = result.json.connectors.reduce((n: number, c: { charged: number }) => n + c.charged, 0);
  expect(charged).toBe(succeeded);
  for (const c of result.json.connectors) expect(c.approvalRate).toBeCloseTo(c.charged / c.tried);
  // The window's buckets, every hour of it (empty ones included), adding up to the totals.
  expect(result.json.series.length).toBeGreaterThanOrEqual(2);
  expect(result.json.series.reduce((n: number, b: { payments: number }) => n + b.payments, 0)).toBe(4);
});

test('view=fraud: the score distribution, decisions and reasons of the scored payments', async () => {
  const result = await insights(`view=fraud&from=${encodeURIComponent(from)}`);
  expect(result.status).toBe(200);
  expect(result.json.scores).toHaveLength(20);
  expect(result.json.scores[0]).toEqual({ from: 0, to: 0.05, count: expect.any(Number) });
  expect(result.json.scored).toBe(4);
  expect(result.json.scores.reduce((n: number, b: { count: number }) => n + b.count, 0)).toBe(4);
  const { approve, review, decline } = result.json.decisions;
  expect(approve + review + decline).toBe(4);
  expect(result.json.reasons.length).toBeGreaterThan(0);
  expect(result.json.series.reduce((n: number, b: { approve: number }) => n + b.approve, 0)).toBe(approve);
});

test('view=rewards: tokens issued for the succeeded payments (2% of 19.99 USD each is 1 token, the minimum)', async () => {
  const result = await insights(`view=rewards&from=${encodeURIComponent(from)}&interval=day`);
  expect(result.status).toBe(200);
  const succeeded = statuses.filter((s) => s === 'succeeded').length;
  expect(result.json.issued).toEqual({ count: succeeded, tokens: String(succeeded) });
  expect(result.json.clawedBack).toEqual({ count: 0, tokens: '0' });
  // No payment named a wallet: nothing was minted, and no mint failed.
  expect(result.json.minted).toEqual({ count: 0, tokens: '0' });
  expect(result.json.failedMints).toEqual({ count: 0, tokens: '0', rewards: 0, mostFailed: [] });
});

test("GET /route/state: the policy, and each connector's breaker state and fees", async () => {
  const result = await merchant.call('GET', '/route/state');
  expect(result.status).toBe(200);
  const { state } = result.json;
  expect(state.policyVersion).toMatch(/^linucb-\d+$/);
  expect(state.exploration).toBeGreaterThan(0);
  expect(state.exploration).toBeLessThan(0.5);
  expect(state.connectors.map((c: { connectorId: string }) => c.connectorId).sort()).toEqual(['amazon-pay-sandbox', 'stripe-sandbox']);
  for (const c of state.connectors) {
    expect(c).toMatchObject({ kind: 'sandbox', enabled: true, status: 'healthy', fee: { basisPoints: expect.any(Number), fixedMinor: expect.any(Number) } });
    expect(c.recentAttempts).toBeGreaterThanOrEqual(0);
  }
  // The breaker has counted the payments made above (their attempts, folded from the outbox's events).
  expect(state.connectors.reduce((n: number, c: { recentAttempts: number }) => n + c.recentAttempts, 0)).toBeGreaterThan(0);
});

test("another merchant's figures are its own", async () => {
  const result = await insights(`view=routing&from=${encodeURIComponent(from)}`, other);
  expect(result.json.payments).toBe(1);
});

test.each([
  ['view=charts&from=2026-11-01T00:00:00Z', 'query.view'],
  ['from=2026-11-01T00:00:00Z', 'query.view'],
  ['view=fraud', 'query.from'],
  ['view=fraud&from=2026-01-01T00:00:00Z&interval=hour', 'query.interval'],
  ['view=fraud&from=2026-11-02T00:00:00Z&to=2026-11-01T00:00:00Z', 'query.to'],
  ['view=fraud&from=2026-11-01T00:00:00Z&interval=week', 'query.interval'],
  ['view=fraud&from=2024-01-01T00:00:00Z&to=2026-01-01T00:00:00Z&interval=day', 'query.from'],
])('answers 400 naming the parameter: %s', async (query, field) => {
  const result = await insights(query);
  expect(result.status).toBe(400);
  expect(fieldsOf(result)).toEqual([field]);
});

test('says what to do: a missing from is required; a window too long for days is shortened, one too long for hours can use days', async () => {
  const problem = async (query: string) => (await insights(query)).json.error.details.issues[0].problem as string;
  expect(await problem('view=fraud')).toBe('is required (an ISO 8601 date-time, e.g. 2026-11-01T00:00:00Z)');
  expect(await problem('view=fraud&from=2024-01-01T00:00:00Z&to=2026-01-01T00:00:00Z&interval=day')).toBe('a window of 731 days is over 400: start it at most 400 days before to');
  expect(await problem('view=fraud&from=2025-01-01T00:00:00Z&to=2026-01-01T00:00:00Z&interval=hour')).toBe('a window of 8760 hours is over 744: use interval=day or a shorter window');
});
