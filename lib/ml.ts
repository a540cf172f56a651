/**
 * SmartPayFraudEndpoint (optional): the fraud XGBoost model hosted on a SageMaker serverless endpoint with the
 * built-in XGBoost container. The fraud Lambda calls it under a strict time budget and falls back to the
 * embedded copy of the same booster (lambdas/fraud/sagemaker.ts).
 *
 * What this relies on (sagemaker-xgboost 1.x containers, algorithm mode):
 * - the model artefact is a `model.tar.gz` whose files are all loaded as boosters (several would be served as
 *   an ensemble), so it holds exactly one file, `xgboost-model`, the name the container's own training writes;
 * - that file is xgboost's native JSON (`xgboost.json` of the model folder): the container loads it with
 *   `Booster.load_model(path)`, and xgboost ≥ 1.0 recognises a JSON model by its content, whatever the file
 *   name. Hence version 1.7-1 here (xgboost 1.7), never the 0.90 images;
 * - requests are `text/csv` rows without a label column, with empty fields for missing values.
 *
 * The artefact is built at synth time in Node (gzip + a minimal ustar writer, no Docker, no `tar` CLI) into a
 * temporary folder keyed by its content, and shipped as a file asset.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { ArnFormat, CfnMapping, Names, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import { Construct } from 'constructs';
import { acknowledge, REASONS } from './nag';

/** The model folder shipped with the fraud Lambda. */
export const DEFAULT_FRAUD_MODEL_DIR = path.resolve(__dirname, '..', 'lambdas', 'fraud', 'model');

/** The built-in XGBoost image version (xgboost 1.7; loads JSON boosters). */
export const XGBOOST_IMAGE_VERSION = '1.7-1';

/** The file name the built-in container's training writes and its serving loads. */
export const XGBOOST_MODEL_FILE = 'xgboost-model';

/**
 * Account of the `sagemaker-xgboost` ECR repository per region (SageMaker Python SDK,
 * image_uri_config/xgboost.json, versions 1.0-1 to 1.7-1 alike).
 */
export const XGBOOST_IMAGE_ACCOUNTS: Readonly<Record<string, string>> = {
  'af-south-1': '510948584623',
  'ap-east-1': '651117190479',
  'ap-northeast-1': '354813040037',
  'ap-northeast-2': '366743142698',
  'ap-northeast-3': '867004704886',
  'ap-south-1': '720646828776',
  'ap-south-2': '628508329040',
  'ap-southeast-1': '121021644041',
  'ap-southeast-2': '783357654285',
  'ap-southeast-3': '951798379941',
  'ap-southeast-4': '106583098589',
  'ca-central-1': '341280168497',
  'ca-west-1': '190319476487',
  'cn-north-1': '450853457545',
  'cn-northwest-1': '451049120500',
  'eu-central-1': '492215442770',
  'eu-central-2': '680994064768',
  'eu-north-1': '662702820516',
  'eu-south-1': '978288397137',
  'eu-south-2': '104374241257',
  'eu-west-1': '141502667606',
  'eu-west-2': '764974769150',
  'eu-west-3': '659782779980',
  'il-central-1': '898809789911',
  'me-central-1': '272398656194',
  'me-south-1': '801668240914',
  'sa-east-1': '737474898029',
  'us-east-1': '683313688378',
  'us-east-2': '257758044811',
  'us-gov-east-1': '237065988967',
  'us-gov-west-1': '414596584902',
  'us-west-1': '746614075791',
  'us-west-2': '246618743249',
};

/** The ECR image URI of the built-in XGBoost container in a (concrete) region; a clear error for another. */
export function xgboostImageUri(region: string, version: string = XGBOOST_IMAGE_VERSION): string {
  const account = XGBOOST_IMAGE_ACCOUNTS[region];
  if (!account) {
    throw new Error(
      `no built-in sagemaker-xgboost image is known for region ${region}: deploy to one of ${Object.keys(XGBOOST_IMAGE_ACCOUNTS).join(', ')}, ` +
        'or add its registry account to XGBOOST_IMAGE_ACCOUNTS',
    );
  }
  const domain = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
  return `${account}.dkr.ecr.${region}.${domain}/sagemaker-xgboost:${version}`;
}

