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

/** The System Program's id (32 zero bytes): no one's wallet (a reward minted to it could never be spent). */
const SYSTEM_PROGRAM = '11111111111111111111111111111111';

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
  .refine((text) => text !== SYSTEM_PROGRAM, 'must be a wallet, not the System Program')
  .describe('a Solana wallet: a base58 public key');
