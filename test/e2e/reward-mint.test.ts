/**
 * Rewards on chain, end to end on the local platform: a payment that names a wallet has its reward minted there
 * by the reward workflow (IssueReward, then MintReward) through the same RPC calls the cloud makes, signed by the
 * mint authority read as a secret. Balances, memos and mints are read from the local ledger through web3.js, not
 * from our table.
 */
import { Connection, Keypair, PublicKey } from '@solana/web3.js';
import { getAccount, getAssociatedTokenAddressSync, getMint, TOKEN_2022_PROGRAM_ID } from '@solana/spl-token';
import type { LocalPlatform } from '../../local/platform';
import { ApiClient, fieldsOf, payBody, startPlatform, startPlatformWithFlakyCluster, uniqueCustomer, uniqueMerchant } from './client';

let platform: LocalPlatform;
let client: ApiClient;
let connection: Connection;
/** While set, the workflow's mint step fails as an unreachable cluster would (TransientError), before minting. */
let clusterDown = false;

beforeAll(async () => {
  // The claims pay one customer several times in a row: the fraud model (its hour-of-day and velocity features)
  // holds some of them for review at some hours of the day. Rewards are the subject here, not fraud: the stage's
  // thresholds are set out of the way.
  platform = await startPlatformWithFlakyCluster(() => clusterDown, { FRAUD_REVIEW_THRESHOLD: '0.99', FRAUD_DECLINE_THRESHOLD: '0.995' });
  client = await ApiClient.forMerchant(platform, uniqueMerchant());
  connection = new Connection(platform.solana.url, 'confirmed');
});
afterAll(async () => {
  await platform?.close(1000);
});

const newWallet = () => Keypair.generate().publicKey;

test('a payment with a rewardWallet has 2% of its amount minted there once, with the payment id as its memo', async () => {
  const wallet = newWallet();
  const paid = await client.pay(payBody({ amount: 12_345, customerId: uniqueCustomer(), rewardWallet: wallet.toBase58() }));
  expect(paid.status).toBe(201);
  const { paymentId, rewardWallet } = paid.json.payment;
  expect(rewardWallet).toBe(wallet.toBase58());
  await platform.idle();

  const mint = new PublicKey(platform.solana.rewardMint);
  const ata = getAssociatedTokenAddressSync(mint, wallet);
  // 2% of 123.45 USD = 2.469 tokens, 6 decimals, read from the chain.
  expect((await getAccount(connection, ata)).amount).toBe(2_469_000n);
  expect((await getMint(connection, mint)).mintAuthority?.toBase58()).toBe(platform.solana.mintAuthority);
  const signatures = await connection.getSignaturesForAddress(ata);
  expect(signatures).toHaveLength(1);
  expect(signatures[0].memo).toContain(paymentId);

  const reward = await client.call('POST', '/reward', { body: { paymentId } });
  expect(reward.status).toBe(200);
  expect(reward.json.reward).toMatchObject({
    paymentId,
    tokens: '2469000',
    tokensDisplay: '2.469',
    status: 'recorded',
    chain: { state: 'minted', wallet: wallet.toBase58(), tokenMint: mint.toBase58(), recipient: ata.toBase58(), signature: signatures[0].signature },
  });
  expect(reward.json.reward.chain.mintedAt).toEqual(expect.any(String));
  // The transaction on chain: the treasury paid, the recipient's balance went from nothing to the reward.
  const tx = await connection.getTransaction(signatures[0].signature, { maxSupportedTransactionVersion: 0 });
  expect(tx?.meta?.err).toBeNull();
  expect(tx?.transaction.message.staticAccountKeys[0].toBase58()).toBe(platform.solana.treasury);
  expect(tx?.meta?.postTokenBalances?.find((b) => b.owner === wallet.toBase58())?.uiTokenAmount.amount).toBe('2469000');

  // Asking again (the API, the workflow's step again, the sweep) mints nothing more.
  await platform.functions.rewards({ step: 'mint', paymentId, executionId: 'arn:aws:states:us-east-1:000000000000:express:reward:again' });
  await platform.schedules.run('mints');
  expect((await getAccount(connection, ata)).amount).toBe(2_469_000n);
  expect(await connection.getSignaturesForAddress(ata)).toHaveLength(1);
});

