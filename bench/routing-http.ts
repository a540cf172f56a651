/**
 * `npm run bench:routing-http`: the router as a merchant meets it, through POST /route and POST /route/feedback
 * on the local platform (the deployed handlers, the updater fed by the bus, dynalite), on a simulated world's
 * traffic (world B by default). For each payment: /route ranks; the world plays the attempts down the ranking
 * (ml/routing/simulator.ts playAttempts: the same outcomes any policy would get there); /route/feedback reports
 * them. The router's clock is the real one: a 48-hour world is played in minutes, so the model (committed by
 * the updater, re-read after ROUTING_MODEL_TTL_MS) sees each outcome later, in payments, than in `npm run
 * bench:routing`; the circuit breaker never sees them (it folds only the platform's own charges, not a
 * merchant's feedback). A connector that joins the world mid-run joins the
 * registry then: the platform restarts on the same data with it (as a deploy would).
 *
 * The recorded rankings are then replayed through the simulator's accounting (the same payments and outcomes),
 * beside the sliding-window router, the in-process bandit and the oracle on the same traffic: net revenue over
 * the oracle's, authorisation and net revenue against the sliding-window router, the recovery after the outage,
 * and /route's latency over HTTP. Options: --world A|B (B) --payments 20000 --seed 7 --concurrency 4
 * --model-ttl-ms N (the routers' ROUTING_MODEL_TTL_MS; default: the product's).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { vocabularyOf } from '../lambdas/routing/context';
import { startLocalPlatform, type LocalPlatform } from '../local/platform';
import {
  availableAt,
  banditSimPolicy,
  defaultScenario,
  generateTraffic,
  oraclePolicy,
  playAttempts,
  policyRandom,
  simulate,
  slidingWindowPolicy,
  type Decision,
  type PolicyResult,
  type Scenario,
  type SimPolicy,
} from '../ml/routing/simulator';
import { worldBScenario } from '../ml/routing/world-b';
import { quantile } from './support';

const { values: args } = parseArgs({
  options: {
    world: { type: 'string', default: 'B' },
    payments: { type: 'string', default: '20000' },
    seed: { type: 'string', default: '7' },
    concurrency: { type: 'string', default: '4' },
    'model-ttl-ms': { type: 'string' },
  },
});
const payments = Number(args.payments);
const seed = Number(args.seed);
const concurrency = Number(args.concurrency);
if (!['A', 'B'].includes(args.world)) throw new Error('--world is A or B');
if (!Number.isInteger(payments) || payments < 2_000) throw new Error('--payments takes an integer of at least 2000');
if (!Number.isInteger(seed) || !Number.isInteger(concurrency) || concurrency < 1) throw new Error('--seed and --concurrency take integers (concurrency ≥ 1)');

const scenario: Scenario = (args.world === 'A' ? defaultScenario : worldBScenario)({ seed, payments });
const traffic = generateTraffic(scenario);
const byId = new Map(scenario.connectors.map((c) => [c.id, c]));
const dataDir = mkdtempSync(join(tmpdir(), 'smartpay-routing-http-'));

/** The registry at a moment of the world: its connectors that have joined, as sandbox processors (routing reads ids, methods, currencies, regions and fees). */
function registryAt(time: number): string {
  return JSON.stringify(scenario.connectors.filter((c) => availableAt(scenario, c, time)).map(({ solanaPay: _s, ...c }) => ({ ...c, kind: 'sandbox' })));
}

async function start(time: number): Promise<{ platform: LocalPlatform; token: string }> {
  const platform = await startLocalPlatform({
    port: 0,
    dataDir,
    onError: () => undefined,
    env: {
      CONNECTORS: registryAt(time),
      ROUTING_SEED: String(seed),
      POWERTOOLS_LOG_LEVEL: 'ERROR',
      ...(args['model-ttl-ms'] !== undefined ? { ROUTING_MODEL_TTL_MS: args['model-ttl-ms'] } : {}),
    },
  });
  return { platform, token: await platform.issuer.signToken({ merchantId: 'm_routing_bench', expiresIn: '4h' }) };
}

