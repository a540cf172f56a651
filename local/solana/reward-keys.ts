/**
 * The local platform's reward token keys, as a deployment's operator would hold them: the mint authority's keypair
 * (it signs every reward), the treasury's (a separate account: it pays the fees and new token accounts' rent, and
 * sponsors POST /reward/relay) and the mint's own keypair (used once, to create the mint on the local ledger).
 * Generated on first use under `.smartpay/solana/` (mode 0600, Solana CLI keypair files: JSON arrays of the 64
 * secret-key bytes) and never logged; in memory for an in-memory platform. The authority and the treasury reach
 * the rewards function as secrets (the local Secrets Manager endpoint), as in the cloud.
 *
 * One mint per token program and decimals (`reward-mint.<program>.<decimals>.json`), so changing
 * REWARD_TOKEN_PROGRAM or REWARD_TOKEN_DECIMALS locally gets a mint that matches rather than a refused mint.
 * Keys come from node:crypto (Ed25519), so starting the platform does not load web3.js.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import bs58 from 'bs58';

export interface LocalRewardKeys {
  /** The authority's 64 secret-key bytes (seed, then public key), and its address. */
  readonly authority: Uint8Array;
  readonly authorityAddress: string;
  /** The treasury's 64 secret-key bytes, and its address (the fee payer). */
  readonly treasury: Uint8Array;
  readonly treasuryAddress: string;
  /** The mint's 64 secret-key bytes, and its address (SPL_TOKEN_MINT_ADDRESS). */
  readonly mint: Uint8Array;
  readonly mintAddress: string;
  readonly program: 'spl-token' | 'token-2022';
  readonly decimals: number;
}

export const AUTHORITY_FILE = 'reward-mint-authority.json';
export const TREASURY_FILE = 'reward-treasury.json';

/** A new Ed25519 keypair as Solana keeps it: the 32-byte seed, then the 32-byte public key. */
function newKeypair(): Uint8Array {
  const jwk = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' });
  return Uint8Array.from([...Buffer.from(jwk.d!, 'base64url'), ...Buffer.from(jwk.x!, 'base64url')]);
}

/** The keypair file at `path`, created (exclusively, 0600) when there is none. */
function loadOrCreate(path: string | undefined): Uint8Array {
  if (!path) return newKeypair();
  try {
    const bytes = JSON.parse(readFileSync(path, 'utf8')) as number[];
    if (!Array.isArray(bytes) || bytes.length !== 64) throw new Error(`${path} is not a Solana keypair file (64 numbers); remove it to get a new one`);
    return Uint8Array.from(bytes);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const bytes = newKeypair();
  try {
    writeFileSync(path, JSON.stringify([...bytes]), { mode: 0o600, flag: 'wx' });
    return bytes;
  } catch (error) {
    // Another process made it first: use theirs.
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return loadOrCreate(path);
    throw error;
  }
}

export function loadOrCreateRewardKeys(dir: string | undefined, program: 'spl-token' | 'token-2022', decimals: number): LocalRewardKeys {
  if (dir) mkdirSync(dir, { recursive: true });
  const authority = loadOrCreate(dir && join(dir, AUTHORITY_FILE));
  const treasury = loadOrCreate(dir && join(dir, TREASURY_FILE));
  const mint = loadOrCreate(dir && join(dir, `reward-mint.${program}.${decimals}.json`));
  return {
    authority,
    authorityAddress: bs58.encode(authority.subarray(32)),
    treasury,
    treasuryAddress: bs58.encode(treasury.subarray(32)),
    mint,
    mintAddress: bs58.encode(mint.subarray(32)),
    program,
    decimals,
  };
}

/** A keypair as its secret's value: a Solana CLI keypair file's JSON. */
export function keypairSecret(secretKey: Uint8Array): string {
  return JSON.stringify([...secretKey]);
}
