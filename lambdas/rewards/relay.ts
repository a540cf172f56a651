/**
 * The relay's policy (POST /reward/relay): which customer-signed transactions the treasury co-signs as their fee
 * payer. The treasury's signature is on the whole transaction, so a program could spend anything of the treasury's
 * that an instruction hands it. The policy therefore reads every instruction before the treasury signs:
 * - only the reward token's `transferChecked` and `burnChecked` (its program, its mint, its decimals), one memo,
 *   and a compute-unit limit; nothing of the System Program, so no SOL can move;
 * - the treasury is the fee payer and in no instruction's accounts, nor are the treasury's token accounts of the
 *   reward token or the mint authority: nothing of theirs can be signed for, debited or closed;
 * - every other signer has signed already, and validly (the treasury pays for nothing it cannot send);
 * - the size, instruction, signature and memo limits of contracts' RELAY_LIMITS.
 * Address lookup tables are refused: they would hide accounts from this reading.
 *
 * `relayTransaction` then signs as the treasury, simulates (signatures verified; the compute limit is checked on
 * what the programs used, since what an instruction costs is theirs to say; a transaction that would fail is
 * refused before it costs a fee), counts it against the merchant's daily budget (RELAY_DAILY_LIMIT: what one
 * merchant's token can make the treasury spend), sends, and waits a bounded time for it to be finalized. The same transaction
 * relayed again is the same signature: the cluster applies it once, and the answer is its state.
 *
 * A refusal is a 400 naming `transaction` and the reason; a cluster that does not answer is a TransientError.
 */
import { createPublicKey, verify } from 'node:crypto';
import { ComputeBudgetInstruction, ComputeBudgetProgram, PublicKey, TransactionInstruction, VersionedTransaction } from '@solana/web3.js';
import { decodeBurnCheckedInstruction, decodeTransferCheckedInstruction, TOKEN_2022_PROGRAM_ID, TOKEN_PROGRAM_ID, TokenInstruction } from '@solana/spl-token';
import bs58 from 'bs58';
import { RELAY_LIMITS } from '../../contracts/api';
import { RelayBudgetExhaustedError, TransientError, ValidationError } from '../../contracts/errors';
import { confirmSignature, MintRefusedError, type MintChain } from './mint';
import { MEMO_PROGRAM_ID } from './solana';

const MEMO_V1_PROGRAM_ID = new PublicKey('Memo1UhkJRfHyvLMcVucJwxXeuD728EqVDDwQDxFMNo');

export interface RelayPolicy {
  /** The fee payer: the one account whose signature the relay adds. */
  readonly treasury: PublicKey;
  readonly mint: PublicKey;
  readonly decimals: number;
  readonly programId: PublicKey;
  /** Accounts no instruction may name (the treasury's token accounts, the mint authority), each with what it is. */
  readonly guarded: ReadonlyArray<{ readonly key: PublicKey; readonly what: string }>;
}

/** What a simulation of a signed transaction said (simulateTransaction with its signatures verified). */
export interface Simulation {
  /** The transaction error as the cluster gives it (e.g. 'BlockhashNotFound', {InstructionError: [0, ...]}); null: it would succeed. */
  readonly err: unknown;
  readonly logs: readonly string[];
  /** Undefined when the cluster did not say. */
  readonly unitsConsumed: number | undefined;
}

export interface RelayDeps {
  readonly policy: RelayPolicy;
  /** Signs as the treasury (the fee payer). */
  readonly treasury: { readonly publicKey: PublicKey; readonly secretKey: Uint8Array };
  readonly chain: Pick<MintChain, 'send' | 'status'>;
  simulate(transaction: VersionedTransaction): Promise<Simulation>;
  /** Counts one sponsored transaction against the caller's budget; false when it is used up. */
  takeBudget(): Promise<boolean>;
  /** How long to wait for the transaction to be finalized before answering `pending`. */
  readonly confirmTimeoutMs: number;
  readonly pollMs?: number;
}

export interface RelayOutcome {
  readonly signature: string;
  readonly state: 'finalized' | 'pending';
  readonly instructions: readonly string[];
  readonly feeLamports: number;
  readonly unitsConsumed: number;
}

/** Lamports a cluster charges per signature (no priority fee: the relay refuses compute-unit prices). */
const LAMPORTS_PER_SIGNATURE = 5_000;

