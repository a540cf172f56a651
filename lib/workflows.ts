/**
 * The two workflows, both loaded from `statemachines/*.asl.json` (the one definition the local platform runs
 * too): the payment machine (EXPRESS, synchronous behind `POST /pay`) and the reward machine (EXPRESS, asynchronous,
 * started by `PaymentSucceeded` on the SmartPay event bus).
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Duration, Names, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { CfnElement } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq, SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { PROJECT_ROOT, type SmartPayFunctions } from './functions';
import { eventPattern, type EventName } from '../contracts/events';
import { ENV } from '../contracts/resources';
import {
  allConsumers,
  allFunctions,
  allSchedules,
  FUNCTION_NAMES,
  resolvePlaceholders,
  WORKFLOWS,
  type QueueConsumer,
  type WorkflowName,
} from '../contracts/topology';
import { acknowledge, REASONS } from './nag';
import type { StageConfig } from './stages';

/** Reads an ASL definition file as text. */
export function readDefinition(definitionsDir: string, file: string): string {
  return readFileSync(path.join(definitionsDir, file), 'utf8');
}

/** An event's rule pattern (contracts/events.ts, the local bus's too) in CDK's `EventPattern` field names. */
export function cdkPattern(...names: [EventName, ...EventName[]]): events.EventPattern {
  const pattern = eventPattern(...names);
  return { source: pattern.source, detailType: pattern['detail-type'] };
}

/** A queue consumer's resources: a rule puts its event on the queue, a function drains it, the DLQ catches failures. */
export interface ConsumerQueue {
  readonly queue: sqs.Queue;
  readonly dlq: sqs.Queue;
  readonly rule: events.Rule;
  readonly consumer: QueueConsumer;
}

/** Props of {@link SmartPayWorkflows}. */
export interface SmartPayWorkflowsProps {
  /** Stage configuration (retention, removal). */
  readonly stage: StageConfig;
  /** The functions the Task states call. */
  readonly functions: SmartPayFunctions;
  /** Encrypts the DLQs and the state machines' log groups. */
  readonly encryptionKey: kms.IKey;
  /**
   * The payments table, whose stream publishes the outbox (each terminal payment's events) through the
   * payments function.
   */
  readonly paymentsTable: dynamodb.ITable;
  /**
   * An event bus of yours to emit `PaymentSucceeded` on and to hang the reward rule off.
   * @default - a new custom event bus
   */
  readonly existingEventBus?: events.IEventBus;
  /**
   * Overrides for the event bus the construct creates. Not allowed with `existingEventBus`.
   * @default - a bus with a generated name
   */
  readonly eventBusProps?: events.EventBusProps;
  /**
   * Folder holding `payment.asl.json` and `reward.asl.json`.
   * @default `statemachines/` of this repository
   */
  readonly definitionsDir?: string;
}

/** Event bus, payment and reward state machines, the reward rule and the two DLQs. */
export class SmartPayWorkflows extends Construct {
  /** Where `PaymentSucceeded` goes. */
  public readonly eventBus: events.IEventBus;
  /** EXPRESS payment workflow (synchronous `POST /pay`). */
  public readonly paymentStateMachine: sfn.StateMachine;
  /** EXPRESS reward workflow (asynchronous; exactly once by the reward ledger). */
  public readonly rewardStateMachine: sfn.StateMachine;
  /** Execution logs of the payment machine (level ALL, without execution data: card data flows through it). */
  public readonly paymentLogGroup: logs.LogGroup;
  /** Execution logs of the reward machine (level ALL, with execution data). */
  public readonly rewardLogGroup: logs.LogGroup;
  /** Rewards the machine gave up on (its SendToDlq state). */
  public readonly rewardDlq: sqs.Queue;
  /** Events a rule could not deliver to its target (the reward machine, or a consumer queue): the rules' shared DLQ. */
  public readonly rewardRuleDlq: sqs.Queue;
  /** Buffers RoutingOutcomesRecorded events for the routing model's updater. */
  public readonly routingUpdatesQueue: sqs.Queue;
  /** Where routing updates go after 5 failed receives. */
  public readonly routingUpdatesDlq: sqs.Queue;
  /** Every queue consumer of the topology by its queue id: the queue, its DLQ, the rule feeding it. */
  public readonly consumerQueues: Readonly<Record<string, ConsumerQueue>>;
  /** RoutingOutcomesRecorded → routingUpdatesQueue. */
  public readonly routingUpdatesRule: events.Rule;
  /** `PaymentSucceeded` → reward machine. */
  public readonly rewardRule: events.Rule;
  /** The schedules of the topology (the reconciler, the outbox sweep) by name. */
  public readonly schedules: Readonly<Record<string, events.Rule>>;
  /** Stream batches the outbox publisher gave up on (the sweep publishes their payments anyway). */
  public readonly outboxDlq: sqs.Queue;

