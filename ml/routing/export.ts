/**
 * `npm run ope:export -- --out FILE [--since DATE] [--local [--data-dir DIR] | --table NAME [--endpoint URL]]`: writes the
 * routing decisions logged in the routing table, each with its first attempt's outcome, as the JSON-lines log
 * `npm run ope` reads (docs/routing-ope.md). Decisions whose outcome never came back are skipped and counted.
 *
 * - `--local`: the local platform's persisted store (in `--data-dir`, default `.smartpay`); stop `npm start` first (the
 *   store is locked while it runs).
 * - `--table NAME`: a deployed routing table (the stack's routing table name), with the AWS SDK's usual
 *   credentials and region; `--endpoint URL` for another DynamoDB endpoint.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ensureTables, startLocalStore } from '../../local/dynalite';
import { DEFAULT_DATA_DIR, LOCAL_TABLES } from '../../local/env';
import { DynamoRoutingModel } from '../../lambdas/routing/dynamo-model-store';
import type { DecisionRecord, OutcomeRecord } from '../../lambdas/routing/ports';
import type { LoggedDecision } from './ope';

/** One log line from a decision and its first attempt's outcome (undefined: no outcome yet). */
export function toLoggedDecision(decision: DecisionRecord, first: OutcomeRecord | undefined): LoggedDecision | undefined {
  if (!first || first.connectorId !== decision.chosen) return undefined;
  return {
    decisionId: decision.decisionId,
    context: decision.context,
    // The ranked list holds every eligible connector (demoted ones too, with propensity 0).
    eligible: decision.ranked.map((r) => r.connectorId),
    ranked: decision.ranked.map((r) => ({ connectorId: r.connectorId, propensity: r.propensity })),
    chosen: decision.chosen,
    propensity: decision.propensity,
    outcome: first.outcome,
    ...(first.feeMinor === undefined ? {} : { feeMinor: first.feeMinor }),
  };
}

export async function exportDecisions(
  model: Pick<DynamoRoutingModel, 'decisionsWithFirstOutcome'>,
  out: string,
  since = 0,
): Promise<{ written: number; pending: number }> {
  const stream = createWriteStream(out);
  let written = 0;
  let pending = 0;
  for await (const { decision, first } of model.decisionsWithFirstOutcome(since)) {
    const line = toLoggedDecision(decision, first);
    if (!line) {
      pending += 1;
      continue;
    }
    if (!stream.write(`${JSON.stringify(line)}\n`)) await once(stream, 'drain');
    written += 1;
  }
  stream.end();
  await once(stream, 'finish');
  return { written, pending };
}

async function main(): Promise<void> {
  // The SDK's notice that its 2027 releases need Node 22: not news for a one-off export.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const { values } = parseArgs({
    options: {
      out: { type: 'string' },
      since: { type: 'string' },
      local: { type: 'boolean', default: false },
      'data-dir': { type: 'string', default: DEFAULT_DATA_DIR },
      table: { type: 'string' },
      endpoint: { type: 'string' },
    },
  });
  const usage = 'usage: npm run ope:export -- --out FILE [--since 2026-11-01] [--local [--data-dir .smartpay] | --table NAME [--endpoint URL]]';
  if (!values.out) throw new Error(usage);
  const since = values.since === undefined ? 0 : Date.parse(values.since);
  if (Number.isNaN(since)) throw new Error(`--since ${values.since}: not a date (use YYYY-MM-DD or an ISO time)`);
  if ((values.table === undefined) === !values.local) throw new Error(`${usage}\n(give one of --local or --table)`);

  let close = async () => undefined as void;
  let client: DynamoDBDocumentClient;
  let table: string;
  if (values.table === undefined) {
    const dir = resolve(values['data-dir']);
    const store = await startLocalStore({ path: join(dir, 'dynamodb') }); // fails clearly if npm start holds the lock
    await ensureTables(store.endpoint, LOCAL_TABLES);
    client = DynamoDBDocumentClient.from(
      new DynamoDBClient({ endpoint: store.endpoint, region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }),
    );
    table = LOCAL_TABLES.routing;
    close = () => store.close();
  } else {
    client = DynamoDBDocumentClient.from(new DynamoDBClient(values.endpoint ? { endpoint: values.endpoint } : {}));
    table = values.table;
  }
  try {
    const { written, pending } = await exportDecisions(new DynamoRoutingModel(client, table), values.out, since);
    console.error(`wrote ${written} decisions to ${values.out}${pending ? `; ${pending} skipped (no first-attempt outcome recorded yet)` : ''}`);
  } finally {
    client.destroy();
    await close();
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(`ope:export: ${(error as Error).message}`);
    process.exit(1);
  });
}
