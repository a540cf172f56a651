/**
 * ROUTING_SEED through the deployed handler: the routing function draws its exploration from a PRNG seeded with
 * it, so the first choices of a sequence of /route calls are exactly those an in-process BanditPolicy over the
 * same (empty) model draws from the same seed, explorations included.
 */
import { BanditPolicy, emptyBanditState } from '../../lambdas/routing/bandit';
import { vocabularyOf } from '../../lambdas/routing/context';
import { eligibleConnectors } from '../../lambdas/routing/eligibility';
import { prng } from '../../lambdas/shared/prng';
import { DEFAULT_CONNECTORS } from '../../contracts/connectors';
import type { LocalPlatform } from '../../local/platform';
import { ApiClient, startPlatform, uniqueMerchant } from './client';

const SEED = 20261202;
let platform: LocalPlatform;
beforeAll(async () => {
  platform = await startPlatform({ env: { ROUTING_SEED: String(SEED) } });
});
afterAll(async () => {
  await platform?.close(1000);
});

test('with ROUTING_SEED, /route draws the seeded sequence of first choices, explorations included', async () => {
  const client = await ApiClient.forMerchant(platform, uniqueMerchant());
  const body = { amount: 4_200, currency: 'USD', method: 'card' as const, network: 'visa' as const, country: 'US' };
  const served: string[] = [];
  for (let i = 0; i < 150; i += 1) {
    const res = await client.call('POST', '/route', { body });
    expect(res.status).toBe(200);
    served.push(res.json.ranked[0].connectorId);
  }
  // The same draws in-process: an empty model ranks by fee alone, so only the exploration draw varies the choice.
  const policy = new BanditPolicy(emptyBanditState(vocabularyOf(DEFAULT_CONNECTORS)));
  const random = prng(SEED);
  const eligible = eligibleConnectors(DEFAULT_CONNECTORS, body);
  const replayed = served.map(() => policy.rank({ amountMinor: body.amount, currency: body.currency, method: body.method, network: body.network, country: body.country, time: Date.now() }, eligible, random).ranked[0].connectorId);
  expect(served).toEqual(replayed);
  // Explorations happened (ε = 0.03 over 150 decisions), so the sequence is not the greedy one by chance.
  expect(new Set(served).size).toBe(2);
}, 60_000);
