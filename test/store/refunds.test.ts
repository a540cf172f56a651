/**
 * Refunds on the real store (DynamoPaymentStore on dynalite) against a sandbox gateway that keeps its refunds by
 * key: partial then full, never beyond what was charged (concurrent refunds included), idempotent by key, an
 * ambiguous answer looked up by key, a lost one settled by the reconciler, a refusal releasing its amount, and
 * the PaymentRefunded events the outbox publishes.
 */
import { randomUUID } from 'node:crypto';
import { DEFAULT_CONNECTORS } from '../../contracts/connectors';
import { RefundDeclinedError } from '../../contracts/errors';
import { RouteResult } from '../../contracts/api';
import { GatewayAmbiguousError, type GatewayConnector } from '../../lambdas/payments/connectors';
import { connectorRegistry } from '../../lambdas/payments/connector-registry';
import { DynamoIdempotency } from '../../lambdas/payments/idempotency';
import type { RuntimeConfig } from '../../lambdas/shared/config';
import { publishPending, type OutboxEvent } from '../../lambdas/payments/outbox';
import { gatewayRefundKey, refundPayment, type RefundDeps } from '../../lambdas/payments/refunds';
import { SandboxConnector } from '../../lambdas/payments/sandbox';
import * as service from '../../lambdas/payments/service';
import { DynamoPaymentStore } from '../../lambdas/payments/store';
import { LOCAL_TABLES } from '../../local/env';
import { useTestStore } from './support';

const db = useTestStore();

/** A sandbox of its own, and a gateway in front of it whose refund calls a test can break. */
function setup() {
  const sandbox = new SandboxConnector({ ...DEFAULT_CONNECTORS[0], id: `sb-${randomUUID().slice(0, 8)}` });
  const faults = { refund: undefined as undefined | 'lose-answer' | 'never-sent' | 'refuse' | 'pending' };
  const calls = { refund: 0 };
  const gateway: GatewayConnector = {
    id: sandbox.id,
    charge: (r) => sandbox.charge(r),
    retrieve: (k) => sandbox.retrieve(k),
    async refund(call) {
      calls.refund += 1;
      if (faults.refund === 'never-sent') throw new GatewayAmbiguousError('timeout before it reached the gateway');
      if (faults.refund === 'refuse') throw new RefundDeclinedError('the charge is disputed', { gatewayCode: 'charge_disputed' });
      const result = await sandbox.refund(call);
      if (faults.refund === 'lose-answer') throw new GatewayAmbiguousError('timeout after sending');
      // The gateway took it, but its answer is `pending` (and it would replay that answer for the same key).
      if (faults.refund === 'pending') return { ...result, status: 'pending' as const };
      return result;
    },
    retrieveRefund: (k) => sandbox.retrieveRefund(k),
  };
  const clock = { now: new Date('2026-11-26T10:00:00Z') };
  const store = new DynamoPaymentStore(db.client, LOCAL_TABLES.payments);
  const deps: service.PaymentDeps & RefundDeps = {
    store,
    idempotency: new DynamoIdempotency(db.client, LOCAL_TABLES.idempotency),
    acceptRawCards: true,
    now: () => clock.now,
    connectorFor: () => gateway,
  };
  const merchantId = `m_${randomUUID().slice(0, 8)}`;
  return { sandbox, faults, calls, deps, store, merchantId, clock };
}

type Setup = ReturnType<typeof setup>;

