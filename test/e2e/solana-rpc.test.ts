/**
 * The local Solana JSON-RPC endpoint (local/solana/rpc.ts) against web3.js and spl-token themselves: every
 * method it serves, through `Connection`, on the bankrun ledger (the real SPL Token, ATA and Memo programs), and
 * the ledger across a restart from its directory.
 */
import { appendFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Connection,
  Keypair,
  LAMPORTS_PER_SOL,
  PublicKey,
  SendTransactionError,
  SystemProgram,
  Transaction,
  TransactionInstruction,
  VersionedTransaction,
  type Signer,
} from '@solana/web3.js';
import {
  createAssociatedTokenAccountIdempotentInstruction,
  createInitializeMint2Instruction,
  createMint,
  getOrCreateAssociatedTokenAccount,
  mintTo,
  createMintToCheckedInstruction,
  getAccount,
  getAssociatedTokenAddressSync,
  getMinimumBalanceForRentExemptMint,
  getMint,
  MINT_SIZE,
  TOKEN_PROGRAM_ID,
} from '@solana/spl-token';
import bs58 from 'bs58';
import { BLOCKHASH_VALID_BLOCKS, LocalLedger, MEMO_PROGRAM_ID } from '../../local/solana/ledger';
import { startLocalSolanaRpc, type LocalSolanaRpc } from '../../local/solana/rpc';
import { startPlatform } from './client';

const dir = mkdtempSync(join(tmpdir(), 'smartpay-ledger-'));
let ledger: LocalLedger;
let rpc: LocalSolanaRpc;
let connection: Connection;

async function open(): Promise<void> {
  ledger = await LocalLedger.start({ dir, slotMs: 0 });
  rpc = await startLocalSolanaRpc(ledger);
  connection = new Connection(rpc.url, 'confirmed');
}
async function shut(): Promise<void> {
  await rpc.close();
  ledger.close();
}
beforeAll(open);
afterAll(shut);

const treasury = Keypair.generate();
const mint = Keypair.generate();
const wallet = Keypair.generate().publicKey;
const ata = getAssociatedTokenAddressSync(mint.publicKey, wallet);
const memo = (text: string) => new TransactionInstruction({ programId: MEMO_PROGRAM_ID, keys: [], data: Buffer.from(text) });

/** Signs with a fresh blockhash, sends, and reads the status back (no websocket: polling, as our code confirms). */
async function build(instructions: TransactionInstruction[], signers: Signer[], blockhash?: string): Promise<Transaction> {
  const tx = new Transaction({ feePayer: treasury.publicKey, recentBlockhash: blockhash ?? (await connection.getLatestBlockhash()).blockhash }).add(...instructions);
  tx.sign(...signers);
  return tx;
}
async function send(instructions: TransactionInstruction[], signers: Signer[] = [treasury]): Promise<string> {
  const signature = await connection.sendRawTransaction((await build(instructions, signers)).serialize());
  const { value } = await connection.getSignatureStatuses([signature]);
  expect(value[0]).toMatchObject({ err: null, confirmationStatus: 'finalized' });
  return signature;
}

let mintSignature: string;

