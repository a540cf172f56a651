/**
 * The loopback load driver the benchmarks and `npm run test:load` share: one HTTP request and how it ended, the
 * outcomes of many as a `Load`, and an open-loop, evenly paced sender.
 */
import { Agent, request as httpRequest } from 'node:http';

/** A request to send. */
export interface LoadRequest {
  readonly method: string;
  /** Path and query. */
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
}

/** How one request ended: an answer (with its body), an error before or during it, or the time limit. */
export type Outcome = { readonly kind: 'answered'; readonly status: number; readonly body: string } | { readonly kind: 'error'; readonly why: string } | { readonly kind: 'timeout' };

/** What a load generator saw. */
export interface Load {
  readonly offered: string;
  readonly sent: number;
  readonly durationS: number;
  /** Response times in ms. */
  readonly latencies: number[];
  readonly statusCodes: Record<string, number>;
  readonly errors: number;
  readonly errorCodes?: Record<string, number>;
  readonly timeouts: number;
  readonly non2xx: number;
}

export const REQUEST_TIMEOUT_MS = 10_000;

/** Sends one request; resolves exactly once with how it ended. */
export function send(agent: Agent, base: URL, request: LoadRequest, timeoutMs = REQUEST_TIMEOUT_MS): Promise<Outcome> {
  return new Promise<Outcome>((resolve) => {
    let settled = false;
    const settle = (outcome: Outcome) => {
      if (settled) return;
      settled = true;
      resolve(outcome);
    };
    const headers = request.body === undefined ? request.headers : { ...request.headers, 'content-length': String(Buffer.byteLength(request.body)) };
    const outgoing = httpRequest({ host: base.hostname, port: base.port, path: request.path, method: request.method, agent, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => settle({ kind: 'answered', status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', (error: NodeJS.ErrnoException) => settle({ kind: 'error', why: error.code ?? 'response error' }));
      response.on('aborted', () => settle({ kind: 'error', why: 'response aborted' }));
    });
    outgoing.setTimeout(timeoutMs, () => {
      settle({ kind: 'timeout' });
      outgoing.destroy();
    });
    // Which error (a reset on a reused keep-alive socket is the client's race with the server's idle close).
    outgoing.on('error', (error: NodeJS.ErrnoException) => settle({ kind: 'error', why: error.code ?? error.message }));
    outgoing.end(request.body);
  });
}

/** The outcomes of a load's requests, as a `Load`. */
export function tally() {
  const latencies: number[] = [];
  const statusCodes: Record<string, number> = {};
  const errorCodes: Record<string, number> = {};
  let errors = 0;
  let timeouts = 0;
  return {
    add(outcome: Outcome, latencyMs: number) {
      if (outcome.kind === 'answered') {
        latencies.push(latencyMs);
        statusCodes[outcome.status] = (statusCodes[outcome.status] ?? 0) + 1;
      } else if (outcome.kind === 'timeout') timeouts += 1;
      else {
        errors += 1;
        errorCodes[outcome.why] = (errorCodes[outcome.why] ?? 0) + 1;
      }
    },
    load(offered: string, sent: number, durationS: number): Load {
      const non2xx = Object.entries(statusCodes).filter(([code]) => !code.startsWith('2')).reduce((sum, [, n]) => sum + n, 0);
      return { offered, sent, durationS, latencies, statusCodes, errors, errorCodes, timeouts, non2xx };
    },
  };
}

/**
 * A fixed offered rate, evenly paced and open loop: request n is sent at start + n / rate whether or not the
 * earlier ones have been answered, and its latency counts from then (so a slow server cannot slow the load down
 * and hide its queue: no coordinated omission). autocannon's own rate limit is not used: it lets each connection
 * send its quota for the second back to back as soon as it can, then wait for the next second, which offers
 * bursts, not a rate. Resolves with the seconds the load took, once every request has ended.
 */
export async function openLoop(
  baseUrl: string,
  options: { readonly rate: number; readonly duration: number },
  make: (n: number) => LoadRequest,
  onOutcome: (n: number, outcome: Outcome, latencyMs: number) => void,
): Promise<{ sent: number; durationS: number }> {
  const base = new URL(baseUrl);
  const agent = new Agent({ keepAlive: true, maxSockets: 1024 });
  const total = Math.max(1, Math.round(options.rate * options.duration));
  const start = performance.now() + 20;
  const inFlight: Promise<void>[] = [];
  for (let n = 0; n < total; n += 1) {
    const due = start + (n * 1000) / options.rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    const request = make(n);
    // Open loop: the latency counts from when the request was due, whether or not it could leave then.
    inFlight.push(send(agent, base, request).then((outcome) => onOutcome(n, outcome, performance.now() - due)));
  }
  await Promise.all(inFlight);
  agent.destroy();
  return { sent: total, durationS: (performance.now() - start) / 1000 };
}
