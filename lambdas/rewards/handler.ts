/**
 * Rewards Lambda: the reward workflow's IssueReward step (from the PaymentSucceeded event), and
 * POST /reward, which issues (or returns) the reward of one of the caller's succeeded payments.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { z } from 'zod';
import { documentClientOf } from '../shared/clients';
import { config } from '../shared/config';
import { METRICS } from '../../contracts/resources';
import { apiRoute, isApiGatewayEvent, parseApiBody, parseWith } from '../shared/http';
import { instrumented, metrics } from '../shared/powertools';
import { RewardRequest } from '../../contracts/api';
import { DynamoPaymentStore } from '../payments/store';
import { assertRewardable, DynamoRewardLedger, issueReward, type RewardDeps } from './rewards';

let deps: (RewardDeps & { payments: DynamoPaymentStore }) | undefined;
function dependencies() {
  if (!deps) {
    const cfg = config();
    deps = {
      ledger: new DynamoRewardLedger(documentClientOf(), cfg.tables.rewards),
      payments: new DynamoPaymentStore(documentClientOf(), cfg.tables.payments),
      decimals: cfg.rewardTokenDecimals,
      now: () => new Date(),
    };
  }
  return deps;
}

const IssueStep = z.object({
  step: z.literal('issue'),
  payment: z
    .object({
      paymentId: z.string().min(1),
      merchantId: z.string().min(1),
      customerId: z.string().min(1),
      amount: z.number().int().positive(),
      currency: z.string().length(3),
    })
    .loose(),
});

async function onApi(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  return apiRoute(event, async (merchantId) => {
    const { paymentId } = parseApiBody(event, RewardRequest);
    const d = dependencies();
    const payment = await d.payments.get(merchantId, paymentId);
    assertRewardable(merchantId, payment, paymentId);
    const { entry, created } = await issueReward(payment, d);
    if (created) metrics.addMetric(METRICS.rewardIssued, 'Count', 1);
    return { status: created ? 201 : 200, body: { reward: entry } };
  });
}

async function onStep(event: unknown) {
  const { payment } = parseWith(IssueStep, event, 'reward step payload');
  const { entry, created } = await issueReward(payment, dependencies());
  if (created) metrics.addMetric(METRICS.rewardIssued, 'Count', 1);
  return entry;
}

export const handler = instrumented<unknown>('rewards', (event) => (isApiGatewayEvent(event) ? onApi(event) : onStep(event)));
