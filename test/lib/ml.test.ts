/**
 * SmartPayFraudEndpoint: the fraud booster on a SageMaker serverless endpoint (built-in XGBoost image), wired
 * into the platform by `fraudEndpoint`. Template assertions, cdk-nag, and the synth-time tar.gz builder.
 */
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { AwsSolutionsChecks, PCIDSS321Checks } from 'cdk-nag';
import { ENV } from '../../contracts/resources';
import {
  buildModelArtifact,
  DEFAULT_FRAUD_MODEL_DIR,
  SmartPayFraudEndpoint,
  SmartPayPlatform,
  SmartPayStack,
  STAGES,
  tarGz,
  XGBOOST_MODEL_FILE,
  xgboostImageUri,
} from '../../lib';
import { actionsOf, fastApp, logicalIdOf, nagPacks, openFindings, policyStatements, resourcesOf, unbackedAcknowledgements } from './support';

/** Reads a ustar archive back: [{name, size, content}] (regular files only). */
function untar(archive: Buffer): Array<{ name: string; size: number; mode: string; content: Buffer; checksumOk: boolean }> {
  const out = [];
  for (let offset = 0; offset + 512 <= archive.length; ) {
    const header = archive.subarray(offset, offset + 512);
    if (header.every((b) => b === 0)) break;
    const field = (start: number, length: number) => header.subarray(start, start + length).toString('utf8').replace(/\0.*$/s, '');
    const size = parseInt(field(124, 12), 8);
    const stored = parseInt(field(148, 8).trim(), 8);
    const copy = Buffer.from(header);
    copy.fill(0x20, 148, 156);
    const sum = copy.reduce((a, b) => a + b, 0);
    expect(field(257, 6)).toBe('ustar');
    out.push({ name: field(0, 100), size, mode: field(100, 8), content: archive.subarray(offset + 512, offset + 512 + size), checksumOk: sum === stored });
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

describe('tar.gz builder', () => {
  test('round-trips through gunzip: ustar header name, size, checksum and content', () => {
    const content = Buffer.from('{"learner":{}}\n'.repeat(100));
    const entries = untar(gunzipSync(tarGz([{ name: 'xgboost-model', content }, { name: 'b.txt', content: Buffer.from('x') }])));
    expect(entries.map(({ name, size, mode, checksumOk }) => ({ name, size, mode, checksumOk }))).toEqual([
      { name: 'xgboost-model', size: content.length, mode: '0000644', checksumOk: true },
      { name: 'b.txt', size: 1, mode: '0000644', checksumOk: true },
    ]);
    expect(entries[0].content.equals(content)).toBe(true);
  });

  test('is deterministic and rejects names a ustar header cannot hold', () => {
    const files = [{ name: 'a', content: Buffer.from('1') }];
    expect(tarGz(files).equals(tarGz(files))).toBe(true);
    expect(() => tarGz([{ name: 'x'.repeat(101), content: Buffer.alloc(0) }])).toThrow(/at most 100 bytes/);
  });

  test('the model artefact holds exactly the booster, named xgboost-model', () => {
    const manifest = JSON.parse(readFileSync(path.join(DEFAULT_FRAUD_MODEL_DIR, 'manifest.json'), 'utf8'));
    const entries = untar(gunzipSync(readFileSync(buildModelArtifact(DEFAULT_FRAUD_MODEL_DIR))));
    expect(entries.map((e) => e.name)).toEqual([XGBOOST_MODEL_FILE]);
    expect(entries[0].content.equals(readFileSync(path.join(DEFAULT_FRAUD_MODEL_DIR, manifest.models.xgboost)))).toBe(true);
  });

  test('a folder without a manifest fails naming the file', () => {
    expect(() => buildModelArtifact(path.join(DEFAULT_FRAUD_MODEL_DIR, '..'))).toThrow(/manifest\.json: no such file/);
  });

  test("a folder trained on other features or another amount scale than the embedded model's is refused at synth", () => {
    const manifest = JSON.parse(readFileSync(path.join(DEFAULT_FRAUD_MODEL_DIR, 'manifest.json'), 'utf8'));
    const folder = (changes: Record<string, unknown>) => {
      const dir = mkdtempSync(path.join(tmpdir(), 'smartpay-model-'));
      writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify({ ...manifest, ...changes }));
      copyFileSync(path.join(DEFAULT_FRAUD_MODEL_DIR, manifest.models.xgboost), path.join(dir, manifest.models.xgboost));
      return dir;
    };
    // A copy of the embedded folder is fine.
    expect(untar(gunzipSync(readFileSync(buildModelArtifact(folder({}))))).map((e) => e.name)).toEqual([XGBOOST_MODEL_FILE]);
    expect(() => buildModelArtifact(folder({ amountScale: undefined }))).toThrow(/its "amountScale" \(null\) differs from that of the model the fraud function embeds .*retrain with npm run train/);
    expect(() => buildModelArtifact(folder({ amountScale: 'usd-000000000000' }))).toThrow(/its "amountScale" \("usd-000000000000"\)/);
    expect(() => buildModelArtifact(folder({ features: manifest.features.slice(1) }))).toThrow(/its "features" \(\["log_amount"/);
  });
});

describe('platform with fraudEndpoint: true', () => {
  let stack: SmartPayStack;
  let template: Template;
  beforeAll(() => {
    stack = new SmartPayStack(fastApp(), 'SmartPay-dev', { stage: STAGES.dev, platform: { fraudEndpoint: true } });
    template = Template.fromStack(stack);
  });

  test('one model, config and endpoint; the image comes from the region mapping in a region-agnostic stack', () => {
    for (const type of ['AWS::SageMaker::Model', 'AWS::SageMaker::EndpointConfig', 'AWS::SageMaker::Endpoint']) {
      expect(resourcesOf(template, type)).toHaveLength(1);
    }
    const [[, model]] = resourcesOf(template, 'AWS::SageMaker::Model');
    const image = JSON.stringify(model.Properties!.PrimaryContainer.Image);
    expect(image).toContain('Fn::FindInMap');
    expect(image).toContain('/sagemaker-xgboost:1.7-1');
    const mapping = Object.values(template.toJSON().Mappings as Record<string, Record<string, { account: string }>>)[0];
    expect(mapping['us-east-1'].account).toBe('683313688378');
    expect(mapping['eu-west-1'].account).toBe('141502667606');
  });

  test('ModelDataUrl is the model.tar.gz asset', () => {
    const [[, model]] = resourcesOf(template, 'AWS::SageMaker::Model');
    const url = JSON.stringify(model.Properties!.PrimaryContainer.ModelDataUrl);
    const hash = stack.platform.fraudEndpoint!.modelArtifact.assetHash;
    expect(url).toContain('s3://');
    expect(url).toContain(`${hash}.gz`);
    expect(model.Properties!.ExecutionRoleArn).toEqual({ 'Fn::GetAtt': [logicalIdOf(template, 'AWS::IAM::Role', 'SmartPayFraudEndpointRole'), 'Arn'] });
  });

  test('serverless config with the default memory and concurrency; the endpoint uses the config', () => {
    template.hasResourceProperties('AWS::SageMaker::EndpointConfig', {
      ProductionVariants: [
        Match.objectLike({ VariantName: 'AllTraffic', ServerlessConfig: { MemorySizeInMB: 2048, MaxConcurrency: 5 }, ModelName: Match.anyValue() }),
      ],
    });
    const configId = logicalIdOf(template, 'AWS::SageMaker::EndpointConfig', 'SmartPayFraudEndpoint');
    template.hasResourceProperties('AWS::SageMaker::Endpoint', {
      EndpointName: stack.platform.fraudEndpoint!.endpointName,
      EndpointConfigName: { 'Fn::GetAtt': [configId, 'EndpointConfigName'] },
    });
  });

  test('the endpoint name reaches the fraud function, and only the fraud function', () => {
    const name = stack.platform.fraudEndpoint!.endpointName;
    expect(name).toMatch(/^[a-z0-9](-*[a-z0-9]){0,62}$/);
    const fns = resourcesOf(template, 'AWS::Lambda::Function').filter(([, fn]) => fn.Properties!.Environment?.Variables?.[ENV.fraudEndpointName]);
    expect(fns.map(([id]) => id)).toEqual([logicalIdOf(template, 'AWS::Lambda::Function', 'SmartPayFunctionsFraudFunction')]);
    expect(fns[0][1].Properties!.Environment.Variables[ENV.fraudEndpointName]).toBe(name);
  });

  test('InvokeEndpoint is granted to the fraud role on that endpoint ARN only', () => {
    const grants = policyStatements(template).filter(({ statement }) => actionsOf(statement).some((a) => a.startsWith('sagemaker:')));
    expect(grants).toHaveLength(1);
    const [{ roles, statement }] = grants;
    expect(roles).toEqual([{ Ref: logicalIdOf(template, 'AWS::IAM::Role', 'SmartPayFunctionsFraudRole') }]);
    expect(actionsOf(statement)).toEqual(['sagemaker:InvokeEndpoint']);
    const resource = JSON.stringify(statement.Resource);
    expect(resource).toContain(`:endpoint/${stack.platform.fraudEndpoint!.endpointName}`);
    expect(resource).not.toContain('*');
  });

  test('the execution role reads the artefact object only, pulls the XGBoost image and writes its own logs', () => {
    const roleId = logicalIdOf(template, 'AWS::IAM::Role', 'SmartPayFraudEndpointRole');
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'sagemaker.amazonaws.com' } })] },
    });
    const statements = policyStatements(template).filter(({ roles }) => JSON.stringify(roles).includes(roleId)).map((s) => s.statement);
    const s3 = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('s3:')));
    expect(s3).toHaveLength(1);
    expect(actionsOf(s3[0])).toEqual(['s3:GetObject']);
    expect(JSON.stringify(s3[0].Resource)).toContain(`${stack.platform.fraudEndpoint!.modelArtifact.assetHash}.gz`);
    expect(statements.flatMap(actionsOf).sort()).toEqual(
      [
        'ecr:BatchCheckLayerAvailability', 'ecr:BatchGetImage', 'ecr:GetAuthorizationToken', 'ecr:GetDownloadUrlForLayer',
        'logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:DescribeLogStreams', 'logs:PutLogEvents', 's3:GetObject',
      ].sort(),
    );
    expect(statements.flatMap(actionsOf).some((a) => a.startsWith('kms:'))).toBe(false);
  });

  test('the endpoint waits for the role policy (S3 and ECR access exist before SageMaker pulls)', () => {
    const [[, endpoint]] = Object.entries(template.findResources('AWS::SageMaker::Endpoint'));
    const policyId = logicalIdOf(template, 'AWS::IAM::Policy', 'SmartPayFraudEndpointRoleDefaultPolicy');
    expect((endpoint as { DependsOn?: string[] }).DependsOn).toEqual(expect.arrayContaining([policyId]));
  });

  test.each(['AwsSolutions', 'Serverless', 'PCI.DSS.321'])('%s: zero unacknowledged findings', (packName) => {
    expect(openFindings(stack, nagPacks().filter((p) => p.readPackName === packName))).toEqual([]);
  });

  test("the endpoint's acknowledgements are each backed by a finding", () => {
    expect(unbackedAcknowledgements(stack.platform.fraudEndpoint!)).toEqual([]);
  });
});