test('a mint, an ATA and mintToChecked with a memo, through web3.js and spl-token', async () => {
  const airdrop = await connection.requestAirdrop(treasury.publicKey, 10 * LAMPORTS_PER_SOL);
  expect((await connection.getSignatureStatuses([airdrop])).value[0]).toMatchObject({ err: null, confirmationStatus: 'finalized' });
  expect(await connection.getBalance(treasury.publicKey)).toBe(10 * LAMPORTS_PER_SOL);
  const rent = await getMinimumBalanceForRentExemptMint(connection);
  expect(rent).toBeGreaterThan(1_000_000);
  await send(
    [
      SystemProgram.createAccount({ fromPubkey: treasury.publicKey, newAccountPubkey: mint.publicKey, lamports: rent, space: MINT_SIZE, programId: TOKEN_PROGRAM_ID }),
      createInitializeMint2Instruction(mint.publicKey, 6, treasury.publicKey, null),
    ],
    [treasury, mint],
  );
  const info = await getMint(connection, mint.publicKey);
  expect(info.decimals).toBe(6);
  expect(info.mintAuthority?.equals(treasury.publicKey)).toBe(true);

  const before = await connection.getBalance(treasury.publicKey);
  mintSignature = await send([
    createAssociatedTokenAccountIdempotentInstruction(treasury.publicKey, ata, wallet, mint.publicKey),
    createMintToCheckedInstruction(mint.publicKey, ata, treasury.publicKey, 5_000_000n, 6),
    memo('pay_123'),
  ]);
  expect((await getAccount(connection, ata)).amount).toBe(5_000_000n);
  expect((await connection.getTokenAccountBalance(ata)).value).toEqual({ amount: '5000000', decimals: 6, uiAmount: 5, uiAmountString: '5' });
  await expect(connection.getTokenAccountBalance(treasury.publicKey)).rejects.toThrow(/not a Token account/);

  const signatures = await connection.getSignaturesForAddress(ata);
  expect(signatures).toEqual([expect.objectContaining({ signature: mintSignature, err: null, memo: '[7] pay_123', confirmationStatus: 'finalized' })]);
  const tx = await connection.getTransaction(mintSignature, { maxSupportedTransactionVersion: 0 });
  expect(tx?.meta?.err).toBeNull();
  expect(tx?.meta?.fee).toBe(5_000);
  const keys = tx!.transaction.message.staticAccountKeys.map((k) => k.toBase58());
  const ataIndex = keys.indexOf(ata.toBase58());
  expect(tx?.meta?.preTokenBalances).toEqual([]);
  expect(tx?.meta?.postTokenBalances).toEqual([
    { accountIndex: ataIndex, mint: mint.publicKey.toBase58(), owner: wallet.toBase58(), programId: TOKEN_PROGRAM_ID.toBase58(), uiTokenAmount: { amount: '5000000', decimals: 6, uiAmount: 5, uiAmountString: '5' } },
  ]);
  // The treasury paid the fee and the ATA's rent: the balances before and after say so.
  const ataRent = tx!.meta!.postBalances[ataIndex];
  expect(tx!.meta!.preBalances[0] - tx!.meta!.postBalances[0]).toBe(5_000 + ataRent);
  expect(await connection.getBalance(treasury.publicKey)).toBe(before - 5_000 - ataRent);
  expect(tx?.meta?.logMessages).toContain('Program log: Memo (len 7): "pay_123"');
});

test('preflight refuses what would fail, naming it; without it a failure is recorded with its fee, and an unknown blockhash is dropped', async () => {
  const to = Keypair.generate().publicKey;
  const tooMuch = SystemProgram.transfer({ fromPubkey: treasury.publicKey, toPubkey: to, lamports: 100 * LAMPORTS_PER_SOL });
  const refused = await connection.sendRawTransaction((await build([tooMuch], [treasury])).serialize()).catch((e: unknown) => e);
  expect(refused).toBeInstanceOf(SendTransactionError);
  expect((refused as SendTransactionError).message).toMatch(/Transaction simulation failed/);
  expect((refused as SendTransactionError).logs?.join('\n')).toMatch(/insufficient lamports/);

  const balance = await connection.getBalance(treasury.publicKey);
  const failed = await connection.sendRawTransaction((await build([tooMuch], [treasury])).serialize(), { skipPreflight: true });
  expect((await connection.getSignatureStatuses([failed])).value[0]).toMatchObject({ err: { InstructionError: [0, { Custom: 1 }] }, confirmationStatus: 'finalized' });
  expect(await connection.getBalance(treasury.publicKey)).toBe(balance - 5_000);

  // An unknown blockhash: refused by preflight; without it, dropped (its status never appears).
  const stale = await build([SystemProgram.transfer({ fromPubkey: treasury.publicKey, toPubkey: to, lamports: 1 })], [treasury], '11111111111111111111111111111111');
  await expect(connection.sendRawTransaction(stale.serialize())).rejects.toThrow(/Blockhash not found/);
  const dropped = await connection.sendRawTransaction(stale.serialize(), { skipPreflight: true });
  expect((await connection.getSignatureStatuses([dropped], { searchTransactionHistory: true })).value[0]).toBeNull();

  // A blockhash expires as the slots go by: valid up to 150 blocks after it was handed out, not after.
  const { blockhash, lastValidBlockHeight } = await connection.getLatestBlockhash();
  expect(lastValidBlockHeight).toBe((await connection.getBlockHeight()) + BLOCKHASH_VALID_BLOCKS);
  const transfer = (lamports: number) => build([SystemProgram.transfer({ fromPubkey: treasury.publicKey, toPubkey: to, lamports })], [treasury], blockhash);
  ledger.advance(BLOCKHASH_VALID_BLOCKS);
  expect(await connection.getBlockHeight()).toBe(lastValidBlockHeight);
  const lastChance = await connection.sendRawTransaction((await transfer(1_000_000)).serialize());
  ledger.advance(1);
  await expect(connection.sendRawTransaction((await transfer(1_000_001)).serialize())).rejects.toThrow(/Blockhash not found/);
  expect((await connection.getSignatureStatuses([lastChance])).value[0]).toMatchObject({ err: null });

  // A resend of a processed transaction: refused by preflight as processed, else answered with its signature, once.
  const once = await build([SystemProgram.transfer({ fromPubkey: treasury.publicKey, toPubkey: to, lamports: 2_000_000 })], [treasury]);
  const first = await connection.sendRawTransaction(once.serialize());
  await expect(connection.sendRawTransaction(once.serialize())).rejects.toThrow(/already been processed/);
  expect(await connection.sendRawTransaction(once.serialize(), { skipPreflight: true })).toBe(first);
  expect(await connection.getBalance(to)).toBe(3_000_000);
  expect((await connection.getSignaturesForAddress(to)).map((s) => s.signature)).toEqual([first, lastChance, failed]);
});

