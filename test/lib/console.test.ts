/**
 * The operator console in the cloud (SmartPayConsole, the platform's `console` prop): off by default; on, a
 * private bucket behind CloudFront with origin access control and the console's policy headers, the API under
 * /api/ (uncached, the Authorization header passed, the prefix stripped), a PKCE app client on a hosted sign-in
 * domain whose callback is the distribution, the files of contracts/console.ts deployed with a config naming all
 * of it; zero open cdk-nag findings, and each acknowledgement backed by a finding.
 */
import { Match, Template } from 'aws-cdk-lib/assertions';
import { consoleFiles } from '../../contracts/console';
import { SmartPayStack, STAGES } from '../../lib';
import { fastApp, openFindings, unbackedAcknowledgements } from './support';

let stack: SmartPayStack;
let template: Template;
beforeAll(() => {
  stack = new SmartPayStack(fastApp(), 'SmartPay-console', { stage: STAGES.prod, platform: { console: { domainPrefix: 'smartpay-console-test' } } });
  template = Template.fromStack(stack);
});

test('is off by default', () => {
  const plain = Template.fromStack(new SmartPayStack(fastApp(), 'SmartPay-plain', { stage: STAGES.dev }));
  plain.resourceCountIs('AWS::CloudFront::Distribution', 0);
  plain.resourceCountIs('AWS::Cognito::UserPoolDomain', 0);
});

test('serves the files from a private bucket through origin access control, with the console\'s policy headers', () => {
  template.resourceCountIs('AWS::CloudFront::Distribution', 1);
  template.hasResourceProperties('AWS::CloudFront::OriginAccessControl', { OriginAccessControlConfig: Match.objectLike({ SigningBehavior: 'always', OriginAccessControlOriginType: 's3' }) });
  template.hasResourceProperties('AWS::S3::Bucket', {
    PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
    LoggingConfiguration: Match.objectLike({ LogFilePrefix: 'bucket/' }),
    VersioningConfiguration: { Status: 'Enabled' },
  });
  template.hasResourceProperties('AWS::CloudFront::ResponseHeadersPolicy', {
    ResponseHeadersPolicyConfig: Match.objectLike({
      SecurityHeadersConfig: Match.objectLike({
        ContentSecurityPolicy: { ContentSecurityPolicy: Match.anyValue(), Override: true },
        FrameOptions: { FrameOption: 'DENY', Override: true },
      }),
    }),
  });
  // The policy allows the console's own origin, and the sign-in domain for the token exchange.
  const policy = JSON.stringify(Object.values(template.findResources('AWS::CloudFront::ResponseHeadersPolicy'))[0]!.Properties.ResponseHeadersPolicyConfig.SecurityHeadersConfig.ContentSecurityPolicy);
  expect(policy).toContain("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self' https://smartpay-console-test.auth.");
  template.hasResourceProperties('AWS::CloudFront::Distribution', {
    DistributionConfig: Match.objectLike({
      DefaultRootObject: 'index.html',
      Logging: Match.objectLike({ Prefix: 'distribution/' }),
      DefaultCacheBehavior: Match.objectLike({ ViewerProtocolPolicy: 'redirect-to-https' }),
    }),
  });
});

