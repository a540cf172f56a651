/**
 * Rewards Lambda: the reward workflow's steps (IssueReward from the PaymentSucceeded event, then MintReward when
 * the payment named a wallet), POST /reward, which issues (or returns) the reward of one of the caller's succeeded
 * payments with where its tokens are on chain, or claims a customer's rewards to a wallet, GET /rewards/{wallet}
 * (a wallet's balance, read from the chain), POST /reward/relay (a customer's transfer or burn of the reward token,
 * its fee paid by the treasury; relay.ts decides what is relayed) with GET /reward/relay (what is), the `mints`
 * schedule, which finishes the mints the workflow left unconfirmed and publishes the oldest one's age, and the
 * `reward-events` schedule, the rewards outbox's sweep (outbox.ts).
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { z } from 'zod';
import { RELAY_INSTRUCTIONS, RELAY_LIMITS, RelayRequest, RewardRequest, RewardWalletPath } from '../../contracts/api';
import { RelayNotConfiguredError, RewardsNotMintedError, TransientError } from '../../contracts/errors';
import { METRICS } from '../../contracts/resources';
import type { StepHandlers } from '../../contracts/steps';
import { formatTokens } from '../../contracts/money';
import { isScheduledInvocation } from '../../contracts/topology';
import { eventBridgePublisher } from '../shared/bus';
import { documentClientOf, eventBridgeClient } from '../shared/clients';
import { config } from '../shared/config';
import { apiRoute, isApiGatewayEvent, parseApiBody, parseWith } from '../shared/http';
import { instrumented, logger, metrics } from '../shared/powertools';
import { secretString } from '../shared/secrets';
import { runStep } from '../shared/steps';
import { paymentLookup } from '../payments/lookup';
import { adjustForRefund } from './refunds';
import { assertRewardable, claimRewards, claimView, issueReward, rewardView, type RewardDeps } from './rewards';
import { DynamoRewardLedger } from './ledger';
import { MintFailedError, mintOnce, sweepBatch, type MintDeps } from './mint';
import { announce, announcePending, type RewardOutboxDeps } from './outbox';
import { relayTransaction } from './relay';
import { stageMinting, type StageMinting } from './solana';

/** Rewards the sweep mints a run (of the oldest SWEEP_CANDIDATES: mint.ts sweepBatch), and how many at once. */
const SWEEP_LIMIT = 50;
const SWEEP_CANDIDATES = 500;
const SWEEP_CONCURRENCY = 4;
/** How long POST /reward waits for a claim's mint to finalize (API Gateway answers within 29 s). */
const API_CONFIRM_MS = 5_000;

let deps: (RewardDeps & { ledger: DynamoRewardLedger }) | undefined;
function dependencies(): RewardDeps & { ledger: DynamoRewardLedger } {
  if (!deps) {
    const cfg = config();
    deps = {
      ledger: new DynamoRewardLedger(documentClientOf(), cfg.tables.rewards),
      decimals: cfg.rewardTokenDecimals,
      usdRates: cfg.rewardUsdRates,
      tokenMint: cfg.solana.tokenMint,
      // The mint's address is configuration: known even when the keys (the authority's, the treasury's) are not.
      ownAccount: (wallet) => ownAccounts?.get(wallet) ?? (wallet === cfg.solana.tokenMint ? 'the reward token mint' : undefined),
      now: () => new Date(),
    };
  }
  return deps;
}

/** The stage's own accounts (rewards.ts RewardDeps.ownAccount), read with its minting keys. */
let ownAccounts: ReadonlyMap<string, string> | undefined;
/**
 * Reads them once, where a wallet is about to be given a reward: only a stage that mints has any. Recording a
 * reward does not wait on the keys: when they cannot be read now (`required` false), the reward is recorded with
 * the mint address alone checked (it is configuration), and the keys are read again next time; a claim, which
 * mints at once, needs them (503 until they can be read).
 */
async function knowOwnAccounts(wallet: string | undefined, required = false): Promise<void> {
  const { tokenMint } = config().solana;
  if (wallet === undefined || ownAccounts !== undefined || tokenMint === undefined) return;
  try {
    ownAccounts = (await stageMintingOnce())?.ownAccounts ?? new Map();
  } catch (error) {
    if (required) throw error;
    logger.warn("the reward token's keys could not be read: the wallet is checked against the mint address alone", { error: (error as Error)?.message ?? String(error) });
  }
}

