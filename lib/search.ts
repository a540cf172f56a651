/**
 * SmartPayAnalyticsIndex: the analytics index's OpenSearch Serverless collection (vector search), with its
 * encryption policy (the platform's KMS key), its network policy (the collection's endpoint reachable over
 * HTTPS, no dashboards), and a data-access policy naming only the roles given to `grantReadWrite` (the analytics
 * function's), each also granted `aoss:APIAccessAll` on this collection alone. Every request is SigV4-signed by
 * an IAM principal that both policies name; nothing is open without credentials.
 */
import { Names, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as aoss from 'aws-cdk-lib/aws-opensearchserverless';
import { Construct } from 'constructs';

export interface SmartPayAnalyticsIndexProps {
  /** The key that encrypts the collection (the platform's customer-managed key). */
  readonly encryptionKey: kms.IKey;
  /** The stage's name, in the collection's name (`smartpay-<stage>-<hash>`). */
  readonly stage: string;
  /**
   * Standby replicas in another Availability Zone. They set the collection's floor, billed even idle: with them
   * 2 OCUs (indexing and search, 0.5 each twice), about $350 a month at $0.24 an OCU-hour; without, 1 OCU (about
   * $175): https://docs.aws.amazon.com/opensearch-service/latest/developerguide/serverless-scaling.html. Fixed at
   * creation: OpenSearch Serverless cannot change it on an existing collection.
   * @default true
   */
  readonly standbyReplicas?: boolean;
}

export class SmartPayAnalyticsIndex extends Construct {
  /** The collection (type VECTORSEARCH). */
  public readonly collection: aoss.CfnCollection;
  /** Its data endpoint, `https://<id>.<region>.aoss.amazonaws.com` (the analytics function's OPENSEARCH_ENDPOINT). */
  public readonly endpoint: string;
  public readonly collectionName: string;
  private readonly principals: string[] = [];

  constructor(scope: Construct, id: string, props: SmartPayAnalyticsIndexProps) {
    super(scope, id);
    // 3-32 lowercase characters, unique in the account and region: the stage and a hash of this construct's path.
    const hash = Names.uniqueId(this).toLowerCase().replace(/[^a-z0-9]/g, '').slice(-6);
    this.collectionName = `smartpay-${props.stage.toLowerCase().replace(/[^a-z0-9-]/g, '').slice(0, 15)}-${hash}`;
    const resource = [`collection/${this.collectionName}`];

    const encryption = new aoss.CfnSecurityPolicy(this, 'EncryptionPolicy', {
      name: `${this.collectionName}-enc`.slice(0, 32),
      type: 'encryption',
      description: 'SmartPay analytics index: encrypted with the platform key',
      policy: Stack.of(this).toJsonString({ Rules: [{ ResourceType: 'collection', Resource: resource }], AWSOwnedKey: false, KmsARN: props.encryptionKey.keyArn }),
    });
    const network = new aoss.CfnSecurityPolicy(this, 'NetworkPolicy', {
      name: `${this.collectionName}-net`.slice(0, 32),
      type: 'network',
      description: 'SmartPay analytics index: the collection endpoint over HTTPS (IAM-signed requests only); no dashboards',
      // The functions run outside a VPC; every request still needs a SigV4 signature of a principal the data
      // access policy names.
      policy: Stack.of(this).toJsonString([{ Rules: [{ ResourceType: 'collection', Resource: resource }], AllowFromPublic: true }]),
    });
    this.collection = new aoss.CfnCollection(this, 'Collection', {
      name: this.collectionName,
      type: 'VECTORSEARCH',
      description: "SmartPay analytics: one document per finished payment and refund, by merchant",
      standbyReplicas: props.standbyReplicas === false ? 'DISABLED' : 'ENABLED',
    });
    this.collection.addResourceDependency(encryption);
    this.collection.addResourceDependency(network);
    this.endpoint = this.collection.attrCollectionEndpoint;

    const access = new aoss.CfnAccessPolicy(this, 'DataAccessPolicy', {
      name: `${this.collectionName}-data`.slice(0, 32),
      type: 'data',
      description: 'SmartPay analytics index: the analytics function reads and writes its index',
      policy: Stack.of(this).toJsonString([
        {
          Rules: [
            { ResourceType: 'index', Resource: [`index/${this.collectionName}/*`], Permission: ['aoss:CreateIndex', 'aoss:DescribeIndex', 'aoss:UpdateIndex', 'aoss:ReadDocument', 'aoss:WriteDocument'] },
            { ResourceType: 'collection', Resource: resource, Permission: ['aoss:DescribeCollectionItems'] },
          ],
          Principal: this.principals,
        },
      ]),
    });
    access.node.addValidation({ validate: () => (this.principals.length ? [] : ['the analytics index has no principal: call grantReadWrite']) });
  }

  /** Lets `role` read and write the index: named in the data access policy, and `aoss:APIAccessAll` on this collection. */
  public grantReadWrite(role: iam.IRole): void {
    this.principals.push(role.roleArn);
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['aoss:APIAccessAll'], resources: [this.collection.attrArn] }));
  }
}
