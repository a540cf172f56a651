/**
 * SmartPayStack (dev) template: API, auth, functions, workflows, data and alarms. The stack is built once.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { ENV, METRICS, TABLES } from '../../contracts/resources';
import { render } from 'velocityjs';
import { ErrorBody, toRequestModelSchema } from '../../contracts/api';
import { eventPattern } from '../../contracts/events';
import { openApiDocument } from '../../contracts/openapi';
import { apiReferenceHtml } from '../../contracts/api-docs';
import { allFunctions, allRoutes } from '../../contracts/topology';
import { SmartPayStack, STAGES } from '../../lib';
import { WAF_BODY_LIMIT_BYTES } from '../../lib/api';

/** Every route with a JSON body, by `METHOD /path`. */
const REQUEST_SCHEMAS = Object.fromEntries(allRoutes().flatMap((r) => (r.request ? [[`${r.method} ${r.path}`, r.request] as const] : [])));
import {
  actionsOf,
  apiMethods,
  deadLetterQueues,
  fastApp,
  logicalIdOf,
  openFindings,
  policyStatements,
  queuesWithDepthAlarm,
  resourcesOf,
  ROOT,
  statementsOfRole,
  unbackedAcknowledgements,
} from './support';

const readAsl = (file: string) => readFileSync(path.join(ROOT, 'statemachines', file), 'utf8');

let template: Template;
let stack: SmartPayStack;
const id = (type: string, prefix: string) => logicalIdOf(template, type, prefix);
const fnId = (area: string) => id('AWS::Lambda::Function', `SmartPayFunctions${area}Function`);
const roleId = (area: string) => id('AWS::IAM::Role', `SmartPayFunctions${area}Role`);

beforeAll(() => {
  stack = new SmartPayStack(fastApp(), 'SmartPay-dev', { stage: STAGES.dev });
  template = Template.fromStack(stack);
});

describe('stable logical IDs of stateful resources', () => {
  test.each([
    ['AWS::KMS::Key', 'SmartPayDataKeyE70D8BC8'],
    ['AWS::DynamoDB::Table', 'SmartPayDataPaymentsTable7F7C4C99'],
    ['AWS::DynamoDB::Table', 'SmartPayDataIdempotencyTable190B9A44'],
    ['AWS::DynamoDB::Table', 'SmartPayDataRoutingTableB559FD7F'],
    ['AWS::DynamoDB::Table', 'SmartPayDataRewardsTable61E0C74D'],
    ['AWS::DynamoDB::Table', 'SmartPayDataFraudStateTable75D60B00'],
    ['AWS::DynamoDB::Table', 'SmartPayDataAnalyticsTableACAAFC12'],
    ['AWS::Cognito::UserPool', 'SmartPayAuthUserPool446517A3'],
    ['AWS::SQS::Queue', 'SmartPayWorkflowsRewardDlq76302A28'],
    ['AWS::SQS::Queue', 'SmartPayWorkflowsRewardRuleDlqFF851D37'],
    ['AWS::SQS::Queue', 'SmartPayWorkflowsRoutingUpdatesQueueA8D6ED1D'],
    ['AWS::SQS::Queue', 'SmartPayWorkflowsRoutingUpdatesDlqDFA50F9B'],
    ['AWS::Events::EventBus', 'SmartPayWorkflowsEventBusBB45160B'],
  ])('%s %s', (type, logicalId) => {
    expect(template.findResources(type)[logicalId]).toBeDefined();
  });
});

describe('data', () => {
  test('six on-demand, PITR, KMS-encrypted tables with the TABLES key schemas', () => {
    const keyId = 'SmartPayDataKeyE70D8BC8';
    const expected: Record<string, { partitionKey: string; sortKey?: string; timeToLiveAttribute?: string }> = {
      SmartPayDataPaymentsTable7F7C4C99: TABLES.payments,
      SmartPayDataIdempotencyTable190B9A44: TABLES.idempotency,
      SmartPayDataRoutingTableB559FD7F: TABLES.routing,
      SmartPayDataRewardsTable61E0C74D: TABLES.rewards,
      SmartPayDataFraudStateTable75D60B00: TABLES.fraudState,
      SmartPayDataAnalyticsTableACAAFC12: TABLES.analytics,
    };
    expect(resourcesOf(template, 'AWS::DynamoDB::Table')).toHaveLength(6);
    for (const [logicalId, schema] of Object.entries(expected)) {
      const table = template.findResources('AWS::DynamoDB::Table')[logicalId];
      expect(table.Properties).toMatchObject({
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } },
      });
      const keySchema = [{ AttributeName: schema.partitionKey, KeyType: 'HASH' }];
      if (schema.sortKey) keySchema.push({ AttributeName: schema.sortKey, KeyType: 'RANGE' });
      expect(table.Properties.KeySchema).toEqual(keySchema);
      if (schema.timeToLiveAttribute) {
        expect(table.Properties.TimeToLiveSpecification).toEqual({ AttributeName: schema.timeToLiveAttribute, Enabled: true });
      }
    }
  });

  test('one customer-managed key with rotation', () => {
    template.resourceCountIs('AWS::KMS::Key', 1);
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  test('dev destroys data and has no deletion protection', () => {
    for (const [, table] of resourcesOf(template, 'AWS::DynamoDB::Table')) {
      expect(table.DeletionPolicy).toBe('Delete');
      expect(table.Properties!.DeletionProtectionEnabled).toBe(false);
    }
    expect(template.findResources('AWS::Cognito::UserPool').SmartPayAuthUserPool446517A3.DeletionPolicy).toBe('Delete');
    expect(stack.terminationProtection).toBe(false);
  });
});

