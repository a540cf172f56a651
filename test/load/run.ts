/**
 * `npm run test:load`: a realistic mix of API calls over loopback against the local platform as `npm start` runs
 * it (its own process, the store persisted in a temporary folder; or a running one with `--url`), open loop and
 * evenly paced (bench/load.ts: a slow answer cannot slow the load down and hide its queue):
 *
 *   1. a warm-up (the functions' isolates compile their hot code);
 *   2. a fixed rate (default 20 req/s for 20 s): p50, p95 and p99 per endpoint and the error rate, held against
 *      the SLA (p95 < 200 ms on every endpoint, 5xx and failed requests < 0.1%): a breach fails the run;
 *   3. rising rates (×1.5 a step from `--from`) until the SLA breaks: the highest rate that held it.
 *
 * The mix: 70% POST /pay (customers, amounts, currencies and countries varied; 5% of cards decline, a 402 that is
 * an answer, not an error; a third name a reward wallet, so rewards mint in the background), 10% POST /fraud, 8%
 * POST /route, 7% GET /payments/{id} of the run's earlier payments, 5% POST /chat.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Keypair } from '@solana/web3.js';
import { openLoop, type LoadRequest, type Outcome } from '../../bench/load';
import { prng, quantile } from '../../bench/support';
import { table, waitForHealth } from '../support/suite';
import { createLocalIssuer } from '../../local/issuer';

const ROOT = join(__dirname, '..', '..');

/** The SLA: p95 under 200 ms on every endpoint, and 5xx (and requests that got no answer) under 0.1%. */
export const SLA = { p95Ms: 200, errorShare: 0.001 } as const;

export interface LoadOptions {
  /** A running platform (npm start); without it one is started in a temporary folder. */
  readonly url?: string;
  /** That platform's data folder, whose issuer key signs the token. @default .smartpay */
  readonly dataDir?: string;
  /** The fixed rate (req/s) and how long it runs (s). @default 20 req/s, 20 s */
  readonly rate?: number;
  readonly duration?: number;
  /** Warm-up seconds (at a quarter of the fixed rate). @default 5 */
  readonly warmup?: number;
  /** The first rising rate, each step's seconds, the highest rate tried. @default 10 req/s, 10 s, 400 req/s */
  readonly from?: number;
  readonly stepDuration?: number;
  readonly maxRate?: number;
  /** Seconds of quiet between phases, for the background work a phase leaves behind. @default 3 */
  readonly settle?: number;
  /** Skip the rising rates. */
  readonly fixedOnly?: boolean;
  readonly seed?: number;
  readonly log?: (line: string) => void;
}

export const ENDPOINTS = ['POST /pay', 'POST /fraud', 'POST /route', 'GET /payments/{id}', 'POST /chat'] as const;
export type Endpoint = (typeof ENDPOINTS)[number];

export interface EndpointFigures {
  readonly requests: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  /** Answers by status. */
  readonly statuses: Readonly<Record<string, number>>;
  /** 5xx answers, transport errors and timeouts. */
  readonly failed: number;
}

export interface PhaseFigures {
  readonly label: string;
  readonly rate: number;
  readonly sent: number;
  readonly durationS: number;
  readonly throughput: number;
  readonly all: EndpointFigures;
  readonly endpoints: Readonly<Partial<Record<Endpoint, EndpointFigures>>>;
  readonly errorShare: number;
  /** Why the phase missed the SLA (empty: it held). */
  readonly breaches: readonly string[];
}

export interface LoadReport {
  readonly fixed: PhaseFigures;
  readonly steps: readonly PhaseFigures[];
  /** The highest rising rate that held the SLA (0: none did). */
  readonly highestHeld: number;
  readonly text: string;
  /** The fixed rate's breaches: the run fails on any. */
  readonly breaches: readonly string[];
}


export function figures(samples: ReadonlyArray<{ latency: number; outcome: Outcome }>): EndpointFigures {
  const latencies = samples.filter((s) => s.outcome.kind === 'answered').map((s) => s.latency).sort((a, b) => a - b);
  const statuses: Record<string, number> = {};
  let failed = 0;
  for (const { outcome } of samples) {
    const key = outcome.kind === 'answered' ? String(outcome.status) : outcome.kind === 'timeout' ? 'timeout' : `error:${outcome.why}`;
    statuses[key] = (statuses[key] ?? 0) + 1;
    if (outcome.kind !== 'answered' || outcome.status >= 500) failed += 1;
  }
  const at = (q: number) => (latencies.length ? quantile(latencies, q) : 0);
  return { requests: samples.length, p50: at(0.5), p95: at(0.95), p99: at(0.99), statuses, failed };
}

