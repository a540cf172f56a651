/**
 * Every Task of the workflows, keyed by its `step`: which function runs it, the payload the ASL's
 * `Parameters` build, and what it returns. Handlers parse their payloads with these (no `z.any()`, no casts),
 * and the state-machine tests check every payload and result of every recorded path against them.
 *
 * A state in `statemachines/*.asl.json` reaches its code in one hop: its `Comment` names the handler file and
 * the step (`lambdas/payments/handler.ts → steps.begin`), and the handler's `steps` record has one entry per
 * step (test/statemachine/definitions.test.ts holds the three in line).
 */
import { z } from 'zod';
import { ActionDetails, AttemptRecord, CardSummary, FraudAssessment, PaymentRequest, RankedConnector, RewardEntry, RouteResult, TerminalStatus } from './api';
import { FraudSnapshots, PaymentRefundedDetail, PaymentSucceededDetail, RoutingDecisionContext } from './events';
import { PaymentId } from './ids';
import type { FunctionName } from './topology';

/** The execution's id, passed to every Task for log correlation. */
const ExecutionId = z.string().min(1);

/**
 * The payment workflow's input, as API Gateway's request template (lib/api.ts) and the local server build it:
 * the body's text as sent with its Content-Type and Content-Encoding headers, the merchant claim, the
 * Idempotency-Key header and the request id, each '' when absent. Begin and ScoreFraud read the text with the
 * same checks as every other route (lambdas/shared/http.ts parseJsonText: media type, size, duplicate keys,
 * numbers a double cannot hold), so the cloud's /pay refuses what the local platform refuses. `body`, the body
 * already parsed, is read only when there is no `bodyText` (an execution started by an earlier template).
 * Begin checks the values (a 4xx); this schema never fails, so Abort can always answer.
 */
export const PayEnvelope = z
  .object({
    body: z.unknown().optional(),
    bodyText: z.string().optional().catch(undefined),
    /** Set instead of `bodyText` when the input would pass PAY_INPUT_MAX_CHARS: its length then (Begin answers 413). */
    oversizeChars: z.number().optional().catch(undefined),
    contentType: z.string().optional().catch(undefined),
    contentEncoding: z.string().optional().catch(undefined),
    merchantId: z.string().catch(''),
    idempotencyKey: z.string().catch(''),
    requestId: z.string().catch(''),
  })
  .loose();
export type PayEnvelope = z.infer<typeof PayEnvelope>;

/** The envelope of a JSON body sent as application/json, as the template and the local server build it. */
export function jsonEnvelope(body: unknown, fields: { merchantId: string; idempotencyKey: string; requestId: string }): PayEnvelope {
  return { bodyText: JSON.stringify(body), contentType: 'application/json', contentEncoding: '', ...fields };
}

/**
 * The most characters the payment workflow's input may take. Step Functions limits an execution's input, and every
 * state's data, to 256 KiB of UTF-8. The input is ASCII (the template escapes every other character as `\uXXXX`),
 * and later states carry the request Begin parsed beside it (Abort is given both), so this leaves room for that.
 * API Gateway's template (lib/api.ts) and the local server check it alike: an input over it reaches the workflow
 * as `oversizeChars`, without the body, and Begin answers 413 before anything is claimed.
 */
export const PAY_INPUT_MAX_CHARS = 160_000;

/** The fields the template writes into the workflow's input, in its order. */
const PAY_INPUT_FIELDS = ['bodyText', 'contentType', 'contentEncoding', 'merchantId', 'idempotencyKey', 'requestId'] as const;
export type PayInputFields = Record<(typeof PAY_INPUT_FIELDS)[number], string>;

/**
 * The characters `text` takes once the template has escaped it: `$util.escapeJavaScript` (Apache Commons Lang's
 * escapeJavaScript: `"`, `\` and `/` take 2, `\b \t \n \f \r` take 2, other control characters and every UTF-16
 * unit above 0x7f take 6) with its `\'` turned back into `'`.
 */
export function templateEscapedLength(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (c > 0x7f) n += 6;
    else if (c < 0x20) n += c === 8 || c === 9 || c === 10 || c === 12 || c === 13 ? 2 : 6;
    else if (c === 0x22 || c === 0x5c || c === 0x2f) n += 2;
    else n += 1;
  }
  return n;
}

/** The length of the input the template builds from these fields: `{"bodyText":"…",…}`, each value escaped. */
export function payInputChars(fields: PayInputFields): number {
  let n = 2 + PAY_INPUT_FIELDS.length - 1; // the braces and the commas
  for (const key of PAY_INPUT_FIELDS) n += key.length + 5 + templateEscapedLength(fields[key]); // "key":"value"
  return n;
}

/** The envelope as the template passes it: the fields as they are or, over PAY_INPUT_MAX_CHARS, its size in place of the body. */
export function boundedPayEnvelope(fields: PayInputFields): PayEnvelope {
  const chars = payInputChars(fields);
  if (chars <= PAY_INPUT_MAX_CHARS) return fields;
  const { bodyText: _body, ...rest } = fields;
  return { oversizeChars: chars, ...rest };
}

