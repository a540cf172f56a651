/**
 * The gateways' webhooks (`POST /webhooks/stripe/{connectorId}`). The connector's adapter verifies the event on
 * its raw body with the endpoint's signing secret and names the call it is about; the payment is then settled
 * from the charge's current state read from the gateway (service.ts `settleAction`), never from the event's
 * copy of it. So a replayed event is harmless, an event arriving out of order cannot regress a payment (each
 * transition is conditional on the payment still awaiting), and a forged one is a 400 before anything is read.
 */
import type { WebhookResponse } from '../../contracts/api';
import { PaymentId } from '../../contracts/ids';
import { NotFoundError, TransientError } from '../../contracts/errors';
import { ChargeOutcomeUnknownError, type GatewayConnector } from './connectors';
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
  if (!connector.parseWebhook) throw new NotFoundError(`connector ${connectorId} takes no webhooks (it is not a Stripe account)`);
  const event = await connector.parseWebhook(rawBody, headers);
  if (!event) return { received: true };
  const paymentId = PaymentId.safeParse(event.idempotencyKey.split(':')[0]);
  if (!paymentId.success) return { received: true };
  let record = await deps.store.get(event.merchantId, paymentId.data);
  if (!record) return { received: true };
  if (record.status === 'pending_action') {
    try {
      record = await settleAction(record, deps);
    } catch (error) {
      // The intent could not be read now: a 503 makes Stripe send the event again later.
      if (error instanceof ChargeOutcomeUnknownError) throw new TransientError(`could not read the charge from ${connectorId} now; send the event again`);
      throw error;
    }
  }
  return { received: true, paymentId: record.paymentId, status: record.status };
}
