/**
 * Loyalty rewards: 2% of the payment's value in US dollars, as SPL-token base units (bigint), clamped to 1–1000
 * whole tokens per transaction, recorded exactly once per payment in the ledger. A payment in another currency is
 * valued through the configured rate table (REWARD_USD_RATES, exact decimal strings); one in a currency without a
 * rate gets a reward entry that says so, with no tokens, and the payment is untouched. All integer arithmetic.
 * A payment that named a wallet (`rewardWallet`) has its reward minted there afterwards (mint.ts), when the stage
 * has a token mint; the entry is on record first, marked `unminted` until its mint is found finalized.
 * Refunds adjust rewards in refunds.ts.
 */
import type { RewardChain, RewardClaim, RewardEntry } from '../../contracts/api';
import type { RewardChange } from '../../contracts/events';
import { newClaimId } from '../../contracts/ids';
import { shardOf } from '../../contracts/resources';
import { NotFoundError, NothingToClaimError, RewardNotEligibleError, TransientError, ValidationError } from '../../contracts/errors';
import { currencyExponent, formatTokens } from '../../contracts/money';

export const REWARD_RATE_PERCENT = 2n;
export const MIN_TOKENS = 1n;
export const MAX_TOKENS = 1000n;

/** USD per major unit of each currency (exact decimal strings); USD is always 1. */
export type UsdRates = Readonly<Record<string, string>>;

/** A payment's currency has no USD rate: no tokens can be computed. */
export class NoUsdRateError extends Error {
  constructor(readonly currency: string) {
    super(`no USD rate for ${currency}: a reward is 2% of the payment's value in USD; set REWARD_USD_RATES (rewardUsdRates in the stage config), as USD for one ${currency}, an exact decimal string: {"${currency}": "<USD per 1 ${currency}>"}`);
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
  /** The base units it mints (absent on attempts recorded before refunds could change a reward's tokens). */
  readonly tokens?: string;
  /** The last block height at which its blockhash is valid: past it, the transaction can never land. */
  readonly lastValidBlockHeight: number;
  /** Base64 of the signed transaction (sent again, unchanged, while it may still land). */
  readonly wire: string;
  /** When it was found finalized (ISO); absent: not known to have landed yet. */
  readonly mintedAt?: string;
  /** When it was found failed on chain or refused (ISO), and the cluster's reason: it minted nothing. */
  readonly failedAt?: string;
  readonly error?: string;
}

/**
 * One change of a reward's (or a claim's) tokens, as the ledger keeps it: recorded in the same write as the change,
 * in order, and published as a `RewardChanged` event by the rewards outbox (outbox.ts).
 */
export interface RewardChangeRecord {
  readonly change: RewardChange;
  /** Base units this change issued, clawed back, minted or failed to mint. */
  readonly tokens: string;
  readonly at: string;
}

/** What the rewards outbox keeps on an item: its changes, how many are published, and its mark while some are not. */
export interface RewardJournal {
  readonly changes?: readonly RewardChangeRecord[];
  /** How many of `changes` are published (absent: none). */
  readonly announced?: number;
  /** Set (an index shard) while some changes are not published: the sparse `unannounced` index. */
  readonly unannounced?: string;
}

/** The reward as the ledger keeps it: the entry, the wallet, its mint's progress and its changes. */
export type StoredReward = Omit<RewardEntry, 'chain'> & RewardJournal & {
  readonly wallet?: string;
  /** Set (an index shard) while the mint is owed and not known to be finalized: the sparse `unminted` index. */
  readonly unminted?: string;
  /** Set (`<merchant>#<customer>`) while it has no wallet and no claim took it: the sparse `claimable` index. */
  readonly claimable?: string;
  /** The claim that took it. */
  readonly claimId?: string;
  readonly mint?: MintAttempt;
  /** USD per major unit of its currency when it was issued (a refund reduces it at the same rate). */
  readonly usdRate?: string;
};

/**
 * A claim as the ledger keeps it (keyed by its id in the rewards table's key attribute): `open` while it takes its
 * rewards, then `recorded` with their total, and minted like a reward.
 */
export type StoredClaim = Omit<RewardClaim, 'chain' | 'claimId'> & RewardJournal & {
  readonly paymentId: string;
  readonly kind: 'claim';
  readonly status: 'open' | 'recorded';
  readonly unminted?: string;
  readonly mint?: MintAttempt;
};

/** What a claim took, as it is closed: the rewards, their total, and its `unminted` shard when it is owed a mint. */
export interface ClaimTotal {
  readonly payments: readonly string[];
  readonly tokens: string;
  readonly tokensDisplay: string;
  readonly unminted?: string;
}

/** Rewards a claim takes at most; claim again for the rest. */
export const CLAIM_MAX_REWARDS = 100;

export interface RewardLedger {
  /** Records the reward unless one exists; returns the entry and whether this call created it. */
  recordOnce(entry: StoredReward): Promise<{ entry: StoredReward; created: boolean }>;
  get(paymentId: string): Promise<StoredReward | undefined>;
}

/** What claims need of the ledger beyond recording rewards. */
export interface ClaimLedger extends RewardLedger {
  /** The customer's rewards still claimable (recorded without a wallet, not claimed), oldest first, up to `limit`. */
  claimable(key: string, limit: number): Promise<StoredReward[]>;
  /**
   * Records `claim` (open) and makes it the customer's open claim; false when another claim of theirs is open (the
   * claim written is then never referenced).
   */
  openClaim(claim: StoredClaim): Promise<boolean>;
  /** Takes the reward for the claim if it is still claimable (a no-op otherwise). */
  take(paymentId: string, claim: StoredClaim): Promise<void>;
  /** Records what the claim took and closes it (a no-op for a claim closed already), and the customer's pointer. */
  closeClaim(claim: StoredClaim, taken: ClaimTotal): Promise<void>;
  claim(claimId: string): Promise<StoredClaim | undefined>;
  lastClaim(key: string): Promise<{ claim: StoredClaim; open: boolean } | undefined>;
}

export interface RewardDeps {
  readonly ledger: RewardLedger;
  readonly decimals: number;
  /** USD per major unit by currency (REWARD_USD_RATES). @default USD only */
  readonly usdRates?: UsdRates;
  /** The stage's reward token mint (SPL_TOKEN_MINT_ADDRESS); unset: rewards are recorded, not minted. */
  readonly tokenMint?: string;
  /**
   * What a wallet is when it is one of the platform's own accounts (the mint, the mint authority, the treasury),
   * else undefined: tokens minted there would be no customer's. A payment naming one earns a reward to claim; a
   * claim to one is refused.
   */
  readonly ownAccount?: (wallet: string) => string | undefined;
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
    // A payment that named one of the platform's own accounts earns a reward the customer claims to a wallet of theirs.
    ...(payment.rewardWallet === undefined || deps.ownAccount?.(payment.rewardWallet) !== undefined ? {} : { wallet: payment.rewardWallet }),
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
    changes: [{ change: 'issued', tokens: tokens.toString(), at: base.createdAt }],
    unannounced: shardOf(payment.paymentId),
    ...(payment.currency === 'USD' ? {} : { usdRate: deps.usdRates?.[payment.currency] }),
    tokens: tokens.toString(),
    tokensDisplay: formatTokens(tokens, deps.decimals),
    status: 'recorded',
    ...(owed ? { unminted: shardOf(payment.paymentId) } : {}),
    // No wallet: the customer's to claim later, to a wallet of theirs.
    ...(payment.rewardWallet === undefined ? { claimable: claimKey(payment.merchantId, payment.customerId) } : {}),
  });
}

