/**
 * Loyalty rewards: 2% of the payment amount in major units, as SPL-token base units (bigint), clamped to
 * 1–1000 whole tokens per transaction, recorded exactly once per payment in the ledger. On-chain minting
 * (ledger first, then send, confirm and record) comes with the Solana issue; this version records.
 */
import type { RewardEntry } from '../../contracts/api';
import { RewardNotEligibleError } from '../../contracts/errors';
import { currencyExponent } from '../../contracts/money';

export const REWARD_RATE_PERCENT = 2n;
export const MIN_TOKENS = 1n;
export const MAX_TOKENS = 1000n;

/** Token base units for a payment of `amount` minor units: floor(2% of the major amount), clamped to [1, 1000] tokens. */
export function rewardBaseUnits(amount: number, currency: string, decimals: number): bigint {
  if (!Number.isSafeInteger(amount) || amount <= 0) throw new RangeError(`amount must be a positive integer, got ${amount}`);
  const scale = 10n ** BigInt(decimals);
  const minorPerMajor = 10n ** BigInt(currencyExponent(currency));
  const raw = (BigInt(amount) * REWARD_RATE_PERCENT * scale) / (100n * minorPerMajor);
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
}

export type { RewardEntry };

export interface RewardLedger {
  /** Records the reward unless one exists; returns the entry and whether this call created it. */
  recordOnce(entry: RewardEntry): Promise<{ entry: RewardEntry; created: boolean }>;
  get(paymentId: string): Promise<RewardEntry | undefined>;
}

export interface RewardDeps {
  readonly ledger: RewardLedger;
  readonly decimals: number;
  readonly now: () => Date;
}

export async function issueReward(payment: SucceededPayment, deps: RewardDeps) {
  const tokens = rewardBaseUnits(payment.amount, payment.currency, deps.decimals);
  return deps.ledger.recordOnce({
    paymentId: payment.paymentId,
    merchantId: payment.merchantId,
    customerId: payment.customerId,
    amount: payment.amount,
    currency: payment.currency,
    tokens: tokens.toString(),
    tokensDisplay: formatTokens(tokens, deps.decimals),
    decimals: deps.decimals,
    status: 'recorded',
    createdAt: deps.now().toISOString(),
  });
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
