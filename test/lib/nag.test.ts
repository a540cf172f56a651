/**
 * cdk-nag 3 (AwsSolutions, Serverless, PCI DSS 3.2.1): zero unacknowledged findings on every stage, a proof
 * that the checks can fail, and no acknowledgement without a finding behind it.
 * Asserted through `validateScope(...).violations`, never through Annotations (v3 packs add none).
 */
import { Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks, type NagPack, PCIDSS321Checks, ServerlessChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { SmartPayStack, STAGES, type StageName } from '../../lib';
import { fastApp } from './support';

const packs = (): NagPack[] => [new AwsSolutionsChecks(), new ServerlessChecks(), new PCIDSS321Checks()];

/** Open findings as "rule @ construct path". */
function openFindings(scope: IConstruct, pack: NagPack): string[] {
  return pack
    .validateScope(scope)
    .violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} @ ${r.constructPath}`));
}

const stacks = {} as Record<StageName, SmartPayStack>;
beforeAll(() => {
  for (const stage of ['dev', 'prod'] as const) {
    stacks[stage] = new SmartPayStack(fastApp(), `SmartPay-${stage}`, { stage: STAGES[stage] });
  }
});

describe.each(['dev', 'prod'] as const)('%s stack', (stage) => {
  test.each(['AwsSolutions', 'Serverless', 'PCI.DSS.321'])('%s: zero unacknowledged findings', (packName) => {
    const pack = packs().find((p) => p.readPackName === packName)!;
    expect(openFindings(stacks[stage], pack)).toEqual([]);
  });
});

describe('the checks can fail', () => {
  test('an unencrypted queue and a wildcard policy added to the stack are reported', () => {
    const stack = new SmartPayStack(fastApp(), 'SmartPay-bad', { stage: STAGES.dev });
    new sqs.Queue(stack, 'PlainQueue', { encryption: sqs.QueueEncryption.UNENCRYPTED });
    new iam.Policy(stack, 'WildPolicy', {
      statements: [new iam.PolicyStatement({ actions: ['*'], resources: ['*'] })],
      roles: [stack.platform.functions.roles.fraud],
    });
    const aws = openFindings(stack, new AwsSolutionsChecks());
    expect(aws).toEqual(
      expect.arrayContaining([
        'AwsSolutions-SQS2 @ SmartPay-bad/PlainQueue/Resource',
        'AwsSolutions-SQS4 @ SmartPay-bad/PlainQueue/Resource',
        'AwsSolutions-IAM5[Action::*] @ SmartPay-bad/WildPolicy/Resource',
      ]),
    );
    expect(openFindings(stack, new PCIDSS321Checks())).toEqual(
      expect.arrayContaining(['PCI.DSS.321-IAMPolicyNoStatementsWithAdminAccess @ SmartPay-bad/WildPolicy/Resource']),
    );
    // Only the additions are reported.
    expect(aws.every((f) => f.includes('/PlainQueue/') || f.includes('/WildPolicy/'))).toBe(true);
  });
});

/** All acknowledgements in the tree as {id, path, reason}. */
function acknowledgements(root: IConstruct): Array<{ id: string; path: string; reason: string }> {
  return root.node.findAll().flatMap((c) =>
    c.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) =>
        Object.entries(m.data as Record<string, string>).map(([key, reason]) => ({
          id: key.replace(/^annotation::/i, ''),
          path: c.node.path,
          reason,
        })),
      ),
  );
}

/** Every finding the packs would report if nothing were acknowledged. */
function rawFindings(root: IConstruct): Array<{ id: string; path: string }> {
  return packs().flatMap((pack) => {
    (pack as unknown as { isAcknowledged: () => boolean }).isAcknowledged = () => false;
    return pack
      .validateScope(root)
      .violations.flatMap((v) => v.violatingResources.map((r) => ({ id: v.ruleName, path: r.constructPath ?? '' })));
  });
}

describe.each(['dev', 'prod'] as const)('%s acknowledgements', (stage) => {
  test('each one is backed by a finding on a resource at or below it, and says why it is safe', () => {
    const raw = rawFindings(stacks[stage]);
    const acks = acknowledgements(stacks[stage]);
    expect(acks.length).toBeGreaterThan(10);
    const stale = acks.filter((a) => !raw.some((f) => f.id === a.id && (f.path === a.path || f.path.startsWith(`${a.path}/`))));
    expect(stale).toEqual([]);
    for (const a of acks) {
      expect(a.reason.length).toBeGreaterThan(60);
      // Bare rule ids (one finding each), never a pack-wide prefix.
      expect(a.id).toMatch(/^(AwsSolutions|Serverless|PCI\.DSS\.321)-[A-Za-z0-9]+(\[.+\])?$/);
    }
  });
});