test('puts the API behind /api/: every method, never cached, the Authorization header passed, the prefix stripped', () => {
  const distribution = Object.values(template.findResources('AWS::CloudFront::Distribution'))[0]!;
  const config = distribution.Properties.DistributionConfig;
  const api = config.CacheBehaviors.find((b: { PathPattern: string }) => b.PathPattern === '/api/*');
  expect(api).toMatchObject({
    AllowedMethods: ['GET', 'HEAD', 'OPTIONS', 'PUT', 'PATCH', 'POST', 'DELETE'],
    CachePolicyId: '4135ea2d-6df8-44a3-9df3-4b5a84be39ad', // Managed-CachingDisabled
    OriginRequestPolicyId: 'b689b0a8-53d0-40ab-baf2-68738e2966ac', // Managed-AllViewerExceptHostHeader
    ViewerProtocolPolicy: 'https-only',
    FunctionAssociations: [{ EventType: 'viewer-request', FunctionARN: expect.anything() }],
  });
  const origin = config.Origins.find((o: { Id: string }) => o.Id === api.TargetOriginId);
  // The API's stage, as the deployed URL's fourth part ("https://<id>.execute-api.<region>.<suffix>/prod/").
  expect(JSON.stringify(origin.OriginPath)).toContain('{"Fn::Select":[3,{"Fn::Split":["/"');
  const fn = Object.values(template.findResources('AWS::CloudFront::Function'))[0]!;
  // The function's code, run as CloudFront would run it.
  const handler = new Function(`${fn.Properties.FunctionCode}; return handler;`)() as (e: { request: { uri: string } }) => { uri: string };
  expect(handler({ request: { uri: '/api/payments/pay_01ABCDEFGHJKMNPQRSTV' } }).uri).toBe('/payments/pay_01ABCDEFGHJKMNPQRSTV');
  expect(handler({ request: { uri: '/api' } }).uri).toBe('/api');
  expect(handler({ request: { uri: '/apis/x' } }).uri).toBe('/apis/x');
});

test('signs in on a hosted domain with the authorization-code flow back to the distribution, no client secret', () => {
  template.hasResourceProperties('AWS::Cognito::UserPoolDomain', { Domain: 'smartpay-console-test' });
  template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
    AllowedOAuthFlows: ['code'],
    AllowedOAuthScopes: ['openid', 'email', 'profile'],
    GenerateSecret: false,
    CallbackURLs: [{ 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [Match.stringLikeRegexp('ConsoleDistribution'), 'DomainName'] }, '/']] }],
    ReadAttributes: Match.arrayWith(['custom:merchantId']),
    WriteAttributes: Match.not(Match.arrayWith(['custom:merchantId'])),
  });
});

test('only the console client signs in on the hosted domain: the API app client has no OAuth flow (no implicit grant, no callback)', () => {
  const clients = Object.entries(template.findResources('AWS::Cognito::UserPoolClient'));
  expect(clients).toHaveLength(2);
  const app = clients.find(([id]) => id.includes('AppClient'))![1].Properties;
  expect(app.AllowedOAuthFlowsUserPoolClient).toBe(false);
  expect(app.AllowedOAuthFlows).toBeUndefined();
  expect(app.CallbackURLs).toBeUndefined();
  const consoleClient = clients.find(([id]) => id.includes('ConsoleClient'))![1].Properties;
  expect(consoleClient.AllowedOAuthFlows).toEqual(['code']);
});

test("deploys the console's files, and a config naming the API path and the sign-in", () => {
  const deployment = Object.values(template.findResources('Custom::CDKBucketDeployment'))[0]!;
  // One source per file, and config.json.
  expect(deployment.Properties.SourceObjectKeys).toHaveLength(Object.keys(consoleFiles()).length + 1);
  // config.json's deploy-time values: the region (of the sign-in domain), the console's client id, the distribution.
  const markers = JSON.stringify(deployment.Properties.SourceMarkers);
  expect(markers).toContain('{"Ref":"AWS::Region"}');
  expect(markers).toMatch(/"Ref":"SmartPayAuthUserPoolConsoleClient\w+"/);
  expect(markers).toMatch(/"Fn::GetAtt":\["SmartPayConsoleDistribution\w+","DomainName"\]/);
  expect(deployment.Properties.DistributionPaths).toEqual(['/*']);
});

test('has zero open cdk-nag findings, each acknowledgement backed by a finding', () => {
  expect(openFindings(stack)).toEqual([]);
  expect(unbackedAcknowledgements(stack.platform.console!)).toEqual([]);
});

test('refuses a domain prefix Cognito would', () => {
  expect(() => new SmartPayStack(fastApp(), 'SmartPay-bad', { stage: STAGES.dev, platform: { console: { domainPrefix: 'Not_Valid-' } } })).toThrow(/console.domainPrefix "Not_Valid-" must be 1-63 lowercase letters/);
});
