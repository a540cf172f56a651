/**
 * Admission control of POST /pay on the local platform: above the payments in flight, or with the background work
 * too far behind, a 503 with Retry-After before the key is claimed (nothing charged, nothing recorded, the same key
 * may be retried), and payments are admitted again once there is room.
 */
import { randomUUID } from 'node:crypto';
import type { HandlerOverride } from '../../local/functions';
import type { LocalPlatform } from '../../local/platform';
import { ApiClient, payBody, startPlatform, uniqueCustomer, uniqueMerchant } from './client';

/** A gate the test opens: until then, the held calls wait. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

/** Holds the calls of one workflow step until `gate` opens. */
function hold(step: string, gated: { opened: Promise<void> }): HandlerOverride {
  return async (event, next) => {
    if ((event as { step?: string }).step === step) await gated.opened;
    return next(event);
  };
}

async function until(condition: () => boolean, what: string, withinMs = 10_000): Promise<void> {
  for (let i = 0; i < withinMs / 25 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 25));
  if (!condition()) throw new Error(`timed out waiting for ${what}`);
}

const pay = (client: ApiClient, key = randomUUID()) => client.pay(payBody({ customerId: uniqueCustomer() }), key);

describe('admission control', () => {
  let platform: LocalPlatform | undefined;
  afterEach(async () => {
    await platform?.close(1000);
    platform = undefined;
  });

  test('above the payments in flight: 503 + Retry-After before the claim; the same key succeeds once there is room', async () => {
    const charges = gate();
    platform = await startPlatform({ maxInFlightPayments: 2, handlerOverrides: { payments: hold('charge', charges) } });
    const client = await ApiClient.forMerchant(platform, uniqueMerchant());
    const held = [pay(client), pay(client)];
    await until(() => platform!.workflows.busy(), 'the two payments to be in flight');
    await new Promise((resolve) => setTimeout(resolve, 200));
    const key = randomUUID();
    const refused = await pay(client, key);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(refused.json.error).toMatchObject({ code: 'service_unavailable', message: expect.stringMatching(/2 payments in flight.*nothing was charged and the key was not used/) });
    charges.open();
    expect((await Promise.all(held)).map((r) => r.status)).toEqual([201, 201]);
    // The key was never claimed: the same request is a first payment now.
    const retried = await pay(client, key);
    expect(retried.status).toBe(201);
    expect(retried.json.payment.paymentId).toMatch(/^pay_/);
  });

  test('with the background work too far behind: 503 naming it, admitted again once it catches up', async () => {
    const rewards = gate();
    platform = await startPlatform({ maxBacklog: 3, handlerOverrides: { rewards: hold('issue', rewards) } });
    const client = await ApiClient.forMerchant(platform, uniqueMerchant());
    // Each succeeded payment's reward is held, so its delivery stays pending on the bus.
    let succeeded = 0;
    for (let i = 0; i < 3 && platform.backlog() < 3; i++) {
      expect((await pay(client)).status).toBe(201);
      succeeded += 1;
    }
    // The outbox drain and the bus run in the background instances, at a lower priority than anything else on the
    // machine: alone this takes about 2 s, but a busy machine (CI's other suite) starved it past 10 s once.
    await until(() => platform!.backlog() >= 3, 'the held rewards to be pending', 60_000);
    expect(succeeded).toBeGreaterThan(0);
    const key = randomUUID();
    const refused = await pay(client, key);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(refused.json.error.message).toMatch(/background work .* deliveries behind.*nothing was charged and the key was not used/);
    rewards.open();
    await until(() => platform!.backlog() < 3, 'the backlog to drain', 60_000);
    expect((await pay(client, key)).status).toBe(201);
  }, 150_000);
});
