/**
 * The state store: one customer-managed KMS key and the five DynamoDB tables of `TABLES` (payments,
 * idempotency, routing, rewards, fraudState).
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { TABLES, type TableName, type TableSchema } from '../contracts/resources';

/** Props of {@link SmartPayData}. */
export interface SmartPayDataProps {
  /**
   * A key of yours to encrypt the tables (and, through the platform, logs, queues and topic).
   * Its key policy must already allow CloudWatch Logs, CloudWatch alarms and EventBridge to use it:
   * the construct cannot edit the policy of an imported key.
   * @default - a new customer-managed key with rotation on
   */
  readonly existingEncryptionKey?: kms.IKey;
  /**
   * Overrides for the key the construct creates. Not allowed with `existingEncryptionKey`.
   * @default - rotation on, a description naming the platform
   */
  readonly encryptionKeyProps?: kms.KeyProps;
  /**
   * Keep the key and tables when the stack is deleted and turn on table deletion protection.
   * @default false
   */
  readonly retainData?: boolean;
}

/** KMS key plus the payments, idempotency, routing, rewards, fraudState and analytics tables. */
export class SmartPayData extends Construct {
  /** The customer-managed key that encrypts the tables. */
  public readonly encryptionKey: kms.IKey;
  /** Payments by merchant (`merchantId` + `paymentId`). */
  public readonly paymentsTable: dynamodb.Table;
  /** Powertools idempotency records (`id`, TTL on `expiration`). */
  public readonly idempotencyTable: dynamodb.Table;
  /**
   * The routing model's store (`pk`, TTL `expiresAt`): the bandit model and its version (`model#bandit`), the
   * circuit breaker's state, folded as outcomes are recorded, for the routers (`health#routing`), and each routing
   * decision (`decision#…`) and attempt outcome (`outcome#…`), which expire.
   */
  public readonly routingTable: dynamodb.Table;
  /** The reward ledger (`paymentId`). */
  public readonly rewardsTable: dynamodb.Table;
  /** Online fraud feature state (`pk`, `sk`, TTL `expiresAt`). */
  public readonly fraudStateTable: dynamodb.Table;
  /** The analytics index's claims, one per event id (`pk`, TTL `expiresAt`). */
  public readonly analyticsTable: dynamodb.Table;
  /** The tables by their `TABLES` name. */
  public readonly tables: Readonly<Record<TableName, dynamodb.Table>>;

  constructor(scope: Construct, id: string, props: SmartPayDataProps = {}) {
    if (props.existingEncryptionKey && props.encryptionKeyProps) {
      throw new Error('pass existingEncryptionKey or encryptionKeyProps, not both');
    }
    super(scope, id);

    const removalPolicy = props.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    // Construct IDs below are part of the stateful contract: changing one replaces the resource.
    this.encryptionKey =
      props.existingEncryptionKey ??
      new kms.Key(this, 'Key', {
        description: 'SmartPay data, logs, queues, topic and secrets',
        enableKeyRotation: true,
        pendingWindow: Duration.days(props.retainData ? 30 : 7),
        removalPolicy,
        ...props.encryptionKeyProps,
      });

    const table = (name: TableName, constructId: string): dynamodb.Table => {
      const schema: TableSchema = TABLES[name];
      const created = new dynamodb.Table(this, constructId, {
        partitionKey: { name: schema.partitionKey, type: dynamodb.AttributeType.STRING },
        sortKey: schema.sortKey ? { name: schema.sortKey, type: dynamodb.AttributeType.STRING } : undefined,
        timeToLiveAttribute: schema.timeToLiveAttribute,
        billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
        encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
        encryptionKey: this.encryptionKey,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        deletionProtection: props.retainData ?? false,
        removalPolicy,
        stream: schema.stream ? dynamodb.StreamViewType.NEW_IMAGE : undefined,
      });
      for (const index of schema.indexes ?? []) {
        created.addGlobalSecondaryIndex({
          indexName: index.name,
          partitionKey: { name: index.partitionKey, type: dynamodb.AttributeType.STRING },
          sortKey: { name: index.sortKey, type: dynamodb.AttributeType.STRING },
          projectionType: dynamodb.ProjectionType.KEYS_ONLY,
        });
      }
      return created;
    };

    this.paymentsTable = table('payments', 'PaymentsTable');
    this.idempotencyTable = table('idempotency', 'IdempotencyTable');
    this.routingTable = table('routing', 'RoutingTable');
    this.rewardsTable = table('rewards', 'RewardsTable');
    this.fraudStateTable = table('fraudState', 'FraudStateTable');
    this.analyticsTable = table('analytics', 'AnalyticsTable');
    this.tables = {
      payments: this.paymentsTable,
      idempotency: this.idempotencyTable,
      routing: this.routingTable,
      rewards: this.rewardsTable,
      fraudState: this.fraudStateTable,
      analytics: this.analyticsTable,
    };
  }

  /** Read access to the payments table (e.g. a reporting job in another stack). */
  public grantReadPayments(grantee: iam.IGrantable): iam.Grant {
    return this.paymentsTable.grantReadData(grantee);
  }

  /** Read and write access to one table by its `TABLES` name. */
  public grantReadWrite(table: TableName, grantee: iam.IGrantable): iam.Grant {
    return this.tables[table].grantReadWriteData(grantee);
  }
}
