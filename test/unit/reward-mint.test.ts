/**
 * The reward's mint protocol (lambdas/rewards/mint.ts) against a fake cluster that keeps the rules that matter to
 * money: a transaction lands at most once (by signature), never after its blockhash's last valid block height, and
 * a send may be lost. Each case is a crash or a retry between two steps; the count of tokens minted decides.
 */
import { TransientError } from '../../contracts/errors';
import { MintFailedError, mintOnce, sweepBatch, MintRefusedError, type MintAttempt, type MintBuilder, type MintChain, type MintDeps, type MintLedger, type SignatureState } from '../../lambdas/rewards/mint';

interface FakeTx {
  readonly signature: string;
  readonly blockhash: string;
  readonly amount: string;
  readonly fail?: boolean;
}

class FakeCluster implements MintChain {
  height = 100;
  readonly issued = new Map<string, number>();
  readonly landed = new Map<string, FakeTx>();
  minted = 0n;
  sends = 0;
  /** Sends the cluster takes but does not land until `landPending`. */
  delayLanding = false;
  readonly pending: FakeTx[] = [];
  failNext = false;

  async latestBlockhash() {
    const blockhash = `bh-${this.height}`;
    if (!this.issued.has(blockhash)) this.issued.set(blockhash, this.height + 150);
    return { blockhash, lastValidBlockHeight: this.issued.get(blockhash)! };
  }
  async blockHeight() {
    return this.height;
  }
  async send(wire: Buffer) {
    this.sends += 1;
    const tx = JSON.parse(wire.toString()) as FakeTx;
    if (this.landed.has(tx.signature)) return;
    if (this.height > (this.issued.get(tx.blockhash) ?? -1)) throw new MintRefusedError('Blockhash not found', true);
    if (this.delayLanding) {
      this.pending.push(tx);
      return;
    }
    this.land(tx);
  }
  land(tx: FakeTx) {
    if (this.landed.has(tx.signature) || this.height > this.issued.get(tx.blockhash)!) return; // once, and never late
    this.landed.set(tx.signature, tx);
    if (!tx.fail) this.minted += BigInt(tx.amount);
  }
  landPending() {
    for (const tx of this.pending.splice(0)) this.land(tx);
  }
  async status(signature: string): Promise<SignatureState> {
    const tx = this.landed.get(signature);
    if (!tx) return { state: 'unknown' };
    return tx.fail ? { state: 'failed', error: '{"InstructionError":[1,{"Custom":5}]}' } : { state: 'finalized' };
  }
}

class MemoryMintLedger implements MintLedger {
  readonly entries = new Map<string, { tokens: string; status: string; wallet?: string; mint?: MintAttempt }>();
  async mintState(paymentId: string) {
    const entry = this.entries.get(paymentId);
    return entry && { ...entry };
  }
  async recordAttempt(paymentId: string, attempt: MintAttempt, replacing: string | undefined) {
    const entry = this.entries.get(paymentId)!;
    if (entry.status !== 'recorded' || entry.mint?.signature !== replacing || entry.mint?.mintedAt) return false;
    // A first attempt only for the tokens the reward has now (a refund may have reduced them).
    if (replacing === undefined && attempt.tokens !== undefined && attempt.tokens !== entry.tokens) return false;
    entry.mint = attempt;
    return true;
  }
  async markMinted(paymentId: string, signature: string, at: string) {
    const entry = this.entries.get(paymentId)!;
    if (entry.mint?.signature !== signature) throw new Error('condition failed');
    entry.mint = { ...entry.mint, mintedAt: entry.mint.mintedAt ?? at };
  }
  /** The `mint_failed` changes recorded, in order. */
  readonly failures: Array<{ paymentId: string; signature: string; reason: string; tokens: string }> = [];
  async markFailed(paymentId: string, signature: string, at: string, reason: string, tokens: string) {
    const entry = this.entries.get(paymentId)!;
    if (entry.mint?.signature !== signature || entry.mint.mintedAt || entry.mint.failedAt) return;
    entry.mint = { ...entry.mint, failedAt: at, error: reason };
    this.failures.push({ paymentId, signature, reason, tokens });
  }
}