describe('the image per region', () => {
  test.each([
    ['us-east-1', '683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1'],
    ['eu-west-1', '141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:1.7-1'],
    ['cn-north-1', '450853457545.dkr.ecr.cn-north-1.amazonaws.com.cn/sagemaker-xgboost:1.7-1'],
  ])('%s: %s', (region, uri) => {
    expect(xgboostImageUri(region)).toBe(uri);
    const stack = new Stack(fastApp(), 'S', { env: { account: '111122223333', region } });
    new SmartPayFraudEndpoint(stack, 'FraudEndpoint');
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::SageMaker::Model', { PrimaryContainer: { Image: uri, Mode: 'SingleModel', ModelDataUrl: Match.anyValue() } });
    expect(template.toJSON().Mappings).toBeUndefined();
    const [account] = uri.split('.');
    const ecr = policyStatements(template).find(({ statement }) => actionsOf(statement).includes('ecr:BatchGetImage'))!;
    expect(JSON.stringify(ecr.statement.Resource)).toContain(`:ecr:${region}:${account}:repository/sagemaker-xgboost`);
    for (const pack of [new AwsSolutionsChecks(), new PCIDSS321Checks()]) expect(pack.validateScope(stack).violations).toEqual([]);
  });

  test('an unknown region fails at synth with the regions it knows', () => {
    const stack = new Stack(fastApp(), 'S', { env: { account: '111122223333', region: 'xx-nowhere-1' } });
    expect(() => new SmartPayFraudEndpoint(stack, 'FraudEndpoint')).toThrow(/no built-in sagemaker-xgboost image is known for region xx-nowhere-1: deploy to one of .*us-east-1/);
  });
});

