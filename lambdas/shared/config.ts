/**
 * The handlers' configuration, read from the environment once (the only place in lambdas/ that reads
 * process.env). The construct sets these in the cloud; the local platform sets them before it loads the
 * handlers.
 */
import { DEFAULT_CONNECTORS, parseConnectorRegistry, parseFaultList, type ConnectorDefinition } from '../../contracts/connectors';
import { z } from 'zod';
import { DEFAULT_EMBEDDING_MODEL, ENV } from '../../contracts/resources';
import type { Planner } from '../../contracts/analytics';
import { SolanaAddress } from '../../contracts/ids';
import {
  DEFAULT_RELAY_DAILY_LIMIT,
  DEVNET_RPC_URL,
  FraudThreshold,
  MaxPaymentAttempts,
  RelayDailyLimit,
  RewardTokenDecimals,
  RewardTokenProgram,
  RewardUsdRates,
  RoutingFeeWeights,
  parseNumberSetting,
  settingError,
  settingsProblems,
  SolanaRpcUrl,
  thresholdsProblem,
  TUNABLE_NUMBERS,
} from '../../contracts/settings';

export interface RuntimeConfig {
  readonly stage: string;
  readonly tables: {
    readonly payments: string;
    readonly idempotency: string;
    readonly routing: string;
    readonly rewards: string;
    readonly fraudState: string;
    readonly analytics: string;
  };
  readonly eventBusName: string;
  /** Stage overrides of the model's thresholds (unset: the model's own), and another model folder. */
  readonly fraud: {
    readonly reviewThreshold?: number;
    readonly declineThreshold?: number;
    readonly modelDir?: string;
    /** The SageMaker endpoint that scores first (unset: the embedded model only), and its time budget. */
    readonly endpointName?: string;
    readonly endpointTimeoutMs: number;
  };
  readonly maxPaymentAttempts: number;
  /** ACCEPT_RAW_CARDS: /pay takes raw card numbers (otherwise only tokenised cards). */
  readonly acceptRawCards: boolean;
  /** The connector registry (CONNECTORS), checked when first read. */
  readonly connectors: readonly ConnectorDefinition[];
  /** connectorId → fault kind, for the sandbox connectors (e.g. `amazon-pay=unavailable`). */
  readonly sandboxFaults: Readonly<Record<string, string>>;
  readonly sandboxLatencyMs: number;
  /** The sandbox gateways' durable charge ledger folder (SANDBOX_LEDGER_DIR); in memory when unset. */
  readonly sandboxLedgerDir?: string;
  /** The real gateways' credentials (a secret: GATEWAY_CREDENTIALS_SECRET_ARN), their call budget, and (locally) their fakes. */
  readonly gateways: {
    readonly credentialsSecretArn?: string;
    /** The key of the cards' fingerprints (CARD_FINGERPRINT_SECRET_ARN); unset: no fingerprints are kept. */
    readonly cardFingerprintSecretArn?: string;
    readonly timeoutMs: number;
    /** Local only: the fake of Stripe's API (STRIPE_API_URL). */
    readonly stripeApiUrl?: string;
    /** Local only: the fake of Amazon Pay's API (AMAZON_PAY_API_URL). */
    readonly amazonPayApiUrl?: string;
  };
  /** The lease of a claimed Idempotency-Key (PAYMENT_LEASE_MS); unset: the payments area's default (IN_FLIGHT_MS). */
  readonly paymentLeaseMs?: number;
  /** When the reconciler takes a payment left processing (RECONCILE_AFTER_MS); unset: RECONCILE_AFTER_MS's default. */
  readonly reconcileAfterMs?: number;
  readonly rewardTokenDecimals: number;
  /** USD per major unit by currency (REWARD_USD_RATES), exact decimal strings; USD is 1. */
  readonly rewardUsdRates: Readonly<Record<string, string>>;
  /** Minting rewards on Solana (the rewards function's). */
  readonly solana: {
    /** The cluster's JSON-RPC (SOLANA_RPC_URL; default devnet), unless `rpcUrlSecretArn` names a secret holding it. */
    readonly rpcUrl: string;
    readonly rpcUrlSecretArn?: string;
    /** The reward token's mint (SPL_TOKEN_MINT_ADDRESS); unset: rewards are recorded, not minted. */
    readonly tokenMint?: string;
    readonly tokenProgram: 'spl-token' | 'token-2022';
    /** The secret holding the mint authority's keypair (SOLANA_MINT_AUTHORITY_SECRET_ARN). */
    readonly mintAuthoritySecretArn?: string;
    /** The secret holding the treasury's keypair (SOLANA_TREASURY_SECRET_ARN): the fee payer; unset, the authority pays. */
    readonly treasurySecretArn?: string;
    /** Transactions POST /reward/relay sponsors per merchant per UTC day (RELAY_DAILY_LIMIT). */
    readonly relayDailyLimit: number;
    readonly confirmTimeoutMs: number;
    /** When the mints schedule takes over a reward's unfinished mint (MINT_SWEEP_AFTER_MS after it was recorded). */
    readonly sweepAfterMs: number;
  };
  /** Local only: where dynalite listens. */
  readonly dynamodbEndpoint?: string;
  readonly eventsEndpoint?: string;
  readonly secretsEndpoint?: string;
  /** The analytics index (OPENSEARCH_ENDPOINT) and the embeddings' model (EMBEDDING_MODEL). */
  readonly analytics: {
    readonly opensearchEndpoint?: string;
    readonly embeddingModel: string;
    /** CHAT_MODEL: the provider and the model, or none. */
    readonly chatModel?: { readonly provider: Exclude<Planner, 'parser'>; readonly model: string };
    readonly openaiApiKey?: string;
    readonly llmApiKeySecretArn?: string;
    readonly openaiBaseUrl?: string;
    /** ANALYTICS_VISIBILITY_MS: how long after indexing a search surely finds a document. */
    readonly visibilityMs: number;
  };
  readonly routingModelTtlMs: number;
  readonly routingHealthTtlMs: number;
  readonly routing: {
    readonly endpointName?: string;
    readonly endpointTimeoutMs: number;
    readonly feeWeights: Readonly<Record<string, number>>;
    /** ROUTING_SEED: exploration drawn from a seeded PRNG (replays, tests); unset: Math.random. */
    readonly seed?: number;
  };
}

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`environment variable ${name} is not set`);
  return value;
}

