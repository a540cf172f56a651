/**
 * cdk-nag acknowledgements shared by the parts. Each call acknowledges exactly one finding, on the construct
 * that owns the resource (or its role), with the reason it is safe there.
 */
import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/** Acknowledges each finding id (bare form, e.g. `AwsSolutions-IAM5[Resource::*]`) on `scope` with its reason. */
export function acknowledge(scope: IConstruct, findings: Readonly<Record<string, string>>): void {
  for (const [id, reason] of Object.entries(findings)) {
    Validations.of(scope).acknowledge({ id, reason });
  }
}

/** Reasons used in more than one place. */
export const REASONS = {
  inlinePolicy:
    'CDK grant-generated least-privilege policy attached to this single role only; a customer-managed policy would be reusable by other principals and widen access.',
  xrayResource:
    'X-Ray PutTraceSegments/PutTelemetryRecords (and sampling reads) do not support resource-level permissions, so AWS requires Resource "*".',
  kmsGenerateDataKey:
    'KMS action family (GenerateDataKey, GenerateDataKeyWithoutPlaintext) added by the CDK grant, limited to the single platform key ARN.',
  kmsReEncrypt:
    'KMS action family (ReEncryptFrom/ReEncryptTo) added by the CDK DynamoDB grant, limited to the single platform key ARN.',
  syncInvokeOnlyDlq:
    'Invoked synchronously only (API Gateway proxy and Step Functions tasks); errors return to the caller, which retries or catches them. Lambda DLQs apply to asynchronous invocations.',
  noVpc:
    'The function reaches only AWS public endpoints (DynamoDB, KMS, EventBridge, SageMaker Runtime, X-Ray) with IAM auth and TLS; it holds no network-reachable data store, so a VPC would add NAT cost and cold-start latency without narrowing access.',
} as const;
