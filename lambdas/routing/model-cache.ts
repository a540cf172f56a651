/**
 * The routing function's copy of the learnt model (`CachedModel`), over the ModelReader port: the model is kept
 * for a short TTL, and the breaker's state (its own item) for a shorter one, so a connector's outage stops its
 * traffic within seconds.
 */
import { BanditPolicy, DEFAULT_BANDIT, type BanditOptions } from './bandit';
import type { ModelReader, PolicySource, PublishedHealth } from './ports';

export interface CachedModelOptions {
  /** How long the model is kept before it is read again (ROUTING_MODEL_TTL_MS). */
  readonly modelTtlMs: number;
  /** How long the published health is kept (ROUTING_HEALTH_TTL_MS); @default modelTtlMs */
  readonly healthTtlMs?: number;
  readonly bandit?: BanditOptions;
  readonly clock?: () => number;
  /** How long a health read may take before the last one read (none: all healthy) is used; @default no limit */
  readonly healthTimeoutMs?: number;
  /** Told when the health cannot be read (the last one read is used meanwhile). */
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
 * The routing function's copy of the model, reloaded after `modelTtlMs` (one BanditPolicy per version), with the
 * breaker's state from the health item, reloaded after `healthTtlMs` (none yet: every connector healthy).
 */
export class CachedModel implements PolicySource {
  private readonly model: Refreshed<{ version: number; policy: BanditPolicy }>;
  private readonly health: Refreshed<PublishedHealth | null>;
  private current: { version: number; policy: BanditPolicy } | undefined;
  private withHealth: { base: BanditPolicy; healthVersion: number; policy: BanditPolicy } | undefined;
  private lastHealth: PublishedHealth | null = null;
  private readonly bandit: BanditOptions;

  constructor(store: ModelReader, options: CachedModelOptions) {
    const clock = options.clock ?? Date.now;
    const bandit = options.bandit ?? DEFAULT_BANDIT;
    this.model = new Refreshed(
      async () => {
        const model = await store.load();
        if (!this.current || this.current.version !== model.version) {
          // The breaker's state is the health item's alone (a model written before it was apart may carry a stale one).
          this.current = { version: model.version, policy: new BanditPolicy({ ...model.state, health: {} }, bandit, this.current?.policy) };
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
    if (!health) return model;
    const w = this.withHealth;
    if (!w || w.base !== model.policy || w.healthVersion !== health.version) {
      const policy = new BanditPolicy({ ...model.policy.state, health: health.health }, this.bandit, model.policy);
      this.withHealth = { base: model.policy, healthVersion: health.version, policy };
    }
    return { policy: this.withHealth!.policy, version: model.version };
  }
}
