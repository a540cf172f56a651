/**
 * Aborted: something unexpected fails. Before anything was recorded, Abort releases the key (a retry with it
 * is safe); once the payment is recorded (money may have moved), it answers 202 processing, and the retry with
 * the key resumes the same payment, whose gateway answers the repeated attempt with its first charge. Every
 * payload on the way, Abort's included, is checked against contracts/steps.ts by the harness.
 */
import type { HandlerOverride } from '../../local/functions';
import { envelope, pay, paymentBody, startHarness, type Harness } from './harness';

/** Fails the named step with an error the workflow does not expect (it goes to Abort). */
let failing = '';
const failStep: HandlerOverride = async (event, next) => {
  if ((event as { step?: string }).step === failing) throw new Error(`the ${failing} step broke`);
  return next(event);
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
  expect(first.execution.states).toEqual(expect.arrayContaining(['ScoreFraud', 'Abort', 'Respond']));
  expect(first.execution.states).not.toContain('Charge');
  expect(first.body.error.message).toMatch(/safe to retry with the same Idempotency-Key/);
  failing = '';
  const retry = await pay(h, { ...env, requestId: 'retry' });
  expect(retry.status).toBe(201);
});

test('Aborted after the charge: 202 processing, never a 5xx; the retry resumes the same payment without a second charge', async () => {
  failing = 'finalize';
  const env = envelope(paymentBody());
  const first = await pay(h, env);
  expect(first.status).toBe(202);
  expect(first.execution.states).toEqual(expect.arrayContaining(['Charge', 'Finalize', 'Abort']));
  expect(first.body).toMatchObject({ status: 'processing', paymentId: expect.stringMatching(/^pay_/), poll: `/payments/${first.body.paymentId}` });
  const recorded = await h.paymentRecord(env.merchantId, first.body.paymentId);
  expect(recorded).toMatchObject({ status: 'processing', pendingAttempt: { attempt: 0 } });
  failing = '';
  const retry = await pay(h, { ...env, requestId: 'retry' });
  expect(retry.status).toBe(201);
  expect(retry.execution.states).not.toContain('ScoreFraud'); // resumed at the pending attempt, not started over
  expect(retry.body.payment).toMatchObject({ paymentId: first.body.paymentId, status: 'succeeded' });
  expect(retry.body.payment.attempts).toHaveLength(1);
  const replay = await pay(h, { ...env, requestId: 'again' });
  expect(replay.body).toEqual(retry.body);
});
