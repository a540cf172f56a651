/**
 * The reward's mint on the real parts: the reward ledger in the local store (its conditional writes), the local
 * Solana ledger behind its JSON-RPC (bankrun: the real SPL Token, ATA and Memo programs), and web3.js's
 * `Connection` with spl-token's instructions (lambdas/rewards/solana.ts). Balances and memos are read from the
 * chain, not from our table.
 */
import { Connection, Keypair, LAMPORTS_PER_SOL, PublicKey, SystemProgram, Transaction } from '@solana/web3.js';
import { createInitializeMint2Instruction, getAccount, getAssociatedTokenAddressSync, MINT_SIZE, TOKEN_PROGRAM_ID } from '@solana/spl-token';
import { DynamoRewardLedger } from '../../lambdas/rewards/ledger';
import { mintOnce, type MintDeps } from '../../lambdas/rewards/mint';
import { claimKey, claimRewards, issueReward, type StoredClaim } from '../../lambdas/rewards/rewards';
import { connectionMintChain, splMintBuilder } from '../../lambdas/rewards/solana';
import { LOCAL_TABLES } from '../../local/env';
import { BLOCKHASH_VALID_BLOCKS, LocalLedger } from '../../local/solana/ledger';
import { startLocalSolanaRpc, type LocalSolanaRpc } from '../../local/solana/rpc';
import { useTestStore } from './support';

const db = useTestStore();
let chain: LocalLedger;
let rpc: LocalSolanaRpc;
let connection: Connection;
const authority = Keypair.generate();
const mint = Keypair.generate();

beforeAll(async () => {
  chain = await LocalLedger.start({ slotMs: 0 });
  rpc = await startLocalSolanaRpc(chain);
  connection = new Connection(rpc.url, 'confirmed');
  await connection.requestAirdrop(authority.publicKey, 10 * LAMPORTS_PER_SOL);
  const { blockhash } = await connection.getLatestBlockhash();
  const tx = new Transaction({ feePayer: authority.publicKey, recentBlockhash: blockhash }).add(
    SystemProgram.createAccount({ fromPubkey: authority.publicKey, newAccountPubkey: mint.publicKey, lamports: await connection.getMinimumBalanceForRentExemption(MINT_SIZE), space: MINT_SIZE, programId: TOKEN_PROGRAM_ID }),
    createInitializeMint2Instruction(mint.publicKey, 6, authority.publicKey, null),
  );
  tx.sign(authority, mint);
  await connection.sendRawTransaction(tx.serialize());
});
afterAll(async () => {
  await rpc.close();
  chain.close();
});

function deps(): MintDeps & { ledger: DynamoRewardLedger } {
  return {
    ledger: new DynamoRewardLedger(db.client, LOCAL_TABLES.rewards),
    chain: connectionMintChain(connection),
    builder: splMintBuilder({ authority, mint: mint.publicKey, decimals: 6 }),
    now: () => new Date(),
    pollMs: 20,
    confirmTimeoutMs: 2_000,
  };
}

async function reward(paymentId: string, amount: number, wallet: PublicKey) {
  const d = deps();
  await issueReward(
    { paymentId, merchantId: 'm', customerId: 'c', amount, currency: 'USD', rewardWallet: wallet.toBase58() },
    { ledger: d.ledger, decimals: 6, tokenMint: mint.publicKey.toBase58(), now: () => new Date() },
  );
}

