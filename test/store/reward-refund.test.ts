/**
 * Refunds and rewards on the local store (the reward ledger's conditional writes, lambdas/rewards/refunds.ts
 * adjustForRefund): a reward is reduced, or reversed, only while no mint transaction and no claim has its tokens;
 * after that its tokens stand and the refund is on record; a mint attempt built before a refund reduced the tokens
 * is refused, never recorded.
 */
import type { PaymentRefundedDetail } from '../../contracts/events';
import { DynamoRewardLedger } from '../../lambdas/rewards/ledger';
import { adjustForRefund } from '../../lambdas/rewards/refunds';
import { claimKey, claimRewards, issueReward, rewardView, type MintAttempt, type RewardDeps } from '../../lambdas/rewards/rewards';
import { LOCAL_TABLES } from '../../local/env';
import { useTestStore } from './support';

const db = useTestStore();
const MINT = 'So11111111111111111111111111111111111111112';
let n = 0;
const newId = () => `pay_REFUND${String((n += 1)).padStart(14, '0')}`;

function deps(overrides: Partial<Omit<RewardDeps, 'ledger'>> = {}): RewardDeps & { ledger: DynamoRewardLedger } {
  return { ledger: new DynamoRewardLedger(db.client, LOCAL_TABLES.rewards), decimals: 6, tokenMint: MINT, now: () => new Date(), ...overrides };
}

const payment = (paymentId: string, amount: number, extra: { rewardWallet?: string; currency?: string; customerId?: string } = {}) => ({
  paymentId,
  merchantId: 'm_refund',
  customerId: extra.customerId ?? 'c_refund',
  amount,
  currency: extra.currency ?? 'USD',
  ...(extra.rewardWallet ? { rewardWallet: extra.rewardWallet } : {}),
});
const WALLET = '9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin';

const refundOf = (p: ReturnType<typeof payment>, refundedTotal: number, refundAmount = refundedTotal): PaymentRefundedDetail => ({
  ...p,
  refundId: `re_${refundedTotal}`,
  refundAmount,
  refundedTotal,
  occurredAt: new Date().toISOString(),
});

const attempt = (tokens: string): MintAttempt => ({ wallet: WALLET, tokenMint: MINT, recipient: 'ata', signature: `sig_${tokens}`, tokens, lastValidBlockHeight: 1_000, wire: 'AA==' });

test('a partial refund before the mint reduces the reward to that of the amount kept; an attempt built before it is refused', async () => {
  const d = deps();
  const p = payment(newId(), 50_000, { rewardWallet: WALLET }); // 500.00 USD → 10 tokens
  await issueReward(p, d);
  const { entry, change } = await adjustForRefund(refundOf(p, 30_000), d); // 200.00 kept → 4 tokens
  expect(change).toBe('clawed_back');
  expect(entry).toMatchObject({ tokens: '4000000', tokensDisplay: '4', status: 'recorded', refund: { refundedAmount: 30_000, tokensBefore: '10000000', tokensClawedBack: '6000000', tokensKept: '0' } });
  expect(await d.ledger.get(p.paymentId)).toMatchObject({ tokens: '4000000', unminted: expect.any(String) });
  // A mint run that read 10 tokens before the refund: its attempt is not recorded; one for 4 is.
  expect(await d.ledger.recordAttempt(p.paymentId, attempt('10000000'), undefined)).toBe(false);
  expect(await d.ledger.recordAttempt(p.paymentId, attempt('4000000'), undefined)).toBe(true);
});

test('a full refund before the mint reverses the reward: no tokens, off the mint sweep\'s list', async () => {
  const d = deps();
  const p = payment(newId(), 50_000, { rewardWallet: WALLET });
  await issueReward(p, d);
  const { entry, change } = await adjustForRefund(refundOf(p, 50_000), d);
  expect(change).toBe('clawed_back');
  expect(entry).toMatchObject({ status: 'reversed', tokens: '0', refund: { tokensClawedBack: '10000000' } });
  const stored = await d.ledger.get(p.paymentId);
  expect(stored?.unminted).toBeUndefined();
  expect((await d.ledger.unminted(new Date(Date.now() + 60_000).toISOString(), 100)).paymentIds).not.toContain(p.paymentId);
  expect(await d.ledger.recordAttempt(p.paymentId, attempt('10000000'), undefined)).toBe(false);
});

