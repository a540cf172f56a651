import { decide, RuleBasedFraudModel } from '../../lambdas/fraud/scorer';

const model = new RuleBasedFraudModel({ reviewThreshold: 0.5, declineThreshold: 0.8 });
const base = { currency: 'USD', customerId: 'c1', cvcProvided: true };

describe('rule-based fraud scorer', () => {
  it('approves an ordinary payment with no reasons', async () => {
    await expect(model.score({ ...base, amount: 1999 })).resolves.toEqual({
      score: 0,
      decision: 'approve',
      reasons: [],
      modelVersion: 'rules-1',
    });
  });

  it('holds a high amount with a country mismatch for review, with its reasons', async () => {
    const result = await model.score({ ...base, amount: 300_000, country: 'US', ipCountry: 'RU' });
    expect(result.decision).toBe('review');
    expect(result.score).toBe(0.5);
    expect(result.reasons.map((r) => r.code)).toEqual(['country_mismatch', 'amount_high']);
    expect(result.reasons[0].detail).toMatch(/US differs from IP country RU/);
  });

  it('declines a very high amount with a mismatch and no CVC', async () => {
    const result = await model.score({ ...base, amount: 1_500_000, country: 'US', ipCountry: 'RU', cvcProvided: false });
    expect(result).toMatchObject({ decision: 'decline', score: 0.9 });
    expect(result.reasons.map((r) => r.code)).toEqual(['amount_very_high', 'country_mismatch', 'cvc_missing']);
  });

  it('thinks in major units, so 300000 JPY is not a high amount', async () => {
    // 300000 JPY is 300000 major units: very high; 300000 KWD fils is 300 dinars: not high.
    expect((await model.score({ ...base, currency: 'JPY', amount: 300_000 })).reasons[0].code).toBe('amount_very_high');
    expect((await model.score({ ...base, currency: 'KWD', amount: 300_000 })).reasons).toEqual([]);
  });

  it('treats an unknown CVC as unknown, not missing', async () => {
    expect((await model.score({ currency: 'USD', customerId: 'c', amount: 100 })).reasons).toEqual([]);
  });

  it('applies thresholds inclusively', () => {
    expect(decide(0.8, { reviewThreshold: 0.5, declineThreshold: 0.8 })).toBe('decline');
    expect(decide(0.79, { reviewThreshold: 0.5, declineThreshold: 0.8 })).toBe('review');
    expect(decide(0.49, { reviewThreshold: 0.5, declineThreshold: 0.8 })).toBe('approve');
  });
});
