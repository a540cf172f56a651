/**
 * The routing model's exactly-once protocol: how the updater folds recorded outcomes into the model so that
 * no outcome is lost and none is applied twice, whatever it is sent, however often, by however many writers.
 * It runs over a `ClaimStore` (the DynamoDB adapter, dynamo-model-store.ts, with single-item conditional
 * writes: dynalite has no transactions).
 *
 * The updater (a single writer by deployment: one queue consumer; the protocol stays correct with more)
 * *claims* each outcome for the version it is about to commit (`appliedIn`, its writer `token`, when), with a
 * condition on the claim it observed (an outcome not recorded yet, as a payment's from its PaymentFinalized
 * event, is recorded with its claim in the same write, on the condition that it still is not), then commits the
 * model with a condition on the version it read. The
 * model keeps which token committed each recent version, so an outcome is applied exactly when the version it
 * was claimed for was committed by the claiming writer. A writer that loses the race releases its claims and
 * retries; a claim left by a writer that crashed is taken over once it is older than CLAIM_LEASE_MS (tested
 * with concurrent writers in test/store/routing-model.test.ts).
 */
import { randomUUID } from 'node:crypto';
import { DEFAULT_BANDIT, learnArm, type BanditOptions } from './bandit';
import { routingFeatures, segmentCell } from './context';
import type { AppliedOutcomes, DecisionContexts, DecisionRecord, LearntModel, OutcomeRecord } from './ports';

/** How long another writer's uncommitted claim is respected. */
export const CLAIM_LEASE_MS = 60_000;
/** Versions whose committing writer the model remembers. */
export const HISTORY = 200;

/** The model as the protocol reads it: the learnt model, and the writer token of each recent committed version. */
export interface StoredModel extends LearntModel {
  readonly history: Readonly<Record<string, string>>;
}

/** An outcome's claim as observed: whether it is recorded, the version it was claimed for, by which writer, when (none: unclaimed). */
export interface OutcomeClaim {
  /** False: not recorded yet (its claim records it). */
  readonly recorded: boolean;
  readonly appliedIn?: number;
  readonly claimedBy?: string;
  readonly claimedAt?: number;
}

/** The identity of an outcome: its decision and attempt. */
export const outcomeId = (o: Pick<OutcomeRecord, 'decisionId' | 'attempt'>): string => `${o.decisionId}#${o.attempt}`;

/** What the protocol needs from storage; every write is one conditional write. */
export interface ClaimStore {
  /** The committed model, read consistently. */
  loadModel(): Promise<StoredModel>;
  /** The decisions of these ids that are still logged, by id. */
  decisions(decisionIds: readonly string[]): Promise<Map<string, DecisionRecord>>;
  /** The current claim of each outcome, by `outcomeId` (`recorded: false` for one not recorded yet). */
  claims(outcomes: readonly OutcomeRecord[]): Promise<Map<string, OutcomeClaim>>;
  /**
   * Claims an outcome for version `next` if its claim is still `observed` (not recorded: records it, claimed, if it
   * still is not); false when another got there first.
   */
  claim(outcome: OutcomeRecord, observed: OutcomeClaim, next: number, token: string, now: number): Promise<boolean>;
  /** Commits `next` if the committed version is still `read.version`; false when another writer committed first. */
  commit(read: StoredModel, next: StoredModel, now: number): Promise<boolean>;
  /** Releases this writer's claims for a version that lost the race. */
  release(outcomes: readonly OutcomeRecord[], lostVersion: number, token: string): Promise<void>;
}

/**
 * Whether an outcome may be claimed now: never claimed; claimed for a committed version by a writer that did
 * not commit it (it lost and did not release); or claimed for a version not committed yet by a writer whose
 * lease ran out (it crashed). Outcomes claimed for a version committed before the remembered history count as
 * applied.
 */
