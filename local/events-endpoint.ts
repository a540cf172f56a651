/**
 * The local EventBridge endpoint: the PutEvents action of the EventBridge API (AWS JSON 1.1, `X-Amz-Target:
 * AWSEvents.PutEvents`) on loopback, feeding the local bus. The handlers' SDK client talks to it as it talks
 * to EventBridge in the cloud (EVENTS_ENDPOINT), so publishing code is the same in both.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LocalBus, PutEventsEntry } from './bus';

export interface LocalEventsEndpoint {
  readonly url: string;
  close(): Promise<void>;
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
  res.end(JSON.stringify(body));
}

export async function startLocalEventsEndpoint(bus: LocalBus, host = '127.0.0.1'): Promise<LocalEventsEndpoint> {
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      if (req.method !== 'POST' || target !== 'AWSEvents.PutEvents') {
        reply(res, 400, { __type: 'UnknownOperationException', message: `the local events endpoint serves AWSEvents.PutEvents only (got ${target || req.method})` });
        return;
      }
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { Entries?: PutEventsEntry[] };
        if (!Array.isArray(body.Entries) || body.Entries.length === 0 || body.Entries.length > 10) {
          reply(res, 400, { __type: 'ValidationException', message: 'Entries must hold 1 to 10 entries' });
          return;
        }
        reply(res, 200, bus.putEvents(body.Entries));
      } catch (error) {
        reply(res, 400, { __type: 'SerializationException', message: (error as Error).message });
      }
    });
  });
  await new Promise<void>((resolvePromise) => server.listen(0, host, resolvePromise));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    close: () => new Promise<void>((resolvePromise) => server.close(() => resolvePromise())),
  };
}
