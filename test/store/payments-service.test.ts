/**
 * The payment steps on the real adapters (DynamoPaymentStore and DynamoIdempotency on dynalite): begin,
 * charge, finalize, abort, and what a rerun of a key and the reconciler do at every step boundary where a
 * run can stop. A crash is a run that simply stops calling steps; the gateway is a fake that keeps its
 * charges by idempotency key, as a real one does, and counts what it processed.
 */
import { randomUUID } from 'node:crypto';
import { GatewayDeclinedError, GatewayRetryableError } from '../../contracts/errors';
import { RouteResult } from '../../contracts/api';
import { GatewayAmbiguousError, type ChargeResult, type GatewayConnector } from '../../lambdas/payments/connectors';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { claimId, DynamoIdempotency, IN_FLIGHT_MS, type StoredResponse } from '../../lambdas/payments/idempotency';
import { publishPending, type OutboxEvent } from '../../lambdas/payments/outbox';
import * as service from '../../lambdas/payments/service';
import { succeededEvent } from '../../lambdas/payments/model';
import { DynamoPaymentStore } from '../../lambdas/payments/store';
import { LOCAL_TABLES } from '../../local/env';
import { useTestStore } from './support';

const db = useTestStore();

/** A gateway with its own ledger by idempotency key: a repeated key gets its first result and is not processed again. */
function gateway(id: string, script: (key: string) => ChargeResult | Error = () => ({ gatewayReference: `ch_${randomUUID()}`, feeMinor: 10 })) {
  const ledger = new Map<string, ChargeResult | Error>();
  let processed = 0;
  let ambiguous = false;
  const connector: GatewayConnector & { processed: () => number; charges: () => number; loseResponses: (on: boolean) => void } = {
    id,
    processed: () => processed,
    charges: () => [...ledger.values()].filter((o) => !(o instanceof Error)).length,
    loseResponses: (on) => {
      ambiguous = on;
    },
    async charge(request) {
      let outcome = ledger.get(request.idempotencyKey);
      if (!outcome) {
        processed += 1;
        outcome = script(request.idempotencyKey);
        ledger.set(request.idempotencyKey, outcome);
      }
      if (ambiguous) throw new GatewayAmbiguousError('timeout');
      if (outcome instanceof Error) throw outcome;
      return outcome;
    },
    async retrieve(key) {
      const outcome = ledger.get(key);
      return outcome instanceof Error ? undefined : outcome;
    },
    refund: async () => Promise.reject(new Error('no refunds here')),
    retrieveRefund: async () => undefined,
  };
  return connector;
}

const body = {
  amount: 2500, currency: 'eur', customerId: 'cus_9',
  paymentMethod: { type: 'card', number: '4242424242424242', expMonth: 1, expYear: 2031, cvc: '123' },
  metadata: { order: 'o-1' },
};

function plan(...connectors: string[]): RouteResult {
  return RouteResult.parse({
    decisionId: 'rt_test_decision_1',
    ranked: connectors.map((connectorId) => ({ connectorId, kind: 'sandbox', estimatedFeeMinor: 10, expectedSuccess: 0.9, score: 1, status: 'healthy', propensity: 1 })),
    propensity: 1,
    policyVersion: 'v1',
    attemptLimit: connectors.length,
    scoredBy: 'embedded',
  });
}

function parsed(response: StoredResponse | undefined) {
  return response && { status: response.status, body: JSON.parse(response.body) };
}

function setup(connectors: GatewayConnector[] = []): Setup {
  const clock = { now: new Date('2026-11-26T10:00:00Z') };
  const store = new DynamoPaymentStore(db.client, LOCAL_TABLES.payments);
  const idempotency = new DynamoIdempotency(db.client, LOCAL_TABLES.idempotency);
  const deps: service.PaymentDeps = {
    store,
    idempotency,
    acceptRawCards: true,
    now: () => clock.now,
    connectorFor: (id) => {
      const c = connectors.find((x) => x.id === id);
      if (!c) throw new Error(`no connector ${id}`);
      return c;
    },
  };
  // A merchant of its own per test: the tests share one store. The envelope carries the body parsed (as an
  // execution started by the earlier template does), so a test can change a field; the text the template and the
  // local server send is read by the same code after its checks (tested below, and end to end).
  const envelope = { body, merchantId: `m_${randomUUID().slice(0, 8)}`, idempotencyKey: `key-${randomUUID()}`, requestId: 'r1' };
  const advance = (ms: number) => {
    clock.now = new Date(clock.now.getTime() + ms);
  };
  return { store, idempotency, deps, envelope, clock, advance };
}