test('a reward is minted to the wallet once, with the payment id as its memo, however often it is asked', async () => {
  const wallet = Keypair.generate().publicKey;
  const ata = getAssociatedTokenAddressSync(mint.publicKey, wallet);
  await reward('pay_mint1', 50_000, wallet); // 500.00 USD → 10 tokens
  const first = (await mintOnce('pay_mint1', deps()))!;
  expect(first.mintedAt).toBeDefined();
  expect((await getAccount(connection, ata)).amount).toBe(10_000_000n);
  expect(await mintOnce('pay_mint1', deps())).toEqual(first);
  expect((await getAccount(connection, ata)).amount).toBe(10_000_000n);
  const signatures = await connection.getSignaturesForAddress(ata);
  expect(signatures.map((s) => [s.signature, s.memo])).toEqual([[first.signature, '[9] pay_mint1']]);
  expect((await deps().ledger.get('pay_mint1')) as unknown).toMatchObject({ status: 'recorded', mint: { signature: first.signature, wallet: wallet.toBase58() } });
});

test('a run that crashed after recording its transaction: found expired, a new one is minted and the old bytes can never land', async () => {
  const wallet = Keypair.generate().publicKey;
  const ata = getAssociatedTokenAddressSync(mint.publicKey, wallet);
  await reward('pay_mint2', 12_345, wallet); // 123.45 USD → 2.469 tokens
  const d = deps();
  // The crashed run: built, signed and recorded, never sent.
  const { blockhash, lastValidBlockHeight } = await d.chain.latestBlockhash();
  const { wire, signature, tokenMint, recipient } = d.builder.build({ paymentId: 'pay_mint2', wallet: wallet.toBase58(), baseUnits: 2_469_000n }, blockhash);
  expect(await d.ledger.recordAttempt('pay_mint2', { wallet: wallet.toBase58(), tokenMint, recipient, signature, lastValidBlockHeight, wire: wire.toString('base64') }, undefined)).toBe(true);
  // Another run records nothing over it.
  expect(await d.ledger.recordAttempt('pay_mint2', { wallet: 'x', tokenMint, recipient, signature: 'other', lastValidBlockHeight: 0, wire: '' }, undefined)).toBe(false);
  chain.advance(BLOCKHASH_VALID_BLOCKS + 1);
  const minted = (await mintOnce('pay_mint2', d))!;
  expect(minted.signature).not.toBe(signature);
  // The old bytes, sent late: refused (preflight), and without preflight dropped; never applied.
  await expect(connection.sendRawTransaction(wire)).rejects.toThrow(/Blockhash not found/);
  await connection.sendRawTransaction(wire, { skipPreflight: true });
  expect((await connection.getSignatureStatuses([signature], { searchTransactionHistory: true })).value[0]).toBeNull();
  expect((await getAccount(connection, ata)).amount).toBe(2_469_000n);
});

test('a run that crashed after recording, while its blockhash is valid: the same transaction lands once', async () => {
  const wallet = Keypair.generate().publicKey;
  const ata = getAssociatedTokenAddressSync(mint.publicKey, wallet);
  await reward('pay_mint3', 1_999, wallet); // 19.99 USD → 0.3998, at least 1 token
  const d = deps();
  const { blockhash, lastValidBlockHeight } = await d.chain.latestBlockhash();
  const { wire, signature, tokenMint, recipient } = d.builder.build({ paymentId: 'pay_mint3', wallet: wallet.toBase58(), baseUnits: 1_000_000n }, blockhash);
  await d.ledger.recordAttempt('pay_mint3', { wallet: wallet.toBase58(), tokenMint, recipient, signature, lastValidBlockHeight, wire: wire.toString('base64') }, undefined);
  await connection.sendRawTransaction(wire); // it was sent before the crash, too
  expect((await mintOnce('pay_mint3', d))!.signature).toBe(signature);
  expect((await getAccount(connection, ata)).amount).toBe(1_000_000n);
  expect(await connection.getSignaturesForAddress(ata)).toHaveLength(1);
});

