/**
 * The gateway adapter of each connector in the registry (CONNECTORS), built once per function from its `kind`
 * and the stage's configuration; no handler picks an adapter. `stripe`: the Stripe API (stripe.ts), with the
 * account's key from the gateway credentials secret; `amazon_pay`: the Amazon Pay API (amazon-pay.ts), with the
 * account's key pair from the same secret; `solana_pay`: Solana Pay transfer requests, verified on the cluster
 * (solana-pay.ts); `sandbox`: the in-process sandbox processor (sandbox.ts).
 */
import type { Connection } from '@solana/web3.js';
import type { z } from 'zod';
import { AmazonPayCredentials, findConnector, GatewayCredentials, StripeCredentials, type ConnectorDefinition } from '../../contracts/connectors';
import { ENV } from '../../contracts/resources';
import type { RuntimeConfig } from '../shared/config';
import { secretString } from '../shared/secrets';
import { clusterConnection } from '../shared/solana-rpc';
import { AmazonPayConnector } from './amazon-pay';
import type { GatewayConnector } from './connectors';
import { SandboxConnector } from './sandbox';
import { SolanaPayConnector } from './solana-pay';
import { StripeConnector } from './stripe';
import { ConnectorNotConfiguredError } from '../../contracts/errors';

/** Reads a secret's string by ARN (Secrets Manager through Powertools Parameters, cached). */
export type SecretReader = (arn: string) => Promise<string>;

/** A connector's entry of the credentials secret, checked with its kind's schema; errors never carry the values. */
async function credentialsOf<T>(cfg: RuntimeConfig, definition: ConnectorDefinition, read: SecretReader, schema: z.ZodType<T>): Promise<T> {
  const arn = cfg.gateways.credentialsSecretArn;
  if (!arn) throw new Error(`connector ${definition.id} is a ${definition.kind} account but ${ENV.gatewayCredentialsSecretArn} is not set`);
  let all: GatewayCredentials;
  try {
    all = GatewayCredentials.parse(JSON.parse(await read(arn)));
  } catch (error) {
    if (error instanceof SyntaxError || (error as Error).name === 'ZodError') throw new Error(`secret ${arn} is not a JSON object of connector credentials`);
    throw error;
  }
  const entry = schema.safeParse(all[definition.id]);
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
          credentials: () => credentialsOf(cfg, definition, read, StripeCredentials),
          apiUrl: cfg.gateways.stripeApiUrl,
          timeoutMs: cfg.gateways.timeoutMs,
        });
      case 'amazon_pay':
        return new AmazonPayConnector(definition, {
          credentials: () => credentialsOf(cfg, definition, read, AmazonPayCredentials),
          apiUrl: cfg.gateways.amazonPayApiUrl,
          timeoutMs: cfg.gateways.timeoutMs,
        });
      case 'solana_pay':
        return new SolanaPayConnector(definition, { connection: cluster });
      default:
        return new SandboxConnector(definition, {
          fault: cfg.sandboxFaults[definition.id],
          latencyMs: cfg.sandboxLatencyMs,
          timeoutMs: cfg.gateways.timeoutMs,
          ledgerDir: cfg.sandboxLedgerDir,
        });
    }
  };
  return (connectorId) => {
    let connector = connectors.get(connectorId);
    if (!connector) {
      const definition = findConnector(connectorId, cfg.connectors);
      if (!definition) {
        throw new ConnectorNotConfiguredError(
          `connector ${connectorId} is not in this stage's connector registry (CONNECTORS): what a payment holds there (a charge to refund, an attempt to settle) waits until it is added back, with its credentials`,
          { connectorId },
        );
      }
      connector = build(definition);
      connectors.set(connectorId, connector);
    }
    return connector;
  };
}
