import { DEFAULT_CONNECTORS, type ConnectorDefinition } from '../../lambdas/shared/connectors';
import { NoEligibleConnectorError } from '../../lambdas/shared/errors';
import { isEligible, rankCheapest } from '../../lambdas/routing/policy';

const card = { amount: 10_000, method: 'card' as const };

describe('cheapest eligible routing', () => {
  it('ranks eligible connectors by estimated fee, cheapest first', () => {
    const decision = rankCheapest(DEFAULT_CONNECTORS, { ...card, currency: 'USD', country: 'US' }, 3);
    expect(decision.ranked.map((r) => [r.connectorId, r.estimatedFeeMinor])).toEqual([
      ['amazon-pay-sandbox', 300], // 2.70% of 100.00 + 0.30
      ['stripe-sandbox', 320], // 2.90% + 0.30
    ]);
    expect(decision).toMatchObject({ attemptLimit: 2, propensity: 1, policyVersion: 'cheapest-1' });
  });

  it('never ranks a connector that cannot take the currency or region', () => {
    expect(rankCheapest(DEFAULT_CONNECTORS, { ...card, currency: 'CHF' }, 3).ranked.map((r) => r.connectorId)).toEqual(['stripe-sandbox']);
    expect(rankCheapest(DEFAULT_CONNECTORS, { ...card, currency: 'USD', country: 'BR' }, 3).ranked.map((r) => r.connectorId)).toEqual([
      'stripe-sandbox',
    ]);
  });

  it('bounds the attempts by MAX_PAYMENT_ATTEMPTS', () => {
    expect(rankCheapest(DEFAULT_CONNECTORS, { ...card, currency: 'USD' }, 1).attemptLimit).toBe(1);
  });

  it('fails with a named 422 when nothing is eligible', () => {
    const disabled: ConnectorDefinition[] = DEFAULT_CONNECTORS.map((c) => ({ ...c, enabled: false }));
    expect(() => rankCheapest(disabled, { ...card, currency: 'USD', country: 'US' }, 3)).toThrow(NoEligibleConnectorError);
    try {
      rankCheapest(disabled, { ...card, currency: 'USD', country: 'US' }, 3);
    } catch (error) {
      expect((error as NoEligibleConnectorError).status).toBe(422);
      expect((error as Error).message).toBe('no enabled connector takes card payments in USD from US');
    }
  });

  it('checks method, currency, region and enabled', () => {
    const c = DEFAULT_CONNECTORS[1];
    expect(isEligible(c, { ...card, currency: 'JPY', country: 'JP' })).toBe(true);
    expect(isEligible(c, { ...card, currency: 'AUD' })).toBe(false);
    expect(isEligible({ ...c, enabled: false }, { ...card, currency: 'USD' })).toBe(false);
  });
});
