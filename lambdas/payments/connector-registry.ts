/**
 * The gateway adapter of each connector in the registry (CONNECTORS), built once per function from its `kind`
 * and the stage's configuration; no handler picks an adapter. `stripe`: the Stripe API (stripe.ts), with the
 * account's key from the gateway credentials secret; `solana_pay`: Solana Pay transfer requests, verified on the
 * cluster (solana-pay.ts); `sandbox` (and, until its adapter lands, `amazon_pay`): the in-process sandbox
 * processor (sandbox.ts).
 */
import type { Connection } from '@solana/web3.js';
import { findConnector, GatewayCredentials, StripeCredentials, type ConnectorDefinition } from '../../contracts/connectors';
import { ENV } from '../../contracts/resources';
import type { RuntimeConfig } from '../shared/config';
import { secretString } from '../shared/secrets';
import { clusterConnection } from '../shared/solana-rpc';
import type { GatewayConnector } from './connectors';
import { SandboxConnector } from './sandbox';
import { SolanaPayConnector } from './solana-pay';
import { StripeConnector } from './stripe';

/** Reads a secret's string by ARN (Secrets Manager through Powertools Parameters, cached). */
export type SecretReader = (arn: string) => Promise<string>;

/** A connector's entry of the credentials secret, checked with its kind's schema; errors never carry the values. */
async function credentialsOf(cfg: RuntimeConfig, definition: ConnectorDefinition, read: SecretReader): Promise<StripeCredentials> {
  const arn = cfg.gateways.credentialsSecretArn;
  if (!arn) throw new Error(`connector ${definition.id} is a ${definition.kind} account but ${ENV.gatewayCredentialsSecretArn} is not set`);
  let all: GatewayCredentials;
  try {
    all = GatewayCredentials.parse(JSON.parse(await read(arn)));
  } catch (error) {
    if (error instanceof SyntaxError || (error as Error).name === 'ZodError') throw new Error(`secret ${arn} is not a JSON object of connector credentials`);
    throw error;
  }
  const entry = StripeCredentials.safeParse(all[definition.id]);
  if (!entry.success) {
    const problem = all[definition.id] === undefined ? 'has no entry' : `has an entry whose ${entry.error.issues.map((i) => `${i.path.join('.') || '(entry)'} ${i.message}`).join('; ')}`;
    throw new Error(`secret ${arn} ${problem} for connector ${definition.id}`);
  }
  return entry.data;
}

/** How long one call to the cluster may take before it counts as unanswered (the payment stays pending). */
const RPC_TIMEOUT_MS = 5_000;

export function connectorRegistry(cfg: RuntimeConfig, read: SecretReader = secretString): (connectorId: string) => GatewayConnector {
  const connectors = new Map<string, GatewayConnector>();
  let connection: Promise<Connection> | undefined;
  // The cluster Solana Pay transfers are read from (web3.js loaded at the first Solana Pay payment, not at a card's).
  const cluster = () =>
    (connection ??= clusterConnection(cfg.solana, read, RPC_TIMEOUT_MS).catch((error: unknown) => {
      connection = undefined;
      throw error;
    }));
  const build = (definition: ConnectorDefinition): GatewayConnector => {
    switch (definition.kind) {
      case 'stripe':
        return new StripeConnector(definition, {
          credentials: () => credentialsOf(cfg, definition, read),
          apiUrl: cfg.gateways.stripeApiUrl,
          timeoutMs: cfg.gateways.timeoutMs,
        });
      case 'solana_pay':
        return new SolanaPayConnector(definition, { connection: cluster });
      default:
        return new SandboxConnector(definition, {
          fault: cfg.sandboxFaults[definition.id],
          latencyMs: cfg.sandboxLatencyMs,
          ledgerDir: cfg.sandboxLedgerDir,
        });
    }
  };
  return (connectorId) => {
    let connector = connectors.get(connectorId);
    if (!connector) {
      const definition = findConnector(connectorId, cfg.connectors);
      if (!definition) throw new Error(`unknown connector ${connectorId}`);
      connector = build(definition);
      connectors.set(connectorId, connector);
    }
    return connector;
  };
}
