/**
 * Routing state: per-connector outcome counters fed back by the payment workflow. Single-item atomic
 * ADDs, so concurrent feedback loses no update. The learning policy of issue 4 reads them.
 */
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export interface AttemptOutcome {
  readonly connectorId: string;
  readonly outcome: 'succeeded' | 'declined' | 'retryable_failure';
  readonly latencyMs: number;
  readonly feeMinor?: number;
}

export interface ConnectorStats {
  readonly connectorId: string;
  readonly attempts: number;
  readonly succeeded: number;
  readonly declined: number;
  readonly failed: number;
  readonly latencyMsTotal: number;
}

export interface RoutingStatsPort {
  record(outcomes: readonly AttemptOutcome[]): Promise<number>;
  get(connectorId: string): Promise<ConnectorStats>;
}

export class DynamoRoutingStats implements RoutingStatsPort {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async record(outcomes: readonly AttemptOutcome[]): Promise<number> {
    // One update per connector touched, whatever the number of attempts on it.
    const byConnector = new Map<string, { attempts: number; succeeded: number; declined: number; failed: number; latency: number }>();
    for (const o of outcomes) {
      const t = byConnector.get(o.connectorId) ?? { attempts: 0, succeeded: 0, declined: 0, failed: 0, latency: 0 };
      t.attempts += 1;
      t.latency += Math.max(0, Math.round(o.latencyMs));
      if (o.outcome === 'succeeded') t.succeeded += 1;
      else if (o.outcome === 'declined') t.declined += 1;
      else t.failed += 1;
      byConnector.set(o.connectorId, t);
    }
    await Promise.all(
      [...byConnector].map(([connectorId, t]) =>
        this.client.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { pk: `connector#${connectorId}` },
            UpdateExpression: 'ADD attempts :a, succeeded :s, declined :d, failed :f, latencyMsTotal :l SET connectorId = :id',
            ExpressionAttributeValues: {
              ':a': t.attempts, ':s': t.succeeded, ':d': t.declined, ':f': t.failed, ':l': t.latency, ':id': connectorId,
            },
          }),
        ),
      ),
    );
    return outcomes.length;
  }

  async get(connectorId: string): Promise<ConnectorStats> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: `connector#${connectorId}` }, ConsistentRead: true }),
    );
    return {
      connectorId,
      attempts: Number(Item?.attempts ?? 0),
      succeeded: Number(Item?.succeeded ?? 0),
      declined: Number(Item?.declined ?? 0),
      failed: Number(Item?.failed ?? 0),
      latencyMsTotal: Number(Item?.latencyMsTotal ?? 0),
    };
  }
}
