/**
 * Renders the POST /pay mapping templates with a VTL engine (velocityjs) and an emulation of API Gateway's
 * $input, $context and $util, so the cloud path's envelope and response mapping are executed, not just
 * matched as text. The emulation follows API Gateway's documented semantics: $util.escapeJavaScript is
 * Java's StringEscapeUtils.escapeJavaScript (it escapes ' as \' and non-ASCII as \uXXXX), and
 * String.replaceAll takes a Java regular expression.
 */
import { boundedPayEnvelope, PAY_INPUT_MAX_CHARS, PayEnvelope, payInputChars, type PayInputFields } from '../../contracts/steps';
import { PaymentRequest, ProcessingResponse } from '../../contracts/api';
import { DomainError } from '../../contracts/errors';
import { parseEnvelopeBody } from '../../lambdas/shared/http';
import { render } from 'velocityjs';
import { PAY_RESPONSE_TEMPLATE, payRequestTemplate } from '../../lib/api';

/** A string whose replaceAll has Java's (regex) semantics, as in API Gateway's VTL. */
class JavaString {
  constructor(private readonly value: string) {}
  replaceAll(regex: string, replacement: string): JavaString {
    return new JavaString(this.value.replace(new RegExp(regex, 'g'), () => replacement));
  }
  toString(): string {
    return this.value;
  }
}