describe('api', () => {
  let methods: ReturnType<typeof apiMethods>;
  beforeAll(() => {
    methods = apiMethods(template);
  });

  test('exactly the documented routes', () => {
    expect(Object.keys(methods).sort()).toEqual(
      [
        'GET /health',
        'GET /openapi.json',
        'GET /docs',
        'GET /payments',
        'GET /payments/{id}',
        'POST /payments/{id}/refund',
        'POST /webhooks/amazon-pay/{connectorId}',
        'POST /webhooks/stripe/{connectorId}',
        'GET /reward/relay',
        'GET /rewards/{wallet}',
        'POST /chat',
        'GET /insights',
        'POST /fraud',
        'GET /fraud/labels',
        'POST /fraud/labels',
        'POST /pay',
        'POST /reward',
        'POST /reward/relay',
        'POST /route',
        'GET /route/state',
        'POST /route/feedback',
      ].sort(),
    );
  });

  test('the Cognito authorizer guards every business route; /health, /openapi.json and /docs have none', () => {
    const authorizerId = id('AWS::ApiGateway::Authorizer', 'SmartPayApiAuthorizer');
    template.hasResourceProperties('AWS::ApiGateway::Authorizer', {
      Type: 'COGNITO_USER_POOLS',
      IdentitySource: 'method.request.header.Authorization',
      ProviderARNs: [{ 'Fn::GetAtt': ['SmartPayAuthUserPool446517A3', 'Arn'] }],
    });
    for (const [route, method] of Object.entries(methods)) {
      if (route === 'GET /health' || route === 'GET /openapi.json' || route === 'GET /docs') continue;
      if (route === 'POST /webhooks/stripe/{connectorId}' || route === 'POST /webhooks/amazon-pay/{connectorId}') {
        // Stripe and Amazon Pay (through SNS) sign their webhooks; they cannot present a Cognito token (the function verifies the signature).
        expect(method.Properties!.AuthorizationType).toBe('NONE');
        continue;
      }
      expect({ route, type: method.Properties!.AuthorizationType, authorizer: method.Properties!.AuthorizerId }).toEqual({
        route,
        type: 'COGNITO_USER_POOLS',
        authorizer: { Ref: authorizerId },
      });
    }
    const health = methods['GET /health'].Properties!;
    expect(health.AuthorizationType).toBe('NONE');
    expect(health.AuthorizerId).toBeUndefined();
    expect(health.Integration).toMatchObject({ Type: 'MOCK', IntegrationResponses: [{ StatusCode: '200' }] });
    // The template is rendered by API Gateway's VTL: the document sits in an unparsed block, written as is.
    const rendered = (method: string) => JSON.parse(render(methods[method].Properties!.Integration.IntegrationResponses[0].ResponseTemplates['application/json'], {}));
    expect(rendered('GET /health')).toEqual({ status: 'ok' });
    const openapi = methods['GET /openapi.json'].Properties!;
    expect(openapi.AuthorizationType).toBe('NONE');
    expect(rendered('GET /openapi.json')).toEqual(JSON.parse(JSON.stringify(openApiDocument())));
    expect(JSON.stringify(rendered('GET /openapi.json'))).toContain('"$ref":"#/components/schemas/PaymentRequest"');
    // GET /payments declares its query parameters (optional at the gateway: the function names a bad one).
    expect(methods['GET /payments'].Properties!.RequestParameters).toMatchObject({ 'method.request.querystring.limit': false, 'method.request.querystring.cursor': false, 'method.request.querystring.status': false });
    // The reference page: HTML, whatever the browser's Accept, with its Content-Type set on the answer.
    const docs = methods['GET /docs'].Properties!;
    expect(docs.AuthorizationType).toBe('NONE');
    const response = docs.Integration.IntegrationResponses[0];
    expect(response.ResponseParameters).toEqual({ 'method.response.header.Content-Type': "'text/html; charset=utf-8'" });
    expect(docs.MethodResponses).toEqual([{ StatusCode: '200', ResponseParameters: { 'method.response.header.Content-Type': true } }]);
    for (const type of ['text/html', 'application/json']) expect(render(response.ResponseTemplates[type], {})).toBe(apiReferenceHtml());
  });

  test('request models are generated from the zod schemas (JSON Schema draft 4)', () => {
    const models = resourcesOf(template, 'AWS::ApiGateway::Model');
    expect(models).toHaveLength(Object.keys(REQUEST_SCHEMAS).length);
    for (const [route, { name, schema }] of Object.entries(REQUEST_SCHEMAS)) {
      const method = methods[route].Properties!;
      const modelRef = method.RequestModels['application/json'].Ref as string;
      const model = template.findResources('AWS::ApiGateway::Model')[modelRef].Properties;
      expect(model.ContentType).toBe('application/json');
      expect(model.Name).toBe(name);
      expect(model.Schema).toEqual({
        ...toRequestModelSchema(schema),
        $schema: 'http://json-schema.org/draft-04/schema#',
        title: model.Name,
      });
    }
    const pay = template.findResources('AWS::ApiGateway::Model')[methods['POST /pay'].Properties!.RequestModels['application/json'].Ref];
    expect(pay.Properties.Schema.required).toEqual(['amount', 'currency', 'customerId', 'paymentMethod']);
    expect(pay.Properties.Schema.additionalProperties).toBe(false);
  });

  test('bodies are validated by the functions (field-level errors), /pay requires the Idempotency-Key header', () => {
    const validators = template.findResources('AWS::ApiGateway::RequestValidator');
    // API Gateway's body validation could only answer with its message pasted unescaped into JSON.
    for (const [, v] of Object.entries(validators)) expect(v.Properties.ValidateRequestBody).toBe(false);
    for (const route of Object.keys(REQUEST_SCHEMAS)) {
      expect(methods[route].Properties!.RequestModels).toEqual({ 'application/json': { Ref: expect.stringMatching(/Model/) } });
    }
    const pay = methods['POST /pay'].Properties!;
    expect(pay.RequestParameters).toEqual({ 'method.request.header.Idempotency-Key': true });
    expect(validators[pay.RequestValidatorId.Ref].Properties.ValidateRequestParameters).toBe(true);
    const get = methods['GET /payments/{id}'].Properties!;
    expect(get.RequestParameters).toEqual({ 'method.request.path.id': true });
  });

  test('Lambda routes are proxy integrations of the right functions', () => {
    const expected: Record<string, string> = {
      'POST /fraud': 'Fraud',
      'POST /fraud/labels': 'Fraud',
      'POST /route': 'Routing',
      'POST /route/feedback': 'Routing',
      'POST /reward': 'Rewards',
      'GET /rewards/{wallet}': 'Rewards',
      'POST /chat': 'Analytics',
      'GET /payments/{id}': 'Payments',
    };
    for (const [route, area] of Object.entries(expected)) {
      const integration = methods[route].Properties!.Integration;
      expect(integration.Type).toBe('AWS_PROXY');
      expect(JSON.stringify(integration.Uri)).toContain(fnId(area));
    }
  });

  test('POST /pay starts the EXPRESS machine synchronously with the internals.md envelope', () => {
    // The template goes live only after the functions that read its envelope are updated (a deploy never sends
    // the new envelope to the previous code).
    expect((methods['POST /pay'] as { DependsOn?: string[] }).DependsOn).toEqual(expect.arrayContaining([fnId('Payments'), fnId('Fraud')]));
    // ... and the deployment the stage serves waits for the method (CDK's own rule, relied on here).
    const payMethodId = Object.entries(template.findResources('AWS::ApiGateway::Method')).find(([, m]) => JSON.stringify(m) === JSON.stringify(methods['POST /pay']))![0];
    const deployments = Object.values(template.findResources('AWS::ApiGateway::Deployment'));
    expect(deployments).toHaveLength(1);
    expect(deployments[0].DependsOn).toEqual(expect.arrayContaining([payMethodId]));
    const pay = methods['POST /pay'].Properties!;
    const integration = pay.Integration;
    expect(integration.Type).toBe('AWS');
    expect(JSON.stringify(integration.Uri)).toContain('states:action/StartSyncExecution');
    expect(integration.PassthroughBehavior).toBe('NEVER');
    const parts: unknown[] = integration.RequestTemplates['application/json']['Fn::Join'][1];
    const vtl = parts.map((p) => (typeof p === 'string' ? p : `<${JSON.stringify(p)}>`)).join('');
    // The envelope's six fields, from the documented sources, escaped like CDK's stepfunctions.vtl: the body's
    // text unparsed ($input.body, not $input.json), so Begin checks it as every route's body is checked.
    expect(vtl).not.toContain('$input.json');
    for (const fragment of [
      '$util.escapeJavaScript($input.body)',
      "input.params('Content-Type')",
      "input.params('Content-Encoding')",
      "context.authorizer.claims['custom:merchantId']",
      "input.params('Idempotency-Key')",
      '$context.requestId',
      '${q}bodyText${q}',
      '${q}contentType${q}',
      '${q}contentEncoding${q}',
      '${q}merchantId${q}',
      '${q}idempotencyKey${q}',
      '${q}requestId${q}',
      '$util.escapeJavaScript($inputString)',
    ]) {
      expect(vtl).toContain(fragment);
    }
    // Each of the six values and the whole input are escaped, with JavaScript's \' turned back into '.
    expect(vtl.split(`.replaceAll("\\\\'","'")`)).toHaveLength(8);
    expect(vtl).toContain('"stateMachineArn": "<{"Ref":"SmartPayWorkflowsPaymentStateMachine9D8FAAE8"}>"');

    const [ok, ...errors] = integration.IntegrationResponses;
    expect(ok.StatusCode).toBe('200');
    expect(ok.SelectionPattern).toBeUndefined();
    const response = ok.ResponseTemplates['application/json'] as string;
    expect(response).toContain("#if($input.path('$.status') == 'SUCCEEDED')");
    expect(response).toContain("$util.parseJson($input.path('$.output'))");
    expect(response).toContain('#set($context.responseOverride.status = $output.status)');
    expect(response).toMatch(/^\$output\.body$/m);
    // A FAILED or TIMED_OUT execution may have moved money: 202 processing, never a 5xx.
    expect(response).toContain('#set($context.responseOverride.status = 202)');
    expect(response).not.toContain('status = 500');
    expect(response).toContain('"status":"processing"');
    expect(errors.map((e: { SelectionPattern: string; StatusCode: string }) => [e.SelectionPattern, e.StatusCode])).toEqual([
      ['4\\d{2}', '500'],
      ['5\\d{2}', '503'],
    ]);
    // Every status /pay answers (contracts/topology.ts), the authorizer's, and 500 for an execution that did not complete.
    expect(pay.MethodResponses.map((r: { StatusCode: string }) => r.StatusCode)).toEqual(['201', '202', '400', '401', '402', '403', '409', '413', '415', '422', '500', '503']);
  });

  test('the /pay integration role may only start sync executions of the payment machine', () => {
    const role = id('AWS::IAM::Role', 'SmartPayApiPayIntegrationRole');
    expect(statementsOfRole(template, role)).toEqual([
      { Action: 'states:StartSyncExecution', Effect: 'Allow', Resource: { Ref: 'SmartPayWorkflowsPaymentStateMachine9D8FAAE8' } },
    ]);
  });

  test('gateway responses use the API error shape and render valid JSON', () => {
    const byType = Object.fromEntries(
      resourcesOf(template, 'AWS::ApiGateway::GatewayResponse').map(([, r]) => [r.Properties!.ResponseType, r.Properties!]),
    );
    for (const type of ['BAD_REQUEST_BODY', 'BAD_REQUEST_PARAMETERS', 'UNAUTHORIZED', 'ACCESS_DENIED', 'THROTTLED', 'WAF_FILTERED', 'DEFAULT_4XX', 'DEFAULT_5XX']) {
      expect(byType[type]).toBeDefined();
      const body = byType[type].ResponseTemplates['application/json'] as string;
      // What API Gateway substitutes: messageString is a quoted JSON string, the others are raw text.
      const rendered = body
        .replaceAll('$context.error.messageString', '"Unauthorized"')
        .replaceAll('$context.error.validationErrorString', 'Missing required request parameters: [Idempotency-Key]')
        .replaceAll('$context.requestId', 'req-1');
      const parsed = JSON.parse(rendered);
      expect(parsed).toEqual({ error: { code: expect.any(String), message: expect.any(String), details: { requestId: 'req-1' } } });
    }
    // Body validation messages quote property names (["amount"]): never pasted into JSON.
    expect(byType.BAD_REQUEST_BODY.ResponseTemplates['application/json']).not.toContain('validationErrorString');
    expect(byType.BAD_REQUEST_PARAMETERS.ResponseTemplates['application/json']).toContain('$context.error.validationErrorString');
    expect(byType.BAD_REQUEST_BODY.StatusCode).toBe('400');
    expect(byType.UNAUTHORIZED.StatusCode).toBe('401');
    expect(byType.ACCESS_DENIED.StatusCode).toBe('403');
    // Admission control, as the local platform's: 503 + Retry-After before the integration (no key is claimed).
    expect(byType.THROTTLED.StatusCode).toBe('503');
    expect(byType.THROTTLED.ResponseParameters).toEqual({ 'gatewayresponse.header.Retry-After': "'1'" });
    expect(byType.THROTTLED.ResponseTemplates['application/json']).toContain('"code":"service_unavailable"');
  });

  test("the web ACL's blocks answer in the API's error shape: a body over its size rule 413, its rate limit 429 with Retry-After, the rest 403", () => {
    const acl = resourcesOf(template, 'AWS::WAFv2::WebACL')[0][1].Properties!;
    const bodies = acl.CustomResponseBodies as Record<string, { ContentType: string; Content: string }>;
    const parsed = Object.fromEntries(Object.entries(bodies).map(([key, body]) => [key, ErrorBody.parse(JSON.parse(body.Content))]));
    for (const body of Object.values(bodies)) expect(body.ContentType).toBe('APPLICATION_JSON');
    const rules = Object.fromEntries((acl.Rules as Array<{ Name: string }>).map((rule) => [rule.Name, rule])) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- CloudFormation JSON
    // The common rule set's body-size rule keeps blocking, with a 413 naming the body and the limit.
    expect(rules.AWSManagedRulesCommonRuleSet.Statement.ManagedRuleGroupStatement.RuleActionOverrides).toEqual([
      { Name: 'SizeRestrictions_BODY', ActionToUse: { Block: { CustomResponse: { ResponseCode: 413, CustomResponseBodyKey: 'bodyTooLarge' } } } },
    ]);
    expect(parsed.bodyTooLarge.error).toMatchObject({ code: 'payload_too_large', details: { issues: [{ field: '(body)', problem: expect.stringContaining(`${WAF_BODY_LIMIT_BYTES.toLocaleString('en-US')} bytes`) }] } });
    expect(rules.RateLimitPerIp.Action).toEqual({ Block: { CustomResponse: { ResponseCode: 429, CustomResponseBodyKey: 'rateLimited', ResponseHeaders: [{ Name: 'Retry-After', Value: '60' }] } } });
    expect(rules.RateLimitPerIp.Statement.RateBasedStatement.Limit).toBe(STAGES.dev.wafRateLimitPer5Min);
    expect(parsed.rateLimited.error.message).toContain(`more than ${STAGES.dev.wafRateLimitPer5Min.toLocaleString('en-US')} requests`);
    // Every custom response names a body the web ACL holds (CloudFormation would refuse an unknown key at deploy).
    const keys = JSON.stringify(acl.Rules).match(/"CustomResponseBodyKey":"[^"]+"/g)!.map((k) => k.split(':')[1].replaceAll('"', ''));
    expect(new Set(keys)).toEqual(new Set(Object.keys(bodies)));
  });

  test('stage: throttling from the stage config, X-Ray, JSON access logs, error-only execution logs without data', () => {
    const stage = resourcesOf(template, 'AWS::ApiGateway::Stage')[0][1].Properties!;
    expect(stage.StageName).toBe('dev');
    expect(stage.TracingEnabled).toBe(true);
    expect(stage.MethodSettings).toEqual([
      expect.objectContaining({
        ThrottlingRateLimit: STAGES.dev.throttling.rateLimit,
        ThrottlingBurstLimit: STAGES.dev.throttling.burstLimit,
        LoggingLevel: 'ERROR',
        DataTraceEnabled: false,
        HttpMethod: '*',
        ResourcePath: '/*',
      }),
    ]);
    const format = JSON.parse(stage.AccessLogSetting.Format);
    expect(format).toMatchObject({ requestId: '$context.requestId', status: '$context.status' });
    expect(JSON.stringify(stage.AccessLogSetting.DestinationArn)).toContain('SmartPayApiAccessLogs');
  });

  test('a WAF web ACL is associated with the stage and logs with the Authorization header redacted', () => {
    template.hasResourceProperties('AWS::WAFv2::WebACLAssociation', {
      WebACLArn: { 'Fn::GetAtt': [id('AWS::WAFv2::WebACL', 'SmartPayApiWebAcl'), 'Arn'] },
    });
    template.hasResourceProperties('AWS::WAFv2::LoggingConfiguration', {
      RedactedFields: [{ SingleHeader: { Name: 'authorization' } }],
    });
  });
});

