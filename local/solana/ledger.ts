/**
 * The local Solana ledger: solana-bankrun's bank (the real SPL Token, Associated Token Account and Memo programs,
 * in process), made to behave like a cluster for the JSON-RPC facade (rpc.ts):
 *
 * - Slots advance with the clock (`slotMs`, 400 ms as a cluster's; the block height is the slot), and a blockhash
 *   expires as a cluster's does: it is valid up to 150 blocks after the slot it was handed out in
 *   (`lastValidBlockHeight`), about a minute (under load sooner: see `latestBlockhash`). bankrun makes a new
 *   blockhash with every transaction it runs; when none has run for a while, the bank is moved to a new slot for a
 *   new one, only when one is asked for: every move keeps a bank in memory (about 160 KB), so moving on every
 *   slot would grow by 1.4 GB an hour.
 * - Every processed transaction is kept with what `getTransaction`, `getSignatureStatuses` and
 *   `getSignaturesForAddress` answer: its slot and time, its error, fee, lamport and token balances before and
 *   after, and its logs.
 * - With a directory, the ledger persists in one journal (`ledger.jsonl`): each transaction's record and the
 *   state after it of every account it touched, in one line appended before the RPC answers (a line cut short by
 *   a crash was never answered, and is skipped). A start restores the newest state of every account into a new
 *   bank (bankrun has no snapshots) and carries the slot on, so signatures and balances survive a restart or
 *   `kill -9`. The journal is compacted at start (the accounts once, then the records).
 *
 * Sending follows a cluster: a transaction whose signatures do not verify is refused (bankrun verifies none, so
 * the ledger does, as a cluster's RPC node does before anything else); with preflight (the default), a transaction
 * that would fail (an unknown or expired blockhash, an instruction error, one already processed) is refused with
 * the simulation's error and logs, and nothing is recorded; without it, one whose blockhash is unknown is dropped
 * (its status stays unknown, as a cluster's would), a resend of one processed is answered with its signature, and
 * one that fails is recorded with its error and fee. `simulate` answers as `simulateTransaction` does.
 */
import { createPublicKey, verify } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PublicKey, SystemProgram, Transaction, VersionedTransaction, type AccountInfo } from '@solana/web3.js';
import { AccountLayout, MintLayout, TOKEN_2022_PROGRAM_ID, TOKEN_PROGRAM_ID } from '@solana/spl-token';
import bs58 from 'bs58';
import type { AddedAccount, ProgramTestContext } from 'solana-bankrun';
import { LedgerRpcError } from './errors';
import { journalLines, repairJournal } from '../../contracts/journal';

export { LedgerRpcError };

/** Lamports a signature costs (the cluster's default fee rate, which bankrun's genesis keeps). */
export const LAMPORTS_PER_SIGNATURE = 5_000;
/** Blocks a blockhash stays valid after the one it was handed out in (a cluster's MAX_PROCESSING_AGE). */
export const BLOCKHASH_VALID_BLOCKS = 150;
/** After this many slots without a new blockhash (no transaction processed), the bank moves on for one. */
const REFRESH_SLOTS = 10;

/** A token account's balance as the RPC reports it (pre- and post-token balances). */
export interface TokenBalance {
  readonly accountIndex: number;
  readonly mint: string;
  readonly owner: string;
  readonly programId: string;
  readonly uiTokenAmount: { readonly amount: string; readonly decimals: number; readonly uiAmount: number | null; readonly uiAmountString: string };
}

/** A processed transaction as the ledger keeps it (and journals it). */
export interface RecordedTransaction {
  readonly signature: string;
  readonly slot: number;
  /** Unix seconds. */
  readonly blockTime: number;
  /** The transaction as sent (base64 of its wire form). */
  readonly wire: string;
  /** The instruction error, as the RPC reports it (null: succeeded). */
  readonly err: unknown;
  readonly fee: number;
  readonly accountKeys: readonly string[];
  readonly preBalances: readonly number[];
  readonly postBalances: readonly number[];
  readonly preTokenBalances: readonly TokenBalance[];
  readonly postTokenBalances: readonly TokenBalance[];
  readonly logMessages: readonly string[];
  readonly computeUnitsConsumed: number;
  /** The memos of its Memo program instructions, as `getSignaturesForAddress` reports them (`[len] text; ...`). */
  readonly memo: string | null;
}

/** bankrun's words for a transaction whose blockhash it does not know (any more). */
const BLOCKHASH_NOT_FOUND = /blockhash not found|BlockhashNotFound/i;

