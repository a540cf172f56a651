/**
 * Alarms (to a KMS-encrypted SNS topic) and a CloudWatch dashboard over the API, the fraud model, the two
 * workflows and every DLQ (the reward machine's, the rules', the routing updater's).
 */
import { Duration } from 'aws-cdk-lib';
import * as cw from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { DEFAULT_CONNECTORS } from '../contracts/connectors';
import { ChargeOutcome } from '../contracts/api';
import { METRICS } from '../contracts/resources';
import type { SmartPayApi } from './api';
import { serviceName, type FunctionName } from '../contracts/topology';
import { FUNCTION_NAMES, type SmartPayFunctions } from './functions';
import type { StageConfig } from './stages';
import type { SmartPayWorkflows } from './workflows';

/** Alarm thresholds. */
export const ALARM_THRESHOLDS = {
  /** p95 latency of `POST /pay`, ms (the design target). */
  payLatencyP95Ms: 200,
  /** Share of API requests answered 5xx, percent. */
  api5xxRatePercent: 0.1,
  /** p95 of the fraud model's inference time, ms. */
  fraudInferenceP95Ms: 50,
  /**
   * Age of the oldest reward whose mint is not finalized, seconds: past the workflow's retries (about 3 minutes)
   * and ten runs of the mint sweep, something needs an operator (an unfunded treasury, a down RPC, a wrong key).
   */
  unmintedRewardAgeSeconds: 900,
} as const;

/**
 * A metric as a function's Powertools Metrics emits it: the platform's namespace (POWERTOOLS_METRICS_NAMESPACE,
 * SmartPayFunctions.metricsNamespace), and the default dimension `service` = the function's POWERTOOLS_SERVICE_NAME.
 */
function functionMetric(
  fn: FunctionName,
  metricName: string,
  statistic: string,
  period: Duration,
  dimensions: Record<string, string> = {},
  label?: string,
  namespace: string = METRICS.namespace,
): cw.Metric {
  return new cw.Metric({ namespace, metricName, dimensionsMap: { service: serviceName(fn), ...dimensions }, statistic, period, ...(label ? { label } : {}) });
}

/** The fraud model's inference time (METRICS.fraudInferenceMs), p95, in a platform's namespace. */
export function fraudInferenceMetric(period: Duration = Duration.minutes(5), namespace: string = METRICS.namespace): cw.Metric {
  return functionMetric('fraud', METRICS.fraudInferenceMs, 'p95', period, {}, undefined, namespace);
}

/** The oldest unminted reward's age as the rewards function's mint sweep publishes it each minute (Maximum). */
export function unmintedRewardAgeMetric(period: Duration = Duration.minutes(5), namespace: string = METRICS.namespace): cw.Metric {
  return functionMetric('rewards', METRICS.oldestUnmintedRewardAge, 'Maximum', period, {}, undefined, namespace);
}

/** Props of {@link SmartPayObservability}. */
export interface SmartPayObservabilityProps {
  /** Stage configuration. */
  readonly stage: StageConfig;
  /** The API to watch. */
  readonly api: SmartPayApi;
  /** The functions to chart. */
  readonly functions: SmartPayFunctions;
  /** The workflows and DLQs to watch. */
  readonly workflows: SmartPayWorkflows;
  /** Encrypts the topic the construct creates. */
  readonly encryptionKey: kms.IKey;
  /**
   * A topic of yours to send alarms to.
   * @default - a new KMS-encrypted topic that requires TLS
   */
  readonly existingAlarmTopic?: sns.ITopic;
  /**
   * Overrides for the topic the construct creates. Not allowed with `existingAlarmTopic`.
   * @default - encrypted with `encryptionKey`, TLS enforced
   */
  readonly alarmTopicProps?: sns.TopicProps;
}

