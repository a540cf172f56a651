/**
 * Each local function's environment, rendered from contracts/topology.ts exactly as the CDK renders the
 * cloud function's (`renderEnvironment`), with local resource names and the local platform's settings, plus
 * the local transports (dynalite, the PutEvents and GetSecretValue endpoints) and Powertools' local defaults. A handler sees only
 * its own function's variables, so a variable its cloud function lacks is missing locally too.
 */
import { ENV, type TableName } from '../contracts/resources';
import { FunctionSettings, settingsProblems, tunableProblem } from '../contracts/settings';
import { allFunctions, renderEnvironment, type FunctionName } from '../contracts/topology';
import { LOCAL_CONNECTORS } from './connectors';

/** Where `npm start` and `npm run token` keep local state (git-ignored). */
export const DEFAULT_DATA_DIR = '.smartpay';
export const LOCAL_PREFIX = 'smartpay-local';
export const LOCAL_REGION = 'us-east-1';
export const LOCAL_ACCOUNT = '000000000000';
export const LOCAL_EVENT_BUS = `${LOCAL_PREFIX}-bus`;
export const LOCAL_STAGE = 'local';

export const LOCAL_TABLES: Readonly<Record<TableName, string>> = {
  payments: `${LOCAL_PREFIX}-payments`,
  idempotency: `${LOCAL_PREFIX}-idempotency`,
  routing: `${LOCAL_PREFIX}-routing`,
  rewards: `${LOCAL_PREFIX}-rewards`,
  fraudState: `${LOCAL_PREFIX}-fraud-state`,
  analytics: `${LOCAL_PREFIX}-analytics`,
};

/**
 * The local platform's stage settings: four card processors with context-dependent approval (so routing has
 * something to learn) and Solana Pay; the model's own fraud thresholds.
 */
export const LOCAL_SETTINGS: FunctionSettings = {
  maxPaymentAttempts: 3,
  acceptRawCards: true,
  rewardTokenDecimals: 6,
  connectors: [...LOCAL_CONNECTORS],
};

/** Powertools' quiet local defaults (and the region the SDK wants). */
const POWERTOOLS_DEFAULTS: Readonly<Record<string, string>> = {
  AWS_REGION: LOCAL_REGION,
  POWERTOOLS_METRICS_NAMESPACE: 'SmartPay',
  POWERTOOLS_METRICS_DISABLED: 'true',
  POWERTOOLS_TRACE_ENABLED: 'false',
  POWERTOOLS_LOG_LEVEL: 'WARN',
  // The SDK's notice that its 2027 releases need Node 22 (the lockfile pins today's): not news at every start.
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
};

export interface LocalEnvOptions {
  readonly dynamodbEndpoint: string;
  /** The local PutEvents endpoint (events-endpoint.ts). */
  readonly eventsEndpoint: string;
  /** The local GetSecretValue endpoint (secrets-endpoint.ts). */
  readonly secretsEndpoint?: string;
  /** The local OpenSearch endpoint (search-endpoint.ts), for the analytics function. */
  readonly searchEndpoint?: string;
  /** The fakes of the gateways' APIs (e.g. STRIPE_API_URL), for the payments function. */
  readonly gatewayEndpoints?: Readonly<Record<string, string>>;
  /**
   * Values for the functions' variables (e.g. SANDBOX_FAULTS, MAX_PAYMENT_ATTEMPTS, CONNECTORS): each goes to
   * the functions that declare it; one no function declares is an error. These win over `inherited`.
   */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** The launcher's environment: declared variables and POWERTOOLS_* set there are passed on. @default {} */
  readonly inherited?: Readonly<Record<string, string | undefined>>;
}

/**
 * The variables of a function you may set locally: its settings, props and tunables (not the names of its
 * resources, which the platform owns), and Powertools' own (but not its service name).
 */
