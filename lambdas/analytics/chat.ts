/**
 * POST /chat: a question about the caller's own payments → a validated plan (planner.ts) → the plan executed on
 * the analytics index (aggregations for a metric, the payment's documents for a lookup, nearest neighbours for a
 * similarity) → the supporting payments by hybrid search → an answer composed from the results only (compose.ts),
 * with the plan as executed, the figures and the citations. A question no plan answers gets "can't answer" and what
 * can be asked, never a number.
 *
 * The merchant is the caller's (the JWT claim): it goes to the index with every read, and no plan names one.
 */
import { ASKABLE, MetricPlan, QueryPlan, type ChatAnswer, type PlanWindow } from '../../contracts/analytics';
import type { ChatRequest } from '../../contracts/api';
import { ValidationError } from '../../contracts/errors';
import { composeCannot, composeLookup, composeMetric, composeSimilar, evidenceOf } from './compose';
import { planQuestion } from './planner';
import type { AnalyticsIndex, Embedder } from './ports';

export interface ChatDeps {
  readonly index: AnalyticsIndex;
  /** Embeds the question for the hybrid search (absent: text search alone). */
  readonly embedder?: Embedder;
}

/** How many supporting payments an answer cites. */
export const EVIDENCE_LIMIT = 5;

/** The request's window, when it gives one: it replaces the question's (and a comparison moves with it). */
function requestWindow(request: ChatRequest, now: Date): PlanWindow | undefined {
  if (!request.from && !request.to) return undefined;
  const to = request.to ? new Date(request.to) : now;
  const from = request.from ? new Date(request.from) : new Date(to.getTime() - 30 * 86_400_000);
  if (from.getTime() >= to.getTime()) {
    throw new ValidationError('the window is empty: from must be before to', [{ field: 'from', problem: 'must be before to' }]);
  }
  return { from: from.toISOString(), to: to.toISOString(), label: `${from.toISOString()} to ${to.toISOString()}` };
}

function withWindow(plan: MetricPlan, window: PlanWindow | undefined): MetricPlan {
  if (!window) return plan;
  const length = Date.parse(window.to) - Date.parse(window.from);
  const compareTo = plan.compareTo
    ? { from: new Date(Date.parse(window.from) - length).toISOString(), to: window.from, label: `the period before (${new Date(Date.parse(window.from) - length).toISOString()} to ${window.from})` }
    : undefined;
  const parsed = MetricPlan.safeParse({ ...plan, window, ...(compareTo ? { compareTo } : {}) });
  if (!parsed.success) {
    throw new ValidationError(`the window is too long: ${parsed.error.issues[0]?.message}`, [{ field: 'from', problem: parsed.error.issues[0]?.message ?? 'bad window' }]);
  }
  return parsed.data;
}

const base = () => ({ citations: [] as string[], evidence: [] as ChatAnswer['evidence'], plannedBy: 'parser' as const, composedBy: 'template' as const });

export async function answer(merchantId: string, request: ChatRequest, deps: ChatDeps, now: Date): Promise<ChatAnswer> {
  const window = requestWindow(request, now);
  const planned = planQuestion(request.question, now);
  if ('cannot' in planned) return { ...base(), answer: composeCannot(planned.cannot, planned.askable), askable: [...planned.askable] };
  const plan = QueryPlan.parse(planned.plan);

  if (plan.kind === 'lookup') {
    const { docs } = await deps.index.payment(merchantId, plan.paymentId);
    const own = docs.find((d) => d.kind === 'payment');
    const refunded = docs.filter((d) => d.kind === 'refund').reduce((sum, d) => sum + (d.refundAmount ?? 0), 0);
    return { ...base(), answer: composeLookup(plan.paymentId, docs), plan, citations: own ? [own.paymentId] : [], evidence: own ? [evidenceOf(own, refunded)] : [] };
  }

  if (plan.kind === 'similar') {
    const { docs, embedding } = await deps.index.payment(merchantId, plan.paymentId);
    const own = docs.find((d) => d.kind === 'payment');
    const neighbours = own
      ? await deps.index.search(merchantId, { scope: { filters: [] }, ...(embedding ? { vector: embedding } : { text: own.text }), exclude: plan.paymentId, limit: plan.limit })
      : [];
    return {
      ...base(),
      answer: composeSimilar(plan.paymentId, Boolean(own), neighbours),
      plan,
      citations: neighbours.map((d) => d.paymentId),
      evidence: neighbours.map((d) => evidenceOf(d)),
    };
  }

  if (plan.metric === 'reward_tokens') {
    const reason = 'reward totals are not in the analytics index yet (GET /reward/{paymentId} shows one payment’s reward)';
    return { ...base(), answer: composeCannot(reason, ASKABLE), askable: [...ASKABLE] };
  }
  const executed = withWindow(plan, window);
  const [figures, comparison, vector] = await Promise.all([
    deps.index.figures(merchantId, executed, executed.window),
    executed.compareTo ? deps.index.figures(merchantId, executed, executed.compareTo) : undefined,
    deps.embedder ? deps.embedder.embed([request.question]).then(([v]) => v) : undefined,
  ]);
  const found = await deps.index.search(merchantId, {
    scope: { window: executed.window, filters: executed.filters, focus: executed.metric },
    text: request.question,
    ...(vector ? { vector } : {}),
    limit: EVIDENCE_LIMIT,
  });
  const evidence = found.map((d) => evidenceOf(d));
  return {
    ...base(),
    answer: composeMetric(executed, figures, comparison, evidence),
    plan: executed,
    figures,
    ...(comparison ? { comparison } : {}),
    citations: evidence.map((e) => e.paymentId),
    evidence,
  };
}
