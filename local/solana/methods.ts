/**
 * The local Solana JSON-RPC methods (rpc.ts serves them): each answered from the ledger as a cluster answers it.
 * Loaded with the ledger, on the first request.
 */
import { PublicKey, VersionedTransaction } from '@solana/web3.js';
import { AccountLayout, MintLayout } from '@solana/spl-token';
import bs58 from 'bs58';
import { LedgerRpcError } from './errors';
import { isTokenProgram, uiAmount, type LocalLedger, type RecordedTransaction } from './ledger';

const INVALID_PARAMS = -32602;
/** Real nodes answer u64::MAX for a rent-exempt account's rent epoch (as a JSON number, 2^64 once parsed). */
const RENT_EXEMPT_EPOCH = 2 ** 64;

function param<T>(params: readonly unknown[], index: number, name: string, check: (v: unknown) => v is T): T {
  const value = params[index];
  if (!check(value)) throw new LedgerRpcError(INVALID_PARAMS, `Invalid params: ${name}`);
  return value;
}
const isString = (v: unknown): v is string => typeof v === 'string';
const isConfig = (v: unknown): v is Record<string, unknown> | undefined => v === undefined || v === null || (typeof v === 'object' && !Array.isArray(v));

function pubkey(params: readonly unknown[], index: number): PublicKey {
  const text = param(params, index, 'expected a base58 public key', isString);
  try {
    return new PublicKey(text);
  } catch {
    throw new LedgerRpcError(INVALID_PARAMS, `Invalid param: Invalid public key input: ${text}`);
  }
}

/** sendTransaction's and simulateTransaction's params: the encoded transaction's bytes, and the configuration. */
function transactionParams(params: readonly unknown[]): { wire: Buffer; config: Record<string, unknown> } {
  const encoded = param(params, 0, 'expected an encoded transaction', isString);
  const config = param(params, 1, 'expected a configuration object', isConfig) ?? {};
  const encoding = config.encoding ?? 'base58';
  if (encoding !== 'base64' && encoding !== 'base58') throw new LedgerRpcError(INVALID_PARAMS, `Invalid params: unsupported encoding ${String(encoding)}`);
  return { wire: encoding === 'base64' ? Buffer.from(encoded, 'base64') : Buffer.from(bs58.decode(encoded)), config };
}

/** A recorded transaction as getTransaction's `json` encoding gives it. */
function transactionJson(record: RecordedTransaction) {
  const tx = VersionedTransaction.deserialize(Buffer.from(record.wire, 'base64'));
  const message = tx.message;
  return {
    slot: record.slot,
    blockTime: record.blockTime,
    version: message.version === 'legacy' ? 'legacy' : message.version,
    transaction: {
      signatures: tx.signatures.map((s) => bs58.encode(s)),
      message: {
        accountKeys: message.staticAccountKeys.map((k) => k.toBase58()),
        header: message.header,
        recentBlockhash: message.recentBlockhash,
        instructions: message.compiledInstructions.map((ix) => ({ programIdIndex: ix.programIdIndex, accounts: [...ix.accountKeyIndexes], data: bs58.encode(ix.data), stackHeight: null })),
        ...(message.version === 'legacy' ? {} : { addressTableLookups: [] }),
      },
    },
    meta: {
      err: record.err,
      status: record.err === null ? { Ok: null } : { Err: record.err },
      fee: record.fee,
      preBalances: record.preBalances,
      postBalances: record.postBalances,
      preTokenBalances: record.preTokenBalances,
      postTokenBalances: record.postTokenBalances,
      innerInstructions: [],
      logMessages: record.logMessages,
      rewards: [],
      loadedAddresses: { writable: [], readonly: [] },
      computeUnitsConsumed: record.computeUnitsConsumed,
    },
  };
}