describe('auth', () => {
  test('merchantId is an immutable custom attribute; MFA and a strong password policy are required', () => {
    template.hasResourceProperties('AWS::Cognito::UserPool', {
      Schema: Match.arrayWith([Match.objectLike({ Name: 'merchantId', AttributeDataType: 'String', Mutable: false })]),
      MfaConfiguration: 'ON',
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      Policies: {
        PasswordPolicy: Match.objectLike({
          MinimumLength: 14,
          RequireLowercase: true,
          RequireUppercase: true,
          RequireNumbers: true,
          RequireSymbols: true,
        }),
      },
    });
  });

  test('the app client reads but cannot write custom:merchantId', () => {
    const client = resourcesOf(template, 'AWS::Cognito::UserPoolClient')[0][1].Properties!;
    expect(client.ReadAttributes).toContain('custom:merchantId');
    expect(client.WriteAttributes).not.toContain('custom:merchantId');
    expect(client.GenerateSecret).toBe(false);
    // No plain USER_PASSWORD_AUTH: passwords never travel to Cognito except through SRP or an IAM-signed admin call.
    expect([...client.ExplicitAuthFlows].sort()).toEqual(['ALLOW_ADMIN_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH', 'ALLOW_USER_SRP_AUTH']);
  });
});

const areas = ['Fraud', 'Routing', 'Payments', 'Rewards', 'Analytics'];

