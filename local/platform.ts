/**
 * Renders contracts/topology.ts onto the embedded parts: dynalite (the state store), the event bus with its
 * PutEvents endpoint, one worker per function with its own environment, the two workflows, a bus rule per
 * consumer (a workflow, or a queue drained by a function), the DLQ, the local issuer and the HTTP server.
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import type { Server } from 'node:http';
import { createLocalBus, type LocalBus } from './bus';
import { createLocalDlq, type LocalDlq } from './dlq';
import { ensureTables, startLocalStore, type LocalStore } from './dynalite';
import { startLocalEventsEndpoint } from './events-endpoint';
import { startLocalSearchEndpoint, type LocalSearchEndpoint } from './search-endpoint';
import { loadOrCreateSecret, localSecretArn, startLocalSecretsEndpoint } from './secrets-endpoint';
import type { LocalLedger } from './solana/ledger';
import { keypairSecret, loadOrCreateRewardKeys } from './solana/reward-keys';
import { startLocalSolanaRpc } from './solana/rpc';
import { DEFAULT_CONNECTORS, parseConnectorRegistry, parseFaultList } from '../contracts/connectors';
import { eventPattern } from '../contracts/events';
import { startLocalGateways, type LocalGateways } from './gateways';
import { ANALYTICS_INDEX_NAME, ENV } from '../contracts/resources';
import { allConsumers, type FunctionName } from '../contracts/topology';
import { createLocalQueue, type LocalQueue } from './queue';
import { DEFAULT_DATA_DIR, LOCAL_EVENT_BUS, LOCAL_TABLES, localEnvironments } from './env';
import { startLocalFunctions, type HandlerOverrides, type Invoker } from './functions';
import { createLocalIssuer, type LocalIssuer } from './issuer';
import { isSweep, startLocalSchedules, type LocalSchedules } from './schedules';
import { createLocalServer } from './server';
import { createLocalWorkflows, LOCAL_DLQ_URL, type LocalWorkflows, type RetryIntervalOverrides } from './workflows';

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
  /**
   * Values for the functions' variables (e.g. SANDBOX_FAULTS, MAX_PAYMENT_ATTEMPTS, CONNECTORS), each given to
   * the functions that declare it; win over `inheritEnv`.
   */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * The launcher's environment (`npm start` passes its own): the variables the topology lets you set, and
   * POWERTOOLS_*, are passed on to the functions that declare them; `env` wins over it. @default {}
   */
  readonly inheritedEnv?: Readonly<Record<string, string | undefined>>;
  /** Wrap functions (tests inject faults or delays this way). */
  readonly handlerOverrides?: HandlerOverrides;
  /** Retry waits in ms (tests: 0). @default the definitions' intervals */
  readonly retryIntervalOverrides?: RetryIntervalOverrides;
  /** Where unexpected failures go. @default console.error */
  readonly onError?: (message: string, error?: unknown) => void;
  /** Where long background work reports its progress (the analytics index's rebuild). @default nowhere */
  readonly onProgress?: (message: string) => void;
  /**
   * The schedules' intervals by name, in ms, for those it names (benchmarks that count store calls set them long
   * and drain with `idle()`). @default the outbox drain every 250 ms, the others as the topology says
   */
  readonly scheduleIntervalsMs?: Readonly<Record<string, number>>;
  /**
   * Fault testing: the share of the store's data calls answered with DynamoDB's throttling error (which the SDK
   * retries, and which sometimes gets through to the handlers). @default 0
   */
  readonly storeFaultRate?: number;
  /** Admission control of POST /pay (503 + Retry-After above it). @default DEFAULT_MAX_IN_FLIGHT_PAYMENTS (32) */
  readonly maxInFlightPayments?: number;
  /** Admission control: the background deliveries (bus) at which POST /pay answers 503 too. @default DEFAULT_MAX_BACKLOG (2000) */
  readonly maxBacklog?: number;
  /** The local Solana JSON-RPC endpoint's port (`npm start`: 8899, a local cluster's). @default 0, a free port */
  readonly solanaRpcPort?: number;
  /**
   * Fault testing: the share of Solana sendTransaction calls dropped by the "leader" (never processed), and as
   * many again whose answer is lost after processing (local/solana/rpc.ts). @default 0
   */
  readonly solanaFaultRate?: number;
  /**
   * A real Stripe secret key (`npm start` passes STRIPE_SECRET_KEY): the registry's Stripe connectors then talk to
   * Stripe itself with it, instead of the embedded fake of Stripe's API. @default - the fake
   */
  readonly stripeSecretKey?: string;
  /** With `stripeSecretKey`: the webhook signing secret (`npm start` passes STRIPE_WEBHOOK_SECRET; `stripe listen` prints it). */
  readonly stripeWebhookSecret?: string;
}

