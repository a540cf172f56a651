/**
 * The REST API: five Cognito-protected POST routes, `GET /payments/{id}` and an open `GET /health`.
 * Request models come from the zod schemas (`toRequestModelSchema(REQUEST_SCHEMAS[path])`), errors API Gateway
 * answers itself use the API's `{"error":{"code","message","details"}}` shape, and `POST /pay` starts the
 * EXPRESS payment machine synchronously.
 */
import { Names, RemovalPolicy, Stack, ArnFormat } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import type * as cognito from 'aws-cdk-lib/aws-cognito';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { IDEMPOTENCY_HEADER, MERCHANT_CLAIM, processingBody, toRequestModelSchema } from '../contracts/api';
import { NOT_JSON } from '../contracts/json';
import { apiReferenceHtml } from '../contracts/api-docs';
import { openApiDocument } from '../contracts/openapi';
import { PAY_INPUT_MAX_CHARS } from '../contracts/steps';
import { allRoutes, errorStatuses, type RouteSpec, type StaticDocument } from '../contracts/topology';
import type { SmartPayFunctions } from './functions';
import { acknowledge, REASONS } from './nag';
import type { StageConfig } from './stages';

export { IDEMPOTENCY_HEADER };

/** The statuses a workflow route answers with: its topology's, and 500 when the execution did not complete. */
function workflowStatuses(route: RouteSpec): string[] {
  return [...new Set([...Object.keys(route.responses), ...Object.keys(errorStatuses(route)), '500'])].sort();
}

/**
 * A static route's answer as a mock integration's response template: the JSON inside Velocity's unparsed
 * block (`#[[ ... ]]#`), so `$ref` and `#/components` in the document are written as they are.
 */
export function staticTemplate(document: StaticDocument): string {
  if (document === 'docs') return `#[[${apiReferenceHtml()}]]#`;
  const body = document === 'health' ? { status: 'ok' } : openApiDocument();
  return `#[[${JSON.stringify(body)}]]#`;
}

/** The API error body as a gateway-response template (simple `$context` substitution, no VTL). */
function gatewayError(code: string, message: string): string {
  return `{"error":{"code":"${code}","message":${message},"details":{"requestId":"$context.requestId"}}}`;
}

/**
 * Request template of `POST /pay`: the execution input is the envelope of contracts/steps.ts (docs/internals.md),
 * `{"bodyText", "contentType", "contentEncoding", "merchantId", "idempotencyKey", "requestId"}`: the body's text
 * as sent (`$input.body`, not parsed here), so Begin checks it as every route's body is checked (duplicate keys,
 * numbers a double cannot hold, the charset). Strings are escaped the way CDK's own
 * stepfunctions.vtl does it (`$util.escapeJavaScript(...).replaceAll("\\'","'")`): once for their place in the
 * input JSON, then the whole input once more as the `input` string of StartSyncExecution. Quotes are built
 * from `$q` rather than a placeholder replaced afterwards, so nothing in the client's body is rewritten. An input
 * over PAY_INPUT_MAX_CHARS (contracts/steps.ts: Step Functions' 256 KiB, less room for later states) would fail to
 * start the workflow: it goes as `oversizeChars` without the body, and Begin answers 413, as the local server does.
 */
