/**
 * Refunds and rewards: a refund reduces the reward to that of the amount kept while no mint transaction or claim
 * has its tokens (reversed, with none, on a full refund); once one has, the tokens stand and the reward records
 * what the refund would have taken back. A minted reward is never un-minted. The policy in words: the README's
 * "Refunds".
 */
import type { RewardEntry } from '../../contracts/api';
import type { PaymentRefundedDetail } from '../../contracts/events';
import { TransientError } from '../../contracts/errors';
import { formatTokens } from '../../contracts/money';
import { issueReward, MIN_TOKENS, NoUsdRateError, rewardBaseUnits, type RewardChangeRecord, type RewardDeps, type RewardLedger, type StoredReward } from './rewards';

/** The reward after a refund, as adjustForRefund writes it. */
export interface RefundChange {
  readonly tokens: string;
  readonly tokensDisplay: string;
  readonly status: 'recorded' | 'reversed';
  readonly refund: NonNullable<RewardEntry['refund']>;
  /** The change to record with it when it takes tokens back (the rewards outbox publishes it). */
  readonly clawedBack?: RewardChangeRecord;
}

/** What refunds need of the ledger beyond recording rewards. */
export interface RefundLedger extends RewardLedger {
  /**
   * Writes `change` on the reward if it is still as `seen` was (its tokens and status, no refund as large as this
   * one, and, when the tokens change, no mint attempt and no claim); false when it changed meanwhile. A reversed
   * reward leaves the `unminted` and `claimable` indexes.
   */
  applyRefund(seen: StoredReward, change: RefundChange): Promise<boolean>;
}

/**
 * Adjusts the payment's reward to its refunds so far (`refundedTotal`, cumulative: idempotent, and an older refund's
 * event arriving late changes nothing). The reward is issued first if its own event has not come yet.
 * - No mint transaction and no claim has its tokens: they become the reward of the amount kept (rewardBaseUnits of
 *   amount − refundedTotal; never more than now), `reversed` with none when it is all refunded.
 * - A mint transaction was recorded (sent, perhaps landed) or a claim took it: the tokens stand, and the reward
 *   records what the refund would have taken back (`tokensKept`). Tokens on chain are the customer's.
 * Single-item conditional writes, retried on a race with a mint or a claim.
 */
export async function adjustForRefund(
  refund: PaymentRefundedDetail,
  deps: RewardDeps & { readonly ledger: RefundLedger },
): Promise<{ entry: StoredReward; change: 'none' | 'clawed_back' | 'kept' }> {
  await issueReward(refund, deps);
  for (let round = 0; round < 5; round += 1) {
    const entry = await deps.ledger.get(refund.paymentId);
    if (!entry) throw new Error(`reward ${refund.paymentId} vanished after it was issued`);
    // No tokens to adjust (no USD rate), or this refund (or a later one) is applied already.
    if (entry.status === 'error' || (entry.refund?.refundedAmount ?? 0) >= refund.refundedTotal) return { entry, change: 'none' };
    const before = BigInt(entry.refund?.tokensBefore ?? entry.tokens);
    const current = BigInt(entry.tokens);
    const owed = tokensAfterRefund(entry, before, refund.refundedTotal, deps);
    const target = owed < current ? owed : current;
    const clawedBefore = BigInt(entry.refund?.tokensClawedBack ?? '0');
    const adjustable = entry.mint === undefined && entry.claimId === undefined;
    const change: RefundChange = adjustable
      ? {
          tokens: target.toString(),
          tokensDisplay: formatTokens(target, entry.decimals),
          status: target === 0n ? 'reversed' : 'recorded',
          refund: { refundedAmount: refund.refundedTotal, tokensBefore: before.toString(), tokensClawedBack: (before - target).toString(), tokensKept: '0' },
          ...(target < current ? { clawedBack: { change: 'clawed_back' as const, tokens: (current - target).toString(), at: deps.now().toISOString() } } : {}),
        }
      : {
          tokens: entry.tokens,
          tokensDisplay: entry.tokensDisplay,
          status: 'recorded',
          refund: { refundedAmount: refund.refundedTotal, tokensBefore: before.toString(), tokensClawedBack: clawedBefore.toString(), tokensKept: (current - target).toString() },
        };
    if (await deps.ledger.applyRefund(entry, change)) {
      const changed = adjustable ? target < current : current > target;
      const { clawedBack: _clawedBack, ...written } = change;
      return { entry: { ...entry, ...written }, change: !changed ? 'none' : adjustable ? 'clawed_back' : 'kept' };
    }
  }
  throw new TransientError(`reward ${refund.paymentId} kept changing (a mint or a claim at the same time); the refund is applied on the next try`);
}

/**
 * The reward of the amount a payment keeps after `refundedTotal`: 0 when all of it was refunded; else 2% of the
 * rest at the USD rate the reward was issued at (not today's), clamped as any reward. A reward recorded without
 * its rate, whose currency has none any more, is reduced in proportion instead, within the same clamps.
 */
function tokensAfterRefund(entry: StoredReward, before: bigint, refundedTotal: number, deps: RewardDeps): bigint {
  const kept = entry.amount - refundedTotal;
  if (kept <= 0) return 0n;
  const rates = entry.usdRate === undefined ? deps.usdRates : { [entry.currency]: entry.usdRate };
  try {
    return rewardBaseUnits(kept, entry.currency, entry.decimals, rates);
  } catch (error) {
    if (!(error instanceof NoUsdRateError)) throw error;
    const scale = 10n ** BigInt(entry.decimals);
    const share = (before * BigInt(kept)) / BigInt(entry.amount);
    return share < MIN_TOKENS * scale ? MIN_TOKENS * scale : share;
  }
}
