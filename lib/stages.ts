/**
 * Typed stage configurations. `bin/app.ts` picks one with `-c stage=<name>`; the construct takes the object.
 * Nothing here reads the environment.
 */
import type { ConnectorDefinition } from '../contracts/connectors';
import { FunctionSettings, settingsProblems } from '../contracts/settings';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';

/** The stages SmartPay is deployed as. */
export type StageName = 'dev' | 'staging' | 'prod';

/** Powertools log levels the handlers understand. */
export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

/** API Gateway stage-wide throttling. */
export interface ThrottlingConfig {
  /** Steady-state requests per second. */
  readonly rateLimit: number;
  /** Burst bucket size. */
  readonly burstLimit: number;
}

/** Everything that differs between dev, staging and prod. */
export interface StageConfig {
  /** The stage name; also the `STAGE` environment variable of every function. */
  readonly name: StageName;
  /**
   * Keep the stateful resources (tables, key, user pool, queues, log groups) when the stack is
   * deleted, and turn on deletion protection where the service has it. Only prod does.
   */
  readonly retainData: boolean;
  /** API Gateway stage throttling. */
  readonly throttling: ThrottlingConfig;
  /** Retention of every log group the platform creates. */
  readonly logRetention: RetentionDays;
  /** `POWERTOOLS_LOG_LEVEL` of every function. */
  readonly logLevel: LogLevel;
  /**
   * Fraud score at or above which a payment is held for review (`FRAUD_REVIEW_THRESHOLD`), in [0, 1].
   * @default - the review threshold the served model was trained with (its manifest.json)
   */
  readonly fraudReviewThreshold?: number;
  /**
   * Fraud score at or above which a payment is declined (`FRAUD_DECLINE_THRESHOLD`), in [0, 1].
   * @default - the decline threshold the served model was trained with (its manifest.json)
   */
  readonly fraudDeclineThreshold?: number;
  /** Upper bound of connector attempts per payment (`MAX_PAYMENT_ATTEMPTS`), 1..10. */
  readonly maxPaymentAttempts: number;
  /**
   * Whether `/pay` takes raw card numbers (`ACCEPT_RAW_CARDS`): for sandbox and test stages. Without it, only
   * tokenised cards (`paymentMethod.token`, a Stripe PaymentMethod id), and card numbers never reach the platform
   * (PCI DSS SAQ A-EP rather than SAQ D).
   * @default false (dev and staging set it; prod does not)
   */
  readonly acceptRawCards?: boolean;
  /**
   * The connector registry of this stage (`CONNECTORS`): ids, kinds, methods, currencies, regions, fees,
   * enabled. Checked at synth with the schema the functions use.
   * @default - the two default sandbox accounts (stripe-sandbox, amazon-pay-sandbox)
   */
  readonly connectors?: readonly ConnectorDefinition[];
  /**
   * λ of the routing reward (success − λ · fee / amount) by merchant id, with `default` for the others
   * (`ROUTING_FEE_WEIGHTS`); 0 ranks by success alone, larger values favour cheaper connectors.
   * @default - λ = 1 for every merchant (rank by expected net revenue)
   */
  readonly routingFeeWeights?: Readonly<Record<string, number>>;
  /** Decimals of the SPL reward token (`REWARD_TOKEN_DECIMALS`), 0..9. */
  readonly rewardTokenDecimals: number;
  /**
   * USD per major unit of each currency other than USD, as exact decimal strings (`REWARD_USD_RATES`), e.g.
   * `{ EUR: '1.08', JPY: '0.0067' }`: a reward is 2% of the payment's value in USD.
   * @default - none: only USD payments earn tokens; the reward of another currency's payment records why not
   */
  readonly rewardUsdRates?: Readonly<Record<string, string>>;
  /**
   * The reward token's mint on the stage's cluster (`SPL_TOKEN_MINT_ADDRESS`); its mint authority's keypair is the
   * construct's `mintAuthoritySecret`. Create it once with the authority (e.g. `spl-token create-token
   * --decimals <rewardTokenDecimals> --mint-authority <authority>`).
   * @default - none: rewards are recorded in the ledger (chain state `not_configured`), not minted
   */
  readonly rewardTokenMint?: string;
  /**
   * The mint's token program (`REWARD_TOKEN_PROGRAM`): SPL Token or Token-2022.
   * @default 'spl-token'
   */
  readonly rewardTokenProgram?: 'spl-token' | 'token-2022';
  /**
   * The cluster's JSON-RPC URL (`SOLANA_RPC_URL`). A URL that carries an API key goes in a secret instead (the
   * construct's `solanaRpcUrlSecret`), never here.
   * @default 'https://api.devnet.solana.com'
   */
  readonly solanaRpcUrl?: string;
  /**
   * Transactions `POST /reward/relay` sponsors per merchant per UTC day (`RELAY_DAILY_LIMIT`): each costs the
   * treasury its fee (5,000 lamports a signature), so this bounds what one merchant's token can spend. 0 relays none.
   * @default 1000
   */
  readonly relayDailyLimit?: number;
  /**
   * The reward workflow's Step Functions type. Express costs a request and its duration (about $1 a million
   * rewards, and its 5 minutes fit the mint's retries); Standard also keeps each execution's history for 90 days in
   * the console, at $25 a million state transitions (4 a reward: about $100 a million payments more; `npm run cost
   * -- --reward-workflow STANDARD` projects it). Exactly once comes from the reward ledger and the recorded mint
   * attempt either way, and the `mints` schedule finishes what a run leaves. The payment workflow is always Express
   * (it answers `/pay` synchronously).
   * @default 'EXPRESS'
   */
  readonly rewardWorkflowType?: 'EXPRESS' | 'STANDARD';
  /**
   * Cognito Plus feature plan with full-function threat protection (adaptive authentication, compromised
   * credentials). Billed per monthly active user, so dev runs on Essentials.
   */
  readonly cognitoThreatProtection: boolean;
  /** Rate-based WAF rule: requests per client IP per 5 minutes before it is blocked. */
  readonly wafRateLimitPer5Min: number;
}