export function payRequestTemplate(stateMachineArn: string): string {
  return [
    `#set($q = '"')`,
    `#set($bodyText = $util.escapeJavaScript($input.body).replaceAll("\\\\'","'"))`,
    `#set($contentType = $util.escapeJavaScript("$!input.params('Content-Type')").replaceAll("\\\\'","'"))`,
    `#set($contentEncoding = $util.escapeJavaScript("$!input.params('Content-Encoding')").replaceAll("\\\\'","'"))`,
    `#set($merchantId = $util.escapeJavaScript("$!context.authorizer.claims['${MERCHANT_CLAIM}']").replaceAll("\\\\'","'"))`,
    `#set($idempotencyKey = $util.escapeJavaScript("$!input.params('${IDEMPOTENCY_HEADER}')").replaceAll("\\\\'","'"))`,
    `#set($requestId = $util.escapeJavaScript("$context.requestId").replaceAll("\\\\'","'"))`,
    // The fields after the body, the same in the input with the body and in the one with its size instead.
    '#set($headers = "${q}contentType${q}:${q}$contentType${q},${q}contentEncoding${q}:${q}$contentEncoding${q},${q}merchantId${q}:${q}$merchantId${q},${q}idempotencyKey${q}:${q}$idempotencyKey${q},${q}requestId${q}:${q}$requestId${q}")',
    '#set($inputString = "{${q}bodyText${q}:${q}$bodyText${q},$headers}")',
    '#set($inputChars = $inputString.length())',
    `#if($inputChars > ${PAY_INPUT_MAX_CHARS})`,
    '#set($inputString = "{${q}oversizeChars${q}:$inputChars,$headers}")',
    '#end',
    '{',
    `  "stateMachineArn": "${stateMachineArn}",`,
    `  "input": "$util.escapeJavaScript($inputString).replaceAll("\\\\'","'")"`,
    '}',
  ].join('\n');
}

/**
 * Response template of `POST /pay` for a StartSyncExecution answer. A SUCCEEDED execution's output is
 * `{status, body}` (body a JSON string): the status becomes the HTTP status and the body is written as is.
 * Anything else (FAILED, TIMED_OUT) may have moved money, so it is 202 `processing` (contracts/api.ts
 * ProcessingResponse): the same request with the same key resumes or replays the payment.
 */
export const PAY_RESPONSE_TEMPLATE = [
  `#if($input.path('$.status') == 'SUCCEEDED')`,
  `#set($output = $util.parseJson($input.path('$.output')))`,
  '#set($context.responseOverride.status = $output.status)',
  '$output.body',
  '#else',
  '#set($context.responseOverride.status = 202)',
  JSON.stringify(processingBody()),
  '#end',
].join('\n');

/** The AWS common rule set's SizeRestrictions_BODY: a body over this many bytes is blocked by the created web ACL. */
export const WAF_BODY_LIMIT_BYTES = 8_192;
/** The Retry-After of the created web ACL's per-IP rate limit (it counts over 5 minutes and re-checks often). */
const WAF_RATE_RETRY_AFTER_SECONDS = 60;

const WAF_FILTERED_MESSAGE =
  "the API's web application firewall (AWS WAF) refused this request before the platform saw it, so nothing was done (a POST /pay key was not used): the AWS managed rules refuse, for example, markup or script in a field, a path traversal or an IP-address URL, no User-Agent header, or an address on AWS's IP reputation list (README: Deploy to AWS)";

/** The created web ACL's own answers (WAFv2 custom responses, in the API's error shape; they cannot carry a request id). */
export function wafResponses(rateLimitPer5Min: number) {
  const json = (body: unknown): wafv2.CfnWebACL.CustomResponseBodyProperty => ({ contentType: 'APPLICATION_JSON', content: JSON.stringify(body) });
  const problem = `is over ${WAF_BODY_LIMIT_BYTES.toLocaleString('en-US')} bytes, the size the API's web ACL takes (AWS common rule set, SizeRestrictions_BODY)`;
  return {
    bodies: {
      bodyTooLarge: json({
        error: { code: 'payload_too_large', message: `request body ${problem}; nothing was done (a POST /pay key was not used)`, details: { issues: [{ field: '(body)', problem }] } },
      }),
      rateLimited: json({
        error: {
          code: 'rate_limited',
          message: `more than ${rateLimitPer5Min.toLocaleString('en-US')} requests from this IP address in 5 minutes, the API's web ACL limit; nothing was done (a POST /pay key was not used): retry after ${WAF_RATE_RETRY_AFTER_SECONDS} s with the same Idempotency-Key`,
        },
      }),
    },
    bodyTooLarge: { responseCode: 413, customResponseBodyKey: 'bodyTooLarge' },
    rateLimited: { responseCode: 429, customResponseBodyKey: 'rateLimited', responseHeaders: [{ name: 'Retry-After', value: String(WAF_RATE_RETRY_AFTER_SECONDS) }] },
  };
}