/** The payment the workflow carries from Begin on. `request` is the normalised request (the idempotency hash covers it). */
export const PaymentDraft = z.object({
  paymentId: PaymentId,
  merchantId: z.string().min(1),
  idempotencyKey: z.string().min(1),
  createdAt: z.iso.datetime({ offset: true }),
  request: PaymentRequest,
  /**
   * Which run of the key's claim this execution holds: 1 for the first claim, one more at each takeover of an
   * expired lease. Abort releases or expires the claim only while it is still this run's (a run that outlived its
   * lease must not give away its successor's). A draft from before runs were carried (an execution in flight across
   * a deploy) is run 1's: at worst its Abort then leaves a later run's claim alone, never releases it.
   */
  run: z.number().int().min(1).default(1),
});
export type PaymentDraft = z.infer<typeof PaymentDraft>;

/** The HTTP answer of POST /pay, as the workflow outputs it and as the key replays it (the body already JSON). */
export const StoredResponse = z.object({ status: z.number().int().min(200).max(599), body: z.string() });
export type StoredResponse = z.infer<typeof StoredResponse>;

/** A state's Catch output: `{Error, Cause}`; Cause is Lambda's JSON error document or a message. */
export const CaughtError = z.object({ Error: z.string().optional(), Cause: z.string().optional() });
export type CaughtError = z.infer<typeof CaughtError>;

export { FraudSnapshots };

/**
 * ScoreFraud's result: the assessment, and the snapshots the payment's PaymentSucceeded event carries to the
 * fraud features.
 */
export const ScoredFraud = FraudAssessment.extend({ snapshots: FraudSnapshots.optional() });
export type ScoredFraud = z.infer<typeof ScoredFraud>;

/**
 * The Route step's result: the ranking, and the decision's context for routing to log the decision off the
 * synchronous path (it is recorded with the payment's plan and comes back in its PaymentFinalized event).
 */
export const PlannedRoute = RouteResult.extend({ decision: RoutingDecisionContext.optional() });
export type PlannedRoute = z.infer<typeof PlannedRoute>;

/** One successful charge. */
export const ChargeOutput = z.object({
  connectorId: z.string(),
  gatewayReference: z.string(),
  feeMinor: z.number().int(),
  latencyMs: z.number(),
  /** True when a timeout was resolved by looking the charge up by its idempotency key. */
  reconciled: z.boolean(),
  /** The successful attempt, recorded by Finalize in the same write as the terminal status. */
  attempt: AttemptRecord,
  /** The card as the gateway charged it (a tokenised card's brand, last 4 and expiry). */
  card: CardSummary.optional(),
  /** The gateway's own fingerprint of the card, made a keyed one before it is kept. */
  gatewayFingerprint: z.string().optional(),
  /** Not charged yet: the customer acts first (3-D Secure); the payment becomes `pending_action`. */
  requiresAction: ActionDetails.optional(),
});
export type ChargeOutput = z.infer<typeof ChargeOutput>;

/** How the workflow ended, as Finalize records it. */
export const WorkflowResult = z.object({
  outcome: TerminalStatus,
  code: z.string().optional(),
  /** On success, the winning charge. */
  charge: ChargeOutput.optional(),
  error: CaughtError.optional(),
});
export type WorkflowResult = z.infer<typeof WorkflowResult>;

/**
 * Begin's answer. `new`: a first run of the key (or a rerun of one that never recorded an attempt, with the
 * same payment id). `resume`: an earlier run of the key recorded attempts and stopped; go on at `attempt`
 * with the recorded plan (an attempt whose outcome is unknown is made again with the same gateway key, which
 * the gateway answers with its first result). `finish`: the recorded attempts already decide the outcome.
 * `respond`: a replay, a rejection or a conflict.
 */
export const BeginResult = z.discriminatedUnion('outcome', [
  z.object({ outcome: z.literal('new'), payment: PaymentDraft }),
  z.object({
    outcome: z.literal('resume'),
    payment: PaymentDraft,
    fraud: ScoredFraud.optional(),
    route: PlannedRoute,
    attempt: z.object({ index: z.number().int().min(0) }),
  }),
  z.object({ outcome: z.literal('finish'), payment: PaymentDraft, fraud: ScoredFraud.optional(), route: PlannedRoute.optional(), result: WorkflowResult }),
  z.object({ outcome: z.literal('respond'), response: StoredResponse }),
]);
export type BeginResult = z.infer<typeof BeginResult>;

export const FinalizeOutput = z.object({
  succeeded: z.boolean(),
  /** The gateway asks the customer to act first: the payment is `pending_action` (the workflow's AwaitingCustomerAction). */
  pendingAction: z.boolean().optional(),
  response: StoredResponse,
  attempts: z.array(AttemptRecord),
  /** For a succeeded payment: the `PaymentSucceeded` detail its terminal write put in the outbox. */
  event: PaymentSucceededDetail.optional(),
});
export type FinalizeOutput = z.infer<typeof FinalizeOutput>;

