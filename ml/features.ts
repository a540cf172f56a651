/**
 * `npm run features -- --data CSV --out FILE`: replays a transactions CSV in time order through the same
 * feature code the fraud Lambda runs (lambdas/fraud/features.ts) and writes one feature vector per
 * transaction, for the training pipeline. Missing values are written as `nan`.
 *
 * Options: --map canonical=COLUMN,... (see docs/fraud-ml.md), --currency USD (when the file has none),
 * --feedback-delay-days 7, --quiet.
 */
import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { FEATURE_NAMES, type FeatureOptions } from '../lambdas/fraud/features.js';
import { parseColumnMap, readTransactions } from './dataset.js';
import { replay } from './replay.js';

/** A CSV field, quoted when it must be (RFC 4180). */
export function csvField(value: string): string {
  return /[",\n\r]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

export async function writeFeatures(
  data: string,
  out: string,
  options: { map?: string; currency?: string; requireLabels?: boolean; features: FeatureOptions; log: (line: string) => void },
): Promise<number> {
  const started = Date.now();
  const transactions = await readTransactions(data, { map: parseColumnMap(options.map), currency: options.currency, requireLabels: options.requireLabels });
  options.log(`read ${transactions.length} transactions from ${data} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  mkdirSync(dirname(resolve(out)), { recursive: true });
  const stream = createWriteStream(out);
  stream.write(`${['tx_id', 'timestamp', 'customer_id', 'terminal_id', 'label', ...FEATURE_NAMES].join(',')}\n`);
  let n = 0;
  for (const { tx, vector } of replay(transactions, options.features)) {
    const values = Array.from(vector, (v) => (Number.isNaN(v) ? 'nan' : String(v)));
    const line = [csvField(tx.txId), new Date(tx.time).toISOString(), csvField(tx.customerId), csvField(tx.terminalId), tx.label ?? '', ...values];
    if (!stream.write(`${line.join(',')}\n`)) await once(stream, 'drain');
    n += 1;
    if (n % 100_000 === 0) options.log(`  ${n} / ${transactions.length} vectors`);
  }
  stream.end();
  await once(stream, 'finish');
  options.log(`wrote ${n} vectors (${FEATURE_NAMES.length} features) to ${out} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      data: { type: 'string' },
      out: { type: 'string' },
      map: { type: 'string' },
      currency: { type: 'string' },
      'feedback-delay-days': { type: 'string', default: '7' },
      quiet: { type: 'boolean', default: false },
    },
  });
  if (!values.data || !values.out) throw new Error('usage: npm run features -- --data transactions.csv --out features.csv [--map ...] [--currency USD] [--feedback-delay-days 7]');
  const delay = Number(values['feedback-delay-days']);
  if (!Number.isInteger(delay) || delay < 0 || delay > 90) throw new Error('--feedback-delay-days must be an integer from 0 to 90');
  await writeFeatures(values.data, values.out, {
    map: values.map,
    currency: values.currency,
    features: { feedbackDelayDays: delay },
    log: values.quiet ? () => undefined : (line) => console.error(line),
  });
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(`features: ${(error as Error).message}`);
    process.exit(1);
  });
}
