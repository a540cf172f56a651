/**
 * Creates the local reward token on the local ledger when it is not there (a new data folder, or another token
 * program or decimals): funds the treasury from the bank's faucet, then creates the mint (the treasury pays) with
 * the authority as its mint authority, no freeze authority. At each start the treasury is topped up (to 1,000 SOL),
 * as an operator keeps a real one funded, and the authority too (to 10 SOL), for a run without a treasury. Loaded
 * with the ledger (web3.js, spl-token).
 */
import { Keypair, LAMPORTS_PER_SOL, SystemProgram, Transaction, type PublicKey } from '@solana/web3.js';
import { createInitializeMint2Instruction, MINT_SIZE, TOKEN_2022_PROGRAM_ID, TOKEN_PROGRAM_ID, unpackMint } from '@solana/spl-token';
import type { LocalLedger } from './ledger';
import type { LocalRewardKeys } from './reward-keys';

/** The treasury's balance at which each start tops it up, and what it tops up to. */
const TREASURY_FLOOR = 100 * LAMPORTS_PER_SOL;
const TREASURY_FILL = 1_000 * LAMPORTS_PER_SOL;
const AUTHORITY_FLOOR = LAMPORTS_PER_SOL;
const AUTHORITY_FILL = 10 * LAMPORTS_PER_SOL;

export async function ensureRewardToken(ledger: LocalLedger, keys: LocalRewardKeys): Promise<void> {
  const authority = Keypair.fromSecretKey(keys.authority);
  const treasury = Keypair.fromSecretKey(keys.treasury);
  const mint = Keypair.fromSecretKey(keys.mint);
  const programId = keys.program === 'token-2022' ? TOKEN_2022_PROGRAM_ID : TOKEN_PROGRAM_ID;
  await topUp(ledger, treasury.publicKey, TREASURY_FLOOR, TREASURY_FILL);
  // The authority pays the fees on a stage without a treasury (SOLANA_TREASURY_SECRET_ARN unset): a little SOL too.
  await topUp(ledger, authority.publicKey, AUTHORITY_FLOOR, AUTHORITY_FILL);
  const existing = await ledger.account(mint.publicKey);
  if (existing) {
    const state = unpackMint(mint.publicKey, existing, programId);
    if (state.decimals !== keys.decimals || !state.mintAuthority?.equals(authority.publicKey)) {
      throw new Error(`the local reward mint ${keys.mintAddress} has ${state.decimals} decimals and authority ${state.mintAuthority?.toBase58() ?? 'none'}, not ${keys.decimals} and ${keys.authorityAddress}`);
    }
    return;
  }
  const { blockhash } = await ledger.latestBlockhash();
  const tx = new Transaction({ feePayer: treasury.publicKey, recentBlockhash: blockhash }).add(
    SystemProgram.createAccount({
      fromPubkey: treasury.publicKey,
      newAccountPubkey: mint.publicKey,
      lamports: await ledger.minimumBalanceForRentExemption(MINT_SIZE),
      space: MINT_SIZE,
      programId,
    }),
    createInitializeMint2Instruction(mint.publicKey, keys.decimals, authority.publicKey, null, programId),
  );
  tx.sign(treasury, mint);
  await ledger.send(tx.serialize());
}

/** Airdrops `pubkey` up to `fill` lamports when it holds less than `floor`. */
async function topUp(ledger: LocalLedger, pubkey: PublicKey, floor: number, fill: number): Promise<void> {
  const balance = (await ledger.account(pubkey))?.lamports ?? 0;
  if (balance < floor) await ledger.airdrop(pubkey, fill - balance);
}
