/**
 * The rewards outbox: every change of a reward's or a claim's tokens (issued, clawed back by a refund, minted) is
 * recorded on its item in the same conditional write as the change (ledger.ts `changes`), with a mark
 * (`unannounced`, a sparse index). Publishing puts the changes not yet published on the bus as `RewardChanged`
 * events, then records how many went out and clears the mark (unless a change came meanwhile). A crash between the
 * two publishes them again: an event's identity is its reward and its number, so consumers (the analytics index)
 * take each once.
 *
 * Two ways in, one code path: right after a change, by the function that made it (so analytics sees it at once),
 * and the `reward-events` schedule, which publishes whatever is still marked (a change whose publication failed).
 */
import type { RewardChangedDetail } from '../../contracts/events';
import type { BusEvent, EventPublisher } from '../shared/bus';
import type { StoredClaim, StoredReward } from './rewards';

export interface RewardOutboxLedger {
  /** A reward or a claim, by its id. */
  item(id: string): Promise<StoredReward | StoredClaim | undefined>;
  /** Up to `limit` ids of items with changes not yet published. */
  unannounced(limit: number): Promise<string[]>;
  /** Records that the first `count` changes are published, and clears the mark if no change came since. */
  markAnnounced(id: string, count: number): Promise<void>;
}

export interface RewardOutboxDeps {
  readonly ledger: RewardOutboxLedger;
  readonly publisher: EventPublisher<'RewardChanged'>;
}

function isClaim(item: StoredReward | StoredClaim): item is StoredClaim {
  return (item as StoredClaim).kind === 'claim';
}

/** The item's changes as events, from the `from`-th (all of them by default). */
export function rewardEventsOf(item: StoredReward | StoredClaim, from = 0): BusEvent<'RewardChanged'>[] {
  const payment = isClaim(item) ? {} : { paymentId: item.paymentId, amount: item.amount, currency: item.currency };
  return (item.changes ?? []).slice(from).map((change, i) => {
    const detail: RewardChangedDetail = {
      rewardId: item.paymentId,
      seq: from + i,
      change: change.change,
      merchantId: item.merchantId,
      customerId: item.customerId,
      tokens: change.tokens,
      decimals: item.decimals,
      ...payment,
      at: change.at,
    };
    return { name: 'RewardChanged', detail };
  });
}

/** Publishes the unpublished changes of these items, then marks them published; how many events went out. */
export async function announce(ids: readonly string[], deps: RewardOutboxDeps): Promise<number> {
  const items = (await Promise.all([...new Set(ids)].map((id) => deps.ledger.item(id)))).filter((item): item is StoredReward | StoredClaim => item !== undefined);
  const events = items.flatMap((item) => rewardEventsOf(item, item.announced ?? 0));
  if (events.length) await deps.publisher.publish(events);
  // Every marked item read (one with nothing new loses a stale mark too).
  await Promise.all(items.filter((item) => item.unannounced !== undefined).map((item) => deps.ledger.markAnnounced(item.paymentId, item.changes?.length ?? 0)));
  return events.length;
}

/** The sweep: the changes of up to `limit` items still marked. */
export async function announcePending(deps: RewardOutboxDeps, limit = 100): Promise<number> {
  return announce(await deps.ledger.unannounced(limit), deps);
}
