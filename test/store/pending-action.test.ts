/**
 * Payments awaiting the customer's action (3-D Secure) on the real store, with the Stripe adapter against the
 * fake of Stripe's API and a clock the test moves: the reconciler leaves one alone until its action expires,
 * then cancels it at Stripe (failed, action_expired), unless it succeeded meanwhile, which settles it succeeded.
 */
import { randomUUID } from 'node:crypto';
import { RouteResult } from '../../contracts/api';
import type { ConnectorDefinition } from '../../contracts/connectors';
import { ChargeOutcomeUnknownError } from '../../lambdas/payments/connectors';
import { DynamoIdempotency } from '../../lambdas/payments/idempotency';
import * as service from '../../lambdas/payments/service';
import { DynamoPaymentStore } from '../../lambdas/payments/store';
import { StripeConnector } from '../../lambdas/payments/stripe';
import { LOCAL_TABLES } from '../../local/env';
import { startStripeFake, type StripeFake } from '../../local/gateways/stripe';
import { useTestStore } from './support';

const db = useTestStore();
const definition: ConnectorDefinition = {
  id: `stripe-${randomUUID().slice(0, 6)}`, kind: 'stripe', enabled: true, methods: ['card'], currencies: ['*'], regions: ['*'], fee: { basisPoints: 290, fixedMinor: 30 },
};
const secretKey = 'sk_test_pendingaction0001';
let fake: StripeFake;
beforeAll(async () => {
  fake = await startStripeFake({ accounts: [{ definition, secretKey }] });
});
afterAll(() => fake.close());

function setup() {
  const clock = { now: new Date() };
  const connector = new StripeConnector(definition, { credentials: async () => ({ secretKey }), apiUrl: fake.url, maxNetworkRetries: 0 });
  const deps: service.PaymentDeps = {
    store: new DynamoPaymentStore(db.client, LOCAL_TABLES.payments),
    idempotency: new DynamoIdempotency(db.client, LOCAL_TABLES.idempotency),
    acceptRawCards: false,
    now: () => clock.now,
    connectorFor: () => connector,
  };
  return { clock, deps };
}

async function begun(s: ReturnType<typeof setup>, token = 'pm_card_threeDSecure2Required') {
  const envelope = {
    merchantId: `m_${randomUUID().slice(0, 8)}`, idempotencyKey: randomUUID(), requestId: 'r',
    body: { amount: 1500, currency: 'EUR', customerId: 'cus_3ds', paymentMethod: { type: 'card', token } },
  };
  const result = await service.begin(envelope, s.deps);
  if (result.outcome !== 'new') throw new Error('expected a new payment');
  return result.payment;
}

async function awaiting(s: ReturnType<typeof setup>) {
  const payment = await begun(s);
  const plan = RouteResult.parse({
    decisionId: 'rt_test_decision_1',
    ranked: [{ connectorId: definition.id, kind: 'stripe', estimatedFeeMinor: 10, expectedSuccess: 0.9, score: 1, status: 'healthy', propensity: 1 }],
    propensity: 1, policyVersion: 'v1', attemptLimit: 1, scoredBy: 'embedded',
  });
  const output = await service.chargeAndFinalize({ payment, attempt: 0, connector: { connectorId: definition.id }, plan }, s.deps);
  expect(output).toMatchObject({ pendingAction: true, succeeded: false, response: { status: 202 } });
  const record = await s.deps.store.get(payment.merchantId, payment.paymentId);
  expect(record).toMatchObject({ status: 'pending_action', unfinished: expect.any(String), pendingAttempt: { gatewayReference: expect.stringMatching(/^pi_/) } });
  return record!;
}

test('an awaited action that expires is canceled at Stripe, and the payment fails with action_expired', async () => {
  const s = setup();
  const record = await awaiting(s);
  // Before it expires, the reconciler leaves it waiting.
  s.clock.now = new Date(s.clock.now.getTime() + service.RECONCILE_AFTER_MS + 1);
  await service.reconcile(s.deps, 1000);
  expect((await s.deps.store.get(record.merchantId, record.paymentId))?.status).toBe('pending_action');
  s.clock.now = new Date(s.clock.now.getTime() + service.ACTION_TTL_MS);
  await service.reconcile(s.deps, 1000);
  const after = await s.deps.store.get(record.merchantId, record.paymentId);
  expect(after).toMatchObject({ status: 'failed', code: 'action_expired' });
  expect(after?.unfinished).toBeUndefined();
  expect(after?.action).toBeUndefined();
  expect(fake.intents(definition.id).get(record.pendingAttempt!.gatewayReference!)?.status).toBe('canceled');
});

test('an action completed without a webhook is found when it expires: the payment succeeds, never canceled', async () => {
  const s = setup();
  const record = await awaiting(s);
  const intentId = record.pendingAttempt!.gatewayReference!;
  await fake.authenticate(definition.id, intentId, 'succeed'); // no webhook base: nothing is told
  expect((await s.deps.store.get(record.merchantId, record.paymentId))?.status).toBe('pending_action');
  s.clock.now = new Date(s.clock.now.getTime() + service.ACTION_TTL_MS + service.RECONCILE_AFTER_MS);
  await service.reconcile(s.deps, 1000);
  expect(await s.deps.store.get(record.merchantId, record.paymentId)).toMatchObject({ status: 'succeeded', connectorId: definition.id, feeMinor: 74 });
  expect(fake.intents(definition.id).get(intentId)?.status).toBe('succeeded');
});

