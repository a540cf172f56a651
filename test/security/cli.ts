/**
 * `npm run test:security [-- --url http://127.0.0.1:3001 --data-dir .smartpay --filter auth/ --concurrency 8]`:
 * prints the report and exits 1 on any breach. Without --url it starts its own platform in a temporary folder.
 */
import { parseArgs } from 'node:util';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
import { runSecurity } from './run';

const USAGE = `npm run test:security [-- options]

Sends the hostile-input corpus (test/security/corpus.ts) to the local platform and checks every answer:
the right 4xx and error code, a clear JSON error body, no 5xx, no stack trace, no card data echoed.

  --url URL          a running platform (npm start); default: start one in a temporary folder
  --data-dir DIR     that platform's data folder, whose issuer key signs the tokens (default .smartpay)
  --filter TEXT      only the cases whose id contains TEXT (e.g. auth/, "POST /pay")
  --concurrency N    requests in flight at once (default 8)
  -h, --help         this text`;

let values;
try {
  ({ values } = parseArgs({
    options: {
      url: { type: 'string' },
      'data-dir': { type: 'string' },
      filter: { type: 'string' },
      concurrency: { type: 'string', default: '8' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  }));
} catch (error) {
  console.error(`test:security: ${(error as Error).message} (--help lists the options)`);
  process.exit(2);
}
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const concurrency = Number(values.concurrency);
if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256) {
  console.error('test:security: --concurrency must be an integer from 1 to 256');
  process.exit(2);
}

runSecurity({ url: values.url, dataDir: values['data-dir'], filter: values.filter, concurrency }).then(
  (report) => {
    console.log(`\n${report.text}`);
    process.exit(report.breaches.length ? 1 : 0);
  },
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
