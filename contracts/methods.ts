/**
 * The payment-method vocabulary, defined once: method kinds, wallets, card brands and card networks, and the
 * two facts derived from a card number (its brand, from the real IIN ranges, and whether it passes Luhn).
 * Every other list of these words in the code is one of these schemas' `.options`.
 */
import { z } from 'zod';

/** How a buyer pays: a card, a wallet token (Amazon Pay), or a Solana Pay transfer. */
export const PaymentMethodKind = z.enum(['card', 'wallet', 'solana_pay']);
export type PaymentMethodKind = z.infer<typeof PaymentMethodKind>;

/** The wallets whose tokens `/pay` takes. */
export const WalletName = z.enum(['amazon_pay']);
export type WalletName = z.infer<typeof WalletName>;

/** A card's brand, as the payment keeps it (`card.brand`). */
export const CardBrand = z.enum(['visa', 'mastercard', 'amex', 'discover', 'jcb', 'diners', 'unionpay', 'unknown']);
export type CardBrand = z.infer<typeof CardBrand>;

/**
 * The card networks routing and the sandboxes tell apart (a feature of the routing policy, a term of the
 * approval profiles): the three big ones, and `other` for every other brand.
 */
export const CardNetwork = z.enum(['visa', 'mastercard', 'amex', 'other']);
export type CardNetwork = z.infer<typeof CardNetwork>;

/**
 * Issuer identification number ranges, first match wins, as [brand, low, high] over the number's first
 * `digits` digits (the networks' published ranges: Mastercard 51–55 and 2221–2720, Amex 34 and 37, Discover
 * 6011, 622126–622925, 644–649 and 65, JCB 3528–3589, Diners 300–305, 36 and 38–39, UnionPay 62 and 81).
 */
const IIN_RANGES: ReadonlyArray<readonly [CardBrand, number, number]> = [
  ['visa', 4, 4],
  ['mastercard', 51, 55],
  ['mastercard', 2221, 2720],
  ['amex', 34, 34],
  ['amex', 37, 37],
  ['discover', 6011, 6011],
  ['discover', 622126, 622925],
  ['discover', 644, 649],
  ['discover', 65, 65],
  ['jcb', 3528, 3589],
  ['diners', 300, 305],
  ['diners', 36, 36],
  ['diners', 38, 39],
  ['unionpay', 62, 62],
  ['unionpay', 81, 81],
];

/** The brand of a card number from its leading digits; `unknown` when no range matches. */
export function cardBrand(number: string): CardBrand {
  for (const [brand, low, high] of IIN_RANGES) {
    const prefix = Number(number.slice(0, String(low).length));
    if (number.length >= String(low).length && prefix >= low && prefix <= high) return brand;
  }
  return 'unknown';
}

/** The network of a brand: visa, mastercard and amex are their own; every other brand is `other`. */
export function networkOf(brand: CardBrand): CardNetwork {
  return brand === 'visa' || brand === 'mastercard' || brand === 'amex' ? brand : 'other';
}

/** The network of a card number (its brand's). */
export function cardNetwork(number: string): CardNetwork {
  return networkOf(cardBrand(number));
}

/** The Luhn (mod 10) check every card number passes. */
export function passesLuhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i += 1) {
    let digit = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}

/**
 * Whether a text holds something that looks like a card number: 13–19 digits of a known brand's range that
 * pass Luhn (a long order number of no card range passes), in any script's digits, with up to two separators
 * (spaces, dots, commas, dashes, slashes, underscores) or invisible characters between groups, and beside other
 * digits.
 */
export function containsCardNumber(text: string): boolean {
  // Digits of any script as 0-9 (full-width, Arabic-Indic, ...), and no invisible characters (zero-width spaces,
  // joiners, soft hyphens) between them: "４２４２…" and "4242\u200b4242…" are card numbers too.
  const plain = asciiDigits(text.normalize('NFKC')).replace(/[\p{Cf}\u00ad]/gu, '');
  // A run of digit groups, one or two separators between groups (spaces, dots, commas, dashes, slashes,
  // underscores); every stretch of whole consecutive groups of 13-19 digits is tested, so a card number beside
  // other digits ("ref 7 4242 4242 4242 4242", "2024-01-05 4242…", "4242…4242 1234") is found, while one long
  // number is tested whole only (its inner stretches are not card numbers written by anyone).
  for (const run of plain.matchAll(/\d+(?:[\s.,\-_/\p{Pd}\p{Zs}]{1,2}\d+)*/gu)) {
    const groups = run[0].split(/[^\d]+/);
    for (let first = 0; first < groups.length; first += 1) {
      let digits = '';
      for (let last = first; last < groups.length && digits.length + groups[last]!.length <= 19; last += 1) {
        digits += groups[last];
        if (digits.length >= 13 && passesLuhn(digits) && cardBrand(digits) !== 'unknown') return true;
      }
    }
  }
  return false;
}

/** Every Unicode decimal digit (\\p{Nd}) of a text as its ASCII digit; the rest unchanged. */
function asciiDigits(text: string): string {
  if (!/[^\u0020-\u007e]/.test(text)) return text;
  return text.replace(/\p{Nd}/gu, (digit) => String(digitValue(digit.codePointAt(0)!)));
}

/**
 * A decimal digit's value: Unicode puts each script's ten digits in a run from 0 to 9, so it is the distance to
 * the run's zero (the first digit code point after a non-digit, or ten after the last zero).
 */
function digitValue(codePoint: number): number {
  if (codePoint >= 0x30 && codePoint <= 0x39) return codePoint - 0x30;
  let zero = codePoint;
  while (zero > 0 && /\p{Nd}/u.test(String.fromCodePoint(zero - 1)) && codePoint - zero < 9) zero -= 1;
  return (codePoint - zero) % 10;
}

/** A key or path segment as an error names it: one that holds a card number is "(a key)", never repeated back. */
export function keyAsNamed(key: string): string {
  return containsCardNumber(key) ? '(a key)' : key;
}
