/**
 * Elimination: a circuit breaker per connector on its recent errors and timeouts (a decline is the card's
 * answer, not the connector's failure, and does not count).
 *
 * - healthy → demoted when its last `consecutive` attempts all failed (an outage), or when at least
 *   `minFailures` of its recent attempts failed and they reached the `threshold` share of them (a
 *   brown-out). The recent attempts are the last `minSample`, plus any others of the last `window` that are
 *   at most `windowMs` old: the age limit keeps the successes of a quiet hour ago from hiding an outage that
 *   has just begun (as a time-based sliding window does), the minimum sample keeps a brown-out visible at
 *   a few attempts a minute. A demoted connector is never chosen first; it stays at the end of the ranked
 *   list, so the workflow can still fall back to it.
 * - demoted → probing after `coolDownMs`: the connector is put first on a share of the decisions (its `share`,
 *   from `probeShare`). Recovery is then measured in attempts and traffic, not in time: a failed probe halves
 *   the share (down to `minProbeShare`), a successful one multiplies it by `probeGrowth` (up to
 *   `maxProbeShare`), and `probeSuccesses` successes in a row make it healthy.
 * - a recovered connector is on probation for its next `probation` attempts: a failure among them sends it back
 *   to probing at the least share (during a long outage a few attempts still succeed, and two of them in a row
 *   must not buy more failures).
 *
 * With the defaults an outage costs 3 failed attempts in a row before demotion (a few more when successes are
 * interleaved), then about one failed probe per 100 decisions the connector could take while it lasts; once it
 * ends, the connector is healthy again after about 100 + 25 + 6 such decisions (the probes' shares 1%, 4%, 16%).
 */
import type { AttemptOutcome, HealthStatus } from '../../contracts/api';

/** How an attempt ended, as the breaker counts it (contracts/api.ts's AttemptOutcome). */
export type HealthOutcome = AttemptOutcome;
export type { HealthStatus };

export interface HealthOptions {
  readonly consecutive: number;
  readonly window: number;
  /** How old an attempt may be and still count in the failure share (beyond the last `minSample`). */
  readonly windowMs: number;
  /** The last attempts that count in the failure share whatever their age. */
  readonly minSample: number;
  readonly minFailures: number;
  readonly threshold: number;
  /** Time from a demotion to the first probe. */
  readonly coolDownMs: number;
  /** The share of decisions a connector is first probed on, the least it falls to, the most it grows to, and its growth per successful probe. */
  readonly probeShare: number;
  readonly minProbeShare: number;
  readonly maxProbeShare: number;
  readonly probeGrowth: number;
  readonly probeSuccesses: number;
  /** Attempts after a recovery during which one failure demotes again. */
  readonly probation: number;
}

export const DEFAULT_HEALTH: HealthOptions = {
  consecutive: 3,
  window: 20,
  windowMs: 60_000,
  minSample: 6,
  minFailures: 3,
  threshold: 0.5,
  coolDownMs: 10_000,
  probeShare: 0.05,
  minProbeShare: 0.01,
  maxProbeShare: 0.4,
  probeGrowth: 4,
  probeSuccesses: 3,
  probation: 5,
};

export interface ConnectorHealth {
  readonly status: HealthStatus;
  /** The last attempts, oldest first. */
  readonly recent: readonly AttemptMark[];
  /** When a demoted connector may be probed (epoch ms). */
  readonly until: number;
  /** Consecutive successful probes. */
  readonly probes: number;
  /** While probing: the share of decisions it is put first on (absent: the options' probeShare). */
  readonly share?: number;
  /** Attempts left on probation after a recovery (absent: none). */
  readonly probation?: number;
}

/** One attempt as the breaker keeps it. */
export interface AttemptMark {
  /** An error or a timeout. */
  readonly failed: boolean;
  /** Epoch ms. */
  readonly t: number;
}

export const HEALTHY: ConnectorHealth = { status: 'healthy', recent: [], until: 0, probes: 0 };

/** The status at `now` (a demoted connector whose cool-down is over is probing). */
export function statusAt(health: ConnectorHealth | undefined, now: number): HealthStatus {
  if (!health) return 'healthy';
  return health.status === 'demoted' && now >= health.until ? 'probing' : health.status;
}

/** Folds one attempt's outcome into a connector's health. */
export function recordOutcome(
  health: ConnectorHealth | undefined,
  outcome: HealthOutcome,
  now: number,
  options: HealthOptions = DEFAULT_HEALTH,
): ConnectorHealth {
  const h = health ?? HEALTHY;
  const failed = outcome === 'error' || outcome === 'timeout';
  const recent = [...h.recent, { failed, t: now }].slice(-options.window);
  const status = statusAt(h, now);
  const share = h.share ?? options.probeShare;
  if (status === 'probing') {
    // A failed probe: probed half as often (the outage goes on); a success: more often, healthy after a few.
    if (failed) return { ...h, status: 'demoted', until: Math.min(h.until, now), recent, probes: 0, share: Math.max(options.minProbeShare, share / 2) };
    if (outcome === 'declined') return { ...h, status: 'demoted', recent };
    const probes = h.probes + 1;
    // Recovered: the history starts again, on probation.
    if (probes >= options.probeSuccesses) return { status: 'healthy', recent: [], until: 0, probes: 0, probation: options.probation };
    return { ...h, status: 'demoted', recent, probes, share: Math.min(options.maxProbeShare, share * options.probeGrowth) };
  }
  if (status === 'demoted') return { ...h, recent };
  if (h.probation) {
    // Back to probing at the least share: a long outage's odd successes buy no more failures.
    if (failed) return { status: 'demoted', recent, until: now, probes: 0, share: options.minProbeShare };
    const probation = h.probation - 1;
    return probation > 0 ? { ...h, recent, probation } : { status: 'healthy', recent, until: 0, probes: 0 };
  }
  const outage = recent.length >= options.consecutive && recent.slice(-options.consecutive).every((a) => a.failed);
  const fresh = recent.filter((a, i) => i >= recent.length - options.minSample || now - a.t <= options.windowMs);
  const failures = fresh.filter((a) => a.failed).length;
  if (failed && (outage || (failures >= options.minFailures && failures / fresh.length >= options.threshold))) {
    return { status: 'demoted', recent, until: now + options.coolDownMs, probes: 0, share: options.probeShare };
  }
  return { ...h, recent };
}

/** The breaker's state of every connector, by connector id. */
export type HealthState = Readonly<Record<string, ConnectorHealth>>;

/** Folds attempts' outcomes into the breaker's state, oldest first (each at its own time). */
export function recordOutcomes(
  health: HealthState,
  outcomes: ReadonlyArray<{ readonly connectorId: string; readonly outcome: HealthOutcome; readonly time: number }>,
  options: HealthOptions = DEFAULT_HEALTH,
): HealthState {
  const next: Record<string, ConnectorHealth> = { ...health };
  for (const o of [...outcomes].sort((a, b) => a.time - b.time)) next[o.connectorId] = recordOutcome(next[o.connectorId], o.outcome, o.time, options);
  return next;
}
