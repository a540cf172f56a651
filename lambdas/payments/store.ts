/**
 * The payment store port and its DynamoDB adapter (dynalite locally). One item per payment, attempts
 * inside it, every write a single-item update (no transactions: dynalite has none).
 *
 * The writes of a payment, in order: the intent (the whole record with its plan and the attempt about to be
 * made, before any gateway call: a body that cannot be recorded never reaches a gateway), a failed attempt's
 * outcome, and the terminal write, which also carries the payment's events (the outbox) in the same item.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { CardSummary, NextAction, PendingAttempt, RouteResult } from '../../contracts/api';
import { scanPage } from '../shared/scan';
import { INDEX_SHARDS, shardOf } from '../../contracts/resources';
import type { AttemptRecord, FraudAssessment, PaymentDraft, PaymentRecord, PaymentStatus } from './model';
import { methodSummary, type StoredPendingAttempt, type StoredRefund, type StoredSucceeded } from './model';

/** The condition that a payment's refund version is still `version` (absent counts as 0); adds its value. */
function versionCondition(version: number, values: Record<string, unknown>): { ConditionExpression: string } {
  if (version === 0) return { ConditionExpression: 'attribute_not_exists(refundVersion)' };
  values[':version'] = version;
  return { ConditionExpression: 'refundVersion = :version' };
}

