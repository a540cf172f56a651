/**
 * The relay's policy (lambdas/rewards/relay.ts): what the treasury co-signs as fee payer, read from real
 * transactions built with web3.js and spl-token, and the relay's answers to what the cluster says (simulation,
 * send, status) over a fake cluster. The same paths run on the local ledger in test/e2e/reward-relay.test.ts.
 */
import {
  ComputeBudgetProgram,
  Keypair,
  Message,
  PublicKey,
  Transaction,
  TransactionInstruction,
  TransactionMessage,
  VersionedTransaction,
  type Signer,
} from '@solana/web3.js';
import {
  createCloseAccountInstruction,
  createTransferCheckedInstruction,
  createTransferInstruction,
  getAssociatedTokenAddressSync,
  TOKEN_2022_PROGRAM_ID,
} from '@solana/spl-token';
import bs58 from 'bs58';
import { RelayBudgetExhaustedError, TransientError, ValidationError } from '../../contracts/errors';
import { MintRefusedError, type SignatureState } from '../../lambdas/rewards/mint';
import { readRelayTransaction, relayTransaction, type RelayDeps, type RelayPolicy, type Simulation } from '../../lambdas/rewards/relay';

const treasury = Keypair.generate();
const authority = Keypair.generate();
const customer = Keypair.generate();
const friend = Keypair.generate();
const mint = Keypair.generate().publicKey;
const MEMO = new PublicKey('MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr');
const BLOCKHASH = Keypair.generate().publicKey.toBase58();
const policy: RelayPolicy = {
  treasury: treasury.publicKey,
  mint,
  decimals: 6,
  programId: new PublicKey('TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA'),
  guarded: [
    { key: getAssociatedTokenAddressSync(mint, treasury.publicKey), what: "the treasury's token account" },
    { key: authority.publicKey, what: 'the mint authority' },
  ],
};
const ata = (owner: PublicKey) => getAssociatedTokenAddressSync(mint, owner);
const transfer = (tokens = 1n, decimals = 6) => createTransferCheckedInstruction(ata(customer.publicKey), mint, ata(friend.publicKey), customer.publicKey, tokens, decimals);
const memo = (text: string | Buffer) => new TransactionInstruction({ programId: MEMO, keys: [], data: Buffer.isBuffer(text) ? text : Buffer.from(text) });

function wire(instructions: TransactionInstruction[], signers: Signer[] = [customer]): Buffer {
  const tx = new Transaction({ feePayer: treasury.publicKey, recentBlockhash: BLOCKHASH }).add(...instructions);
  if (signers.length) tx.partialSign(...signers);
  return tx.serialize({ requireAllSignatures: false, verifySignatures: false });
}

/** The 400's problem for `transaction`, or a failure when it was accepted. */
function refusal(bytes: Uint8Array): string {
  try {
    readRelayTransaction(bytes, policy);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    const issues = (error as ValidationError).issues;
    expect(issues.map((i) => i.field)).toEqual(['transaction']);
    return issues[0].problem;
  }
  throw new Error('the transaction was accepted');
}