describe('functions', () => {
  test.each(areas)('%s: ARM64, latest Node, X-Ray, explicit memory/timeout, Powertools env', (area) => {
    const fn = template.findResources('AWS::Lambda::Function')[fnId(area)].Properties;
    expect(fn).toMatchObject({
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      TracingConfig: { Mode: 'Active' },
      Handler: 'index.handler',
      LoggingConfig: expect.objectContaining({ LogFormat: 'JSON' }),
    });
    expect(fn.MemorySize).toBeGreaterThanOrEqual(512);
    expect(fn.Timeout).toBeGreaterThan(3);
    expect(fn.Environment.Variables).toMatchObject({
      POWERTOOLS_SERVICE_NAME: area.toLowerCase(),
      // The platform's own namespace: SmartPay/<stage>-<hash of its path>.
      POWERTOOLS_METRICS_NAMESPACE: stack.platform.functions.metricsNamespace,
      POWERTOOLS_LOG_LEVEL: STAGES.dev.logLevel,
      [ENV.stage]: 'dev',
    });
  });

  test('each function is told the names of exactly the tables it may use', () => {
    const tablesOf = (area: string) =>
      Object.keys(template.findResources('AWS::Lambda::Function')[fnId(area)].Properties.Environment.Variables)
        .filter((k) => k.endsWith('_TABLE_NAME'))
        .sort();
    expect(Object.fromEntries(areas.map((area) => [area, tablesOf(area)]))).toEqual({
      Fraud: ['FRAUD_STATE_TABLE_NAME', 'PAYMENTS_TABLE_NAME'],
      Routing: ['ROUTING_TABLE_NAME'],
      Payments: ['IDEMPOTENCY_TABLE_NAME', 'PAYMENTS_TABLE_NAME'],
      Rewards: ['PAYMENTS_TABLE_NAME', 'REWARDS_TABLE_NAME'],
      Analytics: ['ANALYTICS_TABLE_NAME', 'PAYMENTS_TABLE_NAME', 'REWARDS_TABLE_NAME'],
    });
  });

  test('per-function environment from the contracts and the stage config; nothing for code that does not exist yet', () => {
    const env = (area: string) => template.findResources('AWS::Lambda::Function')[fnId(area)].Properties.Environment.Variables;
    // The dev stage keeps the served model's own thresholds (its manifest.json).
    expect(env('Fraud').FRAUD_REVIEW_THRESHOLD).toBeUndefined();
    expect(env('Fraud').FRAUD_DECLINE_THRESHOLD).toBeUndefined();
    expect(env('Fraud').FRAUD_ENDPOINT_NAME).toBeUndefined();
    expect(env('Payments')).toMatchObject({
      MAX_PAYMENT_ATTEMPTS: '3',
      IDEMPOTENCY_TABLE_NAME: { Ref: 'SmartPayDataIdempotencyTable190B9A44' },
    });
    expect(env('Rewards')).toMatchObject({ REWARD_TOKEN_DECIMALS: '6' });
    // Stripe's key never reaches a function's environment (it is in the gateway credentials secret); the Solana
    // settings are set only on a stage with a reward token; the LLM's arrive with the code that reads them.
    const unread: string[] = [
      ENV.stripeSecretKey,
      ENV.stripeWebhookSecret,
      ENV.solanaRpcUrl,
      ENV.splTokenMintAddress,
      ENV.solanaMintAuthoritySecretArn,
      ENV.solanaTreasurySecretArn,
      ENV.llmApiKeySecretArn,
    ];
    for (const area of [...areas, 'RoutingUpdater']) {
      const set = Object.keys(env(area)).filter((k) => unread.includes(k) || /SECRET/.test(k));
      // The one secret every stage has: the generated key of the cards' fingerprints, the payments function's.
      expect({ area, set }).toEqual({ area, set: area === 'Payments' ? [ENV.cardFingerprintSecretArn] : [] });
    }
  });

  test('every log group is KMS-encrypted with a retention', () => {
    const groups = resourcesOf(template, 'AWS::Logs::LogGroup');
    expect(groups.length).toBeGreaterThanOrEqual(5 + 2 + 2);
    for (const [, group] of groups) {
      expect(group.Properties!.KmsKeyId).toEqual({ 'Fn::GetAtt': ['SmartPayDataKeyE70D8BC8', 'Arn'] });
      expect(group.Properties!.RetentionInDays).toBe(7);
    }
  });
});

