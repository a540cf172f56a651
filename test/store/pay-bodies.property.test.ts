/**
 * Property: any /pay body, valid or hostile (metadata with prototype keys, card-like values, odd unicode,
 * limits exceeded), is either refused by Begin before any gateway call, or recorded before its gateway call
 * and then finished. Run against the real store adapters on dynalite with a gateway that checks, at the
 * moment it is called, that the payment is already on record.
 */
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { RouteResult } from '../../contracts/api';
import type { GatewayConnector } from '../../lambdas/payments/connectors';
import { DynamoIdempotency } from '../../lambdas/payments/idempotency';
import * as service from '../../lambdas/payments/service';
import { DynamoPaymentStore } from '../../lambdas/payments/store';
import { LOCAL_TABLES } from '../../local/env';
import { useTestStore } from './support';

const db = useTestStore();

const hostileKey = fc.oneof(
  fc.constantFrom('__proto__', 'constructor', 'prototype', '', ' ', 'a'.repeat(41), 'order', 'toString', 'hasOwnProperty'),
  fc.string({ maxLength: 45 }),
  fc.string({ unit: 'grapheme', maxLength: 10 }),
);
const hostileValue = fc.oneof(
  fc.constantFrom('4242424242424242', '4242 4242 4242 4242', '4242-4242-4242-4242', '0000000000000000', 'x'.repeat(501), ''),
  fc.string({ maxLength: 60 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.integer().map(String),
);
const body = fc.record(
  {
    amount: fc.oneof({ arbitrary: fc.integer({ min: 1, max: 99_999_999 }), weight: 8 }, { arbitrary: fc.constantFrom(0, -1, 1.5, 100_000_000), weight: 1 }),
    currency: fc.oneof({ arbitrary: fc.constantFrom('USD', 'EUR', 'JPY', 'KWD'), weight: 8 }, { arbitrary: fc.constantFrom('usd', 'XXX'), weight: 1 }),
    customerId: fc.oneof({ arbitrary: fc.constant('cus_1'), weight: 4 }, { arbitrary: fc.string({ maxLength: 70 }), weight: 1 }),
    paymentMethod: fc.constantFrom(
      { type: 'card', number: '4242424242424242', expMonth: 12, expYear: 2031, cvc: '123' },
      { type: 'card', number: '4000000000000002', expMonth: 12, expYear: 2031 },
      { type: 'card', number: '4242424242424241', expMonth: 12, expYear: 2031 },
      { type: 'wallet', wallet: 'amazon_pay', token: 'tok_abc' },
    ),
    country: fc.constantFrom('US', 'DE', 'BR', 'XK', 'us'),
    description: fc.oneof(fc.string({ maxLength: 30 }), fc.constant('card 4242424242424242')),
    metadata: fc.oneof(
      { arbitrary: fc.dictionary(fc.stringMatching(/^[a-z_]{1,12}$/), fc.string({ maxLength: 40 }), { maxKeys: 5 }), weight: 2 },
      { arbitrary: fc.dictionary(hostileKey, hostileValue, { maxKeys: 55 }), weight: 2 },
    ),
  },
  { requiredKeys: ['amount', 'currency', 'customerId', 'paymentMethod'] },
);

const plan = RouteResult.parse({
  decisionId: 'rt_property_decision',
  ranked: [{ connectorId: 'g', kind: 'sandbox', estimatedFeeMinor: 1, expectedSuccess: 0.9, score: 1, status: 'healthy', propensity: 1 }],
  propensity: 1,
  policyVersion: 'v1',
  attemptLimit: 1,
  scoredBy: 'embedded',
});

test('every /pay body is refused before any gateway call, or on record before its gateway call', async () => {
  const store = new DynamoPaymentStore(db.client, LOCAL_TABLES.payments);
  const idempotency = new DynamoIdempotency(db.client, LOCAL_TABLES.idempotency);
  let refused = 0;
  let recorded = 0;
  await fc.assert(
    fc.asyncProperty(body, async (generated) => {
      // Some bodies are built on objects whose own "__proto__" key JSON keeps: send them as JSON text does.
      const wire: unknown = JSON.parse(JSON.stringify(generated));
      let calledWithoutRecord = false;
      let called = false;
      const merchantId = `m_${randomUUID().slice(0, 8)}`;
      const gateway: GatewayConnector = {
        id: 'g',
        async charge(request) {
          called = true;
          const paymentId = request.idempotencyKey.split(':')[0];
          const record = await store.get(merchantId, paymentId);
          if (!record || record.status !== 'processing' || !record.pendingAttempt) calledWithoutRecord = true;
          return { gatewayReference: 'ch_p', feeMinor: 1 };
        },
        retrieve: async () => undefined,
        refund: async () => Promise.reject(new Error('no refunds here')),
        retrieveRefund: async () => undefined,
      };
      const deps: service.PaymentDeps = { store, idempotency, acceptRawCards: true, now: () => new Date(), connectorFor: () => gateway };
      const begun = await service.begin({ body: wire, merchantId, idempotencyKey: randomUUID(), requestId: 'p' }, deps);
      if (begun.outcome === 'respond') {
        refused += 1;
        const status = begun.response.status;
        expect(status >= 400 && status < 500).toBe(true);
        expect(called).toBe(false);
        return;
      }
      expect(begun.outcome).toBe('new');
      if (begun.outcome !== 'new') return;
      const charge = await service.charge({ payment: begun.payment, attempt: 0, connector: { connectorId: 'g' }, plan }, deps);
      expect(called).toBe(true);
      expect(calledWithoutRecord).toBe(false);
      const out = await service.finalize({ payment: begun.payment, result: { outcome: 'succeeded', charge } }, deps);
      expect(out.response.status).toBe(201);
      const record = await store.get(merchantId, begun.payment.paymentId);
      expect(record?.status).toBe('succeeded');
      // Card data never reaches the record.
      expect(JSON.stringify(record)).not.toMatch(/4242424242424242/);
      recorded += 1;
    }),
    { numRuns: 300 },
  );
  // The generator reaches both sides.
  expect(refused).toBeGreaterThan(10);
  expect(recorded).toBeGreaterThan(10);
}, 120_000);
