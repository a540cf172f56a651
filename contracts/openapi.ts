/**
 * The OpenAPI 3.0 document of the API, rendered from contracts/topology.ts: every route with its request and
 * response schemas (the same zod schemas the handlers parse with and the API Gateway models are made from).
 * The local platform serves it at `GET /openapi.json`, the cloud API at the same path, and
 * `npm run openapi` writes it to docs/openapi.json.
 */
import { z } from 'zod';
import { ErrorBody } from './api';
import { allRoutes, errorStatuses, type RouteSpec } from './topology';

type Json = Record<string, unknown>;

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Json {
  return z.toJSONSchema(schema, { target: 'openapi-3.0', io, unrepresentable: 'any' }) as Json;
}

/** `/payments/{id}` → `PaymentsId` (a name for a response schema of a route without a request name). */
function pascal(path: string): string {
  return path
    .split(/[/{}._-]+/)
    .filter(Boolean)
    .map((part) => part[0].toUpperCase() + part.slice(1))
    .join('');
}

export function openApiDocument(): Json {
  const schemas: Json = { Error: jsonSchema(ErrorBody, 'output') };
  const paths: Record<string, Record<string, Json>> = {};
  const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });

  for (const route of allRoutes()) {
    const operation: Json = { summary: route.summary, operationId: `${route.method.toLowerCase()}${pascal(route.path)}` };
    if (route.auth === 'jwt') operation.security = [{ cognito: [] }];
    const parameters: Json[] = [];
    for (const [name, schema] of Object.entries(route.headers ?? {})) {
      parameters.push({ name, in: 'header', required: true, schema: jsonSchema(schema, 'input') });
    }
    for (const [name, schema] of Object.entries(route.pathParams?.shape ?? {})) {
      parameters.push({ name, in: 'path', required: true, schema: jsonSchema(schema as z.ZodType, 'input') });
    }
    for (const [name, schema] of Object.entries(route.query?.shape ?? {})) {
      const field = schema as z.ZodType;
      parameters.push({ name, in: 'query', required: !field.safeParse(undefined).success, schema: jsonSchema(field, 'input') });
    }
    if (parameters.length) operation.parameters = parameters;
    if (route.request) {
      schemas[route.request.name] = jsonSchema(route.request.schema, 'input');
      operation.requestBody = { required: true, content: { 'application/json': { schema: { $ref: `#/components/schemas/${route.request.name}` } } } };
    }
    operation.responses = responses(route, schemas, errorResponse);
    (paths[route.path] ??= {})[route.method.toLowerCase()] = operation;
  }

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
    paths,
  };
}

function responses(route: RouteSpec, schemas: Json, errorResponse: (description: string) => Json): Json {
  const out: Json = {};
  for (const [status, { description, body, contentType }] of Object.entries(route.responses)) {
    if (contentType) {
      out[status] = { description, content: { [contentType]: { schema: jsonSchema(body, 'output') } } };
      continue;
    }
    const name = `${pascal(route.path) || 'Root'}${route.method === 'GET' ? 'Get' : ''}${status}Response`;
    schemas[name] = jsonSchema(body, 'output');
    out[status] = { description, content: { 'application/json': { schema: { $ref: `#/components/schemas/${name}` } } } };
  }
  const errors = errorStatuses(route);
  for (const status of Object.keys(errors).map(Number).sort((a, b) => a - b)) out[status] = errorResponse(errors[status] as string);
  // At capacity (service_unavailable: the stage's throttle in AWS, admission control locally) a 503 says when to retry.
  if (out[503]) out[503] = { ...(out[503] as object), headers: { 'Retry-After': { description: 'with service_unavailable (at capacity): the seconds to wait before retrying', schema: { type: 'integer', minimum: 0 } } } };
  return out;
}