test('simulateTransaction answers the error, logs and compute units and changes nothing; a signature that does not verify is refused, preflight or not', async () => {
  const to = Keypair.generate().publicKey;
  const balance = await connection.getBalance(treasury.publicKey);
  const tx = await build([SystemProgram.transfer({ fromPubkey: treasury.publicKey, toPubkey: to, lamports: 1_000_000 }), memo('simulated')], [treasury]);
  const versioned = VersionedTransaction.deserialize(tx.serialize());
  const { value } = await connection.simulateTransaction(versioned, { sigVerify: true });
  expect(value.err).toBeNull();
  expect(value.unitsConsumed).toBeGreaterThan(0);
  expect(value.logs).toContain('Program log: Memo (len 9): "simulated"');
  expect(await connection.getBalance(to)).toBe(0);
  expect(await connection.getBalance(treasury.publicKey)).toBe(balance);
  const tooMuch = await build([SystemProgram.transfer({ fromPubkey: treasury.publicKey, toPubkey: to, lamports: 100 * LAMPORTS_PER_SOL })], [treasury]);
  expect((await connection.simulateTransaction(VersionedTransaction.deserialize(tooMuch.serialize()))).value.err).toEqual({ InstructionError: [0, { Custom: 1 }] });

  // One bit of the signature flipped.
  const forged = tx.serialize();
  forged[1 + 10] ^= 1;
  expect((await connection.simulateTransaction(VersionedTransaction.deserialize(forged), { sigVerify: true })).value.err).toBe('SignatureFailure');
  await expect(connection.sendRawTransaction(forged)).rejects.toThrow(/signature verification failure/);
  await expect(connection.sendRawTransaction(forged, { skipPreflight: true })).rejects.toThrow(/signature verification failure/);
  expect(await connection.getBalance(to)).toBe(0);
  // Sent, it is processed once; simulated again, it is AlreadyProcessed.
  await connection.sendRawTransaction(tx.serialize());
  expect(await connection.getBalance(to)).toBe(1_000_000);
  expect((await connection.simulateTransaction(versioned)).value.err).toBe('AlreadyProcessed');
});