// --- tar.gz (ustar) -----------------------------------------------------------------------------------------

const BLOCK = 512;

function writeField(header: Buffer, offset: number, length: number, value: string): void {
  header.write(value, offset, Math.min(length, Buffer.byteLength(value)), 'utf8');
}

/** An octal number, zero-padded to `length - 1` digits and NUL-terminated. */
function octal(value: number, length: number): string {
  return `${value.toString(8).padStart(length - 1, '0')}\0`;
}

/**
 * A gzip'd ustar archive of regular files (deterministic: mtime 0, root owner, mode 0644), as SageMaker
 * expects a model artefact. Names must be ASCII and at most 100 bytes.
 */
export function tarGz(files: ReadonlyArray<{ readonly name: string; readonly content: Buffer }>): Buffer {
  const parts: Buffer[] = [];
  for (const { name, content } of files) {
    if (!/^[\x21-\x7e][\x20-\x7e]*$/.test(name) || name.length > 100) throw new Error(`tar entry name must be ASCII, at most 100 bytes: ${name}`);
    const header = Buffer.alloc(BLOCK, 0);
    writeField(header, 0, 100, name);
    writeField(header, 100, 8, octal(0o644, 8));
    writeField(header, 108, 8, octal(0, 8));
    writeField(header, 116, 8, octal(0, 8));
    writeField(header, 124, 12, octal(content.length, 12));
    writeField(header, 136, 12, octal(0, 12));
    header.fill(0x20, 148, 156); // checksum field counts as spaces while summing
    writeField(header, 156, 1, '0');
    writeField(header, 257, 6, 'ustar\0');
    writeField(header, 263, 2, '00');
    writeField(header, 265, 32, 'root');
    writeField(header, 297, 32, 'root');
    let sum = 0;
    for (const byte of header) sum += byte;
    writeField(header, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
    parts.push(header, content, Buffer.alloc((BLOCK - (content.length % BLOCK)) % BLOCK, 0));
  }
  parts.push(Buffer.alloc(2 * BLOCK, 0));
  return gzipSync(Buffer.concat(parts), { level: 9 });
}

/** The parts of a model folder's manifest the artefact needs. */
interface ModelManifest {
  readonly features?: unknown;
  readonly amountScale?: unknown;
  readonly models?: { readonly xgboost?: unknown };
}

function readManifest(manifestPath: string): ModelManifest {
  if (!existsSync(manifestPath)) throw new Error(`${manifestPath}: no such file (modelDir must be a model folder written by npm run train)`);
  try {
    return JSON.parse(readFileSync(manifestPath, 'utf8')) as ModelManifest;
  } catch (error) {
    throw new Error(`${manifestPath}: not a valid manifest (${(error as Error).message})`);
  }
}

/**
 * Writes `model.tar.gz` (one `xgboost-model` entry: the booster the model folder's manifest names) into a
 * temporary folder keyed by its content, and returns its path. Errors name the file at fault.
 */
export function buildModelArtifact(modelDir: string): string {
  const manifestPath = path.join(modelDir, 'manifest.json');
  const manifest = readManifest(manifestPath);
  // The fraud function computes the feature vector it sends the endpoint: the booster must read the same features,
  // on the same amount scale, as the model the function embeds (whose own loader checks them against the code).
  const embeddedPath = path.join(DEFAULT_FRAUD_MODEL_DIR, 'manifest.json');
  if (path.resolve(manifestPath) !== embeddedPath) {
    const embedded = readManifest(embeddedPath);
    for (const key of ['features', 'amountScale'] as const) {
      if (JSON.stringify(manifest[key]) !== JSON.stringify(embedded[key])) {
        throw new Error(
          `${manifestPath}: its "${key}" (${JSON.stringify(manifest[key] ?? null)}) differs from that of the model the fraud function embeds (${JSON.stringify(embedded[key])}, in ${embeddedPath}): the function would send the endpoint vectors its booster was not trained on; retrain with npm run train`,
        );
      }
    }
  }
  const file = manifest.models?.xgboost;
  if (typeof file !== 'string' || file === '') throw new Error(`${manifestPath}: "models.xgboost" (the model file) is missing`);
  const boosterPath = path.join(modelDir, file);
  if (!existsSync(boosterPath)) throw new Error(`${boosterPath}: no such file (named by ${manifestPath} in models.xgboost)`);
  const archive = tarGz([{ name: XGBOOST_MODEL_FILE, content: readFileSync(boosterPath) }]);
  const dir = path.join(tmpdir(), `smartpay-fraud-model-${createHash('sha256').update(archive).digest('hex').slice(0, 16)}`);
  const out = path.join(dir, 'model.tar.gz');
  if (!existsSync(out)) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(out, archive);
  }
  return out;
}

