import { answer, detectCurrencies, detectIntent, detectWindow, type PaymentFact, type PaymentHistory } from '../../lambdas/analytics/chat';
import { ValidationError } from '../../contracts/errors';

const now = new Date('2026-11-26T12:00:00Z'); // a Thursday

function history(items: PaymentFact[]): PaymentHistory & { calls: unknown[] } {
  const calls: unknown[] = [];
  return {
    calls,
    async list(merchantId, from, to, limit) {
      calls.push({ merchantId, from: from.toISOString(), to: to.toISOString(), limit });
      return { items: items.filter((p) => p.createdAt >= from.toISOString() && p.createdAt < to.toISOString()), truncated: false };
    },
  };
}

const fact = (status: string, amount: number, currency: string, createdAt: string): PaymentFact => ({
  paymentId: `pay_${createdAt}`,
  status,
  amount,
  currency,
  customerId: 'c',
  createdAt,
});

describe('keyword analytics', () => {
  it('detects what is asked', () => {
    expect(detectIntent('What is my decline rate this week?')).toBe('decline_rate');
    expect(detectIntent('How many payments today?')).toBe('count');
    expect(detectIntent('total volume last 7 days')).toBe('total');
    expect(detectIntent('how am I doing')).toBe('summary');
  });

  it('detects the window named in the question', () => {
    expect(detectWindow('last 7 days', now)).toMatchObject({ from: new Date('2026-11-19T12:00:00Z'), to: now });
    expect(detectWindow('today', now)).toMatchObject({ from: new Date('2026-11-26T00:00:00Z') });
    expect(detectWindow('yesterday', now)).toMatchObject({ from: new Date('2026-11-25T00:00:00Z'), to: new Date('2026-11-26T00:00:00Z') });
    expect(detectWindow('this week', now)).toMatchObject({ from: new Date('2026-11-23T00:00:00Z') });
    expect(detectWindow('this month', now)).toMatchObject({ from: new Date('2026-11-01T00:00:00Z') });
    expect(detectWindow('past hour', now)).toMatchObject({ from: new Date('2026-11-26T11:00:00Z') });
    expect(detectWindow('anything', now).label).toBe('the last 30 days');
  });

  it('answers totals per currency, counts and the decline rate from the records it used', async () => {
    const h = history([
      fact('succeeded', 1999, 'USD', '2026-11-25T10:00:00.000Z'),
      fact('succeeded', 1, 'USD', '2026-11-25T11:00:00.000Z'),
      fact('succeeded', 500, 'JPY', '2026-11-26T01:00:00.000Z'),
      fact('declined', 700, 'USD', '2026-11-26T02:00:00.000Z'),
      fact('succeeded', 9999, 'USD', '2026-10-01T00:00:00.000Z'), // outside the window
    ]);
    const result = await answer('m_1', { question: 'total volume in the last 7 days' }, h, now);
    expect(result.answer).toBe('In the last 7 days, you took 500 JPY, 20.00 USD across 3 succeeded payments.');
    expect(result.metrics).toEqual({
      payments: 4, succeeded: 3, declined: 1, failed: 0, review: 0, totals: { USD: 2000, JPY: 500 }, declineRate: 0.25,
    });
    expect(result.records).toHaveLength(4);
    expect(h.calls[0]).toMatchObject({ merchantId: 'm_1' });

    const rate = await answer('m_1', { question: 'decline rate last 7 days' }, h, now);
    expect(rate.answer).toBe('In the last 7 days, you had a decline rate of 25.00% (1 of 4).');

    const summary = await answer('m_1', { question: 'how am I doing this week?' }, h, now);
    expect(summary.answer).toBe('This week (UTC, from Monday), you had 4 payments, took 500 JPY, 20.00 USD, and had a decline rate of 25.00% (1 of 4).');
  });

  it('counts only the currencies the question names in capitals', async () => {
    expect(detectCurrencies('volume in EUR and JPY, not in XYZ; all of it')).toEqual(['EUR', 'JPY']);
    const h = history([
      fact('succeeded', 1999, 'USD', '2026-11-25T10:00:00.000Z'),
      fact('succeeded', 500, 'EUR', '2026-11-26T01:00:00.000Z'),
      fact('declined', 700, 'EUR', '2026-11-26T02:00:00.000Z'),
    ]);
    const result = await answer('m_1', { question: 'total volume in EUR last 7 days' }, h, now);
    expect(result.answer).toBe('In the last 7 days, in EUR, you took 5.00 EUR across 1 succeeded payment.');
    expect(result.currencies).toEqual(['EUR']);
    expect(result.records.map((r) => r.currency)).toEqual(['EUR', 'EUR']);
    expect(result.metrics).toMatchObject({ payments: 2, succeeded: 1, declined: 1, totals: { EUR: 500 } });
    const none = await answer('m_1', { question: 'how many payments in GBP today' }, h, now);
    expect(none.answer).toBe('Today (UTC), in GBP, you had 0 payments: 0 succeeded, 0 declined, 0 failed and 0 held for review.');
  });

  it('says so when there is nothing to rate', async () => {
    const result = await answer('m_1', { question: 'decline rate today' }, history([]), now);
    expect(result.metrics.declineRate).toBeNull();
    expect(result.answer).toMatch(/no decided payments/);
  });

  it('lets explicit from/to override the window and rejects an empty one', async () => {
    const result = await answer('m', { question: 'how many', from: '2026-11-01T00:00:00Z', to: '2026-11-02T00:00:00Z' }, history([]), now);
    expect(result.window).toMatchObject({ from: '2026-11-01T00:00:00.000Z', to: '2026-11-02T00:00:00.000Z' });
    expect(result.answer).toMatch(/^From 2026-11-01T00:00:00.000Z to 2026-11-02T00:00:00.000Z, you had 0 payments/);
    await expect(answer('m', { question: 'how many', from: '2026-11-02T00:00:00Z', to: '2026-11-01T00:00:00Z' }, history([]), now)).rejects.toBeInstanceOf(
      ValidationError,
    );
  });
});