/** Alarms → SNS, and the SmartPay dashboard. */
export class SmartPayObservability extends Construct {
  /** Where every alarm (and its recovery) is sent. Subscribe your on-call to it. */
  public readonly alarmTopic: sns.ITopic;
  /** p95 latency of `POST /pay` above 200 ms. */
  public readonly payLatencyAlarm: cw.Alarm;
  /** 5xx responses above 0.1 % of API requests (metric math 5XXError / Count). */
  public readonly api5xxRateAlarm: cw.Alarm;
  /** Fraud inference p95 above 50 ms. */
  public readonly fraudInferenceLatencyAlarm: cw.Alarm;
  /** Any failed (or timed-out) payment execution. */
  public readonly paymentExecutionsFailedAlarm: cw.Alarm;
  /** Any failed (or timed-out) reward execution. */
  public readonly rewardExecutionsFailedAlarm: cw.Alarm;
  /** Any message on the reward DLQ. */
  public readonly rewardDlqDepthAlarm: cw.Alarm;
  /** A reward's mint not finalized 15 minutes after the reward was recorded. */
  public readonly unmintedRewardAgeAlarm: cw.Alarm;
  /** Any reward mint transaction the chain refused or failed (RewardMintFailed): a cause only an operator fixes. */
  public readonly rewardMintFailedAlarm: cw.Alarm;
  /** Any message on the reward rule's DLQ. */
  public readonly rewardRuleDlqDepthAlarm: cw.Alarm;
  /** Any message on the routing updater's DLQ (outcome events the updater failed on 5 times). */
  public readonly routingUpdatesDlqDepthAlarm: cw.Alarm;
  /** The outbox publisher gave up on a stream batch (the sweep still publishes it). */
  public readonly outboxDlqDepthAlarm: cw.Alarm;
  /** The reconciler failed on some payment in every run for 15 minutes (a gateway it cannot read, say). */
  public readonly reconcilerErrorsAlarm: cw.Alarm;
  /** Every alarm above. */
  public readonly alarms: readonly cw.Alarm[];
  /** The SmartPay dashboard. */
  public readonly dashboard: cw.Dashboard;

