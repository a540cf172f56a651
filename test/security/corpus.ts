/**
 * `npm run test:security`'s corpus: hostile requests over every route of contracts/topology.ts, each with the 4xx
 * (and error code) it must get. Built from the topology, so a new route gets the auth attacks (every `jwt` route)
 * and the body attacks (every route with a JSON body) without an edit here:
 * - auth: no token, a bad signature, `alg: none`, key confusion (HS256 keyed with the public key), expired, not yet
 *   valid, wrong audience, wrong issuer, an access token, an unknown key id, Basic credentials, no merchant claim;
 * - body: not JSON, not an object, nested 5,000 deep, prototype keys, unknown fields, an infinite number, invalid
 *   UTF-8, another content type, over 1 MB;
 * - fields: each route's fields with values of the wrong type, range or shape (card data, injection strings,
 *   control characters, ids of the wrong form);
 * - query: unknown, prototype and repeated parameters on every route with a query, and GET /payments' values;
 * - isolation: another merchant's payment ids on every route that takes one, and never listed;
 * - path, webhook, console and HTTP-level attacks (traversal, the console's files only and read-only, unknown routes
 *   and methods, unsigned or forged webhooks).
 */
import { createHmac, randomUUID } from 'node:crypto';
import { allRoutes, type RouteSpec } from '../../contracts/topology';

/** What a case must get: the status, the error code, and (for a 400) the field its details name. */
export interface Expectation {
  readonly status: number;
  readonly code?: string;
  readonly field?: string;
}

export interface SecurityCase {
  /** A stable, readable name: `<category>/<attack> <METHOD> <route>`. */
  readonly id: string;
  readonly category: 'auth' | 'body' | 'field' | 'query' | 'header' | 'isolation' | 'path' | 'webhook' | 'console' | 'http';
  readonly method: string;
  /** The request path, query included (already encoded where the attack needs raw bytes). */
  readonly path: string;
  /** The route of the topology this case attacks (its resource path), or the path itself for unknown routes. */
  readonly route: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string | Uint8Array;
  readonly expect: Expectation;
  /** Text the answer must not echo (card numbers sent in the request, another merchant's ids). */
  readonly secrets?: readonly string[];
}

/** The tokens and ids a corpus is built with: the attacker's valid token, forged ones, and another merchant's payment. */
export interface CorpusContext {
  /** A valid ID token of the attacking merchant. */
  readonly token: string;
  /** Forged or otherwise invalid tokens, by attack name. */
  readonly badTokens: Readonly<Record<AuthAttack, string | undefined>>;
  /** A valid token without the merchant claim. */
  readonly noMerchantToken: string;
  /** The attacker's own payment (well-formed ids for the routes' path parameters). */
  readonly ownPaymentId: string;
  /** A payment of another merchant. */
  readonly otherPaymentId: string;
  /** A customer of another merchant, with rewards recorded. */
  readonly otherCustomerId: string;
}

/** The token attacks; each must get 401 `unauthorized`. `undefined` in the context: no Authorization header. */
export const AUTH_ATTACKS = ['no-token', 'bad-signature', 'alg-none', 'key-confusion-hs256', 'expired', 'not-yet-valid', 'wrong-audience', 'wrong-issuer', 'access-token', 'unknown-kid', 'garbage', 'basic-credentials'] as const;
export type AuthAttack = (typeof AUTH_ATTACKS)[number];

const WALLET = '9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin';
const VISA = '4242424242424242';
const AMEX = '378282246310005';

/** A valid body for each request model (test/unit checks each still parses with its schema). */
export function validBodies(context: Pick<CorpusContext, 'ownPaymentId'>): Readonly<Record<string, Record<string, unknown>>> {
  return {
    FraudRequest: { amount: 1999, currency: 'USD', customerId: 'cus_sec' },
    FraudLabelRequest: { paymentId: context.ownPaymentId, fraud: true },
    RouteRequest: { amount: 1999, currency: 'USD', method: 'card' },
    RouteFeedbackRequest: { decisionId: 'rt_abcdefgh12', attempts: [{ connectorId: 'stripe-sandbox', outcome: 'succeeded', latencyMs: 120 }] },
    PaymentRequest: { amount: 1999, currency: 'USD', customerId: 'cus_sec', paymentMethod: { type: 'card', number: VISA, expMonth: 12, expYear: 2030, cvc: '123' } },
    RefundRequest: { amount: 100, reason: 'requested_by_customer' },
    RewardRequest: { paymentId: context.ownPaymentId },
    RelayRequest: { transaction: 'AQAB' },
    ChatRequest: { question: 'total volume this week' },
  };
}

/**
 * Field attacks per request model: [name, a change to the valid body, the field the 400 must name]. Each value is
 * one a hostile or careless client sends: wrong types, out of range, card data where none belongs, injection.
 */
