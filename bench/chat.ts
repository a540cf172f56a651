/**
 * `npm run bench:chat`: how fast POST /chat answers aggregate questions over a large merchant, locally. The goal:
 * p95 under 100 ms over 50,000 payments.
 *
 * It starts the local platform (in memory), writes the analytics documents of a merchant with `--payments`
 * finished payments (default 50,000) and of one with `--baseline` (default 1,000), created over the past ten
 * months, straight into the platform's search endpoint through the analytics function's own indexer (the
 * shipped sentence encoder embeds each distinct text once), then asks each aggregate question `--rounds` times
 * per merchant over HTTP, alternating merchants, and prints p50 and p95 for each merchant: the baseline is the
 * same questions in the same run over a small merchant. Seeding through the payments store and the outbox is
 * what `npm run eval:chat` does (slower; it checks the answers).
 */
import { parseArgs } from 'node:util';
import { Client } from '@opensearch-project/opensearch';
import { DEFAULT_CONNECTORS } from '../contracts/connectors';
import type { PaymentRecordedDetail } from '../contracts/events';
import { newPaymentId } from '../contracts/ids';
import { paymentDocument } from '../lambdas/analytics/documents';
import { sentenceEncoder } from '../lambdas/analytics/embeddings';
import { indexDocuments } from '../lambdas/analytics/indexer';
import { OpenSearchIndex } from '../lambdas/analytics/opensearch';
import { prng, quantile } from './support';
import { startLocalPlatform } from '../local/platform';

const DAY = 86_400_000;
const rand = prng(11);
const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;

function payments(merchantId: string, count: number, now: number): PaymentRecordedDetail[] {
  return Array.from({ length: count }, () => {
    const created = new Date(now - Math.floor(rand() * 300 * DAY));
    const status = pick(['succeeded', 'succeeded', 'succeeded', 'succeeded', 'declined', 'failed', 'review'] as const);
    const tried = status === 'review' ? [] : rand() < 0.15 ? ['stripe-us', 'stripe-eu'] : [pick(['stripe-us', 'stripe-eu', 'amazon-pay'])];
    return {
      paymentId: newPaymentId(created),
      merchantId,
      customerId: `cus_${Math.floor(rand() * 2000)}`,
      status,
      amount: 100 + Math.floor(rand() * 100_000),
      currency: pick(['USD', 'EUR', 'BRL']),
      method: rand() < 0.67 ? ('card' as const) : ('wallet' as const),
      country: pick(['US', 'BR', 'DE', 'FR', 'GB', 'MX']),
      ...(tried.length ? { connectorId: tried.at(-1)! } : {}),
      ...(status === 'declined' ? { code: pick(['insufficient_funds', 'do_not_honor']) } : {}),
      fraud: { score: rand() * 0.5, decision: status === 'review' ? 'review' : 'approve', reasons: [{ code: pick(['amount_zscore', 'velocity_1h', 'first_seen_pair']), detail: '' }] },
      attempts: tried.map((connectorId, attempt) => ({ attempt, connectorId, outcome: attempt === tried.length - 1 && status === 'succeeded' ? 'succeeded' : 'declined', at: created.toISOString() })),
      createdAt: created.toISOString(),
      finalizedAt: created.toISOString(),
    };
  });
}

const QUESTIONS = [
  'What was my total volume in the last 30 days?',
  'How many payments in the last 12 weeks?',
  'Decline rate in the last 7 days compared with last week',
  'Which gateway approves Brazilian cards best?',
  'Top 5 countries by volume this month',
  'Average amount in March',
  'Refund rate in the last 30 days',
  'How many payments fell back to another gateway in the last 30 days?',
  'Top 10 customers by volume in the last 12 weeks',
  'fraud rate by country in the last 30 days',
];

const percentile = (xs: readonly number[], p: number) => quantile(Float64Array.from(xs).sort(), p / 100);

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { payments: { type: 'string', default: '50000' }, baseline: { type: 'string', default: '1000' }, rounds: { type: 'string', default: '10' } } });
  const large = Number(values.payments);
  const small = Number(values.baseline);
  const rounds = Number(values.rounds);
  if (![large, small, rounds].every((n) => Number.isInteger(n) && n > 0)) throw new Error('--payments, --baseline and --rounds must be positive integers');
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const platform = await startLocalPlatform({ port: 0, inMemory: true, onError: () => undefined, env: { CONNECTORS: JSON.stringify(DEFAULT_CONNECTORS), POWERTOOLS_LOG_LEVEL: 'ERROR' } });
  try {
    const index = new OpenSearchIndex(() => client);
    const client = new Client({ node: platform.search.url });
    const embedder = sentenceEncoder();
    const now = Date.now();
    for (const [merchantId, count] of [['m_bench_large', large], ['m_bench_small', small]] as const) {
      const docs = payments(merchantId, count, now).map(paymentDocument);
      const started = Date.now();
      for (let i = 0; i < docs.length; i += 1000) {
        await indexDocuments(docs.slice(i, i + 1000), { index, embedder });
        process.stdout.write(`\r  ${merchantId}: indexed ${Math.min(i + 1000, docs.length)}/${docs.length} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
      }
      process.stdout.write('\n');
    }
    const tokens = { large: await platform.issuer.signToken({ merchantId: 'm_bench_large' }), small: await platform.issuer.signToken({ merchantId: 'm_bench_small' }) };
    const ask = async (token: string, question: string) => {
      const t0 = performance.now();
      const response = await fetch(`${platform.url}/chat`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ question }) });
      const json = (await response.json()) as { figures?: unknown };
      if (response.status !== 200 || !json.figures) throw new Error(`"${question}" answered ${response.status} without figures: ${JSON.stringify(json)}`);
      return performance.now() - t0;
    };
    // Warm-up: the analytics function's first /chat loads its sentence encoder.
    for (const q of QUESTIONS) await ask(tokens.small, q);
    const times = { large: [] as number[], small: [] as number[] };
    const byQuestion = new Map<string, number[]>();
    for (let r = 0; r < rounds; r++) {
      for (const q of QUESTIONS) {
        const ms = await ask(tokens.large, q);
        times.large.push(ms);
        byQuestion.set(q, [...(byQuestion.get(q) ?? []), ms]);
        times.small.push(await ask(tokens.small, q));
      }
    }
    console.log(`\n/chat, aggregate questions (${QUESTIONS.length} questions × ${rounds} rounds per merchant, over HTTP, one at a time):`);
    console.log(`  ${String(large).padStart(6)} payments: p50 ${percentile(times.large, 50).toFixed(1)} ms, p95 ${percentile(times.large, 95).toFixed(1)} ms   (goal: p95 < 100 ms over 50,000)`);
    console.log(`  ${String(small).padStart(6)} payments: p50 ${percentile(times.small, 50).toFixed(1)} ms, p95 ${percentile(times.small, 95).toFixed(1)} ms   (baseline, same run)`);
    console.log(`\nby question, over ${large} payments (p50 / max ms):`);
    for (const [q, ms] of byQuestion) console.log(`  ${percentile(ms, 50).toFixed(1).padStart(7)} ${Math.max(...ms).toFixed(1).padStart(7)}  ${q}`);
  } finally {
    await platform.close(1000);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
