/**
 * `npm run test:faults`: the local platform under load, killed with SIGKILL at random moments, restarted on the
 * same data, and every request retried with its own key after the in-flight window; then the money is counted
 * from outside the platform: the gateways' own ledgers (the sandboxes' and the Stripe and Amazon Pay fakes' calls,
 * under the data folder's gateways/) and the stored records. Two connectors lose every charge's answer after
 * charging (SANDBOX_FAULTS: a sandbox, and a Stripe account through the real adapter against the fake of Stripe's
 * API), and the Amazon Pay account (one payment in seven is a wallet) answers each charge it made with a 500, so
 * the reconciliation by gateway key is exercised on every run, and a share of the store's calls is throttled
 * (`--store-fault-rate`, 5% by default: the SDK retries them, and some get through to the steps). Three payments in
 * four name a customer's Solana wallet (`rewardWallet`), so rewards are minted on the local ledger while the
 * platform is killed, and a share of the ledger's sends is dropped unprocessed or loses its answer
 * (`--solana-fault-rate`, 10% each by default), with a short confirmation wait (MINT_CONFIRM_TIMEOUT_MS), so
 * resends, confirmation timeouts and expired blockhashes happen on every run. Customers claim the rewards of their
 * payments without a wallet (`POST /reward {customerId, wallet}`) while the platform is killed too, and once more
 * each at the end until nothing is left to claim.
 *
 * Breaches (any one fails the run): a payment charged twice (two successful gateway charges for one payment
 * id, or charged payments under two ids for one client key); a charge without a succeeded payment record; a
 * 5xx or "failed" answer for a charged payment (admission control's 503, given before the key is claimed, is
 * not one); a succeeded payment without exactly one reward; a succeeded payment with a wallet without exactly one
 * mint on chain, or with a mint of another amount or to another wallet, or a mint for a payment that did not
 * succeed, or a wallet whose tokens differ from its rewards (read from the ledger's own journal, not our table); a
 * claim left open, a reward without a wallet left unclaimed or in two claims, a claim whose total is not its
 * rewards', or a closed claim without exactly one mint of its total to its wallet; a
 * succeeded payment missing from the fraud features,
 * or the features' terminal days counting more payments than were observed; a terminal payment not in the
 * analytics index exactly once (its search endpoint's journal); a payment left non-terminal without a reason.
 *
 * test/faults/cli.ts is `npm run test:faults`; test/e2e/faults.test.ts runs a short form in `npm test`. Debugging:
 * FAULTS_KEEP=1 keeps the run's data folder, FAULTS_DEBUG=1 prints the mints still missing while it waits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScanCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Connection, Keypair, PublicKey } from '@solana/web3.js';
import { getAssociatedTokenAddressSync } from '@solana/spl-token';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { IDEMPOTENCY_HEADER } from '../../contracts/api';
import { readLedger } from '../../lambdas/payments/sandbox';
import { rewardBaseUnits } from '../../lambdas/rewards/rewards';
import { ensureTables, startLocalStore } from '../../local/dynalite';
import { ANALYTICS_INDEX_NAME } from '../../contracts/resources';
import { LOCAL_TABLES } from '../../local/env';
import { createLocalIssuer } from '../../local/issuer';
import { journalTransactions } from '../../local/solana/ledger';
import { waitForHealth } from '../support/suite';

const ROOT = join(__dirname, '..', '..');

export interface FaultsOptions {
  /** kill -9 rounds (each with a batch of payments in flight). */
  readonly kills: number;
  readonly batch: number;
  /** PAYMENT_LEASE_MS of the platform (the in-flight window the retries wait out). @default 30000 */
  readonly leaseMs?: number;
  /** Progress lines. @default console.log */
  readonly log?: (line: string) => void;
  /** The platform's stderr too. */
  readonly verbose?: boolean;
  /** The share of store calls throttled (the SDK retries; some get through). @default 0.05 */
  readonly storeFaultRate?: number;
  /** The share of Solana sends dropped, and as many again whose answer is lost. @default 0.1 */
  readonly solanaFaultRate?: number;
}

export interface FaultsReport {
  readonly requests: number;
  readonly seconds: number;
  readonly finalStatuses: Readonly<Record<number, number>>;
  readonly payments: number;
  readonly succeeded: number;
  readonly charged: number;
  readonly rewards: number;
  /** Successful mint transactions on the ledger, and the succeeded payments that named a wallet. */
  readonly mints: number;
  readonly owedMints: number;
  /** Claims made (closed or not), and the succeeded payments without a wallet whose rewards they are to take. */
  readonly claims: number;
  readonly rewardsWithoutWallet: number;
  readonly breaches: readonly string[];
  /** The printable report. */
  readonly text: string;
}

interface Sent {
  readonly key: string;
  readonly body: unknown;
  /** Each answer, with when it arrived (epoch ms). */
  readonly answers: Array<{ status: number; body: string; at?: number }>;
}

interface Run {
  readonly dataDir: string;
  readonly url: string;
  readonly port: number;
  readonly leaseMs: number;
  readonly verbose: boolean;
  readonly storeFaultRate: number;
  readonly solanaFaultRate: number;
  /** What the last start printed: the local Solana RPC's URL and the reward token's mint. */
  solanaUrl?: string;
  rewardMint?: string;
}

