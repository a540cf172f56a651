/**
 * The gateways' webhooks (`POST /webhooks/stripe/{connectorId}`, `POST /webhooks/amazon-pay/{connectorId}`). The
 * connector's adapter verifies the event on its raw body (Stripe's signing secret; Amazon Pay's SNS signature)
 * and names the call it is about; the payment is then settled from the gateway's current state, never from the
 * event's copy of it: a charge awaiting the customer's action (service.ts `settleAction`), and its pending refunds
 * (refunds.ts `reconcileRefunds`: each repeated by its key, and settled as the gateway says). So a replayed event
 * is harmless, an event arriving out of order cannot regress a payment (each transition is conditional on the
 * state it read), and a forged one is a 400 before anything is read.
 */
import type { WebhookResponse } from '../../contracts/api';
import { PaymentId } from '../../contracts/ids';
import { NotFoundError, TransientError } from '../../contracts/errors';
import { ChargeOutcomeUnknownError, type GatewayConnector } from './connectors';
import { reconcileRefunds } from './refunds';
import { settleAction, type PaymentDeps } from './service';

export async function receiveWebhook(
  connectorId: string,
  rawBody: string,
  headers: Readonly<Record<string, string | undefined>>,
  deps: PaymentDeps,
): Promise<WebhookResponse> {
  let connector: GatewayConnector;
  try {
    connector = deps.connectorFor(connectorId);
  } catch {
    throw new NotFoundError(`no connector ${connectorId}`);
  }
  if (!connector.parseWebhook) throw new NotFoundError(`connector ${connectorId} takes no webhooks (it is not a Stripe or Amazon Pay account)`);
  const event = await connector.parseWebhook(rawBody, headers);
  if (!event) return { received: true };
  const paymentId = PaymentId.safeParse(event.idempotencyKey.split(':')[0]);
  if (!paymentId.success) return { received: true };
  let record = await deps.store.get(event.merchantId, paymentId.data);
  if (!record) return { received: true };
  try {
    if (record.status === 'pending_action') record = await settleAction(record, deps);
    if (record.refunds?.some((r) => r.status === 'pending')) {
      // Every pending refund, however new: a repeat by its key is the same refund at the gateway.
      await reconcileRefunds(record, new Date(deps.now().getTime() + 1), deps);
      record = (await deps.store.get(record.merchantId, record.paymentId)) ?? record;
    }
  } catch (error) {
    // The gateway could not be read now: a 503 makes it send the event again later.
    if (error instanceof ChargeOutcomeUnknownError || error instanceof TransientError) throw new TransientError(`could not read the payment's state from ${connectorId} now; send the event again`);
    throw error;
  }
  return { received: true, paymentId: record.paymentId, status: record.status };
}