test('spl-token\'s own helpers work against it: sendAndConfirmTransaction confirms through the websocket\'s signatureSubscribe', async () => {
  const payer = Keypair.generate();
  await connection.confirmTransaction({ signature: await connection.requestAirdrop(payer.publicKey, LAMPORTS_PER_SOL), ...(await connection.getLatestBlockhash()) });
  const started = Date.now();
  const helperMint = await createMint(connection, payer, payer.publicKey, null, 2);
  const account = await getOrCreateAssociatedTokenAccount(connection, payer, helperMint, wallet);
  await mintTo(connection, payer, helperMint, account.address, payer, 12_345n);
  expect((await getAccount(connection, account.address)).amount).toBe(12_345n);
  expect(Date.now() - started).toBeLessThan(10_000); // confirmed by notification, not by waiting out the blockhash
});

test('hundreds of transactions, eight at a time, each on the newest blockhash: none is refused', async () => {
  // bankrun makes a blockhash per transaction and keeps ~300; handing out one blockhash for many slots under load
  // had the 89th transaction refused as "Blockhash not found".
  const to = Keypair.generate().publicKey;
  const before = await connection.getBalance(to);
  let sent = 0;
  for (let round = 0; round < 30; round += 1) {
    // Each its own amount: the same transfer on the same blockhash would be the same transaction (applied once).
    await Promise.all(Array.from({ length: 8 }, (_, i) => send([SystemProgram.transfer({ fromPubkey: treasury.publicKey, toPubkey: to, lamports: 1_000_000 + round * 8 + i })])));
    sent += 8 * 1_000_000 + round * 64 + 28;
  }
  expect((await connection.getBalance(to)) - before).toBe(sent);
}, 60_000);

test('a blockhash bankrun forgot (held unused for a couple of seconds) is refused, and expired by height at once', async () => {
  await connection.requestAirdrop(treasury.publicKey, LAMPORTS_PER_SOL);
  const { blockhash, lastValidBlockHeight } = await connection.getLatestBlockhash();
  const held = await build([SystemProgram.transfer({ fromPubkey: treasury.publicKey, toPubkey: Keypair.generate().publicKey, lamports: 1_234_567 })], [treasury], blockhash);
  expect(await connection.getBlockHeight()).toBeLessThanOrEqual(lastValidBlockHeight);
  await new Promise((resolve) => setTimeout(resolve, 2_500));
  await expect(connection.sendRawTransaction(held.serialize())).rejects.toThrow(/Blockhash not found/);
  // Its holder can tell it can never land, and builds a new one.
  expect(await connection.getBlockHeight()).toBeGreaterThan(lastValidBlockHeight);
  await expect(connection.sendRawTransaction(held.serialize(), { skipPreflight: true })).resolves.toEqual(expect.any(String));
  expect((await connection.getSignatureStatuses([bs58.encode(held.signature!)])).value[0]).toBeNull();
});

test('fault testing: a dropped send is answered with its signature and never lands; a lost answer is a 502 after it landed', async () => {
  await connection.requestAirdrop(treasury.publicKey, LAMPORTS_PER_SOL);
  // 30% dropped, 30% answers lost, 40% landed: over 40 sends each outcome comes up (none missing: under 1e-5).
  const faulty = await startLocalSolanaRpc(ledger, { faultRate: 0.3 });
  try {
    const through = new Connection(faulty.url, 'confirmed');
    const to = Keypair.generate().publicKey;
    const outcomes = { landed: 0, dropped: 0, lost: 0 };
    let applied = 0;
    for (let i = 0; i < 40; i += 1) {
      const tx = await build([SystemProgram.transfer({ fromPubkey: treasury.publicKey, toPubkey: to, lamports: 1_000_000 + i })], [treasury]);
      const signature = bs58.encode(tx.signature!);
      const answered = await through.sendRawTransaction(tx.serialize()).then(
        (s) => s,
        (error: unknown) => {
          // A refusal would name its reason; a lost answer is the proxy's 502.
          expect(String(error)).toMatch(/502/);
          return undefined;
        },
      );
      const status = (await connection.getSignatureStatuses([signature])).value[0];
      if (answered === undefined) {
        // The answer was lost: the transaction is on the ledger all the same.
        expect(status).toMatchObject({ err: null });
        outcomes.lost += 1;
        applied += 1_000_000 + i;
      } else {
        expect(answered).toBe(signature);
        if (status === null) outcomes.dropped += 1;
        else {
          outcomes.landed += 1;
          applied += 1_000_000 + i;
        }
      }
    }
    expect(outcomes.dropped).toBeGreaterThan(0);
    expect(outcomes.lost).toBeGreaterThan(0);
    expect(outcomes.landed).toBeGreaterThan(0);
    // Only what landed moved money: a dropped transaction never did.
    expect(await connection.getBalance(to)).toBe(applied);
  } finally {
    await faulty.close();
  }
});

