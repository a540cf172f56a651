/**
 * POST /chat: a question about the caller's own payments → a validated plan (planner.ts) → the plan executed on
 * the analytics index (aggregations for a metric, the payment's documents for a lookup, nearest neighbours for a
 * similarity) → the supporting payments by hybrid search → an answer composed from the results only (compose.ts),
 * with the plan as executed, the figures and the citations. A question no plan answers gets "can't answer" and what
 * can be asked, never a number.
 *
 * The merchant is the caller's (the JWT claim): it goes to the index with every read, and no plan names one.
 */
import { ASKABLE, MetricPlan, ProposedPlan, QueryPlan, type AnalyticsDocument, type ChatAnswer, type Composer, type PlanWindow, type Planner } from '../../contracts/analytics';
import type { ChatRequest } from '../../contracts/api';
import { ValidationError } from '../../contracts/errors';
import { composeCannot, composeLookup, composeMetric, composeSimilar, evidenceOf } from './compose';
import { isGrounded } from './grounded';
import type { LanguageModel } from './llm';
import { asksAboutOtherMerchants, DEFAULT_WINDOW_DAYS, OTHER_MERCHANTS, planQuestion, type Planned } from './planner';
import type { AnalyticsIndex, Embedder } from './ports';
import { logger } from '../shared/powertools';

export interface ChatDeps {
  readonly index: AnalyticsIndex;
  /** Embeds the question for the hybrid search (absent: text search alone). */
  readonly embedder?: Embedder;
  /** Proposes the plan and phrases the answer (CHAT_MODEL); absent: the parser and the templates. */
  readonly model?: LanguageModel;
}

/** How long a model call may take before the parser or the template answers instead. */
export const MODEL_BUDGET_MS = 6_000;