test("a wallet's rewards add up in its one token account", async () => {
  const wallet = newWallet();
  const customerId = uniqueCustomer();
  for (const amount of [10_000, 20_000]) {
    expect((await client.pay(payBody({ amount, customerId, rewardWallet: wallet.toBase58() }))).status).toBe(201);
  }
  await platform.idle();
  const ata = getAssociatedTokenAddressSync(new PublicKey(platform.solana.rewardMint), wallet);
  expect((await getAccount(connection, ata)).amount).toBe(6_000_000n); // 2 + 4 tokens
  expect(await connection.getSignaturesForAddress(ata)).toHaveLength(2);
});

test('a payment without a wallet records its reward, mints nothing, and says so', async () => {
  const paid = await client.pay(payBody({ customerId: uniqueCustomer() }));
  expect(paid.status).toBe(201);
  await platform.idle();
  const reward = await client.call('POST', '/reward', { body: { paymentId: paid.json.payment.paymentId } });
  expect(reward.status).toBe(200);
  expect(reward.json.reward).toMatchObject({ status: 'recorded', tokens: '1000000', chain: { state: 'no_wallet' } });
  expect(reward.json.reward.chain.signature).toBeUndefined();
});

test.each([
  ['not base58', 'not-a-wallet!'],
  ['too short', '9xQeWvG816bUx9EPjHmaT23yvVM2ZWbr'],
  ['the System Program', '11111111111111111111111111111111'],
  ['the SPL Token program', 'TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA'],
  ['the wrapped SOL mint', 'So11111111111111111111111111111111111111112'],
  ['a sysvar', 'SysvarRent111111111111111111111111111111111'],
  ['a number', 42],
])('a rewardWallet that is %s gets a 400 naming the field (checked before the key is claimed)', async (_case, rewardWallet) => {
  const customerId = uniqueCustomer();
  const paid = await client.pay(payBody({ customerId, rewardWallet }));
  expect(paid.status).toBe(400);
  expect(fieldsOf(paid)).toEqual(['rewardWallet']);
  expect(paid.json.error.message).toMatch(/rewardWallet/);
});

test('a mint the workflow could not finish (the cluster down) is on record as pending, and the mints schedule finishes it once', async () => {
  const wallet = newWallet();
  clusterDown = true;
  const paid = await client.pay(payBody({ amount: 50_000, customerId: uniqueCustomer(), rewardWallet: wallet.toBase58() }));
  expect(paid.status).toBe(201);
  const { paymentId } = paid.json.payment;
  try {
    await platform.idle();
  } finally {
    clusterDown = false;
  }
  const execution = platform.workflows.executions('reward').find((r) => (r.input as { detail?: { paymentId?: string } }).detail?.paymentId === paymentId);
  expect(execution).toMatchObject({ status: 'SUCCEEDED', states: ['WhichEvent', 'IssueReward', 'MintOwed', 'MintReward', 'MintLeftToSweep'] });
  const pending = await client.call('POST', '/reward', { body: { paymentId } });
  expect(pending.json.reward.chain).toMatchObject({ state: 'pending', wallet: wallet.toBase58(), tokenMint: platform.solana.rewardMint });
  const ata = getAssociatedTokenAddressSync(new PublicKey(platform.solana.rewardMint), wallet);
  expect(await connection.getAccountInfo(ata)).toBeNull();

  await platform.schedules.run('mints');
  expect((await getAccount(connection, ata)).amount).toBe(10_000_000n);
  const minted = await client.call('POST', '/reward', { body: { paymentId } });
  expect(minted.json.reward.chain).toMatchObject({ state: 'minted', recipient: ata.toBase58() });
  // The next run finds nothing left to do.
  expect(await platform.schedules.run('mints')).toMatchObject({ found: 0, minted: 0, failed: 0 });
  expect((await getAccount(connection, ata)).amount).toBe(10_000_000n);
});