/** A JSON-RPC error for a preflight failure, as a cluster words it. */
const SIMULATION_FAILED = -32002;

export const MEMO_PROGRAM_ID = new PublicKey('MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr');
const MEMO_V1_PROGRAM_ID = new PublicKey('Memo1UhkJRfHyvLMcVucJwxXeuD728EqVDDwQDxFMNo');

const JOURNAL = 'ledger.jsonl';
const SYSVAR_OWNER = new PublicKey('Sysvar1111111111111111111111111111111111111');

/**
 * A journal line: a transaction's record and the accounts' states after it (or, compacted, the accounts alone), or
 * the horizon: a block height past every blockhash's last valid height handed out so far.
 */
interface JournalLine {
  readonly tx?: RecordedTransaction;
  readonly accounts?: readonly StoredAccount[];
  readonly horizon?: number;
}

/** How far ahead of the blockhash handed out the journalled horizon is set (one line per this many slots). */
const HORIZON_STEP = 50;

interface StoredAccount {
  readonly pubkey: string;
  /** null: the account is gone (closed). */
  readonly account: { lamports: number; data: string; owner: string; executable: boolean } | null;
}

export interface LocalLedgerOptions {
  /** Where the ledger persists (ledger.jsonl); in memory when omitted. */
  readonly dir?: string;
  /** How often the slot advances, ms (0: only when asked, `advance`). @default 400 */
  readonly slotMs?: number;
}

export class LocalLedger {
  private readonly history = new Map<string, RecordedTransaction>();
  /** Signatures by account, oldest first. */
  private readonly byAddress = new Map<string, string[]>();
  /** The slot each blockhash was handed out in. */
  private readonly issued = new Map<string, number>();
  /** Slots added by `advance` (with `slotMs` 0 the clock moves only so). */
  private advanced = 0;
  private readonly startedAt = Date.now();
  /** Sends are processed one at a time, as a leader orders them. */
  private queue: Promise<unknown> = Promise.resolve();
  private readonly listeners = new Set<(record: RecordedTransaction) => void>();
  /** The journalled horizon (see JournalLine). */
  private horizon = 0;

  private constructor(
    private readonly context: ProgramTestContext,
    private readonly firstSlot: number,
    private readonly slotMs: number,
    private readonly dir: string | undefined,
  ) {}

  static async start(options: LocalLedgerOptions = {}): Promise<LocalLedger> {
    // The bank logs every instruction at debug level otherwise (its logs are in each transaction's record); it
    // reads RUST_LOG when its native module loads.
    process.env.RUST_LOG ??= 'error';
    const { start } = await import('solana-bankrun');
    const dir = options.dir;
    const accounts = new Map<string, StoredAccount['account']>();
    const transactions: RecordedTransaction[] = [];
    let horizon = 0;
    if (dir) {
      mkdirSync(dir, { recursive: true });
      const journal = join(dir, JOURNAL);
      // The ledger is its journal's one writer: a line a crash cut short is cut off before it appends.
      repairJournal(journal);
      for (const line of readLines(journal) as JournalLine[]) {
        for (const stored of line.accounts ?? []) accounts.set(stored.pubkey, stored.account);
        if (line.tx) transactions.push(line.tx);
        if (typeof line.horizon === 'number') horizon = Math.max(horizon, line.horizon);
      }
      // Compacted: the newest state of each live account, once, then the records.
      const live: StoredAccount[] = [...accounts].filter(([, account]) => account !== null).map(([pubkey, account]) => ({ pubkey, account }));
      writeAtomically(
        journal,
        [
          JSON.stringify({ accounts: live } satisfies JournalLine),
          ...(horizon ? [JSON.stringify({ horizon } satisfies JournalLine)] : []),
          ...transactions.map((tx) => JSON.stringify({ tx } satisfies JournalLine)),
        ]
          .map((l) => `${l}\n`)
          .join(''),
      );
    }
    const added: AddedAccount[] = [...accounts].flatMap(([pubkey, account]) =>
      account ? [{ address: new PublicKey(pubkey), info: { lamports: account.lamports, data: Buffer.from(account.data, 'base64'), owner: new PublicKey(account.owner), executable: account.executable } }] : [],
    );
    const context = await start([], added);
    // The slot carries on from the last run's, so its signatures' slots stay in the past, and past the horizon: a
    // new bank knows none of the last run's blockhashes, so each must be expired by height, as its holder can tell
    // (a transaction signed with one, still unsent, is then rebuilt rather than waited on).
    const lastSlot = transactions.reduce((max, t) => Math.max(max, t.slot), 0);
    const ledger = new LocalLedger(context, Math.max(Number(await context.banksClient.getSlot()), lastSlot + 1, horizon + 1), options.slotMs ?? 400, dir);
    ledger.horizon = horizon;
    for (const t of transactions) ledger.remember(t);
    return ledger;
  }

