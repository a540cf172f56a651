/**
 * `npm run bench:pay`: load on POST /pay over loopback against the local platform (in-memory store).
 *
 *   (a) a fixed offered rate (default 30 req/s for 10 s, issue 11's load), evenly paced and open loop (see `paced`): latency
 *       percentiles and errors;
 *   (b) saturation with autocannon (default 32 connections for 10 s): throughput.
 *   Before them, one request at a time for up to 5 s, each once the platform is idle (unloaded latency); after them,
 *   twice the measured saturation,
 *   evenly paced (what overload answers).
 *
 * Every request carries a unique Idempotency-Key, so each one is a new payment. Store operations are
 * counted by the store adapter (per operation and table) and divided by the payments that succeeded;
 * reward executions triggered by those payments are awaited first, so their store work is included.
 *
 * --mode child (default): the platform runs in its own process, autocannon in this one; the server
 *   gets a whole event loop as it would deployed, and the load generator's CPU is not in its latency.
 * --mode inproc: both in one process (one event loop shared with autocannon).
 * --mode both: runs both, one after the other.
 *
 * Then (child mode) a short saturation run with the platform's CPU sampled says where a payment's CPU goes,
 * by part (bench/profile.ts), and the saturation phase prints the CPU ceiling its cost per payment implies.
 * Other options: --rate 100 --duration 10 --connections 32 --warmup 5 (seconds of load at 4 connections first: the functions' 14 isolates compile their hot code)
 * --profile DIR: the server process (child mode) writes a V8 CPU profile into DIR when it exits.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Agent } from 'node:http';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import type { StoreStats } from '../local/dynalite';
import { LOCAL_TABLES } from '../local/env';
import type { CpuPart } from './profile';
import { openLoop, REQUEST_TIMEOUT_MS, send, tally, type Load, type LoadRequest } from './load';
import { quantile, taskTimer, type TaskTimes } from './support';

interface Target {
  readonly mode: 'child' | 'inproc';
  readonly url: string;
  readonly token: string;
  stats(): Promise<StoreStats>;
  /** CPU time used so far (ms) by the platform's process and by the store's. */
  cpu(): Promise<{ serverMs: number; storeMs: number }>;
  reset(): Promise<void>;
  idle(): Promise<void>;
  /** Each function's invocation times by `<function>:<kind>` (support.ts TaskTimes) since the last reset. */
  tasks(): Promise<TaskTimes>;
  close(): Promise<void>;
  /** Samples the platform's CPU until the returned function is called (child mode only: in-process it would sample autocannon too). */
  profile?(): Promise<() => Promise<CpuPart[]>>;
}

interface PhaseResult {
  readonly label: string;
  readonly offered: string;
  readonly sent: number;
  readonly durationS: number;
  /** How long the work the load left behind (outbox, rewards, feature and routing updates) took after the load ended. */
  readonly drainS: number;
  /** Each function's invocation times by `<function>:<kind>` over the phase and its drain. */
  readonly tasks: TaskTimes;
  readonly throughput: number;
  readonly payments: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
  readonly errors: number;
  /** The errors by code (paced phases). */
  readonly errorCodes?: Record<string, number>;
  readonly timeouts: number;
  readonly non2xx: number;
  readonly statusCodes: Record<string, number>;
  readonly storeOps: StoreStats;
  /** CPU time (ms) the phase cost the platform's process and the store's. */
  readonly serverCpuMs: number;
  readonly storeCpuMs: number;
}

/** Payments spread over this many customers (a realistic mix: one customer rarely pays twice at once). */
const CUSTOMERS = 5_000;

const BASE_BODY = {
  amount: 1999,
  currency: 'USD',
  customerId: 'cus_bench',
  paymentMethod: { type: 'card', number: '4242424242424242', expMonth: 12, expYear: 2030, cvc: '123' },
};

const HARD_DEADLINE_MS = 180_000;

