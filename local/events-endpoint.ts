/**
 * The local EventBridge endpoint: the PutEvents action of the EventBridge API (AWS JSON 1.1, `X-Amz-Target:
 * AWSEvents.PutEvents`) on loopback, feeding the local bus. The handlers' SDK client talks to it as it talks
 * to EventBridge in the cloud (EVENTS_ENDPOINT), so publishing code is the same in both.
 */
import { startAwsJsonEndpoint, type LocalAwsEndpoint } from './aws-json-endpoint';
import type { LocalBus, PutEventsEntry } from './bus';

export type LocalEventsEndpoint = LocalAwsEndpoint;

export function startLocalEventsEndpoint(bus: LocalBus, host = '127.0.0.1'): Promise<LocalEventsEndpoint> {
  return startAwsJsonEndpoint({
    target: 'AWSEvents.PutEvents',
    what: 'events',
    host,
    handle: (body) => {
      const entries = (body as { Entries?: PutEventsEntry[] }).Entries;
      if (!Array.isArray(entries) || entries.length === 0 || entries.length > 10) {
        return { status: 400, body: { __type: 'ValidationException', message: 'Entries must hold 1 to 10 entries' } };
      }
      return { status: 200, body: bus.putEvents(entries) };
    },
  });
}