describe('what the treasury co-signs', () => {
  test('a transfer of the reward token with a memo and a compute-unit limit is read, with its signature count', () => {
    const reading = readRelayTransaction(wire([ComputeBudgetProgram.setComputeUnitLimit({ units: 20_000 }), transfer(), memo('hi')]), policy);
    expect(reading.instructions).toEqual(['setComputeUnitLimit', 'transferChecked', 'memo']);
    expect(reading.signatures).toBe(2);
  });

  test.each<[string, () => Uint8Array, RegExp]>([
    ['garbage', () => Buffer.from('not a transaction at all'), /is not a Solana transaction/],
    ['bytes after its end', () => Buffer.concat([wire([transfer()]), Buffer.alloc(8)]), /8 bytes after the transaction's end/],
    ['no instructions', () => new VersionedTransaction(new TransactionMessage({ payerKey: treasury.publicKey, recentBlockhash: BLOCKHASH, instructions: [] }).compileToLegacyMessage()).serialize(), /has no instructions/],
    ['five instructions', () => wire([transfer(), transfer(), transfer(), transfer(), transfer()]), /5 instructions; at most 4/],
    ['four signers', () => wire([transfer(), memo('x'), new TransactionInstruction({ programId: MEMO, keys: [Keypair.generate(), Keypair.generate()].map((k) => ({ pubkey: k.publicKey, isSigner: true, isWritable: false })), data: Buffer.from('y') })], []), /needs 4 signatures; at most 3/],
    ['an unchecked transfer (it names no mint)', () => wire([createTransferInstruction(ata(customer.publicKey), ata(friend.publicKey), customer.publicKey, 1n)]), /token instruction Transfer is not relayed/],
    ['closing an account (its rent goes anywhere)', () => wire([createCloseAccountInstruction(ata(customer.publicKey), customer.publicKey, customer.publicKey)]), /token instruction CloseAccount is not relayed/],
    ['other decimals', () => wire([transfer(1n, 9)]), /with 9 decimals; the reward token has 6/],
    ['the other token program', () => wire([createTransferCheckedInstruction(ata(customer.publicKey), mint, ata(friend.publicKey), customer.publicKey, 1n, 6, [], TOKEN_2022_PROGRAM_ID)]), /is not the reward token's/],
    ['two memos', () => wire([memo('a'), memo('b')], []), /a second memo/],
    ['a long memo', () => wire([memo('x'.repeat(257))], []), /a memo of 257 bytes; at most 256/],
    ['a memo that is not UTF-8', () => wire([memo(Buffer.from([0xff, 0xfe]))], []), /not UTF-8/],
    ['a compute-unit limit over the cap', () => wire([ComputeBudgetProgram.setComputeUnitLimit({ units: 1_400_000 }), transfer()]), /limit of 1400000; at most 60000/],
    ['a heap request', () => wire([ComputeBudgetProgram.requestHeapFrame({ bytes: 64 * 1024 }), transfer()]), /RequestHeapFrame is not relayed/],
  ])('refuses %s', (_name, build, reason) => {
    expect(refusal(build())).toMatch(reason);
  });

  /** The legacy wire of `build`'s message, with `edit` applied to the message bytes (after the signatures). */
  function edited(edit: (message: Buffer) => void, instructions = [memo('x')]): Buffer {
    const bytes = Buffer.from(wire(instructions, []));
    const signatures = bytes[0];
    edit(bytes.subarray(1 + 64 * signatures));
    return bytes;
  }

  /** A legacy message written by hand: the treasury and the memo program, one memo instruction. */
  function raw(header = { numRequiredSignatures: 1, numReadonlySignedAccounts: 0, numReadonlyUnsignedAccounts: 1 }, account = 0, programIdIndex = 1): Uint8Array {
    const message = new Message({ header, accountKeys: [treasury.publicKey, MEMO], recentBlockhash: BLOCKHASH, instructions: [{ programIdIndex, accounts: [account], data: bs58.encode(Buffer.from('x')) }] });
    return new VersionedTransaction(message).serialize();
  }

  test.each<[string, () => Uint8Array, RegExp]>([
    // A v1 message carries its own settings, a priority fee among them (paid by the fee payer).
    [
      'a version 1 transaction',
      () => {
        // Written by hand (web3.js reads v1 messages but cannot write them): a priority fee of 1 SOL and one memo.
        const fee = Buffer.alloc(8);
        fee.writeBigUInt64LE(1_000_000_000n);
        const message = Buffer.concat([
          Buffer.from([0x81, 1, 0, 1]), // version 1; the header
          Buffer.from([0b11, 0, 0, 0]), // the config mask: the priority fee's two bits
          new PublicKey(BLOCKHASH).toBuffer(),
          Buffer.from([1, 2]), // one instruction, two accounts
          treasury.publicKey.toBuffer(),
          MEMO.toBuffer(),
          fee,
          Buffer.from([1, 0, 1, 0]), // the instruction: program #1, no accounts, 1 byte of data
          Buffer.from('x'),
        ]);
        expect(VersionedTransaction.deserialize(Buffer.concat([Buffer.from([1]), Buffer.alloc(64), message])).message.version).toBe(1);
        return Buffer.concat([Buffer.from([1]), Buffer.alloc(64), message]);
      },
      /is a version 1 transaction; only legacy and v0 are relayed/,
    ],
    ['no signature required (the fee payer not a signer)', () => raw({ numRequiredSignatures: 0, numReadonlySignedAccounts: 0, numReadonlyUnsignedAccounts: 1 }), /fee payer a writable signer/],
    ['the fee payer read-only', () => edited((m) => (m[1] = 1)), /fee payer a writable signer/],
    ['an account index past the list', () => raw(undefined, 250), /instruction 1 names account #250; the transaction lists 2/],
    ['a program index past the list', () => raw(undefined, 0, 7), /names account #7/],
    ['a compute-unit limit without its units', () => wire([new TransactionInstruction({ programId: ComputeBudgetProgram.programId, keys: [], data: Buffer.from([2]) })], []), /malformed compute-unit limit|well-formed/],
  ])('refuses %s with a 400, never a crash', (_name, build, reason) => {
    expect(refusal(build())).toMatch(reason);
  });

  test('refuses an account listed twice', () => {
    // Two keys made equal after compiling: the second signer-less account becomes the first's twin.
    const other = Keypair.generate().publicKey;
    const bytes = edited(() => undefined, [new TransactionInstruction({ programId: MEMO, keys: [{ pubkey: other, isSigner: false, isWritable: false }], data: Buffer.from('x') })]);
    const at = bytes.indexOf(other.toBuffer());
    MEMO.toBuffer().copy(bytes, at);
    expect(refusal(bytes)).toMatch(/lists an account twice/);
  });

  test('refuses a signature that does not verify, naming the signer', () => {
    const bytes = wire([transfer()]);
    // The customer's signature is the second (after the treasury's empty one): flip one of its bits.
    bytes[1 + 64 + 3] ^= 1;
    expect(refusal(bytes)).toMatch(new RegExp(`signature of ${customer.publicKey.toBase58()} does not verify`));
  });

  test('refuses address lookup tables (they would hide accounts from the reading)', () => {
    const message = new TransactionMessage({ payerKey: treasury.publicKey, recentBlockhash: BLOCKHASH, instructions: [transfer()] }).compileToV0Message();
    const withLookup = { ...message, addressTableLookups: [{ accountKey: Keypair.generate().publicKey, writableIndexes: [0], readonlyIndexes: [] }] };
    const tx = new VersionedTransaction(Object.assign(Object.create(Object.getPrototypeOf(message)), withLookup));
    expect(refusal(tx.serialize())).toMatch(/address lookup tables/);
  });

  test('a v0 transaction without lookup tables reads as the legacy one', () => {
    const message = new TransactionMessage({ payerKey: treasury.publicKey, recentBlockhash: BLOCKHASH, instructions: [transfer()] }).compileToV0Message();
    const tx = new VersionedTransaction(message);
    tx.sign([customer]);
    expect(readRelayTransaction(tx.serialize(), policy).instructions).toEqual(['transferChecked']);
  });
});

describe('relaying over the cluster', () => {
  class FakeCluster {
    simulation: Simulation = { err: null, logs: [], unitsConsumed: 6_000 };
    simulateError?: Error;
    sendError?: Error;
    statuses: SignatureState[] = [{ state: 'finalized' }];
    budget = 5;
    readonly sent: Buffer[] = [];
    deps(): RelayDeps {
      return {
        policy,
        treasury,
        confirmTimeoutMs: 0,
        pollMs: 1,
        takeBudget: async () => this.budget-- > 0,
        simulate: async () => {
          if (this.simulateError) throw this.simulateError;
          return this.simulation;
        },
        chain: {
          send: async (bytes) => {
            if (this.sendError) throw this.sendError;
            this.sent.push(bytes);
          },
          status: async () => this.statuses.shift() ?? { state: 'unknown' },
        },
      };
    }
  }

  test('signs as the treasury, sends once, and answers the signature, the fee and the units', async () => {
    const cluster = new FakeCluster();
    const outcome = await relayTransaction(wire([transfer()]), cluster.deps());
    expect(outcome).toMatchObject({ state: 'finalized', feeLamports: 10_000, unitsConsumed: 6_000, instructions: ['transferChecked'] });
    expect(cluster.sent).toHaveLength(1);
    const sent = VersionedTransaction.deserialize(cluster.sent[0]);
    expect(sent.message.staticAccountKeys[0].equals(treasury.publicKey)).toBe(true);
    expect(outcome.signature).toBe(bs58.encode(sent.signatures[0]));
  });

  test('relayed before: nothing is sent again, and the answer is its state', async () => {
    const cluster = new FakeCluster();
    cluster.simulation = { err: 'AlreadyProcessed', logs: [], unitsConsumed: 0 };
    expect((await relayTransaction(wire([transfer()]), cluster.deps())).state).toBe('finalized');
    expect(cluster.sent).toHaveLength(0);
  });

  test('past the merchant\'s daily budget: a 429 and nothing sent; refusals and replays take none of it', async () => {
    const cluster = new FakeCluster();
    cluster.budget = 1;
    cluster.simulation = { err: 'AlreadyProcessed', logs: [], unitsConsumed: 0 };
    await relayTransaction(wire([transfer(1n)]), cluster.deps());
    cluster.simulation = { err: { InstructionError: [0, { Custom: 1 }] }, logs: [], unitsConsumed: 0 };
    await expect(relayTransaction(wire([transfer(2n)]), cluster.deps())).rejects.toThrow(ValidationError);
    cluster.simulation = { err: null, logs: [], unitsConsumed: 6_000 };
    await relayTransaction(wire([transfer(3n)]), cluster.deps());
    expect(cluster.sent).toHaveLength(1);
    const error = await relayTransaction(wire([transfer(4n)]), cluster.deps()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RelayBudgetExhaustedError);
    expect((error as RelayBudgetExhaustedError).status).toBe(429);
    expect(cluster.sent).toHaveLength(1);
  });

  test('not final within the wait: pending', async () => {
    const cluster = new FakeCluster();
    cluster.statuses = [];
    expect((await relayTransaction(wire([transfer()]), cluster.deps())).state).toBe('pending');
  });

  test.each<[string, (c: FakeCluster) => void, RegExp]>([
    ['over the compute cap', (c) => (c.simulation = { err: null, logs: [], unitsConsumed: 60_001 }), /uses 60001 compute units; at most 60000/],
    ['a header the cluster refuses to simulate', (c) => (c.simulation = { err: 'SanitizeFailure', logs: [], unitsConsumed: 0 }), /would fail on chain: "SanitizeFailure"/],
    ['an expired blockhash in the simulation', (c) => (c.simulation = { err: 'BlockhashNotFound', logs: [], unitsConsumed: 0 }), /blockhash is unknown or expired/],
    ['an expired blockhash at the send', (c) => (c.sendError = new MintRefusedError('Blockhash not found', true)), /blockhash is unknown or expired/],
    [
      'a program error, with its own words',
      (c) => (c.simulation = { err: { InstructionError: [0, { Custom: 1 }] }, logs: ['Program log: Instruction: TransferChecked', 'Program log: Error: insufficient funds'], unitsConsumed: 4_000 }),
      /would fail on chain: .*Custom.*insufficient funds/,
    ],
    ['a failure on chain after the send', (c) => (c.statuses = [{ state: 'failed', error: '{"InstructionError":[0,{"Custom":1}]}' }]), /failed on chain/],
  ])('refuses with a 400 %s', async (_name, arrange, reason) => {
    const cluster = new FakeCluster();
    arrange(cluster);
    const error = await relayTransaction(wire([transfer()]), cluster.deps()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).message).toMatch(reason);
  });

  test.each<[string, (c: FakeCluster) => void]>([
    ['the simulation does not answer', (c) => (c.simulateError = new Error('fetch failed https://rpc.example.com/?api-key=s3cret'))],
    ['the send is not taken', (c) => (c.sendError = new Error('fetch failed https://rpc.example.com/?api-key=s3cret'))],
    ['the simulation does not say what it uses', (c) => (c.simulation = { err: null, logs: [], unitsConsumed: undefined })],
  ])('a 503 to send again when %s, without the RPC\'s words', async (_name, arrange) => {
    const cluster = new FakeCluster();
    arrange(cluster);
    const error = await relayTransaction(wire([transfer()]), cluster.deps()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientError);
    expect((error as Error).message).toMatch(/send the same transaction again/);
    expect(cluster.sent).toHaveLength(0);
    expect((error as Error).message).not.toMatch(/s3cret|example\.com/);
  });
});