/** The mix's n-th request: deterministic given the seed, payments' ids fed back for the reads. */
class Mix {
  private readonly random: () => number;
  private readonly paid: string[] = [];
  private readonly wallets = Array.from({ length: 50 }, () => Keypair.generate().publicKey.toBase58());
  private readonly run = randomUUID().slice(0, 8);

  constructor(
    private readonly token: string,
    seed: number,
  ) {
    this.random = prng(seed);
  }

  /** Remembers a payment the platform made, for the reads. */
  observe(endpoint: Endpoint, outcome: Outcome): void {
    if (endpoint !== 'POST /pay' || outcome.kind !== 'answered' || outcome.status >= 300) return;
    const id = /"paymentId":"(pay_[0-9A-Z]{20})"/.exec(outcome.body)?.[1];
    if (id) this.paid.push(id);
    if (this.paid.length > 5_000) this.paid.splice(0, 1_000);
  }

  /** The mix's n-th request. */
  next(n: number): LoadRequest & { endpoint: Endpoint } {
    const r = this.random();
    const endpoint: Endpoint =
      r < 0.1 ? 'POST /fraud' : r < 0.18 ? 'POST /route' : r < 0.25 && this.paid.length > 0 ? 'GET /payments/{id}' : r < 0.3 ? 'POST /chat' : 'POST /pay';
    return this.of(endpoint, n);
  }

  /** A request to one endpoint (the n-th of the run: its Idempotency-Key). */
  of(endpoint: Endpoint, n: number): LoadRequest & { endpoint: Endpoint } {
    const pick = <T>(values: readonly T[]): T => values[Math.floor(this.random() * values.length)]!;
    const json = (endpoint: Endpoint, path: string, body: unknown, extra: Record<string, string> = {}) => ({
      endpoint,
      method: 'POST',
      path,
      headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json', ...extra },
      body: JSON.stringify(body),
    });
    const amount = Math.max(50, Math.round(Math.exp(6 + this.random() * 4.5)));
    const currency = pick(['USD', 'USD', 'USD', 'EUR', 'GBP']);
    const country = pick(['US', 'US', 'GB', 'DE', 'FR', 'BR', 'CA']);
    const customerId = `cus_load_${Math.floor(this.random() * 2_000)}`;
    if (endpoint === 'POST /fraud') return json('POST /fraud', '/fraud', { amount, currency, customerId, country });
    if (endpoint === 'POST /route') return json('POST /route', '/route', { amount, currency, method: 'card', network: pick(['visa', 'mastercard']), country });
    if (endpoint === 'GET /payments/{id}' && this.paid.length > 0) {
      return { endpoint: 'GET /payments/{id}', method: 'GET', path: `/payments/${pick(this.paid.slice(-500))}`, headers: { authorization: `Bearer ${this.token}` } };
    }
    if (endpoint === 'POST /chat') {
      return json('POST /chat', '/chat', { question: pick(['total volume today', 'how many payments today', 'decline rate this week', 'top 5 countries by volume', 'average amount last 7 days', 'how many payments fell back to another gateway']) });
    }
    const number = this.random() < 0.05 ? '4000000000000002' : pick(['4242424242424242', '5555555555554444', '4000056655665556']);
    return json(
      'POST /pay',
      '/pay',
      {
        amount,
        currency,
        customerId,
        country,
        paymentMethod: { type: 'card', number, expMonth: 12, expYear: 2030, cvc: '123' },
        ...(this.random() < 0.33 ? { rewardWallet: pick(this.wallets) } : {}),
      },
      { 'idempotency-key': `load-${this.run}-${n}` },
    );
  }
}

