/**
 * The topology's schedules (contracts/topology.ts `schedules`) as timers: each function is invoked with
 * `{ schedule: name }`, once at start-up and then on its interval, one run at a time (a tick that finds the
 * last run still going is skipped, as a rate rule's overlapping invocation would find nothing left to do).
 *
 * One local difference, on purpose: the outbox sweep runs every OUTBOX_DRAIN_MS instead of every minute,
 * because locally it is the outbox's only publisher (in the cloud the table's stream publishes first and
 * the sweep is the safety net); the rewards outbox's sweep every REWARD_EVENTS_DRAIN_MS, so a change whose
 * publication failed reaches analytics within a second or so, as the local platform's users expect.
 */
import { allSchedules, type FunctionName, type ScheduleSpec } from '../contracts/topology';
import type { Invoker } from './functions';

/** How often the local outbox drain runs. */
export const OUTBOX_DRAIN_MS = 250;
/** How often the rewards outbox's sweep runs locally (each change is published as it is made; this catches a publication that failed). */
export const REWARD_EVENTS_DRAIN_MS = 1_000;

export interface LocalSchedules {
  /** Runs one schedule now (or waits for its run in progress) and returns the function's answer. */
  run(name: string): Promise<unknown>;
  /** Stops the timers and waits for the runs in progress. */
  close(): Promise<void>;
}

export function startLocalSchedules(
  invokers: Readonly<Record<FunctionName, Invoker>>,
  onError: (message: string, error?: unknown) => void,
  /** Intervals by schedule name, in ms, over the local defaults (the outbox drain every OUTBOX_DRAIN_MS). */
  intervalsMs: Readonly<Record<string, number>> = {},
): LocalSchedules {
  const intervals: Readonly<Record<string, number>> = { outbox: OUTBOX_DRAIN_MS, 'reward-events': REWARD_EVENTS_DRAIN_MS, ...intervalsMs };
  const specs = new Map<string, ScheduleSpec>(allSchedules().map((s) => [s.name, s]));
  const running = new Map<string, Promise<unknown>>();
  const timers: NodeJS.Timeout[] = [];
  let closed = false;

  const run = (name: string): Promise<unknown> => {
    const spec = specs.get(name);
    if (!spec) return Promise.reject(new Error(`no schedule named ${name} (contracts/topology.ts has ${[...specs.keys()].join(', ')})`));
    const current = running.get(name);
    if (current) return current.then(() => run(name));
    const started = invokers[spec.function]({ schedule: name })
      .catch((error: unknown) => {
        if (!closed) onError(`[schedules] ${name} failed; the next run retries`, error);
        return undefined;
      })
      .finally(() => running.delete(name));
    running.set(name, started);
    return started;
  };

  for (const spec of specs.values()) {
    void run(spec.name);
    const every = intervals[spec.name] ?? spec.everyMinutes * 60_000;
    const timer = setInterval(() => {
      if (!running.has(spec.name) && !closed) void run(spec.name);
    }, every);
    timer.unref();
    timers.push(timer);
  }

  return {
    run,
    async close() {
      closed = true;
      for (const timer of timers) clearInterval(timer);
      await Promise.allSettled([...running.values()]);
    },
  };
}
