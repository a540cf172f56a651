/**
 * Items of one table by their keys, as BatchGetItem takes them: 100 keys a request, consistent reads, and the keys
 * a request left unprocessed (throttling) asked again, at most `maxRounds` times a chunk (then it throws, naming
 * `what`). The caller passes each key once.
 */
import { BatchGetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export async function batchGetItems(
  client: DynamoDBDocumentClient,
  tableName: string,
  keys: readonly Record<string, unknown>[],
  options: { readonly maxRounds?: number; readonly what?: string } = {},
): Promise<Record<string, unknown>[]> {
  const maxRounds = options.maxRounds ?? Infinity;
  const items: Record<string, unknown>[] = [];
  for (let i = 0; i < keys.length; i += 100) {
    let pending: Record<string, unknown>[] = keys.slice(i, i + 100);
    for (let round = 0; pending.length && round < maxRounds; round += 1) {
      const { Responses, UnprocessedKeys } = await client.send(new BatchGetCommand({ RequestItems: { [tableName]: { Keys: pending, ConsistentRead: true } } }));
      items.push(...(Responses?.[tableName] ?? []));
      pending = (UnprocessedKeys?.[tableName]?.Keys ?? []) as Record<string, unknown>[];
    }
    if (pending.length) throw new Error(`${options.what ?? tableName}: ${pending.length} keys left unprocessed after ${maxRounds} rounds`);
  }
  return items;
}
