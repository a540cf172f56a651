/**
 * The local functions: one worker thread per function of contracts/topology.ts, each loading its handler
 * file with its own environment (local/env.ts), as Lambda runs each function in containers of its own. An
 * invoker calls a function the way the Lambda runtime does (one event, a fresh context) and resolves its
 * result or rejects with its error (same name and message). Overrides wrap an invoker (middleware style) so
 * tests can inject faults or delays without any switch in production code.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Worker, type MessagePort } from 'node:worker_threads';
import { allFunctions, FUNCTION_NAMES, type FunctionName } from '../contracts/topology';
import type { Reply, Request, WorkerData } from './function-worker';
import { LOCAL_PREFIX } from './env';
import { functionBundles, type FunctionBundles } from './function-bundles';

/**
 * The niceness of the background instances' threads (Linux): a payment's Tasks get the cores first. A thread a
 * niced thread starts inherits its niceness, so libuv's thread pool (LevelDB's work among it), which the first
 * thread to need it starts, is started here first (`startLocalFunctions`).
 */
const BACKGROUND_NICE = 10;

/** Calls a function the way the Lambda runtime does and resolves its result. */
export type Invoker = (event: unknown) => Promise<unknown>;

/** Wraps a function: receives the event and the real invoker (`next`). */
export type HandlerOverride = (event: unknown, next: Invoker) => Promise<unknown>;
export type HandlerOverrides = Partial<Record<FunctionName, HandlerOverride>>;

export interface LocalFunctions {
  /** Each function's instance for the API and the workflows' Tasks. */
  readonly invokers: Readonly<Record<FunctionName, Invoker>>;
  /**
   * A second instance of each function, loading while the platform starts, for what Lambda would run in other instances:
   * schedules, the outbox, queue consumers. One worker thread is one event loop, so background work there
   * never queues behind, or in front of, a payment's Tasks (Lambda gives concurrent invocations their own
   * instances anyway).
   */
  readonly background: Readonly<Record<FunctionName, Invoker>>;
  /** Stops every worker. */
  close(): Promise<void>;
}

export function functionName(name: FunctionName): string {
  return `${LOCAL_PREFIX}-${name}`;
}

/** An error with a given name (Step Functions' Catch matches the name): as a function threw it, or a service's. */
export function namedError(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

function jsonCopy(value: unknown): unknown {
  return value === undefined ? null : JSON.parse(JSON.stringify(value));
}

class FunctionWorker {
  private worker: Worker | undefined;
  private ready: Promise<void> | undefined;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  private sequence = 0;
  private closed = false;

  constructor(
    private readonly name: FunctionName,
    private readonly env: Record<string, string>,
    private readonly connectStore?: () => MessagePort,
    private readonly nice = 0,
    private readonly bundles?: FunctionBundles,
  ) {}

  start(): Promise<void> {
    if (this.ready) return this.ready;
    const spec = allFunctions()[this.name];
    const storePort = this.connectStore?.();
    const bundle = this.bundles?.handlers[spec.entry];
    const data: WorkerData = { functionName: functionName(this.name), entry: spec.entry, ...(bundle ? { bundle } : {}), memoryMB: spec.memoryMB, storePort, nice: this.nice };
    // The bundled worker and handler (function-bundles.ts); without them, the worker loads TypeScript itself (tsx's
    // CommonJS hook), whatever loaded this file.
    const worker = new Worker(this.bundles?.worker ?? join(__dirname, 'function-worker.ts'), {
      workerData: data,
      transferList: storePort ? [storePort] : [],
      // Node sets a thread's coverage up from the thread's own environment: NODE_V8_COVERAGE (npm run
      // test:coverage) is passed on, the function's environment otherwise untouched.
      env: process.env.NODE_V8_COVERAGE ? { ...this.env, NODE_V8_COVERAGE: process.env.NODE_V8_COVERAGE } : this.env,
      execArgv: this.bundles ? [] : ['--require', require.resolve('tsx/cjs')],
      stdout: false,
      stderr: false,
    });
    // A function's thread never keeps the process alive by itself (the server and the store do while they run).
    worker.unref();
    this.worker = worker;
    this.ready = new Promise<void>((resolve, reject) => {
      const onMessage = (reply: Reply) => {
        if ('type' in reply) {
          if (reply.type === 'coverage') return;
          if (reply.type === 'ready') resolve();
          else reject(new Error(reply.message));
          return;
        }
        const call = this.pending.get(reply.id);
        if (!call) return;
        this.pending.delete(reply.id);
        if (reply.ok) call.resolve(reply.result);
        else call.reject(namedError(reply.name, reply.message));
      };
      worker.on('message', onMessage);
      // A crash ends this worker only: the next call starts another (as Lambda starts a new runtime).
      worker.once('error', (error) => {
        reject(error);
        this.fail(worker, `the ${this.name} function crashed: ${error.message}`);
      });
      worker.once('exit', (code) => {
        reject(new Error(`the ${this.name} function exited (code ${code}) before it was ready`));
        this.fail(worker, `the ${this.name} function exited (code ${code})`);
      });
    });
    return this.ready;
  }

  /**
   * Rejects what `worker` had in flight as Lambda reports a runtime that exited (`Runtime.ExitError`, which the
   * workflows do not retry); the next call starts a new worker. Events of a worker already replaced are ignored.
   */
  private fail(worker: Worker | undefined, message: string): void {
    if (worker !== this.worker) return;
    for (const call of this.pending.values()) call.reject(namedError('Runtime.ExitError', message));
    this.pending.clear();
    this.worker = undefined;
    this.ready = undefined;
  }

  async invoke(event: unknown): Promise<unknown> {
    if (this.closed) throw namedError('Lambda.ServiceException', `the ${this.name} function is stopped`);
    await this.start();
    const id = ++this.sequence;
    const deadline = Date.now() + allFunctions()[this.name].timeoutSeconds * 1000;
    // Like Lambda, the event crosses a JSON boundary.
    const request: Request = { id, event: jsonCopy(event), deadline };
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker!.postMessage(request);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.fail(worker, `the ${this.name} function was stopped`);
    if (worker && process.env.NODE_V8_COVERAGE) await writeCoverage(worker);
    if (worker) await worker.terminate();
  }
}

/** Asks a worker to write its V8 coverage (NODE_V8_COVERAGE: npm run test:coverage), waiting at most 2 s. */
function writeCoverage(worker: Worker): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      worker.off('message', onMessage);
      resolve();
    };
    const onMessage = (reply: Reply) => {
      if ('type' in reply && reply.type === 'coverage') done();
    };
    const timer = setTimeout(done, 2000);
    worker.on('message', onMessage);
    worker.postMessage({ type: 'coverage' } satisfies Request);
  });
}

