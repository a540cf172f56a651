/**
 * Routing end to end on the local platform: POST /route ranks with the bandit and logs the decision,
 * POST /route/feedback records outcomes once, the updater (fed by the bus) learns, and after a scripted
 * scenario /route prefers the connector that really succeeds for that context; /pay's outcomes reach the
 * breaker and the updater from the payment's own PaymentFinalized event.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { LOCAL_TABLES } from '../../local/env';
import type { LocalPlatform } from '../../local/platform';
import { DynamoRoutingModel } from '../../lambdas/routing/dynamo-model-store';
import { EVENTS } from '../../contracts/events';
import { ApiClient, startPlatform, uniqueMerchant } from './client';

let platform: LocalPlatform;
beforeAll(async () => {
  // No model cache between calls: each /route sees the updater's latest version.
  platform = await startPlatform({ env: { ROUTING_MODEL_TTL_MS: '0' } });
});
afterAll(async () => {
  await platform?.close(1000);
});

const context = { amount: 4_200, currency: 'USD', method: 'card', network: 'visa', country: 'US', merchantCategory: 'retail' };

test('after the outcomes of a scripted scenario, /route prefers the connector that really succeeds', async () => {
  const client = await ApiClient.forMerchant(platform, uniqueMerchant());
  const first = await client.call('POST', '/route', { body: context });
  expect(first.status).toBe(200);
  expect(first.json).toMatchObject({ decisionId: expect.stringMatching(/^rt_/), policyVersion: expect.stringMatching(/^linucb-\d+$/), attemptLimit: 2 });
  const ids = first.json.ranked.map((r: { connectorId: string }) => r.connectorId).sort();
  expect(ids).toEqual(['amazon-pay-sandbox', 'stripe-sandbox']);
  const total = first.json.ranked.reduce((s: number, r: { propensity: number }) => s + r.propensity, 0);
  expect(total).toBeCloseTo(1, 9);
  expect(first.json.propensity).toBe(first.json.ranked[0].propensity);

  // The world: amazon-pay-sandbox (the cheaper) declines this context, stripe-sandbox succeeds.
  for (let i = 0; i < 40; i += 1) {
    const decision = i === 0 ? first : await client.call('POST', '/route', { body: context });
    const chosen = decision.json.ranked[0].connectorId as string;
    const feedback = await client.call('POST', '/route/feedback', {
      body: { decisionId: decision.json.decisionId, attempts: [{ connectorId: chosen, outcome: chosen === 'stripe-sandbox' ? 'succeeded' : 'declined', latencyMs: 80 }] },
    });
    expect(feedback.status).toBe(200);
    await platform.idle(); // the updater has run
  }
  const after = await client.call('POST', '/route', { body: context });
  const byId = Object.fromEntries(after.json.ranked.map((r: { connectorId: string }) => [r.connectorId, r]));
  expect(byId['stripe-sandbox'].score).toBeGreaterThan(byId['amazon-pay-sandbox'].score);
  expect(byId['stripe-sandbox'].expectedSuccess).toBeGreaterThan(0.8);
  expect(byId['amazon-pay-sandbox'].expectedSuccess).toBeLessThan(0.3);
  expect(Number(after.json.policyVersion.split('-')[1])).toBeGreaterThan(Number(first.json.policyVersion.split('-')[1]));
  // The greedy choice is stripe: it carries most of the probability of being chosen first.
  expect(byId['stripe-sandbox'].propensity).toBeGreaterThan(0.9);
}, 60_000);

test('feedback is idempotent, scoped to the merchant, and names what is wrong', async () => {
  const client = await ApiClient.forMerchant(platform, uniqueMerchant());
  const decision = await client.call('POST', '/route', { body: context });
  const body = { decisionId: decision.json.decisionId, attempts: [{ connectorId: decision.json.ranked[0].connectorId, outcome: 'error', latencyMs: 3000 }] };
  const once = await client.call('POST', '/route/feedback', { body });
  expect(once.json.feedback).toMatchObject({ recorded: 1, replayed: 0 });
  await platform.idle();
  const version = (await client.call('POST', '/route', { body: context })).json.policyVersion;
  const again = await client.call('POST', '/route/feedback', { body });
  expect(again.status).toBe(200);
  expect(again.json.feedback).toMatchObject({ recorded: 0, replayed: 1 });
  await platform.idle();
  expect((await client.call('POST', '/route', { body: context })).json.policyVersion).toBe(version); // nothing learnt twice

  const other = await ApiClient.forMerchant(platform, uniqueMerchant());
  expect((await other.call('POST', '/route/feedback', { body })).status).toBe(404);
  const unranked = await client.call('POST', '/route/feedback', { body: { ...body, attempts: [{ connectorId: 'nope', outcome: 'succeeded', latencyMs: 1 }] } });
  expect(unranked.status).toBe(400);
  expect(unranked.text).toContain('attempts.0.connectorId');
  const invalid = await client.call('POST', '/route/feedback', { body: { decisionId: 'x', attempts: [] } });
  expect(invalid.status).toBe(400);
  expect(invalid.text).toContain('decisionId');
  expect(invalid.text).toContain('attempts');
});

test('/pay routes with the bandit; its PaymentFinalized feeds the breaker and the model, with no event of routing\'s own', async () => {
  const client = await ApiClient.forMerchant(platform, uniqueMerchant());
  const raw = new DynamoDBClient({ endpoint: platform.store.endpoint, region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  try {
    const store = new DynamoRoutingModel(DynamoDBDocumentClient.from(raw), LOCAL_TABLES.routing);
    const outcomeEvents = () => platform.bus.published().filter((e) => e['detail-type'] === 'RoutingOutcomesRecorded').length;
    const before = { events: outcomeEvents(), version: (await store.load(true)).version };
    const result = await client.pay({ amount: 1999, currency: 'USD', customerId: `cus_${Date.now()}`, paymentMethod: { type: 'card', number: '4242424242424242', expMonth: 12, expYear: 2030, cvc: '123' } });
    expect(result.status).toBe(201);
    await platform.idle();
    const finalized = platform.bus.published().find((e) => e['detail-type'] === 'PaymentFinalized' && (e.detail as { paymentId: string }).paymentId === result.json.payment.paymentId);
    const { decisionId, attempts } = finalized!.detail as { decisionId: string; attempts: Array<{ connectorId: string; at: string }> };
    // The feedback consumer logged the decision and folded the attempt into the breaker (at the attempt's time).
    expect(await store.getDecision(decisionId)).toMatchObject({ decisionId, chosen: attempts[0].connectorId });
    const health = await store.loadHealth(undefined, true);
    expect(health!.health[attempts[0].connectorId].recent).toContainEqual({ failed: false, t: Date.parse(attempts[0].at) });
    // The updater recorded the outcome with its claim, and committed a version that learnt it.
    const outcome = { decisionId, attempt: 0, connectorId: attempts[0].connectorId, outcome: 'succeeded' as const, latencyMs: 0, time: 0 };
    const claim = (await store.claims([outcome])).get(`${decisionId}#0`)!;
    expect(claim).toMatchObject({ recorded: true, appliedIn: expect.any(Number) });
    expect(claim.appliedIn!).toBeGreaterThan(before.version);
    expect((await store.load(true)).version).toBeGreaterThanOrEqual(claim.appliedIn!);
    expect(await store.recordOutcome(outcome)).toBe(false);
    // No RoutingOutcomesRecorded for a payment: the updater reads its PaymentFinalized.
    expect(outcomeEvents()).toBe(before.events);
    expect(platform.bus.failures()).toEqual([]);
  } finally {
    raw.destroy();
  }
});

test('the updater applies a batch around a malformed message, and reports that message alone as failed', async () => {
  const client = await ApiClient.forMerchant(platform, uniqueMerchant());
  const routed = await client.call('POST', '/route', { body: context });
  expect(routed.status).toBe(200);
  const raw = new DynamoDBClient({ endpoint: platform.store.endpoint, region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  try {
    // Recorded directly (not through /route/feedback), so nothing else is on its way to the updater.
    const store = new DynamoRoutingModel(DynamoDBDocumentClient.from(raw), LOCAL_TABLES.routing);
    const outcome = { decisionId: routed.json.decisionId, attempt: 0, connectorId: routed.json.ranked[0].connectorId, outcome: 'succeeded' as const, latencyMs: 80, time: Date.now() };
    expect(await store.recordOutcome(outcome)).toBe(true);
    const event = { source: EVENTS.RoutingOutcomesRecorded.source, 'detail-type': EVENTS.RoutingOutcomesRecorded.detailType, detail: { outcomes: [outcome] } };
    const result = (await platform.functions.routingUpdater({
      Records: [
        { messageId: 'm-good', body: JSON.stringify(event) },
        { messageId: 'm-bad', body: JSON.stringify({ ...event, detail: { outcomes: [{ decisionId: 42 }] } }) },
        { messageId: 'm-not-json', body: 'not json' },
      ],
    })) as { applied: number; batchItemFailures: unknown };
    expect(result.applied).toBe(1);
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'm-bad' }, { itemIdentifier: 'm-not-json' }]);
  } finally {
    raw.destroy();
  }
});
