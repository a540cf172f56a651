/** GET /payments: the merchant's payments newest first, filters, search, the window, paging, and only its own. */
import type { LocalPlatform } from '../../local/platform';
import { ApiClient, card, fieldsOf, payBody, startPlatform, uniqueCustomer, uniqueMerchant } from './client';

let platform: LocalPlatform;
let merchant: ApiClient;
let other: ApiClient;
const ids: string[] = [];
let customer: string;
let before: string;

beforeAll(async () => {
  platform = await startPlatform();
  merchant = await ApiClient.forMerchant(platform, uniqueMerchant('m_list'));
  other = await ApiClient.forMerchant(platform, uniqueMerchant('m_list_other'));
  customer = uniqueCustomer('cus_list');
  // Seven payments: five succeed, two decline (4000000000000002); one in EUR; one with a description.
  const bodies = [
    payBody({ customerId: customer }),
    payBody({ customerId: customer, currency: 'EUR' }),
    payBody({ customerId: uniqueCustomer('cus_else'), paymentMethod: card('4000000000000002') }),
    payBody({ customerId: customer, description: 'order 7781 blue mug' }),
    payBody({ customerId: uniqueCustomer('cus_else') }),
  ];
  for (const [i, body] of bodies.entries()) {
    if (i === 3) before = new Date().toISOString();
    const result = await merchant.pay(body);
    expect([201, 402]).toContain(result.status);
    ids.push((result.json.payment ?? result.json.error.details.payment).paymentId);
    await new Promise((r) => setTimeout(r, 5));
  }
  expect((await other.pay(payBody({ customerId: customer }))).status).toBe(201);
}, 60_000);
afterAll(async () => {
  await platform?.close(1000);
});

const list = (query: string, client = merchant) => client.call('GET', `/payments${query}`);
const listed = (result: { json: { payments: Array<{ paymentId: string }> } }) => result.json.payments.map((p) => p.paymentId);

test('lists the merchant\'s own payments, newest first, with their timeline fields', async () => {
  const result = await list('');
  expect(result.status).toBe(200);
  expect(listed(result)).toEqual([...ids].reverse());
  const newest = result.json.payments[0];
  expect(newest).toMatchObject({ paymentId: ids[4], status: 'succeeded', attempts: [expect.objectContaining({ outcome: 'succeeded' })] });
  // Routing's choice, as recorded before the charge: the ranked connectors with their propensities.
  expect(newest.routing).toMatchObject({ decisionId: expect.stringMatching(/^rt_/), policyVersion: expect.any(String) });
  expect(newest.routing.ranked[0]).toMatchObject({ connectorId: newest.connectorId, propensity: expect.any(Number), score: expect.any(Number) });
  expect(newest.routing.decision).toBeUndefined();
  expect(newest.fraud).toMatchObject({ decision: 'approve', reasons: expect.any(Array) });
});

test('never lists another merchant\'s payments', async () => {
  const result = await list(`?customerId=${customer}`, other);
  expect(result.json.payments).toHaveLength(1);
  expect(ids).not.toContain(result.json.payments[0].paymentId);
});

test.each([
  ['status', '?status=declined', () => [ids[2]]],
  ['currency', '?currency=eur', () => [ids[1]]],
  ['customer', () => `?customerId=${customer}`, () => [ids[3], ids[1], ids[0]]],
  ['a customer id\'s beginning', () => `?q=${customer.slice(0, -3)}`, () => [ids[3], ids[1], ids[0]]],
  ['words of the description', '?q=blue%20mug', () => [ids[3]]],
  ['words of the description, in any case and order', '?q=MUG%20Blue', () => [ids[3]]],
  ['a word of the description and a number in it', '?q=7781%20mug', () => [ids[3]]],
  ['words of which one is not in the description', '?q=blue%20cup', () => []],
  ['a payment id', () => `?q=${ids[2]}`, () => [ids[2]]],
  ['a payment id that fails another filter', () => `?q=${ids[2]}&status=succeeded`, () => []],
  ['the window', () => `?from=${encodeURIComponent(before)}`, () => [ids[4], ids[3]]],
  ['the window and a status', () => `?to=${encodeURIComponent(before)}&status=succeeded`, () => [ids[1], ids[0]]],
])('filters by %s', async (_name, query, expected) => {
  const result = await list(typeof query === 'function' ? query() : query);
  expect(result.status).toBe(200);
  expect(listed(result)).toEqual(expected());
});

test('pages with the cursor, to the end', async () => {
  const seen: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const result = await list(`?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
    expect(result.status).toBe(200);
    expect(result.json.payments.length).toBeLessThanOrEqual(2);
    seen.push(...listed(result));
    cursor = result.json.nextCursor;
    pages += 1;
  } while (cursor && pages < 10);
  expect(seen).toEqual([...ids].reverse());
  expect(pages).toBe(3);
});

test.each([
  ['limit=0', 'query.limit'],
  ['limit=101', 'query.limit'],
  ['limit=ten', 'query.limit'],
  ['status=paid', 'query.status'],
  ['cursor=pay_x', 'query.cursor'],
  ['from=yesterday', 'query.from'],
  ['from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z', 'query.to'],
  ['sort=asc', 'query.sort'],
  ['status=succeeded&status=declined', 'query.status'],
])('answers 400 naming the parameter for %s', async (query, field) => {
  const result = await list(`?${query}`);
  expect(result.status).toBe(400);
  expect(fieldsOf(result)).toEqual([field]);
});
