/**
 * The ports routing's domain (service.ts, model-cache.ts) depends on, and the records that cross them. Their
 * adapters live in their own files: the DynamoDB model store (dynamo-model-store.ts; dynalite locally), the
 * cached policy (model-cache.ts), and the outcome queue (the handler's bus publisher).
 */
import type { BanditPolicy, BanditState } from './bandit';
import type { RoutingContext } from './context';
import type { HealthOutcome, HealthState } from './health';

export interface DecisionRecord {
  readonly decisionId: string;
  readonly merchantId: string;
  readonly time: number;
  readonly context: RoutingContext;
  readonly ranked: ReadonlyArray<{ readonly connectorId: string; readonly propensity: number; readonly score: number }>;
  readonly chosen: string;
  readonly propensity: number;
  readonly policyVersion: string;
}

export interface OutcomeRecord {
  readonly decisionId: string;
  /** 0 for the first attempt, then the fallbacks. */
  readonly attempt: number;
  readonly connectorId: string;
  readonly outcome: HealthOutcome;
  /** A decline by the gateway itself, not the issuer (contracts/api.ts AttemptRecord): the arm does not learn it. */
  readonly requestRefused?: true;
  readonly latencyMs: number;
  readonly feeMinor?: number;
  /** Epoch ms. */
  readonly time: number;
}

/** A committed version of the learnt model. */
export interface LearntModel {
  /** 0: nothing learnt yet. */
  readonly version: number;
  readonly state: BanditState;
}

/** The breaker's state as stored: its own item, apart from the model. */
export interface PublishedHealth {
  /** How many times it was written (each write is conditional on the one before). */
  readonly version: number;
  readonly health: HealthState;
}

/** Reads the newest committed model, and the breaker's state (read far more often). */
export interface ModelReader {
  load(): Promise<LearntModel>;
  /** undefined before the first outcome was folded. `abortSignal` bounds the read. */
  loadHealth(abortSignal?: AbortSignal): Promise<PublishedHealth | undefined>;
}

/** The breaker's state: each newly recorded outcome is folded in as it is recorded, so routers see failures within seconds. */
export interface HealthLog {
  /** Folds these outcomes into the breaker's state (a concurrent fold is never overwritten). */
  recordHealth(outcomes: readonly OutcomeRecord[]): Promise<unknown>;
}

/** The decisions and each attempt's outcome, kept for the delayed feedback and for off-policy evaluation. */
export interface DecisionLog {
  /** Logs a decision once; false when it was already logged (a replay). */
  logDecision(decision: DecisionRecord): Promise<boolean>;
  getDecision(decisionId: string): Promise<DecisionRecord | undefined>;
  /** Records an attempt's outcome once; false when it was already recorded (a replay). */
  recordOutcome(outcome: OutcomeRecord): Promise<boolean>;
  /** The recorded outcomes among a decision's attempts 0 to `attempts` − 1, in attempt order (each with its `attempt`; consistent reads). */
  recordedOutcomes(decisionId: string, attempts: number): Promise<OutcomeRecord[]>;
}

export interface AppliedOutcomes {
  /** The model's version after the call (unchanged when nothing was applied). */
  readonly version: number;
  readonly applied: number;
}

/**
 * The context of a decision, by decision id: what the updater learns an outcome against (its features under the
 * model's vocabulary, context.ts).
 */
export type DecisionContexts = ReadonlyMap<string, Pick<DecisionRecord, 'context'>>;

/** The updater: folds outcomes into the model, each exactly once, whatever it is sent. */
export interface OutcomeApplier {
  /** `known`: the decisions the caller has (from the payment's event); the others are read from the log. */
  applyOutcomes(outcomes: readonly OutcomeRecord[], known?: DecisionContexts): Promise<AppliedOutcomes>;
}

/** Hands recorded outcomes to the single updater (a queue in the cloud, the bus locally). */
export interface OutcomeQueue {
  enqueue(outcomes: readonly OutcomeRecord[]): Promise<void>;
}

/** The policy to rank with, and the version of the model it learnt (`linucb-<version>`). */
export interface PolicySource {
  get(): Promise<{ policy: BanditPolicy; version: number }>;
}
