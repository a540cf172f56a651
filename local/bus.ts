/**
 * The local event bus: EventBridge-shaped events, rules with EventBridge patterns (the same
 * `statemachines/*.trigger.json` files the CDK rules read) and asynchronous delivery to targets, so a
 * publisher never waits for its subscribers.
 *
 * Durability (as EventBridge's, once PutEvents succeeded): with a journal file, every accepted event is
 * appended before PutEvents answers, and each rule's delivery is acknowledged when its target has finished
 * with it (a workflow target, when the execution ended). `redeliver()` (the platform calls it at start-up,
 * after adding the rules) delivers again what a crash left unacknowledged; targets are idempotent (the
 * reward ledger by payment id), as EventBridge's at-least-once delivery requires anyway.
 *
 * Pattern support (honest subset): a pattern is an object whose leaves are arrays of exact values
 * (strings, numbers, booleans, null), matched against top-level and nested event fields; an event field
 * that is an array matches when any element matches. Content filters (prefix, anything-but, numeric,
 * exists, wildcard, ...) are not supported and are rejected when the rule is added.
 */
import { randomUUID } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { LOCAL_ACCOUNT, LOCAL_REGION } from './env';

export interface BusEvent {
  readonly version: '0';
  readonly id: string;
  readonly 'detail-type': string;
  readonly source: string;
  readonly account: string;
  readonly time: string;
  readonly region: string;
  readonly resources: string[];
  readonly detail: unknown;
}

/** A PutEvents entry (the shape of the SDK and of the Step Functions `events:putEvents` integration). */
export interface PutEventsEntry {
  readonly Source?: string;
  readonly DetailType?: string;
  /** A JSON string (SDK) or an object (Step Functions serialises it). */
  readonly Detail?: unknown;
  readonly EventBusName?: string;
  readonly Resources?: string[];
  readonly Time?: string;
}

export type EventPattern = { readonly [field: string]: readonly unknown[] | EventPattern };

export type BusTarget = (event: BusEvent) => Promise<unknown> | unknown;

export interface DeliveryFailure {
  readonly rule: string;
  readonly eventId: string;
  readonly error: string;
}

export interface LocalBus {
  readonly name: string;
  addRule(name: string, pattern: EventPattern, target: BusTarget): void;
  /** Publishes entries; returns the PutEvents response shape. Delivery happens after this returns. */
  putEvents(entries: readonly PutEventsEntry[]): { Entries: Array<{ EventId?: string; ErrorCode?: string; ErrorMessage?: string }>; FailedEntryCount: number };
  /** Events published so far (most recent last, bounded). */
  published(): readonly BusEvent[];
  /** Target invocations that threw (most recent last, bounded). */
  failures(): readonly DeliveryFailure[];
  /** Resolves when no delivery is queued or running. */
  idle(): Promise<void>;
  /** True while a delivery is queued or running. */
  busy(): boolean;
  /** Deliveries queued or running (each rule's target of each event): the background work not yet done. */
  backlog(): number;
  /** Delivers again the journal's events that a rule has not acknowledged (after a crash); the count. */
  redeliver(): number;
}

/** One line of the journal: an accepted event and the rules it goes to, or one rule's acknowledgement. */
type JournalLine = { readonly event: BusEvent; readonly rules: readonly string[] } | { readonly ack: string; readonly rule: string };

const HISTORY = 1000;

export interface LocalBusOptions {
  /** The journal file (durable delivery); in memory when omitted. */
  readonly journal?: string;
  /** Rewrite the journal with only its open events after this many lines. @default 10000 */
  readonly compactAfterLines?: number;
}

