/**
 * What the local fakes of the gateways' APIs share: a JSON HTTP server whose handler may drop a call's answer
 * (a timeout after processing), and each account's journal (a JSONL file written before each answer, so a
 * restart keeps the gateway's state and a kill -9 after an answer cannot lose it).
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { journalLines, repairJournal } from '../../contracts/journal';

/**
 * The fields a fake's line shares with the sandbox ledger (lambdas/payments/sandbox.ts LedgerLine): a charge's
 * line has the platform's gateway key, and `ok` once money moved (what `npm run test:faults` counts).
 */
export interface LedgerFields {
  readonly key: string;
  readonly at: string;
  readonly amount?: number;
  readonly currency?: string;
  readonly ok?: boolean;
  readonly result?: { readonly gatewayReference: string; readonly feeMinor: number };
}

/** What every fake's options have besides its accounts: its journal's folder, faults by connector, a clock, a host. */
export interface FakeOptions<Fault extends string> {
  /** Where each account's calls are kept (`<dir>/<connector>.jsonl`); in memory when unset. */
  readonly dir?: string;
  readonly faults?: Readonly<Record<string, Fault>>;
  readonly now?: () => Date;
  readonly host?: string;
}

/** How many of the latest requests a fake keeps for tests to assert on (a long `npm start` does not grow without bound). */
const MAX_KEPT_REQUESTS = 500;

/** Keeps a request a fake received, dropping the oldest past MAX_KEPT_REQUESTS. */
export function keepRequest<T>(requests: T[], request: T): void {
  requests.push(request);
  if (requests.length > MAX_KEPT_REQUESTS) requests.splice(0, requests.length - MAX_KEPT_REQUESTS);
}

/** The platform's answer to a webhook a fake sent: its status, and its body (JSON, or the text when it is not). */
export interface WebhookDelivery {
  readonly status: number;
  readonly body: unknown;
}

/** Posts a fake's webhook to the platform; its answer. */
export async function deliverWebhook(url: string, init: { readonly headers: Record<string, string>; readonly body: string }): Promise<WebhookDelivery> {
  const response = await fetch(url, { method: 'POST', headers: init.headers, body: init.body });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: kept as text
  }
  return { status: response.status, body };
}

/** An answer: its HTTP status and JSON body (or, with `contentType`, a text body sent as it is). */
export interface Answer {
  readonly status: number;
  readonly body: unknown;
  readonly contentType?: string;
}

/** A handler's answer, or `drop`: the call was processed and its answer is lost on the way back. */
export type Handler = (req: IncomingMessage, raw: string, res: ServerResponse) => Answer | 'drop';

export interface JsonServer {
  readonly url: string;
  close(): Promise<void>;
}

/** Serves `handle` on a free port of `host`; a handler that throws answers `failed(error)` (a 500 in the API's shape). */
export async function serveJson(handle: Handler, failed: (error: Error) => Answer, host = '127.0.0.1'): Promise<JsonServer> {
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      let answer: Answer | 'drop';
      try {
        answer = handle(req, Buffer.concat(chunks).toString('utf8'), res);
      } catch (error) {
        answer = failed(error as Error);
      }
      if (answer === 'drop') {
        req.socket.destroy();
        return;
      }
      res.writeHead(answer.status, { 'content-type': answer.contentType ?? 'application/json' });
      res.end(answer.contentType ? String(answer.body) : JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolvePromise) => server.listen(0, host, resolvePromise));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolvePromise) => {
        server.closeAllConnections();
        server.close(() => resolvePromise());
      }),
  };
}

/** An account's journal, `<dir>/<name>.jsonl`; in memory (nothing kept) without a folder. */
export class Journal<Line> {
  private readonly file: string | undefined;

  constructor(dir: string | undefined, name: string) {
    if (!dir) return;
    mkdirSync(dir, { recursive: true });
    this.file = join(dir, `${name}.jsonl`);
    // The account's fake is the journal's one writer: a line a crash cut short is cut off before it appends.
    repairJournal(this.file);
  }

  /** The lines kept so far, oldest first (a line cut short by a crash was never answered, and is passed over). */
  lines(): Line[] {
    if (!this.file || !existsSync(this.file)) return [];
    return journalLines<Line>(readFileSync(this.file, 'utf8'));
  }

  /** Synchronous append: on disk (the OS's) before the answer that follows it. */
  append(line: Line): void {
    if (this.file) appendFileSync(this.file, `${JSON.stringify(line)}\n`);
  }
}