export async function call(ledger: LocalLedger, method: string, params: readonly unknown[]): Promise<unknown> {
  const context = async () => ({ slot: await ledger.slot() });
  switch (method) {
    case 'getHealth':
      return 'ok';
    case 'getVersion':
      return { 'solana-core': '1.18.26-smartpay-local', 'feature-set': 0 };
    case 'getGenesisHash':
      return '11111111111111111111111111111111';
    case 'getSlot':
      return ledger.slot();
    case 'getBlockHeight':
      return ledger.blockHeight();
    case 'getLatestBlockhash':
      return { context: await context(), value: await ledger.latestBlockhash() };
    case 'getMinimumBalanceForRentExemption':
      return ledger.minimumBalanceForRentExemption(param(params, 0, 'expected a data length', (v): v is number => Number.isInteger(v) && (v as number) >= 0));
    case 'getBalance': {
      const account = await ledger.account(pubkey(params, 0));
      return { context: await context(), value: Number(account?.lamports ?? 0) };
    }
    case 'getAccountInfo': {
      const config = param(params, 1, 'expected a configuration object', isConfig) ?? {};
      // jsonParsed (getParsedAccountInfo): a node gives the account's data parsed when it knows the program, and
      // as base64 when it does not; the local ledger parses none, so it always gives that fallback.
      const encoding = config.encoding === 'jsonParsed' ? 'base64' : (config.encoding ?? 'base64');
      if (encoding !== 'base64' && encoding !== 'base58') {
        throw new LedgerRpcError(INVALID_PARAMS, `Invalid params: the local ledger encodes accounts as base64, base58 or jsonParsed (as base64), not ${String(encoding)}`);
      }
      const account = await ledger.account(pubkey(params, 0));
      return {
        context: await context(),
        value: account && {
          data: [encoding === 'base64' ? account.data.toString('base64') : bs58.encode(account.data), encoding],
          executable: account.executable,
          lamports: Number(account.lamports),
          owner: account.owner.toBase58(),
          rentEpoch: RENT_EXEMPT_EPOCH,
          space: account.data.length,
        },
      };
    }
    case 'getTokenAccountBalance': {
      const address = pubkey(params, 0);
      const account = await ledger.account(address);
      if (!account || !isTokenProgram(account.owner) || account.data.length < AccountLayout.span) {
        throw new LedgerRpcError(INVALID_PARAMS, 'Invalid param: not a Token account');
      }
      const token = AccountLayout.decode(account.data.subarray(0, AccountLayout.span));
      const mint = await ledger.account(token.mint);
      if (!mint || mint.data.length < MintLayout.span) throw new LedgerRpcError(INVALID_PARAMS, 'Invalid param: the token account\'s mint could not be found');
      return { context: await context(), value: uiAmount(token.amount, MintLayout.decode(mint.data.subarray(0, MintLayout.span)).decimals) };
    }
    case 'requestAirdrop':
      return ledger.airdrop(pubkey(params, 0), param(params, 1, 'expected lamports', (v): v is number => typeof v === 'number'));
    case 'sendTransaction': {
      const { wire, config } = transactionParams(params);
      return ledger.send(wire, { skipPreflight: config.skipPreflight === true });
    }
    case 'simulateTransaction': {
      const { wire, config } = transactionParams(params);
      if (config.replaceRecentBlockhash === true) throw new LedgerRpcError(INVALID_PARAMS, 'Invalid params: the local ledger does not replace blockhashes in simulations');
      const simulated = await ledger.simulate(wire, { sigVerify: config.sigVerify === true });
      return { context: await context(), value: { ...simulated, accounts: null, returnData: null } };
    }
    case 'getSignatureStatuses': {
      const signatures = param(params, 0, 'expected an array of signatures', (v): v is string[] => Array.isArray(v) && v.every(isString));
      if (signatures.length > 256) throw new LedgerRpcError(INVALID_PARAMS, 'Invalid params: too many inputs provided; max 256');
      return {
        context: await context(),
        value: signatures.map((signature) => {
          const record = ledger.transaction(signature);
          if (!record) return null;
          return { slot: record.slot, confirmations: null, err: record.err, status: record.err === null ? { Ok: null } : { Err: record.err }, confirmationStatus: 'finalized' };
        }),
      };
    }
    case 'getSignaturesForAddress': {
      const address = pubkey(params, 0).toBase58();
      const config = param(params, 1, 'expected a configuration object', isConfig) ?? {};
      const limit = config.limit === undefined ? 1000 : Number(config.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new LedgerRpcError(INVALID_PARAMS, 'Invalid params: limit must be 1 to 1000');
      return ledger
        .signaturesFor(address, { limit, before: config.before as string | undefined, until: config.until as string | undefined })
        .map((r) => ({ signature: r.signature, slot: r.slot, err: r.err, memo: r.memo, blockTime: r.blockTime, confirmationStatus: 'finalized' }));
    }
    case 'getTransaction': {
      const signature = param(params, 0, 'expected a signature', isString);
      const config = param(params, 1, 'expected a configuration object', isConfig) ?? {};
      if (config.encoding !== undefined && config.encoding !== 'json') throw new LedgerRpcError(INVALID_PARAMS, `Invalid params: the local ledger gives transactions as json, not ${String(config.encoding)}`);
      const record = ledger.transaction(signature);
      if (!record) return null;
      const json = transactionJson(record);
      if (json.version !== 'legacy' && config.maxSupportedTransactionVersion === undefined) {
        throw new LedgerRpcError(-32015, 'Transaction version (0) is not supported by the requesting client. Please try the request again with the following configuration parameter: "maxSupportedTransactionVersion": 0');
      }
      return json;
    }
    default:
      throw new LedgerRpcError(-32601, `Method not found: ${method} (the local ledger serves ${METHODS.join(', ')})`);
  }
}

export const METHODS = [
  'getLatestBlockhash', 'sendTransaction', 'simulateTransaction', 'getSignatureStatuses', 'getAccountInfo', 'getBalance', 'getTokenAccountBalance',
  'getMinimumBalanceForRentExemption', 'getSignaturesForAddress', 'getTransaction', 'getSlot', 'getBlockHeight', 'getVersion',
  'getHealth', 'getGenesisHash', 'requestAirdrop',
];

