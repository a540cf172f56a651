/**
 * The local schedules (local/schedules.ts): each runs at start; the outbox sweeps poll on their short intervals
 * while functions work, and every SWEEP_IDLE_MS once none has for ACTIVE_WINDOW_MS; activity brings a waiting
 * sweep forward at once. Fake timers (Date included).
 */
import { FUNCTION_NAMES, type FunctionName } from '../../contracts/topology';
import type { Invoker } from '../../local/functions';
import { ACTIVE_WINDOW_MS, isSweep, OUTBOX_DRAIN_MS, startLocalSchedules, SWEEP_IDLE_MS, type LocalSchedules } from '../../local/schedules';

let runs: string[];
let schedules: LocalSchedules | undefined;
const count = (name: string) => runs.filter((r) => r === name).length;

beforeEach(() => {
  jest.useFakeTimers({ now: Date.UTC(2026, 11, 3) });
  runs = [];
  const invokers = Object.fromEntries(
    FUNCTION_NAMES.map((name) => [name, (async (event: unknown) => void runs.push((event as { schedule: string }).schedule)) as Invoker]),
  ) as Record<FunctionName, Invoker>;
  schedules = startLocalSchedules(invokers, () => undefined);
});

afterEach(async () => {
  await schedules?.close();
  jest.useRealTimers();
});

test('every schedule runs once at start', async () => {
  await jest.advanceTimersByTimeAsync(0);
  expect([...runs].sort()).toEqual(['mints', 'outbox', 'reconcile', 'reward-events']);
});

test('the outbox sweep polls every 250 ms while busy, every 2 s once idle, and activity brings it forward', async () => {
  expect(OUTBOX_DRAIN_MS).toBe(250);
  await jest.advanceTimersByTimeAsync(1000);
  expect(count('outbox')).toBe(1 + 4); // at start, then 4 short ticks (the start counts as activity)
  await jest.advanceTimersByTimeAsync(ACTIVE_WINDOW_MS); // the window ends at 5 s: ticks at 1.25 ... 5 s
  const atIdle = count('outbox');
  expect(atIdle).toBe(1 + 20);
  await jest.advanceTimersByTimeAsync(3 * SWEEP_IDLE_MS);
  expect(count('outbox') - atIdle).toBe(3); // idle: at 7, 9 and 11 s
  // A function worked: the sweep runs within its short interval, not the rest of its idle wait.
  const before = count('outbox');
  await jest.advanceTimersByTimeAsync(100);
  schedules!.activity();
  await jest.advanceTimersByTimeAsync(OUTBOX_DRAIN_MS);
  expect(count('outbox')).toBe(before + 1);
  await jest.advanceTimersByTimeAsync(4 * OUTBOX_DRAIN_MS);
  expect(count('outbox')).toBe(before + 5);
  // The minute schedules keep their minute.
  expect(count('reconcile')).toBe(1);
});

test("a sweep's own run is not activity; any other invocation is", () => {
  expect(isSweep({ schedule: 'outbox' })).toBe(true);
  expect(isSweep({ schedule: 'reward-events' })).toBe(true);
  expect(isSweep({ schedule: 'reconcile' })).toBe(false);
  expect(isSweep({ step: 'charge' })).toBe(false);
  expect(isSweep(null)).toBe(false);
  expect(isSweep({ schedule: 'constructor' })).toBe(false); // an own key of the sweeps, not the prototype's
});