function configurable(name: FunctionName, variable: string): boolean {
  if (variable === 'POWERTOOLS_SERVICE_NAME') return false;
  return variable.startsWith('POWERTOOLS_') || LOGGING.includes(variable) || Object.hasOwn(allFunctions()[name].env ?? {}, variable);
}

/** The seed's logging knobs, for every function: LOG_LEVEL (Powertools' alias of its POWERTOOLS_LOG_LEVEL) and DEBUG. */
const LOGGING = ['LOG_LEVEL', 'DEBUG'];

/** Every variable some function lets you set: what `env` may hold. */
export function settableVariables(): Set<string> {
  const names = new Set<string>([...Object.keys(POWERTOOLS_DEFAULTS).filter((v) => v.startsWith('POWERTOOLS_')), ...LOGGING]);
  for (const spec of Object.values(allFunctions())) for (const variable of Object.keys(spec.env ?? {})) names.add(variable);
  return names;
}

/** The environment of each local function. Throws on a variable no function reads, or bad settings. */
export function localEnvironments(options: LocalEnvOptions): Record<FunctionName, Record<string, string>> {
  const overrides = Object.fromEntries(Object.entries(options.env ?? {}).filter(([, v]) => v !== undefined)) as Record<string, string>;
  const settable = settableVariables();
  const unknown = Object.keys(overrides).filter((name) => !settable.has(name));
  if (unknown.length) {
    throw new Error(`no local function reads ${unknown.join(', ')} (each function gets only the variables contracts/topology.ts declares for it)`);
  }
  // A tunable out of range would make its functions fail at every call: refused before anything starts.
  for (const source of [options.inherited ?? {}, overrides]) {
    for (const [variable, value] of Object.entries(source)) {
      const problem = value === undefined || value === '' || !settable.has(variable) ? undefined : tunableProblem(variable, value);
      if (problem) throw new Error(problem);
    }
  }
  const checked = FunctionSettings.safeParse(LOCAL_SETTINGS);
  if (!checked.success) throw new Error(`local settings: ${settingsProblems(checked.error, LOCAL_SETTINGS)}`);
  const inherited = options.inherited ?? {};
  const out = {} as Record<FunctionName, Record<string, string>>;
  for (const name of Object.keys(allFunctions()) as FunctionName[]) {
    const env: Record<string, string> = {
      ...POWERTOOLS_DEFAULTS,
      ...renderEnvironment(name, {
        stage: LOCAL_STAGE,
        tableName: (table) => LOCAL_TABLES[table],
        eventBusName: LOCAL_EVENT_BUS,
        settings: checked.data,
        props: {},
        tunables: {},
      }),
      // Local only: how the handlers reach the embedded parts.
      [ENV.dynamodbEndpoint]: options.dynamodbEndpoint,
      [ENV.eventsEndpoint]: options.eventsEndpoint,
      ...(options.secretsEndpoint ? { [ENV.secretsEndpoint]: options.secretsEndpoint } : {}),
      ...(name === 'payments' ? options.gatewayEndpoints : {}),
      // The analytics index and, with no account, the embeddings' model shipped in the package.
      // (The local endpoint shows a document to searches as soon as it answers the write.)
      ...(name === 'analytics' && options.searchEndpoint
        ? { [ENV.opensearchEndpoint]: options.searchEndpoint, [ENV.embeddingModel]: 'use-lite', [ENV.analyticsVisibilityMs]: '0' }
        : {}),
    };
    for (const source of [inherited, overrides]) {
      for (const [variable, value] of Object.entries(source)) {
        if (value === undefined || value === '') continue;
        if (configurable(name, variable)) env[variable] = value;
      }
      // LOG_LEVEL set here means it: it replaces the quiet local default of POWERTOOLS_LOG_LEVEL (which Powertools
      // reads first), unless POWERTOOLS_LOG_LEVEL is set here too.
      if (source.LOG_LEVEL && !source.POWERTOOLS_LOG_LEVEL) env.POWERTOOLS_LOG_LEVEL = source.LOG_LEVEL;
    }
    out[name] = env;
  }
  return out;
}