function setup() {
  const cluster = new FakeCluster();
  const ledger = new MemoryMintLedger();
  ledger.entries.set('pay_1', { tokens: '10000000', status: 'recorded', wallet: 'w' });
  let n = 0;
  const builder: MintBuilder = {
    build: ({ baseUnits }, blockhash) => {
      n += 1;
      const tx: FakeTx = { signature: `sig-${n}`, blockhash, amount: baseUnits.toString(), ...(cluster.failNext ? { fail: true } : {}) };
      return { wire: Buffer.from(JSON.stringify(tx)), signature: tx.signature, tokenMint: 'mint', recipient: 'ata' };
    },
  };
  const deps: MintDeps = { ledger, chain: cluster, builder, now: () => new Date('2026-12-01T00:00:00Z'), confirmTimeoutMs: 0, pollMs: 0, sleep: async () => undefined };
  return { cluster, ledger, builder, deps };
}

/** A run that recorded its attempt and crashed before sending it. */
async function crashAfterRecord({ cluster, ledger, builder }: ReturnType<typeof setup>): Promise<MintAttempt> {
  const { blockhash, lastValidBlockHeight } = await cluster.latestBlockhash();
  const { wire, signature } = builder.build({ paymentId: 'pay_1', wallet: 'w', baseUnits: 10_000_000n }, blockhash);
  const attempt = { wallet: 'w', tokenMint: 'mint', recipient: 'ata', signature, lastValidBlockHeight, wire: wire.toString('base64') };
  expect(await ledger.recordAttempt('pay_1', attempt, undefined)).toBe(true);
  return attempt;
}

test('mints once, records the attempt before sending, and marks it minted; a retry sends nothing', async () => {
  const s = setup();
  const attempt = (await mintOnce('pay_1', s.deps))!;
  expect(attempt).toMatchObject({ signature: 'sig-1', mintedAt: '2026-12-01T00:00:00.000Z' });
  expect(s.cluster.minted).toBe(10_000_000n);
  expect(await mintOnce('pay_1', s.deps)).toEqual(attempt);
  expect(s.cluster.sends).toBe(1);
});

test('a crash after recording, while the blockhash is valid: the same transaction is sent again, minted once', async () => {
  const s = setup();
  const recorded = await crashAfterRecord(s);
  const attempt = (await mintOnce('pay_1', s.deps))!;
  expect(attempt.signature).toBe(recorded.signature);
  expect(s.cluster.minted).toBe(10_000_000n);
});

test('a crash after recording and sending, found landed: marked minted without sending', async () => {
  const s = setup();
  const recorded = await crashAfterRecord(s);
  await s.cluster.send(Buffer.from(recorded.wire, 'base64'));
  const sends = s.cluster.sends;
  expect((await mintOnce('pay_1', s.deps))!.signature).toBe(recorded.signature);
  expect(s.cluster.sends).toBe(sends);
  expect(s.cluster.minted).toBe(10_000_000n);
});

test('a crash after recording, found once the blockhash expired: a new transaction, and the old one can never land', async () => {
  const s = setup();
  const recorded = await crashAfterRecord(s);
  s.cluster.height += 151;
  const attempt = (await mintOnce('pay_1', s.deps))!;
  expect(attempt.signature).not.toBe(recorded.signature);
  // The old bytes, sent late (a stray retry): refused, nothing minted twice.
  await expect(s.cluster.send(Buffer.from(recorded.wire, 'base64'))).rejects.toThrow(MintRefusedError);
  expect(s.cluster.minted).toBe(10_000_000n);
});

test('sent but not finalized in time: a TransientError, and the next try waits for that one rather than minting again', async () => {
  const s = setup();
  s.cluster.delayLanding = true;
  await expect(mintOnce('pay_1', s.deps)).rejects.toThrow(TransientError);
  // Still valid and still unknown: sent again (the same signature), still pending.
  await expect(mintOnce('pay_1', s.deps)).rejects.toThrow(TransientError);
  expect(s.ledger.entries.get('pay_1')!.mint!.signature).toBe('sig-1');
  s.cluster.landPending();
  expect((await mintOnce('pay_1', s.deps))!.signature).toBe('sig-1');
  expect(s.cluster.minted).toBe(10_000_000n);
  expect(s.cluster.landed.size).toBe(1);
});

