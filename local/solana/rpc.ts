/**
 * The local Solana JSON-RPC endpoint: the methods SmartPay's code calls through web3.js's `Connection`, served
 * on loopback from the local ledger (ledger.ts), as the local PutEvents endpoint serves EventBridge's. Code that
 * talks to a cluster by `SOLANA_RPC_URL` talks to this the same way.
 *
 * Methods: getLatestBlockhash, sendTransaction, getSignatureStatuses, getAccountInfo, getBalance,
 * getTokenAccountBalance, getMinimumBalanceForRentExemption, getSignaturesForAddress, getTransaction,
 * getSlot, getBlockHeight, getVersion, getHealth, getGenesisHash, and requestAirdrop (from the bank's faucet, as
 * a local cluster's). Single calls and batches (JSON-RPC 2.0);
 * every commitment answers from the one bank (a processed transaction is final at once). No websocket
 * subscriptions: confirm by polling getSignatureStatuses.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
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
export async function startLocalSolanaRpc(ledger: LocalLedger | (() => Promise<LocalLedger>), options: { host?: string; port?: number } = {}): Promise<LocalSolanaRpc> {
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
      const work = Array.isArray(body) ? Promise.all(body.map((r) => answer(ledgerOf, r as RpcRequest))) : answer(ledgerOf, body as RpcRequest);
      work.then(
        (result) => reply(200, result),
        (error: unknown) => reply(500, { jsonrpc: '2.0', id: null, error: { code: -32603, message: String(error) } }),
      );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE'
          ? new Error(`the local Solana RPC's port ${options.port} on ${host} is already in use (a solana-test-validator?); stop it or pick another (--solana-port <n>, 0 for any)`)
          : error,
      ),
    );
    server.listen(options.port ?? 0, host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
