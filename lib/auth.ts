/**
 * Merchant identity: a Cognito user pool whose users carry the immutable custom attribute `merchantId`
 * (JWT claim `custom:merchantId`, see MERCHANT_CLAIM), and an app client that can read it but never write it.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';
import { MERCHANT_CLAIM } from '../contracts/api';
import { acknowledge } from './nag';

/** The custom attribute name (without the `custom:` prefix) behind {@link MERCHANT_CLAIM}. */
export const MERCHANT_ATTRIBUTE = MERCHANT_CLAIM.replace(/^custom:/, '');

/** Props of {@link SmartPayAuth}. */
export interface SmartPayAuthProps {
  /**
   * A user pool of yours. Its users must carry the custom attribute `merchantId` (claim `custom:merchantId`),
   * and it should require MFA.
   * @default - a new user pool (admin-created users, MFA required, strong password policy)
   */
  readonly existingUserPool?: cognito.IUserPool;
  /**
   * Overrides for the user pool the construct creates (spread over the secure defaults). Not allowed with
   * `existingUserPool`.
   * @default - the secure defaults described on the class
   */
  readonly userPoolProps?: cognito.UserPoolProps;
  /**
   * Overrides for the app client the construct creates on the pool.
   * @default - SRP auth (plus admin password auth, which needs IAM credentials), no secret, 1 h tokens, `custom:merchantId` readable but not writable
   */
  readonly userPoolClientProps?: cognito.UserPoolClientOptions;
  /**
   * Plus feature plan with full-function threat protection.
   * @default false
   */
  readonly threatProtection?: boolean;
  /**
   * Keep the user pool when the stack is deleted, with deletion protection on.
   * @default false
   */
  readonly retainData?: boolean;
}

/**
 * User pool + app client. Defaults: no self sign-up (merchants' users are created by an admin with their
 * `merchantId`), email sign-in, TOTP MFA required, 14+ character passwords with every character class,
 * email-only account recovery.
 */
export class SmartPayAuth extends Construct {
  /** The pool whose ID tokens the API's authorizer accepts. */
  public readonly userPool: cognito.IUserPool;
  /** The app client merchants' apps sign in with. */
  public readonly userPoolClient: cognito.UserPoolClient;

  constructor(scope: Construct, id: string, props: SmartPayAuthProps = {}) {
    if (props.existingUserPool && props.userPoolProps) {
      throw new Error('pass existingUserPool or userPoolProps, not both');
    }
    super(scope, id);

    if (props.existingUserPool) {
      this.userPool = props.existingUserPool;
    } else {
      const threatProtection = props.threatProtection ?? false;
      const pool = new cognito.UserPool(this, 'UserPool', {
        selfSignUpEnabled: false,
        signInAliases: { email: true },
        standardAttributes: { email: { required: true, mutable: true } },
        customAttributes: {
          [MERCHANT_ATTRIBUTE]: new cognito.StringAttribute({ minLen: 1, maxLen: 64, mutable: false }),
        },
        passwordPolicy: {
          minLength: 14,
          requireLowercase: true,
          requireUppercase: true,
          requireDigits: true,
          requireSymbols: true,
          tempPasswordValidity: Duration.days(3),
        },
        mfa: cognito.Mfa.REQUIRED,
        mfaSecondFactor: { otp: true, sms: false },
        accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
        featurePlan: threatProtection ? cognito.FeaturePlan.PLUS : cognito.FeaturePlan.ESSENTIALS,
        standardThreatProtectionMode: threatProtection ? cognito.StandardThreatProtectionMode.FULL_FUNCTION : undefined,
        deletionProtection: props.retainData ?? false,
        removalPolicy: props.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
        ...props.userPoolProps,
      });
      if (!threatProtection) {
        acknowledge(pool, {
          'AwsSolutions-COG8':
            'Non-production stage without real merchants: the Plus plan (threat protection) is billed per MAU and is enabled for staging and prod; MFA is still required here.',
        });
      }
      this.userPool = pool;
    }

    this.userPoolClient = this.userPool.addClient('AppClient', {
      // SRP for apps; ADMIN_USER_PASSWORD_AUTH for operators, which needs IAM credentials (admin-initiate-auth)
      // and still goes through MFA.
      authFlows: { userSrp: true, adminUserPassword: true },
      generateSecret: false,
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      accessTokenValidity: Duration.hours(1),
      idTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.days(30),
      readAttributes: new cognito.ClientAttributes()
        .withStandardAttributes({ email: true, emailVerified: true })
        .withCustomAttributes(MERCHANT_ATTRIBUTE),
      // The merchant identity is set by an admin at user creation, never by the client app.
      writeAttributes: new cognito.ClientAttributes().withStandardAttributes({ email: true }),
      // No hosted-UI OAuth for this client (CDK's default would allow the implicit flow to https://example.com: a
      // crafted authorize URL on the console's hosted domain would send tokens there). The console has its own client.
      disableOAuth: props.userPoolClientProps?.oAuth === undefined,
      ...props.userPoolClientProps,
    });
  }
}
