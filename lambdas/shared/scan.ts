/**
 * One page of a whole-table scan, with its position as an opaque cursor (the last evaluated key, base64url JSON):
 * what the read ports hand out to rebuild the analytics index, a page an invocation.
 */
import { ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export async function scanPage<T>(client: DynamoDBDocumentClient, tableName: string, cursor: string | undefined, limit: number): Promise<{ items: T[]; cursor?: string }> {
  const page = await client.send(
    new ScanCommand({
      TableName: tableName,
      Limit: limit,
      ...(cursor ? { ExclusiveStartKey: JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Record<string, unknown> } : {}),
    }),
  );
  const next = page.LastEvaluatedKey ? Buffer.from(JSON.stringify(page.LastEvaluatedKey)).toString('base64url') : undefined;
  return { items: (page.Items ?? []) as T[], ...(next ? { cursor: next } : {}) };
}
