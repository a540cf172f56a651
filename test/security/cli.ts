/**
 * `npm run test:security [-- --url http://127.0.0.1:3001 --data-dir .smartpay --filter auth/ --concurrency 8]`:
 * prints the report and exits 1 on any breach. Without --url it starts its own platform in a temporary folder.
 */
import { finishSuite, numberOption, parseSuiteCommandLine } from '../support/suite';
import { runSecurity } from './run';

const COMMAND = 'npm run test:security';
const USAGE = `${COMMAND} [-- options]

Sends the hostile-input corpus (test/security/corpus.ts) to the local platform and checks every answer:
the right 4xx and error code, a clear JSON error body, no 5xx, no stack trace, no card data echoed.

  --url URL          a running platform (npm start); default: start one in a temporary folder
  --data-dir DIR     that platform's data folder, whose issuer key signs the tokens (default .smartpay)
  --filter TEXT      only the cases whose id contains TEXT (e.g. auth/, "POST /pay")
  --concurrency N    requests in flight at once (default 8)
  -h, --help         this text`;

const values = parseSuiteCommandLine(COMMAND, USAGE, {
  url: { type: 'string' },
  'data-dir': { type: 'string' },
  filter: { type: 'string' },
  concurrency: { type: 'string' },
});
if (values) {
  const concurrency = numberOption(COMMAND, 'concurrency', values.concurrency);
  finishSuite(COMMAND, runSecurity({ url: values.url, dataDir: values['data-dir'], filter: values.filter, concurrency }));
}
