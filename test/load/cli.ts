/**
 * `npm run test:load [-- --rate 20 --duration 20 --from 10 --step-duration 10 --max-rate 400 --fixed-only --url URL]`:
 * prints the report; exits 1 when the fixed rate breaches the SLA.
 */
import { finishSuite, numberOption, parseSuiteCommandLine } from '../support/suite';
import { runLoad } from './run';

const COMMAND = 'npm run test:load';
const USAGE = `${COMMAND} [-- options]

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

const values = parseSuiteCommandLine(COMMAND, USAGE, {
  rate: { type: 'string' },
  duration: { type: 'string' },
  warmup: { type: 'string' },
  from: { type: 'string' },
  'step-duration': { type: 'string' },
  'max-rate': { type: 'string' },
  settle: { type: 'string' },
  seed: { type: 'string' },
  'fixed-only': { type: 'boolean' },
  url: { type: 'string' },
  'data-dir': { type: 'string' },
});
if (values) {
  const number = (name: keyof typeof values, zero = false) => numberOption(COMMAND, name, values[name] as string | undefined, zero);
  finishSuite(
    COMMAND,
    runLoad({
      url: values.url,
      dataDir: values['data-dir'],
      rate: number('rate'),
      duration: number('duration'),
      warmup: number('warmup', true),
      from: number('from'),
      stepDuration: number('step-duration'),
      maxRate: number('max-rate'),
      settle: number('settle', true),
      seed: number('seed', true),
      fixedOnly: values['fixed-only'] === true,
    }),
  );
}
