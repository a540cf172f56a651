/**
 * The platform's resources by name: table key schemas, the environment variables through which a function
 * learns its resources and settings, and the metric names alarms depend on. Pure data.
 */
import { z } from 'zod';

/** Key schema of every DynamoDB table. The CDK data construct and the local dynalite bootstrap both read this. */
export const TABLES = {
  payments: {
    partitionKey: 'merchantId',
    sortKey: 'paymentId',
    /**
     * Sparse indexes (keys only): `unfinished` holds the payments still processing (the reconciler's work list,
     * sharded so no index partition runs hot); `outbox` holds terminal writes whose events the local
     * platform has not yet published (in the cloud the table's stream publishes them).
     */
    indexes: [
      { name: 'unfinished', partitionKey: 'unfinished', sortKey: 'updatedAt' },
      { name: 'outbox', partitionKey: 'unpublished', sortKey: 'updatedAt' },
    ],
    stream: true,
  },
  /** The claims of POST /pay's Idempotency-Keys (lambdas/payments/idempotency.ts), in Powertools' attribute names. */
  idempotency: { partitionKey: 'id', timeToLiveAttribute: 'expiration' },
  /** Routing: the bandit model, its published health, decisions and outcomes; decisions and outcomes expire. */
  routing: { partitionKey: 'pk', timeToLiveAttribute: 'expiresAt' },
  /**
   * One reward per payment (its id as the key), one item per claim (`clm_...`), each customer's last claim
   * (`lastclaim#<merchant>#<customer>`), and each merchant's relays of a day (`relays#<merchant>#<day>`, expiring).
   * Sparse indexes (keys only): `unminted` holds the rewards and claims whose mint is not known to be finalized
   * (the mint sweep's work list, and the age its alarm watches); `claimable` (`<merchant>#<customer>`) the rewards
   * recorded without a wallet and not claimed yet; `unannounced` the rewards and claims with changes the rewards
   * outbox has not published yet.
   */
  rewards: {
    partitionKey: 'paymentId',
    timeToLiveAttribute: 'expiresAt',
    indexes: [
      { name: 'unminted', partitionKey: 'unminted', sortKey: 'createdAt' },
      { name: 'claimable', partitionKey: 'claimable', sortKey: 'createdAt' },
      { name: 'unannounced', partitionKey: 'unannounced', sortKey: 'createdAt' },
    ],
  },
  /** Online fraud features: customer state and terminal day counts (lambdas/fraud/state.ts). */
  fraudState: { partitionKey: 'pk', sortKey: 'sk', timeToLiveAttribute: 'expiresAt' },
  /** The analytics index's claims: one item per event id indexed or being indexed (lambdas/analytics/claims.ts). */
  analytics: { partitionKey: 'pk', timeToLiveAttribute: 'expiresAt' },
} as const;

/** A table's sparse secondary indexes (keys only). */
export interface TableIndex {
  readonly name: string;
  readonly partitionKey: string;
  readonly sortKey: string;
}

/** What every table's schema may carry. */
export interface TableSchema {
  readonly partitionKey: string;
  readonly sortKey?: string;
  readonly timeToLiveAttribute?: string;
  readonly indexes?: readonly TableIndex[];
  /** A stream of new and old images (the outbox's publisher reads it). */
  readonly stream?: boolean;
}

/** Shards of the sparse indexes' partition key (`<shard>`): a query reads them all. */
export const INDEX_SHARDS = 8;

/** The sparse-index shard of an item by its id (payments' `unfinished` and `outbox`, rewards' `unminted` and `unannounced`). */
export function shardOf(id: string): string {
  return String(id.charCodeAt(id.length - 1) % INDEX_SHARDS);
}

export const TableName = z.enum(['payments', 'idempotency', 'routing', 'rewards', 'fraudState', 'analytics']);
export type TableName = z.infer<typeof TableName>;

