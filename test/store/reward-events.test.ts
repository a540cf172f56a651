/**
 * The rewards outbox on the local store (lambdas/rewards/outbox.ts): each change of a reward's tokens is recorded
 * in the same write as the change (issued, clawed back by a refund, minted, failed to mint; a claim's mint), marked until
 * published, and published as RewardChanged events numbered per reward, so a publication that is repeated (a crash
 * before the mark is cleared, the sweep and the inline path at once) repeats the same events, and none is lost.
 */
import type { RewardChangedDetail } from '../../contracts/events';
import type { BusEvent } from '../../lambdas/shared/bus';
import { DynamoRewardLedger } from '../../lambdas/rewards/ledger';
import { announce, announcePending } from '../../lambdas/rewards/outbox';
import { adjustForRefund } from '../../lambdas/rewards/refunds';
import { claimRewards, issueReward, rewardView, type RewardDeps } from '../../lambdas/rewards/rewards';
import { LOCAL_TABLES } from '../../local/env';
import { useTestStore } from './support';

const db = useTestStore();
const MINT = 'So11111111111111111111111111111111111111112';
const WALLET = '9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin';
let n = 0;
const newId = () => `pay_EVENTS${String((n += 1)).padStart(14, '0')}`;
const NOW = new Date('2026-11-30T10:00:00.000Z');

function deps(): RewardDeps & { ledger: DynamoRewardLedger } {
  return { ledger: new DynamoRewardLedger(db.client, LOCAL_TABLES.rewards), decimals: 6, tokenMint: MINT, now: () => NOW };
}

/** A bus that keeps what it is given, and can be made to fail. */
function bus() {
  const published: Array<BusEvent<'RewardChanged'>> = [];
  let failing = false;
  return {
    published,
    fail: (on: boolean) => void (failing = on),
    publisher: {
      async publish(events: readonly BusEvent<'RewardChanged'>[]) {
        if (failing) throw new Error('the bus is down');
        published.push(...events);
      },
    },
  };
}

const payment = (paymentId: string, amount: number, extra: { rewardWallet?: string; customerId?: string } = {}) => ({
  paymentId,
  merchantId: 'm_events',
  customerId: extra.customerId ?? 'c_events',
  amount,
  currency: 'USD',
  ...(extra.rewardWallet ? { rewardWallet: extra.rewardWallet } : {}),
});
const details = (events: ReadonlyArray<BusEvent<'RewardChanged'>>): RewardChangedDetail[] => events.map((e) => e.detail);

test('an issued reward, a refund that claws some back and its mint are three events, in order, each published once', async () => {
  const d = deps();
  const b = bus();
  const outbox = { ledger: d.ledger, publisher: b.publisher };
  const p = payment(newId(), 50_000, { rewardWallet: WALLET }); // 500.00 USD → 10 tokens
  await issueReward(p, d);
  expect(await d.ledger.item(p.paymentId)).toMatchObject({ changes: [{ change: 'issued', tokens: '10000000', at: NOW.toISOString() }], unannounced: expect.any(String) });
  expect(await announce([p.paymentId], outbox)).toBe(1);
  expect((await d.ledger.item(p.paymentId))?.unannounced).toBeUndefined();
  // Nothing new: nothing published.
  expect(await announce([p.paymentId], outbox)).toBe(0);

  await adjustForRefund({ ...p, refundId: 're_1', refundAmount: 30_000, refundedTotal: 30_000, occurredAt: NOW.toISOString() }, d); // 200.00 kept → 4 tokens
  await d.ledger.recordAttempt(p.paymentId, { wallet: WALLET, tokenMint: MINT, recipient: 'ata', signature: 'sig_1', tokens: '4000000', lastValidBlockHeight: 1, wire: 'AA==' }, undefined);
  await d.ledger.markMinted(p.paymentId, 'sig_1', NOW.toISOString(), '4000000');
  // Marked minted again (a retry that found it finalized too): no second change.
  await d.ledger.markMinted(p.paymentId, 'sig_1', NOW.toISOString(), '4000000');
  await expect(d.ledger.markMinted(p.paymentId, 'sig_other', NOW.toISOString(), '4000000')).rejects.toThrow(/no longer sig_other/);
  expect(await announcePending(outbox)).toBe(2);

  const base = { rewardId: p.paymentId, merchantId: 'm_events', customerId: 'c_events', decimals: 6, paymentId: p.paymentId, amount: 50_000, currency: 'USD', at: NOW.toISOString() };
  expect(details(b.published)).toEqual([
    { ...base, seq: 0, change: 'issued', tokens: '10000000' },
    { ...base, seq: 1, change: 'clawed_back', tokens: '6000000' },
    { ...base, seq: 2, change: 'minted', tokens: '4000000' },
  ]);
  // The API's view shows none of the outbox's bookkeeping.
  const view = rewardView((await d.ledger.get(p.paymentId))!, MINT);
  expect(view).not.toHaveProperty('changes');
  expect(view).not.toHaveProperty('announced');
  expect(view).not.toHaveProperty('unannounced');
});

