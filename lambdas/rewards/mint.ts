/**
 * Minting a reward on Solana exactly once, after its ledger entry (rewards.ts) exists (nothing, once a refund
 * reversed it):
 *
 * 1. build the transaction (the wallet's associated token account created idempotently, `mintToChecked` of the
 *    entry's base units, a memo with the payment id), signed by the mint authority, which pays the fees;
 * 2. record its signature, its blockhash's last valid block height and its wire form on the entry *before*
 *    sending, with a condition on the attempt it replaces (two runs never both record a fresh transaction);
 * 3. send, confirm (poll the signature's status until finalized), and mark the entry minted.
 *
 * A retry (the workflow's, or a run after a crash between any two steps) starts from the recorded attempt:
 * finalized → minted; failed on chain → nothing was minted (a transaction is atomic), so a new transaction;
 * unknown while its blockhash may still land → the same bytes again (the same signature: the cluster applies it
 * once); unknown once the chain is past its last valid block height → it can never land, so a new one. A new
 * transaction is built only when the old one provably did not and cannot mint. A transaction that failed on chain
 * or was refused is marked on the entry (`failedAt` and the cluster's reason: the reward's chain state `failed`)
 * with a `mint_failed` change, once per transaction.
 *
 * Over two ports: the chain (lambdas/rewards/solana.ts, web3.js's Connection; the local ledger's JSON-RPC locally)
 * and the transaction builder (the same file: spl-token's instructions, signed with the authority).
 */
import { TransientError } from '../../contracts/errors';
import type { MintAttempt } from './rewards';

export type { MintAttempt };

export type SignatureState = { readonly state: 'finalized' } | { readonly state: 'failed'; readonly error: string } | { readonly state: 'unknown' };

export interface MintChain {
  latestBlockhash(): Promise<{ blockhash: string; lastValidBlockHeight: number }>;
  blockHeight(): Promise<number>;
  /**
   * Sends a signed transaction. Resolves when the cluster took it (or had it already); rejects with a
   * MintRefusedError when it would fail (nothing can be minted by it), any other error when it is not known to
   * have been taken.
   */
  send(wire: Buffer): Promise<void>;
  status(signature: string): Promise<SignatureState>;
}

/**
 * The mint cannot succeed as things are (no entry or no tokens or no wallet, a refusal, a failure on chain): a retry
 * helps only once an operator has fixed the cause. Anything else thrown by a mint is not known to be final.
 */
export class MintFailedError extends Error {
  constructor(
    message: string,
    /** The recorded transaction that failed or was refused, the cluster's reason and its tokens (absent: none was sent). */
    readonly transaction?: { readonly signature: string; readonly reason: string; readonly tokens: string },
  ) {
    super(message);
    this.name = 'MintFailedError';
  }
}

/** The cluster refused the transaction in preflight: sent as is, it would fail (the reason in words). */
export class MintRefusedError extends Error {
  constructor(
    message: string,
    /** An expired or unknown blockhash: the transaction never ran, and a new one may. */
    readonly expired = false,
  ) {
    super(message);
    this.name = 'MintRefusedError';
  }
}

export interface MintBuilder {
  /**
   * The reward's transaction for `blockhash`, signed: its wire form, its signature (base58), the token mint and
   * the wallet's associated token account it mints to.
   */
  build(
    request: { readonly paymentId: string; readonly wallet: string; readonly baseUnits: bigint },
    blockhash: string,
  ): { wire: Buffer; signature: string; tokenMint: string; recipient: string };
}

export interface MintLedger {
  /** The entry's tokens, wallet and current attempt (undefined: no entry). */
  mintState(paymentId: string): Promise<{ readonly tokens: string; readonly status: string; readonly wallet?: string; readonly mint?: MintAttempt } | undefined>;
  /** Records `attempt` if the entry's current one is still the one of signature `replacing` (none: undefined); false when another run changed it. */
  recordAttempt(paymentId: string, attempt: MintAttempt, replacing: string | undefined): Promise<boolean>;
  /** Marks the attempt of `signature` minted at `at`, recording the `minted` change of its tokens (a no-op if it was). */
  markMinted(paymentId: string, signature: string, at: string, tokens: string): Promise<void>;
  /**
   * Marks the attempt of `signature` failed at `at` for `reason`, recording the `mint_failed` change of its tokens
   * once (a no-op if it was, or if the entry's attempt is another's or minted by now).
   */
  markFailed(paymentId: string, signature: string, at: string, reason: string, tokens: string): Promise<void>;
}

