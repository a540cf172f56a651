/**
 * The local platform's gateways: the embedded fakes of the real gateways' APIs (Stripe's, Amazon Pay's), one
 * account per connector of that kind in the registry the functions run with, and the credentials secret the
 * adapters read (the same GATEWAY_CREDENTIALS_SECRET_ARN shape as in the cloud). Each account's keys are generated
 * at the first start and kept under `<dataDir>/gateways/credentials.json` (git-ignored with the rest of
 * `.smartpay/`, mode 0600): a Stripe account's API key and its webhook endpoint's signing secret (the fake signs
 * the account's events with it and sends them to the platform's `POST /webhooks/stripe/{connectorId}`, once
 * `setWebhookBase` names the server), and an Amazon Pay account's public key id and RSA private key (the fake
 * verifies each request's signature with its public key).
 *
 * With a real Stripe test key (`stripeSecretKey`, from STRIPE_SECRET_KEY), no fake is started for Stripe: every
 * Stripe connector uses that key against api.stripe.com.
 */
import { createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StripeCredentials, type ConnectorDefinition, type GatewayCredentials } from '../../contracts/connectors';
import { ENV } from '../../contracts/resources';
import { AMAZON_PAY_FAULTS, startAmazonPayFake, type AmazonPayFake, type AmazonPayFault } from './amazon-pay';
import { startStripeFake, STRIPE_FAULTS, type StripeFake, type StripeFault } from './stripe';

export interface LocalGatewaysOptions {
  /** The registry the functions run with. */
  readonly connectors: readonly ConnectorDefinition[];
  /** Where the keys and the fakes' calls persist; in memory when unset. */
  readonly dir?: string;
  /** connectorId → fault (SANDBOX_FAULTS): the fakes take those of their accounts. */
  readonly faults?: Readonly<Record<string, string>>;
  /** A real Stripe key: Stripe connectors talk to Stripe itself, with it. */
  readonly stripeSecretKey?: string;
  /** With a real key: the signing secret of the webhook endpoint forwarding to this platform (`stripe listen` prints it). */
  readonly stripeWebhookSecret?: string;
  readonly host?: string;
}

export interface LocalGateways {
  /** The credentials secret's value (JSON by connector id). */
  readonly credentials: string;
  /** The payments function's variables that point the adapters at the fakes. */
  readonly env: Readonly<Record<string, string>>;
  /** The fake of Stripe's API, when a connector is a Stripe account and no real key was given. */
  readonly stripe?: StripeFake;
  /** The fake of Amazon Pay's API, when a connector is an Amazon Pay account. */
  readonly amazonPay?: AmazonPayFake;
  close(): Promise<void>;
}

/** The keys kept for each account, by connector id (a Stripe account's, or an Amazon Pay account's). */
type KeptKeys = Record<string, Record<string, string>>;

function loadKeys(dir: string | undefined): KeptKeys {
  if (!dir) return {};
  const file = join(dir, 'credentials.json');
  if (!existsSync(file)) return {};
  const kept = JSON.parse(readFileSync(file, 'utf8')) as Record<string, Record<string, string> | string>;
  // An earlier layout kept a Stripe API key alone: a signing secret is added to it.
  return Object.fromEntries(Object.entries(kept).flatMap(([id, keys]) => (typeof keys === 'string' ? [] : [[id, keys]])));
}

/** The faults of one fake's accounts, checked against what that fake can do. */
function faultsOf<F extends string>(connectors: readonly ConnectorDefinition[], faults: LocalGatewaysOptions['faults'], allowed: readonly F[], what: string): Record<string, F> {
  const chosen: Record<string, F> = {};
  for (const c of connectors) {
    const fault = faults?.[c.id];
    if (fault === undefined) continue;
    if (!allowed.includes(fault as F)) throw new Error(`${ENV.sandboxFaults}: ${c.id} is ${what}; its faults are ${allowed.join(', ')}, got "${fault}"`);
    chosen[c.id] = fault as F;
  }
  return chosen;
}