describe('props', () => {
  test('memory, concurrency and a key for the artefact', () => {
    const stack = new Stack(fastApp(), 'S', { env: { account: '111122223333', region: 'eu-west-1' } });
    const key = new kms.Key(stack, 'Key');
    const endpoint = new SmartPayFraudEndpoint(stack, 'FraudEndpoint', { memorySizeInMB: 4096, maxConcurrency: 20, encryptionKey: key });
    const caller = new iam.Role(stack, 'Caller', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    endpoint.grantInvoke(caller);
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::SageMaker::EndpointConfig', {
      ProductionVariants: [Match.objectLike({ ServerlessConfig: { MemorySizeInMB: 4096, MaxConcurrency: 20 } })],
    });
    const kmsGrant = policyStatements(template).find(({ statement }) => actionsOf(statement).includes('kms:Decrypt'))!;
    expect(kmsGrant.statement.Resource).toEqual({ 'Fn::GetAtt': [logicalIdOf(template, 'AWS::KMS::Key', 'Key'), 'Arn'] });
    const invoke = policyStatements(template).find(({ statement }) => actionsOf(statement).includes('sagemaker:InvokeEndpoint'))!;
    expect(invoke.statement.Resource).toEqual({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:sagemaker:eu-west-1:111122223333:endpoint/${endpoint.endpointName}`]],
    });
  });

  test.each([
    [{ memorySizeInMB: 1000 }, /memorySizeInMB must be one of 1024, 2048/],
    [{ maxConcurrency: 0 }, /maxConcurrency must be an integer from 1 to 200/],
  ])('rejects %j', (props, message) => {
    expect(() => new SmartPayFraudEndpoint(new Stack(fastApp(), 'S'), 'E', props)).toThrow(message);
  });

  test('fraudEndpointName and fraudEndpoint together are rejected before anything is created', () => {
    const stack = new Stack(fastApp(), 'S');
    expect(() => new SmartPayPlatform(stack, 'SmartPay', { fraudEndpointName: 'mine', fraudEndpoint: true })).toThrow(
      /^pass fraudEndpointName or fraudEndpoint, not both/,
    );
    expect(stack.node.children).toHaveLength(0);
  });

  test('the default platform creates no SageMaker resources and no endpoint variable', () => {
    const stack = new SmartPayStack(fastApp(), 'SmartPay-dev', { stage: STAGES.dev });
    const template = Template.fromStack(stack);
    expect(stack.platform.fraudEndpoint).toBeUndefined();
    expect(Object.values(template.toJSON().Resources as Record<string, { Type: string }>).filter((r) => r.Type.startsWith('AWS::SageMaker::'))).toEqual([]);
    expect(JSON.stringify(template.toJSON())).not.toContain(ENV.fraudEndpointName);
    expect(JSON.stringify(template.toJSON())).not.toContain('sagemaker:');
  });
});