/** A numeric tunable, by its range and default in contracts/settings.ts. */
function tunable(name: string): number;
function tunable(name: string, optional: 'optional'): number | undefined;
function tunable(name: string, _optional?: 'optional'): number | undefined {
  const { schema, fallback } = TUNABLE_NUMBERS[name]!;
  return fallback === undefined ? setting(name, schema) : setting(name, schema, fallback);
}

/** A numeric variable checked by its schema (the stage's settings use the same ones: contracts/settings.ts). */
function setting(name: string, schema: z.ZodType<number>, fallback: number): number;
function setting(name: string, schema: z.ZodType<number>): number | undefined;
function setting(name: string, schema: z.ZodType<number>, fallback?: number): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  return parseNumberSetting(name, raw, schema);
}

let cached: RuntimeConfig | undefined;

/** The JSON value of an environment variable, undefined when unset or empty; an error names the variable. */
function jsonEnv(name: string): unknown {
  const raw = process.env[name];
  if (!raw) return undefined;
  try {
    return JSON.parse(raw);
  } catch (error) {
    throw new Error(`${name}: not JSON (${(error as Error).message})`);
  }
}

/** A JSON variable checked with the stage's schema (the same words for a bad field as at synth); undefined when unset. */
function jsonSetting<T>(name: string, schema: z.ZodType<T>): T | undefined {
  const json = jsonEnv(name);
  if (json === undefined) return undefined;
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new Error(`${name}: ${settingsProblems(parsed.error, json)}`);
  return parsed.data;
}

/** A text variable checked with the stage's schema; undefined when unset. */
function textSetting<T>(name: string, schema: z.ZodType<T>): T | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw settingError(name, parsed.error, raw, raw);
  return parsed.data;
}

