/**
 * SmartPayStack: one deployable stack per stage, holding a SmartPayPlatform and its outputs.
 */
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { SmartPayPlatform, type SmartPayPlatformProps } from './platform';
import type { StageConfig } from './stages';

/** Props of {@link SmartPayStack}. */
export interface SmartPayStackProps extends StackProps {
  /** The stage to deploy (see `STAGES`). */
  readonly stage: StageConfig;
  /**
   * Further platform props (existing resources, SageMaker endpoints).
   * @default - everything created by the construct
   */
  readonly platform?: Omit<SmartPayPlatformProps, 'stage'>;
}

/** The SmartPay deployment of one stage. Prod gets termination protection. */
export class SmartPayStack extends Stack {
  /** The platform construct. */
  public readonly platform: SmartPayPlatform;

  constructor(scope: Construct, id: string, props: SmartPayStackProps) {
    if (!props?.stage) throw new Error('stage is required: pass one of STAGES (e.g. STAGES.dev)');
    super(scope, id, {
      description: `SmartPay payment orchestration (${props.stage.name})`,
      terminationProtection: props.stage.retainData,
      ...props,
    });

    this.platform = new SmartPayPlatform(this, 'SmartPay', { ...props.platform, stage: props.stage });

    const p = this.platform;
    new CfnOutput(this, 'ApiUrl', { value: p.api.url, description: 'SmartPay API base URL' });
    new CfnOutput(this, 'UserPoolId', { value: p.auth.userPool.userPoolId });
    new CfnOutput(this, 'UserPoolClientId', { value: p.auth.userPoolClient.userPoolClientId });
    new CfnOutput(this, 'PaymentStateMachineArn', { value: p.workflows.paymentStateMachine.stateMachineArn });
    new CfnOutput(this, 'RewardStateMachineArn', { value: p.workflows.rewardStateMachine.stateMachineArn });
    new CfnOutput(this, 'EventBusName', { value: p.workflows.eventBus.eventBusName });
    new CfnOutput(this, 'AlarmTopicArn', { value: p.observability.alarmTopic.topicArn });
  }
}
