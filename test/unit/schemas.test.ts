import { z } from 'zod';
import { ValidationError } from '../../contracts/errors';
import { parseWith } from '../../lambdas/shared/http';
import { PaymentRequest, toRequestModelSchema } from '../../contracts/api';
import { passesLuhn } from '../../contracts/methods';
import { allRoutes } from '../../contracts/topology';

const valid = {
  amount: 1999,
  currency: 'usd',
  customerId: 'cus_1',
  paymentMethod: { type: 'card', number: '4242424242424242', expMonth: 12, expYear: 2030, cvc: '123' },
};

function issuesOf(body: unknown, schema: z.ZodType = PaymentRequest) {
  try {
    parseWith(schema, body);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as ValidationError).issues;
  }
  throw new Error('expected a validation error');
}

describe('PaymentRequest', () => {
  it('normalises the currency to upper case', () => {
    expect(parseWith(PaymentRequest, valid).currency).toBe('USD');
  });

  it('takes ISO-3166 country codes in any case, Kosovo (XK) included', () => {
    expect(parseWith(PaymentRequest, { ...valid, country: 'us', ipCountry: 'XK' })).toMatchObject({ country: 'US', ipCountry: 'XK' });
    expect(parseWith(PaymentRequest, { ...valid, country: 'gb' }).country).toBe('GB');
  });

  it.each([
    [{ ...valid, amount: 0 }, 'amount', /greater than zero/],
    [{ ...valid, amount: -5 }, 'amount', /greater than zero/],
    [{ ...valid, amount: 12.5 }, 'amount', /integer number of minor units/],
    [{ ...valid, amount: 100_000_000 }, 'amount', /at most 99999999/],
    [{ ...valid, currency: 'XYZ' }, 'currency', /not a supported ISO-4217/],
    [{ ...valid, currency: 'dollars' }, 'currency', /three-letter/],
    [{ ...valid, country: 'ZZ' }, 'country', /not an ISO-3166 country code/],
    [{ ...valid, country: 'EU' }, 'country', /not an ISO-3166 country code/],
    [{ ...valid, ipCountry: 'USA' }, 'ipCountry', /two-letter/],
    [{ ...valid, paymentMethod: { ...valid.paymentMethod, number: '4242424242424241' } }, 'paymentMethod.number', /Luhn/],
    [{ ...valid, paymentMethod: { ...valid.paymentMethod, expMonth: 13 } }, 'paymentMethod.expMonth', /.+/],
    [{ ...valid, surprise: true }, 'surprise', /not a recognised field/],
    [{ ...valid, paymentMethod: { type: 'wallet', wallet: 'amazon_pay', token: 'short' } }, 'paymentMethod.token', /8 to 256/],
    [{ ...valid, paymentMethod: { type: 'wallet', wallet: 'apple_pay', token: 'tok_12345678' } }, 'paymentMethod.wallet', /amazon_pay/],
    [{ ...valid, paymentMethod: { type: 'cash' } }, 'paymentMethod.type', /card|wallet/],
  ])('rejects %j naming %s', (body, field, problem) => {
    const issues = issuesOf(body);
    const issue = issues.find((i) => i.field === field);
    expect(issue?.problem).toMatch(problem);
  });

  it('takes a tokenised card (a Stripe PaymentMethod id) instead of its number', () => {
    const card = { type: 'card', token: 'pm_card_visa' };
    expect(parseWith(PaymentRequest, { ...valid, paymentMethod: card }).paymentMethod).toEqual(card);
  });

  it.each([
    [{ type: 'card', token: 'pm_card_visa', number: '4242424242424242' }, 'paymentMethod.number', /must not be given with token/],
    [{ type: 'card', token: 'pm_card_visa', cvc: '123' }, 'paymentMethod.cvc', /must not be given with token/],
    [{ type: 'card' }, 'paymentMethod.token', /is required .*unless the raw card/],
    [{ type: 'card', token: 'tok_visa' }, 'paymentMethod.token', /Stripe PaymentMethod id/],
    [{ type: 'card', number: '4242424242424242', expYear: 2030 }, 'paymentMethod.expMonth', /is required with number/],
  ])('a card is a token or a raw card, not both nor neither: %j names %s', (paymentMethod, field, problem) => {
    const issue = issuesOf({ ...valid, paymentMethod }).find((i) => i.field === field);
    expect(issue?.problem).toMatch(problem);
  });

  it('takes an Amazon Pay wallet token as the payment method', () => {
    const wallet = { type: 'wallet', wallet: 'amazon_pay', token: 'amzn_tok_1234ABCD' };
    expect(parseWith(PaymentRequest, { ...valid, paymentMethod: wallet }).paymentMethod).toEqual(wallet);
  });

  it('names each unknown field on its own, with its path', () => {
    const issues = issuesOf({ ...valid, surprise: true, extra: 1, paymentMethod: { ...valid.paymentMethod, pin: '1234' } });
    expect(issues.filter((i) => /not a recognised field/.test(i.problem)).map((i) => i.field).sort()).toEqual(['extra', 'paymentMethod.pin', 'surprise']);
  });

  it('says a missing field is required and what it holds, and what a wrong one should be', () => {
    expect(issuesOf({ amount: null, currency: 5, paymentMethod: { type: 'wallet' } })).toEqual([
      { field: 'amount', problem: 'must be a number (got null)' },
      { field: 'currency', problem: 'must be a string (got a whole number)' },
      { field: 'customerId', problem: 'is required (a string)' },
      { field: 'paymentMethod.wallet', problem: 'is required (one of amazon_pay)' },
      { field: 'paymentMethod.token', problem: 'is required (a string)' },
    ]);
    expect(issuesOf([])).toEqual([{ field: '(root)', problem: 'must be an object (got an array)' }]);
    // A number past what a double holds ("1" and 400 zeros) parses as Infinity.
    expect(issuesOf(JSON.parse(`{"amount":1${'0'.repeat(400)},"currency":"USD","customerId":"c","paymentMethod":{"type":"card","number":"4242424242424242","expMonth":12,"expYear":2030}}`))).toEqual([
      { field: 'amount', problem: 'must be a number (got a number too large to hold)' },
    ]);
  });

  it("names a missing or unknown discriminator's values, an enum's values, and integers and objects as callers know them", () => {
    const card = { ...valid.paymentMethod };
    expect(issuesOf({ ...valid, paymentMethod: {} })).toEqual([{ field: 'paymentMethod.type', problem: 'is required (one of card, wallet, solana_pay)' }]);
    expect(issuesOf({ ...valid, paymentMethod: { type: 'cash' } })).toEqual([{ field: 'paymentMethod.type', problem: 'must be one of card, wallet, solana_pay' }]);
    expect(issuesOf({ ...valid, paymentMethod: { type: 7 } })).toEqual([{ field: 'paymentMethod.type', problem: 'must be one of card, wallet, solana_pay (got a whole number)' }]);
    expect(issuesOf({ ...valid, paymentMethod: { ...card, expMonth: 1.5 } })).toEqual([{ field: 'paymentMethod.expMonth', problem: 'must be an integer (got a number with a fraction)' }]);
    const Other = z.object({ method: z.enum(['card', 'wallet']), tags: z.record(z.string(), z.string()) });
    expect(issuesOf({ method: 'cash', tags: 'x' }, Other)).toEqual([
      { field: 'method', problem: 'must be one of card, wallet' },
      { field: 'tags', problem: 'must be an object (got a string)' },
    ]);
  });

  it('never repeats a card number or a CVC sent with the wrong type', () => {
    const issues = issuesOf({ ...valid, paymentMethod: { ...valid.paymentMethod, number: 4242424242424242, cvc: 123 } });
    expect(issues).toEqual([
      { field: 'paymentMethod.number', problem: 'must be a string (got a whole number)' },
      { field: 'paymentMethod.cvc', problem: 'must be a string (got a whole number)' },
    ]);
    expect(JSON.stringify(issues)).not.toMatch(/4242|123/);
  });

  it('keeps a message the schema sets, even for a missing field', () => {
    const Own = z.object({ count: z.number({ error: 'count must be the number of items' }), kind: z.enum(['a', 'b'], { error: 'kind is a or b' }) });
    expect(issuesOf({}, Own)).toEqual([
      { field: 'count', problem: 'count must be the number of items' },
      { field: 'kind', problem: 'kind is a or b' },
    ]);
  });

  it("words zod's size limits plainly, and keeps a schema's own message", () => {
    const Limits = z
      .object({
        s: z.string().max(3).optional(),
        a: z.array(z.number()).max(1).optional(),
        n: z.number().lt(5).optional(),
        m: z.number().min(1).optional(),
        own: z.string().max(2, 'must be a two-letter code').optional(),
      })
      .strict();
    expect(issuesOf({ s: 'abcd', a: [1, 2], n: 5, m: 0, own: 'xyz' }, Limits)).toEqual([
      { field: 's', problem: 'must be at most 3 characters' },
      { field: 'a', problem: 'must have at most 1 item' },
      { field: 'n', problem: 'must be less than 5' },
      { field: 'm', problem: 'must be at least 1' },
      { field: 'own', problem: 'must be a two-letter code' },
    ]);
  });

  it('names a missing payment method', () => {
    const { paymentMethod: _omit, ...rest } = valid;
    expect(issuesOf(rest).map((i) => i.field)).toContain('paymentMethod');
  });

  it('checks card numbers with Luhn', () => {
    expect(passesLuhn('4242424242424242')).toBe(true);
    expect(passesLuhn('4000000000000002')).toBe(true);
    expect(passesLuhn('4242424242424243')).toBe(false);
  });
});

describe('request models', () => {
  it('generates a draft-4 JSON schema per route from the same zod schemas', () => {
    const pay = toRequestModelSchema(PaymentRequest);
    expect(pay).not.toHaveProperty('$schema');
    expect(pay).toMatchObject({
      type: 'object',
      required: expect.arrayContaining(['amount', 'currency', 'customerId', 'paymentMethod']),
      additionalProperties: false,
      properties: { amount: { type: 'integer', maximum: 99_999_999 } },
    });
    const requests = allRoutes().flatMap((r) => (r.request ? [r.request.schema] : []));
    expect(requests.length).toBeGreaterThanOrEqual(7);
    for (const schema of requests) {
      expect(toRequestModelSchema(schema)).toHaveProperty('type', 'object');
    }
  });
});