describe('least privilege', () => {
  test('no statement grants a whole service or everything', () => {
    for (const { policy, statement } of policyStatements(template)) {
      for (const action of actionsOf(statement)) {
        expect({ policy, action }).not.toEqual({ policy, action: expect.stringMatching(/^(\*|[a-z0-9-]+:\*)$/) });
      }
    }
  });

  const tableActions = (area: string) => {
    const byTable: Record<string, string[]> = {};
    for (const s of statementsOfRole(template, roleId(area))) {
      const dynamo = actionsOf(s).filter((a) => a.startsWith('dynamodb:'));
      if (!dynamo.length) continue;
      for (const r of [].concat(s.Resource)) {
        const table = JSON.stringify(r).match(/SmartPayData(\w+?)Table/)?.[1] ?? JSON.stringify(r);
        byTable[table] = [...(byTable[table] ?? []), ...dynamo];
      }
    }
    return byTable;
  };
  const writes = (actions: string[] = []) => actions.some((a) => /PutItem|UpdateItem|DeleteItem|BatchWriteItem/.test(a));

  test('table grants follow the design', () => {
    // "*": dynamodb:ListStreams, which the stream's event source mapping needs (it has no resource-level form).
    expect(Object.keys(tableActions('Payments')).sort()).toEqual(['"*"', 'Idempotency', 'Payments']);
    expect(tableActions('Payments')['"*"']).toEqual(['dynamodb:ListStreams']);
    expect(writes(tableActions('Payments').Payments) && writes(tableActions('Payments').Idempotency)).toBe(true);
    expect(Object.keys(tableActions('Routing'))).toEqual(['Routing']);
    expect(writes(tableActions('Routing').Routing)).toBe(true);
    expect(Object.keys(tableActions('Rewards')).sort()).toEqual(['Payments', 'Rewards']);
    expect(writes(tableActions('Rewards').Rewards)).toBe(true);
    expect(writes(tableActions('Rewards').Payments)).toBe(false);
    // The analytics function's data is its index (OpenSearch) and its claims; it reads the payments and the rewards only to rebuild the index.
    expect(Object.keys(tableActions('Analytics')).sort()).toEqual(['Analytics', 'Payments', 'Rewards']);
    expect(writes(tableActions('Analytics').Analytics)).toBe(true);
    expect(writes(tableActions('Analytics').Payments)).toBe(false);
    expect(writes(tableActions('Analytics').Rewards)).toBe(false);
    expect(Object.keys(tableActions('Fraud')).sort()).toEqual(['FraudState', 'Payments']);
    expect(writes(tableActions('Fraud').FraudState)).toBe(true);
    expect(writes(tableActions('Fraud').Payments)).toBe(false);
  });

  test('a stage without a reward mint: one secret, the generated card fingerprint key, read by the payments function alone; no Solana settings', () => {
    template.resourceCountIs('AWS::SecretsManager::Secret', 1);
    const [keyId, secret] = Object.entries(template.findResources('AWS::SecretsManager::Secret'))[0]!;
    expect(secret.Properties).toMatchObject({ GenerateSecretString: { PasswordLength: 64, ExcludePunctuation: true }, KmsKeyId: expect.anything() });
    const secretReaders = policyStatements(template)
      .filter(({ statement }) => actionsOf(statement).some((a) => a.startsWith('secretsmanager:')))
      .map(({ roles, statement }) => ({ roles: JSON.stringify(roles), resource: statement.Resource }));
    expect(secretReaders).toEqual([{ roles: expect.stringContaining('SmartPayFunctionsPaymentsRole'), resource: { Ref: keyId } }]);
    expect(template.findResources('AWS::Lambda::Function')[fnId('Payments')].Properties.Environment.Variables.CARD_FINGERPRINT_SECRET_ARN).toEqual({ Ref: keyId });
    const env = template.findResources('AWS::Lambda::Function')[fnId('Rewards')].Properties.Environment.Variables;
    expect(Object.keys(env).filter((v) => /SOLANA|SPL_/.test(v))).toEqual([]);
  });

  test('a stage with a reward mint: the rewards function alone reads the mint authority and treasury secrets, by ARN in its environment', () => {
    const app = fastApp();
    const arn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:smartpay/mint-authority-AbCdEf';
    const treasuryArn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:smartpay/treasury-GhIjKl';
    const secrets = new Stack(app, 'Secrets');
    const mintAuthoritySecret = secretsmanager.Secret.fromSecretCompleteArn(secrets, 'MintAuthority', arn);
    const treasurySecret = secretsmanager.Secret.fromSecretCompleteArn(secrets, 'Treasury', treasuryArn);
    const mint = '9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin';
    const minting = new SmartPayStack(app, 'SmartPay-mint', {
      stage: { ...STAGES.dev, rewardTokenMint: mint, solanaRpcUrl: 'https://rpc.example.com', relayDailyLimit: 50 },
      platform: { mintAuthoritySecret, treasurySecret },
    });
    const t = Template.fromStack(minting);
    const fnOf = (area: string) => logicalIdOf(t, 'AWS::Lambda::Function', `SmartPayFunctions${area}Function`);
    const env = t.findResources('AWS::Lambda::Function')[fnOf('Rewards')].Properties.Environment.Variables;
    expect(env).toMatchObject({ SPL_TOKEN_MINT_ADDRESS: mint, SOLANA_RPC_URL: 'https://rpc.example.com', SOLANA_MINT_AUTHORITY_SECRET_ARN: arn, SOLANA_TREASURY_SECRET_ARN: treasuryArn, RELAY_DAILY_LIMIT: '50' });
    const readers = policyStatements(t)
      .filter(({ statement }) => actionsOf(statement).includes('secretsmanager:GetSecretValue'))
      .map(({ roles, statement }) => ({ roles: JSON.stringify(roles), resource: statement.Resource }));
    expect(readers).toEqual([
      { roles: expect.stringContaining('SmartPayFunctionsPaymentsRole'), resource: { Ref: expect.stringMatching(/^SmartPayCardFingerprintKey/) } },
      { roles: expect.stringContaining('SmartPayFunctionsRewardsRole'), resource: [arn, treasuryArn] },
    ]);
    // No secret value anywhere in the template.
    expect(JSON.stringify(t.toJSON())).not.toMatch(/"\[\d+(,\d+){63}\]"/);
    expect(() => new SmartPayStack(fastApp(), 'SmartPay-nokey', { stage: { ...STAGES.dev, rewardTokenMint: mint } })).toThrow(/rewardTokenMint but no mintAuthoritySecret/);
    expect(() => new SmartPayStack(fastApp(), 'SmartPay-badmint', { stage: { ...STAGES.dev, rewardTokenMint: 'not-a-key' }, platform: { mintAuthoritySecret } })).toThrow(/rewardTokenMint/);
    expect(() => new SmartPayStack(fastApp(), 'SmartPay-badbudget', { stage: { ...STAGES.dev, rewardTokenMint: mint, relayDailyLimit: -1 }, platform: { mintAuthoritySecret } })).toThrow(/relayDailyLimit/);
    expect(() => new SmartPayStack(fastApp(), 'SmartPay-notoken', { stage: STAGES.dev, platform: { treasurySecret } })).toThrow(/treasurySecret was given but the stage has no rewardTokenMint/);
  });

  test('a stage with a Stripe connector: the payments function alone reads the gateway credentials secret, by ARN; without it synth fails', () => {
    const app = fastApp();
    const arn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:smartpay/gateways-AbCdEf';
    const secrets = new Stack(app, 'Secrets');
    const gatewayCredentialsSecret = secretsmanager.Secret.fromSecretCompleteArn(secrets, 'Gateways', arn);
    const stripe = { id: 'stripe-us', kind: 'stripe' as const, enabled: true, methods: ['card' as const], currencies: ['USD'], regions: ['US'], fee: { basisPoints: 290, fixedMinor: 30 } };
    const stage = { ...STAGES.dev, connectors: [stripe] };
    const t = Template.fromStack(new SmartPayStack(app, 'SmartPay-stripe', { stage, platform: { gatewayCredentialsSecret } }));
    const fnOf = (area: string) => logicalIdOf(t, 'AWS::Lambda::Function', `SmartPayFunctions${area}Function`);
    const env = t.findResources('AWS::Lambda::Function')[fnOf('Payments')].Properties.Environment.Variables;
    expect(env).toMatchObject({ GATEWAY_CREDENTIALS_SECRET_ARN: arn });
    expect(env.STRIPE_API_URL).toBeUndefined();
    expect(env.STRIPE_SECRET_KEY).toBeUndefined();
    const readers = policyStatements(t)
      .filter(({ statement }) => actionsOf(statement).includes('secretsmanager:GetSecretValue'))
      .map(({ roles, statement }) => ({ roles: JSON.stringify(roles), resource: statement.Resource }));
    expect(readers).toEqual([{ roles: expect.stringContaining('SmartPayFunctionsPaymentsRole'), resource: [arn, { Ref: expect.stringMatching(/^SmartPayCardFingerprintKey/) }] }]);
    expect(() => new SmartPayStack(fastApp(), 'SmartPay-nogw', { stage })).toThrow(/stripe-us are real gateways but no gatewayCredentialsSecret/);
  });

  test('function roles write only to their own log group (no AWSLambdaBasicExecutionRole)', () => {
    for (const area of areas) {
      const role = template.findResources('AWS::IAM::Role')[roleId(area)].Properties;
      expect(role.ManagedPolicyArns).toBeUndefined();
      const logStatements = statementsOfRole(template, roleId(area)).filter((s) => actionsOf(s).some((a) => a.startsWith('logs:')));
      expect(logStatements).toEqual([
        expect.objectContaining({
          Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          Resource: { 'Fn::GetAtt': [id('AWS::Logs::LogGroup', `SmartPayFunctions${area}LogGroup`), 'Arn'] },
        }),
      ]);
    }
  });
});

