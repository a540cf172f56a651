/**
 * A mint the chain refuses, end to end on the local platform, as the runbook's "treasury out of SOL" happens: the
 * treasury (it pays every mint's fee) is drained with its own key, read from the data folder as an operator holds
 * it. The payment stands; its reward is on record as `failed` with the cluster's reason, the failure reaches the
 * analytics index (GET /insights, the console's Rewards page), and once the treasury is funded again the mints
 * schedule mints it, once. Balances and signatures are read from the local ledger, not from our table.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection, Keypair, LAMPORTS_PER_SOL, PublicKey } from '@solana/web3.js';
import { getAccount, getAssociatedTokenAddressSync } from '@solana/spl-token';
import type { LocalPlatform } from '../../local/platform';
import { ApiClient, payBody, startPlatform, uniqueCustomer, uniqueMerchant } from './client';
import { drainTreasury } from './treasury';

const dir = mkdtempSync(join(tmpdir(), 'smartpay-mint-failure-'));
let platform: LocalPlatform;
let client: ApiClient;
let connection: Connection;

beforeAll(async () => {
  // The mints schedule takes a reward at once (the default waits 2 minutes for the workflow).
  platform = await startPlatform({ dataDir: dir, env: { MINT_SWEEP_AFTER_MS: '0' } });
  client = await ApiClient.forMerchant(platform, uniqueMerchant('m_mintfail'));
  connection = new Connection(platform.solana.url, 'confirmed');
}, 60_000);
afterAll(async () => {
  await platform?.close(1000);
  rmSync(dir, { recursive: true, force: true });
});

const rewardsInsights = async () => {
  const from = new Date(Date.now() - 3_600_000).toISOString();
  const answer = await client.call('GET', `/insights?view=rewards&from=${encodeURIComponent(from)}`);
  expect(answer.status).toBe(200);
  return answer.json;
};

test('a treasury without SOL: the reward is on record as failed with the reason, counted in the insights, and minted once when funded again', async () => {
  expect(await connection.getBalance(new PublicKey(platform.solana.treasury))).toBeGreaterThan(0);
  const treasury = await drainTreasury(platform, dir);
  expect(await connection.getBalance(treasury.publicKey)).toBe(0);

  const wallet = Keypair.generate().publicKey;
  const paid = await client.pay(payBody({ amount: 50_000, customerId: uniqueCustomer(), rewardWallet: wallet.toBase58() }));
  // The payment is never touched by its reward.
  expect(paid.status).toBe(201);
  const { paymentId } = paid.json.payment;
  await platform.idle();

  // The workflow gave up on it (a refusal is not retried) and parked the event on the DLQ.
  const execution = platform.workflows.executions('reward').find((r) => (r.input as { detail?: { paymentId?: string } }).detail?.paymentId === paymentId);
  expect(execution?.states).toEqual(expect.arrayContaining(['MintReward', 'SendToDlq', 'RewardFailed']));
  const failed = await client.call('POST', '/reward', { body: { paymentId } });
  expect(failed.status).toBe(200);
  expect(failed.json.reward).toMatchObject({ status: 'recorded', tokens: '10000000' });
  expect(failed.json.reward.chain).toEqual({
    state: 'failed',
    wallet: wallet.toBase58(),
    tokenMint: platform.solana.rewardMint,
    recipient: expect.any(String),
    signature: expect.any(String),
    error: 'refused: Transaction simulation failed: Attempt to debit an account but found no record of a prior credit.',
    failedAt: expect.any(String),
  });
  const ata = getAssociatedTokenAddressSync(new PublicKey(platform.solana.rewardMint), wallet);
  expect(await connection.getAccountInfo(ata)).toBeNull();

  // The failure is in the analytics index: one failed transaction, for this reward; nothing minted.
  const before = await rewardsInsights();
  expect(before.failedMints).toMatchObject({ count: 1, tokens: '10', rewards: 1, mostFailed: [{ rewardId: paymentId, failures: 1 }] });
  expect(before.minted.count).toBe(0);
  expect(before.series.reduce((n: number, b: { failedMints: number }) => n + b.failedMints, 0)).toBe(1);

  // The operator funds the treasury; the mints schedule mints the reward, once.
  await connection.requestAirdrop(treasury.publicKey, LAMPORTS_PER_SOL); // the local ledger answers once it is processed
  expect(await connection.getBalance(treasury.publicKey)).toBe(LAMPORTS_PER_SOL);
  // (A run the schedule's timer started meanwhile may be the one that mints it: this waits for it.)
  await platform.schedules.run('mints');
  expect((await getAccount(connection, ata)).amount).toBe(10_000_000n);
  expect(await connection.getSignaturesForAddress(ata)).toHaveLength(1);
  const minted = await client.call('POST', '/reward', { body: { paymentId } });
  expect(minted.json.reward.chain).toMatchObject({ state: 'minted', recipient: ata.toBase58() });
  expect(minted.json.reward.chain).not.toHaveProperty('error');
  expect(await platform.schedules.run('mints')).toMatchObject({ found: 0, minted: 0 });

  await platform.idle();
  const after = await rewardsInsights();
  expect(after.minted).toEqual({ count: 1, tokens: '10' });
  expect(after.failedMints.count).toBe(1);
});
