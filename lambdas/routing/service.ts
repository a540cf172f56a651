/**
 * Routing over narrow ports (ports.ts): the connector catalogue, the learnt model (a cached copy), the decision
 * and outcome log, and the queue that feeds the single updater.
 *
 * - `route`: eligibility first (an ineligible connector is never ranked), then the bandit's ranking with
 *   its propensities; the decision is logged for the delayed outcome and for off-policy evaluation (`decide`
 *   routes without logging, for the payment workflow, which has it logged off its synchronous path).
 * - `recordFeedback`: a merchant's report of a decision's attempts, checked against the decision and given once;
 *   each outcome is recorded once and handed to the updater, which folds it into the model exactly once
 *   (dynamo-model-store.ts): a replay changes nothing. The circuit breaker is not fed from here (it folds only the
 *   platform's own charges: `recordPaymentOutcomes`).
 */
import { randomBytes } from 'node:crypto';
import type { RoutingStateResponse } from '../../contracts/api';
import type { ConnectorDefinition, ConnectorKind } from '../../contracts/connectors';
import type { PaymentFinalizedDetail } from '../../contracts/events';
import { FeedbackConflictError, NotFoundError, ValidationError } from '../../contracts/errors';
import type { RankedConnector } from './bandit';
import { routingFeatureNames, routingFeatures, vocabularyOf, type RoutingContext, type RoutingVocabulary } from './context';
import { statusAt, type HealthOutcome } from './health';
import type { DecisionLog, DecisionRecord, HealthLog, OutcomeQueue, OutcomeRecord, PolicySource } from './ports';
import { eligibleConnectors } from './eligibility';
import { EndpointScoreError, type ScoredBy } from '../shared/sagemaker';
import { powertoolsRoutingFallbackReporter, type RoutingEndpoint, type RoutingFallbackReporter } from './sagemaker';

export interface RouteInput {
  readonly amount: number;
  readonly currency: string;
  readonly method: RoutingContext['method'];
  readonly network?: RoutingContext['network'];
  readonly country?: string;
  readonly merchantCategory?: string;
  readonly fraudScore?: number;
  /** Only connectors of these kinds can take the payment (a tokenised card: its gateway's). */
  readonly kinds?: readonly ConnectorKind[];
}

export interface RouteResult {
  readonly decisionId: string;
  /** The choice first, then the fallbacks; each with its score and its propensity of being chosen first. */
  readonly ranked: RankedConnector[];
  /** The propensity of the chosen (first) connector. */
  readonly propensity: number;
  readonly policyVersion: string;
  /** How many connectors the workflow may try: min(ranked, MAX_PAYMENT_ATTEMPTS). */
  readonly attemptLimit: number;
  /** Whose scores ranked: the SageMaker endpoint, or the embedded bandit (none configured, or a fallback). */
  readonly scoredBy: ScoredBy;
}

export interface RoutingDeps {
  readonly connectors: readonly ConnectorDefinition[];
  readonly model: PolicySource;
  readonly store: DecisionLog;
  /** The breaker's state: newly recorded outcomes are folded in at once (the model learns them later). */
  readonly health: HealthLog;
  readonly queue: OutcomeQueue;
  readonly maxAttempts: number;
  /** λ of the merchant (default: the policy's). */
  readonly feeWeight?: (merchantId: string) => number | undefined;
  readonly random?: () => number;
  readonly clock?: () => number;
  /** The SageMaker endpoint (`ROUTING_ENDPOINT_NAME`); the embedded bandit is the fallback. */
  readonly endpoint?: RoutingEndpoint;
  readonly fallbackReporter?: RoutingFallbackReporter;
}

export const POLICY_PREFIX = 'linucb';

export function newDecisionId(): string {
  return `rt_${randomBytes(12).toString('base64url')}`;
}

/** Routes and logs the decision at once (POST /route: the caller's feedback may come right after). */
export async function route(merchantId: string, input: RouteInput, deps: RoutingDeps): Promise<RouteResult> {
  const { result, decision } = await decide(merchantId, input, deps);
  await deps.store.logDecision(decision);
  return result;
}

