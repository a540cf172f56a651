import { GatewayAmbiguousError, type GatewayConnector } from '../../lambdas/payments/connectors';
import type { ClaimResult, IdempotencyData, IdempotencyPort, StoredResponse } from '../../lambdas/payments/idempotency';
import type { AttemptRecord, PaymentDraft, PaymentRecord } from '../../lambdas/payments/model';
import * as service from '../../lambdas/payments/service';
import type { PaymentStore, TerminalUpdate } from '../../lambdas/payments/store';
import { GatewayDeclinedError, GatewayRetryableError, IdempotencyConflictError } from '../../contracts/errors';

class MemoryStore implements PaymentStore {
  readonly items = new Map<string, PaymentRecord>();
  async recordAttempt(draft: PaymentDraft, attempt: AttemptRecord) {
    const existing = this.items.get(draft.paymentId);
    this.items.set(draft.paymentId, {
      merchantId: draft.merchantId, paymentId: draft.paymentId, status: existing?.status ?? 'processing',
      amount: draft.request.amount, currency: draft.request.currency, customerId: draft.request.customerId,
      attempts: [...(existing?.attempts ?? []), attempt], createdAt: draft.createdAt, updatedAt: attempt.at,
    });
  }
  async finalize(draft: PaymentDraft, update: TerminalUpdate) {
    const existing = this.items.get(draft.paymentId);
    if (existing && existing.status !== 'processing') return existing;
    const { attempt, ...rest } = update;
    const record: PaymentRecord = {
      merchantId: draft.merchantId, paymentId: draft.paymentId, amount: draft.request.amount, currency: draft.request.currency,
      customerId: draft.request.customerId, attempts: [...(existing?.attempts ?? []), ...(attempt ? [attempt] : [])],
      createdAt: draft.createdAt, updatedAt: update.at, finalizedAt: update.at, ...rest,
    };
    this.items.set(draft.paymentId, record);
    return record;
  }
  async get(merchantId: string, paymentId: string) {
    const item = this.items.get(paymentId);
    return item?.merchantId === merchantId ? item : undefined;
  }
  async listWindow() {
    return { items: [...this.items.values()], truncated: false };
  }
}

class MemoryIdempotency implements IdempotencyPort {
  readonly records = new Map<string, { request: string; response?: StoredResponse }>();
  private key(d: IdempotencyData) {
    return `${d.merchantId}#${d.idempotencyKey}`;
  }
  async claim(d: IdempotencyData): Promise<ClaimResult> {
    const existing = this.records.get(this.key(d));
    if (!existing) {
      this.records.set(this.key(d), { request: JSON.stringify(d.request) });
      return { kind: 'claimed' };
    }
    if (existing.request !== JSON.stringify(d.request)) throw new IdempotencyConflictError('reused');
    if (existing.response) return { kind: 'replay', response: existing.response };
    throw new Error('in progress');
  }
  async complete(d: IdempotencyData, response: StoredResponse) {
    this.records.set(this.key(d), { request: JSON.stringify(d.request), response });
  }
  async release(d: IdempotencyData) {
    this.records.delete(this.key(d));
  }
}

function scriptedConnector(id: string, script: (key: string) => Promise<{ gatewayReference: string; feeMinor: number }>): GatewayConnector & { keys: string[] } {
  const keys: string[] = [];
  const charged = new Map<string, { gatewayReference: string; feeMinor: number }>();
  return {
    id,
    keys,
    async charge(request) {
      keys.push(request.idempotencyKey);
      const result = await script(request.idempotencyKey);
      charged.set(request.idempotencyKey, result);
      return result;
    },
    async retrieve(key) {
      return charged.get(key);
    },
  };
}

const body = {
  amount: 2500, currency: 'eur', customerId: 'cus_9',
  paymentMethod: { type: 'card', number: '4242424242424242', expMonth: 1, expYear: 2031, cvc: '123' },
};
const envelope = { body, merchantId: 'm_1', idempotencyKey: 'key-1', requestId: 'r1' };

/** A response with its JSON body parsed, for assertions. */
function parsed(response: StoredResponse | undefined) {
  return response && { status: response.status, body: JSON.parse(response.body) };
}

function setup(connectors: Record<string, GatewayConnector> = {}) {
  const store = new MemoryStore();
  const idempotency = new MemoryIdempotency();
  const deps: service.PaymentDeps = {
    store, idempotency, now: () => new Date('2026-11-26T10:00:00Z'),
    connectorFor: (id) => {
      const c = connectors[id];
      if (!c) throw new Error(`no connector ${id}`);
      return c;
    },
  };
  return { store, idempotency, deps };
}

async function started(deps: service.PaymentDeps) {
  const result = await service.begin(envelope, deps);
  if (result.outcome !== 'new') throw new Error(`expected a new payment, got ${JSON.stringify(result)}`);
  return result.payment;
}