function escapeJavaScript(input: unknown): JavaString {
  let out = '';
  for (const char of String(input)) {
    const code = char.codePointAt(0)!;
    if (char === '"' || char === "'" || char === '\\' || char === '/') out += `\\${char}`;
    else if (char === '\n') out += '\\n';
    else if (char === '\r') out += '\\r';
    else if (char === '\t') out += '\\t';
    else if (char === '\b') out += '\\b';
    else if (char === '\f') out += '\\f';
    else if (code < 0x20 || code > 0x7f) {
      // Java works in UTF-16 code units.
      for (const unit of char.split('')) out += `\\u${unit.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
    } else out += char;
  }
  return new JavaString(out);
}

const util = { escapeJavaScript, parseJson: (text: unknown) => JSON.parse(String(text)) };
const ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:Payment';

/**
 * The request template as velocityjs can run it: Java's `String.length()` on the built input, which velocityjs has
 * no method for on a JS string, becomes a call of the emulation's `$java.length`.
 */
function runnableTemplate(): string {
  const template = payRequestTemplate(ARN);
  expect(template.split('$inputString.length()').length - 1).toBe(1);
  return template.replace('$inputString.length()', '$java.length($inputString)');
}
const java = { length: (text: unknown) => String(text).length };

/** Renders the request template for a body (its text as sent: a string is sent as it is, anything else as JSON). */
function renderRequest(body: unknown, headers: Record<string, string>, claims: Record<string, string>) {
  const text = render(runnableTemplate(), {
    input: {
      body: typeof body === 'string' ? body : JSON.stringify(body),
      params: (name: string) => headers[name] ?? '',
    },
    context: { requestId: 'req-123', authorizer: { claims } },
    util,
    java,
  });
  const request = JSON.parse(text) as { stateMachineArn: string; input: string };
  return { request, envelope: JSON.parse(request.input) };
}

/** What Begin's reading of the envelope throws (a DomainError: its 4xx), checked to be one. */
function beginRefusal(envelope: unknown): DomainError {
  let thrown: unknown;
  try {
    parseEnvelopeBody(PayEnvelope.parse(envelope), PaymentRequest);
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(DomainError);
  return thrown as DomainError;
}

function renderResponse(startSyncExecution: Record<string, unknown>) {
  const context: { requestId: string; responseOverride: { status?: number } } = { requestId: 'req-9', responseOverride: {} };
  const text = render(PAY_RESPONSE_TEMPLATE, {
    input: { path: (path: string) => startSyncExecution[path.replace(/^\$\./, '')] },
    context,
    util,
  });
  return { status: context.responseOverride.status, body: JSON.parse(text.trim()) };
}

describe('POST /pay request template', () => {
  test('builds the workflow envelope from the body, the merchant claim, the header and the request id', () => {
    const body = { amount: 1999, currency: 'USD', customerId: 'cus_1' };
    const headers = { 'Idempotency-Key': 'key-1', 'Content-Type': 'application/json; charset=utf-8' };
    const { request, envelope } = renderRequest(body, headers, { 'custom:merchantId': 'm_123', sub: 'u' });
    expect(request.stateMachineArn).toBe(ARN);
    expect(envelope).toEqual({
      bodyText: JSON.stringify(body),
      contentType: 'application/json; charset=utf-8',
      contentEncoding: '',
      merchantId: 'm_123',
      idempotencyKey: 'key-1',
      requestId: 'req-123',
    });
    // The envelope contracts/steps.ts declares, field for field (the local server builds the same), but `body`
    // (the parsed body of executions started by an earlier template) and `oversizeChars` (below).
    expect(Object.keys(envelope).sort()).toEqual(Object.keys(PayEnvelope.shape).filter((k) => k !== 'body' && k !== 'oversizeChars').sort());
    expect(PayEnvelope.parse(envelope)).toEqual(envelope);
  });

  test('passes the body as sent, so Begin refuses what the local platform refuses (duplicate keys, lost digits, charset)', () => {
    const cases: Array<[string, Record<string, string>, number, RegExp]> = [
      ['{"amount":100,"currency":"USD","customerId":"c","amount":1000000}', {}, 400, /amount: appears more than once/],
      ['{"amount":1999.0000000000001,"currency":"USD","customerId":"c"}', {}, 400, /amount: has more decimals than a JSON number holds/],
      ['{"amount":1999,', {}, 400, /not valid JSON/],
      ['{"amount":1999,"currency":"USD","customerId":"c"}', { 'Content-Type': 'application/json; charset=iso-8859-1' }, 415, /UTF-8/],
      ['{"amount":1999,"currency":"USD","customerId":"c"}', { 'Content-Encoding': 'gzip' }, 415, /Content-Encoding \(gzip\)/],
    ];
    for (const [text, extra, status, message] of cases) {
      const { envelope } = renderRequest(text, { 'Content-Type': 'application/json', ...extra }, { 'custom:merchantId': 'm_1' });
      expect(envelope.bodyText).toBe(text);
      const thrown = beginRefusal(envelope);
      const body = thrown.toBody();
      expect([text, thrown.status]).toEqual([text, status]);
      expect(JSON.stringify(body)).toMatch(message);
    }
  });

  test('survives quotes, apostrophes, backslashes, newlines, slashes and non-ASCII in the body and header', () => {
    const body = { description: `He said "hi" it's C:\\temp\n</script> café 💳 $input.body #set($x = 1)`, metadata: { 'k"1': "v'1" } };
    const text = `${JSON.stringify(body)}\r\n\t`;
    const { envelope } = renderRequest(text, { 'Idempotency-Key': `it's-"k"` }, { 'custom:merchantId': "m'1" });
    expect(envelope).toMatchObject({ bodyText: text, merchantId: "m'1", idempotencyKey: `it's-"k"`, requestId: 'req-123' });
    expect(JSON.parse(envelope.bodyText)).toEqual(body);
  });

  test('an input over PAY_INPUT_MAX_CHARS goes without the body, with its size, and Begin answers 413 naming the body', () => {
    const headers = { 'Content-Type': 'application/json', 'Idempotency-Key': 'key-big' };
    const claims = { 'custom:merchantId': 'm_1' };
    const fields = (bodyText: string): PayInputFields => ({ bodyText, contentType: 'application/json', contentEncoding: '', merchantId: 'm_1', idempotencyKey: 'key-big', requestId: 'req-123' });
    // Bodies around the limit, in characters that escape to 1, 2 and 6 (the template's lengths, counted by
    // contracts/steps.ts payInputChars, are checked against the rendered input).
    const prefix = '{"amount":1999,"currency":"USD","customerId":"c","description":"';
    const room = PAY_INPUT_MAX_CHARS - payInputChars(fields(`${prefix}"}`));
    const cases: Array<[string, boolean]> = [
      [`${prefix}${'a'.repeat(room)}"}`, true],
      [`${prefix}${'a'.repeat(room + 1)}"}`, false],
      [`${prefix}${'/'.repeat(Math.floor(room / 2))}"}`, true],
      [`${prefix}${'€'.repeat(Math.floor(room / 6))}"}`, true],
      [`${prefix}${'€'.repeat(Math.floor(room / 6) + 1)}"}`, false],
      [`${prefix}${'💳\u007f\u0001\n'.repeat(Math.floor(room / 21))}"}`, true], // 12 + 1 + 6 + 2
      [`${prefix}${'x'.repeat(2 * 1024 * 1024)}"}`, false],
    ];
    for (const [text, fits] of cases) {
      const { request, envelope } = renderRequest(text, headers, claims);
      const chars = payInputChars(fields(text));
      expect(boundedPayEnvelope(fields(text))).toEqual(envelope); // the local server passes what the template passes
      if (fits) {
        expect(request.input.length).toBe(chars);
        expect(chars).toBeLessThanOrEqual(PAY_INPUT_MAX_CHARS);
        expect(envelope.bodyText).toBe(text);
        continue;
      }
      expect(chars).toBeGreaterThan(PAY_INPUT_MAX_CHARS);
      expect(envelope).toEqual({ oversizeChars: chars, contentType: 'application/json', contentEncoding: '', merchantId: 'm_1', idempotencyKey: 'key-big', requestId: 'req-123' });
      expect(request.input.length).toBeLessThan(1000);
      const thrown = beginRefusal(envelope);
      expect(thrown.status).toBe(413);
      expect(thrown.toBody()).toMatchObject({ error: { code: 'payload_too_large', details: { issues: [{ field: '(body)', problem: expect.stringContaining(`${chars} characters`) }] } } });
    }
  });

  test('a missing claim or header becomes an empty string, which Begin answers with 403 or 400', () => {
    const { envelope } = renderRequest({ amount: 1 }, {}, {});
    expect(envelope).toMatchObject({ merchantId: '', idempotencyKey: '' });
  });
});

describe('POST /pay response template', () => {
  test('a SUCCEEDED execution answers with its output status and the body as is', () => {
    const body = { payment: { paymentId: 'pay_1', description: 'quote " and \\ backslash' } };
    const output = JSON.stringify({ status: 201, body: JSON.stringify(body) });
    expect(renderResponse({ status: 'SUCCEEDED', output })).toEqual({ status: 201, body });
  });

  test('a 4xx decided by the workflow keeps its status', () => {
    const output = JSON.stringify({ status: 422, body: JSON.stringify({ error: { code: 'idempotency_key_reused', message: 'x' } }) });
    expect(renderResponse({ status: 'SUCCEEDED', output })).toMatchObject({ status: 422, body: { error: { code: 'idempotency_key_reused' } } });
  });

  test('a FAILED or TIMED_OUT execution is 202 processing (money may have moved): never a 5xx', () => {
    for (const status of ['FAILED', 'TIMED_OUT']) {
      const rendered = renderResponse({ status, error: 'States.Timeout' });
      expect(rendered).toEqual({ status: 202, body: { status: 'processing', message: expect.stringMatching(/same Idempotency-Key/) } });
      expect(ProcessingResponse.safeParse(rendered.body).success).toBe(true);
    }
  });
});
