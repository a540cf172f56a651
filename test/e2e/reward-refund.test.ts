/**
 * Refunds and rewards end to end on the local platform: a PaymentRefunded event on the bus (the refund path
 * publishes it; here the test does) runs the reward workflow's AdjustReward. The outcome is read from the chain:
 * a reward reduced before its mint is minted reduced, one reversed is never minted, and one minted stays minted.
 */
import { Connection, Keypair, PublicKey } from '@solana/web3.js';
import { getAccount, getAssociatedTokenAddressSync } from '@solana/spl-token';
import type { PaymentRefundedDetail } from '../../contracts/events';
import type { LocalPlatform } from '../../local/platform';
import { ApiClient, payBody, startPlatformWithFlakyCluster, uniqueCustomer, uniqueMerchant } from './client';

let platform: LocalPlatform;
let client: ApiClient;
let connection: Connection;
/** While set, the workflow's mint step fails as an unreachable cluster would, before any transaction. */
let clusterDown = false;

beforeAll(async () => {
  platform = await startPlatformWithFlakyCluster(() => clusterDown);
  client = await ApiClient.forMerchant(platform, uniqueMerchant());
  connection = new Connection(platform.solana.url, 'confirmed');
});
afterAll(async () => {
  await platform?.close(1000);
});

/** Pays 500.00 USD (10 tokens) with a wallet; with `held`, the mint does not happen yet. */
async function paid(held: boolean) {
  const wallet = Keypair.generate().publicKey;
  clusterDown = held;
  try {
    const res = await client.pay(payBody({ amount: 50_000, customerId: uniqueCustomer(), rewardWallet: wallet.toBase58() }));
    expect(res.status).toBe(201);
    await platform.idle();
    return { payment: res.json.payment as { paymentId: string; merchantId: string; customerId: string; amount: number; currency: string }, wallet };
  } finally {
    clusterDown = false;
  }
}

async function refunded(payment: { paymentId: string; merchantId: string; customerId: string; amount: number; currency: string }, wallet: PublicKey, refundedTotal: number) {
  const { paymentId, merchantId, customerId, amount, currency } = payment;
  const detail: PaymentRefundedDetail = {
    paymentId, merchantId, customerId, amount, currency, rewardWallet: wallet.toBase58(),
    refundId: `re_${paymentId}_${refundedTotal}`, refundAmount: refundedTotal, refundedTotal, occurredAt: new Date().toISOString(),
  };
  expect(platform.bus.putEvents([{ Source: 'smartpay.payments', DetailType: 'PaymentRefunded', Detail: JSON.stringify(detail) }]).FailedEntryCount).toBe(0);
  await platform.idle();
  const execution = platform.workflows.executions('reward').filter((r) => (r.input as { 'detail-type'?: string; detail?: { paymentId?: string } })['detail-type'] === 'PaymentRefunded' && (r.input as { detail: { paymentId: string } }).detail.paymentId === paymentId).at(-1);
  expect(execution).toMatchObject({ status: 'SUCCEEDED', states: ['WhichEvent', 'AdjustReward', 'RewardAdjusted'] });
  return (await client.call('POST', '/reward', { body: { paymentId } })).json.reward;
}

const tokensOn = async (wallet: PublicKey) => {
  const ata = getAssociatedTokenAddressSync(new PublicKey(platform.solana.rewardMint), wallet);
  return (await connection.getAccountInfo(ata)) ? (await getAccount(connection, ata)).amount : undefined;
};

test('refunded in part before its mint: the reward is reduced, and the chain gets the reduced tokens', async () => {
  const { payment, wallet } = await paid(true);
  const reward = await refunded(payment, wallet, 30_000); // 200.00 kept → 4 tokens
  expect(reward).toMatchObject({ status: 'recorded', tokens: '4000000', refund: { refundedAmount: 30_000, tokensBefore: '10000000', tokensClawedBack: '6000000', tokensKept: '0' }, chain: { state: 'pending' } });
  await platform.schedules.run('mints');
  expect(await tokensOn(wallet)).toBe(4_000_000n);
});

test('refunded in full before its mint: the reward is reversed, and nothing is ever minted', async () => {
  const { payment, wallet } = await paid(true);
  const reward = await refunded(payment, wallet, 50_000);
  expect(reward).toMatchObject({ status: 'reversed', tokens: '0', refund: { tokensClawedBack: '10000000' } });
  expect(reward.chain).toBeUndefined();
  expect(await platform.schedules.run('mints')).toMatchObject({ minted: 0, failed: 0 });
  // The workflow's own mint step, run again, owes nothing either.
  await platform.functions.rewards({ step: 'mint', paymentId: payment.paymentId, executionId: 'arn:aws:states:us-east-1:000000000000:express:reward:again' });
  expect(await tokensOn(wallet)).toBeUndefined();
});

test('refunded after its mint: the tokens stay on chain, and the reward says what the refund would have taken back', async () => {
  const { payment, wallet } = await paid(false);
  expect(await tokensOn(wallet)).toBe(10_000_000n);
  const reward = await refunded(payment, wallet, 50_000);
  expect(reward).toMatchObject({ status: 'recorded', tokens: '10000000', refund: { tokensKept: '10000000', tokensClawedBack: '0' }, chain: { state: 'minted' } });
  expect(await tokensOn(wallet)).toBe(10_000_000n);
});
