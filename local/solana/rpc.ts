/**
 * The local Solana JSON-RPC endpoint: the methods SmartPay's code calls through web3.js's `Connection`, served
 * on loopback from the local ledger (ledger.ts), as the local PutEvents endpoint serves EventBridge's. Code that
 * talks to a cluster by `SOLANA_RPC_URL` talks to this the same way.
 *
 * Methods: getLatestBlockhash, sendTransaction, getSignatureStatuses, getAccountInfo, getBalance,
 * getTokenAccountBalance, getMinimumBalanceForRentExemption, getSignaturesForAddress, getTransaction,
 * getSlot, getBlockHeight, getVersion, getHealth, getGenesisHash, and requestAirdrop (from the bank's faucet, as
 * a local cluster's). Single calls and batches (JSON-RPC 2.0);
 * every commitment answers from the one bank (a processed transaction is final at once). On the next port, the
 * websocket's signatureSubscribe, which web3.js's confirmTransaction waits on.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import bs58 from 'bs58';
import { Server as WebSocketServer } from 'ws';
import type WebSocket from 'ws';
import { LedgerRpcError } from './errors';
import type { LocalLedger } from './ledger';

export interface LocalSolanaRpc {
  readonly url: string;
  close(): Promise<void>;
}

interface RpcRequest {
  readonly jsonrpc?: string;
  readonly id?: unknown;
  readonly method?: unknown;
  readonly params?: unknown;
}

const INVALID_PARAMS = -32602;

async function answer(ledger: () => Promise<LocalLedger>, request: RpcRequest): Promise<unknown> {
  const id = request?.id ?? null;
  if (!request || typeof request !== 'object' || request.jsonrpc !== '2.0' || typeof request.method !== 'string') {
    return { jsonrpc: '2.0', id, error: { code: -32600, message: 'Invalid request' } };
  }
  const params = request.params === undefined ? [] : request.params;
  if (!Array.isArray(params)) return { jsonrpc: '2.0', id, error: { code: INVALID_PARAMS, message: 'Invalid params: expected an array' } };
  try {
    // The methods (web3.js, spl-token) and the ledger (bankrun) load on the first request.
    const { call } = await import('./methods.js');
    return { jsonrpc: '2.0', id, result: await call(await ledger(), request.method, params) };
  } catch (error) {
    if (error instanceof LedgerRpcError) return { jsonrpc: '2.0', id, error: { code: error.code, message: error.message, ...(error.data === undefined ? {} : { data: error.data }) } };
    return { jsonrpc: '2.0', id, error: { code: -32603, message: `Internal error: ${(error as Error)?.message ?? String(error)}` } };
  }
}

/**
 * Serves the ledger's JSON-RPC on loopback (a free port unless `port` is given). `ledger`: the ledger, or how to
 * start it (on the first request, so a platform that never touches Solana never loads bankrun).
 */