  constructor(scope: Construct, id: string, props: SmartPayObservabilityProps) {
    if (props?.existingAlarmTopic && props.alarmTopicProps) {
      throw new Error('pass existingAlarmTopic or alarmTopicProps, not both');
    }
    if (!props?.stage || !props.api || !props.functions || !props.workflows || !props.encryptionKey) {
      throw new Error('stage, api, functions, workflows and encryptionKey are required');
    }
    super(scope, id);

    const { api, workflows, functions, stage } = props;
    const period = Duration.minutes(5);
    const namespace = functions.metricsNamespace;
    const sum = (fn: FunctionName, name: string, dimensions: Record<string, string> = {}, label?: string) => functionMetric(fn, name, 'Sum', period, dimensions, label, namespace);

    this.alarmTopic =
      props.existingAlarmTopic ??
      new sns.Topic(this, 'AlarmTopic', {
        displayName: `SmartPay alarms (${stage.name})`,
        masterKey: props.encryptionKey,
        enforceSSL: true,
        ...props.alarmTopicProps,
      });
    // CloudWatch publishes alarm notifications to the encrypted topic (no-op for an imported key).
    props.encryptionKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToUseKeyForTopic',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );

    const alarm = (alarmId: string, options: cw.CreateAlarmOptions & { metric: cw.Metric | cw.MathExpression }): cw.Alarm => {
      const { metric, ...rest } = options;
      const created = metric.createAlarm(this, alarmId, {
        treatMissingData: cw.TreatMissingData.NOT_BREACHING,
        ...rest,
      });
      created.addAlarmAction(new cwActions.SnsAction(this.alarmTopic));
      created.addOkAction(new cwActions.SnsAction(this.alarmTopic));
      return created;
    };

    const payMethod = api.methods['POST /pay'];
    this.payLatencyAlarm = alarm('PayLatencyP95Alarm', {
      metric: payMethod.metricLatency(api.restApi.deploymentStage, { statistic: 'p95', period }),
      alarmDescription: `POST /pay p95 latency above ${ALARM_THRESHOLDS.payLatencyP95Ms} ms (design target)`,
      threshold: ALARM_THRESHOLDS.payLatencyP95Ms,
      comparisonOperator: cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
    });

    const stageMetricProps = { statistic: 'Sum', period };
    this.api5xxRateAlarm = alarm('Api5xxRateAlarm', {
      metric: new cw.MathExpression({
        expression: '100 * errors / requests',
        usingMetrics: {
          errors: api.restApi.deploymentStage.metricServerError(stageMetricProps),
          requests: api.restApi.deploymentStage.metricCount(stageMetricProps),
        },
        label: '5XX rate (%)',
        period,
      }),
      alarmDescription: `More than ${ALARM_THRESHOLDS.api5xxRatePercent}% of API requests answered 5xx (5XXError / Count)`,
      threshold: ALARM_THRESHOLDS.api5xxRatePercent,
      comparisonOperator: cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
    });

    this.fraudInferenceLatencyAlarm = alarm('FraudInferenceP95Alarm', {
      metric: fraudInferenceMetric(period, namespace),
      alarmDescription: `Fraud model inference p95 above ${ALARM_THRESHOLDS.fraudInferenceP95Ms} ms`,
      threshold: ALARM_THRESHOLDS.fraudInferenceP95Ms,
      comparisonOperator: cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
    });

    const failedExecutions = (machine: SmartPayWorkflows['paymentStateMachine'], label: string) =>
      new cw.MathExpression({
        expression: 'FILL(failed, 0) + FILL(timedOut, 0)',
        usingMetrics: {
          failed: machine.metricFailed({ statistic: 'Sum', period }),
          timedOut: machine.metricTimedOut({ statistic: 'Sum', period }),
        },
        label,
        period,
      });
    this.paymentExecutionsFailedAlarm = alarm('PaymentExecutionsFailedAlarm', {
      metric: failedExecutions(workflows.paymentStateMachine, 'Failed payment executions'),
      alarmDescription: 'A payment execution failed or timed out (the API answered 202 processing; a retry of its key or the reconciler finishes it)',
      threshold: 0,
      comparisonOperator: cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
    });
    this.rewardExecutionsFailedAlarm = alarm('RewardExecutionsFailedAlarm', {
      metric: failedExecutions(workflows.rewardStateMachine, 'Failed reward executions'),
      alarmDescription: 'A reward execution failed or timed out (see the reward DLQ)',
      threshold: 0,
      comparisonOperator: cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
    });

    const dlqDepth = (alarmId: string, queue: SmartPayWorkflows['rewardDlq'], description: string) =>
      alarm(alarmId, {
        metric: queue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: Duration.minutes(1) }),
        alarmDescription: description,
        threshold: 0,
        comparisonOperator: cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
      });
    this.rewardDlqDepthAlarm = dlqDepth('RewardDlqDepthAlarm', workflows.rewardDlq, 'Rewards the workflow gave up on are waiting on the reward DLQ');
    this.unmintedRewardAgeAlarm = alarm('UnmintedRewardAgeAlarm', {
      metric: unmintedRewardAgeMetric(period, namespace),
      alarmDescription: `A reward's mint is still not finalized ${ALARM_THRESHOLDS.unmintedRewardAgeSeconds / 60} minutes after the reward was recorded (the mints schedule keeps trying: look at its warnings, the treasury's SOL and the RPC)`,
      threshold: ALARM_THRESHOLDS.unmintedRewardAgeSeconds,
      comparisonOperator: cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
    });
    // A count a function publishes that should stay 0: in `periods` periods in a row, it was not.
    const anyCounted = (alarmId: string, fn: FunctionName, metricName: string, description: string, periods = 1) =>
      alarm(alarmId, {
        metric: sum(fn, metricName),
        alarmDescription: description,
        threshold: 0,
        comparisonOperator: cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: periods,
        ...(periods > 1 ? { datapointsToAlarm: periods } : {}),
      });
    this.rewardMintFailedAlarm = anyCounted(
      'RewardMintFailedAlarm',
      'rewards',
      METRICS.rewardMintFailed,
      'A reward mint transaction failed on chain or was refused (a treasury without SOL for the fee, a mint authority that is not the mint\'s): POST /reward answers its chain.state "failed" with the cluster\'s reason, and the mints schedule sends a new transaction each minute until the cause is fixed',
    );
    this.rewardRuleDlqDepthAlarm = dlqDepth(
      'RewardRuleDlqDepthAlarm',
      workflows.rewardRuleDlq,
      'Events a rule could not deliver (PaymentSucceeded to the reward workflow, or to a consumer queue) are waiting on the rules\' DLQ',
    );
    // One per queue consumer of the topology (the routing model's updater today): its DLQ holds what it failed on.
    const consumerDlqAlarms = Object.fromEntries(
      Object.entries(workflows.consumerQueues).map(([queueId, { dlq, consumer }]) => [
        queueId,
        dlqDepth(
          `${queueId}DlqDepthAlarm`,
          dlq,
          `${consumer.events.join(' and ')} events the ${consumer.function} function failed on ${consumer.queue.maxReceiveCount} times are waiting on the ${queueId} DLQ (it has not acted on them)`,
        ),
      ]),
    );
    const routingUpdates = consumerDlqAlarms.RoutingUpdates;
    if (!routingUpdates) throw new Error('contracts/topology.ts: the routing updater has no queue (RoutingUpdates)');
    this.routingUpdatesDlqDepthAlarm = routingUpdates;
    this.outboxDlqDepthAlarm = dlqDepth(
      'OutboxDlqDepthAlarm',
      workflows.outboxDlq,
      'Stream batches the outbox publisher gave up on are on the outbox DLQ: events reach the bus late (the outbox sweep publishes them within a minute); look at why publishing fails',
    );

    this.reconcilerErrorsAlarm = anyCounted(
      'ReconcilerErrorsAlarm',
      'payments',
      METRICS.reconcilerErrors,
      'The reconciler failed on payments (or their pending refunds) in every run for 15 minutes: they stay processing or pending until it can read their gateway. Its warnings name each payment and the error ("could not reconcile a payment")',
      3,
    );

    this.alarms = [
      this.payLatencyAlarm,
      this.api5xxRateAlarm,
      this.fraudInferenceLatencyAlarm,
      this.paymentExecutionsFailedAlarm,
      this.rewardExecutionsFailedAlarm,
      this.rewardDlqDepthAlarm,
      this.unmintedRewardAgeAlarm,
      this.rewardMintFailedAlarm,
      this.rewardRuleDlqDepthAlarm,
      ...Object.values(consumerDlqAlarms),
      this.outboxDlqDepthAlarm,
      this.reconcilerErrorsAlarm,
    ];

    const stageApi = api.restApi.deploymentStage;
    // The stage's connectors: the per-connector metrics' `connector` dimension (METRICS.routingDecision, ...).
    const connectors = (stage.connectors ?? DEFAULT_CONNECTORS).map((c) => c.id);
    const decisions = connectors.map((connector) => sum('routing', METRICS.routingDecision, { connector }, connector));
    const explorations = connectors.map((connector) => sum('routing', METRICS.routingExploration, { connector }, `${connector} explored`));
    const slaRow = [
      new cw.GraphWidget({
        title: `API 5XX rate (%): SLA < ${ALARM_THRESHOLDS.api5xxRatePercent}%`,
        left: [
          new cw.MathExpression({
            expression: '100 * FILL(errors, 0) / requests',
            usingMetrics: { errors: stageApi.metricServerError(stageMetricProps), requests: stageApi.metricCount(stageMetricProps) },
            label: '5XX rate (%)',
            period,
          }),
        ],
        leftAnnotations: [{ value: ALARM_THRESHOLDS.api5xxRatePercent, label: 'SLA 0.1%' }],
        width: 8,
      }),
      new cw.GraphWidget({
        title: `POST /pay and the payment workflow p95 (ms): SLA < ${ALARM_THRESHOLDS.payLatencyP95Ms}`,
        left: [
          payMethod.metricLatency(stageApi, { statistic: 'p95', period, label: 'POST /pay p95' }),
          workflows.paymentStateMachine.metric('ExecutionTime', { statistic: 'p95', period, label: 'payment workflow p95' }),
        ],
        leftAnnotations: [{ value: ALARM_THRESHOLDS.payLatencyP95Ms, label: 'SLA 200 ms' }],
        width: 8,
      }),
      new cw.GraphWidget({
        title: 'Payments: succeeded, declined, failed, fell back',
        left: [METRICS.paymentSucceeded, METRICS.paymentDeclined, METRICS.paymentFailed, METRICS.paymentFellBack].map((name) => sum('payments', name, {}, name)),
        width: 8,
      }),
    ];
    const routingRow = [
      new cw.GraphWidget({ title: 'Routing decisions per connector (first choice)', left: decisions, stacked: true, width: 8 }),
      new cw.GraphWidget({
        title: "Routing: the policy's exploration share (%)",
        left: [
          new cw.MathExpression({
            expression: `100 * (${explorations.map((_, i) => `FILL(e${i}, 0)`).join(' + ')}) / (${decisions.map((_, i) => `FILL(d${i}, 0)`).join(' + ')})`,
            usingMetrics: Object.fromEntries([...explorations.map((m, i) => [`e${i}`, m]), ...decisions.map((m, i) => [`d${i}`, m])]),
            label: 'exploration share (%)',
            period,
          }),
        ],
        width: 8,
      }),
      new cw.GraphWidget({
        title: 'Gateway attempts per connector and outcome',
        left: connectors.flatMap((connector) => ChargeOutcome.options.map((outcome) => sum('payments', METRICS.gatewayAttempt, { connector, outcome }, `${connector} ${outcome}`))),
        width: 8,
      }),
    ];
    const backgroundRow = [
      new cw.GraphWidget({
        title: 'Outbox lag (ms, p50 / p95 / max)',
        left: ['p50', 'p95', 'Maximum'].map((statistic) => functionMetric('payments', METRICS.outboxLagMs, statistic, period, {}, `outbox lag ${statistic}`, namespace)),
        width: 6,
      }),
      new cw.GraphWidget({
        title: 'Reconciler actions',
        left: ['succeeded', 'failed', 'declined'].map((outcome) => sum('payments', METRICS.reconcilerAction, { outcome }, `reconciled ${outcome}`)),
        width: 6,
      }),
      new cw.GraphWidget({
        title: 'Rewards minted and failed',
        left: [METRICS.rewardIssued, METRICS.rewardMinted, METRICS.rewardMintFailed, METRICS.rewardClawedBack].map((name) => sum('rewards', name, {}, name)),
        right: [unmintedRewardAgeMetric(period, namespace)],
        width: 6,
      }),
      new cw.GraphWidget({
        title: 'Chat answers and refusals',
        left: [sum('analytics', METRICS.chatAnswered, {}, 'answered'), sum('analytics', METRICS.chatRefused, {}, "can't answer")],
        width: 6,
      }),
    ];
    this.dashboard = new cw.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.hours(3),
      widgets: [
        [new cw.TextWidget({ markdown: `# SmartPay (${stage.name})`, width: 24, height: 1 })],
        slaRow,
        [
          new cw.GraphWidget({
            title: 'API requests and errors',
            left: [
              stageApi.metricCount({ statistic: 'Sum', period }),
              stageApi.metricClientError({ statistic: 'Sum', period }),
              stageApi.metricServerError({ statistic: 'Sum', period }),
            ],
            width: 8,
          }),
          new cw.GraphWidget({
            title: 'API latency (p50 / p95 / p99)',
            left: ['p50', 'p95', 'p99'].map((statistic) => stageApi.metricLatency({ statistic, period })),
            leftAnnotations: [{ value: ALARM_THRESHOLDS.payLatencyP95Ms, label: '/pay p95 target' }],
            width: 8,
          }),
          new cw.AlarmStatusWidget({ title: 'Alarms', alarms: [...this.alarms], width: 8 }),
        ],
        [
          new cw.GraphWidget({
            title: 'Fraud inference p95 (ms)',
            left: [fraudInferenceMetric(period, namespace)],
            leftAnnotations: [{ value: ALARM_THRESHOLDS.fraudInferenceP95Ms, label: 'threshold' }],
            width: 8,
          }),
          new cw.GraphWidget({
            title: 'Payment executions',
            left: [
              workflows.paymentStateMachine.metricSucceeded({ statistic: 'Sum', period }),
              workflows.paymentStateMachine.metricFailed({ statistic: 'Sum', period }),
              workflows.paymentStateMachine.metricTimedOut({ statistic: 'Sum', period }),
            ],
            width: 8,
          }),
          new cw.GraphWidget({
            title: 'Reward executions and DLQ depth',
            left: [
              workflows.rewardStateMachine.metricSucceeded({ statistic: 'Sum', period }),
              workflows.rewardStateMachine.metricFailed({ statistic: 'Sum', period }),
            ],
            right: [
              workflows.rewardDlq.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period }),
              workflows.rewardRuleDlq.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period }),
              ...Object.values(workflows.consumerQueues).map(({ dlq }) => dlq.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period })),
            ],
            width: 8,
          }),
        ],
        [
          new cw.GraphWidget({
            title: 'Lambda duration p95 (ms)',
            left: FUNCTION_NAMES.map((name) => functions.functions[name].metricDuration({ statistic: 'p95', period })),
            width: 12,
          }),
          new cw.GraphWidget({
            title: 'Lambda errors and throttles',
            left: FUNCTION_NAMES.map((name) => functions.functions[name].metricErrors({ statistic: 'Sum', period })),
            right: FUNCTION_NAMES.map((name) => functions.functions[name].metricThrottles({ statistic: 'Sum', period })),
            width: 12,
          }),
        ],
        routingRow,
        backgroundRow,
      ],
    });
  }
}