test('a run that stopped right after Stripe asked for the action: the reconciler finds the intent by its key and parks the payment pending_action', async () => {
  const s = setup();
  const payment = await begun(s);
  const plan = RouteResult.parse({
    decisionId: 'rt_test_decision_1',
    ranked: [{ connectorId: definition.id, kind: 'stripe', estimatedFeeMinor: 10, expectedSuccess: 0.9, score: 1, status: 'healthy', propensity: 1 }],
    propensity: 1, policyVersion: 'v1', attemptLimit: 1, scoredBy: 'embedded',
  });
  // The attempt is made (recorded, then Stripe answers requires_action) and the run stops before parking it.
  await expect(service.charge({ payment, attempt: 0, connector: { connectorId: definition.id }, plan }, s.deps)).resolves.toMatchObject({ requiresAction: expect.any(Object) });
  expect((await s.deps.store.get(payment.merchantId, payment.paymentId))?.status).toBe('processing');
  s.clock.now = new Date(s.clock.now.getTime() + service.RECONCILE_AFTER_MS + 1);
  await service.reconcile(s.deps, 1000);
  const parked = await s.deps.store.get(payment.merchantId, payment.paymentId);
  expect(parked).toMatchObject({ status: 'pending_action', action: { clientSecret: expect.stringMatching(/_secret_/) }, pendingAttempt: { gatewayReference: expect.stringMatching(/^pi_/) } });
  // Never succeeded with a charge that is not one.
  expect(parked?.attempts).toEqual([]);
  expect(parked?.feeMinor).toBeUndefined();
});

test('while Stripe cannot be read, a read or a repeat answers the payment as recorded (pending_action), not an error', async () => {
  const s = setup();
  const record = await awaiting(s);
  const real = s.deps.connectorFor(definition.id);
  const errors: unknown[] = [];
  const down: service.PaymentDeps = {
    ...s.deps,
    onReconcileError: (_id, error) => errors.push(error),
    connectorFor: () => ({ ...real, id: real.id, charge: real.charge.bind(real), refund: real.refund.bind(real), retrieveRefund: real.retrieveRefund.bind(real),
      retrieve: async () => { throw new ChargeOutcomeUnknownError('stripe is down'); } }),
  };
  await expect(service.getPayment(record.merchantId, record.paymentId, down)).resolves.toMatchObject({ status: 'pending_action', action: expect.any(Object) });
  expect(errors).toHaveLength(1);
});

test('payments awaiting their customers never crowd out a stopped payment behind them: they take no place in a run', async () => {
  const s = setup();
  // Two dozen awaiting their action, each older than the stopped payment (before, a run read the oldest `limit` of
  // the index, a few a shard, and passed over these every minute for half an hour while the stopped one waited).
  const waiting = [];
  for (let i = 0; i < 24; i += 1) waiting.push(await awaiting(s));
  s.clock.now = new Date(s.clock.now.getTime() + 1000);
  const stopped = await chargedAndStopped(s);
  s.clock.now = new Date(s.clock.now.getTime() + service.RECONCILE_AFTER_MS + 1);
  const report = await service.reconcile(s.deps, 8);
  expect(await s.deps.store.get(stopped.merchantId, stopped.paymentId)).toMatchObject({ status: 'succeeded', reason: expect.any(String) });
  for (const w of waiting) expect((await s.deps.store.get(w.merchantId, w.paymentId))?.status).toBe('pending_action');
  // Passed over, without asking Stripe (their action has not expired).
  expect(report.skipped).toBeGreaterThanOrEqual(24);
});

/** A payment charged at Stripe whose run stopped before recording the outcome: processing, with its pending attempt. */
async function chargedAndStopped(s: ReturnType<typeof setup>) {
  const stopped = await begun(s, 'pm_card_visa');
  const plan = RouteResult.parse({
    decisionId: 'rt_test_decision_1',
    ranked: [{ connectorId: definition.id, kind: 'stripe', estimatedFeeMinor: 10, expectedSuccess: 0.9, score: 1, status: 'healthy', propensity: 1 }],
    propensity: 1, policyVersion: 'v1', attemptLimit: 1, scoredBy: 'embedded',
  });
  await service.charge({ payment: stopped, attempt: 0, connector: { connectorId: definition.id }, plan }, s.deps);
  expect((await s.deps.store.get(stopped.merchantId, stopped.paymentId))?.status).toBe('processing');
  return stopped;
}

test('a run settles at most `limit` payments; the next run the rest', async () => {
  const s = setup();
  // Later than anything the other tests left, so these are the only ones due in this run.
  s.clock.now = new Date(s.clock.now.getTime() + 2 * service.ACTION_TTL_MS);
  const stopped: Array<Awaited<ReturnType<typeof chargedAndStopped>>> = [];
  for (let i = 0; i < 10; i += 1) stopped.push(await chargedAndStopped(s));
  s.clock.now = new Date(s.clock.now.getTime() + service.RECONCILE_AFTER_MS + 1);
  const statuses = async () => Promise.all(stopped.map(async (p) => (await s.deps.store.get(p.merchantId, p.paymentId))?.status));
  // (Whatever else is due from the other tests is settled first or in the same runs: count these ten only.)
  for (let run = 0; run < 30 && (await statuses()).includes('processing'); run += 1) {
    const before = (await statuses()).filter((x) => x === 'processing').length;
    const report = await service.reconcile(s.deps, 3);
    const after = (await statuses()).filter((x) => x === 'processing').length;
    expect(report.succeeded + report.failed + report.declined).toBeLessThanOrEqual(3);
    expect(before - after).toBeLessThanOrEqual(3);
  }
  expect(await statuses()).toEqual(Array(10).fill('succeeded'));
});