export function claimable(claim: OutcomeClaim, model: StoredModel, now: number): boolean {
  if (claim.appliedIn === undefined) return true;
  const k = Number(claim.appliedIn);
  if (k <= model.version) {
    const committedBy = model.history[String(k)];
    return committedBy !== undefined && committedBy !== claim.claimedBy;
  }
  return Number(claim.claimedAt ?? 0) < now - CLAIM_LEASE_MS;
}

/**
 * Folds outcomes into the model's arms and commits a new version, each outcome exactly once. Retries from a fresh
 * read when another writer committed first. Outcomes whose decision is unknown (neither `known` nor logged, or
 * expired) are skipped. The model keeps no breaker state (a model written before keeps it until its next
 * commit): the breaker's state is its own item, folded as the outcomes are recorded (dynamo-model-store.ts
 * `recordHealth`), so the model can be committed far less often than the breaker must see failures.
 */
export async function applyOutcomesOnce(
  store: ClaimStore,
  outcomes: readonly OutcomeRecord[],
  options: BanditOptions = DEFAULT_BANDIT,
  maxRetries = 10,
  clock: () => number = Date.now,
  known: DecisionContexts = new Map(),
): Promise<AppliedOutcomes> {
  // One per outcome, learnt oldest first.
  const unique = [...new Map(outcomes.map((o) => [outcomeId(o), o])).values()].sort((a, b) => a.time - b.time || a.attempt - b.attempt);
  const logged = await store.decisions([...new Set(unique.map((o) => o.decisionId))].filter((id) => !known.has(id)));
  const decisions = new Map<string, Pick<DecisionRecord, 'context'>>([...logged, ...known]);
  const token = randomUUID();
  for (let attempt = 0; attempt <= maxRetries; attempt += 1) {
    const model = await store.loadModel();
    const claims = await store.claims(unique);
    const next = model.version + 1;
    const now = clock();
    let state = { ...model.state, health: {} };
    // The claims go out together (each is its own conditional write); the model learns them in time order.
    const won = new Set<OutcomeRecord>();
    let pending = unique.filter((o) => decisions.has(o.decisionId));
    let observed = claims;
    for (let round = 0; pending.length > 0 && round < 3; round += 1) {
      if (round > 0) observed = await store.claims(pending);
      const candidates = pending.filter((o) => {
        const claim = observed.get(outcomeId(o));
        return claim !== undefined && claimable(claim, model, now);
      });
      const results = await Promise.all(candidates.map((o) => store.claim(o, observed.get(outcomeId(o))!, next, token, now)));
      // A claim that would have recorded its outcome lost to the outcome's recording (POST /route/feedback, or
      // the feedback consumer of an old event): claim it again as recorded. Any other lost claim is another
      // writer's to apply.
      pending = candidates.filter((o, i) => {
        if (results[i]) won.add(o);
        return !results[i] && !observed.get(outcomeId(o))!.recorded;
      });
    }
    const claimed = unique.filter((o) => won.has(o));
    for (const o of claimed) {
      // A gateway's refusal of the request (an unknown payment method, say) says nothing of how it authorises: a
      // merchant's bad tokens must not teach every merchant's routing that the connector declines.
      if (o.requestRefused) continue;
      const { context } = decisions.get(o.decisionId)!;
      const features = routingFeatures(context, state.vocabulary);
      state = learnArm(state, { connectorId: o.connectorId, outcome: o.outcome, features, cell: segmentCell(context), time: o.time }, options);
    }
    if (claimed.length === 0) return { version: model.version, applied: 0 };
    const history = Object.fromEntries([...Object.entries(model.history), [String(next), token]].filter(([v]) => Number(v) > next - HISTORY));
    if (!(await store.commit(model, { version: next, state, history }, now))) {
      await store.release(claimed, next, token); // another writer committed first: start again from its state
      continue;
    }
    return { version: next, applied: claimed.length };
  }
  throw new Error(`routing model: still conflicting after ${maxRetries} retries`);
}
