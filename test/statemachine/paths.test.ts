/**
 * Paths through statemachines/payment.asl.json (and, after success, reward.asl.json), run by the local
 * engine with the real handlers on an in-memory store.
 */
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { TERMINAL_SNAPSHOT } from '../../lambdas/fraud/graph';
import { LOCAL_TABLES } from '../../local/env';
import { allStates, lambdaError, readDefinition } from '../../local/workflows';
import { CARDS, envelope, MERCHANT, pay, paymentBody, startHarness, type Harness } from './harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

describe('payment workflow paths', () => {
  test('A request Begin refuses: its 400 is the answer, and the scoring beside it (which refuses it too) is no error', async () => {
    const { status, body, execution } = await pay(h, envelope(paymentBody({ amount: -5 })));
    expect(status).toBe(400);
    expect(body.error.details.issues).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'amount' })]));
    expect(execution.states).toEqual(expect.arrayContaining(['Begin', 'ScoreFraud', 'Unscored', 'Replay']));
    expect(execution.states).not.toContain('Abort');
    expect(execution.states).not.toContain('Route');
  });

  test('HappyPath: 201, payment succeeded, PaymentSucceeded published from the outbox, reward recorded', async () => {
    await h.platform.idle();
    h.platform.store.resetStats();
    const { status, body, execution } = await pay(h, envelope(paymentBody()));
    expect(execution.status).toBe('SUCCEEDED');
    expect(status).toBe(201);
    const payment = body.payment;
    expect(payment).toMatchObject({ status: 'succeeded', amount: 1999, currency: 'USD', merchantId: MERCHANT });
    expect(payment.paymentId).toMatch(/^pay_[0-9A-Z]{20}$/);
    expect(JSON.stringify(body)).not.toContain('4242424242424242');
    // Three Lambda hop levels: Begin and ScoreFraud side by side, Route, Charge; the fraud features are
    // recorded off the path, from the outbox's PaymentSucceeded.
    expect(execution.states).toEqual(expect.arrayContaining(['BeginAndScore', 'RespondFinal']));
    const tasks = new Set(allStates(readDefinition('payment')).filter(([, state]) => state.Type === 'Task').map(([name]) => name));
    expect(execution.states.filter((state) => tasks.has(state)).sort()).toEqual(['Begin', 'Charge', 'Route', 'ScoreFraud']);
    // Routing feedback is off the synchronous path: the outbox's PaymentFinalized reaches routing afterwards.
    expect(execution.states).not.toContain('RoutingFeedback');
    // The Charge step records the terminal state itself: no separate Finalize hop on the happy path.
    expect(execution.states).not.toContain('Finalize');
    expect(execution.states).not.toContain('Abort');
    // The event was written with the terminal state (the outbox), and is published off the payment's path.
    const outboxed = await h.paymentRecord(MERCHANT, payment.paymentId);
    // The outbox keeps what the event carries beyond the record (the device, the scoring's snapshots).
    expect(Object.keys(outboxed?.outbox?.PaymentSucceeded ?? {})).toEqual(['fraudSnapshots']);
    // Route did not log its decision on the path: it rides on the payment's plan, and routing logs it from the
    // PaymentFinalized event (below), before the outcome.
    expect(outboxed?.plan?.decision).toMatchObject({ context: { amountMinor: 1999, currency: 'USD', method: 'card' } });
    const decisionItem = () =>
      h.db.send(new GetCommand({ TableName: LOCAL_TABLES.routing, Key: { pk: `decision#${outboxed?.plan?.decisionId}` }, ConsistentRead: true }));
    await h.platform.idle();
    const published = await h.paymentRecord(MERCHANT, payment.paymentId);
    expect(published?.unpublished).toBeUndefined();
    const finalized = h.platform.bus.published().find((e) => e['detail-type'] === 'PaymentFinalized' && (e.detail as { paymentId?: string }).paymentId === payment.paymentId);
    expect(finalized?.detail).toMatchObject({ decisionId: published?.plan?.decisionId, status: 'succeeded', attempts: [{ attempt: 0, outcome: 'succeeded' }] });
    const { Item: outcome } = await h.db.send(
      new GetCommand({ TableName: LOCAL_TABLES.routing, Key: { pk: `outcome#${published?.plan?.decisionId}#0` }, ConsistentRead: true }),
    );
    expect(outcome).toMatchObject({ outcome: 'succeeded', connectorId: payment.connectorId });
    const logged = (await decisionItem()).Item;
    expect(logged).toMatchObject({ merchantId: MERCHANT, chosen: payment.connectorId, policyVersion: published?.plan?.policyVersion });
    // The decision is logged with the context it was made in (the updater learns its features from it, context.ts).
    expect(logged?.context).toEqual(outboxed!.plan!.decision!.context);

    // The payment keeps the fraud summary; the graph snapshots ScoreFraud computed travel in the PaymentSucceeded
    // event to the fraud features' consumer, which stores them on the customer's transaction in the feature state
    // (the terminal's snapshot, as the replay stores it).
    const record = await h.paymentRecord(MERCHANT, payment.paymentId);
    expect(Object.keys(record?.fraud ?? {}).sort()).toEqual(['decision', 'modelVersion', 'reasons', 'score', 'scoredBy']);
    const { Items = [] } = await h.db.send(
      new QueryCommand({
        TableName: LOCAL_TABLES.fraudState,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :tx)',
        ExpressionAttributeValues: { ':pk': 'cust#cus_paths', ':tx': 'tx#' },
        ConsistentRead: true,
      }),
    );
    const stored = Items.find((item) => item.txId === payment.paymentId);
    expect(stored?.z).toHaveLength(TERMINAL_SNAPSHOT);

    const event = h.platform.bus.published().find((e) => (e.detail as { paymentId?: string }).paymentId === payment.paymentId);
    expect(event).toMatchObject({
      version: '0',
      source: 'smartpay.payments',
      'detail-type': 'PaymentSucceeded',
      detail: { paymentId: payment.paymentId, merchantId: MERCHANT, customerId: 'cus_paths', amount: 1999, currency: 'USD', createdAt: payment.createdAt },
    });
    const carried = (event?.detail as { fraudSnapshots?: { customer: number[]; terminal: number[] } }).fraudSnapshots;
    expect(carried?.terminal).toEqual(stored?.z);
    expect(typeof (event?.detail as { connectorId?: unknown }).connectorId).toBe('string');
    expect(typeof (event?.detail as { occurredAt?: unknown }).occurredAt).toBe('string');

    await h.platform.idle();
    const reward = h.platform.workflows.executions('reward').find((r) => (r.input as { detail?: { paymentId?: string } }).detail?.paymentId === payment.paymentId);
    expect(reward).toMatchObject({ status: 'SUCCEEDED', states: ['WhichEvent', 'IssueReward', 'MintOwed', 'RewardIssued'] });
    const entry = await h.rewardEntry(payment.paymentId);
    expect(entry).toMatchObject({ paymentId: payment.paymentId, merchantId: MERCHANT });
    expect(entry?.tokens).toMatch(/^\d+$/);
    expect(h.platform.dlq.count()).toBe(0);
    // The fraud state was read once, to score (the profile, then the customer's transactions, the terminal's
    // days and its edges): the features' consumer took the snapshots the event carried instead of reading it again.
    const ops = await h.platform.store.stats();
    expect(ops[`GetItem ${LOCAL_TABLES.fraudState}`]).toBe(1);
    expect(ops[`Query ${LOCAL_TABLES.fraudState}`]).toBe(3 + 1); // + this test's own query above
  });

  test('GatewayDeclined: card_declined is final, 402 after one attempt and no fallback', async () => {
    const { status, body, execution } = await pay(h, envelope(paymentBody({}, CARDS.declined)));
    expect(status).toBe(402);
    expect(body.error.code).toBe('card_declined');
    expect(execution.states.filter((s) => s === 'Charge')).toHaveLength(1);
    expect(execution.states).toContain('GatewayDeclined');
    expect(execution.states).not.toContain('NextConnector');
    const record = await h.paymentRecord(MERCHANT, body.error.details.paymentId);
    expect(record?.attempts).toHaveLength(1);
  });

  test('AllGatewaysFail: processing_error everywhere, 503 all_gateways_failed after attemptLimit attempts', async () => {
    const { status, body, execution } = await pay(h, envelope(paymentBody({}, CARDS.processingError)));
    expect(status).toBe(503);
    expect(body.error.code).toBe('all_gateways_failed');
    const charges = execution.states.filter((s) => s === 'Charge').length;
    expect(charges).toBe(2); // both eligible connectors, min(2, MAX_PAYMENT_ATTEMPTS=3)
    expect(execution.states).toContain('AllGatewaysFailed');
    const record = await h.paymentRecord(MERCHANT, body.error.details.paymentId);
    expect(record).toMatchObject({ status: 'failed' });
    expect((record?.attempts as unknown[]).length).toBe(charges);
  });
});

describe('emulator fidelity', () => {
  test('a response body with quotes, backslashes and newlines stays valid JSON through both engines', async () => {
    const description = 'He said "hi" \\ and\nleft';
    const { status, body } = await pay(h, envelope(paymentBody({ description })));
    expect(status).toBe(201);
    expect(body.payment.description).toBe(description);
  });

  test('a Lambda error reaches the Catch with Lambda-shaped Error and Cause', () => {
    const error = new Error('boom "quoted"');
    error.name = 'GatewayRetryableError';
    const shaped = lambdaError(error);
    expect(shaped.name).toBe('GatewayRetryableError');
    expect(JSON.parse(shaped.message)).toEqual({ errorType: 'GatewayRetryableError', errorMessage: 'boom "quoted"' });
  });
});