const common = {
  maxPaymentAttempts: 3,
  rewardTokenDecimals: 6,
} as const;

/** The three stage configurations. */
export const STAGES: Readonly<Record<StageName, StageConfig>> = {
  dev: {
    ...common,
    name: 'dev',
    retainData: false,
    acceptRawCards: true,
    throttling: { rateLimit: 50, burstLimit: 100 },
    logRetention: RetentionDays.ONE_WEEK,
    logLevel: 'DEBUG',
    cognitoThreatProtection: false,
    wafRateLimitPer5Min: 2_000,
  },
  staging: {
    ...common,
    name: 'staging',
    retainData: false,
    acceptRawCards: true,
    throttling: { rateLimit: 200, burstLimit: 400 },
    logRetention: RetentionDays.ONE_MONTH,
    logLevel: 'INFO',
    cognitoThreatProtection: true,
    wafRateLimitPer5Min: 5_000,
  },
  prod: {
    ...common,
    name: 'prod',
    retainData: true,
    throttling: { rateLimit: 1_000, burstLimit: 2_000 },
    // PCI DSS 10.7: keep audit trail history for at least a year.
    logRetention: RetentionDays.ONE_YEAR,
    logLevel: 'INFO',
    cognitoThreatProtection: true,
    wafRateLimitPer5Min: 20_000,
  },
};

/** The valid stage names, in promotion order. */
export const STAGE_NAMES = Object.keys(STAGES) as StageName[];

/** True when `name` is one of {@link STAGE_NAMES}. */
export function isStageName(name: unknown): name is StageName {
  return typeof name === 'string' && (STAGE_NAMES as string[]).includes(name);
}

/**
 * The configuration of a stage by name (e.g. the `stage` context value).
 * @throws when the name is not a known stage; the message lists the valid ones.
 */
export function stageConfig(name: unknown): StageConfig {
  if (!isStageName(name)) {
    throw new Error(
      `unknown stage ${JSON.stringify(name)}: use one of ${STAGE_NAMES.join(', ')} (for example: cdk synth -c stage=dev)`,
    );
  }
  return STAGES[name];
}

/** What in a URL looks like a credential (user info, or a query parameter named like a key or token), or undefined. */
function urlCredential(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined; // the settings schema names a malformed URL
  }
  if (parsed.username || parsed.password) return 'a user name or password';
  const named = [...parsed.searchParams.keys()].find((k) => /key|token|secret|auth|pass|sig/i.test(k));
  return named ? `a query parameter "${named}"` : undefined;
}

/**
 * Checks a (possibly user-built) stage configuration and returns it.
 * @throws with an actionable message when a value is out of range.
 */
export function validateStageConfig(stage: StageConfig): StageConfig {
  // The settings the functions get are checked by the schema they parse their environment with.
  const settings = FunctionSettings.safeParse(stage);
  if (!settings.success) {
    throw new Error(`${settingsProblems(settings.error, stage).replace(/(^|; )/g, '$1stage.')} (stage ${stage.name})`);
  }
  if (stage.throttling.rateLimit <= 0 || stage.throttling.burstLimit <= 0) {
    throw new Error('stage.throttling.rateLimit and stage.throttling.burstLimit must be positive');
  }
  if (!Number.isInteger(stage.wafRateLimitPer5Min) || stage.wafRateLimitPer5Min < 10) {
    throw new Error('stage.wafRateLimitPer5Min must be an integer of at least 10 (the WAF minimum)');
  }
  if (stage.rewardWorkflowType !== undefined && stage.rewardWorkflowType !== 'EXPRESS' && stage.rewardWorkflowType !== 'STANDARD') {
    throw new Error(`stage.rewardWorkflowType must be 'EXPRESS' or 'STANDARD', got ${JSON.stringify(stage.rewardWorkflowType)} (stage ${stage.name})`);
  }
  const credential = stage.solanaRpcUrl === undefined ? undefined : urlCredential(stage.solanaRpcUrl);
  if (credential) {
    throw new Error(
      `stage.solanaRpcUrl carries ${credential}, which would be in the template and the function's environment in plain text: put the whole URL in a secret and pass it as the construct's solanaRpcUrlSecret (stage ${stage.name})`,
    );
  }
  return stage;
}
