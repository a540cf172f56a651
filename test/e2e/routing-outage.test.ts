/**
 * Elimination end to end: a connector that is down (its sandbox fails every charge before processing) costs
 * a handful of failed first attempts through /pay, then the routers stop choosing it first. The routers keep
 * their copy of the learnt model for a minute here, so only the breaker's fast path can do it: the workflow
 * feeds the attempts back, the feedback consumer folds them into the breaker's item, the routers re-read it.
 */
import type { LocalPlatform } from '../../local/platform';
import type { ConnectorDefinition } from '../../contracts/connectors';
import { ApiClient, payBody, startPlatform, uniqueCustomer, uniqueMerchant } from './client';

const connector = (id: string, basisPoints: number): ConnectorDefinition => ({
  id, kind: 'sandbox', enabled: true, methods: ['card'], currencies: ['*'], regions: ['*'], fee: { basisPoints, fixedMinor: 30 },
});
/** The cheaper one ranks first while nothing is known: the one that is down. */
const CONNECTORS = [connector('cheap', 150), connector('dear', 300)];

let platform: LocalPlatform;
beforeAll(async () => {
  platform = await startPlatform({
    env: {
      CONNECTORS: JSON.stringify(CONNECTORS),
      SANDBOX_FAULTS: 'cheap=unavailable',
      ROUTING_MODEL_TTL_MS: '60000',
      ROUTING_HEALTH_TTL_MS: '0',
    },
  });
});
afterAll(async () => {
  await platform?.close(1000);
});

test('a connector outage costs a handful of failed first attempts, then the breaker demotes it', async () => {
  const client = await ApiClient.forMerchant(platform, uniqueMerchant());
  const firsts: string[] = [];
  for (let i = 0; i < 40; i += 1) {
    const result = await client.pay(payBody({ customerId: uniqueCustomer() }));
    // Every payment succeeds: a failed first attempt falls back to the next ranked connector.
    expect(result.status).toBe(201);
    firsts.push(result.json.payment.attempts[0].connectorId);
    await platform.idle(); // the feedback has been folded into the breaker, as it would be within a second or two in the cloud
  }
  // The outage is found within the first payments: the breaker needs 3 failures in a row, "a handful".
  const failedFirst = firsts.slice(0, 10).filter((id) => id === 'cheap').length;
  expect(failedFirst).toBeGreaterThanOrEqual(3);
  expect(failedFirst).toBeLessThanOrEqual(5);
  // Then it is left, but for probes: after its 10 s cool-down the breaker puts it first on 5% of payments, halving
  // that with each failed probe (how many fall in the run depends on how fast this machine pays).
  expect(firsts.slice(10).filter((id) => id === 'cheap').length).toBeLessThanOrEqual(4);

  const route = await client.call('POST', '/route', { body: { amount: 1999, currency: 'USD', method: 'card', network: 'visa', country: 'US' } });
  expect(route.status).toBe(200);
  const status = Object.fromEntries(route.json.ranked.map((r: { connectorId: string; status: string }) => [r.connectorId, r.status]));
  expect(status).toEqual({ dear: 'healthy', cheap: expect.stringMatching(/^(demoted|probing)$/) });
  // The routers still rank with the model they loaded first (version 0): the health came from the fast path.
  expect(route.json.policyVersion).toBe('linucb-0');
}, 60_000);