export function config(): RuntimeConfig {
  if (cached) return cached;
  const reviewThreshold = setting(ENV.fraudReviewThreshold, FraudThreshold);
  const declineThreshold = setting(ENV.fraudDeclineThreshold, FraudThreshold);
  const problem = thresholdsProblem(reviewThreshold, declineThreshold);
  let solana: RuntimeConfig['solana'] | undefined;
  if (problem) throw new Error(`${ENV.fraudReviewThreshold} and ${ENV.fraudDeclineThreshold}: ${problem}`);
  cached = {
    stage: process.env[ENV.stage] ?? 'dev',
    // Each function is given only the tables it uses, so a name is required when it is first used.
    tables: {
      get payments() {
        return required(ENV.paymentsTable);
      },
      get idempotency() {
        return required(ENV.idempotencyTable);
      },
      get routing() {
        return required(ENV.routingTable);
      },
      get analytics() {
        return required(ENV.analyticsTable);
      },
      get rewards() {
        return required(ENV.rewardsTable);
      },
      get fraudState() {
        return required(ENV.fraudStateTable);
      },
    },
    eventBusName: process.env[ENV.eventBusName] ?? 'default',
    fraud: {
      reviewThreshold,
      declineThreshold,
      modelDir: process.env[ENV.fraudModelDir] || undefined,
      endpointName: process.env[ENV.fraudEndpointName] || undefined,
      endpointTimeoutMs: tunable(ENV.fraudEndpointTimeoutMs),
    },
    maxPaymentAttempts: setting(ENV.maxPaymentAttempts, MaxPaymentAttempts, 3),
    acceptRawCards: process.env[ENV.acceptRawCards] === 'true',
    get connectors() {
      const json = jsonEnv(ENV.connectors);
      return json === undefined ? DEFAULT_CONNECTORS : parseConnectorRegistry(json, ENV.connectors);
    },
    sandboxFaults: parseFaultList(process.env[ENV.sandboxFaults], ENV.sandboxFaults),
    sandboxLatencyMs: tunable(ENV.sandboxLatencyMs),
    sandboxLedgerDir: process.env[ENV.sandboxLedgerDir] || undefined,
    gateways: {
      credentialsSecretArn: process.env[ENV.gatewayCredentialsSecretArn] || undefined,
      cardFingerprintSecretArn: process.env[ENV.cardFingerprintSecretArn] || undefined,
      timeoutMs: tunable(ENV.gatewayTimeoutMs),
      stripeApiUrl: process.env[ENV.stripeApiUrl] || undefined,
      amazonPayApiUrl: process.env[ENV.amazonPayApiUrl] || undefined,
    },
    paymentLeaseMs: tunable(ENV.paymentLeaseMs, 'optional'),
    reconcileAfterMs: tunable(ENV.reconcileAfterMs, 'optional'),
    rewardTokenDecimals: setting(ENV.rewardTokenDecimals, RewardTokenDecimals, 6),
    get rewardUsdRates() {
      // REWARD_USD_RATES: exact decimal strings by currency.
      return jsonSetting(ENV.rewardUsdRates, RewardUsdRates) ?? {};
    },
    // Read (and checked) at first use, once: only the rewards function has these variables.
    get solana() {
      return (solana ??= {
        rpcUrl: textSetting(ENV.solanaRpcUrl, SolanaRpcUrl) ?? DEVNET_RPC_URL,
        rpcUrlSecretArn: process.env[ENV.solanaRpcUrlSecretArn] || undefined,
        tokenMint: textSetting(ENV.splTokenMintAddress, SolanaAddress),
        tokenProgram: textSetting(ENV.rewardTokenProgram, RewardTokenProgram) ?? 'spl-token',
        mintAuthoritySecretArn: process.env[ENV.solanaMintAuthoritySecretArn] || undefined,
        treasurySecretArn: process.env[ENV.solanaTreasurySecretArn] || undefined,
        relayDailyLimit: setting(ENV.relayDailyLimit, RelayDailyLimit, DEFAULT_RELAY_DAILY_LIMIT),
        confirmTimeoutMs: tunable(ENV.mintConfirmTimeoutMs),
        sweepAfterMs: tunable(ENV.mintSweepAfterMs),
      });
    },
    dynamodbEndpoint: process.env[ENV.dynamodbEndpoint] || undefined,
    eventsEndpoint: process.env[ENV.eventsEndpoint] || undefined,
    secretsEndpoint: process.env[ENV.secretsEndpoint] || undefined,
    analytics: {
      opensearchEndpoint: textSetting(ENV.opensearchEndpoint, z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' })),
      chatModel: textSetting(
        ENV.chatModel,
        z
          .string()
          .regex(/^(bedrock|openai):[A-Za-z0-9._:/-]{1,200}$/, 'must be bedrock:<model id> or openai:<model>')
          .transform((v) => ({ provider: v.slice(0, v.indexOf(':')) as Exclude<Planner, 'parser'>, model: v.slice(v.indexOf(':') + 1) })),
      ),
      openaiApiKey: process.env[ENV.openaiApiKey] || undefined,
      visibilityMs: tunable(ENV.analyticsVisibilityMs),
      llmApiKeySecretArn: process.env[ENV.llmApiKeySecretArn] || undefined,
      openaiBaseUrl: textSetting(ENV.openaiBaseUrl, z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' })),
      embeddingModel: textSetting(ENV.embeddingModel, z.string().regex(/^(use-lite|none|[a-z0-9-]+\.[a-z0-9.:-]+)$/, 'must be use-lite, none or a Bedrock model id')) ?? DEFAULT_EMBEDDING_MODEL,
    },
    routingModelTtlMs: tunable(ENV.routingModelTtlMs),
    routingHealthTtlMs: tunable(ENV.routingHealthTtlMs),
    routing: {
      endpointName: process.env[ENV.routingEndpointName] || undefined,
      endpointTimeoutMs: tunable(ENV.routingEndpointTimeoutMs),
      // ROUTING_FEE_WEIGHTS: λ by merchant id (and `default`).
      feeWeights: jsonSetting(ENV.routingFeeWeights, RoutingFeeWeights) ?? {},
      seed: tunable(ENV.routingSeed, 'optional'),
    },
  };
  return cached;
}

/**
 * Whether X-Ray tracing is on: inside Lambda, unless POWERTOOLS_TRACE_ENABLED=false (the Powertools
 * Tracer's own rule). Outside Lambda the tracer is not even loaded: its X-Ray SDK installs async hooks on
 * import, which cost every promise of the local platform about 8% CPU for nothing.
 */
export function tracingEnabled(): boolean {
  return process.env.POWERTOOLS_TRACE_ENABLED !== 'false' && Boolean(process.env.AWS_EXECUTION_ENV);
}

/** Forgets the cached configuration (the local platform and tests change the environment between runs). */
export function resetConfig(): void {
  cached = undefined;
}
