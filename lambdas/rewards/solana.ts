/**
 * The mint protocol's Solana adapters (mint.ts's ports), over web3.js's `Connection` (a cluster's JSON-RPC by
 * SOLANA_RPC_URL; the local platform's ledger locally) and spl-token's instructions:
 * - `connectionMintChain`: blockhashes, block height, sending (with preflight: a transaction that would fail is
 *   refused before it costs a fee), and signature statuses (finalized only counts as landed);
 * - `splMintBuilder`: the reward's transaction: the wallet's associated token account created idempotently,
 *   `mintToChecked` (the amount and the mint's decimals checked by the program), and a memo with the payment id,
 *   signed by the mint authority and by the treasury, which pays the fee and the new account's rent (the authority
 *   pays on a stage without a treasury). SPL Token or Token-2022 (`programId`), ATA derivation included;
 * - `stageMinting`: both from a stage's configuration, with reading balances and the relay's treasury and policy.
 */
import { Keypair, PublicKey, SendTransactionError, Transaction, TransactionInstruction, type Connection, type VersionedTransaction } from '@solana/web3.js';
import { clusterConnection } from '../shared/solana-rpc';
import {
  createAssociatedTokenAccountIdempotentInstruction,
  createMintToCheckedInstruction,
  getAssociatedTokenAddressSync,
  TOKEN_2022_PROGRAM_ID,
  TOKEN_PROGRAM_ID,
} from '@solana/spl-token';
import bs58 from 'bs58';
import { MintRefusedError, type MintBuilder, type MintChain, type SignatureState } from './mint';
import type { RelayPolicy, Simulation } from './relay';

export const MEMO_PROGRAM_ID = new PublicKey('MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr');

export function connectionMintChain(connection: Connection): MintChain {
  return {
    async latestBlockhash() {
      return connection.getLatestBlockhash('finalized');
    },
    blockHeight() {
      return connection.getBlockHeight('finalized');
    },
    async send(wire) {
      try {
        await connection.sendRawTransaction(wire, { skipPreflight: false, preflightCommitment: 'confirmed', maxRetries: 0 });
      } catch (error) {
        const text = `${(error as Error)?.message ?? String(error)}${error instanceof SendTransactionError && error.logs?.length ? `\n${error.logs.join('\n')}` : ''}`;
        // Taken already (an earlier send landed it): what we wanted.
        if (/already been processed/i.test(text)) return;
        if (/Blockhash not found|block height exceeded/i.test(text)) throw new MintRefusedError(refusalReason(error), true);
        if (/Transaction simulation failed/i.test(text)) throw new MintRefusedError(refusalReason(error));
        throw error;
      }
    },
    async status(signature): Promise<SignatureState> {
      const { value } = await connection.getSignatureStatuses([signature], { searchTransactionHistory: true });
      const status = value[0];
      if (!status) return { state: 'unknown' };
      if (status.err) return { state: 'failed', error: JSON.stringify(status.err) };
      return status.confirmationStatus === 'finalized' ? { state: 'finalized' } : { state: 'unknown' };
    },
  };
}

/**
 * The cluster's reason for refusing a transaction, in its words and without web3.js's wrapping: the simulation's
 * message, and the lines of its logs that say what failed (a program's error).
 */
export function refusalReason(error: unknown): string {
  const message = (error as Error)?.message ?? String(error);
  const said = /Message: ([^\n]*?)\.?\s*(?:\n|$)/.exec(message)?.[1] ?? message.split('\n')[0]!;
  const logs = error instanceof SendTransactionError ? (error.logs ?? []).filter((line) => /failed|error/i.test(line)).slice(-2) : [];
  return [said, ...logs].join('; ');
}

export function splMintBuilder(options: {
  readonly authority: Keypair;
  /** Pays the fee and the rent of a new token account (default: the authority). */
  readonly feePayer?: Keypair;
  readonly mint: PublicKey;
  readonly decimals: number;
  readonly programId?: PublicKey;
}): MintBuilder {
  const programId = options.programId ?? TOKEN_PROGRAM_ID;
  const { authority, mint, decimals } = options;
  const payer = options.feePayer ?? authority;
  return {
    build({ paymentId, wallet, baseUnits }, blockhash) {
      const owner = new PublicKey(wallet);
      // An owner off the curve (a multisig's vault, a program's address) can hold tokens too.
      const ata = getAssociatedTokenAddressSync(mint, owner, true, programId);
      const tx = new Transaction({ feePayer: payer.publicKey, recentBlockhash: blockhash }).add(
        createAssociatedTokenAccountIdempotentInstruction(payer.publicKey, ata, owner, mint, programId),
        createMintToCheckedInstruction(mint, ata, authority.publicKey, baseUnits, decimals, [], programId),
        new TransactionInstruction({ programId: MEMO_PROGRAM_ID, keys: [], data: Buffer.from(paymentId, 'utf8') }),
      );
      // The fee payer's signature comes first: it is the transaction's id (web3.js signs once for a repeated signer).
      tx.sign(payer, authority);
      // Signed just now by the keys that must sign: verifying them again (web3.js's default) costs two Ed25519
      // verifications in pure JavaScript a mint, the rewards function's largest CPU cost (measured).
      return { wire: tx.serialize({ verifySignatures: false }), signature: bs58.encode(tx.signature!), tokenMint: mint.toBase58(), recipient: ata.toBase58() };
    },
  };
}

/** How long one JSON-RPC call may take before it counts as failed. */
const RPC_TIMEOUT_MS = 10_000;

