/**
 * One action of an AWS JSON 1.1 API on loopback (POST, `X-Amz-Target: <target>`, a JSON body, a JSON answer), as
 * the handlers' SDK clients call it when a local endpoint variable points them here. Any other request is
 * UnknownOperationException; a body that is not JSON (or that the action throws on) SerializationException. The
 * local PutEvents (events-endpoint.ts) and GetSecretValue (secrets-endpoint.ts) endpoints are this, each with its
 * own action.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface LocalAwsEndpoint {
  readonly url: string;
  close(): Promise<void>;
}

export interface AwsJsonAnswer {
  readonly status: number;
  readonly body: unknown;
}

function reply(res: ServerResponse, { status, body }: AwsJsonAnswer): void {
  res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
  res.end(JSON.stringify(body));
}

export async function startAwsJsonEndpoint(options: {
  /** The X-Amz-Target it serves, e.g. `AWSEvents.PutEvents`. */
  readonly target: string;
  /** What it is, for the refusal's words: `the local <what> endpoint serves ...`. */
  readonly what: string;
  readonly handle: (body: unknown) => AwsJsonAnswer;
  readonly host?: string;
}): Promise<LocalAwsEndpoint> {
  const host = options.host ?? '127.0.0.1';
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      if (req.method !== 'POST' || target !== options.target) {
        reply(res, { status: 400, body: { __type: 'UnknownOperationException', message: `the local ${options.what} endpoint serves ${options.target} only (got ${target || req.method})` } });
        return;
      }
      try {
        reply(res, options.handle(JSON.parse(Buffer.concat(chunks).toString('utf8'))));
      } catch (error) {
        reply(res, { status: 400, body: { __type: 'SerializationException', message: (error as Error).message } });
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
