/**
 * The topology's schedules (contracts/topology.ts `schedules`) as timers: each function is invoked with
 * `{ schedule: name }`, once at start-up and then on its interval, one run at a time (a tick that finds the
 * last run still going is skipped, as a rate rule's overlapping invocation would find nothing left to do).
 *
 * One local difference, on purpose: the outbox sweep runs every OUTBOX_DRAIN_MS instead of every minute,
 * because locally it is the outbox's only publisher (in the cloud the table's stream publishes first and
 * the sweep is the safety net); the rewards outbox's sweep every REWARD_EVENTS_DRAIN_MS, so a change whose
 * publication failed reaches analytics within a second or so, as the local platform's users expect. Those two
 * sweeps run that often only while the platform is busy: for ACTIVE_WINDOW_MS after any function's work
 * (`activity()`: the platform calls it after every invocation but theirs, and only functions write the outboxes),
 * and every SWEEP_IDLE_MS otherwise. An idle platform then costs a few hundredths of a core, not a tenth.
 */
import { allSchedules, type FunctionName, type ScheduleSpec } from '../contracts/topology';
import type { Invoker } from './functions';

/** How often the local outbox drain runs. */
export const OUTBOX_DRAIN_MS = 250;
/** How often the rewards outbox's sweep runs locally (each change is published as it is made; this catches a publication that failed). */
export const REWARD_EVENTS_DRAIN_MS = 1_000;
/** How long after a function's work the sweeps keep their short intervals. */
export const ACTIVE_WINDOW_MS = 5_000;
/** How often the sweeps run when no function has worked for ACTIVE_WINDOW_MS. */
export const SWEEP_IDLE_MS = 2_000;
/** The schedules that sweep an outbox, with their short local intervals. */
const SWEEPS: Readonly<Record<string, number>> = { outbox: OUTBOX_DRAIN_MS, 'reward-events': REWARD_EVENTS_DRAIN_MS };

/** Whether an invocation is a sweep's own run (which is not activity: a sweep alone would keep itself fast). */
export function isSweep(event: unknown): boolean {
  const name = (event as { schedule?: unknown } | null)?.schedule;
  return typeof name === 'string' && Object.hasOwn(SWEEPS, name);
}

export interface LocalSchedules {
  /** Runs one schedule now (or waits for its run in progress) and returns the function's answer. */
  run(name: string): Promise<unknown>;
  /** A function did some work (it may have written an outbox): the sweeps take their short intervals again. */
  activity(): void;
  /** Stops the timers and waits for the runs in progress. */
  close(): Promise<void>;
}

export function startLocalSchedules(
  invokers: Readonly<Record<FunctionName, Invoker>>,
  onError: (message: string, error?: unknown) => void,
  /** Intervals by schedule name, in ms, over the local defaults (the outbox drain every OUTBOX_DRAIN_MS). */
  intervalsMs: Readonly<Record<string, number>> = {},
): LocalSchedules {
  const intervals: Readonly<Record<string, number>> = { ...SWEEPS, ...intervalsMs };
  const specs = new Map<string, ScheduleSpec>(allSchedules().map((s) => [s.name, s]));
  const running = new Map<string, Promise<unknown>>();
  const timers = new Map<string, { timer: NodeJS.Timeout; idle: boolean }>();
  let closed = false;
  let lastActivity = Date.now();

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

  /** The next tick of a schedule: a sweep's short interval while the platform is busy, SWEEP_IDLE_MS (or longer, if set so) when not. */
  const arm = (spec: ScheduleSpec): void => {
    const every = intervals[spec.name] ?? spec.everyMinutes * 60_000;
    const idle = Object.hasOwn(SWEEPS, spec.name) && Date.now() - lastActivity >= ACTIVE_WINDOW_MS;
    const timer = setTimeout(() => {
      if (closed) return;
      if (!running.has(spec.name)) void run(spec.name);
      arm(spec);
    }, idle ? Math.max(every, SWEEP_IDLE_MS) : every);
    timer.unref();
    timers.set(spec.name, { timer, idle });
  };
  for (const spec of specs.values()) {
    void run(spec.name);
    arm(spec);
  }

  return {
    run,
    activity() {
      lastActivity = Date.now();
      if (closed) return;
      // A sweep waiting out its idle interval is brought forward to its short one.
      for (const [name, armed] of timers) {
        if (!armed.idle) continue;
        clearTimeout(armed.timer);
        arm(specs.get(name)!);
      }
    },
    async close() {
      closed = true;
      for (const { timer } of timers.values()) clearTimeout(timer);
      await Promise.allSettled([...running.values()]);
    },
  };
}