export interface LocalPlatform {
  readonly url: string;
  readonly port: number;
  readonly issuer: LocalIssuer;
  readonly workflows: LocalWorkflows;
  readonly bus: LocalBus;
  readonly dlq: LocalDlq;
  readonly store: LocalStore;
  /** Each function's invoker (a worker of its own). */
  readonly functions: Readonly<Record<FunctionName, Invoker>>;
  /** The topology's schedules (the reconciler, the outbox drain): `run(name)` runs one now. */
  readonly schedules: LocalSchedules;
  /** Resolves when no event delivery or workflow execution is pending. */
  idle(): Promise<void>;
  /**
   * What the background work is behind by, as admission control counts it (`maxBacklog`): event deliveries not
   * done, less the messages a queue's batching window holds on purpose.
   */
  backlog(): number;
  /**
   * The local Solana JSON-RPC endpoint and its ledger (bankrun, persisted with the rest; started at its first
   * use, with the reward token on it), and the reward token's mint, the treasury (the fee payer) and the mint authority addresses.
   */
  /** The embedded fakes of the real gateways' APIs (Stripe's, unless a real key was given). */
  readonly gateways: LocalGateways;
  /** The analytics index's OpenSearch endpoint (over Orama). */
  readonly search: LocalSearchEndpoint;
  /**
   * The analytics index's rebuild from the store, when the platform started without an index (a new or deleted
   * `.smartpay/search/`, or an older `.smartpay/`): resolves with the payments read once it is done (0: nothing to do).
   */
  readonly analyticsRebuilt: Promise<number>;
  readonly solana: { readonly url: string; ledger(): Promise<LocalLedger>; readonly rewardMint: string; readonly treasury: string; readonly mintAuthority: string };
  /** Stops the server, lets running executions finish (up to graceMs, then aborts them), stops the store. */
  close(graceMs?: number): Promise<void>;
}


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
    const store = await startLocalStore({ host, path: persist ? join(dataDir, 'dynamodb') : undefined, faultRate: options.storeFaultRate });
    cleanups.push(() => store.close());
    // Durable like EventBridge: accepted events are journaled until each rule's target has finished with them.
    const bus = createLocalBus(LOCAL_EVENT_BUS, { journal: persist ? join(dataDir, 'bus', 'events.jsonl') : undefined });
    const events = await startLocalEventsEndpoint(bus, host);
    cleanups.push(() => events.close());
    // The analytics index: an OpenSearch endpoint over an embedded Orama index, persisted under .smartpay/search/.
    const search = await startLocalSearchEndpoint({ host, ...(persist ? { dir: join(dataDir, 'search') } : {}) });
    cleanups.push(() => search.close());
    const localEnv = (extra: Readonly<Record<string, string>>, secretsEndpoint?: string, gatewayEndpoints?: Readonly<Record<string, string>>) =>
      localEnvironments({
        dynamodbEndpoint: store.endpoint,
        eventsEndpoint: events.url,
        searchEndpoint: search.url,
        secretsEndpoint,
        gatewayEndpoints,
        // The sandbox gateways' charge ledger persists with the rest (it is the gateways' own, not the platform's).
        env: { ...(persist ? { [ENV.sandboxLedgerDir]: join(dataDir, 'gateways') } : {}), ...extra, ...options.env },
        inherited: options.inheritedEnv ?? {},
      });
    // The reward token: its keys under .smartpay/solana/ (the token program and decimals the rewards function
    // will run with pick the mint), the authority and the treasury served as secrets, the mint created with the ledger.
    const rewardsEnv = localEnv({}).rewards;
    const rewardKeys = loadOrCreateRewardKeys(
      persist ? join(dataDir, 'solana') : undefined,
      rewardsEnv[ENV.rewardTokenProgram] === 'token-2022' ? 'token-2022' : 'spl-token',
      Number(rewardsEnv[ENV.rewardTokenDecimals]),
    );
    // The gateways: the fakes of the real gateways' APIs (one account per connector of their kind in the registry
    // the payments function runs with), and the credentials secret its adapters read.
    const paymentsEnv = localEnv({}).payments;
    const gateways = await startLocalGateways({
      connectors: paymentsEnv[ENV.connectors] ? parseConnectorRegistry(JSON.parse(paymentsEnv[ENV.connectors]), ENV.connectors) : DEFAULT_CONNECTORS,
      dir: persist ? join(dataDir, 'gateways') : undefined,
      faults: parseFaultList(paymentsEnv[ENV.sandboxFaults], ENV.sandboxFaults),
      stripeSecretKey: options.stripeSecretKey,
      stripeWebhookSecret: options.stripeWebhookSecret,
      host,
    });
    cleanups.push(() => gateways.close());
    const authorityArn = localSecretArn('solana-mint-authority');
    const treasuryArn = localSecretArn('solana-treasury');
    const gatewayCredentialsArn = localSecretArn('gateway-credentials');
    // The key of the cards' fingerprints, as the construct generates one (kept, so a card's fingerprint is stable).
    const fingerprintArn = localSecretArn('card-fingerprint-key');
    const fingerprintKey = loadOrCreateSecret(persist ? join(dataDir, 'payments') : undefined, 'card-fingerprint.key', () => randomBytes(48).toString('base64url'));
    const secrets = await startLocalSecretsEndpoint(
      new Map([
        [authorityArn, keypairSecret(rewardKeys.authority)],
        [treasuryArn, keypairSecret(rewardKeys.treasury)],
        [gatewayCredentialsArn, gateways.credentials],
        [fingerprintArn, fingerprintKey],
      ]),
      host,
    );
    cleanups.push(() => secrets.close());
    // The local Solana cluster: a bankrun ledger behind the JSON-RPC methods the code calls through web3.js,
    // started (and web3.js and bankrun loaded) at its first use, with the reward token on it.
    let ledgerStarted: Promise<LocalLedger> | undefined;
    const ledger = () =>
      (ledgerStarted ??= (async () => {
        const { LocalLedger } = await import('./solana/ledger.js');
        const { ensureRewardToken } = await import('./solana/reward-token.js');
        const { ensurePayTokens } = await import('./solana/pay-tokens.js');
        const started = await LocalLedger.start({ dir: persist ? join(dataDir, 'solana') : undefined });
        await ensureRewardToken(started, rewardKeys);
        // Solana Pay's stablecoins and the merchant's wallet.
        await ensurePayTokens(started);
        return started;
      })());
    const closeLedger = async () => (await ledgerStarted?.catch(() => undefined))?.close();
    cleanups.push(closeLedger);
    const solanaRpc = await startLocalSolanaRpc(ledger, { host, port: options.solanaRpcPort ?? 0, faultRate: options.solanaFaultRate });
    cleanups.push(() => solanaRpc.close());
    // The rewards function mints through the local cluster, signed by the local authority, its fees paid by the
    // local treasury (both read as secrets).
    const environments = localEnv(
      {
        [ENV.solanaRpcUrl]: solanaRpc.url,
        [ENV.splTokenMintAddress]: rewardKeys.mintAddress,
        [ENV.solanaMintAuthoritySecretArn]: authorityArn,
        [ENV.solanaTreasurySecretArn]: treasuryArn,
        [ENV.gatewayCredentialsSecretArn]: gatewayCredentialsArn,
        [ENV.cardFingerprintSecretArn]: fingerprintArn,
      },
      secrets.url,
      gateways.env,
    );
    await ensureTables(store.endpoint, LOCAL_TABLES);

    const functions = await startLocalFunctions(environments, options.handlerOverrides, () => store.connect());
    cleanups.push(() => functions.close());
    // Only functions write the outboxes: after any function's work (but a sweep's own run), the sweeps take their
    // short intervals again (schedules.ts).
    let onActivity = (): void => undefined;
    const withActivity = (pool: Readonly<Record<FunctionName, Invoker>>) =>
      Object.fromEntries(
        Object.entries(pool).map(([name, invoke]) => [
          name,
          async (event: unknown) => {
            try {
              return await invoke(event);
            } finally {
              if (!isSweep(event)) onActivity();
            }
          },
        ]),
      ) as Record<FunctionName, Invoker>;
    const invokers = withActivity(functions.invokers);
    const background = withActivity(functions.background);
    const dlq = createLocalDlq(LOCAL_DLQ_URL, persist ? join(dataDir, 'dlq', 'reward-dlq.jsonl') : undefined);
    const workflows = createLocalWorkflows({
      functions: invokers,
      bus,
      dlq,
      retryIntervalOverrides: options.retryIntervalOverrides,
      onExecutionFailed: (r) => onError(`[workflows] ${r.workflow} execution ${r.executionArn} ${r.status}: ${r.error}: ${r.cause}`),
    });
    cleanups.push(() => workflows.close());
    // One rule per consumer, as the CDK renders them: a workflow started by the event, or a queue (batches,
    // one consumer at a time, partial batch responses) drained by a function.
    const queues: LocalQueue[] = [];
    for (const consumer of allConsumers()) {
      if ('workflow' in consumer) {
        // Acknowledged when the execution has ended, not when it started (an Express execution is not durable: a crash
        // loses it). A rule per event: the journal's acknowledgements name them.
        for (const name of consumer.events) {
          bus.addRule(`${name}-to-${consumer.workflow}`, eventPattern(name), async (event) => {
            const execution = await workflows.run(consumer.workflow, event);
            // Cut short by a shutdown: not finished with, so the next start delivers it again.
            if (execution.status === 'ABORTED') throw new Error(`the ${consumer.workflow} execution was aborted at shutdown`);
          });
        }
      } else {
        const queue = createLocalQueue((batch) => background[consumer.function](batch), {
          batchSize: consumer.queue.batchSize,
          batchingWindowMs: consumer.queue.batchingWindowSeconds * 1000,
          retryDelayMs: (consumer.queue.localRetryDelaySeconds ?? 0) * 1000,
          onError,
        });
        queues.push(queue);
        bus.addRule(`${consumer.events.join('+')}-to-${consumer.queue.id}`, eventPattern(...consumer.events), (event) => queue.send(JSON.stringify(event)));
      }
    }

    // What a crash left undelivered goes out again (the targets are idempotent).
    const redelivered = bus.redeliver();
    if (redelivered) onError(`[bus] delivering again ${redelivered} event(s) the last run had not finished with`);

    // The schedules: the reconciler (at start-up, then every minute) and the outbox drain.
    const schedules = startLocalSchedules(background, onError, options.scheduleIntervalsMs);
    cleanups.push(() => schedules.close());
    onActivity = () => schedules.activity();

    const backlog = () => bus.backlog() - queues.reduce((a, q) => a + q.held(), 0);
    const issuer = await createLocalIssuer({ dir: persist ? join(dataDir, 'issuer') : undefined });
    const server = createLocalServer({
      issuer,
      functions: invokers,
      workflows,
      onError,
      maxInFlightPayments: options.maxInFlightPayments,
      backlog,
      maxBacklog: options.maxBacklog,
      console: { solanaRpcUrl: solanaRpc.url },
    });
    await listen(server, options.port ?? 3001, host);
    cleanups.push(() => closeServer(server));
    const { port } = server.address() as AddressInfo;
    // The fakes of the gateways send their webhooks here, as the gateways would to the deployed API.
    gateways.stripe?.setWebhookBase(`http://${host}:${port}/webhooks/stripe`);
    gateways.amazonPay?.setWebhookBase(`http://${host}:${port}/webhooks/amazon-pay`);

    /** Runs `work` with every queue's batching window off (a delivery to a queue then finishes without waiting for it). */
    const withoutWindows = (work: () => Promise<void>) => queues.reduce((inner, queue) => () => queue.withoutWindow(inner), work)();
    const idle = () =>
      withoutWindows(async () => {
        do {
          // Publish what the outbox holds, then let the bus, the workflows and the queues settle.
          await schedules.run('outbox');
          await bus.idle();
          await workflows.idle();
          for (const queue of queues) await queue.idle();
        } while (bus.busy() || workflows.busy() || queues.some((q) => q.busy()));
      });
    let closing: Promise<void> | undefined;
    // The analytics index is rebuilt from the store when it is missing, a page at a time in the background
    // instance (the queue's deliveries, through the same instance, are never indexed twice). In memory the store
    // starts empty too: nothing to rebuild, and no start-up work for it.
    const analyticsRebuilt = !persist || search.counts()[ANALYTICS_INDEX_NAME] !== undefined
      ? Promise.resolve(0)
      : (async () => {
          let cursor: string | undefined;
          let payments = 0;
          let rewards = 0;
          let indexed = 0;
          do {
            const page = (await background.analytics({ rebuild: { ...(cursor ? { cursor } : {}) } })) as { payments: number; rewards: number; indexed: number; cursor?: string };
            payments += page.payments;
            rewards += page.rewards;
            indexed += page.indexed;
            cursor = page.cursor;
            if (payments + rewards > 0) options.onProgress?.(`analytics index: rebuilding from the store, ${payments} payments and ${rewards} reward items read, ${indexed} documents indexed${cursor ? '...' : ' (done)'}`);
          } while (cursor && !closing);
          return payments;
        })().catch((error: unknown) => {
          onError('the analytics index could not be rebuilt from the store (POST /chat answers from what is indexed)', error);
          return 0;
        });
    return {
      url: `http://${host}:${port}`,
      port,
      issuer,
      workflows,
      bus,
      dlq,
      store,
      functions: invokers,
      schedules,
      idle,
      backlog,
      gateways,
      search,
      analyticsRebuilt,
      solana: { url: solanaRpc.url, ledger, rewardMint: rewardKeys.mintAddress, treasury: rewardKeys.treasuryAddress, mintAuthority: rewardKeys.authorityAddress },
      close: (graceMs?: number) => {
        closing ??= (async () => {
          await closeServer(server);
          await analyticsRebuilt;
          await schedules.close();
          // Running executions get the grace period (a delivery whose execution is aborted stays in the journal).
          await workflows.close(graceMs);
          await withoutWindows(async () => {
            await bus.idle();
            for (const queue of queues) await queue.idle();
          });
          await functions.close();
          await events.close();
          await search.close();
          await secrets.close();
          await gateways.close();
          await solanaRpc.close();
          await closeLedger();
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