/** The exit of a child, listened for from its spawn (an 'exit' that fired before a later `once` would never be seen). */
const exits = new WeakMap<ChildProcess, Promise<void>>();
function exited(child: ChildProcess): Promise<void> {
  return exits.get(child) ?? Promise.resolve();
}

function start(run: Run): Promise<ChildProcess> {
  const URL_BASE = run.url;
  const args = [
    '--import', 'tsx', 'bin/local.ts', '--port', String(run.port), '--data-dir', run.dataDir, '--store-fault-rate', String(run.storeFaultRate),
    '--solana-port', '0', '--solana-fault-rate', String(run.solanaFaultRate),
    // The mints schedule every 5 s (not each minute): what the workflow or a claim left is finished soon.
    '--mints-every-ms', '5000',
  ];
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: {
      ...process.env,
      // A sandbox, and one Stripe account through the real adapter and the fake of Stripe's API, each lose every
      // charge's answer after charging: the reconciliation by gateway key runs on both on every run. The Amazon Pay
      // account answers every charge it made with a 500: the adapter repeats it under its key, and a kill between
      // the two leaves the attempt to the reconciler's repeat.
      SANDBOX_FAULTS: 'sandbox-latam=timeout,stripe-eu=timeout,amazon-pay=server_error',
      POWERTOOLS_LOG_LEVEL: 'ERROR',
      PAYMENT_LEASE_MS: String(run.leaseMs),
      // Confirmation gives up soon (an unknown outcome, retried), and the mints schedule takes over soon.
      MINT_CONFIRM_TIMEOUT_MS: '1500',
      MINT_SWEEP_AFTER_MS: '5000',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  exits.set(child, new Promise((resolve) => child.once('exit', () => resolve())));
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      run.solanaUrl = /Solana: JSON-RPC at (\S+),/.exec(out)?.[1] ?? run.solanaUrl;
      run.rewardMint = /as token (\w+)/.exec(out)?.[1] ?? run.rewardMint;
      if (run.solanaUrl && run.rewardMint && (out.includes(URL_BASE) || out.includes('listening'))) resolve(child);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (run.verbose) process.stderr.write(chunk);
    });
    child.once('exit', (code) => reject(new Error(`the platform exited during start (${code}): ${out.slice(-2000)}`)));
    setTimeout(() => reject(new Error(`the platform did not start in 60 s: ${out.slice(-2000)}`)), 60_000).unref();
  });
}

/** The customers' wallets: three payments in four name one. */
const WALLETS = Array.from({ length: 8 }, () => Keypair.generate().publicKey.toBase58());
/** The customers, and the wallet each claims the rewards of its payments without a wallet to. */
const CUSTOMERS = 17;
const CLAIM_WALLETS = Array.from({ length: CUSTOMERS }, () => Keypair.generate().publicKey.toBase58());
/** Customers claiming while each batch of payments is in flight (and killed). */
const CLAIMS_PER_ROUND = 3;

function body(i: number) {
  // Ordinary cards across regions (the bandit's connectors decline some), a processing-error card (fallback), and
  // one payment in seven an Amazon Pay wallet (a US buyer's Charge Permission: amazon-pay's region).
  const cards = ['4242424242424242', '4000000000000077', '5555555555554444', '4000000000000119'];
  const wallet = i % 7 === 3;
  return {
    amount: 500 + (i % 50) * 37,
    currency: 'USD',
    customerId: `cus_${i % CUSTOMERS}`,
    country: wallet ? 'US' : ['US', 'BR', 'DE', 'JP', 'MX'][i % 5],
    paymentMethod: wallet
      ? { type: 'wallet', wallet: 'amazon_pay', token: `S01-${String(1_000_000 + i)}-${String(7_000_000 + i)}` }
      : { type: 'card', number: cards[i % cards.length], expMonth: 12, expYear: 2031, cvc: '123' },
    metadata: { order: `o-${i}` },
    // Every fifth block of five pays without a wallet (across all cards and countries).
    ...(Math.floor(i / 5) % 4 === 3 ? {} : { rewardWallet: WALLETS[i % WALLETS.length] }),
  };
}

async function post(url: string, token: string, sent: Sent): Promise<void> {
  try {
    const res = await fetch(`${url}/pay`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', [IDEMPOTENCY_HEADER]: sent.key },
      body: JSON.stringify(sent.body),
    });
    sent.answers.push({ status: res.status, body: await res.text(), at: Date.now() });
  } catch {
    // the platform died mid-request: no answer
  }
}

/** A claim request for customer `c` (answers appended to `answers`). */
async function postClaim(url: string, token: string, c: number, answers: Array<{ status: number; body: string }>): Promise<void> {
  try {
    const res = await fetch(`${url}/reward`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ customerId: `cus_${c}`, wallet: CLAIM_WALLETS[c] }),
    });
    answers.push({ status: res.status, body: await res.text() });
  } catch {
    // the platform died mid-request
  }
}