  constructor(scope: Construct, id: string, props: SmartPayWorkflowsProps) {
    if (props?.existingEventBus && props.eventBusProps) {
      throw new Error('pass existingEventBus or eventBusProps, not both');
    }
    if (!props?.stage || !props.functions || !props.encryptionKey || !props.paymentsTable) {
      throw new Error('stage, functions, encryptionKey and paymentsTable are required');
    }
    super(scope, id);

    const { stage, functions, encryptionKey } = props;
    const dir = props.definitionsDir ?? path.join(PROJECT_ROOT, 'statemachines');
    const removalPolicy = stage.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    this.eventBus = props.existingEventBus ?? new events.EventBus(this, 'EventBus', props.eventBusProps);

    /** A KMS-encrypted, TLS-only queue of this construct; `props` add to or override the 14-day retention. */
    const encryptedQueue = (constructId: string, props: sqs.QueueProps = {}) =>
      new sqs.Queue(this, constructId, {
        encryption: sqs.QueueEncryption.KMS,
        encryptionMasterKey: encryptionKey,
        enforceSSL: true,
        retentionPeriod: Duration.days(14),
        removalPolicy,
        ...props,
      });
    /** A terminal dead-letter queue that nothing redrives into (the state machine or a rule sends to it). */
    const queue = (constructId: string) => {
      const q = encryptedQueue(constructId);
      acknowledge(q, {
        'AwsSolutions-SQS3': 'This queue is itself a dead-letter queue (terminal); it needs no DLQ of its own.',
        'Serverless-SQSRedrivePolicy': 'This queue is itself a dead-letter queue (terminal); nothing redrives from it automatically.',
      });
      return q;
    };
    this.rewardDlq = queue('RewardDlq');
    this.rewardRuleDlq = queue('RewardRuleDlq');

    // Every function that emits events learns the bus's name and may put events on it.
    for (const name of FUNCTION_NAMES) {
      if (!allFunctions()[name].emits?.length) continue;
      functions.functions[name].addEnvironment(ENV.eventBusName, this.eventBus.eventBusName);
      this.eventBus.grantPutEventsTo(functions.functions[name]);
    }

    // Queue consumers (the routing model's learning loop): a rule buffers the event in a queue, which one
    // function drains (the updater has one concurrent execution: the single writer).
    const queueConsumers = allConsumers().filter((c): c is QueueConsumer => 'queue' in c);
    const consumerQueues: Record<string, ConsumerQueue> = {};
    for (const consumer of queueConsumers) {
      const { id: queueId, batchSize, batchingWindowSeconds, maxReceiveCount } = consumer.queue;
      const fn = functions.functions[consumer.function];
      const dlq = encryptedQueue(`${queueId}Dlq`);
      acknowledge(dlq, {
        'Serverless-SQSRedrivePolicy': `This queue is itself the dead-letter queue of ${queueId}Queue (terminal); its messages are redriven by hand after a fix.`,
      });
      const consumed = encryptedQueue(`${queueId}Queue`, {
        // Six times the consumer's timeout plus the batching window, as Lambda's SQS event source recommends.
        visibilityTimeout: Duration.seconds(6 * allFunctions()[consumer.function].timeoutSeconds + batchingWindowSeconds),
        retentionPeriod: Duration.days(4),
        deadLetterQueue: { queue: dlq, maxReceiveCount },
      });
      const rule = new events.Rule(this, `${queueId}Rule`, {
        description: `${consumer.events.join(' and ')} to the ${allFunctions()[consumer.function].description} queue`,
        eventBus: this.eventBus,
        eventPattern: cdkPattern(...consumer.events),
      });
      rule.addTarget(new targets.SqsQueue(consumed, { deadLetterQueue: this.rewardRuleDlq, retryAttempts: 10 }));
      // A malformed message fails alone (the handler's partial batch response), not its whole batch.
      fn.addEventSource(new SqsEventSource(consumed, { batchSize, maxBatchingWindow: Duration.seconds(batchingWindowSeconds), reportBatchItemFailures: true }));
      acknowledge(fn, {
        'Serverless-LambdaDLQ': `Invoked only by its SQS event source, never asynchronously: a failed batch returns to the queue and, after ${maxReceiveCount} receives, goes to ${queueId}Dlq.`,
        'Serverless-LambdaEventSourceMappingDestination': `The source queue redrives to ${queueId}Dlq after ${maxReceiveCount} receives; an on-failure destination on the mapping would duplicate that.`,
      });
      consumerQueues[queueId] = { queue: consumed, dlq, rule, consumer };
    }
    this.consumerQueues = consumerQueues;
    const routingUpdates = consumerQueues.RoutingUpdates;
    if (!routingUpdates) throw new Error('contracts/topology.ts: the routing updater has no queue (RoutingUpdates)');
    this.routingUpdatesQueue = routingUpdates.queue;
    this.routingUpdatesDlq = routingUpdates.dlq;
    this.routingUpdatesRule = routingUpdates.rule;

    // Schedules: a rule invokes the function with `{ schedule: name }`.
    const schedules: Record<string, events.Rule> = {};
    for (const schedule of allSchedules()) {
      const pascal = `${schedule.name[0].toUpperCase()}${schedule.name.slice(1)}`;
      const rule = new events.Rule(this, `${pascal}Schedule`, {
        description: `every ${schedule.everyMinutes} min: ${schedule.description}`,
        schedule: events.Schedule.rate(Duration.minutes(schedule.everyMinutes)),
      });
      // A missed run is made up by the next one: no retries, no DLQ.
      rule.addTarget(new targets.LambdaFunction(functions.functions[schedule.function], { event: events.RuleTargetInput.fromObject({ schedule: schedule.name }), retryAttempts: 0 }));
      acknowledge(rule, {
        'Serverless-EventBusDLQ': `A schedule: its event carries nothing to lose, and a missed run is made up by the next one ${schedule.everyMinutes} min later.`,
      });
      schedules[schedule.name] = rule;
    }
    this.schedules = schedules;

    // The outbox: the payments table's stream hands terminal writes still marked `unpublished` to the
    // payments function, which puts their events on the bus (lambdas/payments/outbox.ts).
    this.outboxDlq = queue('OutboxDlq');
    const publisher = functions.functions.payments;
    publisher.addEventSource(
      new DynamoEventSource(props.paymentsTable, {
        startingPosition: lambda.StartingPosition.TRIM_HORIZON,
        batchSize: 100,
        maxBatchingWindow: Duration.seconds(1),
        bisectBatchOnError: true,
        retryAttempts: 10,
        onFailure: new SqsDlq(this.outboxDlq),
        filters: [lambda.FilterCriteria.filter({ dynamodb: { NewImage: { unpublished: { S: lambda.FilterRule.exists() } } } })],
      }),
    );

    const logGroup = (constructId: string) => {
      const group = new logs.LogGroup(this, constructId, {
        // The vendedlogs prefix keeps Step Functions from growing the account's log resource policy.
        logGroupName: `/aws/vendedlogs/states/${Names.uniqueResourceName(this, { maxLength: 200 })}-${constructId}`,
        retention: stage.logRetention,
        encryptionKey,
        removalPolicy,
      });
      return group;
    };
    this.paymentLogGroup = logGroup('PaymentLogs');
    this.rewardLogGroup = logGroup('RewardLogs');

    const invokeFinding = (fn: lambda.IFunction) =>
      `AwsSolutions-IAM5[Resource::<${Stack.of(fn).getLogicalId(fn.node.defaultChild as CfnElement)}.Arn>:*]`;
    const invokeReason =
      'grantInvoke also covers the qualified ARNs (versions/aliases) of this one function; the action is lambda:InvokeFunction only.';
    const resources = { eventBus: this.eventBus, rewardDlq: this.rewardDlq };

    /**
     * A workflow's machine: its definition file as is, each `${Placeholder}` substituted with what the topology
     * says it names (a function's ARN, the bus, the DLQ), and an explicit grant for each (ASL from a file gets
     * no automatic IAM). A placeholder the topology does not know fails the synth.
     */
    const machine = (workflow: WorkflowName, logGroup: logs.LogGroup, includeExecutionData: boolean): sfn.StateMachine => {
      const { file } = WORKFLOWS[workflow];
      // The topology's type, but the reward workflow's may be Standard by the stage's choice.
      const type = workflow === 'reward' ? (stage.rewardWorkflowType ?? WORKFLOWS.reward.type) : WORKFLOWS[workflow].type;
      const definition = readDefinition(dir, file);
      const invoked: lambda.IFunction[] = [];
      const substitutions: Record<string, string> = {};
      const grants: Array<(machine: sfn.StateMachine) => void> = [];
      for (const [placeholder, target] of resolvePlaceholders(workflow, definition)) {
        if (target.kind === 'function') {
          const fn = functions.functions[target.function];
          invoked.push(fn);
          substitutions[placeholder] = fn.functionArn;
          grants.push((m) => fn.grantInvoke(m));
        } else if (target.resource === 'eventBus') {
          substitutions[placeholder] = resources.eventBus.eventBusName;
          grants.push((m) => resources.eventBus.grantPutEventsTo(m));
        } else {
          substitutions[placeholder] = resources.rewardDlq.queueUrl;
          grants.push((m) => {
            resources.rewardDlq.grant(m, 'sqs:SendMessage');
            encryptionKey.grant(m, 'kms:GenerateDataKey', 'kms:Decrypt');
          });
        }
      }
      const created = new sfn.StateMachine(this, `${workflow[0].toUpperCase()}${workflow.slice(1)}StateMachine`, {
        stateMachineType: type === 'EXPRESS' ? sfn.StateMachineType.EXPRESS : sfn.StateMachineType.STANDARD,
        comment: `SmartPay ${workflow} workflow (statemachines/${file})`,
        definitionBody: sfn.DefinitionBody.fromString(definition),
        definitionSubstitutions: substitutions,
        logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData },
        tracingEnabled: true,
      });
      for (const grant of grants) grant(created);
      acknowledge(created.role, {
        'AwsSolutions-IAM5[Resource::*]':
          'Step Functions log delivery (logs:*LogDelivery, DescribeLogGroups, resource policies) and X-Ray tracing actions do not support resource-level permissions.',
        ...Object.fromEntries(invoked.map((fn) => [invokeFinding(fn), invokeReason])),
        'PCI.DSS.321-IAMNoInlinePolicy': REASONS.inlinePolicy,
      });
      return created;
    };
    // Card data flows through the payment machine: log every event, never the data.
    this.paymentStateMachine = machine('payment', this.paymentLogGroup, false);
    this.rewardStateMachine = machine('reward', this.rewardLogGroup, true);
    const machines: Record<WorkflowName, sfn.StateMachine> = { payment: this.paymentStateMachine, reward: this.rewardStateMachine };