/** The `claimable` index key of a merchant's customer. */
export function claimKey(merchantId: string, customerId: string): string {
  return `${merchantId}#${customerId}`;
}

/**
 * Claims the customer's rewards recorded without a wallet, up to CLAIM_MAX_REWARDS of them, as one total to
 * `wallet`, with single-item conditional writes (crash-safe at every step):
 * 1. the claim is recorded `open` with the rewards it means to take, and made the customer's one open claim;
 * 2. each reward is taken (a conditional write: a reward is taken by one claim, ever);
 * 3. the claim is closed with the total of the rewards that point to it, read back after the takes.
 * A claim found open (a run that stopped) is finished first, with the same steps, and is the answer. With nothing
 * left to claim, the customer's last claim is the answer (a repeated request gets what the first one made); with no
 * claim ever, NothingToClaimError. The closed claim is then minted like a reward.
 */
export async function claimRewards(
  request: { readonly merchantId: string; readonly customerId: string; readonly wallet: string },
  deps: RewardDeps & { readonly ledger: ClaimLedger },
): Promise<{ claim: StoredClaim; created: boolean }> {
  const own = deps.ownAccount?.(request.wallet);
  if (own !== undefined) {
    throw new ValidationError(`wallet is ${own} of this platform, not a customer's wallet`, [{ field: 'wallet', problem: `is ${own} of this platform, not a customer's wallet` }]);
  }
  const key = claimKey(request.merchantId, request.customerId);
  for (let round = 0; round < 3; round += 1) {
    const last = await deps.ledger.lastClaim(key);
    if (last?.open) {
      const finished = await finishClaim(last.claim, deps);
      // It took nothing (its rewards were refunded in full before it took them): look again.
      if (finished.payments.length > 0) return { claim: finished, created: false };
      continue;
    }
    const rewards = await deps.ledger.claimable(key, CLAIM_MAX_REWARDS);
    if (rewards.length === 0) {
      // The last claim is the answer to a repeated request; one that took nothing holds nothing to show.
      if (last && last.claim.payments.length > 0) return { claim: last.claim, created: false };
      throw new NothingToClaimError(`customer ${request.customerId} has no rewards to claim: none is recorded without a wallet yet (a payment's reward is recorded within seconds of it; one refunded in full has none)`);
    }
    const now = deps.now();
    const claim: StoredClaim = {
      paymentId: newClaimId(now),
      kind: 'claim',
      merchantId: request.merchantId,
      customerId: request.customerId,
      wallet: request.wallet,
      tokens: '0',
      tokensDisplay: '0',
      decimals: deps.decimals,
      status: 'open',
      payments: rewards.map((r) => r.paymentId),
      createdAt: now.toISOString(),
    };
    if (await deps.ledger.openClaim(claim)) {
      const finished = await finishClaim(claim, deps);
      if (finished.payments.length > 0) return { claim: finished, created: true };
      // Every reward it listed was refunded in full before it took it: look again.
    }
  }
  throw new TransientError(`customer ${request.customerId}'s rewards were being claimed by other requests at the same time; ask again`);
}

