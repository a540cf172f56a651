/**
 * The claims of POST /pay's Idempotency-Keys. A claim is one item in the idempotency table, written by one
 * conditional put when the key is first seen, and it fixes the payment's id and creation time there and then:
 * every later run of the key (a retry after a crash, a timeout, an abort) finds the same payment id, so its
 * gateway keys (payment id + attempt) are the same and the gateway answers them with their first result.
 *
 * A claim in progress holds a lease (`leaseUntil`). A run that finds the lease expired takes it over with a
 * conditional update (one winner) and resumes the payment; while the lease holds, the key answers 409. A
 * completed claim replays its stored response for 24 hours; the same key with another body is a 422.
 *
 * Why not Powertools idempotency's persistence layer, which this replaced: its in-progress record carries no
 * data, so it cannot fix the payment id at the first claim, and an expired in-progress record is simply
 * overwritten by the next call, which then starts from scratch under a new payment id: the double charge
 * after a crash of issue 11 (reproduction 2). The item keeps Powertools' attribute names (`id`, `status`,
 * `expiration`, `data`, `validation`) so the table, its TTL and its dashboards stay as they were.
 */
import { createHash } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { IdempotencyConflictError, IdempotencyInProgressError } from '../../contracts/errors';
import type { PaymentRequest } from '../../contracts/api';
import type { StoredResponse } from '../../contracts/steps';

export interface IdempotencyData {
  readonly merchantId: string;
  readonly idempotencyKey: string;
  readonly request: PaymentRequest;
}

/** A key as the reconciler knows it (from the payment record, without the request). */
export type KeyRef = Pick<IdempotencyData, 'merchantId' | 'idempotencyKey'>;

export type { StoredResponse };

export function httpResponse(status: number, body: unknown): StoredResponse {
  return { status, body: JSON.stringify(body) };
}

/** The payment a claim fixed: its id and creation time. */
export interface ClaimedPayment {
  readonly paymentId: string;
  readonly createdAt: string;
}

export type ClaimResult =
  /**
   * `resumed`: an earlier run of this key stopped and its lease expired; this run takes over its payment. `run`:
   * which run of the claim this is (1 for the first claim), the fence of `release` and `expireLease`.
   */
  | ({ readonly kind: 'claimed'; readonly resumed: boolean; readonly run: number } & ClaimedPayment)
  | { readonly kind: 'replay'; readonly response: StoredResponse };

/** The port the payment steps and the reconciler use. */
export interface IdempotencyPort {
  /**
   * Claims the key for this request with `fresh` as its payment (a first claim), takes over an expired lease
   * (the earlier run's payment), or returns the stored response; throws on a conflict or while the lease holds.
   */
  claim(data: IdempotencyData, fresh: ClaimedPayment, now: Date): Promise<ClaimResult>;
  /** Takes over the expired lease of a claim in progress (the reconciler); false while another run holds it. */
  takeOver(key: KeyRef, now: Date): Promise<boolean>;
  /** Stores the response the key replays from now on. */
  complete(key: KeyRef, response: StoredResponse): Promise<void>;
  /**
   * Ends run `run`'s lease now, so the next request with the key resumes at once (money may have moved); nothing
   * if another run took the claim over meanwhile.
   */
  expireLease(key: KeyRef, run: number): Promise<void>;
  /**
   * Forgets this payment's claim (nothing was recorded, nothing can have moved) while run `run` still holds it;
   * never a completed one, nor one a later run took over (it may be charging).
   */
  release(key: KeyRef, paymentId: string, run: number): Promise<void>;
  /**
   * What the key's claim says now, whatever run holds it: its payment and, once completed, the answer it replays;
   * undefined when the key was never claimed (or the claim expired).
   */
  find(key: KeyRef, now: Date): Promise<{ readonly paymentId: string; readonly response?: StoredResponse } | undefined>;
  /** How long a claim's lease holds (ms). */
  readonly leaseMs: number;
}

/**
 * How long a claim's lease holds by default (PAYMENT_LEASE_MS): past the last moment a run's Lambda can still
 * write. Step Functions does not stop a running Task at the workflow's 25 s timeout, and the payments function
 * may run 15 s more: 25 + 15 = 40 s, plus a margin.
 */
export const IN_FLIGHT_MS = 45_000;
/** How long a completed response is replayed (and a claim kept). */
export const REPLAY_SECONDS = 24 * 60 * 60;

const IN_PROGRESS = 'INPROGRESS';
const COMPLETED = 'COMPLETED';

/** The condition that the claim is still run `run`'s (`:run`); a claim written before runs were counted is run 1's. */
function runIs(run: number): string {
  return run === 1 ? '(attribute_not_exists(runs) OR runs = :run)' : 'runs = :run';
}

interface ClaimItem {
  readonly id: string;
  readonly status: string;
  readonly paymentId: string;
  readonly createdAt: string;
  readonly validation: string;
  readonly leaseUntil?: number;
  readonly runs?: number;
  readonly expiration: number;
  readonly data?: StoredResponse;
}

/** The claim's id: the merchant and the key (hashed: a key is up to 255 characters of the client's choosing). */
export function claimId(key: KeyRef): string {
  return `pay#${createHash('sha256').update(`${key.merchantId}\u0000${key.idempotencyKey}`).digest('hex')}`;
}

