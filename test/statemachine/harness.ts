/**
 * Test harness for the workflow paths: the local platform in memory (dynalite on an ephemeral port), the
 * real handlers, the real ASL, retries without waiting. Each test file gets its own platform (and its own
 * environment, since jest isolates process.env per file).
 */
import { DEFAULT_CONNECTORS } from '../../contracts/connectors';
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { LOCAL_TABLES } from '../../local/env';
import { jsonEnvelope, STEPS, type StepName } from '../../contracts/steps';
import type { FunctionName } from '../../contracts/topology';
import type { HandlerOverride, HandlerOverrides } from '../../local/functions';
import { startLocalPlatform, type LocalPlatform } from '../../local/platform';
import type { PayEnvelope } from '../../contracts/steps';
import type { PaymentRecord } from '../../lambdas/payments/model';

export const MERCHANT = 'm_paths';

export const CARDS = {
  ok: '4242424242424242',
  declined: '4000000000000002',
  processingError: '4000000000000119',
} as const;

/** A /pay body; `cvc: null` leaves the security code out. */
export function paymentBody(overrides: Record<string, unknown> = {}, card: string = CARDS.ok, cvc: string | null = '123') {
  return {
    amount: 1999,
    currency: 'USD',
    customerId: 'cus_paths',
    paymentMethod: { type: 'card', number: card, expMonth: 12, expYear: 2030, ...(cvc === null ? {} : { cvc }) },
    ...overrides,
  };
}

export function envelope(body: unknown, merchantId = MERCHANT): PayEnvelope {
  return jsonEnvelope(body, { merchantId, idempotencyKey: randomUUID(), requestId: randomUUID() });
}

export interface Harness {
  readonly platform: LocalPlatform;
  readonly db: DynamoDBDocumentClient;
  rewardEntry(paymentId: string): Promise<Record<string, unknown> | undefined>;
  paymentRecord(merchantId: string, paymentId: string): Promise<PaymentRecord | undefined>;
  /** The payment ids the fraud features have recorded for a customer (its `tx#` items). */
  featureTransactions(customerId: string): Promise<string[]>;
  /** Task payloads or results that did not match contracts/steps.ts so far. */
  stepViolations(): string[];
  close(): Promise<void>;
}

/**
 * Wraps a function so that every workflow Task it runs is checked against contracts/steps.ts: the payload the
 * ASL's Parameters built, and the result the handler returned. Violations are collected; `close()` fails the
 * suite on any, so every recorded path of every statemachine test checks the step contracts.
 */
export function checkingSteps(fn: FunctionName, inner: HandlerOverride | undefined, violations: string[]): HandlerOverride {
  return async (event, next) => {
    const step = (event as { step?: unknown } | null)?.step;
    const contract = typeof step === 'string' && step in STEPS ? STEPS[step as StepName] : undefined;
    if (typeof step === 'string') {
      if (!contract) violations.push(`${fn}: step "${step}" is not in contracts/steps.ts`);
      else if (contract.function !== fn) violations.push(`${fn}: step "${step}" belongs to ${contract.function}`);
      else {
        const parsed = contract.input.safeParse(event);
        if (!parsed.success) violations.push(`${step} payload: ${JSON.stringify(parsed.error.issues)}`);
      }
    }
    const result = await (inner ? inner(event, next) : next(event));
    if (contract) {
      const parsed = contract.output.safeParse(result);
      if (!parsed.success) violations.push(`${String(step)} result: ${JSON.stringify(parsed.error.issues)}`);
    }
    return result;
  };
}

export async function startHarness(options: { env?: Record<string, string>; handlerOverrides?: HandlerOverrides } = {}): Promise<Harness> {
  const violations: string[] = [];
  const functions: FunctionName[] = ['fraud', 'routing', 'payments', 'rewards'];
  const handlerOverrides: HandlerOverrides = Object.fromEntries(functions.map((fn) => [fn, checkingSteps(fn, options.handlerOverrides?.[fn], violations)]));
  const platform = await startLocalPlatform({
    port: 0,
    inMemory: true,
    retryIntervalOverrides: 0,
    // The two default sandbox accounts: ordinary cards always succeed, so each path is deterministic.
    env: { CONNECTORS: JSON.stringify(DEFAULT_CONNECTORS), POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL, ...options.env },
    handlerOverrides,
    onError: () => undefined,
  });
  const raw = new DynamoDBClient({ endpoint: platform.store.endpoint, region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  const db = DynamoDBDocumentClient.from(raw);
  return {
    platform,
    db,
    async rewardEntry(paymentId) {
      const { Item } = await db.send(new GetCommand({ TableName: LOCAL_TABLES.rewards, Key: { paymentId }, ConsistentRead: true }));
      return Item;
    },
    async featureTransactions(customerId) {
      const { Items = [] } = await db.send(
        new QueryCommand({
          TableName: LOCAL_TABLES.fraudState,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :tx)',
          ExpressionAttributeValues: { ':pk': `cust#${customerId}`, ':tx': 'tx#' },
          ConsistentRead: true,
        }),
      );
      return Items.map((item) => String(item.txId));
    },
    async paymentRecord(merchantId, paymentId) {
      const { Item } = await db.send(new GetCommand({ TableName: LOCAL_TABLES.payments, Key: { merchantId, paymentId }, ConsistentRead: true }));
      return Item as PaymentRecord | undefined;
    },
    stepViolations: () => [...violations],
    async close() {
      raw.destroy();
      await platform.close(1000);
      // Every Task payload and result of the paths this suite ran matches contracts/steps.ts.
      expect(violations).toEqual([]);
    },
  };
}

/** Runs /pay through the workflow and parses the response body. */
export async function pay(harness: Harness, env: PayEnvelope) {
  const { response, execution } = await harness.platform.workflows.executePayment(env);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- response JSON is navigated freely in assertions
  return { status: response.status, body: JSON.parse(response.body) as Record<string, any>, execution: { ...execution, states: execution.states ?? [] } };
}
