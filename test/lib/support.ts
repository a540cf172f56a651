/**
 * Shared helpers of the lib tests: a fast App (cdk.json context, bundling off, no CloudFormation-schema
 * validation) and small template queries.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App, type AppProps } from 'aws-cdk-lib';
import { Validations } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks, type NagPack, PCIDSS321Checks, ServerlessChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';

export const ROOT = path.resolve(__dirname, '..', '..');

/** The `context` of cdk.json (a test App does not read cdk.json by itself). */
export const CDK_JSON_CONTEXT: Record<string, unknown> = JSON.parse(readFileSync(path.join(ROOT, 'cdk.json'), 'utf8')).context;

/** An App with cdk.json's context and NodejsFunction bundling disabled for every stack. */
export function fastApp(props: AppProps = {}): App {
  return new App({
    builtinCloudFormationValidation: false,
    ...props,
    context: { ...CDK_JSON_CONTEXT, 'aws:cdk:bundling-stacks': [], ...props.context },
  });
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- synthesized CloudFormation JSON is untyped
type Json = any;

type Resource = { Type: string; Properties?: Record<string, Json>; DeletionPolicy?: string; UpdateReplacePolicy?: string };

/** Resources of a type, as [logicalId, resource] pairs. */
export function resourcesOf(template: Template, type: string): Array<[string, Resource]> {
  return Object.entries(template.findResources(type)) as Array<[string, Resource]>;
}

/** The single logical ID of the resource of `type` whose ID starts with `prefix`. */
export function logicalIdOf(template: Template, type: string, prefix: string): string {
  const ids = resourcesOf(template, type)
    .map(([id]) => id)
    .filter((id) => id.startsWith(prefix));
  if (ids.length !== 1) throw new Error(`expected one ${type} with prefix ${prefix}, got ${ids.join(', ') || 'none'}`);
  return ids[0];
}

/** API Gateway methods keyed `"<VERB> <path>"`, with the path rebuilt from the Resource tree. */
export function apiMethods(template: Template): Record<string, Resource> {
  const resources = template.findResources('AWS::ApiGateway::Resource');
  const pathOf = (ref: unknown): string => {
    if (ref && typeof ref === 'object' && 'Ref' in ref) {
      const r = resources[(ref as { Ref: string }).Ref];
      return `${pathOf(r.Properties.ParentId)}/${r.Properties.PathPart}`;
    }
    return ''; // the root resource (Fn::GetAtt RootResourceId)
  };
  const methods: Record<string, Resource> = {};
  for (const [, m] of resourcesOf(template, 'AWS::ApiGateway::Method')) {
    methods[`${m.Properties!.HttpMethod} ${pathOf(m.Properties!.ResourceId) || '/'}`] = m;
  }
  return methods;
}

/** Every IAM policy statement in the template, with the logical ID of the policy that holds it. */
export function policyStatements(template: Template): Array<{ policy: string; roles: unknown; statement: Record<string, Json> }> {
  const out: Array<{ policy: string; roles: unknown; statement: Record<string, Json> }> = [];
  for (const [id, p] of resourcesOf(template, 'AWS::IAM::Policy')) {
    for (const statement of p.Properties!.PolicyDocument.Statement) out.push({ policy: id, roles: p.Properties!.Roles, statement });
  }
  return out;
}

/** Statements of the inline policies attached to the role with the given logical ID. */
export function statementsOfRole(template: Template, roleId: string): Array<Record<string, Json>> {
  return policyStatements(template)
    .filter(({ roles }) => JSON.stringify(roles).includes(`"${roleId}"`))
    .map(({ statement }) => statement);
}

/** Normalises Action (string or list) to a list. */
export function actionsOf(statement: Record<string, Json>): string[] {
  return ([] as string[]).concat(statement.Action);
}

/** The logical ID in `{Ref: id}` or `{'Fn::GetAtt': [id, attribute]}`, else undefined. */
function referencedId(value: Json, attribute?: string): string | undefined {
  if (value && typeof value === 'object') {
    if (typeof value.Ref === 'string' && attribute === undefined) return value.Ref;
    const att = value['Fn::GetAtt'];
    if (Array.isArray(att) && (attribute === undefined || att[1] === attribute)) return att[0];
  }
  return undefined;
}

/**
 * Every SQS queue of the template that something dead-letters into, read from the template itself, with the
 * places that make it one: a queue's `RedrivePolicy.deadLetterTargetArn`, an EventBridge rule target's
 * `DeadLetterConfig`, a Lambda function's `DeadLetterConfig`, an on-failure destination (event source mapping
 * or async invoke config), and a state machine's `*Dlq*` definition substitution (the queue its ASL sends
 * to when it gives up).
 */
export function deadLetterQueues(template: Template): Map<string, string[]> {
  const queues = new Set(resourcesOf(template, 'AWS::SQS::Queue').map(([queueId]) => queueId));
  const found = new Map<string, string[]>();
  const add = (value: Json, source: string, attribute?: string) => {
    const queueId = referencedId(value, attribute);
    if (queueId && queues.has(queueId)) found.set(queueId, [...(found.get(queueId) ?? []), source]);
  };
  for (const [queueId, q] of resourcesOf(template, 'AWS::SQS::Queue')) {
    add(q.Properties?.RedrivePolicy?.deadLetterTargetArn, `redrive policy of ${queueId}`, 'Arn');
  }
  for (const [ruleId, rule] of resourcesOf(template, 'AWS::Events::Rule')) {
    for (const target of rule.Properties?.Targets ?? []) add(target.DeadLetterConfig?.Arn, `target ${target.Id} of ${ruleId}`, 'Arn');
  }
  for (const [fnId, fn] of resourcesOf(template, 'AWS::Lambda::Function')) {
    add(fn.Properties?.DeadLetterConfig?.TargetArn, `dead-letter config of ${fnId}`, 'Arn');
  }
  for (const type of ['AWS::Lambda::EventSourceMapping', 'AWS::Lambda::EventInvokeConfig']) {
    for (const [resourceId, r] of resourcesOf(template, type)) {
      add(r.Properties?.DestinationConfig?.OnFailure?.Destination, `on-failure destination of ${resourceId}`, 'Arn');
    }
  }
  for (const [machineId, machine] of resourcesOf(template, 'AWS::StepFunctions::StateMachine')) {
    for (const [name, value] of Object.entries(machine.Properties?.DefinitionSubstitutions ?? {})) {
      if (/dlq|deadletter/i.test(name)) add(value, `${name} of ${machineId}`);
    }
  }
  return found;
}

/** The logical IDs of the queues watched by an `ApproximateNumberOfMessagesVisible` alarm with an alarm action. */
export function queuesWithDepthAlarm(template: Template): Set<string> {
  const watched = new Set<string>();
  for (const [, alarm] of resourcesOf(template, 'AWS::CloudWatch::Alarm')) {
    const p = alarm.Properties!;
    if (p.Namespace !== 'AWS/SQS' || p.MetricName !== 'ApproximateNumberOfMessagesVisible' || !p.AlarmActions?.length) continue;
    for (const d of p.Dimensions ?? []) {
      const queueId = d.Name === 'QueueName' ? referencedId(d.Value, 'QueueName') : undefined;
      if (queueId) watched.add(queueId);
    }
  }
  return watched;
}

/** The cdk-nag packs the platform answers to. */
export const nagPacks = (): NagPack[] => [new AwsSolutionsChecks(), new ServerlessChecks(), new PCIDSS321Checks()];

/** Open findings under `scope`, as "rule @ construct path". */
export function openFindings(scope: IConstruct, packs: NagPack[] = nagPacks()): string[] {
  return packs.flatMap((pack) => pack.validateScope(scope).violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} @ ${r.constructPath}`)));
}

/**
 * The cdk-nag acknowledgements under `root` with no finding behind them (checked with acknowledgement off): an
 * acknowledgement left over from code that changed hides nothing today and could hide something tomorrow.
 */
export function unbackedAcknowledgements(root: IConstruct, packs: NagPack[] = nagPacks()): Array<{ id: string; path: string }> {
  const acks = root.node
    .findAll()
    .flatMap((c: IConstruct) =>
      c.node.metadata
        .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
        .flatMap((m) => Object.keys(m.data as Record<string, string>).map((key) => ({ id: key.replace(/^annotation::/i, ''), path: c.node.path }))),
    )
    // (aws-cdk-lib acknowledges some of its own CloudFormation validations)
    .filter((a) => /^(AwsSolutions|Serverless|PCI\.DSS\.321)-/.test(a.id));
  const raw = packs.flatMap((pack) => {
    (pack as unknown as { isAcknowledged: () => boolean }).isAcknowledged = () => false;
    return pack.validateScope(root).violations.flatMap((v) => v.violatingResources.map((r) => ({ id: v.ruleName, path: r.constructPath ?? '' })));
  });
  if (acks.length === 0) throw new Error(`no acknowledgement under ${root.node.path}: nothing to check`);
  return acks.filter((a) => !raw.some((f) => f.id === a.id && (f.path === a.path || f.path.startsWith(`${a.path}/`))));
}
