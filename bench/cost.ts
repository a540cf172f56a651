/**
 * `npm run cost`: projects the cloud p95 of POST /pay (gateway excluded) and the AWS cost of a million
 * payments from three sources:
 *
 *  1. the synthesized prod template (each function's memory, each workflow's type);
 *  2. a measured run on the local platform (the same ASL and handlers): Lambda invocations and their wall time
 *     by function, store operations by kind on the synchronous path and in all, item sizes, bus events, SQS
 *     deliveries and the reward workflow's state transitions, per payment;
 *  3. list prices (us-east-1, on-demand, x86; cited below) and latency assumptions (stated below).
 *
 * Queue consumers are projected at a steady volume (--per-month, default a million payments a month): each queue's
 * batch is what its batching window gathers at that rate (at least 1, at most its batch size), and its consumer's
 * invocations, the store calls it makes once a batch (PER_BATCH: the updater's model read and commit and its two
 * batch reads, the feedback consumer's read and write of the breaker's state) and the SQS receives and deletes (up
 * to 10 messages a request) are counted a batch, not a message. Writes are priced by the size of the item written,
 * single-item reads by its size and consistency. The model is priced at its steady size (every connector learnt
 * from varied traffic: see steadyModelBytes).
 *
 * Options: --payments 40 (sequential, each with its own key, a card that succeeds on every connector),
 * --per-month 1000000.
 */
import { performance } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { allConsumers, allSchedules, FUNCTION_NAMES, type FunctionName, type QueueConsumer } from '../contracts/topology';
import { SmartPayStack, STAGES } from '../lib';
import type { StoreStats } from '../local/dynalite';
import { LOCAL_TABLES } from '../local/env';
import { startLocalPlatform } from '../local/platform';
import { allStates, readDefinition } from '../local/workflows';
import { jsonEnvelope } from '../contracts/steps';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { LOCAL_CONNECTORS } from '../local/connectors';
import { decodeState, encodeState, HEALTH_KEY, MODEL_KEY } from '../lambdas/routing/model-encoding';
import { MERCHANT_CATEGORIES, METHODS, NETWORKS, routingFeatures, segmentCell, type RoutingContext } from '../lambdas/routing/context';
import type { CellStats } from '../lambdas/routing/bandit';
import { DEFAULT_LINUCB, emptyArm, updateArm } from '../lambdas/routing/linucb';
import { prng, quantile, taskTimer } from './support';

const { values } = parseArgs({
  options: { payments: { type: 'string', default: '40' }, 'per-month': { type: 'string', default: '1000000' }, 'reward-workflow': { type: 'string', default: 'EXPRESS' } },
});
/** The prod stage's reward workflow type to project (its `rewardWorkflowType`). */
const REWARD_WORKFLOW = String(values['reward-workflow']).toUpperCase() as 'EXPRESS' | 'STANDARD';
if (REWARD_WORKFLOW !== 'EXPRESS' && REWARD_WORKFLOW !== 'STANDARD') throw new Error('--reward-workflow must be EXPRESS or STANDARD');
const N = Number(values.payments);
/**
 * The steady volume the projection assumes (payments a month): what a queue's batching window gathers into one
 * consumer invocation, one routing model commit and one receive, depends on it.
 */
const PER_MONTH = Number(values['per-month']);
if (!Number.isFinite(PER_MONTH) || PER_MONTH <= 0) throw new Error('--per-month must be a positive number of payments');
const RATE = PER_MONTH / (30 * 24 * 3600);