describe('workflows', () => {
  const machine = (prefix: string) => template.findResources('AWS::StepFunctions::StateMachine')[prefix].Properties;
  const PAYMENT = 'SmartPayWorkflowsPaymentStateMachine9D8FAAE8';
  const REWARD = 'SmartPayWorkflowsRewardStateMachineEB23D022';
  const placeholders = (definition: string) => [...definition.matchAll(/\$\{(\w+)\}/g)].map((m) => m[1]).sort();

  test('payment: EXPRESS, the ASL file verbatim, every placeholder substituted with the right ARN', () => {
    const props = machine(PAYMENT);
    expect(props.StateMachineType).toBe('EXPRESS');
    expect(props.DefinitionString).toBe(readAsl('payment.asl.json'));
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'EXPRESS',
      DefinitionString: Match.serializedJson(Match.objectLike({ StartAt: 'BeginAndScore' })),
    });
    expect(props.DefinitionSubstitutions).toEqual({
      PaymentsFunctionArn: { 'Fn::GetAtt': [fnId('Payments'), 'Arn'] },
      FraudFunctionArn: { 'Fn::GetAtt': [fnId('Fraud'), 'Arn'] },
      RoutingFunctionArn: { 'Fn::GetAtt': [fnId('Routing'), 'Arn'] },
    });
    expect([...new Set(placeholders(props.DefinitionString))]).toEqual(Object.keys(props.DefinitionSubstitutions).sort());
  });

  test('routing learning loop: PaymentFinalized and RoutingOutcomesRecorded → a queue with a DLQ → the updater, one at a time', () => {
    const rule = Object.values(template.findResources('AWS::Events::Rule')).find(
      (r) => JSON.stringify(r.Properties.EventPattern).includes('RoutingOutcomesRecorded'),
    )!;
    expect(rule.Properties.EventPattern).toEqual({ source: ['smartpay.payments', 'smartpay.routing'], 'detail-type': ['PaymentFinalized', 'RoutingOutcomesRecorded'] });
    const queueId = id('AWS::SQS::Queue', 'SmartPayWorkflowsRoutingUpdatesQueue');
    expect(rule.Properties.Targets).toEqual([expect.objectContaining({ Arn: { 'Fn::GetAtt': [queueId, 'Arn'] } })]);
    const queue = template.findResources('AWS::SQS::Queue')[queueId].Properties;
    expect(queue.RedrivePolicy).toEqual({ deadLetterTargetArn: { 'Fn::GetAtt': [id('AWS::SQS::Queue', 'SmartPayWorkflowsRoutingUpdatesDlq'), 'Arn'] }, maxReceiveCount: 5 });
    expect(queue.KmsMasterKeyId).toBeDefined();
    const updater = fnId('RoutingUpdater');
    expect(template.findResources('AWS::Lambda::Function')[updater].Properties.ReservedConcurrentExecutions).toBe(1);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [queueId, 'Arn'] },
      FunctionName: { Ref: updater },
      BatchSize: 100,
      // Up to a minute of outcomes a model commit (the breaker's state is written apart, by the feedback consumer).
      MaximumBatchingWindowInSeconds: 60,
      // A malformed message fails alone, not with its batch.
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    // Six times the updater's timeout plus the window: a batch still gathering is not redelivered meanwhile.
    expect(queue.VisibilityTimeout).toBe(6 * allFunctions().routingUpdater.timeoutSeconds + 60);
    // The routing function publishes on the bus it is told about.
    expect(template.findResources('AWS::Lambda::Function')[fnId('Routing')].Properties.Environment.Variables[ENV.eventBusName]).toEqual({
      Ref: 'SmartPayWorkflowsEventBusBB45160B',
    });
    expect(statementsOfRole(template, roleId('Routing')).some((st) => actionsOf(st).includes('events:PutEvents'))).toBe(true);
  });

  test('payment: logging ALL without execution data (card data), tracing on', () => {
    expect(machine(PAYMENT).LoggingConfiguration).toMatchObject({ Level: 'ALL', IncludeExecutionData: false });
    expect(machine(PAYMENT).TracingConfiguration).toEqual({ Enabled: true });
  });

  test('reward: EXPRESS (asynchronous; the ledger keeps it exactly once), substitutions, logging ALL with execution data, tracing on', () => {
    const props = machine(REWARD);
    expect(props.StateMachineType).toBe('EXPRESS');
    expect(props.DefinitionString).toBe(readAsl('reward.asl.json'));
    expect(props.DefinitionSubstitutions).toEqual({
      RewardsFunctionArn: { 'Fn::GetAtt': [fnId('Rewards'), 'Arn'] },
      RewardDlqUrl: { Ref: 'SmartPayWorkflowsRewardDlq76302A28' },
    });
    expect([...new Set(placeholders(props.DefinitionString))]).toEqual(Object.keys(props.DefinitionSubstitutions).sort());
    expect(props.LoggingConfiguration).toMatchObject({ Level: 'ALL', IncludeExecutionData: true });
    expect(props.TracingConfiguration).toEqual({ Enabled: true });
  });

  const machineRoleId = (machineId: string) => machine(machineId).RoleArn['Fn::GetAtt'][0] as string;
  const invokeTargets = (machineId: string) =>
    statementsOfRole(template, machineRoleId(machineId))
      .filter((s) => actionsOf(s).includes('lambda:InvokeFunction'))
      .flatMap((s) => [].concat(s.Resource))
      .map((r) => JSON.stringify(r).match(/SmartPayFunctions(\w+?)Function/)?.[1])
      .sort();

  test('invoke grants are explicit and scoped to the task functions', () => {
    // grantInvoke covers the function ARN and its qualified ARNs.
    expect(invokeTargets(PAYMENT)).toEqual(['Fraud', 'Fraud', 'Payments', 'Payments', 'Routing', 'Routing']);
    expect(invokeTargets(REWARD)).toEqual(['Rewards', 'Rewards']);
  });

  test('the payment machine puts no events (the outbox does, through the payments function, on the SmartPay bus only)', () => {
    expect(statementsOfRole(template, machineRoleId(PAYMENT)).filter((s) => actionsOf(s).includes('events:PutEvents'))).toEqual([]);
    const puts = statementsOfRole(template, roleId('Payments')).filter((s) => actionsOf(s).includes('events:PutEvents'));
    expect(puts).toEqual([
      expect.objectContaining({ Action: 'events:PutEvents', Resource: { 'Fn::GetAtt': ['SmartPayWorkflowsEventBusBB45160B', 'Arn'] } }),
    ]);
  });

  test('the reward machine may send to its DLQ and use the key for it', () => {
    const statements = statementsOfRole(template, machineRoleId(REWARD));
    expect(statements).toContainEqual(
      expect.objectContaining({ Action: 'sqs:SendMessage', Resource: { 'Fn::GetAtt': ['SmartPayWorkflowsRewardDlq76302A28', 'Arn'] } }),
    );
    expect(statements).toContainEqual(
      expect.objectContaining({ Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: { 'Fn::GetAtt': ['SmartPayDataKeyE70D8BC8', 'Arn'] } }),
    );
  });

  test('the reward rule matches PaymentSucceeded and PaymentRefunded (contracts/events.ts) on the custom bus, with its own DLQ and retries', () => {
    const pattern = { source: ['smartpay.payments'], 'detail-type': ['PaymentSucceeded', 'PaymentRefunded'] };
    template.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: { Ref: 'SmartPayWorkflowsEventBusBB45160B' },
      EventPattern: pattern,
      Targets: [
        Match.objectLike({
          Arn: { Ref: 'SmartPayWorkflowsRewardStateMachineEB23D022' },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': ['SmartPayWorkflowsRewardRuleDlqFF851D37', 'Arn'] } },
          RetryPolicy: { MaximumRetryAttempts: 10, MaximumEventAgeInSeconds: 86400 },
        }),
      ],
    });
    // The literal above is what contracts/events.ts says the reward workflow's events are.
    expect(pattern).toEqual(eventPattern('PaymentSucceeded', 'PaymentRefunded'));
  });

  test('both DLQs are KMS-encrypted and TLS-only', () => {
    for (const q of ['SmartPayWorkflowsRewardDlq76302A28', 'SmartPayWorkflowsRewardRuleDlqFF851D37']) {
      expect(template.findResources('AWS::SQS::Queue')[q].Properties.KmsMasterKeyId).toEqual({
        'Fn::GetAtt': ['SmartPayDataKeyE70D8BC8', 'Arn'],
      });
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: q }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    }
  });
});

