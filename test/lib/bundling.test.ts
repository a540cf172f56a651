/**
 * REAL BUNDLING TEST. Every other lib test disables NodejsFunction bundling; this one bundles the five
 * handlers (`lambdas/<area>/handler.ts`) with the local esbuild, the way `cdk synth`/`cdk deploy` do, and
 * checks the assets. It needs the handler files and takes a few seconds.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import Module from 'node:module';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { allFunctions } from '../../contracts/topology';
import { FUNCTION_NAMES, SmartPayStack, STAGES } from '../../lib';
import { CDK_JSON_CONTEXT, resourcesOf } from './support';

let outdir: string;
let template: Template;

beforeAll(() => {
  outdir = mkdtempSync(path.join(tmpdir(), 'smartpay-bundling-'));
  // Bundling on (no 'aws:cdk:bundling-stacks' override), Docker never used.
  const app = new App({ outdir, context: { ...CDK_JSON_CONTEXT }, builtinCloudFormationValidation: false });
  template = Template.fromStack(new SmartPayStack(app, 'SmartPay-dev', { stage: STAGES.dev }));
}, 60_000);

afterAll(() => {
  rmSync(outdir, { recursive: true, force: true });
});

test('each function is an esbuild asset: minified CommonJS with a source map, AWS SDK left to the runtime', () => {
  const functions = resourcesOf(template, 'AWS::Lambda::Function');
  // Every function of the topology (the routing model's updater is the routing bundle again).
  expect(functions).toHaveLength(FUNCTION_NAMES.length);
  const hashes = new Set<string>();
  for (const [id, fn] of functions) {
    const key = fn.Properties!.Code.S3Key as string;
    expect({ id, key }).toEqual({ id, key: expect.stringMatching(/^[0-9a-f]{64}\.zip$/) });
    const hash = key.replace('.zip', '');
    hashes.add(hash);
    const dir = path.join(outdir, `asset.${hash}`);
    const js = readFileSync(path.join(dir, 'index.js'), 'utf8');
    expect(existsSync(path.join(dir, 'index.js.map'))).toBe(true);
    expect(js.length / js.split('\n').length).toBeGreaterThan(2000); // minified: long lines
    expect(js).toMatch(/sourceMappingURL=index\.js\.map/);
    expect(js).not.toContain('@aws-sdk/client-dynamodb/dist-cjs'); // external: the runtime provides SDK v3
    expect(fn.Properties!.Environment.Variables.NODE_OPTIONS).toBe('--enable-source-maps');
  }
  // One bundle per handler file.
  expect(hashes.size).toBe(new Set(Object.values(allFunctions()).map((f) => f.entry)).size);
  const key = (id: string) => functions.find(([logicalId]) => logicalId.startsWith(id))![1].Properties!.Code.S3Key;
  // The updater has a handler file of its own (a bundle without the router's SageMaker client and API routes).
  expect(key('SmartPayFunctionsRoutingUpdaterFunction')).not.toBe(key('SmartPayFunctionsRoutingFunction'));
});

test('the fraud bundle carries the model folder its handler loads at cold start', () => {
  const [, fraud] = resourcesOf(template, 'AWS::Lambda::Function').find(([id]) => id.includes('Fraud'))!;
  const dir = path.join(outdir, `asset.${(fraud.Properties!.Code.S3Key as string).replace('.zip', '')}`);
  const shipped = JSON.parse(readFileSync(path.join(__dirname, '../../lambdas/fraud/model/manifest.json'), 'utf8'));
  expect(JSON.parse(readFileSync(path.join(dir, 'model', 'manifest.json'), 'utf8'))).toEqual(shipped);
  for (const file of Object.values(shipped.models) as string[]) expect(existsSync(path.join(dir, 'model', file))).toBe(true);
  expect(existsSync(path.join(dir, 'model', 'golden.json'))).toBe(false); // test data, not shipped
  // The other functions do not carry it.
  const [, payments] = resourcesOf(template, 'AWS::Lambda::Function').find(([id]) => id.includes('Payments'))!;
  expect(existsSync(path.join(outdir, `asset.${(payments.Properties!.Code.S3Key as string).replace('.zip', '')}`, 'model'))).toBe(false);
});

test("the errors keep their class names in the minified bundles: the state machines' Retry and Catch match them by name", async () => {
  // Each function's shipped bundle, loaded as Lambda loads it (its packages from the project's node_modules, as
  // the runtime provides the SDK), is given a step it does not have: the four with steps refuse it with a
  // ValidationError (contracts/errors.ts names each error after its class).
  const names = new Map<string, string>();
  for (const [id, fn] of resourcesOf(template, 'AWS::Lambda::Function')) {
    const file = path.join(outdir, `asset.${(fn.Properties!.Code.S3Key as string).replace('.zip', '')}`, 'index.js');
    const bundle = new Module(file);
    bundle.filename = file;
    bundle.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(path.join(__dirname, '../..'));
    (bundle as unknown as { _compile(code: string, file: string): void })._compile(readFileSync(file, 'utf8'), file);
    const handler = (bundle.exports as { handler: (event: unknown, context: unknown) => Promise<unknown> }).handler;
    const thrown = await handler({ step: 'no-such-step' }, { getRemainingTimeInMillis: () => 10_000 }).then(
      () => undefined,
      (error: Error) => error,
    );
    names.set(id.replace(/^SmartPayFunctions|Function[0-9A-F]+$/g, ''), thrown?.name ?? '(no error)');
  }
  // Minified without keepNames, each was a one- or two-letter name ("e", "_", ...).
  expect(Object.fromEntries(names)).toMatchObject({ Fraud: 'ValidationError', Payments: 'ValidationError', Rewards: 'ValidationError', Routing: 'ValidationError' });
});