/**
 * Starts every function with its environment; fails with one message naming each handler that cannot load.
 */
export async function startLocalFunctions(
  environments: Readonly<Record<FunctionName, Record<string, string>>>,
  overrides: HandlerOverrides = {},
  connectStore?: () => MessagePort,
): Promise<LocalFunctions> {
  // Any call through libuv's thread pool starts it, at this thread's priority (see BACKGROUND_NICE).
  await stat(__dirname);
  const bundles = await functionBundles();
  const workers = Object.fromEntries(FUNCTION_NAMES.map((name) => [name, new FunctionWorker(name, environments[name], connectStore, 0, bundles)])) as Record<
    FunctionName,
    FunctionWorker
  >;
  const started = await Promise.allSettled(FUNCTION_NAMES.map((name) => workers[name].start()));
  const problems = started.flatMap((result) => (result.status === 'rejected' ? [(result.reason as Error).message] : []));
  if (problems.length) {
    await Promise.all(Object.values(workers).map((w) => w.close()));
    throw new Error(`cannot start the local platform:\n  ${problems.join('\n  ')}`);
  }
  const backgroundWorkers = Object.fromEntries(
    FUNCTION_NAMES.map((name) => [name, new FunctionWorker(name, environments[name], connectStore, BACKGROUND_NICE, bundles)]),
  ) as Record<FunctionName, FunctionWorker>;
  // Loaded now, in the background of the start: a first call would otherwise pay the handler's load.
  for (const worker of Object.values(backgroundWorkers)) worker.start().catch(() => undefined);
  const invokersOf = (pool: Record<FunctionName, FunctionWorker>) => {
    const invokers = {} as Record<FunctionName, Invoker>;
    for (const name of FUNCTION_NAMES) {
      const next: Invoker = (event) => pool[name].invoke(event);
      const override = overrides[name];
      // An override sits on the Lambda side of the JSON boundary, as the function it wraps does.
      invokers[name] = override ? async (event) => jsonCopy(await override(jsonCopy(event), next)) : next;
    }
    return invokers;
  };
  return {
    invokers: invokersOf(workers),
    background: invokersOf(backgroundWorkers),
    close: async () => {
      await Promise.all([...Object.values(workers), ...Object.values(backgroundWorkers)].map((w) => w.close()));
    },
  };
}
