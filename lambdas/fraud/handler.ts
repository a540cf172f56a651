/**
 * Fraud Lambda: POST /fraud from API Gateway, and the workflow's ScoreFraud step from Step Functions.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { z } from 'zod';
import { config } from '../shared/config.js';
import { METRICS } from '../shared/contracts.js';
import { apiRoute, isApiGatewayEvent, parseApiBody, parseWith } from '../shared/http.js';
import { instrumented, metrics } from '../shared/powertools.js';
import { FraudRequest, PaymentRequest } from '../shared/schemas.js';
import { RuleBasedFraudModel, type FraudAssessment, type FraudContext, type FraudModel } from './scorer.js';

let model: FraudModel | undefined;

function fraudModel(): FraudModel {
  model ??= new RuleBasedFraudModel(config().fraud);
  return model;
}

async function assess(context: FraudContext): Promise<FraudAssessment> {
  const started = performance.now();
  const assessment = await fraudModel().score(context);
  metrics.addMetric(METRICS.fraudInferenceMs, 'Milliseconds', performance.now() - started);
  return assessment;
}

const ScoreStep = z.object({
  step: z.literal('score'),
  payment: z.object({ request: PaymentRequest }).loose(),
});

async function onApi(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  return apiRoute(event, async () => {
    const request = parseApiBody(event, FraudRequest);
    const assessment = await assess({
      amount: request.amount,
      currency: request.currency,
      customerId: request.customerId,
      country: request.country,
      ipCountry: request.ipCountry,
      cvcProvided: request.paymentMethod?.cvcProvided,
    });
    return { status: 200, body: { ...assessment, thresholds: config().fraud } };
  });
}

async function onStep(event: unknown): Promise<FraudAssessment> {
  const { request } = parseWith(ScoreStep, event, 'fraud step payload').payment;
  return assess({
    amount: request.amount,
    currency: request.currency,
    customerId: request.customerId,
    country: request.country,
    ipCountry: request.ipCountry,
    cvcProvided: request.paymentMethod.cvc !== undefined,
  });
}

export const handler = instrumented<unknown>('fraud', (event) => (isApiGatewayEvent(event) ? onApi(event) : onStep(event)));
