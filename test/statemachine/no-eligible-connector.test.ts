/**
 * NoEligibleConnector: routing finds no connector for the method, currency and country (the default registry
 * has no wallet connector). Nothing is charged; the answer is a 422 naming what nothing takes, recorded as the
 * key's answer. The harness checks every payload on the way against contracts/steps.ts.
 */
import { envelope, MERCHANT, pay, paymentBody, startHarness, type Harness } from './harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

test('NoEligibleConnector: 422, nothing charged, the payment recorded as failed', async () => {
  const { status, body, execution } = await pay(h, envelope(paymentBody({ paymentMethod: { type: 'wallet', wallet: 'amazon_pay', token: 'wallet_token_ok_1' } })));
  expect(status).toBe(422);
  expect(body.error.code).toBe('no_eligible_connector');
  expect(body.error.message).toMatch(/no enabled connector takes wallet payments in USD/);
  expect(execution.states).toEqual(expect.arrayContaining(['Route', 'NoEligibleConnector', 'Finalize']));
  expect(execution.states).not.toContain('Charge');
  expect(await h.paymentRecord(MERCHANT, body.error.details.paymentId)).toMatchObject({ status: 'failed', code: 'no_eligible_connector', attempts: [] });
});
