/**
 * The routing model's DynamoDB adapter (dynalite locally), in the routing table; it implements routing's ports
 * (ports.ts) with these items:
 *
 * - `model#bandit`: the bandit state (JSON, model-encoding.ts) and its `version`. Only the updater writes it,
 *   with a condition on the version it read (optimistic concurrency), so two writers can never overwrite each
 *   other's work.
 * - `decision#<id>`: each routing decision (context, features, ranked list, propensities, policy version),
 *   for the delayed outcome and for off-policy evaluation. Expires after DECISION_TTL_DAYS.
 * - `outcome#<decision id>#<attempt>`: each attempt's outcome, written once (a replay is a no-op).
 * - `health#routing`: the circuit breaker's state of the newest committed version, published by the updater
 *   after each commit (a small item, so routers can re-read it every ROUTING_HEALTH_TTL_MS, far more often
 *   than the model: a connector's outage stops its traffic within seconds). It does not go back a version,
 *   except that version 1 (a new or reset model) always replaces it; routers use it only while it is newer
 *   than their copy of the model, whose own health is the same, so a publication that failed (or a late one)
 *   is caught up by the next reload.
 *
 * Readers (the routing function) keep a copy for a short TTL, and the health for a shorter one (model-cache.ts).
 */
import { randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, GetCommand, PutCommand, ScanCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DEFAULT_BANDIT, emptyBanditState, learn, type BanditOptions, type BanditState } from './bandit';
import { decodeHealth, decodeState, encodeHealth, encodeState, HEALTH_KEY, MODEL_KEY } from './model-encoding';
import type { AppliedOutcomes, DecisionLog, DecisionRecord, LearntModel, ModelReader, OutcomeApplier, OutcomeRecord, PublishedHealth } from './ports';

/** How long another writer's uncommitted claim is respected. */
export const CLAIM_LEASE_MS = 60_000;
/** Versions whose committing writer the model remembers. */
const HISTORY = 200;
export const DECISION_TTL_DAYS = 30;
const DAY_MS = 86_400_000;

/** The model item as read: the learnt model, and the writer token of each recent committed version. */
export interface StoredModel extends LearntModel {
  readonly history: Readonly<Record<string, string>>;
}

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

