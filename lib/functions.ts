/**
 * The functions of contracts/topology.ts (fraud, routing and its model updater, payments, rewards, analytics),
 * bundled from their handler files by the local esbuild (never Docker), each with its own role, encrypted log
 * group, the environment the topology renders for it and grants for exactly the tables it declares.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { CfnElement } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { DEFAULT_EMBEDDING_MODEL, METRICS, TABLES, type TableSchema } from '../contracts/resources';
import { allFunctions, FUNCTION_NAMES, renderEnvironment, type FunctionName, type SecretProp } from '../contracts/topology';
import type { SmartPayData } from './data';
import { acknowledge, REASONS } from './nag';
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

export { FUNCTION_NAMES, type FunctionName } from '../contracts/topology';

/** The repository root (the folder holding `lambdas/` and, in a clone, `package-lock.json`). */
export const PROJECT_ROOT = path.resolve(__dirname, '..');

const LOCK_FILES = ['package-lock.json', 'yarn.lock', 'pnpm-lock.yaml', 'bun.lockb'];

/**
 * The lock file the bundles' dependencies are resolved by, and the folder esbuild works from: the source's own
 * (a clone of this repository), else the nearest one above it (installed as a dependency, npm ships no lock file
 * with a package: the app's own, whose node_modules hold this package's dependencies).
 */
export function bundlingRoot(source: string): { readonly projectRoot: string; readonly depsLockFilePath: string } {
  for (let dir = path.resolve(source); ; dir = path.dirname(dir)) {
    const lock = LOCK_FILES.map((name) => path.join(dir, name)).find((file) => existsSync(file));
    if (lock) return { projectRoot: dir, depsLockFilePath: lock };
    if (path.dirname(dir) === dir) {
      throw new Error(`SmartPay: no lock file (${LOCK_FILES.join(', ')}) in ${source} or any folder above it: install your app's dependencies (npm install) before synthesizing`);
    }
  }
}

/** Props of {@link SmartPayFunctions}. */
export interface SmartPayFunctionsProps {
  /** Stage configuration (thresholds, log level, retention). */
  readonly stage: StageConfig;
  /** The tables and their key. */
  readonly data: SmartPayData;
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
   * The analytics index's OpenSearch endpoint (`OPENSEARCH_ENDPOINT`): the collection's the platform creates, or one
   * of yours. Its data access is granted where it is created (SmartPayAnalyticsIndex.grantReadWrite).
   * @default - none: POST /chat answers 409 analytics_not_configured
   */
  readonly opensearchEndpoint?: string;
  /**
   * The language model of /chat (`CHAT_MODEL`: `bedrock:<model id>` or `openai:<model>`); its grants come with it
   * (SmartPayPlatform).
   * @default - none: the deterministic parser and the templates
   */
  readonly chatModel?: string;
  /**
   * The secrets a function reads by ARN (its `*_SECRET_ARN` variables); each function that declares one may read
   * it and nothing else.
   * @default - none
   */
  readonly secrets?: { readonly [P in SecretProp]?: secretsmanager.ISecret };
  /**
   * Folder holding `lambdas/<area>/handler.ts` (and its lock file, or one in a folder above it).
   * @default PROJECT_ROOT (this repository)
   */
  readonly projectRoot?: string;
  /**
   * The CloudWatch namespace of the functions' own metrics (POWERTOOLS_METRICS_NAMESPACE): one per platform, so two
   * platforms in one account never mix their metrics or each other's alarms.
   * @default 'SmartPay'
   */
  readonly metricsNamespace?: string;
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
  /** The CloudWatch namespace of the functions' own metrics. */
  public readonly metricsNamespace: string;
  /** Every function by its topology name. */
  public readonly functions: Readonly<Record<FunctionName, nodejs.NodejsFunction>>;
  /** Execution role of each function (only what it needs). */
  public readonly roles: Readonly<Record<FunctionName, iam.Role>>;
  /** Log group of each function (KMS-encrypted, stage retention). */
  public readonly logGroups: Readonly<Record<FunctionName, logs.LogGroup>>;