interface Setup {
  readonly store: DynamoPaymentStore;
  readonly idempotency: DynamoIdempotency;
  deps: service.PaymentDeps;
  readonly envelope: { body: unknown; merchantId: string; idempotencyKey: string; requestId: string };
  readonly clock: { now: Date };
  advance(ms: number): void;
}

async function started(s: Setup) {
  const result = await service.begin(s.envelope, s.deps);
  if (result.outcome !== 'new') throw new Error(`expected a new payment, got ${JSON.stringify(result)}`);
  return result.payment;
}

/** The next run of the key, after the last one's lease expired. */
async function rerun(s: Setup) {
  s.advance(IN_FLIGHT_MS + 1);
  return service.begin(s.envelope, s.deps);
}

describe('payment steps', () => {
  it('begin normalises, claims the key and fixes a time-sortable payment id', async () => {
    const s = setup();
    const payment = await started(s);
    expect(payment).toMatchObject({ merchantId: s.envelope.merchantId, idempotencyKey: s.envelope.idempotencyKey, request: { currency: 'EUR', amount: 2500 } });
    expect(payment.paymentId).toMatch(/^pay_/);
  });

  it.each([
    [{ merchantId: '' }, 403, 'forbidden'],
    [{ idempotencyKey: '' }, 400, 'validation_error'],
    [{ idempotencyKey: 'has space' }, 400, 'validation_error'],
    [{ body: { ...body, currency: 'ZZZ' } }, 400, 'validation_error'],
    [{ body: { ...body, metadata: { constructor: 'y' } } }, 400, 'validation_error'],
  ])('begin answers bad input with a 4xx and claims nothing (%#)', async (change: Record<string, unknown>, status, code) => {
    const s = setup();
    const result = await service.begin({ ...s.envelope, ...change }, s.deps);
    expect(result.outcome === 'respond' && parsed(result.response)).toMatchObject({ status, body: { error: { code } } });
    // Nothing was claimed: the good request with the same key is a first claim.
    if ('body' in change) await expect(started(s)).resolves.toMatchObject({ merchantId: s.envelope.merchantId });
  });

  it.each([
    ['a key twice', `{"amount":2500,"currency":"EUR","amount":2500000}`, 'application/json', 400, 'amount'],
    ['a fraction a double drops', `{"amount":2500.0000000000001,"currency":"EUR"}`, 'application/json', 400, 'amount'],
    ['text that is not JSON', `{"amount":2500,`, 'application/json', 400, '(body)'],
    ['a charset other than UTF-8', JSON.stringify(body), 'application/json; charset=latin1', 415, undefined],
  ])('begin reads the body as sent (the envelope of the template and the local server): %s is refused, nothing claimed', async (_name, bodyText, contentType, status, field) => {
    const s = setup();
    const result = await service.begin({ ...s.envelope, body: undefined, bodyText, contentType, contentEncoding: '' }, s.deps);
    const answer = result.outcome === 'respond' && parsed(result.response);
    expect(answer).toMatchObject({ status });
    if (field) expect(answer && answer.body.error.details.issues[0].field).toBe(field);
    // The same body as valid text is the first claim of the key.
    const text = { ...s.envelope, body: undefined, bodyText: JSON.stringify(body), contentType: 'application/json', contentEncoding: '' };
    await expect(service.begin(text, s.deps)).resolves.toMatchObject({ outcome: 'new', payment: { request: { currency: 'EUR', amount: 2500 } } });
  });

  it('begin answers 422 for the same key with another payload, 409 while the lease holds, and replays a completed key', async () => {
    const s = setup();
    const payment = await started(s);
    const conflict = await service.begin({ ...s.envelope, body: { ...body, amount: 2501 } }, s.deps);
    expect(conflict.outcome === 'respond' && parsed(conflict.response)).toMatchObject({ status: 422, body: { error: { code: 'idempotency_key_reused' } } });
    // Key order does not make another payload.
    const { paymentMethod, ...rest } = body;
    const reordered = await service.begin({ ...s.envelope, body: { paymentMethod, ...rest } }, s.deps);
    expect(reordered.outcome === 'respond' && parsed(reordered.response)).toMatchObject({
      status: 409,
      body: { error: { code: 'idempotency_in_progress', details: { paymentId: payment.paymentId } } },
    });
    await s.idempotency.complete(payment, { status: 201, body: '{"ok":1}' });
    await expect(service.begin(s.envelope, s.deps)).resolves.toEqual({ outcome: 'respond', response: { status: 201, body: '{"ok":1}' } });
  });

  it('a succeeded payment leaves its claim in progress (one write less on the path); a repeat is answered from the record, then replayed from the claim', async () => {
    const s = setup();
    const g = gateway('g1');
    s.deps = { ...s.deps, connectorFor: () => g };
    const payment = await started(s);
    const final = await service.chargeAndFinalize({ payment, attempt: 0, connector: { connectorId: 'g1' }, plan: plan('g1') }, s.deps);
    expect(final).toMatchObject({ succeeded: true, response: { status: 201 } });
    const claim = () => db.client.send(new GetCommand({ TableName: LOCAL_TABLES.idempotency, Key: { id: claimId(payment) }, ConsistentRead: true }));
    expect((await claim()).Item?.data).toBeUndefined();
    // Within the lease: the record's answer, the same as the workflow gave (not a 409).
    const repeat = await service.begin(s.envelope, s.deps);
    expect(repeat).toEqual({ outcome: 'respond', response: final.response });
    expect((await claim()).Item?.data).toEqual(final.response);
    // After the lease: replayed from the completed claim, nothing charged again.
    await expect(rerun(s)).resolves.toEqual({ outcome: 'respond', response: final.response });
    expect(g.charges()).toBe(1);
    // Another body with the key is still refused (422).
    const conflict = await service.begin({ ...s.envelope, body: { ...body, amount: 2501 } }, s.deps);
    expect(conflict.outcome === 'respond' && parsed(conflict.response)).toMatchObject({ status: 422 });
  });

  it('a record whose outbox holds the whole event (written before the compact form) still gives that event', () => {
    const detail = { paymentId: 'pay_01ABCDEFGHJKMNPQRSTV', merchantId: 'm', customerId: 'c', amount: 5, currency: 'USD', connectorId: 'x', occurredAt: 't' };
    const record = { status: 'succeeded', paymentId: 'pay_01ABCDEFGHJKMNPQRSTV', outbox: { PaymentSucceeded: detail } } as unknown as Parameters<typeof succeededEvent>[0];
    expect(succeededEvent(record)).toBe(detail);
    expect(succeededEvent({ ...record, status: 'declined' })).toBeUndefined();
  });

  it('charge records the payment, its plan and the pending attempt before the gateway call, with a key from payment id and attempt', async () => {
    const s = setup();
    let seen: unknown;
    const g = gateway('g1');
    const spy: GatewayConnector = {
      id: 'g1',
      charge: async (request) => {
        seen = await s.store.get(s.envelope.merchantId, request.idempotencyKey.split(':')[0]);
        return g.charge(request);
      },
      refund: g.refund,
      retrieveRefund: g.retrieveRefund,
      retrieve: (key) => g.retrieve(key),
    };
    s.deps = { ...s.deps, connectorFor: () => spy };
    const payment = await started(s);
    const result = await service.charge({ payment, attempt: 0, connector: { connectorId: 'g1' }, plan: plan('g1') }, s.deps);
    expect(result).toMatchObject({ connectorId: 'g1', reconciled: false, attempt: { attempt: 0, outcome: 'succeeded' } });
    expect(seen).toMatchObject({
      status: 'processing', amount: 2500, metadata: { order: 'o-1' }, plan: { attemptLimit: 1 },
      pendingAttempt: { attempt: 0, connectorId: 'g1' }, card: { last4: '4242' },
    });
    expect(JSON.stringify(seen)).not.toContain('4242424242424242');
  });

  it('charge records declines and retryable failures (clearing the pending attempt), then rethrows them by name', async () => {
    const flaky = gateway('f', () => new GatewayRetryableError('down', 'gateway_unavailable'));
    const declined = gateway('d', () => new GatewayDeclinedError('no', 'insufficient_funds'));
    const s = setup([flaky, declined]);
    const payment = await started(s);
    const route = plan('f', 'd');
    await expect(service.charge({ payment, attempt: 0, connector: { connectorId: 'f' }, plan: route }, s.deps)).rejects.toMatchObject({ name: 'GatewayRetryableError' });
    await expect(service.charge({ payment, attempt: 1, connector: { connectorId: 'd' }, plan: route }, s.deps)).rejects.toMatchObject({ name: 'GatewayDeclinedError' });
    const record = await s.store.get(payment.merchantId, payment.paymentId);
    expect(record?.attempts.map((a) => [a.outcome, a.code])).toEqual([
      ['retryable_failure', 'gateway_unavailable'],
      ['declined', 'insufficient_funds'],
    ]);
    expect(record?.pendingAttempt).toBeUndefined();
  });

  it('after an ambiguous timeout, reconciles by key; not found leaves the outcome unknown instead of moving on', async () => {
    const charged = gateway('t');
    charged.loseResponses(true);
    const s = setup([charged]);
    const payment = await started(s);
    await expect(service.charge({ payment, attempt: 0, connector: { connectorId: 't' }, plan: plan('t') }, s.deps)).resolves.toMatchObject({ reconciled: true });
    expect(charged.processed()).toBe(1);

    const lost: GatewayConnector = {
      id: 'n',
      charge: async () => {
        throw new GatewayAmbiguousError('timeout');
      },
      retrieve: async () => undefined,
      refund: async () => Promise.reject(new Error('no refunds here')),
      retrieveRefund: async () => undefined,
    };
    const s2 = setup([lost]);
    const other = await started(s2);
    await expect(service.charge({ payment: other, attempt: 0, connector: { connectorId: 'n' }, plan: plan('n') }, s2.deps)).rejects.toMatchObject({ name: 'ChargeOutcomeUnknownError' });
    expect((await s2.store.get(other.merchantId, other.paymentId))?.pendingAttempt).toMatchObject({ attempt: 0, connectorId: 'n' });
  });

  it('finalize records success with its event in the outbox (one write), completes the key with the 201, and the outbox publishes it once', async () => {
    const g = gateway('s');
    const s = setup([g]);
    const payment = await started(s);
    const charge = await service.charge({ payment, attempt: 0, connector: { connectorId: 's' }, plan: plan('s') }, s.deps);
    const out = await service.finalize({ payment, result: { outcome: 'succeeded', charge } }, s.deps);
    expect(parsed(out.response)).toMatchObject({ status: 201, body: { payment: { status: 'succeeded', connectorId: 's', feeMinor: 10 } } });
    expect(parsed(out.response)?.body.payment).not.toHaveProperty('plan');
    expect(parsed(out.response)?.body.payment).not.toHaveProperty('pendingAttempt');
    expect(out.event).toMatchObject({ paymentId: payment.paymentId, amount: 2500, currency: 'EUR', connectorId: 's' });
    const record = await s.store.get(payment.merchantId, payment.paymentId);
    expect(record).toMatchObject({ status: 'succeeded', unpublished: expect.any(String) });
    // The outbox keeps only what the record does not hold; the event is the record's (and equals the step's).
    expect(record?.outbox?.PaymentSucceeded).not.toHaveProperty('paymentId');
    expect(succeededEvent(record!)).toEqual(out.event);
    expect(record?.unfinished).toBeUndefined();
    await expect(service.begin(s.envelope, s.deps)).resolves.toEqual({ outcome: 'respond', response: out.response });

    const published: OutboxEvent[] = [];
    const publisher = { publish: async (events: readonly OutboxEvent[]) => void published.push(...events) };
    // The first publication reports each payment's lag from its terminal write (the OutboxLag metric).
    const first = await publishPending({ store: s.store, publisher });
    expect(first.events).toBeGreaterThan(0);
    expect(first.lagsMs.length).toBeGreaterThan(0);
    for (const lag of first.lagsMs) expect(lag).toBeGreaterThanOrEqual(0);
    while ((await publishPending({ store: s.store, publisher })).events > 0);
    const mine = published.filter((e) => e.detail.paymentId === payment.paymentId);
    expect(mine.map((e) => e.name).sort()).toEqual(['PaymentFinalized', 'PaymentRecorded', 'PaymentSucceeded']);
    expect(mine.find((e) => e.name === 'PaymentFinalized')?.detail).toMatchObject({
      decisionId: 'rt_test_decision_1', status: 'succeeded', attempts: [{ attempt: 0, outcome: 'succeeded', connectorId: 's' }],
    });
    // What analytics indexes: the payment's facts, never its card's number, last 4, expiry or fingerprint.
    const recorded = mine.find((e) => e.name === 'PaymentRecorded')?.detail;
    expect(recorded).toMatchObject({ status: 'succeeded', amount: payment.request.amount, currency: payment.request.currency, method: 'card', connectorId: 's', attempts: [{ attempt: 0, connectorId: 's', outcome: 'succeeded' }] });
    expect(JSON.stringify(recorded)).not.toMatch(/last4|expMonth|expYear|fingerprint|4242/);
    expect((await s.store.get(payment.merchantId, payment.paymentId))?.unpublished).toBeUndefined();
  });

  it.each([
    [{ outcome: 'declined', code: 'fraud_declined' }, 402, 'fraud_declined'],
    [{ outcome: 'review', code: 'held_for_review' }, 202, undefined],
    [{ outcome: 'failed', code: 'all_gateways_failed' }, 503, 'all_gateways_failed'],
    [{ outcome: 'failed', code: 'no_eligible_connector' }, 422, 'no_eligible_connector'],
  ] as const)('finalize maps %j to %i, without an event', async (result, status, code) => {
    const s = setup();
    const payment = await started(s);
    const out = await service.finalize({ payment, result }, s.deps);
    expect(out.succeeded).toBe(false);
    expect(out.event).toBeUndefined();
    expect(out.response.status).toBe(status);
    if (code) expect(parsed(out.response)?.body).toMatchObject({ error: { code, details: { paymentId: payment.paymentId } } });
    expect((await s.store.get(payment.merchantId, payment.paymentId))?.outbox).toBeUndefined();
  });

  it('abort after Begin itself failed leaves the key alone, and answers what its claim says: processing while another run holds it', async () => {
    const s = setup([gateway('s')]);
    const live = await started(s); // a live run holds the claim (and may be charging)
    const aborted = await service.abort({ input: s.envelope, state: { error: { Error: 'ProvisionedThroughputExceededException' } } }, s.deps);
    // Never "failed" for money that may have moved (found by test:faults: a retry's Begin throttled while the
    // first run had charged answered 500 "failed before anything was charged").
    expect(parsed(aborted.response)).toMatchObject({ status: 202, body: { status: 'processing', paymentId: live.paymentId } });
    // Still held: a third run is told it is in progress instead of starting a second payment.
    const third = await service.begin(s.envelope, s.deps);
    expect(third.outcome === 'respond' && parsed(third.response)).toMatchObject({ status: 409, body: { error: { details: { paymentId: live.paymentId } } } });
  });

  it("abort after Begin itself failed: a completed key's own answer; a key never claimed 503 (throttled) or 500 (a bug), nothing charged", async () => {
    const g = gateway('s');
    const s = setup([g]);
    const never = await service.abort({ input: s.envelope, state: { error: { Error: 'ProvisionedThroughputExceededException' } } }, s.deps);
    expect(parsed(never.response)).toMatchObject({
      status: 503,
      body: { error: { code: 'transient_failure', message: expect.stringMatching(/^a service the payment needs was unavailable before anything was charged; retry with the same Idempotency-Key/), details: { failure: 'ProvisionedThroughputExceededException' } } },
    });
    const bug = await service.abort({ input: s.envelope, state: { error: { Error: 'TypeError' } } }, s.deps);
    expect(parsed(bug.response)).toMatchObject({ status: 500, body: { error: { code: 'internal_error', message: expect.stringMatching(/^the payment failed before anything was charged/), details: { failure: 'TypeError' } } } });
    const payment = await started(s);
    const charged = await service.chargeAndFinalize({ payment, attempt: 0, connector: { connectorId: 's' }, plan: plan('s') }, s.deps);
    expect(charged.response.status).toBe(201);
    // Charged, the key not yet completed: processing, with the payment to poll.
    const during = await service.abort({ input: s.envelope, state: { error: { Error: 'ProvisionedThroughputExceededException' } } }, s.deps);
    expect(parsed(during.response)).toMatchObject({ status: 202, body: { status: 'processing', paymentId: payment.paymentId } });
    // Completed: the key's own answer.
    await s.deps.idempotency.complete({ merchantId: s.envelope.merchantId, idempotencyKey: s.envelope.idempotencyKey }, charged.response);
    const late = await service.abort({ input: s.envelope, state: { error: { Error: 'ProvisionedThroughputExceededException' } } }, s.deps);
    expect(late.response).toEqual(charged.response);
    expect(g.processed()).toBe(1);
  });

  it('abort of a run that outlived its lease leaves the claim of the run that took it over (no second payment for the key)', async () => {
    const g = gateway('s');
    const s = setup([g]);
    const stale = await started(s);
    expect(stale.run).toBe(1);
    const successor = await rerun(s); // run 1's lease expired: run 2 takes the claim over, nothing recorded yet
    expect(successor).toMatchObject({ outcome: 'new', payment: { paymentId: stale.paymentId, run: 2 } });
    // Run 1 fails late and aborts: it must not release (or expire) run 2's claim.
    const aborted = await service.abort({ input: s.envelope, state: { payment: stale, error: { Error: 'States.Timeout' } } }, s.deps);
    expect(parsed(aborted.response)?.status).toBe(503); // a Task's timeout: transient, nothing charged
    const third = await service.begin(s.envelope, s.deps);
    expect(third.outcome === 'respond' && parsed(third.response)).toMatchObject({ status: 409, body: { error: { details: { paymentId: stale.paymentId } } } });
    // Run 2 charges its payment; a late abort of run 1 (record now exists) does not end run 2's lease either.
    if (successor.outcome !== 'new') throw new Error('unreachable');
    await service.charge({ payment: successor.payment, attempt: 0, connector: { connectorId: 's' }, plan: plan('s') }, s.deps);
    await service.abort({ input: s.envelope, state: { payment: stale, error: { Error: 'States.Timeout' } } }, s.deps);
    const fourth = await service.begin(s.envelope, s.deps);
    expect(fourth.outcome === 'respond' && parsed(fourth.response)?.status).toBe(409);
    expect(g.processed()).toBe(1);
  });

  it('abort: nothing recorded releases the key (503 after a timeout, retry safe); a recorded payment answers 202 processing and the retry resumes it, charged once', async () => {
    const g = gateway('s');
    const s = setup([g]);
    const payment = await started(s);
    const early = await service.abort({ input: s.envelope, state: { payment, error: { Error: 'States.Timeout' } } }, s.deps);
    expect(parsed(early.response)).toMatchObject({ status: 503, body: { error: { code: 'transient_failure', message: expect.stringMatching(/safe to retry with the same Idempotency-Key/) } } });
    const again = await started(s); // released: a first claim again
    await service.charge({ payment: again, attempt: 0, connector: { connectorId: 's' }, plan: plan('s') }, s.deps);
    const late = await service.abort({ input: s.envelope, state: { payment: again, error: { Error: 'Lambda.Unknown' } } }, s.deps);
    expect(parsed(late.response)).toMatchObject({ status: 202, body: { status: 'processing', paymentId: again.paymentId, poll: `/payments/${again.paymentId}` } });
    // Abort ended the lease: the retry resumes at once, with the same payment and attempt.
    const resumed = await service.begin(s.envelope, s.deps);
    expect(resumed).toMatchObject({ outcome: 'resume', payment: { paymentId: again.paymentId }, attempt: { index: 0 }, route: { attemptLimit: 1 } });
    expect(g.processed()).toBe(1);
  });
});