describe('observability', () => {
  const alarms = () => resourcesOf(template, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties!);
  const topicRef = () => ({ Ref: id('AWS::SNS::Topic', 'SmartPayObservabilityAlarmTopic') });

  test('POST /pay p95 latency above 200 ms', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/ApiGateway',
      MetricName: 'Latency',
      ExtendedStatistic: 'p95',
      Threshold: 200,
      ComparisonOperator: 'GreaterThanThreshold',
      Dimensions: Match.arrayWith([{ Name: 'Method', Value: 'POST' }, { Name: 'Resource', Value: '/pay' }]),
    });
  });

  test('5xx rate above 0.1 % (metric math 5XXError / Count)', () => {
    const rate = alarms().find((a) => a.Metrics?.some((m: { Expression?: string }) => m.Expression === '100 * errors / requests'));
    expect(rate).toBeDefined();
    expect(rate!.Threshold).toBe(0.1);
    expect(rate!.ComparisonOperator).toBe('GreaterThanThreshold');
    const names = rate!.Metrics.filter((m: { MetricStat?: unknown }) => m.MetricStat).map(
      (m: { Id: string; MetricStat: { Metric: { MetricName: string } } }) => [m.Id, m.MetricStat.Metric.MetricName],
    );
    expect(names.sort()).toEqual([
      ['errors', '5XXError'],
      ['requests', 'Count'],
    ]);
  });

  test('fraud inference p95 above 50 ms on the Powertools metric (the platform\'s namespace, service=fraud)', () => {
    expect(stack.platform.functions.metricsNamespace).toMatch(/^SmartPay\/dev-[0-9a-f]{8}$/);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: stack.platform.functions.metricsNamespace,
      MetricName: METRICS.fraudInferenceMs,
      Dimensions: [{ Name: 'service', Value: 'fraud' }],
      ExtendedStatistic: 'p95',
      Threshold: 50,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  test('failed executions of either machine', () => {
    for (const machineId of ['SmartPayWorkflowsPaymentStateMachine9D8FAAE8', 'SmartPayWorkflowsRewardStateMachineEB23D022']) {
      const failed = alarms().find((a) =>
        a.Metrics?.some(
          (m: { MetricStat?: { Metric: { MetricName: string; Dimensions: Array<{ Value: unknown }> } } }) =>
            m.MetricStat?.Metric.MetricName === 'ExecutionsFailed' && JSON.stringify(m.MetricStat.Metric.Dimensions).includes(machineId),
        ),
      );
      expect(failed).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
    }
  });

  test('every dead-letter queue in the template has a depth alarm (the DLQs are read from the template)', () => {
    const dlqs = deadLetterQueues(template);
    // The derivation sees each way a queue becomes a DLQ here: a redrive policy, a rule target, the reward machine.
    const sources = [...dlqs.values()].flat().join('\n');
    expect(sources).toMatch(/^redrive policy of SmartPayWorkflowsRoutingUpdatesQueue/m);
    expect(sources).toMatch(/^target \S+ of SmartPayWorkflowsRewardRule/m);
    expect(sources).toMatch(/^RewardDlqUrl of SmartPayWorkflowsRewardStateMachine/m);
    const watched = queuesWithDepthAlarm(template);
    const unwatched = [...dlqs].filter(([queueId]) => !watched.has(queueId)).map(([queueId, why]) => `${queueId} (${why.join('; ')})`);
    expect(unwatched).toEqual([]);
    // Any message on a DLQ alarms.
    for (const a of alarms().filter((alarm) => alarm.Namespace === 'AWS/SQS')) {
      expect(a).toMatchObject({
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Statistic: 'Maximum',
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
      });
    }
  });

  test('every alarm notifies the KMS-encrypted, TLS-only topic, and the alarms are exposed', () => {
    // The SLA, workflow, DLQ, outbox, unminted-reward, failed-mint and reconciler alarms: one per consumer queue's DLQ (RoutingFeedback, RoutingUpdates, FraudFeatures, AnalyticsIndex).
    expect(alarms()).toHaveLength(15);
    for (const a of alarms()) expect(a.AlarmActions).toEqual([topicRef()]);
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': ['SmartPayDataKeyE70D8BC8', 'Arn'] } });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
    expect(stack.platform.observability.alarms).toHaveLength(15);
    expect(stack.platform.observability.alarms).toContain(stack.platform.observability.unmintedRewardAgeAlarm);
    expect(stack.platform.observability.alarms).toContain(stack.platform.observability.rewardMintFailedAlarm);
    // The failed-mint alarm reads the metric the rewards function publishes, by its stable name and dimension.
    expect(alarms().find((a) => a.MetricName === METRICS.rewardMintFailed)).toMatchObject({
      Namespace: stack.platform.functions.metricsNamespace,
      Statistic: 'Sum',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      Dimensions: [{ Name: 'service', Value: 'rewards' }],
    });
    expect(stack.platform.observability.alarms).toContain(stack.platform.observability.routingUpdatesDlqDepthAlarm);
    expect(stack.platform.observability.alarms).toContain(stack.platform.observability.outboxDlqDepthAlarm);
    // The reconciler failing in every run for 15 minutes, on the metric the payments function publishes.
    expect(alarms().find((a) => a.MetricName === METRICS.reconcilerErrors)).toMatchObject({
      Namespace: stack.platform.functions.metricsNamespace,
      Statistic: 'Sum',
      Threshold: 0,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 3,
      Dimensions: [{ Name: 'service', Value: 'payments' }],
    });
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });

  test('the dashboard charts the operational metrics by their stable names, with the SLA lines', () => {
    const dashboard = Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0]!;
    const body = JSON.stringify(dashboard.Properties.DashboardBody);
    const charted = [
      METRICS.fraudInferenceMs,
      METRICS.routingDecision,
      METRICS.routingExploration,
      METRICS.gatewayAttempt,
      METRICS.paymentFellBack,
      METRICS.outboxLagMs,
      METRICS.reconcilerAction,
      METRICS.rewardMinted,
      METRICS.rewardMintFailed,
      METRICS.chatAnswered,
      METRICS.chatRefused,
      METRICS.paymentSucceeded,
    ];
    for (const name of charted) expect({ name, charted: body.includes(`\\"${name}\\"`) }).toEqual({ name, charted: true });
    // Per connector, with the connector as a dimension (the stage's registry: the default sandbox accounts here).
    expect(body).toContain('\\"RoutingDecision\\",\\"connector\\",\\"stripe-sandbox\\",\\"service\\",\\"routing\\"');
    expect(body).toContain('\\"GatewayAttempt\\",\\"connector\\",\\"amazon-pay-sandbox\\",\\"outcome\\",\\"declined\\",\\"service\\",\\"payments\\"');
    for (const line of ['SLA 0.1%', 'SLA 200 ms', '/pay p95 target']) expect(body).toContain(line);
    expect(body).toMatch(/Fraud inference p95 \(ms\)[^]*\\"value\\":50/);
    // API Gateway's latency per method and the payment workflow's execution time.
    expect(body).toContain('ExecutionTime');
  });
});

