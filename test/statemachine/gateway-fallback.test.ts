/** GatewayFallback: the cheapest connector is down (a retryable failure), the next one takes the payment. */
import { envelope, MERCHANT, pay, paymentBody, startHarness, type Harness } from './harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ env: { SANDBOX_FAULTS: 'amazon-pay-sandbox=unavailable' } });
});
afterAll(async () => {
  await h?.close();
});

test('GatewayFallback: amazon-pay-sandbox unavailable, stripe-sandbox succeeds, 201 with two attempts', async () => {
  // Routing ranks the cheaper amazon-pay-sandbox first, except when it explores (ε = 3%): then the payment
  // simply succeeds on stripe-sandbox, and the next one takes the path.
  let run = await pay(h, envelope(paymentBody()));
  for (let i = 0; i < 4 && run.body.payment?.attempts?.[0]?.connectorId !== 'amazon-pay-sandbox'; i++) {
    expect(run.status).toBe(201);
    run = await pay(h, envelope(paymentBody()));
  }
  const { status, body, execution } = run;
  expect(status).toBe(201);
  expect(execution.states.filter((s) => s === 'Charge')).toHaveLength(2);
  expect(execution.states).toContain('NextConnector');
  const payment = body.payment;
  expect(payment).toMatchObject({ status: 'succeeded', connectorId: 'stripe-sandbox' });
  expect(payment.attempts).toHaveLength(2);
  expect(payment.attempts[0]).toMatchObject({ connectorId: 'amazon-pay-sandbox', outcome: 'retryable_failure' });
  expect(payment.attempts[1]).toMatchObject({ connectorId: 'stripe-sandbox', outcome: 'succeeded' });
  const record = await h.paymentRecord(MERCHANT, payment.paymentId);
  expect(record).toMatchObject({ status: 'succeeded', connectorId: 'stripe-sandbox' });
});
