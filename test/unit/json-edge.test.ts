/** The edge's checks on a body before any schema sees it (contracts/json.ts), and the request schemas' limits. */
import { ChatRequest, PaymentRequest } from '../../contracts/api';
import { fieldIssues } from '../../contracts/issues';
import { PayloadTooLargeError, ValidationError } from '../../contracts/errors';
import { BODY_TOO_LARGE, bodyMediaProblem, bodySizeProblem, isJsonContentType, JSON_LIMITS, jsonTextProblem, jsonValueProblem } from '../../contracts/json';
import { parseApiBody } from '../../lambdas/shared/http';
import type { APIGatewayProxyEvent } from 'aws-lambda';

const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);

describe('jsonTextProblem (before parsing)', () => {
  test('nesting past the limit is a problem, at the limit it is not', () => {
    expect(jsonTextProblem(deep(5000))).toEqual({ field: '(body)', problem: `must nest at most ${JSON_LIMITS.maxDepth} levels deep` });
    expect(jsonTextProblem(deep(JSON_LIMITS.maxDepth))).toBeUndefined();
  });
  test('brackets inside strings do not count', () => {
    expect(jsonTextProblem(JSON.stringify({ note: '['.repeat(500) + '\\"' + '{'.repeat(500) }))).toBeUndefined();
  });
  test('too many entries, too many bytes', () => {
    expect(jsonTextProblem(JSON.stringify(Array.from({ length: JSON_LIMITS.maxEntries + 5 }, () => 1)))?.problem).toMatch(/at most 1000 entries/);
    // Size is bodySizeProblem's (a 413), not a structural problem: a long string alone is well-formed.
    expect(jsonTextProblem(JSON.stringify({ a: 'x'.repeat(JSON_LIMITS.maxBytes) }))).toBeUndefined();
  });
});

