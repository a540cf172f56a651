/**
 * The local store's own thread: dynalite serving the DynamoDB API on loopback (HTTP, for the AWS CLI, tests and
 * table management) and over MessagePorts (local/store-channel.ts: the local functions' transport without a
 * socket). A thread of its own keeps it off the event loops of the handlers and the workflow engine. Started by
 * `startLocalStore` (dynalite.ts); `workerData` carries {path?, host, port, faultRate?}.
 *
 * Messages in: {type:'stats', id}, {type:'reset'}, {type:'connect', port} (serve a function's channel),
 * {type:'close'}. With a fault rate, that share of data calls is answered with DynamoDB's throttling error before
 * dynalite sees it, on either way in.
 * Messages out: {type:'listening', port}, {type:'error', message}, {type:'closed'}, {type:'stats', id, stats, cpuMs,
 * rounds, items} (cpuMs: this thread's CPU time so far; rounds: its busy periods since the last reset, in all and
 * per table; items: the single-item operations by operation, table and key prefix).
 */
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import dynalite from 'dynalite';
import { serveChannel } from './store-channel';

export interface StoreThreadData {
  readonly path?: string;
  readonly host: string;
  readonly port: number;
  readonly faultRate?: number;
}

type Message = { type: 'stats'; id: number } | { type: 'reset' } | { type: 'connect'; port: MessagePort } | { type: 'close' };

const parent = parentPort!;

let counts: Record<string, number> = {};
/**
 * Single-item operations by operation, table and kind of item (`<operation> <table> <key prefix>`, a GetItem's
 * followed by ` consistent` when it asked for a strongly consistent read): what read and write units are priced by.
 */
let items: Record<string, number> = {};
const SINGLE_ITEM = new Set(['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem']);
/** Requests being served, and the busy periods (each time the store went from idle to serving one). */
let inFlight = 0;
let rounds = 0;
const inFlightByTable: Record<string, number> = {};
let roundsByTable: Record<string, number> = {};
let server: ReturnType<typeof dynalite> | undefined;

/** Table management is never faulted: only what the handlers do at run time. */
const MANAGEMENT = /\.(CreateTable|DescribeTable|UpdateTable|DeleteTable|ListTables|UpdateTimeToLive)$/;

function start(options: StoreThreadData): void {
  server = dynalite({ path: options.path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const faultRate = options.faultRate ?? 0;
  if (faultRate > 0) {
    const serve = server.listeners('request') as Array<(req: IncomingMessage, res: ServerResponse) => void>;
    server.removeAllListeners('request');
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      const target = String(req.headers['x-amz-target'] ?? '');
      if (!MANAGEMENT.test(target) && Math.random() < faultRate) {
        req.resume();
        res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException', message: 'injected fault: throughput exceeded' }));
        return;
      }
      for (const listener of serve) listener.call(server, req, res);
    });
  }
  // Counts served operations by operation and table (the table name is read from the start of the body), and
  // busy periods: in all, and per table (for one payment at a time, its store round trips that did not overlap;
  // per table, those of the function that owns it).
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (inFlight === 0) rounds += 1;
    inFlight += 1;
    const target = String(req.headers['x-amz-target'] ?? 'unknown');
    const operation = target.slice(target.indexOf('.') + 1);
    let head = '';
    let table: string | undefined;
    let counted = false;
    const count = () => {
      if (counted) return;
      counted = true;
      table = /"TableName"\s*:\s*"([^"]+)"/.exec(head)?.[1];
      const key = table ? `${operation} ${table}` : operation;
      counts[key] = (counts[key] ?? 0) + 1;
      if (table && SINGLE_ITEM.has(operation)) {
        // Which kind of item: its first key value's prefix up to '#' (model#, decision#, cust#...), else the table.
        const first = /"(?:Key|Item)"\s*:\s*\{\s*"[^"]+"\s*:\s*\{\s*"S"\s*:\s*"([^"#]*#?)/.exec(head)?.[1];
        const consistent = operation === 'GetItem' && /"ConsistentRead"\s*:\s*true/.test(head) ? ' consistent' : '';
        const kind = `${operation} ${table} ${first?.endsWith('#') ? first : ''}${consistent}`;
        items[kind] = (items[kind] ?? 0) + 1;
      }
      if (table) {
        if (!inFlightByTable[table]) roundsByTable[table] = (roundsByTable[table] ?? 0) + 1;
        inFlightByTable[table] = (inFlightByTable[table] ?? 0) + 1;
      }
    };
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      inFlight -= 1;
      if (table) inFlightByTable[table] -= 1;
    };
    req.on('data', (chunk: Buffer) => {
      if (head.length < 2048) head += chunk.toString('utf8', 0, Math.min(chunk.length, 2048));
    });
    req.on('end', count);
    req.on('close', count);
    res.on('finish', finish);
    res.on('close', finish);
  });
  server.once('error', (error: Error) => parent.postMessage({ type: 'error', message: error.message }));
  server.listen(options.port, options.host, () => {
    parent.postMessage({ type: 'listening', port: (server!.address() as AddressInfo).port });
  });
}

const TICKS_PER_SECOND = 100;

/**
 * This thread's CPU time (ms): user + system from /proc/thread-self/stat on Linux (10 ms resolution); elsewhere
 * its event loop's active time (an upper bound: it also counts waits for a core while busy).
 */
function threadCpuMs(): number {
  try {
    const stat = readFileSync('/proc/thread-self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return performance.eventLoopUtilization().active;
  }
}

start(workerData as StoreThreadData);

parent.on('message', (message: Message) => {
  if (message.type === 'stats') {
    parent.postMessage({ type: 'stats', id: message.id, stats: { ...counts }, cpuMs: threadCpuMs(), rounds: { total: rounds, byTable: { ...roundsByTable } }, items: { ...items } });
  } else if (message.type === 'reset') {
    counts = {};
    items = {};
    rounds = 0;
    roundsByTable = {};
  } else if (message.type === 'connect') {
    serveChannel(server!, message.port);
  } else if (message.type === 'close') {
    // Close the database cleanly (its last writes flushed), then say so.
    const done = () => parent.postMessage({ type: 'closed' });
    server!.closeAllConnections?.();
    server!.close(done);
  }
});
