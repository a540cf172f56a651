/**
 * ReviewHeld: the stage's thresholds (FRAUD_REVIEW_THRESHOLD, FRAUD_DECLINE_THRESHOLD override the served model's)
 * decide on the model's score. They are set here so the score lands where the path needs (own file: jest
 * gives each file its own modules and environment).
 */
import { envelope, pay, paymentBody, startHarness, type Harness } from './harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ env: { FRAUD_REVIEW_THRESHOLD: '0', FRAUD_DECLINE_THRESHOLD: '1' } });
});
afterAll(async () => {
  await h?.close();
});

test('ReviewHeld: decided by the model and the stage thresholds; nothing charged, no event but its record for analytics, no features recorded', async () => {
  const before = h.platform.bus.published().length;
  const { status, body, execution } = await pay(h, envelope(paymentBody()));
  expect(execution.states).toContain('ScoreFraud');
  expect(execution.states).not.toContain('Charge');
  expect(status).toBe(202);
  expect(body.payment).toMatchObject({ status: 'review', fraud: { decision: 'review' } });
  expect(execution.states).toContain('HeldForReview');
  // Off the path too: once everything has settled, only its PaymentRecorded (analytics) went out, and the features did not record it.
  await h.platform.idle();
  expect(h.platform.bus.published().slice(before).map((e) => [e['detail-type'], (e.detail as { paymentId?: string }).paymentId])).toEqual([['PaymentRecorded', body.payment.paymentId]]);
  expect(await h.featureTransactions('cus_paths')).not.toContain(body.payment.paymentId);
});
