/**
 * Payments Lambda: the payment workflow's steps (begin, charge, finalize, abort) from Step Functions, and
 * GET /payments, GET /payments/{id} and POST /payments/{id}/refund from API Gateway. Parse with the contracts, call the domain, map the result.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { z } from 'zod';
import { PaymentListQuery, PaymentPath, RefundRequest, WebhookPath } from '../../contracts/api';
import { findConnector } from '../../contracts/connectors';
import { NotFoundError } from '../../contracts/errors';
import { METRICS } from '../../contracts/resources';
import { isScheduledInvocation } from '../../contracts/topology';
import type { StepHandlers } from '../../contracts/steps';
import { documentClientOf, eventBridgeClient } from '../shared/clients';
import { config } from '../shared/config';
import { apiRoute, errorResponse, idempotencyKeyOf, isApiGatewayEvent, jsonResponse, parseApiBody, parseQuery, parseWith } from '../shared/http';
import { listPayments } from './listing';
import { countBy, instrumented, logger, metrics } from '../shared/powertools';
import { runStep } from '../shared/steps';
import { connectorRegistry } from './connector-registry';
import { secretFingerprinter } from './fingerprint';
import { DynamoIdempotency } from './idempotency';
import * as outbox from './outbox';
import { eventBridgePublisher, type EventPublisher } from '../shared/bus';
import * as refunds from './refunds';
import * as webhooks from './webhooks';
import * as service from './service';
import { DynamoPaymentStore } from './store';

let deps: service.PaymentDeps | undefined;

function dependencies(): service.PaymentDeps {
  if (deps) return deps;
  const cfg = config();
  deps = {
    store: new DynamoPaymentStore(documentClientOf(), cfg.tables.payments),
    idempotency: new DynamoIdempotency(documentClientOf(), cfg.tables.idempotency, cfg.paymentLeaseMs),
    reconcileAfterMs: cfg.reconcileAfterMs,
    acceptRawCards: cfg.acceptRawCards,
    ...(cfg.gateways.cardFingerprintSecretArn ? { fingerprint: secretFingerprinter(cfg.gateways.cardFingerprintSecretArn) } : {}),
    now: () => new Date(),
    connectorFor: connectorRegistry(cfg),
    onReconcileError: (paymentId, error) => logger.error('could not reconcile a payment; the next run retries', { paymentId, error }),
  };
  return deps;
}

/** A gateway's webhook: no merchant's token (the gateway signs it); the raw body as API Gateway passed it. */
async function onWebhook(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  try {
    const { path } = parseWith(z.object({ path: WebhookPath }), { path: { connectorId: event.pathParameters?.connectorId } }, 'path');
    const raw = event.body === null ? '' : event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
    const headers = Object.fromEntries(Object.entries(event.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]));
    // Each gateway's route takes its own connectors' events only.
    const kind = event.resource === '/webhooks/amazon-pay/{connectorId}' ? 'amazon_pay' : 'stripe';
    if (findConnector(path.connectorId, config().connectors)?.kind !== kind) throw new NotFoundError(`no ${kind} connector ${path.connectorId}`);
    const received = await webhooks.receiveWebhook(path.connectorId, raw, headers, dependencies());
    if (received.paymentId) logger.info('webhook received', { connectorId: path.connectorId, paymentId: received.paymentId, status: received.status });
    return jsonResponse(200, received);
  } catch (error) {
    return errorResponse(error);
  }
}

async function onApi(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  if (event.resource === '/webhooks/stripe/{connectorId}' || event.resource === '/webhooks/amazon-pay/{connectorId}') return onWebhook(event);
  if (event.resource === '/payments/{id}/refund') {
    return apiRoute(event, async (merchantId) => {
      const idempotencyKey = idempotencyKeyOf(event, 'POST /payments/{id}/refund');
      const { path } = parseWith(z.object({ path: PaymentPath }), { path: { id: event.pathParameters?.id } }, 'path');
      const request = parseApiBody(event, RefundRequest);
      logger.appendKeys({ paymentId: path.id, idempotencyKey });
      const answer = await refunds.refundPayment(merchantId, path.id, idempotencyKey, request, dependencies());
      if (answer.status === 201) metrics.addMetric(METRICS.paymentRefunded, 'Count', 1);
      return answer;
    });
  }
  if (event.resource === '/payments') {
    return apiRoute(event, async (merchantId) => {
      const query = parseQuery(event, PaymentListQuery);
      return { status: 200, body: await listPayments(merchantId, query, dependencies().store) };
    });
  }
  return apiRoute(event, async (merchantId) => {
    // A malformed id is a 400 naming `path.id` (a well-formed unknown one is a 404).
    const { path } = parseWith(z.object({ path: PaymentPath }), { path: { id: event.pathParameters?.id } }, 'path');
    const payment = await service.getPayment(merchantId, path.id, dependencies());
    return { status: 200, body: { payment } };
  });
}