  /** Moves the clock on by `slots` (tests of expiry; the clock also moves with time unless `slotMs` is 0). */
  advance(slots = 1): void {
    this.advanced += slots;
  }

  /** The current slot (and block height): the clock's. */
  async slot(): Promise<number> {
    return this.firstSlot + this.advanced + (this.slotMs > 0 ? Math.floor((Date.now() - this.startedAt) / this.slotMs) : 0);
  }

  blockHeight(): Promise<number> {
    return this.slot();
  }

  /**
   * A blockhash to sign with and the last block height it is valid at. bankrun registers a new blockhash with
   * every transaction it runs, and keeps a blockhash for about 300 of them: the newest is handed out, so under load
   * a blockhash stays valid for ~150 transactions at least, which may be sooner than its 150 blocks (then it is
   * refused as not found, as an expired one is). When nothing has run for REFRESH_SLOTS, the bank moves on.
   */
  async latestBlockhash(): Promise<{ blockhash: string; lastValidBlockHeight: number }> {
    return this.serially(async () => {
      const slot = await this.slot();
      let latest = await this.bankBlockhash();
      const issuedAt = this.issued.get(latest);
      if (issuedAt !== undefined && slot - issuedAt >= REFRESH_SLOTS) {
        await this.nextBank();
        latest = await this.bankBlockhash();
      }
      if (!this.issued.has(latest)) this.issued.set(latest, slot);
      // Expired ones are refused whether remembered or not: forget them before they pile up under load.
      if (this.issued.size > 10_000) for (const [hash, at] of this.issued) if (at + BLOCKHASH_VALID_BLOCKS < slot) this.issued.delete(hash);
      const lastValidBlockHeight = this.issued.get(latest)! + BLOCKHASH_VALID_BLOCKS;
      // On record before it is handed out: the next start begins past it.
      if (this.dir && lastValidBlockHeight >= this.horizon) {
        this.horizon = lastValidBlockHeight + HORIZON_STEP;
        appendFileSync(join(this.dir, JOURNAL), `${JSON.stringify({ horizon: this.horizon } satisfies JournalLine)}\n`);
      }
      return { blockhash: latest, lastValidBlockHeight };
    });
  }

  private async bankBlockhash(): Promise<string> {
    const latest = await this.context.banksClient.getLatestBlockhash();
    if (!latest) throw new LedgerRpcError(-32603, 'the local bank has no blockhash');
    return latest[0];
  }

  /**
   * Moves the bank one slot on (a new blockhash). One slot at a time: a longer warp makes the bank verify its
   * accounts hash (it panicked after an account had been set directly). The bank's slot is its own; the clock's is
   * the one reported.
   */
  private async nextBank(): Promise<void> {
    this.context.warpToSlot((await this.context.banksClient.getSlot()) + 1n);
  }

  /**
   * bankrun forgot a blockhash this ledger still counts as valid (it keeps an unused one for about a second of
   * wall time, not 150 blocks): the clock jumps past the blockhash's last valid block height, so it is expired by
   * height too, as its holder can tell (it then rebuilds, rather than waiting on a blockhash that can never land).
   */
  private async expire(blockhash: string): Promise<void> {
    const issuedAt = this.issued.get(blockhash);
    if (issuedAt === undefined) return;
    const past = issuedAt + BLOCKHASH_VALID_BLOCKS + 1 - (await this.slot());
    if (past > 0) this.advanced += past;
  }

  /** Whether a transaction's blockhash is one this ledger handed out and still valid now. */
  private async blockhashValid(blockhash: string): Promise<boolean> {
    const issuedAt = this.issued.get(blockhash);
    return issuedAt !== undefined && (await this.slot()) <= issuedAt + BLOCKHASH_VALID_BLOCKS;
  }

  async account(pubkey: PublicKey): Promise<AccountInfo<Buffer> | null> {
    const account = await this.context.banksClient.getAccount(pubkey);
    if (!account) return null;
    return { ...account, data: Buffer.from(account.data) };
  }

