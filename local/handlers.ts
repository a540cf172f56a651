/**
 * Loads the five Lambda handlers (after the environment is set, because they read it at module load and
 * through `config()`) and wraps each as an invoker with a Lambda-like context, as the Lambda runtime would
 * call it. Overrides wrap a handler (middleware style) so tests can inject faults or delays without any
 * switch in production code.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Context } from 'aws-lambda';
import { LOCAL_ACCOUNT, LOCAL_PREFIX, LOCAL_REGION } from './env';

export const HANDLER_AREAS = ['fraud', 'routing', 'payments', 'rewards', 'analytics'] as const;
export type HandlerArea = (typeof HANDLER_AREAS)[number];

/** Calls a handler the way the Lambda runtime does (one event, a fresh context) and resolves its result. */
export type Invoker = (event: unknown) => Promise<unknown>;

/** Wraps a handler: receives the event, its context and the real handler (`next`). */
export type HandlerOverride = (event: unknown, context: Context, next: (event: unknown, context: Context) => Promise<unknown>) => Promise<unknown>;

export type HandlerOverrides = Partial<Record<HandlerArea, HandlerOverride>>;

type LambdaHandler = (event: unknown, context: Context) => Promise<unknown>;

/** The Lambda timeout the local context reports (the construct's default). */
const TIMEOUT_MS = 30_000;

export function functionName(area: HandlerArea): string {
  return `${LOCAL_PREFIX}-${area}`;
}

export function functionArn(area: HandlerArea): string {
  return `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${functionName(area)}`;
}

export function lambdaContext(area: HandlerArea, timeoutMs = TIMEOUT_MS): Context {
  const deadline = Date.now() + timeoutMs;
  const name = functionName(area);
  const unsupported = (): never => {
    throw new Error('callback-style completion is not supported; return a promise');
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: name,
    functionVersion: '$LATEST',
    invokedFunctionArn: functionArn(area),
    memoryLimitInMB: '1024',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: `local/${randomUUID()}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: unsupported,
    fail: unsupported,
    succeed: unsupported,
  };
}

/** Imports `lambdas/<area>/handler.ts` for every area; fails with one message naming every missing one. */
export async function loadHandlers(overrides: HandlerOverrides = {}): Promise<Record<HandlerArea, Invoker>> {
  const loaded = await Promise.all(
    HANDLER_AREAS.map(async (area) => {
      const modulePath = join(__dirname, '..', 'lambdas', area, 'handler');
      try {
        const mod = (await import(modulePath)) as { handler?: unknown; default?: { handler?: unknown } };
        const handler = mod.handler ?? mod.default?.handler;
        if (typeof handler !== 'function') return { area, problem: 'exports no handler function' };
        return { area, handler: handler as LambdaHandler };
      } catch (error) {
        return { area, problem: `failed to load: ${(error as Error).message}` };
      }
    }),
  );
  const problems = loaded.filter((l) => 'problem' in l).map((l) => `lambdas/${l.area}/handler.ts ${l.problem}`);
  if (problems.length) throw new Error(`cannot start the local platform:\n  ${problems.join('\n  ')}`);

  const invokers = {} as Record<HandlerArea, Invoker>;
  for (const entry of loaded) {
    const area = entry.area;
    const handler = (entry as { handler: LambdaHandler }).handler;
    const override = overrides[area];
    const call: LambdaHandler = override ? (event, context) => override(event, context, handler) : handler;
    // Like the Lambda runtime, the event and the result cross a JSON boundary (a bigint or a Date in a result
    // behaves here as it would in the cloud).
    invokers[area] = async (event) => {
      const result = await call(jsonCopy(event), lambdaContext(area));
      return jsonCopy(result === undefined ? null : result);
    };
  }
  return invokers;
}

function jsonCopy(value: unknown): unknown {
  return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
}
