/**
 * SmartPayPlatform as a library: a user-written stack instantiates it with resources of its own, and bad
 * props fail fast with actionable errors before anything is created.
 */
import { Stack, type StackProps } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { SmartPayPlatform, type SmartPayPlatformProps, STAGES } from '../../lib';
import { fastApp, resourcesOf, statementsOfRole } from './support';

/** What a team importing the construct would write. */
class CheckoutStack extends Stack {
  public readonly payments: SmartPayPlatform;
  public readonly reportingRole: iam.Role;
  public readonly onCall: sns.Topic;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    const key = new kms.Key(this, 'TopicKey', { enableKeyRotation: true });
    this.onCall = new sns.Topic(this, 'OnCall', { masterKey: key, enforceSSL: true });
    this.payments = new SmartPayPlatform(this, 'Pay', {
      stage: STAGES.staging,
      existingAlarmTopic: this.onCall,
      fraudEndpointName: 'fraud-ensemble',
    });
    this.reportingRole = new iam.Role(this, 'Reporting', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    this.payments.grantReadPayments(this.reportingRole);
  }
}

describe('a user-written stack instantiates the construct', () => {
  let stack: CheckoutStack;
  let template: Template;
  beforeAll(() => {
    stack = new CheckoutStack(fastApp(), 'Checkout', { env: { account: '111122223333', region: 'eu-west-1' } });
    template = Template.fromStack(stack);
  });

  test('the whole platform lands in the stack under the given id', () => {
    template.resourceCountIs('AWS::DynamoDB::Table', 6);
    template.resourceCountIs('AWS::Lambda::Function', 6); // the five and the routing model's updater
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 2);
    template.resourceCountIs('AWS::ApiGateway::RestApi', 1);
    expect(stack.payments.node.path).toBe('Checkout/Pay');
    expect(Object.keys(template.findResources('AWS::DynamoDB::Table')).every((id) => id.startsWith('PayData'))).toBe(true);
  });

  test('the existing topic receives the alarms, and no topic is created', () => {
    expect(resourcesOf(template, 'AWS::SNS::Topic').map(([id]) => id)).toEqual([
      expect.stringMatching(/^OnCall/),
    ]);
    const onCall = stack.getLogicalId(stack.onCall.node.defaultChild as sns.CfnTopic);
    for (const [, alarm] of resourcesOf(template, 'AWS::CloudWatch::Alarm')) {
      expect(alarm.Properties!.AlarmActions).toEqual([{ Ref: onCall }]);
    }
    expect(stack.payments.observability.alarmTopic).toBe(stack.onCall);
  });

  test('optional settings reach the environment; the fraud endpoint gets a scoped InvokeEndpoint', () => {
    const env = (prefix: string) =>
      resourcesOf(template, 'AWS::Lambda::Function').find(([id]) => id.startsWith(prefix))![1].Properties!.Environment.Variables;
    expect(env('PayFunctionsFraud')).toMatchObject({ FRAUD_ENDPOINT_NAME: 'fraud-ensemble', STAGE: 'staging' });
    const fraudRole = stack.getLogicalId(stack.payments.functions.roles.fraud.node.defaultChild as iam.CfnRole);
    const invoke = statementsOfRole(template, fraudRole).filter((s) => s.Action === 'sagemaker:InvokeEndpoint');
    expect(invoke).toHaveLength(1);
    expect(invoke[0].Resource).toEqual({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':sagemaker:eu-west-1:111122223333:endpoint/fraud-ensemble']],
    });
    // The routing function has no endpoint, so no SageMaker permission.
    const routingRole = stack.getLogicalId(stack.payments.functions.roles.routing.node.defaultChild as iam.CfnRole);
    expect(JSON.stringify(statementsOfRole(template, routingRole))).not.toContain('sagemaker:');
  });

  test('grant helpers work across the boundary', () => {
    const role = stack.getLogicalId(stack.reportingRole.node.defaultChild as iam.CfnRole);
    const reads = statementsOfRole(template, role).filter((s) => JSON.stringify(s.Action).includes('dynamodb:GetItem'));
    expect(reads).toHaveLength(1);
    expect(JSON.stringify(reads[0].Resource)).toContain('PayDataPaymentsTable');
    expect(JSON.stringify(reads[0].Action)).not.toMatch(/PutItem|UpdateItem|DeleteItem/);
  });

  test('staging uses the Plus plan with threat protection and destroys data', () => {
    template.hasResourceProperties('AWS::Cognito::UserPool', {
      UserPoolTier: 'PLUS',
      UserPoolAddOns: { AdvancedSecurityMode: 'ENFORCED' },
    });
    for (const [, table] of resourcesOf(template, 'AWS::DynamoDB::Table')) expect(table.DeletionPolicy).toBe('Delete');
  });
});

