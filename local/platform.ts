/**
 * Wires the local platform: dynalite (state store), the event bus with its PutEvents endpoint, the handlers'
 * environment, the five handlers, the two workflows, the bus rules (reward workflow, routing model updater),
 * the DLQ, the local issuer and the HTTP server. One
 * platform per process: the handlers read a process-wide environment.
 */
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import type { Server } from 'node:http';
import { createLocalBus, type EventPattern, type LocalBus } from './bus';
import { createLocalDlq, type LocalDlq } from './dlq';
import { ensureTables, startLocalStore, type LocalStore } from './dynalite';
import { startLocalEventsEndpoint } from './events-endpoint';
import { createLocalQueue } from './queue';
import { ROUTING_UPDATER_BATCH, ROUTING_UPDATER_PATTERN } from '../contracts/resources';
import { applyLocalEnv, DEFAULT_DATA_DIR, LOCAL_EVENT_BUS, LOCAL_TABLES } from './env';
import { loadHandlers, type HandlerArea, type HandlerOverrides, type Invoker } from './handlers';
import { createLocalIssuer, type LocalIssuer } from './issuer';
import { createLocalServer } from './server';
import { createLocalWorkflows, LOCAL_DLQ_URL, STATEMACHINES_DIR, type LocalWorkflows, type RetryIntervalOverrides } from './workflows';

export { DEFAULT_DATA_DIR } from './env';

export interface LocalPlatformOptions {
  /** @default 3001; 0 picks a free port */
  readonly port?: number;
  /** @default '127.0.0.1' (loopback only) */
  readonly host?: string;
  /** Where the store, the DLQ and the issuer keys persist. @default '.smartpay' */
  readonly dataDir?: string;
  /** Keep everything in memory (tests, benchmarks); nothing is written to dataDir. @default false */
  readonly inMemory?: boolean;
  /** Extra environment for the handlers (e.g. SANDBOX_FAULTS); wins over the defaults. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Wrap handlers (tests inject faults or delays this way). */
  readonly handlerOverrides?: HandlerOverrides;
  /** Retry waits in ms (tests: 0). @default the definitions' intervals */
  readonly retryIntervalOverrides?: RetryIntervalOverrides;
  /** Where unexpected failures go. @default console.error */
  readonly onError?: (message: string, error?: unknown) => void;
}

export interface LocalPlatform {
  readonly url: string;
  readonly port: number;
  readonly issuer: LocalIssuer;
  readonly workflows: LocalWorkflows;
  readonly bus: LocalBus;
  readonly dlq: LocalDlq;
  readonly store: LocalStore;
  readonly handlers: Readonly<Record<HandlerArea, Invoker>>;
  /** Resolves when no event delivery or workflow execution is pending. */
  idle(): Promise<void>;
  /** Stops the server, lets running executions finish (up to graceMs, then aborts them), stops the store. */
  close(graceMs?: number): Promise<void>;
}

export const REWARD_RULE = 'reward-on-payment-succeeded';
export const ROUTING_UPDATER_RULE = 'routing-model-updater';

export async function startLocalPlatform(options: LocalPlatformOptions = {}): Promise<LocalPlatform> {
  const host = options.host ?? '127.0.0.1';
  const dataDir = resolve(options.dataDir ?? DEFAULT_DATA_DIR);
  const persist = !options.inMemory;
  const onError = options.onError ?? ((message: string, error?: unknown) => console.error(message, error ?? ''));
  const cleanups: Array<() => Promise<void>> = [];
  const cleanup = async () => {
    for (const fn of cleanups.reverse()) await fn().catch(() => undefined);
  };

  try {
    const store = await startLocalStore({ host, path: persist ? join(dataDir, 'dynamodb') : undefined });
    cleanups.push(() => store.close());
    const bus = createLocalBus(LOCAL_EVENT_BUS);
    const events = await startLocalEventsEndpoint(bus, host);
    cleanups.push(() => events.close());
    applyLocalEnv({ dynamodbEndpoint: store.endpoint, eventsEndpoint: events.url, env: options.env });
    await ensureTables(store.endpoint, LOCAL_TABLES);

    const handlers = await loadHandlers(options.handlerOverrides);
    const dlq = createLocalDlq(LOCAL_DLQ_URL, persist ? join(dataDir, 'dlq', 'reward-dlq.jsonl') : undefined);
    const workflows = createLocalWorkflows({
      handlers,
      bus,
      dlq,
      retryIntervalOverrides: options.retryIntervalOverrides,
      onExecutionFailed: (r) => onError(`[workflows] ${r.workflow} execution ${r.executionArn} ${r.status}: ${r.error}: ${r.cause}`),
    });
    cleanups.push(() => workflows.close());
    const pattern = JSON.parse(readFileSync(join(STATEMACHINES_DIR, 'reward.trigger.json'), 'utf8')) as EventPattern;
    bus.addRule(REWARD_RULE, pattern, (event) => {
      workflows.startReward(event);
    });
    // The routing model's updater: as in the cloud, a queue buffers the events for one consumer at a time.
    const routingUpdates = createLocalQueue((batch) => handlers.routing(batch), { batchSize: ROUTING_UPDATER_BATCH, onError });
    bus.addRule(ROUTING_UPDATER_RULE, ROUTING_UPDATER_PATTERN, (event) => routingUpdates.send(JSON.stringify(event)));

    const issuer = await createLocalIssuer({ dir: persist ? join(dataDir, 'issuer') : undefined });
    const server = createLocalServer({ issuer, handlers, workflows, onError });
    await listen(server, options.port ?? 3001, host);
    cleanups.push(() => closeServer(server));
    const { port } = server.address() as AddressInfo;

    const idle = async () => {
      do {
        await bus.idle();
        await workflows.idle();
        await routingUpdates.idle();
      } while (bus.busy() || workflows.busy() || routingUpdates.busy());
    };
    let closing: Promise<void> | undefined;
    return {
      url: `http://${host}:${port}`,
      port,
      issuer,
      workflows,
      bus,
      dlq,
      store,
      handlers,
      idle,
      close: (graceMs?: number) => {
        closing ??= (async () => {
          await closeServer(server);
          await bus.idle();
          await workflows.close(graceMs);
          await routingUpdates.idle();
          await events.close();
          await store.close();
        })();
        return closing;
      },
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') {
        reject(new Error(`port ${port} on ${host} is already in use; stop the other process or pick another port (--port <n> or PORT=<n>)`));
      } else {
        reject(error);
      }
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolvePromise();
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolvePromise) => {
    if (!server.listening) return resolvePromise();
    server.close(() => resolvePromise());
    server.closeIdleConnections();
    setTimeout(() => server.closeAllConnections(), 2000).unref();
  });
}