describe('payment steps', () => {
  it('begin normalises, claims the key and mints a time-sortable id', async () => {
    const { deps, idempotency } = setup();
    const payment = await started(deps);
    expect(payment).toMatchObject({ merchantId: 'm_1', idempotencyKey: 'key-1', request: { currency: 'EUR', amount: 2500 } });
    expect(payment.paymentId).toMatch(/^pay_/);
    expect(idempotency.records.size).toBe(1);
  });

  it.each([
    [{ ...envelope, merchantId: '' }, 403, 'forbidden'],
    [{ ...envelope, idempotencyKey: '' }, 400, 'validation_error'],
    [{ ...envelope, idempotencyKey: 'has space' }, 400, 'validation_error'],
    [{ ...envelope, body: { ...body, currency: 'ZZZ' } }, 400, 'validation_error'],
  ])('begin answers bad input with a 4xx and claims nothing (%#)', async (env, status, code) => {
    const { deps, idempotency } = setup();
    const result = await service.begin(env, deps);
    expect(result.outcome).toBe('respond');
    expect(result.outcome === 'respond' && parsed(result.response)).toMatchObject({ status, body: { error: { code } } });
    expect(idempotency.records.size).toBe(0);
  });

  it('begin answers 422 for the same key with another payload, and replays a completed key', async () => {
    const { deps, idempotency } = setup();
    const payment = await started(deps);
    const conflict = await service.begin({ ...envelope, body: { ...body, amount: 2501 } }, deps);
    expect(conflict.outcome === 'respond' && parsed(conflict.response)).toMatchObject({ status: 422, body: { error: { code: 'idempotency_key_reused' } } });
    await idempotency.complete({ merchantId: 'm_1', idempotencyKey: 'key-1', request: payment.request }, { status: 201, body: '{"ok":1}' });
    await expect(service.begin(envelope, deps)).resolves.toEqual({ outcome: 'respond', response: { status: 201, body: '{"ok":1}' } });
  });

  it('charge returns the successful attempt (Finalize records it) and uses a key derived from payment id and attempt', async () => {
    const stripe = scriptedConnector('stripe-x', async () => ({ gatewayReference: 'ch_1', feeMinor: 103 }));
    const { deps, store } = setup({ 'stripe-x': stripe });
    const payment = await started(deps);
    const result = await service.charge({ payment, attempt: 1, connector: { connectorId: 'stripe-x' } }, deps);
    expect(result).toMatchObject({ connectorId: 'stripe-x', gatewayReference: 'ch_1', feeMinor: 103, reconciled: false });
    expect(stripe.keys).toEqual([`${payment.paymentId}:1`]);
    expect(result.attempt).toEqual(expect.objectContaining({ attempt: 1, connectorId: 'stripe-x', outcome: 'succeeded', feeMinor: 103 }));
    expect(store.items.has(payment.paymentId)).toBe(false); // no write on the happy path until Finalize
  });

  it('charge records declines and retryable failures, then rethrows them by name', async () => {
    const declined = scriptedConnector('d', async () => {
      throw new GatewayDeclinedError('no', 'insufficient_funds');
    });
    const flaky = scriptedConnector('f', async () => {
      throw new GatewayRetryableError('down', 'gateway_unavailable');
    });
    const { deps, store } = setup({ d: declined, f: flaky });
    const payment = await started(deps);
    await expect(service.charge({ payment, attempt: 0, connector: { connectorId: 'f' } }, deps)).rejects.toMatchObject({ name: 'GatewayRetryableError' });
    await expect(service.charge({ payment, attempt: 1, connector: { connectorId: 'd' } }, deps)).rejects.toMatchObject({ name: 'GatewayDeclinedError' });
    expect(store.items.get(payment.paymentId)?.attempts.map((a) => [a.outcome, a.code])).toEqual([
      ['retryable_failure', 'gateway_unavailable'],
      ['declined', 'insufficient_funds'],
    ]);
  });

  it('after an ambiguous timeout, reconciles by key before anything else', async () => {
    let calls = 0;
    const charged = scriptedConnector('t', async () => ({ gatewayReference: 'ch_t', feeMinor: 5 }));
    const timeoutAfterCharge: GatewayConnector = {
      id: 't',
      charge: async (req) => {
        calls += 1;
        await charged.charge(req);
        throw new GatewayAmbiguousError('timeout');
      },
      retrieve: (key) => charged.retrieve(key),
    };
    const nothingCharged: GatewayConnector = { id: 'n', charge: async () => { throw new GatewayAmbiguousError('timeout'); }, retrieve: async () => undefined };
    const { deps } = setup({ t: timeoutAfterCharge, n: nothingCharged });
    const payment = await started(deps);
    await expect(service.charge({ payment, attempt: 0, connector: { connectorId: 't' } }, deps)).resolves.toMatchObject({
      gatewayReference: 'ch_t', reconciled: true,
    });
    expect(calls).toBe(1);
    await expect(service.charge({ payment, attempt: 1, connector: { connectorId: 'n' } }, deps)).rejects.toMatchObject({
      name: 'GatewayRetryableError', code: 'gateway_timeout',
    });
  });

  it('finalize records success, completes the key with the 201 and builds the event', async () => {
    const stripe = scriptedConnector('s', async () => ({ gatewayReference: 'ch', feeMinor: 10 }));
    const { deps, idempotency } = setup({ s: stripe });
    const payment = await started(deps);
    const charge = await service.charge({ payment, attempt: 0, connector: { connectorId: 's' } }, deps);
    const out = await service.finalize({ payment, result: { outcome: 'succeeded', charge } }, deps);
    expect(out.succeeded).toBe(true);
    expect(parsed(out.response)).toMatchObject({ status: 201, body: { payment: { status: 'succeeded', connectorId: 's', feeMinor: 10 } } });
    expect(out.event).toMatchObject({ paymentId: payment.paymentId, merchantId: 'm_1', amount: 2500, currency: 'EUR', connectorId: 's' });
    expect(out.attempts).toEqual([expect.objectContaining({ attempt: 0, connectorId: 's', outcome: 'succeeded' })]);
    expect(idempotency.records.get('m_1#key-1')?.response).toEqual(out.response);
  });

  it.each([
    [{ outcome: 'declined', code: 'fraud_declined' }, 402, 'fraud_declined'],
    [{ outcome: 'review', code: 'held_for_review' }, 202, undefined],
    [{ outcome: 'failed', code: 'all_gateways_failed' }, 503, 'all_gateways_failed'],
    [{ outcome: 'failed', code: 'no_eligible_connector' }, 422, 'no_eligible_connector'],
  ] as const)('finalize maps %j to %i', async (result, status, code) => {
    const { deps } = setup();
    const payment = await started(deps);
    const out = await service.finalize({ payment, result }, deps);
    expect(out.succeeded).toBe(false);
    expect(out.event).toBeUndefined();
    expect(out.response.status).toBe(status);
    if (code) expect(parsed(out.response)?.body).toMatchObject({ error: { code, details: { paymentId: payment.paymentId } } });
  });

  it('finalize reports the gateway decline code recorded on the attempt', async () => {
    const declined = scriptedConnector('d', async () => {
      throw new GatewayDeclinedError('the card has insufficient funds', 'insufficient_funds');
    });
    const { deps } = setup({ d: declined });
    const payment = await started(deps);
    await service.charge({ payment, attempt: 0, connector: { connectorId: 'd' } }, deps).catch(() => undefined);
    const out = await service.finalize(
      {
        payment,
        result: {
          outcome: 'declined', code: 'gateway_declined',
          error: { Error: 'GatewayDeclinedError', Cause: JSON.stringify({ errorType: 'GatewayDeclinedError', errorMessage: 'the card has insufficient funds' }) },
        },
      },
      deps,
    );
    expect(parsed(out.response)).toMatchObject({ status: 402, body: { error: { code: 'insufficient_funds', message: 'the card has insufficient funds' } } });
  });

  it('abort releases the key when nothing was charged, and keeps it when money moved', async () => {
    const stripe = scriptedConnector('s', async () => ({ gatewayReference: 'ch', feeMinor: 10 }));
    const { deps, idempotency } = setup({ s: stripe });
    const payment = await started(deps);
    const early = await service.abort({ input: envelope, state: { payment, error: { Error: 'States.Timeout' } } }, deps);
    expect(early.response.status).toBe(500);
    expect(idempotency.records.size).toBe(0);

    const again = await started(deps);
    const charge = await service.charge({ payment: again, attempt: 0, connector: { connectorId: 's' } }, deps);
    const late = await service.abort({ input: envelope, state: { payment: again, charge, error: { Error: 'Lambda.Unknown' } } }, deps);
    expect(parsed(late.response)?.body).toMatchObject({ error: { code: 'internal_error', message: expect.stringMatching(/do not retry/) } });
    expect(idempotency.records.get('m_1#key-1')?.response).toEqual(late.response);
  });

  it('getPayment only finds the caller’s own payments', async () => {
    const stripe = scriptedConnector('s', async () => ({ gatewayReference: 'ch', feeMinor: 10 }));
    const { deps } = setup({ s: stripe });
    const payment = await started(deps);
    const charge = await service.charge({ payment, attempt: 0, connector: { connectorId: 's' } }, deps);
    await service.finalize({ payment, result: { outcome: 'succeeded', charge } }, deps);
    await expect(service.getPayment('m_1', payment.paymentId, deps)).resolves.toMatchObject({ paymentId: payment.paymentId });
    await expect(service.getPayment('m_2', payment.paymentId, deps)).rejects.toMatchObject({ status: 404 });
    await expect(service.getPayment('m_1', 'nonsense', deps)).rejects.toMatchObject({ status: 404 });
  });
});
