/**
 * The mint protocol's Solana adapters (mint.ts's ports), over web3.js's `Connection` (a cluster's JSON-RPC by
 * SOLANA_RPC_URL; the local platform's ledger locally) and spl-token's instructions:
 * - `connectionMintChain`: blockhashes, block height, sending (with preflight: a transaction that would fail is
 *   refused before it costs a fee), and signature statuses (finalized only counts as landed);
 * - `splMintBuilder`: the reward's transaction: the wallet's associated token account created idempotently,
 *   `mintToChecked` (the amount and the mint's decimals checked by the program), and a memo with the payment id,
 *   signed by the mint authority, which pays the fees. SPL Token or Token-2022 (`programId`), ATA derivation
 *   included.
 */
import { PublicKey, SendTransactionError, Transaction, TransactionInstruction, type Connection, type Keypair } from '@solana/web3.js';
import { createAssociatedTokenAccountIdempotentInstruction, createMintToCheckedInstruction, getAssociatedTokenAddressSync, TOKEN_PROGRAM_ID } from '@solana/spl-token';
import bs58 from 'bs58';
import { MintRefusedError, type MintBuilder, type MintChain, type SignatureState } from './mint';

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
        if (/Blockhash not found|block height exceeded/i.test(text)) throw new MintRefusedError(text, true);
        if (/Transaction simulation failed/i.test(text)) throw new MintRefusedError(text);
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

export function splMintBuilder(options: { readonly authority: Keypair; readonly mint: PublicKey; readonly decimals: number; readonly programId?: PublicKey }): MintBuilder {
  const programId = options.programId ?? TOKEN_PROGRAM_ID;
  const { authority, mint, decimals } = options;
  return {
    build({ paymentId, wallet, baseUnits }, blockhash) {
      const owner = new PublicKey(wallet);
      const ata = getAssociatedTokenAddressSync(mint, owner, false, programId);
      const tx = new Transaction({ feePayer: authority.publicKey, recentBlockhash: blockhash }).add(
        createAssociatedTokenAccountIdempotentInstruction(authority.publicKey, ata, owner, mint, programId),
        createMintToCheckedInstruction(mint, ata, authority.publicKey, baseUnits, decimals, [], programId),
        new TransactionInstruction({ programId: MEMO_PROGRAM_ID, keys: [], data: Buffer.from(paymentId, 'utf8') }),
      );
      tx.sign(authority);
      return { wire: tx.serialize(), signature: bs58.encode(tx.signature!) };
    },
  };
}
