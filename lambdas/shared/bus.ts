/**
 * The bus, as the functions that publish see it: events of contracts/events.ts put on EventBridge, ten entries a
 * PutEvents call. The payments outbox, the rewards outbox and routing's outcomes publish through it.
 */
import { PutEventsCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { EVENTS, type EventName, type EventDetail } from '../../contracts/events';

/** One event of the bus: its name and its detail. */
export type BusEvent<N extends EventName = EventName> = { [K in N]: { readonly name: K; readonly detail: EventDetail<K> } }[N];

export interface EventPublisher<N extends EventName = EventName> {
  /** Puts the events on the bus; throws when any was not accepted (the caller publishes them again later). */
  publish(events: readonly BusEvent<N>[]): Promise<void>;
}

export function eventBridgePublisher(client: () => EventBridgeClient, eventBusName: () => string): EventPublisher {
  const entry = ({ name, detail }: BusEvent) => {
    const { source, detailType } = EVENTS[name];
    return { Source: source, DetailType: detailType, EventBusName: eventBusName(), Detail: JSON.stringify(detail) };
  };
  return {
    async publish(events) {
      for (let i = 0; i < events.length; i += 10) {
        const entries = events.slice(i, i + 10).map(entry);
        const result = await client().send(new PutEventsCommand({ Entries: entries }));
        if (result.FailedEntryCount) throw new Error(`${result.FailedEntryCount} of ${entries.length} event(s) were not accepted by the bus (${[...new Set(entries.map((e) => e.DetailType))].join(', ')})`);
      }
    },
  };
}
