/**
 * A connection to the stage's Solana cluster (web3.js): SOLANA_RPC_URL, or the secret holding it when the
 * provider's URL carries a key, with every call bounded, so a connection that goes quiet fails the call (its
 * caller retries, or leaves the outcome unknown) instead of holding the function. Rewards mint through it;
 * payments verify Solana Pay transfers through it. web3.js is loaded at the first connection (a card payment's
 * function never loads it).
 */
import type { Connection } from '@solana/web3.js';

export async function clusterConnection(
  solana: { readonly rpcUrl: string; readonly rpcUrlSecretArn?: string },
  secret: (arn: string) => Promise<string>,
  timeoutMs: number,
): Promise<Connection> {
  const { Connection } = await import('@solana/web3.js');
  const url = solana.rpcUrlSecretArn ? (await secret(solana.rpcUrlSecretArn)).trim() : solana.rpcUrl;
  const fetchWithTimeout = (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => fetch(input, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  return new Connection(url, { commitment: 'confirmed', fetch: fetchWithTimeout as never });
}
