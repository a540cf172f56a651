/**
 * `npm run test:load [-- --rate 20 --duration 20 --from 10 --step-duration 10 --max-rate 400 --fixed-only --url URL]`:
 * prints the report; exits 1 when the fixed rate breaches the SLA.
 */
import { parseArgs } from 'node:util';
import { runLoad } from './run';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const USAGE = `npm run test:load [-- options]

A realistic mix over loopback (70% POST /pay, 10% /fraud, 8% /route, 7% GET /payments/{id}, 5% /chat), open loop
and evenly paced: a warm-up, a fixed rate held against the SLA (p95 < 200 ms on every endpoint, 5xx and failed
requests < 0.1%; a breach fails the run), then rising rates (x1.5 a step) until the SLA breaks.

  --rate N            the fixed rate, req/s (default 20)
  --duration S        its seconds (default 20)
  --warmup S          warm-up seconds at a quarter of the rate (default 5)
  --from N            the first rising rate (default 10)
  --step-duration S   seconds a rising step (default 10)
  --max-rate N        the highest rising rate tried (default 400)
  --settle S          quiet seconds between phases for the background work (default 3)
  --fixed-only        skip the rising rates
  --url URL           a running platform (npm start); default: start one in a temporary folder
  --data-dir DIR      that platform's data folder, whose issuer key signs the token (default .smartpay)
  --seed N            the mix's seed (default 7)
  -h, --help          this text`;

const numeric = ['rate', 'duration', 'warmup', 'from', 'step-duration', 'max-rate', 'settle', 'seed'] as const;
let values: Record<string, string | boolean | undefined>;
try {
  ({ values } = parseArgs({
    options: {
      ...Object.fromEntries(numeric.map((name) => [name, { type: 'string' as const }])),
      'fixed-only': { type: 'boolean', default: false },
      url: { type: 'string' },
      'data-dir': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  }));
} catch (error) {
  console.error(`test:load: ${(error as Error).message} (--help lists the options)`);
  process.exit(2);
}
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const number: Partial<Record<(typeof numeric)[number], number>> = {};
for (const name of numeric) {
  if (values[name] === undefined) continue;
  const value = Number(values[name]);
  if (!Number.isFinite(value) || value < 0 || (value === 0 && !['warmup', 'settle', 'seed'].includes(name))) {
    console.error(`test:load: --${name} must be a positive number, got ${String(values[name])}`);
    process.exit(2);
  }
  number[name] = value;
}

runLoad({
  url: values.url as string | undefined,
  dataDir: values['data-dir'] as string | undefined,
  rate: number.rate,
  duration: number.duration,
  warmup: number.warmup,
  from: number.from,
  stepDuration: number['step-duration'],
  maxRate: number['max-rate'],
  settle: number.settle,
  seed: number.seed,
  fixedOnly: values['fixed-only'] === true,
}).then(
  (report) => {
    console.log(`\n${report.text}`);
    process.exit(report.breaches.length ? 1 : 0);
  },
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