let outbox: RewardOutboxDeps | undefined;
function outboxDeps(): RewardOutboxDeps {
  outbox ??= { ledger: dependencies().ledger, publisher: eventBridgePublisher(eventBridgeClient, () => config().eventBusName) };
  return outbox;
}

/**
 * Publishes the changes just recorded on these rewards or claims (analytics sees them at once). Not fatal: what is
 * not published now stays marked, and the `reward-events` schedule publishes it.
 */
async function announceNow(...ids: string[]): Promise<void> {
  try {
    await announce(ids, outboxDeps());
  } catch (error) {
    logger.warn('reward changes not published now; the reward-events schedule publishes them', { ids: ids.slice(0, 5), error: (error as Error)?.message ?? String(error) });
  }
}

let minting: Promise<StageMinting | undefined> | undefined;
/**
 * The stage's minting (its cluster, its signed builder), made once; undefined on a stage that mints nothing. Keys
 * that cannot be read (Secrets Manager unreachable, or a secret that is not a keypair: the log says which) are a
 * TransientError: an API call answers 503, and the workflow's retries and the mints schedule try again, so minting
 * resumes once an operator has fixed the secret (the unminted-age alarm fires meanwhile).
 */
function stageMintingOnce(): Promise<StageMinting | undefined> {
  const cfg = config();
  minting ??= stageMinting(cfg.solana, cfg.rewardTokenDecimals, secretString).catch((error: unknown) => {
    minting = undefined; // a secret that could not be read is read again next time
    // The messages name secrets by ARN, never their values.
    logger.error('the reward token\'s keys could not be read', { error: (error as Error)?.message ?? String(error) });
    throw new TransientError('the reward token\'s keys could not be read just now; ask again');
  });
  return minting;
}

/**
 * The mint protocol's dependencies, confirming for at most `waitMs` (the stage's MINT_CONFIRM_TIMEOUT_MS when
 * shorter); undefined on a stage that mints nothing.
 */
async function mintDeps(waitMs = Infinity): Promise<MintDeps | undefined> {
  const stage = await stageMintingOnce();
  return stage && { ...stage, ledger: dependencies().ledger, now: () => new Date(), confirmTimeoutMs: Math.min(waitMs, config().solana.confirmTimeoutMs) };
}

/** Mints the reward (or claim) `paymentId` exactly once; counts what finally failed. False: nothing was owed (reversed). */
async function mint(paymentId: string, waitMs?: number): Promise<boolean> {
  const d = await mintDeps(waitMs);
  if (!d) throw new Error('this stage has no reward token (SPL_TOKEN_MINT_ADDRESS): nothing can be minted');
  try {
    // Undefined: a refund reversed it before any transaction; nothing was owed.
    if ((await mintOnce(paymentId, d)) === undefined) return false;
    metrics.addMetric(METRICS.rewardMinted, 'Count', 1);
    await announceNow(paymentId);
    return true;
  } catch (error) {
    if (error instanceof MintFailedError) {
      metrics.addMetric(METRICS.rewardMintFailed, 'Count', 1);
      // The failure is on the reward (chain.state `failed`) and in its changes: published now, as a mint is.
      if (error.transaction) await announceNow(paymentId);
      throw error;
    }
    // A store or RPC call that failed or timed out: the recorded attempt decides on the next try.
    if (error instanceof TransientError) throw error;
    throw new TransientError(`reward ${paymentId}: ${(error as Error)?.message ?? String(error)}; it is tried again`);
  }
}