/** Relays `wire` (see the header): the treasury's signature, the outcome, or a refusal naming why. */
export async function relayTransaction(wire: Uint8Array, deps: RelayDeps): Promise<RelayOutcome> {
  const reading = readRelayTransaction(wire, deps.policy);
  const { transaction } = reading;
  transaction.sign([deps.treasury]);
  const signature = bs58.encode(transaction.signatures[0]);
  const simulation = await unlessSilent(() => deps.simulate(transaction));
  // Relayed before: the cluster has it (its state is the answer). Anything else that would fail costs no fee: refused.
  const replay = simulation.err === 'AlreadyProcessed';
  if (!replay) {
    if (simulation.err !== null && simulation.err !== undefined) refuse(failure(simulation));
    // Not knowing what it uses is not knowing it is within the limit.
    if (simulation.unitsConsumed === undefined) throw new TransientError('the Solana cluster did not say what the transaction uses; send the same transaction again');
    if (simulation.unitsConsumed > RELAY_LIMITS.maxComputeUnits) refuse(`uses ${simulation.unitsConsumed} compute units; at most ${RELAY_LIMITS.maxComputeUnits}`);
    // Counted once it would be sent (a refusal costs nothing; a send that is not taken counts: it may have landed).
    if (!(await deps.takeBudget())) throw new RelayBudgetExhaustedError('your relays of today (UTC) are used up (RELAY_DAILY_LIMIT); they start again at midnight UTC');
    try {
      await deps.chain.send(Buffer.from(transaction.serialize()));
    } catch (error) {
      if (error instanceof MintRefusedError) refuse(error.expired ? EXPIRED : `would fail on chain: ${firstLine(error.message)}`);
      // The RPC's words stay out of the answer (they may name the provider's URL).
      throw new TransientError('the Solana cluster did not take the transaction; send the same transaction again: it is applied once');
    }
  }
  const status = await unlessSilent(() => confirmSignature(deps.chain, signature, { confirmTimeoutMs: deps.confirmTimeoutMs, pollMs: deps.pollMs }));
  if (status.state === 'failed') refuse(`failed on chain: ${status.error}`);
  return {
    signature,
    state: status.state === 'finalized' ? 'finalized' : 'pending',
    instructions: reading.instructions,
    feeLamports: LAMPORTS_PER_SIGNATURE * reading.signatures,
    unitsConsumed: simulation.unitsConsumed ?? 0,
  };
}

const EXPIRED = 'its blockhash is unknown or expired: build it again with a recent blockhash (getLatestBlockhash) and sign it again';

function failure(simulation: Simulation): string {
  if (simulation.err === 'BlockhashNotFound') return EXPIRED;
  // The programs' own words say why (e.g. "insufficient funds"): the last few log lines.
  const logs = simulation.logs.filter((line) => !/consumed \d+ of \d+ compute units|^Program \w+ invoke|^Program \w+ success/.test(line)).slice(-3);
  return `would fail on chain: ${JSON.stringify(simulation.err)}${logs.length ? ` (${logs.join('; ')})` : ''}`;
}

function firstLine(text: string): string {
  return text.split('\n')[0].slice(0, 300);
}

/** A call to the cluster; one that fails or does not answer is a TransientError (the RPC's words stay out of the answer). */
async function unlessSilent<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof ValidationError || error instanceof TransientError) throw error;
    throw new TransientError(`the Solana cluster did not answer (${(error as Error)?.name ?? 'error'}); send the same transaction again: it is applied once`);
  }
}

/** What the policy read in an accepted transaction. */
export interface RelayReading {
  readonly transaction: VersionedTransaction;
  /** The instructions by name, in order (e.g. ['transferChecked', 'memo']). */
  readonly instructions: readonly string[];
  /** Signatures on it, the treasury's included: the fee is 5000 lamports each. */
  readonly signatures: number;
}

function refuse(problem: string): never {
  throw ValidationError.of([{ field: 'transaction', problem }]);
}

/** Ed25519 over `message` by `key`, with node:crypto (a raw key wrapped as SPKI). */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
function signedBy(key: PublicKey, message: Uint8Array, signature: Uint8Array): boolean {
  try {
    const publicKey = createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, key.toBuffer()]), format: 'der', type: 'spki' });
    return verify(null, message, publicKey, signature);
  } catch {
    return false;
  }
}