export async function runFaults(options: FaultsOptions): Promise<FaultsReport> {
  const log = options.log ?? ((line: string) => console.log(line));
  const KILLS = options.kills;
  const BATCH = options.batch;
  const LEASE_MS = options.leaseMs ?? 45_000;
  const dataDir = mkdtempSync(join(tmpdir(), 'smartpay-faults-'));
  const port = 3900 + Math.floor(Math.random() * 90);
  const run: Run = {
    dataDir,
    port,
    url: `http://127.0.0.1:${port}`,
    leaseMs: LEASE_MS,
    verbose: options.verbose ?? false,
    storeFaultRate: options.storeFaultRate ?? 0.05,
    solanaFaultRate: options.solanaFaultRate ?? 0.1,
  };
  const URL_BASE = run.url;
  log(`faults: data in ${dataDir}, platform on ${URL_BASE}`);
  try {
    return await faults(run, KILLS, BATCH, LEASE_MS, log);
  } finally {
    if (!process.env.FAULTS_KEEP) rmSync(dataDir, { recursive: true, force: true });
  }
}

async function faults(run: Run, KILLS: number, BATCH: number, LEASE_MS: number, log: (line: string) => void): Promise<FaultsReport> {
  const { dataDir, url: URL_BASE } = run;
  const started = Date.now();
  const issuer = await createLocalIssuer({ dir: join(dataDir, 'issuer') });
  const token = await issuer.signToken({ merchantId: 'm_faults' });
  const sent: Sent[] = [];
  const claimAnswers: Array<{ status: number; body: string }> = [];
  let child = await start(run);
  await waitForHealth(URL_BASE, { timeoutMs: 20_000 });
  for (let round = 0; round < KILLS; round++) {
    const batch = Array.from({ length: BATCH }, (_, i) => ({ key: randomUUID(), body: body(round * BATCH + i), answers: [] }));
    sent.push(...batch);
    const inFlight = [
      ...batch.map((s) => post(URL_BASE, token, s)),
      // Claims of the rewards recorded so far without a wallet, killed mid-way too.
      ...Array.from({ length: CLAIMS_PER_ROUND }, (_, k) => postClaim(URL_BASE, token, (round * CLAIMS_PER_ROUND + k) % CUSTOMERS, claimAnswers)),
    ];
    await new Promise((r) => setTimeout(r, 150 + Math.random() * 1500));
    child.kill('SIGKILL');
    await Promise.allSettled(inFlight);
    await exited(child);
    log(`round ${round + 1}/${KILLS}: kill -9 with ${batch.filter((s) => s.answers.length === 0).length} of ${BATCH} unanswered`);
    child = await start(run);
    await waitForHealth(URL_BASE, { timeoutMs: 20_000 });
  }
  log(`waiting ${LEASE_MS / 1000} s for the in-flight window, then retrying every request with its own key`);
  await new Promise((r) => setTimeout(r, LEASE_MS + 1000));
  for (let i = 0; i < sent.length; i += 8) await Promise.all(sent.slice(i, i + 8).map((s) => post(URL_BASE, token, s)));
  // 409 (a run still holds the lease), 202 (processing), 500 and 503 transient_failure (failed before anything
  // moved: "safe to retry with the same key") and 503 (at capacity): ask again, as a client would, until every key
  // has a final answer.
  const unsettled = (x: Sent) => {
    const last = x.answers.at(-1);
    if (!last) return true;
    if (last.status === 409 || last.status === 500) return true;
    if (last.status === 202) return last.body.includes('"processing"');
    return last.status === 503 && /"(service_unavailable|transient_failure)"/.test(last.body);
  };
  for (let pass = 0; pass < 20 && sent.some(unsettled); pass++) {
    await new Promise((r) => setTimeout(r, 2000));
    for (const s of sent.filter(unsettled)) await post(URL_BASE, token, s);
  }
  // Let the outbox drain and the rewards run (the mints the workflow left are the mints schedule's, each minute),
  // then stop the platform cleanly and count from the data.
  await new Promise((r) => setTimeout(r, 5000));
  await waitForMints(run, sent, log);
  // Every customer claims at once, now that the rewards are recorded, and the platform is killed mid-way (claims
  // opened, rewards taken, totals closed, mints sent: wherever each one is).
  const answeredBefore = claimAnswers.length;
  const claimsInFlight = Array.from({ length: CUSTOMERS }, (_, c) => postClaim(URL_BASE, token, c, claimAnswers));
  await new Promise((r) => setTimeout(r, 100 + Math.random() * 600));
  child.kill('SIGKILL');
  await Promise.allSettled(claimsInFlight);
  await exited(child);
  log(`claims: kill -9 with ${CUSTOMERS - (claimAnswers.length - answeredBefore)} of ${CUSTOMERS} claims unanswered (and ${KILLS * CLAIMS_PER_ROUND} in flight at the payment rounds' kills)`);
  child = await start(run);
  await waitForHealth(URL_BASE, { timeoutMs: 20_000 });
  // Then each customer claims until nothing is left: a claim left open by the kill is finished by its customer's
  // next request, and a customer with more rewards than that claim took gets a new one.
  const finalClaims = await claimAll(URL_BASE, token, claimAnswers);
  log(`claims: ${claimAnswers.length} requests in all; ${finalClaims} of ${CUSTOMERS} customers with nothing left to claim`);
  await waitForClaimMints(run, sent, log);
  // The analytics index learns each payment off its path (the outbox, then a queue that batches): let it catch up
  // before the last stop, as the mints above (a stop leaves the rest queued, durably, for the next start).
  await waitForIndex(dataDir, sent, log, { url: URL_BASE, token });
  child.kill('SIGINT');
  await exited(child);

  const store = await startLocalStore({ path: join(dataDir, 'dynamodb') });
  await ensureTables(store.endpoint, LOCAL_TABLES);
  const db = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: store.endpoint, region: 'local', credentials: { accessKeyId: 'l', secretAccessKey: 'l' } }));
  const scan = async (table: string) => {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await db.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start }));
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
    return items;
  };
  const payments = new Map((await scan(LOCAL_TABLES.payments)).map((p) => [String(p.paymentId), p]));
  const rewards = await scan(LOCAL_TABLES.rewards);
  const features = await scan(LOCAL_TABLES.fraudState);
  await store.close();

  const charges = new Map<string, number>();
  /** Successful charges by connector (its ledger file), so the report shows each gateway was exercised. */
  const byConnector = new Map<string, number>();
  const ledgers = join(dataDir, 'gateways');
  for (const file of existsSync(ledgers) ? readdirSync(ledgers).filter((f) => f.endsWith('.jsonl')) : []) {
    const connectorId = file.replace(/\.jsonl$/, '');
    for (const line of readLedger(ledgers, connectorId)) {
      if (!line.ok) continue;
      const paymentId = line.key.split(':')[0];
      charges.set(paymentId, (charges.get(paymentId) ?? 0) + 1);
      byConnector.set(connectorId, (byConnector.get(connectorId) ?? 0) + 1);
    }
  }
  const breaches: string[] = [];
  for (const [paymentId, count] of charges) {
    if (count > 1) breaches.push(`double charge: ${paymentId} charged ${count} times`);
    const record = payments.get(paymentId);
    if (!record) breaches.push(`charge without a record: ${paymentId}`);
    else if (record.status !== 'succeeded') breaches.push(`charged but recorded ${String(record.status)}: ${paymentId}`);
  }
  const byKey = new Map<string, Set<string>>();
  for (const p of payments.values()) {
    const key = String(p.idempotencyKey ?? '');
    if (!key) continue;
    byKey.set(key, new Set([...(byKey.get(key) ?? []), String(p.paymentId)]));
  }
  for (const [key, ids] of byKey) {
    const charged = [...ids].filter((id) => charges.has(id));
    if (charged.length > 1) breaches.push(`one key, two charged payments: ${key} → ${charged.join(', ')}`);
  }
  for (const s of sent) {
    for (const answer of s.answers) {
      const paymentId = /"paymentId":"(pay_[0-9A-Z]{20})"/.exec(answer.body)?.[1];
      // An answer that names its payment is judged by that payment: a 500 "nothing was charged" releases the key,
      // and a retry with it is a new payment (another id) that may be charged. One that names none, by its key's
      // payments claimed before the answer came (a run that failed before any claim of its key said the truth in
      // "nothing was charged": its retry's claim, and charge, came after).
      const claimedBefore = (id: string) => {
        const created = Date.parse(String(payments.get(id)?.createdAt ?? ''));
        return answer.at === undefined || Number.isNaN(created) || created <= answer.at;
      };
      const charged = paymentId !== undefined ? charges.has(paymentId) : [...(byKey.get(s.key) ?? [])].some((id) => charges.has(id) && claimedBefore(id));
      // Admission control's 503 comes before the key is claimed ("nothing was charged" is true when said).
      const admission = /"code":"service_unavailable"/.test(answer.body);
      if (charged && ((answer.status >= 500 && !admission) || /"status":"failed"/.test(answer.body))) {
        breaches.push(`answered ${answer.status} for a charged payment (${paymentId ?? s.key}): ${answer.body.slice(0, 200)}`);
      }
    }
  }
  const rewardCount = new Map<string, number>();
  // The rewards table also holds claims (clm_...) and each customer's last-claim pointer: rewards are the pay_ items.
  const rewardItems = rewards.filter((r) => String(r.paymentId).startsWith('pay_'));
  for (const r of rewardItems) rewardCount.set(String(r.paymentId), (rewardCount.get(String(r.paymentId)) ?? 0) + 1);
  const succeeded = [...payments.values()].filter((p) => p.status === 'succeeded');
  for (const p of succeeded) if (rewardCount.get(String(p.paymentId)) !== 1) breaches.push(`succeeded without exactly one reward: ${String(p.paymentId)}`);
  // The fraud features (off the path, from PaymentSucceeded): each succeeded payment observed, none counted twice
  // on its terminal's day. (A crash between an observation's transaction write and its day count may leave a
  // day one short, by design: never one too many.)
  const observed = new Set(features.filter((f) => String(f.sk).startsWith('tx#')).map((f) => String(f.txId)));
  for (const p of succeeded) if (!observed.has(String(p.paymentId))) breaches.push(`succeeded but not in the fraud features: ${String(p.paymentId)}`);
  const dayCounts = features.filter((f) => String(f.pk).startsWith('term#') && String(f.sk).startsWith('day#')).reduce((a, f) => a + Number(f.n ?? 0), 0);
  if (dayCounts > observed.size) breaches.push(`fraud features counted twice: terminal days count ${dayCounts} payments, ${observed.size} were observed`);
  // The analytics index (off the path, from PaymentRecorded, through the kills): each terminal payment's document
  // exactly once, from the local search endpoint's own journal.
  const analyticsFile = join(dataDir, 'search', `${ANALYTICS_INDEX_NAME}.jsonl`);
  const documents = new Map<string, number>();
  for (const line of existsSync(analyticsFile) ? readFileSync(analyticsFile, 'utf8').split('\n') : []) {
    if (!line.trim()) continue;
    const entry = JSON.parse(line) as { source?: { eventId?: string } };
    if (entry.source?.eventId) documents.set(entry.source.eventId, (documents.get(entry.source.eventId) ?? 0) + 1);
  }
  const terminal = [...payments.values()].filter((p) => ['succeeded', 'declined', 'review', 'failed'].includes(String(p.status)));
  for (const p of terminal) {
    const n = documents.get(`payment:${String(p.paymentId)}`) ?? 0;
    if (n === 0) breaches.push(`terminal but not in the analytics index: ${String(p.paymentId)}`);
    if (n > 1) breaches.push(`in the analytics index ${n} times: ${String(p.paymentId)}`);
  }
  // Each change of each reward and claim (issued, clawed back, minted; from the rewards outbox, through the kills):
  // published, and in the index exactly once; none beyond the changes recorded.
  const journaled = rewards.filter((r) => Array.isArray(r.changes));
  let rewardChanges = 0;
  for (const r of journaled) {
    const changes = (r.changes as unknown[]).length;
    rewardChanges += changes;
    if (r.unannounced !== undefined) breaches.push(`reward changes left unpublished: ${String(r.paymentId)}`);
    for (let seq = 0; seq < changes; seq++) {
      const n = documents.get(`reward:${String(r.paymentId)}:${seq}`) ?? 0;
      if (n !== 1) breaches.push(`reward change in the analytics index ${n} times: ${String(r.paymentId)} #${seq}`);
    }
  }
  const rewardDocuments = [...documents.keys()].filter((id) => id.startsWith('reward:'));
  const known = new Set(journaled.flatMap((r) => (r.changes as unknown[]).map((_, seq) => `reward:${String(r.paymentId)}:${seq}`)));
  for (const id of rewardDocuments) if (!known.has(id)) breaches.push(`reward document for no recorded change: ${id}`);
  // Mints, from the ledger's own journal: each successful transaction with a payment id as its memo, and the
  // tokens it moved to each owner.
  const mints = new Map<string, Array<{ owner: string; amount: bigint }>>();
  const walletTokens = new Map<string, bigint>();
  for (const tx of journalTransactions(join(dataDir, 'solana'))) {
    if (tx.err !== null) continue;
    const moved: Array<{ owner: string; amount: bigint }> = [];
    for (const post of tx.postTokenBalances.filter((b) => b.mint === run.rewardMint)) {
      const pre = tx.preTokenBalances.find((b) => b.accountIndex === post.accountIndex);
      const amount = BigInt(post.uiTokenAmount.amount) - BigInt(pre?.uiTokenAmount.amount ?? '0');
      if (amount === 0n) continue;
      moved.push({ owner: post.owner, amount });
      walletTokens.set(post.owner, (walletTokens.get(post.owner) ?? 0n) + amount);
    }
    for (const id of new Set(tx.memo?.match(/(pay|clm)_[0-9A-Z]{20}/g) ?? [])) mints.set(id, [...(mints.get(id) ?? []), ...moved]);
  }
  const rewardOf = new Map(rewards.map((r) => [String(r.paymentId), r]));
  const owed = succeeded.filter((p) => typeof p.rewardWallet === 'string');
  const expectedTokens = new Map<string, bigint>();
  for (const p of owed) {
    const paymentId = String(p.paymentId);
    const wallet = String(p.rewardWallet);
    const tokens = BigInt(String(rewardOf.get(paymentId)?.tokens ?? '0'));
    expectedTokens.set(wallet, (expectedTokens.get(wallet) ?? 0n) + tokens);
    const minted = mints.get(paymentId) ?? [];
    if (minted.length !== 1) breaches.push(`succeeded with a wallet without exactly one mint: ${paymentId} minted ${minted.length} times`);
    else if (minted[0].owner !== wallet || minted[0].amount !== tokens) {
      breaches.push(`minted wrong: ${paymentId} minted ${minted[0].amount} to ${minted[0].owner}, its reward is ${tokens} to ${wallet}`);
    }
  }
  for (const paymentId of [...mints.keys()].filter((id) => id.startsWith('pay_'))) {
    if (payments.get(paymentId)?.status !== 'succeeded') breaches.push(`minted for a payment that did not succeed: ${paymentId}`);
  }
  // Claims: every reward recorded without a wallet taken by exactly one claim, each claim closed with its rewards'
  // total and minted once, that total, to its wallet.
  // A claim written by a request killed before it became its customer's (no pointer leads to it, no reward names
  // it) is an orphan: it holds nothing, and nothing ever reads it.
  const pointers = new Set(rewards.filter((r) => String(r.paymentId).startsWith('lastclaim#')).map((r) => String(r.claimId)));
  const orphan = (c: Record<string, unknown>) => c.status === 'open' && !pointers.has(String(c.paymentId)) && !rewards.some((r) => r.claimId === c.paymentId);
  const orphans = rewards.filter((r) => r.kind === 'claim' && orphan(r)).length;
  const claims = rewards.filter((r) => r.kind === 'claim' && !orphan(r));
  const inClaims = new Map<string, string[]>();
  for (const c of claims) {
    const claimId = String(c.paymentId);
    if (c.status !== 'recorded') breaches.push(`claim left open: ${claimId}`);
    for (const id of (c.payments as string[] | undefined) ?? []) inClaims.set(id, [...(inClaims.get(id) ?? []), claimId]);
    const taken = rewards.filter((r) => String(r.paymentId).startsWith('pay_') && r.claimId === claimId);
    const total = taken.reduce((sum, r) => sum + BigInt(String(r.tokens)), 0n);
    if (BigInt(String(c.tokens)) !== total) breaches.push(`claim total wrong: ${claimId} closed with ${String(c.tokens)}, its rewards are ${total}`);
    const wallet = String(c.wallet);
    if (total > 0n) expectedTokens.set(wallet, (expectedTokens.get(wallet) ?? 0n) + total);
    const minted = mints.get(claimId) ?? [];
    if (total > 0n && (minted.length !== 1 || minted[0].owner !== wallet || minted[0].amount !== total)) {
      breaches.push(`claim not minted exactly once: ${claimId} minted ${minted.map((m) => `${m.amount} to ${m.owner}`).join(', ') || 'nothing'}, its total is ${total} to ${wallet}`);
    }
  }
  const withoutWallet = succeeded.filter((p) => typeof p.rewardWallet !== 'string');
  for (const p of withoutWallet) {
    const paymentId = String(p.paymentId);
    const claimId = rewardOf.get(paymentId)?.claimId;
    if (claimId === undefined) breaches.push(`reward left unclaimed: ${paymentId}`);
    else if ((inClaims.get(paymentId) ?? []).filter((id) => id === claimId).length !== 1) breaches.push(`reward not in its claim: ${paymentId} → ${String(claimId)}`);
  }
  for (const [paymentId, ids] of inClaims) {
    const taking = ids.filter((id) => rewardOf.get(paymentId)?.claimId === id);
    if (taking.length > 1) breaches.push(`reward in two claims: ${paymentId} → ${ids.join(', ')}`);
  }
  for (const wallet of new Set([...walletTokens.keys(), ...expectedTokens.keys()])) {
    if ((walletTokens.get(wallet) ?? 0n) !== (expectedTokens.get(wallet) ?? 0n)) {
      breaches.push(`wallet tokens differ from its rewards: ${wallet} holds ${walletTokens.get(wallet) ?? 0n}, its rewards are ${expectedTokens.get(wallet) ?? 0n}`);
    }
  }
  const mintCount = [...mints].filter(([id, m]) => id.startsWith('pay_') && m.length > 0).length;

  const unfinished = [...payments.values()].filter((p) => p.status === 'processing' && !p.reason);
  for (const p of unfinished) breaches.push(`left processing without a reason: ${String(p.paymentId)}`);
  // Each final answer by status, and an error's code (a 503 all_gateways_failed is an outcome; a 503
  // transient_failure or service_unavailable still left at the end is a key the passes above did not settle).
  const finals = new Map<string, number>();
  for (const s of sent) {
    const last = s.answers.at(-1);
    const code = last && last.status >= 400 ? /"code":"([a-z_]+)"/.exec(last.body)?.[1] : undefined;
    const label = `${last?.status ?? 'none'}${code ? ` ${code}` : ''}`;
    finals.set(label, (finals.get(label) ?? 0) + 1);
  }

  const count = (prefix: string) => breaches.filter((b) => b.startsWith(prefix)).length;
  const seconds = (Date.now() - started) / 1000;
  const text = [
    'faults report',
    `  requests: ${sent.length} (kill -9 ×${KILLS}, each retried with its own key; ${(run.storeFaultRate * 100).toFixed(0)}% of store calls throttled; two gateways (a sandbox, and Stripe through its adapter) lose answers after charging, and Amazon Pay answers its charges with a 500), ${seconds.toFixed(0)} s`,
    `  final answers by status: ${[...finals].sort(([a], [b]) => a.localeCompare(b)).map(([s, n]) => `${s}: ${n}`).join(', ')}`,
    `  payments recorded: ${payments.size}; succeeded: ${succeeded.length}; charged (gateway ledgers): ${charges.size} (${[...byConnector].sort().map(([id, count]) => `${id} ${count}`).join(', ')}); rewards: ${rewardItems.length}`,
    `  double charges: ${count('double charge') + count('one key, two charged')} (goal 0)`,
    `  charges without a succeeded record: ${count('charge without') + count('charged but recorded')} (goal 0)`,
    `  5xx or "failed" answers for charged payments: ${count('answered')} (goal 0)`,
    `  succeeded payments without exactly one reward: ${count('succeeded without')} (goal 0)`,
    `  mints on chain (the ledger's journal; ${(run.solanaFaultRate * 100).toFixed(0)}% of sends dropped and as many answers lost): ${mintCount} for ${owed.length} succeeded payments with a wallet; not exactly one: ${count('succeeded with a wallet')}, wrong amount or wallet: ${count('minted wrong')}, for a payment that did not succeed: ${count('minted for')}, wallets off their rewards: ${count('wallet tokens differ')} (goal 0 each)`,
    `  claims: ${claims.length} for ${new Set(claims.map((c) => c.customerId)).size} customers (and ${orphans} orphaned by a kill before they were anyone's), taking ${withoutWallet.length - count('reward left unclaimed')} of ${withoutWallet.length} rewards without a wallet; left open: ${count('claim left open')}, rewards unclaimed: ${count('reward left unclaimed')}, in two claims: ${count('reward in two claims') + count('reward not in its claim')}, totals wrong: ${count('claim total wrong')}, not minted exactly once: ${count('claim not minted')} (goal 0 each)`,
    `  fraud features: ${observed.size} payments observed, terminal days count ${dayCounts}; succeeded payments not observed: ${count('succeeded but not in')}, counted twice: ${count('fraud features counted twice')} (goal 0 and 0)`,
    `  analytics index: ${[...documents.keys()].filter((id) => id.startsWith('payment:')).length} payment documents for ${terminal.length} terminal payments; missing: ${count('terminal but not in the analytics')}, more than once: ${count('in the analytics index')} (goal 0 each)`,
    `  reward changes: ${rewardChanges} recorded, ${rewardDocuments.length} in the analytics index; unpublished: ${count('reward changes left unpublished')}, not exactly once: ${count('reward change in the analytics index')}, for no change: ${count('reward document for no')} (goal 0 each)`,
    `  payments left non-terminal without a reason: ${count('left processing')} (goal 0)`,
    breaches.length ? `FAILED: ${breaches.length} breach(es)\n  ${breaches.slice(0, 30).join('\n  ')}` : 'PASSED: no breach',
  ].join('\n');
  return {
    requests: sent.length,
    seconds,
    finalStatuses: Object.fromEntries(finals),
    payments: payments.size,
    succeeded: succeeded.length,
    charged: charges.size,
    rewards: rewardItems.length,
    claims: claims.length,
    rewardsWithoutWallet: withoutWallet.length,
    mints: mintCount,
    owedMints: owed.length,
    breaches,
    text,
  };
}

