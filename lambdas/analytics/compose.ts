/**
 * The template composer: an answer's text from the executed plan and its results only. Every figure it writes is
 * one of the results' (a count, an amount in major units, a rate as a percentage with two decimals, a score), and
 * nothing it writes comes from a document's free text: a description is never quoted, so text planted in one
 * cannot speak in an answer.
 */
import type { AnalyticsDocument, Evidence, Metric, MetricFigures, MetricPlan, MetricRow, PlanFilter } from '../../contracts/analytics';
import { formatMajor } from '../../contracts/money';
import { documentNanos, NO_CURRENCY, tokenDecimal } from './documents';


const METHOD_NAMES: Readonly<Record<string, string>> = { card: 'card', wallet: 'wallet', solana_pay: 'Solana Pay' };

const plural = (n: number, word: string, many = `${word}s`) => `${n} ${n === 1 ? word : many}`;
export const percent = (rate: number) => `${(rate * 100).toFixed(2)}%`;
export const money = (amount: number, currency: string) => `${formatMajor({ amount, currency })} ${currency}`;

/** How an answer about a window begins: "Yesterday (UTC)", "In the last 7 days", "In March 2026 (UTC)". */
export function opening(label: string): string {
  if (label.startsWith('the ')) return `In ${label}`;
  if (/^[A-Z][a-z]+ \d{4}/.test(label)) return `In ${label}`;
  if (/^\d{4}(?![-\d])/.test(label)) return `In ${label}`; // a year: "In 2025 (UTC)"
  if (/^\d{4}-/.test(label)) return `From ${label}`;
  return label.charAt(0).toUpperCase() + label.slice(1);
}

/** The plan's filters in words: "card payments from BR via stripe-us in USD". */
export function describeFilters(filters: readonly PlanFilter[]): string {
  const parts: string[] = [];
  for (const filter of filters) {
    const values = filter.in.join(' or ');
    if (filter.field === 'country') parts.push(`from ${values}`);
    if (filter.field === 'connector') parts.push(`via ${values}`);
    if (filter.field === 'currency') parts.push(`in ${values}`);
    if (filter.field === 'customer') parts.push(`of customer ${values}`);
    if (filter.field === 'status') parts.push(`${values}`);
  }
  const method = filters.find((f) => f.field === 'method');
  const status = filters.find((f) => f.field === 'status');
  const noun = `${method ? `${method.in.map((m) => METHOD_NAMES[m]).join(' or ')} ` : ''}payments`;
  const rest = parts.filter((p) => !status || p !== status.in.join(' or '));
  return [status ? `${status.in.join(' or ')} ${noun}` : noun, ...rest].join(' ');
}

/** One row's figure in words, for a metric. */
function figure(metric: Metric, row: MetricRow, scope: string): string {
  const n = row.numerator ?? 0;
  const d = row.denominator ?? 0;
  switch (metric) {
    case 'count':
      return plural(row.value ?? 0, scope.replace(/payments$/, 'payment'), scope);
    case 'fallback_count':
      // Grouped by connector, a payment counts under its last connector tried (the one that charged it, if any).
      return row.group === undefined
        ? `${plural(row.value ?? 0, 'payment')} that fell back to another connector`
        : `${plural(row.value ?? 0, 'payment')} that fell back to it from another connector (their last connector tried)`;
    case 'total_amount':
      return `${money(row.value ?? 0, row.currency!)} across ${plural(d, 'payment')}`;
    case 'average_amount':
      return `an average of ${money(row.value ?? 0, row.currency!)} over ${plural(d, 'payment')}`;
    case 'decline_rate':
      return row.value === null ? 'no decided payments, so no decline rate' : `a decline rate of ${percent(row.value)} (${n} declined of ${d} decided)`;
    case 'fraud_decline_rate':
      return row.value === null ? 'no scored payments, so no fraud decline rate' : `a fraud decline rate of ${percent(row.value)} (${n} of ${d} scored payments declined by the fraud check)`;
    case 'refund_rate':
      return row.value === null ? 'no succeeded payments, so no refund rate' : `a refund rate of ${percent(row.value)} (${n} of ${d} succeeded payments refunded)`;
    case 'approval_rate':
      return row.value === null ? 'no attempts, so no approval rate' : `an approval rate of ${percent(row.value)} (${n} charged of ${d} tried)`;
    case 'reward_tokens': {
      const t = row.tokens!;
      const back = t.clawedBack === '0' ? '' : `, less ${tokens(t.clawedBack)} clawed back after refunds (${tokens(t.net)} net)`;
      return `${tokens(t.issued)} issued${back}, and ${tokens(t.minted)} minted on chain`;
    }
  }
}

