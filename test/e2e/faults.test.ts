/**
 * The short form of `npm run test:faults`: the local platform (its own process, persisted data) killed with
 * SIGKILL twice under load (payments and reward claims), restarted on the same data, every request retried with its own key; the money is
 * counted from the sandbox gateways' own ledgers and the stored records (test/faults/run.ts).
 */
import { runFaults } from '../faults/run';

test('kill -9 under load: no double charge, every charge on record, no 5xx for charged money, one reward each and one mint each, each claim once, nothing left unfinished', async () => {
  const lines: string[] = [];
  const report = await runFaults({ kills: 2, batch: 15, leaseMs: 3000, log: (line) => lines.push(line) });
  expect({ breaches: report.breaches, report: report.text }).toEqual({ breaches: [], report: report.text });
  // The run did move money (a run that charged nothing would prove nothing).
  expect(report.charged).toBeGreaterThan(5);
  expect(report.rewards).toBe(report.succeeded);
  // Rewards were minted on chain through the faults (a run that minted nothing would prove nothing).
  expect(report.owedMints).toBeGreaterThan(3);
  expect(report.mints).toBe(report.owedMints);
  // Rewards without a wallet were claimed through the kills and after (a run that claimed nothing would prove nothing).
  expect(report.rewardsWithoutWallet).toBeGreaterThan(0);
  expect(report.claims).toBeGreaterThan(0);
  expect(lines.filter((l) => l.includes('kill -9'))).toHaveLength(3); // two payment rounds, and the claims'
}, 300_000);