describe('existing resources instead of created ones', () => {
  test('an existing user pool is used by the authorizer and no pool is created', () => {
    const stack = new Stack(fastApp(), 'WithPool');
    const pool = cognito.UserPool.fromUserPoolArn(stack, 'Pool', 'arn:aws:cognito-idp:eu-west-1:111122223333:userpool/eu-west-1_abc');
    const platform = new SmartPayPlatform(stack, 'Pay', { existingUserPool: pool });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Cognito::UserPool', 0);
    template.hasResourceProperties('AWS::ApiGateway::Authorizer', {
      ProviderARNs: ['arn:aws:cognito-idp:eu-west-1:111122223333:userpool/eu-west-1_abc'],
    });
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      UserPoolId: 'eu-west-1_abc',
      ReadAttributes: Match.arrayWith(['custom:merchantId']),
    });
    expect(platform.auth.userPool).toBe(pool);
  });
});

describe('props are validated first, with actionable errors', () => {
  const key = (s: Stack) => kms.Key.fromKeyArn(s, 'K', 'arn:aws:kms:eu-west-1:111122223333:key/1234');
  const cases: Array<[string, (s: Stack) => SmartPayPlatformProps, RegExp]> = [
    ['key', (s) => ({ existingEncryptionKey: key(s), encryptionKeyProps: {} }), /^pass existingEncryptionKey or encryptionKeyProps, not both/],
    [
      'user pool',
      (s) => ({ existingUserPool: cognito.UserPool.fromUserPoolId(s, 'P', 'eu-west-1_abc'), userPoolProps: {} }),
      /^pass existingUserPool or userPoolProps, not both/,
    ],
    ['event bus', () => ({ existingEventBus: {} as never, eventBusProps: {} }), /^pass existingEventBus or eventBusProps, not both/],
    ['alarm topic', (s) => ({ existingAlarmTopic: new sns.Topic(s, 'T'), alarmTopicProps: {} }), /^pass existingAlarmTopic or alarmTopicProps, not both/],
    ['endpoint name', () => ({ fraudEndpointName: 'not a name!' }), /^fraudEndpointName must be a SageMaker endpoint name/],
    [
      'thresholds',
      () => ({ stage: { ...STAGES.dev, fraudReviewThreshold: 0.9, fraudDeclineThreshold: 0.5 } }),
      /^stage\.fraudReviewThreshold: must not exceed fraudDeclineThreshold/,
    ],
    ['attempts', () => ({ stage: { ...STAGES.dev, maxPaymentAttempts: 0 } }), /^stage\.maxPaymentAttempts: must be at least 1/],
    // A secret's value where the secret belongs would be in the template.
    ['a secret given as a string', () => ({ gatewayCredentialsSecret: '{"stripe-us":{"secretKey":"sk_live_x"}}' as never }), /^gatewayCredentialsSecret must be a Secrets Manager secret .*not a string/],
    [
      'an RPC URL with its API key',
      () => ({ stage: { ...STAGES.dev, solanaRpcUrl: 'https://mainnet.helius-rpc.com/?api-key=0123-secret' } }),
      /^stage\.solanaRpcUrl carries a query parameter "api-key", .*solanaRpcUrlSecret/,
    ],
    ['an RPC URL with a password', () => ({ stage: { ...STAGES.dev, solanaRpcUrl: 'https://user:pw@rpc.example.com/' } }), /^stage\.solanaRpcUrl carries a user name or password/],
  ];

  test.each(cases)('%s', (_name, props, message) => {
    const stack = new Stack(fastApp(), 'Invalid');
    expect(() => new SmartPayPlatform(stack, 'Pay', props(stack))).toThrow(message);
    // Nothing was added to the tree.
    expect(stack.node.tryFindChild('Pay')).toBeUndefined();
  });

  test('a stage that keeps its data and takes raw card numbers is synthesized with a warning naming both; prod without them has none', () => {
    const warnings = (stage: typeof STAGES.prod) => {
      const stack = new Stack(fastApp(), `Raw${stage.acceptRawCards ? 1 : 0}`);
      new SmartPayPlatform(stack, 'Pay', { stage });
      return Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('acceptRawCards')).map((w) => String(w.entry.data));
    };
    expect(warnings({ ...STAGES.prod, acceptRawCards: true })).toEqual([expect.stringMatching(/stage prod keeps its data .* takes raw card numbers .*SAQ D/)]);
    expect(warnings(STAGES.prod)).toEqual([]);
  });

  test("an RPC URL without a credential is the stage's to use, and the error never quotes a key", () => {
    expect(() => new SmartPayPlatform(new Stack(fastApp(), 'Rpc'), 'Pay', { stage: { ...STAGES.dev, solanaRpcUrl: 'https://api.mainnet-beta.solana.com/?commitment=confirmed' } })).not.toThrow();
    expect(() => new SmartPayPlatform(new Stack(fastApp(), 'Rpc2'), 'Pay', { stage: { ...STAGES.dev, solanaRpcUrl: 'https://rpc.example.com/?token=abc123' } })).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('abc123') }),
    );
  });
});