test('REWARD_TOKEN_PROGRAM=token-2022: the reward token is a Token-2022 mint, and the wallet\'s Token-2022 account receives the reward', async () => {
  const other = await startPlatform({ env: { REWARD_TOKEN_PROGRAM: 'token-2022' } });
  try {
    const merchant = await ApiClient.forMerchant(other, uniqueMerchant());
    const wallet = newWallet();
    const paid = await merchant.pay(payBody({ amount: 25_000, customerId: uniqueCustomer(), rewardWallet: wallet.toBase58() }));
    expect(paid.status).toBe(201);
    await other.idle();
    const chain = new Connection(other.solana.url, 'confirmed');
    const mint = new PublicKey(other.solana.rewardMint);
    expect((await chain.getAccountInfo(mint))?.owner.equals(TOKEN_2022_PROGRAM_ID)).toBe(true);
    const ata = getAssociatedTokenAddressSync(mint, wallet, false, TOKEN_2022_PROGRAM_ID);
    expect((await getAccount(chain, ata, 'confirmed', TOKEN_2022_PROGRAM_ID)).amount).toBe(5_000_000n);
    const reward = await merchant.call('POST', '/reward', { body: { paymentId: paid.json.payment.paymentId } });
    expect(reward.json.reward.chain).toMatchObject({ state: 'minted', recipient: ata.toBase58(), tokenMint: mint.toBase58() });
  } finally {
    await other.close(1000);
  }
});

test('GET /rewards/{wallet} reads the balance from the chain: what was minted there, 0 for a wallet with no account, 400 for no key', async () => {
  const wallet = newWallet();
  expect((await client.pay(payBody({ amount: 30_000, customerId: uniqueCustomer(), rewardWallet: wallet.toBase58() }))).status).toBe(201);
  await platform.idle();
  const mint = new PublicKey(platform.solana.rewardMint);
  const read = await client.call('GET', `/rewards/${wallet.toBase58()}`);
  expect(read.status).toBe(200);
  expect(read.json.balance).toEqual({
    wallet: wallet.toBase58(),
    tokenMint: mint.toBase58(),
    recipient: getAssociatedTokenAddressSync(mint, wallet).toBase58(),
    tokens: '6000000',
    tokensDisplay: '6',
    decimals: 6,
  });
  // The same figure web3.js reads from the chain directly.
  expect((await getAccount(connection, getAssociatedTokenAddressSync(mint, wallet))).amount).toBe(6_000_000n);
  const empty = newWallet();
  expect((await client.call('GET', `/rewards/${empty.toBase58()}`)).json.balance).toMatchObject({ tokens: '0', tokensDisplay: '0' });
  const bad = await client.call('GET', '/rewards/not-a-wallet');
  expect(bad.status).toBe(400);
  expect(fieldsOf(bad)).toEqual(['path.wallet']);
  expect((await new ApiClient(platform).call('GET', `/rewards/${wallet.toBase58()}`)).status).toBe(401);
});