describe('a body over the size limit is a 413 in the functions, as the local server answers it', () => {
  const event = (body: string) => ({ body, isBase64Encoded: false, headers: { 'Content-Type': 'application/json' } }) as unknown as APIGatewayProxyEvent;
  const anything = PaymentRequest.partial().passthrough();
  test('bodySizeProblem counts UTF-8 bytes, not characters', () => {
    const euros = '€'.repeat(Math.floor(JSON_LIMITS.maxBytes / 3)); // 3 bytes each: just under the limit
    expect(bodySizeProblem(euros)).toBeUndefined();
    expect(bodySizeProblem(`${euros}€`)).toEqual(BODY_TOO_LARGE);
    expect(bodySizeProblem('x'.repeat(JSON_LIMITS.maxBytes))).toBeUndefined();
    expect(bodySizeProblem('x'.repeat(JSON_LIMITS.maxBytes + 1))).toEqual(BODY_TOO_LARGE);
  });
  test('API Gateway passes bodies up to 10 MB and Lambda up to 6 MB: 1.5 MB gets payload_too_large naming the body', () => {
    let thrown: unknown;
    try {
      parseApiBody(event(JSON.stringify({ description: 'x'.repeat(1_500_000) })), anything);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(PayloadTooLargeError);
    expect((thrown as PayloadTooLargeError).toBody()).toEqual({ error: { code: 'payload_too_large', message: `request body must be at most ${JSON_LIMITS.maxBytes} bytes`, details: { issues: [BODY_TOO_LARGE] } } });
  });
  test('a structural problem under the limit stays a 400', () => {
    expect(() => parseApiBody(event(deep(5000)), anything)).toThrow(ValidationError);
  });
});

describe('a key twice in one object (before parsing: JSON.parse would keep the last silently)', () => {
  test.each([
    ['{"amount":100,"currency":"USD","amount":1000000}', 'amount'],
    ['{"metadata":{"order":"1","order":"2"}}', 'metadata.order'],
    ['{"paymentMethod":{"type":"card","number":"4242424242424242","number":"4000000000000002"}}', 'paymentMethod.number'],
    // The same key spelt with an escape is the same key.
    ['{"amount":1,"\\u0061mount":2}', 'amount'],
    ['[{"a":1},{"b":[{"c":1,"c":2}]}]', '1.b.0.c'],
  ])('%s: named', (text, field) => {
    expect(jsonTextProblem(text)).toEqual({ field, problem: 'appears more than once in its object: send each field once' });
  });
  test.each(['{"a":{"k":1},"b":{"k":1}}', '[{"k":1},{"k":2}]', '{"k":"k","v":"k"}', '{"a":"\\"a\\":1"}'])('%s is fine (the same key in different objects, or as a value)', (text) => {
    expect(jsonTextProblem(text)).toBeUndefined();
  });
});

describe('numbers a double cannot mean exactly (before parsing)', () => {
  test.each([
    ['{"amount":1e400}', 'amount', /too large to hold/],
    ['{"a":{"amount":9007199254740993}}', 'a.amount', /beyond 9007199254740991/],
    ['{"amount":1999.0000000000001}', 'amount', /more decimals than a JSON number holds/],
    ['[1,2,{"k":"v","z":-1e999}]', '2.z', /too large to hold/],
    ['{"metadata":{"4242424242424242":1e400}}', 'metadata.(a key)', /too large/],
  ])('%s: named by its path', (text, field, problem) => {
    expect(jsonTextProblem(text)).toEqual({ field, problem: expect.stringMatching(problem) });
  });
  test.each(['{"amount":1999}', '{"x":"1e400"}', '{"n":-0.0}', '{"r":0.30000000000000004}', '{"big":9007199254740991}', '{"k\\"":1e3}'])('%s is fine', (text) => {
    expect(jsonTextProblem(text)).toBeUndefined();
  });
});

describe('jsonValueProblem (a parsed body)', () => {
  test('a lone surrogate in a value or a key is refused, named; a pair is fine', () => {
    expect(jsonValueProblem(JSON.parse('{"description":"x\\udfff y"}'))).toEqual({ field: 'description', problem: 'must be well-formed Unicode (a lone surrogate \\udfff at character 2)' });
    expect(jsonValueProblem(JSON.parse('{"m":{"\\ud800":"v"}}'))?.field).toBe('m');
    expect(jsonValueProblem({ description: 'a\ud83d\ude00b', tags: ['ok'] })).toBeUndefined();
  });
  test.each(['__proto__', 'constructor', 'prototype'])('a %s key is refused, named by its path', (key) => {
    expect(jsonValueProblem(JSON.parse(`{"amount":1,"metadata":{"${key}":"y"}}`))).toEqual({ field: `metadata.${key}`, problem: 'is not an allowed key' });
  });
  test('ordinary bodies pass; deep ones do not', () => {
    expect(jsonValueProblem({ amount: 1, metadata: { order: 'A-1' } })).toBeUndefined();
    expect(jsonValueProblem(JSON.parse(deep(JSON_LIMITS.maxDepth + 1)))?.problem).toMatch(/nest at most/);
  });
});

test('only JSON content types', () => {
  expect(isJsonContentType('application/json')).toBe(true);
  expect(isJsonContentType('Application/JSON; charset=utf-8')).toBe(true);
  expect(isJsonContentType('text/plain')).toBe(false);
  expect(isJsonContentType('application/jsonx')).toBe(false);
  expect(isJsonContentType(undefined)).toBe(false);
});

describe('PaymentRequest limits', () => {
  const base = { amount: 100, currency: 'USD', customerId: 'c', paymentMethod: { type: 'card', number: '4242424242424242', expMonth: 1, expYear: 2030 } };
  /** The 400's issues, as the API words them. */
  const problems = (body: object) => {
    const result = PaymentRequest.safeParse(body);
    return result.success ? [] : fieldIssues(result.error, body).map((i) => `${i.field}: ${i.problem}`);
  };
  test('metadata: 50 keys, keys ≤ 40 characters, values ≤ 500', () => {
    expect(problems({ ...base, metadata: Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, 'v'])) })).toEqual([]);
    expect(problems({ ...base, metadata: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v'])) })).toEqual(['metadata: must have at most 50 keys']);
    expect(problems({ ...base, metadata: { ['k'.repeat(41)]: 'v' } })).toEqual([`metadata.${'k'.repeat(41)}: is not an allowed key: it must be at most 40 characters`]);
    expect(problems({ ...base, metadata: { k: 'v'.repeat(501) } })[0]).toMatch(/^metadata\.k: /);
  });
  test('a card number in metadata or the description is refused; an order number is not', () => {
    expect(problems({ ...base, metadata: { note: 'card 4242 4242 4242 4242' } })).toEqual(['metadata.note: must not contain a card number']);
    expect(problems({ ...base, description: 'paid with 5555-5555-5555-4444' })).toEqual(['description: must not contain a card number']);
    expect(problems({ ...base, metadata: { order: '9000000000000000001' } })).toEqual([]);
  });
  test('a card number starting with 0 is not a card number, though it passes Luhn', () => {
    expect(problems({ ...base, paymentMethod: { ...base.paymentMethod, number: '0000000000000000' } })).toEqual(['paymentMethod.number: is not a card number (no card number starts with 0)']);
  });
});

test('chat windows are dates a payment can have', () => {
  expect(ChatRequest.safeParse({ question: 'total volume', from: '1969-12-31T00:00:00Z' }).error?.issues[0]?.message).toBe('must be between 1970-01-01 and 2100-01-01');
  expect(ChatRequest.safeParse({ question: 'total volume', from: '2026-01-01T00:00:00Z', to: '2200-01-01T00:00:00Z' }).success).toBe(false);
  expect(ChatRequest.safeParse({ question: 'total volume', from: '2026-01-01T00:00:00Z' }).success).toBe(true);
});

test('bodyMediaProblem: UTF-8 JSON, uncompressed, only', () => {
  expect(bodyMediaProblem('application/json', undefined)).toBeUndefined();
  expect(bodyMediaProblem('application/json; charset=UTF-8', 'identity')).toBeUndefined();
  expect(bodyMediaProblem('application/json; charset="utf-16"', undefined)).toMatch(/must be UTF-8 JSON, not utf-16/);
  expect(bodyMediaProblem('application/json', 'gzip')).toMatch(/Content-Encoding \(gzip\) is not accepted/);
  expect(bodyMediaProblem('text/plain', undefined)).toMatch(/must be JSON/);
});