test('two platforms of one stage in one account share no API name or metrics namespace (and so no alarm); the second console names its sign-in domain', () => {
  const app = fastApp();
  const a = new Stack(app, 'PaymentsA', { env: { account: '111122223333', region: 'eu-west-1' } });
  const b = new Stack(app, 'PaymentsB', { env: { account: '111122223333', region: 'eu-west-1' } });
  const platforms = [
    new SmartPayPlatform(a, 'Pay', { stage: STAGES.prod, console: true }),
    new SmartPayPlatform(b, 'Pay', { stage: STAGES.prod, console: { domainPrefix: 'acme-payments-b' } }),
  ];
  const named = platforms.map((p) => {
    const template = Template.fromStack(Stack.of(p));
    const only = (type: string) => Object.values(template.findResources(type)).map((r) => r.Properties);
    return {
      api: only('AWS::ApiGateway::RestApi')[0].Name as string,
      namespaces: new Set(only('AWS::CloudWatch::Alarm').flatMap((alarm) => (alarm.Namespace ? [alarm.Namespace as string] : []))),
      domain: only('AWS::Cognito::UserPoolDomain')[0].Domain as string,
    };
  });
  expect(named[0].api).toMatch(/^smartpay-prod-[0-9a-f]{8}$/);
  expect(named[0].api).not.toBe(named[1].api);
  // The default sign-in domain is what it was (a user pool's one domain cannot be renamed in place).
  expect(named.map((n) => n.domain)).toEqual(['smartpay-prod-111122223333', 'acme-payments-b']);
  // Each platform's alarms read its own functions' metrics only.
  expect([...named[0].namespaces].filter((n) => n.startsWith('SmartPay'))).toEqual([platforms[0].functions.metricsNamespace]);
  expect([...named[1].namespaces].filter((n) => n.startsWith('SmartPay'))).toEqual([platforms[1].functions.metricsNamespace]);
  expect(platforms[0].functions.metricsNamespace).not.toBe(platforms[1].functions.metricsNamespace);
});
