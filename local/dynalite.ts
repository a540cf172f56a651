/**
 * The local state store: dynalite (the DynamoDB API over loopback), in memory or persisted under the data
 * directory, with the four tables of `TABLES` created idempotently. The handlers talk to it with the same
 * DynamoDB code they use in the cloud (DYNAMODB_ENDPOINT).
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceInUseException,
  ResourceNotFoundException,
  UpdateTableCommand,
  type AttributeDefinition,
  type KeySchemaElement,
} from '@aws-sdk/client-dynamodb';
import { TABLES, type TableName, type TableSchema } from '../contracts/resources';
import type { StoreThreadData } from './store-thread';

export interface LocalStoreOptions {
  /** LevelDB directory (persisted across restarts); in memory when omitted. */
  readonly path?: string;
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** @default 0 (an ephemeral port) */
  readonly port?: number;
  /** Fault testing: the share of data calls (not table management) answered with a throttling error. @default 0 */
  readonly faultRate?: number;
}

/** DynamoDB operations the store has served, keyed `<Operation> <table>` (or `<Operation>` without a table). */
export type StoreStats = Record<string, number>;

/** Busy periods (see `LocalStore.rounds`). */
export interface StoreRounds {
  readonly total: number;
  readonly byTable: Readonly<Record<string, number>>;
}

export interface LocalStore {
  readonly endpoint: string;
  readonly port: number;
  /** A new channel to the store (local/store-channel.ts), for one function's thread: the port to send requests on. */
  connect(): MessagePort;
  /** Operations served since start (or since the last `resetStats()`). */
  stats(): Promise<StoreStats>;
  /** The CPU time (user + system) the store's thread has used since it started, in ms. */
  cpuMs(): Promise<number>;
  /**
   * The store's busy periods since start (or the last `resetStats()`): each time it went from serving nothing to
   * serving a call, in all and per table. Calls that overlap count once, so for one payment at a time `total` is
   * the number of store round trips on its path one after another (an upper bound when calls that could overlap,
   * from two functions at once, happened not to), and `byTable[t]` those of the function that owns table t.
   */
  rounds(): Promise<StoreRounds>;
  /**
   * Single-item operations (GetItem, PutItem, UpdateItem, DeleteItem) by `<operation> <table> <key prefix>` (e.g.
   * `PutItem routing model#`); a strongly consistent GetItem's key ends in ` consistent`.
   */
  items(): Promise<StoreStats>;
  resetStats(): void;
  close(): Promise<void>;
}

/**
 * Starts dynalite in a worker thread (local/store-thread.ts) and waits until it listens. A thread of its own
 * gives the store its own event loop (on another core when one is free): on the handlers' or the workflow
 * engine's loop it took about a sixth of the CPU of every payment away from them. Being in the platform's
 * process, the functions reach it over MessagePorts (`connect`) rather than loopback sockets.
 */
export async function startLocalStore(options: LocalStoreOptions = {}): Promise<LocalStore> {
  const host = options.host ?? '127.0.0.1';
  const releaseLock = options.path ? lockDataDir(options.path) : () => undefined;
  if (options.path) mkdirSync(options.path, { recursive: true });
  const data: StoreThreadData = { path: options.path, host, port: options.port ?? 0, faultRate: options.faultRate ?? 0 };
  const thread = new Worker(join(__dirname, 'store-thread.ts'), { workerData: data, execArgv: ['--require', require.resolve('tsx/cjs')] });
  let closing = false;
  let stopped = false;
  const exited = new Promise<void>((resolve) =>
    thread.once('exit', () => {
      stopped = true;
      resolve();
    }),
  );
  thread.once('exit', (code) => {
    releaseLock();
    if (!closing) console.error(`[store] the local store stopped unexpectedly (exit code ${code}); restart npm start`);
  });
  thread.on('error', (error) => {
    if (!closing) console.error(`[store] the local store failed: ${error.message}`);
  });
  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) => {
      const onMessage = (message: { type: string; port?: number; message?: string }) => {
        if (message.type === 'listening') resolve(message.port as number);
        else if (message.type === 'error') reject(new Error(`the local store could not start: ${message.message}`));
      };
      thread.on('message', onMessage);
      thread.once('error', (error) => reject(new Error(`the local store could not start: ${error.message}`)));
      thread.once('exit', (code) => reject(new Error(`the local store exited during start (code ${code})`)));
    });
  } catch (error) {
    closing = true;
    await thread.terminate();
    throw error;
  }
  let nextId = 0;
  type StatsReply = { type: string; id?: number; stats?: StoreStats; cpuMs?: number; rounds?: StoreRounds; items?: StoreStats };
  const pending = new Map<number, (reply: StatsReply) => void>();
  let closedByStore: (() => void) | undefined;
  thread.on('message', (message: StatsReply) => {
    if (message.type === 'stats' && message.id !== undefined) {
      pending.get(message.id)?.(message);
      pending.delete(message.id);
    }
    if (message.type === 'closed') closedByStore?.();
  });
  const ask = () =>
    new Promise<StatsReply>((resolve) => {
      const id = (nextId += 1);
      pending.set(id, resolve);
      thread.postMessage({ type: 'stats', id });
    });
  let closed: Promise<void> | undefined;
  return {
    endpoint: `http://${host}:${port}`,
    port,
    connect: () => {
      const channel = new MessageChannel();
      // A store that has stopped gets a closed channel: its calls fail at once instead of waiting for an answer.
      if (stopped) channel.port1.close();
      else thread.postMessage({ type: 'connect', port: channel.port1 }, [channel.port1]);
      return channel.port2;
    },
    stats: async () => (await ask()).stats ?? {},
    cpuMs: async () => (await ask()).cpuMs ?? 0,
    rounds: async () => (await ask()).rounds ?? { total: 0, byTable: {} },
    items: async () => (await ask()).items ?? {},
    resetStats: () => {
      thread.postMessage({ type: 'reset' });
    },
    close: () => {
      closed ??= (async () => {
        closing = true;
        // The store closes its database (its last writes flushed), then stops; after 5 s it is stopped anyway.
        const flushed = new Promise<void>((resolve) => {
          closedByStore = resolve;
        });
        thread.postMessage({ type: 'close' });
        const timer = setTimeout(() => closedByStore?.(), 5_000);
        await Promise.race([flushed, exited]);
        clearTimeout(timer);
        await thread.terminate();
        await exited;
      })();
      return closed;
    },
  };
}