/** An ARN as cdk-nag renders it in finding ids (pseudo parameters as `<AWS::Region>`). */
function nagArn(stack: Stack, service: string, resource: string): string {
  const part = (value: string, pseudo: string) => (Token.isUnresolved(value) ? `<AWS::${pseudo}>` : value);
  return `arn:${part(stack.partition, 'Partition')}:${service}:${part(stack.region, 'Region')}:${part(stack.account, 'AccountId')}:${resource}`;
}

// --- the construct ------------------------------------------------------------------------------------------

/** Serverless memory sizes SageMaker accepts, in MB. */
export const SERVERLESS_MEMORY_SIZES = [1024, 2048, 3072, 4096, 5120, 6144] as const;

/** Props of {@link SmartPayFraudEndpoint}. */
export interface SmartPayFraudEndpointProps {
  /**
   * A model folder written by `npm run train` (manifest.json and the XGBoost JSON it names). Its features and
   * amount scale must be those of the model the fraud function embeds, which computes the vectors the endpoint
   * scores (checked at synth).
   * @default DEFAULT_FRAUD_MODEL_DIR (lambdas/fraud/model, the one the Lambda embeds)
   */
  readonly modelDir?: string;
  /**
   * Serverless memory (1024 to 6144, in steps of 1024).
   * @default 2048
   */
  readonly memorySizeInMB?: number;
  /**
   * Concurrent invocations before throttling (1 to 200); throttled calls fall back to the embedded model.
   * @default 5
   */
  readonly maxConcurrency?: number;
  /**
   * The key that encrypts the asset bucket (a bootstrap with a customer-managed key): the execution role may
   * decrypt the model artefact with it.
   * @default - none (the bootstrap's default S3 encryption)
   */
  readonly encryptionKey?: kms.IKey;
}

/** The fraud booster on a SageMaker serverless endpoint (built-in XGBoost container). */
export class SmartPayFraudEndpoint extends Construct {
  /** The `model.tar.gz` asset. */
  public readonly modelArtifact: s3assets.Asset;
  /** The role SageMaker assumes to pull the image and read the artefact (nothing else). */
  public readonly role: iam.Role;
  /** The built-in XGBoost image URI (a token for a region-agnostic stack). */
  public readonly imageUri: string;
  public readonly model: sagemaker.CfnModel;
  public readonly endpointConfig: sagemaker.CfnEndpointConfig;
  public readonly endpoint: sagemaker.CfnEndpoint;
  /** The endpoint name (fixed at synth: derived from the construct path). */
  public readonly endpointName: string;
  /** The endpoint ARN. */
  public readonly endpointArn: string;

