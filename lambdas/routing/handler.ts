/**
 * Routing Lambda: POST /route from API Gateway; the workflow's Route (rank) and RoutingFeedback steps.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { z } from 'zod';
import { documentClientOf } from '../shared/clients.js';
import { config } from '../shared/config.js';
import { DEFAULT_CONNECTORS } from '../shared/connectors.js';
import { instrumented } from '../shared/powertools.js';
import { apiRoute, isApiGatewayEvent, parseApiBody, parseWith } from '../shared/http.js';
import { PaymentRequest, RouteRequest } from '../shared/schemas.js';
import { rankCheapest, type RouteDecision } from './policy.js';
import { DynamoRoutingStats, type RoutingStatsPort } from './stats.js';

let stats: RoutingStatsPort | undefined;
function routingStats(): RoutingStatsPort {
  stats ??= new DynamoRoutingStats(documentClientOf(), config().tables.routing);
  return stats;
}

const Step = z.discriminatedUnion('step', [
  z.object({
    step: z.literal('rank'),
    payment: z.object({ request: PaymentRequest }).loose(),
    fraud: z.object({ score: z.number() }).loose().optional(),
  }),
  z.object({
    step: z.literal('feedback'),
    attempts: z.array(
      z
        .object({
          connectorId: z.string(),
          outcome: z.enum(['succeeded', 'declined', 'retryable_failure']),
          latencyMs: z.number(),
          feeMinor: z.number().optional(),
        })
        .loose(),
    ),
  }),
]);

function decide(context: RouteRequest): RouteDecision {
  return rankCheapest(DEFAULT_CONNECTORS, context, config().maxPaymentAttempts);
}

async function onApi(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  return apiRoute(event, async () => ({ status: 200, body: decide(parseApiBody(event, RouteRequest)) }));
}

async function onStep(event: unknown): Promise<unknown> {
  const input = parseWith(Step, event, 'routing step payload');
  if (input.step === 'rank') {
    const { request } = input.payment;
    return decide({
      amount: request.amount,
      currency: request.currency,
      method: request.paymentMethod.type,
      country: request.country,
      fraudScore: input.fraud?.score,
    });
  }
  return { recorded: await routingStats().record(input.attempts) };
}

export const handler = instrumented('routing', (event) => (isApiGatewayEvent(event) ? onApi(event) : onStep(event)));
