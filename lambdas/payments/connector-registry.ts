/**
 * The gateway adapter of each connector in the registry (CONNECTORS), built once per function: every
 * connector is a sandbox today (lambdas/payments/sandbox.ts); the Stripe, Amazon Pay and Solana Pay adapters
 * plug in here by kind.
 */
import { findConnector } from '../../contracts/connectors';
import type { RuntimeConfig } from '../shared/config';
import type { GatewayConnector } from './connectors';
import { SandboxConnector } from './sandbox';

export function connectorRegistry(cfg: RuntimeConfig): (connectorId: string) => GatewayConnector {
  const connectors = new Map<string, GatewayConnector>();
  return (connectorId) => {
    let connector = connectors.get(connectorId);
    if (!connector) {
      const definition = findConnector(connectorId, cfg.connectors);
      if (!definition) throw new Error(`unknown connector ${connectorId}`);
      connector = new SandboxConnector(definition, {
        fault: cfg.sandboxFaults[connectorId],
        latencyMs: cfg.sandboxLatencyMs,
        ledgerDir: cfg.sandboxLedgerDir,
      });
      connectors.set(connectorId, connector);
    }
    return connector;
  };
}