async function succeededPayment(s: Setup, number = '4242424242424242', amount = 2500) {
  const envelope = {
    merchantId: s.merchantId,
    idempotencyKey: `pay-${randomUUID()}`,
    requestId: 'r',
    body: { amount, currency: 'EUR', customerId: 'cus_r', paymentMethod: { type: 'card', number, expMonth: 1, expYear: 2031 }, rewardWallet: '9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin' },
  };
  const begun = await service.begin(envelope, s.deps);
  if (begun.outcome !== 'new') throw new Error('expected a new payment');
  const plan = RouteResult.parse({
    decisionId: 'rt_test_decision_1',
    ranked: [{ connectorId: s.sandbox.id, kind: 'sandbox', estimatedFeeMinor: 10, expectedSuccess: 0.9, score: 1, status: 'healthy', propensity: 1 }],
    propensity: 1,
    policyVersion: 'v1',
    attemptLimit: 1,
    scoredBy: 'embedded',
  });
  await service.chargeAndFinalize({ payment: begun.payment, attempt: 0, connector: { connectorId: s.sandbox.id }, plan }, s.deps).catch(() => undefined);
  return begun.payment.paymentId;
}

const refund = (s: Setup, paymentId: string, key: string, request: { amount?: number; reason?: 'duplicate' } = {}) => refundPayment(s.merchantId, paymentId, key, request, s.deps);

