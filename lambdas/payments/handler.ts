/**
 * Payments Lambda: the payment workflow's steps (begin, charge, finalize, abort) from Step Functions, and
 * GET /payments/{id} from API Gateway. Parse with the contracts, call the domain, map the result.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { z } from 'zod';
import { PaymentPath } from '../../contracts/api';
import { METRICS } from '../../contracts/resources';
import type { StepHandlers } from '../../contracts/steps';
import { documentClientOf, dynamoClient } from '../shared/clients';
import { config } from '../shared/config';
import { apiRoute, isApiGatewayEvent, parseWith } from '../shared/http';
import { instrumented, logger, metrics } from '../shared/powertools';
import { runStep } from '../shared/steps';
import { connectorRegistry } from './connector-registry';
import { PowertoolsIdempotency } from './idempotency';
import * as service from './service';
import { DynamoPaymentStore } from './store';

let deps: service.PaymentDeps | undefined;

function dependencies(): service.PaymentDeps {
  if (deps) return deps;
  const cfg = config();
  deps = {
    store: new DynamoPaymentStore(documentClientOf(), cfg.tables.payments),
    idempotency: new PowertoolsIdempotency(dynamoClient(), cfg.tables.idempotency),
    now: () => new Date(),
    connectorFor: connectorRegistry(cfg),
  };
  return deps;
}

async function onApi(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
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
    logger.appendKeys({ paymentId: input.payment.paymentId, idempotencyKey: input.payment.idempotencyKey });
    try {
      return await service.charge(input, dependencies());
    } catch (error) {
      metrics.addMetric(METRICS.gatewayAttemptFailed, 'Count', 1);
      throw error;
    }
  },
  finalize: async (input) => {
    logger.appendKeys({ paymentId: input.payment.paymentId, idempotencyKey: input.payment.idempotencyKey });
    // The payment keeps the assessment without the graph snapshots (the fraud features' business).
    const fraud = input.fraud && (({ snapshots: _snapshots, ...assessment }) => assessment)(input.fraud);
    const output = await service.finalize({ payment: input.payment, result: input.result, fraud }, dependencies());
    const name = output.succeeded ? METRICS.paymentSucceeded : input.result.outcome === 'declined' ? METRICS.paymentDeclined : METRICS.paymentFailed;
    metrics.addMetric(name, 'Count', 1);
    return output;
  },
  abort: (input) => {
    logger.error('payment workflow aborted', { failure: input.state.error });
    return service.abort(input, dependencies());
  },
};

export const handler = instrumented('payments', (event) => (isApiGatewayEvent(event) ? onApi(event) : runStep('payments', steps, event)));