test('a lost send whose blockhash then expires: rebuilt once it can never land, minted once', async () => {
  const s = setup();
  s.cluster.delayLanding = true;
  await expect(mintOnce('pay_1', s.deps)).rejects.toThrow(TransientError);
  s.cluster.pending.splice(0); // the cluster dropped it
  s.cluster.height += 151;
  s.cluster.delayLanding = false;
  expect((await mintOnce('pay_1', s.deps))!.signature).toBe('sig-2');
  s.cluster.landPending();
  expect(s.cluster.minted).toBe(10_000_000n);
});

test('a mint that fails on chain is an error, not a retry loop; nothing was minted', async () => {
  const s = setup();
  s.cluster.failNext = true;
  await expect(mintOnce('pay_1', s.deps)).rejects.toThrow(expect.objectContaining({ name: 'MintFailedError', message: expect.stringMatching(/failed on chain: .*Custom/) }));
  expect(s.cluster.minted).toBe(0n);
  // On record: the attempt is marked failed with the cluster's reason, and one mint_failed change of its tokens.
  expect(s.ledger.entries.get('pay_1')!.mint).toMatchObject({ signature: 'sig-1', failedAt: '2026-12-01T00:00:00.000Z', error: expect.stringMatching(/^failed on chain: .*Custom/) });
  expect(s.ledger.failures).toEqual([{ paymentId: 'pay_1', signature: 'sig-1', reason: expect.stringContaining('Custom'), tokens: '10000000' }]);
  // Fixed (say, the authority restored): the failed attempt is replaced, once.
  s.cluster.failNext = false;
  expect((await mintOnce('pay_1', s.deps))!.signature).toBe('sig-2');
  expect(s.cluster.minted).toBe(10_000_000n);
  expect(s.ledger.failures).toHaveLength(1);
  expect(s.ledger.entries.get('pay_1')!.mint).not.toHaveProperty('failedAt');
});

test('a refused send is recorded once per transaction: sent again while its blockhash is valid, the refusal is not counted twice', async () => {
  const s = setup();
  const send = s.cluster.send.bind(s.cluster);
  let refusing = true;
  s.cluster.send = async (wire) => {
    if (refusing) throw new MintRefusedError('Attempt to debit an account but found no record of a prior credit.');
    return send(wire);
  };
  await expect(mintOnce('pay_1', s.deps)).rejects.toThrow(/sig-1 was refused: Attempt to debit/);
  await expect(mintOnce('pay_1', s.deps)).rejects.toThrow(/sig-1 was refused/);
  expect(s.ledger.failures).toEqual([{ paymentId: 'pay_1', signature: 'sig-1', reason: 'refused: Attempt to debit an account but found no record of a prior credit.', tokens: '10000000' }]);
  // Past its blockhash, a new transaction: refused too, it is a second failure.
  s.cluster.height += 151;
  await expect(mintOnce('pay_1', s.deps)).rejects.toThrow(/sig-2 was refused/);
  expect(s.ledger.failures.map((f) => f.signature)).toEqual(['sig-1', 'sig-2']);
  // The treasury funded again: the same transaction (still valid) mints, once.
  refusing = false;
  expect((await mintOnce('pay_1', s.deps))!.signature).toBe('sig-2');
  expect(s.cluster.minted).toBe(10_000_000n);
});

test('a failure on chain that a stopped run never recorded is recorded by the next before it replaces the transaction', async () => {
  const s = setup();
  s.cluster.failNext = true;
  const markFailed = s.ledger.markFailed.bind(s.ledger);
  s.ledger.markFailed = async () => {
    throw new Error('the run stopped');
  };
  await expect(mintOnce('pay_1', s.deps)).rejects.toThrow(/the run stopped/);
  s.ledger.markFailed = markFailed;
  s.cluster.failNext = false;
  expect((await mintOnce('pay_1', s.deps))!.signature).toBe('sig-2');
  expect(s.ledger.failures).toEqual([{ paymentId: 'pay_1', signature: 'sig-1', reason: expect.stringMatching(/^failed on chain/), tokens: '10000000' }]);
  expect(s.cluster.minted).toBe(10_000_000n);
});