async function onApi(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  if (event.resource === '/reward/relay') return onRelay(event);
  if (event.httpMethod === 'GET') return onBalance(event);
  return apiRoute(event, async (merchantId) => {
    const request = parseApiBody(event, RewardRequest);
    const d = dependencies();
    if (request.paymentId === undefined) {
      // A claim: {customerId, wallet} (the schema requires both without a paymentId).
      await knowOwnAccounts(request.wallet, true);
      const { claim, created } = await claimRewards({ merchantId, customerId: request.customerId!, wallet: request.wallet! }, d);
      if (created && claim.unminted !== undefined) await mintNow(claim.paymentId);
      const current = (await d.ledger.claim(claim.paymentId)) ?? claim;
      return { status: created ? 201 : 200, body: { claim: claimView(current, d.tokenMint) } };
    }
    const { paymentId } = request;
    const payment = await paymentLookup().get(merchantId, paymentId);
    assertRewardable(merchantId, payment, paymentId);
    await knowOwnAccounts(payment.rewardWallet);
    const { entry, created } = await issueReward(payment, d);
    if (created) metrics.addMetric(entry.status === 'error' ? METRICS.rewardNotComputed : METRICS.rewardIssued, 'Count', 1);
    if (created) await announceNow(paymentId);
    return { status: created ? 201 : 200, body: { reward: rewardView(entry, d.tokenMint) } };
  });
}

/** GET /rewards/{wallet}: the wallet's balance of the reward token, read from the chain. */
async function onBalance(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  return apiRoute(event, async () => {
    // A malformed wallet is a 400 naming `path.wallet`.
    const { path } = parseWith(z.object({ path: RewardWalletPath }), { path: { wallet: event.pathParameters?.wallet } }, 'path');
    const cfg = config();
    const stage = await stageMintingOnce();
    if (!stage || cfg.solana.tokenMint === undefined) throw new RewardsNotMintedError('this stage mints no reward token (SPL_TOKEN_MINT_ADDRESS is not set): rewards are recorded, not minted');
    let read: { recipient: string; tokens: bigint };
    try {
      read = await stage.balance(path.wallet);
    } catch (error) {
      // The detail stays in the log: an RPC's error text is not the caller's (and may name the provider's URL).
      logger.warn('could not read a reward balance from the cluster', { error: (error as Error)?.message ?? String(error) });
      throw new TransientError('the Solana cluster did not answer; ask again');
    }
    const { rewardTokenDecimals: decimals } = cfg;
    return {
      status: 200,
      body: { balance: { wallet: path.wallet, tokenMint: cfg.solana.tokenMint, recipient: read.recipient, tokens: read.tokens.toString(), tokensDisplay: formatTokens(read.tokens, decimals), decimals } },
    };
  });
}

/** The stage's relay: its treasury, its policy, its cluster; a 409 on a stage that sponsors nothing. */
async function stageRelay() {
  const stage = await stageMintingOnce();
  if (!stage) throw new RelayNotConfiguredError('this stage mints no reward token (SPL_TOKEN_MINT_ADDRESS is not set): there is nothing to relay');
  if (!stage.relay) throw new RelayNotConfiguredError('this stage has no treasury (SOLANA_TREASURY_SECRET_ARN is not set): it sponsors no fees');
  return { ...stage.relay, chain: stage.chain };
}

/** GET /reward/relay: what the relay co-signs; POST /reward/relay: relay one transaction. */
async function onRelay(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  return apiRoute(event, async (merchantId) => {
    if (event.httpMethod === 'GET') {
      const { policy } = await stageRelay();
      return {
        status: 200,
        body: {
          relay: {
            feePayer: policy.treasury.toBase58(),
            tokenMint: policy.mint.toBase58(),
            tokenProgram: policy.programId.toBase58(),
            decimals: policy.decimals,
            instructions: [...RELAY_INSTRUCTIONS],
            limits: { ...RELAY_LIMITS },
          },
        },
      };
    }
    const request = parseApiBody(event, RelayRequest);
    const relay = await stageRelay();
    const day = dependencies().now().toISOString().slice(0, 10);
    const outcome = await relayTransaction(Buffer.from(request.transaction, 'base64'), {
      ...relay,
      confirmTimeoutMs: API_CONFIRM_MS,
      takeBudget: () => dependencies().ledger.takeRelay(merchantId, day, config().solana.relayDailyLimit),
    });
    metrics.addMetric(METRICS.rewardRelayed, 'Count', 1);
    logger.info('relayed a transaction', { merchantId, signature: outcome.signature, instructions: outcome.instructions, state: outcome.state });
    const { signature, state, feeLamports, unitsConsumed } = outcome;
    return { status: 200, body: { relay: { signature, state, feePayer: relay.policy.treasury.toBase58(), feeLamports, unitsConsumed } } };
  });
}

