/**
 * The two workflows, both loaded from `statemachines/*.asl.json` (the one definition the local platform runs
 * too): the payment machine (EXPRESS, synchronous behind `POST /pay`) and the reward machine (STANDARD,
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
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { PROJECT_ROOT, type SmartPayFunctions } from './functions';
import { ENV, ROUTING_UPDATER_BATCH, ROUTING_UPDATER_PATTERN } from '../contracts/resources';
import { acknowledge, REASONS } from './nag';
import type { StageConfig } from './stages';

/** Reads an ASL definition file as text. */
export function readDefinition(definitionsDir: string, file: string): string {
  return readFileSync(path.join(definitionsDir, file), 'utf8');
}

/**
 * The reward rule's pattern, read from `reward.trigger.json` (the file the local bus reads too) and mapped to
 * CDK's `EventPattern` field names.
 */
export function readEventPattern(definitionsDir: string, file = 'reward.trigger.json'): events.EventPattern {
  const raw = JSON.parse(readFileSync(path.join(definitionsDir, file), 'utf8')) as Record<string, unknown>;
  const fields: Record<string, keyof events.EventPattern> = {
    version: 'version',
    id: 'id',
    'detail-type': 'detailType',
    source: 'source',
    account: 'account',
    time: 'time',
    region: 'region',
    resources: 'resources',
    detail: 'detail',
  };
  const pattern: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    const field = fields[key];
    if (!field) throw new Error(`${file}: unknown event pattern field "${key}"; use one of ${Object.keys(fields).join(', ')}`);
    pattern[field] = value;
  }
  return pattern as events.EventPattern;
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
   * Folder holding `payment.asl.json`, `reward.asl.json` and `reward.trigger.json`.
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
  /** STANDARD reward workflow. */
  public readonly rewardStateMachine: sfn.StateMachine;
  /** Execution logs of the payment machine (level ALL, without execution data: card data flows through it). */
  public readonly paymentLogGroup: logs.LogGroup;
  /** Execution logs of the reward machine (level ALL, with execution data). */
  public readonly rewardLogGroup: logs.LogGroup;
  /** Rewards the machine gave up on (its SendToDlq state). */
  public readonly rewardDlq: sqs.Queue;
  /** Events the rule could not deliver to the reward machine. */
  public readonly rewardRuleDlq: sqs.Queue;
  /** Buffers RoutingOutcomesRecorded events for the routing model's updater. */
  public readonly routingUpdatesQueue: sqs.Queue;
  /** Where routing updates go after 5 failed receives. */
  public readonly routingUpdatesDlq: sqs.Queue;
  /** RoutingOutcomesRecorded → routingUpdatesQueue. */
  public readonly routingUpdatesRule: events.Rule;
  /** `PaymentSucceeded` → reward machine. */
  public readonly rewardRule: events.Rule;

  constructor(scope: Construct, id: string, props: SmartPayWorkflowsProps) {
    if (props?.existingEventBus && props.eventBusProps) {
      throw new Error('pass existingEventBus or eventBusProps, not both');
    }
    if (!props?.stage || !props.functions || !props.encryptionKey) {
      throw new Error('stage, functions and encryptionKey are required');
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

    // The routing model's learning loop: the routing function publishes RoutingOutcomesRecorded; a rule
    // buffers them in a queue; the updater (one concurrent execution: the single writer) folds them in.
    functions.routingFunction.addEnvironment(ENV.eventBusName, this.eventBus.eventBusName);
    this.eventBus.grantPutEventsTo(functions.routingFunction);
    this.routingUpdatesDlq = encryptedQueue('RoutingUpdatesDlq');
    acknowledge(this.routingUpdatesDlq, {
      'Serverless-SQSRedrivePolicy': 'This queue is itself the dead-letter queue of RoutingUpdatesQueue (terminal); its messages are redriven by hand after a fix.',
    });
    this.routingUpdatesQueue = encryptedQueue('RoutingUpdatesQueue', {
      // Six times the updater's timeout, as Lambda's SQS event source recommends.
      visibilityTimeout: Duration.seconds(6 * (functions.routingUpdaterFunction.timeout?.toSeconds() ?? 30)),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.routingUpdatesDlq, maxReceiveCount: 5 },
    });
    this.routingUpdatesRule = new events.Rule(this, 'RoutingUpdatesRule', {
      description: 'RoutingOutcomesRecorded to the routing model updater queue',
      eventBus: this.eventBus,
      eventPattern: { source: ROUTING_UPDATER_PATTERN.source, detailType: ROUTING_UPDATER_PATTERN['detail-type'] },
    });
    this.routingUpdatesRule.addTarget(new targets.SqsQueue(this.routingUpdatesQueue, { deadLetterQueue: this.rewardRuleDlq, retryAttempts: 10 }));
    // A malformed message fails alone (the handler's partial batch response), not its whole batch.
    const updates = new SqsEventSource(this.routingUpdatesQueue, {
      batchSize: ROUTING_UPDATER_BATCH,
      maxBatchingWindow: Duration.seconds(1),
      reportBatchItemFailures: true,
    });
    functions.routingUpdaterFunction.addEventSource(updates);
    acknowledge(functions.routingUpdaterFunction, {
      'Serverless-LambdaDLQ':
        'Invoked only by its SQS event source, never asynchronously: a failed batch returns to the queue and, after 5 receives, goes to RoutingUpdatesDlq.',
      'Serverless-LambdaEventSourceMappingDestination':
        'The source queue redrives to RoutingUpdatesDlq after 5 receives; an on-failure destination on the mapping would duplicate that.',
    });

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

    this.paymentStateMachine = new sfn.StateMachine(this, 'PaymentStateMachine', {
      stateMachineType: sfn.StateMachineType.EXPRESS,
      comment: 'SmartPay payment workflow (statemachines/payment.asl.json)',
      definitionBody: sfn.DefinitionBody.fromString(readDefinition(dir, 'payment.asl.json')),
      definitionSubstitutions: {
        PaymentsFunctionArn: functions.paymentsFunction.functionArn,
        FraudFunctionArn: functions.fraudFunction.functionArn,
        RoutingFunctionArn: functions.routingFunction.functionArn,
        EventBusName: this.eventBus.eventBusName,
      },
      // Card data flows through this machine: log every event, never the data.
      logs: { destination: this.paymentLogGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
      tracingEnabled: true,
    });
    // ASL from a file gets no automatic IAM: grant each task target explicitly.
    functions.paymentsFunction.grantInvoke(this.paymentStateMachine);
    functions.fraudFunction.grantInvoke(this.paymentStateMachine);
    functions.routingFunction.grantInvoke(this.paymentStateMachine);
    this.eventBus.grantPutEventsTo(this.paymentStateMachine);

    this.rewardStateMachine = new sfn.StateMachine(this, 'RewardStateMachine', {
      stateMachineType: sfn.StateMachineType.STANDARD,
      comment: 'SmartPay reward workflow (statemachines/reward.asl.json)',
      definitionBody: sfn.DefinitionBody.fromString(readDefinition(dir, 'reward.asl.json')),
      definitionSubstitutions: {
        RewardsFunctionArn: functions.rewardsFunction.functionArn,
        RewardDlqUrl: this.rewardDlq.queueUrl,
      },
      logs: { destination: this.rewardLogGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
      tracingEnabled: true,
    });
    functions.rewardsFunction.grantInvoke(this.rewardStateMachine);
    this.rewardDlq.grant(this.rewardStateMachine, 'sqs:SendMessage');
    encryptionKey.grant(this.rewardStateMachine, 'kms:GenerateDataKey', 'kms:Decrypt');

    this.rewardRule = new events.Rule(this, 'RewardRule', {
      description: 'PaymentSucceeded starts the SmartPay reward workflow (statemachines/reward.trigger.json)',
      eventBus: this.eventBus,
      eventPattern: readEventPattern(dir),
    });
    this.rewardRule.addTarget(
      new targets.SfnStateMachine(this.rewardStateMachine, {
        deadLetterQueue: this.rewardRuleDlq,
        retryAttempts: 10,
        maxEventAge: Duration.hours(24),
      }),
    );
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

    const invokeFinding = (fn: lambda.IFunction) =>
      `AwsSolutions-IAM5[Resource::<${Stack.of(fn).getLogicalId(fn.node.defaultChild as CfnElement)}.Arn>:*]`;
    const invokeReason =
      'grantInvoke also covers the qualified ARNs (versions/aliases) of this one function; the action is lambda:InvokeFunction only.';
    acknowledge(this.paymentStateMachine.role, {
      'AwsSolutions-IAM5[Resource::*]':
        'Step Functions log delivery (logs:*LogDelivery, DescribeLogGroups, resource policies) and X-Ray tracing actions do not support resource-level permissions.',
      [invokeFinding(functions.paymentsFunction)]: invokeReason,
      [invokeFinding(functions.fraudFunction)]: invokeReason,
      [invokeFinding(functions.routingFunction)]: invokeReason,
      'PCI.DSS.321-IAMNoInlinePolicy': REASONS.inlinePolicy,
    });
    acknowledge(this.rewardStateMachine.role, {
      'AwsSolutions-IAM5[Resource::*]':
        'Step Functions log delivery (logs:*LogDelivery, DescribeLogGroups, resource policies) and X-Ray tracing actions do not support resource-level permissions.',
      [invokeFinding(functions.rewardsFunction)]: invokeReason,
      'PCI.DSS.321-IAMNoInlinePolicy': REASONS.inlinePolicy,
    });
  }

  /** Lets `grantee` put events on the SmartPay bus (e.g. another producer of `PaymentSucceeded`). */
  public grantPutEvents(grantee: iam.IGrantable): iam.Grant {
    return this.eventBus.grantPutEventsTo(grantee);
  }

  /** Lets `grantee` start synchronous payment executions. */
  public grantStartPayment(grantee: iam.IGrantable): iam.Grant {
    return this.paymentStateMachine.grantStartSyncExecution(grantee);
  }

  /** Lets `grantee` read and delete messages from both DLQs (e.g. a redrive job). */
  public grantConsumeDlqs(grantee: iam.IGrantable): void {
    this.rewardDlq.grantConsumeMessages(grantee);
    this.rewardRuleDlq.grantConsumeMessages(grantee);
  }
}