    // Workflow consumers: a rule starts the workflow on its event.
    const rules: Partial<Record<WorkflowName, events.Rule>> = {};
    for (const consumer of allConsumers()) {
      if (!('workflow' in consumer)) continue;
      const rule = new events.Rule(this, `${consumer.workflow[0].toUpperCase()}${consumer.workflow.slice(1)}Rule`, {
        description: `${consumer.events.join(' and ')} start the SmartPay ${consumer.workflow} workflow`,
        eventBus: this.eventBus,
        eventPattern: cdkPattern(...consumer.events),
      });
      rule.addTarget(new targets.SfnStateMachine(machines[consumer.workflow], { deadLetterQueue: this.rewardRuleDlq, retryAttempts: 10, maxEventAge: Duration.hours(24) }));
      rules[consumer.workflow] = rule;
    }
    if (!rules.reward) throw new Error('contracts/topology.ts: nothing starts the reward workflow');
    this.rewardRule = rules.reward;

    const eventsRole = this.rewardStateMachine.node.tryFindChild('EventsRole');
    if (eventsRole) {
      acknowledge(eventsRole, {
        'PCI.DSS.321-IAMNoInlinePolicy':
          'The rule target role CDK creates: one inline statement, states:StartExecution on the reward machine only, attached to this single role.',
      });
    }
    // EventBridge writes to the KMS-encrypted rule DLQ: the key must let it (no-op for an imported key).
    encryptionKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowEventBridgeToUseKeyForDlq',
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
      }),
    );

  }

  /** Lets `grantee` put events on the SmartPay bus (e.g. another producer of `PaymentSucceeded`). */
  public grantPutEvents(grantee: iam.IGrantable): iam.Grant {
    return this.eventBus.grantPutEventsTo(grantee);
  }

  /** Lets `grantee` start synchronous payment executions. */
  public grantStartPayment(grantee: iam.IGrantable): iam.Grant {
    return this.paymentStateMachine.grantStartSyncExecution(grantee);
  }

  /** Lets `grantee` read and delete messages from every DLQ (e.g. a redrive job). */
  public grantConsumeDlqs(grantee: iam.IGrantable): void {
    this.rewardDlq.grantConsumeMessages(grantee);
    this.rewardRuleDlq.grantConsumeMessages(grantee);
    for (const { dlq } of Object.values(this.consumerQueues)) dlq.grantConsumeMessages(grantee);
    this.outboxDlq.grantConsumeMessages(grantee);
  }
}
