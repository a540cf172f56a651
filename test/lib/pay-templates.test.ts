/**
 * Renders the POST /pay mapping templates with a VTL engine (velocityjs) and an emulation of API Gateway's
 * $input, $context and $util, so the cloud path's envelope and response mapping are executed, not just
 * matched as text. The emulation follows API Gateway's documented semantics: $util.escapeJavaScript is
 * Java's StringEscapeUtils.escapeJavaScript (it escapes ' as \' and non-ASCII as \uXXXX), and
 * String.replaceAll takes a Java regular expression.
 */
import { PayEnvelope } from '../../contracts/steps';
import { ProcessingResponse } from '../../contracts/api';
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
    else if (code < 0x20 || code > 0x7e) {
      // Java works in UTF-16 code units.
      for (const unit of char.split('')) out += `\\u${unit.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
    } else out += char;
  }
  return new JavaString(out);
}

const util = { escapeJavaScript, parseJson: (text: unknown) => JSON.parse(String(text)) };
const ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:Payment';

function renderRequest(body: unknown, headers: Record<string, string>, claims: Record<string, string>) {
  const text = render(payRequestTemplate(ARN), {
    input: {
      json: (path: string) => {
        if (path !== '$') throw new Error(`unexpected path ${path}`);
        return JSON.stringify(body);
      },
      params: (name: string) => headers[name] ?? '',
    },
    context: { requestId: 'req-123', authorizer: { claims } },
    util,
  });
  const request = JSON.parse(text) as { stateMachineArn: string; input: string };
  return { request, envelope: JSON.parse(request.input) };
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
    const { request, envelope } = renderRequest(body, { 'Idempotency-Key': 'key-1' }, { 'custom:merchantId': 'm_123', sub: 'u' });
    expect(request.stateMachineArn).toBe(ARN);
    expect(envelope).toEqual({ body, merchantId: 'm_123', idempotencyKey: 'key-1', requestId: 'req-123' });
    // The envelope contracts/steps.ts declares, field for field (the local server builds the same).
    expect(Object.keys(envelope).sort()).toEqual(Object.keys(PayEnvelope.shape).sort());
    expect(PayEnvelope.parse(envelope)).toEqual(envelope);
  });

  test('survives quotes, apostrophes, backslashes, newlines, slashes and non-ASCII in the body and header', () => {
    const body = { description: `He said "hi" it's C:\\temp\n</script> café 💳`, metadata: { 'k"1': "v'1" } };
    const { envelope } = renderRequest(body, { 'Idempotency-Key': `it's-"k"` }, { 'custom:merchantId': "m'1" });
    expect(envelope).toEqual({ body, merchantId: "m'1", idempotencyKey: `it's-"k"`, requestId: 'req-123' });
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