async function startInProcess(): Promise<Target> {
  const { startLocalPlatform } = await import('../local/platform.js');
  const { FUNCTION_NAMES } = await import('../contracts/topology.js');
  const timer = taskTimer(FUNCTION_NAMES);
  const platform = await startLocalPlatform({ port: 0, inMemory: true, onError: () => undefined, handlerOverrides: timer.overrides });
  const token = await platform.issuer.signToken({ merchantId: 'm_bench', expiresIn: '1h' });
  return {
    mode: 'inproc',
    url: platform.url,
    token,
    stats: async () => platform.store.stats(),
    cpu: async () => {
      const { user, system } = process.cpuUsage();
      return { serverMs: (user + system) / 1000, storeMs: await platform.store.cpuMs() };
    },
    reset: async () => {
      platform.store.resetStats();
      timer.take();
    },
    idle: () => platform.idle(),
    tasks: async () => timer.take(),
    close: () => platform.close(2000),
  };
}

async function startChild(profileDir?: string): Promise<Target> {
  const profile = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  const child: ChildProcess = fork(join(__dirname, 'server.ts'), [], { execArgv: ['--import', 'tsx', ...profile], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const next = (type: string) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const onMessage = (message: Record<string, unknown>) => {
        if (message.type !== type) return;
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(message);
      };
      const onExit = (code: number | null) => reject(new Error(`bench server exited (${code}) while waiting for ${type}`));
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
  const ask = async (type: string) => {
    const answer = next(type);
    child.send({ type });
    return answer;
  };
  const ready = await next('ready');
  return {
    mode: 'child',
    url: ready.url as string,
    token: ready.token as string,
    stats: async () => (await ask('stats')).stats as StoreStats,
    cpu: async () => {
      const answer = await ask('cpu');
      return { serverMs: answer.serverMs as number, storeMs: answer.storeMs as number };
    },
    reset: async () => void (await ask('reset')),
    idle: async () => void (await ask('idle')),
    tasks: async () => (await ask('tasks')).tasks as TaskTimes,
    profile: async () => {
      await ask('profile-start');
      return async () => (await ask('profile-stop')).parts as CpuPart[];
    },
    close: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.send({ type: 'close' });
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

/** The body and headers of the n-th payment of a run: a new Idempotency-Key, and customers spread over CUSTOMERS. */
function payment(target: Target, runId: string, n: number): LoadRequest {
  return {
    method: 'POST',
    path: '/pay',
    headers: { authorization: `Bearer ${target.token}`, 'content-type': 'application/json', 'idempotency-key': `bench-${runId}-${n}` },
    body: JSON.stringify({ ...BASE_BODY, customerId: `cus_bench_${n % CUSTOMERS}` }),
  };
}

/**
 * Saturation: autocannon keeps `connections` requests in flight for `duration` seconds (closed loop).
 */
async function saturate(target: Target, runId: string, options: { connections: number; duration: number }): Promise<Load> {
  let counter = 0;
  const latencies: number[] = [];
  const statusCodes: Record<string, number> = {};
  const first = payment(target, runId, 0);
  const instance = autocannon({
    url: `${target.url}/pay`,
    method: 'POST',
    headers: first.headers,
    body: first.body,
    connections: options.connections,
    duration: options.duration,
    timeout: REQUEST_TIMEOUT_MS / 1000,
    requests: [
      {
        setupRequest: (request) => {
          const next = payment(target, runId, counter++);
          return { ...request, headers: next.headers, body: next.body };
        },
      },
    ],
  });
  instance.on('response', (_client, statusCode, _bytes, responseTime) => {
    latencies.push(responseTime);
    statusCodes[statusCode] = (statusCodes[statusCode] ?? 0) + 1;
  });
  const result = await new Promise<autocannon.Result>((resolve) => instance.on('done', resolve));
  return {
    offered: `max, ${options.connections} conns`,
    sent: result.requests.sent,
    durationS: result.duration,
    latencies,
    statusCodes,
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
  };
}

/** One request at a time, each sent once the platform is idle: `duration` seconds of them. */
async function isolated(target: Target, runId: string, options: { duration: number }): Promise<Load> {
  const base = new URL(target.url);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const outcomes = tally();
  const start = performance.now();
  let n = 0;
  for (; performance.now() - start < options.duration * 1000; n++) {
    const sent = performance.now();
    outcomes.add(await send(agent, base, payment(target, runId, n)), performance.now() - sent);
    await target.idle();
  }
  agent.destroy();
  return outcomes.load('one at a time, each once the platform is idle', n, (performance.now() - start) / 1000);
}

/** A fixed offered rate of payments, evenly paced and open loop (load.ts openLoop). */
async function paced(target: Target, runId: string, options: { rate: number; duration: number }): Promise<Load> {
  const outcomes = tally();
  const { sent, durationS } = await openLoop(target.url, options, (n) => payment(target, runId, n), (_n, outcome, latencyMs) => outcomes.add(outcome, latencyMs));
  return outcomes.load(`${options.rate} req/s, evenly paced (open loop)`, sent, durationS);
}

async function phase(target: Target, label: string, generate: (runId: string) => Promise<Load>): Promise<PhaseResult> {
  await target.reset();
  const cpuBefore = await target.cpu();
  const load = await generate(randomUUID().slice(0, 8));
  const ended = performance.now();
  await target.idle();
  const drainS = (performance.now() - ended) / 1000;
  const storeOps = await target.stats();
  const cpuAfter = await target.cpu();
  const tasks = await target.tasks();
  const latencies = Float64Array.from(load.latencies).sort();
  const at = (q: number) => (latencies.length ? quantile(latencies, q) : NaN);
  const payments = load.statusCodes['201'] ?? 0;
  return {
    label,
    offered: load.offered,
    sent: load.sent,
    durationS: load.durationS,
    drainS,
    tasks,
    throughput: latencies.length / load.durationS,
    payments,
    p50: at(0.50),
    p95: at(0.95),
    p99: at(0.99),
    max: latencies.at(-1) ?? NaN,
    errors: load.errors,
    errorCodes: load.errorCodes,
    timeouts: load.timeouts,
    non2xx: load.non2xx,
    statusCodes: load.statusCodes,
    storeOps,
    serverCpuMs: cpuAfter.serverMs - cpuBefore.serverMs,
    storeCpuMs: cpuAfter.storeMs - cpuBefore.storeMs,
  };
}

const ms = (v: number) => `${v.toFixed(1)} ms`;

/**
 * Where an unloaded payment's time goes: the p50 of each Task on the happy path (the wall time of the call into its
 * function's thread and back) against the payment's p50; the rest is the platform's own (the HTTP server, JWT, the
 * workflow engine's states, the hops between threads).
 */
function pathBreakdown(r: PhaseResult): void {
  const p50 = (key: string) => {
    const values = r.tasks[key];
    return values?.length ? quantile(Float64Array.from(values).sort(), 0.5) : 0;
  };
  const [begin, score, rank, charge] = ['payments:begin', 'fraud:score', 'routing:rank', 'payments:charge'].map(p50);
  const tasks = Math.max(begin, score) + rank + charge;
  console.log(`  where its time goes (p50 of each Task, the call into its function's thread and back):`);
  console.log(`    [Begin ${ms(begin)} ‖ ScoreFraud ${ms(score)}] + Route ${ms(rank)} + Charge ${ms(charge)} = ${ms(tasks)} in Tasks on the path`);
  console.log(`    the rest of the p50, ${ms(Math.max(0, r.p50 - tasks))}: the HTTP server and JWT, the workflow engine's states, the hops between threads`);
}

/** What the profiled run found: the platform's CPU by part over `payments` payments. */
interface Breakdown {
  readonly parts: CpuPart[];
  readonly payments: number;
  readonly durationS: number;
}

/**
 * A short saturation run with the platform's CPU sampled, apart from the measured phases (sampling costs a
 * little CPU of its own, so its figures are not the phases' figures).
 */
async function whereTheTimeGoes(target: Target, options: { connections: number; duration: number }): Promise<Breakdown | undefined> {
  if (!target.profile) return undefined;
  await target.reset();
  const stop = await target.profile();
  const load = await saturate(target, randomUUID().slice(0, 8), { connections: options.connections, duration: Math.min(5, options.duration) });
  await target.idle();
  const parts = await stop();
  return { parts, payments: paymentsStarted(await target.stats()), durationS: load.durationS };
}

/**
 * Payments the server started: each /pay claims its key with exactly one PutItem on the idempotency table.
 * (Responses still in flight when autocannon stops are not counted by it, but the server finishes them, so
 * dividing by 201 responses would overstate the work per payment.)
 */
/**
 * Payments a second with all their work done: every payment the phase started (answered or abandoned by the load
 * generator at its end: the drain finishes those too) over the load and the drain.
 */
function sustained(r: PhaseResult): number {
  return Math.max(r.payments, paymentsStarted(r.storeOps)) / (r.durationS + r.drainS);
}

function paymentsStarted(storeOps: StoreStats): number {
  return Object.entries(storeOps).find(([op]) => op.startsWith(`PutItem ${LOCAL_TABLES.idempotency}`))?.[1] ?? 0;
}

function report(mode: string, results: PhaseResult[], goals: { rate: number }, breakdown?: Breakdown): void {
  console.log(`\n=== POST /pay, platform ${mode === 'child' ? 'in a child process' : 'in this process'} (loopback, in-memory dynalite) ===`);
  for (const r of results) {
    console.log(`\n[${r.label}] offered ${r.offered}, ${r.durationS.toFixed(1)} s`);
    const codes = Object.entries(r.errorCodes ?? {}).map(([c, n]) => `${c}×${n}`).join(' ');
    console.log(`  responses ${Object.entries(r.statusCodes).map(([c, n]) => `${c}×${n}`).join(' ') || 'none'}; errors ${r.errors}${codes ? ` (${codes})` : ''}, timeouts ${r.timeouts}, non-2xx ${r.non2xx}`);
    console.log(`  latency p50 ${ms(r.p50)}  p95 ${ms(r.p95)}  p99 ${ms(r.p99)}  max ${ms(r.max)}`);
    console.log(
      `  throughput ${r.throughput.toFixed(1)} responses/s, ${(r.payments / r.durationS).toFixed(1)} payments/s; the work it left behind finished ` +
        `${r.drainS.toFixed(1)} s after the load (sustained: ${sustained(r).toFixed(1)} payments/s with all their work done)`,
    );
    if (r.label === 'unloaded') {
      pathBreakdown(r);
      // Its idle waits run the outbox's sweep after every payment (8 shard queries): its store calls and CPU would
      // count those; the loaded phases' figures below are the payments' own.
      continue;
    }
    const total = Object.values(r.storeOps).reduce((a, b) => a + b, 0);
    const started = paymentsStarted(r.storeOps);
    if (started > 0) {
      console.log(`  store ops per payment ${(total / started).toFixed(2)} over ${started} payments (payment workflow + reward workflow):`);
      for (const [op, n] of Object.entries(r.storeOps).sort((a, b) => b[1] - a[1])) {
        console.log(`    ${(n / started).toFixed(2)}  ${op}`);
      }
      const where = mode === 'child' ? 'platform process' : 'this process (platform and autocannon)';
      // The store is a thread of the platform's process: its CPU is part of the process's.
      console.log(
        `  CPU per payment: ${(r.serverCpuMs / started).toFixed(1)} ms in the ${where}, of which ${(r.storeCpuMs / started).toFixed(1)} ms in the store's thread ` +
          `(${((r.serverCpuMs / 1000 / (r.durationS + r.drainS)) * 100).toFixed(0)}% and ${((r.storeCpuMs / 1000 / (r.durationS + r.drainS)) * 100).toFixed(0)}% of a core over the phase and its drain)`,
      );
      if (total > 0) console.log(`  the store's thread: ${((r.storeCpuMs * 1000) / total).toFixed(0)} µs of CPU per store operation`);
      if (r.label === 'saturation' && mode === 'child') {
        const server = r.serverCpuMs / started;
        const store = r.storeCpuMs / started;
        const cores = availableParallelism();
        // The platform's process is several threads (its main loop, one worker per function, the store), so it may use
        // every core; the store is one event loop (one core at most).
        const bounds = [
          { rate: 1000 / store, why: `the store's thread (one core) at ${store.toFixed(1)} ms a payment` },
          { rate: (cores * 1000) / server, why: `${cores} cores shared at ${server.toFixed(1)} ms a payment (the load generator's CPU not counted)` },
        ].sort((a, b) => a.rate - b.rate);
        console.log(`  CPU ceiling at this cost: ≈ ${bounds[0].rate.toFixed(0)} payments/s, set by ${bounds[0].why}`);
      }
    }
  }
  if (breakdown && breakdown.payments > 0) {
    const total = breakdown.parts.reduce((sum, p) => sum + p.ms, 0);
    console.log(`\n[where the platform's main thread goes] saturation for ${breakdown.durationS.toFixed(1)} s with the CPU sampled (not part of the figures above), ${breakdown.payments} payments;`);
    console.log(`  each part's share of the main thread's busy samples (HTTP server, JWT, workflow engine, bus, calls to the functions;`);
    console.log(`  the functions themselves run in worker threads, which are not sampled: their CPU is in the process's figure above):`);
    for (const p of breakdown.parts) {
      console.log(`  ${((p.ms / total) * 100).toFixed(0).padStart(3)}%  ${p.part}`);
    }
    console.log(`  (${(total / breakdown.payments).toFixed(2)} ms a payment of the whole process's CPU over the run, workers included)`);
  }
  const unloaded = results.find((r) => r.label === 'unloaded');
  const overload = results.find((r) => r.label === 'overload');
  const fixed = results.find((r) => r.label === 'fixed-rate');
  const saturation = results.find((r) => r.label === 'saturation');
  // Issue 11's goals (the cloud side, hops, round trips and cost, is `npm run cost`).
  console.log('\n  goals (issue 11):');
  if (unloaded) {
    const ok = unloaded.p50 <= 15 && unloaded.p95 <= 30;
    console.log(`    unloaded p50 ≤ 15 ms and p95 ≤ 30 ms: ${ok ? 'MET' : 'NOT MET'} (p50 ${ms(unloaded.p50)}, p95 ${ms(unloaded.p95)})`);
  }
  if (fixed) {
    const ok = fixed.p95 <= 40 && fixed.errors === 0 && fixed.timeouts === 0 && fixed.non2xx === 0;
    console.log(`    p95 ≤ 40 ms at ${goals.rate} req/s (goal's load: 30) with 0 errors: ${ok ? 'MET' : 'NOT MET'} (p95 ${ms(fixed.p95)}, errors ${fixed.errors + fixed.timeouts + fixed.non2xx})`);
  }
  if (saturation) {
    // Judged sustained: the payments over the load and the time their background work took after it (a backlog
    // left behind is borrowed throughput).
    const answered = saturation.payments / saturation.durationS;
    const rate = sustained(saturation);
    console.log(
      `    saturation ≥ 100 payments/s, all their work done: ${rate >= 100 ? 'MET' : 'NOT MET'} (${rate.toFixed(1)} payments/s; answered at ${answered.toFixed(1)}/s, ` +
        `the rest of their work ${saturation.drainS.toFixed(1)} s after the load)`,
    );
    const started = paymentsStarted(saturation.storeOps);
    const calls = started ? Object.values(saturation.storeOps).reduce((a, b) => a + b, 0) / started : 0;
    console.log(`    store calls a payment, all work, ≤ 10: ${calls <= 10 ? 'MET' : 'NOT MET'} (${calls.toFixed(1)}, the local drain's sweep included)`);
  }
  if (overload) {
    // 201 (succeeded), 202 (processing: poll or repeat with the key) and 503 service_unavailable (admission, before
    // the claim) are honest answers under overload; a time-out on the client's side is reported as such.
    const other = Object.entries(overload.statusCodes).filter(([code]) => !['201', '202', '503'].includes(code));
    const ok = other.length === 0 && overload.errors === 0;
    console.log(
      `    at 2× saturation (${overload.offered}) only 201, 202 processing and admission's 503: ${ok ? 'MET' : 'NOT MET'} ` +
        `(${Object.entries(overload.statusCodes).map(([c, n]) => `${c}×${n}`).join(' ')}; errors ${overload.errors}, client time-outs ${overload.timeouts})`,
    );
  }
  // Under overload, only admission control's 503 (before the claim) and honest answers: never a 5xx for a payment.
  const wrong = results.flatMap((r) => Object.entries(r.statusCodes).filter(([code]) => Number(code) >= 500 && code !== '503').map(([code, n]) => `${r.label} ${code}×${n}`));
  console.log(`    no 5xx but admission's 503: ${wrong.length ? `NOT MET (${wrong.join(', ')})` : 'MET'}`);
}

async function runMode(mode: 'child' | 'inproc', options: { rate: number; duration: number; connections: number; warmup: number; profile?: string }): Promise<void> {
  const started = Date.now();
  const target = mode === 'child' ? await startChild(options.profile) : await startInProcess();
  console.log(`platform (${mode}) up at ${target.url} in ${Date.now() - started} ms`);
  try {
    if (options.warmup > 0) await phase(target, 'warm-up', (runId) => saturate(target, runId, { connections: 4, duration: options.warmup }));
    const results = [
      // One request at a time, each once the platform is idle (the last one's background work done): the latency of the
      // path itself, with nothing queued in front of it or running beside it.
      await phase(target, 'unloaded', (runId) => isolated(target, runId, { duration: Math.min(5, options.duration) })),
      await phase(target, 'fixed-rate', (runId) => paced(target, runId, { rate: options.rate, duration: options.duration })),
      await phase(target, 'saturation', (runId) => saturate(target, runId, { connections: options.connections, duration: options.duration })),
    ];
    // Twice the measured saturation, offered open loop: what overload answers (admission control's 503 before
    // the key is claimed, 202 processing for a payment still running; never another 5xx).
    const measured = results[2].payments / results[2].durationS;
    const overload = Math.max(1, Math.round(2 * measured));
    results.push(await phase(target, 'overload', (runId) => paced(target, runId, { rate: overload, duration: options.duration })));
    report(mode, results, options, await whereTheTimeGoes(target, options));
  } finally {
    await target.close();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      mode: { type: 'string', default: 'child' },
      rate: { type: 'string', default: '30' },
      duration: { type: 'string', default: '10' },
      connections: { type: 'string', default: '32' },
      warmup: { type: 'string', default: '5' },
      profile: { type: 'string' },
    },
  });
  const options = { rate: Number(values.rate), duration: Number(values.duration), connections: Number(values.connections), warmup: Number(values.warmup) };
  for (const [name, value] of Object.entries(options)) {
    if (!Number.isFinite(value) || value < 0 || (name !== 'warmup' && value === 0)) throw new Error(`--${name} must be a positive number`);
  }
  if (options.duration > 60) throw new Error('--duration is capped at 60 s');
  const modes = values.mode === 'both' ? (['child', 'inproc'] as const) : [values.mode];
  for (const mode of modes) {
    if (mode !== 'child' && mode !== 'inproc') throw new Error(`--mode must be child, inproc or both, got ${mode}`);
  }
  const deadline = setTimeout(() => {
    console.error(`bench: hard deadline of ${HARD_DEADLINE_MS / 1000} s reached, exiting`);
    process.exit(2);
  }, HARD_DEADLINE_MS);
  deadline.unref();
  for (const mode of modes) await runMode(mode as 'child' | 'inproc', { ...options, profile: values.profile });
  clearTimeout(deadline);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`bench: ${(error as Error).stack ?? error}`);
    process.exit(1);
  },
);
