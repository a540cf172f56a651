/**
 * The local functions' way to the local store without a socket. Each function's worker thread gets a
 * MessagePort to the store's thread; its DynamoDB client (the same AWS SDK client as in the cloud: its
 * middleware, serialisation, error parsing and retries all run) sends each HTTP request it built over that port
 * instead of a loopback TCP connection, and the store's thread serves it with dynalite's own request listener,
 * the one its HTTP server uses (with the fault injection and the counting on it), through a minimal request and
 * response. Only the socket and the HTTP framing are skipped: on this machine they were half of the client's
 * and the store's CPU a call (`npm run bench:store`). The HTTP endpoint stays up for everything else (the
 * AWS CLI, tests, table management).
 */
import { EventEmitter } from 'node:events';
import type { Server } from 'node:http';
import type { MessagePort } from 'node:worker_threads';
import type { HttpHandlerOptions, HttpRequest, HttpResponse } from '@smithy/types';

/** A request on the channel: what the SDK would have written to the socket. */
export interface ChannelRequest {
  readonly id: number;
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: Uint8Array | string;
}

/** The store's answer: what dynalite would have written back. */
export interface ChannelReply {
  readonly id: number;
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** The store's side: serves each request arriving on `port` as its HTTP server would (every 'request' listener runs). */
export function serveChannel(server: Server, port: MessagePort): void {
  port.on('message', (message: ChannelRequest) => {
    const req = Object.assign(new EventEmitter(), {
      method: message.method,
      url: message.path,
      headers: message.headers,
      resume: () => undefined,
    });
    const headers: Record<string, string> = {};
    let answered = false;
    const res = Object.assign(new EventEmitter(), {
      statusCode: 200,
      contentType: undefined as string | undefined,
      setHeader(name: string, value: unknown) {
        headers[name.toLowerCase()] = String(value);
      },
      writeHead(status: number, more: Record<string, unknown> = {}) {
        res.statusCode = status;
        for (const [name, value] of Object.entries(more)) res.setHeader(name, value);
      },
      end(body?: string | Buffer) {
        if (answered) return;
        answered = true;
        port.postMessage({ id: message.id, status: res.statusCode, headers, body: body === undefined ? '' : String(body) } satisfies ChannelReply);
        // After the current work, as a real response finishes later: listeners attached after an answer given at
        // once (the counting's, on the same request) still see it, before any other request is taken.
        process.nextTick(() => res.emit('finish'));
      },
    });
    try {
      server.emit('request', req, res);
      const body = typeof message.body === 'string' ? Buffer.from(message.body) : Buffer.from(message.body.buffer, message.body.byteOffset, message.body.byteLength);
      if (body.length) req.emit('data', body);
      req.emit('end');
    } catch (error) {
      // A throw while dynalite takes the request answers this call with DynamoDB's 500 (which the SDK retries)
      // instead of ending the store's thread (a throw in its later, asynchronous work is not caught here).
      res.statusCode = 500;
      res.setHeader('content-type', 'application/x-amz-json-1.0');
      res.end(JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: `local store: ${(error as Error).message}` }));
    }
  });
}

function aborted(): Error {
  return Object.assign(new Error('Request aborted'), { name: 'AbortError' });
}

/** An error the SDK's retry strategy treats as a transient connection failure. */
function connectionLost(message: string): Error {
  return Object.assign(new Error(message), { name: 'Error', code: 'ECONNRESET' });
}

/**
 * The function's side: an AWS SDK `requestHandler` (the role NodeHttpHandler plays over a socket). A reply
 * never comes when the store's thread stops: the pending calls then fail as a reset connection would.
 */
export class StoreChannelHandler {
  readonly metadata = { handlerProtocol: 'http/1.1' };
  private sequence = 0;
  private readonly pending = new Map<number, { resolve: (reply: ChannelReply) => void; reject: (error: Error) => void }>();
  private closed = false;

  constructor(private readonly port: MessagePort) {
    port.on('message', (reply: ChannelReply) => {
      const call = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      call?.resolve(reply);
    });
    port.on('close', () => {
      this.closed = true;
      for (const call of this.pending.values()) call.reject(connectionLost('the local store closed the channel'));
      this.pending.clear();
    });
    // The port never keeps the function's thread alive by itself.
    port.unref();
  }

  /** As NodeHttpHandler: an aborted call rejects with an AbortError at once (the store's late answer is dropped). */
  async handle(request: HttpRequest, options: HttpHandlerOptions = {}): Promise<{ response: HttpResponse }> {
    // The SDK passes a DOM-style AbortSignal (the `abortSignal` of a send); older callers one with `onabort` only.
    const abortSignal = options.abortSignal as (AbortSignal & Partial<EventTarget>) | undefined;
    if (abortSignal?.aborted) throw aborted();
    if (this.closed) throw connectionLost('the local store closed the channel');
    const id = ++this.sequence;
    const query = request.query && Object.keys(request.query).length ? `?${new URLSearchParams(request.query as Record<string, string>)}` : '';
    const raw = request.body === undefined || request.body === null ? '' : (request.body as Uint8Array | string);
    // A view into a pooled buffer would carry the whole pool across (structured clone copies the buffer): its bytes alone.
    const body = typeof raw === 'string' || raw.byteLength === raw.buffer.byteLength ? raw : new Uint8Array(raw);
    const onAbort = () => {
      const call = this.pending.get(id);
      this.pending.delete(id);
      call?.reject(aborted());
    };
    abortSignal?.addEventListener?.('abort', onAbort, { once: true });
    try {
      const reply = await new Promise<ChannelReply>((resolve, reject) => {
        this.pending.set(id, { resolve, reject });
        this.port.postMessage({ id, method: request.method, path: `${request.path}${query}`, headers: request.headers, body } satisfies ChannelRequest);
      });
      return { response: { statusCode: reply.status, headers: reply.headers, body: Buffer.from(reply.body) } };
    } finally {
      abortSignal?.removeEventListener?.('abort', onAbort);
    }
  }

  updateHttpClientConfig(): void {}

  httpHandlerConfigs(): Record<string, never> {
    return {};
  }

  /** The channel belongs to the function's thread, not to one client: it stays open. */
  destroy(): void {}
}