/**
 * One store per persisted directory: LevelDB locks its directory, and dynalite would only fail later, on the
 * first request, with an uncaught "Database is closed". A pid file next to the directory turns that into a
 * clear error up front (a stale file, whose process is gone, is taken over).
 */
function lockDataDir(path: string): () => void {
  const lockFile = `${path}.lock`;
  mkdirSync(dirname(lockFile), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(lockFile, String(process.pid), { flag: 'wx' });
      let released = false;
      return () => {
        if (released) return;
        released = true;
        rmSync(lockFile, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number(readFileSync(lockFile, 'utf8').trim());
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner)) {
        throw new Error(`the local store ${path} is in use by another SmartPay process (pid ${owner}); stop it or use another --data-dir`);
      }
      rmSync(lockFile, { force: true });
    }
  }
  throw new Error(`could not lock the local store ${path}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Creates the tables with the cloud's key schemas (PAY_PER_REQUEST). Existing tables are kept as they are,
 * so a restart keeps its data. TTL is not set: dynalite has no UpdateTimeToLive (expired idempotency
 * records simply stay; Powertools checks `expiration` itself).
 */
export async function ensureTables(endpoint: string, names: Readonly<Record<TableName, string>>): Promise<void> {
  const client = new DynamoDBClient({
    endpoint,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  try {
    for (const table of Object.keys(TABLES) as TableName[]) {
      await ensureTable(client, names[table], TABLES[table]);
    }
  } finally {
    client.destroy();
  }
}

async function ensureTable(client: DynamoDBClient, tableName: string, schema: TableSchema): Promise<void> {
  const attributes = new Map<string, AttributeDefinition>();
  const attribute = (name: string) => attributes.set(name, { AttributeName: name, AttributeType: 'S' });
  const keySchema: KeySchemaElement[] = [{ AttributeName: schema.partitionKey, KeyType: 'HASH' }];
  attribute(schema.partitionKey);
  if (schema.sortKey) {
    keySchema.push({ AttributeName: schema.sortKey, KeyType: 'RANGE' });
    attribute(schema.sortKey);
  }
  const indexes = (schema.indexes ?? []).map((index) => {
    attribute(index.partitionKey);
    attribute(index.sortKey);
    return {
      IndexName: index.name,
      KeySchema: [
        { AttributeName: index.partitionKey, KeyType: 'HASH' as const },
        { AttributeName: index.sortKey, KeyType: 'RANGE' as const },
      ],
      Projection: { ProjectionType: 'KEYS_ONLY' as const },
    };
  });
  let existing: string[] | undefined;
  try {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    existing = (Table?.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName ?? '');
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
  }
  if (existing === undefined) {
    try {
      await client.send(
        new CreateTableCommand({
          TableName: tableName,
          KeySchema: keySchema,
          AttributeDefinitions: [...attributes.values()],
          BillingMode: 'PAY_PER_REQUEST',
          ...(indexes.length ? { GlobalSecondaryIndexes: indexes } : {}),
        }),
      );
    } catch (error) {
      if (!(error instanceof ResourceInUseException)) throw error;
    }
  } else {
    // A data directory from before an index existed: add it (one index per update, as DynamoDB requires).
    for (const index of indexes.filter((i) => !existing.includes(i.IndexName))) {
      await waitActive(client, tableName);
      await client.send(
        new UpdateTableCommand({
          TableName: tableName,
          AttributeDefinitions: [...attributes.values()],
          GlobalSecondaryIndexUpdates: [{ Create: index }],
        }),
      );
    }
  }
  await waitActive(client, tableName);
}

async function waitActive(client: DynamoDBClient, tableName: string): Promise<void> {
  for (let tries = 0; tries < 500; tries++) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    const indexesReady = (Table?.GlobalSecondaryIndexes ?? []).every((index) => index.IndexStatus === 'ACTIVE');
    if (Table?.TableStatus === 'ACTIVE' && indexesReady) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`local table ${tableName} did not become ACTIVE`);
}