/**
 * Routes without logging: the decision is returned for the caller to have it logged (`logDecision`) before any
 * outcome of it is recorded. The payment workflow records it with the payment's plan, and routing logs it from
 * the payment's PaymentFinalized event, off the synchronous path (a decision whose payment never reached a
 * gateway is never logged: it has nothing to learn from).
 */
export async function decide(merchantId: string, input: RouteInput, deps: RoutingDeps): Promise<{ result: RouteResult; decision: DecisionRecord }> {
  const time = (deps.clock ?? Date.now)();
  const context: RoutingContext = {
    amountMinor: input.amount,
    currency: input.currency,
    method: input.method,
    network: input.network,
    country: input.country,
    merchantCategory: input.merchantCategory,
    fraudScore: input.fraudScore,
    time,
  };
  const eligible = eligibleConnectors(deps.connectors, input);
  const [{ policy, version }, remote] = await Promise.all([deps.model.get(), endpointScores(context, eligible, deps)]);
  const choice = policy.rank(context, eligible, deps.random ?? Math.random, deps.feeWeight?.(merchantId), remote);
  const decisionId = newDecisionId();
  const policyVersion = `${POLICY_PREFIX}-${version}`;
  const decision: DecisionRecord = {
    decisionId,
    merchantId,
    time,
    context,
    ranked: choice.ranked.map((r) => ({ connectorId: r.connectorId, propensity: r.propensity, score: r.score })),
    chosen: choice.ranked[0].connectorId,
    propensity: choice.propensity,
    policyVersion,
  };
  const result: RouteResult = {
    decisionId,
    ranked: choice.ranked,
    propensity: choice.propensity,
    policyVersion,
    attemptLimit: Math.min(choice.ranked.length, deps.maxAttempts),
    scoredBy: remote ? 'sagemaker' : 'embedded',
  };
  return { result, decision };
}

const vocabularies = new WeakMap<readonly ConnectorDefinition[], RoutingVocabulary>();
/** The registry's vocabulary (context.ts), once per registry. */
function registryVocabulary(connectors: readonly ConnectorDefinition[]): RoutingVocabulary {
  let vocabulary = vocabularies.get(connectors);
  if (!vocabulary) vocabularies.set(connectors, (vocabulary = vocabularyOf(connectors)));
  return vocabulary;
}

/** The endpoint's scores, or undefined (none configured, or a fallback, reported). */
async function endpointScores(
  context: RoutingContext,
  eligible: readonly ConnectorDefinition[],
  deps: Pick<RoutingDeps, 'connectors' | 'endpoint' | 'fallbackReporter'>,
): Promise<Record<string, number> | undefined> {
  if (!deps.endpoint) return undefined;
  try {
    const vocabulary = registryVocabulary(deps.connectors);
    return await deps.endpoint.scores({ values: Array.from(routingFeatures(context, vocabulary)), names: routingFeatureNames(vocabulary) }, eligible.map((c) => c.id));
  } catch (error) {
    const e = error instanceof EndpointScoreError ? error : new EndpointScoreError('error', (error as Error)?.message ?? String(error), { cause: error });
    (deps.fallbackReporter ?? powertoolsRoutingFallbackReporter).fallback(deps.endpoint.endpointName, e);
    return undefined;
  }
}

export interface AttemptReport {
  readonly connectorId: string;
  readonly outcome: HealthOutcome;
  readonly latencyMs: number;
  readonly feeMinor?: number;
}

/**
 * Records the outcomes of a decision's attempts (attempt i = `attempts[i]`) and queues them for the updater
 * (POST /route/feedback). `merchantId` (from the API) must own the decision. The attempts must be what one payment
 * can do: each a connector the decision ranked, each connector once, at most the ranked ones, a success or a
 * decline only as the last, a fee no larger than the amount. A decision's feedback is given once: the same again
 * is a replay, different attempts are a conflict (409). The circuit breaker is not fed from here: it folds only
 * the platform's own attempts (PaymentFinalized), so one merchant's reports cannot demote a connector that every
 * merchant's payments use; the model learns from them.
 */
