/**
 * Eligibility comes first: only connectors that are enabled and take the payment's method, currency and
 * buyer region are ever ranked. Routing a payment to a connector that cannot take it is impossible, not
 * just unlikely.
 */
import type { ConnectorDefinition, ConnectorKind } from '../../contracts/connectors';
import { NoEligibleConnectorError } from '../../contracts/errors';

export interface EligibilityContext {
  readonly method: string;
  readonly currency: string;
  readonly country?: string;
  /** Only connectors of these kinds (a tokenised card can be charged by its own gateway only). */
  readonly kinds?: readonly ConnectorKind[];
}

export function isEligible(connector: ConnectorDefinition, context: EligibilityContext): boolean {
  return (
    connector.enabled &&
    (context.kinds === undefined || context.kinds.includes(connector.kind)) &&
    (connector.methods as readonly string[]).includes(context.method) &&
    (connector.currencies.includes('*') || connector.currencies.includes(context.currency)) &&
    (context.country === undefined || connector.regions.includes('*') || connector.regions.includes(context.country))
  );
}

/** The eligible connectors, or a 422 naming what nothing takes. */
export function eligibleConnectors(catalogue: readonly ConnectorDefinition[], context: EligibilityContext): ConnectorDefinition[] {
  const eligible = catalogue.filter((c) => isEligible(c, context));
  if (eligible.length === 0) {
    throw new NoEligibleConnectorError(
      `no enabled ${context.kinds ? `${context.kinds.join(' or ')} ` : ''}connector takes ${context.method} payments in ${context.currency}${context.country ? ` from ${context.country}` : ''}`,
      { method: context.method, currency: context.currency, country: context.country, ...(context.kinds ? { kinds: context.kinds } : {}) },
    );
  }
  return eligible;
}
