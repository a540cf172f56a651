/**
 * Aborted: something unexpected fails. Before anything was recorded, Abort releases the key (a retry with it
 * is safe); once the payment is recorded, Abort answers what the record says (202 processing while money may
 * have moved, and a retry resumes it: test/store/payments-service.test.ts and test/e2e/faults.test.ts). Every
 * payload on the way, Abort's included, is checked against contracts/steps.ts by the harness.
 */
import type { HandlerOverride } from '../../local/functions';
import { envelope, pay, paymentBody, startHarness, type Harness } from './harness';

/** Fails the named step with an error the workflow does not expect (it goes to Abort). */
let failing = '';
const failStep: HandlerOverride = async (event, next) => {
  const step = (event as { step?: string }).step;
  if (step === failing) throw new Error(`the ${failing} step broke`);
  if (`${step}-throttled` === failing) throw Object.assign(new Error('Rate of requests exceeds the allowed throughput.'), { name: 'ProvisionedThroughputExceededException' });
  const result = await next(event);
  // The step did its work (charged and recorded), then its answer was lost on the way back.
  if (`${step}-after` === failing) throw new Error(`the ${step} step's answer was lost`);
  return result;
};

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ handlerOverrides: { fraud: failStep, payments: failStep } });
});
afterAll(async () => {
  await h?.close();
});

test('Aborted before the charge: 500, the key is released, and a retry with it succeeds', async () => {
  failing = 'score';
  const env = envelope(paymentBody());
  const first = await pay(h, env);
  expect(first.status).toBe(500);
  // Scoring runs beside Begin: its failure is carried out of the Parallel, and the claimed key is released.
  expect(first.execution.states).toEqual(expect.arrayContaining(['Begin', 'ScoreFraud', 'Unscored', 'ScoringFailed', 'Abort', 'Respond']));
  expect(first.execution.states).not.toContain('Charge');
  expect(first.body.error.message).toMatch(/safe to retry with the same Idempotency-Key/);
  failing = '';
  const retry = await pay(h, { ...env, requestId: 'retry' });
  expect(retry.status).toBe(201);
});

test('The Charge step finished its work but its answer was lost: Abort answers from the record (201), never a 5xx, and the key replays it', async () => {
  failing = 'charge-after';
  const env = envelope(paymentBody());
  const first = await pay(h, env);
  expect(first.execution.states).toEqual(expect.arrayContaining(['Charge', 'Abort']));
  expect(first.status).toBe(201);
  expect(first.body.payment).toMatchObject({ status: 'succeeded' });
  expect(first.body.payment.attempts).toHaveLength(1);
  failing = '';
  const replay = await pay(h, { ...env, requestId: 'again' });
  expect(replay.execution.states).not.toContain('Charge');
  expect(replay.body).toEqual(first.body);
});

test('Begin broke (beside a good score): the Parallel fails as a whole, Abort answers 500 and keeps the key it may have claimed', async () => {
  failing = 'begin';
  const env = envelope(paymentBody());
  const first = await pay(h, env);
  expect(first.status).toBe(500);
  expect(first.execution.states).toEqual(expect.arrayContaining(['BeginAndScore', 'Abort', 'Respond']));
  expect(first.execution.states).not.toContain('Route');
  failing = '';
});

test('Begin met a throttled store (after its retries): 503 transient_failure, nothing charged, and the same key then pays', async () => {
  failing = 'begin-throttled';
  const env = envelope(paymentBody());
  const first = await pay(h, env);
  expect(first.status).toBe(503);
  expect(first.body.error).toMatchObject({ code: 'transient_failure', details: { failure: 'ProvisionedThroughputExceededException' } });
  expect(first.body.error.message).toMatch(/^a service the payment needs was unavailable before anything was charged; retry with the same Idempotency-Key/);
  expect(first.execution.states).not.toContain('Charge');
  failing = '';
  const retry = await pay(h, { ...env, requestId: 'after-throttle' });
  expect(retry.status).toBe(201);
});
