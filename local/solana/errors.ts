/** A refusal the local Solana RPC answers as a JSON-RPC error (a cluster's codes). Light: loaded before the ledger is. */
export class LedgerRpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
    this.name = 'LedgerRpcError';
  }
}
