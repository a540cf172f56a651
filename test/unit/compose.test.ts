/** The template composer's words (lambdas/analytics/compose.ts): what an answer says of its figures and of one payment. */
import type { AnalyticsDocument, MetricPlan } from '../../contracts/analytics';
import { composeLookup, composeMetric } from '../../lambdas/analytics/compose';

const window = { from: '2026-11-01T00:00:00.000Z', to: '2026-12-01T00:00:00.000Z', label: 'the last 30 days' };

describe('composeMetric', () => {
  const plan: MetricPlan = { kind: 'metric', metric: 'total_amount', filters: [], groupBy: 'country', top: 2, window };
  it('a ranking of amounts in several currencies says it is the top N of each currency', () => {
    const rows = [
      { group: 'US', currency: 'USD', value: 5000, numerator: 5000, denominator: 3 },
      { group: 'BR', currency: 'BRL', value: 9000, numerator: 9000, denominator: 1 },
    ];
    expect(composeMetric(plan, { window, rows, matched: 4 }, undefined, [])).toBe(
      'In the last 30 days, you had by country (top 2 in each currency): US: 50.00 USD across 3 payments; BR: 90.00 BRL across 1 payment.',
    );
  });
  it('grouped by currency it says the currencies are the busiest, and that their amounts are not compared', () => {
    const byCurrency: MetricPlan = { ...plan, groupBy: 'currency', top: 2 };
    const rows = [
      { group: 'ISK', currency: 'ISK', value: 2_501_500, numerator: 2_501_500, denominator: 6 },
      { group: 'JPY', currency: 'JPY', value: 30_000, numerator: 30_000, denominator: 5 },
    ];
    expect(composeMetric(byCurrency, { window, rows, matched: 11 }, undefined, [])).toBe(
      'In the last 30 days, you had by currency (the 2 with the most payments; amounts in different currencies are not compared): ISK: 2501500 ISK across 6 payments; JPY: 30000 JPY across 5 payments.',
    );
  });
  it('in one currency it is the top N', () => {
    const rows = [{ group: 'US', currency: 'USD', value: 5000, numerator: 5000, denominator: 3 }];
    expect(composeMetric(plan, { window, rows, matched: 3 }, undefined, [])).toContain('by country (top 2): US: 50.00 USD');
  });
});

describe('composeLookup', () => {
  const doc = (over: Partial<AnalyticsDocument>): AnalyticsDocument => ({
    kind: 'payment',
    merchantId: 'm_1',
    paymentId: 'pay_01M8V7MEENX3HST41704',
    status: 'failed',
    amount: 1999,
    currency: 'USD',
    method: 'card',
    attemptConnectors: ['stripe-us', 'sandbox-latam'],
    connectorId: 'sandbox-latam',
    code: 'all_gateways_failed',
    fraudDecision: 'approve',
    fraudScore: 0.01,
    fraudReasons: ['graph_neighbourhood', 'term_risk_30d'],
    createdAt: Date.parse('2026-11-05T10:00:00Z'),
    at: '2026-11-05T10:00:00Z',
    text: 'a payment',
    ...over,
  }) as AnalyticsDocument;

  it('says a failed payment failed, and gives the fraud reasons as what raised the score, not as why it approved', () => {
    const text = composeLookup('pay_01M8V7MEENX3HST41704', [doc({})]);
    expect(text).toContain(') failed at sandbox-latam with code all_gateways_failed.');
    expect(text).toContain('The fraud check approved it (score 0.01; what raised the score most: graph_neighbourhood, term_risk_30d).');
    expect(text).not.toMatch(/was failed|approved it[^.]*, for /);
  });
  it('a declined payment was declined', () => {
    expect(composeLookup('pay_01M8V7MEENX3HST41704', [doc({ status: 'declined', code: 'card_declined', attemptConnectors: ['stripe-us'], connectorId: 'stripe-us' })])).toContain(
      ') was declined at stripe-us with code card_declined.',
    );
  });
});
