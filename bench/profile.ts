/**
 * Where a process's CPU goes, from a V8 sampling profile of a stretch of work (node:inspector, in the process
 * itself): each sample is given to the nearest frame on its stack that belongs to a known part (the AWS SDK
 * client, the local Step Functions engine, a domain's code, ...), so a handler's call into the SDK counts as
 * SDK, and so does the socket write under the SDK's request (Node's shared HTTP modules take the part of
 * whoever called them: the SDK's client side or the platform's server side). The process's measured CPU
 * (process.cpuUsage over the same stretch) is then split by each part's share of the busy samples: samples,
 * not the time between them, because on a loaded machine a gap also holds the time spent waiting for a core.
 * Used by bench:pay to say where a payment's CPU goes.
 */
import { Session } from 'node:inspector/promises';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string };
  readonly children?: readonly number[];
}

interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
}

/** The parts, matched against a frame's script URL (or, for V8's own entries, its function name). */
const PARTS: ReadonlyArray<readonly [string, RegExp]> = [
  ['AWS SDK client (store and bus calls: middleware, signing, serde, HTTP)', /node_modules\/@(smithy|aws-sdk|aws-crypto)\/|^node:_http_(client|agent)$/],
  ['Step Functions engine (aws-local-stepfunctions)', /node_modules\/(aws-local-stepfunctions|jsonpath-plus)\//],
  ['fraud domain (features, XGBoost, GraphSAGE)', /\/lambdas\/fraud\//],
  ['routing domain (bandit, health, model store)', /\/lambdas\/routing\//],
  ['payments, rewards, analytics domains', /\/lambdas\/(payments|rewards|analytics)\//],
  ['validation (zod, Powertools parser)', /node_modules\/(zod|@aws-lambda-powertools\/parser)\//],
  ['Powertools logger, metrics, idempotency', /node_modules\/@aws-lambda-powertools\//],
  ['handler edge and contracts (lambdas/shared, contracts)', /\/(lambdas\/shared|contracts)\//],
  ['local platform (HTTP server, JWT, bus, queue, invokers)', /\/local\/|node_modules\/jose\/|^node:_http_server$/],
];
/** ms of a process's CPU that went to one part. */
export interface CpuPart {
  readonly part: string;
  readonly ms: number;
}

const GC = 'garbage collection';
const OTHER = 'other (Node internals, native code, promises, JSON)';

function partOf(node: ProfileNode): string | undefined {
  const { url, functionName } = node.callFrame;
  if (!url && functionName === '(garbage collector)') return GC;
  for (const [part, pattern] of PARTS) if (pattern.test(url)) return part;
  return undefined;
}

/** `cpuMs` (the process's CPU over the profile) split by each part's share of the busy samples, largest first. */
export function attribute(profile: Profile, cpuMs: number): CpuPart[] {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const part = new Map<number, string | null>();
  const resolve = (id: number): string | null => {
    const known = part.get(id);
    if (known !== undefined) return known;
    const node = byId.get(id);
    const own = node ? partOf(node) : undefined;
    const up = parent.get(id);
    const result = own ?? (up === undefined ? null : resolve(up));
    part.set(id, result);
    return result;
  };
  const counts = new Map<string, number>();
  let busy = 0;
  for (const id of profile.samples) {
    if (byId.get(id)?.callFrame.functionName === '(idle)') continue;
    const key = resolve(id) ?? OTHER;
    counts.set(key, (counts.get(key) ?? 0) + 1);
    busy += 1;
  }
  return [...counts].map(([p, n]) => ({ part: p, ms: (cpuMs * n) / busy })).sort((a, b) => b.ms - a.ms);
}

/** Starts profiling this process; the returned function stops and attributes what was sampled. */
export async function startProfile(): Promise<() => Promise<CpuPart[]>> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 500 });
  await session.post('Profiler.start');
  const cpu = process.cpuUsage();
  return async () => {
    const { user, system } = process.cpuUsage(cpu);
    const { profile } = (await session.post('Profiler.stop')) as { profile: Profile };
    session.disconnect();
    return attribute(profile, (user + system) / 1000);
  };
}
