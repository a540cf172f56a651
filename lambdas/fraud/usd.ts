/**
 * Every amount the fraud features see is its value in US dollars, so a customer's history in several
 * currencies is one scale: JPY 5,000 (about $34) after a USD 19.99 payment is 1.7 times the customer's mean,
 * not 250 times, and ISK 1,000,000 is about $8,000, not a million. The models learn dollar amounts; every
 * currency a payment can be made in is here (tested against `supportedCurrencies()`).
 *
 * These are REFERENCE rates, approximate mid-market rates of mid-2025, not money: they place an amount on
 * the models' scale. A rate 20% off shifts a payment's dollar amount by 20% (the absolute amount features
 * see that, the ratios to the customer's own history in one currency do not), while a currency read as
 * dollars is off by a factor of 100 to 100,000. They never price, convert or reward anything (rewards use the
 * exact REWARD_USD_RATES of the deployment). They are part of the feature definition: training replays a
 * file through this table and serving scores through it, so changing a rate is a feature change:
 * AMOUNT_SCALE (a hash of the table) is written into a model's manifest by `npm run train`, and a model of
 * another scale refuses to load (retrain it). Where a currency's official and market rates are far apart the
 * table takes IRR's market rate and the official (or Sana'a) rate of SDG, CUP, MMK and YER, 2 to 5 times
 * below their market's; fast-inflating ones (ARS, VES, TRY, NGN) drift by tens of percent a year.
 */
import { createHash } from 'node:crypto';
import { currencyExponent } from '../../contracts/money';

/** Units of each currency for one US dollar (approximate, mid-2025). */
const UNITS_PER_USD: Readonly<Record<string, number>> = {
  // the Americas
  USD: 1, CAD: 1.37, MXN: 18.8, BRL: 5.5, ARS: 1200, CLP: 950, CLF: 0.0244, COP: 4100, PEN: 3.6, BOB: 6.91,
  PYG: 7800, UYU: 40, UYI: 6.5, UYW: 23.5, VES: 150, VED: 150, GYD: 209, SRD: 37, GTQ: 7.7, HNL: 26,
  NIO: 36.8, CRC: 505, PAB: 1, SVC: 8.75, BZD: 2, DOP: 61, JMD: 160, HTG: 131, TTD: 6.78, BBD: 2, XCD: 2.7,
  XCG: 1.79, AWG: 1.79, BSD: 1, BMD: 1, KYD: 0.833, CUP: 120, FKP: 0.75,
  // Europe
  EUR: 0.87, GBP: 0.75, GIP: 0.75, SHP: 0.75, CHF: 0.81, SEK: 9.6, NOK: 10.2, DKK: 6.5, ISK: 125, CZK: 21.5,
  HUF: 350, PLN: 3.7, RON: 4.4, BGN: 1.7, RSD: 102, MKD: 54, ALL: 85, BAM: 1.7, MDL: 17, UAH: 41.5, BYN: 3.27,
  RUB: 85, TRY: 40, GEL: 2.72, AMD: 390, AZN: 1.7,
  // the Middle East and North Africa
  ILS: 3.4, JOD: 0.709, LBP: 89500, SYP: 13000, IQD: 1310, IRR: 840000, KWD: 0.306, BHD: 0.376, QAR: 3.64,
  AED: 3.6725, OMR: 0.3845, SAR: 3.75, YER: 535, EGP: 49, LYD: 5.4, TND: 2.95, DZD: 130, MAD: 9.1, MRU: 40,
  // sub-Saharan Africa
  SDG: 600, SSP: 4500, ETB: 135, ERN: 15, DJF: 178, SOS: 571, KES: 129, UGX: 3600, TZS: 2600, RWF: 1440,
  BIF: 2970, CDF: 2880, AOA: 912, ZMW: 24, ZWG: 26.8, MWK: 1735, MZN: 63.9, NAD: 17.8, BWP: 13.5, LSL: 17.8,
  SZL: 17.8, ZAR: 17.8, XAF: 575, XOF: 575, CVE: 96.5, GMD: 72, GNF: 8650, SLE: 22.7, LRD: 200, GHS: 12,
  NGN: 1550, STN: 21.5, KMF: 430, SCR: 14.3, MUR: 45.5,
  // Asia
  JPY: 147, CNY: 7.2, HKD: 7.8, MOP: 8.05, TWD: 30, KRW: 1380, KPW: 900, MNT: 3580, INR: 85.5, PKR: 282,
  BDT: 122, LKR: 300, NPR: 137, BTN: 85.5, MVR: 15.4, AFN: 70, KZT: 510, UZS: 12700, KGS: 87.5, TJS: 10.5,
  TMT: 3.5, IDR: 16300, VND: 26000, THB: 33, KHR: 4000, LAK: 21600, MMK: 2100, MYR: 4.3, SGD: 1.3, BND: 1.3,
  PHP: 57,
  // Oceania
  AUD: 1.53, NZD: 1.68, FJD: 2.25, PGK: 4.1, SBD: 8.3, VUV: 119, WST: 2.7, TOP: 2.35, XPF: 104.6,
};

/**
 * The amount scale of the features: `usd-` and a hash of the table (each currency's rate and exponent). A model folder records the scale it was
 * trained on (manifest `amountScale`); a model of another scale, or of none (trained on major units), does
 * not load.
 */
export const AMOUNT_SCALE = `usd-${createHash('sha256')
  .update(
    JSON.stringify(
      Object.entries(UNITS_PER_USD)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        // A currency's exponent scales its amounts as much as its rate does.
        .map(([code, rate]) => [code, rate, currencyExponent(code)]),
    ),
  )
  .digest('hex')
  .slice(0, 12)}`;

/** The reference rate of a currency (units for one USD), or undefined for a currency the table lacks. */
export function unitsPerUsd(currency: string): number | undefined {
  return Object.prototype.hasOwnProperty.call(UNITS_PER_USD, currency) ? UNITS_PER_USD[currency] : undefined;
}

/**
 * An amount's value in US dollars at the reference rate: the amount every fraud feature uses. USD amounts
 * are exactly major units (USD's rate is 1, and x / 1 is x exactly: a USD-only data set gives the same features
 * as before the table). Throws for a currency the table lacks: every supported currency has a rate (tested), so
 * that is a programming error.
 */
export function usdValue(amountMinor: number, currency: string): number {
  const major = amountMinor / 10 ** currencyExponent(currency);
  const rate = unitsPerUsd(currency);
  if (rate === undefined) throw new RangeError(`no reference USD rate for ${currency}`);
  return major / rate;
}
