/**
 * The three secrets the handlers read by ARN: the Stripe API key, the Solana mint authority and the LLM API key.
 * Created secrets hold a generated placeholder (never a real value in the template); operators put the real
 * value with `aws secretsmanager put-secret-value`. Or pass secrets of your own.
 */
import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

/** Props of {@link SmartPaySecrets}. */
export interface SmartPaySecretsProps {
  /** The key that encrypts the secrets the construct creates. */
  readonly encryptionKey: kms.IKey;
  /**
   * Your Stripe secret key, e.g. `Secret.fromSecretCompleteArn(...)`.
   * @default - a new secret with a generated placeholder value
   */
  readonly existingStripeSecret?: secretsmanager.ISecret;
  /**
   * Your Solana mint-authority key pair secret.
   * @default - a new secret with a generated placeholder value
   */
  readonly existingSolanaMintAuthoritySecret?: secretsmanager.ISecret;
  /**
   * Your LLM provider API key secret.
   * @default - a new secret with a generated placeholder value
   */
  readonly existingLlmApiKeySecret?: secretsmanager.ISecret;
  /**
   * Keep created secrets when the stack is deleted.
   * @default false
   */
  readonly retainData?: boolean;
}

/** The Stripe, Solana mint-authority and LLM secrets (created or yours). */
export class SmartPaySecrets extends Construct {
  /** Stripe secret API key (`STRIPE_SECRET_ARN`). */
  public readonly stripeSecret: secretsmanager.ISecret;
  /** Solana mint authority (`SOLANA_MINT_AUTHORITY_SECRET_ARN`). */
  public readonly solanaMintAuthoritySecret: secretsmanager.ISecret;
  /** LLM API key (`LLM_API_KEY_SECRET_ARN`). */
  public readonly llmApiKeySecret: secretsmanager.ISecret;

  constructor(scope: Construct, id: string, props: SmartPaySecretsProps) {
    if (!props?.encryptionKey) throw new Error('encryptionKey is required');
    super(scope, id);

    const create = (constructId: string, description: string): secretsmanager.Secret => {
      const secret = new secretsmanager.Secret(this, constructId, {
        description: `${description} (placeholder: put the real value with aws secretsmanager put-secret-value)`,
        encryptionKey: props.encryptionKey,
        generateSecretString: { passwordLength: 48, excludePunctuation: true },
        removalPolicy: props.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      });
      Validations.of(secret).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason:
          'Third-party credential (issued by Stripe / the Solana key owner / the LLM provider): Secrets Manager cannot rotate it; it is rotated at the provider and written with put-secret-value.',
      });
      return secret;
    };

    this.stripeSecret = props.existingStripeSecret ?? create('StripeSecret', 'SmartPay Stripe secret API key');
    this.solanaMintAuthoritySecret =
      props.existingSolanaMintAuthoritySecret ?? create('SolanaMintAuthoritySecret', 'SmartPay Solana mint authority key pair');
    this.llmApiKeySecret = props.existingLlmApiKeySecret ?? create('LlmApiKeySecret', 'SmartPay LLM provider API key');
  }

  /** Read access to the Stripe secret (and decrypt through Secrets Manager). */
  public grantReadStripe(grantee: iam.IGrantable): iam.Grant {
    return this.stripeSecret.grantRead(grantee);
  }

  /** Read access to the Solana mint-authority secret. */
  public grantReadSolanaMintAuthority(grantee: iam.IGrantable): iam.Grant {
    return this.solanaMintAuthoritySecret.grantRead(grantee);
  }

  /** Read access to the LLM API key secret. */
  public grantReadLlmApiKey(grantee: iam.IGrantable): iam.Grant {
    return this.llmApiKeySecret.grantRead(grantee);
  }
}
