import { NotFoundError, RewardNotEligibleError } from '../../contracts/errors';
import { Keypair } from '@solana/web3.js';
import bs58 from 'bs58';
import { isSolanaAddress } from '../../contracts/ids';
import { formatTokens } from '../../contracts/money';
import {
  assertRewardable,
  issueReward,
  NoUsdRateError,
  rewardBaseUnits,
  rewardView,
  type RewardLedger,
  type StoredReward,
} from '../../lambdas/rewards/rewards';
import { keypairFromSecret, stageMinting } from '../../lambdas/rewards/solana';

const RATES = { JPY: '0.0067', KWD: '3.25', EUR: '1.08' };

describe('reward tokens', () => {
  it('is 2% of the payment\'s value in USD, in base units', () => {
    expect(rewardBaseUnits(100_000, 'USD', 6)).toBe(20_000_000n); // 1000.00 USD → 20 tokens
    expect(rewardBaseUnits(123_456, 'USD', 6)).toBe(24_691_200n); // 1234.56 → 24.6912
    // 150,000 JPY at 0.0067 = 1005 USD → 20.1 tokens (not 2% of 150,000 yen: 3000, clamped to 1000).
    expect(rewardBaseUnits(150_000, 'JPY', 6, RATES)).toBe(20_100_000n);
    expect(rewardBaseUnits(150_000, 'JPY', 0, RATES)).toBe(20n); // rounded down to the token's decimals
    // 1234.56 EUR at 1.08 = 1333.3248 USD → 26.666496 tokens, exactly.
    expect(rewardBaseUnits(123_456, 'EUR', 6, RATES)).toBe(26_666_496n);
  });

  it('clamps to 1–1000 tokens a transaction', () => {
    expect(rewardBaseUnits(1999, 'USD', 6)).toBe(1_000_000n); // 0.3998 → 1 token
    expect(rewardBaseUnits(5_000, 'KWD', 6, RATES)).toBe(1_000_000n); // 5.000 KWD = 16.25 USD → 0.325 → 1
    expect(rewardBaseUnits(99_999_999, 'KWD', 6, RATES)).toBe(1_000_000_000n); // 325,000 USD → 6500 → 1000
  });

  it('refuses a currency without a USD rate, saying what to configure', () => {
    expect(() => rewardBaseUnits(10_000, 'JPY', 6)).toThrow(NoUsdRateError);
    expect(() => rewardBaseUnits(10_000, 'GBP', 6, RATES)).toThrow(/no USD rate for GBP.*REWARD_USD_RATES/);
  });

  it('keeps precision beyond 2^53 base units with bigint', () => {
    expect(rewardBaseUnits(99_999_999, 'USD', 9)).toBe(1_000_000_000_000n);
    expect(typeof rewardBaseUnits(1, 'USD', 9)).toBe('bigint');
  });

  it('refuses non-positive or fractional amounts', () => {
    expect(() => rewardBaseUnits(0, 'USD', 6)).toThrow(RangeError);
    expect(() => rewardBaseUnits(1.5, 'USD', 6)).toThrow(RangeError);
  });

  it('formats base units as tokens', () => {
    expect(formatTokens(24_691_200n, 6)).toBe('24.6912');
    expect(formatTokens(1_000_000n, 6)).toBe('1');
    expect(formatTokens(200n, 0)).toBe('200');
  });
});

