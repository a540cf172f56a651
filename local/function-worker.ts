/**
 * One local function, in a worker thread of its own (its own module instances and its own `process.env`, as a
 * Lambda container has): loads the handler file the topology names, then runs each invocation the main thread
 * sends it, with a Lambda-like context, and answers its result (across a JSON boundary, as Lambda's) or its
 * error (name and message, which the workflows' Catch match by).
 */
import { randomUUID } from 'node:crypto';
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { takeCoverage } from 'node:v8';
import { join } from 'node:path';
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import type { Context } from 'aws-lambda';
import { LOCAL_STORE_TRANSPORT } from '../contracts/resources';
import { StoreChannelHandler } from './store-channel';

export interface WorkerData {
  readonly functionName: string;
  readonly entry: string;
  /** The handler's bundle (local/function-bundles.ts), loaded instead of `entry` when given. */
  readonly bundle?: string;
  readonly memoryMB: number;
  /** This thread's channel to the local store (local/store-channel.ts); its DynamoDB client then uses it. */
  readonly storePort?: MessagePort;
  /** The thread's scheduling niceness (Linux): background instances yield the cores to a payment's Tasks. */
  readonly nice?: number;
}

export type Request = { readonly id: number; readonly event: unknown; readonly deadline: number } | { readonly type: 'coverage' };
export type Reply =
  | { readonly type: 'ready' }
  | { readonly type: 'coverage' }
  | { readonly type: 'failed'; readonly message: string }
  | { readonly id: number; readonly ok: true; readonly result: unknown }
  | { readonly id: number; readonly ok: false; readonly name: string; readonly message: string; readonly stack?: string };

type LambdaHandler = (event: unknown, context: Context) => Promise<unknown>;

const { functionName, entry, bundle, memoryMB, storePort, nice } = workerData as WorkerData;
// A bundle's stacks name the TypeScript files (its source map).
process.setSourceMapsEnabled(true);
const port = parentPort!;

// Lambda runs background work (schedules, queues, the outbox) in instances of its own, beside the synchronous path
// rather than on its cores; on a laptop's few cores the background instances' threads run at a lower priority.
if (nice) {
  try {
    setPriority(Number(readlinkSync('/proc/thread-self').split('/').pop()), nice);
  } catch {
    // not Linux (no per-thread priority): the same priority as the rest
  }
}

// Before the handler loads: its DynamoDB client is created with the channel as its transport.
if (storePort) (globalThis as Record<symbol, unknown>)[LOCAL_STORE_TRANSPORT] = new StoreChannelHandler(storePort);

function context(deadline: number): Context {
  const unsupported = (): never => {
    throw new Error('callback-style completion is not supported; return a promise');
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${process.env.AWS_REGION}:000000000000:function:${functionName}`,
    memoryLimitInMB: String(memoryMB),
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `local/${randomUUID()}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: unsupported,
    fail: unsupported,
    succeed: unsupported,
  };
}

let handler: LambdaHandler;
try {
  // The handler file the topology names, loaded by path as the Lambda runtime loads it.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(bundle ?? join(__dirname, '..', entry.replace(/\.ts$/, ''))) as { handler?: unknown; init?: unknown };
  if (typeof mod.handler !== 'function') throw new Error('exports no handler function');
  handler = mod.handler as LambdaHandler;
  // What the function does at a cold start (e.g. the fraud model's load), done now: a function that cannot do it
  // fails the platform's start, naming why, instead of answering 500 to every call.
  if (typeof mod.init === 'function') (mod.init as () => void)();
  port.postMessage({ type: 'ready' } satisfies Reply);
} catch (error) {
  port.postMessage({ type: 'failed', message: `${entry} ${(error as Error).message}` } satisfies Reply);
}

port.on('message', (request: Request) => {
  if ('type' in request) {
    // Under NODE_V8_COVERAGE (npm run test:coverage): this thread's coverage, written before the thread is stopped
    // (a terminated thread writes none).
    takeCoverage();
    port.postMessage({ type: 'coverage' } satisfies Reply);
    return;
  }
  handler(request.event, context(request.deadline)).then(
    (result) => {
      // Like Lambda, the result crosses a JSON boundary (a bigint fails, a Date becomes a string).
      let json: unknown;
      try {
        json = result === undefined ? null : JSON.parse(JSON.stringify(result));
      } catch (error) {
        port.postMessage({ id: request.id, ok: false, name: 'Runtime.MarshalError', message: (error as Error).message } satisfies Reply);
        return;
      }
      port.postMessage({ id: request.id, ok: true, result: json } satisfies Reply);
    },
    (error: unknown) => {
      const e = error as Error;
      port.postMessage({ id: request.id, ok: false, name: e?.name || 'Error', message: e?.message ?? String(error), stack: e?.stack } satisfies Reply);
    },
  );
});
