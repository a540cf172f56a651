/**
 * Stage configs: selection by name (and bin/app.ts's error for an unknown one), and what prod changes:
 * retained data with deletion protection.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { SmartPayStack, STAGE_NAMES, STAGES, stageConfig, validateStageConfig } from '../../lib';
import { fastApp, openFindings, resourcesOf, ROOT } from './support';

describe('stage selection', () => {
  test('the three stages, by name', () => {
    expect(STAGE_NAMES).toEqual(['dev', 'staging', 'prod']);
    for (const name of STAGE_NAMES) expect(stageConfig(name)).toBe(STAGES[name]);
    for (const name of STAGE_NAMES) expect(validateStageConfig(STAGES[name])).toBe(STAGES[name]);
  });

  test('only prod retains data', () => {
    expect(STAGE_NAMES.filter((name) => STAGES[name].retainData)).toEqual(['prod']);
  });

  test.each([['qa'], [undefined], [42]])('unknown stage %p: the error lists the valid ones', (name) => {
    expect(() => stageConfig(name)).toThrow(/^unknown stage .*: use one of dev, staging, prod \(for example: cdk synth -c stage=dev\)$/);
  });

  test('bin/app.ts refuses an unknown stage with that error', () => {
    let stderr = '';
    const env: NodeJS.ProcessEnv = { ...process.env, CDK_CONTEXT_JSON: JSON.stringify({ stage: 'qa' }) };
    delete env.CDK_OUTDIR;
    try {
      execFileSync(process.execPath, ['--import', 'tsx', 'bin/app.ts'], { cwd: ROOT, env, stdio: 'pipe' });
    } catch (error) {
      stderr = String((error as { stderr: Buffer }).stderr);
    }
    expect(stderr).toContain('unknown stage "qa": use one of dev, staging, prod');
  });
});

describe('prod', () => {
  let stack: SmartPayStack;
  let template: Template;
  beforeAll(() => {
    stack = new SmartPayStack(fastApp(), 'SmartPay-prod', { stage: STAGES.prod });
    template = Template.fromStack(stack);
  });

  test('tables are retained with deletion protection', () => {
    const tables = resourcesOf(template, 'AWS::DynamoDB::Table');
    expect(tables).toHaveLength(6);
    for (const [, table] of tables) {
      expect(table.DeletionPolicy).toBe('Retain');
      expect(table.UpdateReplacePolicy).toBe('Retain');
      expect(table.Properties!.DeletionProtectionEnabled).toBe(true);
    }
  });

  test('key, user pool, queues and log groups are retained; the pool has deletion protection', () => {
    for (const type of ['AWS::KMS::Key', 'AWS::Cognito::UserPool', 'AWS::SQS::Queue', 'AWS::Logs::LogGroup']) {
      const resources = resourcesOf(template, type);
      expect(resources.length).toBeGreaterThan(0);
      for (const [id, r] of resources) expect({ id, policy: r.DeletionPolicy }).toEqual({ id, policy: 'Retain' });
    }
    template.hasResourceProperties('AWS::Cognito::UserPool', { DeletionProtection: 'ACTIVE', UserPoolTier: 'PLUS' });
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true, PendingWindowInDays: 30 });
  });

  test('the stack has termination protection and prod throttling, retention and log level', () => {
    expect(stack.terminationProtection).toBe(true);
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'prod',
      MethodSettings: [Match.objectLike({ ThrottlingRateLimit: 1000, ThrottlingBurstLimit: 2000 })],
    });
    for (const [, group] of resourcesOf(template, 'AWS::Logs::LogGroup')) expect(group.Properties!.RetentionInDays).toBe(365);
    for (const [, fn] of resourcesOf(template, 'AWS::Lambda::Function')) {
      expect(fn.Properties!.Environment.Variables).toMatchObject({ STAGE: 'prod', POWERTOOLS_LOG_LEVEL: 'INFO' });
    }
  });
});

describe('connector registry per stage', () => {
  const registry = [
    { id: 'stripe-us', kind: 'sandbox', enabled: true, methods: ['card'], currencies: ['USD'], regions: ['US'], fee: { basisPoints: 290, fixedMinor: 30 } },
    { id: 'stripe-eu', kind: 'sandbox', enabled: true, methods: ['card'], currencies: ['EUR'], regions: ['*'], fee: { basisPoints: 250, fixedMinor: 25 } },
  ] as const;

  test('reaches the routing and payments functions as CONNECTORS, and only them', () => {
    const stack = new SmartPayStack(fastApp(), 'Conn', { stage: { ...STAGES.staging, connectors: registry } });
    const env = (prefix: string) =>
      resourcesOf(Template.fromStack(stack), 'AWS::Lambda::Function').find(([id]) => id.startsWith(prefix))![1].Properties!.Environment.Variables;
    for (const area of ['Routing', 'Payments']) expect(JSON.parse(env(`SmartPayFunctions${area}Function`).CONNECTORS)).toEqual(registry);
    for (const area of ['Fraud', 'Rewards', 'Analytics']) expect(env(`SmartPayFunctions${area}Function`).CONNECTORS).toBeUndefined();
  });

  test('routing fee weights reach the routing function, and bad ones are refused', () => {
    const stack = new SmartPayStack(fastApp(), 'Fees', { stage: { ...STAGES.staging, routingFeeWeights: { default: 1, m_123: 0.25 } } });
    const routing = resourcesOf(Template.fromStack(stack), 'AWS::Lambda::Function').find(([id]) => id.startsWith('SmartPayFunctionsRoutingFunction'))![1];
    expect(JSON.parse(routing.Properties!.Environment.Variables.ROUTING_FEE_WEIGHTS)).toEqual({ default: 1, m_123: 0.25 });
    expect(() => validateStageConfig({ ...STAGES.dev, routingFeeWeights: { m_1: -1 } })).toThrow('stage.routingFeeWeights.m_1: must be at least 0');
  });

  test('reward USD rates reach the rewards function as exact decimal strings, and bad ones are refused', () => {
    const stack = new SmartPayStack(fastApp(), 'Rates', { stage: { ...STAGES.staging, rewardUsdRates: { EUR: '1.08', JPY: '0.0067' } } });
    const rewards = resourcesOf(Template.fromStack(stack), 'AWS::Lambda::Function').find(([id]) => id.startsWith('SmartPayFunctionsRewardsFunction'))![1];
    expect(JSON.parse(rewards.Properties!.Environment.Variables.REWARD_USD_RATES)).toEqual({ EUR: '1.08', JPY: '0.0067' });
    expect(() => validateStageConfig({ ...STAGES.dev, rewardUsdRates: { EUR: '1,08' } })).toThrow(/stage\.rewardUsdRates\.EUR: must be a decimal number of US dollars/);
    expect(() => validateStageConfig({ ...STAGES.dev, rewardUsdRates: { EUR: '0.000' } })).toThrow(/stage\.rewardUsdRates\.EUR: must be above 0/);
    expect(() => validateStageConfig({ ...STAGES.dev, rewardUsdRates: { euro: '1.08' } })).toThrow(/ISO 4217/);
  });

  test('rewardWorkflowType STANDARD makes the reward machine Standard (same construct, same definition, zero open nag findings); the payment machine stays Express', () => {
    const stack = new SmartPayStack(fastApp(), 'StandardRewards', { stage: { ...STAGES.prod, rewardWorkflowType: 'STANDARD' } });
    const template = Template.fromStack(stack);
    const machines = Object.fromEntries(resourcesOf(template, 'AWS::StepFunctions::StateMachine').map(([id, r]) => [id.replace(/[0-9A-F]{8}$/, ''), r.Properties!]));
    expect(Object.keys(machines).sort()).toEqual(['SmartPayWorkflowsPaymentStateMachine', 'SmartPayWorkflowsRewardStateMachine']);
    expect(machines.SmartPayWorkflowsRewardStateMachine).toMatchObject({ StateMachineType: 'STANDARD', LoggingConfiguration: { Level: 'ALL' }, TracingConfiguration: { Enabled: true } });
    expect(machines.SmartPayWorkflowsRewardStateMachine.DefinitionString).toBe(readFileSync(join(ROOT, 'statemachines', 'reward.asl.json'), 'utf8'));
    expect(machines.SmartPayWorkflowsPaymentStateMachine.StateMachineType).toBe('EXPRESS');
    // The default is Express.
    const plain = resourcesOf(Template.fromStack(new SmartPayStack(fastApp(), 'ExpressRewards', { stage: STAGES.prod })), 'AWS::StepFunctions::StateMachine');
    expect(plain.map(([, r]) => r.Properties!.StateMachineType)).toEqual(['EXPRESS', 'EXPRESS']);
    expect(openFindings(stack)).toEqual([]);
    expect(() => validateStageConfig({ ...STAGES.dev, rewardWorkflowType: 'express' as never })).toThrow("stage.rewardWorkflowType must be 'EXPRESS' or 'STANDARD', got \"express\" (stage dev)");
  });

  test('is checked at synth with the functions’ schema, naming the bad field', () => {
    const bad = [{ ...registry[0], fee: { basisPoints: 290.5, fixedMinor: 30 } }];
    expect(() => validateStageConfig({ ...STAGES.dev, connectors: bad as never })).toThrow(/^stage\.connectors\.0\.fee\.basisPoints: must be an integer/);
    expect(() => validateStageConfig({ ...STAGES.dev, connectors: [registry[0], registry[0]] })).toThrow(/connector ids must be unique/);
    expect(() => validateStageConfig({ ...STAGES.dev, connectors: [{ ...registry[0], id: 'Stripe US' }] })).toThrow(/^stage\.connectors\.0\.id: must be lowercase/);
  });
});