describe('issueReward', () => {
  class MemoryLedger implements RewardLedger {
    readonly entries = new Map<string, StoredReward>();
    async recordOnce(entry: StoredReward) {
      const existing = this.entries.get(entry.paymentId);
      if (existing) return { entry: existing, created: false };
      this.entries.set(entry.paymentId, entry);
      return { entry, created: true };
    }
    async get(paymentId: string) {
      return this.entries.get(paymentId);
    }
  }
  const payment = { paymentId: 'pay_1', merchantId: 'm', customerId: 'c', amount: 50_000, currency: 'USD' };

  it('records exactly once per payment', async () => {
    const ledger = new MemoryLedger();
    const deps = { ledger, decimals: 6, now: () => new Date('2026-01-01T00:00:00Z') };
    const first = await issueReward(payment, deps);
    const second = await issueReward(payment, { ...deps, now: () => new Date('2027-01-01T00:00:00Z') });
    expect(first).toMatchObject({ created: true, entry: { tokens: '10000000', tokensDisplay: '10', status: 'recorded' } });
    expect(second).toEqual({ created: false, entry: first.entry });
    expect(ledger.entries.size).toBe(1);
  });

  it('records a payment in a currency without a USD rate as an error entry with no tokens, once', async () => {
    const ledger = new MemoryLedger();
    const deps = { ledger, decimals: 6, usdRates: RATES, now: () => new Date('2026-01-01T00:00:00Z') };
    const gbp = { ...payment, paymentId: 'pay_gbp', currency: 'GBP' };
    const first = await issueReward(gbp, deps);
    expect(first).toMatchObject({ created: true, entry: { tokens: '0', tokensDisplay: '0', status: 'error', error: expect.stringMatching(/no USD rate for GBP/) } });
    expect(await issueReward(gbp, deps)).toEqual({ created: false, entry: first.entry });
    expect((await issueReward({ ...payment, paymentId: 'pay_eur', currency: 'EUR' }, deps)).entry).toMatchObject({ tokens: '10800000', status: 'recorded' });
  });

  it('only rewards the caller’s own succeeded payments', () => {
    expect(() => assertRewardable('m', undefined, 'pay_x')).toThrow(NotFoundError);
    expect(() => assertRewardable('m', { merchantId: 'other', status: 'succeeded' }, 'pay_x')).toThrow(NotFoundError);
    expect(() => assertRewardable('m', { merchantId: 'm', status: 'declined' }, 'pay_x')).toThrow(RewardNotEligibleError);
    expect(() => assertRewardable('m', { merchantId: 'm', status: 'declined' }, 'pay_x')).toThrow(/is declined/);
    expect(() => assertRewardable('m', { merchantId: 'm', status: 'succeeded' }, 'pay_x')).not.toThrow();
  });
});

