/**
 * The routing model's DynamoDB adapter (dynalite locally), in the routing table; it implements routing's ports
 * (ports.ts) with these items:
 *
 * - `model#bandit`: the bandit's arms (JSON, model-encoding.ts) and its `version`. Only the updater writes it,
 *   with a condition on the version it read (optimistic concurrency), so two writers can never overwrite each
 *   other's work. It is rewritten whole by each commit, so the updater's queue gathers a minute of outcomes a
 *   commit (contracts/topology.ts).
 * - `decision#<id>`: each routing decision (context, ranked list, propensities, policy version),
 *   for the delayed outcome and for off-policy evaluation, written once (a replay is a no-op). Expires after
 *   DECISION_TTL_DAYS.
 * - `outcome#<decision id>#<attempt>`: each attempt's outcome and the updater's claim of it, written once (a
 *   replay is a no-op): by POST /route/feedback, or by the updater with its claim (a payment's outcomes, from
 *   its PaymentFinalized event).
 * - `health#routing`: the circuit breaker's state, apart from the model: newly recorded outcomes are folded in
 *   as they are recorded (`recordHealth`, a read and a write conditional on the version read, by the feedback
 *   consumer within about a second of the payment), and routers re-read it every ROUTING_HEALTH_TTL_MS, far
 *   more often than the model, so a connector's outage stops its traffic within seconds. An outcome whose fold
 *   failed (or whose consumer crashed between recording and folding) is not folded later: the breaker is a
 *   sliding window of recent attempts, and the next attempts count. Deleting the item resets the breaker.
 *
 * The updater's exactly-once protocol (claims on the outcome items, a conditional commit of the model) is
 * model-protocol.ts; this adapter gives it its conditional writes (`ClaimStore`). Readers (the routing
 * function) keep a copy for a short TTL, and the health for a shorter one (model-cache.ts).
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, ScanCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { batchGetItems } from '../shared/batch-get';
import { DEFAULT_CONNECTORS } from '../../contracts/connectors';
import { DEFAULT_BANDIT, emptyBanditState, withVocabulary, type BanditOptions } from './bandit';
import { vocabularyOf, type RoutingVocabulary } from './context';
import { DEFAULT_HEALTH, recordOutcomes, type HealthOptions } from './health';
import { decodeHealth, decodeState, encodeHealth, encodeState, HEALTH_KEY, MODEL_KEY } from './model-encoding';
import { applyOutcomesOnce, outcomeId, type ClaimStore, type OutcomeClaim, type StoredModel } from './model-protocol';
import type { AppliedOutcomes, DecisionContexts, DecisionLog, DecisionRecord, HealthLog, ModelReader, OutcomeApplier, OutcomeRecord, PublishedHealth } from './ports';

export { CLAIM_LEASE_MS, type StoredModel } from './model-protocol';
export const DECISION_TTL_DAYS = 30;
const DAY_MS = 86_400_000;

const decisionKey = (id: string) => `decision#${id}`;

/** A decision item without its storage attributes. */
function decisionOf(item: Record<string, unknown>): DecisionRecord {
  const { pk: _pk, expiresAt: _expiresAt, ...decision } = item;
  return decision as unknown as DecisionRecord;
}
const outcomeKey = (o: Pick<OutcomeRecord, 'decisionId' | 'attempt'>) => `outcome#${o.decisionId}#${o.attempt}`;

function isConditionFailure(error: unknown): boolean {
  return error instanceof ConditionalCheckFailedException || (error as Error)?.name === 'ConditionalCheckFailedException';
}

