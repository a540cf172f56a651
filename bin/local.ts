/**
 * `npm start`: the whole platform on this machine, no AWS account and no Docker. Data persists under
 * `.smartpay/`. Options: --port <n> (or PORT; default 3001), --data-dir <dir>, --in-memory.
 */
import { parseArgs } from 'node:util';
import { ENV } from '../contracts/resources';
import type { LocalGateways } from '../local/gateways';
import { DEFAULT_DATA_DIR, startLocalPlatform } from '../local/platform';

const SAMPLE_BODY = JSON.stringify({
  amount: 1999,
  currency: 'USD',
  customerId: 'cus_1',
  paymentMethod: { type: 'card', number: '4242424242424242', expMonth: 12, expYear: 2030, cvc: '123' },
});

// The SDK's notice that its 2027 releases need Node 22 (the lockfile pins today's): not news at every start.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** A path as one shell word (quoted when it holds anything but safe characters). */
function shellWord(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, "'\\''")}'`;
}

/** What the gateways are this run: the real adapters against the embedded fakes (or Stripe itself), and the sandboxes. */
function gatewayLine(gateways: LocalGateways): string {
  const parts = [
    gateways.stripe
      ? `the Stripe adapter against an embedded fake of Stripe's API at ${gateways.stripe.url} (webhooks to /webhooks/stripe/{connectorId}; STRIPE_SECRET_KEY=sk_test_… talks to Stripe itself)`
      : process.env.STRIPE_SECRET_KEY
        ? "the Stripe adapter against Stripe's own API with STRIPE_SECRET_KEY"
        : undefined,
    gateways.amazonPay ? `the Amazon Pay adapter against an embedded fake of Amazon Pay's API at ${gateways.amazonPay.url}` : undefined,
  ].filter(Boolean);
  return `${parts.length ? `${parts.join('; ')}; ` : ''}sandbox connectors run in process`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      'data-dir': { type: 'string' },
      'in-memory': { type: 'boolean', default: false },
      'store-fault-rate': { type: 'string' },
      'solana-port': { type: 'string' },
      'solana-fault-rate': { type: 'string' },
      'mints-every-ms': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(
      'usage: npm start -- [--port 3001] [--data-dir .smartpay] [--in-memory] [--solana-port 8899 (the local Solana JSON-RPC, its websocket on the next port; 0: a free pair)] [--store-fault-rate 0.05 (fault testing: a share of store calls is throttled)] [--solana-fault-rate 0.1 (fault testing: that share of Solana sends is dropped unprocessed, and as many again lose their answer)] [--mints-every-ms 60000 (how often the mints schedule runs; fault testing runs it sooner)]',
    );
    return;
  }
  const rawPort = values.port ?? process.env.PORT ?? '3001';
  const port = Number(rawPort);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`invalid port "${rawPort}": use an integer between 0 and 65535`);
  }
  const dataDir = values['data-dir'] ?? DEFAULT_DATA_DIR;
  const storeFaultRate = values['store-fault-rate'] === undefined ? undefined : Number(values['store-fault-rate']);
  if (storeFaultRate !== undefined && !(storeFaultRate >= 0 && storeFaultRate < 1)) {
    throw new Error(`invalid --store-fault-rate "${values['store-fault-rate']}": use a share from 0 to below 1, e.g. 0.05`);
  }
  const solanaFaultRate = values['solana-fault-rate'] === undefined ? undefined : Number(values['solana-fault-rate']);
  if (solanaFaultRate !== undefined && !(solanaFaultRate >= 0 && solanaFaultRate < 0.5)) {
    throw new Error(`invalid --solana-fault-rate "${values['solana-fault-rate']}": use a share from 0 to below 0.5, e.g. 0.1`);
  }
  const rawSolanaPort = values['solana-port'] ?? process.env.SOLANA_RPC_PORT ?? '8899';
  const solanaRpcPort = Number(rawSolanaPort);
  if (!Number.isInteger(solanaRpcPort) || solanaRpcPort < 0 || solanaRpcPort > 65535) {
    throw new Error(`invalid Solana RPC port "${rawSolanaPort}": use an integer between 0 and 65535`);
  }
  const mintsEveryMs = values['mints-every-ms'] === undefined ? undefined : Number(values['mints-every-ms']);
  if (mintsEveryMs !== undefined && !(Number.isInteger(mintsEveryMs) && mintsEveryMs >= 100)) {
    throw new Error(`invalid --mints-every-ms "${values['mints-every-ms']}": use whole milliseconds, at least 100`);
  }
  const platform = await startLocalPlatform({
    port,
    dataDir,
    inMemory: values['in-memory'],
    inheritedEnv: process.env,
    onProgress: (message) => console.log(message),
    // A real Stripe test key talks to Stripe itself (and needs a network); unset, the embedded fake of its API.
    stripeSecretKey: process.env[ENV.stripeSecretKey] || undefined,
    stripeWebhookSecret: process.env[ENV.stripeWebhookSecret] || undefined,
    storeFaultRate,
    solanaRpcPort,
    solanaFaultRate,
    ...(mintsEveryMs === undefined ? {} : { scheduleIntervalsMs: { mints: mintsEveryMs } }),
  });

  // Another data folder has other issuer keys: `npm run token` must be told it too, and so must a restart.
  const dataDirArg = values['in-memory'] || values['data-dir'] === undefined ? '' : ` --data-dir ${shellWord(dataDir)}`;
  // The restart line: this run's options as they came out (a port of 0 as the port it got), so a copy starts the same.
  const solanaPortNow = Number(new URL(platform.solana.url).port);
  const portArg = [
    platform.port === 3001 ? '' : ` --port ${platform.port}`,
    dataDirArg,
    values['in-memory'] ? ' --in-memory' : '',
    solanaPortNow === 8899 ? '' : ` --solana-port ${solanaPortNow}`,
    ...(['store-fault-rate', 'solana-fault-rate', 'mints-every-ms'] as const).map((name) => (values[name] === undefined ? '' : ` --${name} ${shellWord(String(values[name]))}`)),
  ].join('');
  // In memory, the issuer's keys exist only in this process, so `npm run token` cannot sign for it: print one.
  const inMemoryToken = values['in-memory'] ? await platform.issuer.signToken({ merchantId: 'm_123' }) : undefined;
  const tokenLines = inMemoryToken
    ? ['A token for merchant m_123 (in memory: `npm run token` cannot sign for this run):', `  TOKEN=${inMemoryToken}`]
    : ['Get a token (prints only the JWT):', `  npm run token -- --merchant m_123${dataDirArg}`];
  console.log(
    [
      '',
      `SmartPay local platform listening on ${platform.url}`,
      `  store: dynalite at ${platform.store.endpoint} (${values['in-memory'] ? 'in memory' : `data in ${dataDir}/`})`,
      `  workflows: statemachines/payment.asl.json, statemachines/reward.asl.json`,
      `  gateways: ${gatewayLine(platform.gateways)}`,
      `  Solana: JSON-RPC at ${platform.solana.url}, websocket on the next port (a bankrun ledger with the SPL Token programs; ${values['in-memory'] ? 'in memory' : `data in ${dataDir}/solana/`})`,
      `  rewards: minted to a payment's rewardWallet as token ${platform.solana.rewardMint} (fees paid by the treasury ${platform.solana.treasury}, which also sponsors POST /reward/relay)`,
      '',
      ...tokenLines,
      '',
      'Pay:',
      `  curl -s -X POST ${platform.url}/pay \\`,
      inMemoryToken ? '    -H "Authorization: Bearer $TOKEN" \\' : `    -H "Authorization: Bearer $(npm run -s token -- --merchant m_123${dataDirArg})" \\`,
      // uuidgen is missing on many machines; Node is always there.
      `    -H "Idempotency-Key: $(node -p 'crypto.randomUUID()')" \\`,
      '    -H "Content-Type: application/json" \\',
      `    -d '${SAMPLE_BODY}'`,
      '',
      `Console: ${platform.url}/console/ (sign in with a token from above)    API reference: ${platform.url}/docs`,
      `Health: curl ${platform.url}/health    Stop: Ctrl-C${portArg ? `    (this run: npm start --${portArg})` : ''}`,
      '',
    ].join('\n'),
  );

  // The Solana ledger starts at its first use; start it now, so a problem shows here rather than at a first call.
  platform.solana.ledger().catch((error: unknown) => console.error(`the local Solana ledger could not start: ${(error as Error)?.message ?? String(error)}`));

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      console.error(`\n${signal} again: exiting now`);
      process.exit(1);
    }
    stopping = true;
    console.log(`\n${signal}: stopping (finishing running workflows, at most 5 s)...`);
    platform.close(5000).then(
      () => {
        console.log('stopped');
        process.exit(0);
      },
      (error: unknown) => {
        console.error('error while stopping:', (error as Error).message);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(`smartpay local: ${(error as Error).message}`);
  process.exit(1);
});