/** List prices, us-east-1, on-demand (checked 2026-12). */
const PRICE = {
  /** https://aws.amazon.com/api-gateway/pricing/ (REST API, first 333 million requests a month) */
  apiGatewayPerRequest: 3.5 / 1e6,
  /** https://aws.amazon.com/step-functions/pricing/ (Express: requests, and duration in 64 MB units) */
  expressPerRequest: 1 / 1e6,
  expressPerGbSecond: 0.00001667,
  /** https://aws.amazon.com/step-functions/pricing/ (Standard: state transitions) */
  standardPerTransition: 0.025 / 1000,
  /** https://aws.amazon.com/lambda/pricing/ (x86, first 6 billion GB-s) */
  lambdaPerRequest: 0.2 / 1e6,
  lambdaPerGbSecond: 0.0000166667,
  /** https://aws.amazon.com/dynamodb/pricing/on-demand/ (after the November 2024 price cut) */
  dynamoPerWriteUnit: 0.625 / 1e6,
  dynamoPerReadUnit: 0.125 / 1e6,
  /** https://aws.amazon.com/eventbridge/pricing/ (custom events, 64 KB units) */
  eventBridgePerEvent: 1 / 1e6,
  /** https://aws.amazon.com/sqs/pricing/ (standard queues) */
  sqsPerRequest: 0.4 / 1e6,
  /** https://aws.amazon.com/waf/pricing/ (web ACL a month, rule or managed rule group a month, requests inspected) */
  wafPerWebAclMonth: 5,
  wafPerRuleMonth: 1,
  wafPerRequest: 0.6 / 1e6,
  /**
   * https://aws.amazon.com/opensearch-service/pricing/ (Serverless, OCU-hour). The floor a collection is billed
   * even idle: 2 OCUs with standby replicas, 1 without
   * (https://docs.aws.amazon.com/opensearch-service/latest/developerguide/serverless-scaling.html).
   */
  opensearchPerOcuHour: 0.24,
  /** https://aws.amazon.com/kms/pricing/ (customer managed key a month) */
  kmsPerKeyMonth: 1,
  /** https://aws.amazon.com/cloudwatch/pricing/ (standard-resolution alarm metric a month; dashboard a month) */
  cloudwatchPerAlarmMetricMonth: 0.1,
  cloudwatchPerDashboardMonth: 3,
  /** https://aws.amazon.com/secrets-manager/pricing/ (secret a month) */
  secretsManagerPerSecretMonth: 0.4,
} as const;

const HOURS_A_MONTH = 730;

/**
 * Latency assumptions for the projection (p95, warm, same region). AWS publishes no percentile for these; the
 * figures are conservative readings of AWS's own descriptions and common measurements, and are printed so
 * they can be argued with: a Step Functions Task → Lambda hop (invoke and result) 20 ms; one DynamoDB
 * single-item operation ("single-digit milliseconds") 10 ms; API Gateway + StartSyncExecution overhead 25 ms.
 */
const LATENCY = { lambdaHopMs: 20, storeCallMs: 10, edgeMs: 25 } as const;

/**
 * An item's size as DynamoDB bills it (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html):
 * each attribute's name in UTF-8 plus its value: a string's UTF-8 bytes, a number's 1 byte per 2 significant
 * digits plus 1, a binary's bytes, a boolean or null 1 byte, a list or map 3 bytes plus 1 byte an element plus
 * its elements (a map's names included), a set its elements.
 */
function valueBytes(value: AttributeValue): number {
  if (value.S !== undefined) return Buffer.byteLength(value.S);
  if (value.N !== undefined) return numberBytes(value.N);
  if (value.B !== undefined) return value.B.length;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.SS) return value.SS.reduce((a, v) => a + Buffer.byteLength(v), 0);
  if (value.NS) return value.NS.reduce((a, v) => a + numberBytes(v), 0);
  if (value.BS) return value.BS.reduce((a, v) => a + v.length, 0);
  if (value.L) return 3 + value.L.reduce((a, v) => a + 1 + valueBytes(v), 0);
  if (value.M) return 3 + Object.entries(value.M).reduce((a, [k, v]) => a + 1 + Buffer.byteLength(k) + valueBytes(v), 0);
  return 0;
}
function numberBytes(text: string): number {
  const digits = text.replace(/^-/, '').replace(/e.*$/i, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
  return Math.ceil(Math.max(1, digits.length) / 2) + 1;
}
function itemBytes(item: Record<string, AttributeValue>): number {
  return Object.entries(item).reduce((a, [name, value]) => a + Buffer.byteLength(name) + valueBytes(value), 0);
}

/** Connectors a mature routing model has learnt: every connector of the local registry. */
const MODEL_ARMS_STEADY = LOCAL_CONNECTORS.length;

/**
 * The model item's size once every connector has learnt from varied traffic: each arm (and its segment cells)
 * updated with 2,000 seeded contexts across the categories, countries, currencies, methods, networks, amounts,
 * scores and hours the features one-hot or scale (the forgetting factor leaves every entry a full-precision number, so a steady arm is dense;
 * this short run's traffic is one currency and one country, so its arms are not), the rest of the item as stored.
 */
function steadyModelBytes(stateText: string, itemBytes: number): number {
  const state = decodeState(stateText);
  const random = prng(11);
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)];
  const countries = ['US', 'CA', 'MX', 'BR', 'AR', 'GB', 'DE', 'FR', 'ES', 'IT', 'JP', 'SG', 'AU', 'IN', 'ZA', 'XX'];
  let arm = emptyArm(state.dimension, DEFAULT_LINUCB.ridge);
  const cells: Record<string, CellStats> = {};
  for (let i = 0; i < 2_000; i += 1) {
    const method = pick(METHODS);
    const context = {
      amountMinor: Math.round(10 ** (2 + random() * 5)),
      currency: pick([...state.vocabulary.currencies, 'CHF']),
      method,
      ...(method === 'card' ? { network: pick(NETWORKS) } : {}),
      country: pick(countries),
      merchantCategory: pick([...MERCHANT_CATEGORIES, 'other']),
      fraudScore: random() * random(),
      time: Date.UTC(2026, 11, 1) + random() * 86_400_000,
    } satisfies RoutingContext;
    const x = routingFeatures(context, state.vocabulary);
    arm = updateArm(arm, x, random() < 0.9 ? 1 : 0, DEFAULT_LINUCB);
    // Its segment cell, with a full-precision residual and count (the encoding keeps the most used of them).
    const cell = cells[segmentCell(context)] ?? { residual: 0, n: 0 };
    cells[segmentCell(context)] = { residual: 0.9999 * cell.residual + random() - 0.5, n: 0.9999 * cell.n + 1 };
  }
  const arms = Object.fromEntries(LOCAL_CONNECTORS.map((c) => [c.id, arm]));
  return itemBytes - Buffer.byteLength(stateText) + Buffer.byteLength(encodeState({ ...state, arms, cells: Object.fromEntries(LOCAL_CONNECTORS.map((c) => [c.id, cells])) }));
}