  constructor(scope: Construct, id: string, props: SmartPayFunctionsProps) {
    if (!props?.stage || !props.data || !props.logEncryptionKey) {
      throw new Error('stage, data and logEncryptionKey are required');
    }
    super(scope, id);

    const { stage, data } = props;
    const projectRoot = props.projectRoot ?? PROJECT_ROOT;
    const bundling = bundlingRoot(projectRoot);
    this.metricsNamespace = props.metricsNamespace ?? METRICS.namespace;
    const removalPolicy = stage.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    const runtime: Record<string, string> = {
      POWERTOOLS_METRICS_NAMESPACE: this.metricsNamespace,
      POWERTOOLS_LOG_LEVEL: stage.logLevel,
      // Stack traces point at lambdas/**/*.ts (the bundles ship index.js.map).
      NODE_OPTIONS: '--enable-source-maps',
    };
    const stack = Stack.of(this);
    const endpointArn = (name: string) => stack.formatArn({ service: 'sagemaker', resource: 'endpoint', resourceName: name.toLowerCase() });
    const endpoints = { fraudEndpointName: props.fraudEndpointName, routingEndpointName: props.routingEndpointName };
    const secrets = props.secrets ?? {};
    const secretArns = Object.fromEntries(Object.entries(secrets).map(([prop, secret]) => [prop, secret?.secretArn])) as { [P in SecretProp]?: string };

    const fns = {} as Record<FunctionName, nodejs.NodejsFunction>;
    const roles = {} as Record<FunctionName, iam.Role>;
    const logGroups = {} as Record<FunctionName, logs.LogGroup>;

    for (const name of FUNCTION_NAMES) {
      const spec = allFunctions()[name];
      // Construct IDs are part of the stateful contract: 'Fraud', 'RoutingUpdater', ... as before the topology.
      const Name = name[0].toUpperCase() + name.slice(1);
      const logGroup = new logs.LogGroup(this, `${Name}LogGroup`, {
        retention: stage.logRetention,
        encryptionKey: props.logEncryptionKey,
        removalPolicy,
      });
      // An explicit role instead of AWSLambdaBasicExecutionRole: write to this log group only.
      const role = new iam.Role(this, `${Name}Role`, {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        description: `SmartPay ${spec.description} function (${stage.name})`,
      });
      logGroup.grantWrite(role);

      // The environment the topology renders (the local platform renders the same); the bus's name comes with
      // the put grant (SmartPayWorkflows, for the functions that emit).
      const environment = renderEnvironment(name, {
        stage: stage.name,
        tableName: (table) => data.tables[table].tableName,
        settings: stage,
        // The analytics embeddings: Titan on Bedrock (the platform grants it).
        props: { ...endpoints, opensearchEndpoint: props.opensearchEndpoint, chatModel: props.chatModel, embeddingModel: DEFAULT_EMBEDDING_MODEL, ...secretArns },
      });
      const fn = new nodejs.NodejsFunction(this, `${Name}Function`, {
        description: `SmartPay ${spec.description} (${stage.name})`,
        entry: path.join(projectRoot, spec.entry),
        handler: 'handler',
        ...bundling,
        runtime: lambda.Runtime.NODEJS_24_X,
        architecture: lambda.Architecture.ARM_64,
        memorySize: spec.memoryMB,
        timeout: Duration.seconds(spec.timeoutSeconds),
        reservedConcurrentExecutions: spec.reservedConcurrency,
        tracing: lambda.Tracing.ACTIVE,
        role,
        logGroup,
        loggingFormat: lambda.LoggingFormat.JSON,
        environment: { ...runtime, ...environment },
        bundling: {
          forceDockerBundling: false,
          minify: true,
          // The errors' class names are their names (contracts/errors.ts: `new.target.name`), which the state
          // machines' Retry and Catch match (TransientError, GatewayRetryableError, NoEligibleConnectorError, ...):
          // minified without this, they were "e", "_", ... and no Catch or Retry by name ever matched.
          keepNames: true,
          sourceMap: true,
          sourcesContent: false,
          target: 'node24',
          // A model folder ships next to the bundle (the handler loads it from there at cold start).
          ...(spec.assets ? { commandHooks: copyModelFolder(path.join(projectRoot, spec.assets.model)) } : {}),
        },
      });
      acknowledge(role, {
        'AwsSolutions-IAM5[Resource::*]': REASONS.xrayResource,
        'PCI.DSS.321-IAMNoInlinePolicy': REASONS.inlinePolicy,
      });
      acknowledge(fn, { 'PCI.DSS.321-LambdaInsideVPC': REASONS.noVpc });
      // Functions fed by a queue answer failures through it (SmartPayWorkflows acknowledges those).
      if (!spec.reservedConcurrency) acknowledge(fn, { 'Serverless-LambdaDLQ': REASONS.syncInvokeOnlyDlq });

      // Least privilege: the tables it declares, and the SageMaker endpoint it is given.
      for (const table of spec.tables.readWrite ?? []) data.tables[table].grantReadWriteData(fn);
      for (const table of spec.tables.read ?? []) data.tables[table].grantReadData(fn);
      for (const table of [...(spec.tables.readWrite ?? []), ...(spec.tables.read ?? [])]) {
        const schema: TableSchema = TABLES[table];
        if (!schema.indexes?.length) continue;
        const tableId = Stack.of(this).getLogicalId(data.tables[table].node.defaultChild as CfnElement);
        acknowledge(role, {
          [`AwsSolutions-IAM5[Resource::<${tableId}.Arn>/index/*]`]:
            "CDK's table grant covers the table's own secondary indexes (the sparse, keys-only unfinished and outbox indexes); the wildcard stays inside this one table.",
        });
      }
      if (spec.tables.readWrite?.length) {
        // Read-write grants on the CMK-encrypted tables add the KMS action families DynamoDB needs.
        acknowledge(role, {
          'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]': REASONS.kmsGenerateDataKey,
          'AwsSolutions-IAM5[Action::kms:ReEncrypt*]': REASONS.kmsReEncrypt,
        });
      }
      for (const source of Object.values(spec.env ?? {})) {
        // A SageMaker endpoint's name (the OpenSearch endpoint's access is granted with its collection).
        const endpoint = source.from === 'prop' && (source.prop === 'fraudEndpointName' || source.prop === 'routingEndpointName') ? endpoints[source.prop] : undefined;
        if (endpoint) fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['sagemaker:InvokeEndpoint'], resources: [endpointArn(endpoint)] }));
        // Read on the secrets it declares (GetSecretValue, DescribeSecret, and decrypt with the secret's key).
        if (source.from === 'secret') secrets[source.prop]?.grantRead(fn);
      }
      fns[name] = fn;
      roles[name] = role;
      logGroups[name] = logGroup;
    }

    this.fraudFunction = fns.fraud;
    this.routingFunction = fns.routing;
    this.paymentsFunction = fns.payments;
    this.rewardsFunction = fns.rewards;
    this.analyticsFunction = fns.analytics;
    this.routingUpdaterFunction = fns.routingUpdater;
    this.routingUpdaterRole = roles.routingUpdater;
    this.functions = fns;
    this.roles = roles;
    this.logGroups = logGroups;
  }

  /** Lets `grantee` invoke every SmartPay function (e.g. a state machine or a test harness in another stack). */
  public grantInvokeAll(grantee: iam.IGrantable): void {
    for (const fn of Object.values(this.functions)) fn.grantInvoke(grantee);
  }
}
