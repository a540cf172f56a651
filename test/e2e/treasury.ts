/**
 * The local platform's reward treasury as its operator holds it: its keypair file under the data folder
 * (local/solana/reward-keys.ts), for the suites that run the runbook's "treasury out of SOL".
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Connection, Keypair, SystemProgram, Transaction } from '@solana/web3.js';
import { TREASURY_FILE } from '../../local/solana/reward-keys';
import type { LocalPlatform } from '../../local/platform';

/** The treasury's keypair, read from `dataDir` (the platform must have been started with it). */
export function treasuryKeypair(platform: LocalPlatform, dataDir: string): Keypair {
  const treasury = Keypair.fromSecretKey(Uint8Array.from(JSON.parse(readFileSync(join(dataDir, 'solana', TREASURY_FILE), 'utf8')) as number[]));
  if (treasury.publicKey.toBase58() !== platform.solana.treasury) throw new Error(`${dataDir} holds another platform's treasury`);
  return treasury;
}

/**
 * Sends all the treasury's SOL elsewhere, signed with its own key (the transfer's fee aside): the account is gone,
 * and every mint it would pay the fee of is refused in preflight. Returns the treasury.
 */
export async function drainTreasury(platform: LocalPlatform, dataDir: string): Promise<Keypair> {
  const treasury = treasuryKeypair(platform, dataDir);
  const connection = new Connection(platform.solana.url, 'confirmed');
  const balance = await connection.getBalance(treasury.publicKey);
  const drain = new Transaction().add(SystemProgram.transfer({ fromPubkey: treasury.publicKey, toPubkey: Keypair.generate().publicKey, lamports: balance - 5_000 }));
  await connection.sendTransaction(drain, [treasury]); // the local ledger answers once it is processed
  const left = await connection.getBalance(treasury.publicKey);
  if (left !== 0) throw new Error(`the treasury still holds ${left} lamports`);
  return treasury;
}
