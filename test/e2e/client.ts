/** Helpers for the e2e suites: a platform on an ephemeral loopback port, tokens, and a small fetch client. */
import { randomUUID } from 'node:crypto';
import type { HandlerOverrides } from '../../local/functions';
import { Payment } from '../../contracts/api';
import { DEFAULT_CONNECTORS } from '../../contracts/connectors';
import { startLocalPlatform, type LocalPlatform, type LocalPlatformOptions } from '../../local/platform';

/**
 * A platform with the two default sandbox accounts (ordinary cards always succeed), unless `env` says otherwise; in
 * memory, unless given a `dataDir` (its keys then on disk, as an operator holds them).
 */
export function startPlatform(
  options: { env?: Record<string, string>; handlerOverrides?: HandlerOverrides } & Pick<LocalPlatformOptions, 'maxInFlightPayments' | 'maxBacklog' | 'dataDir'> = {},
): Promise<LocalPlatform> {
  return startLocalPlatform({
    port: 0,
    inMemory: options.dataDir === undefined,
    retryIntervalOverrides: 0,
    onError: () => undefined,
    ...options,
    // The functions log as quietly as the tests (test/setup.ts): a test that wants their logs sets its own level.
    // The analytics index without embeddings (full-text search alone): loading the sentence encoder costs its
    // instance seconds of CPU, which only the chat's own suite (chat.test.ts) needs.
    env: { CONNECTORS: JSON.stringify(DEFAULT_CONNECTORS), POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL, EMBEDDING_MODEL: 'none', ...options.env },
  });
}

/**
 * A platform whose reward workflow's mint step fails, as an unreachable Solana cluster would (a TransientError,
 * before any transaction), while `clusterDown()` says so; the mints schedule takes over at once (the default
 * waits 2 minutes for the workflow).
 */
export function startPlatformWithFlakyCluster(clusterDown: () => boolean, env: Record<string, string> = {}): Promise<LocalPlatform> {
  return startPlatform({
    env: { MINT_SWEEP_AFTER_MS: '0', ...env },
    handlerOverrides: {
      rewards: async (event, next) => {
        if (clusterDown() && (event as { step?: string }).step === 'mint') {
          const error = new Error('fetch failed: the Solana RPC did not answer');
          error.name = 'TransientError';
          throw error;
        }
        return next(event);
      },
    },
  });
}

export const card = (number = '4242424242424242') => ({ type: 'card', number, expMonth: 12, expYear: 2030, cvc: '123' });

export const payBody = (overrides: Record<string, unknown> = {}) => ({
  amount: 1999,
  currency: 'USD',
  customerId: 'cus_e2e',
  paymentMethod: card(),
  ...overrides,
});

/** A customer with no history: its payments are not shaped by the other tests' traffic (the fraud model learns online). */
export function uniqueCustomer(prefix = 'cus_e2e'): string {
  return `${prefix}_${randomUUID().slice(0, 8)}`;
}

export function uniqueMerchant(prefix = 'm_e2e'): string {
  return `${prefix}_${randomUUID().slice(0, 8)}`;
}

export interface CallResult {
  status: number;
  headers: Headers;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- response JSON is navigated freely in assertions
  json: any;
}

export class ApiClient {
  constructor(
    readonly platform: LocalPlatform,
    readonly token?: string,
  ) {}

  static async forMerchant(platform: LocalPlatform, merchantId: string | undefined): Promise<ApiClient> {
    return new ApiClient(platform, await platform.issuer.signToken({ merchantId }));
  }

  async call(method: string, path: string, options: { body?: unknown; raw?: string; headers?: Record<string, string> } = {}): Promise<CallResult> {
    const headers: Record<string, string> = { ...options.headers };
    if (this.token) headers.authorization ??= `Bearer ${this.token}`;
    let body: string | undefined;
    if (options.raw !== undefined) body = options.raw;
    else if (options.body !== undefined) body = JSON.stringify(options.body);
    if (body !== undefined) headers['content-type'] ??= 'application/json';
    const response = await fetch(`${this.platform.url}${path}`, { method, headers, body });
    const text = await response.text();
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- see CallResult.json
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: response.status, headers: response.headers, text, json };
  }

  pay(body: unknown, key: string | null = randomUUID(), headers: Record<string, string> = {}): Promise<CallResult> {
    return this.call('POST', '/pay', { body, headers: key === null ? headers : { 'idempotency-key': key, ...headers } });
  }
}

/** Every field of an answer's payment is one the API declares (contracts/api.ts Payment, so docs/openapi.json). */
export function expectDeclaredPayment(payment: Record<string, unknown>): void {
  expect(Object.keys(payment).filter((key) => !Object.hasOwn(Payment.shape, key))).toEqual([]);
  expect(Payment.safeParse(payment).success).toBe(true);
}

/** The field names a 400 validation error names. */
export function fieldsOf(result: CallResult): string[] {
  return ((result.json?.error?.details?.issues ?? []) as Array<{ field: string }>).map((i) => i.field);
}

/**
 * Closes a web3.js Connection's websocket (its signature subscriptions): it reconnects forever to a platform that
 * has stopped otherwise, and keeps the test process alive.
 */
export function closeConnection(connection: { readonly _rpcWebSocket?: unknown } | object): void {
  (connection as { _rpcWebSocket?: { close(): void } })._rpcWebSocket?.close();
}
