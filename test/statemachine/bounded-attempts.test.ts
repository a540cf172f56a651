/** AllGatewaysFail with MAX_PAYMENT_ATTEMPTS=1: the fallback stops at the bound, not at the end of the ranking. */
import { CARDS, envelope, pay, paymentBody, startHarness, type Harness } from './harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ env: { MAX_PAYMENT_ATTEMPTS: '1' } });
});
afterAll(async () => {
  await h?.close();
});

test('AllGatewaysFail is bounded by MAX_PAYMENT_ATTEMPTS', async () => {
  const { status, body, execution } = await pay(h, envelope(paymentBody({}, CARDS.processingError)));
  expect(status).toBe(503);
  expect(body.error.code).toBe('all_gateways_failed');
  expect(execution.states.filter((s) => s === 'Charge')).toHaveLength(1);
});