/** Environment variables through which deployed (and local) handlers learn where their resources are. */
export const ENV = {
  stage: 'STAGE',
  paymentsTable: 'PAYMENTS_TABLE_NAME',
  idempotencyTable: 'IDEMPOTENCY_TABLE_NAME',
  routingTable: 'ROUTING_TABLE_NAME',
  rewardsTable: 'REWARDS_TABLE_NAME',
  fraudStateTable: 'FRAUD_STATE_TABLE_NAME',
  analyticsTable: 'ANALYTICS_TABLE_NAME',
  /** Another model folder than the one shipped next to the fraud handler. */
  fraudModelDir: 'FRAUD_MODEL_DIR',
  eventBusName: 'EVENT_BUS_NAME',
  fraudReviewThreshold: 'FRAUD_REVIEW_THRESHOLD',
  fraudDeclineThreshold: 'FRAUD_DECLINE_THRESHOLD',
  maxPaymentAttempts: 'MAX_PAYMENT_ATTEMPTS',
  /** `true`: /pay takes raw card numbers (sandbox and test stages); otherwise only tokenised cards (PCI scope). */
  acceptRawCards: 'ACCEPT_RAW_CARDS',
  /** The connector registry as JSON (contracts/connectors.ts); unset: the two default sandbox accounts. */
  connectors: 'CONNECTORS',
  sandboxFaults: 'SANDBOX_FAULTS',
  sandboxLatencyMs: 'SANDBOX_LATENCY_MS',
  /** The sandbox gateways' durable charge ledger (a folder; the local platform sets it under its data dir). */
  sandboxLedgerDir: 'SANDBOX_LEDGER_DIR',
  /**
   * The ARN of the secret holding the gateways' credentials: JSON by connector id (contracts/connectors.ts
   * GatewayCredentials), e.g. `{"stripe-us": {"secretKey": "sk_live_…"}}`. Required when a connector is a real
   * gateway (kind stripe without `sandbox`).
   */
  gatewayCredentialsSecretArn: 'GATEWAY_CREDENTIALS_SECRET_ARN',
  /** The ARN of the secret whose value keys the cards' fingerprints (HMAC-SHA256; the construct generates one). */
  cardFingerprintSecretArn: 'CARD_FINGERPRINT_SECRET_ARN',
  /** How long a gateway call may take, in ms (default 8000), before it counts as a timeout (ambiguous). */
  gatewayTimeoutMs: 'GATEWAY_TIMEOUT_MS',
  /** Local only: the base URL of the embedded fake of Stripe's API. Never set in the cloud (api.stripe.com). */
  stripeApiUrl: 'STRIPE_API_URL',
  /** Local only: the base URL of the embedded fake of Amazon Pay's API. Never set in the cloud (pay-api.amazon.*). */
  amazonPayApiUrl: 'AMAZON_PAY_API_URL',
  /** How long a claimed Idempotency-Key's run holds its lease (default 45000: past the workflow's 25 s timeout plus the payments function's 15 s). */
  paymentLeaseMs: 'PAYMENT_LEASE_MS',
  /** How long a payment may sit processing before the reconciler finishes it (default 60000). */
  reconcileAfterMs: 'RECONCILE_AFTER_MS',
  rewardTokenDecimals: 'REWARD_TOKEN_DECIMALS',
  /** USD per major unit of each other currency, JSON of exact decimal strings (contracts/settings.ts RewardUsdRates). */
  rewardUsdRates: 'REWARD_USD_RATES',
  /** SPL Token (`spl-token`, the default) or Token-2022 (`token-2022`): the reward mint's token program. */
  rewardTokenProgram: 'REWARD_TOKEN_PROGRAM',
  /** Transactions POST /reward/relay sponsors per merchant per UTC day (default 1000; 0: none). */
  relayDailyLimit: 'RELAY_DAILY_LIMIT',
  /** The ARN of a secret holding the RPC URL, when the URL carries an API key (wins over SOLANA_RPC_URL). */
  solanaRpcUrlSecretArn: 'SOLANA_RPC_URL_SECRET_ARN',
  /** How long a mint's confirmation is awaited in one run, in ms (default 20000); then the next run checks it. */
  mintConfirmTimeoutMs: 'MINT_CONFIRM_TIMEOUT_MS',
  /** How long after a reward is recorded the mints schedule takes over its unfinished mint, in ms (default 120000). */
  mintSweepAfterMs: 'MINT_SWEEP_AFTER_MS',
  /** Local only: the dynalite endpoint. Never set in the cloud. */
  dynamodbEndpoint: 'DYNAMODB_ENDPOINT',
  /** Local only: the local platform's EventBridge PutEvents endpoint. Never set in the cloud. */
  eventsEndpoint: 'EVENTS_ENDPOINT',
  /** Local only: the local platform's Secrets Manager endpoint (GetSecretValue of the secrets under .smartpay/secrets/). */
  secretsEndpoint: 'SECRETS_ENDPOINT',
  /**
   * λ of the routing reward (success − λ · fee / amount) as JSON: `{"default": 1, "m_123": 0.5}`; a merchant
   * without an entry gets `default` (1 when absent).
   */
  routingFeeWeights: 'ROUTING_FEE_WEIGHTS',
  /** How long a routing function keeps its copy of the routing model, in ms (default 5000). */
  routingModelTtlMs: 'ROUTING_MODEL_TTL_MS',
  /** How long a routing function keeps the circuit breaker's published state, in ms (default 1000). */
  routingHealthTtlMs: 'ROUTING_HEALTH_TTL_MS',
  // Seed names (kept as they are). Secrets are never put in env values in the cloud: the *_SECRET_ARN
  // variables carry Secrets Manager ARNs instead.
  fraudEndpointName: 'FRAUD_ENDPOINT_NAME',
  /** Time budget of one fraud endpoint call in ms (default 30); past it the embedded model scores. */
  fraudEndpointTimeoutMs: 'FRAUD_ENDPOINT_TIMEOUT_MS',
  routingEndpointName: 'ROUTING_ENDPOINT_NAME',
  /** Time budget of one routing endpoint call in ms (default 20); past it the embedded bandit ranks. */
  routingEndpointTimeoutMs: 'ROUTING_ENDPOINT_TIMEOUT_MS',
  routingSeed: 'ROUTING_SEED',
  /**
   * Local only (`npm start` reads it): a real Stripe test key, with which the Stripe connectors talk to Stripe
   * itself. In the cloud a Stripe key is never an environment value: each account's key is an entry of the
   * gateway credentials secret (GATEWAY_CREDENTIALS_SECRET_ARN), which also holds several accounts' keys.
   */
  stripeSecretKey: 'STRIPE_SECRET_KEY',
  /** Local only, with STRIPE_SECRET_KEY: the signing secret of the webhook endpoint forwarding to the platform. */
  stripeWebhookSecret: 'STRIPE_WEBHOOK_SECRET',
  /** The Solana cluster's JSON-RPC URL (default devnet's). */
  solanaRpcUrl: 'SOLANA_RPC_URL',
  /** The reward token's mint; unset: rewards are recorded, not minted. */
  splTokenMintAddress: 'SPL_TOKEN_MINT_ADDRESS',
  /** The secret holding the mint authority's keypair (a Solana CLI keypair file's JSON: 64 numbers); it pays the fees when there is no treasury. */
  solanaMintAuthoritySecretArn: 'SOLANA_MINT_AUTHORITY_SECRET_ARN',
  /**
   * The secret holding the treasury's keypair (same formats): it pays the mints' fees and the new token accounts'
   * rent, and sponsors the fees of POST /reward/relay. Unset: the mint authority pays, and there is no relay.
   */
  solanaTreasurySecretArn: 'SOLANA_TREASURY_SECRET_ARN',
  /** The secret holding the OpenAI API key, for CHAT_MODEL=openai:… in the cloud. */
  llmApiKeySecretArn: 'LLM_API_KEY_SECRET_ARN',
  /** The language model of /chat: `bedrock:<model id>` or `openai:<model>`; unset, the parser and the templates. */
  chatModel: 'CHAT_MODEL',
  /** Local only (`npm start`): the OpenAI API key for CHAT_MODEL=openai:… (in the cloud: LLM_API_KEY_SECRET_ARN). */
  openaiApiKey: 'OPENAI_API_KEY',
  /** An OpenAI-compatible API's base URL (default https://api.openai.com/v1). */
  openaiBaseUrl: 'OPENAI_BASE_URL',
  /**
   * The analytics index's OpenSearch endpoint (an OpenSearch Serverless collection's, or any OpenSearch 2.x domain's
   * with the k-NN plugin); locally, the platform's own endpoint over its embedded Orama index.
   */
  opensearchEndpoint: 'OPENSEARCH_ENDPOINT',
  /**
   * How long after a document is indexed a search is sure to find it, in ms (default 600000; the local endpoint
   * finds it at once: 0). A rebuild looks again at an event marked indexed only after this long.
   */
  analyticsVisibilityMs: 'ANALYTICS_VISIBILITY_MS',
  /** The analytics embeddings' model: a Bedrock model id (default DEFAULT_EMBEDDING_MODEL), `use-lite` (in-process, the local default) or `none`. */
  embeddingModel: 'EMBEDDING_MODEL',
} as const;

