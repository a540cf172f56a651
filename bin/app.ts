/**
 * CDK app entry: `cdk synth -c stage=dev|staging|prod`. Creates the `SmartPay-<stage>` stack and registers
 * the cdk-nag packs (AwsSolutions, Serverless, PCI DSS 3.2.1) so every synth runs them.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, PCIDSS321Checks, ServerlessChecks } from 'cdk-nag';
import { SmartPayStack, stageConfig } from '../lib';

const app = new App();
const stage = stageConfig(app.node.tryGetContext('stage'));

new SmartPayStack(app, `SmartPay-${stage.name}`, {
  stage,
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});

Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app), new PCIDSS321Checks(app));