test('the ledger survives a restart: balances, statuses, transactions and the slot carry on, past every blockhash handed out', async () => {
  const slot = await connection.getSlot();
  // A blockhash handed out before the restart, never used: the new bank does not know it, so it must be expired
  // by height after the restart (its holder rebuilds instead of waiting a minute on a refusal).
  const { lastValidBlockHeight } = await connection.getLatestBlockhash();
  await shut();
  // A crash cut the journal's last line short: that line was never answered, and is skipped.
  appendFileSync(join(dir, 'ledger.jsonl'), '{"tx":{"signature":"5cut');
  await open();
  expect(await connection.getSlot()).toBeGreaterThan(slot);
  expect(await connection.getBlockHeight()).toBeGreaterThan(lastValidBlockHeight);
  expect((await connection.getTokenAccountBalance(ata)).value.amount).toBe('5000000');
  expect((await connection.getSignatureStatuses([mintSignature])).value[0]).toMatchObject({ err: null, confirmationStatus: 'finalized' });
  expect((await connection.getTransaction(mintSignature, { maxSupportedTransactionVersion: 0 }))?.meta?.logMessages).toContain('Program log: Memo (len 7): "pay_123"');
  // The mint and its authority work on: 2 more tokens.
  await send([createMintToCheckedInstruction(mint.publicKey, ata, treasury.publicKey, 2_000_000n, 6), memo('pay_456')]);
  expect((await getAccount(connection, ata)).amount).toBe(7_000_000n);
  expect((await connection.getSignaturesForAddress(ata, { limit: 1 }))[0].memo).toBe('[7] pay_456');
});

test('the local platform serves it: npm start\'s ledger answers web3.js', async () => {
  const platform = await startPlatform();
  try {
    const local = new Connection(platform.solana.url, 'confirmed');
    const payer = Keypair.generate();
    await local.requestAirdrop(payer.publicKey, LAMPORTS_PER_SOL);
    expect(await local.getBalance(payer.publicKey)).toBe(LAMPORTS_PER_SOL);
    expect(await local.getBlockHeight()).toBeGreaterThan(0);
  } finally {
    await platform.close(1000);
  }
});

test('JSON-RPC as a node answers it: batches, unknown methods and bad params', async () => {
  const post = async (body: unknown) => (await fetch(rpc.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).json();
  expect(await post([{ jsonrpc: '2.0', id: 1, method: 'getHealth' }, { jsonrpc: '2.0', id: 2, method: 'getAccountInfo', params: [PublicKey.default.toBase58()] }])).toEqual([
    { jsonrpc: '2.0', id: 1, result: 'ok' },
    { jsonrpc: '2.0', id: 2, result: { context: { slot: expect.any(Number) }, value: expect.objectContaining({ owner: expect.any(String) }) } },
  ]);
  expect(await post({ jsonrpc: '2.0', id: 3, method: 'getProgramAccounts', params: [] })).toMatchObject({ id: 3, error: { code: -32601, message: expect.stringContaining('getProgramAccounts') } });
  expect(await post({ jsonrpc: '2.0', id: 4, method: 'getBalance', params: ['not-a-key'] })).toMatchObject({ id: 4, error: { code: -32602, message: expect.stringContaining('not-a-key') } });
  expect(await post({ jsonrpc: '2.0', id: 5, method: 'sendTransaction', params: ['AAAA', { encoding: 'base64' }] })).toMatchObject({ id: 5, error: { code: -32602, message: expect.stringContaining('invalid transaction') } });
  expect(await post({ id: 6, method: 'getSlot' })).toMatchObject({ id: 6, error: { code: -32600 } });
  expect(await (await fetch(rpc.url, { method: 'POST', body: '{not json' })).json()).toMatchObject({ error: { code: -32700 } });
});