  constructor(scope: Construct, id: string, props: SmartPayFraudEndpointProps = {}) {
    const memorySizeInMB = props.memorySizeInMB ?? 2048;
    const maxConcurrency = props.maxConcurrency ?? 5;
    if (!(SERVERLESS_MEMORY_SIZES as readonly number[]).includes(memorySizeInMB)) {
      throw new Error(`memorySizeInMB must be one of ${SERVERLESS_MEMORY_SIZES.join(', ')} (got ${memorySizeInMB})`);
    }
    if (!Number.isInteger(maxConcurrency) || maxConcurrency < 1 || maxConcurrency > 200) {
      throw new Error(`maxConcurrency must be an integer from 1 to 200 (got ${maxConcurrency})`);
    }
    super(scope, id);

    const stack = Stack.of(this);
    const { region, partition } = stack;

    this.modelArtifact = new s3assets.Asset(this, 'ModelArtifact', { path: buildModelArtifact(props.modelDir ?? DEFAULT_FRAUD_MODEL_DIR) });

    let imageAccount: string;
    if (Token.isUnresolved(region)) {
      // A region-agnostic stack: CloudFormation picks the account at deploy time.
      const accounts = new CfnMapping(this, 'XGBoostImageAccounts', {
        mapping: Object.fromEntries(Object.entries(XGBOOST_IMAGE_ACCOUNTS).map(([r, account]) => [r, { account }])),
      });
      imageAccount = accounts.findInMap(region, 'account');
      this.imageUri = `${imageAccount}.dkr.ecr.${region}.${stack.urlSuffix}/sagemaker-xgboost:${XGBOOST_IMAGE_VERSION}`;
    } else {
      this.imageUri = xgboostImageUri(region);
      imageAccount = XGBOOST_IMAGE_ACCOUNTS[region];
    }

    this.endpointName = Names.uniqueResourceName(this, { maxLength: 63, separator: '-' }).toLowerCase();
    this.endpointArn = stack.formatArn({ service: 'sagemaker', resource: 'endpoint', resourceName: this.endpointName });

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com'),
      description: 'SmartPay fraud endpoint: pulls the built-in XGBoost image and reads the model artefact',
    });
    // The artefact object only (no bucket listing, no other asset).
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject'],
        resources: [this.modelArtifact.bucket.arnForObjects(this.modelArtifact.s3ObjectKey)],
      }),
    );
    props.encryptionKey?.grantDecrypt(this.role);
    // The built-in image lives in an AWS-owned registry account.
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['ecr:BatchCheckLayerAvailability', 'ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'],
        resources: [`arn:${partition}:ecr:${region}:${imageAccount}:repository/sagemaker-xgboost`],
      }),
    );
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['ecr:GetAuthorizationToken'], resources: ['*'] }));
    // The endpoint's own log group and its streams.
    const logGroupArn = stack.formatArn({
      service: 'logs',
      resource: 'log-group',
      resourceName: `/aws/sagemaker/Endpoints/${this.endpointName}`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:DescribeLogStreams', 'logs:PutLogEvents'],
        resources: [logGroupArn, `${logGroupArn}:log-stream:*`],
      }),
    );

    this.model = new sagemaker.CfnModel(this, 'Model', {
      executionRoleArn: this.role.roleArn,
      primaryContainer: { image: this.imageUri, modelDataUrl: this.modelArtifact.s3ObjectUrl, mode: 'SingleModel' },
    });
    this.endpointConfig = new sagemaker.CfnEndpointConfig(this, 'EndpointConfig', {
      productionVariants: [
        {
          variantName: 'AllTraffic',
          modelName: this.model.attrModelName,
          serverlessConfig: { memorySizeInMb: memorySizeInMB, maxConcurrency },
        },
      ],
    });
    this.endpoint = new sagemaker.CfnEndpoint(this, 'Endpoint', {
      endpointName: this.endpointName,
      endpointConfigName: this.endpointConfig.attrEndpointConfigName,
    });
    // The role's policy must exist before SageMaker pulls the image and the artefact.
    this.endpoint.node.addDependency(this.role);

    acknowledge(this.role, {
      'AwsSolutions-IAM5[Resource::*]':
        'ecr:GetAuthorizationToken does not support resource-level permissions, so AWS requires Resource "*"; image pulls are limited to the sagemaker-xgboost repository.',
      [`AwsSolutions-IAM5[Resource::${nagArn(stack, 'logs', `log-group:/aws/sagemaker/Endpoints/${this.endpointName}:log-stream:*`)}]`]:
        "The endpoint's log streams are named by SageMaker at run time (one per variant and instance); the wildcard stays inside the endpoint's own log group.",
      'PCI.DSS.321-IAMNoInlinePolicy': REASONS.inlinePolicy,
    });
    acknowledge(this.endpointConfig, {
      'PCI.DSS.321-SageMakerEndpointConfigurationKMSKeyConfigured':
        'A serverless endpoint attaches no ML storage volume for KmsKeyId to encrypt; the model artefact is encrypted at rest in the asset bucket and requests travel over TLS only.',
    });
  }

  /** Lets `grantee` call InvokeEndpoint on this endpoint only. */
  public grantInvoke(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({ grantee, actions: ['sagemaker:InvokeEndpoint'], resourceArns: [this.endpointArn] });
  }
}