describe('rewards on chain', () => {
  const wallet = Keypair.generate().publicKey.toBase58();
  const tokenMint = Keypair.generate().publicKey.toBase58();
  const payment = { paymentId: 'pay_0000000000000000000W', merchantId: 'm', customerId: 'c', amount: 50_000, currency: 'USD' };
  const memory = (): RewardLedger & { entries: Map<string, StoredReward> } => {
    const entries = new Map<string, StoredReward>();
    return {
      entries,
      async recordOnce(entry) {
        const existing = entries.get(entry.paymentId);
        if (existing) return { entry: existing, created: false };
        entries.set(entry.paymentId, entry);
        return { entry, created: true };
      },
      async get(paymentId) {
        return entries.get(paymentId);
      },
    };
  };
  const deps = (ledger: RewardLedger, mint?: string) => ({ ledger, decimals: 6, tokenMint: mint, now: () => new Date('2026-01-01T00:00:00Z') });

  it('a reward owed to a wallet on a stage that mints is marked unminted (an index shard) and shows pending', async () => {
    const { entry } = await issueReward({ ...payment, rewardWallet: wallet }, deps(memory(), tokenMint));
    expect(entry).toMatchObject({ wallet, unminted: expect.stringMatching(/^[0-7]$/) });
    expect(rewardView(entry, tokenMint)).toEqual(expect.objectContaining({ chain: { state: 'pending', wallet, tokenMint } }));
    expect(rewardView(entry, tokenMint)).not.toHaveProperty('unminted');
  });

  it('no wallet, or no mint on the stage: recorded, never marked for minting, and the view says which', async () => {
    const none = (await issueReward(payment, deps(memory(), tokenMint))).entry;
    expect(none.unminted).toBeUndefined();
    expect(rewardView(none, tokenMint).chain).toEqual({ state: 'no_wallet' });
    const unconfigured = (await issueReward({ ...payment, rewardWallet: wallet }, deps(memory()))).entry;
    expect(unconfigured.unminted).toBeUndefined();
    expect(rewardView(unconfigured, undefined).chain).toEqual({ state: 'not_configured', wallet });
    const gbp = (await issueReward({ ...payment, currency: 'GBP', rewardWallet: wallet }, deps(memory(), tokenMint))).entry;
    expect(gbp.unminted).toBeUndefined();
    expect(rewardView(gbp, tokenMint).chain).toBeUndefined();
  });

  it('the view of a minted reward names its signature, recipient and mint, and never the transaction bytes', () => {
    const mint = { wallet, tokenMint, recipient: 'ata', signature: 'sig', lastValidBlockHeight: 10, wire: 'AAAA' };
    const stored: StoredReward = { ...payment, tokens: '1', tokensDisplay: '0.000001', decimals: 6, status: 'recorded', createdAt: 'x', wallet, mint };
    expect(rewardView(stored, tokenMint).chain).toEqual({ state: 'pending', wallet, tokenMint, recipient: 'ata', signature: 'sig' });
    const minted = rewardView({ ...stored, mint: { ...mint, mintedAt: 'y' } }, tokenMint);
    expect(minted.chain).toEqual({ state: 'minted', wallet, tokenMint, recipient: 'ata', signature: 'sig', mintedAt: 'y' });
    expect(JSON.stringify(minted)).not.toContain('AAAA');
  });

  it('a wallet address is base58 of 32 bytes in its canonical form', () => {
    expect(isSolanaAddress(wallet)).toBe(true);
    expect(isSolanaAddress(bs58.encode(Buffer.alloc(31, 7)))).toBe(false);
    expect(isSolanaAddress(bs58.encode(Buffer.alloc(33, 7)))).toBe(false);
    expect(isSolanaAddress(`1${wallet}`)).toBe(false); // a leading zero byte: 33 bytes
    expect(isSolanaAddress(wallet.replace(/.$/, '0'))).toBe(false); // 0 is not in the alphabet
  });

  it('reads the mint authority from a keypair file\'s JSON or base58, and never quotes a bad value', () => {
    const keypair = Keypair.generate();
    expect(keypairFromSecret(JSON.stringify([...keypair.secretKey]), 'arn:s').publicKey.equals(keypair.publicKey)).toBe(true);
    expect(keypairFromSecret(` ${bs58.encode(keypair.secretKey)}\n`, 'arn:s').publicKey.equals(keypair.publicKey)).toBe(true);
    const secretish = 'sk_live_do_not_print_me';
    expect(() => keypairFromSecret(secretish, 'arn:s')).toThrow(/secret arn:s is not a Solana keypair/);
    try {
      keypairFromSecret(secretish, 'arn:s');
    } catch (error) {
      expect(String(error)).not.toContain(secretish);
    }
    const tampered = Uint8Array.from(keypair.secretKey);
    tampered[40] ^= 1;
    expect(() => keypairFromSecret(JSON.stringify([...tampered]), 'arn:s')).toThrow(/public half does not match/);
  });

  it('refuses a treasury that is the mint authority (its signature on a relayed transaction could mint), and has no relay without a treasury', async () => {
    const authority = JSON.stringify([...Keypair.generate().secretKey]);
    const secrets: Record<string, string> = { 'arn:authority': authority, 'arn:same': authority, 'arn:treasury': JSON.stringify([...Keypair.generate().secretKey]) };
    const secret = async (arn: string) => secrets[arn];
    const solana = { rpcUrl: 'http://127.0.0.1:1', tokenMint: Keypair.generate().publicKey.toBase58(), tokenProgram: 'spl-token' as const, mintAuthoritySecretArn: 'arn:authority' };
    await expect(stageMinting({ ...solana, treasurySecretArn: 'arn:same' }, 6, secret)).rejects.toThrow(/holds the mint authority's keypair.*another account/);
    expect((await stageMinting(solana, 6, secret))?.relay).toBeUndefined();
    const relay = (await stageMinting({ ...solana, treasurySecretArn: 'arn:treasury' }, 6, secret))?.relay;
    expect(relay?.policy.guarded.map((g) => g.what)).toEqual(["the treasury's token account", 'the mint authority']);
  });
});