describe('chatModel on Bedrock', () => {
  const synth = (chatModel: string) => {
    const stack = new SmartPayStack(fastApp(), `SmartPay-chat-${chatModel.length}`, { stage: STAGES.prod, platform: { chatModel } });
    return { stack, template: Template.fromStack(stack) };
  };
  const bedrockResources = (template: Template) =>
    policyStatements(template)
      .filter(({ statement }) => actionsOf(statement).includes('bedrock:InvokeModel'))
      .flatMap(({ statement }) => [statement.Resource].flat().map((r: unknown) => JSON.stringify(r)));

  test('a cross-region inference profile: its model in every region (acknowledged, with the reason), nothing open for cdk-nag', () => {
    const { stack, template } = synth('bedrock:us.anthropic.claude-3-5-haiku-20241022-v1:0');
    expect(bedrockResources(template).some((r) => r.includes('bedrock:*::foundation-model/anthropic.claude-3-5-haiku-20241022-v1:0'))).toBe(true);
    expect(openFindings(stack)).toEqual([]);
    expect(unbackedAcknowledgements(stack)).toEqual([]);
  });

  test('a plain model id: that model in the stack\'s region only, nothing open for cdk-nag', () => {
    const { stack, template } = synth('bedrock:amazon.nova-micro-v1:0');
    const resources = bedrockResources(template);
    expect(resources.some((r) => r.includes('foundation-model/amazon.nova-micro-v1:0'))).toBe(true);
    expect(resources.some((r) => r.includes('bedrock:*::'))).toBe(false);
    expect(openFindings(stack)).toEqual([]);
  });
});
