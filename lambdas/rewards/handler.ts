/**
 * Rewards Lambda: the reward workflow's IssueReward step (from the PaymentSucceeded event), and
 * POST /reward, which issues (or returns) the reward of one of the caller's succeeded payments.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { RewardRequest } from '../../contracts/api';
import { METRICS } from '../../contracts/resources';
import type { StepHandlers } from '../../contracts/steps';
import { documentClientOf } from '../shared/clients';
import { config } from '../shared/config';
import { apiRoute, isApiGatewayEvent, parseApiBody } from '../shared/http';
import { instrumented, metrics } from '../shared/powertools';
import { runStep } from '../shared/steps';
import { paymentLookup } from '../payments/lookup';
import { assertRewardable, issueReward, type RewardDeps } from './rewards';
import { DynamoRewardLedger } from './ledger';

let deps: RewardDeps | undefined;
function dependencies(): RewardDeps {
  if (!deps) {
    const cfg = config();
    deps = {
      ledger: new DynamoRewardLedger(documentClientOf(), cfg.tables.rewards),
      decimals: cfg.rewardTokenDecimals,
      usdRates: cfg.rewardUsdRates,
      now: () => new Date(),
    };
  }
  return deps;
}

async function onApi(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  return apiRoute(event, async (merchantId) => {
    const { paymentId } = parseApiBody(event, RewardRequest);
    const d = dependencies();
    const payment = await paymentLookup().get(merchantId, paymentId);
    assertRewardable(merchantId, payment, paymentId);
    const { entry, created } = await issueReward(payment, d);
    if (created) metrics.addMetric(entry.status === 'error' ? METRICS.rewardNotComputed : METRICS.rewardIssued, 'Count', 1);
    return { status: created ? 201 : 200, body: { reward: entry } };
  });
}

/** The reward workflow's step (statemachines/reward.asl.json: IssueReward). */
export const steps: StepHandlers<'rewards'> = {
  issue: async (input) => {
    const { entry, created } = await issueReward(input.payment, dependencies());
    if (created) metrics.addMetric(entry.status === 'error' ? METRICS.rewardNotComputed : METRICS.rewardIssued, 'Count', 1);
    return entry;
  },
};

export const handler = instrumented<unknown>('rewards', (event) => (isApiGatewayEvent(event) ? onApi(event) : runStep('rewards', steps, event)));
