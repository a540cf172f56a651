/**
 * `npm run test:security` in `npm test`: the whole hostile corpus against a platform of its own (0 breaches), the
 * corpus covering every route of the topology, and the judge failing what it must fail.
 */
import { allRoutes } from '../../contracts/topology';
import { AUTH_ATTACKS, buildCorpus, validBodies, type CorpusContext, type SecurityCase } from '../security/corpus';
import { judge, runSecurity, type SecurityReport } from '../security/run';

const context: CorpusContext = {
  token: 't',
  badTokens: Object.fromEntries(AUTH_ATTACKS.map((a) => [a, a === 'no-token' ? undefined : `bad-${a}`])) as CorpusContext['badTokens'],
  noMerchantToken: 'n',
  ownPaymentId: 'pay_01ABCDEFGHJKMNPQRSTV',
  otherPaymentId: 'pay_01ABCDEFGHJKMNPQRSTW',
  otherCustomerId: 'cus_other',
};
const corpus = buildCorpus(context);

describe('the corpus', () => {
  it('has at least 300 cases with unique ids', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(300);
    expect(new Set(corpus.map((c) => c.id)).size).toBe(corpus.length);
  });

  it('attacks every JWT route with every token attack and a token without the merchant claim', () => {
    for (const route of allRoutes().filter((r) => r.auth === 'jwt')) {
      const auth = corpus.filter((c) => c.category === 'auth' && c.route === route.path && c.method === route.method);
      expect({ route: route.path, statuses: auth.map((c) => c.expect.status).sort() }).toEqual({ route: route.path, statuses: [...AUTH_ATTACKS.map(() => 401), 403] });
    }
  });

  it('sends the body attacks and field attacks to every route with a JSON body', () => {
    for (const route of allRoutes().filter((r) => r.request)) {
      const of = (category: SecurityCase['category']) => corpus.filter((c) => c.category === category && c.route === route.path && c.method === route.method).length;
      expect({ route: route.path, body: of('body') >= 15, field: of('field') >= 5 }).toEqual({ route: route.path, body: true, field: true });
    }
  });

  it("starts each field attack from a valid body, so the 400 is the attacked field's", () => {
    const bodies = validBodies(context);
    for (const route of allRoutes().filter((r) => r.request)) {
      const parsed = route.request!.schema.safeParse(bodies[route.request!.name]);
      expect({ model: route.request!.name, ok: parsed.success }).toEqual({ model: route.request!.name, ok: true });
    }
  });
});

describe('the judge', () => {
  const c: SecurityCase = { id: 'x', category: 'field', method: 'POST', path: '/pay', route: '/pay', headers: {}, expect: { status: 400, code: 'validation_error', field: 'amount' }, secrets: ['4242424242424242'] };
  const answer = (status: number, body: unknown, contentType = 'application/json') => ({ status, contentType, text: typeof body === 'string' ? body : JSON.stringify(body) });
  const good = { error: { code: 'validation_error', message: 'invalid request: amount must be positive', details: { issues: [{ field: 'amount', message: 'must be positive' }] } } };

  it('passes the right 4xx', () => {
    expect(judge(c, answer(400, good)).problems).toEqual([]);
  });

  it.each([
    ['a 5xx', answer(500, { error: { code: 'internal_error', message: 'Internal server error' } }), /5xx is a bug/],
    ['another status', answer(422, good), /status 422, expected 400/],
    ['a body that is not JSON', answer(400, 'Bad Request', 'text/plain'), /no clear error body/],
    ['another code', answer(400, { error: { ...good.error, code: 'bad' } }), /code bad, expected validation_error/],
    ['another field', answer(400, { error: { ...good.error, details: { issues: [{ field: 'currency' }] } } }), /names \["currency"\], expected amount/],
    ['a stack trace', answer(400, { error: { ...good.error, message: 'TypeError: x is undefined\n    at parse (/work/main/lambdas/payments/handler.ts:12:7)' } }), /stack trace/],
    ['an echoed card number', answer(400, { error: { ...good.error, message: 'bad card 4242424242424242' } }), /card data echoed/],
    ['a card number of another brand', answer(400, { error: { ...good.error, message: 'bad card 378282246310005' } }), /card number in the answer/],
  ])('fails %s', (_name, given, problem) => {
    expect(judge(c, given).problems.join('; ')).toMatch(problem);
  });
});

describe('npm run test:security', () => {
  let report: SecurityReport;
  beforeAll(async () => {
    report = await runSecurity({ log: () => undefined });
  }, 60_000);

  it('answers every hostile case with its 4xx: no 5xx, no stack trace, no card data', () => {
    expect(report.breaches.map((b) => `${b.case.id}: ${b.problems.join('; ')}`)).toEqual([]);
    expect(report.results.length).toBeGreaterThanOrEqual(300);
    expect(report.results.filter((r) => r.status >= 500)).toEqual([]);
    expect(report.text).toMatch(/0 5xx, 0 breaches/);
  });
});
