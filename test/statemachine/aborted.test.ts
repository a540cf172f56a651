/**
 * Aborted: something unexpected fails. Before any charge, Abort releases the key (a retry with it is safe);
 * after a charge, it keeps the key and answers that the payment will be reconciled. Every payload on the way,
 * Abort's included, is checked against contracts/steps.ts by the harness.
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

test('Aborted after the charge: 500 saying it was charged, and the key keeps that answer', async () => {
  failing = 'finalize';
  const env = envelope(paymentBody());
  const first = await pay(h, env);
  expect(first.status).toBe(500);
  expect(first.execution.states).toEqual(expect.arrayContaining(['Charge', 'Finalize', 'Abort']));
  expect(first.body.error.message).toMatch(/was charged but could not be recorded; do not retry/);
  failing = '';
  const replay = await pay(h, { ...env, requestId: 'retry' });
  expect(replay.status).toBe(500);
  expect(replay.body).toEqual(first.body);
});
