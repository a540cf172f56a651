/**
 * The cloud and the local platform are two renderings of contracts/topology.ts: this suite holds them against
 * each other (not against text). It synthesizes the stack and starts the local platform, then checks that
 * - every API Gateway method is served by the local router, and the reverse, and the OpenAPI document has
 *   exactly those routes;
 * - each local function gets exactly the SmartPay variables its cloud function gets;
 * - every placeholder of each workflow resolves in both engines, to the same function;
 * - the bus rules are the same events to the same consumers.
 */
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { DEFAULT_CONNECTORS } from '../../contracts/connectors';
import { openApiDocument } from '../../contracts/openapi';
import { allConsumers, allSchedules, consumedEvents, FUNCTION_NAMES, functionPlaceholders, WORKFLOW_NAMES, WORKFLOWS, type FunctionName } from '../../contracts/topology';
import { SmartPayPlatform, STAGES } from '../../lib';
import { localEnvironments } from '../../local/env';
import type { LocalPlatform } from '../../local/platform';
import { ROUTES } from '../../local/server';
import { functionArn, localSubstitutions, placeholdersOf, readDefinition } from '../../local/workflows';
import { apiMethods, fastApp, logicalIdOf, resourcesOf } from '../lib/support';
import { startPlatform } from './client';

const pascal = (name: string) => name[0].toUpperCase() + name.slice(1);

let template: Template;
let platform: LocalPlatform;

beforeAll(async () => {
  const app = fastApp();
  const stack = new Stack(app, 'Renderings', { env: { account: '111111111111', region: 'eu-west-1' } });
  // A stage that sets every optional setting, so no variable is left out for want of a value.
  new SmartPayPlatform(stack, 'SmartPay', {
    stage: { ...STAGES.dev, fraudReviewThreshold: 0.5, fraudDeclineThreshold: 0.9, routingFeeWeights: { default: 1 }, rewardUsdRates: { EUR: '1.08' }, connectors: DEFAULT_CONNECTORS },
  });
  template = Template.fromStack(stack);
  platform = await startPlatform();
}, 60_000);

afterAll(async () => {
  await platform?.close(1000);
});

/** `GET /payments/{id}` for every route key of a list. */
const keys = (routes: ReadonlyArray<{ method: string; resource: string }>) => routes.map((r) => `${r.method} ${r.resource}`).sort();

