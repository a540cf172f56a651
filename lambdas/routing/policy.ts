/**
 * The first routing policy: rank the eligible connectors by the fee they would charge, cheapest first.
 * Eligibility comes first (enabled, method, currency, region): an ineligible connector is never ranked.
 * Issue 4 replaces the ranking with a contextual bandit behind the same port.
 */
import type { ConnectorDefinition, ConnectorKind } from '../shared/connectors.js';
import { NoEligibleConnectorError } from '../shared/errors.js';
import { percentageFee } from '../shared/money.js';

export interface RouteContext {
  readonly amount: number;
  readonly currency: string;
  readonly method: 'card';
  readonly country?: string;
  readonly fraudScore?: number;
}

export interface RankedConnector {
  readonly connectorId: string;
  readonly kind: ConnectorKind;
  readonly estimatedFeeMinor: number;
  /** Higher is better; for this policy, minus the fee. */
  readonly score: number;
}

export interface RouteDecision {
  readonly ranked: RankedConnector[];
  /** How many connectors the workflow may try: min(ranked, MAX_PAYMENT_ATTEMPTS). */
  readonly attemptLimit: number;
  /** The probability the policy had of choosing the first-ranked connector (1 for a deterministic policy). */
  readonly propensity: number;
  readonly policyVersion: string;
}

export const POLICY_VERSION = 'cheapest-1';

export function isEligible(connector: ConnectorDefinition, context: RouteContext): boolean {
  return (
    connector.enabled &&
    connector.methods.includes(context.method) &&
    (connector.currencies.includes('*') || connector.currencies.includes(context.currency)) &&
    (context.country === undefined || connector.regions.includes('*') || connector.regions.includes(context.country))
  );
}

export function rankCheapest(
  catalogue: readonly ConnectorDefinition[],
  context: RouteContext,
  maxAttempts: number,
): RouteDecision {
  const eligible = catalogue.filter((c) => isEligible(c, context));
  if (eligible.length === 0) {
    throw new NoEligibleConnectorError(
      `no enabled connector takes ${context.method} payments in ${context.currency}${context.country ? ` from ${context.country}` : ''}`,
      { method: context.method, currency: context.currency, country: context.country },
    );
  }
  const ranked = eligible
    .map((c) => {
      const estimatedFeeMinor = percentageFee(context.amount, c.fee.basisPoints, c.fee.fixedMinor);
      return { connectorId: c.id, kind: c.kind, estimatedFeeMinor, score: -estimatedFeeMinor };
    })
    .sort((a, b) => b.score - a.score || a.connectorId.localeCompare(b.connectorId));
  return { ranked, attemptLimit: Math.min(ranked.length, maxAttempts), propensity: 1, policyVersion: POLICY_VERSION };
}
