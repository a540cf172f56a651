/**
 * SmartPayPlatform: the whole SmartPay deployment as one L3 construct (API, auth, data, functions, workflows,
 * observability). Another stack can instantiate it: `new SmartPayPlatform(this, 'Pay', { stage })`.
 * It grants and configures only what the handlers read today: the Stripe, Solana mint-authority and LLM
 * secrets and the Solana settings arrive with the Stripe, Solana and chat work that reads them.
 */
import { createHash } from 'node:crypto';
import { Annotations, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as cognito from 'aws-cdk-lib/aws-cognito';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { SmartPayApi } from './api';
import { SmartPayConsole, type SmartPayConsoleOptions } from './console';
import { SmartPayAuth } from './auth';
import { SmartPayData } from './data';
import { SmartPayFunctions } from './functions';
import { SmartPayFraudEndpoint, type SmartPayFraudEndpointProps } from './ml';
import { SmartPayObservability } from './observability';
import { SmartPayAnalyticsIndex } from './search';
import { DEFAULT_EMBEDDING_MODEL, METRICS } from '../contracts/resources';
import { GATEWAY_KINDS } from '../contracts/connectors';
import type { SecretProp } from '../contracts/topology';
import { STAGES, validateStageConfig, type StageConfig } from './stages';
import { acknowledge } from './nag';
import { SmartPayWorkflows } from './workflows';

/** Props of {@link SmartPayPlatform}. Every prop is optional; `existingX` and `xProps` exclude each other. */
export interface SmartPayPlatformProps {
  /**
   * Stage configuration (see `STAGES`): thresholds, throttling, retention, and whether data is retained.
   * @default STAGES.dev (data destroyed with the stack)
   */
  readonly stage?: StageConfig;

  /**
   * A KMS key of yours for tables, logs, queues and topic. Its policy must already let CloudWatch
   * Logs (`logs.<region>.amazonaws.com`), CloudWatch alarms and EventBridge use it.
   * @default - a new customer-managed key with rotation on
   */
  readonly existingEncryptionKey?: kms.IKey;
  /**
   * Overrides for the key the construct creates.
   * @default - rotation on
   */
  readonly encryptionKeyProps?: kms.KeyProps;

  /**
   * A user pool of yours whose users carry the `merchantId` custom attribute.
   * @default - a new user pool (MFA required, admin-created users)
   */
  readonly existingUserPool?: cognito.IUserPool;
  /**
   * Overrides for the user pool the construct creates.
   * @default - the secure defaults of `SmartPayAuth`
   */
  readonly userPoolProps?: cognito.UserPoolProps;
  /**
   * Overrides for the app client.
   * @default - SRP only, no secret, `custom:merchantId` read-only
   */
  readonly userPoolClientProps?: cognito.UserPoolClientOptions;

  /**
   * An event bus of yours for `PaymentSucceeded`.
   * @default - a new custom event bus
   */
  readonly existingEventBus?: events.IEventBus;
  /**
   * Overrides for the event bus the construct creates.
   * @default - a bus with a generated name
   */
  readonly eventBusProps?: events.EventBusProps;

  /**
   * A topic of yours for alarms.
   * @default - a new KMS-encrypted, TLS-only topic
   */
  readonly existingAlarmTopic?: sns.ITopic;
  /**
   * Overrides for the alarm topic the construct creates.
   * @default - encrypted with the platform key, TLS enforced
   */
  readonly alarmTopicProps?: sns.TopicProps;

  /**
   * A regional WAFv2 web ACL of yours for the API stage.
   * @default - a new web ACL with AWS managed rule groups and a per-IP rate limit
   */
  readonly existingWebAclArn?: string;

  /**
   * SageMaker endpoint of the fraud model (`FRAUD_ENDPOINT_NAME`).
   * @default - the in-Lambda ensemble
   */
  readonly fraudEndpointName?: string;
  /**
   * Hosts the fraud XGBoost model on a SageMaker serverless endpoint (`SmartPayFraudEndpoint`): `true` for
   * its defaults, or its props. The fraud function scores there first (`FRAUD_ENDPOINT_NAME`), may invoke that
   * endpoint only, and falls back to its embedded model on a timeout or an error. Excludes `fraudEndpointName`.
   * @default - no endpoint: the in-Lambda model
   */
  readonly fraudEndpoint?: boolean | SmartPayFraudEndpointProps;
  /**
   * SageMaker endpoint of the routing policy (`ROUTING_ENDPOINT_NAME`).
   * @default - the in-Lambda bandit
   */
  readonly routingEndpointName?: string;

  /**
   * The secret holding the reward mint authority's keypair (`SOLANA_MINT_AUTHORITY_SECRET_ARN`): a Solana CLI
   * keypair file's JSON (64 numbers) or its 64 bytes in base58. It signs each reward's mint (and pays its fees
   * when there is no `treasurySecret`). Only the rewards function may read it. Required when the stage has a
   * `rewardTokenMint`.
   * @default - none: the stage must have no rewardTokenMint (rewards are recorded, not minted)
   */
  readonly mintAuthoritySecret?: secretsmanager.ISecret;
  /**
   * The secret holding the treasury's keypair (`SOLANA_TREASURY_SECRET_ARN`, same formats): a funded account,
   * other than the mint authority, that pays the mints' fees and the rent of new token accounts, and sponsors the
   * fees of customers' transfers and burns through `POST /reward/relay`. Keep only SOL for fees on it: the relay
   * never lets a transaction touch it beyond the fee. Only the rewards function may read it.
   * @default - none: the mint authority pays the fees, and POST /reward/relay answers 409 relay_not_configured
   */
  readonly treasurySecret?: secretsmanager.ISecret;
  /**
   * A secret holding the Solana RPC URL (`SOLANA_RPC_URL_SECRET_ARN`), for a provider whose URL carries an API
   * key; it wins over the stage's `solanaRpcUrl`. Only the rewards function may read it.
   * @default - the stage's solanaRpcUrl (devnet when unset)
   */
  readonly solanaRpcUrlSecret?: secretsmanager.ISecret;
  /**
   * The secret holding the real gateways' credentials (`GATEWAY_CREDENTIALS_SECRET_ARN`): JSON with an entry per
   * connector of a real gateway kind, by connector id, e.g. `{"stripe-us": {"secretKey": "sk_live_…"}}` (a
   * restricted `rk_…` key with PaymentIntents write and read is enough). Only the payments function may read it;
   * it is read through Powertools Parameters and cached for five minutes, so a rotated key is picked up. Required
   * when the stage's connectors include a `stripe` one.
   * @default - none: every connector must be a sandbox
   */
  readonly gatewayCredentialsSecret?: secretsmanager.ISecret;
  /**
   * The secret whose value keys the cards' fingerprints (`CARD_FINGERPRINT_SECRET_ARN`: HMAC-SHA256, at least 32
   * characters). Never rotate it: a new key gives every card a new fingerprint. Only the payments function reads it.
   * @default - a generated secret (64 characters), encrypted with the platform's key and kept with the data
   */
  readonly cardFingerprintSecret?: secretsmanager.ISecret;
  /**
   * The OpenSearch endpoint of an analytics index of yours (an OpenSearch Serverless collection's or a domain's with
   * k-NN): the analytics function indexes into it and answers /chat from it (`OPENSEARCH_ENDPOINT`). Grant its data
   * access to `functions.analyticsFunction.role` yourself.
   * @default - a new OpenSearch Serverless vector-search collection (SmartPayAnalyticsIndex)
   */
  readonly existingOpenSearchEndpoint?: string;
  /**
   * Standby replicas for the analytics collection the construct creates, in another Availability Zone. They set
   * its idle floor: 2 OCUs with them (about $350 a month), 1 without (about $175). Choose when the collection is
   * first created: OpenSearch Serverless cannot change it on an existing collection (its UpdateCollection takes a
   * description only). `false` suits a dev or test stage.
   * @default true
   */
  readonly analyticsStandbyReplicas?: boolean;
  /**
   * The language model that plans /chat's questions and phrases its answers: `bedrock:<model id>` (the analytics
   * function may invoke that model, or inference profile, alone) or `openai:<model>` (with `llmApiKeySecret`).
   * Its plans are validated and its phrasing checked against the results; on any failure the parser and the
   * templates answer.
   * @default - none: the deterministic parser and the templates
   */
  readonly chatModel?: string;
  /** The secret holding the OpenAI API key (`LLM_API_KEY_SECRET_ARN`), for `chatModel: 'openai:…'`; only the analytics function reads it. */
  readonly llmApiKeySecret?: secretsmanager.ISecret;
  /**
   * The operator console: its files in S3 behind CloudFront, the API behind the same distribution under /api/,
   * and a Cognito app client with a hosted sign-in domain (`true` for the defaults, or its options).
   * @default false
   */
  readonly console?: boolean | SmartPayConsoleOptions;
}

const EXCLUSIVE: ReadonlyArray<readonly [keyof SmartPayPlatformProps, keyof SmartPayPlatformProps]> = [
  ['existingEncryptionKey', 'encryptionKeyProps'],
  ['existingUserPool', 'userPoolProps'],
  ['existingEventBus', 'eventBusProps'],
  ['existingAlarmTopic', 'alarmTopicProps'],
];

/** The secret props, each with the function variable its ARN becomes (contracts/topology.ts SecretProp). */
const SECRET_PROPS = {
  mintAuthoritySecret: 'mintAuthoritySecretArn',
  treasurySecret: 'treasurySecretArn',
  solanaRpcUrlSecret: 'solanaRpcUrlSecretArn',
  gatewayCredentialsSecret: 'gatewayCredentialsSecretArn',
  cardFingerprintSecret: 'cardFingerprintSecretArn',
  llmApiKeySecret: 'llmApiKeySecretArn',
} as const satisfies Record<string, SecretProp>;

/** Checks the props before anything is created; the errors say what to change. */
export function validateSmartPayPlatformProps(props: SmartPayPlatformProps): void {
  if (props.fraudEndpointName !== undefined && props.fraudEndpoint !== undefined && props.fraudEndpoint !== false) {
    throw new Error(
      'pass fraudEndpointName or fraudEndpoint, not both: fraudEndpointName points at an endpoint of yours, fraudEndpoint creates one',
    );
  }
  for (const [existing, created] of EXCLUSIVE) {
    if (props[existing] !== undefined && props[created] !== undefined) {
      throw new Error(`pass ${existing} or ${created}, not both: ${created} configures the resource the construct would create instead`);
    }
  }
  if (props.fraudEndpointName !== undefined && !/^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/.test(props.fraudEndpointName)) {
    throw new Error('fraudEndpointName must be a SageMaker endpoint name (letters, digits and hyphens, at most 63)');
  }
  if (props.routingEndpointName !== undefined && !/^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/.test(props.routingEndpointName)) {
    throw new Error('routingEndpointName must be a SageMaker endpoint name (letters, digits and hyphens, at most 63)');
  }
  if (props.chatModel !== undefined && !/^(bedrock|openai):[A-Za-z0-9._:/-]{1,200}$/.test(props.chatModel)) {
    throw new Error(`chatModel must be bedrock:<model id> or openai:<model>, got "${props.chatModel}"`);
  }
  if (props.chatModel?.startsWith('openai:') && props.llmApiKeySecret === undefined) {
    throw new Error('chatModel names an OpenAI model but no llmApiKeySecret was given: pass the secret holding the OpenAI API key');
  }
  if (props.llmApiKeySecret !== undefined && !props.chatModel?.startsWith('openai:')) {
    throw new Error('an llmApiKeySecret was given but chatModel is not openai:<model>: only an OpenAI model reads it');
  }
  // Each secret prop is a Secrets Manager secret (ISecret), never its value: a string would end in the template.
  for (const prop of Object.keys(SECRET_PROPS) as Array<keyof typeof SECRET_PROPS>) {
    const secret: unknown = props[prop];
    if (secret !== undefined && typeof (secret as { grantRead?: unknown } | null)?.grantRead !== 'function') {
      throw new Error(`${prop} must be a Secrets Manager secret (secretsmanager.Secret.fromSecretCompleteArn(this, '…', arn), say), not a ${secret === null ? 'null' : typeof secret}: a secret's value never goes in the props`);
    }
  }
  if (props.analyticsStandbyReplicas !== undefined && props.existingOpenSearchEndpoint !== undefined) {
    throw new Error('analyticsStandbyReplicas configures the collection the construct creates; with existingOpenSearchEndpoint it creates none');
  }
  if (props.stage) validateStageConfig(props.stage);
  if (props.stage?.rewardTokenMint !== undefined && props.mintAuthoritySecret === undefined) {
    throw new Error('the stage has a rewardTokenMint but no mintAuthoritySecret was given: pass the secret holding the mint authority\'s keypair (it signs every reward)');
  }
  const gateways = (props.stage?.connectors ?? []).filter((c) => GATEWAY_KINDS.has(c.kind));
  if (gateways.length > 0 && props.gatewayCredentialsSecret === undefined) {
    throw new Error(
      `the stage's connectors ${gateways.map((c) => c.id).join(', ')} are real gateways but no gatewayCredentialsSecret was given: pass the secret holding their credentials (JSON by connector id, e.g. {"${gateways[0].id}": {"secretKey": "sk_live_..."}})`,
    );
  }
  if (props.treasurySecret !== undefined && props.stage?.rewardTokenMint === undefined) {
    throw new Error('a treasurySecret was given but the stage has no rewardTokenMint: the treasury pays for minting and relaying the reward token, which this stage does not have');
  }
}

/** The SmartPay platform. Every part is exposed; the shortcuts below point into them. */
export class SmartPayPlatform extends Construct {
  /** The stage configuration in use. */
  public readonly stage: StageConfig;
  /** `<stage>-<8 hex of a hash of the construct's path>`: the API's name is `smartpay-<instanceName>`, the metrics' namespace `SmartPay/<instanceName>`. */
  public readonly instanceName: string;
  /** KMS key and tables. */
  public readonly data: SmartPayData;
  /** The five Lambdas. */
  public readonly functions: SmartPayFunctions;
  /** Event bus, state machines, rule and DLQs. */
  public readonly workflows: SmartPayWorkflows;
  /** User pool and app client. */
  public readonly auth: SmartPayAuth;
  /** REST API, authorizer, models, WAF. */
  public readonly api: SmartPayApi;
  /** Alarms, topic, dashboard. */
  public readonly observability: SmartPayObservability;
  /** The key of the cards' fingerprints (the given secret, or the generated one). */
  public readonly cardFingerprintSecret: secretsmanager.ISecret;
  /** The SageMaker fraud endpoint, when `fraudEndpoint` is set. */
  public readonly fraudEndpoint?: SmartPayFraudEndpoint;
  /** The analytics index's OpenSearch Serverless collection (absent with `existingOpenSearchEndpoint`). */
  public readonly analyticsIndex?: SmartPayAnalyticsIndex;
  /** The operator console, when the `console` prop turns it on. */
  public readonly console?: SmartPayConsole;

  constructor(scope: Construct, id: string, props: SmartPayPlatformProps = {}) {
    validateSmartPayPlatformProps(props);
    super(scope, id);

    this.stage = props.stage ?? STAGES.dev;
    const stage = this.stage;
    // One name per platform (its stack's and its own id make its path unique in an account and region): its API's,
    // its metrics' namespace, its default sign-in domain. Two platforms never mix metrics, alarms or domains.
    this.instanceName = `${stage.name}-${createHash('sha256').update(this.node.path).digest('hex').slice(0, 8)}`;
    if (stage.acceptRawCards && stage.retainData) {
      // A stage that keeps its data (prod's setting) is a real one: raw card numbers put it in PCI DSS SAQ D scope.
      Annotations.of(this).addWarningV2(
        'smartpay:raw-cards',
        `stage ${stage.name} keeps its data (retainData) and takes raw card numbers (acceptRawCards): card numbers then pass through your AWS account (PCI DSS SAQ D). Real stages take tokenised cards only (paymentMethod.token).`,
      );
    }

    this.data = new SmartPayData(this, 'Data', {
      existingEncryptionKey: props.existingEncryptionKey,
      encryptionKeyProps: props.encryptionKeyProps,
      retainData: stage.retainData,
    });
    const key = this.data.encryptionKey;
    // Every log group of the platform is encrypted with the key (no-op for an imported key).
    const { region, account, partition } = Stack.of(this);
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchLogsInThisAccount',
        principals: [new iam.ServicePrincipal(`logs.${region}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: {
          ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${partition}:logs:${region}:${account}:log-group:*` },
        },
      }),
    );

    if (props.fraudEndpoint) {
      this.fraudEndpoint = new SmartPayFraudEndpoint(this, 'FraudEndpoint', props.fraudEndpoint === true ? {} : props.fraudEndpoint);
    }

    this.cardFingerprintSecret = props.cardFingerprintSecret ?? this.generatedFingerprintKey(key, stage.retainData);

    if (props.existingOpenSearchEndpoint === undefined) {
      this.analyticsIndex = new SmartPayAnalyticsIndex(this, 'AnalyticsIndex', { encryptionKey: key, stage: stage.name, standbyReplicas: props.analyticsStandbyReplicas });
    }

    this.functions = new SmartPayFunctions(this, 'Functions', {
      stage,
      metricsNamespace: `${METRICS.namespace}/${this.instanceName}`,
      opensearchEndpoint: props.existingOpenSearchEndpoint ?? this.analyticsIndex?.endpoint,
      chatModel: props.chatModel,
      data: this.data,
      logEncryptionKey: key,
      // functions.ts sets FRAUD_ENDPOINT_NAME and grants InvokeEndpoint on that endpoint only.
      fraudEndpointName: this.fraudEndpoint?.endpointName ?? props.fraudEndpointName,
      routingEndpointName: props.routingEndpointName,
      // The card fingerprint's key is the given secret or the generated one.
      secrets: Object.fromEntries(
        Object.entries(SECRET_PROPS).map(([prop, arn]) => [arn, prop === 'cardFingerprintSecret' ? this.cardFingerprintSecret : props[prop as keyof typeof SECRET_PROPS]]),
      ),
    });

    // The analytics function: its index's data, and the embeddings' model on Bedrock (EMBEDDING_MODEL's default).
    const analyticsRole = this.functions.analyticsFunction.role!;
    this.analyticsIndex?.grantReadWrite(analyticsRole);
    this.functions.analyticsFunction.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['bedrock:InvokeModel'], resources: [`arn:${partition}:bedrock:${region}::foundation-model/${DEFAULT_EMBEDDING_MODEL}`] }),
    );
    if (props.chatModel?.startsWith('bedrock:')) {
      // Converse is authorised as InvokeModel, on the model or on the inference profile of that id.
      const modelId = props.chatModel.slice('bedrock:'.length);
      // A cross-region inference profile (us., eu., apac., global.) sends each call to its model in any of the
      // profile's regions: the model is granted in every region, for that model only. A plain model id: here only.
      const foundationId = modelId.replace(/^(us|eu|apac|global)\./, '');
      const crossRegion = foundationId !== modelId;
      this.functions.analyticsFunction.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['bedrock:InvokeModel'],
          resources: [`arn:${partition}:bedrock:${crossRegion ? '*' : region}::foundation-model/${foundationId}`, `arn:${partition}:bedrock:${region}:${account}:inference-profile/${modelId}`],
        }),
      );
      if (crossRegion) {
        acknowledge(analyticsRole, {
          [`AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:bedrock:*::foundation-model/${foundationId}]`]:
            'A cross-region inference profile invokes its one model in whichever of its regions has capacity: InvokeModel on that model in every region is what Bedrock requires.',
        });
      }
    }

    this.workflows = new SmartPayWorkflows(this, 'Workflows', {
      stage,
      functions: this.functions,
      encryptionKey: key,
      paymentsTable: this.data.paymentsTable,
      existingEventBus: props.existingEventBus,
      eventBusProps: props.eventBusProps,
    });

    this.auth = new SmartPayAuth(this, 'Auth', {
      existingUserPool: props.existingUserPool,
      userPoolProps: props.userPoolProps,
      userPoolClientProps: props.userPoolClientProps,
      threatProtection: stage.cognitoThreatProtection,
      retainData: stage.retainData,
    });

    this.api = new SmartPayApi(this, 'Api', {
      stage,
      apiName: `smartpay-${this.instanceName}`,
      userPool: this.auth.userPool,
      functions: this.functions,
      paymentStateMachine: this.workflows.paymentStateMachine,
      logEncryptionKey: key,
      existingWebAclArn: props.existingWebAclArn,
    });

    this.observability = new SmartPayObservability(this, 'Observability', {
      stage,
      api: this.api,
      functions: this.functions,
      workflows: this.workflows,
      encryptionKey: key,
      existingAlarmTopic: props.existingAlarmTopic,
      alarmTopicProps: props.alarmTopicProps,
    });

    if (props.console) {
      this.console = new SmartPayConsole(this, 'Console', {
        ...(props.console === true ? {} : props.console),
        stageName: stage.name,
        restApi: this.api.restApi,
        userPool: this.auth.userPool,
        retainData: stage.retainData,
        encryptionKey: key,
        logRetention: stage.logRetention,
      });
    }
  }

  /** The API's invoke URL. */
  public get apiUrl(): string {
    return this.api.url;
  }

  /** Read access to the payments table (e.g. a reporting job). */
  public grantReadPayments(grantee: iam.IGrantable): iam.Grant {
    return this.data.grantReadPayments(grantee);
  }

  /** Put access to the SmartPay event bus. */
  public grantPutEvents(grantee: iam.IGrantable): iam.Grant {
    return this.workflows.grantPutEvents(grantee);
  }

  /** Synchronous start of payment executions (e.g. an internal caller that bypasses the API). */
  public grantStartPayment(grantee: iam.IGrantable): iam.Grant {
    return this.workflows.grantStartPayment(grantee);
  }

  /** Receive and delete on every DLQ (e.g. a redrive job). */
  public grantConsumeDlqs(grantee: iam.IGrantable): void {
    this.workflows.grantConsumeDlqs(grantee);
  }

  /** The fingerprint key the construct generates when none is given: 64 characters, under the platform's key. */
  private generatedFingerprintKey(key: kms.IKey, retain: boolean): secretsmanager.ISecret {
    const secret = new secretsmanager.Secret(this, 'CardFingerprintKey', {
      description: 'SmartPay: the HMAC key of card fingerprints (never rotate it: a new key gives every card a new fingerprint)',
      encryptionKey: key,
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
      removalPolicy: retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    const reason =
      'The key of an HMAC that fingerprints cards so the same card matches across payments; rotating it would give every card a new fingerprint and break that matching. It is not a credential: it grants no access to anything.';
    acknowledge(secret, { 'AwsSolutions-SMG4': reason });
    return secret;
  }
}
