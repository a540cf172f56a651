/**
 * The local platform's gateways: the embedded fakes of the real gateways' APIs, one account per connector of
 * that kind in the registry the functions run with, and the credentials secret the adapters read (the same
 * GATEWAY_CREDENTIALS_SECRET_ARN shape as in the cloud). Each account's key is generated at the first start and
 * kept under `<dataDir>/gateways/credentials.json` (git-ignored with the rest of `.smartpay/`), with its webhook
 * endpoint's signing secret: the fake signs the account's events with it and sends them to the platform's
 * `POST /webhooks/stripe/{connectorId}` (`setWebhookBase`, once the server listens).
 *
 * With a real Stripe test key (`stripeSecretKey`, from STRIPE_SECRET_KEY), no fake is started for Stripe: every
 * Stripe connector uses that key against api.stripe.com.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StripeCredentials, type ConnectorDefinition, type GatewayCredentials } from '../../contracts/connectors';
import { ENV } from '../../contracts/resources';
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
  close(): Promise<void>;
}

/** An account's generated keys: its API key and its webhook endpoint's signing secret. */
interface AccountKeys {
  readonly secretKey: string;
  readonly webhookSecret: string;
}

function loadKeys(dir: string | undefined): Record<string, AccountKeys> {
  if (!dir) return {};
  const file = join(dir, 'credentials.json');
  if (!existsSync(file)) return {};
  const kept = JSON.parse(readFileSync(file, 'utf8')) as Record<string, AccountKeys | string>;
  // An earlier layout kept the API key alone: a signing secret is added to it.
  return Object.fromEntries(Object.entries(kept).flatMap(([id, keys]) => (typeof keys === 'string' ? [] : [[id, keys]])));
}

export async function startLocalGateways(options: LocalGatewaysOptions): Promise<LocalGateways> {
  const stripeConnectors = options.connectors.filter((c) => c.kind === 'stripe');
  const credentials: GatewayCredentials = {};
  if (options.stripeSecretKey !== undefined) {
    const key = StripeCredentials.safeParse({ secretKey: options.stripeSecretKey });
    if (!key.success) throw new Error('STRIPE_SECRET_KEY must be a Stripe secret or restricted key (sk_test_… or rk_test_…)');
    const entry = StripeCredentials.safeParse({ secretKey: options.stripeSecretKey, ...(options.stripeWebhookSecret ? { webhookSecret: options.stripeWebhookSecret } : {}) });
    if (!entry.success) throw new Error('STRIPE_WEBHOOK_SECRET must be a webhook signing secret (whsec_…)');
    for (const c of stripeConnectors) credentials[c.id] = entry.data;
    return { credentials: JSON.stringify(credentials), env: {}, close: async () => undefined };
  }
  if (stripeConnectors.length === 0) return { credentials: JSON.stringify(credentials), env: {}, close: async () => undefined };

  const keys = loadKeys(options.dir);
  let generated = false;
  for (const c of stripeConnectors) {
    if (!keys[c.id]) {
      keys[c.id] = { secretKey: `sk_test_local${randomBytes(18).toString('hex')}`, webhookSecret: `whsec_local${randomBytes(18).toString('hex')}` };
      generated = true;
    }
    credentials[c.id] = { ...keys[c.id] };
  }
  if (options.dir && generated) {
    mkdirSync(options.dir, { recursive: true });
    writeFileSync(join(options.dir, 'credentials.json'), `${JSON.stringify(keys, null, 2)}\n`, { mode: 0o600 });
  }
  const faults: Record<string, StripeFault> = {};
  for (const c of stripeConnectors) {
    const fault = options.faults?.[c.id];
    if (fault === undefined) continue;
    if (!STRIPE_FAULTS.includes(fault as StripeFault)) {
      throw new Error(`${ENV.sandboxFaults}: ${c.id} is a Stripe account (the local fake of Stripe's API); its faults are ${STRIPE_FAULTS.join(', ')}, got "${fault}"`);
    }
    faults[c.id] = fault as StripeFault;
  }
  const stripe = await startStripeFake({
    accounts: stripeConnectors.map((definition) => ({ definition, ...keys[definition.id]! })),
    dir: options.dir,
    faults,
    host: options.host,
  });
  return { credentials: JSON.stringify(credentials), env: { [ENV.stripeApiUrl]: stripe.url }, stripe, close: () => stripe.close() };
}