const pascal = (name: string) => `${name[0].toUpperCase()}${name.slice(1)}`;

function templateFacts() {
  const app = new App({ context: { ...JSON.parse(readFileSync(join(__dirname, '..', 'cdk.json'), 'utf8')).context, 'aws:cdk:bundling-stacks': [] } });
  const stack = new SmartPayStack(app, 'SmartPay-cost', { stage: { ...STAGES.prod, rewardWorkflowType: REWARD_WORKFLOW } });
  const resources = Template.fromStack(stack).toJSON().Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>;
  const memory = {} as Record<FunctionName, number>;
  for (const name of FUNCTION_NAMES) {
    const entry = Object.entries(resources).find(([id, r]) => r.Type === 'AWS::Lambda::Function' && id.startsWith(`SmartPayFunctions${pascal(name)}Function`));
    memory[name] = Number(entry?.[1].Properties.MemorySize ?? 128);
  }
  const machines = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::StepFunctions::StateMachine');
  const typeOf = (workflow: string) => String(machines.find(([id]) => id.startsWith(`SmartPayWorkflows${pascal(workflow)}StateMachine`))?.[1].Properties.StateMachineType ?? 'STANDARD');
  return { memory, paymentType: typeOf('payment'), rewardType: typeOf('reward'), fixed: fixedMonthly(resources) };
}

/** What the template's resources cost a month whatever the volume: the rows, from the resources it counts. */
function fixedMonthly(resources: Record<string, { Type: string; Properties: Record<string, unknown> }>): Array<[string, number]> {
  const all = Object.values(resources);
  const of = (type: string) => all.filter((r) => r.Type === type);
  const collections = of('AWS::OpenSearchServerless::Collection');
  const ocus = collections.reduce((a, c) => a + (c.Properties.StandbyReplicas === 'DISABLED' ? 1 : 2), 0);
  const acls = of('AWS::WAFv2::WebACL');
  const rules = acls.reduce((a, acl) => a + ((acl.Properties.Rules as unknown[] | undefined)?.length ?? 0), 0);
  // A metric-math alarm is billed per metric it reads.
  const alarmMetrics = of('AWS::CloudWatch::Alarm').reduce((a, alarm) => a + Math.max(1, ((alarm.Properties.Metrics as Array<{ MetricStat?: unknown }> | undefined) ?? []).filter((m) => m.MetricStat).length), 0);
  return [
    [`OpenSearch Serverless floor (${collections.length} collection, ${ocus} OCU idle)`, ocus * HOURS_A_MONTH * PRICE.opensearchPerOcuHour],
    [`WAF (${acls.length} web ACL, ${rules} rules)`, acls.length * PRICE.wafPerWebAclMonth + rules * PRICE.wafPerRuleMonth],
    [`KMS (${of('AWS::KMS::Key').length} key)`, of('AWS::KMS::Key').length * PRICE.kmsPerKeyMonth],
    [`CloudWatch (${alarmMetrics} alarm metrics, ${of('AWS::CloudWatch::Dashboard').length} dashboard)`, alarmMetrics * PRICE.cloudwatchPerAlarmMetricMonth + of('AWS::CloudWatch::Dashboard').length * PRICE.cloudwatchPerDashboardMonth],
    [`Secrets Manager (${of('AWS::SecretsManager::Secret').length} secret created)`, of('AWS::SecretsManager::Secret').length * PRICE.secretsManagerPerSecretMonth],
  ];
}

