/**
 * The OpenAPI 3.0 document of the API, generated from the same zod schemas the handlers parse with and
 * the API Gateway request models are made from. `npm run openapi` writes it to docs/openapi.json.
 */
import { z } from 'zod';
import { PaymentId, REQUEST_SCHEMAS } from './api';

type Json = Record<string, unknown>;

const ErrorBody: Json = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: { code: { type: 'string' }, message: { type: 'string' }, details: {} },
    },
  },
};

function errors(...statuses: number[]): Json {
  const descriptions: Record<number, string> = {
    400: 'invalid request: the message and details name each bad field',
    401: 'missing, invalid or expired token',
    402: 'payment declined (fraud or gateway); details.payment holds the recorded payment',
    403: 'the token carries no custom:merchantId claim',
    404: 'not found for this merchant',
    409: 'conflict (idempotency key in flight, or reward not eligible)',
    422: 'idempotency key reused with another body, or no eligible connector',
    503: 'every eligible gateway failed; nothing was charged',
  };
  return Object.fromEntries(
    statuses.map((s) => [String(s), { description: descriptions[s], content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } }]),
  );
}

function body(path: keyof typeof REQUEST_SCHEMAS): Json {
  return { required: true, content: { 'application/json': { schema: { $ref: `#/components/schemas/${schemaName(path)}` } } } };
}

function schemaName(path: string): string {
  const names: Record<string, string> = { '/pay': 'PaymentRequest', '/fraud': 'FraudRequest', '/fraud/labels': 'FraudLabelRequest', '/route': 'RouteRequest', '/route/feedback': 'RouteFeedbackRequest', '/reward': 'RewardRequest', '/chat': 'ChatRequest' };
  return names[path];
}

const ok = (description: string): Json => ({ description, content: { 'application/json': { schema: { type: 'object' } } } });

export function openApiDocument(): Json {
  const schemas: Json = { Error: ErrorBody };
  for (const [path, schema] of Object.entries(REQUEST_SCHEMAS)) {
    schemas[schemaName(path)] = z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'input', unrepresentable: 'any' });
  }
  const secured = { security: [{ cognito: [] }] };
  return {
    openapi: '3.0.3',
    info: {
      title: 'SmartPay Orchestrator API',
      version: '0.1.0',
      description: 'Money is integer minor units plus an ISO-4217 currency. Errors are {error:{code,message,details}}.',
    },
    components: {
      securitySchemes: { cognito: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'Cognito (or local issuer) ID token with custom:merchantId' } },
      schemas,
    },
    paths: {
      '/pay': {
        post: {
          ...secured,
          summary: 'Run the whole payment orchestration',
          parameters: [{ name: 'Idempotency-Key', in: 'header', required: true, schema: { type: 'string', minLength: 1, maxLength: 255 } }],
          requestBody: body('/pay'),
          responses: { 201: ok('payment succeeded'), 202: ok('held for review'), ...errors(400, 401, 402, 403, 409, 422, 503) },
        },
      },
      '/fraud': { post: { ...secured, summary: 'Score a payment for fraud', requestBody: body('/fraud'), responses: { 200: ok('assessment'), ...errors(400, 401, 403) } } },
      '/fraud/labels': {
        post: {
          ...secured,
          summary: 'Label a completed payment as fraud (a chargeback) or as good, for the fraud features',
          requestBody: body('/fraud/labels'),
          responses: { 200: ok('label recorded'), ...errors(400, 401, 403, 404, 409) },
        },
      },
      '/route': {
        post: {
          ...secured,
          summary: 'Rank the eligible connectors (contextual bandit): the choice first, each with its score and propensity, the decision id and the policy version',
          requestBody: body('/route'),
          responses: { 200: ok('ranked connectors'), ...errors(400, 401, 403, 422) },
        },
      },
      '/route/feedback': {
        post: {
          ...secured,
          summary: "Record the outcome of each attempt of a routing decision (idempotent); the routing model learns from it",
          requestBody: body('/route/feedback'),
          responses: { 200: ok('outcomes recorded'), ...errors(400, 401, 403, 404) },
        },
      },
      '/reward': {
        post: { ...secured, summary: 'Issue (or return) the reward of a succeeded payment', requestBody: body('/reward'), responses: { 200: ok('existing reward'), 201: ok('reward issued'), ...errors(400, 401, 403, 409) } },
      },
      '/chat': { post: { ...secured, summary: "Ask about the merchant's own payments", requestBody: body('/chat'), responses: { 200: ok('answer with the records used'), ...errors(400, 401, 403) } } },
      '/payments/{id}': {
        get: {
          ...secured,
          summary: 'One of the merchant’s payments',
          parameters: [{ name: 'id', in: 'path', required: true, schema: z.toJSONSchema(PaymentId, { target: 'openapi-3.0' }) }],
          responses: { 200: ok('the payment'), ...errors(400, 401, 403, 404) },
        },
      },
      '/health': { get: { summary: 'Liveness (no auth)', responses: { 200: ok('{"status":"ok"}') } } },
    },
  };
}
