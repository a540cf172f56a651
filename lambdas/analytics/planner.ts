/**
 * The deterministic planner: a question in plain English → a validated query plan (contracts/analytics.ts), or a
 * plain "can't answer" naming what can be asked. No LLM; it covers the common phrasings: totals, counts and
 * averages; decline, fraud and refund rates; connector approval rates and fallbacks; reward totals; rankings
 * ("top 5 countries", "which gateway … best"); filters by country (codes, names, adjectives), method, currency,
 * connector and status; windows ("today", "yesterday", "last 7 days", "this week", "in March", "between … and …")
 * and comparisons ("compared with last week", "than the day before", "rise", "drop"); a payment's lookup ("why
 * was pay_… declined?") and its neighbours ("payments like pay_…").
 *
 * The plan never names a merchant: a question about other merchants is answered "can't", and nothing in a
 * question can reach another merchant's data (the query layer applies the caller's).
 */
import { ASKABLE, MAX_WINDOW_DAYS, QueryPlan, type Dimension, type Metric, type PlanFilter, type PlanWindow } from '../../contracts/analytics';
import { isSupportedCurrency } from '../../contracts/money';
import { CountryCode } from '../../contracts/regions';
import { calendarDay } from '../shared/calendar';

export type Planned = { readonly plan: QueryPlan } | { readonly cannot: string; readonly askable: readonly string[] };

const DAY_MS = 86_400_000;
const UNIT_MS = { hour: 3_600_000, day: DAY_MS, week: 7 * DAY_MS, month: 30 * DAY_MS } as const;
const MONTHS = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];

/** Country names and adjectives a question may use, by ISO code. */
const COUNTRY_WORDS: Readonly<Record<string, readonly string[]>> = {
  US: ['united states', 'usa', 'american'], CA: ['canada', 'canadian'], MX: ['mexico', 'mexican'], BR: ['brazil', 'brazilian'],
  AR: ['argentina', 'argentinian', 'argentine'], CL: ['chile', 'chilean'], CO: ['colombia', 'colombian'], PE: ['peru', 'peruvian'],
  GB: ['united kingdom', 'britain', 'british', 'uk'], IE: ['ireland', 'irish'], DE: ['germany', 'german'], FR: ['france', 'french'],
  IT: ['italy', 'italian'], ES: ['spain', 'spanish'], NL: ['netherlands', 'dutch'], BE: ['belgium', 'belgian'], AT: ['austria', 'austrian'],
  PT: ['portugal', 'portuguese'], SE: ['sweden', 'swedish'], DK: ['denmark', 'danish'], FI: ['finland', 'finnish'], PL: ['poland', 'polish'],
  CH: ['switzerland', 'swiss'], NO: ['norway', 'norwegian'], JP: ['japan', 'japanese'], AU: ['australia', 'australian'],
  NZ: ['new zealand'], SG: ['singapore', 'singaporean'], HK: ['hong kong'], KR: ['korea', 'korean'], IN: ['india', 'indian'], CN: ['china', 'chinese'],
};

const DIMENSION_WORDS: Readonly<Record<string, Dimension>> = {
  country: 'country', countries: 'country', connector: 'connector', connectors: 'connector', gateway: 'connector', gateways: 'connector',
  method: 'method', methods: 'method', currency: 'currency', currencies: 'currency', customer: 'customer', customers: 'customer',
  status: 'status', statuses: 'status',
};

const iso = (date: Date) => date.toISOString();
const day = (date: Date) => iso(date).slice(0, 10);
const minute = (date: Date) => `${day(date)} ${iso(date).slice(11, 16)}`;
/** A window's bounds in words: whole days as dates (`to` exclusive, so the last day named is the day before it), else to the minute (UTC). */
const span = (from: Date, to: Date) =>
  from.getTime() % DAY_MS === 0 && to.getTime() % DAY_MS === 0
    ? to.getTime() - from.getTime() === DAY_MS
      ? `${day(from)} (UTC)`
      : `${day(from)} to ${day(new Date(to.getTime() - DAY_MS))} (UTC)`
    : `${minute(from)} to ${minute(to)} UTC`;