/** `SET #field = :field` for each field that is defined, with its name and value. */
function setFields(fields: Record<string, unknown>, sets: string[], names: Record<string, string>, values: Record<string, unknown>): void {
  for (const [field, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    sets.push(`#${field} = :${field}`);
    names[`#${field}`] = field;
    values[`:${field}`] = value;
  }
}

/**
 * A description's words as `GET /payments?q=` finds them: letters and digits, lower case (NFKC), each once, the
 * first MAX_DESCRIPTION_WORDS. Kept on the payment as a string set (`searchWords`), written with the description.
 */
export function searchWords(text: string): string[] {
  return [...new Set(text.normalize('NFKC').toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [])].slice(0, MAX_DESCRIPTION_WORDS);
}
const MAX_DESCRIPTION_WORDS = 100;
/** The words of a query that must all be in a description (the rest of a longer query is ignored). */
const MAX_QUERY_WORDS = 10;

/** A payment of the sparse indexes: its key. */
export interface PaymentKey {
  readonly merchantId: string;
  readonly paymentId: string;
}

/** Another run finished the payment first: this run must not charge. */
export class PaymentFinishedError extends Error {
  constructor(paymentId: string) {
    super(`payment ${paymentId} is already finished; this run stops without charging`);
    this.name = 'PaymentFinishedError';
  }
}

/** A recorded payment as the reconciler finishes it: the record already holds the request's fields. */
export interface FinishedKey extends PaymentKey {
  readonly idempotencyKey: string;
}

export interface Intent {
  /** The raw card's keyed fingerprint (fingerprint.ts), kept with its summary. */
  readonly cardFingerprint?: string;
  readonly plan: RouteResult;
  readonly fraud?: FraudAssessment;
  readonly pending: StoredPendingAttempt;
}

export interface TerminalUpdate {
  readonly status: Exclude<PaymentStatus, 'processing'>;
  readonly code?: string;
  readonly connectorId?: string;
  readonly feeMinor?: number;
  readonly fraud?: FraudAssessment;
  /** The successful attempt, appended in the same write. */
  readonly attempt?: AttemptRecord;
  /** Why the reconciler, not the workflow, ended it. */
  readonly reason?: string;
  /** The card as the gateway charged it (a tokenised card's summary, which the intent could not know). */
  readonly card?: CardSummary;
  /** A raw card's keyed fingerprint, for a payment first written here (it never reached a gateway). */
  readonly cardFingerprint?: string;
  /** A succeeded payment's event, written to the outbox with the terminal status: what it carries beyond the record. */
  readonly event?: StoredSucceeded;
  readonly at: string;
}

/** The refund fields of a payment as read: what each refund write is conditional on. */
export interface RefundState {
  readonly refundVersion: number;
  readonly refundReserved: number;
  readonly refundedAmount: number;
}

export type RefundSettlement =
  | { readonly status: 'succeeded'; readonly gatewayReference: string; readonly amount: number; readonly at: string }
  | { readonly status: 'failed'; readonly code: string; readonly amount: number; readonly at: string; readonly gatewayReference?: string };

export interface PaymentStore {
  /**
   * Records the payment (status processing) with its plan and the attempt about to be made, before its
   * gateway call; throws PaymentFinishedError when the payment is already terminal.
   */
  recordIntent(draft: PaymentDraft, intent: Intent): Promise<void>;
  /**
   * Parks a processing payment whose attempt awaits the customer's action: `pending_action`, with the action and
   * the attempt (its gateway reference) pending; the record as it is after (or as another run left it).
   */
  awaitAction(payment: PaymentKey, pending: PendingAttempt, action: NextAction): Promise<PaymentRecord>;
  /** Appends a failed attempt's outcome and clears the pending attempt. */
  recordAttempt(payment: PaymentKey, attempt: AttemptRecord): Promise<void>;
  /**
   * Sets the terminal status once (with the request's fields from a draft; a FinishedKey finishes a payment
   * already recorded); a repeated call returns the record as first finalized.
   */
  finalize(draft: PaymentDraft | FinishedKey, update: TerminalUpdate): Promise<PaymentRecord>;
  get(merchantId: string, paymentId: string): Promise<PaymentRecord | undefined>;
  /** Payments still processing whose last write is older than `before`, oldest first, at most `limit`. */
  listUnfinished(before: Date, limit: number): Promise<PaymentKey[]>;
  /** Terminal payments whose events the local platform has not published yet, at most `limit`. */
  listUnpublished(limit: number): Promise<PaymentKey[]>;
  /**
   * Marks a payment's outbox as published (after the bus took its events): its own events, and the refunds at
   * `refunds` (their indexes). The mark is cleared only if no refund write came since `refundVersion` was read.
   */
  markPublished(key: PaymentKey, published?: { readonly refunds: readonly number[]; readonly refundVersion: number }): Promise<void>;
  /**
   * Appends a pending refund to a succeeded payment and reserves its amount, if no refund write came since
   * `refundVersion` was read (false: read again). The payment joins the `unfinished` index until it settles.
   */
  reserveRefund(key: PaymentKey, refund: StoredRefund, seen: RefundState, at: string): Promise<boolean>;
  /**
   * Settles the pending refund at `index`: succeeded (the refunded total moves, and its event goes to the outbox)
   * or failed (its amount is released). Conditional on `seen` as `reserveRefund`; false: read again.
   */
  settleRefund(key: PaymentKey, index: number, outcome: RefundSettlement, seen: RefundState & { readonly pendingAfter: number }): Promise<boolean>;
  /** One page of every payment (a table scan of up to `limit` items from `cursor`), and the next page's cursor. */
  scan(cursor: string | undefined, limit: number): Promise<{ items: PaymentRecord[]; cursor?: string }>;
  /** One merchant's payments, newest first, that match `filter`: at most `limit`, after the payment `after`. */
  list(merchantId: string, filter: PaymentFilter, limit: number, after?: string): Promise<{ items: PaymentRecord[]; next?: string }>;
}

/** What `list` selects on: the creation window as a payment-id range, and the fields that must match. */
export interface PaymentFilter {
  readonly low?: string;
  readonly high?: string;
  readonly status?: string;
  readonly connectorId?: string;
  readonly currency?: string;
  readonly customerId?: string;
  /** A customer id's beginning, a card's last 4 digits, or words of the description. */
  readonly text?: string;
}

/** Items a list reads (before its filter) at most, so a rare match in a long history cannot make one call slow. */
const LIST_READ_BUDGET = 2_000;

export class DynamoPaymentStore implements PaymentStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /**
   * The attributes every write sets: the names (`#method` is `card` or `wallet`, where the payment method's
   * summary is kept) and the values.
   */
  private base(draft: PaymentDraft, at: string, fingerprint?: string): { names: Record<string, string>; values: Record<string, unknown> } {
    const { request } = draft;
    const [[method, summary]] = Object.entries(methodSummary(request, fingerprint));
    return {
      names: { '#method': method },
      values: {
        ':amount': request.amount,
        ':currency': request.currency,
        ':customerId': request.customerId,
        ':method': summary,
        ':createdAt': draft.createdAt,
        ':updatedAt': at,
        ':empty': [],
      },
    };
  }

  /** The fields of the request (and its key) that a payment keeps when they are present. */
  private requestFields(draft: PaymentDraft): Record<string, unknown> {
    const { country, ipCountry, description, metadata, rewardWallet } = draft.request;
    const words = description === undefined ? [] : searchWords(description);
    return { country, ipCountry, description, searchWords: words.length ? new Set(words) : undefined, metadata, rewardWallet, idempotencyKey: draft.idempotencyKey };
  }

  async recordIntent(draft: PaymentDraft, intent: Intent): Promise<void> {
    const base = this.base(draft, intent.pending.at, intent.cardFingerprint);
    const names: Record<string, string> = { '#status': 'status', ...base.names };
    const values: Record<string, unknown> = {
      ...base.values,
      ':processing': 'processing',
      ':unfinished': shardOf(draft.paymentId),
    };
    const sets = [
      '#status = :processing', 'amount = :amount', 'currency = :currency', 'customerId = :customerId', '#method = :method',
      'createdAt = if_not_exists(createdAt, :createdAt)', 'updatedAt = :updatedAt', 'unfinished = :unfinished',
      'attempts = if_not_exists(attempts, :empty)',
    ];
    setFields({ ...this.requestFields(draft), plan: intent.plan, fraud: intent.fraud, pendingAttempt: intent.pending }, sets, names, values);
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { merchantId: draft.merchantId, paymentId: draft.paymentId },
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: 'attribute_not_exists(#status) OR #status = :processing',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw new PaymentFinishedError(draft.paymentId);
      throw error;
    }
  }

  async awaitAction(payment: PaymentKey, pending: PendingAttempt, action: NextAction): Promise<PaymentRecord> {
    try {
      const result = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { merchantId: payment.merchantId, paymentId: payment.paymentId },
          UpdateExpression: 'SET #status = :pendingAction, #action = :action, pendingAttempt = :pending, updatedAt = :at',
          ConditionExpression: '#status = :processing',
          ExpressionAttributeNames: { '#status': 'status', '#action': 'action' },
          ExpressionAttributeValues: { ':pendingAction': 'pending_action', ':processing': 'processing', ':action': action, ':pending': pending, ':at': pending.at },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return result.Attributes as PaymentRecord;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const existing = await this.get(payment.merchantId, payment.paymentId);
      if (!existing) throw error;
      return existing;
    }
  }

  async recordAttempt(draft: PaymentKey, attempt: AttemptRecord): Promise<void> {
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { merchantId: draft.merchantId, paymentId: draft.paymentId },
        UpdateExpression: 'SET updatedAt = :updatedAt, attempts = list_append(if_not_exists(attempts, :empty), :attempt) REMOVE pendingAttempt',
        ConditionExpression: '#status = :processing',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':updatedAt': attempt.at, ':empty': [], ':attempt': [attempt], ':processing': 'processing' },
      }),
    );
  }

  async finalize(draft: PaymentDraft | FinishedKey, update: TerminalUpdate): Promise<PaymentRecord> {
    const names: Record<string, string> = { '#status': 'status', '#action': 'action' };
    const values: Record<string, unknown> = {
      ':status': update.status,
      ':processing': 'processing',
      ':updatedAt': update.at,
      ':finalizedAt': update.at,
      ':empty': [],
      ':newAttempts': update.attempt ? [update.attempt] : [],
    };
    const sets = ['#status = :status', 'updatedAt = :updatedAt', 'finalizedAt = :finalizedAt', 'attempts = list_append(if_not_exists(attempts, :empty), :newAttempts)'];
    // The events go out with the terminal state, in the same write (the outbox): the stream publishes them
    // in the cloud, the local drain from the `outbox` index (`unpublished`).
    const outbox = update.event ? { PaymentSucceeded: update.event } : undefined;
    const terminal: Record<string, unknown> = {
      code: update.code,
      connectorId: update.connectorId,
      feeMinor: update.feeMinor,
      fraud: update.fraud,
      reason: update.reason,
      outbox,
      // Every terminal write is marked: its events (if any) are derived from the record when published.
      unpublished: shardOf(draft.paymentId),
    };
    // A payment awaiting its customer's action is settled from it too.
    values[':pendingAction'] = 'pending_action';
    let condition = '#status IN (:processing, :pendingAction)';
    let fields = terminal;
    if ('request' in draft) {
      // A payment that never reached a gateway (fraud, no connector) is first written here, whole.
      const base = this.base(draft, update.at, update.cardFingerprint);
      Object.assign(names, base.names);
      Object.assign(values, base.values);
      sets.push('amount = :amount', 'currency = :currency', 'customerId = :customerId', '#method = :method', 'createdAt = if_not_exists(createdAt, :createdAt)');
      fields = { ...this.requestFields(draft), ...terminal };
      condition = 'attribute_not_exists(#status) OR #status = :processing';
      delete values[':pendingAction'];
      // The method's summary is set with the request's fields: the gateway's card completes it there.
      if (update.card && base.names['#method'] === 'card') values[':method'] = { ...(values[':method'] as CardSummary), ...update.card };
    } else if (update.card) {
      // A recorded card payment: the gateway's summary field by field (the record's `tokenised` mark stays).
      for (const [field, value] of Object.entries(update.card)) {
        if (value === undefined) continue;
        sets.push(`card.#card_${field} = :card_${field}`);
        names[`#card_${field}`] = field;
        values[`:card_${field}`] = value;
      }
    }
    setFields(fields, sets, names, values);
    try {
      const result = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { merchantId: draft.merchantId, paymentId: draft.paymentId },
          UpdateExpression: `SET ${sets.join(', ')} REMOVE pendingAttempt, unfinished, #action`,
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return result.Attributes as PaymentRecord;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const existing = await this.get(draft.merchantId, draft.paymentId);
      if (!existing) throw error;
      return existing;
    }
  }

  async get(merchantId: string, paymentId: string): Promise<PaymentRecord | undefined> {
    const result = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { merchantId, paymentId }, ConsistentRead: true }),
    );
    return result.Item as PaymentRecord | undefined;
  }

  async listUnfinished(before: Date, limit: number): Promise<PaymentKey[]> {
    return this.fromIndex('unfinished', 'unfinished', limit, before.toISOString());
  }

  async listUnpublished(limit: number): Promise<PaymentKey[]> {
    return this.fromIndex('outbox', 'unpublished', limit);
  }

  async markPublished(key: PaymentKey, published?: { readonly refunds: readonly number[]; readonly refundVersion: number }): Promise<void> {
    const sets = ['eventsPublished = :true', ...(published?.refunds ?? []).map((i) => `refunds[${i}].published = :true`)];
    const values: Record<string, unknown> = { ':true': true };
    const keyOf = { merchantId: key.merchantId, paymentId: key.paymentId };
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keyOf,
          UpdateExpression: `SET ${sets.join(', ')} REMOVE unpublished`,
          // A refund settled since the read marked the payment again for its own event: leave that mark.
          ...versionCondition(published?.refundVersion ?? 0, values),
          ExpressionAttributeValues: values,
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      await this.client.send(new UpdateCommand({ TableName: this.tableName, Key: keyOf, UpdateExpression: `SET ${sets.join(', ')}`, ExpressionAttributeValues: { ':true': true } }));
    }
  }

  async reserveRefund(key: PaymentKey, refund: StoredRefund, seen: RefundState, at: string): Promise<boolean> {
    const values: Record<string, unknown> = {
      ':new': [refund],
      ':empty': [],
      ':reserved': seen.refundReserved + refund.amount,
      ':next': seen.refundVersion + 1,
      ':at': at,
      ':shard': shardOf(key.paymentId),
      ':succeeded': 'succeeded',
    };
    const version = versionCondition(seen.refundVersion, values);
    return this.conditional(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { merchantId: key.merchantId, paymentId: key.paymentId },
        UpdateExpression:
          'SET refunds = list_append(if_not_exists(refunds, :empty), :new), refundReserved = :reserved, refundVersion = :next, updatedAt = :at, unfinished = :shard',
        ConditionExpression: `#status = :succeeded AND ${version.ConditionExpression}`,
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: values,
      }),
    );
  }

  async settleRefund(key: PaymentKey, index: number, outcome: RefundSettlement, seen: RefundState & { readonly pendingAfter: number }): Promise<boolean> {
    const at = `refunds[${index}]`;
    const values: Record<string, unknown> = { ':status': outcome.status, ':pending': 'pending', ':at': outcome.at, ':next': seen.refundVersion + 1 };
    const sets = [`${at}.#status = :status`, `${at}.completedAt = :at`, 'updatedAt = :at', 'refundVersion = :next'];
    if (outcome.gatewayReference) {
      sets.push(`${at}.gatewayReference = :reference`);
      values[':reference'] = outcome.gatewayReference;
    }
    if (outcome.status === 'succeeded') {
      // The refunded total moves, in the order refunds succeed: each event's total is the one after it.
      values[':total'] = seen.refundedAmount + outcome.amount;
      values[':shard'] = shardOf(key.paymentId);
      sets.push(`${at}.refundedTotal = :total`, 'refundedAmount = :total', 'unpublished = :shard');
    } else {
      values[':code'] = outcome.code;
      values[':released'] = seen.refundReserved - outcome.amount;
      sets.push(`${at}.code = :code`, 'refundReserved = :released');
    }
    const version = versionCondition(seen.refundVersion, values);
    return this.conditional(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { merchantId: key.merchantId, paymentId: key.paymentId },
        UpdateExpression: `SET ${sets.join(', ')}${seen.pendingAfter === 0 ? ' REMOVE unfinished' : ''}`,
        ConditionExpression: `${at}.#status = :pending AND ${version.ConditionExpression}`,
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: values,
      }),
    );
  }

  /** Sends a conditional write: true when it was made, false when its condition did not hold. */
  private async conditional(command: UpdateCommand): Promise<boolean> {
    try {
      await this.client.send(command);
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /**
   * Every shard of a sparse index, oldest first within a shard, at most `limit` in all and an equal share a
   * shard, the shards taken in turn (entries stuck at the head of one shard never starve the others, and a caller
   * that stops early has had some of each).
   */
  private async fromIndex(index: string, attribute: string, limit: number, before?: string): Promise<PaymentKey[]> {
    const shards: PaymentKey[][] = [];
    const perShard = Math.max(1, Math.ceil(limit / INDEX_SHARDS));
    for (let shard = 0; shard < INDEX_SHARDS; shard += 1) {
      const keys: PaymentKey[] = [];
      shards.push(keys);
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: index,
          KeyConditionExpression: before ? '#shard = :shard AND updatedAt < :before' : '#shard = :shard',
          ExpressionAttributeNames: { '#shard': attribute },
          ExpressionAttributeValues: { ':shard': String(shard), ...(before ? { ':before': before } : {}) },
          Limit: perShard,
        }),
      );
      for (const item of page.Items ?? []) keys.push({ merchantId: String(item.merchantId), paymentId: String(item.paymentId) });
    }
    const keys: PaymentKey[] = [];
    for (let i = 0; keys.length < limit && shards.some((s) => i < s.length); i += 1) {
      for (const shard of shards) if (i < shard.length && keys.length < limit) keys.push(shard[i]!);
    }
    return keys;
  }

  async scan(cursor: string | undefined, limit: number) {
    return scanPage<PaymentRecord>(this.client, this.tableName, cursor, limit);
  }

  /**
   * A Query of the merchant's partition, newest first (payment ids sort by creation time: the window is a key
   * range), with the filters as a filter expression. Reads until `limit` match, the partition ends, or
   * LIST_READ_BUDGET items were read; `next` is where the following page starts (absent: nothing more).
   */
  async list(merchantId: string, filter: PaymentFilter, limit: number, after?: string): Promise<{ items: PaymentRecord[]; next?: string }> {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = { ':m': merchantId };
    const clauses: string[] = [];
    for (const field of ['status', 'connectorId', 'currency', 'customerId'] as const) {
      if (filter[field] === undefined) continue;
      names[`#${field}`] = field;
      values[`:${field}`] = filter[field];
      clauses.push(`#${field} = :${field}`);
    }
    if (filter.text !== undefined) {
      Object.assign(names, { '#customerId': 'customerId', '#description': 'description', '#card': 'card', '#last4': 'last4' });
      values[':text'] = filter.text;
      // Words of the description in any case and order (its word set); the description's exact text as well, for
      // payments recorded before the word set existed.
      const words = searchWords(filter.text).slice(0, MAX_QUERY_WORDS);
      words.forEach((word, i) => (values[`:w${i}`] = word));
      const allWords = words.length ? ` OR (${words.map((_, i) => `contains(#searchWords, :w${i})`).join(' AND ')})` : '';
      if (words.length) names['#searchWords'] = 'searchWords';
      clauses.push(`(begins_with(#customerId, :text) OR contains(#description, :text) OR #card.#last4 = :text${allWords})`);
    }
    let key = 'merchantId = :m';
    if (filter.low !== undefined && filter.high !== undefined) {
      key += ' AND paymentId BETWEEN :low AND :high';
      Object.assign(values, { ':low': filter.low, ':high': filter.high });
    }
    const items: PaymentRecord[] = [];
    let start: Record<string, unknown> | undefined = after ? { merchantId, paymentId: after } : undefined;
    let read = 0;
    while (items.length < limit && read < LIST_READ_BUDGET) {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: key,
          ...(clauses.length ? { FilterExpression: clauses.join(' AND '), ExpressionAttributeNames: names } : {}),
          ExpressionAttributeValues: values,
          ScanIndexForward: false,
          // A page reads a little more than it needs when it filters (most items may not match).
          Limit: Math.min(LIST_READ_BUDGET - read, clauses.length ? Math.max(100, (limit - items.length) * 4) : limit - items.length),
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      read += page.ScannedCount ?? page.Items?.length ?? 0;
      for (const item of (page.Items ?? []) as PaymentRecord[]) {
        if (items.length === limit) return { items, next: items[items.length - 1]!.paymentId };
        items.push(item);
      }
      if (!page.LastEvaluatedKey) return { items };
      start = page.LastEvaluatedKey;
    }
    // The limit or the read budget: the next page starts after the last item read.
    return { items, next: items.length === limit ? items[items.length - 1]!.paymentId : String(start!.paymentId) };
  }
}