/**
 * Reads `wire` (a transaction's bytes) against the policy; refuses with the first reason it breaks. Whatever a
 * library throws on bytes it cannot make sense of is a refusal too (a 400, never a 500).
 */
export function readRelayTransaction(wire: Uint8Array, policy: RelayPolicy): RelayReading {
  if (wire.length > RELAY_LIMITS.maxBytes) refuse(`is ${wire.length} bytes; at most ${RELAY_LIMITS.maxBytes} (Solana's packet size)`);
  try {
    return read(wire, policy);
  } catch (error) {
    if (error instanceof ValidationError) throw error;
    refuse(`is not a well-formed Solana transaction (${(error as Error)?.message ?? String(error)})`);
  }
}

function read(wire: Uint8Array, policy: RelayPolicy): RelayReading {
  let transaction: VersionedTransaction;
  try {
    transaction = VersionedTransaction.deserialize(wire);
  } catch (error) {
    refuse(`is not a Solana transaction (${(error as Error).message})`);
  }
  // Legacy and v0 only: a later version's message carries settings of its own (a priority fee among them) that
  // this reading does not know.
  if (transaction.version !== 'legacy' && transaction.version !== 0) refuse(`is a version ${String(transaction.version)} transaction; only legacy and v0 are relayed`);
  const serialized = transaction.serialize();
  if (serialized.length !== wire.length) refuse(`has ${wire.length - serialized.length} bytes after the transaction's end`);
  const { message } = transaction;
  if (message.addressTableLookups.length > 0) refuse('uses address lookup tables: send every account in the transaction itself');
  const keys = message.staticAccountKeys;
  const { numRequiredSignatures, numReadonlySignedAccounts } = message.header;
  if (!keys[0]?.equals(policy.treasury)) refuse(`its fee payer is ${keys[0]?.toBase58() ?? 'missing'}, not the treasury ${policy.treasury.toBase58()} (GET /reward/relay's feePayer)`);
  // The fee payer is the first account, a writable signer: anything else is a transaction no cluster takes.
  if (numRequiredSignatures < 1 || numReadonlySignedAccounts >= numRequiredSignatures) refuse('its header does not make the fee payer a writable signer');
  if (numRequiredSignatures > RELAY_LIMITS.maxSignatures) refuse(`needs ${numRequiredSignatures} signatures; at most ${RELAY_LIMITS.maxSignatures}, the treasury's included`);
  if (new Set(keys.map((k) => k.toBase58())).size !== keys.length) refuse('lists an account twice');

  const compiled = message.compiledInstructions;
  if (compiled.length === 0) refuse('has no instructions');
  if (compiled.length > RELAY_LIMITS.maxInstructions) refuse(`has ${compiled.length} instructions; at most ${RELAY_LIMITS.maxInstructions}`);
  const otherTokenProgram = policy.programId.equals(TOKEN_PROGRAM_ID) ? TOKEN_2022_PROGRAM_ID : TOKEN_PROGRAM_ID;
  const names: string[] = [];
  compiled.forEach((ix, index) => {
    const at = `instruction ${index + 1}`;
    if ([ix.programIdIndex, ...ix.accountKeyIndexes].some((i) => i >= keys.length)) refuse(`${at} names account #${Math.max(ix.programIdIndex, ...ix.accountKeyIndexes)}; the transaction lists ${keys.length}`);
    const programId = keys[ix.programIdIndex];
    for (const account of ix.accountKeyIndexes) {
      const key = keys[account];
      if (key.equals(policy.treasury)) refuse(`${at} names the treasury ${key.toBase58()}: the treasury only pays the fee`);
      const guarded = policy.guarded.find((g) => g.key.equals(key));
      if (guarded) refuse(`${at} names ${guarded.what} ${key.toBase58()}`);
    }
    const instruction = new TransactionInstruction({
      programId,
      keys: ix.accountKeyIndexes.map((i) => ({ pubkey: keys[i], isSigner: message.isAccountSigner(i), isWritable: message.isAccountWritable(i) })),
      data: Buffer.from(ix.data),
    });
    names.push(readInstruction(instruction, at, policy, otherTokenProgram, names));
  });

  // Every signer but the treasury has signed, and validly: the treasury pays for nothing that cannot land.
  const bytes = message.serialize();
  for (let i = 1; i < numRequiredSignatures; i += 1) {
    const signature = transaction.signatures[i];
    if (!signature || signature.every((b) => b === 0)) refuse(`is not signed by ${keys[i].toBase58()}: every signer but the treasury signs before relaying`);
    if (!signedBy(keys[i], bytes, signature)) refuse(`the signature of ${keys[i].toBase58()} does not verify: sign the transaction as sent, after setting its blockhash`);
  }
  return { transaction, instructions: names, signatures: numRequiredSignatures };
}