const startOfDay = (date: Date) => new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
const window = (from: Date, to: Date, label: string): PlanWindow => ({ from: iso(from), to: iso(to), label });

/** The time window a question names (default: the last 30 days), ending no later than `now`. */
export function windowOf(question: string, now: Date): PlanWindow {
  return namedWindow(question, now) ?? window(new Date(now.getTime() - DEFAULT_WINDOW_DAYS * DAY_MS), now, DEFAULT_WINDOW_LABEL);
}

/** The time window a question names, ending no later than `now`; undefined when it names none it can read. */
function namedWindow(question: string, now: Date): PlanWindow | undefined {
  const q = question.toLowerCase();
  const today = startOfDay(now);
  const between = /\bbetween\s+(\d{4}-\d{2}-\d{2})\s+and\s+(\d{4}-\d{2}-\d{2})\b/.exec(q);
  if (between) {
    const fromMs = calendarDay(between[1]!);
    const lastMs = calendarDay(between[2]!);
    if (fromMs !== undefined && lastMs !== undefined && fromMs >= 0 && fromMs <= lastMs) {
      const from = new Date(fromMs);
      const last = new Date(lastMs);
      const to = new Date(Math.min(last.getTime() + DAY_MS, now.getTime()));
      if (from < to) return window(from, to, `${between[1]} to ${between[2]} (UTC)`);
    }
  }
  const lastN = /\b(?:last|past)\s+(\d{1,3})\s+(hour|day|week|month)s?\b/.exec(q);
  if (lastN) {
    const n = Number(lastN[1]);
    const unit = lastN[2] as keyof typeof UNIT_MS;
    if (n >= 1) return window(new Date(now.getTime() - n * UNIT_MS[unit]), now, `the last ${n} ${unit}${n === 1 ? '' : 's'}`);
  }
  if (/\btoday\b/.test(q)) return window(today, now, 'today (UTC)');
  if (/\byesterday\b/.test(q)) return window(new Date(today.getTime() - DAY_MS), today, 'yesterday (UTC)');
  const lastUnit = /\b(?:last|past)\s+(hour|day|week|month)\b/.exec(q);
  if (lastUnit && !/\bcompared\s+(?:with|to)\s+(?:the\s+)?(?:last|past)\s+(?:hour|day|week|month)\b/.test(q.slice(0, lastUnit.index + lastUnit[0].length))) {
    const unit = lastUnit[1] as keyof typeof UNIT_MS;
    return window(new Date(now.getTime() - UNIT_MS[unit]), now, `the last ${unit}`);
  }
  if (/\bthis week\b/.test(q)) {
    const sinceMonday = (today.getUTCDay() + 6) % 7;
    return window(new Date(today.getTime() - sinceMonday * DAY_MS), now, 'this week (UTC, from Monday)');
  }
  if (/\bthis month\b/.test(q)) return window(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)), now, 'this month (UTC)');
  const quarterStart = (year: number, quarter: number) => new Date(Date.UTC(year, quarter * 3, 1));
  const quarter = Math.floor(now.getUTCMonth() / 3);
  if (/\bthis quarter\b/.test(q)) return window(quarterStart(now.getUTCFullYear(), quarter), now, `Q${quarter + 1} ${now.getUTCFullYear()} so far (UTC)`);
  if (/\b(?:last|previous) quarter\b/.test(q)) {
    const year = quarter === 0 ? now.getUTCFullYear() - 1 : now.getUTCFullYear();
    const last = (quarter + 3) % 4;
    return window(quarterStart(year, last), quarterStart(now.getUTCFullYear(), quarter), `Q${last + 1} ${year} (UTC)`);
  }
  if (/\bthis year\b/.test(q)) return window(new Date(Date.UTC(now.getUTCFullYear(), 0, 1)), now, `${now.getUTCFullYear()} so far (UTC)`);
  if (/\b(?:last|previous) year\b/.test(q)) {
    const year = now.getUTCFullYear() - 1;
    return window(new Date(Date.UTC(year, 0, 1)), new Date(Date.UTC(year + 1, 0, 1)), `${year} (UTC)`);
  }
  const month = new RegExp(`\\bin\\s+(${MONTHS.join('|')})(?:\\s+(\\d{4}))?\\b`).exec(q);
  if (month) {
    const index = MONTHS.indexOf(month[1]!);
    // The named month of the given year, else its latest start at or before now.
    let year = month[2] ? Number(month[2]) : now.getUTCFullYear();
    if (!month[2] && Date.UTC(year, index, 1) > now.getTime()) year -= 1;
    const from = new Date(Date.UTC(year, index, 1));
    const to = new Date(Math.min(Date.UTC(year, index + 1, 1), now.getTime()));
    const name = month[1]!.charAt(0).toUpperCase() + month[1]!.slice(1);
    if (from < to) return window(from, to, `${name} ${year} (UTC)`);
  }
  // A year alone ("in 2025"), not a date's.
  const yearOnly = /\bin\s+(20\d{2})\b(?!-)/.exec(q);
  if (yearOnly) {
    const year = Number(yearOnly[1]);
    const from = new Date(Date.UTC(year, 0, 1));
    const to = new Date(Math.min(Date.UTC(year + 1, 0, 1), now.getTime()));
    if (from < to) return window(from, to, `${year} (UTC)`);
  }
  return undefined;
}