function withinBudget<T>(work: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took more than ${MODEL_BUDGET_MS} ms`)), MODEL_BUDGET_MS);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** A window's name from its instants alone: what an answer calls it. */
function labelOf(window: PlanWindow): PlanWindow {
  return { ...window, label: `${window.from} to ${window.to}` };
}

/**
 * A model's plan with windows named by their instants: a label is free text, and the model's own would reach the
 * answer unchecked (a number or a claim the results do not hold).
 */
function ownLabels(plan: QueryPlan): QueryPlan {
  if (plan.kind !== 'metric') return plan;
  return { ...plan, window: labelOf(plan.window), ...(plan.compareTo ? { compareTo: labelOf(plan.compareTo) } : {}) };
}

/**
 * The question's plan: the model's tool call when there is a model and its proposal is a valid plan, else the
 * parser's. A question about other merchants is refused whatever the model proposes.
 */
async function planOf(question: string, now: Date, model: LanguageModel | undefined, windowGiven: boolean): Promise<{ planned: Planned; by: Planner }> {
  if (asksAboutOtherMerchants(question)) return { planned: { cannot: OTHER_MERCHANTS, askable: ASKABLE }, by: 'parser' };
  if (model) {
    try {
      const proposed = ProposedPlan.safeParse(await withinBudget(model.proposePlan(question, now), `${model.name} planning`));
      if (proposed.success) {
        const planned: Planned = proposed.data.kind === 'cannot' ? { cannot: proposed.data.reason, askable: ASKABLE } : { plan: ownLabels(proposed.data) };
        return { planned, by: model.name };
      }
      logger.warn('the model proposed an invalid plan; the parser plans instead', { model: model.name, issues: proposed.error.issues.slice(0, 5) });
    } catch (error) {
      logger.warn('the model did not plan; the parser plans instead', { model: model.name, error });
    }
  }
  return { planned: planQuestion(question, now, { windowGiven }), by: 'parser' };
}

/** The model's phrasing of the template's answer, kept only when every number and id in it is the template's. */
async function phrased(question: string, draft: string, facts: unknown, model: LanguageModel | undefined): Promise<{ answer: string; composedBy: Composer }> {
  if (!model) return { answer: draft, composedBy: 'template' };
  try {
    const text = (await withinBudget(model.phrase(question, draft, facts), `${model.name} phrasing`))?.trim();
    if (text && isGrounded(text, draft)) return { answer: text, composedBy: model.name };
    if (text) logger.warn('the model wrote a number or id the results do not have; the template answers', { model: model.name });
  } catch (error) {
    logger.warn('the model did not phrase the answer; the template answers', { model: model.name, error });
  }
  return { answer: draft, composedBy: 'template' };
}

/** A document of one payment (a claim's reward document has none, and is never cited). */
function isPaymentDocument(doc: AnalyticsDocument): doc is AnalyticsDocument & { readonly paymentId: string } {
  return doc.paymentId !== undefined;
}

/** How many supporting payments an answer cites. */
export const EVIDENCE_LIMIT = 5;

/** The request's window, when it gives one: it replaces the question's (and a comparison moves with it). */
function requestWindow(request: ChatRequest, now: Date): PlanWindow | undefined {
  if (!request.from && !request.to) return undefined;
  const to = request.to ? new Date(request.to) : now;
  // Without `from`, the 30 days before `to`, never before 1970 (what the index's dates hold).
  const from = request.from ? new Date(request.from) : new Date(Math.max(0, to.getTime() - DEFAULT_WINDOW_DAYS * 86_400_000));
  if (from.getTime() >= to.getTime()) {
    if (!request.from) throw new ValidationError('the window is empty: to must be after 1970-01-01', [{ field: 'to', problem: 'must be after 1970-01-01T00:00:00Z' }]);
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

export async function answer(merchantId: string, request: ChatRequest, deps: ChatDeps, now: Date): Promise<ChatAnswer> {
  const window = requestWindow(request, now);
  const { planned, by } = await planOf(request.question, now, deps.model, window !== undefined);
  const base = () => ({ citations: [] as string[], evidence: [] as ChatAnswer['evidence'], plannedBy: by, composedBy: 'template' as Composer });
  if ('cannot' in planned) return { ...base(), answer: composeCannot(planned.cannot, planned.askable), askable: [...planned.askable] };
  const plan = QueryPlan.parse(planned.plan);

  if (plan.kind === 'lookup') {
    const { docs } = await deps.index.payment(merchantId, plan.paymentId);
    const own = docs.filter(isPaymentDocument).find((d) => d.kind === 'payment');
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
      citations: neighbours.filter(isPaymentDocument).map((d) => d.paymentId),
      evidence: neighbours.filter(isPaymentDocument).map((d) => evidenceOf(d)),
    };
  }

  const executed = withWindow(plan, window);
  // The figures, the comparison's and the evidence at once (the evidence's search waits for the question's embedding).
  const vector = deps.embedder ? deps.embedder.embed([request.question]).then(([v]) => v) : Promise.resolve(undefined);
  const [figures, comparison, found] = await Promise.all([
    deps.index.figures(merchantId, executed, executed.window),
    executed.compareTo ? deps.index.figures(merchantId, executed, executed.compareTo) : undefined,
    vector.then((v) =>
      deps.index.search(merchantId, {
        scope: { window: executed.window, filters: executed.filters, focus: executed.metric },
        text: request.question,
        ...(v ? { vector: v } : {}),
        limit: EVIDENCE_LIMIT,
      }),
    ),
  ]);
  // One piece of evidence a payment: a payment's refunds are documents of their own, and each names the payment.
  const seen = new Set<string>();
  const evidence = found.filter(isPaymentDocument).filter((d) => !seen.has(d.paymentId) && Boolean(seen.add(d.paymentId))).map((d) => evidenceOf(d));
  const draft = composeMetric(executed, figures, comparison, evidence);
  const facts = { plan: executed, figures, ...(comparison ? { comparison } : {}), citations: evidence.map((e) => e.paymentId) };
  return {
    ...base(),
    ...(await phrased(request.question, draft, facts, deps.model)),
    plan: executed,
    figures,
    ...(comparison ? { comparison } : {}),
    citations: evidence.map((e) => e.paymentId),
    evidence,
  };
}