/**
 * Claims for every customer until each answers that nothing is left: 409 nothing_to_claim, or 200 with the same
 * claim twice running (a 201 made a claim now, and a 200 may have finished one left open: either may leave more).
 * Returns how many customers ended so.
 */
async function claimAll(url: string, token: string, answers: Array<{ status: number; body: string }>): Promise<number> {
  let settled = 0;
  for (let c = 0; c < CUSTOMERS; c++) {
    let previous: string | undefined;
    for (let attempt = 0; attempt < 30; attempt++) {
      const mine: Array<{ status: number; body: string }> = [];
      await postClaim(url, token, c, mine);
      answers.push(...mine);
      const answer = mine[0];
      if (answer?.status === 409 && answer.body.includes('nothing_to_claim')) {
        settled += 1;
        break;
      }
      const claimId = answer?.status === 200 ? /"claimId":"(clm_[0-9A-Z]{20})"/.exec(answer.body)?.[1] : undefined;
      if (claimId !== undefined && claimId === previous) {
        settled += 1;
        break;
      }
      previous = claimId;
      // 503: the claim's steps met a throttled store (ask again, as a client would).
      if (!answer || answer.status >= 500) await new Promise((r) => setTimeout(r, 500));
    }
  }
  return settled;
}

/**
 * Waits (up to 150 s) until each customer's claim wallet holds the rewards of its succeeded payments without a
 * wallet (all claimed by then), read through the RPC. The verdict comes later, from the journal.
 */
