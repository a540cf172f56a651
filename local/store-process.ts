/**
 * The local store's own process: dynalite serving the DynamoDB API on loopback, so its CPU runs on another
 * core than the handlers and the workflow engine. Started by `startLocalStore` (dynalite.ts) over IPC;
 * it exits when its parent goes away.
 *
 * Messages in: {type:'start', path?, host, port, faultRate?}, {type:'stats', id}, {type:'reset'}. With a fault
 * rate, that share of data calls is answered with DynamoDB's throttling error before dynalite sees it.
 * Messages out: {type:'listening', port}, {type:'error', message}, {type:'stats', id, stats, cpuMs, rounds} (cpuMs:
 * the process's CPU time so far; rounds: its busy periods since the last reset, in all and per table; writes: the
 * single-item writes by table and key prefix).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import dynalite from 'dynalite';

type Message =
  | { type: 'start'; path?: string; host: string; port: number; faultRate?: number }
  | { type: 'stats'; id: number }
  | { type: 'reset' };

let counts: Record<string, number> = {};
/** Single-item writes by table and kind of item (`<table> <key prefix>`): what write units are priced by. */
let writes: Record<string, number> = {};
const SINGLE_WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem']);
/** Requests being served, and the busy periods (each time the store went from idle to serving one). */
let inFlight = 0;
let rounds = 0;
const inFlightByTable: Record<string, number> = {};
let roundsByTable: Record<string, number> = {};
let server: ReturnType<typeof dynalite> | undefined;

/** Table management is never faulted: only what the handlers do at run time. */
const MANAGEMENT = /\.(CreateTable|DescribeTable|UpdateTable|DeleteTable|ListTables|UpdateTimeToLive)$/;

function start(options: { path?: string; host: string; port: number; faultRate?: number }): void {
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
      if (table && SINGLE_WRITES.has(operation)) {
        // Which kind of item: its first key value's prefix up to '#' (model#, decision#, cust#...), else the table.
        const first = /"(?:Key|Item)"\s*:\s*\{\s*"[^"]+"\s*:\s*\{\s*"S"\s*:\s*"([^"#]*#?)/.exec(head)?.[1];
        const kind = `${table} ${first?.endsWith('#') ? first : ''}`;
        writes[kind] = (writes[kind] ?? 0) + 1;
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
  server.once('error', (error: Error) => process.send?.({ type: 'error', message: error.message }));
  server.listen(options.port, options.host, () => {
    process.send?.({ type: 'listening', port: (server!.address() as AddressInfo).port });
  });
}

process.on('message', (message: Message) => {
  if (message.type === 'start') start(message);
  else if (message.type === 'stats') {
    const { user, system } = process.cpuUsage();
    process.send?.({ type: 'stats', id: message.id, stats: { ...counts }, cpuMs: (user + system) / 1000, rounds: { total: rounds, byTable: { ...roundsByTable } }, writes: { ...writes } });
  }
  else if (message.type === 'reset') {
    counts = {};
    writes = {};
    rounds = 0;
    roundsByTable = {};
  }
});

// Ctrl-C reaches the whole process group: the platform stops the store itself, after its last workflow has
// written (the channel closes below), so the store does not die under it with a "stopped unexpectedly".
process.on('SIGINT', () => undefined);

// The parent closed the channel (it stopped, or crashed): close the database cleanly and go.
process.on('disconnect', () => {
  const done = () => process.exit(0);
  if (!server) done();
  else {
    server.closeAllConnections?.();
    server.close(done);
    setTimeout(done, 2_000).unref();
  }
});
