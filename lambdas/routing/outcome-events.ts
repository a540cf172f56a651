/**
 * The OutcomeQueue adapter: recorded outcomes go to the routing model's single updater as
 * `RoutingOutcomesRecorded` events on the bus (a rule buffers them in the updater's queue). Up to 10 outcomes an
 * event, each well under the 256 KB limit.
 */
import type { EventPublisher } from '../shared/bus';
import type { OutcomeQueue } from './ports';

export function outcomeEvents(bus: EventPublisher<'RoutingOutcomesRecorded'>): OutcomeQueue {
  return {
    async enqueue(outcomes) {
      const events = [];
      for (let i = 0; i < outcomes.length; i += 10) events.push({ name: 'RoutingOutcomesRecorded' as const, detail: { outcomes: outcomes.slice(i, i + 10) } });
      await bus.publish(events);
    },
  };
}