export class DynamoRoutingModel implements ModelReader, DecisionLog, OutcomeApplier {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /**
   * The published breaker state (`health#routing`), or undefined before the first commit (or if the item is
   * not one this code wrote). An eventually consistent read: it is re-read every second anyway.
   */
  async loadHealth(abortSignal?: AbortSignal): Promise<PublishedHealth | undefined> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { pk: HEALTH_KEY } }), { abortSignal });
    const version = Number(Item?.version);
    if (!Item || !Number.isInteger(version) || version < 1 || typeof Item.health !== 'string') return undefined;
    return { version, health: decodeHealth(JSON.parse(Item.health)) };
  }

  /**
   * Publishes the health of committed `version` unless a newer one is there; true when it was written. Version
   * 1 always writes: the model was created (or reset), and the item left by the old one must not shadow it.
   */
  async publishHealth(version: number, health: BanditState['health'], now: number): Promise<boolean> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { pk: HEALTH_KEY, version, health: JSON.stringify(encodeHealth(health)), updatedAt: new Date(now).toISOString() },
          ...(version === 1 ? {} : { ConditionExpression: 'attribute_not_exists(pk) OR version < :v', ExpressionAttributeValues: { ':v': version } }),
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async load(consistent = false): Promise<StoredModel> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { pk: MODEL_KEY }, ConsistentRead: consistent }));
    if (!Item) return { version: 0, state: emptyBanditState(), history: {} };
    return { version: Number(Item.version), state: decodeState(String(Item.state)), history: JSON.parse(String(Item.history ?? '{}')) };
  }

  async logDecision(decision: DecisionRecord): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { pk: decisionKey(decision.decisionId), ...decision, expiresAt: Math.floor((decision.time + DECISION_TTL_DAYS * DAY_MS) / 1000) },
      }),
    );
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
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { pk: outcomeKey(outcome), ...outcome, expiresAt: Math.floor((outcome.time + DECISION_TTL_DAYS * DAY_MS) / 1000) },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /** The items of `pks` (consistent reads, 100 keys a request, unprocessed keys retried), by pk. */
  private async batchGet(pks: readonly string[]): Promise<Map<string, Record<string, unknown>>> {
    const out = new Map<string, Record<string, unknown>>();
    const unique = [...new Set(pks)];
    for (let i = 0; i < unique.length; i += 100) {
      let keys: Array<Record<string, unknown>> | undefined = unique.slice(i, i + 100).map((pk) => ({ pk }));
      while (keys && keys.length) {
        const { Responses, UnprocessedKeys } = await this.client.send(
          new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: keys, ConsistentRead: true } } }),
        );
        for (const item of Responses?.[this.tableName] ?? []) out.set(String(item.pk), item);
        keys = UnprocessedKeys?.[this.tableName]?.Keys as Array<Record<string, unknown>> | undefined;
      }
    }
    return out;
  }

  /**
   * Whether an outcome item may be claimed now: never claimed; claimed for a committed version by a writer
   * that did not commit it (it lost and did not release); or claimed for a version not committed yet by a
   * writer whose lease ran out (it crashed). Outcomes claimed for a version committed before the remembered
   * history count as applied.
   */
  private claimable(item: Record<string, unknown>, model: StoredModel, now: number): boolean {
    if (item.appliedIn === undefined) return true;
    const k = Number(item.appliedIn);
    if (k <= model.version) {
      const committedBy = model.history[String(k)];
      return committedBy !== undefined && committedBy !== item.claimedBy;
    }
    return Number(item.claimedAt ?? 0) < now - CLAIM_LEASE_MS;
  }

  /** Claims one outcome for `next`, on the condition that its claim is still the one observed. */
  private async claim(item: Record<string, unknown>, next: number, token: string, now: number): Promise<boolean> {
    const observed = item.appliedIn === undefined ? 'attribute_not_exists(appliedIn)' : 'appliedIn = :oldVersion AND claimedBy = :oldToken';
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: item.pk },
          UpdateExpression: 'SET appliedIn = :next, claimedBy = :token, claimedAt = :now',
          ConditionExpression: `attribute_exists(pk) AND ${observed}`,
          ExpressionAttributeValues: {
            ':next': next,
            ':token': token,
            ':now': now,
            ...(item.appliedIn === undefined ? {} : { ':oldVersion': item.appliedIn, ':oldToken': item.claimedBy }),
          },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  private async decisions(ids: readonly string[]): Promise<Map<string, DecisionRecord>> {
    const items = await this.batchGet(ids.map(decisionKey));
    return new Map([...items.values()].map((item) => [String(item.decisionId), decisionOf(item)]));
  }

  /**
   * The updater: folds recorded outcomes into the model and commits a new version. Retries from a fresh
   * read when another writer committed first. Outcomes never recorded, or whose decision is unknown
   * (expired), are skipped.
   *
   * Exactly once. The updater (a single writer by deployment: one queue consumer; the protocol stays correct
   * with more) *claims* each outcome for the version it is about to commit (`appliedIn`, its writer `token`,
   * when), with a condition on the claim it observed, then commits the model with a condition on the version
   * it read. The model keeps which token committed each recent version, so an outcome is applied exactly when
   * the version it was claimed for was committed by the claiming writer. A writer that loses the race releases
   * its claims and retries; a claim left by a writer that crashed is taken over once it is older than
   * CLAIM_LEASE_MS. No outcome is lost and none is applied twice (tested with concurrent writers).
   */
  async applyOutcomes(
    outcomes: readonly OutcomeRecord[],
    options: BanditOptions = DEFAULT_BANDIT,
    maxRetries = 10,
    clock: () => number = Date.now,
  ): Promise<AppliedOutcomes> {
    // One per key, oldest first, so the breaker sees the attempts in order.
    const unique = [...new Map(outcomes.map((o) => [outcomeKey(o), o])).values()].sort((a, b) => a.time - b.time || a.attempt - b.attempt);
    const decisions = await this.decisions(unique.map((o) => o.decisionId));
    const token = randomUUID();
    for (let attempt = 0; attempt <= maxRetries; attempt += 1) {
      const model = await this.load(true);
      const items = await this.batchGet(unique.map(outcomeKey));
      const next = model.version + 1;
      const now = clock();
      let state = model.state;
      const claimed: OutcomeRecord[] = [];
      // The claims go out together (each is its own conditional write); the model learns them in time order.
      const candidates = unique.filter((o) => {
        const item = items.get(outcomeKey(o));
        return item !== undefined && decisions.has(o.decisionId) && this.claimable(item, model, now);
      });
      const won = await Promise.all(candidates.map((o) => this.claim(items.get(outcomeKey(o))!, next, token, now)));
      candidates.forEach((o, i) => {
        if (!won[i]) return;
        state = learn(state, { connectorId: o.connectorId, outcome: o.outcome, features: decisions.get(o.decisionId)!.features, time: o.time }, options);
        claimed.push(o);
      });
      if (claimed.length === 0) return { version: model.version, applied: 0, healthPublished: false };
      const history = Object.fromEntries(
        [...Object.entries(model.history), [String(next), token]].filter(([v]) => Number(v) > next - HISTORY),
      );
      try {
        await this.client.send(
          new PutCommand({
            TableName: this.tableName,
            Item: { pk: MODEL_KEY, version: next, state: encodeState(state), history: JSON.stringify(history), updatedAt: new Date(now).toISOString() },
            ConditionExpression: model.version === 0 ? 'attribute_not_exists(pk)' : 'version = :v',
            ExpressionAttributeValues: model.version === 0 ? undefined : { ':v': model.version },
          }),
        );
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        await this.releaseClaims(claimed, next, token); // another writer committed first: start again from its state
        continue;
      }
      // Committed. The health item is a faster copy for the routers: if it cannot be written now, the next
      // commit writes a newer one, and the routers' model reload carries the same health meanwhile.
      try {
        return { version: next, applied: claimed.length, healthPublished: await this.publishHealth(next, state.health, now) };
      } catch (error) {
        return { version: next, applied: claimed.length, healthPublished: false, healthError: (error as Error)?.message ?? String(error) };
      }
    }
    throw new Error(`routing model: still conflicting after ${maxRetries} retries`);
  }

  /** Releases this writer's claims for a version that lost the race. */
  private async releaseClaims(outcomes: readonly OutcomeRecord[], lostVersion: number, token: string): Promise<void> {
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