export class DynamoRoutingModel implements ModelReader, DecisionLog, HealthLog, OutcomeApplier, ClaimStore {
  /**
   * `vocabulary`: the registry's (context.ts vocabularyOf; default: the default registry's). The model is read
   * under it: a state stored under another is carried over by feature name (bandit.ts withVocabulary), and the
   * updater's next commit stores it so.
   */
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly vocabulary: RoutingVocabulary = vocabularyOf(DEFAULT_CONNECTORS),
  ) {}

  /**
   * The breaker's state (`health#routing`), or undefined before the first fold (or if the item is not one this
   * code wrote). Eventually consistent unless `consistent`: routers re-read it every second anyway.
   */
  async loadHealth(abortSignal?: AbortSignal, consistent = false): Promise<PublishedHealth | undefined> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { pk: HEALTH_KEY }, ConsistentRead: consistent }), { abortSignal });
    const version = Number(Item?.version);
    if (!Item || !Number.isInteger(version) || version < 1 || typeof Item.health !== 'string') return undefined;
    return { version, health: decodeHealth(JSON.parse(Item.health)) };
  }

  /**
   * Folds outcomes into the breaker's state: read it (consistently), fold, write it on the condition that it is
   * still the version read, and start again from a fresh read when a concurrent fold got there first. An item
   * that is not one this code wrote is replaced.
   */
  async recordHealth(outcomes: readonly OutcomeRecord[], options: HealthOptions = DEFAULT_HEALTH, maxRetries = 10): Promise<PublishedHealth> {
    for (let attempt = 0; attempt <= maxRetries; attempt += 1) {
      const read = await this.loadHealth(undefined, true);
      const next: PublishedHealth = { version: (read?.version ?? 0) + 1, health: recordOutcomes(read?.health ?? {}, outcomes, options) };
      try {
        await this.client.send(
          new PutCommand({
            TableName: this.tableName,
            Item: { pk: HEALTH_KEY, version: next.version, health: JSON.stringify(encodeHealth(next.health)), updatedAt: new Date().toISOString() },
            ...(read
              ? { ConditionExpression: 'version = :v', ExpressionAttributeValues: { ':v': read.version } }
              : {
                  // None yet, or one this code did not write (a concurrent first fold writes one that is).
                  ConditionExpression: 'attribute_not_exists(version) OR NOT attribute_type(version, :n) OR version < :one OR NOT attribute_type(health, :s)',
                  ExpressionAttributeValues: { ':n': 'N', ':one': 1, ':s': 'S' },
                }),
          }),
        );
        return next;
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
    }
    throw new Error(`routing health: still conflicting after ${maxRetries} retries`);
  }

  async load(consistent = false): Promise<StoredModel> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { pk: MODEL_KEY }, ConsistentRead: consistent }));
    if (!Item) return { version: 0, state: emptyBanditState(this.vocabulary), history: {} };
    return { version: Number(Item.version), state: withVocabulary(decodeState(String(Item.state)), this.vocabulary), history: JSON.parse(String(Item.history ?? '{}')) };
  }

  /** Logs a decision once; false when it was already logged (a replay of its payment's event). */
  async logDecision(decision: DecisionRecord): Promise<boolean> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { pk: decisionKey(decision.decisionId), ...decision, expiresAt: Math.floor((decision.time + DECISION_TTL_DAYS * DAY_MS) / 1000) },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async getDecision(decisionId: string): Promise<DecisionRecord | undefined> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { pk: decisionKey(decisionId) }, ConsistentRead: true }));
    if (!Item) return undefined;
    return decisionOf(Item);
  }

  /**
   * Every logged decision made at or after `since` (epoch ms), with its first attempt's outcome when one was
   * recorded, page by page (a Scan: for exports, not for the request path).
   */
  async *decisionsWithFirstOutcome(since = 0): AsyncGenerator<{ decision: DecisionRecord; first?: OutcomeRecord }> {
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new ScanCommand({
          TableName: this.tableName,
          FilterExpression: 'begins_with(pk, :prefix) AND #t >= :since',
          ExpressionAttributeNames: { '#t': 'time' },
          ExpressionAttributeValues: { ':prefix': 'decision#', ':since': since },
          ExclusiveStartKey: start,
          ConsistentRead: true,
        }),
      );
      const decisions = (page.Items ?? []).map(decisionOf);
      const outcomes = await this.batchGet(decisions.map((d) => outcomeKey({ decisionId: d.decisionId, attempt: 0 })));
      for (const decision of decisions) {
        const item = outcomes.get(outcomeKey({ decisionId: decision.decisionId, attempt: 0 }));
        if (!item) {
          yield { decision };
          continue;
        }
        const { pk: _pk, expiresAt: _e, appliedIn: _a, claimedBy: _c, claimedAt: _t, ...first } = item;
        yield { decision, first: first as unknown as OutcomeRecord };
      }
      start = page.LastEvaluatedKey;
    } while (start);
  }

  /** Records an attempt's outcome once; false when it was already recorded (a replay). */
  async recordOutcome(outcome: OutcomeRecord): Promise<boolean> {
    try {
      await this.client.send(new PutCommand({ TableName: this.tableName, Item: this.outcomeItem(outcome), ConditionExpression: 'attribute_not_exists(pk)' }));
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async recordedOutcomes(decisionId: string, attempts: number): Promise<OutcomeRecord[]> {
    const keys = Array.from({ length: attempts }, (_, attempt) => outcomeKey({ decisionId, attempt }));
    const items = await this.batchGet(keys);
    return keys.flatMap((key) => {
      const item = items.get(key);
      if (!item) return [];
      const { pk: _pk, expiresAt: _expiresAt, appliedIn: _applied, claimedBy: _by, claimedAt: _at, ...outcome } = item;
      return [outcome as unknown as OutcomeRecord];
    });
  }

  private outcomeItem(outcome: OutcomeRecord): Record<string, unknown> {
    return { pk: outcomeKey(outcome), ...outcome, expiresAt: Math.floor((outcome.time + DECISION_TTL_DAYS * DAY_MS) / 1000) };
  }

  /** The items of `pks` (consistent reads, 100 keys a request, unprocessed keys retried), by pk. */
  private async batchGet(pks: readonly string[]): Promise<Map<string, Record<string, unknown>>> {
    const items = await batchGetItems(this.client, this.tableName, [...new Set(pks)].map((pk) => ({ pk })));
    return new Map(items.map((item) => [String(item.pk), item]));
  }

  /** The current claim of each outcome, by `outcomeId` (consistent reads; `recorded: false` for one not recorded yet). */
  async claims(outcomes: readonly OutcomeRecord[]): Promise<Map<string, OutcomeClaim>> {
    const items = await this.batchGet(outcomes.map(outcomeKey));
    const out = new Map<string, OutcomeClaim>();
    for (const o of outcomes) {
      const item = items.get(outcomeKey(o));
      if (!item) {
        out.set(outcomeId(o), { recorded: false });
        continue;
      }
      out.set(outcomeId(o), {
        recorded: true,
        ...(item.appliedIn === undefined ? {} : { appliedIn: Number(item.appliedIn) }),
        ...(item.claimedBy === undefined ? {} : { claimedBy: String(item.claimedBy) }),
        ...(item.claimedAt === undefined ? {} : { claimedAt: Number(item.claimedAt) }),
      });
    }
    return out;
  }

  /**
   * Claims one outcome for `next`, on the condition that its claim is still the one observed; one not recorded yet
   * is recorded with its claim (one write), on the condition that it still is not.
   */
  async claim(outcome: OutcomeRecord, observed: OutcomeClaim, next: number, token: string, now: number): Promise<boolean> {
    const unclaimed = observed.appliedIn === undefined;
    try {
      if (!observed.recorded) {
        await this.client.send(
          new PutCommand({
            TableName: this.tableName,
            Item: { ...this.outcomeItem(outcome), appliedIn: next, claimedBy: token, claimedAt: now },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );
        return true;
      }
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: outcomeKey(outcome) },
          UpdateExpression: 'SET appliedIn = :next, claimedBy = :token, claimedAt = :now',
          ConditionExpression: `attribute_exists(pk) AND ${unclaimed ? 'attribute_not_exists(appliedIn)' : 'appliedIn = :oldVersion AND claimedBy = :oldToken'}`,
          ExpressionAttributeValues: {
            ':next': next,
            ':token': token,
            ':now': now,
            ...(unclaimed ? {} : { ':oldVersion': observed.appliedIn, ':oldToken': observed.claimedBy }),
          },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async decisions(ids: readonly string[]): Promise<Map<string, DecisionRecord>> {
    const items = await this.batchGet(ids.map(decisionKey));
    return new Map([...items.values()].map((item) => [String(item.decisionId), decisionOf(item)]));
  }

  /** The committed model, read consistently (the protocol's view). */
  loadModel(): Promise<StoredModel> {
    return this.load(true);
  }

  /** Writes `next` if the committed version is still `read.version` (version 0: no item yet). */
  async commit(read: StoredModel, next: StoredModel, now: number): Promise<boolean> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { pk: MODEL_KEY, version: next.version, state: encodeState(next.state), history: JSON.stringify(next.history), updatedAt: new Date(now).toISOString() },
          ConditionExpression: read.version === 0 ? 'attribute_not_exists(pk)' : 'version = :v',
          ExpressionAttributeValues: read.version === 0 ? undefined : { ':v': read.version },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /**
   * The updater: each outcome folded into the model exactly once (model-protocol.ts). `known`: the contexts of
   * decisions the caller has; `tuning` for tests.
   */
  applyOutcomes(
    outcomes: readonly OutcomeRecord[],
    known?: DecisionContexts,
    tuning: { readonly options?: BanditOptions; readonly maxRetries?: number; readonly clock?: () => number } = {},
  ): Promise<AppliedOutcomes> {
    return applyOutcomesOnce(this, outcomes, tuning.options ?? DEFAULT_BANDIT, tuning.maxRetries ?? 10, tuning.clock ?? Date.now, known);
  }

  /** Releases this writer's claims for a version that lost the race. */
  async release(outcomes: readonly OutcomeRecord[], lostVersion: number, token: string): Promise<void> {
    await Promise.all(
      outcomes.map((o) =>
        this.client
          .send(
            new UpdateCommand({
              TableName: this.tableName,
              Key: { pk: outcomeKey(o) },
              UpdateExpression: 'REMOVE appliedIn, claimedBy, claimedAt',
              ConditionExpression: 'appliedIn = :lost AND claimedBy = :token',
              ExpressionAttributeValues: { ':lost': lostVersion, ':token': token },
            }),
          )
          .catch((error: unknown) => {
            if (!isConditionFailure(error)) throw error;
          }),
      ),
    );
  }
}