describe('refunds', () => {
  it('a partial then a full refund; a repeat is the same refund; nothing beyond the charge', async () => {
    const s = setup();
    const paymentId = await succeededPayment(s);
    const first = await refund(s, paymentId, 'rf-1', { amount: 1000 });
    expect(first.status).toBe(201);
    expect(first.body.refund).toMatchObject({ amount: 1000, currency: 'EUR', status: 'succeeded', gatewayReference: expect.stringMatching(/^sandbox_re_/) });
    expect(first.body.payment).toMatchObject({ status: 'succeeded', refundedAmount: 1000, refunds: [expect.objectContaining({ refundId: first.body.refund.refundId })] });
    // The platform's own fields stay out of the view.
    expect(JSON.stringify(first.body)).not.toMatch(/idempotencyKey|requested|refundReserved|refundVersion/);

    const again = await refund(s, paymentId, 'rf-1', { amount: 1000 });
    expect(again.status).toBe(200);
    expect(again.body.refund).toEqual(first.body.refund);

    const rest = await refund(s, paymentId, 'rf-2');
    expect(rest.status).toBe(201);
    expect(rest.body.refund.amount).toBe(1500);
    expect(rest.body.payment.refundedAmount).toBe(2500);

    await expect(refund(s, paymentId, 'rf-3', { amount: 1 })).rejects.toMatchObject({ status: 422, code: 'refund_exceeds_charge', details: { left: 0 } });
    await expect(refund(s, paymentId, 'rf-4')).rejects.toMatchObject({ code: 'refund_exceeds_charge' });
  });

  it('the same key with another amount is a 422, and refunds no more', async () => {
    const s = setup();
    const paymentId = await succeededPayment(s);
    await refund(s, paymentId, 'k', { amount: 500 });
    await expect(refund(s, paymentId, 'k', { amount: 600 })).rejects.toMatchObject({ status: 422, code: 'idempotency_key_reused' });
    await expect(refund(s, paymentId, 'k', { amount: 500, reason: 'duplicate' })).rejects.toMatchObject({ code: 'idempotency_key_reused' });
    expect((await s.store.get(s.merchantId, paymentId))?.refundedAmount).toBe(500);
  });

  it('more than is left is a 422 naming what is left', async () => {
    const s = setup();
    const paymentId = await succeededPayment(s);
    await expect(refund(s, paymentId, 'big', { amount: 2501 })).rejects.toMatchObject({ status: 422, code: 'refund_exceeds_charge', details: { field: 'amount', left: 2500 } });
  });

  it("an amount the payment's gateway cannot refund (its own rules) is a 400 naming amount, before anything is reserved", async () => {
    const s = setup();
    const paymentId = await succeededPayment(s);
    const gateway: GatewayConnector = { ...s.deps.connectorFor(''), amountProblem: (amount) => (amount % 10 ? 'this gateway takes multiples of 10' : undefined) };
    const deps = { ...s.deps, connectorFor: () => gateway };
    await expect(refundPayment(s.merchantId, paymentId, 'odd', { amount: 1005 }, deps)).rejects.toMatchObject({
      status: 400,
      message: 'invalid request body: amount: this gateway takes multiples of 10',
      details: { issues: [{ field: 'amount', problem: 'this gateway takes multiples of 10' }] },
    });
    expect(s.calls.refund).toBe(0);
    expect((await s.store.get(s.merchantId, paymentId))?.refunds ?? []).toEqual([]);
    await expect(refundPayment(s.merchantId, paymentId, 'even', { amount: 1000 }, deps)).resolves.toMatchObject({ status: 201 });
  });

  it("a payment whose connector left the registry (removed or renamed in CONNECTORS) is a 409 naming it, before anything is reserved", async () => {
    const s = setup();
    const paymentId = await succeededPayment(s);
    // The registry as a restart with another CONNECTORS builds it: this payment's sandbox is not in it.
    const deps = { ...s.deps, connectorFor: connectorRegistry({ connectors: DEFAULT_CONNECTORS } as unknown as RuntimeConfig) };
    await expect(refundPayment(s.merchantId, paymentId, 'gone', {}, deps)).rejects.toMatchObject({
      status: 409,
      code: 'connector_not_configured',
      message: expect.stringContaining(`connector ${s.sandbox.id} is not in this stage's connector registry`),
    });
    expect(s.calls.refund).toBe(0);
    expect((await s.store.get(s.merchantId, paymentId))?.refunds ?? []).toEqual([]);
  });

  it('only a succeeded payment of yours can be refunded', async () => {
    const s = setup();
    const declined = await succeededPayment(s, '4000000000000002');
    await expect(refund(s, declined, 'x')).rejects.toMatchObject({ status: 409, code: 'payment_not_refundable' });
    const paymentId = await succeededPayment(s);
    await expect(refundPayment('m_someone_else', paymentId, 'x', {}, s.deps)).rejects.toMatchObject({ status: 404 });
    await expect(refund(s, 'pay_not_an_id', 'x')).rejects.toMatchObject({ status: 404 });
  });

  it('concurrent refunds never exceed the charge, and each gets its answer (no 503 for a handful at once)', async () => {
    const s = setup();
    const paymentId = await succeededPayment(s);
    const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => refund(s, paymentId, `c-${i}`, { amount: 1000 })));
    const done = results.filter((r) => r.status === 'fulfilled' && r.value.status === 201);
    expect(done).toHaveLength(2);
    // The other six were told the truth: nothing left for them (they took turns rather than giving up).
    expect(results.filter((r) => r.status === 'rejected').map((r) => ((r as PromiseRejectedResult).reason as { code: string }).code)).toEqual(Array(6).fill('refund_exceeds_charge'));
    const record = await s.store.get(s.merchantId, paymentId);
    expect(record?.refundedAmount).toBe(2000);
    // The gateway's own ledger agrees: exactly the two succeeded refunds exist there.
    const atGateway = await Promise.all(record!.refunds!.map((r) => s.sandbox.retrieveRefund({ idempotencyKey: gatewayRefundKey(paymentId, r.refundId) })));
    expect(atGateway.filter(Boolean)).toHaveLength(2);
  });

  it('an answer lost after the gateway refunded is found by key: refunded once', async () => {
    const s = setup();
    const paymentId = await succeededPayment(s);
    s.faults.refund = 'lose-answer';
    const result = await refund(s, paymentId, 'lost', { amount: 700 });
    expect(result.status).toBe(201);
    expect(result.body.refund.status).toBe('succeeded');
    s.faults.refund = undefined;
    expect((await refund(s, paymentId, 'lost', { amount: 700 })).status).toBe(200);
    expect((await s.store.get(s.merchantId, paymentId))?.refundedAmount).toBe(700);
  });

  it('a refund whose outcome is unknown stays pending (202), keeps its amount reserved, and the reconciler settles it by key', async () => {
    const s = setup();
    const paymentId = await succeededPayment(s);
    s.faults.refund = 'never-sent';
    const pending = await refund(s, paymentId, 'p', { amount: 2000 });
    expect(pending.status).toBe(202);
    expect(pending.body.refund.status).toBe('pending');
    expect(pending.body.payment.refunds).toEqual([expect.objectContaining({ status: 'pending', amount: 2000 })]);
    // Its amount is reserved: only 500 is left.
    await expect(refund(s, paymentId, 'q', { amount: 600 })).rejects.toMatchObject({ details: { left: 500 } });
    s.faults.refund = undefined;
    s.clock.now = new Date(s.clock.now.getTime() + service.RECONCILE_AFTER_MS + 1);
    const report = await service.reconcile(s.deps);
    expect(report.refunds).toBeGreaterThanOrEqual(1);
    const record = await s.store.get(s.merchantId, paymentId);
    expect(record?.refunds?.[0]).toMatchObject({ status: 'succeeded', refundedTotal: 2000 });
    expect(record?.refundedAmount).toBe(2000);
    expect(record?.unfinished).toBeUndefined();
    // The merchant's repeat now answers the settled refund.
    expect((await refund(s, paymentId, 'p', { amount: 2000 })).status).toBe(200);
  });

  it('a refund the gateway answered pending is looked up by key on a repeat, never made again', async () => {
    const s = setup();
    const paymentId = await succeededPayment(s);
    s.faults.refund = 'pending';
    expect((await refund(s, paymentId, 'slow', { amount: 900 })).status).toBe(202);
    const again = await refund(s, paymentId, 'slow', { amount: 900 });
    expect(again.status).toBe(200);
    expect(again.body.refund).toMatchObject({ status: 'succeeded', amount: 900 });
    expect(s.calls.refund).toBe(1);
    expect((await s.store.get(s.merchantId, paymentId))?.refundedAmount).toBe(900);
  });

  it('a refusal is a 409 naming the gateway’s code, and releases the amount', async () => {
    const s = setup();
    const paymentId = await succeededPayment(s);
    s.faults.refund = 'refuse';
    const error = (await refund(s, paymentId, 'no').catch((e: unknown) => e)) as RefundDeclinedError;
    expect(error).toMatchObject({ status: 409, code: 'refund_declined', details: { gatewayCode: 'charge_disputed', refund: { status: 'failed', code: 'charge_disputed' } } });
    await expect(refund(s, paymentId, 'no')).rejects.toMatchObject({ code: 'refund_declined' });
    s.faults.refund = undefined;
    expect((await refund(s, paymentId, 'yes')).body.refund.amount).toBe(2500);
  });

  it('each succeeded refund leaves through the outbox once, with the running total; the payment’s own events are not sent again', async () => {
    const s = setup();
    const paymentId = await succeededPayment(s);
    const published: OutboxEvent[] = [];
    const outbox = { store: s.store, publisher: { publish: async (events: readonly OutboxEvent[]) => void published.push(...events) } };
    const mine = () => published.filter((e) => e.detail.paymentId === paymentId);
    while ((await publishPending(outbox, 1000)).events > 0);
    expect(mine().map((e) => e.name).sort()).toEqual(['PaymentFinalized', 'PaymentRecorded', 'PaymentSucceeded']);
    published.length = 0;
    await refund(s, paymentId, 'a', { amount: 400 });
    await refund(s, paymentId, 'b', { amount: 600 });
    while ((await publishPending(outbox, 1000)).events > 0);
    expect(mine()).toEqual([
      { name: 'PaymentRefunded', detail: expect.objectContaining({ refundAmount: 400, refundedTotal: 400, amount: 2500, rewardWallet: '9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin', method: 'card' }) },
      { name: 'PaymentRefunded', detail: expect.objectContaining({ refundAmount: 600, refundedTotal: 1000 }) },
    ]);
    published.length = 0;
    while ((await publishPending(outbox, 1000)).events > 0);
    expect(mine()).toEqual([]);
  });
});