function readInstruction(instruction: TransactionInstruction, at: string, policy: RelayPolicy, otherTokenProgram: PublicKey, before: readonly string[]): string {
  const { programId, data } = instruction;
  if (programId.equals(policy.programId)) {
    const opcode = data[0];
    let decoded: { keys: { mint: { pubkey: PublicKey } }; data: { decimals: number } };
    let name: string;
    try {
      if (opcode === TokenInstruction.TransferChecked) {
        decoded = decodeTransferCheckedInstruction(instruction, policy.programId);
        name = 'transferChecked';
      } else if (opcode === TokenInstruction.BurnChecked) {
        decoded = decodeBurnCheckedInstruction(instruction, policy.programId);
        name = 'burnChecked';
      } else {
        const known = opcode === undefined ? undefined : (TokenInstruction as unknown as Record<number, string>)[opcode];
        refuse(`${at}: the token instruction ${known ?? `#${String(opcode)}`} is not relayed (only transferChecked and burnChecked of the reward token)`);
      }
    } catch (error) {
      if (error instanceof ValidationError) throw error;
      refuse(`${at}: a malformed token instruction (${(error as Error).name})`);
    }
    if (!decoded.keys.mint.pubkey.equals(policy.mint)) refuse(`${at}: ${name} of the token ${decoded.keys.mint.pubkey.toBase58()}; only the reward token ${policy.mint.toBase58()} is relayed`);
    if (decoded.data.decimals !== policy.decimals) refuse(`${at}: ${name} with ${decoded.data.decimals} decimals; the reward token has ${policy.decimals}`);
    return name;
  }
  if (programId.equals(otherTokenProgram)) refuse(`${at}: the program ${programId.toBase58()} is not the reward token's (${policy.programId.toBase58()})`);
  if (programId.equals(MEMO_PROGRAM_ID) || programId.equals(MEMO_V1_PROGRAM_ID)) {
    if (before.includes('memo')) refuse(`${at}: a second memo; at most one`);
    if (data.length > RELAY_LIMITS.maxMemoBytes) refuse(`${at}: a memo of ${data.length} bytes; at most ${RELAY_LIMITS.maxMemoBytes}`);
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(data);
    } catch {
      refuse(`${at}: a memo that is not UTF-8`);
    }
    return 'memo';
  }
  if (programId.equals(ComputeBudgetProgram.programId)) {
    let type: string;
    try {
      type = ComputeBudgetInstruction.decodeInstructionType(instruction);
    } catch {
      refuse(`${at}: a malformed Compute Budget instruction`);
    }
    if (type === 'SetComputeUnitPrice') refuse(`${at}: a compute-unit price is a priority fee, which the treasury would pay; it is not relayed`);
    if (type !== 'SetComputeUnitLimit') refuse(`${at}: the Compute Budget instruction ${type} is not relayed (only SetComputeUnitLimit)`);
    if (before.includes('setComputeUnitLimit')) refuse(`${at}: a second compute-unit limit`);
    if (data.length !== 5) refuse(`${at}: a malformed compute-unit limit (${data.length} bytes, not 5)`);
    const { units } = ComputeBudgetInstruction.decodeSetComputeUnitLimit(instruction);
    if (units > RELAY_LIMITS.maxComputeUnits) refuse(`${at}: a compute-unit limit of ${units}; at most ${RELAY_LIMITS.maxComputeUnits}`);
    return 'setComputeUnitLimit';
  }
  refuse(`${at}: the program ${programId.toBase58()} is not relayed (only the reward token's transferChecked and burnChecked, a memo, and a compute-unit limit)`);
}
