/** Buyer countries and regions: shared by routing (features), the connector registry and the sandbox gateways. */
import { z } from 'zod';

/** The buyer regions routing and the connectors' fee rules and approval profiles tell apart. */
export const Region = z.enum(['NA', 'EU', 'UK', 'APAC', 'LATAM']);
export type Region = z.infer<typeof Region>;
export const REGIONS = Region.options;

/** An ISO-3166 alpha-2 country code (any case in, upper case out). */
export const CountryCode = z
  .string()
  .regex(/^[A-Za-z]{2}$/, 'must be a two-letter ISO-3166 country code')
  .transform((code) => code.toUpperCase());

const REGION_OF: Readonly<Record<string, Region>> = {
  US: 'NA', CA: 'NA', MX: 'LATAM', BR: 'LATAM', AR: 'LATAM', CL: 'LATAM', CO: 'LATAM', PE: 'LATAM',
  GB: 'UK', IE: 'EU', DE: 'EU', FR: 'EU', IT: 'EU', ES: 'EU', NL: 'EU', BE: 'EU', AT: 'EU', PT: 'EU', SE: 'EU',
  DK: 'EU', FI: 'EU', PL: 'EU', CH: 'EU', NO: 'EU',
  JP: 'APAC', AU: 'APAC', NZ: 'APAC', SG: 'APAC', HK: 'APAC', KR: 'APAC', IN: 'APAC', CN: 'APAC',
};

/** The region of a buyer country (undefined: unknown or elsewhere). */
export function regionOf(country: string | undefined): Region | undefined {
  return country === undefined ? undefined : REGION_OF[country.toUpperCase()];
}
