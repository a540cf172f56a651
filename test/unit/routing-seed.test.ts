/**
 * ROUTING_SEED: routing's exploration drawn from a seeded PRNG. The setting is checked (a clear error names it),
 * and the same seed draws the same first choices over the same decisions, where Math.random would not.
 */
import { BanditPolicy, DEFAULT_BANDIT, emptyBanditState } from '../../lambdas/routing/bandit';
import { vocabularyOf } from '../../lambdas/routing/context';
import { config, resetConfig } from '../../lambdas/shared/config';
import { prng } from '../../lambdas/shared/prng';
import type { ConnectorDefinition } from '../../contracts/connectors';

afterEach(() => {
  delete process.env.ROUTING_SEED;
  resetConfig();
});

test('ROUTING_SEED is read as an integer, and anything else is refused by name', () => {
  expect(config().routing.seed).toBeUndefined();
  resetConfig();
  process.env.ROUTING_SEED = '42';
  expect(config().routing.seed).toBe(42);
  resetConfig();
  process.env.ROUTING_SEED = 'abc';
  expect(() => config()).toThrow(/ROUTING_SEED/);
  resetConfig();
  process.env.ROUTING_SEED = '1.5';
  expect(() => config()).toThrow(/ROUTING_SEED/);
});

test('the same seed draws the same choices over the same decisions; another seed other ones', () => {
  const connectors: ConnectorDefinition[] = ['a', 'b', 'c', 'd'].map((id) => ({ id, kind: 'sandbox', enabled: true, methods: ['card'], currencies: ['*'], regions: ['*'], fee: { basisPoints: 290, fixedMinor: 30 } }));
  const policy = new BanditPolicy(emptyBanditState(vocabularyOf(connectors)), { ...DEFAULT_BANDIT, epsilon: 0.5 });
  const choices = (random: () => number) =>
    Array.from({ length: 200 }, (_, i) => policy.rank({ amountMinor: 5_000, currency: 'USD', method: 'card', country: 'US', time: 1_700_000_000_000 + i }, connectors, random).ranked[0]!.connectorId).join('');
  expect(choices(prng(7))).toBe(choices(prng(7)));
  expect(choices(prng(7))).not.toBe(choices(prng(8)));
});
