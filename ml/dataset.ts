/**
 * Reads a labelled transactions CSV (docs/fraud-ml.md) into feature transactions, with a column mapping for
 * other people's data (`--map canonical=THEIR_COLUMN`). Amounts are decimal major units converted exactly
 * to integer minor units (string arithmetic, never a float); rows come back sorted by time, then id.
 */
import { createReadStream, existsSync } from 'node:fs';
import { parse } from 'csv-parse';
import type { FeatureTransaction } from '../lambdas/fraud/features';
import { currencyExponent, isSupportedCurrency } from '../contracts/money';
import { CountryCode } from '../contracts/regions';
import { isCalendarTime } from '../lambdas/shared/calendar';

export const CANONICAL_COLUMNS = [
  'tx_id', 'timestamp', 'customer_id', 'terminal_id', 'amount', 'currency', 'label', 'device_id', 'country', 'merchant_country',
] as const;
export type CanonicalColumn = (typeof CANONICAL_COLUMNS)[number];
const REQUIRED: readonly CanonicalColumn[] = ['tx_id', 'timestamp', 'customer_id', 'terminal_id', 'amount'];

export interface LabelledTransaction extends FeatureTransaction {
  /** 1 fraud, 0 legitimate; undefined when the file has no label column. */
  readonly label?: 0 | 1;
}

export interface DatasetOptions {
  /** canonical column → the file's column name. */
  readonly map?: Readonly<Partial<Record<CanonicalColumn, string>>>;
  /** Currency when the file has no currency column. */
  readonly currency?: string;
  /**
   * The label column must be there (training). A row may still leave it empty: a label not known yet (the
   * recent tail of real data), which training treats as history, never as a target.
   */
  readonly requireLabels?: boolean;
}

/** `tx_id=TRANSACTION_ID,amount=TX_AMOUNT` → a mapping; unknown canonical names are an error. */
export function parseColumnMap(spec: string | undefined): Partial<Record<CanonicalColumn, string>> {
  const map: Partial<Record<CanonicalColumn, string>> = {};
  for (const pair of (spec ?? '').split(',').map((p) => p.trim()).filter(Boolean)) {
    const [canonical, column] = pair.split('=').map((s) => s.trim());
    if (!canonical || !column) throw new Error(`--map entries look like canonical=COLUMN, got "${pair}"`);
    if (!(CANONICAL_COLUMNS as readonly string[]).includes(canonical)) {
      throw new Error(`--map: unknown column "${canonical}"; use one of ${CANONICAL_COLUMNS.join(', ')}`);
    }
    if (map[canonical as CanonicalColumn] !== undefined) throw new Error(`--map: ${canonical} is mapped twice ("${map[canonical as CanonicalColumn]}" and "${column}")`);
    map[canonical as CanonicalColumn] = column;
  }
  return map;
}

/**
 * A country cell: an ISO-3166 alpha-2 code in any case, upper-cased; empty is none. A name ("Germany") is an error:
 * the features compare the customer's country with the terminal's, and "Germany" is not "DE".
 */
function countryOf(text: string | undefined): string | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const parsed = CountryCode.safeParse(text.trim());
  if (!parsed.success) throw new Error(`"${text}" ${parsed.error.issues[0]?.message ?? 'is not an ISO-3166 alpha-2 code'} (GB for the United Kingdom)`);
  return parsed.data;
}

/** Exact decimal major units → integer minor units, rounding half up beyond the currency's exponent. */
export function toMinorUnits(text: string, currency: string): number {
  const match = /^\s*(-?)(\d*)(?:\.(\d*))?\s*$/.exec(text);
  if (!match || (match[2] === '' && (match[3] ?? '') === '')) throw new Error(`not a decimal amount: "${text}"`);
  const exponent = currencyExponent(currency);
  const whole = match[2] || '0';
  const fraction = (match[3] ?? '').padEnd(exponent + 1, '0');
  let minor = BigInt(whole) * 10n ** BigInt(exponent) + BigInt(fraction.slice(0, exponent) || '0');
  if (Number(fraction[exponent]) >= 5) minor += 1n;
  if (minor > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`amount too large: "${text}"`);
  return Number(match[1] === '-' ? -minor : minor);
}

/** Epoch seconds a number may be: 1973 to 2096. A number outside (20190101) is no timestamp. */
const EPOCH_SECONDS = [1e8, 4e9] as const;

/**
 * ISO-8601 (a zone-less time is UTC), `YYYY-MM-DD HH:MM:SS` (UTC), or epoch seconds (milliseconds above 1e12),
 * of a real calendar day and time: 2019-02-30 or 25:00 is an error, never the day it would roll over to, and a
 * number is a timestamp only in 1973–2096 (20190101 is not one).
 */
export function parseTimestamp(text: string): number {
  const value = text.trim();
  if (/^\d+(\.\d+)?$/.test(value)) {
    const n = Number(value);
    const ms = n > 1e12 ? Math.round(n) : Math.round(n * 1000);
    if (ms < EPOCH_SECONDS[0] * 1000 || ms > EPOCH_SECONDS[1] * 1000) {
      throw new Error(`not a timestamp: "${text}" (a number is read as epoch seconds, or milliseconds above 1e12, of 1973 to 2096; write dates as ISO 8601, e.g. 2019-01-01 00:00:18)`);
    }
    return ms;
  }
  const normalised = value.replace(' ', 'T');
  const hasZone = /(Z|[+-]\d{2}:?\d{2})$/i.test(normalised);
  const ms = Date.parse(hasZone ? normalised : `${normalised}Z`);
  const parts = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2}))?)?/.exec(normalised);
  if (Number.isNaN(ms) || (parts && !isCalendarTime(...(parts.slice(1).map((p) => (p === undefined ? 0 : Number(p))) as [number, number, number, number, number, number])))) {
    throw new Error(`not a timestamp: "${text}"${parts ? ' (no such day or time)' : ''}`);
  }
  return ms;
}