/** Steps 2 and 3 of a claim (see claimRewards): idempotent, so any run may finish an open claim. */
async function finishClaim(claim: StoredClaim, deps: RewardDeps & { readonly ledger: ClaimLedger }): Promise<StoredClaim> {
  if (claim.status !== 'open') return claim;
  for (const paymentId of claim.payments) await deps.ledger.take(paymentId, claim);
  const taken = (await Promise.all(claim.payments.map((id) => deps.ledger.get(id)))).filter((r): r is StoredReward => r?.claimId === claim.paymentId);
  const tokens = taken.reduce((sum, r) => sum + BigInt(r.tokens), 0n);
  const closing: ClaimTotal = {
    payments: taken.map((r) => r.paymentId),
    tokens: tokens.toString(),
    tokensDisplay: formatTokens(tokens, claim.decimals),
    ...(deps.tokenMint !== undefined && tokens > 0n ? { unminted: shardOf(claim.paymentId) } : {}),
  };
  await deps.ledger.closeClaim(claim, closing);
  const closed = await deps.ledger.claim(claim.paymentId);
  if (!closed) throw new Error(`claim ${claim.paymentId} vanished while it was closed`);
  return closed;
}

/**
 * The API's view of a stored reward: the entry, and where its tokens are on chain (contracts/api.ts RewardChain).
 * `tokenMint`: the stage's (what a reward with a wallet and no attempt yet will be minted with).
 */
export function rewardView(stored: StoredReward, tokenMint: string | undefined): RewardEntry {
  const { wallet: _wallet, unminted: _unminted, claimable: _claimable, claimId: _claimId, mint: _mint, usdRate: _usdRate, changes: _changes, announced: _announced, unannounced: _unannounced, ...entry } = stored;
  if (entry.status !== 'recorded') return entry;
  return { ...entry, chain: chainOf(stored, tokenMint) };
}

/** The API's view of a stored claim. */
export function claimView(stored: StoredClaim, tokenMint: string | undefined): RewardClaim {
  const { paymentId: claimId, kind: _kind, status: _status, unminted: _unminted, mint: _mint, changes: _changes, announced: _announced, unannounced: _unannounced, ...claim } = stored;
  return { claimId, ...claim, chain: chainOf(stored, tokenMint) };
}

/** Where a reward's (or a claim's) tokens are on chain. */
function chainOf(stored: { readonly wallet?: string; readonly unminted?: string; readonly mint?: MintAttempt; readonly claimId?: string }, tokenMint: string | undefined): RewardChain {
  const { wallet, mint } = stored;
  if (mint) {
    const { signature, tokenMint: minted, recipient } = mint;
    if (mint.mintedAt) return { state: 'minted', wallet: mint.wallet, tokenMint: minted, recipient, signature, mintedAt: mint.mintedAt };
    if (mint.failedAt) return { state: 'failed', wallet: mint.wallet, tokenMint: minted, recipient, signature, error: mint.error ?? 'unknown', failedAt: mint.failedAt };
    return { state: 'pending', wallet: mint.wallet, tokenMint: minted, recipient, signature };
  }
  if (stored.claimId !== undefined) return { state: 'claimed', claimId: stored.claimId };
  if (wallet === undefined) return { state: 'no_wallet' };
  if (stored.unminted !== undefined) return { state: 'pending', wallet, ...(tokenMint ? { tokenMint } : {}) };
  return { state: 'not_configured', wallet };
}

/** Guards the API path: only the caller's own succeeded payments earn a reward (another's is not found, 404). */
export function assertRewardable<P extends { merchantId: string; status: string }>(
  merchantId: string,
  payment: P | undefined,
  paymentId: string,
): asserts payment is P {
  if (!payment || payment.merchantId !== merchantId) {
    // The same answer whether the payment does not exist or is another merchant's: its existence is not disclosed.
    throw new NotFoundError(`payment ${paymentId} was not found for this merchant`);
  }
  if (payment.status !== 'succeeded') {
    throw new RewardNotEligibleError(`payment ${paymentId} is ${payment.status}; only succeeded payments earn rewards`);
  }
}