test('a mint the chain refuses (not the authority) is an error naming it, and nothing is minted', async () => {
  const wallet = Keypair.generate().publicKey;
  await reward('pay_mint4', 50_000, wallet);
  const impostor = Keypair.generate();
  await connection.requestAirdrop(impostor.publicKey, LAMPORTS_PER_SOL);
  const d = { ...deps(), builder: splMintBuilder({ authority: impostor, mint: mint.publicKey, decimals: 6 }) };
  await expect(mintOnce('pay_mint4', d)).rejects.toThrow(/was refused: [\s\S]*owner does not match/);
  expect(await connection.getTokenAccountBalance(getAssociatedTokenAddressSync(mint.publicKey, wallet)).catch(() => null)).toBeNull();
  // On record, in the cluster's words without web3.js's wrapping: the simulation's message and the program's error.
  const stored = (await d.ledger.get('pay_mint4'))!;
  expect(stored.mint).toMatchObject({ failedAt: expect.any(String), error:
      'refused: Transaction simulation failed: Error processing Instruction 1: custom program error: 0x4; Program log: Error: owner does not match; Program TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA failed: custom program error: 0x4' });
  expect(stored.changes?.map((c) => c.change)).toEqual(['issued', 'mint_failed']);
});

test('a claim that stopped after taking some of its rewards is finished by the next request: each reward counted once', async () => {
  const d = deps();
  const rewardDeps = { ledger: d.ledger, decimals: 6, tokenMint: mint.publicKey.toBase58(), now: () => new Date() };
  for (const [id, amount] of [['pay_claim1', 10_000], ['pay_claim2', 20_000], ['pay_claim3', 30_000]] as const) {
    await issueReward({ paymentId: id, merchantId: 'm', customerId: 'c_claim', amount, currency: 'USD' }, rewardDeps);
  }
  const wallet = Keypair.generate().publicKey.toBase58();
  // The stopped run: opened its claim for the three, took one, and stopped.
  const rewards = await d.ledger.claimable(claimKey('m', 'c_claim'), 10);
  expect(rewards.map((r) => r.paymentId).sort()).toEqual(['pay_claim1', 'pay_claim2', 'pay_claim3']);
  const stopped: StoredClaim = {
    paymentId: 'clm_stopped', kind: 'claim', merchantId: 'm', customerId: 'c_claim', wallet, tokens: '0', tokensDisplay: '0', decimals: 6, status: 'open',
    payments: rewards.map((r) => r.paymentId), createdAt: new Date().toISOString(),
  };
  expect(await d.ledger.openClaim(stopped)).toBe(true);
  await d.ledger.take('pay_claim1', stopped);
  // Another claim cannot open while that one is, and leaves nothing behind.
  expect(await d.ledger.openClaim({ ...stopped, paymentId: 'clm_other' })).toBe(false);
  expect(await d.ledger.claim('clm_other')).toBeUndefined();
  // The next request (another wallet) finishes the stopped claim, and that is its answer.
  const { claim, created } = await claimRewards({ merchantId: 'm', customerId: 'c_claim', wallet: Keypair.generate().publicKey.toBase58() }, rewardDeps);
  expect(created).toBe(false);
  expect(claim).toMatchObject({ paymentId: 'clm_stopped', status: 'recorded', wallet, tokens: '12000000', unminted: expect.any(String) });
  expect([...claim.payments].sort()).toEqual(['pay_claim1', 'pay_claim2', 'pay_claim3']);
  for (const id of ['pay_claim1', 'pay_claim2', 'pay_claim3']) expect(await d.ledger.get(id)).toMatchObject({ claimId: 'clm_stopped' });
  expect(await d.ledger.claimable(claimKey('m', 'c_claim'), 10)).toEqual([]);
  // It is minted like a reward: once, its id as the memo.
  const minted = (await mintOnce('clm_stopped', d))!;
  const ata = getAssociatedTokenAddressSync(mint.publicKey, new PublicKey(wallet));
  expect((await getAccount(connection, ata)).amount).toBe(12_000_000n);
  expect((await connection.getSignaturesForAddress(ata)).map((s) => [s.signature, s.memo])).toEqual([[minted.signature, '[11] clm_stopped']]);
});
