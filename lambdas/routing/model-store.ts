/**
 * The routing model's persistence (DynamoDB; dynalite locally), in the routing table:
 *
 * - `model#bandit`: the bandit state (JSON) and its `version`. Only the updater writes it, with a condition
 *   on the version it read (optimistic concurrency), so two writers can never overwrite each other's work.
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
 * The updater (a single writer by deployment: one queue consumer; the protocol stays correct with more)
 * *claims* each outcome for the version it is about to commit (`appliedIn`, its writer `token`, when), with a
 * condition on the claim it observed, then commits the model with a condition on the version it read. The
 * model keeps which token committed each recent version, so an outcome is applied exactly when the version
 * it was claimed for was committed by the claiming writer. A writer that loses the race releases its claims
 * and retries; a claim left by a writer that crashed is taken over once it is older than CLAIM_LEASE_MS.
 * No outcome is lost and none is applied twice (tested with concurrent writers).
 *
 * Readers (the routing function) keep a copy for a short TTL (`CachedModel`), and the health for a shorter one.
 */
import { randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, GetCommand, PutCommand, ScanCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { BanditPolicy, DEFAULT_BANDIT, emptyBanditState, learn, type BanditOptions, type BanditState } from './bandit';
import type { RoutingContext } from './context';
import type { AttemptMark, ConnectorHealth, HealthOutcome } from './health';

export const MODEL_KEY = 'model#bandit';
export const HEALTH_KEY = 'health#routing';
/** How long another writer's uncommitted claim is respected. */
export const CLAIM_LEASE_MS = 60_000;
/** Versions whose committing writer the model remembers. */
const HISTORY = 200;
export const DECISION_TTL_DAYS = 30;
const DAY_MS = 86_400_000;

export interface StoredModel {
  /** 0: nothing learnt yet. */
  readonly version: number;
  readonly state: BanditState;
  /** The writer token of each recent committed version. */
  readonly history: Readonly<Record<string, string>>;
}

export interface DecisionRecord {
  readonly decisionId: string;
  readonly merchantId: string;
  readonly time: number;
  readonly context: RoutingContext;
  readonly features: readonly number[];
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
  readonly latencyMs: number;
  readonly feeMinor?: number;
  /** Epoch ms. */
  readonly time: number;
}

/** DynamoDB's item limit is 400 KB; the model item keeps a margin for the history and the other attributes. */
export const MAX_STATE_BYTES = 350_000;

/**
 * The state as stored: each arm's A (symmetric) as its upper triangle, row by row, which halves the item.
 * At most about 7.5 KB a connector at 29 features (a dense A), so a registry of 45 connectors always fits.
 */
export function encodeState(state: BanditState): string {
  const d = state.dimension;
  const arms = Object.fromEntries(
    Object.entries(state.arms).map(([id, arm]) => {
      const upper: number[] = [];
      for (let i = 0; i < d; i += 1) for (let j = i; j < d; j += 1) upper.push(arm.a[i * d + j]);
      return [id, { upper, b: arm.b, n: arm.n }];
    }),
  );
  const text = JSON.stringify({ format: 3, dimension: d, arms, health: encodeHealth(state.health) });
  if (text.length > MAX_STATE_BYTES) {
    throw new Error(`routing model: the state is ${text.length} bytes, over ${MAX_STATE_BYTES} for one DynamoDB item (${Object.keys(arms).length} connectors); use fewer connectors`);
  }
  return text;
}

export function decodeState(text: string): BanditState {
  const raw = JSON.parse(text) as { format?: number; dimension: number; arms: Record<string, { upper: number[]; b: number[]; n: number }>; health: BanditState['health'] };
  if (raw.format !== 2 && raw.format !== 3) {
    throw new Error(`routing model: unknown state format ${JSON.stringify(raw.format)}; reset the routing model (delete the ${MODEL_KEY} and ${HEALTH_KEY} items)`);
  }
  const d = raw.dimension;
  const arms = Object.fromEntries(
    Object.entries(raw.arms).map(([id, arm]) => {
      const a = new Array<number>(d * d);
      let k = 0;
      for (let i = 0; i < d; i += 1) {
        for (let j = i; j < d; j += 1) {
          a[i * d + j] = arm.upper[k];
          a[j * d + i] = arm.upper[k];
          k += 1;
        }
      }
      return [id, { a, b: arm.b, n: arm.n }];
    }),
  );
  return { dimension: d, arms, health: decodeHealth(raw.health) };
}

/** A connector's health as stored: its attempts as offsets from the newest one (see encodeHealth). */
type StoredHealth = Omit<ConnectorHealth, 'recent'> & { readonly rt?: number; readonly r: readonly number[] };

/**
 * The breaker's state as stored, compactly: each connector's recent attempts become one number each, the
 * offset in ms before the newest attempt (`rt`), negated minus one for a failure. A registry of 45 connectors
 * adds about 8 KB to the model item.
 */
export function encodeHealth(health: BanditState['health']): Record<string, StoredHealth> {
  return Object.fromEntries(
    Object.entries(health).map(([id, { recent, ...rest }]) => {
      if (recent.length === 0) return [id, { ...rest, r: [] }];
      const rt = Math.max(...recent.map((a) => a.t));
      return [id, { ...rest, rt, r: recent.map((a) => (a.failed ? -(rt - a.t) - 1 : rt - a.t)) }];
    }),
  );
}

/**
 * The inverse of encodeHealth. States stored before it read as they were: attempts as objects, or as booleans
 * (before attempts had times), which become attempts of time 0 (they still count as "in a row", never as
 * recent).
 */
export function decodeHealth(stored: Readonly<Record<string, StoredHealth | ConnectorHealth>>): BanditState['health'] {
  return Object.fromEntries(
    Object.entries(stored).map(([id, h]) => {
      if (!('r' in h)) {
        const recent = (h.recent as ReadonlyArray<AttemptMark | boolean>).map((a) => (typeof a === 'boolean' ? { failed: a, t: 0 } : a));
        return [id, { ...h, recent }];
      }
      const { rt, r, ...rest } = h;
      return [id, { ...rest, recent: r.map((v) => (v < 0 ? { failed: true, t: (rt ?? 0) + v + 1 } : { failed: false, t: (rt ?? 0) - v })) }];
    }),
  );
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

export class DynamoRoutingModel {
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
   */
  async applyOutcomes(
    outcomes: readonly OutcomeRecord[],
    options: BanditOptions = DEFAULT_BANDIT,
    maxRetries = 10,
    clock: () => number = Date.now,
  ): Promise<{ version: number; applied: number; healthPublished: boolean; healthError?: string }> {
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

export interface PublishedHealth {
  /** The model version whose health this is. */
  readonly version: number;
  readonly health: BanditState['health'];
}

export interface CachedModelOptions {
  /** How long the model is kept before it is read again (ROUTING_MODEL_TTL_MS). */
  readonly modelTtlMs: number;
  /** How long the published health is kept (ROUTING_HEALTH_TTL_MS); @default modelTtlMs */
  readonly healthTtlMs?: number;
  readonly bandit?: BanditOptions;
  readonly clock?: () => number;
  /** How long a health read may take before the last one read (or the model's) is used; @default no limit */
  readonly healthTimeoutMs?: number;
  /** Told when the health cannot be read (the last one read, or the model's, is used meanwhile). */
  readonly onHealthError?: (error: unknown) => void;
}

/** One value re-read after a TTL, one read at a time. */
class Refreshed<T> {
  private value: T | undefined;
  private loadedAt = -Infinity;
  private loading: Promise<T> | undefined;

  constructor(
    private readonly read: () => Promise<T>,
    private readonly ttlMs: number,
    private readonly clock: () => number,
  ) {}

  async get(): Promise<T> {
    if (this.value !== undefined && this.clock() - this.loadedAt < this.ttlMs) return this.value;
    this.loading ??= this.read()
      .then((value) => {
        this.value = value;
        this.loadedAt = this.clock();
        return value;
      })
      .finally(() => {
        this.loading = undefined;
      });
    return this.loading;
  }
}

/**
 * The routing function's copy of the model, reloaded after `modelTtlMs` (one BanditPolicy per version),
 * with the breaker's state from the published health item, reloaded after `healthTtlMs`, whenever that one is
 * newer than the model's own.
 */
export class CachedModel {
  private readonly model: Refreshed<{ version: number; policy: BanditPolicy }>;
  private readonly health: Refreshed<PublishedHealth | null>;
  private current: { version: number; policy: BanditPolicy } | undefined;
  private withHealth: { base: BanditPolicy; healthVersion: number; policy: BanditPolicy } | undefined;
  private lastHealth: PublishedHealth | null = null;
  private readonly bandit: BanditOptions;

  constructor(store: Pick<DynamoRoutingModel, 'load' | 'loadHealth'>, options: CachedModelOptions) {
    const clock = options.clock ?? Date.now;
    const bandit = options.bandit ?? DEFAULT_BANDIT;
    this.model = new Refreshed(
      async () => {
        const model = await store.load();
        if (!this.current || this.current.version !== model.version) {
          this.current = { version: model.version, policy: new BanditPolicy(model.state, bandit, this.current?.policy) };
        }
        return this.current;
      },
      options.modelTtlMs,
      clock,
    );
    this.health = new Refreshed(
      async () => {
        try {
          const signal = options.healthTimeoutMs === undefined ? undefined : AbortSignal.timeout(options.healthTimeoutMs);
          this.lastHealth = (await store.loadHealth(signal)) ?? null;
        } catch (error) {
          options.onHealthError?.(error);
        }
        return this.lastHealth;
      },
      options.healthTtlMs ?? options.modelTtlMs,
      clock,
    );
    this.bandit = bandit;
  }

  /** The policy to rank with, and the version of the model it learnt (`linucb-<version>`). */
  async get(): Promise<{ policy: BanditPolicy; version: number }> {
    const [model, health] = await Promise.all([this.model.get(), this.health.get()]);
    if (!health || health.version <= model.version) return model;
    const w = this.withHealth;
    if (!w || w.base !== model.policy || w.healthVersion !== health.version) {
      const policy = new BanditPolicy({ ...model.policy.state, health: health.health }, this.bandit, model.policy);
      this.withHealth = { base: model.policy, healthVersion: health.version, policy };
    }
    return { policy: this.withHealth!.policy, version: model.version };
  }
}
