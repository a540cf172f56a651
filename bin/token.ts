/**
 * `npm run token`: prints a local ID token (and nothing else, so `$(npm run -s token)` works).
 * Options: --merchant <id> (default m_demo), --ttl <span> (default 1h; e.g. 15m, 2h, 3600s),
 * --no-merchant (a token without the merchant claim), --data-dir <dir> (default .smartpay).
 */
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_DATA_DIR } from '../local/env';
import { createLocalIssuer } from '../local/issuer';

const USAGE = [
  'usage: npm run -s token -- [--merchant m_demo] [--ttl 1h] [--no-merchant] [--data-dir .smartpay]',
  '  prints a local ID token for `npm start` (signed with the issuer keys of the data folder), and nothing else:',
  '  curl -H "Authorization: Bearer $(npm run -s token -- --merchant m_123)" ...',
  '  --merchant ID     the merchant the token acts for (custom:merchantId; default m_demo)',
  '  --ttl SPAN        how long it is valid: 30m, 1h, 3600s, 2d (default 1h)',
  '  --no-merchant     a token without the merchant claim (every business route answers 403 to it)',
  '  --data-dir DIR    the data folder of the npm start it is for (default .smartpay)',
].join('\n');

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      merchant: { type: 'string', default: 'm_demo' },
      ttl: { type: 'string', default: '1h' },
      'no-merchant': { type: 'boolean', default: false },
      'data-dir': { type: 'string', default: DEFAULT_DATA_DIR },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const ttl = values.ttl;
  if (!/^\d+\s*(s|sec|secs|second|seconds|m|min|mins|minute|minutes|h|hr|hrs|hour|hours|d|day|days)$/i.test(ttl)) {
    throw new Error(`invalid --ttl "${ttl}": use a number and a unit, e.g. 30m, 1h, 3600s`);
  }
  if (!values['no-merchant'] && !/^[A-Za-z0-9_-]{1,64}$/.test(values.merchant)) {
    throw new Error(`invalid --merchant "${values.merchant}": letters, digits, _ and - (at most 64)`);
  }
  const issuer = await createLocalIssuer({ dir: join(resolve(values['data-dir']), 'issuer') });
  const token = await issuer.signToken({ merchantId: values['no-merchant'] ? undefined : values.merchant, expiresIn: ttl });
  process.stdout.write(`${token}\n`);
}

main().catch((error: unknown) => {
  console.error(`smartpay token: ${(error as Error).message}${(error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') ? ` (npm run token -- --help lists the options)` : ''}`);
  process.exit(1);
});
