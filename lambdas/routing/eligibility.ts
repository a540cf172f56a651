/**
 * Eligibility comes first: only connectors that are enabled and take the payment's method, currency, buyer
 * region and amount (a gateway's own rules: contracts/connectors.ts connectorAmountProblem) are ever ranked.
 * Routing a payment to a connector that cannot take it is impossible, not just unlikely.
 */
import { amountProblemsClause, connectorAmountProblem, type ConnectorDefinition, type ConnectorKind } from '../../contracts/connectors';
import { NoEligibleConnectorError } from '../../contracts/errors';

export interface EligibilityContext {
  readonly method: string;
  readonly currency: string;
  readonly country?: string;
  /** The amount in minor units (absent: any amount). */
  readonly amount?: number;
  /** Only connectors of these kinds (a tokenised card can be charged by its own gateway only). */
  readonly kinds?: readonly ConnectorKind[];
}

export function isEligible(connector: ConnectorDefinition, context: EligibilityContext): boolean {
  return (
    connector.enabled &&
    (context.kinds === undefined || context.kinds.includes(connector.kind)) &&
    (connector.methods as readonly string[]).includes(context.method) &&
    (connector.currencies.includes('*') || connector.currencies.includes(context.currency)) &&
    (context.country === undefined || connector.regions.includes('*') || connector.regions.includes(context.country)) &&
    (context.amount === undefined || connectorAmountProblem(connector.kind, context.amount, context.currency) === undefined)
  );
}

/** The eligible connectors, or a 422 naming what nothing takes. */
export function eligibleConnectors(catalogue: readonly ConnectorDefinition[], context: EligibilityContext): ConnectorDefinition[] {
  const eligible = catalogue.filter((c) => isEligible(c, context));
  if (eligible.length === 0) {
    // Connectors that would take the payment but for its amount: the amount is what to change.
    const { amount, ...rest } = context;
    const byAmount = amount === undefined ? [] : catalogue.filter((c) => isEligible(c, rest));
    const problems = [...new Set(byAmount.flatMap((c) => connectorAmountProblem(c.kind, amount!, context.currency) ?? []))];
    throw new NoEligibleConnectorError(
      `no enabled ${context.kinds ? `${context.kinds.join(' or ')} ` : ''}connector takes ${context.method} payments in ${context.currency}${context.country ? ` from ${context.country}` : ''}` +
        amountProblemsClause(problems),
      {
        method: context.method, currency: context.currency, country: context.country, ...(context.kinds ? { kinds: context.kinds } : {}),
        ...(problems.length ? { issues: problems.map((problem) => ({ field: 'amount', problem })) } : {}),
      },
    );
  }
  return eligible;
}
