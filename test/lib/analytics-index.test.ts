/**
 * The analytics index in the template: an OpenSearch Serverless vector-search collection encrypted with the
 * platform key, reachable only by IAM-signed requests of the analytics function (the data access policy's one
 * principal, and its role's aoss:APIAccessAll on that collection alone), whose endpoint is the function's
 * OPENSEARCH_ENDPOINT; the embeddings' model on Bedrock; or, with `existingOpenSearchEndpoint`, no collection.
 */
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { SmartPayPlatform, SmartPayStack, STAGES } from '../../lib';
import { DEFAULT_EMBEDDING_MODEL } from '../../contracts/resources';
import { actionsOf, fastApp, logicalIdOf, policyStatements, statementsOfRole } from './support';

let template: Template;
beforeAll(() => {
  template = Template.fromStack(new SmartPayStack(fastApp(), 'SmartPay-dev', { stage: STAGES.dev }));
});

const one = (type: string) => {
  const found = Object.entries(template.findResources(type));
  expect(found).toHaveLength(1);
  return found[0]!;
};
const policyOf = (type: 'encryption' | 'network') => {
  const found = Object.values(template.findResources('AWS::OpenSearchServerless::SecurityPolicy')).filter((r) => r.Properties.Type === type);
  expect(found).toHaveLength(1);
  return found[0]!.Properties.Policy;
};
/** A policy document rendered with `toJsonString`: an Fn::Join of strings and tokens, as one string with the tokens as JSON. */
const flat = (policy: unknown): string =>
  typeof policy === 'string' ? policy : ((policy as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : JSON.stringify(part))).join(''));

test('a vector-search collection, encrypted with the platform key, created after its policies', () => {
  const [collectionId, collection] = one('AWS::OpenSearchServerless::Collection');
  expect(collection.Properties).toMatchObject({ Type: 'VECTORSEARCH', Name: expect.stringMatching(/^smartpay-dev-[a-z0-9]{6}$/) });
  const name = collection.Properties.Name as string;
  const encryption = flat(policyOf('encryption'));
  expect(encryption).toContain(`"Resource":["collection/${name}"]`);
  expect(encryption).toContain('"AWSOwnedKey":false');
  expect(encryption).toContain(JSON.stringify({ 'Fn::GetAtt': ['SmartPayDataKeyE70D8BC8', 'Arn'] }));
  // The network policy opens the collection's endpoint only (no dashboards); requests still need IAM signatures.
  expect(JSON.parse(flat(policyOf('network')))).toEqual([{ Rules: [{ ResourceType: 'collection', Resource: [`collection/${name}`] }], AllowFromPublic: true }]);
  const dependsOn = template.toJSON().Resources[collectionId].DependsOn as string[];
  expect(dependsOn).toHaveLength(2);
  for (const id of dependsOn) expect(template.toJSON().Resources[id].Type).toBe('AWS::OpenSearchServerless::SecurityPolicy');
});

test('standby replicas (the idle floor doubles with them) unless analyticsStandbyReplicas is false; never changed for a stack made before', () => {
  // On by default on every stage, as collections were created before (OpenSearch Serverless cannot change it later).
  expect(one('AWS::OpenSearchServerless::Collection')[1].Properties.StandbyReplicas).toBe('ENABLED');
  const lean = Template.fromStack(new SmartPayStack(fastApp(), 'SmartPay-lean', { stage: STAGES.dev, platform: { analyticsStandbyReplicas: false } }));
  expect(Object.values(lean.findResources('AWS::OpenSearchServerless::Collection')).map((c) => c.Properties.StandbyReplicas)).toEqual(['DISABLED']);
  expect(() => new SmartPayStack(fastApp(), 'SmartPay-both', { stage: STAGES.dev, platform: { analyticsStandbyReplicas: false, existingOpenSearchEndpoint: 'https://x.us-east-1.aoss.amazonaws.com' } })).toThrow(/analyticsStandbyReplicas .* existingOpenSearchEndpoint/);
});

test("the data access policy names the analytics function's role alone, on this collection's indexes", () => {
  const [, collection] = one('AWS::OpenSearchServerless::Collection');
  const name = collection.Properties.Name as string;
  const [, access] = one('AWS::OpenSearchServerless::AccessPolicy');
  const policy = flat(access.Properties.Policy);
  const roleId = logicalIdOf(template, 'AWS::IAM::Role', 'SmartPayFunctionsAnalyticsRole');
  // The role's ARN, quoted, as the policy's only principal (the join renders the token between its quotes).
  expect(policy).toContain(`"Principal":["${JSON.stringify({ 'Fn::GetAtt': [roleId, 'Arn'] })}"]}]`);
  expect(policy).toContain(`"Resource":["index/${name}/*"]`);
  expect(policy).not.toMatch(/aoss:\*|"Resource":\["index\/\*/);
});

test('the analytics function: OPENSEARCH_ENDPOINT is the collection, aoss:APIAccessAll on it alone, Bedrock only for the embeddings model', () => {
  const [collectionId] = one('AWS::OpenSearchServerless::Collection');
  const fnId = logicalIdOf(template, 'AWS::Lambda::Function', 'SmartPayFunctionsAnalyticsFunction');
  const env = template.findResources('AWS::Lambda::Function')[fnId]!.Properties.Environment.Variables;
  expect(env.OPENSEARCH_ENDPOINT).toEqual({ 'Fn::GetAtt': [collectionId, 'CollectionEndpoint'] });
  expect(env.EMBEDDING_MODEL).toBe(DEFAULT_EMBEDDING_MODEL);
  const statements = statementsOfRole(template, logicalIdOf(template, 'AWS::IAM::Role', 'SmartPayFunctionsAnalyticsRole'));
  const aoss = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('aoss:')));
  expect(aoss).toEqual([expect.objectContaining({ Action: 'aoss:APIAccessAll', Resource: { 'Fn::GetAtt': [collectionId, 'Arn'] } })]);
  const bedrock = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('bedrock:')));
  expect(bedrock).toHaveLength(1);
  expect(JSON.stringify(bedrock[0]!.Resource)).toContain(`::foundation-model/${DEFAULT_EMBEDDING_MODEL}`);
  // No other role may use the collection.
  const others = policyStatements(template).filter(({ statement, roles }) => actionsOf(statement).some((a) => a.startsWith('aoss:')) && !JSON.stringify(roles).includes('Analytics'));
  expect(others).toEqual([]);
});

test('existingOpenSearchEndpoint: no collection, and the function is pointed there', () => {
  const stack = new Stack(fastApp(), 'Host');
  const platform = new SmartPayPlatform(stack, 'Pay', { stage: STAGES.dev, existingOpenSearchEndpoint: 'https://abc123.us-east-1.aoss.amazonaws.com' });
  const t = Template.fromStack(stack);
  t.resourceCountIs('AWS::OpenSearchServerless::Collection', 0);
  t.resourceCountIs('AWS::OpenSearchServerless::AccessPolicy', 0);
  expect(platform.analyticsIndex).toBeUndefined();
  const fnId = logicalIdOf(t, 'AWS::Lambda::Function', 'PayFunctionsAnalyticsFunction');
  expect(t.findResources('AWS::Lambda::Function')[fnId]!.Properties.Environment.Variables.OPENSEARCH_ENDPOINT).toBe('https://abc123.us-east-1.aoss.amazonaws.com');
});
