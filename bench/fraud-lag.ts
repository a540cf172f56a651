/**
 * `npm run bench:fraud-lag`: does recording a payment's fraud features off the synchronous path hurt detection?
 * (issue 11). A completed payment is folded into the feature state by the PaymentSucceeded consumer, so the next
 * payment of the same card sees it only after a lag: the payment's own duration plus the outbox's delivery. This
 * replays the same seeded world with the embedded model (the fraud Lambda's features, graph and ensemble, in
 * memory: no store) at several lags and prints how many payments of a burst on one card were held for review or
 * declined, against the 0 ms baseline in the same run.
 *
 * The world: --customers customers with 30 days of ordinary history at their usual terminals, then one burst
 * each on the last day:
 * - card testing: --testing small payments (1–5 units) at one terminal, --testing-gap-ms apart;
 * - bust-out: --bustout large payments (500–2,000 units) at several terminals, --bustout-gap-ms apart.
 * Lags (ms, --lags): 0 is the ideal (recorded before the next payment starts); the on-path step recorded after
 * the payment's charge (its duration, ~100–300 ms); off the path, the duration plus the outbox's delivery (locally
 * the 250 ms drain; in the cloud the table stream and the queue, typically under a second); Infinity: never
 * recorded during the burst.
 */
import { parseArgs } from 'node:util';
import {
  DEFAULT_FEATURE_OPTIONS,
  featureVector,
  observe,
  type CustomerState,
  type EdgeSnapshots,
  type FeatureTransaction,
  type TerminalState,
} from '../lambdas/fraud/features';
import { transactionGraph } from '../lambdas/fraud/graph';
import { loadFraudModel } from '../lambdas/fraud/model';
import { decide, type FraudDecision } from '../lambdas/fraud/service';
import { prng } from './support';

const { values: args } = parseArgs({
  options: {
    customers: { type: 'string', default: '300' },
    testing: { type: 'string', default: '30' },
    'testing-gap-ms': { type: 'string', default: '250' },
    bustout: { type: 'string', default: '12' },
    'bustout-gap-ms': { type: 'string', default: '1500' },
    lags: { type: 'string', default: '0,150,400,1000,3000,Infinity' },
    seed: { type: 'string', default: '11' },
  },
});

const DAY_MS = 86_400_000;
const customers = Number(args.customers);
const lags = args.lags.split(',').map(Number);
const model = loadFraudModel();
const thresholds = model.thresholds;
const options = DEFAULT_FEATURE_OPTIONS;

interface Tx extends FeatureTransaction {
  /** The burst it belongs to (undefined: ordinary history). */
  readonly burst?: 'testing' | 'bustout';
  /** Its index in the burst. */
  readonly index?: number;
}

/** The seeded world: every customer's history and burst, in time order. */
function world(seed: number): Tx[] {
  const random = prng(seed);
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)];
  const end = Date.UTC(2026, 10, 30);
  const start = end - 30 * DAY_MS;
  const terminals = Array.from({ length: 200 }, (_, i) => `term-${i}`);
  const out: Tx[] = [];
  for (let c = 0; c < customers; c++) {
    const customerId = `cust-${c}`;
    const usual = Array.from({ length: 3 }, () => pick(terminals));
    const history = 10 + Math.floor(random() * 40);
    for (let i = 0; i < history; i++) {
      out.push({
        txId: `${customerId}-h${i}`,
        time: start + Math.floor(random() * (29 * DAY_MS)),
        customerId,
        terminalId: pick(usual),
        amountMinor: 1_000 + Math.floor(random() * 9_000),
        currency: 'USD',
      });
    }
    // The bursts start at a random moment of the last day, one customer at a time apart.
    const burst = (kind: 'testing' | 'bustout', count: number, gap: number, at: number) => {
      const burstTerminals = kind === 'testing' ? [pick(terminals)] : Array.from({ length: 4 }, () => pick(terminals));
      for (let i = 0; i < count; i++) {
        out.push({
          txId: `${customerId}-${kind}${i}`,
          time: at + i * gap,
          customerId,
          terminalId: pick(burstTerminals),
          amountMinor: kind === 'testing' ? 100 + Math.floor(random() * 400) : 50_000 + Math.floor(random() * 150_000),
          currency: 'USD',
          burst: kind,
          index: i,
        });
      }
    };
    const day = end - DAY_MS + Math.floor(random() * (DAY_MS / 2));
    if (c % 2 === 0) burst('testing', Number(args.testing), Number(args['testing-gap-ms']), day);
    else burst('bustout', Number(args.bustout), Number(args['bustout-gap-ms']), day);
  }
  return out.sort((a, b) => a.time - b.time || (a.txId < b.txId ? -1 : 1));
}

