/**
 * The first fraud model: a transparent rule-based scorer. Each rule that fires adds its weight and a
 * reason; the score is the capped sum; the stage's thresholds turn it into approve, review or decline.
 * Issue 3 replaces it with the XGBoost + GraphSAGE ensemble behind the same port.
 */
import { wholeMajorUnits } from '../shared/money.js';

export interface FraudContext {
  readonly amount: number;
  readonly currency: string;
  readonly customerId: string;
  /** Billing country. */
  readonly country?: string;
  /** Country of the request's IP. */
  readonly ipCountry?: string;
  /** Whether a card security code came with the payment; undefined when unknown. */
  readonly cvcProvided?: boolean;
}

export interface FraudReason {
  readonly code: string;
  readonly weight: number;
  readonly detail: string;
}

export type FraudDecision = 'approve' | 'review' | 'decline';

export interface FraudAssessment {
  readonly score: number;
  readonly decision: FraudDecision;
  readonly reasons: FraudReason[];
  readonly modelVersion: string;
}

export interface Thresholds {
  readonly reviewThreshold: number;
  readonly declineThreshold: number;
}

/** The port a fraud step scores through. */
export interface FraudModel {
  score(context: FraudContext): Promise<FraudAssessment>;
}

export const RULES_VERSION = 'rules-1';

interface Rule {
  readonly code: string;
  readonly weight: number;
  fires(context: FraudContext): string | undefined;
}

const RULES: readonly Rule[] = [
  {
    code: 'amount_very_high',
    weight: 0.45,
    fires: (c) => (wholeMajorUnits(c) >= 10_000 ? `amount of ${wholeMajorUnits(c)} ${c.currency} is at least 10000 major units` : undefined),
  },
  {
    code: 'amount_high',
    weight: 0.2,
    fires: (c) => {
      const major = wholeMajorUnits(c);
      return major >= 2_000 && major < 10_000 ? `amount of ${major} ${c.currency} is at least 2000 major units` : undefined;
    },
  },
  {
    code: 'country_mismatch',
    weight: 0.3,
    fires: (c) =>
      c.country && c.ipCountry && c.country !== c.ipCountry
        ? `billing country ${c.country} differs from IP country ${c.ipCountry}`
        : undefined,
  },
  {
    code: 'cvc_missing',
    weight: 0.15,
    fires: (c) => (c.cvcProvided === false ? 'the card security code was not provided' : undefined),
  },
];

export class RuleBasedFraudModel implements FraudModel {
  constructor(private readonly thresholds: Thresholds) {}

  async score(context: FraudContext): Promise<FraudAssessment> {
    const reasons: FraudReason[] = [];
    for (const rule of RULES) {
      const detail = rule.fires(context);
      if (detail) reasons.push({ code: rule.code, weight: rule.weight, detail });
    }
    reasons.sort((a, b) => b.weight - a.weight);
    const score = Math.min(1, Math.round(reasons.reduce((sum, r) => sum + r.weight, 0) * 1000) / 1000);
    return { score, decision: decide(score, this.thresholds), reasons, modelVersion: RULES_VERSION };
  }
}

export function decide(score: number, thresholds: Thresholds): FraudDecision {
  if (score >= thresholds.declineThreshold) return 'decline';
  if (score >= thresholds.reviewThreshold) return 'review';
  return 'approve';
}
