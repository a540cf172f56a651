/**
 * The five Lambdas (fraud, routing, payments, rewards, analytics), bundled from `lambdas/<area>/handler.ts` by
 * the local esbuild (never Docker), each with its own role, encrypted log group and least-privilege grants.
 */
import * as path from 'node:path';
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ENV, METRICS } from '../contracts/resources';
import type { SmartPayData } from './data';
import { acknowledge, REASONS } from './nag';
import type { SmartPaySecrets } from './secrets';
import type { StageConfig } from './stages';

/**
 * esbuild command hooks that copy a model folder into the bundle as `model/` (local copy, no Docker), without
 * golden.json: the golden rows are for the parity tests, not for serving.
 */
function copyModelFolder(source: string): nodejs.ICommandHooks {
  return {
    beforeBundling: () => [],
    beforeInstall: () => [],
    afterBundling: (_inputDir: string, outputDir: string) => [`cp -R "${source}" "${outputDir}/model"`, `rm -f "${outputDir}/model/golden.json"`],
  };
}

/** The Lambda areas, one folder each under `lambdas/`. */
export const FUNCTION_AREAS = ['fraud', 'routing', 'payments', 'rewards', 'analytics'] as const;
export type FunctionArea = (typeof FUNCTION_AREAS)[number];

/** The public Solana devnet RPC, used unless `solanaRpcUrl` is set. */
export const DEFAULT_SOLANA_RPC_URL = 'https://api.devnet.solana.com';

/** The repository root (the folder holding `lambdas/` and `package-lock.json`). */
export const PROJECT_ROOT = path.resolve(__dirname, '..');

/** Memory and timeout per function, set explicitly (never the Lambda defaults). */
export const FUNCTION_SIZING: Readonly<Record<FunctionArea, { readonly memorySize: number; readonly timeout: Duration }>> = {
  // CPU scales with memory: the in-Lambda model ensemble is on the /pay latency path.
  fraud: { memorySize: 1024, timeout: Duration.seconds(5) },
  routing: { memorySize: 512, timeout: Duration.seconds(5) },
  // Gateway calls; below the 25 s payment-machine timeout.
  payments: { memorySize: 1024, timeout: Duration.seconds(15) },
  // Mint, send and confirm on Solana.
  rewards: { memorySize: 512, timeout: Duration.seconds(60) },
  // LLM answer; below API Gateway's 29 s integration limit.
  analytics: { memorySize: 1024, timeout: Duration.seconds(28) },
};

/** Props of {@link SmartPayFunctions}. */
export interface SmartPayFunctionsProps {
  /** Stage configuration (thresholds, log level, retention). */
  readonly stage: StageConfig;
  /** The tables and their key. */
  readonly data: SmartPayData;
  /** The secrets the functions read by ARN. */
  readonly secrets: SmartPaySecrets;
  /** Encrypts the log groups. The key policy must let CloudWatch Logs use it. */
  readonly logEncryptionKey: kms.IKey;
  /**
   * SageMaker endpoint serving the fraud model (`FRAUD_ENDPOINT_NAME`); the fraud function may invoke it.
   * @default - the in-Lambda ensemble; no SageMaker permission
   */
  readonly fraudEndpointName?: string;
  /**
   * SageMaker endpoint serving the routing policy (`ROUTING_ENDPOINT_NAME`); the routing function may invoke it.
   * @default - the in-Lambda bandit; no SageMaker permission
   */
  readonly routingEndpointName?: string;
  /**
   * Solana RPC endpoint (`SOLANA_RPC_URL`).
   * @default DEFAULT_SOLANA_RPC_URL (devnet)
   */
  readonly solanaRpcUrl?: string;
  /**
   * Address of the SPL reward token mint (`SPL_TOKEN_MINT_ADDRESS`).
   * @default - not set; the rewards handler decides (e.g. creates one on devnet)
   */
  readonly splTokenMintAddress?: string;
  /**
   * Folder holding `lambdas/<area>/handler.ts` and `package-lock.json`.
   * @default PROJECT_ROOT (this repository)
   */
  readonly projectRoot?: string;
}

/** The five functions with their roles and log groups. */
export class SmartPayFunctions extends Construct {
  /** `POST /fraud` and the payment workflow's ScoreFraud step. */
  public readonly fraudFunction: nodejs.NodejsFunction;
  /** `POST /route` and the Route / RoutingFeedback steps. */
  public readonly routingFunction: nodejs.NodejsFunction;
  /** `GET /payments/{id}` and the Begin / Charge / Finalize / Abort steps. */
  public readonly paymentsFunction: nodejs.NodejsFunction;
  /** `POST /reward` and the reward workflow's IssueReward step. */
  public readonly rewardsFunction: nodejs.NodejsFunction;
  /** `POST /chat`. */
  public readonly analyticsFunction: nodejs.NodejsFunction;
  /**
   * The routing model's updater: the routing code with one concurrent execution (the single writer), fed by
   * the queue of `RoutingOutcomesRecorded` events (SmartPayWorkflows wires the rule and the queue).
   */
  public readonly routingUpdaterFunction: nodejs.NodejsFunction;
  public readonly routingUpdaterRole: iam.Role;
  /** All five by area. */
  public readonly functions: Readonly<Record<FunctionArea, nodejs.NodejsFunction>>;
  /** Execution role of each function (only what it needs). */
  public readonly roles: Readonly<Record<FunctionArea, iam.Role>>;
  /** Log group of each function (KMS-encrypted, stage retention). */
  public readonly logGroups: Readonly<Record<FunctionArea, logs.LogGroup>>;