test('once a mint transaction is on record the tokens stand, and the refund records what it would have taken back', async () => {
  const d = deps();
  const p = payment(newId(), 50_000, { rewardWallet: WALLET });
  await issueReward(p, d);
  expect(await d.ledger.recordAttempt(p.paymentId, attempt('10000000'), undefined)).toBe(true);
  const { entry, change } = await adjustForRefund(refundOf(p, 50_000), d);
  expect(change).toBe('kept');
  expect(entry).toMatchObject({ status: 'recorded', tokens: '10000000', refund: { refundedAmount: 50_000, tokensBefore: '10000000', tokensClawedBack: '0', tokensKept: '10000000' } });
  expect(await d.ledger.get(p.paymentId)).toMatchObject({ tokens: '10000000', mint: { signature: 'sig_10000000' } });
});

test('a refund that read the reward before a mint attempt was recorded does not reduce it: the next round keeps the tokens', async () => {
  const d = deps();
  const p = payment(newId(), 50_000, { rewardWallet: WALLET });
  await issueReward(p, d);
  const get = d.ledger.get.bind(d.ledger);
  let reads = 0;
  // The mint records its attempt right after the refund's first read.
  d.ledger.get = async (id: string) => {
    const seen = await get(id);
    if (id === p.paymentId && (reads += 1) === 2) expect(await d.ledger.recordAttempt(id, attempt('10000000'), undefined)).toBe(true);
    return seen;
  };
  const { entry, change } = await adjustForRefund(refundOf(p, 50_000), d);
  expect(change).toBe('kept');
  expect(entry).toMatchObject({ tokens: '10000000', refund: { tokensKept: '10000000', tokensClawedBack: '0' } });
  expect(await get(p.paymentId)).toMatchObject({ status: 'recorded', tokens: '10000000', unminted: expect.any(String) });
});

test('refunds are idempotent and order-free by their cumulative total; a reward already at its floor is unchanged', async () => {
  const d = deps();
  const p = payment(newId(), 50_000, { rewardWallet: WALLET });
  await issueReward(p, d);
  await adjustForRefund(refundOf(p, 20_000), d); // 300.00 kept → 6 tokens
  expect((await adjustForRefund(refundOf(p, 20_000), d)).change).toBe('none');
  // An older refund's event arriving after a later one's: nothing changes.
  await adjustForRefund(refundOf(p, 40_000, 20_000), d); // 100.00 kept → 2 tokens
  expect((await adjustForRefund(refundOf(p, 20_000), d)).change).toBe('none');
  expect(await d.ledger.get(p.paymentId)).toMatchObject({ tokens: '2000000', refund: { refundedAmount: 40_000, tokensBefore: '10000000', tokensClawedBack: '8000000' } });

  // 100,000.00 USD earns the 1000-token cap; half refunded still does.
  const big = payment(newId(), 10_000_000);
  await issueReward(big, d);
  const capped = await adjustForRefund(refundOf(big, 5_000_000), d);
  expect(capped.change).toBe('none');
  expect(capped.entry).toMatchObject({ tokens: '1000000000', refund: { refundedAmount: 5_000_000, tokensClawedBack: '0' } });
});

test("a refund whose payment's reward was not issued yet issues it first; its own event later changes nothing", async () => {
  const d = deps();
  const p = payment(newId(), 50_000, { rewardWallet: WALLET });
  const { entry } = await adjustForRefund(refundOf(p, 25_000), d);
  expect(entry).toMatchObject({ tokens: '5000000', refund: { tokensBefore: '10000000' } });
  const again = await issueReward(p, d);
  expect(again.created).toBe(false);
  expect(again.entry.tokens).toBe('5000000');
});

