/** Buyer countries and regions: shared by routing (features), the connector registry and the sandbox gateways. */
import { z } from 'zod';

/** The buyer regions routing and the connectors' fee rules and approval profiles tell apart. */
export const Region = z.enum(['NA', 'EU', 'UK', 'APAC', 'LATAM']);
export type Region = z.infer<typeof Region>;
export const REGIONS = Region.options;

/**
 * The 249 officially assigned ISO 3166-1 alpha-2 codes, and XK (Kosovo: user-assigned, but what card networks and
 * Stripe use). Reserved and user-assigned codes (EU, UK, UN, XX, ZZ, ...) are not countries.
 */
const ISO_3166_ALPHA2: ReadonlySet<string> = new Set(
  [
    'AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ',
    'BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR',
    'CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR',
    'GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU',
    'ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ',
    'LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ',
    'MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF',
    'PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI',
    'SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR',
    'TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS XK YE YT ZA ZM ZW',
  ]
    .join(' ')
    .split(' '),
);

/** An ISO-3166 alpha-2 country code (any case in, upper case out); a reserved or unassigned code is refused. */
export const CountryCode = z
  .string()
  .regex(/^[A-Za-z]{2}$/, 'must be a two-letter ISO-3166 country code')
  .transform((code) => code.toUpperCase())
  .refine((code) => ISO_3166_ALPHA2.has(code), { message: 'is not an ISO-3166 country code (reserved or unassigned, e.g. XX, ZZ, EU)' })
  .describe('ISO-3166 alpha-2 country code, any case (US, gb); XK for Kosovo');

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