interface Tally {
  payments: number;
  review: number;
  decline: number;
  scoreSum: number;
  /** Per burst: the index of its first payment held or declined (bursts never stopped count as their length). */
  firstStops: number[];
}

/** Replays the world with observations landing `lag` ms after each payment's scoring. */
function run(transactions: readonly Tx[], lag: number): Record<'testing' | 'bustout', Tally> {
  const customersState = new Map<string, CustomerState>();
  const terminalsState = new Map<string, TerminalState>();
  const pending: Array<{ at: number; tx: Tx; snapshots: EdgeSnapshots }> = [];
  const tally = {
    testing: { payments: 0, review: 0, decline: 0, scoreSum: 0, firstStops: [] as number[] },
    bustout: { payments: 0, review: 0, decline: 0, scoreSum: 0, firstStops: [] as number[] },
  };
  const firstStop = new Map<string, number>();
  const fold = (until: number) => {
    pending.sort((a, b) => a.at - b.at);
    while (pending.length > 0 && pending[0].at <= until) {
      const { tx, snapshots } = pending.shift()!;
      const next = observe(tx, customersState.get(tx.customerId), terminalsState.get(tx.terminalId), options, snapshots);
      customersState.set(tx.customerId, next.customer);
      terminalsState.set(tx.terminalId, next.terminal);
    }
  };
  for (const tx of transactions) {
    fold(tx.time);
    const customer = customersState.get(tx.customerId);
    const terminal = terminalsState.get(tx.terminalId);
    const vector = featureVector(tx, customer, terminal, options);
    const graph = transactionGraph(tx, vector, customer, terminal, undefined);
    const { score } = model.score(vector, graph);
    const decision: FraudDecision = decide(score, thresholds);
    if (tx.burst) {
      const t = tally[tx.burst];
      t.payments += 1;
      t.scoreSum += score;
      if (decision === 'review') t.review += 1;
      if (decision === 'decline') t.decline += 1;
      if (decision !== 'approve' && !firstStop.has(tx.customerId)) firstStop.set(tx.customerId, tx.index!);
    }
    // Only approved payments complete (a held or declined one is not recorded as a completed payment).
    if (decision === 'approve' && lag !== Infinity) pending.push({ at: tx.time + lag, tx, snapshots: { customer: graph.customer, terminal: graph.terminal } });
    else if (decision === 'approve' && !tx.burst) pending.push({ at: tx.time, tx, snapshots: { customer: graph.customer, terminal: graph.terminal } });
  }
  for (const tx of transactions) {
    if (tx.burst && tx.index === 0) {
      const length = tx.burst === 'testing' ? Number(args.testing) : Number(args.bustout);
      tally[tx.burst].firstStops.push(firstStop.get(tx.customerId) ?? length);
    }
  }
  return tally;
}

const transactions = world(Number(args.seed));
const bursts = transactions.filter((t) => t.burst).length;
console.log(
  `fraud features recorded after a lag (embedded model ${model.version}; thresholds review ≥ ${thresholds.reviewThreshold}, decline ≥ ${thresholds.declineThreshold})`,
);
console.log(
  `world: ${customers} customers, ${transactions.length - bursts} history payments, ${bursts} burst payments: card testing ${args.testing} × ${args['testing-gap-ms']} ms apart, bust-out ${args.bustout} × ${args['bustout-gap-ms']} ms apart`,
);
const rows: string[][] = [];
let baseline: ReturnType<typeof run> | undefined;
for (const lag of lags) {
  const result = run(transactions, lag);
  baseline ??= result;
  for (const kind of ['testing', 'bustout'] as const) {
    const t = result[kind];
    const stopped = t.review + t.decline;
    const base = baseline[kind].review + baseline[kind].decline;
    const mean = (list: number[]) => list.reduce((a, b) => a + b, 0) / list.length;
    rows.push([
      lag === Infinity ? 'never' : `${lag} ms`,
      kind === 'testing' ? 'card testing' : 'bust-out',
      `${t.payments}`,
      `${t.review}`,
      `${t.decline}`,
      `${((100 * stopped) / t.payments).toFixed(1)}%`,
      `${stopped - base >= 0 ? '+' : ''}${stopped - base}`,
      (t.scoreSum / t.payments).toFixed(4),
      mean(t.firstStops).toFixed(2),
    ]);
  }
}
const header = ['lag', 'burst', 'payments', 'review', 'decline', 'stopped', 'vs 0 ms', 'mean score', 'first stop (index)'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i])).join('  ');
console.log(line(header));
for (const row of rows) console.log(line(row));