describe('a rerun of the key resumes where the last run stopped', () => {
  /** Runs the workflow's steps from a Begin result to the end, as the ASL does (score and route are given). */
  async function drive(s: Setup, begun: Awaited<ReturnType<typeof service.begin>>, route: RouteResult) {
    if (begun.outcome === 'respond') return begun.response;
    const payment = begun.payment;
    if (begun.outcome === 'finish') return (await service.finalize({ payment, result: begun.result }, s.deps)).response;
    let index = begun.outcome === 'resume' ? begun.attempt.index : 0;
    const usedRoute = begun.outcome === 'resume' ? begun.route : route;
    for (;;) {
      try {
        const connectorId = usedRoute.ranked[index].connectorId;
        const charge = await service.charge({ payment, attempt: index, connector: { connectorId }, plan: usedRoute }, s.deps);
        return (await service.finalize({ payment, result: { outcome: 'succeeded', charge } }, s.deps)).response;
      } catch (error) {
        const name = (error as Error).name;
        if (name === 'GatewayDeclinedError') return (await service.finalize({ payment, result: { outcome: 'declined', code: 'gateway_declined' } }, s.deps)).response;
        if (name !== 'GatewayRetryableError') throw error;
        index += 1;
        if (index >= usedRoute.attemptLimit) return (await service.finalize({ payment, result: { outcome: 'failed', code: 'all_gateways_failed' } }, s.deps)).response;
      }
    }
  }

  it('stopped after the claim (nothing recorded): starts again with the same payment id', async () => {
    const g = gateway('a');
    const s = setup([g]);
    const first = await started(s);
    const again = await rerun(s);
    expect(again).toMatchObject({ outcome: 'new', payment: { paymentId: first.paymentId, createdAt: first.createdAt } });
    expect(parsed(await drive(s, again, plan('a')))).toMatchObject({ status: 201, body: { payment: { paymentId: first.paymentId } } });
    expect(g.charges()).toBe(1);
  });

  it('stopped with the attempt recorded but the gateway not called: the rerun charges it once', async () => {
    const g = gateway('a');
    const s = setup([g]);
    const payment = await started(s);
    await s.store.recordIntent(payment, { plan: plan('a'), pending: { attempt: 0, connectorId: 'a', at: s.clock.now.toISOString() } });
    const again = await rerun(s);
    expect(again).toMatchObject({ outcome: 'resume', attempt: { index: 0 } });
    expect(parsed(await drive(s, again, plan('a')))).toMatchObject({ status: 201, body: { payment: { paymentId: payment.paymentId } } });
    expect(g.charges()).toBe(1);
  });

  it('stopped after the gateway charged, before the outcome was recorded: the rerun gets the first charge back, not a second', async () => {
    const g = gateway('a');
    const s = setup([g]);
    const payment = await started(s);
    const first = await service.charge({ payment, attempt: 0, connector: { connectorId: 'a' }, plan: plan('a', 'b') }, s.deps);
    const again = await rerun(s);
    expect(again).toMatchObject({ outcome: 'resume', attempt: { index: 0 }, route: { attemptLimit: 2 } });
    const answer = parsed(await drive(s, again, plan('a')));
    expect(answer).toMatchObject({ status: 201, body: { payment: { paymentId: payment.paymentId, attempts: [{ gatewayReference: first.gatewayReference }] } } });
    expect(g.processed()).toBe(1);
    expect(g.charges()).toBe(1);
  });

  it('stopped after a retryable failure was recorded: the rerun goes on with the next connector of the plan', async () => {
    const down = gateway('a', () => new GatewayRetryableError('down', 'gateway_unavailable'));
    const up = gateway('b');
    const s = setup([down, up]);
    const payment = await started(s);
    await expect(service.charge({ payment, attempt: 0, connector: { connectorId: 'a' }, plan: plan('a', 'b') }, s.deps)).rejects.toThrow();
    const again = await rerun(s);
    expect(again).toMatchObject({ outcome: 'resume', attempt: { index: 1 } });
    expect(parsed(await drive(s, again, plan('a', 'b')))).toMatchObject({ status: 201, body: { payment: { connectorId: 'b' } } });
    expect(down.processed() + up.processed()).toBe(2);
  });

  it('stopped after a decline was recorded: the rerun finishes it as declined without charging', async () => {
    const declined = gateway('a', () => new GatewayDeclinedError('no', 'insufficient_funds'));
    const s = setup([declined]);
    const payment = await started(s);
    await expect(service.charge({ payment, attempt: 0, connector: { connectorId: 'a' }, plan: plan('a') }, s.deps)).rejects.toThrow();
    const again = await rerun(s);
    expect(again).toMatchObject({ outcome: 'finish', result: { outcome: 'declined' } });
    expect(parsed(await drive(s, again, plan('a')))).toMatchObject({ status: 402, body: { error: { code: 'insufficient_funds' } } });
    expect(declined.processed()).toBe(1);
  });

  it('stopped after the terminal write, before the key was completed: the rerun answers from the record', async () => {
    const g = gateway('a');
    const s = setup([g]);
    const payment = await started(s);
    const charge = await service.charge({ payment, attempt: 0, connector: { connectorId: 'a' }, plan: plan('a') }, s.deps);
    await s.store.finalize(payment, { status: 'succeeded', connectorId: 'a', feeMinor: charge.feeMinor, attempt: charge.attempt, at: s.clock.now.toISOString() });
    const again = await rerun(s);
    expect(again.outcome === 'respond' && parsed(again.response)).toMatchObject({ status: 201, body: { payment: { paymentId: payment.paymentId, status: 'succeeded' } } });
    // ...and the key now replays it.
    const replay = await service.begin(s.envelope, s.deps);
    expect(replay).toEqual(again);
    expect(g.charges()).toBe(1);
  });

  it('two reruns at once: one takes the lease over, the other is told it is in progress', async () => {
    const s = setup([gateway('a')]);
    await started(s);
    s.advance(IN_FLIGHT_MS + 1);
    const both = await Promise.all([service.begin(s.envelope, s.deps), service.begin(s.envelope, s.deps)]);
    const outcomes = both.map((b) => (b.outcome === 'respond' ? parsed(b.response)?.status : b.outcome)).sort();
    expect(outcomes).toEqual([409, 'new']);
  });
});