export const DEFAULT_WINDOW_DAYS = 30;
const DEFAULT_WINDOW_LABEL = `the last ${DEFAULT_WINDOW_DAYS} days`;

/**
 * Words of time a question uses that windowOf did not read (it fell back to its default): "since Monday", "3 days
 * ago", "March payments", "per day", "next week", a date outside "between … and …". Answering such a question for the last 30
 * days would answer another question, so the planner says it cannot read the window instead.
 */
export function unreadTimeWords(question: string): string | undefined {
  const q = question.toLowerCase();
  const found =
    // A "between" or a "last N" that did not read (a date that is no day, the wrong order, N of 0, negative or huge).
    /\bbetween\s+\S+\s+and\s+\S+|\b(?:last|past)\s+[-+]?[\d.,e]+\s+\w+/.exec(q) ??
    /\b\d{4}-\d{2}(?:-\d{2})?\b|\b\d{1,2}\/\d{1,2}(?:\/\d{2,4})?\b/.exec(q) ??
    /\b(?:over|within|in)\s+(?:the\s+)?\d+\s+(?:hours?|days?|weeks?|months?|quarters?|years?)\b/.exec(q) ??
    /\b(?:since|until|till)\s+\S+|\b\d+\s+\w+\s+ago\b|\b(?:in|during|for|year)\s+(?:1[0-9]|2[0-9])\d{2}\b/.exec(q) ??
    // "May" is a month and a verb: a question's "may" is not read as a time.
    new RegExp(
      `\\b(?:${MONTHS.filter((m) => m !== 'may').join('|')}|(?:mon|tues|wednes|thurs|fri|satur|sun)day|weekends?|quarters?|years?|tonight|morning|afternoon|evening|overnight)\\b`,
    ).exec(q) ??
    /\b(?:per|each|every|by)\s+(?:hour|day|week|month)\b|\b(?:hourly|daily|weekly|monthly)\b|\b(?:next|coming)\s+(?:hours?|days?|weeks?|months?|quarters?|years?)\b/.exec(q);
  return found?.[0];
}

/** The same instant a calendar month earlier (the month's last day when that day does not exist: 31 March → 28/29 February). */
function monthEarlier(date: Date): Date {
  const target = new Date(date.getTime());
  const day = date.getUTCDate();
  target.setUTCDate(1);
  target.setUTCMonth(target.getUTCMonth() - 1);
  const last = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(day, last));
  return target;
}