  async minimumBalanceForRentExemption(size: number): Promise<number> {
    return Number((await this.context.banksClient.getRent()).minimumBalance(BigInt(size)));
  }

  /**
   * Sends `lamports` to `pubkey` from the bank's faucet (the genesis payer), as a local cluster's requestAirdrop
   * does: a transfer recorded like any transaction. Returns its signature.
   */
  async airdrop(pubkey: PublicKey, lamports: number): Promise<string> {
    if (!Number.isSafeInteger(lamports) || lamports <= 0) throw new LedgerRpcError(-32602, 'Invalid params: lamports must be a positive integer');
    const { blockhash } = await this.latestBlockhash();
    const faucet = this.context.payer;
    const tx = new Transaction({ feePayer: faucet.publicKey, recentBlockhash: blockhash }).add(SystemProgram.transfer({ fromPubkey: faucet.publicKey, toPubkey: pubkey, lamports }));
    tx.sign(faucet);
    return this.send(tx.serialize());
  }

  /**
   * Simulates a transaction (its wire form) as a cluster's `simulateTransaction` does: its error (null: it would
   * succeed), logs and compute units; nothing is recorded or changed. With `sigVerify`, signatures that do not
   * verify are 'SignatureFailure'.
   */
  simulate(wire: Buffer, options: { sigVerify?: boolean } = {}): Promise<{ err: unknown; logs: string[]; unitsConsumed: number }> {
    return this.serially(async () => {
      const tx = decode(wire);
      const none = { logs: [], unitsConsumed: 0 };
      if (options.sigVerify && !signaturesVerify(tx)) return { err: 'SignatureFailure', ...none };
      if (this.history.has(bs58.encode(tx.signatures[0]))) return { err: 'AlreadyProcessed', ...none };
      if (!(await this.blockhashValid(tx.message.recentBlockhash))) return { err: 'BlockhashNotFound', ...none };
      const simulated = await this.context.banksClient.simulateTransaction(tx, 'processed');
      if (simulated.result && BLOCKHASH_NOT_FOUND.test(simulated.result)) {
        await this.expire(tx.message.recentBlockhash);
        return { err: 'BlockhashNotFound', ...none };
      }
      return {
        err: simulated.result ? errOf(simulated.result) : null,
        logs: simulated.meta?.logMessages ?? [],
        unitsConsumed: Number(simulated.meta?.computeUnitsConsumed ?? 0),
      };
    });
  }

  /**
   * Processes a transaction (its wire form), as a cluster's `sendTransaction` does (see the header). Returns its
   * signature, or throws a LedgerRpcError.
   */
  send(wire: Buffer, options: { skipPreflight?: boolean } = {}): Promise<string> {
    return this.serially(async () => {
      const tx = decode(wire);
      // A cluster's RPC node verifies signatures before anything else, preflight or not.
      if (!signaturesVerify(tx)) throw new LedgerRpcError(SIGNATURE_VERIFICATION_FAILED, 'Transaction signature verification failure');
      const signature = bs58.encode(tx.signatures[0]);
      if (this.history.has(signature)) {
        if (!options.skipPreflight) throw simulationFailed('This transaction has already been processed', 'AlreadyProcessed', []);
        return signature;
      }
      // An unknown or expired blockhash: refused by preflight, else dropped (a cluster never processes it).
      if (!(await this.blockhashValid(tx.message.recentBlockhash))) {
        if (!options.skipPreflight) throw simulationFailed('Transaction simulation failed: Blockhash not found', 'BlockhashNotFound', []);
        return signature;
      }
      if (!options.skipPreflight) {
        const simulated = await this.context.banksClient.simulateTransaction(tx, 'processed');
        if (simulated.result && BLOCKHASH_NOT_FOUND.test(simulated.result)) {
          await this.expire(tx.message.recentBlockhash);
          throw simulationFailed('Transaction simulation failed: Blockhash not found', 'BlockhashNotFound', []);
        }
        if (simulated.result) throw simulationFailed(`Transaction simulation failed: ${describe(simulated.result)}`, errOf(simulated.result), simulated.meta?.logMessages ?? []);
      }
      const keys = tx.message.staticAccountKeys;
      const before = await Promise.all(keys.map((k) => this.context.banksClient.getAccount(k)));
      const result = await this.context.banksClient.tryProcessTransaction(tx);
      // Not processed at all (a cluster drops it): an unknown blockhash, or a signature or fee payer it refuses.
      if (result.result && BLOCKHASH_NOT_FOUND.test(result.result)) {
        await this.expire(tx.message.recentBlockhash);
        return signature;
      }
      if (result.result && !result.meta) return signature;
      const after = await Promise.all(keys.map((k) => this.context.banksClient.getAccount(k)));
      const accountKeys = keys.map((k) => k.toBase58());
      const record: RecordedTransaction = {
        signature,
        slot: await this.slot(),
        blockTime: Math.floor(Date.now() / 1000),
        wire: Buffer.from(wire).toString('base64'),
        err: result.result ? errOf(result.result) : null,
        fee: LAMPORTS_PER_SIGNATURE * tx.message.header.numRequiredSignatures,
        accountKeys,
        preBalances: before.map((a) => Number(a?.lamports ?? 0)),
        postBalances: after.map((a) => Number(a?.lamports ?? 0)),
        preTokenBalances: await this.tokenBalances(keys, before),
        postTokenBalances: await this.tokenBalances(keys, after),
        logMessages: result.meta?.logMessages ?? [],
        computeUnitsConsumed: Number(result.meta?.computeUnitsConsumed ?? 0),
        memo: memoOf(tx),
      };
      // On disk before the RPC answers: the record and the state it left, in one line.
      if (this.dir) appendFileSync(join(this.dir, JOURNAL), `${JSON.stringify({ tx: record, accounts: await this.accountStates(accountKeys) } satisfies JournalLine)}\n`);
      this.remember(record);
      for (const listener of this.listeners) listener(record);
      return signature;
    });
  }