/**
 * Where a host may put an AWS SDK `requestHandler` for the DynamoDB endpoint on loopback (a global symbol): the
 * local platform's function threads put their channel to the local store there (local/store-channel.ts), and
 * lambdas/shared/clients.ts uses it. Nothing sets it in the cloud.
 */
export const LOCAL_STORE_TRANSPORT = Symbol.for('smartpay.localStoreTransport');

/** Stable CloudWatch metric names (alarms depend on them). */
export const METRICS = {
  namespace: 'SmartPay',
  fraudInferenceMs: 'FraudInferenceLatency',
  /** The SageMaker fraud endpoint timed out, failed or answered garbage; the embedded model scored. */
  fraudEndpointFallback: 'FraudEndpointFallback',
  /** The SageMaker routing endpoint timed out, failed or answered garbage; the embedded bandit ranked. */
  routingEndpointFallback: 'RoutingEndpointFallback',
  /** The routing updater committed a model version but could not publish its health item (routers lag until the next). */
  routingHealthNotPublished: 'RoutingHealthNotPublished',
  paymentSucceeded: 'PaymentSucceeded',
  paymentDeclined: 'PaymentDeclined',
  paymentFailed: 'PaymentFailed',
  paymentRefunded: 'PaymentRefunded',
  gatewayAttemptFailed: 'GatewayAttemptFailed',
  /** Payments the reconciler finished (each was left processing by a run that stopped). */
  paymentsReconciled: 'PaymentsReconciled',
  /** Payments (or their pending refunds) the reconciler failed on in a run: it tries them again the next minute. */
  reconcilerErrors: 'ReconcilerErrors',
  /** Succeeded payments whose events the outbox published. */
  outboxPublished: 'OutboxEventsPublished',
  rewardIssued: 'RewardIssued',
  /** Reward changes the rewards outbox's sweep published (their publication right after the change had failed). */
  rewardEventsPublished: 'RewardEventsPublished',
  /** A reward recorded without tokens: its currency has no USD rate (REWARD_USD_RATES). */
  rewardNotComputed: 'RewardNotComputed',
  /** A reward's mint found finalized on chain. */
  rewardMinted: 'RewardMinted',
  /** A reward whose mint failed in a way a retry cannot fix (a refused or failed transaction): an operator's. */
  rewardMintFailed: 'RewardMintFailed',
  /** Rewards a refund reduced (or reversed) before anything minted or claimed them. */
  rewardClawedBack: 'RewardClawedBack',
  /** Rewards a refund came too late for: minted (or being minted) or claimed already, so their tokens stand. */
  rewardKeptAfterRefund: 'RewardKeptAfterRefund',
  /** Customer transactions the treasury paid the fee of (POST /reward/relay). */
  rewardRelayed: 'RewardRelayed',
  /** Seconds since the oldest reward still waiting for its mint was recorded (the mint sweep's, each run). */
  oldestUnmintedRewardAge: 'OldestUnmintedRewardAgeSeconds',
  /** A routing decision, by the connector chosen first (dimension `connector`). */
  routingDecision: 'RoutingDecision',
  /** A decision whose first choice was not the best-scored connector: the policy exploring (dimension `connector`). */
  routingExploration: 'RoutingExploration',
  /** A gateway attempt's outcome (dimensions `connector` and `outcome`: an api.ChargeOutcome). */
  gatewayAttempt: 'GatewayAttempt',
  /** A payment charged after its first connector failed (more than one attempt). */
  paymentFellBack: 'PaymentFellBack',
  /** Milliseconds from a payment's terminal write to its events' publication (the outbox's lag). */
  outboxLagMs: 'OutboxLag',
  /** A payment the reconciler finished, by how (dimension `outcome`: succeeded, failed, declined). */
  reconcilerAction: 'ReconcilerAction',
  /** /chat: a question answered with figures or payments, and one answered "I can't answer that". */
  chatAnswered: 'ChatAnswered',
  chatRefused: 'ChatRefused',
} as const;

/** The variable that carries each table's name to the functions that use it. */
export const TABLE_ENV: Readonly<Record<TableName, string>> = {
  payments: ENV.paymentsTable,
  idempotency: ENV.idempotencyTable,
  routing: ENV.routingTable,
  rewards: ENV.rewardsTable,
  fraudState: ENV.fraudStateTable,
  analytics: ENV.analyticsTable,
};

/** The analytics embeddings' model in the cloud: Amazon Titan Text Embeddings v2 (512 dimensions) on Bedrock. */
export const DEFAULT_EMBEDDING_MODEL = 'amazon.titan-embed-text-v2:0';

/** The analytics index's name in its OpenSearch collection (the local endpoint's journal is named after it). */
export const ANALYTICS_INDEX_NAME = 'smartpay-analytics';