/** The window a question compares with, if it asks for a comparison. */
export function comparisonOf(question: string, main: PlanWindow): PlanWindow | undefined {
  const q = question.toLowerCase();
  const from = Date.parse(main.from);
  const to = Date.parse(main.to);
  const shifted = (ms: number, label: string) => window(new Date(from - ms), new Date(to - ms), label);
  if (/\b(?:compared?\s+(?:with|to)|than|vs\.?|versus)\s+(?:the\s+same\s+\w+\s+)?last\s+week\b/.test(q)) return shifted(7 * DAY_MS, 'the same period a week earlier');
  if (/\b(?:compared?\s+(?:with|to)|than|vs\.?|versus)\s+(?:yesterday|the\s+(?:day|previous\s+day)\s+before|the\s+previous\s+day)\b/.test(q)) {
    return shifted(DAY_MS, 'the same period a day earlier');
  }
  if (/\b(?:compared?\s+(?:with|to)|than|vs\.?|versus)\s+last\s+month\b/.test(q)) {
    return window(monthEarlier(new Date(from)), monthEarlier(new Date(to)), 'the same period a month earlier');
  }
  // "Fell back" and "fall back" are fallbacks, not a fall.
  const moves = q.replace(/\b(?:fell|fall|falls|falling)\s+back\b/g, ' ');
  if (/\b(?:compared?\s+(?:with|to)|than|vs\.?|versus)\b|\b(?:rise|rose|risen|increase|increased|drop|dropped|fall|fell|fallen|decrease|decreased|change|changed|grow|grew|jump|jumped)\b/.test(moves)) {
    return window(new Date(from - (to - from)), new Date(from), `the period before (${span(new Date(from - (to - from)), new Date(from))})`);
  }
  return undefined;
}

/** Names of one currency a question may use ("volume in yen"). */
const CURRENCY_NAMES: Readonly<Record<string, string>> = {
  yen: 'JPY', euro: 'EUR', euros: 'EUR', sterling: 'GBP', pound: 'GBP', pounds: 'GBP', yuan: 'CNY', renminbi: 'CNY', reais: 'BRL',
  rupiah: 'IDR', baht: 'THB', zloty: 'PLN', zlotys: 'PLN', forint: 'HUF', shekel: 'ILS', shekels: 'ILS', 'swiss franc': 'CHF', 'swiss francs': 'CHF',
};
/** Names several currencies share: the question must say which, by its code. */
const SHARED_CURRENCY_NAMES = /\b(?:dollars?|pesos?|rupees?|francs?|dinars?|kron(?:a|or|er|ur)|krónur|crowns?|riyals?|rials?|shillings?|liras?)\b/;
/** Currency codes that are also English words: read in capitals only ("ALL", not "all"). */
const WORD_CODES = new Set(['all', 'ars', 'bam', 'bob', 'cad', 'cop', 'cup', 'gel', 'kgs', 'mad', 'mop', 'nad', 'pen', 'ron', 'rub', 'sos', 'top', 'try']);

/**
 * The supported ISO-4217 currencies a question names, in order, once each: codes in capitals ("volume in EUR"),
 * in lower case but for those that are English words ("eur payments"), and one currency's names ("in yen").
 */
export function currenciesOf(question: string): string[] {
  const found: Array<{ at: number; code: string }> = [];
  for (const m of question.matchAll(/\b[A-Za-z]{3}\b/g)) {
    const [word] = m;
    const code = word.toUpperCase();
    const read = word === code || (word === word.toLowerCase() && !WORD_CODES.has(word));
    if (read && isSupportedCurrency(code)) found.push({ at: m.index, code });
  }
  const q = question.toLowerCase();
  for (const [name, code] of Object.entries(CURRENCY_NAMES)) {
    for (const m of q.matchAll(new RegExp(`\\b${name}\\b`, 'g'))) found.push({ at: m.index, code });
  }
  return [...new Set(found.sort((a, b) => a.at - b.at).map((f) => f.code))];
}

/** Country codes in capitals after "from", "in" or "country" ("payments from BR"). */
const COUNTRY_CODE_AFTER = /\b(?:from|in|country|countries)\s+([A-Z]{2})\b/g;

