/**
 * Money is an integer amount of minor units plus an ISO-4217 currency. No floats, ever.
 * Exponents follow ISO 4217 (JPY 0, USD 2, KWD 3).
 */
import { z } from 'zod';

const EXPONENTS: Readonly<Record<string, number>> = {
  // zero-decimal
  BIF: 0, CLP: 0, DJF: 0, GNF: 0, ISK: 0, JPY: 0, KMF: 0, KRW: 0, PYG: 0, RWF: 0, UGX: 0, UYI: 0,
  VND: 0, VUV: 0, XAF: 0, XOF: 0, XPF: 0,
  // three-decimal
  BHD: 3, IQD: 3, JOD: 3, KWD: 3, LYD: 3, OMR: 3, TND: 3,
  // four-decimal
  CLF: 4, UYW: 4,
  // two-decimal: every other active ISO 4217 currency (no metals or test codes; UYI above is Uruguay's indexed
  // unit, a funds code its gateways take). MGA is left out: ISO gives it 2 decimals, Stripe 0, and an amount in
  // minor units would be charged 100 times over.
  ...Object.fromEntries(
    (
      'AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BRL BSD BTN BWP BYN BZD CAD CDF CHF CNY ' +
      'COP CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS ' +
      'INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR ' +
      'MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD ' +
      'SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD UYU UZS VED VES WST XCD XCG YER ZAR ZMW ZWG'
    )
      .split(' ')
      .map((code) => [code, 2]),
  ),
};

/** The largest amount accepted, in minor units, whatever the currency (the card networks' eight digits). */
export const MAX_AMOUNT_MINOR = 99_999_999;

export function isSupportedCurrency(code: string): boolean {
  return Object.prototype.hasOwnProperty.call(EXPONENTS, code);
}

/** A supported ISO-4217 code, any case in, upper case out. */
export const Currency = z
  .string()
  .regex(/^[A-Za-z]{3}$/, 'must be a three-letter ISO-4217 code')
  .transform((code) => code.toUpperCase())
  .refine(isSupportedCurrency, { message: 'is not a supported ISO-4217 currency' })
  .describe('ISO-4217 code, any case (USD, eur)');

/** An amount a client may ask to pay: whole minor units, 1 to MAX_AMOUNT_MINOR. */
export const AmountMinor = z
  .number()
  .int('must be an integer number of minor units (no decimals)')
  .positive('must be greater than zero')
  .max(MAX_AMOUNT_MINOR, `must be at most ${MAX_AMOUNT_MINOR} minor units`)
  .describe('integer minor units of the currency: 1999 is 19.99 USD, 500 is 500 JPY');

/** An amount of money: integer minor units (cents for USD, yen for JPY, fils for KWD) and its currency. */
export const Money = z.object({ amount: z.number().int(), currency: z.string().regex(/^[A-Z]{3}$/) });
export type Money = z.infer<typeof Money>;

export function supportedCurrencies(): string[] {
  return Object.keys(EXPONENTS).sort();
}

/** The number of decimal places of a currency's minor unit; throws for an unknown code. */
export function currencyExponent(code: string): number {
  const exponent = EXPONENTS[code];
  if (exponent === undefined) throw new RangeError(`unknown currency ${code}`);
  return exponent;
}

/**
 * A token amount in base units of `decimals` as a decimal string of whole tokens ("24.6912", "-3"): for display
 * (base units stay the source of truth). The rewards ledger's entries and the analytics figures both use it.
 */
export function formatTokens(baseUnits: bigint, decimals: number): string {
  const sign = baseUnits < 0n ? '-' : '';
  const abs = baseUnits < 0n ? -baseUnits : baseUnits;
  const scale = 10n ** BigInt(decimals);
  const fraction = (abs % scale).toString().padStart(decimals, '0').replace(/0+$/, '');
  return `${sign}${abs / scale}${fraction ? `.${fraction}` : ''}`;
}

/** A decimal string in major units, exact (e.g. 1234 USD → "12.34", 5 KWD → "0.005"). */
export function formatMajor(money: Money): string {
  const exponent = currencyExponent(money.currency);
  const negative = money.amount < 0;
  const digits = Math.abs(money.amount).toString().padStart(exponent + 1, '0');
  const whole = digits.slice(0, digits.length - exponent);
  const fraction = exponent > 0 ? `.${digits.slice(-exponent)}` : '';
  return `${negative ? '-' : ''}${whole}${fraction}`;
}

/** A decimal string in major units as minor units (e.g. "12.34" USD → 1234); undefined when it is not one exactly. */
export function parseMajor(text: string, currency: string): number | undefined {
  const exponent = EXPONENTS[currency];
  const match = /^(\d{1,15})(?:\.(\d+))?$/.exec(text);
  if (exponent === undefined || !match) return undefined;
  const fraction = match[2] ?? '';
  if (fraction.length > exponent && !/^0*$/.test(fraction.slice(exponent))) return undefined;
  const minor = Number(match[1]) * 10 ** exponent + Number(fraction.slice(0, exponent).padEnd(exponent, '0') || '0');
  return Number.isSafeInteger(minor) ? minor : undefined;
}

/** Whole major units, rounded down: used by rules that think in major units. */
export function wholeMajorUnits(money: Money): number {
  return Math.floor(money.amount / 10 ** currencyExponent(money.currency));
}

/** A fee of `basisPoints` (1 bp = 0.01%) plus `fixed` minor units, rounded half up to a whole minor unit. */
export function percentageFee(amount: number, basisPoints: number, fixed: number): number {
  return Math.floor((amount * basisPoints + 5_000) / 10_000) + fixed;
}
