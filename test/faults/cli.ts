/** `npm run test:faults [-- --kills 5 --batch 60 --lease-ms 45000 --store-fault-rate 0.05 --solana-fault-rate 0.1 --verbose]`: prints the report, exits 1 on any breach. */
import { finishSuite, numberOption, parseSuiteCommandLine } from '../support/suite';
import { runFaults } from './run';

const COMMAND = 'npm run test:faults';
const USAGE = `${COMMAND} [-- options]

The local platform under load, killed with SIGKILL at random moments and restarted on the same data; every request
retried with its own key; the money counted from the gateways' own ledgers (test/faults/run.ts says what breaches).

  --kills N              kill -9 rounds (default 5)
  --batch N              payments in flight each round (default 60)
  --lease-ms MS          the in-flight window the retries wait out (default 45000)
  --store-fault-rate R   the share of store calls throttled (default 0.05)
  --solana-fault-rate R  the share of Solana sends dropped unprocessed, and as many losing their answer (default 0.1)
  --verbose              the platform's output too
  -h, --help             this text`;

const values = parseSuiteCommandLine(COMMAND, USAGE, {
  kills: { type: 'string' },
  batch: { type: 'string' },
  'lease-ms': { type: 'string' },
  'store-fault-rate': { type: 'string' },
  'solana-fault-rate': { type: 'string' },
  verbose: { type: 'boolean' },
});
if (values) {
  finishSuite(
    COMMAND,
    runFaults({
      kills: numberOption(COMMAND, 'kills', values.kills) ?? 5,
      batch: numberOption(COMMAND, 'batch', values.batch) ?? 60,
      leaseMs: numberOption(COMMAND, 'lease-ms', values['lease-ms']) ?? 45_000,
      storeFaultRate: numberOption(COMMAND, 'store-fault-rate', values['store-fault-rate'], true) ?? 0.05,
      solanaFaultRate: numberOption(COMMAND, 'solana-fault-rate', values['solana-fault-rate'], true),
      verbose: values.verbose === true,
    }),
  );
}