/** Props of {@link SmartPayApi}. */
export interface SmartPayApiProps {
  /** Stage configuration (stage name, throttling, retention). */
  readonly stage: StageConfig;
  /** The pool whose ID tokens the authorizer accepts. */
  readonly userPool: cognito.IUserPool;
  /** The proxy-integrated functions. */
  readonly functions: SmartPayFunctions;
  /** The EXPRESS machine behind `POST /pay`. */
  readonly paymentStateMachine: sfn.IStateMachine;
  /** Encrypts the access-log and WAF log groups. */
  readonly logEncryptionKey: kms.IKey;
  /**
   * ARN of a regional WAFv2 web ACL of yours to associate with the stage.
   * @default - a new web ACL (AWS common, known-bad-inputs and IP-reputation rule groups plus a per-IP rate limit)
   */
  readonly existingWebAclArn?: string;
  /**
   * The REST API's name (the API Gateway metrics' `ApiName` dimension the alarms read): one per platform.
   * @default `smartpay-<stage>`
   */
  readonly apiName?: string;
}

/** The SmartPay REST API. */
export class SmartPayApi extends Construct {
  /** The REST API (its `deploymentStage` is named after the stage). */
  public readonly restApi: apigw.RestApi;
  /** Cognito authorizer on every business route. */
  public readonly authorizer: apigw.CognitoUserPoolsAuthorizer;
  /** JSON access logs (KMS-encrypted). */
  public readonly accessLogGroup: logs.LogGroup;
  /** Request models generated from the zod schemas, by schema name (e.g. `PaymentRequest`). */
  public readonly requestModels: Readonly<Record<string, apigw.Model>>;
  /**
   * Parameter validator (`POST /pay`'s required Idempotency-Key header, `GET /payments/{id}`). Bodies are
   * validated by the same zod schemas in the functions (and in the payment workflow's Begin step), which
   * name every bad field: API Gateway can only paste its own validation message, unescaped, into a
   * gateway-response template, and its messages quote property names, so the 400 would not be valid JSON.
   */
  public readonly parametersValidator: apigw.RequestValidator;
  /** The role API Gateway assumes to start payment executions. */
  public readonly payIntegrationRole: iam.Role;
  /** Methods by route, e.g. `POST /pay`. */
  public readonly methods: Readonly<Record<string, apigw.Method>>;
  /** The web ACL created for the API, if any. */
  public readonly webAcl?: wafv2.CfnWebACL;
  /** Where the created web ACL logs (headers redacted), if any. */
  public readonly wafLogGroup?: logs.LogGroup;

