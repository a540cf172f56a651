/**
 * The edge of every handler: tells API Gateway proxy events from Step Functions payloads, parses with the
 * shared zod schemas (Powertools parser), resolves the caller's merchant from the JWT claims, and maps
 * named domain errors to `{error:{code,message,details}}` responses. Unknown errors are bugs: 500, logged.
 */
import { parse } from '@aws-lambda-powertools/parser';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { z } from 'zod';
import { IDEMPOTENCY_HEADER, IdempotencyKey, MERCHANT_CLAIM } from '../../contracts/api';
import { ForbiddenError, isDomainError, PayloadTooLargeError, UnsupportedMediaTypeError, ValidationError } from '../../contracts/errors';
import { bodyMediaProblem, bodySizeProblem, jsonTextProblem, jsonValueProblem } from '../../contracts/json';
import { fieldIssues } from '../../contracts/issues';
import { PAY_INPUT_MAX_CHARS, type PayEnvelope } from '../../contracts/steps';
import { logger } from './powertools';

export function isApiGatewayEvent(event: unknown): event is APIGatewayProxyEvent {
  return (
    typeof event === 'object' &&
    event !== null &&
    'httpMethod' in event &&
    'requestContext' in event &&
    typeof (event as { httpMethod: unknown }).httpMethod === 'string'
  );
}

/** Validates `data` against `schema`; a failure becomes a ValidationError naming every bad field. */
export function parseWith<S extends z.ZodType>(schema: S, data: unknown, what = 'request body'): z.output<S> {
  const result = parse(data, undefined, schema, true);
  if (result.success) return result.data as z.output<S>;
  const cause = (result.error as { cause?: unknown }).cause ?? result.error;
  throw ValidationError.of(fieldIssues(cause, data), what);
}

/**
 * The query string of an API Gateway event, validated: a bad parameter is a 400 naming `query.<name>`. A
 * parameter given twice is refused (API Gateway keeps the last; which one the client meant is unknown).
 */
export function parseQuery<S extends z.ZodType>(event: APIGatewayProxyEvent, schema: S): z.output<S> {
  const repeated = Object.entries(event.multiValueQueryStringParameters ?? {}).filter(([, values]) => (values?.length ?? 0) > 1).map(([name]) => name);
  if (repeated.length) throw new ValidationError(`invalid query: ${repeated.join(', ')} given more than once`, repeated.map((name) => ({ field: `query.${name}`, problem: 'must be given once' })));
  return (parseWith(z.object({ query: schema }), { query: event.queryStringParameters ?? {} }, 'query') as { query: z.output<S> }).query;
}

/** A header's value, whatever its case (API Gateway keeps the client's). */
function header(event: APIGatewayProxyEvent, name: string): string | undefined {
  const entry = Object.entries(event.headers ?? {}).find(([key]) => key.toLowerCase() === name);
  return entry?.[1] ?? undefined;
}

/** The Idempotency-Key a mutating route requires: 1–255 printable ASCII characters; a 400 naming the header otherwise. */
export function requireIdempotencyKey(value: string | undefined, route: string): string {
  const key = value ?? '';
  if (IdempotencyKey.safeParse(key).success) return key;
  throw new ValidationError(
    key === ''
      ? `the ${IDEMPOTENCY_HEADER} header is required for ${route}`
      : `the ${IDEMPOTENCY_HEADER} header must be 1 to 255 printable ASCII characters without spaces`,
    [{ field: `header.${IDEMPOTENCY_HEADER}`, problem: key === '' ? 'is required' : 'must be 1-255 printable ASCII characters' }],
  );
}

/** The Idempotency-Key header of an API Gateway event (see requireIdempotencyKey). */
export function idempotencyKeyOf(event: APIGatewayProxyEvent, route: string): string {
  return requireIdempotencyKey(header(event, IDEMPOTENCY_HEADER.toLowerCase()), route);
}

/**
 * The JSON body of an API Gateway event, checked at the edge (JSON content type, size, depth, entries and no
 * prototype keys: contracts/json.ts) before it is parsed, then validated.
 */
