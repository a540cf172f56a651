/**
 * `npm run bench:reward`: what minting a reward costs on the local Solana ledger (local/solana/: bankrun behind its
 * JSON-RPC, reached through web3.js's Connection as the cloud reaches a cluster), against a bare loop in the same
 * run:
 *
 * - bare: build the reward's transaction (the wallet's ATA created idempotently, mintToChecked, a memo), sign,
 *   sendRawTransaction, then getSignatureStatuses until finalized;
 * - protocol: the reward's ledger entry (the local store) and mintOnce (lambdas/rewards/mint.ts): the attempt
 *   recorded before sending, the same send and confirmation, the entry marked minted.
 *
 * - end to end: the local platform (in memory): POST /pay with a rewardWallet, the outbox, the reward workflow
 *   (IssueReward, MintReward: the same protocol through the platform's RPC), until the mint is on the platform's
 *   ledger (its memo names the payment): the time from the request to the mint, and mints a second over the run.
 *
 * Rounds alternate after a warm-up of each, each wallet new (so each mint creates its ATA). It prints mints per
 * second and the latency of one mint (p50, p95) for each, and the overheads as ratios of the bare loop's.
 * Options: --mints 200 (per round and kind) --rounds 3 --concurrency 8
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Connection, Keypair, LAMPORTS_PER_SOL, SystemProgram, Transaction } from '@solana/web3.js';
import { createInitializeMint2Instruction, MINT_SIZE, TOKEN_PROGRAM_ID } from '@solana/spl-token';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoRewardLedger } from '../lambdas/rewards/ledger';
import { mintOnce } from '../lambdas/rewards/mint';
import { issueReward } from '../lambdas/rewards/rewards';
import { connectionMintChain, splMintBuilder } from '../lambdas/rewards/solana';
import { randomUUID } from 'node:crypto';
import { startLocalPlatform } from '../local/platform';
import { ensureTables, startLocalStore } from '../local/dynalite';
import { LOCAL_TABLES } from '../local/env';
import { LocalLedger } from '../local/solana/ledger';
import { startLocalSolanaRpc } from '../local/solana/rpc';
import { StoreChannelHandler } from '../local/store-channel';
import { quantile } from './support';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { mints: { type: 'string', default: '200' }, rounds: { type: 'string', default: '3' }, concurrency: { type: 'string', default: '8' } } });
  const mints = Number(values.mints);
  const rounds = Number(values.rounds);
  const concurrency = Number(values.concurrency);
  if (![mints, rounds, concurrency].every((n) => Number.isInteger(n) && n >= 1)) throw new Error('--mints, --rounds and --concurrency must be positive integers');
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

  const store = await startLocalStore({});
  const ledger = await LocalLedger.start();
  const rpc = await startLocalSolanaRpc(ledger);
  try {
    await ensureTables(store.endpoint, LOCAL_TABLES);
    const documents = DynamoDBDocumentClient.from(
      new DynamoDBClient({ endpoint: store.endpoint, region: 'local', credentials: { accessKeyId: 'l', secretAccessKey: 'l' }, requestHandler: new StoreChannelHandler(store.connect()) }),
      { marshallOptions: { removeUndefinedValues: true } },
    );
    const connection = new Connection(rpc.url, 'confirmed');
    const authority = Keypair.generate();
    const mint = Keypair.generate();
    await connection.requestAirdrop(authority.publicKey, 1_000 * LAMPORTS_PER_SOL);
    const { blockhash } = await connection.getLatestBlockhash();
    const create = new Transaction({ feePayer: authority.publicKey, recentBlockhash: blockhash }).add(
      SystemProgram.createAccount({ fromPubkey: authority.publicKey, newAccountPubkey: mint.publicKey, lamports: await connection.getMinimumBalanceForRentExemption(MINT_SIZE), space: MINT_SIZE, programId: TOKEN_PROGRAM_ID }),
      createInitializeMint2Instruction(mint.publicKey, 6, authority.publicKey, null),
    );
    create.sign(authority, mint);
    await connection.sendRawTransaction(create.serialize());

    const chain = connectionMintChain(connection);
    const builder = splMintBuilder({ authority, mint: mint.publicKey, decimals: 6 });
    const rewards = new DynamoRewardLedger(documents, LOCAL_TABLES.rewards);
    let n = 0;
    const bare = async () => {
      const { blockhash } = await chain.latestBlockhash();
      const { wire, signature } = builder.build({ paymentId: `pay_bare${(n += 1)}`, wallet: Keypair.generate().publicKey.toBase58(), baseUnits: 1_000_000n }, blockhash);
      await chain.send(wire);
      while ((await chain.status(signature)).state !== 'finalized') await new Promise((resolve) => setTimeout(resolve, 5));
    };
    const protocol = async () => {
      const paymentId = `pay_${String((n += 1)).padStart(20, '0')}`;
      const rewardWallet = Keypair.generate().publicKey.toBase58();
      await issueReward(
        { paymentId, merchantId: 'm_bench', customerId: 'c', amount: 4_200, currency: 'USD', rewardWallet },
        { ledger: rewards, decimals: 6, tokenMint: mint.publicKey.toBase58(), now: () => new Date() },
      );
      await mintOnce(paymentId, { ledger: rewards, chain, builder, now: () => new Date(), pollMs: 5 });
    };
    const run = async (kind: (i: number) => Promise<void>, count: number) => {
      const latencies = new Float64Array(count);
      let next = 0;
      const started = performance.now();
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < count) {
            const i = next++;
            const t = performance.now();
            await kind(i);
            latencies[i] = performance.now() - t;
          }
        }),
      );
      return { seconds: (performance.now() - started) / 1000, latencies };
    };

    console.log(`npm run bench:reward: ${mints} mints a round and kind, ${rounds} rounds, concurrency ${concurrency}, on the local ledger (each mint creates its wallet's ATA)\n`);
    await run(bare, Math.min(50, mints));
    await run(protocol, Math.min(50, mints));
    const all = { bare: [] as number[], protocol: [] as number[] };
    const rates = { bare: [] as number[], protocol: [] as number[] };
    for (let r = 0; r < rounds; r += 1) {
      for (const [name, kind] of [['bare', bare], ['protocol', protocol]] as const) {
        const { seconds, latencies } = await run(kind, mints);
        all[name].push(...latencies);
        rates[name].push(mints / seconds);
        const sorted = Float64Array.from(latencies).sort();
        console.log(`  round ${r + 1} ${name.padEnd(8)} ${(mints / seconds).toFixed(1).padStart(6)} mints/s  p50 ${quantile(sorted, 0.5).toFixed(1)} ms  p95 ${quantile(sorted, 0.95).toFixed(1)} ms`);
      }
    }
    const summary = (name: 'bare' | 'protocol') => {
      const sorted = Float64Array.from(all[name]).sort();
      const rate = rates[name].slice().sort((a, b) => a - b)[Math.floor(rates[name].length / 2)];
      return { rate, p50: quantile(sorted, 0.5), p95: quantile(sorted, 0.95) };
    };
    const b = summary('bare');
    const p = summary('protocol');
    console.log('\nmedian round, and latency over all rounds:');
    console.log(`  bare mintToChecked (send, then poll to finalized)   ${b.rate.toFixed(1)} mints/s, p50 ${b.p50.toFixed(1)} ms, p95 ${b.p95.toFixed(1)} ms`);
    console.log(`  protocol (ledger entry, record, send, confirm, mark) ${p.rate.toFixed(1)} mints/s, p50 ${p.p50.toFixed(1)} ms, p95 ${p.p95.toFixed(1)} ms`);
    console.log(`  overhead: ${(b.rate / p.rate).toFixed(2)}× the time a mint at this concurrency, p95 ${(p.p95 / b.p95).toFixed(2)}×`);
    const e = await endToEnd(mints, concurrency);
    console.log(`  end to end (/pay → workflow → mint on chain)        ${e.rate.toFixed(1)} mints/s, p50 ${e.p50.toFixed(1)} ms, p95 ${e.p95.toFixed(1)} ms (${e.minted}/${mints} minted; the outbox drains every 250 ms)`);
    console.log(`  of which /pay answered ${e.payRate.toFixed(1)} payments/s, and the last mint came ${e.drainMs.toFixed(0)} ms after the last answer`);
    console.log(`  end to end against bare: ${(b.rate / e.rate).toFixed(2)}× the time a mint, p95 ${(e.p95 / b.p95).toFixed(2)}×`);
    documents.destroy();
  } finally {
    await rpc.close();
    ledger.close();
    await store.close();
  }
}

/**
 * The local platform in memory: `count` payments with a new wallet each, `concurrency` at a time, each timed from
 * its request to its mint recorded on the platform's ledger (the memo names the payment).
 */