export async function startLocalGateways(options: LocalGatewaysOptions): Promise<LocalGateways> {
  const stripeConnectors = options.connectors.filter((c) => c.kind === 'stripe');
  const amazonConnectors = options.connectors.filter((c) => c.kind === 'amazon_pay');
  const credentials: GatewayCredentials = {};
  const env: Record<string, string> = {};
  const keys = loadKeys(options.dir);
  let generated = false;

  const realStripe = options.stripeSecretKey !== undefined;
  if (realStripe) {
    const key = StripeCredentials.safeParse({ secretKey: options.stripeSecretKey });
    if (!key.success) throw new Error('STRIPE_SECRET_KEY must be a Stripe secret or restricted key (sk_test_… or rk_test_…)');
    const entry = StripeCredentials.safeParse({ secretKey: options.stripeSecretKey, ...(options.stripeWebhookSecret ? { webhookSecret: options.stripeWebhookSecret } : {}) });
    if (!entry.success) throw new Error('STRIPE_WEBHOOK_SECRET must be a webhook signing secret (whsec_…)');
    for (const c of stripeConnectors) credentials[c.id] = entry.data;
  } else {
    for (const c of stripeConnectors) {
      if (!keys[c.id]?.secretKey) {
        keys[c.id] = { secretKey: `sk_test_local${randomBytes(18).toString('hex')}`, webhookSecret: `whsec_local${randomBytes(18).toString('hex')}` };
        generated = true;
      }
      credentials[c.id] = { secretKey: keys[c.id]!.secretKey!, webhookSecret: keys[c.id]!.webhookSecret! };
    }
  }
  for (const c of amazonConnectors) {
    if (!keys[c.id]?.privateKey) {
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
      keys[c.id] = { publicKeyId: `SANDBOX-LOCAL${randomBytes(10).toString('hex').toUpperCase()}`, privateKey };
      generated = true;
    }
    credentials[c.id] = { publicKeyId: keys[c.id]!.publicKeyId!, privateKey: keys[c.id]!.privateKey!, region: 'us' };
  }
  if (options.dir && generated) {
    mkdirSync(options.dir, { recursive: true });
    writeFileSync(join(options.dir, 'credentials.json'), `${JSON.stringify(keys, null, 2)}\n`, { mode: 0o600 });
  }

  let stripe: StripeFake | undefined;
  let amazonPay: AmazonPayFake | undefined;
  if (!realStripe && stripeConnectors.length > 0) {
    stripe = await startStripeFake({
      accounts: stripeConnectors.map((definition) => ({ definition, secretKey: keys[definition.id]!.secretKey!, webhookSecret: keys[definition.id]!.webhookSecret })),
      dir: options.dir,
      faults: faultsOf<StripeFault>(stripeConnectors, options.faults, STRIPE_FAULTS, "a Stripe account (the local fake of Stripe's API)"),
      host: options.host,
    });
    env[ENV.stripeApiUrl] = stripe.url;
  }
  if (amazonConnectors.length > 0) {
    amazonPay = await startAmazonPayFake({
      accounts: amazonConnectors.map((definition) => ({
        definition,
        publicKeyId: keys[definition.id]!.publicKeyId!,
        publicKey: createPublicKey(keys[definition.id]!.privateKey!).export({ type: 'spki', format: 'pem' }).toString(),
      })),
      dir: options.dir,
      faults: faultsOf<AmazonPayFault>(amazonConnectors, options.faults, AMAZON_PAY_FAULTS, "an Amazon Pay account (the local fake of Amazon Pay's API)"),
      host: options.host,
    });
    env[ENV.amazonPayApiUrl] = amazonPay.url;
  }
  return {
    credentials: JSON.stringify(credentials),
    env,
    ...(stripe ? { stripe } : {}),
    ...(amazonPay ? { amazonPay } : {}),
    close: async () => {
      await stripe?.close();
      await amazonPay?.close();
    },
  };
}