/** The workflow's steps (statemachines/payment.asl.json: Begin, Charge, Finalize, Abort). */
export const steps: StepHandlers<'payments'> = {
  begin: (input) => service.begin(input.envelope, dependencies()),
  charge: async (input) => {
    try {
      const output = await service.chargeAndFinalize(input, dependencies());
      metrics.addMetric(METRICS.paymentSucceeded, 'Count', 1);
      attemptMetrics(output.attempts, output.succeeded);
      return output;
    } catch (error) {
      metrics.addMetric(METRICS.gatewayAttemptFailed, 'Count', 1);
      throw error;
    }
  },
  finalize: async (input) => {
    const output = await service.finalize({ payment: input.payment, result: input.result, fraud: input.fraud }, dependencies());
    const name = output.succeeded ? METRICS.paymentSucceeded : input.result.outcome === 'declined' ? METRICS.paymentDeclined : METRICS.paymentFailed;
    metrics.addMetric(name, 'Count', 1);
    attemptMetrics(output.attempts, output.succeeded);
    return output;
  },
  abort: (input) => {
    logger.error('payment workflow aborted', { failure: input.state.error });
    return service.abort(input, dependencies());
  },
};

/** Each attempt's outcome at its connector, and whether the payment fell back to succeed. */
function attemptMetrics(attempts: readonly { connectorId: string; outcome: string }[], succeeded: boolean): void {
  for (const attempt of attempts) countBy(METRICS.gatewayAttempt, { connector: attempt.connectorId, outcome: attempt.outcome });
  if (succeeded && attempts.length > 1) metrics.addMetric(METRICS.paymentFellBack, 'Count', 1);
}

/** The reconciler's schedule (contracts/topology.ts: `reconcile`): finish payments left processing. */
async function onReconcile(): Promise<service.ReconcileReport> {
  const report = await service.reconcile(dependencies());
  if (report.examined > 0) logger.info('reconciled unfinished payments', { ...report });
  metrics.addMetric(METRICS.paymentsReconciled, 'Count', report.succeeded + report.failed + report.declined);
  metrics.addMetric(METRICS.reconcilerErrors, 'Count', report.errors);
  for (const outcome of ['succeeded', 'failed', 'declined'] as const) if (report[outcome] > 0) countBy(METRICS.reconcilerAction, { outcome }, report[outcome]);
  return report;
}

let publisher: EventPublisher | undefined;

function outboxDeps(): outbox.OutboxDeps {
  publisher ??= eventBridgePublisher(eventBridgeClient, () => config().eventBusName);
  return { store: dependencies().store, publisher };
}

/** The outbox: the table's stream (cloud), or the sweep of what is still unpublished (`outbox` schedule). */
async function onOutbox(published: Promise<outbox.Published>): Promise<{ published: number }> {
  const { events, lagsMs } = await published;
  if (events > 0) metrics.addMetric(METRICS.outboxPublished, 'Count', events);
  for (const lag of lagsMs) metrics.addMetric(METRICS.outboxLagMs, 'Milliseconds', lag);
  return { published: events };
}

export const handler = instrumented('payments', (event) => {
  if (isApiGatewayEvent(event)) return onApi(event);
  if (outbox.isStreamBatch(event)) return onOutbox(outbox.publishStream(event, outboxDeps()));
  if (isScheduledInvocation(event, 'outbox')) return onOutbox(outbox.publishPending(outboxDeps()));
  if (isScheduledInvocation(event, 'reconcile')) return onReconcile();
  return runStep('payments', steps, event);
});