test("a rewardWallet that is the platform's own treasury or reward mint mints nothing there: the reward is the customer's to claim, and a claim to it is a 400", async () => {
  const relay = await client.call('GET', '/reward/relay');
  const own = [relay.json.relay.feePayer as string, platform.solana.rewardMint];
  for (const rewardWallet of own) {
    const customerId = uniqueCustomer();
    const paid = await client.pay(payBody({ customerId, rewardWallet }));
    expect(paid.status).toBe(201);
    await platform.idle();
    const reward = await client.call('POST', '/reward', { body: { paymentId: paid.json.payment.paymentId } });
    expect(reward.json.reward).toMatchObject({ status: 'recorded', tokens: '1000000', chain: { state: 'no_wallet' } });
    const claim = await client.call('POST', '/reward', { body: { customerId, wallet: rewardWallet } });
    expect(claim.status).toBe(400);
    expect(fieldsOf(claim)).toEqual(['wallet']);
    expect(claim.json.error.message).toMatch(/^wallet is the (treasury|reward token mint) of this platform, not a customer's wallet$/);
  }
  // Nothing of the reward token was minted to either.
  for (const address of own) {
    const ata = getAssociatedTokenAddressSync(new PublicKey(platform.solana.rewardMint), new PublicKey(address), true);
    expect(await connection.getAccountInfo(ata)).toBeNull();
  }
});

describe('claims: rewards recorded without a wallet, minted to one later', () => {
  async function paidWithoutWallet(customerId: string, amounts: number[]): Promise<string[]> {
    const ids: string[] = [];
    for (const amount of amounts) {
      const paid = await client.pay(payBody({ amount, customerId }));
      expect(paid.status).toBe(201);
      ids.push(paid.json.payment.paymentId);
    }
    await platform.idle();
    return ids;
  }
  const balanceOf = async (wallet: PublicKey) => {
    const ata = getAssociatedTokenAddressSync(new PublicKey(platform.solana.rewardMint), wallet);
    return (await connection.getAccountInfo(ata)) ? (await getAccount(connection, ata)).amount : 0n;
  };

  test('a claim mints the total once, with its id as the memo; the rewards say which claim took them; asking again gets the same claim', async () => {
    const customerId = uniqueCustomer();
    const ids = await paidWithoutWallet(customerId, [10_000, 25_000]); // 2 + 5 tokens
    const wallet = newWallet();
    const claimed = await client.call('POST', '/reward', { body: { customerId, wallet: wallet.toBase58() } });
    expect(claimed.status).toBe(201);
    const { claim } = claimed.json;
    expect(claim).toMatchObject({ customerId, wallet: wallet.toBase58(), tokens: '7000000', tokensDisplay: '7', chain: { state: 'minted', wallet: wallet.toBase58() } });
    expect(claim.claimId).toMatch(/^clm_/);
    expect([...claim.payments].sort()).toEqual([...ids].sort());
    expect(await balanceOf(wallet)).toBe(7_000_000n);
    const ata = getAssociatedTokenAddressSync(new PublicKey(platform.solana.rewardMint), wallet);
    const signatures = await connection.getSignaturesForAddress(ata);
    expect(signatures.map((s) => s.memo)).toEqual([expect.stringContaining(claim.claimId)]);
    for (const paymentId of ids) {
      const reward = await client.call('POST', '/reward', { body: { paymentId } });
      expect(reward.json.reward.chain).toEqual({ state: 'claimed', claimId: claim.claimId });
    }
    const again = await client.call('POST', '/reward', { body: { customerId, wallet: newWallet().toBase58() } });
    expect(again.status).toBe(200);
    expect(again.json.claim).toMatchObject({ claimId: claim.claimId, wallet: wallet.toBase58() });
    expect(await balanceOf(wallet)).toBe(7_000_000n);
    // A reward earned after the claim is the next claim's, alone.
    const [later] = await paidWithoutWallet(customerId, [5_000]);
    const next = await client.call('POST', '/reward', { body: { customerId, wallet: wallet.toBase58() } });
    expect(next.status).toBe(201);
    expect(next.json.claim).toMatchObject({ payments: [later], tokens: '1000000' });
    expect(await balanceOf(wallet)).toBe(8_000_000n);
  });

  test('claims at once for one customer: every reward is claimed once, and the wallet gets the total once', async () => {
    const customerId = uniqueCustomer();
    await paidWithoutWallet(customerId, [10_000, 10_000, 10_000]);
    const wallet = newWallet();
    const answers = await Promise.all(Array.from({ length: 6 }, () => client.call('POST', '/reward', { body: { customerId, wallet: wallet.toBase58() } })));
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 200, 200, 200, 201]);
    expect(new Set(answers.map((a) => a.json.claim.claimId)).size).toBe(1);
    await platform.schedules.run('mints');
    expect(await balanceOf(wallet)).toBe(6_000_000n);
  });

  test('nothing to claim is a 409 saying so; a bad claim is a 400 naming the field', async () => {
    const none = await client.call('POST', '/reward', { body: { customerId: uniqueCustomer(), wallet: newWallet().toBase58() } });
    expect(none.status).toBe(409);
    expect(none.json.error.code).toBe('nothing_to_claim');
    const bad = [
      [{ customerId: 'c_1' }, ['wallet']],
      [{ wallet: newWallet().toBase58() }, ['customerId']],
      [{ customerId: 'c_1', wallet: 'nope' }, ['wallet']],
      [{ paymentId: 'pay_00000000000000000000', wallet: newWallet().toBase58() }, ['wallet']],
      [{}, ['customerId', 'wallet']],
    ] as const;
    for (const [body, fields] of bad) {
      const answer = await client.call('POST', '/reward', { body });
      expect({ body, status: answer.status, fields: fieldsOf(answer).sort() }).toEqual({ body, status: 400, fields: [...fields].sort() });
    }
  });
});
