/**
 * Loyalty rewards: 2% of the payment's value in US dollars, as SPL-token base units (bigint), clamped to 1–1000
 * whole tokens per transaction, recorded exactly once per payment in the ledger. A payment in another currency is
 * valued through the configured rate table (REWARD_USD_RATES, exact decimal strings); one in a currency without a
 * rate gets a reward entry that says so, with no tokens, and the payment is untouched. All integer arithmetic.
 * A payment that named a wallet (`rewardWallet`) has its reward minted there afterwards (mint.ts), when the stage
 * has a token mint; the entry is on record first, marked `unminted` until its mint is found finalized.
 */
import type { RewardChain, RewardEntry } from '../../contracts/api';
import { shardOf } from '../../contracts/resources';
import { RewardNotEligibleError } from '../../contracts/errors';
import { currencyExponent } from '../../contracts/money';

export const REWARD_RATE_PERCENT = 2n;
export const MIN_TOKENS = 1n;
export const MAX_TOKENS = 1000n;

/** USD per major unit of each currency (exact decimal strings); USD is always 1. */
export type UsdRates = Readonly<Record<string, string>>;

/** A payment's currency has no USD rate: no tokens can be computed. */
export class NoUsdRateError extends Error {
  constructor(readonly currency: string) {
    super(`no USD rate for ${currency}: a reward is 2% of the payment's value in USD; set REWARD_USD_RATES (rewardUsdRates in the stage config), e.g. {"${currency}": "1.08"}`);
    this.name = 'NoUsdRateError';
  }
}

/** An exact decimal string as a fraction of integers. */
function fraction(decimal: string): { num: bigint; den: bigint } {
  const [whole, part = ''] = decimal.split('.');
  return { num: BigInt(`${whole}${part}`), den: 10n ** BigInt(part.length) };
}

/**
 * Token base units for a payment of `amount` minor units: floor(2% of its value in USD), clamped to [1, 1000]
 * tokens. Throws NoUsdRateError for a currency other than USD without a rate.
 */
export function rewardBaseUnits(amount: number, currency: string, decimals: number, rates: UsdRates = {}): bigint {
  if (!Number.isSafeInteger(amount) || amount <= 0) throw new RangeError(`amount must be a positive integer, got ${amount}`);
  const rate = currency === 'USD' ? '1' : rates[currency];
  if (rate === undefined) throw new NoUsdRateError(currency);
  const { num, den } = fraction(rate);
  const scale = 10n ** BigInt(decimals);
  const minorPerMajor = 10n ** BigInt(currencyExponent(currency));
  const raw = (BigInt(amount) * num * REWARD_RATE_PERCENT * scale) / (100n * minorPerMajor * den);
  const min = MIN_TOKENS * scale;
  const max = MAX_TOKENS * scale;
  return raw < min ? min : raw > max ? max : raw;
}

/** A decimal string of whole tokens for display (base units stay the source of truth). */
export function formatTokens(baseUnits: bigint, decimals: number): string {
  const scale = 10n ** BigInt(decimals);
  const whole = baseUnits / scale;
  const fraction = (baseUnits % scale).toString().padStart(decimals, '0').replace(/0+$/, '');
  return fraction ? `${whole}.${fraction}` : whole.toString();
}

export interface SucceededPayment {
  readonly paymentId: string;
  readonly merchantId: string;
  readonly customerId: string;
  readonly amount: number;
  readonly currency: string;
  /** The customer's Solana wallet, when the payment named one. */
  readonly rewardWallet?: string;
}

export type { RewardEntry };

/** A reward's mint transaction as recorded before it is sent (mint.ts). */
export interface MintAttempt {
  readonly wallet: string;
  /** The token mint and the wallet's associated token account it mints to. */
  readonly tokenMint: string;
  readonly recipient: string;
  readonly signature: string;
  /** The last block height at which its blockhash is valid: past it, the transaction can never land. */
  readonly lastValidBlockHeight: number;
  /** Base64 of the signed transaction (sent again, unchanged, while it may still land). */
  readonly wire: string;
  /** When it was found finalized (ISO); absent: not known to have landed yet. */
  readonly mintedAt?: string;
}