async function phase(url: string, mix: Mix, label: string, rate: number, duration: number, offset: number): Promise<PhaseFigures> {
  const samples = new Map<Endpoint, Array<{ latency: number; outcome: Outcome }>>();
  const endpoints = new Map<number, Endpoint>();
  const { sent, durationS } = await openLoop(
    url,
    { rate, duration },
    (n) => {
      // Each phase starts with one call of each endpoint, so even a short one measures them all.
      const request = n < ENDPOINTS.length ? mix.of(ENDPOINTS[n]!, offset + n) : mix.next(offset + n);
      endpoints.set(n, request.endpoint);
      return request;
    },
    (n, outcome, latency) => {
      const endpoint = endpoints.get(n)!;
      mix.observe(endpoint, outcome);
      const list = samples.get(endpoint) ?? [];
      list.push({ latency, outcome });
      samples.set(endpoint, list);
    },
  );
  const byEndpoint: Partial<Record<Endpoint, EndpointFigures>> = {};
  for (const endpoint of ENDPOINTS) {
    const list = samples.get(endpoint);
    if (list?.length) byEndpoint[endpoint] = figures(list);
  }
  const all = figures([...samples.values()].flat());
  const errorShare = all.requests ? all.failed / all.requests : 0;
  return { label, rate, sent, durationS, throughput: sent / durationS, all, endpoints: byEndpoint, errorShare, breaches: slaBreaches(byEndpoint, all) };
}

/** Why a phase's figures miss the SLA: an endpoint's p95 at or over 200 ms, or 0.1% or more of requests failed. */
export function slaBreaches(endpoints: Readonly<Partial<Record<Endpoint, EndpointFigures>>>, all: EndpointFigures): string[] {
  const breaches: string[] = [];
  for (const [endpoint, f] of Object.entries(endpoints)) {
    if (f.p95 >= SLA.p95Ms) breaches.push(`${endpoint} p95 ${f.p95.toFixed(0)} ms ≥ ${SLA.p95Ms} ms`);
  }
  const share = all.requests ? all.failed / all.requests : 0;
  if (share >= SLA.errorShare) {
    const failures = Object.entries(all.statuses).filter(([status]) => !/^[1-4]\d\d$/.test(status)).map(([status, n]) => `${status}×${n}`).join(' ');
    breaches.push(`${all.failed} of ${all.requests} requests failed (${failures}): ${(share * 100).toFixed(2)}% ≥ ${SLA.errorShare * 100}%`);
  }
  return breaches;
}

/** A free loopback port (for the platform the run starts). */
function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

/** Calls each endpoint of the mix a few times, one at a time, until each has answered. */
async function warmEveryEndpoint(url: string, mix: Mix): Promise<void> {
  for (const endpoint of ENDPOINTS) {
    for (let i = 0; i < 3; i += 1) {
      const request = mix.of(endpoint, -1 - i);
      const response = await fetch(`${url}${request.path}`, { method: request.method, headers: request.headers, body: request.body });
      const body = await response.text();
      mix.observe(endpoint, { kind: 'answered', status: response.status, body });
    }
  }
}

const sleep = (seconds: number) => new Promise((r) => setTimeout(r, seconds * 1000));

export async function runLoad(options: LoadOptions = {}): Promise<LoadReport> {
  const log = options.log ?? ((line: string) => console.log(line));
  const rate = options.rate ?? 20;
  const duration = options.duration ?? 20;
  const settle = options.settle ?? 3;
  let url = options.url;
  let dataDir = resolve(options.dataDir ?? '.smartpay');
  let child: ChildProcess | undefined;
  let temp: string | undefined;
  if (!url) {
    temp = mkdtempSync(join(tmpdir(), 'smartpay-load-'));
    dataDir = temp;
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    log(`starting the local platform (npm start) on port ${port}, data in ${temp}`);
    child = fork(join(ROOT, 'bin', 'local.ts'), ['--port', String(port), '--data-dir', temp, '--solana-port', '0'], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      env: { ...process.env, RUST_LOG: 'error', POWERTOOLS_LOG_LEVEL: 'ERROR' },
    });
  }
  try {
    await waitForHealth(url, { child, timeoutMs: 120_000 });
    const issuer = await createLocalIssuer({ dir: join(dataDir, 'issuer') });
    const token = await issuer.signToken({ merchantId: `m_load_${randomUUID().slice(0, 8)}`, expiresIn: '2h' });
    const mix = new Mix(token, options.seed ?? 7);
    let offset = 0;
    const run = async (label: string, r: number, seconds: number) => {
      const result = await phase(url!, mix, label, r, seconds, offset);
      offset += result.sent;
      return result;
    };

    const warmup = options.warmup ?? 5;
    if (warmup > 0) {
      // Each endpoint's function loads its code, models and indexes at its first call (a cold start): every
      // endpoint is called a few times before the paced warm-up, so the measured phases see warm instances.
      log('warm-up: each endpoint 3 times');
      await warmEveryEndpoint(url, mix);
      log(`warm-up: ${Math.max(1, rate / 4)} req/s for ${warmup} s`);
      await run('warm-up', Math.max(1, rate / 4), warmup);
      await sleep(settle);
    }
    log(`fixed rate: ${rate} req/s for ${duration} s`);
    const fixed = await run(`fixed ${rate} req/s`, rate, duration);
    log(`  p95 ${fixed.all.p95.toFixed(1)} ms, ${fixed.all.failed} failed: ${fixed.breaches.length ? `BREACH (${fixed.breaches.join('; ')})` : 'held'}`);

    const steps: PhaseFigures[] = [];
    let highestHeld = 0;
    if (!options.fixedOnly) {
      const stepDuration = options.stepDuration ?? 10;
      const maxRate = options.maxRate ?? 400;
      for (let r = options.from ?? 10; r <= maxRate; r = Math.round(r * 1.5)) {
        await sleep(settle);
        log(`rising: ${r} req/s for ${stepDuration} s`);
        const step = await run(`${r} req/s`, r, stepDuration);
        steps.push(step);
        log(`  p95 ${step.all.p95.toFixed(1)} ms, ${step.all.failed} failed, ${step.throughput.toFixed(1)} req/s sent: ${step.breaches.length ? `SLA broken (${step.breaches.join('; ')})` : 'held'}`);
        if (step.breaches.length) break;
        highestHeld = r;
      }
    }
    return { fixed, steps, highestHeld, breaches: fixed.breaches, text: report(fixed, steps, highestHeld, options.fixedOnly ?? false) };
  } finally {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child!.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(10)]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    if (temp) rmSync(temp, { recursive: true, force: true });
  }
}