test('a transient error is no failure: nothing is marked', async () => {
  const s = setup();
  s.cluster.delayLanding = true;
  await expect(mintOnce('pay_1', s.deps)).rejects.toThrow(TransientError);
  expect(s.ledger.failures).toEqual([]);
  expect(s.ledger.entries.get('pay_1')!.mint).not.toHaveProperty('failedAt');
});

test('a refund that reversed the reward before any transaction: nothing is minted, nothing is an error', async () => {
  const s = setup();
  s.ledger.entries.set('pay_1', { tokens: '0', status: 'reversed', wallet: 'w' });
  expect(await mintOnce('pay_1', s.deps)).toBeUndefined();
  expect(s.cluster.sends).toBe(0);
});

test('a refund that reduced the tokens after a run read them: its attempt is refused, and it mints the reduced tokens', async () => {
  const s = setup();
  const read = s.ledger.mintState.bind(s.ledger);
  let reads = 0;
  s.ledger.mintState = async (paymentId: string) => {
    const state = await read(paymentId);
    // The refund lands between the run's first read and its attempt's record.
    if ((reads += 1) === 1) s.ledger.entries.get(paymentId)!.tokens = '4000000';
    return state;
  };
  const attempt = (await mintOnce('pay_1', s.deps))!;
  expect(attempt.tokens).toBe('4000000');
  expect(s.cluster.minted).toBe(4_000_000n);
});

test('two runs at once record one attempt between them, and mint once', async () => {
  const s = setup();
  const [a, b] = await Promise.all([mintOnce('pay_1', s.deps), mintOnce('pay_1', s.deps)]);
  expect(a?.signature).toBe(b?.signature);
  expect(a?.signature).toBeDefined();
  expect(s.cluster.minted).toBe(10_000_000n);
});

test('refuses to mint what has no entry, or an entry with no tokens', async () => {
  const s = setup();
  await expect(mintOnce('pay_none', s.deps)).rejects.toThrow(/no ledger entry/);
  await expect(mintOnce('pay_none', s.deps)).rejects.toBeInstanceOf(MintFailedError);
  s.ledger.entries.set('pay_gbp', { tokens: '0', status: 'error' });
  await expect(mintOnce('pay_gbp', s.deps)).rejects.toThrow(/is error: it has no tokens/);
  expect(s.cluster.sends).toBe(0);
});

test('a fresh transaction refused because its blockhash expired before it was sent: rebuilt in the same try, minted once', async () => {
  const s = setup();
  // The chain moves past the blockhash while the attempt is being recorded (a slow store, a busy leader).
  const record = s.ledger.recordAttempt.bind(s.ledger);
  let bumped = false;
  s.ledger.recordAttempt = async (...args) => {
    const recorded = await record(...args);
    if (!bumped) {
      bumped = true;
      s.cluster.height += 151;
    }
    return recorded;
  };
  const attempt = (await mintOnce('pay_1', s.deps))!;
  expect(attempt.signature).toBe('sig-2');
  expect(s.cluster.minted).toBe(10_000_000n);
  expect(s.cluster.landed.has('sig-1')).toBe(false);
});

test('the sweep takes the oldest half and a window of the rest that moves on each run: every candidate is tried within a few runs', () => {
  const ids = Array.from({ length: 200 }, (_, i) => `pay_${i}`);
  expect(sweepBatch(ids.slice(0, 30), 50, 7)).toEqual(ids.slice(0, 30));
  const first = sweepBatch(ids, 50, 0);
  expect(first).toHaveLength(50);
  expect(first.slice(0, 25)).toEqual(ids.slice(0, 25));
  // 175 behind the oldest 25, 25 a run: all of them within 7 consecutive runs, whatever the first run's number.
  for (const from of [0, 3, 1_000_003]) {
    const tried = new Set<string>();
    for (let turn = from; turn < from + 7; turn += 1) for (const id of sweepBatch(ids, 50, turn)) tried.add(id);
    expect(tried.size).toBe(200);
  }
});