  constructor(scope: Construct, id: string, props: SmartPayApiProps) {
    if (!props?.stage || !props.userPool || !props.functions || !props.paymentStateMachine || !props.logEncryptionKey) {
      throw new Error('stage, userPool, functions, paymentStateMachine and logEncryptionKey are required');
    }
    super(scope, id);

    const { stage, functions } = props;
    const removalPolicy = stage.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    this.accessLogGroup = new logs.LogGroup(this, 'AccessLogs', {
      retention: stage.logRetention,
      encryptionKey: props.logEncryptionKey,
      removalPolicy,
    });

    const F = apigw.AccessLogField;
    this.restApi = new apigw.RestApi(this, 'RestApi', {
      restApiName: props.apiName ?? `smartpay-${stage.name}`,
      description: `SmartPay payment orchestration API (${stage.name})`,
      endpointTypes: [apigw.EndpointType.REGIONAL],
      // Execution logging (errors only) needs the account-level API Gateway CloudWatch role; kept on delete
      // because it is an account-wide setting other APIs rely on.
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN,
      deployOptions: {
        stageName: stage.name,
        tracingEnabled: true,
        metricsEnabled: true,
        loggingLevel: apigw.MethodLoggingLevel.ERROR,
        // Never log request/response bodies: card data goes through /pay.
        dataTraceEnabled: false,
        throttlingRateLimit: stage.throttling.rateLimit,
        throttlingBurstLimit: stage.throttling.burstLimit,
        accessLogDestination: new apigw.LogGroupLogDestination(this.accessLogGroup),
        accessLogFormat: apigw.AccessLogFormat.custom(
          JSON.stringify({
            requestId: F.contextRequestId(),
            extendedRequestId: F.contextExtendedRequestId(),
            requestTime: F.contextRequestTime(),
            ip: F.contextIdentitySourceIp(),
            userAgent: F.contextIdentityUserAgent(),
            httpMethod: F.contextHttpMethod(),
            resourcePath: F.contextResourcePath(),
            protocol: F.contextProtocol(),
            status: F.contextStatus(),
            responseLength: F.contextResponseLength(),
            responseLatency: F.contextResponseLatency(),
            integrationLatency: F.contextIntegrationLatency(),
            integrationStatus: F.contextIntegrationStatus(),
            errorMessage: F.contextErrorMessage(),
            errorType: F.contextErrorResponseType(),
            validationError: F.contextErrorValidationErrorString(),
            user: F.contextAuthorizerClaims('sub'),
            xrayTraceId: F.contextXrayTraceId(),
            wafStatus: F.contextWafResponseCode(),
          }),
        ),
      },
    });
    const api = this.restApi;

    // Errors API Gateway answers itself, in the API's error shape.
    const responses: Array<[string, apigw.ResponseType, string | undefined, string, string]> = [
      // Body validation happens in the functions (see parametersValidator); this only guards the shape.
      ['BadRequestBody', apigw.ResponseType.BAD_REQUEST_BODY, '400', 'validation_error', '$context.error.messageString'],
      ['BadRequestParameters', apigw.ResponseType.BAD_REQUEST_PARAMETERS, '400', 'validation_error', '"missing or invalid request parameters: $context.error.validationErrorString"'],
      ['Unauthorized', apigw.ResponseType.UNAUTHORIZED, '401', 'unauthorized', '$context.error.messageString'],
      ['AccessDenied', apigw.ResponseType.ACCESS_DENIED, '403', 'forbidden', '$context.error.messageString'],
      // Admission control: the stage's throttle refuses before the integration, so a /pay key is never claimed.
      // The same answer as the local platform's: 503 with Retry-After.
      ['Throttled', apigw.ResponseType.THROTTLED, '503', 'service_unavailable', '"the API is at capacity; nothing was done (a POST /pay key was not used): retry after 1 s with the same Idempotency-Key"'],
      ['UnsupportedMediaType', apigw.ResponseType.UNSUPPORTED_MEDIA_TYPE, '415', 'unsupported_media_type', JSON.stringify(NOT_JSON)],
      // A block by the stage's web ACL without a response of its own (the created one answers a body over its size
      // rule with 413 and the rate limit with 429: wafResponses).
      ['WafFiltered', apigw.ResponseType.WAF_FILTERED, '403', 'request_blocked', JSON.stringify(WAF_FILTERED_MESSAGE)],
      ['Default4xx', apigw.ResponseType.DEFAULT_4XX, undefined, 'client_error', '$context.error.messageString'],
      ['Default5xx', apigw.ResponseType.DEFAULT_5XX, undefined, 'internal_error', '$context.error.messageString'],
    ];
    for (const [responseId, type, statusCode, code, message] of responses) {
      api.addGatewayResponse(responseId, {
        type,
        statusCode,
        templates: { 'application/json': gatewayError(code, message) },
        ...(type === apigw.ResponseType.THROTTLED ? { responseHeaders: { 'Retry-After': "'1'" } } : {}),
      });
    }

    this.authorizer = new apigw.CognitoUserPoolsAuthorizer(this, 'Authorizer', {
      cognitoUserPools: [props.userPool],
      identitySource: apigw.IdentitySource.header('Authorization'),
    });
    const authorized: apigw.MethodOptions = {
      authorizationType: apigw.AuthorizationType.COGNITO,
      authorizer: this.authorizer,
    };

    acknowledge(api, {
      'AwsSolutions-APIG2':
        'Parameters are validated here; bodies are validated in the functions and the payment workflow by the same zod schemas that generate the request models, so every 400 names the field and stays valid JSON (API Gateway can only paste its body-validation message, which quotes property names, unescaped into the error template).',
    });
    this.parametersValidator = api.addRequestValidator('ParametersValidator', {
      validateRequestBody: false,
      validateRequestParameters: true,
    });

    // API Gateway starts the synchronous payment executions with this role.
    this.payIntegrationRole = new iam.Role(this, 'PayIntegrationRole', {
      assumedBy: new iam.ServicePrincipal('apigateway.amazonaws.com'),
      description: 'API Gateway starts synchronous SmartPay payment executions',
    });
    acknowledge(this.payIntegrationRole, { 'PCI.DSS.321-IAMNoInlinePolicy': REASONS.inlinePolicy });

    const methods: Record<string, apigw.Method> = {};
    const models: Record<string, apigw.Model> = {};
    const errorTemplate = (code: string, message: string) =>
      `{"error":{"code":"${code}","message":"${message}","details":{"requestId":"$context.requestId"}}}`;
    // Every route of contracts/topology.ts (the local platform's router renders the same records).
    for (const route of allRoutes()) {
      const resource = api.root.resourceForPath(route.path);
      const model = route.request
        ? (models[route.request.name] ??= api.addModel(`${route.request.name}Model`, {
            contentType: 'application/json',
            modelName: route.request.name,
            description: `${route.method} ${route.path} body, generated from the zod schema ${route.request.name} in contracts/api.ts`,
            schema: { ...(toRequestModelSchema(route.request.schema) as apigw.JsonSchema), schema: apigw.JsonSchemaVersion.DRAFT4, title: route.request.name },
          }))
        : undefined;
      const requestParameters: Record<string, boolean> = {
        ...Object.fromEntries(Object.keys(route.headers ?? {}).map((name) => [`method.request.header.${name}`, true])),
        ...Object.fromEntries(Object.keys(route.pathParams?.shape ?? {}).map((name) => [`method.request.path.${name}`, true])),
        // Query parameters are optional at the gateway: the function checks them and names a bad one.
        ...Object.fromEntries(Object.keys(route.query?.shape ?? {}).map((name) => [`method.request.querystring.${name}`, false])),
      };
      const options: apigw.MethodOptions = {
        ...(route.auth === 'jwt' ? authorized : { authorizationType: apigw.AuthorizationType.NONE }),
        ...(model ? { requestModels: { 'application/json': model } } : {}),
        ...(Object.keys(requestParameters).length ? { requestValidator: this.parametersValidator, requestParameters } : {}),
      };
      const key = `${route.method} ${route.path}`;
      const target = route.target;
      if (target.kind === 'function') {
        methods[key] = resource.addMethod(route.method, new apigw.LambdaIntegration(functions.functions[target.function], { allowTestInvoke: false }), options);
        if (route.auth === 'none') {
          // The gateways' webhooks: the gateway cannot present a Cognito token; the handler verifies each one's
          // signature on the raw body with the endpoint's signing secret before reading anything.
          const reason = `${route.summary}: called by the gateway itself, which cannot present a Cognito token; the function verifies its signature (HMAC of the raw body with the endpoint's signing secret, from Secrets Manager) before anything else, and answers 400 to anything unsigned.`;
          acknowledge(methods[key], { 'AwsSolutions-APIG4': reason, 'AwsSolutions-COG4': reason });
        }
      } else if (target.kind === 'workflow') {
        // The synchronous EXPRESS execution with our own envelope and response mapping (only the payment
        // workflow runs synchronously behind a route).
        if (target.workflow !== 'payment') throw new Error(`${key}: only the payment workflow can serve a route, not ${target.workflow}`);
        methods[key] = resource.addMethod(
          route.method,
          apigw.StepFunctionsIntegration.startExecution(props.paymentStateMachine, {
            credentialsRole: this.payIntegrationRole,
            useDefaultMethodResponses: false,
            // Only a JSON body reaches the workflow: any other Content-Type is a 415 (UNSUPPORTED_MEDIA_TYPE above).
            passthroughBehavior: apigw.PassthroughBehavior.NEVER,
            requestTemplates: { 'application/json': payRequestTemplate(props.paymentStateMachine.stateMachineArn) },
            integrationResponses: [
              { statusCode: '200', responseTemplates: { 'application/json': PAY_RESPONSE_TEMPLATE } },
              {
                // Step Functions refused the call (e.g. throttling or permissions): our side, not the client's.
                selectionPattern: '4\\d{2}',
                statusCode: '500',
                responseTemplates: { 'application/json': errorTemplate('internal_error', 'the payment workflow could not be started') },
              },
              {
                selectionPattern: '5\\d{2}',
                statusCode: '503',
                responseTemplates: { 'application/json': errorTemplate('service_unavailable', 'the payment workflow is unavailable, retry with the same Idempotency-Key') },
              },
            ],
          }),
          { ...options, methodResponses: workflowStatuses(route).map((statusCode) => ({ statusCode })) },
        );
        // The template's envelope and the functions that read it (Begin, ScoreFraud) change together: the method,
        // and so the deployment that makes it live, waits for their update, so a new template never reaches the
        // previous code during a deploy.
        methods[key].node.addDependency(functions.functions.payments, functions.functions.fraud);
      } else {
        // A fixed document: a mock integration answers it, with no backend and no data. The reference page is
        // HTML: its Content-Type is set on the integration response (a mock's default is JSON).
        const html = target.document === 'docs';
        const method = resource.addMethod(
          route.method,
          new apigw.MockIntegration({
            passthroughBehavior: apigw.PassthroughBehavior.NEVER,
            requestTemplates: { 'application/json': '{"statusCode": 200}' },
            integrationResponses: [
              {
                statusCode: '200',
                // API Gateway picks the template by the request's Accept (a browser's asks for text/html first).
                responseTemplates: html ? { 'text/html': staticTemplate(target.document), 'application/json': staticTemplate(target.document) } : { 'application/json': staticTemplate(target.document) },
                ...(html ? { responseParameters: { 'method.response.header.Content-Type': "'text/html; charset=utf-8'" } } : {}),
              },
            ],
          }),
          { ...options, methodResponses: [{ statusCode: '200', ...(html ? { responseParameters: { 'method.response.header.Content-Type': true } } : {}) }] },
        );
        const what = { health: 'liveness probe for load balancers and uptime checks', openapi: 'description of this API (its OpenAPI document)', docs: 'reference of this API (rendered from its OpenAPI document)' }[target.document];
        const reason = `A public ${what}: a mock integration returning a fixed document; it reaches no backend and returns no data.`;
        acknowledge(method, { 'AwsSolutions-APIG4': reason, 'AwsSolutions-COG4': reason });
        methods[key] = method;
      }
    }
    this.requestModels = models;
    this.methods = methods;

    acknowledge(api.deploymentStage, {
      'PCI.DSS.321-APIGWCacheEnabledAndEncrypted':
        'Caching is off on purpose: every response is per merchant and /pay is a mutating, idempotency-keyed call; a cache could serve one merchant\'s data to another or replay a payment.',
      'PCI.DSS.321-APIGWSSLEnabled':
        'A client certificate only authenticates API Gateway to HTTP backends; every integration here is a Lambda or Step Functions AWS integration authenticated with SigV4/IAM.',
    });
    const cloudWatchRole = api.node.tryFindChild('CloudWatchRole');
    if (cloudWatchRole) {
      acknowledge(cloudWatchRole, {
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]':
          'The AWS-documented service role for API Gateway execution logging; it only grants CloudWatch Logs writes to API Gateway.',
      });
    }