/** The program id of a stage's token program (REWARD_TOKEN_PROGRAM). */
export function tokenProgramId(program: 'spl-token' | 'token-2022'): PublicKey {
  return program === 'token-2022' ? TOKEN_2022_PROGRAM_ID : TOKEN_PROGRAM_ID;
}

/**
 * A keypair from a secret's value: a Solana CLI keypair file's JSON (an array of the 64 secret-key bytes), or
 * the same 64 bytes in base58 (what wallets export). The error never quotes the value.
 */
export function keypairFromSecret(value: string, arn: string): Keypair {
  let bytes: Uint8Array | undefined;
  const text = value.trim();
  try {
    if (text.startsWith('[')) {
      const numbers = JSON.parse(text) as unknown;
      if (Array.isArray(numbers) && numbers.every((n) => Number.isInteger(n) && n >= 0 && n <= 255)) bytes = Uint8Array.from(numbers as number[]);
    } else {
      bytes = bs58.decode(text);
    }
  } catch {
    bytes = undefined;
  }
  if (bytes?.length !== 64) {
    throw new Error(`secret ${arn} is not a Solana keypair: store a keypair file's JSON (64 numbers, as solana-keygen writes it) or its 64 bytes in base58`);
  }
  try {
    return Keypair.fromSecretKey(bytes);
  } catch {
    throw new Error(`secret ${arn} is not a valid Solana keypair (its public half does not match its secret half)`);
  }
}

/** What minting on a stage needs: its cluster, and how its transactions are built and signed; and reading balances. */
export interface StageMinting {
  readonly chain: MintChain;
  readonly builder: MintBuilder;
  /** The wallet's associated token account and its balance in base units (0 when it has none yet). */
  balance(wallet: string): Promise<{ recipient: string; tokens: bigint }>;
  /** The platform's own accounts, by address, each with what it is: no customer's wallet (tokens minted there would be no customer's). */
  readonly ownAccounts: ReadonlyMap<string, string>;
  /** The relay's fee payer and what it co-signs; undefined on a stage without a treasury. */
  readonly relay?: { readonly treasury: Keypair; readonly policy: RelayPolicy; simulate(tx: VersionedTransaction): Promise<Simulation> };
}

/**
 * A stage's minting from its configuration: the cluster by SOLANA_RPC_URL (or the secret holding it), the mint
 * authority's keypair from its secret, the token mint and its program. Undefined when the stage has no mint.
 */
export async function stageMinting(
  solana: {
    readonly rpcUrl: string;
    readonly rpcUrlSecretArn?: string;
    readonly tokenMint?: string;
    readonly tokenProgram: 'spl-token' | 'token-2022';
    readonly mintAuthoritySecretArn?: string;
    readonly treasurySecretArn?: string;
  },
  decimals: number,
  secret: (arn: string) => Promise<string>,
): Promise<StageMinting | undefined> {
  if (solana.tokenMint === undefined) return undefined;
  if (solana.mintAuthoritySecretArn === undefined) {
    throw new Error('SPL_TOKEN_MINT_ADDRESS is set but SOLANA_MINT_AUTHORITY_SECRET_ARN is not: the mint authority signs every reward');
  }
  const authority = keypairFromSecret(await secret(solana.mintAuthoritySecretArn), solana.mintAuthoritySecretArn);
  const treasury = solana.treasurySecretArn === undefined ? undefined : keypairFromSecret(await secret(solana.treasurySecretArn), solana.treasurySecretArn);
  if (treasury?.publicKey.equals(authority.publicKey)) {
    // Its signature on a relayed transaction would be the mint authority's: keep minting out of any customer's reach.
    throw new Error(`SOLANA_TREASURY_SECRET_ARN holds the mint authority's keypair (${authority.publicKey.toBase58()}): the treasury must be another account`);
  }
  // Every call bounded: a connection that goes quiet fails the try (retried) instead of holding the function.
  const connection = await clusterConnection(solana, secret, RPC_TIMEOUT_MS);
  const mint = new PublicKey(solana.tokenMint);
  const programId = tokenProgramId(solana.tokenProgram);
  const ownAccounts = new Map<string, string>([
    [mint.toBase58(), 'the reward token mint'],
    [authority.publicKey.toBase58(), 'the mint authority'],
    ...(treasury ? [[treasury.publicKey.toBase58(), 'the treasury'] as [string, string]] : []),
  ]);
  return {
    ownAccounts,
    chain: connectionMintChain(connection),
    builder: splMintBuilder({ authority, feePayer: treasury, mint, decimals, programId }),
    async balance(wallet) {
      const recipient = getAssociatedTokenAddressSync(mint, new PublicKey(wallet), true, programId);
      // No account yet: nothing was minted to it (getAccountInfo answers null rather than failing).
      if (!(await connection.getAccountInfo(recipient, 'confirmed'))) return { recipient: recipient.toBase58(), tokens: 0n };
      const { value } = await connection.getTokenAccountBalance(recipient, 'confirmed');
      return { recipient: recipient.toBase58(), tokens: BigInt(value.amount) };
    },
    relay: treasury && {
      treasury,
      policy: {
        treasury: treasury.publicKey,
        mint,
        decimals,
        programId,
        guarded: [
          { key: getAssociatedTokenAddressSync(mint, treasury.publicKey, false, programId), what: "the treasury's token account" },
          { key: authority.publicKey, what: 'the mint authority' },
        ],
      },
      async simulate(tx) {
        const { value } = await connection.simulateTransaction(tx, { sigVerify: true, commitment: 'confirmed' });
        return { err: value.err, logs: value.logs ?? [], unitsConsumed: value.unitsConsumed };
      },
    },
  };
}
