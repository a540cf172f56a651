/**
 * Analytics chat, first version: answers questions about the caller's own payments (totals, counts,
 * decline rate) over a time window, optionally in the currencies the question names, by keyword, and returns
 * the records it used. No LLM: the answer is composed deterministically from the figures. Issue-level RAG
 * (Orama / OpenSearch + Bedrock) replaces the retrieval and composition behind the same port.
 */
import type { ChatAnswer, ChatIntent, PaymentFact } from '../../contracts/api';
import { ValidationError } from '../../contracts/errors';
import { formatMajor } from '../../contracts/money';
import { currenciesOf, windowOf } from './planner';

export type { ChatAnswer, PaymentFact };
export type Intent = ChatIntent;

export interface PaymentHistory {
  /** The merchant's payments created in [from, to), at most `limit`. */
  list(merchantId: string, from: Date, to: Date, limit: number): Promise<{ items: PaymentFact[]; truncated: boolean }>;
}

export interface Window {
  readonly from: Date;
  readonly to: Date;
  readonly label: string;
}

export const MAX_RECORDS = 5_000;

export function detectIntent(question: string): Intent {
  const q = question.toLowerCase();
  if (/\bdecline|declined|rejection|reject|failure rate|approval rate\b/.test(q)) return 'decline_rate';
  if (/\bhow many|count|number of\b/.test(q)) return 'count';
  if (/\btotal|volume|revenue|sum|how much|sales|earned\b/.test(q)) return 'total';
  return 'summary';
}

/** The window a question names (the planner's: today, yesterday, this week/month, last N hours/days/weeks, in March, between … and …); default last 30 days. */
export function detectWindow(question: string, now: Date): Window {
  const named = windowOf(question, now);
  return { from: new Date(named.from), to: new Date(named.to), label: named.label };
}

/** Supported ISO-4217 codes written in capitals in the question ("volume in EUR"), in order, once each. */
export const detectCurrencies = currenciesOf;

/** How an answer about `window` begins: "Today (UTC)", "In the last 7 days", "From <from> to <to>". */
function opening(label: string, explicit: boolean, from: Date, to: Date): string {
  if (explicit) return `From ${from.toISOString()} to ${to.toISOString()}`;
  if (label.startsWith('the ')) return `In ${label}`;
  return label.charAt(0).toUpperCase() + label.slice(1);
}

export interface ChatInput {
  readonly question: string;
  readonly from?: string;
  readonly to?: string;
}

export async function answer(merchantId: string, input: ChatInput, history: PaymentHistory, now: Date): Promise<ChatAnswer> {
  const named = detectWindow(input.question, now);
  const from = input.from ? new Date(input.from) : named.from;
  const to = input.to ? new Date(input.to) : input.from ? now : named.to;
  if (from.getTime() >= to.getTime()) {
    throw new ValidationError('the window is empty: from must be before to', [{ field: 'from', problem: 'must be before to' }]);
  }
  const explicit = Boolean(input.from || input.to);
  const label = explicit ? `${from.toISOString()} to ${to.toISOString()}` : named.label;
  const currencies = detectCurrencies(input.question);
  const listed = await history.list(merchantId, from, to, MAX_RECORDS);
  const items = currencies.length ? listed.items.filter((p) => currencies.includes(p.currency)) : listed.items;
  const truncated = listed.truncated;
  const intent = detectIntent(input.question);
  const count = (status: string) => items.filter((p) => p.status === status).length;
  const succeeded = count('succeeded');
  const declined = count('declined');
  const totals: Record<string, number> = {};
  for (const p of items) if (p.status === 'succeeded') totals[p.currency] = (totals[p.currency] ?? 0) + p.amount;
  const declineRate = succeeded + declined === 0 ? null : Math.round((declined / (succeeded + declined)) * 10_000) / 10_000;
  const metrics = { payments: items.length, succeeded, declined, failed: count('failed'), review: count('review'), totals, declineRate };

  const totalText =
    Object.keys(totals).length === 0
      ? 'no succeeded volume'
      : Object.entries(totals)
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([currency, amount]) => `${formatMajor({ amount, currency })} ${currency}`)
          .join(', ');
  const rateText = declineRate === null ? 'no decided payments, so no decline rate' : `a decline rate of ${(declineRate * 100).toFixed(2)}% (${declined} of ${succeeded + declined})`;
  const start = opening(label, explicit, from, to) + (currencies.length ? `, in ${currencies.join(' and ')}` : '');
  const paymentsText = `${items.length} payment${items.length === 1 ? '' : 's'}`;
  const sentences: Record<Intent, string> = {
    total: `${start}, you took ${totalText} across ${succeeded} succeeded payment${succeeded === 1 ? '' : 's'}.`,
    count: `${start}, you had ${paymentsText}: ${succeeded} succeeded, ${declined} declined, ${metrics.failed} failed and ${metrics.review} held for review.`,
    decline_rate: `${start}, you had ${rateText}.`,
    summary: `${start}, you had ${paymentsText}, took ${totalText}, and had ${rateText}.`,
  };
  const caveat = truncated ? ` (only the first ${MAX_RECORDS} payments of the window were counted; narrow the window)` : '';
  return {
    answer: sentences[intent] + caveat,
    intent,
    window: { from: from.toISOString(), to: to.toISOString(), label },
    ...(currencies.length ? { currencies } : {}),
    metrics,
    records: items,
    truncated,
  };
}
