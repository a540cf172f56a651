/** Small helpers the benchmarks share (the seeded PRNG is ml/prng.ts: the simulators use it too). */
export { prng } from '../ml/prng';

/** The q-quantile of sorted values (nearest rank). */
export const quantile = (sorted: ArrayLike<number>, q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

/**
 * Invocation times (ms) by `<function>:<kind>`: the workflow step it ran, `queue` for an SQS batch (`Records`), or
 * `other` (API, schedules).
 */
export type TaskTimes = Record<string, number[]>;

/**
 * Times every invocation of the local functions by `<function>:<kind>` (handler overrides, on the Lambda side of
 * the JSON boundary: the wall time of the call into the function's thread and back). `take()` returns and clears
 * them. bench:pay and `npm run cost` use it.
 */
export function taskTimer(functions: readonly string[]): {
  overrides: Record<string, (event: unknown, next: (event: unknown) => Promise<unknown>) => Promise<unknown>>;
  take(): TaskTimes;
} {
  let times: TaskTimes = {};
  const overrides = Object.fromEntries(
    functions.map((fn) => [
      fn,
      async (event: unknown, next: (event: unknown) => Promise<unknown>) => {
        const { step, Records } = (event ?? {}) as { step?: unknown; Records?: unknown };
        const key = `${fn}:${typeof step === 'string' ? step : Array.isArray(Records) ? 'queue' : 'other'}`;
        const started = performance.now();
        try {
          return await next(event);
        } finally {
          (times[key] ??= []).push(performance.now() - started);
        }
      },
    ]),
  );
  return {
    overrides,
    take: () => {
      const taken = times;
      times = {};
      return taken;
    },
  };
}