/**
 * A claim's mint within the API call, waiting at most API_CONFIRM_MS for it: not done by then, it stays pending
 * (on record as unminted) and the mints schedule finishes it; a failure is the schedule's to retry too.
 */
async function mintNow(id: string): Promise<void> {
  try {
    await mint(id, API_CONFIRM_MS);
  } catch (error) {
    logger.warn('claim mint not finished in the request; the mints schedule finishes it', { claimId: id, error: (error as Error)?.message ?? String(error) });
  }
}

/**
 * The `mints` schedule: each reward whose mint is still owed a while after it was recorded is minted (or found
 * minted) now; one that fails is left for the next run and counted. Publishes the oldest one's age, which the
 * construct alarms on.
 */
async function onMintSweep() {
  const d = dependencies();
  const now = d.now();
  // A reward still unminted a while after it was recorded (MINT_SWEEP_AFTER_MS) is the sweep's: the workflow had its chance.
  const { paymentIds: candidates, oldest } = await d.ledger.unminted(new Date(now.getTime() - config().solana.sweepAfterMs).toISOString(), SWEEP_CANDIDATES);
  // The oldest, and a window of the rest that moves on each minute: failing ones cannot starve the newer for good.
  const paymentIds = sweepBatch(candidates, SWEEP_LIMIT, Math.floor(now.getTime() / 60_000));
  metrics.addMetric(METRICS.oldestUnmintedRewardAge, 'Seconds', oldest ? Math.max(0, (now.getTime() - Date.parse(oldest)) / 1000) : 0);
  let minted = 0;
  let failed = 0;
  let next = 0;
  await Promise.all(
    Array.from({ length: SWEEP_CONCURRENCY }, async () => {
      while (next < paymentIds.length) {
        const paymentId = paymentIds[next++];
        try {
          if (await mint(paymentId)) minted += 1;
        } catch (error) {
          failed += 1;
          logger.warn('reward mint not finished; the next sweep tries again', { paymentId, error: (error as Error)?.message ?? String(error) });
        }
      }
    }),
  );
  return { found: candidates.length, tried: paymentIds.length, minted, failed, oldest: oldest ?? null };
}

/** The reward workflow's steps (statemachines/reward.asl.json: IssueReward, MintReward; AdjustReward on a refund). */
export const steps: StepHandlers<'rewards'> = {
  issue: async (input) => {
    const d = dependencies();
    await knowOwnAccounts(input.payment.rewardWallet);
    const { entry, created } = await issueReward(input.payment, d);
    if (created) metrics.addMetric(entry.status === 'error' ? METRICS.rewardNotComputed : METRICS.rewardIssued, 'Count', 1);
    // Published by whichever run finds it marked (this one, or a retry of one that stopped before publishing).
    if (entry.unannounced !== undefined) await announceNow(entry.paymentId);
    return rewardView(entry, d.tokenMint);
  },
  refund: async (input) => {
    const d = dependencies();
    await knowOwnAccounts(input.refund.rewardWallet);
    const { entry, change } = await adjustForRefund(input.refund, d);
    if (change === 'clawed_back') metrics.addMetric(METRICS.rewardClawedBack, 'Count', 1);
    await announceNow(entry.paymentId);
    if (change === 'kept') metrics.addMetric(METRICS.rewardKeptAfterRefund, 'Count', 1);
    return rewardView(entry, d.tokenMint);
  },
  mint: async (input) => {
    await mint(input.paymentId);
    const stored = await dependencies().ledger.get(input.paymentId);
    if (!stored) throw new Error(`reward ${input.paymentId} vanished after its mint`);
    return rewardView(stored, dependencies().tokenMint);
  },
};

/** The `reward-events` schedule: the changes still unpublished (their publication right after the change failed). */
async function onRewardEvents() {
  const published = await announcePending(outboxDeps());
  if (published > 0) metrics.addMetric(METRICS.rewardEventsPublished, 'Count', published);
  return { published };
}

export const handler = instrumented<unknown>('rewards', (event) => {
  if (isApiGatewayEvent(event)) return onApi(event);
  if (isScheduledInvocation(event, 'mints')) return onMintSweep();
  if (isScheduledInvocation(event, 'reward-events')) return onRewardEvents();
  return runStep('rewards', steps, event);
});
