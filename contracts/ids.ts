/**
 * Time-sortable identifiers (ULID-style, Crockford base32): `pay_` + 10 characters of milliseconds + 10
 * random characters. Ordering by id is ordering by creation time, so a time window is a key range.
 */
import bs58 from 'bs58';
import { z } from 'zod';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const TIME_CHARS = 10;
const RANDOM_CHARS = 10;

function encodeTime(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0) throw new RangeError(`cannot encode time ${ms}`);
  let out = '';
  let rest = ms;
  for (let i = 0; i < TIME_CHARS; i += 1) {
    out = ALPHABET[rest % 32] + out;
    rest = Math.floor(rest / 32);
  }
  return out;
}

function randomChars(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(RANDOM_CHARS));
  let out = '';
  for (const byte of bytes) out += ALPHABET[byte % 32];
  return out;
}

export function newPaymentId(now: Date = new Date()): string {
  return `pay_${encodeTime(now.getTime())}${randomChars()}`;
}

/** A reward claim's id: `clm_` and the same time-sortable characters as a payment id's. */
export function newClaimId(now: Date = new Date()): string {
  return `clm_${encodeTime(now.getTime())}${randomChars()}`;
}

/** The inclusive key range of the payment ids created in [from, to). */
export function paymentIdRange(from: Date, to: Date): { low: string; high: string } {
  return { low: `pay_${encodeTime(from.getTime())}`, high: `pay_${encodeTime(Math.max(0, to.getTime() - 1))}~` };
}

/** The creation time encoded in a payment id. */
export function paymentIdTime(paymentId: string): Date {
  const encoded = paymentId.slice(4, 4 + TIME_CHARS);
  let ms = 0;
  for (const char of encoded) {
    const value = ALPHABET.indexOf(char);
    if (value < 0) throw new RangeError(`not a payment id: ${paymentId}`);
    ms = ms * 32 + value;
  }
  return new Date(ms);
}

/** A payment id as `newPaymentId` makes them. */
export const PaymentId = z.string().regex(/^pay_[0-9A-Z]{20}$/, 'must be a payment id (pay_...)').describe('a payment id as POST /pay returns it (pay_ and 20 characters)');

/** A routing decision id as `POST /route` returns them. */
export const DecisionId = z.string().regex(/^rt_[A-Za-z0-9_-]{8,64}$/, 'must be a decisionId returned by POST /route');

/**
 * Addresses that are no one's wallet on any cluster: the native programs, the token programs, sysvars, the
 * native mints and the incinerator. A reward minted to one could never be spent (tokens sent to a program or a
 * mint are lost). test/unit/ids.test.ts checks that every one web3.js and spl-token export is here.
 */
export const NOT_WALLETS: Readonly<Record<string, string>> = {
  '11111111111111111111111111111111': 'the System Program',
  TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA: 'the SPL Token program',
  TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb: 'the Token-2022 program',
  ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL: 'the Associated Token Account program',
  MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr: 'the Memo program',
  Memo1UhkJRfHyvLMcVucJwxXeuD728EqVDDwQDxFMNo: 'the Memo program (v1)',
  ComputeBudget111111111111111111111111111111: 'the Compute Budget program',
  Vote111111111111111111111111111111111111111: 'the Vote program',
  Stake11111111111111111111111111111111111111: 'the Stake program',
  Config1111111111111111111111111111111111111: 'the Config program',
  AddressLookupTab1e1111111111111111111111111: 'the Address Lookup Table program',
  Ed25519SigVerify111111111111111111111111111: 'the Ed25519 program',
  KeccakSecp256k11111111111111111111111111111: 'the Secp256k1 program',
  BPFLoader1111111111111111111111111111111111: 'a BPF loader',
  BPFLoader2111111111111111111111111111111111: 'a BPF loader',
  BPFLoaderUpgradeab1e11111111111111111111111: 'the upgradeable BPF loader',
  NativeLoader1111111111111111111111111111111: 'the native loader',
  SysvarC1ock11111111111111111111111111111111: 'a sysvar',
  SysvarRent111111111111111111111111111111111: 'a sysvar',
  SysvarRecentB1ockHashes11111111111111111111: 'a sysvar',
  Sysvar1nstructions1111111111111111111111111: 'a sysvar',
  SysvarRewards111111111111111111111111111111: 'a sysvar',
  SysvarS1otHashes111111111111111111111111111: 'a sysvar',
  SysvarS1otHistory11111111111111111111111111: 'a sysvar',
  SysvarStakeHistory1111111111111111111111111: 'a sysvar',
  SysvarEpochSchedu1e111111111111111111111111: 'a sysvar',
  SysvarFees111111111111111111111111111111111: 'a sysvar',
  So11111111111111111111111111111111111111112: 'the wrapped SOL mint',
  '9pan9bMn5HatX4EJdBwg9VgCa7Uz5HL8N1m5D3NdXejP': 'the Token-2022 wrapped SOL mint',
  '1nc1nerator11111111111111111111111111111111': 'the incinerator',
};

/** True for a Solana public key as wallets print them: base58 (its canonical form) of exactly 32 bytes. */
export function isSolanaAddress(text: string): boolean {
  if (!/^[1-9A-HJ-NP-Za-km-z]{32,44}$/.test(text)) return false;
  try {
    const bytes = bs58.decode(text);
    return bytes.length === 32 && bs58.encode(bytes) === text;
  } catch {
    return false;
  }
}

/**
 * A customer's Solana wallet: a base58 public key (32 bytes). A program-derived address (a multisig's vault) is
 * one too: rewards go to the associated token account the wallet owns, which any owner can have.
 */
export const SolanaAddress = z
  .string()
  .refine(isSolanaAddress, 'must be a Solana public key: base58 of 32 bytes, e.g. 9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin')
  .superRefine((text, ctx) => {
    const what = Object.hasOwn(NOT_WALLETS, text) ? NOT_WALLETS[text] : undefined;
    if (what) ctx.addIssue({ code: 'custom', message: `must be a wallet, not ${what} (tokens sent there could never be spent)` });
  })
  .describe('a Solana wallet: a base58 public key');
