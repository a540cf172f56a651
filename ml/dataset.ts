/**
 * Reads a labelled transactions CSV (docs/fraud-ml.md) into feature transactions, with a column mapping for
 * other people's data (`--map canonical=THEIR_COLUMN`). Amounts are decimal major units converted exactly
 * to integer minor units (string arithmetic, never a float); rows come back sorted by time, then id.
 */
import { createReadStream, existsSync } from 'node:fs';
import { parse } from 'csv-parse';
import type { FeatureTransaction } from '../lambdas/fraud/features';
import { currencyExponent, isSupportedCurrency } from '../contracts/money';

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
    map[canonical as CanonicalColumn] = column;
  }
  return map;
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

/** ISO-8601 (a zone-less time is UTC), `YYYY-MM-DD HH:MM:SS` (UTC), or epoch seconds (milliseconds above 1e12). */
export function parseTimestamp(text: string): number {
  const value = text.trim();
  if (/^\d+(\.\d+)?$/.test(value)) {
    const n = Number(value);
    return n > 1e12 ? Math.round(n) : Math.round(n * 1000);
  }
  const normalised = value.replace(' ', 'T');
  const hasZone = /(Z|[+-]\d{2}:?\d{2})$/i.test(normalised);
  const ms = Date.parse(hasZone ? normalised : `${normalised}Z`);
  if (Number.isNaN(ms)) throw new Error(`not a timestamp: "${text}"`);
  return ms;
}

function parseLabel(text: string): 0 | 1 {
  const value = text.trim().toLowerCase();
  if (value === '1' || value === 'true' || value === '1.0') return 1;
  if (value === '0' || value === 'false' || value === '0.0') return 0;
  throw new Error(`not a 0/1 label: "${text}"`);
}

/** Reads the whole file (sorted), failing on the first bad row with its line number and the reason. */
export async function readTransactions(path: string, options: DatasetOptions = {}): Promise<LabelledTransaction[]> {
  const map = options.map ?? {};
  const defaultCurrency = (options.currency ?? 'USD').toUpperCase();
  if (!isSupportedCurrency(defaultCurrency)) throw new Error(`--currency ${defaultCurrency} is not a supported ISO-4217 code`);
  const column = (name: CanonicalColumn) => map[name] ?? name;
  if (!existsSync(path)) throw new Error(`${path}: no such file`);
  const source = createReadStream(path);
  const parser = source.pipe(parse({ columns: true, skip_empty_lines: true, trim: true, bom: true }));
  source.on('error', (error) => parser.destroy(error));
  const rows: LabelledTransaction[] = [];
  let line = 1;
  let checked = false;
  try {
    for await (const record of parser as AsyncIterable<Record<string, string>>) {
      line += 1;
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
      try {
        const currency = (get('currency') ?? defaultCurrency).toUpperCase();
        if (!isSupportedCurrency(currency)) throw new Error(`unknown currency "${currency}"`);
        const labelText = get('label');
        rows.push({
          txId: get('tx_id')!,
          time: parseTimestamp(get('timestamp')!),
          customerId: get('customer_id')!,
          terminalId: get('terminal_id')!,
          amountMinor: toMinorUnits(get('amount')!, currency),
          currency,
          deviceId: get('device_id'),
          country: get('country')?.toUpperCase(),
          merchantCountry: get('merchant_country')?.toUpperCase(),
          label: labelText === undefined ? undefined : parseLabel(labelText),
        });
      } catch (error) {
        throw new Error(`${path}:${line}: ${(error as Error).message}`);
      }
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code) throw new Error(`${path}: ${(error as Error).message}`);
    throw error;
  }
  if (!rows.length) throw new Error(`${path}: no transactions`);
  return rows.sort((a, b) => a.time - b.time || (a.txId < b.txId ? -1 : a.txId > b.txId ? 1 : 0));
}