test('a refund reduces at the USD rate the reward was issued at, not today\'s', async () => {
  const p = payment(newId(), 10_000, { currency: 'EUR' }); // 100.00 EUR at 1.08 → 2.16 tokens
  await issueReward(p, deps({ usdRates: { EUR: '1.08' } }));
  // The rate changed since (or was removed): 75.00 EUR kept at 1.08 → 1.62 tokens either way.
  const { entry } = await adjustForRefund(refundOf(p, 2_500), deps({ usdRates: { EUR: '1.00' } }));
  expect(entry.tokens).toBe('1620000');
  // The rate is the ledger's to keep, not the API's to show.
  expect(entry.usdRate).toBe('1.08');
  expect(rewardView(entry, MINT)).not.toHaveProperty('usdRate');
  const q = payment(newId(), 10_000, { currency: 'EUR' });
  await issueReward(q, deps({ usdRates: { EUR: '1.08' } }));
  expect((await adjustForRefund(refundOf(q, 2_500), deps())).entry.tokens).toBe('1620000');
});

test('a reward recorded without its rate, whose currency has none now, is reduced in proportion, never below a token', async () => {
  const d = deps();
  const p = payment(newId(), 10_000, { currency: 'EUR' });
  await d.ledger.recordOnce({ ...p, decimals: 6, tokens: '2160000', tokensDisplay: '2.16', status: 'recorded', claimable: claimKey(p.merchantId, p.customerId), createdAt: new Date().toISOString() });
  expect((await adjustForRefund(refundOf(p, 2_500), d)).entry.tokens).toBe('1620000');
  expect((await adjustForRefund(refundOf(p, 9_999), d)).entry.tokens).toBe('1000000'); // 0.01 EUR kept: the 1-token floor
});

test('a claim whose only reward was refunded in full before it took it answers nothing_to_claim, now and after', async () => {
  const d = deps();
  const customerId = 'c_refund_race';
  const p = payment(newId(), 20_000, { customerId });
  await issueReward(p, d);
  const take = d.ledger.take.bind(d.ledger);
  // The refund lands between the claim's listing of the reward and its take.
  d.ledger.take = async (paymentId, claim) => {
    await adjustForRefund(refundOf(p, 20_000), d);
    return take(paymentId, claim);
  };
  await expect(claimRewards({ merchantId: 'm_refund', customerId, wallet: WALLET }, d)).rejects.toThrow(/nothing to claim|no rewards to claim/);
  d.ledger.take = take;
  await expect(claimRewards({ merchantId: 'm_refund', customerId, wallet: WALLET }, d)).rejects.toThrow(/no rewards to claim/);
  expect(await d.ledger.get(p.paymentId)).toMatchObject({ status: 'reversed', tokens: '0' });
});

test('a reward recorded without a wallet: reduced while claimable; reversed, no claim takes it; claimed, it stands', async () => {
  const d = deps();
  const customerId = 'c_refund_claims';
  const [kept, reversed, claimedLater] = [payment(newId(), 50_000, { customerId }), payment(newId(), 20_000, { customerId }), payment(newId(), 30_000, { customerId })];
  for (const p of [kept, reversed, claimedLater]) await issueReward(p, d);
  await adjustForRefund(refundOf(kept, 25_000), d); // 5 tokens
  await adjustForRefund(refundOf(reversed, 20_000), d); // none
  expect((await d.ledger.get(reversed.paymentId))?.claimable).toBeUndefined();

  const { claim } = await claimRewards({ merchantId: 'm_refund', customerId, wallet: WALLET }, d);
  expect(claim.payments).toEqual([kept.paymentId, claimedLater.paymentId]);
  expect(claim.tokens).toBe('11000000'); // 5 + 6
  expect(await d.ledger.claimable(claimKey('m_refund', customerId), 10)).toEqual([]);

  const after = await adjustForRefund(refundOf(claimedLater, 30_000), d);
  expect(after.change).toBe('kept');
  expect(after.entry).toMatchObject({ tokens: '6000000', refund: { tokensKept: '6000000' } });
  expect((await d.ledger.claim(claim.paymentId))?.tokens).toBe('11000000');
});
