/** RewardFailsNoRefund: the reward workflow gives up (DLQ) and the payment stays succeeded. */
import { envelope, MERCHANT, pay, paymentBody, startHarness, type Harness } from './harness';

let h: Harness;
let rewardCalls = 0;
beforeAll(async () => {
  h = await startHarness({
    handlerOverrides: {
      rewards: async (event) => {
        // The workflow's steps (the mints schedule invokes the function too, at start-up and each minute).
        if ((event as { step?: string }).step) rewardCalls++;
        const error = new Error('the reward ledger is unreachable');
        error.name = 'TransientError';
        throw error;
      },
    },
  });
});
afterAll(async () => {
  await h?.close();
});

test('RewardFailsNoRefund: reward retried then parked on the DLQ; payment untouched', async () => {
  const { status, body } = await pay(h, envelope(paymentBody()));
  expect(status).toBe(201);
  const paymentId = body.payment.paymentId as string;
  await h.platform.idle();

  const reward = h.platform.workflows.executions('reward').find((r) => (r.input as { detail?: { paymentId?: string } }).detail?.paymentId === paymentId);
  expect(reward).toMatchObject({ status: 'FAILED', error: 'RewardFailed' });
  expect(reward?.states).toEqual(['WhichEvent', 'IssueReward', 'SendToDlq', 'RewardFailed']);
  expect(rewardCalls).toBe(4); // 1 call + 3 retries of TransientError (within Express's 5 minutes)

  const messages = h.platform.dlq.list();
  expect(messages).toHaveLength(1);
  const parked = JSON.parse(messages[0]!.body) as { detail: { paymentId: string }; error: { Error: string; Cause: string } };
  expect(parked.detail.paymentId).toBe(paymentId);
  expect(parked.error.Error).toBe('TransientError');
  expect(JSON.parse(parked.error.Cause)).toEqual({ errorType: 'TransientError', errorMessage: 'the reward ledger is unreachable' });

  expect(await h.rewardEntry(paymentId)).toBeUndefined();
  expect(await h.paymentRecord(MERCHANT, paymentId)).toMatchObject({ status: 'succeeded' });
});
