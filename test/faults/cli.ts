/** `npm run test:faults [-- --kills 5 --batch 60 --lease-ms 45000 --store-fault-rate 0.05 --verbose]`: prints the report, exits 1 on any breach. */
import { parseArgs } from 'node:util';
import { runFaults } from './run';

const { values } = parseArgs({
  options: {
    kills: { type: 'string', default: '5' },
    batch: { type: 'string', default: '60' },
    'lease-ms': { type: 'string', default: '45000' },
    'store-fault-rate': { type: 'string', default: '0.05' },
    verbose: { type: 'boolean', default: false },
  },
});

runFaults({ kills: Number(values.kills), batch: Number(values.batch), leaseMs: Number(values['lease-ms']), storeFaultRate: Number(values['store-fault-rate']), verbose: values.verbose }).then(
  (report) => {
    console.log(`\n${report.text}`);
    process.exit(report.breaches.length ? 1 : 0);
  },
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