async function post(platform: LocalPlatform, token: string, path: string, body: unknown): Promise<{ status: number; json: any }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const response = await fetch(`${platform.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : undefined };
}

// The moments the registry changes (a connector joins): the run is cut there and the platform restarted.
const joins = [...new Set(Object.values(scenario.availableFrom ?? {}))].sort((a, b) => a - b);
const segments: Array<readonly [number, number]> = [];
let from = 0;
for (const at of joins) {
  const to = traffic.findIndex((p) => p.context.time >= at);
  if (to > from) segments.push([from, to]);
  if (to >= 0) from = to;
}
segments.push([from, traffic.length]);

async function main(): Promise<void> {
  const recorded: Decision[] = new Array(traffic.length);
  const routeMs: number[] = [];
  const started = performance.now();
  let done = 0;
  let lastReport = started;
  for (const [first, end] of segments) {
    const { platform, token } = await start(traffic[first]!.context.time);
    let next = first;
    const worker = async () => {
      while (next < end) {
        const payment = traffic[next++]!;
        const c = payment.context;
        const t0 = performance.now();
        const routed = await post(platform, token, '/route', {
          amount: c.amountMinor, currency: c.currency, method: c.method, ...(c.network ? { network: c.network } : {}), ...(c.country ? { country: c.country } : {}),
          ...(c.merchantCategory ? { merchantCategory: c.merchantCategory } : {}), ...(c.fraudScore !== undefined ? { fraudScore: c.fraudScore } : {}),
        });
        routeMs.push(performance.now() - t0);
        if (routed.status !== 200) throw new Error(`payment ${payment.index}: /route answered ${routed.status} ${JSON.stringify(routed.json)}`);
        const ranked = routed.json.ranked as Array<{ connectorId: string; status: string }>;
        const order = ranked.map((r) => r.connectorId);
        const played = playAttempts(scenario, payment, order.map((id) => byId.get(id)!));
        const feedback = await post(platform, token, '/route/feedback', {
          decisionId: routed.json.decisionId,
          attempts: played.attempts.map((a) => ({ connectorId: a.connectorId, outcome: a.outcome, latencyMs: a.latencyMs })),
        });
        if (feedback.status !== 200) throw new Error(`payment ${payment.index}: /route/feedback answered ${feedback.status} ${JSON.stringify(feedback.json)}`);
        recorded[payment.index] = { order, propensity: routed.json.propensity, probe: ranked[0]!.status === 'probing' };
        done += 1;
        if (performance.now() - lastReport > 15_000) {
          lastReport = performance.now();
          console.log(`  ${done.toLocaleString('en-US')} of ${traffic.length.toLocaleString('en-US')} payments routed (${((done * 1000) / (performance.now() - started)).toFixed(0)}/s)`);
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    await platform.close(1000);
  }
  const seconds = (performance.now() - started) / 1000;
  rmSync(dataDir, { recursive: true, force: true });

  const replay: SimPolicy = { name: 'ours over HTTP', rank: (payment) => recorded[payment.index]!, observe() {} };
  const results: PolicyResult[] = [
    simulate(scenario, traffic, slidingWindowPolicy(policyRandom(scenario, 1))),
    simulate(scenario, traffic, banditSimPolicy(policyRandom(scenario, 2), vocabularyOf(scenario.connectors))),
    simulate(scenario, traffic, replay),
    simulate(scenario, traffic, oraclePolicy(scenario)),
  ];
  const [sliding, inProcess, http, oracle] = results as [PolicyResult, PolicyResult, PolicyResult, PolicyResult];

  const pct = (v: number) => `${(100 * v).toFixed(2)}%`;
  const usd = (minor: number) => `$${Math.round(minor / 100).toLocaleString('en-US')}`;
  console.log(`\nWorld ${scenario.world ?? args.world}, seed ${seed}: ${payments.toLocaleString('en-US')} payments through /route and /route/feedback in ${seconds.toFixed(0)} s ` +
    `(${(payments / seconds).toFixed(0)} payments/s, ${concurrency} at a time; ${segments.length - 1} registry change(s)); /route over HTTP p50 ${quantile(Float64Array.from(routeMs).sort(), 0.5).toFixed(1)} ms, p99 ${quantile(Float64Array.from(routeMs).sort(), 0.99).toFixed(1)} ms`);
  console.log(`  ${'policy'.padEnd(34)}${'auth'.padStart(8)}${'exp. auth'.padStart(11)}${'net revenue'.padStart(14)}${'of oracle'.padStart(11)}${'expected'.padStart(10)}${'first 2,000'.padStart(13)}${'recovery'.padStart(10)}`);
  for (const r of results) {
    console.log(`  ${r.name.padEnd(34)}${pct(r.authRate).padStart(8)}${pct(r.expectedAuthRate).padStart(11)}${usd(r.netRevenueUsdMinor).padStart(14)}${pct(r.netRevenueUsdMinor / oracle.netRevenueUsdMinor).padStart(11)}` +
      `${pct(r.expectedNetUsdMinor / oracle.expectedNetUsdMinor).padStart(10)}${pct(r.early.expectedNetUsdMinor / oracle.early.expectedNetUsdMinor).padStart(13)}${String(r.recovery?.recoveredAfter ?? 'never').padStart(10)}`);
  }
  console.log(`\n  over HTTP: ${pct(http.netRevenueUsdMinor / oracle.netRevenueUsdMinor)} of the oracle's net revenue (in-process on the same traffic: ${pct(inProcess.netRevenueUsdMinor / oracle.netRevenueUsdMinor)}); ` +
    `against the sliding-window router: authorisation ${pct(http.authRate)} vs ${pct(sliding.authRate)} (${http.authRate > sliding.authRate ? 'above' : 'NOT above'}; expected ${pct(http.expectedAuthRate)} vs ${pct(sliding.expectedAuthRate)}), ` +
    `net revenue ${usd(http.netRevenueUsdMinor)} vs ${usd(sliding.netRevenueUsdMinor)} (${http.netRevenueUsdMinor > sliding.netRevenueUsdMinor ? 'above' : 'NOT above'}); ` +
    `failed first attempts on the outage's connector during it: ${http.outage.failedFirstOnConnector} (in-process ${inProcess.outage.failedFirstOnConnector})`);
  const shares = (r: PolicyResult) =>
    Object.entries(r.firstChoices)
      .sort((x, y) => y[1] - x[1])
      .map(([id, n]) => `${id} ${pct(n / r.payments)}`)
      .join(', ');
  for (const r of [inProcess, http, oracle]) console.log(`  first choices, ${r.name}: ${shares(r)}`);
  console.log(`  (${inProcess.name}: the same model with the simulated delays of bench:routing; over HTTP the model sees each outcome after real seconds, many payments later at this rate, and the breaker none: feedback does not reach it)`);
}

main().catch((error: unknown) => {
  console.error(error);
  rmSync(dataDir, { recursive: true, force: true });
  process.exit(1);
});
