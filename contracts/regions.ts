/** Buyer regions and card networks: shared by routing (features) and the sandbox gateways (approval profiles). */

export const REGIONS = ['NA', 'EU', 'UK', 'APAC', 'LATAM'] as const;
export type Region = (typeof REGIONS)[number];

const REGION_OF: Record<string, Region> = {
  US: 'NA', CA: 'NA', MX: 'LATAM', BR: 'LATAM', AR: 'LATAM', CL: 'LATAM', CO: 'LATAM', PE: 'LATAM',
  GB: 'UK', IE: 'EU', DE: 'EU', FR: 'EU', IT: 'EU', ES: 'EU', NL: 'EU', BE: 'EU', AT: 'EU', PT: 'EU', SE: 'EU',
  DK: 'EU', FI: 'EU', PL: 'EU', CH: 'EU', NO: 'EU',
  JP: 'APAC', AU: 'APAC', NZ: 'APAC', SG: 'APAC', HK: 'APAC', KR: 'APAC', IN: 'APAC', CN: 'APAC',
};

/** The region of a buyer country (undefined: unknown or elsewhere). */
export function regionOf(country: string | undefined): Region | undefined {
  return country === undefined ? undefined : REGION_OF[country.toUpperCase()];
}

export type CardNetwork = 'visa' | 'mastercard' | 'amex' | 'other';

/** The card network from the card number's leading digits (IIN ranges of the three big networks). */
export function cardNetwork(number: string): CardNetwork {
  if (/^4/.test(number)) return 'visa';
  const first4 = Number(number.slice(0, 4));
  if (/^5[1-5]/.test(number) || (first4 >= 2221 && first4 <= 2720)) return 'mastercard';
  if (/^3[47]/.test(number)) return 'amex';
  return 'other';
}