export async function recordFeedback(
  merchantId: string,
  decisionId: string,
  attempts: readonly AttemptReport[],
  deps: Pick<RoutingDeps, 'store' | 'queue' | 'clock'>,
): Promise<{ decisionId: string; recorded: number; replayed: number }> {
  const decision = await loggedDecision(merchantId, decisionId, deps);
  checkAttempts(decision, attempts);
  // What is recorded must be these attempts or a beginning of them (a call that stopped part-way: its retry
  // records the rest); anything else is another feedback (409).
  const conflictWith = (recorded: readonly OutcomeRecord[]) => {
    const differs = recorded.find((o) => {
      const a = attempts[o.attempt];
      return a === undefined || o.connectorId !== a.connectorId || o.outcome !== a.outcome || (o.feeMinor ?? null) !== (a.feeMinor ?? null);
    });
    if (!differs) return undefined;
    return new FeedbackConflictError(`decision ${decisionId} already has other feedback (attempt ${differs.attempt} differs): a decision's feedback is given once`, {
      recorded: recorded.map(({ connectorId, outcome, latencyMs, feeMinor }) => ({ connectorId, outcome, latencyMs, ...(feeMinor === undefined ? {} : { feeMinor }) })),
    });
  };
  const before = conflictWith(await deps.store.recordedOutcomes(decisionId, decision.ranked.length));
  if (before) throw before;
  const time = (deps.clock ?? Date.now)();
  const outcomes: OutcomeRecord[] = attempts.map((a, attempt) => ({
    decisionId,
    attempt,
    connectorId: a.connectorId,
    outcome: a.outcome,
    latencyMs: Math.round(a.latencyMs),
    ...(a.feeMinor === undefined ? {} : { feeMinor: a.feeMinor }),
    time,
  }));
  let fresh = 0;
  for (const o of outcomes) if (await deps.store.recordOutcome(o)) fresh += 1;
  // Another feedback raced this one and wrote first: what is recorded is its, and this one teaches nothing.
  if (fresh < outcomes.length) {
    const raced = conflictWith(await deps.store.recordedOutcomes(decisionId, decision.ranked.length));
    if (raced) throw raced;
  }
  // Queued every time, replays too: if a first call recorded but failed to queue, its replay still reaches the
  // updater, which applies each outcome once whatever it is sent.
  await deps.queue.enqueue(outcomes);
  return { decisionId, recorded: fresh, replayed: outcomes.length - fresh };
}

/** What one payment's attempts can be, against its decision (400 naming the attempt's field otherwise). */
function checkAttempts(decision: DecisionRecord, attempts: readonly AttemptReport[]): void {
  const ranked = decision.ranked.map((r) => r.connectorId);
  const bad = (i: number, field: string, problem: string): never => {
    throw new ValidationError(`attempts[${i}].${field} ${problem}`, [{ field: `attempts.${i}.${field}`, problem }]);
  };
  if (attempts.length > ranked.length) {
    throw new ValidationError(`decision ${decision.decisionId} ranked ${ranked.length} connector(s): a payment tries each at most once`, [
      { field: 'attempts', problem: `must have at most ${ranked.length} items (the connectors the decision ranked, each once)` },
    ]);
  }
  const seen = new Set<string>();
  attempts.forEach((a, i) => {
    if (!ranked.includes(a.connectorId)) bad(i, 'connectorId', `not one of ${ranked.join(', ')}`);
    if (seen.has(a.connectorId)) bad(i, 'connectorId', `was already tried at an earlier attempt (a payment tries each connector once)`);
    seen.add(a.connectorId);
    if (i < attempts.length - 1 && (a.outcome === 'succeeded' || a.outcome === 'declined')) bad(i, 'outcome', `ends the payment: ${a.outcome} can only be the last attempt`);
    if (a.feeMinor !== undefined && a.feeMinor > decision.context.amountMinor) bad(i, 'feeMinor', `must be at most the amount routed (${decision.context.amountMinor})`);
  });
}

/** The logged decision, which `merchantId` must own. */
async function loggedDecision(merchantId: string, decisionId: string, deps: Pick<RoutingDeps, 'store'>): Promise<DecisionRecord> {
  const decision = await deps.store.getDecision(decisionId);
  if (!decision || decision.merchantId !== merchantId) throw new NotFoundError(`routing decision ${decisionId} was not found`);
  return decision;
}