function countriesOf(question: string): string[] {
  const q = ` ${question.toLowerCase().replace(/[^a-z0-9 ]/g, ' ')} `;
  const found = Object.entries(COUNTRY_WORDS).filter(([, words]) => words.some((w) => q.includes(` ${w} `) || q.includes(` ${w}s `))).map(([code]) => code);
  for (const m of question.matchAll(COUNTRY_CODE_AFTER)) if (CountryCode.safeParse(m[1]).success) found.push(m[1]!);
  return [...new Set(found)];
}

/** Customer ids a question names after "customer" (an id has a digit, `_` or `@`: "customer cus_1"). */
function customersOf(question: string): string[] {
  return [...new Set([...question.matchAll(/\bcustomer\s+(?:id\s+)?["'`]?([A-Za-z0-9][\w.:@+-]*[\d_@][\w.:@+-]*)/g)].map((m) => m[1]!.replace(/[.:]+$/, '')))];
}

const KNOWN_PLACE_WORDS = new Set([
  ...Object.values(COUNTRY_WORDS).flat(),
  ...MONTHS,
  ...Object.keys(CURRENCY_NAMES),
  ...['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday', 'the', 'my', 'our', 'all', 'total', 'each', 'every', 'which', 'what', 'there', 'here', 'this', 'that', 'last', 'today', 'yesterday', 'review'],
  // Methods read as such ("from Amazon Pay wallets", "in Solana Pay").
  ...['amazon', 'solana'],
]);
/** Words that follow "customer" in a question without naming one ("per customer this month", "which customer paid most"). */
const CUSTOMER_FOLLOWERS = new Set([
  'a', 'an', 'the', 'and', 'or', 'by', 'with', 'who', 'that', 'which', 'is', 'was', 'has', 'had', 'have', 'of', 'in', 'for', 'on', 'at', 'from', 'to', 'per',
  'count', 'counts', 'volume', 'base', 'ids', 'id', 'payments', 'paid', 'spent', 'spend', 'made', 'did', 'does', 'rewards', 'reward', 'tokens', 'this',
  'last', 'today', 'yesterday', 'these', 'those', 'ever', 'most', 'more', 'less', 'got', 'gets', 'earned', 'received', 'compared', 'vs', 'than',
]);
const CONNECTOR_STOPWORDS = new Set(['a', 'an', 'the', 'another', 'other', 'any', 'which', 'what', 'each', 'every', 'all', 'our', 'my', 'card', 'cards', 'wallet', 'wallets', 'amazon', 'solana', 'fallback', 'fallbacks']);

/**
 * A condition the question puts on its payments that the plans cannot express, which answering without it would
 * silently drop: amounts or counts ("over 100 USD", "more than 3"), card brands and methods the platform does not
 * name, a gateway, country or customer it does not know, a currency name several currencies share. The reason, or
 * undefined when every condition it names was read.
 */
export function unreadCondition(question: string, connectorsRead: readonly string[]): string | undefined {
  const q = question.toLowerCase();
  // A comparison with a number that is not a span of time ("over 100 USD", "more than 3"; not "over 7 days", nor a date).
  const threshold =
    /\b(?:over|above|under|below|exceeding|(?:more|less|fewer|greater|bigger|larger|smaller|higher|lower)\s+than|at\s+(?:least|most)|between)\s+(?:[$€£¥]\s*)?\d[\d,]*(?:\.\d+)?(?![-\d/.]|\s*(?:hours?|days?|weeks?|months?|quarters?|years?|h|d)\b)(?:\s*[a-z]{3}\b)?|[<>]=?\s*[$€£¥]?\s*\d[\d,.]*/.exec(q);
  if (threshold) return `answers cover every amount and count: a condition such as "${threshold[0].trim()}" is not one they can apply`;
  const brand = /\b(?:american express|amex|visa|master ?card|maestro|discover|jcb|diners(?: club)?|union ?pay|paypal|apple pay|google pay|klarna|venmo|alipay|we ?chat(?: pay)?|bitcoin|crypto(?:currency)?|ach|sepa|bank transfers?|cash|debit(?: cards?)?|credit(?: cards?)?|prepaid)\b/.exec(q);
  if (brand) return `payments can be told apart by method (card, wallet for Amazon Pay, Solana Pay), not by "${brand[0]}"`;
  for (const m of q.matchAll(/\b(?:via|through|using)\s+([a-z][\w-]*)/g)) {
    if (!CONNECTOR_STOPWORDS.has(m[1]!) && !connectorsRead.includes(m[1]!)) return `"${m[1]}" is not a connector id: name a gateway by its id (stripe-us, amazon-pay, ...)`;
  }
  for (const m of question.matchAll(COUNTRY_CODE_AFTER)) {
    if (!CountryCode.safeParse(m[1]).success && !KNOWN_PLACE_WORDS.has(m[1]!.toLowerCase())) return `"${m[1]}" is not a country code: name a country by its ISO code (BR), its name (Brazil) or its adjective (Brazilian)`;
  }
  for (const m of question.matchAll(/\b(?:from|in)\s+([A-Z][a-z]+)\b/g)) {
    if (!KNOWN_PLACE_WORDS.has(m[1]!.toLowerCase())) return `I do not know "${m[1]}": name a country by its ISO code (BR), its name (Brazil) or its adjective (Brazilian), and a currency by its code (EUR)`;
  }
  const shared = SHARED_CURRENCY_NAMES.exec(q);
  if (shared) return `"${shared[0]}" names several currencies: name the currency by its code (USD, CAD, MXN, ...)`;
  if (customersOf(question).length === 0) {
    const named = /\bcustomer\s+(?:id\s+)?["'`]?([\w.@-]+)/.exec(q)?.[1];
    if (named !== undefined && !CUSTOMER_FOLLOWERS.has(named)) return `I cannot tell which customer "${named}" is: name a customer by its id (customer cus_123)`;
  }
  return undefined;
}

/** A count or an amount asked for ("how many", "total", "volume", "average", ...), as opposed to a rate. */
const COUNT_OR_AMOUNT = /\bhow many\b|\bnumber of\b|\bcount\b|\btotal\b|\bvolume\b|\bsum\b|\bhow much\b|\baverage\b|\bmean\b|\bamount\b/;
const RATE = /\brate\b|\bpercent|\bshare\b|\bratio\b|\bproportion\b|%|\bhow often\b/;
const AVERAGE = /\baverage\b|\bmean\b|\bavg\b|\btypical\b/;
const TOTAL = /\btotal\b|\bvolume\b|\brevenue\b|\bsum\b|\bhow much\b|\bsales\b|\bearned\b|\bprocessed\b|\bamounts?\b/;

function metricOf(q: string): Metric | 'refund_amounts' | 'fraud_counts' | undefined {
  // Fraud and refunds are measured as rates only: a count or an amount of them is not a figure the plans have.
  if (/\bfraud/.test(q)) return COUNT_OR_AMOUNT.test(q) && !RATE.test(q) ? 'fraud_counts' : 'fraud_decline_rate';
  if (/\brefund/.test(q)) return COUNT_OR_AMOUNT.test(q) && !RATE.test(q) ? 'refund_amounts' : 'refund_rate';
  if (/\bfall ?backs?\b|\bfell back\b|\bfailovers?\b|\banother (?:gateway|connector)\b/.test(q)) return 'fallback_count';
  if (/\brewards?\b|\btokens? (?:earned|minted|given)\b/.test(q)) return 'reward_tokens';
  if (/\bhow many\b|\bnumber of\b|\bcount\b/.test(q)) return 'count';
  // An amount of declined (or approved) payments is an amount, not a rate: "average amount of declined payments".
  const rate = RATE.test(q);
  if (!rate && AVERAGE.test(q)) return 'average_amount';
  if (!rate && TOTAL.test(q)) return 'total_amount';
  if (/\bapprov|\bacceptance\b|\bsuccess rate\b|\bauthori[sz]ation rate\b/.test(q)) return 'approval_rate';
  if (/\bdeclin|\brejection|\bfailure rate\b/.test(q)) return 'decline_rate';
  if (AVERAGE.test(q)) return 'average_amount';
  if (TOTAL.test(q)) return 'total_amount';
  return undefined;
}

function groupOf(q: string): { groupBy?: Dimension; top?: number } {
  const word = '(countr(?:y|ies)|connectors?|gateways?|methods?|currenc(?:y|ies)|customers?|status(?:es)?)';
  const top = new RegExp(`\\btop\\s+(?:(\\d{1,2})\\s+)?${word}\\b`).exec(q);
  if (top) return { groupBy: DIMENSION_WORDS[top[2]!], top: top[1] ? Math.min(50, Math.max(1, Number(top[1]))) : 5 };
  const by = new RegExp(`\\b(?:by|per|each|which|what|across)\\s+${word}\\b`).exec(q);
  if (by) return { groupBy: DIMENSION_WORDS[by[1]!] };
  return {};
}

/** Connector ids a question names ("via stripe-us"). */
function connectorsOf(question: string): string[] {
  return [...new Set([...question.matchAll(/\b(?:on|at|via|through|using|connector|gateway)\s+([a-z0-9]+(?:-[a-z0-9]+)+)\b/g)].map((m) => m[1]!))];
}

function filtersOf(question: string, metric: Metric): PlanFilter[] {
  const q = question.toLowerCase();
  const filters: PlanFilter[] = [];
  const countries = countriesOf(question);
  if (countries.length) filters.push({ field: 'country', in: countries });
  const methods = [
    ...(/\bcards?\b/.test(q) ? (['card'] as const) : []),
    ...(/\bwallets?\b|\bamazon pay\b/.test(q) ? (['wallet'] as const) : []),
    ...(/\bsolana pay\b/.test(q) ? (['solana_pay'] as const) : []),
  ];
  if (methods.length) filters.push({ field: 'method', in: methods });
  const currencies = currenciesOf(question);
  if (currencies.length) filters.push({ field: 'currency', in: currencies });
  const connectors = connectorsOf(question);
  if (connectors.length) filters.push({ field: 'connector', in: connectors });
  const customers = customersOf(question);
  if (customers.length) filters.push({ field: 'customer', in: customers });
  // A status filter only where the metric is not itself a rate over statuses.
  if (metric === 'count' || metric === 'total_amount' || metric === 'average_amount') {
    const statuses = [
      ...(/\bdeclined\b|\bdeclines\b|\bdecline\s+(?:volume|amounts?|totals?)\b/.test(q) ? (['declined'] as const) : []),
      ...(/\bsucceeded\b|\bsuccessful\b|\bcompleted\b|\bapproved\b|\bcharged\b/.test(q) ? (['succeeded'] as const) : []),
      ...(/\bfailed\b|\bfailures\b/.test(q) ? (['failed'] as const) : []),
      ...(/\bin review\b|\bheld\b|\bfor review\b/.test(q) ? (['review'] as const) : []),
    ];
    if (statuses.length) filters.push({ field: 'status', in: statuses });
  }
  return filters;
}

const cannot = (reason: string): Planned => ({ cannot: reason, askable: ASKABLE });

export const OTHER_MERCHANTS = 'answers are about your own payments only; other merchants’ data is never read';

/** Whether a question asks about merchants other than the caller ("all merchants", "merchant m_…"). */
export function asksAboutOtherMerchants(question: string): boolean {
  return /\b(?:all|every|other|another)\s+merchants?\b|\bmerchants'\b|\bmerchant\s+(?:id\s+)?m_/.test(question.toLowerCase());
}

/** The comparison a question asks for, to its end ("… compared with last week"): not where its own window is named. */
const COMPARISON_CLAUSE = /\b(?:compared?\s+(?:with|to)|than|vs\.?|versus)\b.*$/;

/**
 * The window a question's comparison implies when it names none of its own: "volume vs yesterday" is today's,
 * "… compared with last week" this week's, "… compared with last month" this month's.
 */
function impliedWindow(question: string, now: Date): PlanWindow | undefined {
  const clause = COMPARISON_CLAUSE.exec(question.toLowerCase())?.[0] ?? '';
  if (/\b(?:yesterday|the\s+(?:previous\s+)?day(?:\s+before)?|previous\s+day)\b/.test(clause)) return namedWindow('today', now);
  if (/\blast\s+week\b/.test(clause)) return namedWindow('this week', now);
  if (/\blast\s+month\b/.test(clause)) return namedWindow('this month', now);
  return undefined;
}

/**
 * The plan of a question asked at `now`, validated; or why it cannot be answered, and what can be asked.
 * `windowGiven`: the request gives the window (`from`/`to`), which replaces the question's, so a time the question
 * names is not read.
 */
export function planQuestion(question: string, now: Date, options: { readonly windowGiven?: boolean } = {}): Planned {
  const q = question.toLowerCase();
  if (asksAboutOtherMerchants(question)) return cannot(OTHER_MERCHANTS);
  const paymentId = /\bpay_[0-9A-Z]{20}\b/.exec(question)?.[0];
  if (paymentId) {
    const plan = /\blike\b|\bsimilar\b|\bresembl/.test(q) ? { kind: 'similar' as const, paymentId, limit: 5 } : { kind: 'lookup' as const, paymentId };
    return { plan: QueryPlan.parse(plan) };
  }
  if (/\bpay_\w+/.test(question)) return cannot('that is not a payment id: payment ids are pay_ and 20 capitals or digits');
  const { groupBy, top } = groupOf(q);
  // "Top customers this week": a ranking that names no measure ranks by volume.
  const metric = metricOf(q) ?? (top !== undefined ? 'total_amount' : undefined);
  if (!metric) return cannot('the question names nothing that can be measured');
  if (metric === 'refund_amounts') return cannot('refunds are measured as a rate (the refund rate), not as counts or amounts of refunds');
  if (metric === 'fraud_counts') return cannot('fraud is measured as a rate (the fraud decline rate), not as counts or amounts of fraud');
  // The question's own window, read without its comparison ("yesterday" in "volume vs yesterday" is not it).
  const named = options.windowGiven ? undefined : (namedWindow(question.replace(COMPARISON_CLAUSE, ''), now) ?? impliedWindow(question, now));
  const main = named ?? windowOf('', now);
  const unread = named || options.windowGiven ? undefined : unreadTimeWords(question);
  if (unread) {
    return cannot(
      `I cannot read the time window "${unread}" (answers cover one window: today, yesterday, last N hours/days/weeks/months, this week/month/quarter/year, last quarter/year, "in March", "in 2025", "between 2026-11-01 and 2026-11-07"; or give \`from\` and \`to\`)`,
    );
  }
  const condition = unreadCondition(question, connectorsOf(question));
  if (condition) return cannot(condition);
  const compareTo = comparisonOf(question, main);
  const grouped = groupBy;
  const parsed = QueryPlan.safeParse({
    kind: 'metric',
    metric,
    filters: filtersOf(question, metric),
    ...(grouped ? { groupBy: grouped } : {}),
    ...(top !== undefined ? { top } : {}),
    window: main,
    ...(compareTo ? { compareTo } : {}),
  });
  if (!parsed.success) {
    // The plans a question can yield that the schema refuses: a window not begun yet, or one longer than a plan
    // covers (a window the request gives is checked where it replaces the question's).
    if (parsed.error.issues.some((i) => i.path[0] === 'window')) {
      return cannot(
        Date.parse(main.to) <= Date.parse(main.from)
          ? `${main.label} has not begun yet: ask about a window that has`
          : `a window covers at most ${MAX_WINDOW_DAYS} days, and ${main.label} is longer: ask for a shorter one`,
      );
    }
    return cannot(parsed.error.issues.map((i) => (i.path[0] === 'metric' ? i.message : `${i.path.join('.')} ${i.message}`)).join('; '));
  }
  return { plan: parsed.data };
}