export async function startLocalSolanaRpc(
  ledger: LocalLedger | (() => Promise<LocalLedger>),
  options: {
    host?: string;
    port?: number;
    /**
     * Fault testing: the share of sendTransaction calls that a leader drops (answered with the signature, never
     * processed: it can land only if sent again before its blockhash expires), and, as many again, calls whose
     * answer is lost (processed, then answered 502 as a proxy whose node went quiet would). @default 0
     */
    faultRate?: number;
  } = {},
): Promise<LocalSolanaRpc> {
  const faultRate = options.faultRate ?? 0;
  if (!(faultRate >= 0 && faultRate < 0.5)) throw new RangeError(`faultRate must be a share from 0 to below 0.5, got ${faultRate}`);
  const ledgerOf = typeof ledger === 'function' ? ledger : async () => ledger;
  const host = options.host ?? '127.0.0.1';
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= 1_000_000) chunks.push(chunk);
    });
    req.on('end', () => {
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (req.method !== 'POST') return reply(405, { jsonrpc: '2.0', id: null, error: { code: -32600, message: 'JSON-RPC over POST only' } });
      if (size > 1_000_000) return reply(413, { jsonrpc: '2.0', id: null, error: { code: -32600, message: 'request over 1 MB' } });
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return reply(200, { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } });
      }
      const send = !Array.isArray(body) && (body as RpcRequest)?.method === 'sendTransaction';
      const roll = send && faultRate > 0 ? Math.random() : 1;
      if (roll < faultRate) {
        const dropped = droppedSignature(body as RpcRequest);
        if (dropped) return reply(200, { jsonrpc: '2.0', id: (body as RpcRequest).id ?? null, result: dropped });
      }
      const work = Array.isArray(body) ? Promise.all(body.map((r) => answer(ledgerOf, r as RpcRequest))) : answer(ledgerOf, body as RpcRequest);
      work.then(
        // A lost answer: processed, then the proxy in front of the node answers 502 (the client cannot tell).
        (result) => (roll < 2 * faultRate ? reply(502, { error: 'the answer was lost (fault testing)' }) : reply(200, result)),
        (error: unknown) => reply(500, { jsonrpc: '2.0', id: null, error: { code: -32603, message: String(error) } }),
      );
    });
  });
  const listen = (srv: Server, port: number, what: string) =>
    new Promise<void>((resolve, reject) => {
      srv.once('error', (error: NodeJS.ErrnoException) =>
        reject(
          error.code === 'EADDRINUSE'
            ? Object.assign(new Error(`the local Solana ${what}'s port ${port} on ${host} is already in use (a solana-test-validator?); stop it or pick another (--solana-port <n>, 0 for any)`), { code: 'EADDRINUSE' })
            : error,
        ),
      );
      srv.listen(port, host, resolve);
    });
  // The websocket listens on the next port, where web3.js looks for it (a validator's convention: 8899 and 8900).
  const sockets = createServer((_req, res) => {
    res.writeHead(426, { 'content-type': 'text/plain', upgrade: 'websocket' });
    res.end('the local Solana RPC\'s websocket (signatureSubscribe); JSON-RPC over HTTP is on the port before this one\n');
  });
  for (let tries = 0; ; tries += 1) {
    await listen(server, options.port ?? 0, 'RPC');
    const { port } = server.address() as AddressInfo;
    try {
      await listen(sockets, port + 1, 'RPC websocket');
      break;
    } catch (error) {
      // A free port whose next one is taken: try another pair (a port asked for fails at once).
      if (options.port || tries >= 10 || (error as NodeJS.ErrnoException).code !== 'EADDRINUSE') {
        server.close();
        throw error;
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }
  const subscriptions = serveSignatureSubscriptions(sockets, ledgerOf);
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    close: async () => {
      subscriptions.close();
      await new Promise<void>((resolve) => sockets.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The first signature of a sendTransaction request's transaction (what a cluster answers), or undefined. */
function droppedSignature(request: RpcRequest): string | undefined {
  const params = Array.isArray(request.params) ? request.params : [];
  const encoded = params[0];
  if (typeof encoded !== 'string') return undefined;
  const encoding = (params[1] as { encoding?: string } | undefined)?.encoding ?? 'base58';
  try {
    const wire = encoding === 'base64' ? Buffer.from(encoded, 'base64') : Buffer.from(bs58.decode(encoded));
    // The wire form starts with the signatures' count (a compact-u16; one byte below 128), then the signatures.
    if (wire.length < 65 || wire[0] === 0 || wire[0] >= 0x80) return undefined;
    return bs58.encode(wire.subarray(1, 65));
  } catch {
    return undefined;
  }
}

/**
 * The websocket half of the RPC: `signatureSubscribe` and `signatureUnsubscribe`, what web3.js's
 * `confirmTransaction` (and so `sendAndConfirmTransaction` and spl-token's helpers) waits on. A subscription is
 * answered once, with the transaction's error (null: it succeeded), when it is recorded, or at once if it was.
 */
function serveSignatureSubscriptions(server: Server, ledgerOf: () => Promise<LocalLedger>): { close(): void } {
  const wss = new WebSocketServer({ server });
  let nextId = 0;
  const waiting = new Map<string, Map<number, WebSocket>>();
  let unhook: (() => void) | undefined;
  const notify = (socket: WebSocket, subscription: number, slot: number, err: unknown) => {
    if (socket.readyState === socket.OPEN) socket.send(JSON.stringify({ jsonrpc: '2.0', method: 'signatureNotification', params: { result: { context: { slot }, value: { err } }, subscription } }));
  };
  wss.on('connection', (socket: WebSocket) => {
    const mine = new Set<number>();
    socket.on('close', () => {
      for (const subs of waiting.values()) for (const id of mine) subs.delete(id);
    });
    socket.on('message', (data: WebSocket.Data) => {
      void (async () => {
        let request: RpcRequest;
        try {
          request = JSON.parse(String(data)) as RpcRequest;
        } catch {
          socket.send(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } }));
          return;
        }
        const reply = (body: object) => socket.send(JSON.stringify({ jsonrpc: '2.0', id: request.id ?? null, ...body }));
        const params = Array.isArray(request.params) ? request.params : [];
        if (request.method === 'signatureUnsubscribe') {
          const id = Number(params[0]);
          for (const subs of waiting.values()) subs.delete(id);
          reply({ result: mine.delete(id) });
          return;
        }
        if (request.method !== 'signatureSubscribe' || typeof params[0] !== 'string') {
          reply({ error: { code: -32601, message: `Method not found: ${String(request.method)} (the local ledger's websocket serves signatureSubscribe and signatureUnsubscribe)` } });
          return;
        }
        const ledger = await ledgerOf();
        unhook ??= ledger.onRecorded((record) => {
          const subs = waiting.get(record.signature);
          if (!subs) return;
          waiting.delete(record.signature);
          for (const [id, s] of subs) notify(s, id, record.slot, record.err);
        });
        const signature = params[0];
        const id = (nextId += 1);
        mine.add(id);
        reply({ result: id });
        const done = ledger.transaction(signature);
        if (done) {
          notify(socket, id, done.slot, done.err);
          return;
        }
        const subs = waiting.get(signature) ?? new Map<number, WebSocket>();
        subs.set(id, socket);
        waiting.set(signature, subs);
      })();
    });
  });
  return {
    close: () => {
      unhook?.();
      for (const client of wss.clients) client.terminate();
      wss.close();
    },
  };
}