/** A number of reward tokens in words. */
const tokens = (figure: string) => `${figure} reward ${figure === '1' ? 'token' : 'tokens'}`;

/** A group's name in an answer ("(none)" for documents without the field; a claim's reward documents have no currency). */
function groupName(plan: MetricPlan, group: string | undefined): string {
  if (group === undefined) return '(none)';
  if (plan.metric === 'reward_tokens' && plan.groupBy === 'currency' && group === NO_CURRENCY) return 'claims (of payments in any currency)';
  return group;
}

/** A window's figures in words: one figure, one per currency, or one per group. */
function figuresText(plan: MetricPlan, figures: MetricFigures, scope: string): string {
  const rows = figures.rows;
  if (rows.length === 0) {
    if (plan.metric === 'count' || plan.metric === 'fallback_count') return figure(plan.metric, { value: 0 }, scope);
    return `no ${scope} matched`;
  }
  if (!plan.groupBy) return rows.map((row) => figure(plan.metric, row, scope)).join(', and ');
  // Amounts are ranked within each currency (opensearch.ts ranked): say so when there are several. By currency, a
  // row is a currency, and amounts in different ones are not compared: the busiest first, said so.
  const currencies = new Set(rows.map((row) => row.currency).filter((c) => c !== undefined));
  const by =
    plan.groupBy === 'currency' && currencies.size > 1
      ? `by currency (${plan.top ? `the ${plan.top} with the most payments` : 'most payments first'}; amounts in different currencies are not compared)`
      : `by ${plan.groupBy}${plan.top ? ` (top ${plan.top}${currencies.size > 1 ? ' in each currency' : ''})` : currencies.size > 1 ? ', in each currency' : ''}`;
  return `${by}: ${rows.map((row) => `${groupName(plan, row.group)}: ${figure(plan.metric, row, scope)}`).join('; ')}`;
}

/** Whether the comparison went up, down or stayed (words, never a computed figure). */
function direction(plan: MetricPlan, now: MetricFigures, before: MetricFigures): string {
  if (plan.groupBy || now.rows.length > 1 || before.rows.length > 1) return '';
  const a = before.rows[0]?.value ?? (plan.metric === 'count' || plan.metric === 'fallback_count' ? 0 : null);
  const b = now.rows[0]?.value ?? (plan.metric === 'count' || plan.metric === 'fallback_count' ? 0 : null);
  if (a === null || b === null) return '';
  return b > a ? ' It went up.' : b < a ? ' It went down.' : ' It did not change.';
}

export function composeMetric(plan: MetricPlan, figures: MetricFigures, comparison: MetricFigures | undefined, evidence: readonly Evidence[]): string {
  const scope = describeFilters(plan.filters);
  // A count names its payments itself ("3 card payments from BR"); the other metrics say what they cover first.
  const covering = plan.metric !== 'count' && plan.filters.length ? `, for ${scope}` : '';
  let text = `${opening(figures.window.label)}${covering}, you had ${figuresText(plan, figures, scope)}.`;
  if (comparison) text += ` Over ${comparison.window.label}: ${figuresText(plan, comparison, scope)}.${direction(plan, figures, comparison)}`;
  if (evidence.length) text += ` For example: ${evidence.map((e) => e.paymentId).join(', ')}.`;
  return text;
}

/** A payment's document as an answer cites it: no customer, description or card data. */
export function evidenceOf(doc: AnalyticsDocument & { readonly paymentId: string }, refundedAmount?: number): Evidence {
  return {
    paymentId: doc.paymentId,
    status: doc.status,
    amount: doc.amount,
    currency: doc.currency,
    ...(doc.method ? { method: doc.method } : {}),
    ...(doc.country ? { country: doc.country } : {}),
    ...(doc.connectorId ? { connectorId: doc.connectorId } : {}),
    ...(doc.code ? { code: doc.code } : {}),
    attemptConnectors: doc.attemptConnectors,
    ...(doc.fraudDecision ? { fraudDecision: doc.fraudDecision } : {}),
    ...(doc.fraudScore !== undefined ? { fraudScore: doc.fraudScore } : {}),
    fraudReasons: doc.fraudReasons,
    text: doc.text,
    createdAt: new Date(doc.createdAt).toISOString(),
    ...(refundedAmount ? { refundedAmount } : {}),
  };
}