/** What Abort sees of the failed execution: its input and its state (whatever was reached). */
export const AbortState = z
  .object({
    payment: PaymentDraft.optional(),
    error: CaughtError.optional(),
  })
  .loose();

/** Every step: the function that runs it, its payload and its result. */
export const STEPS = {
  begin: {
    function: 'payments',
    input: z.object({ step: z.literal('begin'), envelope: PayEnvelope, executionId: ExecutionId }),
    output: BeginResult,
  },
  score: {
    function: 'fraud',
    // Runs beside Begin (one hop level): it reads the request from the envelope, and fails on one Begin
    // refuses (the workflow then answers with Begin's 4xx).
    input: z.object({ step: z.literal('score'), envelope: PayEnvelope, executionId: ExecutionId }),
    output: ScoredFraud,
  },
  rank: {
    function: 'routing',
    input: z.object({ step: z.literal('rank'), payment: PaymentDraft, fraud: ScoredFraud.optional(), executionId: ExecutionId }),
    output: PlannedRoute,
  },
  charge: {
    function: 'payments',
    input: z.object({
      step: z.literal('charge'),
      payment: PaymentDraft,
      attempt: z.number().int().min(0),
      connector: RankedConnector,
      /** The route, recorded with the payment before the first gateway call (the plan a resumed run follows). */
      plan: PlannedRoute,
      fraud: ScoredFraud.optional().catch(undefined),
      executionId: ExecutionId,
    }),
    // A successful attempt is recorded with the terminal state in the same step (one Lambda hop less on the
    // synchronous path); a failed one is rethrown by name for the fallback.
    output: FinalizeOutput,
  },
  finalize: {
    function: 'payments',
    input: z.object({
      step: z.literal('finalize'),
      payment: PaymentDraft,
      // A charged payment is recorded whatever its assessment looks like: an assessment this schema does not
      // know is left off the record rather than failing Finalize (which would leave money moved and unrecorded).
      fraud: ScoredFraud.optional().catch(undefined),
      result: WorkflowResult,
      executionId: ExecutionId,
    }),
    output: FinalizeOutput,
  },
  abort: {
    function: 'payments',
    input: z.object({ step: z.literal('abort'), input: PayEnvelope, state: AbortState, executionId: ExecutionId }),
    output: z.object({ response: StoredResponse }),
  },
  issue: {
    function: 'rewards',
    input: z.object({ step: z.literal('issue'), payment: PaymentSucceededDetail, executionId: ExecutionId }),
    output: RewardEntry,
  },
  /**
   * Adjusts a payment's reward to a refund (lambdas/rewards/refunds.ts adjustForRefund): reduced (or reversed) while
   * no mint or claim has it; recorded as kept once one has. Issues the reward first if its event has not yet.
   */
  refund: {
    function: 'rewards',
    input: z.object({ step: z.literal('refund'), refund: PaymentRefundedDetail, executionId: ExecutionId }),
    output: RewardEntry,
  },
  /** Mints an issued reward to its wallet exactly once (lambdas/rewards/mint.ts); TransientError while not known yet. */
  mint: {
    function: 'rewards',
    input: z.object({ step: z.literal('mint'), paymentId: PaymentId, executionId: ExecutionId }),
    output: RewardEntry,
  },
} as const satisfies Record<string, { function: FunctionName; input: z.ZodType; output: z.ZodType }>;

export type StepName = keyof typeof STEPS;
export type StepInput<S extends StepName> = z.output<(typeof STEPS)[S]['input']>;
export type StepOutput<S extends StepName> = z.input<(typeof STEPS)[S]['output']>;

/** The steps a function runs. */
export type StepsOf<F extends FunctionName> = { [S in StepName]: (typeof STEPS)[S]['function'] extends F ? S : never }[StepName];

/** A function's step table: one implementation per step it runs, taking the parsed payload. */
export type StepHandlers<F extends FunctionName> = { readonly [S in StepsOf<F>]: (input: StepInput<S>) => Promise<StepOutput<S>> };

/** The payload schema of a function's steps, discriminated by `step` (what its handler parses with). */
export function stepPayload<F extends FunctionName>(fn: F): z.ZodType<StepInput<StepsOf<F>>> {
  // Built once per function: every Task parses with it, and a zod schema compiles its parser on first use.
  let schema = payloads.get(fn);
  if (!schema) {
    const inputs = (Object.keys(STEPS) as StepName[]).filter((s) => STEPS[s].function === fn).map((s) => STEPS[s].input);
    if (inputs.length === 0) throw new Error(`${fn} runs no workflow step`);
    schema = inputs.length === 1 ? inputs[0] : z.discriminatedUnion('step', inputs as never);
    payloads.set(fn, schema);
  }
  return schema as unknown as z.ZodType<StepInput<StepsOf<F>>>;
}

const payloads = new Map<FunctionName, z.ZodType>();