/** JSON with object keys sorted, so the same request hashes the same whatever its key order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function requestHash(request: PaymentRequest): string {
  return createHash('sha256').update(canonical(request)).digest('hex');
}

export class DynamoIdempotency implements IdempotencyPort {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    readonly leaseMs: number = IN_FLIGHT_MS,
  ) {}

  async claim(data: IdempotencyData, fresh: ClaimedPayment, now: Date): Promise<ClaimResult> {
    const id = claimId(data);
    const validation = requestHash(data.request);
    const nowMs = now.getTime();
    const item: ClaimItem = {
      id,
      status: IN_PROGRESS,
      ...fresh,
      validation,
      leaseUntil: nowMs + this.leaseMs,
      runs: 1,
      expiration: Math.floor(nowMs / 1000) + REPLAY_SECONDS,
    };
    try {
      // A claim past its expiration (TTL deletes lazily, dynalite never) counts as absent.
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression: 'attribute_not_exists(id) OR expiration < :nowSeconds',
          ExpressionAttributeValues: { ':nowSeconds': Math.floor(nowMs / 1000) },
        }),
      );
      return { kind: 'claimed', resumed: false, run: 1, ...fresh };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
    const existing = await this.get(id);
    if (!existing) throw new IdempotencyInProgressError(this.inProgressMessage(data));
    if (existing.validation !== validation) {
      throw new IdempotencyConflictError(
        `Idempotency-Key "${data.idempotencyKey}" was already used with a different request body; use a new key for a new payment`,
      );
    }
    if (existing.status === COMPLETED && existing.data) return { kind: 'replay', response: existing.data };
    const run = (existing.leaseUntil ?? 0) > nowMs ? undefined : await this.extendLease(existing, nowMs);
    if (run === undefined) throw new IdempotencyInProgressError(this.inProgressMessage(data), { paymentId: existing.paymentId });
    return { kind: 'claimed', resumed: true, run, paymentId: existing.paymentId, createdAt: existing.createdAt };
  }

  async takeOver(key: KeyRef, now: Date): Promise<boolean> {
    const existing = await this.get(claimId(key));
    if (!existing || existing.status !== IN_PROGRESS || (existing.leaseUntil ?? 0) > now.getTime()) return false;
    return (await this.extendLease(existing, now.getTime())) !== undefined;
  }

  async complete(key: KeyRef, response: StoredResponse): Promise<void> {
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { id: claimId(key) },
        UpdateExpression: 'SET #status = :completed, #data = :response REMOVE leaseUntil',
        ExpressionAttributeNames: { '#status': 'status', '#data': 'data' },
        ExpressionAttributeValues: { ':completed': COMPLETED, ':response': response },
      }),
    );
  }

  async expireLease(key: KeyRef, run: number): Promise<void> {
    await this.ifInProgress(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { id: claimId(key) },
        UpdateExpression: 'SET leaseUntil = :zero',
        ConditionExpression: `#status = :inProgress AND ${runIs(run)}`,
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':zero': 0, ':inProgress': IN_PROGRESS, ':run': run },
      }),
    );
  }

  async release(key: KeyRef, paymentId: string, run: number): Promise<void> {
    await this.ifInProgress(
      new DeleteCommand({
        TableName: this.tableName,
        Key: { id: claimId(key) },
        // Only this payment's claim, while this run holds it: never another payment's that took the key
        // meanwhile, nor a later run's that took this one over (it may be charging).
        ConditionExpression: `#status = :inProgress AND paymentId = :paymentId AND ${runIs(run)}`,
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':inProgress': IN_PROGRESS, ':paymentId': paymentId, ':run': run },
      }),
    );
  }

  private inProgressMessage(data: KeyRef): string {
    return `a request with Idempotency-Key "${data.idempotencyKey}" is still being processed; retry after it completes`;
  }

  async find(key: KeyRef, now: Date): Promise<{ paymentId: string; response?: StoredResponse } | undefined> {
    const existing = await this.get(claimId(key));
    if (!existing || existing.expiration < Math.floor(now.getTime() / 1000)) return undefined;
    return { paymentId: existing.paymentId, ...(existing.status === COMPLETED && existing.data ? { response: existing.data } : {}) };
  }

  private async get(id: string): Promise<ClaimItem | undefined> {
    const result = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { id }, ConsistentRead: true }));
    return result.Item as ClaimItem | undefined;
  }

  /**
   * One winner among the runs that found the lease expired: the one whose update still sees the old lease. Its
   * run number, or undefined for the others.
   */
  private async extendLease(existing: ClaimItem, nowMs: number): Promise<number | undefined> {
    try {
      const result = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id: existing.id },
          // A taken-over claim lives another REPLAY_SECONDS (its TTL), so a long-unfinished payment keeps its key.
          // A claim written before runs were counted is run 1's: its first takeover is run 2.
          UpdateExpression: 'SET leaseUntil = :lease, runs = if_not_exists(runs, :one) + :one, expiration = :expiration',
          ConditionExpression: '#status = :inProgress AND (attribute_not_exists(leaseUntil) OR leaseUntil = :seen)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':lease': nowMs + this.leaseMs,
            ':expiration': Math.floor(nowMs / 1000) + REPLAY_SECONDS,
            ':one': 1,
            ':inProgress': IN_PROGRESS,
            ':seen': existing.leaseUntil ?? 0,
          },
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      const run = (result.Attributes as Pick<ClaimItem, 'runs'> | undefined)?.runs;
      if (typeof run !== 'number') throw new Error(`the claim ${existing.id} was taken over without its run number`);
      return run;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }

  private async ifInProgress(command: UpdateCommand | DeleteCommand): Promise<void> {
    try {
      await this.client.send(command as never);
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      // completed or gone: nothing to do
    }
  }
}
