/**
 * The settings a stage hands its functions, defined and checked once: the CDK checks a stage with these at
 * synth (lib/stages.ts), the functions parse their environment with them at cold start
 * (lambdas/shared/config.ts), and the local platform's defaults pass the same checks.
 */
import { z } from 'zod';
import { ConnectorRegistry, parseFaultList } from './connectors';
import { ENV } from './resources';
import { SolanaAddress } from './ids';
import { fieldIssues } from './issues';

/** A fraud score threshold, in [0, 1]. */
export const FraudThreshold = z.number().min(0).max(1);

/** Upper bound of connector attempts per payment (`MAX_PAYMENT_ATTEMPTS`). */
export const MaxPaymentAttempts = z.number().int().min(1).max(10);

/** Decimals of the SPL reward token (`REWARD_TOKEN_DECIMALS`). */
export const RewardTokenDecimals = z.number().int().min(0).max(9);

/**
 * What one major unit of a currency is worth in US dollars, as an exact decimal string, by ISO 4217 code
 * (`REWARD_USD_RATES`, e.g. `{"EUR": "1.08", "JPY": "0.0067"}`): a reward is 2% of the payment's value in USD. USD
 * is 1 and need not be listed; a payment in a currency without a rate gets no tokens, and its reward says why.
 */
export const RewardUsdRates = z.record(
  z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as EUR'),
  z
    .string()
    .regex(/^\d{1,9}(\.\d{1,12})?$/, 'must be a decimal number of US dollars as a string, such as "1.08"')
    .refine((v) => /[1-9]/.test(v), 'must be above 0'),
);

/** The reward mint's token program: SPL Token or Token-2022 (`REWARD_TOKEN_PROGRAM`). */
export const RewardTokenProgram = z.enum(['spl-token', 'token-2022']);

/** Transactions POST /reward/relay sponsors per merchant per UTC day (`RELAY_DAILY_LIMIT`); 0 relays none. */
export const RelayDailyLimit = z.number().int().min(0).max(1_000_000);
export const DEFAULT_RELAY_DAILY_LIMIT = 1_000;

/** A Solana cluster's JSON-RPC URL (`SOLANA_RPC_URL`); one that carries an API key belongs in a secret instead. */
export const SolanaRpcUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL of a Solana JSON-RPC endpoint' });

/** Devnet's public JSON-RPC: the default cluster. */
export const DEVNET_RPC_URL = 'https://api.devnet.solana.com';

/**
 * λ of the routing reward (success − λ · fee / amount) by merchant id, with `default` for the others
 * (`ROUTING_FEE_WEIGHTS`).
 */
export const RoutingFeeWeights = z.record(z.string(), z.number().min(0).max(100));

/** The one rule between the two thresholds: review at or below decline. A problem in words, or undefined. */
export function thresholdsProblem(review: number | undefined, decline: number | undefined): string | undefined {
  return review !== undefined && decline !== undefined && review > decline ? `review threshold ${review} exceeds decline threshold ${decline}` : undefined;
}

export const FunctionSettings = z
  .object({
    /** Fraud score at or above which a payment is held for review (`FRAUD_REVIEW_THRESHOLD`). */
    fraudReviewThreshold: FraudThreshold.optional(),
    /** Fraud score at or above which a payment is declined (`FRAUD_DECLINE_THRESHOLD`). */
    fraudDeclineThreshold: FraudThreshold.optional(),
    maxPaymentAttempts: MaxPaymentAttempts,
    /**
     * Whether `/pay` takes raw card numbers (`ACCEPT_RAW_CARDS`): sandbox and test stages only. Absent or false:
     * only tokenised cards (`paymentMethod.token`, a Stripe PaymentMethod id), so card numbers never reach the platform.
     */
    acceptRawCards: z.boolean().optional(),
    /** The connector registry (`CONNECTORS`); absent: the two default sandbox accounts. */
    connectors: ConnectorRegistry.optional(),
    routingFeeWeights: RoutingFeeWeights.optional(),
    rewardTokenDecimals: RewardTokenDecimals,
    rewardUsdRates: RewardUsdRates.optional(),
    /** The reward token's mint (`SPL_TOKEN_MINT_ADDRESS`); absent: rewards are recorded, not minted. */
    rewardTokenMint: SolanaAddress.optional(),
    rewardTokenProgram: RewardTokenProgram.optional(),
    /** The cluster (`SOLANA_RPC_URL`); absent: devnet. */
    solanaRpcUrl: SolanaRpcUrl.optional(),
    /** Relays per merchant per UTC day (`RELAY_DAILY_LIMIT`); absent: DEFAULT_RELAY_DAILY_LIMIT. */
    relayDailyLimit: RelayDailyLimit.optional(),
  })
  .refine((s) => thresholdsProblem(s.fraudReviewThreshold, s.fraudDeclineThreshold) === undefined, {
    message: 'must not exceed fraudDeclineThreshold',
    path: ['fraudReviewThreshold'],
  });
