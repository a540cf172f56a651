/**
 * The local functions' transport to the store (local/store-channel.ts): the AWS SDK client over a MessagePort to
 * the store's thread behaves as over HTTP (items, DynamoDB's errors by name, a throttled call as the SDK retries
 * it), an aborted call fails at once, and a stopped store fails calls instead of leaving them hanging.
 */
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { ensureTables, startLocalStore, type LocalStore } from '../../local/dynalite';
import { LOCAL_TABLES } from '../../local/env';
import { StoreChannelHandler } from '../../local/store-channel';

const TABLE = LOCAL_TABLES.routing;

function clientOf(store: LocalStore, maxAttempts = 3): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(
    new DynamoDBClient({
      endpoint: store.endpoint,
      region: 'local',
      credentials: { accessKeyId: 'l', secretAccessKey: 'l' },
      maxAttempts,
      requestHandler: new StoreChannelHandler(store.connect()),
    }),
  );
}

describe('the store channel', () => {
  let store: LocalStore;
  beforeAll(async () => {
    store = await startLocalStore({});
    await ensureTables(store.endpoint, LOCAL_TABLES);
  }, 30_000);
  afterAll(async () => {
    await store?.close();
  });

  it('writes and reads items, and DynamoDB errors arrive as the SDK names them', async () => {
    const client = clientOf(store);
    const item = { pk: 'channel#1', text: 'ünïcode ✓', n: 42, nested: { list: [1, 'two', { three: true }] }, big: 'x'.repeat(100_000) };
    await client.send(new PutCommand({ TableName: TABLE, Item: item }));
    expect((await client.send(new GetCommand({ TableName: TABLE, Key: { pk: 'channel#1' } }))).Item).toEqual(item);
    await expect(
      client.send(new PutCommand({ TableName: TABLE, Item: { pk: 'channel#1' }, ConditionExpression: 'attribute_not_exists(pk)' })),
    ).rejects.toBeInstanceOf(ConditionalCheckFailedException);
    // The store counted what came over the channel, as it counts HTTP calls.
    expect((await store.stats())[`PutItem ${TABLE}`]).toBeGreaterThanOrEqual(2);
  });

  it('an aborted call rejects with AbortError', async () => {
    const client = clientOf(store);
    const controller = new AbortController();
    controller.abort();
    await expect(client.send(new GetCommand({ TableName: TABLE, Key: { pk: 'channel#1' } }), { abortSignal: controller.signal })).rejects.toMatchObject({
      name: 'AbortError',
    });
  });

  it("a throttled call arrives as DynamoDB's throttling error (the store's fault injection sits on the same listener)", async () => {
    const faulty = await startLocalStore({ faultRate: 1 });
    try {
      await ensureTables(faulty.endpoint, LOCAL_TABLES); // table management is never faulted
      const client = clientOf(faulty, 1);
      // The name the SDK's retry strategy treats as throttling (retried with backoff when attempts remain).
      await expect(client.send(new PutCommand({ TableName: TABLE, Item: { pk: 'throttled#1' } }))).rejects.toMatchObject({
        name: 'ProvisionedThroughputExceededException',
        $metadata: { httpStatusCode: 400, attempts: 1 },
      });
    } finally {
      await faulty.close();
    }
  });

  it('a stopped store fails the calls instead of leaving them hanging', async () => {
    const doomed = await startLocalStore({});
    await ensureTables(doomed.endpoint, LOCAL_TABLES);
    const client = clientOf(doomed, 1);
    await client.send(new PutCommand({ TableName: TABLE, Item: { pk: 'doomed#1' } }));
    await doomed.close();
    await expect(client.send(new GetCommand({ TableName: TABLE, Key: { pk: 'doomed#1' } }))).rejects.toMatchObject({ message: expect.stringMatching(/closed the channel/) });
    // A channel opened after the store stopped (a function restarted meanwhile) fails too, rather than waiting forever.
    const late = clientOf(doomed, 1);
    await expect(late.send(new GetCommand({ TableName: TABLE, Key: { pk: 'doomed#1' } }))).rejects.toMatchObject({ message: expect.stringMatching(/closed the channel/) });
  });

  it("counts the store's busy periods over the channel as over HTTP, answers given at once included", async () => {
    const client = clientOf(store);
    const before = await store.rounds();
    // dynalite refuses this one while reading it (an unused expression value): its answer comes at once.
    await expect(
      client.send(new PutCommand({ TableName: TABLE, Item: { pk: 'rounds#1' }, ExpressionAttributeValues: { ':unused': 1 } })),
    ).rejects.toMatchObject({ name: 'ValidationException' });
    for (let i = 0; i < 3; i++) await client.send(new GetCommand({ TableName: TABLE, Key: { pk: 'rounds#1' } }));
    const after = await store.rounds();
    // One call at a time: each is a busy period of its own, in all and on its table.
    expect(after.total - before.total).toBe(4);
    expect((after.byTable[TABLE] ?? 0) - (before.byTable[TABLE] ?? 0)).toBe(4);
  });
});