/** The reward as the ledger keeps it: the entry, the wallet, and its mint's progress. */
export type StoredReward = Omit<RewardEntry, 'chain'> & {
  readonly wallet?: string;
  /** Set (an index shard) while the mint is owed and not known to be finalized: the sparse `unminted` index. */
  readonly unminted?: string;
  readonly mint?: MintAttempt;
};

export interface RewardLedger {
  /** Records the reward unless one exists; returns the entry and whether this call created it. */
  recordOnce(entry: StoredReward): Promise<{ entry: StoredReward; created: boolean }>;
  get(paymentId: string): Promise<StoredReward | undefined>;
}

export interface RewardDeps {
  readonly ledger: RewardLedger;
  readonly decimals: number;
  /** USD per major unit by currency (REWARD_USD_RATES). @default USD only */
  readonly usdRates?: UsdRates;
  /** The stage's reward token mint (SPL_TOKEN_MINT_ADDRESS); unset: rewards are recorded, not minted. */
  readonly tokenMint?: string;
  readonly now: () => Date;
}

/**
 * Records the payment's reward once. A currency without a USD rate is recorded as an `error` entry with no tokens
 * (it says what to configure); the payment is untouched, and the workflow does not retry it. A reward owed to a
 * wallet on a stage that mints is marked unminted (mint.ts takes it from there).
 */
export async function issueReward(payment: SucceededPayment, deps: RewardDeps): Promise<{ entry: StoredReward; created: boolean }> {
  const base = {
    paymentId: payment.paymentId,
    merchantId: payment.merchantId,
    customerId: payment.customerId,
    amount: payment.amount,
    currency: payment.currency,
    decimals: deps.decimals,
    createdAt: deps.now().toISOString(),
    ...(payment.rewardWallet === undefined ? {} : { wallet: payment.rewardWallet }),
  };
  let tokens: bigint;
  try {
    tokens = rewardBaseUnits(payment.amount, payment.currency, deps.decimals, deps.usdRates);
  } catch (error) {
    if (!(error instanceof NoUsdRateError)) throw error;
    return deps.ledger.recordOnce({ ...base, tokens: '0', tokensDisplay: '0', status: 'error', error: error.message });
  }
  const owed = payment.rewardWallet !== undefined && deps.tokenMint !== undefined;
  return deps.ledger.recordOnce({
    ...base,
    tokens: tokens.toString(),
    tokensDisplay: formatTokens(tokens, deps.decimals),
    status: 'recorded',
    ...(owed ? { unminted: shardOf(payment.paymentId) } : {}),
  });
}

/**
 * The API's view of a stored reward: the entry, and where its tokens are on chain (contracts/api.ts RewardChain).
 * `tokenMint`: the stage's (what a reward with a wallet and no attempt yet will be minted with).
 */
export function rewardView(stored: StoredReward, tokenMint: string | undefined): RewardEntry {
  const { wallet, unminted: _unminted, mint, ...entry } = stored;
  if (entry.status !== 'recorded') return entry;
  let chain: RewardChain;
  if (mint) {
    const { signature, tokenMint: minted, recipient } = mint;
    chain = mint.mintedAt
      ? { state: 'minted', wallet: mint.wallet, tokenMint: minted, recipient, signature, mintedAt: mint.mintedAt }
      : { state: 'pending', wallet: mint.wallet, tokenMint: minted, recipient, signature };
  } else if (wallet === undefined) {
    chain = { state: 'no_wallet' };
  } else if (stored.unminted !== undefined) {
    chain = { state: 'pending', wallet, ...(tokenMint ? { tokenMint } : {}) };
  } else {
    chain = { state: 'not_configured', wallet };
  }
  return { ...entry, chain };
}

/** Guards the API path: only the caller's own succeeded payments earn a reward. */
export function assertRewardable<P extends { merchantId: string; status: string }>(
  merchantId: string,
  payment: P | undefined,
  paymentId: string,
): asserts payment is P {
  if (!payment || payment.merchantId !== merchantId) {
    throw new RewardNotEligibleError(`payment ${paymentId} was not found for this merchant`);
  }
  if (payment.status !== 'succeeded') {
    throw new RewardNotEligibleError(`payment ${paymentId} is ${payment.status}; only succeeded payments earn rewards`);
  }
}
