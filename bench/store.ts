/**
 * `npm run bench:store`: what one store operation costs on this machine, to explain bench:pay. It runs
 * conditional updates through the same DynamoDB DocumentClient the handlers use, against the local store
 * (dynalite in a thread of its own, over HTTP), and prints operations per second and the client-side CPU per call
 * (this process's CPU less the store thread's). Then the same GetItem through the SDK and as a bare HTTP request
 * (a baseline for the client's own cost: the platform never talks to the store that way). Last, SDK client
 * options and transports that could cut the CPU a call (issue 11: "whatever options measurably cut CPU per call"):
 * the defaults (SigV4 signing) against no signing on loopback (what the local platform's clients do: dynalite
 * checks no signature), against checksums only when required with an explicit keep-alive agent, and against the
 * local functions' channel to the store (no socket: local/store-channel.ts), alternately, after a warm-up of each;
 * each with the client's CPU a call and the client's and the store's together.
 * Options: --ops 2000 --concurrency 8
 */
import { parseArgs } from 'node:util';
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { Agent, request } from 'node:http';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { UNSIGNED_LOOPBACK } from '../lambdas/shared/clients';
import { ensureTables, startLocalStore } from '../local/dynalite';
import { LOCAL_TABLES } from '../local/env';
import { StoreChannelHandler } from '../local/store-channel';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { ops: { type: 'string', default: '2000' }, concurrency: { type: 'string', default: '8' } } });
  const ops = Number(values.ops);
  const concurrency = Number(values.concurrency);
  if (!Number.isInteger(ops) || ops < 100 || !Number.isInteger(concurrency) || concurrency < 1) {
    throw new Error('--ops must be an integer ≥ 100 and --concurrency an integer ≥ 1');
  }
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const store = await startLocalStore({});
  try {
    await ensureTables(store.endpoint, LOCAL_TABLES);
    const client = DynamoDBDocumentClient.from(
      new DynamoDBClient({ endpoint: store.endpoint, region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }),
    );
    const update = (key: string) =>
      client.send(
        new UpdateCommand({
          TableName: LOCAL_TABLES.routing,
          Key: { pk: key },
          UpdateExpression: 'ADD attempts :one',
          ConditionExpression: 'attribute_not_exists(locked)',
          ExpressionAttributeValues: { ':one': 1 },
        }),
      );
    /**
     * `count` calls, `concurrency` at a time: wall time, the client's CPU (this process's, less the store's thread)
     * and the store's.
     */
    const run = async (count: number, call: (worker: number) => Promise<unknown>) => {
      const started = performance.now();
      const cpu = process.cpuUsage();
      const storeBefore = await store.cpuMs();
      await Promise.all(
        Array.from({ length: concurrency }, async (_, worker) => {
          for (let i = worker; i < count; i += concurrency) await call(worker);
        }),
      );
      const used = process.cpuUsage(cpu);
      const storeCpuMs = (await store.cpuMs()) - storeBefore;
      return { seconds: (performance.now() - started) / 1000, cpuMs: (used.user + used.system) / 1000 - storeCpuMs, storeCpuMs };
    };
    const measure = async (call: (worker: number) => Promise<unknown>) => {
      await run(Math.min(300, ops), call); // warm-up
      return run(ops, call);
    };
    const { seconds, cpuMs } = await measure((worker) => update(`bench#${worker}`));
    console.log(`store: ${ops} conditional updates, concurrency ${concurrency}, dynalite in a thread of its own, over HTTP on loopback`);
    console.log(`  throughput ${(ops / seconds).toFixed(0)} ops/s`);
    console.log(`  client CPU ${(cpuMs / ops).toFixed(2)} ms per call (AWS SDK v3 DocumentClient: middleware, signing, HTTP, marshalling)`);
    console.log(`  at 5 calls per payment the client alone caps one core at ${(1000 / ((cpuMs / ops) * 5)).toFixed(0)} payments/s`);

    // GetItem through the SDK against the same call as a bare HTTP request: how much of a call is the client.
    await client.send(new PutCommand({ TableName: LOCAL_TABLES.routing, Item: { pk: 'bench#get', padding: 'x'.repeat(200) } }));
    const url = new URL(store.endpoint);
    const agent = new Agent({ keepAlive: true, maxSockets: 64 });
    const body = JSON.stringify({ TableName: LOCAL_TABLES.routing, Key: { pk: { S: 'bench#get' } } });
    const bare = () =>
      new Promise<void>((resolve, reject) => {
        const req = request(
          {
            host: url.hostname,
            port: url.port,
            method: 'POST',
            path: '/',
            agent,
            headers: {
              'content-type': 'application/x-amz-json-1.0',
              'x-amz-target': 'DynamoDB_20120810.GetItem',
              // dynalite wants the header's shape; it does not check the signature.
              authorization: 'AWS4-HMAC-SHA256 Credential=local/20260101/local/dynamodb/aws4_request, SignedHeaders=host, Signature=0',
              'x-amz-date': '20260101T000000Z',
              'content-length': Buffer.byteLength(body),
            },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => {
              const text = Buffer.concat(chunks).toString();
              if (res.statusCode === 200 && JSON.parse(text).Item) resolve();
              else reject(new Error(`bare GetItem: ${res.statusCode} ${text}`));
            });
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    const sdkGet = () => client.send(new GetCommand({ TableName: LOCAL_TABLES.routing, Key: { pk: 'bench#get' } })).then(() => undefined);
    const sdk = await measure(sdkGet);
    const raw = await measure(bare);
    const perCallUs = (r: { cpuMs: number }) => (r.cpuMs * 1000) / ops;
    console.log(`GetItem, concurrency ${concurrency}: SDK ${(ops / sdk.seconds).toFixed(0)}/s at ${perCallUs(sdk).toFixed(0)} µs of client CPU a call; ` +
      `bare HTTP ${(ops / raw.seconds).toFixed(0)}/s at ${perCallUs(raw).toFixed(0)} µs (the SDK's share of a call: ${((1 - perCallUs(raw) / perCallUs(sdk)) * 100).toFixed(0)}%)`);
    agent.destroy();
    client.destroy();

    // Client options, each measured on a fresh client of its own, alternately (the first calls of a process JIT).
    const base: DynamoDBClientConfig = { endpoint: store.endpoint, region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 3 };
    const variants: Record<string, () => DynamoDBClientConfig> = {
      'SDK defaults (SigV4 signing, as in the cloud)': () => base,
      'unsigned on loopback (as lambdas/shared/clients.ts locally)': () => ({ ...base, signer: UNSIGNED_LOOPBACK as never }),
      'checksums WHEN_REQUIRED + keep-alive agent': () => ({
        ...base,
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
        requestHandler: new NodeHttpHandler({ httpAgent: new Agent({ keepAlive: true, maxSockets: 64 }) }),
      }),
      // The local functions' own transport: the same client over a MessagePort, no socket.
      'unsigned over the channel (as the local functions: local/store-channel.ts)': () => ({
        ...base,
        signer: UNSIGNED_LOOPBACK as never,
        requestHandler: new StoreChannelHandler(store.connect()) as never,
      }),
    };
    const perCall: Record<string, number[]> = {};
    const withStore: Record<string, number[]> = {};
    for (let round = 0; round < 3; round += 1) {
      for (const [name, config] of Object.entries(variants)) {
        const variant = DynamoDBDocumentClient.from(new DynamoDBClient(config()));
        const call = (worker: number) =>
          worker % 2
            ? variant.send(new GetCommand({ TableName: LOCAL_TABLES.routing, Key: { pk: 'bench#get' } }))
            : variant.send(new UpdateCommand({ TableName: LOCAL_TABLES.routing, Key: { pk: `bench#${worker}` }, UpdateExpression: 'ADD attempts :one', ExpressionAttributeValues: { ':one': 1 } }));
        const result = await measure(call);
        (perCall[name] ??= []).push(perCallUs(result));
        (withStore[name] ??= []).push(perCallUs({ cpuMs: result.cpuMs + result.storeCpuMs }));
        variant.destroy();
      }
    }
    console.log(`client options (GetItem and UpdateItem, concurrency ${concurrency}; µs of client CPU a call in rounds 1–3):`);
    for (const [name, values] of Object.entries(perCall)) {
      console.log(`  ${name}: ${values.map((v) => v.toFixed(0)).join(', ')} (client and store: ${withStore[name].map((v) => v.toFixed(0)).join(', ')})`);
    }
  } finally {
    await store.close();
  }
}

main().catch((error: unknown) => {
  console.error(`bench:store: ${(error as Error).message}`);
  process.exit(1);
});