/** A label: 1/true/1.0 fraud, 0/false/0.0 legitimate, NaN (pandas' missing value) not known yet. */
function parseLabel(text: string): 0 | 1 | undefined {
  const value = text.trim().toLowerCase();
  if (value === '1' || value === 'true' || value === '1.0') return 1;
  if (value === '0' || value === 'false' || value === '0.0') return 0;
  if (value === 'nan') return undefined;
  throw new Error(`not a 0/1 label: "${text}" (1, true or 1.0 for fraud; 0, false or 0.0 for legitimate; empty or NaN for not known yet)`);
}

/** The currency of rows without one (`--currency`, any case; default USD), checked. */
export function currencyOption(text: string | undefined): string {
  const code = (text ?? 'USD').toUpperCase();
  if (!isSupportedCurrency(code)) throw new Error(`--currency ${text}: not a supported ISO-4217 code`);
  return code;
}

/** Reads the whole file (sorted), failing on the first bad row with its line number and the reason. */
export async function readTransactions(path: string, options: DatasetOptions = {}): Promise<LabelledTransaction[]> {
  const map = options.map ?? {};
  const defaultCurrency = currencyOption(options.currency);
  const column = (name: CanonicalColumn) => map[name] ?? name;
  if (!existsSync(path)) throw new Error(`${path}: no such file`);
  const source = createReadStream(path);
  // The header's names must be distinct (a second "amt" would silently replace the first); `info` gives each
  // record's physical line (a quoted newline or a blank line moves it).
  const header = (names: string[]) => {
    const seen = new Map<string, number>();
    names.forEach((name, i) => {
      if (seen.has(name)) throw new Error(`${path}:1: column "${name}" appears twice (columns ${seen.get(name)! + 1} and ${i + 1}): rename one`);
      seen.set(name, i);
    });
    return names;
  };
  const parser = source.pipe(parse({ columns: header, skip_empty_lines: true, trim: true, bom: true, info: true }));
  source.on('error', (error) => parser.destroy(error));
  const rows: LabelledTransaction[] = [];
  const lineOf = new Map<string, number>();
  let checked = false;
  // Each value's problem names its column (the canonical name, and the file's when mapped).
  const named = (name: CanonicalColumn) => (column(name) === name ? name : `${name} ("${column(name)}")`);
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: Record<string, string>; info: { lines: number } }>) {
      const line = info.lines;
      if (!checked) {
        checked = true;
        const missing = [...REQUIRED, ...(options.requireLabels ? (['label'] as const) : [])].filter((c) => !(column(c) in record));
        if (missing.length) {
          throw new Error(
            `${path}: missing column${missing.length > 1 ? 's' : ''} ${missing.map((c) => `"${column(c)}"`).join(', ')}` +
              ` (columns: ${Object.keys(record).join(', ')}); map yours with --map canonical=COLUMN`,
          );
        }
      }
      const get = (name: CanonicalColumn) => {
        const value = record[column(name)];
        return value === undefined || value === '' ? undefined : value;
      };
      const required = (name: CanonicalColumn) => {
        const value = get(name);
        if (value === undefined) throw new Error(`${named(name)} is empty`);
        return value;
      };
      const read = <T>(name: CanonicalColumn, parse: () => T): T => {
        try {
          return parse();
        } catch (error) {
          const message = (error as Error).message;
          throw new Error(message.startsWith(named(name)) ? message : `${named(name)}: ${message}`);
        }
      };
      try {
        const currency = read('currency', () => {
          const code = (get('currency') ?? defaultCurrency).toUpperCase();
          if (!isSupportedCurrency(code)) throw new Error(`unknown currency "${code}"`);
          return code;
        });
        const txId = required('tx_id');
        const earlier = lineOf.get(txId);
        if (earlier !== undefined) throw new Error(`${named('tx_id')} "${txId}" is also on line ${earlier}: each transaction once`);
        lineOf.set(txId, line);
        const amountMinor = read('amount', () => toMinorUnits(required('amount'), currency));
        if (amountMinor < 0) throw new Error(`${named('amount')} is negative (${get('amount')}): the pipeline reads charges only; leave refunds out of the file`);
        const labelText = get('label');
        rows.push({
          txId,
          time: read('timestamp', () => parseTimestamp(required('timestamp'))),
          customerId: required('customer_id'),
          terminalId: required('terminal_id'),
          amountMinor,
          currency,
          deviceId: get('device_id'),
          country: read('country', () => countryOf(get('country'))),
          merchantCountry: read('merchant_country', () => countryOf(get('merchant_country'))),
          label: labelText === undefined ? undefined : read('label', () => parseLabel(labelText)),
        });
      } catch (error) {
        throw new Error(`${path}:${line}: ${(error as Error).message}`);
      }
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code) {
      const hint = /Invalid Record Length/.test((error as Error).message) ? ' (a quote left open, a comma in an unquoted field, or mixed line endings?)' : '';
      throw new Error(`${path}: ${(error as Error).message}${hint}`);
    }
    throw error;
  }
  if (!rows.length) throw new Error(`${path}: no transactions`);
  return rows.sort((a, b) => a.time - b.time || (a.txId < b.txId ? -1 : a.txId > b.txId ? 1 : 0));
}