async function endToEnd(count: number, concurrency: number): Promise<{ rate: number; p50: number; p95: number; minted: number; payRate: number; drainMs: number }> {
  const platform = await startLocalPlatform({ port: 0, inMemory: true, onError: () => undefined });
  try {
    const ledger = await platform.solana.ledger();
    const token = await platform.issuer.signToken({ merchantId: 'm_bench' });
    const sentAt = new Map<string, number>();
    const latencies: number[] = [];
    let lastMint = 0;
    const done = new Map<string, () => void>();
    const unhook = ledger.onRecorded((record) => {
      if (record.err !== null) return;
      for (const id of record.memo?.match(/pay_[0-9A-Z]{20}/g) ?? []) {
        const t = sentAt.get(id);
        if (t === undefined) continue;
        lastMint = performance.now();
        latencies.push(lastMint - t);
        done.get(id)?.();
      }
    });
    const started = performance.now();
    let lastAnswer = started;
    let answered = 0;
    let next = 0;
    const waits: Promise<void>[] = [];
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < count) {
          next += 1;
          const t = performance.now();
          const res = await fetch(`${platform.url}/pay`, {
            method: 'POST',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': randomUUID() },
            body: JSON.stringify({ amount: 4_200, currency: 'USD', customerId: `c_${next}`, rewardWallet: Keypair.generate().publicKey.toBase58(), paymentMethod: { type: 'card', number: '4242424242424242', expMonth: 12, expYear: 2031 } }),
          });
          const body = (await res.json()) as { payment?: { paymentId: string; status: string } };
          lastAnswer = performance.now();
          answered += 1;
          const id = body.payment?.status === 'succeeded' ? body.payment.paymentId : undefined;
          if (!id) continue;
          sentAt.set(id, t);
          waits.push(new Promise<void>((resolve) => done.set(id, resolve)));
        }
      }),
    );
    // Every succeeded payment's mint, or 60 s.
    await Promise.race([Promise.all(waits), new Promise((resolve) => setTimeout(resolve, 60_000))]);
    unhook();
    const sorted = Float64Array.from(latencies).sort();
    return {
      rate: latencies.length / ((lastMint - started) / 1000),
      p50: quantile(sorted, 0.5),
      p95: quantile(sorted, 0.95),
      minted: latencies.length,
      // What bounds the rate: /pay's own answers, and how long the mints ran on after the last of them.
      payRate: answered / ((lastAnswer - started) / 1000),
      drainMs: lastMint - lastAnswer,
    };
  } finally {
    await platform.close(1000);
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