  constructor(scope: Construct, id: string, props: SmartPayFunctionsProps) {
    if (!props?.stage || !props.data || !props.secrets || !props.logEncryptionKey) {
      throw new Error('stage, data, secrets and logEncryptionKey are required');
    }
    super(scope, id);

    const { stage, data, secrets } = props;
    const projectRoot = props.projectRoot ?? PROJECT_ROOT;
    const removalPolicy = stage.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    const common: Record<string, string> = {
      [ENV.stage]: stage.name,
      POWERTOOLS_METRICS_NAMESPACE: METRICS.namespace,
      POWERTOOLS_LOG_LEVEL: stage.logLevel,
      // Stack traces point at lambdas/**/*.ts (the bundles ship index.js.map).
      NODE_OPTIONS: '--enable-source-maps',
    };

    // The stage's connector registry (routing ranks from it, payments charges through it).
    const connectors: Record<string, string> = stage.connectors ? { [ENV.connectors]: JSON.stringify(stage.connectors) } : {};
    const specific: Record<FunctionArea, Record<string, string>> = {
      // Each function learns the names of the tables it uses, and only those (its grants match, below).
      fraud: {
        [ENV.fraudStateTable]: data.fraudStateTable.tableName,
        // POST /fraud/labels reads the caller's payment to find the transaction it labels.
        [ENV.paymentsTable]: data.paymentsTable.tableName,
        ...(stage.fraudReviewThreshold !== undefined ? { [ENV.fraudReviewThreshold]: String(stage.fraudReviewThreshold) } : {}),
        ...(stage.fraudDeclineThreshold !== undefined ? { [ENV.fraudDeclineThreshold]: String(stage.fraudDeclineThreshold) } : {}),
        ...(props.fraudEndpointName ? { [ENV.fraudEndpointName]: props.fraudEndpointName } : {}),
      },
      routing: {
        [ENV.routingTable]: data.routingTable.tableName,
        [ENV.maxPaymentAttempts]: String(stage.maxPaymentAttempts),
        ...connectors,
        ...(stage.routingFeeWeights ? { [ENV.routingFeeWeights]: JSON.stringify(stage.routingFeeWeights) } : {}),
        ...(props.routingEndpointName ? { [ENV.routingEndpointName]: props.routingEndpointName } : {}),
      },
      payments: {
        [ENV.paymentsTable]: data.paymentsTable.tableName,
        [ENV.idempotencyTable]: data.idempotencyTable.tableName,
        [ENV.maxPaymentAttempts]: String(stage.maxPaymentAttempts),
        [ENV.stripeSecretArn]: secrets.stripeSecret.secretArn,
        ...connectors,
      },
      rewards: {
        [ENV.rewardsTable]: data.rewardsTable.tableName,
        [ENV.paymentsTable]: data.paymentsTable.tableName,
        [ENV.rewardTokenDecimals]: String(stage.rewardTokenDecimals),
        [ENV.solanaRpcUrl]: props.solanaRpcUrl ?? DEFAULT_SOLANA_RPC_URL,
        [ENV.solanaMintAuthoritySecretArn]: secrets.solanaMintAuthoritySecret.secretArn,
        ...(props.splTokenMintAddress ? { [ENV.splTokenMintAddress]: props.splTokenMintAddress } : {}),
      },
      analytics: {
        [ENV.paymentsTable]: data.paymentsTable.tableName,
        [ENV.llmApiKeySecretArn]: secrets.llmApiKeySecret.secretArn,
      },
    };

    const fns = {} as Record<FunctionArea, nodejs.NodejsFunction>;
    const roles = {} as Record<FunctionArea, iam.Role>;
    const logGroups = {} as Record<FunctionArea, logs.LogGroup>;

    /** One function of `area`'s code, with its own log group and role (`Name` prefixes their construct IDs). */
    const create = (Name: string, area: FunctionArea, description: string, extra: Partial<nodejs.NodejsFunctionProps> = {}) => {
      const logGroup = new logs.LogGroup(this, `${Name}LogGroup`, {
        retention: stage.logRetention,
        encryptionKey: props.logEncryptionKey,
        removalPolicy,
      });
      // An explicit role instead of AWSLambdaBasicExecutionRole: write to this log group only.
      const role = new iam.Role(this, `${Name}Role`, {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        description: `SmartPay ${description} function (${stage.name})`,
      });
      logGroup.grantWrite(role);

      const fn = new nodejs.NodejsFunction(this, `${Name}Function`, {
        description: `SmartPay ${description} (${stage.name})`,
        entry: path.join(projectRoot, 'lambdas', area, 'handler.ts'),
        handler: 'handler',
        projectRoot,
        depsLockFilePath: path.join(projectRoot, 'package-lock.json'),
        runtime: lambda.Runtime.NODEJS_24_X,
        architecture: lambda.Architecture.ARM_64,
        memorySize: FUNCTION_SIZING[area].memorySize,
        timeout: FUNCTION_SIZING[area].timeout,
        tracing: lambda.Tracing.ACTIVE,
        role,
        logGroup,
        loggingFormat: lambda.LoggingFormat.JSON,
        environment: { ...common, POWERTOOLS_SERVICE_NAME: area, ...specific[area] },
        bundling: {
          forceDockerBundling: false,
          minify: true,
          sourceMap: true,
          sourcesContent: false,
          target: 'node24',
          // The fraud model folder ships next to the bundle (the handler loads it from there at cold start).
          ...(area === 'fraud' ? { commandHooks: copyModelFolder(path.join(projectRoot, 'lambdas', 'fraud', 'model')) } : {}),
        },
        ...extra,
      });
      acknowledge(role, {
        'AwsSolutions-IAM5[Resource::*]': REASONS.xrayResource,
        'PCI.DSS.321-IAMNoInlinePolicy': REASONS.inlinePolicy,
      });
      return { fn, role, logGroup };
    };

    for (const area of FUNCTION_AREAS) {
      const created = create(area[0].toUpperCase() + area.slice(1), area, area);
      fns[area] = created.fn;
      roles[area] = created.role;
      logGroups[area] = created.logGroup;
      acknowledge(fns[area], {
        'Serverless-LambdaDLQ': REASONS.syncInvokeOnlyDlq,
        'PCI.DSS.321-LambdaInsideVPC': REASONS.noVpc,
      });
    }

    // The routing model's single writer: the routing code, fed by a queue (workflows.ts wires it), one at a time.
    const updater = create('RoutingUpdater', 'routing', 'routing model updater', {
      reservedConcurrentExecutions: 1,
      environment: { ...common, POWERTOOLS_SERVICE_NAME: 'routing-updater', [ENV.routingTable]: data.routingTable.tableName },
    });
    this.routingUpdaterFunction = updater.fn;
    this.routingUpdaterRole = updater.role;
    data.routingTable.grantReadWriteData(updater.fn);
    acknowledge(updater.fn, { 'PCI.DSS.321-LambdaInsideVPC': REASONS.noVpc });
    acknowledge(updater.role, {
      'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]': REASONS.kmsGenerateDataKey,
      'AwsSolutions-IAM5[Action::kms:ReEncrypt*]': REASONS.kmsReEncrypt,
    });

    this.fraudFunction = fns.fraud;
    this.routingFunction = fns.routing;
    this.paymentsFunction = fns.payments;
    this.rewardsFunction = fns.rewards;
    this.analyticsFunction = fns.analytics;
    this.functions = fns;
    this.roles = roles;
    this.logGroups = logGroups;

    // Least privilege, per function.
    data.fraudStateTable.grantReadWriteData(fns.fraud);
    data.paymentsTable.grantReadData(fns.fraud);
    data.paymentsTable.grantReadWriteData(fns.payments);
    data.idempotencyTable.grantReadWriteData(fns.payments);
    secrets.stripeSecret.grantRead(fns.payments);

    data.routingTable.grantReadWriteData(fns.routing);

    data.rewardsTable.grantReadWriteData(fns.rewards);
    data.paymentsTable.grantReadData(fns.rewards);
    secrets.solanaMintAuthoritySecret.grantRead(fns.rewards);

    data.paymentsTable.grantReadData(fns.analytics);
    secrets.llmApiKeySecret.grantRead(fns.analytics);

    const stack = Stack.of(this);
    const endpointArn = (name: string) =>
      stack.formatArn({ service: 'sagemaker', resource: 'endpoint', resourceName: name.toLowerCase() });
    if (props.fraudEndpointName) {
      fns.fraud.addToRolePolicy(
        new iam.PolicyStatement({ actions: ['sagemaker:InvokeEndpoint'], resources: [endpointArn(props.fraudEndpointName)] }),
      );
    }
    if (props.routingEndpointName) {
      fns.routing.addToRolePolicy(
        new iam.PolicyStatement({ actions: ['sagemaker:InvokeEndpoint'], resources: [endpointArn(props.routingEndpointName)] }),
      );
    }

    // Read-write grants on the CMK-encrypted tables add the KMS action families DynamoDB needs.
    for (const area of ['fraud', 'payments', 'routing', 'rewards'] as const) {
      acknowledge(roles[area], {
        'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]': REASONS.kmsGenerateDataKey,
        'AwsSolutions-IAM5[Action::kms:ReEncrypt*]': REASONS.kmsReEncrypt,
      });
    }
  }

  /** Lets `grantee` invoke every SmartPay function (e.g. a state machine or a test harness in another stack). */
  public grantInvokeAll(grantee: iam.IGrantable): void {
    for (const fn of Object.values(this.functions)) fn.grantInvoke(grantee);
  }
}