const ms = (value: number) => value.toFixed(1);
const statuses = (f: EndpointFigures) => Object.entries(f.statuses).sort(([a], [b]) => a.localeCompare(b)).map(([s, n]) => `${s}×${n}`).join(' ');

function report(fixed: PhaseFigures, steps: readonly PhaseFigures[], highestHeld: number, fixedOnly: boolean): string {
  const lines = [
    'LOAD REPORT (npm run test:load)',
    `SLA: p95 < ${SLA.p95Ms} ms on every endpoint, 5xx and failed requests < ${SLA.errorShare * 100}%`,
    '',
    `Fixed rate: ${fixed.rate} req/s offered for ${fixed.durationS.toFixed(1)} s (${fixed.sent} requests, open loop, evenly paced)`,
    table([
      ['endpoint', 'requests', 'p50 ms', 'p95 ms', 'p99 ms', 'failed', 'answers'],
      ...ENDPOINTS.filter((e) => fixed.endpoints[e]).map((e) => {
        const f = fixed.endpoints[e]!;
        return [e, String(f.requests), ms(f.p50), ms(f.p95), ms(f.p99), String(f.failed), statuses(f)];
      }),
      ['all', String(fixed.all.requests), ms(fixed.all.p50), ms(fixed.all.p95), ms(fixed.all.p99), String(fixed.all.failed), ''],
    ]),
    `error rate ${(fixed.errorShare * 100).toFixed(3)}%: ${fixed.breaches.length ? `BREACH: ${fixed.breaches.join('; ')}` : 'the SLA held'}`,
  ];
  if (!fixedOnly) {
    lines.push(
      '',
      'Rising rates (until the SLA breaks):',
      table([
        ['offered req/s', 'sent req/s', 'p50 ms', 'p95 ms', 'p99 ms', 'worst endpoint p95', 'failed', 'SLA'],
        ...steps.map((s) => {
          const worst = Object.entries(s.endpoints).sort(([, a], [, b]) => b.p95 - a.p95)[0];
          return [String(s.rate), s.throughput.toFixed(1), ms(s.all.p50), ms(s.all.p95), ms(s.all.p99), worst ? `${worst[0]} ${ms(worst[1].p95)}` : '', `${s.all.failed} (${(s.errorShare * 100).toFixed(2)}%)`, s.breaches.length ? 'broken' : 'held'];
        }),
      ]),
      highestHeld > 0 ? `highest rate that held p95 < ${SLA.p95Ms} ms and failures < ${SLA.errorShare * 100}%: ${highestHeld} req/s` : 'no rising rate held the SLA',
    );
    const broke = steps.at(-1);
    if (broke?.breaches.length) lines.push(`broke at ${broke.rate} req/s: ${broke.breaches.join('; ')}`);
    else if (steps.length) lines.push(`the SLA still held at ${steps.at(-1)!.rate} req/s, the highest rate tried (--max-rate)`);
  }
  return lines.join('\n');
}
