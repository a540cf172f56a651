/**
 * Payments Lambda: the payment workflow's steps (begin, charge, finalize, abort) from Step Functions, and
 * GET /payments/{id} from API Gateway. Parse, call the domain, map the result.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { z } from 'zod';
import { documentClientOf, dynamoClient } from '../shared/clients';
import { config } from '../shared/config';
import { findConnector } from '../../contracts/connectors';
import { apiRoute, isApiGatewayEvent, parseWith } from '../shared/http';
import { instrumented, logger, metrics } from '../shared/powertools';
import { PaymentId } from '../../contracts/api';
import { METRICS } from '../../contracts/resources';
import type { GatewayConnector } from './connectors';
import type { FraudSummary } from './model';
import { PowertoolsIdempotency } from './idempotency';
import { SandboxConnector } from './sandbox';
import * as service from './service';
import { DynamoPaymentStore } from './store';

let deps: service.PaymentDeps | undefined;

function dependencies(): service.PaymentDeps {
  if (deps) return deps;
  const cfg = config();
  const connectors = new Map<string, GatewayConnector>();
  deps = {
    store: new DynamoPaymentStore(documentClientOf(), cfg.tables.payments),
    idempotency: new PowertoolsIdempotency(dynamoClient(), cfg.tables.idempotency),
    now: () => new Date(),
    connectorFor: (connectorId) => {
      let connector = connectors.get(connectorId);
      if (!connector) {
        const definition = findConnector(connectorId, cfg.connectors);
        if (!definition) throw new Error(`unknown connector ${connectorId}`);
        connector = new SandboxConnector(definition, {
          fault: cfg.sandboxFaults[connectorId],
          latencyMs: cfg.sandboxLatencyMs,
        });
        connectors.set(connectorId, connector);
      }
      return connector;
    },
  };
  return deps;
}

/**
 * The fraud assessment as ScoreFraud returned it. The payment keeps it without the graph snapshots (the
 * fraud features' business, handed to RecordFraudFeatures); the rest is kept as it comes, so a new field of
 * the assessment can never fail a payment that has already been charged.
 */
const WorkflowFraud = z.object({ snapshots: z.unknown().optional() }).loose();

const Step = z.discriminatedUnion('step', [
  z.object({ step: z.literal('begin'), envelope: z.record(z.string(), z.unknown()) }),
  z.object({ step: z.literal('charge'), payment: z.any(), attempt: z.number().int().min(0), connector: z.object({ connectorId: z.string() }).loose() }),
  z.object({ step: z.literal('finalize'), payment: z.any(), fraud: WorkflowFraud.optional(), result: z.object({ outcome: z.enum(['succeeded', 'declined', 'review', 'failed']) }).loose() }),
  z.object({ step: z.literal('abort'), input: z.record(z.string(), z.unknown()), state: z.record(z.string(), z.unknown()) }),
]);

/** GET /payments/{id}: a malformed id is a 400 naming `path.id` (a well-formed unknown one is a 404). */
const PaymentPath = z.object({ path: z.object({ id: PaymentId }) });

async function onApi(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  return apiRoute(event, async (merchantId) => {
    const { path } = parseWith(PaymentPath, { path: { id: event.pathParameters?.id } }, 'path');
    const payment = await service.getPayment(merchantId, path.id, dependencies());
    return { status: 200, body: { payment } };
  });
}

async function onStep(event: unknown): Promise<unknown> {
  const input = parseWith(Step, event, 'payments step payload');
  const d = dependencies();
  switch (input.step) {
    case 'begin':
      return service.begin(input.envelope as service.PayEnvelope, d);
    case 'charge': {
      logger.appendKeys({ paymentId: input.payment.paymentId, idempotencyKey: input.payment.idempotencyKey });
      try {
        return await service.charge(input as service.ChargeInput, d);
      } catch (error) {
        metrics.addMetric(METRICS.gatewayAttemptFailed, 'Count', 1);
        throw error;
      }
    }
    case 'finalize': {
      logger.appendKeys({ paymentId: input.payment.paymentId, idempotencyKey: input.payment.idempotencyKey });
      const { snapshots: _snapshots, ...fraud } = input.fraud ?? {};
      const output = await service.finalize({ ...input, fraud: input.fraud ? (fraud as unknown as FraudSummary) : undefined } as service.FinalizeInput, d);
      const name =
        output.succeeded ? METRICS.paymentSucceeded : input.result.outcome === 'declined' ? METRICS.paymentDeclined : METRICS.paymentFailed;
      metrics.addMetric(name, 'Count', 1);
      return output;
    }
    case 'abort':
      logger.error('payment workflow aborted', { failure: (input.state as { error?: unknown }).error });
      return service.abort(input as unknown as service.AbortInput, d);
  }
}

export const handler = instrumented('payments', (event) => (isApiGatewayEvent(event) ? onApi(event) : onStep(event)));