function diff(after: StoreStats, before: StoreStats): StoreStats {
  const out: StoreStats = {};
  for (const [key, value] of Object.entries(after)) {
    const delta = value - (before[key] ?? 0);
    if (delta) out[key] = delta;
  }
  return out;
}

const sum = (stats: StoreStats, match: (key: string) => boolean) => Object.entries(stats).filter(([k]) => match(k)).reduce((a, [, v]) => a + v, 0);
const READS = /^(GetItem|Query|Scan|BatchGetItem)\b/;

async function main(): Promise<void> {
  const facts = templateFacts();
  // Each function's invocations and their wall time; its SQS batches (`queue`) are projected by batch below, not
  // as the local queue happened to batch them.
  const timer = taskTimer(FUNCTION_NAMES);
  // The outbox drains only in idle() (between payments), so what a payment's own path does is counted alone.
  const hour = 3_600_000;
  const platform = await startLocalPlatform({
    port: 0,
    inMemory: true,
    onError: () => undefined,
    handlerOverrides: timer.overrides,
    // Every schedule hourly: none runs between the payments measured (the mints sweep once touched a payment's count).
    scheduleIntervalsMs: Object.fromEntries(allSchedules().map((schedule) => [schedule.name, hour])),
    // The path measured is a charged payment's: the served model's review threshold holds some of seven repeating
    // customers' payments at some hours of the day (its hour-of-day and velocity features), so it is set aside.
    env: { FRAUD_REVIEW_THRESHOLD: '0.99', FRAUD_DECLINE_THRESHOLD: '0.995' },
  });
  try {
    // The payment workflow's Task states: each entered one is a Lambda hop, and the branches of a Parallel run
    // side by side (its level is its longest branch's).
    const definition = readDefinition('payment');
    const tasks = new Set(allStates(definition).filter(([, state]) => state.Type === 'Task').map(([name]) => name));
    const branchOf = new Map<string, string>();
    for (const [name, state] of allStates(definition)) {
      const branches = (state.Branches as Array<{ States: Record<string, unknown> }> | undefined) ?? [];
      branches.forEach((branch, i) => {
        for (const inner of Object.keys(branch.States)) branchOf.set(inner, `${name}#${i}`);
      });
    }
    const hopLevelsOf = (states: readonly string[]) => {
      const perBranch = new Map<string, number>();
      let levels = 0;
      for (const state of states.filter((s) => tasks.has(s))) {
        const branch = branchOf.get(state);
        if (branch === undefined) levels += 1;
        else perBranch.set(branch, (perBranch.get(branch) ?? 0) + 1);
      }
      const perParallel = new Map<string, number>();
      for (const [branch, n] of perBranch) {
        const parallel = branch.slice(0, branch.indexOf('#'));
        perParallel.set(parallel, Math.max(perParallel.get(parallel) ?? 0, n));
      }
      return levels + [...perParallel.values()].reduce((a, b) => a + b, 0);
    };
    const rounds: number[] = [];
    const criticalRounds: number[] = [];
    const roundsByTask = { begin: 0, score: 0, route: 0, charge: 0 };
    const card = { type: 'card', number: '4242424242424242', expMonth: 12, expYear: 2031, cvc: '123' };
    let onPath: StoreStats = {};
    const hops: number[] = [];
    const wall: number[] = [];
    // The schedules' first runs start with the platform: done (each run once more) before anything is counted.
    await Promise.all(allSchedules().map((schedule) => platform.schedules.run(schedule.name)));
    await platform.idle();
    const all0 = await platform.store.stats();
    const items0 = await platform.store.items();
    for (let i = 0; i < N; i++) {
      const before = await platform.store.stats();
      const roundsBefore = await platform.store.rounds();
      const started = performance.now();
      const { response, execution } = await platform.workflows.executePayment(
        jsonEnvelope(
          { amount: 1999 + i, currency: 'USD', customerId: `cus_${i % 7}`, country: 'US', paymentMethod: card },
          { merchantId: 'm_cost', idempotencyKey: randomUUID(), requestId: `cost-${i}` },
        ),
      );
      wall.push(performance.now() - started);
      if (response.status !== 201) throw new Error(`payment ${i} answered ${response.status}: ${response.body}`);
      const after = await platform.store.stats();
      const roundsAfter = await platform.store.rounds();
      rounds.push(roundsAfter.total - roundsBefore.total);
      const by = (table: string) => (roundsAfter.byTable[table] ?? 0) - (roundsBefore.byTable[table] ?? 0);
      // Each table on the path is one Task's: Begin the idempotency table, ScoreFraud the fraud state (beside
      // Begin, in the Parallel), Route the routing table, Charge the payments table.
      const tablesOnPath = new Set(Object.keys(diff(after, before)).map((k) => k.slice(k.indexOf(' ') + 1)));
      const known = [LOCAL_TABLES.idempotency, LOCAL_TABLES.fraudState, LOCAL_TABLES.routing, LOCAL_TABLES.payments];
      const unknown = [...tablesOnPath].filter((t) => !known.includes(t));
      if (unknown.length) throw new Error(`payment ${i}: the path touched ${unknown.join(', ')}: update the critical-path mapping in bench/cost.ts`);
      criticalRounds.push(Math.max(by(LOCAL_TABLES.idempotency), by(LOCAL_TABLES.fraudState)) + by(LOCAL_TABLES.routing) + by(LOCAL_TABLES.payments));
      roundsByTask.begin += by(LOCAL_TABLES.idempotency);
      roundsByTask.score += by(LOCAL_TABLES.fraudState);
      roundsByTask.route += by(LOCAL_TABLES.routing);
      roundsByTask.charge += by(LOCAL_TABLES.payments);
      const delta = diff(after, before);
      for (const [k, v] of Object.entries(delta)) onPath[k] = (onPath[k] ?? 0) + v;
      await platform.idle();
      hops.push(hopLevelsOf(execution.states ?? []));
    }
    await platform.idle();
    const measured = diff(await platform.store.stats(), all0);
    // The local drain finds the outbox by sweeping its index (8 shard queries) and reads each record; in the
    // cloud the table's stream hands the new image to the publisher, and the sweep runs once a minute.
    const localDrainOnly = { [`Query ${LOCAL_TABLES.payments}`]: measured[`Query ${LOCAL_TABLES.payments}`] ?? 0, [`GetItem ${LOCAL_TABLES.payments}`]: measured[`GetItem ${LOCAL_TABLES.payments}`] ?? 0 };
    const total = diff(measured, localDrainOnly);
    onPath = Object.fromEntries(Object.entries(onPath).map(([k, v]) => [k, v / N]));
    const perPayment = Object.fromEntries(Object.entries(total).map(([k, v]) => [k, v / N]));
    const events = platform.bus.published();
    const eventsPerPayment = events.length / N;
    // Each queue at the assumed volume: its messages a payment, and the batch its window gathers.
    const queues = allConsumers()
      .filter((c): c is QueueConsumer => 'queue' in c)
      .map((c) => {
        const perPayment = events.filter((e) => (c.events as readonly string[]).includes(e['detail-type'])).length / N;
        const batch = Math.min(c.queue.batchSize, Math.max(1, RATE * perPayment * c.queue.batchingWindowSeconds));
        return { id: c.queue.id, function: c.function, perPayment, batch, invocations: perPayment / batch };
      });
    // Send one request a message; receive and delete up to 10 messages a request.
    const sqsRequests = queues.reduce((a, q) => a + q.perPayment * (1 + (2 * Math.ceil(q.batch / 10)) / q.batch), 0);
    const rewardTransitions = platform.workflows.executions('reward').reduce((a, r) => a + (r.states?.length ?? 0), 0) / N;

    // Each function's invocations and wall times; its queue batches as measured here (one payment at a time).
    const times = timer.take();
    const measuredBatches = (queueId: string) => {
      const q = queues.find((x) => x.id === queueId);
      if (!q) throw new Error(`contracts/topology.ts has no queue ${queueId}: update PER_BATCH in bench/cost.ts`);
      if (queues.filter((x) => x.function === q.function).length > 1) throw new Error(`${q.function} consumes more than one queue: bench/cost.ts cannot tell its batches apart`);
      return { queue: q, batches: times[`${q.function}:queue`]?.length ?? 0 };
    };

    // Store calls made once a batch of a queue, not once a message: measured here at one payment a batch, projected
    // at the volume's batches (the rest scale with the messages).
    const items = diff(await platform.store.items(), items0);
    const routing = LOCAL_TABLES.routing;
    const modelPrefix = MODEL_KEY.slice(0, MODEL_KEY.indexOf('#') + 1);
    const healthPrefix = HEALTH_KEY.slice(0, HEALTH_KEY.indexOf('#') + 1);
    // `call`: the store's key for the operation (a batch operation names no single table); `item`: its single-item key.
    const PER_BATCH: ReadonlyArray<{ queue: string; call: string; item?: string }> = [
      // The updater: the model (a consistent read, a conditional write) and the batch's decisions and claims.
      { queue: 'RoutingUpdates', call: `GetItem ${routing}`, item: `GetItem ${routing} ${modelPrefix} consistent` },
      { queue: 'RoutingUpdates', call: `PutItem ${routing}`, item: `PutItem ${routing} ${modelPrefix}` },
      { queue: 'RoutingUpdates', call: 'BatchGetItem' },
      // The feedback consumer: the breaker's state, read consistently and written once a batch.
      { queue: 'RoutingFeedback', call: `GetItem ${routing}`, item: `GetItem ${routing} ${healthPrefix} consistent` },
      { queue: 'RoutingFeedback', call: `PutItem ${routing}`, item: `PutItem ${routing} ${healthPrefix}` },
    ];
    /** Per payment at the assumed volume, by single-item key (`<op> <table> <prefix>[ consistent]`). */
    const itemsPerPayment: Record<string, number> = Object.fromEntries(Object.entries(items).map(([k, v]) => [k, v / N]));
    for (const { queue, call, item } of PER_BATCH) {
      const { queue: q, batches } = measuredBatches(queue);
      const measured = item ? (items[item] ?? 0) : (total[call] ?? 0);
      if (!batches || !measured) continue;
      const projected = (measured / batches) * q.invocations;
      perPayment[call] += projected - measured / N;
      if (item) itemsPerPayment[item] = projected;
    }

    // Write and read units by the size of the item each call touched: every item of every table, sized by
    // DynamoDB's rules and grouped as the store grouped the calls (table and key prefix); an update is priced at the
    // item's size now.
    const { DynamoDBClient, ScanCommand } = await import('@aws-sdk/client-dynamodb');
    const raw = new DynamoDBClient({ endpoint: platform.store.endpoint, region: 'local', credentials: { accessKeyId: 'l', secretAccessKey: 'l' } });
    const sizes = new Map<string, number[]>();
    let modelItem: { bytes: number; arms: number; steadyBytes: number } | undefined;
    for (const table of Object.values(LOCAL_TABLES)) {
      let start: Record<string, AttributeValue> | undefined;
      do {
        const page = await raw.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start }));
        for (const item of page.Items ?? []) {
          const first = Object.values(item)[0]?.S ?? '';
          const keyValue = (item.pk ?? item.id ?? item.merchantId ?? item.paymentId)?.S ?? first;
          const prefix = keyValue.includes('#') ? keyValue.slice(0, keyValue.indexOf('#') + 1) : '';
          const group = `${table} ${prefix}`;
          const bytes = itemBytes(item);
          (sizes.get(group) ?? sizes.set(group, []).get(group)!).push(bytes);
          if (item.pk?.S === MODEL_KEY && item.state?.S) modelItem = { bytes, arms: Object.keys(decodeState(item.state.S).arms).length, steadyBytes: steadyModelBytes(item.state.S, bytes) };
        }
        start = page.LastEvaluatedKey;
      } while (start);
    }
    raw.destroy();
    const tableMean = (table: string) => {
      const all = [...sizes].filter(([k]) => k.startsWith(`${table} `)).flatMap(([, v]) => v);
      return all.length ? all.reduce((a, b) => a + b, 0) / all.length : 1024;
    };
    // The routing model item grows with the connectors it has learnt (an arm each); priced at full size, once every
    // connector has learnt, whatever this short run's exploration reached.
    const modelKind = `${routing} ${modelPrefix}`;
    const modelSteadyBytes = modelItem?.steadyBytes;
    const bytesOf = (kind: string) => {
      if (kind === modelKind && modelSteadyBytes !== undefined) return modelSteadyBytes;
      const group = sizes.get(kind);
      return group?.length ? Math.max(...group) : tableMean(kind.slice(0, kind.indexOf(' ')));
    };
    const singleItem = Object.entries(itemsPerPayment).map(([key, n]) => {
      const [op, table, rest = ''] = key.split(' ');
      const consistent = rest.endsWith('consistent') || key.endsWith(' consistent');
      const prefix = rest === 'consistent' ? '' : rest;
      return { op, kind: `${table} ${prefix}`, consistent, perPayment: n, measuredPerPayment: (items[key] ?? 0) / N };
    });
    // Writes: a unit a KB; strongly consistent reads a unit, eventually consistent half a unit, each 4 KB.
    const writeKinds = [
      ...singleItem
        .filter((c) => c.op !== 'GetItem')
        .reduce((m, c) => {
          const w = m.get(c.kind) ?? { kind: c.kind, perPayment: 0, measuredPerPayment: 0, units: Math.max(1, Math.ceil(bytesOf(c.kind) / 1024)) };
          m.set(c.kind, { ...w, perPayment: w.perPayment + c.perPayment, measuredPerPayment: w.measuredPerPayment + c.measuredPerPayment });
          return m;
        }, new Map<string, { kind: string; perPayment: number; measuredPerPayment: number; units: number }>())
        .values(),
    ];
    const getItemUnits = singleItem
      .filter((c) => c.op === 'GetItem')
      .reduce((a, c) => a + c.perPayment * Math.max(1, Math.ceil(bytesOf(c.kind) / 4096)) * (c.consistent ? 1 : 0.5), 0);
    const itemKb = Math.max(...(sizes.get(`${LOCAL_TABLES.payments} `) ?? [0])) / 1024;

    // Costs per payment.
    const lambdaRows = FUNCTION_NAMES.map((name) => {
      const all = Object.entries(times).flatMap(([key, values]) => (key.startsWith(`${name}:`) ? values : []));
      const batches = times[`${name}:queue`]?.length ?? 0;
      const calls = (all.length - batches) / N + queues.filter((q) => q.function === name).reduce((a, q) => a + q.invocations, 0);
      const p50Ms = all.length ? quantile(Float64Array.from(all).sort(), 0.5) : 0;
      const gbSeconds = calls * (Math.ceil(p50Ms) / 1000) * (facts.memory[name] / 1024);
      return { name, calls, p50Ms, memoryMB: facts.memory[name], cost: calls * PRICE.lambdaPerRequest + gbSeconds * PRICE.lambdaPerGbSecond };
    });
    // Batch writes (none on these paths today) at one unit an item.
    const batchWrites = sum(perPayment, (k) => k.startsWith('BatchWriteItem'));
    // Sparse indexes: the intent adds to `unfinished`, the terminal write moves it to `outbox`, the drain removes it.
    const indexWrites = 4;
    const writeUnits = writeKinds.reduce((a, w) => a + w.perPayment * w.units, 0) + batchWrites + indexWrites;

    // Single-item reads by size and consistency; a Query, Scan or BatchGetItem at a unit an item (measured here at
    // one payment a batch, so the updater's BatchGetItems count an item each: the items it reads a payment).
    const readUnits = getItemUnits + sum(total, (k) => READS.test(k) && !k.startsWith('GetItem')) / N;
    const medianWallS = quantile(Float64Array.from(wall).sort(), 0.5) / 1000;
    const rows: Array<[string, number]> = [
      ['API Gateway (REST)', PRICE.apiGatewayPerRequest],
      ['WAF (requests inspected)', PRICE.wafPerRequest],
      [`payment workflow (${facts.paymentType})`, facts.paymentType === 'EXPRESS' ? PRICE.expressPerRequest + medianWallS * (64 / 1024) * PRICE.expressPerGbSecond : hops[0] * PRICE.standardPerTransition],
      ...lambdaRows.map((r): [string, number] => [`Lambda ${r.name}`, r.cost]),
      ['DynamoDB writes', writeUnits * PRICE.dynamoPerWriteUnit],
      ['DynamoDB reads', readUnits * PRICE.dynamoPerReadUnit],
      ['EventBridge events', eventsPerPayment * PRICE.eventBridgePerEvent],
      ['SQS (send a message, receive and delete a batch)', sqsRequests * PRICE.sqsPerRequest],
      [`reward workflow (${facts.rewardType})`, facts.rewardType === 'STANDARD' ? rewardTransitions * PRICE.standardPerTransition : PRICE.expressPerRequest],
    ];
    const perMillion = rows.reduce((a, [, c]) => a + c, 0) * 1e6;

    const hopLevels = quantile(Float64Array.from(hops).sort(), 0.5);
    const storeOnPath = sum(onPath, () => true);
    const busyRounds = quantile(Float64Array.from(rounds).sort(), 0.5);
    const sequentialRounds = quantile(Float64Array.from(criticalRounds).sort(), 0.5);
    const p95 = LATENCY.edgeMs + hopLevels * LATENCY.lambdaHopMs + sequentialRounds * LATENCY.storeCallMs;

    const fmt = (n: number, d = 2) => n.toFixed(d);
    console.log(`npm run cost: ${N} payments on the local platform, prod template (${new Date().toISOString().slice(0, 10)})\n`);
    console.log('Synchronous path of POST /pay (happy path)');
    console.log(`  Lambda hop levels: ${hopLevels} (goal ≤ 3)`);
    console.log(`  store calls on the path: ${fmt(storeOnPath, 1)} (${Object.entries(onPath).map(([k, v]) => `${k.replace(/smartpay-local-/, '')} ${fmt(v, 1)}`).join(', ')})`);
    const perTask = Object.entries(roundsByTask).map(([task, n]) => `${task} ${fmt(n / N, 1)}`).join(', ');
    console.log(
      `  sequential store round trips on the path (p50): ${sequentialRounds} (goal ≤ 3): max(Begin, ScoreFraud) + Route + Charge, each Task's ` +
        `busy periods on its own table (mean: ${perTask}); the store's busy periods in all: ${busyRounds} (locally Begin's and ScoreFraud's calls need not overlap in time)`,
    );
    console.log(`  projected cloud p95 (gateway excluded): ${fmt(p95, 0)} ms = edge ${LATENCY.edgeMs} + ${hopLevels} hops × ${LATENCY.lambdaHopMs} + ${sequentialRounds} round trips × ${LATENCY.storeCallMs} (goal < 150 ms)`);
    console.log(`  local wall time a payment (p50): ${fmt(medianWallS * 1000, 1)} ms\n`);
    console.log(`All work of a payment in the cloud (the outbox, routing feedback, the updater and the reward; without the local drain's ${fmt(sum(localDrainOnly, () => true) / N, 1)} sweep queries and reads)`);
    console.log(`  store calls: ${fmt(sum(perPayment, () => true), 1)} (goal ≤ 10): ${Object.entries(perPayment).map(([k, v]) => `${k.replace(/smartpay-local-/, '')} ${fmt(v, 1)}`).join(', ')}`);
    console.log(`  payment item: ${fmt(itemKb)} KB; write units ${fmt(writeUnits, 1)} (incl. ${indexWrites} sparse-index writes), read units ${fmt(readUnits, 1)}`);
    console.log(
      `  writes a payment by kind of item (× write units each, by the item's size): ${writeKinds
        .sort((a, b) => b.perPayment * b.units - a.perPayment * a.units)
        .map((w) => `${w.kind.replace(/smartpay-local-/, '')} ${fmt(w.perPayment, 1)} × ${w.units}`)
        .join(', ')}`,
    );
    console.log(
      `  queues at ${PER_MONTH.toLocaleString('en-US')} payments a month (${fmt(RATE, 2)}/s, steady; --per-month): ` +
        queues.map((q) => `${q.id} ${fmt(q.perPayment, 1)} a payment in batches of ${fmt(q.batch, 1)}`).join(', '),
    );
    const updates = queues.find((q) => q.id === 'RoutingUpdates');
    const feedback = queues.find((q) => q.id === 'RoutingFeedback');
    if (modelItem && modelSteadyBytes !== undefined && updates && feedback) {
      const modelUnits = Math.ceil(modelSteadyBytes / 1024);
      const measuredCommits = writeKinds.find((w) => w.kind === modelKind)?.measuredPerPayment ?? 0;
      console.log(
        `  the routing model is one item (${fmt(modelItem.bytes / 1024)} KB, ${modelItem.arms} of ${MODEL_ARMS_STEADY} connectors learnt; priced at full size, ${modelUnits} write units), ` +
          `rewritten whole by each commit, one a batch of its queue (window ${updates.batch > 1 ? `${fmt(updates.batch, 1)} outcome events` : 'one event'}): ` +
          `${fmt(updates.invocations, 3)} a payment at this volume = $${fmt(updates.invocations * modelUnits * PRICE.dynamoPerWriteUnit * 1e6)} a million ` +
          `(measured here one payment at a time: ${fmt(measuredCommits, 1)} a payment); the breaker's state is its own item, written once a feedback batch ` +
          `(${fmt(feedback.invocations, 2)} a payment)`,
      );
    }
    console.log(`  events ${fmt(eventsPerPayment, 1)}, reward workflow state transitions ${fmt(rewardTransitions, 1)}`);
    console.log(`  Lambda: ${lambdaRows.filter((r) => r.calls).map((r) => `${r.name} ${fmt(r.calls, 1)}× p50 ${fmt(r.p50Ms, 1)} ms @ ${r.memoryMB} MB`).join('; ')}\n`);
    console.log('Projected AWS cost of a million payments (us-east-1 list prices; logs, X-Ray and data transfer excluded)');
    for (const [label, cost] of rows) console.log(`  ${label.padEnd(40)} $${fmt(cost * 1e6)}`);
    console.log(`  ${'total'.padEnd(40)} $${fmt(perMillion)} (goal ≤ $25)`);
    const fixed = facts.fixed.reduce((a, [, c]) => a + c, 0);
    console.log('\nFixed monthly cost of the prod template, whatever the volume (us-east-1 list prices; Cognito by active user excluded)');
    for (const [label, cost] of facts.fixed) console.log(`  ${label.padEnd(56)} $${fmt(cost)}`);
    console.log(`  ${'total a month'.padEnd(56)} $${fmt(fixed)}`);
    console.log(
      `  at ${PER_MONTH.toLocaleString('en-US')} payments a month (--per-month): $${fmt(perMillion * (PER_MONTH / 1e6) + fixed)} a month, ` +
        `$${fmt(perMillion + (fixed * 1e6) / PER_MONTH)} a million payments with the fixed cost shared`,
    );
    console.log('\nLambda durations are the local wall time of each invocation (a proxy for billed duration on the same code).');
  } finally {
    await platform.close();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
