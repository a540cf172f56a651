/**
 * The OutcomeQueue adapter: recorded outcomes go to the routing model's single updater as
 * `RoutingOutcomesRecorded` events on the bus (a rule buffers them in the updater's queue). Up to 10 outcomes an
 * event and 10 entries a PutEvents call, each well under the 256 KB limit.
 */
import { PutEventsCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { EVENTS, type RoutingOutcomesDetail } from '../../contracts/events';
import type { OutcomeQueue } from './ports';

export function outcomeEvents(client: () => EventBridgeClient, eventBusName: () => string): OutcomeQueue {
  const { source, detailType } = EVENTS.RoutingOutcomesRecorded;
  return {
    async enqueue(outcomes) {
      const entries = [];
      for (let i = 0; i < outcomes.length; i += 10) {
        const detail: RoutingOutcomesDetail = { outcomes: outcomes.slice(i, i + 10) };
        entries.push({ Source: source, DetailType: detailType, EventBusName: eventBusName(), Detail: JSON.stringify(detail) });
      }
      for (let i = 0; i < entries.length; i += 10) {
        const result = await client().send(new PutEventsCommand({ Entries: entries.slice(i, i + 10) }));
        if (result.FailedEntryCount) throw new Error(`routing: ${result.FailedEntryCount} outcome event(s) were not accepted by the bus`);
      }
    },
  };
}
