/**
 * The rewards area's read port: how other areas read rewards (analytics, to rebuild its index). They never build
 * the ledger; they ask for this port.
 */
import type { RewardChangedDetail } from '../../contracts/events';
import { documentClientOf } from '../shared/clients';
import { config } from '../shared/config';
import { DynamoRewardLedger } from './ledger';
import { rewardEventsOf } from './outbox';

export interface RewardLookup {
  /**
   * One page of every merchant's rewards and claims as the RewardChanged events their changes give (published or
   * not), how many items the page read, and the next page's cursor: what rebuilds the analytics index.
   */
  rewardEvents(cursor: string | undefined, limit: number): Promise<{ events: RewardChangedDetail[]; items: number; cursor?: string }>;
}

let lookup: RewardLookup | undefined;

/** The lookup of this function's rewards table (REWARDS_TABLE_NAME; the function needs read access to it). */
export function rewardLookup(): RewardLookup {
  if (!lookup) {
    const ledger = new DynamoRewardLedger(documentClientOf(), config().tables.rewards);
    lookup = {
      rewardEvents: async (cursor, limit) => {
        const page = await ledger.scan(cursor, limit);
        return { events: page.items.flatMap((item) => rewardEventsOf(item).map((event) => event.detail)), items: page.items.length, ...(page.cursor ? { cursor: page.cursor } : {}) };
      },
    };
  }
  return lookup;
}
