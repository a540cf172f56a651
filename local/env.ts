/**
 * The environment the handlers read (through `config()`), set by the local platform before it loads them.
 * Resource names are fixed local names; tunables keep a value already in the environment (so
 * `SANDBOX_FAULTS=... npm start` works) unless the caller passes one explicitly.
 */
import { LOCAL_CONNECTORS } from '../contracts/connectors';
import { ENV, type TableName } from '../contracts/resources';
import { resetConfig } from '../lambdas/shared/config';

/** Where `npm start` and `npm run token` keep local state (git-ignored). */
export const DEFAULT_DATA_DIR = '.smartpay';
export const LOCAL_PREFIX = 'smartpay-local';
export const LOCAL_REGION = 'us-east-1';
export const LOCAL_ACCOUNT = '000000000000';
export const LOCAL_EVENT_BUS = `${LOCAL_PREFIX}-bus`;

export const LOCAL_TABLES: Readonly<Record<TableName, string>> = {
  payments: `${LOCAL_PREFIX}-payments`,
  idempotency: `${LOCAL_PREFIX}-idempotency`,
  routing: `${LOCAL_PREFIX}-routing`,
  rewards: `${LOCAL_PREFIX}-rewards`,
  fraudState: `${LOCAL_PREFIX}-fraud-state`,
};

export interface LocalEnvOptions {
  readonly dynamodbEndpoint: string;
  /** The local PutEvents endpoint (events-endpoint.ts). */
  readonly eventsEndpoint: string;
  /** Extra or overriding variables (e.g. SANDBOX_FAULTS, MAX_PAYMENT_ATTEMPTS); these always win. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** Sets the handlers' environment and forgets any cached configuration. Returns what it set. */
export function applyLocalEnv(options: LocalEnvOptions): Record<string, string> {
  const forced: Record<string, string> = {
    [ENV.stage]: 'local',
    [ENV.paymentsTable]: LOCAL_TABLES.payments,
    [ENV.idempotencyTable]: LOCAL_TABLES.idempotency,
    [ENV.routingTable]: LOCAL_TABLES.routing,
    [ENV.rewardsTable]: LOCAL_TABLES.rewards,
    [ENV.fraudStateTable]: LOCAL_TABLES.fraudState,
    [ENV.eventBusName]: LOCAL_EVENT_BUS,
    [ENV.dynamodbEndpoint]: options.dynamodbEndpoint,
    [ENV.eventsEndpoint]: options.eventsEndpoint,
  };
  const defaults: Record<string, string> = {
    AWS_REGION: LOCAL_REGION,
    POWERTOOLS_SERVICE_NAME: 'smartpay',
    POWERTOOLS_METRICS_NAMESPACE: 'SmartPay',
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_TRACE_ENABLED: 'false',
    POWERTOOLS_LOG_LEVEL: 'WARN',
    // The SDK's notice that its 2027 releases need Node 22 (the lockfile pins today's): not news at every start.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    // Four card processors with context-dependent approval, so routing has something to learn, and Solana Pay.
    [ENV.connectors]: JSON.stringify(LOCAL_CONNECTORS),
  };
  const applied: Record<string, string> = {};
  for (const [name, value] of Object.entries(defaults)) {
    const current = process.env[name];
    applied[name] = current === undefined || current === '' ? value : current;
  }
  Object.assign(applied, forced);
  for (const [name, value] of Object.entries(options.env ?? {})) {
    if (value !== undefined) applied[name] = value;
  }
  Object.assign(process.env, applied);
  for (const [name, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete process.env[name];
  }
  resetConfig();
  return applied;
}