  /** Calls `listener` with each transaction recorded from now on (signature subscriptions); returns the unsubscribe. */
  onRecorded(listener: (record: RecordedTransaction) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A processed transaction, or undefined (never sent, dropped, or still unknown). */
  transaction(signature: string): RecordedTransaction | undefined {
    return this.history.get(signature);
  }

  /** The signatures of transactions that touched `address`, newest first, as `getSignaturesForAddress` pages them. */
  signaturesFor(address: string, options: { limit?: number; before?: string; until?: string } = {}): RecordedTransaction[] {
    const all = [...(this.byAddress.get(address) ?? [])].reverse();
    let from = 0;
    if (options.before) {
      const i = all.indexOf(options.before);
      from = i < 0 ? all.length : i + 1;
    }
    const out: RecordedTransaction[] = [];
    for (const signature of all.slice(from)) {
      if (signature === options.until || out.length >= Math.min(options.limit ?? 1000, 1000)) break;
      out.push(this.history.get(signature)!);
    }
    return out;
  }

  /** Nothing runs in the background (the clock is read, not ticked); kept for the platform's shutdown order. */
  close(): void {
    this.issued.clear();
  }

  private remember(record: RecordedTransaction): void {
    this.history.set(record.signature, record);
    for (const key of new Set(record.accountKeys)) {
      const list = this.byAddress.get(key) ?? [];
      list.push(record.signature);
      this.byAddress.set(key, list);
    }
  }

  private serially<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** The states of these accounts now, as the journal keeps them (programs and sysvars are the bank's own: a new bank has them). */
  private async accountStates(pubkeys: readonly string[]): Promise<StoredAccount[]> {
    const out: StoredAccount[] = [];
    for (const pubkey of new Set(pubkeys)) {
      const account = await this.context.banksClient.getAccount(new PublicKey(pubkey));
      if (account?.executable || account?.owner.equals(SYSVAR_OWNER)) continue;
      out.push({
        pubkey,
        account: account ? { lamports: Number(account.lamports), data: Buffer.from(account.data).toString('base64'), owner: account.owner.toBase58(), executable: account.executable } : null,
      });
    }
    return out;
  }

  /** The token accounts among `keys` (SPL Token or Token-2022), with their mint's decimals. */
  private async tokenBalances(keys: readonly PublicKey[], accounts: ReadonlyArray<AccountInfo<Uint8Array> | null>): Promise<TokenBalance[]> {
    const out: TokenBalance[] = [];
    for (let i = 0; i < keys.length; i += 1) {
      const account = accounts[i];
      if (!account || !isTokenProgram(account.owner) || account.data.length < AccountLayout.span) continue;
      const token = AccountLayout.decode(Buffer.from(account.data).subarray(0, AccountLayout.span));
      const mint = await this.context.banksClient.getAccount(token.mint);
      if (!mint || mint.data.length < MintLayout.span) continue;
      const decimals = MintLayout.decode(Buffer.from(mint.data).subarray(0, MintLayout.span)).decimals;
      out.push({ accountIndex: i, mint: token.mint.toBase58(), owner: token.owner.toBase58(), programId: account.owner.toBase58(), uiTokenAmount: uiAmount(token.amount, decimals) });
    }
    return out;
  }
}

export function isTokenProgram(owner: PublicKey): boolean {
  return owner.equals(TOKEN_PROGRAM_ID) || owner.equals(TOKEN_2022_PROGRAM_ID);
}

/** An amount of base units as the RPC shows it: the integer as a string, and as a (lossy) number of whole tokens. */
export function uiAmount(amount: bigint, decimals: number): TokenBalance['uiTokenAmount'] {
  const text = amount.toString().padStart(decimals + 1, '0');
  const whole = decimals ? `${text.slice(0, -decimals)}.${text.slice(-decimals)}`.replace(/\.?0+$/, '') : text;
  return { amount: amount.toString(), decimals, uiAmount: Number(whole), uiAmountString: whole };
}

/** `[len] text` for each memo instruction, joined by `; ` (getSignaturesForAddress's `memo`), or null. */
function memoOf(tx: VersionedTransaction): string | null {
  const keys = tx.message.staticAccountKeys;
  const memos = tx.message.compiledInstructions
    .filter((ix) => keys[ix.programIdIndex].equals(MEMO_PROGRAM_ID) || keys[ix.programIdIndex].equals(MEMO_V1_PROGRAM_ID))
    .map((ix) => `[${ix.data.length}] ${Buffer.from(ix.data).toString('utf8')}`);
  return memos.length ? memos.join('; ') : null;
}

/** bankrun's error text as the RPC's `err` value: `{InstructionError: [i, ...]}` when it names the instruction. */
function errOf(result: string): unknown {
  const instruction = /Error processing Instruction (\d+): (.*)$/.exec(result);
  if (instruction) {
    const custom = /custom program error: (0x[0-9a-f]+)/i.exec(instruction[2]);
    return { InstructionError: [Number(instruction[1]), custom ? { Custom: Number(custom[1]) } : instruction[2]] };
  }
  if (/blockhash not found/i.test(result)) return 'BlockhashNotFound';
  if (/already been processed|AlreadyProcessed/i.test(result)) return 'AlreadyProcessed';
  if (/insufficient funds for fee/i.test(result)) return 'InsufficientFundsForFee';
  if (/account not found|AccountNotFound/i.test(result)) return 'AccountNotFound';
  return result;
}

/** A transaction's wire form, or the RPC's invalid-params error. */
function decode(wire: Buffer): VersionedTransaction {
  let tx: VersionedTransaction;
  try {
    tx = VersionedTransaction.deserialize(wire);
  } catch (error) {
    throw new LedgerRpcError(-32602, `invalid transaction: ${(error as Error).message}`);
  }
  if (tx.message.addressTableLookups.length > 0) throw new LedgerRpcError(-32602, 'invalid transaction: the local ledger does not resolve address lookup tables');
  return tx;
}

/** A cluster's error for a transaction whose signatures do not verify. */
const SIGNATURE_VERIFICATION_FAILED = -32003;
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** Every required signature present and valid over the message (Ed25519, node:crypto). */
function signaturesVerify(tx: VersionedTransaction): boolean {
  const message = tx.message.serialize();
  const signers = tx.message.staticAccountKeys.slice(0, tx.message.header.numRequiredSignatures);
  return signers.every((key, i) => {
    const signature = tx.signatures[i];
    if (!signature || signature.every((b) => b === 0)) return false;
    try {
      return verify(null, message, createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, key.toBuffer()]), format: 'der', type: 'spki' }), signature);
    } catch {
      return false;
    }
  });
}

function describe(result: string): string {
  return result.replace(/^Transaction (simulation )?failed: /i, '');
}

function simulationFailed(message: string, err: unknown, logs: readonly string[]): LedgerRpcError {
  return new LedgerRpcError(SIMULATION_FAILED, message, { err, logs, accounts: null, unitsConsumed: 0, returnData: null });
}

/** The transactions a ledger folder's journal holds, in order (what `npm run test:faults` counts mints from). */
export function journalTransactions(dir: string): RecordedTransaction[] {
  return (readLines(join(dir, JOURNAL)) as JournalLine[]).flatMap((line) => (line.tx ? [line.tx] : []));
}

function readLines(path: string): unknown[] {
  return existsSync(path) ? journalLines(readFileSync(path, 'utf8')) : [];
}

function writeAtomically(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}