test('a publication that fails leaves the changes marked, and the sweep publishes them later; one repeated after a crash repeats the same events', async () => {
  const d = deps();
  const b = bus();
  const outbox = { ledger: d.ledger, publisher: b.publisher };
  const p = payment(newId(), 10_000);
  await issueReward(p, d);
  b.fail(true);
  await expect(announce([p.paymentId], outbox)).rejects.toThrow(/bus is down/);
  expect((await d.ledger.item(p.paymentId))?.unannounced).toBeDefined();
  b.fail(false);
  expect(await announcePending(outbox)).toBeGreaterThanOrEqual(1);
  const first = details(b.published).filter((e) => e.rewardId === p.paymentId);
  expect(first).toEqual([expect.objectContaining({ seq: 0, change: 'issued', tokens: '2000000' })]);

  // A crash after publishing, before the mark is cleared: the next run publishes the very same event (same reward, same number).
  const q = payment(newId(), 25_000);
  await issueReward(q, d);
  const crashing = { ledger: { ...d.ledger, item: d.ledger.item.bind(d.ledger), unannounced: d.ledger.unannounced.bind(d.ledger), markAnnounced: async () => { throw new Error('crash'); } }, publisher: b.publisher };
  await expect(announce([q.paymentId], crashing)).rejects.toThrow('crash');
  await announce([q.paymentId], outbox);
  const repeated = details(b.published).filter((e) => e.rewardId === q.paymentId);
  expect(repeated).toHaveLength(2);
  expect(repeated[0]).toEqual(repeated[1]);
  expect((await d.ledger.item(q.paymentId))?.unannounced).toBeUndefined();
});

test("a claim's mint is one event of the claim (no payment of its own); the rewards it took add no change", async () => {
  const d = deps();
  const b = bus();
  const outbox = { ledger: d.ledger, publisher: b.publisher };
  const customerId = `c_claim_${n}`;
  const rewards = [payment(newId(), 10_000, { customerId }), payment(newId(), 20_000, { customerId })];
  for (const p of rewards) await issueReward(p, d);
  const { claim } = await claimRewards({ merchantId: 'm_events', customerId, wallet: WALLET }, d);
  expect(claim.tokens).toBe('6000000');
  await d.ledger.recordAttempt(claim.paymentId, { wallet: WALLET, tokenMint: MINT, recipient: 'ata', signature: 'sig_claim', tokens: claim.tokens, lastValidBlockHeight: 1, wire: 'AA==' }, undefined);
  await d.ledger.markMinted(claim.paymentId, 'sig_claim', NOW.toISOString(), claim.tokens);
  await announce([...rewards.map((p) => p.paymentId), claim.paymentId], outbox);
  const events = details(b.published);
  expect(events.filter((e) => e.change === 'issued').map((e) => e.tokens)).toEqual(['2000000', '4000000']);
  expect(events.filter((e) => e.rewardId === claim.paymentId)).toEqual([
    { rewardId: claim.paymentId, seq: 0, change: 'minted', merchantId: 'm_events', customerId, tokens: '6000000', decimals: 6, at: NOW.toISOString() },
  ]);
});

test('a mint transaction that failed is marked on the reward once, as a mint_failed change; its replacement mints, and the view says which is which', async () => {
  const d = deps();
  const b = bus();
  const outbox = { ledger: d.ledger, publisher: b.publisher };
  const p = payment(newId(), 25_000, { rewardWallet: WALLET }); // 250.00 USD → 5 tokens
  await issueReward(p, d);
  const attempt = (signature: string) => ({ wallet: WALLET, tokenMint: MINT, recipient: 'ata', signature, tokens: '5000000', lastValidBlockHeight: 1, wire: 'AA==' });
  await d.ledger.recordAttempt(p.paymentId, attempt('sig_a'), undefined);
  const failedAt = new Date(NOW.getTime() + 1000).toISOString();
  await d.ledger.markFailed(p.paymentId, 'sig_a', failedAt, 'refused: Attempt to debit an account but found no record of a prior credit.', '5000000');
  // Again (the sweep resending the same bytes, refused again), or for a transaction that is not the reward's: nothing.
  await d.ledger.markFailed(p.paymentId, 'sig_a', NOW.toISOString(), 'refused again', '5000000');
  await d.ledger.markFailed(p.paymentId, 'sig_other', NOW.toISOString(), 'not ours', '5000000');
  expect(rewardView((await d.ledger.get(p.paymentId))!, MINT).chain).toEqual({
    state: 'failed',
    wallet: WALLET,
    tokenMint: MINT,
    recipient: 'ata',
    signature: 'sig_a',
    error: 'refused: Attempt to debit an account but found no record of a prior credit.',
    failedAt,
  });
  // Still owed: the mints schedule finds it.
  expect((await d.ledger.unminted(new Date(NOW.getTime() + 60_000).toISOString(), 10)).paymentIds).toContain(p.paymentId);

  // The cause fixed: a new transaction replaces it and mints.
  expect(await d.ledger.recordAttempt(p.paymentId, attempt('sig_b'), 'sig_a')).toBe(true);
  expect(rewardView((await d.ledger.get(p.paymentId))!, MINT).chain).toMatchObject({ state: 'pending', signature: 'sig_b' });
  await d.ledger.markMinted(p.paymentId, 'sig_b', NOW.toISOString(), '5000000');
  // A late failure report of the minted transaction changes nothing.
  await d.ledger.markFailed(p.paymentId, 'sig_b', NOW.toISOString(), 'late', '5000000');
  expect(rewardView((await d.ledger.get(p.paymentId))!, MINT).chain).toMatchObject({ state: 'minted', signature: 'sig_b' });

  await announcePending(outbox);
  const base = { rewardId: p.paymentId, merchantId: 'm_events', customerId: 'c_events', decimals: 6, paymentId: p.paymentId, amount: 25_000, currency: 'USD' };
  expect(details(b.published).filter((e) => e.rewardId === p.paymentId)).toEqual([
    { ...base, seq: 0, change: 'issued', tokens: '5000000', at: NOW.toISOString() },
    { ...base, seq: 1, change: 'mint_failed', tokens: '5000000', at: failedAt },
    { ...base, seq: 2, change: 'minted', tokens: '5000000', at: NOW.toISOString() },
  ]);
});
