/**
 * The local API: a node:http server standing in for API Gateway, its routes rendered from
 * contracts/topology.ts (the same records the CDK renders its methods from). It authorises `jwt` routes like
 * the Cognito user-pool authorizer (401 without a valid ID token), turns requests into standard
 * APIGatewayProxyEvents for function routes (the verified claims in `requestContext.authorizer.claims`), runs
 * workflow routes with the envelope API Gateway's request template builds, and answers static routes (health,
 * the OpenAPI document). It also serves the local issuer's JWKS (Cognito's stand-in). Bad input is never a 5xx.
 */
import { randomUUID } from 'node:crypto';
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { IDEMPOTENCY_HEADER, MERCHANT_CLAIM } from '../contracts/api';
import { BODY_TOO_LARGE, isJsonContentType, JSON_LIMITS, NOT_JSON } from '../contracts/json';
import { apiReferenceHtml } from '../contracts/api-docs';
import { consoleFile, consoleHeaders } from './console';
import { debugEnabled } from '../contracts/debug';
import { openApiDocument } from '../contracts/openapi';
import { boundedPayEnvelope } from '../contracts/steps';
import { allRoutes, type FunctionName, type RouteSpec } from '../contracts/topology';
import { LOCAL_ACCOUNT } from './env';
import type { Invoker } from './functions';
import type { LocalIssuer } from './issuer';
import type { LocalWorkflows } from './workflows';

/** The largest request body accepted (larger ones get 413, as the functions answer them in the cloud). */
const MAX_BODY_BYTES = JSON_LIMITS.maxBytes;
const STAGE = 'local';

interface Route {
  readonly resource: string;
  readonly pattern: RegExp;
  readonly params: readonly string[];
  readonly method: RouteSpec['method'];
  readonly auth: RouteSpec['auth'];
  readonly target: RouteSpec['target'] | { readonly kind: 'jwks' };
}

function route(spec: Pick<RouteSpec, 'method' | 'path' | 'auth'> & { readonly target: Route['target'] }): Route {
  const params: string[] = [];
  const source = spec.path.replace(/[.]/g, '\\.').replace(/\{(\w+)\}/g, (_, name: string) => {
    params.push(name);
    return '([^/]+)';
  });
  return { resource: spec.path, pattern: new RegExp(`^${source}$`), params, method: spec.method, auth: spec.auth, target: spec.target };
}

/** The topology's routes, and the local issuer's JWKS (in the cloud, Cognito serves the pool's). */
export const ROUTES: readonly Route[] = [
  ...allRoutes().map(route),
  route({ method: 'GET', path: '/.well-known/jwks.json', auth: 'none', target: { kind: 'jwks' } }),
];

export interface LocalServerOptions {
  readonly issuer: LocalIssuer;
  readonly functions: Readonly<Record<FunctionName, Invoker>>;
  readonly workflows: Pick<LocalWorkflows, 'runPayment'>;
  /** Where unexpected failures are reported. @default console.error */
  readonly onError?: (message: string, error: unknown) => void;
  /**
   * Admission control: payments in flight at once. Above it, `POST /pay` answers 503 with Retry-After before
   * the workflow starts, so the key is not claimed and nothing is charged (the same key may be retried).
   * @default DEFAULT_MAX_IN_FLIGHT_PAYMENTS
   */
  readonly maxInFlightPayments?: number;
  /**
   * The background work not yet done (the bus's deliveries queued or running: rewards, fraud features, routing's
   * learning). At `maxBacklog` or more, `POST /pay` answers 503 with Retry-After as above: locally the payments
   * and their background work share the cores, and without a bound a sustained overload would leave the
   * background ever further behind (in the cloud it runs on instances of its own).
   */
  readonly backlog?: () => number;
  /** @default DEFAULT_MAX_BACKLOG */
  readonly maxBacklog?: number;
  /** The operator console at `/console/` (local/console.ts): what its config.json tells it. @default served, no ledger URL */
  readonly console?: { readonly solanaRpcUrl?: string };
}

/**
 * Background deliveries the local platform lets pile up before it refuses new payments: a payment makes about 3
 * (its reward, its fraud features, routing's feedback), so about 700 payments' worth, some 10 s of work at the
 * rate 2 cores sustain (`npm run bench:pay`).
 */
export const DEFAULT_MAX_BACKLOG = 2000;

/**
 * In-flight payments the local platform admits: about twice what keeps its p95 low at saturation on two cores
 * (40–60 payments/s at 80–270 ms, so 5–15 in flight). More only queue: latency grows, and nothing finishes sooner.
 */