/** "Why was pay_… declined?": what its record says, in order. */
export function composeLookup(paymentId: string, docs: readonly AnalyticsDocument[]): string {
  const own = docs.find((d) => d.kind === 'payment');
  if (!own) return `I found no payment ${paymentId} of yours in the analytics index (a payment still under way is indexed when it ends).`;
  const refunded = docs.filter((d) => d.kind === 'refund').reduce((sum, d) => sum + (d.refundAmount ?? 0), 0);
  const method = own.method ? METHOD_NAMES[own.method] : 'unknown method';
  const outcome: Readonly<Record<string, string>> = { review: 'was held for review', succeeded: 'succeeded', declined: 'was declined', failed: 'failed' };
  const parts = [`${paymentId} (${money(own.amount, own.currency)}, ${method}${own.country ? `, from ${own.country}` : ''}, created ${new Date(own.createdAt).toISOString()}) ${outcome[own.status] ?? `ended as ${own.status}`}`];
  if (own.connectorId) parts[0] += own.status === 'succeeded' ? `, charged by ${own.connectorId}` : ` at ${own.connectorId}`;
  if (own.code) parts[0] += ` with code ${own.code}`;
  let text = `${parts[0]}.`;
  if (own.attemptConnectors.length > 1) text += ` It tried ${own.attemptConnectors.join(', then ')}.`;
  if (own.attemptConnectors.length === 0 && own.status !== 'succeeded') text += ' No gateway was tried.';
  if (own.fraudDecision) {
    const verdict = { approve: 'approved it', review: 'sent it to review', decline: 'declined it' }[own.fraudDecision];
    // The reasons are what raised the score most, whatever the verdict: not why it approved.
    text += ` The fraud check ${verdict} (score ${own.fraudScore?.toFixed(2)}${own.fraudReasons.length ? `; what raised the score most: ${own.fraudReasons.join(', ')}` : ''}).`;
  }
  if (refunded > 0) text += ` ${money(refunded, own.currency)} of it was refunded.`;
  text += rewardLine(docs);
  return text;
}

/** What a payment's reward documents say: tokens issued, clawed back, minted (nothing when it has none). */
function rewardLine(docs: readonly AnalyticsDocument[]): string {
  const changes = docs.filter((d) => d.kind === 'reward');
  if (changes.length === 0) return '';
  const sum = (change: string) => changes.filter((d) => d.rewardChange === change).reduce((total, d) => total + documentNanos(d), 0n);
  const parts = [`${tokens(tokenDecimal(sum('issued')))} issued`];
  if (sum('clawed_back') > 0n) parts.push(`${tokenDecimal(sum('clawed_back'))} clawed back after a refund`);
  if (sum('minted') > 0n) parts.push(`${tokenDecimal(sum('minted'))} minted on chain`);
  return ` Its reward: ${parts.join(', ')}.`;
}

/** "Payments like pay_…": its neighbours, nearest first. */
export function composeSimilar(paymentId: string, found: boolean, neighbours: readonly AnalyticsDocument[]): string {
  if (!found) return `I found no payment ${paymentId} of yours in the analytics index (a payment still under way is indexed when it ends).`;
  if (neighbours.length === 0) return `None of your other payments is like ${paymentId}.`;
  const items = neighbours.map((d) => `${d.paymentId} (${d.status}, ${money(d.amount, d.currency)}${d.connectorId ? `, ${d.connectorId}` : ''}${d.code ? `, ${d.code}` : ''})`);
  return `The ${plural(neighbours.length, 'payment')} most like ${paymentId}, nearest first: ${items.join('; ')}.`;
}

export function composeCannot(reason: string, askable: readonly string[]): string {
  return `I can't answer that from your payments: ${reason}. You can ask about ${askable.join('; ')}.`;
}
