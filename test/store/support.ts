/**
 * The store tests' local DynamoDB: dynalite in a thread of its own with the platform's tables, and a document client
 * that reaches it as the local functions do (over a channel, local/store-channel.ts).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ensureTables, startLocalStore } from '../../local/dynalite';
import { LOCAL_TABLES } from '../../local/env';
import { StoreChannelHandler } from '../../local/store-channel';

export interface TestStore {
  readonly client: DynamoDBDocumentClient;
  close(): Promise<void>;
}

export async function startTestStore(): Promise<TestStore> {
  const store = await startLocalStore({});
  await ensureTables(store.endpoint, LOCAL_TABLES);
  const client = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      endpoint: store.endpoint,
      region: 'local',
      credentials: { accessKeyId: 'l', secretAccessKey: 'l' },
      requestHandler: new StoreChannelHandler(store.connect()),
    }),
    { marshallOptions: { removeUndefinedValues: true } },
  );
  return {
    client,
    close: async () => {
      client.destroy();
      await store.close();
    },
  };
}

/** Starts a store before the file's tests and closes it after them; `client` is ready inside the tests. */
export function useTestStore(): { readonly client: DynamoDBDocumentClient } {
  let store: TestStore | undefined;
  beforeAll(async () => {
    store = await startTestStore();
  }, 30_000);
  afterAll(async () => {
    await store?.close();
  });
  return {
    get client() {
      if (!store) throw new Error('useTestStore: the store is available inside tests only');
      return store.client;
    },
  };
}