export const DEFAULT_MAX_IN_FLIGHT_PAYMENTS = 32;
/** Seconds a refused payment is told to wait. */
const RETRY_AFTER_SECONDS = 1;

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** What POST /pay is admitted against: payments in flight, and the background work not yet done. */
interface Admission {
  inFlight: number;
  readonly max: number;
  readonly backlog: () => number;
  readonly maxBacklog: number;
}

export function createLocalServer(options: LocalServerOptions): Server {
  const onError = options.onError ?? ((message: string, error: unknown) => console.error(`[server] ${message}`, error));
  const admission: Admission = {
    inFlight: 0,
    max: options.maxInFlightPayments ?? DEFAULT_MAX_IN_FLIGHT_PAYMENTS,
    backlog: options.backlog ?? (() => 0),
    maxBacklog: options.maxBacklog ?? DEFAULT_MAX_BACKLOG,
  };
  // DEBUG=smartpay:local (or smartpay:*): a line per request on stderr, with its status and time.
  const trace = debugEnabled(process.env.DEBUG, 'smartpay:local');
  // A client that sends its request too slowly (a slowloris) gets a 408 after 30 s, as API Gateway's own limit
  // would cut it (its integrations answer within 29 s): it does not hold a socket for Node's default 5 minutes.
  const server = createServer({ requestTimeout: 30_000, headersTimeout: 20_000, connectionsCheckingInterval: 2_000 }, (req, res) => {
    const requestId = randomUUID();
    if (trace) {
      const started = performance.now();
      res.once('finish', () => console.error(`smartpay:local ${req.method} ${req.url?.split('?')[0]} ${res.statusCode} ${(performance.now() - started).toFixed(1)} ms ${requestId}`));
    }
    handle(req, res, requestId, options, admission).catch((error: unknown) => {
      // The client went away (or was cut off as too slow) while its request was read: no one to answer.
      if (res.destroyed || req.socket.destroyed) return;
      if (error instanceof HttpError) {
        send(res, error.status, { error: { code: error.code, message: error.message, ...(error.details === undefined ? {} : { details: error.details }) } }, requestId, error.headers);
      } else {
        onError(`${req.method} ${req.url} failed`, error);
        send(res, 502, { error: { code: 'internal_error', message: 'Internal server error' } }, requestId);
      }
    });
  });
  // A request Node's parser refuses (headers over its 16 KB, a malformed line) gets the API's JSON error body, as
  // API Gateway answers its own, instead of Node's bare status line.
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    const [status, code, message] =
      error.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'request_header_fields_too_large', 'the request line (its URL) and headers are over 16 KB']
        : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? [408, 'request_timeout', 'the request was not received in time (its headers within 20 s, all of it within 30 s)']
          : [400, 'bad_request', 'the request is not valid HTTP'];
    const body = JSON.stringify({ error: { code, message } });
    socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  });
  return server;
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  requestId: string,
  options: LocalServerOptions,
  admission: Admission,
): Promise<void> {
  // The path as sent: a path of "//payments" is a path, not a host (new URL(path, base) would read it as one).
  const raw = req.url ?? '/';
  const url = new URL(raw.startsWith('/') ? `http://localhost${raw}` : raw, 'http://localhost');
  if (url.pathname === '/console' || url.pathname.startsWith('/console/')) return serveConsole(req, res, url, requestId, options);
  const candidates = ROUTES.filter((r) => r.pattern.test(url.pathname));
  if (candidates.length === 0) {
    drain(req);
    throw new HttpError(404, 'not_found', `no route for ${url.pathname}`);
  }
  const matched = candidates.find((r) => r.method === req.method);
  if (!matched) {
    drain(req);
    const allow = candidates.map((r) => r.method).join(', ');
    throw new HttpError(405, 'method_not_allowed', `${req.method} is not allowed on ${url.pathname} (allowed: ${allow})`, undefined, { allow });
  }
  const target = matched.target;
  if (target.kind === 'static') {
    drain(req);
    if (target.document === 'docs') return sendRaw(res, 200, apiReference(), requestId, { 'content-type': 'text/html; charset=utf-8' });
    return send(res, 200, target.document === 'health' ? { status: 'ok' } : openApi(), requestId);
  }
  if (target.kind === 'jwks') {
    drain(req);
    return send(res, 200, options.issuer.jwks(), requestId, { 'cache-control': 'public, max-age=300' });
  }

  const claims =
    matched.auth === 'jwt'
      ? await authorize(req, options.issuer).catch((error: unknown) => {
          drain(req);
          throw error;
        })
      : {};
  const body = await readBody(req);

  if (target.kind === 'workflow') {
    if (target.workflow !== 'payment') throw new Error(`only the payment workflow can serve a route, not ${target.workflow}`);
    // As API Gateway's integration (no passthrough): a body of another Content-Type is a 415 at the gateway. The
    // text itself reaches the workflow unread, and Begin checks it (charset, encoding, size, JSON, duplicate keys).
    if (body !== '' && !isJsonContentType(req.headers['content-type'])) throw new HttpError(415, 'unsupported_media_type', NOT_JSON);
    const merchantId = claims[MERCHANT_CLAIM];
    const idempotencyKey = req.headers[IDEMPOTENCY_HEADER.toLowerCase()];
    const behind = admission.backlog();
    if (admission.inFlight >= admission.max || behind >= admission.maxBacklog) {
      const why =
        admission.inFlight >= admission.max
          ? `the platform is at capacity (${admission.max} payments in flight)`
          : `the platform's background work (rewards, fraud features, routing's learning) is ${behind} deliveries behind`;
      throw new HttpError(
        503,
        'service_unavailable',
        `${why}; nothing was charged and the key was not used: retry after ${RETRY_AFTER_SECONDS} s with the same Idempotency-Key`,
        undefined,
        { 'retry-after': String(RETRY_AFTER_SECONDS) },
      );
    }
    admission.inFlight += 1;
    let response;
    try {
      // The envelope API Gateway's template builds: the body's text and its media headers (Begin reads them).
      // Over the workflow's input limit, its size in place of the body, as the template does.
      response = await options.workflows.runPayment(
        boundedPayEnvelope({
          bodyText: body,
          contentType: String(req.headers['content-type'] ?? ''),
          contentEncoding: String(req.headers['content-encoding'] ?? ''),
          merchantId: typeof merchantId === 'string' ? merchantId : '',
          idempotencyKey: typeof idempotencyKey === 'string' ? idempotencyKey : '',
          requestId,
        }),
      );
    } finally {
      admission.inFlight -= 1;
    }
    return sendRaw(res, response.status, response.body, requestId, { 'content-type': 'application/json' });
  }

  const pathParameters: Record<string, string> = {};
  const values = matched.pattern.exec(url.pathname)?.slice(1) ?? [];
  matched.params.forEach((name, i) => {
    pathParameters[name] = safeDecode(values[i] ?? '');
  });
  const event = proxyEvent(req, url, matched, pathParameters, body, claims, requestId);
  const result = (await options.functions[target.function](event)) as APIGatewayProxyResult | null;
  if (!result || typeof result.statusCode !== 'number') {
    throw new Error(`function ${target.function} returned no proxy result (statusCode, body)`);
  }
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(result.headers ?? {})) headers[name.toLowerCase()] = String(value);
  for (const [name, list] of Object.entries(result.multiValueHeaders ?? {})) headers[name.toLowerCase()] = list.map(String);
  const payload = result.isBase64Encoded ? Buffer.from(result.body ?? '', 'base64') : (result.body ?? '');
  return sendRaw(res, result.statusCode, payload, requestId, headers);
}