/** Records each outcome once and folds the newly recorded into the breaker's state (each attempt counted once); how many were new. */
async function recordOnce(outcomes: readonly OutcomeRecord[], deps: Pick<RoutingDeps, 'store' | 'health'>): Promise<number> {
  const fresh: OutcomeRecord[] = [];
  for (const o of outcomes) if (await deps.store.recordOutcome(o)) fresh.push(o);
  // One whose fold failed is not folded later: the breaker counts the next attempts.
  if (fresh.length) await deps.health.recordHealth(fresh);
  return fresh.length;
}

/**
 * A routed payment's attempts as routing learns them (its PaymentFinalized event): attempt i is the i-th in order,
 * at its own time; a retryable failure is a timeout (the gateway's) or an error.
 */
export function finalizedOutcomes(payment: Pick<PaymentFinalizedDetail, 'decisionId' | 'attempts'>): OutcomeRecord[] {
  return [...payment.attempts]
    .sort((a, b) => a.attempt - b.attempt)
    .map((a, attempt) => ({
      decisionId: payment.decisionId,
      attempt,
      connectorId: a.connectorId,
      outcome: a.outcome === 'retryable_failure' ? (a.code === 'gateway_timeout' ? 'timeout' : 'error') : a.outcome,
      ...(a.requestRefused ? { requestRefused: true as const } : {}),
      latencyMs: Math.round(a.latencyMs),
      ...(a.feeMinor === undefined ? {} : { feeMinor: a.feeMinor }),
      time: Date.parse(a.at),
    }));
}

/** The decision a /pay payment's event carries, as routing logs it. */
export function finalizedDecision(payment: Pick<PaymentFinalizedDetail, 'merchantId' | 'decisionId' | 'decision'>): DecisionRecord | undefined {
  if (!payment.decision) return undefined;
  const { time, context, ranked, propensity, policyVersion } = payment.decision;
  return {
    decisionId: payment.decisionId,
    merchantId: payment.merchantId,
    time,
    context,
    ranked,
    chosen: ranked[0].connectorId,
    propensity,
    policyVersion,
  };
}

/**
 * A routed payment's outcomes (its PaymentFinalized event) for the circuit breaker: its decision is logged once
 * (a /pay decision, off the payment's path) and, the first time only, its attempts are folded into the breaker's
 * state. The updater learns them from the same event (it records each outcome with its claim). An event without
 * the decision (a payment recorded before events carried it): the logged decision must be the payment's
 * merchant's, and the outcomes are recorded here, the newly recorded folded.
 */
export async function recordPaymentOutcomes(
  payment: Pick<PaymentFinalizedDetail, 'merchantId' | 'decisionId' | 'decision' | 'attempts'>,
  deps: Pick<RoutingDeps, 'store' | 'health'>,
): Promise<{ decisionId: string; recorded: number; replayed: number }> {
  const outcomes = finalizedOutcomes(payment);
  const decision = finalizedDecision(payment);
  let recorded: number;
  if (decision) {
    const first = await deps.store.logDecision(decision);
    if (first) await deps.health.recordHealth(outcomes);
    recorded = first ? outcomes.length : 0;
  } else {
    await loggedDecision(payment.merchantId, payment.decisionId, deps);
    recorded = await recordOnce(outcomes, deps);
  }
  return { decisionId: payment.decisionId, recorded, replayed: outcomes.length - recorded };
}

/** `GET /route/state`: the policy's version and exploration, each connector's breaker state and fees, as ranking sees them now. */
export async function routingState(deps: Pick<RoutingDeps, 'connectors' | 'model' | 'clock'>): Promise<RoutingStateResponse> {
  const { policy, version } = await deps.model.get();
  const now = (deps.clock ?? Date.now)();
  return {
    state: {
      policyVersion: `${POLICY_PREFIX}-${version}`,
      exploration: policy.options.epsilon,
      connectors: deps.connectors.map((c) => {
        const health = policy.state.health[c.id];
        const status = statusAt(health, now);
        return {
          connectorId: c.id,
          kind: c.kind,
          enabled: c.enabled,
          methods: [...c.methods],
          currencies: [...c.currencies],
          status,
          ...(status === 'probing' ? { probeShare: health?.share ?? policy.options.health.probeShare } : {}),
          recentAttempts: health?.recent.length ?? 0,
          fee: c.fee,
        };
      }),
    },
  };
}
