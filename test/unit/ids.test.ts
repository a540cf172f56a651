import * as t from '@solana/spl-token';
import * as w from '@solana/web3.js';
import { newPaymentId, NOT_WALLETS, paymentIdRange, paymentIdTime, SolanaAddress } from '../../contracts/ids';

describe('payment ids', () => {
  it('are pay_ plus 20 Crockford base32 characters and carry their time', () => {
    const at = new Date('2026-11-26T12:34:56.789Z');
    const id = newPaymentId(at);
    expect(id).toMatch(/^pay_[0-9A-HJKMNP-TV-Z]{20}$/);
    expect(paymentIdTime(id)).toEqual(at);
  });

  it('sort by creation time, so a window is a key range', () => {
    const ids = [0, 1, 1000, 86_400_000].map((ms) => newPaymentId(new Date(Date.UTC(2026, 0, 1) + ms)));
    expect([...ids].sort()).toEqual(ids);
    const { low, high } = paymentIdRange(new Date(Date.UTC(2026, 0, 1) + 1), new Date(Date.UTC(2026, 0, 1) + 1001));
    // [t+1 ms, t+1001 ms) holds the ids made at +1 ms and +1000 ms, not those at +0 or +1 day.
    expect(ids.filter((id) => id >= low && id <= high)).toEqual([ids[1], ids[2]]);
  });
});

describe('Solana wallets', () => {
  // The addresses that are no one's wallet, as web3.js and spl-token name them: each is in NOT_WALLETS and refused.
  const known = (): Record<string, string> => {
    return Object.fromEntries(
      Object.entries({
        system: w.SystemProgram.programId, token: t.TOKEN_PROGRAM_ID, token2022: t.TOKEN_2022_PROGRAM_ID, ata: t.ASSOCIATED_TOKEN_PROGRAM_ID,
        nativeMint: t.NATIVE_MINT, nativeMint2022: t.NATIVE_MINT_2022, computeBudget: w.ComputeBudgetProgram.programId, vote: w.VoteProgram.programId,
        stake: w.StakeProgram.programId, lookupTable: w.AddressLookupTableProgram.programId, ed25519: w.Ed25519Program.programId, secp256k1: w.Secp256k1Program.programId,
        bpf: w.BPF_LOADER_PROGRAM_ID, bpfDeprecated: w.BPF_LOADER_DEPRECATED_PROGRAM_ID, clock: w.SYSVAR_CLOCK_PUBKEY, rent: w.SYSVAR_RENT_PUBKEY,
        recentBlockhashes: w.SYSVAR_RECENT_BLOCKHASHES_PUBKEY, instructions: w.SYSVAR_INSTRUCTIONS_PUBKEY, rewards: w.SYSVAR_REWARDS_PUBKEY,
        slotHashes: w.SYSVAR_SLOT_HASHES_PUBKEY, slotHistory: w.SYSVAR_SLOT_HISTORY_PUBKEY, stakeHistory: w.SYSVAR_STAKE_HISTORY_PUBKEY, epochSchedule: w.SYSVAR_EPOCH_SCHEDULE_PUBKEY,
      }).map(([name, key]) => [name, key.toBase58()]),
    );
  };

  it('refuses every program, sysvar and native mint web3.js and spl-token know, naming what it is', () => {
    for (const [name, address] of Object.entries(known())) {
      expect([name, Object.hasOwn(NOT_WALLETS, address)]).toEqual([name, true]);
      const parsed = SolanaAddress.safeParse(address);
      expect([name, parsed.error?.issues[0]?.message]).toEqual([name, expect.stringMatching(/^must be a wallet, not (the|a) .+ \(tokens sent there could never be spent\)$/)]);
    }
  });

  it('takes a wallet, and a program-derived address', () => {
    expect(SolanaAddress.safeParse('9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin').success).toBe(true);
    expect(SolanaAddress.safeParse('toString').success).toBe(false);
  });
});