/**
 * The operator console's static files (as CloudFront serves them in the cloud): no token needed for the files,
 * which hold no data; every figure they show comes from the API with the merchant's token.
 */
function serveConsole(req: IncomingMessage, res: ServerResponse, url: URL, requestId: string, options: LocalServerOptions): void {
  drain(req);
  if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'method_not_allowed', `${req.method} is not allowed on ${url.pathname} (allowed: GET, HEAD)`, undefined, { allow: 'GET, HEAD' });
  if (url.pathname === '/console') return sendRaw(res, 301, '', requestId, { location: '/console/' });
  let path: string;
  try {
    path = decodeURIComponent(url.pathname.slice('/console/'.length));
  } catch {
    throw new HttpError(404, 'not_found', `no console file ${url.pathname}`);
  }
  if (path === 'config.json') {
    const config = { apiBase: '', auth: { mode: 'token' }, ...(options.console?.solanaRpcUrl ? { solanaRpcUrl: options.console.solanaRpcUrl } : {}) };
    return sendRaw(res, 200, JSON.stringify(config), requestId, { 'content-type': 'application/json', ...consoleHeaders() });
  }
  const file = consoleFile(path);
  if (!file) throw new HttpError(404, 'not_found', `no console file ${url.pathname}`);
  sendRaw(res, 200, req.method === 'HEAD' ? '' : file.body, requestId, { 'content-type': file.type, ...consoleHeaders() });
}

let document: unknown;
/** The OpenAPI document, rendered once from the topology. */
function openApi(): unknown {
  document ??= openApiDocument();
  return document;
}