export type FunctionSettings = z.infer<typeof FunctionSettings>;

/** One line per problem, `field: problem` in plain words, for errors at synth and cold start. */
export function settingsProblems(error: z.ZodError, data: unknown): string {
  return fieldIssues(error, data)
    .map((i) => `${i.field}: ${i.problem}`)
    .join('; ');
}

/**
 * The functions' numeric tunables (contracts/topology.ts `from: 'tunable'`; the CDK sets none, locally the
 * launcher's environment may): each one's range and its default. The functions read them with these
 * (lambdas/shared/config.ts), and the local platform checks what you set against them before it starts.
 */
export const TUNABLE_NUMBERS: Readonly<Record<string, { readonly schema: z.ZodType<number>; readonly fallback?: number }>> = {
  [ENV.fraudEndpointTimeoutMs]: { schema: z.number().min(1).max(5_000), fallback: 30 },
  [ENV.sandboxLatencyMs]: { schema: z.number().min(0).max(10_000), fallback: 0 },
  [ENV.gatewayTimeoutMs]: { schema: z.number().min(100).max(14_000), fallback: 8_000 },
  [ENV.paymentLeaseMs]: { schema: z.number().min(1_000).max(900_000) },
  [ENV.reconcileAfterMs]: { schema: z.number().min(1_000).max(86_400_000) },
  [ENV.mintConfirmTimeoutMs]: { schema: z.number().min(100).max(50_000), fallback: 20_000 },
  [ENV.mintSweepAfterMs]: { schema: z.number().min(0).max(86_400_000), fallback: 120_000 },
  [ENV.analyticsVisibilityMs]: { schema: z.number().min(0).max(86_400_000), fallback: 600_000 },
  [ENV.routingModelTtlMs]: { schema: z.number().min(0).max(300_000), fallback: 1_000 },
  [ENV.routingHealthTtlMs]: { schema: z.number().min(0).max(60_000), fallback: 1_000 },
  [ENV.routingEndpointTimeoutMs]: { schema: z.number().min(1).max(5_000), fallback: 20 },
  [ENV.routingSeed]: { schema: z.number().int().min(0).max(2 ** 32 - 1) },
};

/** A variable whose value its schema refused: the problem in the stage's words, and the value as given. */
export function settingError(name: string, error: z.ZodError, value: unknown, raw: string): Error {
  return new Error(`environment variable ${name} ${settingsProblems(error, value).replace(/^\(root\): /, '')}, got "${raw}"`);
}

/** A numeric variable's value checked by `schema`, or the error naming the variable, the problem and the value. */
export function parseNumberSetting(name: string, raw: string, schema: z.ZodType<number>): number {
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value)) throw new Error(`environment variable ${name} must be a number, got "${raw}"`);
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw settingError(name, parsed.error, value, raw);
  return parsed.data;
}

/** What is wrong with a tunable's value (a number out of range, a bad SANDBOX_FAULTS), or undefined. */
export function tunableProblem(name: string, raw: string): string | undefined {
  try {
    const numeric = TUNABLE_NUMBERS[name];
    if (numeric) parseNumberSetting(name, raw, numeric.schema);
    else if (name === ENV.sandboxFaults) parseFaultList(raw, name);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}