async function waitForClaimMints(run: Run, sent: readonly Sent[], log: (line: string) => void): Promise<void> {
  const expected = new Map<string, bigint>();
  for (const s of sent) {
    const b = s.body as { rewardWallet?: string; customerId: string; amount: number; currency: string };
    const last = s.answers.at(-1);
    if (b.rewardWallet || !last || !/"status":"succeeded"/.test(last.body)) continue;
    const wallet = CLAIM_WALLETS[Number(b.customerId.replace('cus_', ''))];
    expected.set(wallet, (expected.get(wallet) ?? 0n) + rewardBaseUnits(b.amount, b.currency, 6));
  }
  if (!run.solanaUrl || !run.rewardMint || expected.size === 0) return;
  const connection = new Connection(run.solanaUrl, 'confirmed');
  const mint = new PublicKey(run.rewardMint);
  const started = Date.now();
  let short: string[] = [];
  while (Date.now() - started < 150_000) {
    short = [];
    for (const [wallet, tokens] of expected) {
      const balance = await connection.getTokenAccountBalance(getAssociatedTokenAddressSync(mint, new PublicKey(wallet))).then((r) => BigInt(r.value.amount), () => 0n);
      if (balance !== tokens) short.push(`${wallet} holds ${balance} of ${tokens}`);
    }
    if (short.length === 0) {
      log(`claims: all ${expected.size} claim wallets hold their rewards ${((Date.now() - started) / 1000).toFixed(0)} s after the last claims`);
      return;
    }
    if (process.env.FAULTS_DEBUG) log(`claims: ${short.join('; ')}`);
    await new Promise((r) => setTimeout(r, 2000));
  }
  log(`claims: ${short.length} claim wallets still short after 150 s: ${short.slice(0, 5).join('; ')}`);
}