    if (props.existingWebAclArn) {
      new wafv2.CfnWebACLAssociation(this, 'WebAclAssociation', {
        resourceArn: api.deploymentStage.stageArn,
        webAclArn: props.existingWebAclArn,
      });
    } else {
      const visibility = (metricName: string): wafv2.CfnWebACL.VisibilityConfigProperty => ({
        cloudWatchMetricsEnabled: true,
        metricName,
        // Sampled requests would show request headers (bearer tokens) in the console.
        sampledRequestsEnabled: false,
      });
      const managed = (name: string, priority: number, ruleActionOverrides?: wafv2.CfnWebACL.RuleActionOverrideProperty[]): wafv2.CfnWebACL.RuleProperty => ({
        name,
        priority,
        overrideAction: { none: {} },
        statement: { managedRuleGroupStatement: { vendorName: 'AWS', name, ...(ruleActionOverrides ? { ruleActionOverrides } : {}) } },
        visibilityConfig: visibility(name),
      });
      // Blocks the client can act on answer in the API's error shape with their own status; the others get the
      // WAF_FILTERED gateway response (403 request_blocked).
      const responses = wafResponses(stage.wafRateLimitPer5Min);
      this.webAcl = new wafv2.CfnWebACL(this, 'WebAcl', {
        scope: 'REGIONAL',
        defaultAction: { allow: {} },
        description: `SmartPay API - ${stage.name}`,
        visibilityConfig: visibility(`SmartPayApi-${stage.name}`),
        customResponseBodies: responses.bodies,
        rules: [
          managed('AWSManagedRulesAmazonIpReputationList', 10),
          managed('AWSManagedRulesCommonRuleSet', 20, [{ name: 'SizeRestrictions_BODY', actionToUse: { block: { customResponse: responses.bodyTooLarge } } }]),
          managed('AWSManagedRulesKnownBadInputsRuleSet', 30),
          {
            name: 'RateLimitPerIp',
            priority: 40,
            action: { block: { customResponse: responses.rateLimited } },
            statement: { rateBasedStatement: { limit: stage.wafRateLimitPer5Min, aggregateKeyType: 'IP' } },
            visibilityConfig: visibility('RateLimitPerIp'),
          },
        ],
      });
      new wafv2.CfnWebACLAssociation(this, 'WebAclAssociation', {
        resourceArn: api.deploymentStage.stageArn,
        webAclArn: this.webAcl.attrArn,
      });
      this.wafLogGroup = new logs.LogGroup(this, 'WafLogs', {
        // WAF only delivers to log groups whose name starts with aws-waf-logs-.
        logGroupName: `aws-waf-logs-${Names.uniqueResourceName(this, { maxLength: 200 })}`,
        retention: stage.logRetention,
        encryptionKey: props.logEncryptionKey,
        removalPolicy,
      });
      new wafv2.CfnLoggingConfiguration(this, 'WafLogging', {
        resourceArn: this.webAcl.attrArn,
        logDestinationConfigs: [
          Stack.of(this).formatArn({
            service: 'logs',
            resource: 'log-group',
            resourceName: this.wafLogGroup.logGroupName,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
        redactedFields: [{ singleHeader: { Name: 'authorization' } }],
      });
    }
  }

  /** The invoke URL of the stage. */
  public get url(): string {
    return this.restApi.url;
  }
}