describe('the reconciler', () => {
  async function leftCharged(s: Setup, g: ReturnType<typeof gateway>) {
    const payment = await started(s);
    await service.charge({ payment, attempt: 0, connector: { connectorId: g.id }, plan: plan(g.id) }, s.deps);
    return payment;
  }

  it('leaves payments alone until RECONCILE_AFTER_MS, and while a run holds the lease', async () => {
    const g = gateway('a');
    const s = setup([g]);
    const payment = await leftCharged(s, g);
    s.advance(service.RECONCILE_AFTER_MS - 1000);
    await service.reconcile(s.deps);
    expect((await s.store.get(payment.merchantId, payment.paymentId))?.status).toBe('processing');
  });

  it('finishes a charged payment nobody came back for as succeeded, with its event and the key answering 201', async () => {
    const g = gateway('a');
    const s = setup([g]);
    const payment = await leftCharged(s, g);
    s.advance(service.RECONCILE_AFTER_MS + 1);
    const report = await service.reconcile(s.deps, 1000);
    expect(report.succeeded).toBeGreaterThanOrEqual(1);
    const record = await s.store.get(payment.merchantId, payment.paymentId);
    expect(record).toMatchObject({
      status: 'succeeded', connectorId: 'a', reason: expect.stringMatching(/^reconciled: a has the charge/),
      outbox: { PaymentSucceeded: {} },
    });
    expect(succeededEvent(record!)).toMatchObject({ paymentId: payment.paymentId, amount: 2500, currency: 'EUR', customerId: 'cus_9', connectorId: 'a', createdAt: record?.createdAt });
    expect(record?.attempts).toEqual([expect.objectContaining({ attempt: 0, outcome: 'succeeded' })]);
    const replay = await service.begin(s.envelope, s.deps);
    expect(replay.outcome === 'respond' && parsed(replay.response)).toMatchObject({ status: 201, body: { payment: { status: 'succeeded' } } });
    expect(g.charges()).toBe(1);
  });

  it('finishes a payment whose pending attempt the gateway never got as failed (interrupted), with a reason, charging nothing', async () => {
    const g = gateway('a');
    const s = setup([g]);
    const payment = await started(s);
    await s.store.recordIntent(payment, { plan: plan('a'), pending: { attempt: 0, connectorId: 'a', at: s.clock.now.toISOString() } });
    s.advance(service.RECONCILE_AFTER_MS + 1);
    await service.reconcile(s.deps, 1000);
    const record = await s.store.get(payment.merchantId, payment.paymentId);
    expect(record).toMatchObject({ status: 'failed', code: 'interrupted', reason: expect.stringMatching(/has no charge .* nothing was charged/) });
    const replay = await service.begin(s.envelope, s.deps);
    expect(replay.outcome === 'respond' && parsed(replay.response)).toMatchObject({ status: 503, body: { error: { code: 'interrupted', message: expect.stringMatching(/not charged/) } } });
    expect(g.processed()).toBe(0);
  });
});