/**
 * Waits (up to 150 s) until every payment answered as succeeded that named a wallet has a mint on the ledger with
 * its id as the memo: read through the RPC, as any client would. The verdict comes later, from the journal.
 */
/** The merchant's payments in a terminal state, as GET /payments lists them (every page). */
async function terminalPayments(api: { url: string; token: string }): Promise<Set<string>> {
  const ids = new Set<string>();
  let cursor: string | undefined;
  do {
    const res = await fetch(`${api.url}/payments?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { headers: { authorization: `Bearer ${api.token}` } });
    if (!res.ok) break;
    const page = (await res.json()) as { payments: Array<{ paymentId: string; status: string }>; nextCursor?: string };
    for (const p of page.payments) if (['succeeded', 'declined', 'review', 'failed'].includes(p.status)) ids.add(p.paymentId);
    cursor = page.nextCursor;
  } while (cursor);
  return ids;
}

/**
 * Waits (at most 120 s) until every payment the platform lists as terminal (and every one a client saw end) has its
 * document in the analytics index's journal, and the journal has stopped growing for 8 s (the reward changes' own
 * documents come through the same queue, after the payments'; a loaded machine leaves gaps of seconds).
 */
async function waitForIndex(dataDir: string, sent: readonly Sent[], log: (line: string) => void, api: { url: string; token: string }): Promise<void> {
  const file = join(dataDir, 'search', `${ANALYTICS_INDEX_NAME}.jsonl`);
  const ended = new Set<string>();
  for (const s of sent) {
    const last = s.answers.at(-1);
    // Every terminal status the verdict checks (a 503's body carries its failed payment).
    const id = last && /"status":"(succeeded|declined|review|failed)"/.test(last.body) ? /"paymentId":"(pay_[0-9A-Z]{20})"/.exec(last.body)?.[1] : undefined;
    if (id) ended.add(id);
  }
  for (const id of await terminalPayments(api).catch(() => new Set<string>())) ended.add(id);
  const started = Date.now();
  let size = -1;
  let stableSince = Date.now();
  // Up to 200 s: an event a kill caught being indexed waits out its claim's lease (the local retry: 65 s).
  while (Date.now() - started < 200_000) {
    const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
    const missing = [...ended].filter((id) => !text.includes(`"eventId":"payment:${id}"`)).length;
    if (text.length !== size) {
      size = text.length;
      stableSince = Date.now();
    }
    if (missing === 0 && Date.now() - stableSince >= 8000) {
      log(`analytics index: the ${ended.size} payments answered as ended indexed ${((Date.now() - started) / 1000).toFixed(0)} s after the last claims`);
      return;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  log('analytics index: still catching up after 200 s');
}

async function waitForMints(run: Run, sent: readonly Sent[], log: (line: string) => void): Promise<void> {
  const owed = new Map<string, string>();
  for (const s of sent) {
    const wallet = (s.body as { rewardWallet?: string }).rewardWallet;
    const last = s.answers.at(-1);
    const paymentId = last && /"status":"succeeded"/.test(last.body) ? /"paymentId":"(pay_[0-9A-Z]{20})"/.exec(last.body)?.[1] : undefined;
    if (wallet && paymentId) owed.set(paymentId, wallet);
  }
  if (!run.solanaUrl || !run.rewardMint || owed.size === 0) return;
  const connection = new Connection(run.solanaUrl, 'confirmed');
  const mint = new PublicKey(run.rewardMint);
  const deadline = Date.now() + 150_000;
  let missing = owed.size;
  while (Date.now() < deadline) {
    const memos = new Set<string>();
    for (const wallet of new Set(owed.values())) {
      const signatures = await connection.getSignaturesForAddress(getAssociatedTokenAddressSync(mint, new PublicKey(wallet)), { limit: 1000 }).catch(() => []);
      for (const s of signatures) if (s.err === null) for (const id of s.memo?.match(/pay_[0-9A-Z]{20}/g) ?? []) memos.add(id);
    }
    missing = [...owed.keys()].filter((id) => !memos.has(id)).length;
    if (missing === 0) {
      log(`mints: all ${owed.size} owed on chain ${((Date.now() - deadline + 150_000) / 1000).toFixed(0)} s after the last answers settled`);
      return;
    }
    if (process.env.FAULTS_DEBUG) log(`mints: ${missing} missing: ${[...owed.keys()].filter((id) => !memos.has(id)).join(' ')}`);
    await new Promise((r) => setTimeout(r, 2000));
  }
  log(`mints: ${missing} of ${owed.size} owed still not on chain after 150 s`);
}