export function parseApiBody<S extends z.ZodType>(event: APIGatewayProxyEvent, schema: S): z.output<S> {
  const raw = event.body === null ? '' : event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  return parseJsonText(schema, raw, header(event, 'content-type'), header(event, 'content-encoding'));
}

/**
 * The payment workflow's request (contracts/steps.ts PayEnvelope): its body's text, read as parseApiBody reads
 * an API event's, or (an execution started by an earlier template) the body already parsed.
 */
export function parseEnvelopeBody<S extends z.ZodType>(envelope: PayEnvelope, schema: S): z.output<S> {
  if (envelope.oversizeChars !== undefined) {
    const problem = `is too large for a payment: with it the workflow's input would take ${envelope.oversizeChars} characters once escaped (a character outside ASCII takes 6), at most ${PAY_INPUT_MAX_CHARS}`;
    throw new PayloadTooLargeError(`request body ${problem}`, [{ field: '(body)', problem }]);
  }
  if (envelope.bodyText === undefined) return parseJsonValue(schema, envelope.body);
  return parseJsonText(schema, envelope.bodyText, envelope.contentType || undefined, envelope.contentEncoding || undefined);
}

/**
 * A JSON body as sent, checked at the edge: required, JSON content type in UTF-8 and not encoded (415), size,
 * depth, entries, duplicate keys and numbers (contracts/json.ts), then parsed, its prototype keys refused and
 * validated against `schema`.
 */
export function parseJsonText<S extends z.ZodType>(schema: S, raw: string, contentType: string | undefined, contentEncoding: string | undefined): z.output<S> {
  if (raw === '') {
    throw new ValidationError('request body is required', [{ field: '(body)', problem: 'is required' }]);
  }
  const media = bodyMediaProblem(contentType, contentEncoding);
  if (media) throw new UnsupportedMediaTypeError(media);
  const tooLarge = bodySizeProblem(raw);
  if (tooLarge) throw new PayloadTooLargeError(`request body ${tooLarge.problem}`, [tooLarge]);
  const malformed = jsonTextProblem(raw);
  if (malformed) throw ValidationError.of([malformed]);
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    throw new ValidationError('request body is not valid JSON', [{ field: '(body)', problem: 'is not valid JSON' }]);
  }
  return parseJsonValue(schema, body);
}

/**
 * A body already parsed (an API event's, or the one the payment workflow's envelope carries): its shape (depth,
 * entries, prototype keys: contracts/json.ts) is checked before the schema.
 */
export function parseJsonValue<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const hostile = jsonValueProblem(body);
  if (hostile) throw ValidationError.of([hostile]);
  return parseWith(schema, body);
}

/** The merchant the caller acts for, from the verified JWT claims; every read and write is scoped to it. */
export function merchantOf(event: APIGatewayProxyEvent): string {
  const claims = (event.requestContext.authorizer as { claims?: Record<string, unknown> } | null)?.claims;
  const merchantId = claims?.[MERCHANT_CLAIM];
  if (typeof merchantId !== 'string' || merchantId === '') {
    throw new ForbiddenError(`the token carries no ${MERCHANT_CLAIM} claim, so it may not act for any merchant`);
  }
  return merchantId;
}

export function jsonResponse(statusCode: number, body: unknown): APIGatewayProxyResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
    body: JSON.stringify(body),
  };
}

/** Maps an error to a response: domain errors to their 4xx/5xx, anything else to a logged 500. */
export function errorResponse(error: unknown): APIGatewayProxyResult {
  if (isDomainError(error)) return jsonResponse(error.status, error.toBody());
  logger.error('unhandled error', error as Error);
  return jsonResponse(500, { error: { code: 'internal_error', message: 'internal error; it has been logged' } });
}

/** Runs an API route: resolves the merchant, runs `fn`, maps the result or the error. */
export async function apiRoute(
  event: APIGatewayProxyEvent,
  fn: (merchantId: string) => Promise<{ status: number; body: unknown }>,
): Promise<APIGatewayProxyResult> {
  try {
    const merchantId = merchantOf(event);
    logger.appendKeys({ merchantId });
    const { status, body } = await fn(merchantId);
    return jsonResponse(status, body);
  } catch (error) {
    return errorResponse(error);
  } finally {
    logger.removeKeys(['merchantId']);
  }
}
