/**
 * `npm run bench:routing-candidates`: the success models issue 15 named as candidates, on both simulated worlds
 * over several seeds: the measurement docs/routing-model.md keeps. LinUCB with the pooled prior alone (cells off);
 * today's, which adds the hierarchical segment cells (bandit.ts); and a logistic (GLM) bandit
 * (ml/routing/candidates.ts). Each keeps the product's eligibility, circuit breaker, exploration and
 * propensities; only the success model differs. Per world and seed: each policy's expected net
 * revenue over the oracle's (from each decision's expected net under the true rates: no outcome noise), over
 * the whole run and over its first 2,000 payments (the cold start), and the recovery after the outage (as in
 * bench:routing); then per world the mean and the worst.
 * Options: --seeds 1,2,3,4,5 --payments 100000 --shrinkage 400 (the cells' pseudo-outcomes)
 * --glm-alpha 2.
 */
import { parseArgs } from 'node:util';
import { vocabularyOf } from '../lambdas/routing/context';
import { DEFAULT_BANDIT, DEFAULT_CELLS } from '../lambdas/routing/bandit';
import { glmPolicy } from '../ml/routing/candidates';
import { banditSimPolicy, defaultScenario, generateTraffic, oraclePolicy, policyRandom, simulate, type Scenario, type SimPolicy } from '../ml/routing/simulator';
import { worldBScenario } from '../ml/routing/world-b';

const { values: args } = parseArgs({
  options: {
    seeds: { type: 'string', default: '1,2,3,4,5' },
    payments: { type: 'string', default: '100000' },
    shrinkage: { type: 'string', default: '400' },
    'glm-alpha': { type: 'string', default: '2' },
  },
});
const seeds = args.seeds.split(',').map(Number);
const payments = Number(args.payments);
if (seeds.some((s) => !Number.isInteger(s)) || !Number.isInteger(payments) || payments < 2_000) {
  throw new Error('--seeds takes integers (1,2,3) and --payments an integer of at least 2000');
}

const candidates: ReadonlyArray<readonly [string, (scenario: Scenario) => SimPolicy]> = [
  ['LinUCB, pooled prior, no cells', (s) => banditSimPolicy(policyRandom(s, 2), vocabularyOf(s.connectors), { ...DEFAULT_BANDIT, cells: false })],
  [`+ cells, shrinkage ${args.shrinkage} (today)`, (s) => banditSimPolicy(policyRandom(s, 2), vocabularyOf(s.connectors), { ...DEFAULT_BANDIT, cells: { ...DEFAULT_CELLS, shrinkage: Number(args.shrinkage) } })],
  [`logistic (GLM), α ${args['glm-alpha']}`, (s) => glmPolicy(policyRandom(s, 2), s, Number(args['glm-alpha']))],
];
const worlds: ReadonlyArray<readonly [string, (overrides: Partial<Scenario>) => Scenario]> = [
  ['A', (o) => defaultScenario(o)],
  ['B', (o) => worldBScenario(o)],
];

const pct = (v: number) => `${(100 * v).toFixed(2)}%`;
const started = performance.now();
for (const [world, make] of worlds) {
  console.log(`\nWorld ${world}, ${payments.toLocaleString('en-US')} payments a run; expected net over the oracle's: whole run | first 2,000 payments | recovery after the outage (payments of its segment)`);
  console.log(`  ${'seed'.padEnd(6)}${candidates.map(([name]) => name.padStart(38)).join('')}`);
  const shares = candidates.map(() => [] as number[]);
  const early = candidates.map(() => [] as number[]);
  const recoveries = candidates.map(() => [] as Array<number | null>);
  for (const seed of seeds) {
    const scenario = make({ seed, payments });
    const traffic = generateTraffic(scenario);
    const oracle = simulate(scenario, traffic, oraclePolicy(scenario));
    const cells = candidates.map(([, policy], i) => {
      const run = simulate(scenario, traffic, policy(scenario));
      shares[i].push(run.expectedNetUsdMinor / oracle.expectedNetUsdMinor);
      early[i].push(run.early.expectedNetUsdMinor / oracle.early.expectedNetUsdMinor);
      recoveries[i].push(run.recovery?.recoveredAfter ?? null);
      return `${pct(shares[i].at(-1)!)} | ${pct(early[i].at(-1)!)} | ${recoveries[i].at(-1) ?? 'never'}`.padStart(38);
    });
    console.log(`  ${String(seed).padEnd(6)}${cells.join('')}`);
  }
  const mean = (v: readonly number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  console.log(`  ${'mean'.padEnd(6)}${candidates.map((_, i) => `${pct(mean(shares[i]))} | ${pct(mean(early[i]))}`.padStart(38)).join('')}`);
  const slowest = (values: ReadonlyArray<number | null>) => (values.some((v) => v === null) ? 'never' : String(Math.max(...(values as number[]))));
  console.log(`  ${'worst'.padEnd(6)}${candidates.map((_, i) => `${pct(Math.min(...shares[i]))} | ${pct(Math.min(...early[i]))} | ${slowest(recoveries[i])}`.padStart(38)).join('')}`);
}
console.log(`\nTotal ${((performance.now() - started) / 1000).toFixed(1)} s`);