test('every cloud route is served locally, and every local route exists in the cloud and in the OpenAPI document', async () => {
  const cloud = Object.keys(apiMethods(template)).sort();
  const local = keys(ROUTES.filter((r) => r.target.kind !== 'jwks'));
  const documented = Object.entries(openApiDocument().paths as Record<string, Record<string, unknown>>)
    .flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`))
    .sort();
  expect(cloud.length).toBeGreaterThanOrEqual(10);
  expect(local).toEqual(cloud);
  expect(documented).toEqual(cloud);

  // Served, not just listed: without a token a protected route is a 401, a public one answers.
  const methods = apiMethods(template);
  for (const key of cloud) {
    const [method, path] = key.split(' ') as [string, string];
    const response = await fetch(`${platform.url}${path.replace('{id}', 'pay_00000000000000000000').replace('{connectorId}', 'stripe-sandbox')}`, { method });
    // A webhook is public but signed: unsigned, it is refused by its function (the sandbox takes none: 404).
    const expected = methods[key].Properties!.AuthorizationType === 'COGNITO_USER_POOLS' ? 401 : path.startsWith('/webhooks/') ? 404 : 200;
    expect({ key, status: response.status }).toEqual({ key, status: expected });
  }
});

test('each local function gets exactly the SmartPay variables of its cloud function', () => {
  // Runtime knobs that are not SmartPay's: Powertools' logging and metrics, Node's flags, the local transports (and
  // the local search endpoint's visibility lag, none, where the cloud keeps its default).
  const runtime = (name: string) => /^(POWERTOOLS_(LOG_LEVEL|METRICS_NAMESPACE|METRICS_DISABLED|TRACE_ENABLED)|NODE_OPTIONS|AWS_.*|DYNAMODB_ENDPOINT|EVENTS_ENDPOINT|ANALYTICS_VISIBILITY_MS)$/.test(name);
  const local = localEnvironments({
    dynamodbEndpoint: 'http://127.0.0.1:1',
    eventsEndpoint: 'http://127.0.0.1:2',
    searchEndpoint: 'http://127.0.0.1:3',
    // The card fingerprint key's ARN: the local platform serves its generated key as the construct generates one.
    env: { FRAUD_REVIEW_THRESHOLD: '0.5', FRAUD_DECLINE_THRESHOLD: '0.9', ROUTING_FEE_WEIGHTS: '{"default":1}', REWARD_USD_RATES: '{"EUR":"1.08"}', CARD_FINGERPRINT_SECRET_ARN: 'arn:local' },
  });
  for (const name of FUNCTION_NAMES) {
    const id = logicalIdOf(template, 'AWS::Lambda::Function', `SmartPayFunctions${pascal(name)}Function`);
    const cloud = Object.keys(template.findResources('AWS::Lambda::Function')[id].Properties.Environment.Variables).filter((v) => !runtime(v));
    const mine = Object.keys(local[name]).filter((v) => !runtime(v));
    expect({ name, variables: mine.sort() }).toEqual({ name, variables: cloud.sort() });
  }
  // The tables differ by function: nothing is given to everyone.
  expect(local.analytics.ROUTING_TABLE_NAME).toBeUndefined();
  expect(local.routingUpdater.MAX_PAYMENT_ATTEMPTS).toBeUndefined();
});

test('every workflow placeholder resolves in both engines, a function placeholder to the same function', () => {
  for (const workflow of WORKFLOW_NAMES) {
    const placeholders = [...placeholdersOf(readDefinition(workflow))].sort();
    const machineId = logicalIdOf(template, 'AWS::StepFunctions::StateMachine', `SmartPayWorkflows${pascal(workflow)}StateMachine`);
    const cloud = template.findResources('AWS::StepFunctions::StateMachine')[machineId].Properties.DefinitionSubstitutions as Record<string, unknown>;
    expect({ workflow, placeholders: Object.keys(cloud).sort() }).toEqual({ workflow, placeholders });
    expect({ workflow, placeholders: Object.keys(localSubstitutions(workflow)).sort() }).toEqual({ workflow, placeholders });
    for (const placeholder of placeholders) {
      const fn: FunctionName | undefined = functionPlaceholders()[placeholder];
      if (!fn) {
        expect(WORKFLOWS[workflow].resources[placeholder]).toBeDefined();
        continue;
      }
      const functionId = logicalIdOf(template, 'AWS::Lambda::Function', `SmartPayFunctions${pascal(fn)}Function`);
      expect({ placeholder, cloud: cloud[placeholder] }).toEqual({ placeholder, cloud: { 'Fn::GetAtt': [functionId, 'Arn'] } });
      expect({ placeholder, local: localSubstitutions(workflow)[placeholder] }).toEqual({ placeholder, local: functionArn(fn) });
    }
  }
});

test('the bus rules are the same events to the same consumers', () => {
  const machines = Object.fromEntries(WORKFLOW_NAMES.map((w) => [logicalIdOf(template, 'AWS::StepFunctions::StateMachine', `SmartPayWorkflows${pascal(w)}StateMachine`), w]));
  const mappings = resourcesOf(template, 'AWS::Lambda::EventSourceMapping');
  const queueConsumer = (queueArn: { 'Fn::GetAtt': [string, string] }): string => {
    const mapping = mappings.find(([, m]) => m.Properties!.EventSourceArn['Fn::GetAtt']?.[0] === queueArn['Fn::GetAtt'][0]);
    const fnId = mapping![1].Properties!.FunctionName.Ref as string;
    return FUNCTION_NAMES.find((n) => fnId.startsWith(`SmartPayFunctions${pascal(n)}Function`))!;
  };
  const cloud = resourcesOf(template, 'AWS::Events::Rule')
    .filter(([, rule]) => rule.Properties!.EventPattern !== undefined)
    .map(([, rule]) => {
      const target = rule.Properties!.Targets[0];
      const consumer = target.Arn.Ref && machines[target.Arn.Ref] ? `workflow ${machines[target.Arn.Ref]}` : `function ${queueConsumer(target.Arn)}`;
      return (rule.Properties!.EventPattern['detail-type'] as string[]).map((type) => `${type} → ${consumer}`);
    })
    .flat()
    .sort();
  const local = allConsumers()
    .flatMap((c) => consumedEvents(c).map((event) => `${event} → ${'workflow' in c ? `workflow ${c.workflow}` : `function ${c.function}`}`))
    .sort();
  expect(cloud).toEqual(local);
  expect(local).toEqual([
    'PaymentFinalized → function routing',
    'PaymentFinalized → function routingUpdater',
    'PaymentRecorded → function analytics',
    'PaymentRefunded → function analytics',
    'PaymentRefunded → workflow reward',
    'PaymentSucceeded → function fraud',
    'PaymentSucceeded → workflow reward',
    'RewardChanged → function analytics',
    'RoutingOutcomesRecorded → function routingUpdater',
  ]);
});

test('the schedules are the same: a rate rule invoking the function with { schedule } in the cloud, a timer of the same name locally', () => {
  const functionOf = (arn: { 'Fn::GetAtt': [string, string] }) => FUNCTION_NAMES.find((n) => arn['Fn::GetAtt'][0].startsWith(`SmartPayFunctions${pascal(n)}Function`));
  const cloud = resourcesOf(template, 'AWS::Events::Rule')
    .filter(([, rule]) => rule.Properties!.ScheduleExpression !== undefined)
    .map(([, rule]) => {
      const target = rule.Properties!.Targets[0];
      return `${JSON.parse(target.Input).schedule} → function ${functionOf(target.Arn)} ${rule.Properties!.ScheduleExpression}`;
    })
    .sort();
  const local = allSchedules()
    .map((s) => `${s.name} → function ${s.function} rate(${s.everyMinutes} minute${s.everyMinutes === 1 ? '' : 's'})`)
    .sort();
  expect(cloud).toEqual(local);
  expect(local.map((l) => l.split(' ')[0])).toEqual(['mints', 'outbox', 'reconcile', 'reward-events']);
});

test('the outbox: the payments table streams to the payments function, filtered to terminal writes still unpublished', () => {
  const [table] = resourcesOf(template, 'AWS::DynamoDB::Table').filter(([id]) => id.startsWith('SmartPayDataPaymentsTable'));
  expect(table[1].Properties!.StreamSpecification).toEqual({ StreamViewType: 'NEW_IMAGE' });
  expect(table[1].Properties!.GlobalSecondaryIndexes.map((i: { IndexName: string }) => i.IndexName).sort()).toEqual(['outbox', 'unfinished']);
  const streams = resourcesOf(template, 'AWS::Lambda::EventSourceMapping').filter(([, m]) => m.Properties!.EventSourceArn['Fn::GetAtt']?.[1] === 'StreamArn');
  expect(streams).toHaveLength(1);
  const mapping = streams[0][1].Properties!;
  expect(mapping.EventSourceArn['Fn::GetAtt'][0]).toBe(table[0]);
  expect(mapping.FunctionName.Ref).toMatch(/^SmartPayFunctionsPaymentsFunction/);
  expect(JSON.parse(mapping.FilterCriteria.Filters[0].Pattern)).toEqual({ dynamodb: { NewImage: { unpublished: { S: [{ exists: true }] } } } });
  expect(mapping.DestinationConfig.OnFailure.Destination).toBeDefined();
});