export interface MintDeps {
  readonly ledger: MintLedger;
  readonly chain: MintChain;
  readonly builder: MintBuilder;
  readonly now: () => Date;
  /** How long to poll a sent transaction's status before leaving it to the next retry. @default 20000 */
  readonly confirmTimeoutMs?: number;
  /** @default 500 */
  readonly pollMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls the signature's status until finalized, failed, or the time is up (unknown). */
export async function confirmSignature(
  chain: Pick<MintChain, 'status'>,
  signature: string,
  options: { readonly confirmTimeoutMs?: number; readonly pollMs?: number; readonly sleep?: (ms: number) => Promise<void> },
): Promise<SignatureState> {
  const sleep = options.sleep ?? defaultSleep;
  const deadline = Date.now() + (options.confirmTimeoutMs ?? 20_000);
  for (;;) {
    const status = await chain.status(signature);
    if (status.state !== 'unknown' || Date.now() >= deadline) return status;
    await sleep(options.pollMs ?? 500);
  }
}

const confirm = (signature: string, deps: MintDeps) => confirmSignature(deps.chain, signature, deps);

/**
 * Mints the reward of `paymentId` to its entry's wallet exactly once (see the header); returns the attempt that
 * minted it (undefined: a refund reversed the reward first, and nothing is owed). Throws TransientError when the
 * outcome is not known yet (the caller retries later), MintFailedError when the mint cannot succeed as things are (an on-chain failure or a preflight refusal, such as a treasury
 * without the SOL for the fee: a retry helps only once an operator has fixed it), and whatever its ports throw
 * (a store or RPC call that failed: not known to be final either).
 */
export async function mintOnce(paymentId: string, deps: MintDeps): Promise<MintAttempt | undefined> {
  try {
    return await mintRounds(paymentId, deps);
  } catch (error) {
    if (error instanceof MintFailedError) await recordFailure(paymentId, error, deps);
    throw error;
  }
}

/** A transaction that failed or was refused goes on the entry (its chain state `failed`) and into its changes. */
async function recordFailure(paymentId: string, error: MintFailedError, deps: MintDeps): Promise<void> {
  if (!error.transaction) return;
  const { signature, reason, tokens } = error.transaction;
  await deps.ledger.markFailed(paymentId, signature, deps.now().toISOString(), reason.slice(0, MAX_REASON), tokens);
}

/** The longest failure reason kept on a reward (the cluster's words; a program's logs can run long). */
const MAX_REASON = 500;

/**
 * The error of a recorded attempt that failed or was refused, for `reason` (`said` in the message); `tokens`: the
 * entry's, for an attempt recorded without its own.
 */
const failedTransaction = (paymentId: string, attempt: MintAttempt, tokens: string, reason: string, said = reason) =>
  new MintFailedError(`reward ${paymentId}: mint ${attempt.signature} ${said}`, { signature: attempt.signature, reason, tokens: attempt.tokens ?? tokens });

const failedOnChain = (paymentId: string, attempt: MintAttempt, tokens: string, error: string) => failedTransaction(paymentId, attempt, tokens, `failed on chain: ${error}`);

async function mintRounds(paymentId: string, deps: MintDeps): Promise<MintAttempt | undefined> {
  for (let round = 0; round < 5; round += 1) {
    const entry = await deps.ledger.mintState(paymentId);
    if (!entry) throw new MintFailedError(`reward ${paymentId} has no ledger entry: record it before minting`);
    // Refunded in full before any transaction: nothing is owed.
    if (entry.status === 'reversed') return undefined;
    if (entry.status !== 'recorded') throw new MintFailedError(`reward ${paymentId} is ${entry.status}: it has no tokens to mint`);
    const current = entry.mint;
    const wallet = current?.wallet ?? entry.wallet;
    if (wallet === undefined) throw new MintFailedError(`reward ${paymentId} has no wallet to mint to`);
    if (current?.mintedAt) return current;
    if (current) {
      const status = await deps.chain.status(current.signature);
      if (status.state === 'finalized') return minted(paymentId, current, deps);
      if (status.state === 'unknown' && (await deps.chain.blockHeight()) <= current.lastValidBlockHeight) {
        // It may still land: the same bytes again, never a second transaction.
        if ((await sendOrThrow(paymentId, current, entry.tokens, deps)) === 'expired') continue;
        const after = await confirm(current.signature, deps);
        if (after.state === 'finalized') return minted(paymentId, current, deps);
        if (after.state === 'unknown') throw new TransientError(`reward ${paymentId}: mint ${current.signature} is not finalized yet; it is checked again on the next try`);
        throw failedOnChain(paymentId, current, entry.tokens, after.error);
      }
      // Failed on chain (nothing minted), or expired (it can never land): a new transaction replaces it. A failure
      // a run found and could not record (it stopped first) is recorded before it is replaced.
      if (status.state === 'failed' && current.failedAt === undefined) await recordFailure(paymentId, failedOnChain(paymentId, current, entry.tokens, status.error), deps);
    }
    const { blockhash, lastValidBlockHeight } = await deps.chain.latestBlockhash();
    const { wire, signature, tokenMint, recipient } = deps.builder.build({ paymentId, wallet, baseUnits: BigInt(entry.tokens) }, blockhash);
    const attempt: MintAttempt = { wallet, tokenMint, recipient, signature, tokens: entry.tokens, lastValidBlockHeight, wire: wire.toString('base64') };
    // On record before it is sent: a crash from here on finds it.
    if (!(await deps.ledger.recordAttempt(paymentId, attempt, current?.signature))) continue; // another run moved first: follow it
    if ((await sendOrThrow(paymentId, attempt, entry.tokens, deps)) === 'expired') continue;
    const status = await confirm(signature, deps);
    if (status.state === 'finalized') return minted(paymentId, attempt, deps);
    if (status.state === 'unknown') throw new TransientError(`reward ${paymentId}: mint ${signature} is not finalized yet; it is checked again on the next try`);
    throw failedOnChain(paymentId, attempt, entry.tokens, status.error);
  }
  throw new TransientError(`reward ${paymentId}: other runs kept changing its mint; it is tried again`);
}

/**
 * Sends a recorded attempt. 'expired': refused for its blockhash, and the chain is provably past its last valid
 * height (it can never land), so the caller builds a new one at once. Throws TransientError when it is not known to
 * have been taken (the recorded attempt decides on the next try), MintFailedError when it was refused for good.
 */
async function sendOrThrow(paymentId: string, attempt: MintAttempt, tokens: string, deps: MintDeps): Promise<'sent' | 'expired'> {
  try {
    await deps.chain.send(Buffer.from(attempt.wire, 'base64'));
    return 'sent';
  } catch (error) {
    if (error instanceof MintRefusedError && !error.expired) throw failedTransaction(paymentId, attempt, tokens, `refused: ${error.message}`, `was refused: ${error.message}`);
    if (error instanceof MintRefusedError && (await deps.chain.blockHeight()) > attempt.lastValidBlockHeight) return 'expired';
    throw new TransientError(`reward ${paymentId}: mint ${attempt.signature} could not be sent (${(error as Error)?.message ?? String(error)}); it is checked again on the next try`);
  }
}

async function minted(paymentId: string, attempt: MintAttempt, deps: MintDeps): Promise<MintAttempt> {
  const at = deps.now().toISOString();
  // The attempt's tokens (an attempt recorded before attempts carried them minted the entry's, unchanged since).
  const tokens = attempt.tokens ?? (await deps.ledger.mintState(paymentId))?.tokens ?? '0';
  await deps.ledger.markMinted(paymentId, attempt.signature, at, tokens);
  return { ...attempt, mintedAt: at };
}

/**
 * Which of the unminted rewards (oldest first) a sweep run mints, at most `limit`: the oldest half, and a window of
 * the rest that moves on by its size each `turn` (the schedule's minute). Rewards that keep failing (a cause only
 * an operator can fix) cannot hold the newer ones back for good: each of the first `candidates` is tried within
 * ceil((candidates - limit/2) / (limit/2)) runs.
 */
export function sweepBatch(oldestFirst: readonly string[], limit: number, turn: number): string[] {
  if (oldestFirst.length <= limit) return [...oldestFirst];
  const half = Math.ceil(limit / 2);
  const rest = oldestFirst.slice(half);
  const size = limit - half;
  const start = (turn * size) % rest.length;
  const window = [...rest.slice(start), ...rest.slice(0, start)].slice(0, size);
  return [...oldestFirst.slice(0, half), ...window];
}