export function createLocalBus(name: string, options: LocalBusOptions = {}): LocalBus {
  const rules: Array<{ name: string; pattern: EventPattern; target: BusTarget }> = [];
  const history: BusEvent[] = [];
  const failed: DeliveryFailure[] = [];
  const pending = new Set<Promise<void>>();
  const journal = options.journal;
  /** Journaled events some rule has not acknowledged yet: what a compaction keeps. */
  const open = new Map<string, { event: BusEvent; rules: Set<string> }>();
  let linesSinceCompaction = 0;
  const compact = () => {
    if (!journal) return;
    const tmp = `${journal}.tmp`;
    writeFileSync(tmp, [...open.values()].map((o) => `${JSON.stringify({ event: o.event, rules: [...o.rules] } satisfies JournalLine)}\n`).join(''));
    renameSync(tmp, journal);
    linesSinceCompaction = 0;
  };
  /** Follows a journal line in memory: an event is open until every rule it went to has acknowledged it. */
  const track = (line: JournalLine) => {
    if ('event' in line) open.set(line.event.id, { event: line.event, rules: new Set(line.rules) });
    else {
      const entry = open.get(line.ack);
      entry?.rules.delete(line.rule);
      if (entry && entry.rules.size === 0) open.delete(line.ack);
    }
  };
  const write = (line: JournalLine) => {
    track(line);
    if (!journal) return;
    appendFileSync(journal, `${JSON.stringify(line)}\n`);
    // A long run would grow the file without end: rewrite it with what is still open now and then.
    if ((linesSinceCompaction += 1) >= (options.compactAfterLines ?? 10_000)) compact();
  };
  // What the last run left: events some rule never acknowledged. The journal is rewritten with only those.
  const unacknowledged: Array<{ event: BusEvent; rules: string[] }> = [];
  if (journal) {
    mkdirSync(dirname(journal), { recursive: true });
    if (existsSync(journal)) {
      for (const text of readFileSync(journal, 'utf8').split('\n')) {
        let line: JournalLine;
        try {
          line = JSON.parse(text) as JournalLine;
        } catch {
          continue; // empty, or cut short by a crash mid-write (that event was never acknowledged to its publisher)
        }
        track(line);
      }
    }
    for (const { event, rules: left } of open.values()) unacknowledged.push({ event, rules: [...left] });
    compact();
  }

  const deliver = (rule: (typeof rules)[number], event: BusEvent): void => {
    const delivery = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => rule.target(event))
      .then(
        () => write({ ack: event.id, rule: rule.name }),
        (error: unknown) => {
          remember(failed, { rule: rule.name, eventId: event.id, error: String((error as Error)?.message ?? error) });
        },
      )
      .finally(() => pending.delete(delivery));
    pending.add(delivery);
  };

  return {
    name,
    addRule(ruleName, pattern, target) {
      assertSupported(pattern, ruleName);
      rules.push({ name: ruleName, pattern, target });
    },
    putEvents(entries) {
      const results: Array<{ EventId?: string; ErrorCode?: string; ErrorMessage?: string }> = [];
      let failedCount = 0;
      for (const entry of entries) {
        const problem = entryProblem(entry, name);
        if (problem) {
          failedCount++;
          results.push(problem);
          continue;
        }
        const event: BusEvent = {
          version: '0',
          id: randomUUID(),
          'detail-type': entry.DetailType as string,
          source: entry.Source as string,
          account: LOCAL_ACCOUNT,
          time: entry.Time ?? new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
          region: LOCAL_REGION,
          resources: [...(entry.Resources ?? [])],
          detail: typeof entry.Detail === 'string' ? JSON.parse(entry.Detail) : entry.Detail,
        };
        remember(history, event);
        const matched = rules.filter((rule) => matchesPattern(rule.pattern, event));
        // On disk before PutEvents answers: from here on the event is the bus's to deliver.
        if (matched.length) write({ event, rules: matched.map((rule) => rule.name) });
        for (const rule of matched) deliver(rule, event);
        results.push({ EventId: event.id });
      }
      return { Entries: results, FailedEntryCount: failedCount };
    },
    published: () => [...history],
    failures: () => [...failed],
    async idle() {
      while (pending.size) await Promise.all([...pending]);
    },
    busy: () => pending.size > 0,
    backlog: () => pending.size,
    redeliver() {
      let count = 0;
      for (const { event, rules: left } of unacknowledged.splice(0)) {
        for (const ruleName of left) {
          const rule = rules.find((r) => r.name === ruleName);
          if (!rule) continue; // a rule this version no longer has
          deliver(rule, event);
          count += 1;
        }
      }
      return count;
    },
  };
}

function entryProblem(entry: PutEventsEntry, busName: string): { ErrorCode: string; ErrorMessage: string } | undefined {
  if (entry.EventBusName !== undefined && entry.EventBusName !== busName && !entry.EventBusName.endsWith(`:event-bus/${busName}`)) {
    return { ErrorCode: 'ResourceNotFoundException', ErrorMessage: `event bus ${entry.EventBusName} does not exist (the local bus is ${busName})` };
  }
  if (!entry.Source || !entry.DetailType || entry.Detail === undefined) {
    return { ErrorCode: 'InvalidArgument', ErrorMessage: 'Source, DetailType and Detail are required' };
  }
  if (typeof entry.Detail === 'string') {
    try {
      const detail: unknown = JSON.parse(entry.Detail);
      if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) throw new Error('not an object');
    } catch {
      return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is not a JSON object' };
    }
  } else if (typeof entry.Detail !== 'object' || entry.Detail === null || Array.isArray(entry.Detail)) {
    return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is not a JSON object' };
  }
  return undefined;
}

/** EventBridge matching for exact-value arrays on top-level and nested fields. */
export function matchesPattern(pattern: EventPattern, event: unknown): boolean {
  if (typeof event !== 'object' || event === null) return false;
  for (const [field, expected] of Object.entries(pattern)) {
    const actual = (event as Record<string, unknown>)[field];
    if (Array.isArray(expected)) {
      const candidates = Array.isArray(actual) ? actual : [actual];
      if (actual === undefined || !candidates.some((value) => expected.some((e) => e === value))) return false;
    } else if (!matchesPattern(expected as EventPattern, actual)) {
      return false;
    }
  }
  return true;
}

function assertSupported(pattern: unknown, rule: string, path = ''): void {
  if (typeof pattern !== 'object' || pattern === null || Array.isArray(pattern)) {
    throw new Error(`rule ${rule}: pattern${path ? ` at ${path}` : ''} must be an object`);
  }
  for (const [field, value] of Object.entries(pattern)) {
    const at = path ? `${path}.${field}` : field;
    if (Array.isArray(value)) {
      const filter = value.find((v) => typeof v === 'object' && v !== null);
      if (filter !== undefined) {
        throw new Error(`rule ${rule}: content filter ${JSON.stringify(filter)} at ${at} is not supported by the local bus`);
      }
      if (value.length === 0) throw new Error(`rule ${rule}: empty value list at ${at}`);
    } else {
      assertSupported(value, rule, at);
    }
  }
}

function remember<T>(list: T[], item: T): void {
  list.push(item);
  if (list.length > HISTORY) list.splice(0, list.length - HISTORY);
}
