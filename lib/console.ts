/**
 * The operator console in the cloud (off unless the platform's `console` prop turns it on): the files of
 * contracts/console.ts in a private S3 bucket behind CloudFront (origin access control), the API behind the same
 * distribution under `/api/` (so the console calls its own origin: no CORS, a `connect-src 'self'` policy), and a
 * Cognito app client with the authorization-code flow (PKCE) on a hosted sign-in domain, whose ID tokens the
 * API's authorizer takes as it takes any: a merchant sees its own payments only.
 */
import { CfnOutput, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import { consoleContentSecurityPolicy, consoleFiles } from '../contracts/console';
import { MERCHANT_ATTRIBUTE } from './auth';
import { acknowledge } from './nag';

/** Options of the console (the platform's `console` prop). */
export interface SmartPayConsoleOptions {
  /**
   * The prefix of the Cognito sign-in domain (`<prefix>.auth.<region>.amazoncognito.com`): lowercase letters,
   * digits and hyphens, unique in the region.
   * @default - `smartpay-<stage>-<account>`
   */
  readonly domainPrefix?: string;
  /**
   * The ARN of a WAF web ACL of CloudFront scope (created in us-east-1) for the distribution.
   * @default - none (the API behind it keeps its own regional web ACL)
   */
  readonly webAclArn?: string;
}

/** Props of {@link SmartPayConsole}. */
export interface SmartPayConsoleProps extends SmartPayConsoleOptions {
  /** The stage's name (the default domain prefix). */
  readonly stageName: string;
  /** The API the console calls (behind the distribution under /api/). */
  readonly restApi: apigw.RestApi;
  /** The pool whose users sign in. */
  readonly userPool: cognito.IUserPool;
  /** Keep the buckets when the stack is deleted. @default false */
  readonly retainData?: boolean;
  /** Encrypts the deployment's log group (the platform's key). */
  readonly encryptionKey: kms.IKey;
  /** Retention of the deployment's log group. */
  readonly logRetention: logs.RetentionDays;
}

/** `/api/pay` → `/pay` before the request reaches the API (the origin adds the stage: `/prod/pay`). */
const STRIP_API_PREFIX = `function handler(event) {
  var request = event.request;
  request.uri = request.uri.replace(/^\\/api(?=\\/)/, '');
  return request;
}`;

export class SmartPayConsole extends Construct {
  /** The console's files. */
  public readonly bucket: s3.Bucket;
  /** The distribution's and the site bucket's access logs. */
  public readonly logBucket: s3.Bucket;
  public readonly distribution: cloudfront.Distribution;
  /** The console's app client (authorization code with PKCE, no secret). */
  public readonly userPoolClient: cognito.UserPoolClient;
  public readonly userPoolDomain: cognito.UserPoolDomain;
  /** `https://<distribution domain>/`. */
  public readonly url: string;

  constructor(scope: Construct, id: string, props: SmartPayConsoleProps) {
    if (props.domainPrefix !== undefined && !/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(props.domainPrefix)) {
      throw new Error(`console.domainPrefix "${props.domainPrefix}" must be 1-63 lowercase letters, digits and hyphens, not starting or ending with a hyphen`);
    }
    super(scope, id);
    const removalPolicy = props.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    const autoDeleteObjects = !props.retainData;

    this.logBucket = new s3.Bucket(this, 'LogBucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      // CloudFront writes standard logs with an ACL.
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [{ expiration: Duration.days(365), noncurrentVersionExpiration: Duration.days(30) }],
      removalPolicy,
      autoDeleteObjects,
    });
    acknowledge(this.logBucket, {
      'PCI.DSS.321-S3BucketReplicationEnabled': 'Access logs of static assets; a second copy in another region is not needed to serve or audit them (they are versioned and kept a year).',
      'PCI.DSS.321-S3DefaultEncryptionKMS': 'CloudFront standard logging cannot write to a bucket encrypted with a KMS key; SSE-S3 encrypts them at rest.',
    });

    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      serverAccessLogsBucket: this.logBucket,
      serverAccessLogsPrefix: 'bucket/',
      removalPolicy,
      autoDeleteObjects,
    });
    acknowledge(this.bucket, {
      'PCI.DSS.321-S3BucketReplicationEnabled': 'The console\'s static files, rebuilt from the repository by every deployment: nothing here to replicate.',
      'PCI.DSS.321-S3DefaultEncryptionKMS': 'The console\'s public static files (no data, no secrets); SSE-S3 encrypts them at rest, and CloudFront reads them through origin access control.',
    });

    const stack = Stack.of(this);
    // The default is kept as it was: a user pool has one Cognito domain, so a changed prefix cannot be deployed over
    // an existing one (the new domain is created first, and refused). A second console of the stage in the account
    // names its own `domainPrefix`.
    const domainPrefix = props.domainPrefix ?? `smartpay-${props.stageName}-${stack.account}`;
    this.userPoolDomain = new cognito.UserPoolDomain(this, 'SignInDomain', { userPool: props.userPool, cognitoDomain: { domainPrefix } });
    const signIn = `https://${domainPrefix}.auth.${stack.region}.amazoncognito.com`;

    const headers = new cloudfront.ResponseHeadersPolicy(this, 'Headers', {
      comment: 'SmartPay console: only its own files and origin (the API is under /api/), and the sign-in domain',
      securityHeadersBehavior: {
        contentSecurityPolicy: { contentSecurityPolicy: consoleContentSecurityPolicy([signIn]), override: true },
        strictTransportSecurity: { accessControlMaxAge: Duration.days(365), includeSubdomains: true, override: true },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
        referrerPolicy: { referrerPolicy: cloudfront.HeadersReferrerPolicy.NO_REFERRER, override: true },
      },
    });

    const stripApi = new cloudfront.Function(this, 'StripApiPrefix', {
      code: cloudfront.FunctionCode.fromInline(STRIP_API_PREFIX),
      runtime: cloudfront.FunctionRuntime.JS_2_0,
      comment: 'SmartPay console: /api/<route> to the API\'s /<route>',
    });

    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: `SmartPay console (${props.stageName})`,
      defaultRootObject: 'index.html',
      defaultBehavior: {
        origin: origins.S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        responseHeadersPolicy: headers,
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
      },
      additionalBehaviors: {
        '/api/*': {
          origin: new origins.RestApiOrigin(props.restApi),
          viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
          allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL,
          // Every answer is the caller's own: never cached, the Authorization header passed through.
          cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
          originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
          functionAssociations: [{ function: stripApi, eventType: cloudfront.FunctionEventType.VIEWER_REQUEST }],
        },
      },
      enableLogging: true,
      logBucket: this.logBucket,
      logFilePrefix: 'distribution/',
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      ...(props.webAclArn ? { webAclId: props.webAclArn } : {}),
    });
    acknowledge(this.distribution, {
      'AwsSolutions-CFR1': 'An operator console for the merchant\'s own staff, wherever they work; every call needs a Cognito ID token with MFA, so a country block would add nothing but lockouts.',
      'AwsSolutions-CFR4':
        'The distribution uses CloudFront\'s default *.cloudfront.net certificate, whose security policy CloudFront sets (a minimum protocol version needs a custom domain and certificate, the owner\'s to add); browsers negotiate TLS 1.2 or 1.3 with it.',
      ...(props.webAclArn
        ? {}
        : {
            'AwsSolutions-CFR2':
              'A CloudFront web ACL must be created in us-east-1 (pass console.webAclArn); the API behind /api/ keeps its own regional web ACL and rate limits, and the files are static.',
          }),
    });
    this.url = `https://${this.distribution.distributionDomainName}/`;

    this.userPoolClient = props.userPool.addClient('ConsoleClient', {
      generateSecret: false,
      authFlows: { userSrp: true },
      oAuth: {
        flows: { authorizationCodeGrant: true },
        scopes: [cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE],
        callbackUrls: [this.url],
        logoutUrls: [this.url],
      },
      supportedIdentityProviders: [cognito.UserPoolClientIdentityProvider.COGNITO],
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      accessTokenValidity: Duration.hours(1),
      idTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.hours(12),
      readAttributes: new cognito.ClientAttributes().withStandardAttributes({ email: true, emailVerified: true }).withCustomAttributes(MERCHANT_ATTRIBUTE),
      writeAttributes: new cognito.ClientAttributes().withStandardAttributes({ email: true }),
    });

    const files = consoleFiles();
    new s3deploy.BucketDeployment(this, 'Files', {
      destinationBucket: this.bucket,
      sources: [
        ...Object.entries(files).map(([path, file]) => s3deploy.Source.data(path, file.body.toString('utf8'))),
        s3deploy.Source.jsonData('config.json', {
          apiBase: '/api',
          auth: { mode: 'cognito', domain: signIn, clientId: this.userPoolClient.userPoolClientId, redirectUri: this.url },
        }),
      ],
      distribution: this.distribution,
      distributionPaths: ['/*'],
      prune: true,
      memoryLimit: 256,
      logGroup: new logs.LogGroup(this, 'FilesLog', { encryptionKey: props.encryptionKey, retention: props.logRetention, removalPolicy }),
    });
    // The deployment's provider (a singleton function of the stack, CDK's own): acknowledged where it lives.
    const provider = stack.node.children.find((child) => child.node.id.startsWith('Custom::CDKBucketDeployment'));
    if (!provider) throw new Error('aws-cdk-lib changed: no Custom::CDKBucketDeployment provider found beside the console\'s deployment');
    const providerReason = 'CDK\'s BucketDeployment provider: runs only at deployment to copy the console\'s files into its bucket; its role and runtime are set by aws-cdk-lib.';
    const bucketId = stack.getLogicalId(this.bucket.node.defaultChild as s3.CfnBucket);
    const assets = (stack.synthesizer as { bucketName?: string }).bucketName ?? 'cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}';
    {
      acknowledge(provider, {
        [`AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/*]`]: providerReason,
        [`AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::${assets.replace(/\$\{(AWS::\w+)\}/g, '<$1>')}/*]`]: providerReason,
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]': providerReason,
        'AwsSolutions-IAM5[Action::s3:GetObject*]': providerReason,
        'AwsSolutions-IAM5[Action::s3:GetBucket*]': providerReason,
        'AwsSolutions-IAM5[Action::s3:List*]': providerReason,
        'AwsSolutions-IAM5[Action::s3:DeleteObject*]': providerReason,
        'AwsSolutions-IAM5[Action::s3:Abort*]': providerReason,
        'AwsSolutions-IAM5[Resource::*]': providerReason,
        'AwsSolutions-L1': providerReason,
        'Serverless-LambdaDLQ': providerReason,
        'Serverless-LambdaLatestVersion': providerReason,
        'Serverless-LambdaTracing': providerReason,
        'PCI.DSS.321-IAMNoInlinePolicy': providerReason,
        'PCI.DSS.321-LambdaInsideVPC': `${providerReason} It reaches only S3 and CloudFront's APIs.`,
      });
    }

    new CfnOutput(this, 'ConsoleUrl', { value: this.url, description: 'The SmartPay operator console' });
  }
}
