/**
 * The local cluster's stablecoins for Solana Pay: a "USDC" and a "EURC" (6 decimals, the real ones' shape) and
 * the merchant's wallet that receives transfers, with its token accounts. Their keys are derived from fixed
 * seeds, so their addresses are constants the local registry names (local/connectors.ts), checked here at each
 * start. The stablecoins' mint authority is local too: tests mint to a customer's wallet with it, as a faucet.
 */
import { createHash } from 'node:crypto';
import { Keypair, LAMPORTS_PER_SOL, SystemProgram, Transaction } from '@solana/web3.js';
import {
  createAssociatedTokenAccountIdempotentInstruction,
  createInitializeMint2Instruction,
  getAssociatedTokenAddressSync,
  MINT_SIZE,
  TOKEN_PROGRAM_ID,
} from '@solana/spl-token';
import { LOCAL_SOLANA_PAY } from '../connectors';
import type { LocalLedger } from './ledger';

const seeded = (seed: string) => Keypair.fromSeed(createHash('sha256').update(seed).digest());

/** The local stablecoins' keys (mints and their authority) and the merchant's wallet. */
export function localPayKeys() {
  return {
    mints: { USD: seeded('smartpay-local-usdc'), EUR: seeded('smartpay-local-eurc') },
    authority: seeded('smartpay-local-stablecoin-authority'),
    merchant: seeded('smartpay-local-merchant'),
  };
}

/** Creates the stablecoins and the merchant's token accounts when they are not on the ledger yet. */
export async function ensurePayTokens(ledger: LocalLedger): Promise<void> {
  const keys = localPayKeys();
  if (keys.merchant.publicKey.toBase58() !== LOCAL_SOLANA_PAY.recipient) throw new Error('local/connectors.ts names another Solana Pay merchant than its seed');
  const authority = keys.authority;
  if (((await ledger.account(authority.publicKey))?.lamports ?? 0) < LAMPORTS_PER_SOL) await ledger.airdrop(authority.publicKey, 10 * LAMPORTS_PER_SOL);
  // A wallet that receives transfers exists on chain (Solana Pay's createTransfer checks the recipient's account).
  if (!(await ledger.account(keys.merchant.publicKey))) await ledger.airdrop(keys.merchant.publicKey, LAMPORTS_PER_SOL);
  for (const [currency, mint] of Object.entries(keys.mints)) {
    const token = LOCAL_SOLANA_PAY.tokens[currency];
    if (token?.mint !== mint.publicKey.toBase58()) throw new Error(`local/connectors.ts names another ${currency} token than its seed`);
    if (await ledger.account(mint.publicKey)) continue;
    const { blockhash } = await ledger.latestBlockhash();
    const ata = getAssociatedTokenAddressSync(mint.publicKey, keys.merchant.publicKey);
    const tx = new Transaction({ feePayer: authority.publicKey, recentBlockhash: blockhash }).add(
      SystemProgram.createAccount({
        fromPubkey: authority.publicKey,
        newAccountPubkey: mint.publicKey,
        lamports: await ledger.minimumBalanceForRentExemption(MINT_SIZE),
        space: MINT_SIZE,
        programId: TOKEN_PROGRAM_ID,
      }),
      createInitializeMint2Instruction(mint.publicKey, token.decimals, authority.publicKey, null),
      createAssociatedTokenAccountIdempotentInstruction(authority.publicKey, ata, keys.merchant.publicKey, mint.publicKey),
    );
    tx.sign(authority, mint);
    await ledger.send(tx.serialize());
  }
}