let reference: string | undefined;
/** The API reference page (rendered once, from the same document). */
function apiReference(): string {
  reference ??= apiReferenceHtml(openApi() as Record<string, unknown>);
  return reference;
}

/** Like API Gateway's Cognito authorizer: a valid, unexpired ID token from the pool, else 401. */
async function authorize(req: IncomingMessage, issuer: LocalIssuer): Promise<Record<string, unknown>> {
  const header = req.headers.authorization;
  if (!header) throw new HttpError(401, 'unauthorized', 'missing Authorization header (Bearer <token>)');
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) throw new HttpError(401, 'unauthorized', 'the Authorization header must be "Bearer <token>"');
  try {
    return { ...(await issuer.verify(match[1] as string)) };
  } catch (error) {
    const reason = (error as { code?: string }).code === 'ERR_JWT_EXPIRED' ? 'the token has expired' : 'the token is not valid';
    throw new HttpError(401, 'unauthorized', reason);
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES) {
    drain(req);
    return Promise.reject(tooLarge());
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        // Answer now; the rest of the body is read and discarded so the connection stays usable.
        failed = true;
        chunks.length = 0;
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!failed) resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', (error) => {
      if (!failed) reject(error);
    });
  });
}

function tooLarge(): HttpError {
  return new HttpError(413, 'payload_too_large', `request body ${BODY_TOO_LARGE.problem}`, { issues: [BODY_TOO_LARGE] });
}

function drain(req: IncomingMessage): void {
  req.resume();
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** A standard REST API (v1) proxy event, as API Gateway builds it with a Cognito user-pool authorizer. */
function proxyEvent(
  req: IncomingMessage,
  url: URL,
  matched: Route,
  pathParameters: Record<string, string>,
  body: string,
  claims: Record<string, unknown>,
  requestId: string,
): APIGatewayProxyEvent {
  // Names are the client's (a header or parameter named __proto__ or constructor included): collected in Maps and
  // made own properties, as API Gateway's JSON event has them, never looked up on a prototype.
  const collect = (pairs: Iterable<readonly [string, string]>) => {
    const single = new Map<string, string>();
    const multi = new Map<string, string[]>();
    for (const [name, value] of pairs) {
      single.set(name, value);
      multi.set(name, [...(multi.get(name) ?? []), value]);
    }
    return { single: Object.fromEntries(single) as Record<string, string>, multi: Object.fromEntries(multi) as Record<string, string[]> };
  };
  const rawHeaders: Array<readonly [string, string]> = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) rawHeaders.push([req.rawHeaders[i] as string, req.rawHeaders[i + 1] as string]);
  const { single: headers, multi: multiValueHeaders } = collect(rawHeaders);
  const { single: query, multi: multiQuery } = collect(url.searchParams);
  // The Cognito authorizer hands claims to the integration as strings.
  const stringClaims = Object.fromEntries(Object.entries(claims).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
  const now = Date.now();
  const sourceIp = (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
  return {
    resource: matched.resource,
    path: url.pathname,
    httpMethod: matched.method,
    headers,
    multiValueHeaders,
    queryStringParameters: url.searchParams.size ? query : null,
    multiValueQueryStringParameters: url.searchParams.size ? multiQuery : null,
    pathParameters: matched.params.length ? pathParameters : null,
    stageVariables: null,
    body: body === '' ? null : body,
    isBase64Encoded: false,
    requestContext: {
      accountId: LOCAL_ACCOUNT,
      apiId: 'local',
      authorizer: { claims: stringClaims },
      domainName: String(req.headers.host ?? 'localhost'),
      domainPrefix: 'localhost',
      extendedRequestId: requestId,
      httpMethod: matched.method,
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp,
        user: null,
        userAgent: String(req.headers['user-agent'] ?? ''),
        userArn: null,
      },
      path: `/${STAGE}${url.pathname}`,
      protocol: `HTTP/${req.httpVersion}`,
      requestId,
      requestTime: new Date(now).toUTCString(),
      requestTimeEpoch: now,
      resourceId: 'local',
      resourcePath: matched.resource,
      stage: STAGE,
    },
  };
}

function send(res: ServerResponse, status: number, body: unknown, requestId: string, headers: Record<string, string> = {}): void {
  sendRaw(res, status, JSON.stringify(body), requestId, { 'content-type': 'application/json', ...headers });
}

function sendRaw(res: ServerResponse, status: number, body: string | Buffer, requestId: string, headers: Record<string, string | string[]>): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { ...headers, 'x-amzn-requestid': requestId, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
