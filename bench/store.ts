/**
 * `npm run bench:store`: what one store operation costs on this machine, to explain bench:pay. It runs
 * conditional updates through the same DynamoDB DocumentClient the handlers use, against the local store
 * (dynalite in its own process), and prints operations per second and the client-side CPU per call.
 * Options: --ops 2000 --concurrency 8
 */
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ensureTables, startLocalStore } from '../lambdas/local/dynalite.js';
import { LOCAL_TABLES } from '../lambdas/local/env.js';

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
    const run = async (count: number) => {
      const started = performance.now();
      const cpu = process.cpuUsage();
      await Promise.all(
        Array.from({ length: concurrency }, async (_, worker) => {
          for (let i = worker; i < count; i += concurrency) await update(`bench#${worker}`);
        }),
      );
      const used = process.cpuUsage(cpu);
      return { seconds: (performance.now() - started) / 1000, cpuMs: (used.user + used.system) / 1000 };
    };
    await run(Math.min(300, ops)); // warm-up
    const { seconds, cpuMs } = await run(ops);
    console.log(`store: ${ops} conditional updates, concurrency ${concurrency}, dynalite in its own process`);
    console.log(`  throughput ${(ops / seconds).toFixed(0)} ops/s`);
    console.log(`  client CPU ${(cpuMs / ops).toFixed(2)} ms per call (AWS SDK v3 DocumentClient: middleware, signing, HTTP, marshalling)`);
    console.log(`  at 5 calls per payment the client alone caps one core at ${(1000 / ((cpuMs / ops) * 5)).toFixed(0)} payments/s`);
    client.destroy();
  } finally {
    await store.close();
  }
}

main().catch((error: unknown) => {
  console.error(`bench:store: ${(error as Error).message}`);
  process.exit(1);
});