function fieldAttacks(context: CorpusContext): Readonly<Record<string, ReadonlyArray<readonly [string, Record<string, unknown>, string]>>> {
  const deep = (depth: number): unknown => (depth === 0 ? 'x' : { a: deep(depth - 1) });
  const amountAttacks = (prefix = ''): Array<readonly [string, Record<string, unknown>, string]> => [
    [`${prefix}amount negative`, { amount: -1 }, 'amount'],
    [`${prefix}amount zero`, { amount: 0 }, 'amount'],
    [`${prefix}amount fractional`, { amount: 19.99 }, 'amount'],
    [`${prefix}amount a string`, { amount: '1999' }, 'amount'],
    [`${prefix}amount beyond 2^53`, { amount: 2 ** 60 }, 'amount'],
    [`${prefix}amount 1e21`, { amount: 1e21 }, 'amount'],
    [`${prefix}amount null`, { amount: null }, 'amount'],
    [`${prefix}amount an object`, { amount: { $gt: 0 } }, 'amount'],
  ];
  const currencyAttacks: Array<readonly [string, Record<string, unknown>, string]> = [
    ['currency with spaces', { currency: ' USD ' }, 'currency'],
    ['currency unknown', { currency: 'XXX' }, 'currency'],
    ['currency injection', { currency: "USD' OR '1'='1" }, 'currency'],
    ['currency an array', { currency: ['USD'] }, 'currency'],
  ];
  return {
    PaymentRequest: [
      ...amountAttacks(),
      ...currencyAttacks,
      ['customerId empty', { customerId: '' }, 'customerId'],
      ['customerId 10,000 characters', { customerId: 'c'.repeat(10_000) }, 'customerId'],
      ['customerId a number', { customerId: 42 }, 'customerId'],
      ['customerId with an escape sequence', { customerId: 'cus_\u001b[2J' }, 'customerId'],
      ['paymentMethod unknown type', { paymentMethod: { type: 'bitcoin' } }, 'paymentMethod.type'],
      ['paymentMethod missing', { paymentMethod: undefined }, 'paymentMethod'],
      ['card number all zeros', { paymentMethod: { type: 'card', number: '0000000000000000', expMonth: 12, expYear: 2030 } }, 'paymentMethod.number'],
      ['card number failing Luhn', { paymentMethod: { type: 'card', number: '4242424242424241', expMonth: 12, expYear: 2030 } }, 'paymentMethod.number'],
      ['card number 25 digits', { paymentMethod: { type: 'card', number: '4'.repeat(25), expMonth: 12, expYear: 2030 } }, 'paymentMethod.number'],
      ['card number with letters', { paymentMethod: { type: 'card', number: '4242abcd42424242', expMonth: 12, expYear: 2030 } }, 'paymentMethod.number'],
      ['card expMonth 13', { paymentMethod: { type: 'card', number: VISA, expMonth: 13, expYear: 2030 } }, 'paymentMethod.expMonth'],
      ['card cvc 5 digits', { paymentMethod: { type: 'card', number: VISA, expMonth: 12, expYear: 2030, cvc: '12345' } }, 'paymentMethod.cvc'],
      ['card with a token too', { paymentMethod: { type: 'card', token: 'pm_card_visa', number: VISA, expMonth: 12, expYear: 2030 } }, 'paymentMethod.number'],
      ['card extra field', { paymentMethod: { type: 'card', number: VISA, expMonth: 12, expYear: 2030, track2: `;${VISA}=3012?` } }, 'paymentMethod.track2'],
      ['token not a PaymentMethod id', { paymentMethod: { type: 'card', token: 'tok_<script>' } }, 'paymentMethod.token'],
      ['card number in description', { description: `card ${VISA}` }, 'description'],
      ['card number with spaces in description', { description: '4242 4242 4242 4242' }, 'description'],
      ['Amex number in metadata', { metadata: { note: AMEX } }, 'metadata.note'],
      ['card number with dashes in metadata', { metadata: { ref: '4242-4242-4242-4242' } }, 'metadata.ref'],
      ['card number with dots in description', { description: 'card 4242.4242.4242.4242' }, 'description'],
      ['card number with zero-width spaces in description', { description: '4242\u200b4242\u200b4242\u200b4242' }, 'description'],
      ['card number in full-width digits in description', { description: '４２４２４２４２４２４２４２４２' }, 'description'],
      ['card number in Arabic-Indic digits in metadata', { metadata: { ref: '٤٢٤٢٤٢٤٢٤٢٤٢٤٢٤٢' } }, 'metadata.ref'],
      // A card number as a key is refused and never named: the field is "(a key)".
      ['card number as a metadata key', { metadata: { [VISA]: 'x' } }, 'metadata.(a key)'],
      ['card number as the customer id', { customerId: VISA }, 'customerId'],
      ['description with an escape sequence', { description: 'order \u001b[2J 7' }, 'description'],
      ['metadata value with a NUL', { metadata: { ref: 'a\u0000b' } }, 'metadata.ref'],
      ['card number as the device id', { deviceId: '4242-4242-4242-4242' }, 'deviceId'],
      ['metadata constructor key', { metadata: { constructor: 'x' } }, 'metadata.constructor'],
      ['metadata prototype key', { metadata: { prototype: 'x' } }, 'metadata.prototype'],
      ['metadata 51 keys', { metadata: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v'])) }, 'metadata'],
      ['metadata key of 41 characters', { metadata: { ['k'.repeat(41)]: 'v' } }, `metadata.${'k'.repeat(41)}`],
      ['metadata value of 501 characters', { metadata: { note: 'v'.repeat(501) } }, 'metadata.note'],
      ['metadata a nested object', { metadata: { nested: { a: 1 } } }, 'metadata.nested'],
      ['metadata nested 20 deep', { metadata: deep(20) as Record<string, unknown> }, 'metadata.a'],
      ['metadata an array', { metadata: ['a'] }, 'metadata'],
      ['description 501 characters', { description: 'd'.repeat(501) }, 'description'],
      ['country unknown', { country: 'ZZ' }, 'country'],
      ['country reserved (EU)', { country: 'EU' }, 'country'],
      ['ipCountry injection', { ipCountry: '<script>alert(1)</script>' }, 'ipCountry'],
      ['deviceId empty', { deviceId: '' }, 'deviceId'],
      ['deviceId 129 characters', { deviceId: 'd'.repeat(129) }, 'deviceId'],
      ['rewardWallet not base58', { rewardWallet: '0OIl0OIl0OIl0OIl0OIl0OIl0OIl0OIl' }, 'rewardWallet'],
      ['rewardWallet the System Program', { rewardWallet: '11111111111111111111111111111111' }, 'rewardWallet'],
      ['rewardWallet an Ethereum address', { rewardWallet: '0x52908400098527886E0F7030069857D2E4169EE7' }, 'rewardWallet'],
      ['unknown field merchantId (spoofing)', { merchantId: 'm_other' }, ''],
      ['unknown field status', { status: 'succeeded' }, ''],
    ],
    FraudRequest: [
      ...amountAttacks(),
      ...currencyAttacks,
      ['customerId empty', { customerId: '' }, 'customerId'],
      ['customerId 129 characters', { customerId: 'c'.repeat(129) }, 'customerId'],
      ['customerId with a NUL', { customerId: 'cus\u0000x' }, 'customerId'],
      ['customerId with a newline (a forged log line)', { customerId: 'cus_1\n{"level":"INFO","message":"refund approved"}' }, 'customerId'],
      ['country unknown', { country: 'XX' }, 'country'],
      ['deviceId an object', { deviceId: { id: 1 } }, 'deviceId'],
      ['unknown field score', { score: 0 }, ''],
    ],
    FraudLabelRequest: [
      ['paymentId malformed', { paymentId: 'pay_../../etc/passwd' }, 'paymentId'],
      ['paymentId injection', { paymentId: "pay_' OR 1=1 --" }, 'paymentId'],
      ['fraud a string', { fraud: 'true' }, 'fraud'],
      ['fraud missing', { fraud: undefined }, 'fraud'],
      ['unknown field merchantId (spoofing)', { merchantId: 'm_other' }, ''],
    ],
    RouteRequest: [
      ...amountAttacks(),
      ...currencyAttacks,
      ['method unknown', { method: 'cash' }, 'method'],
      ['network unknown', { network: 'diners-club-<b>' }, 'network'],
      ['fraudScore above 1', { fraudScore: 1.5 }, 'fraudScore'],
      ['fraudScore negative', { fraudScore: -0.1 }, 'fraudScore'],
      ['merchantCategory 41 characters', { merchantCategory: 'm'.repeat(41) }, 'merchantCategory'],
      ['merchantCategory blank', { merchantCategory: '   ' }, 'merchantCategory'],
      ['unknown field connectors (forcing a route)', { connectors: ['evil'] }, ''],
    ],
    RouteFeedbackRequest: [
      ['decisionId malformed', { decisionId: 'rt_' }, 'decisionId'],
      ['attempts empty', { attempts: [] }, 'attempts'],
      ['attempts 11', { attempts: Array.from({ length: 11 }, () => ({ connectorId: 'stripe-sandbox', outcome: 'succeeded', latencyMs: 1 })) }, 'attempts'],
      ['outcome unknown', { attempts: [{ connectorId: 'stripe-sandbox', outcome: 'won', latencyMs: 1 }] }, 'attempts.0.outcome'],
      ['latency negative', { attempts: [{ connectorId: 'stripe-sandbox', outcome: 'succeeded', latencyMs: -5 }] }, 'attempts.0.latencyMs'],
      ['latency beyond 10 minutes', { attempts: [{ connectorId: 'stripe-sandbox', outcome: 'succeeded', latencyMs: 600_001 }] }, 'attempts.0.latencyMs'],
      ['fee fractional', { attempts: [{ connectorId: 'stripe-sandbox', outcome: 'succeeded', latencyMs: 1, feeMinor: 0.5 }] }, 'attempts.0.feeMinor'],
      ['connectorId empty', { attempts: [{ connectorId: '', outcome: 'succeeded', latencyMs: 1 }] }, 'attempts.0.connectorId'],
    ],
    RefundRequest: [
      ...amountAttacks().filter(([name]) => !name.endsWith('null')),
      ['reason unknown', { reason: 'because' }, 'reason'],
      ['unknown field paymentId (another payment)', { paymentId: context.otherPaymentId }, ''],
    ],
    RewardRequest: [
      ['paymentId malformed', { paymentId: 'pay_x' }, 'paymentId'],
      ['paymentId with a wallet too', { wallet: WALLET }, 'wallet'],
      ['claim without a wallet', { paymentId: undefined, customerId: 'cus_sec' }, 'wallet'],
      ['claim with an invalid wallet', { paymentId: undefined, customerId: 'cus_sec', wallet: 'not-a-wallet' }, 'wallet'],
      ['claim with the System Program', { paymentId: undefined, customerId: 'cus_sec', wallet: '11111111111111111111111111111111' }, 'wallet'],
      ['unknown field amount (choosing the reward)', { amount: 1_000_000 }, ''],
    ],
    RelayRequest: [
      ['transaction not base64', { transaction: '!!!not base64!!!' }, 'transaction'],
      ['transaction empty', { transaction: '' }, 'transaction'],
      ['transaction over the packet size', { transaction: 'A'.repeat(4000) }, 'transaction'],
      ['transaction a number', { transaction: 12345 }, 'transaction'],
      ['transaction not a transaction', { transaction: Buffer.from('hello, treasury').toString('base64') }, 'transaction'],
    ],
    ChatRequest: [
      ['question too short', { question: 'hi' }, 'question'],
      ['question blank', { question: '          ' }, 'question'],
      ['question 1,001 characters', { question: 'q'.repeat(1001) }, 'question'],
      ['question an array', { question: ['total volume'] }, 'question'],
      ['card number in the question', { question: 'total volume since 4242 4242 4242 4242' }, 'question'],
      ['from before 1970', { from: '1969-12-31T00:00:00Z' }, 'from'],
      ['to after 2100', { to: '2100-01-02T00:00:00Z' }, 'to'],
      ['from not a date', { from: 'yesterday' }, 'from'],
      ['from a date without an offset', { from: '2026-11-01T00:00:00' }, 'from'],
      ['unknown field merchantId (spoofing)', { merchantId: 'm_other' }, ''],
      ['unknown field index (another index)', { index: 'smartpay-payments-*' }, ''],
    ],
  };
}

/** The route's path with its parameters filled with well-formed values of the attacker's own. */
function concretePath(route: RouteSpec, context: CorpusContext): string {
  return route.path.replace('{id}', context.ownPaymentId).replace('{wallet}', WALLET).replace('{connectorId}', route.path.includes('amazon-pay') ? 'amazon-pay' : 'stripe-us');
}

function headersFor(route: RouteSpec, token: string | undefined, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...(route.request || route.target.kind === 'workflow' ? { 'content-type': 'application/json' } : {}),
    ...(route.headers ? { 'idempotency-key': randomUUID() } : {}),
    ...(token === undefined ? {} : { authorization: token.startsWith('Basic ') ? token : `Bearer ${token}` }),
    ...extra,
  };
}

const name = (route: RouteSpec) => `${route.method} ${route.path}`;

/** Every case, over every route of the topology. */
export function buildCorpus(context: CorpusContext): SecurityCase[] {
  const cases: SecurityCase[] = [];
  const routes = allRoutes();
  const bodies = validBodies(context);
  const add = (c: Omit<SecurityCase, 'route'> & { route?: string }) => cases.push({ route: c.path.split('?')[0]!, ...c });

  // Auth: every jwt route, every token attack → 401; a valid token without the merchant claim → 403.
  for (const route of routes.filter((r) => r.auth === 'jwt')) {
    const body = route.request ? JSON.stringify(bodies[route.request.name]) : undefined;
    for (const attack of AUTH_ATTACKS) {
      add({ id: `auth/${attack} ${name(route)}`, category: 'auth', method: route.method, path: concretePath(route, context), route: route.path, headers: headersFor(route, context.badTokens[attack]), body, expect: { status: 401, code: 'unauthorized' } });
    }
    add({ id: `auth/no-merchant-claim ${name(route)}`, category: 'auth', method: route.method, path: concretePath(route, context), route: route.path, headers: headersFor(route, context.noMerchantToken), body, expect: { status: 403, code: 'forbidden' } });
  }

  // Body: every route with a JSON body.
  for (const route of routes.filter((r) => r.request)) {
    const path = concretePath(route, context);
    const valid = JSON.stringify(bodies[route.request!.name]);
    const raw = (attack: string, body: string | Uint8Array, expect: Expectation, extra: Record<string, string> = {}) =>
      add({ id: `body/${attack} ${name(route)}`, category: 'body', method: route.method, path, route: route.path, headers: headersFor(route, context.token, extra), body, expect });
    const bad = { status: 400, code: 'validation_error' };
    raw('truncated JSON', valid.slice(0, -3), bad);
    raw('empty body', '', bad);
    raw('JSON null', 'null', bad);
    raw('JSON array', '[]', bad);
    raw('JSON string', '"pay me"', bad);
    raw('JSON number', '1999', bad);
    raw('nested 5,000 deep', `{"x":${'['.repeat(5000)}${']'.repeat(5000)}}`, bad);
    raw('__proto__ key', valid.replace(/^\{/, '{"__proto__":{"isAdmin":true},'), { ...bad, field: '__proto__' });
    raw('constructor key', valid.replace(/^\{/, '{"constructor":{"prototype":{"isAdmin":true}},'), { ...bad, field: 'constructor' });
    raw('unknown field', valid.replace(/^\{/, '{"isAdmin":true,'), bad);
    raw('infinite number', valid.replace(/^\{/, '{"n":1e400,'), bad);
    // A key twice: JSON.parse keeps the last silently, another parser (a WAF, a proxy) may have read the first.
    const first = Object.keys(bodies[route.request!.name] as object)[0];
    if (first) raw('a key twice', valid.replace(/^\{/, `{${JSON.stringify(first)}:null,`), { ...bad, field: first });
    raw('invalid UTF-8', Buffer.concat([Buffer.from(valid.slice(0, -1)), Buffer.from(',"x":"'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}')]), bad);
    raw('NUL in a string', valid.replace(/^\{/, '{"x":"\\u0000",'), bad);
    // A lone surrogate parses, but no UTF-8 carries it (a gateway's form encoding threw on one): named before any schema.
    raw('lone surrogate in a string', valid.replace(/^\{/, '{"x":"a\\udfff b",'), { ...bad, field: 'x' });
    raw('lone surrogate in a key', valid.replace(/^\{/, '{"\\ud800":1,'), { ...bad, field: '(body)' });
    raw('text/plain', valid, { status: 415, code: 'unsupported_media_type' }, { 'content-type': 'text/plain' });
    raw('JSON in UTF-16', valid, { status: 415, code: 'unsupported_media_type' }, { 'content-type': 'application/json; charset=utf-16' });
    raw('a gzip Content-Encoding on a plain body', valid, { status: 415, code: 'unsupported_media_type' }, { 'content-encoding': 'gzip' });
    raw('form-encoded', 'amount=1999&currency=USD', { status: 415, code: 'unsupported_media_type' }, { 'content-type': 'application/x-www-form-urlencoded' });
    raw('XML', '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>', { status: 415, code: 'unsupported_media_type' }, { 'content-type': 'application/xml' });
    raw('over 1 MB', valid.replace(/^\{/, `{"pad":"${'x'.repeat(1024 * 1024)}",`), { status: 413, code: 'payload_too_large', field: '(body)' });
    // Under 1 MB, but over what the payment workflow's input holds once escaped (a "€" takes 6): refused before the key.
    if (route.target.kind === 'workflow') raw('over the workflow input', valid.replace(/^\{/, `{"pad":"${'€'.repeat(40_000)}",`), { status: 413, code: 'payload_too_large', field: '(body)' });
  }

  // Fields: each model's hostile values → 400 naming the field ('' = an unknown field: named by its own key).
  const attacks = fieldAttacks(context);
  for (const route of routes.filter((r) => r.request)) {
    for (const [attack, change, field] of attacks[route.request!.name] ?? []) {
      const body = { ...bodies[route.request!.name], ...change };
      for (const key of Object.keys(change)) if (change[key] === undefined) delete body[key];
      const secrets = [VISA, AMEX].filter((pan) => JSON.stringify(change).includes(pan) || JSON.stringify(change).includes(pan.replace(/(\d{4})(?=\d)/g, '$1 ')));
      add({
        id: `field/${attack} ${name(route)}`,
        category: 'field',
        method: route.method,
        path: concretePath(route, context),
        route: route.path,
        headers: headersFor(route, context.token),
        body: JSON.stringify(body),
        expect: { status: 400, code: 'validation_error', ...(field ? { field } : {}) },
        secrets: [...secrets, ...(attack.includes('card number') ? ['4242 4242 4242 4242', '4242-4242-4242-4242'] : [])],
      });
    }
  }

  // Query strings: every route with query parameters gets an unknown and a repeated one; GET /payments its values.
  for (const route of routes.filter((r) => r.query)) {
    const first = Object.keys(route.query!.shape)[0]!;
    const query = (attack: string, qs: string, field: string) =>
      add({ id: `query/${attack} ${name(route)}`, category: 'query', method: route.method, path: `${route.path}?${qs}`, route: route.path, headers: headersFor(route, context.token), expect: { status: 400, code: 'validation_error', field } });
    query('unknown parameter', 'admin=true', 'query.admin');
    query('prototype parameter', '__proto__=x', 'query.__proto__');
    query('repeated parameter', `${first}=a&${first}=b`, `query.${first}`);
  }
  const list = (attack: string, qs: string, field: string) =>
    add({ id: `query/${attack} GET /payments`, category: 'query', method: 'GET', path: `/payments?${qs}`, route: '/payments', headers: { authorization: `Bearer ${context.token}` }, expect: { status: 400, code: 'validation_error', field } });
  list('limit negative', 'limit=-1', 'query.limit');
  list('limit a billion', 'limit=1000000000', 'query.limit');
  list('limit NaN', 'limit=NaN', 'query.limit');
  list('limit fractional', 'limit=2.5', 'query.limit');
  list('status a script', 'status=%3Cscript%3E', 'query.status');
  list('cursor traversal', 'cursor=..%2F..%2Fetc', 'query.cursor');
  list('cursor another shape', `cursor=${encodeURIComponent(JSON.stringify({ merchantId: 'm_victim', paymentId: context.otherPaymentId }))}`, 'query.cursor');
  list('from before 1970', 'from=1969-12-31T00:00:00Z', 'query.from');
  list('to not a date', 'to=tomorrow', 'query.to');
  list('q of 200 characters', `q=${'q'.repeat(200)}`, 'query.q');
  list('q blank', 'q=%20%20', 'query.q');
  list('connectorId traversal', 'connectorId=..%2F..', 'query.connectorId');
  list('currency unknown', 'currency=XXX', 'query.currency');
  list('customerId empty', 'customerId=', 'query.customerId');

  // Isolation: another merchant's payment, on every route that takes a payment id → 404 as if it did not exist.
  const other = context.otherPaymentId;
  const isolation = (attack: string, method: string, path: string, route: string, body: unknown, keyed = false) =>
    add({ id: `isolation/${attack}`, category: 'isolation', method, path, route, headers: { authorization: `Bearer ${context.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(keyed ? { 'idempotency-key': randomUUID() } : {}) }, body: body === undefined ? undefined : JSON.stringify(body), expect: { status: 404, code: 'not_found' } });
  isolation('read another merchant\'s payment', 'GET', `/payments/${other}`, '/payments/{id}', undefined);
  for (const [attack, qs] of [
    ["search for another merchant's payment id", `q=${other}`],
    ["list another merchant's customer", `customerId=${context.otherCustomerId}`],
    ["search another merchant's customer", `q=${context.otherCustomerId}`],
  ] as const) {
    add({ id: `isolation/${attack}`, category: 'isolation', method: 'GET', path: `/payments?${qs}`, route: '/payments', headers: { authorization: `Bearer ${context.token}` }, expect: { status: 200 }, secrets: [other, context.otherCustomerId] });
  }
  isolation('refund another merchant\'s payment', 'POST', `/payments/${other}/refund`, '/payments/{id}/refund', {}, true);
  isolation('refund part of another merchant\'s payment', 'POST', `/payments/${other}/refund`, '/payments/{id}/refund', { amount: 1 }, true);
  isolation('label another merchant\'s payment fraud', 'POST', '/fraud/labels', '/fraud/labels', { paymentId: other, fraud: true });
  isolation('label another merchant\'s payment legitimate', 'POST', '/fraud/labels', '/fraud/labels', { paymentId: other, fraud: false });
  isolation('read another merchant\'s reward', 'POST', '/reward', '/reward', { paymentId: other });
  add({ id: "isolation/claim another merchant's customer's rewards", category: 'isolation', method: 'POST', path: '/reward', route: '/reward', headers: { authorization: `Bearer ${context.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ customerId: context.otherCustomerId, wallet: WALLET }), expect: { status: 409, code: 'nothing_to_claim' } });

  // Paths: malformed ids and traversal → 400 naming the parameter, or 404 for no route.
  const pathCase = (attack: string, path: string, route: string, expect: Expectation, method = 'GET') =>
    add({ id: `path/${attack}`, category: 'path', method, path, route, headers: { authorization: `Bearer ${context.token}`, ...(method === 'POST' ? { 'content-type': 'application/json', 'idempotency-key': randomUUID() } : {}) }, body: method === 'POST' ? '{}' : undefined, expect });
  const badId = { status: 400, code: 'validation_error', field: 'path.id' };
  pathCase('payment id traversal', '/payments/..%2F..%2Fetc%2Fpasswd', '/payments/{id}', badId);
  pathCase('payment id with a NUL', '/payments/pay_01ABCDEFGHJKMNPQRSTV%00', '/payments/{id}', badId);
  pathCase('payment id lowercase', `/payments/${context.ownPaymentId.toLowerCase()}`, '/payments/{id}', badId);
  pathCase('payment id injection', "/payments/pay_'%20OR%201=1--", '/payments/{id}', badId);
  pathCase('payment id 10,000 characters', `/payments/pay_${'A'.repeat(10_000)}`, '/payments/{id}', badId);
  pathCase('payment id a script', '/payments/%3Cscript%3Ealert(1)%3C%2Fscript%3E', '/payments/{id}', badId);
  pathCase('payment id unknown (well-formed)', '/payments/pay_01ABCDEFGHJKMNPQRSTV', '/payments/{id}', { status: 404, code: 'not_found' });
  pathCase('refund of a malformed id', '/payments/pay_x/refund', '/payments/{id}/refund', badId, 'POST');
  pathCase('wallet not base58', '/rewards/0OIl0OIl', '/rewards/{wallet}', { status: 400, code: 'validation_error', field: 'path.wallet' });
  pathCase('wallet traversal', '/rewards/..%2F..%2Fadmin', '/rewards/{wallet}', { status: 400, code: 'validation_error', field: 'path.wallet' });
  pathCase('wallet the System Program', '/rewards/11111111111111111111111111111111', '/rewards/{wallet}', { status: 400, code: 'validation_error', field: 'path.wallet' });
  pathCase('literal traversal', '/payments/../../etc/passwd', '/payments/../../etc/passwd', { status: 404, code: 'not_found' });
  pathCase('an extra segment', `/payments/${context.ownPaymentId}/secrets`, '/payments/{id}/secrets', { status: 404, code: 'not_found' });
  pathCase('the data folder', '/.smartpay/issuer/private.jwk.json', '/.smartpay/issuer/private.jwk.json', { status: 404, code: 'not_found' });
  pathCase('a dotfile', '/.env', '/.env', { status: 404, code: 'not_found' });
  pathCase('the package', '/package.json', '/package.json', { status: 404, code: 'not_found' });

  // Webhooks: unsigned, forged, replayed with another secret, an unknown connector, a malformed connector id.
  const event = JSON.stringify({ id: 'evt_1', type: 'payment_intent.succeeded', data: { object: { id: 'pi_1', metadata: { paymentId: context.ownPaymentId } } } });
  const stripeSignature = (secret: string, at = Math.floor(Date.now() / 1000)) => `t=${at},v1=${createHmac('sha256', secret).update(`${at}.${event}`).digest('hex')}`;
  const webhook = (attack: string, path: string, route: string, headers: Record<string, string>, expect: Expectation) =>
    add({ id: `webhook/${attack}`, category: 'webhook', method: 'POST', path, route, headers: { 'content-type': 'application/json', ...headers }, body: event, expect });
  const invalidSignature = { status: 400, code: 'invalid_signature' };
  webhook('Stripe without a signature', '/webhooks/stripe/stripe-us', '/webhooks/stripe/{connectorId}', {}, invalidSignature);
  webhook('Stripe signed with a guessed secret', '/webhooks/stripe/stripe-us', '/webhooks/stripe/{connectorId}', { 'stripe-signature': stripeSignature('whsec_guess') }, invalidSignature);
  webhook('Stripe signature garbage', '/webhooks/stripe/stripe-us', '/webhooks/stripe/{connectorId}', { 'stripe-signature': 'v1=deadbeef' }, invalidSignature);
  webhook('Stripe replayed from 2020', '/webhooks/stripe/stripe-us', '/webhooks/stripe/{connectorId}', { 'stripe-signature': stripeSignature('whsec_guess', 1_600_000_000) }, invalidSignature);
  webhook('Stripe to a malformed connector id', '/webhooks/stripe/..%2F..', '/webhooks/stripe/{connectorId}', {}, { status: 400, code: 'validation_error', field: 'path.connectorId' });
  webhook('Stripe to an unknown connector', '/webhooks/stripe/no-such-connector', '/webhooks/stripe/{connectorId}', { 'stripe-signature': stripeSignature('whsec_guess') }, { status: 404, code: 'not_found' });
  webhook('Stripe to a connector of another kind', '/webhooks/stripe/sandbox-latam', '/webhooks/stripe/{connectorId}', { 'stripe-signature': stripeSignature('whsec_guess') }, { status: 404, code: 'not_found' });
  webhook('Amazon Pay unsigned', '/webhooks/amazon-pay/amazon-pay', '/webhooks/amazon-pay/{connectorId}', {}, invalidSignature);
  webhook('Amazon Pay with a forged signature', '/webhooks/amazon-pay/amazon-pay', '/webhooks/amazon-pay/{connectorId}', { 'x-amz-pay-signature': 'SIGNATURE', 'x-amz-pay-date': new Date().toISOString() }, invalidSignature);
  webhook('Amazon Pay to a malformed connector id', '/webhooks/amazon-pay/A', '/webhooks/amazon-pay/{connectorId}', {}, { status: 400, code: 'validation_error', field: 'path.connectorId' });

  // The console's files: only the app's and its libraries', read-only; never the project's or the data folder's.
  const consoleCase = (attack: string, method: string, path: string, expect: Expectation) =>
    add({ id: `console/${attack}`, category: 'console', method, path, route: '/console/*', headers: {}, body: method === 'POST' ? '{}' : undefined, expect });
  const noFile = { status: 404, code: 'not_found' };
  consoleCase('traversal to the package', 'GET', '/console/..%2Fpackage.json', noFile);
  consoleCase('encoded traversal to the issuer key', 'GET', '/console/%2e%2e/%2e%2e/.smartpay/issuer/private.jwk.json', noFile);
  consoleCase('traversal out of the libraries', 'GET', '/console/vendor/..%2F..%2Fpackage.json', noFile);
  consoleCase('a library not vendored', 'GET', '/console/vendor/lodash.js', noFile);
  consoleCase('a source file', 'GET', '/console/..%2Flocal%2Fissuer.ts', noFile);
  consoleCase('a malformed escape', 'GET', '/console/%E0%A4%A', noFile);
  consoleCase('a NUL in the path', 'GET', '/console/app.js%00.png', noFile);
  consoleCase('a path of 5,000 characters', 'GET', `/console/${'a/'.repeat(2_500)}`, noFile);
  consoleCase('POST to the app', 'POST', '/console/', { status: 405, code: 'method_not_allowed' });
  consoleCase('DELETE a file', 'DELETE', '/console/app.js', { status: 405, code: 'method_not_allowed' });
  consoleCase('PUT the config', 'PUT', '/console/config.json', { status: 405, code: 'method_not_allowed' });

  // HTTP: unknown routes and methods, a missing or bad Idempotency-Key.
  const http = (attack: string, method: string, path: string, headers: Record<string, string>, body: string | undefined, expect: Expectation) =>
    add({ id: `http/${attack}`, category: 'http', method, path, route: path.replace(context.ownPaymentId, '{id}'), headers: { authorization: `Bearer ${context.token}`, ...headers }, body, expect });
  const pay = JSON.stringify(bodies.PaymentRequest);
  const json = { 'content-type': 'application/json' };
  http('unknown route', 'GET', '/admin', {}, undefined, { status: 404, code: 'not_found' });
  http('DELETE a payment', 'DELETE', `/payments/${context.ownPaymentId}`, {}, undefined, { status: 405, code: 'method_not_allowed' });
  http('PUT /pay', 'PUT', '/pay', json, pay, { status: 405, code: 'method_not_allowed' });
  http('PATCH /pay', 'PATCH', '/pay', json, pay, { status: 405, code: 'method_not_allowed' });
  http('/pay without an Idempotency-Key', 'POST', '/pay', json, pay, { status: 400, code: 'validation_error', field: 'header.Idempotency-Key' });
  http('/pay with an Idempotency-Key of 256 characters', 'POST', '/pay', { ...json, 'idempotency-key': 'k'.repeat(256) }, pay, { status: 400, code: 'validation_error', field: 'header.Idempotency-Key' });
  http('/pay with an Idempotency-Key with a space', 'POST', '/pay', { ...json, 'idempotency-key': 'a b' }, pay, { status: 400, code: 'validation_error', field: 'header.Idempotency-Key' });
  http('refund without an Idempotency-Key', 'POST', `/payments/${context.ownPaymentId}/refund`, json, '{}', { status: 400, code: 'validation_error', field: 'header.Idempotency-Key' });
  // Headers named after prototype keys, on every route: as API Gateway passes them, own keys, never a 5xx.
  for (const route of routes) {
    const expect: Expectation = route.auth === 'jwt' ? { status: 403, code: 'forbidden' } : route.target.kind === 'static' ? { status: 200 } : { status: 400, code: 'invalid_signature' };
    add({ id: `header/prototype names ${name(route)}`, category: 'header', method: route.method, path: concretePath(route, context), route: route.path, headers: { ...headersFor(route, context.noMerchantToken), constructor: 'x', ['__proto__']: 'y', prototype: 'z' } as Record<string, string>, body: route.request ? JSON.stringify(bodies[route.request.name]) : route.method === 'POST' ? '{}' : undefined, expect });
  }
  http('a 20 KB header', 'GET', `/payments/${context.ownPaymentId}`, { 'x-padding': 'p'.repeat(20_000) }, undefined, { status: 431, code: 'request_header_fields_too_large' });

  return cases;
}

