/**
 * Card fingerprints: the same card gives the same fingerprint across a stage's payments, so a merchant (or the
 * fraud features) can tell a card seen before, and the number cannot be recovered from it, nor guessed by
 * hashing candidate numbers (a card number has too few unknown digits for a plain hash), because it is an
 * HMAC-SHA256 under the stage's secret key (CARD_FINGERPRINT_SECRET_ARN, read through Powertools Parameters).
 * A raw card is fingerprinted by its number; a tokenised one by its gateway's own fingerprint of the card, so
 * the two of one card differ.
 */
import { createHmac } from 'node:crypto';
import { secretString } from '../shared/secrets';

/** The keyed fingerprint of a card's number (`card`), or of a gateway's fingerprint of it (`stripe`). */
export type Fingerprinter = (kind: 'card' | 'stripe', value: string) => Promise<string>;

/** Fingerprints under the key in a secret (its string value; at least 32 characters). */
export function secretFingerprinter(arn: string, read: (arn: string) => Promise<string> = secretString): Fingerprinter {
  return async (kind, value) => {
    const key = await read(arn);
    if (key.length < 32) throw new Error(`secret ${arn} is too short for a fingerprint key (at least 32 characters)`);
    return createHmac('sha256', key).update(`${kind}:${value}`).digest('base64url').slice(0, 27);
  };
}
