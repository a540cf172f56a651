/**
 * The payments area's read port: how other areas read a merchant's payments (fraud labels, rewards, chat).
 * They never build the payments store; they ask for this port, and the payments area decides how it is read.
 */
import type { PaymentRecordedDetail, PaymentRefundedDetail } from '../../contracts/events';
import { documentClientOf } from '../shared/clients';
import { config } from '../shared/config';
import { recordedEvent, refundedEvent, type PaymentRecord } from './model';
import { DynamoPaymentStore } from './store';

export type { PaymentRecord } from './model';

/** An event the payments outbox publishes for analytics, as a record gives it again. */
export type AnalyticsEvent = { readonly name: 'PaymentRecorded'; readonly detail: PaymentRecordedDetail } | { readonly name: 'PaymentRefunded'; readonly detail: PaymentRefundedDetail };

export interface PaymentLookup {
  /** One of the merchant's payments, or undefined. */
  get(merchantId: string, paymentId: string): Promise<PaymentRecord | undefined>;
  /**
   * One page of every merchant's payments as the analytics events their records give (a terminal payment's
   * PaymentRecorded, each succeeded refund's PaymentRefunded), how many payments the page read, and the next
   * page's cursor: what rebuilds the analytics index.
   */
  analyticsEvents(cursor: string | undefined, limit: number): Promise<{ events: AnalyticsEvent[]; payments: number; cursor?: string }>;
}

/** The analytics events of one record (none for a payment still under way). */
export function analyticsEventsOf(record: PaymentRecord): AnalyticsEvent[] {
  const recorded = recordedEvent(record);
  if (!recorded) return [];
  const refunds = (record.refunds ?? []).filter((refund) => refund.status === 'succeeded').map((refund) => ({ name: 'PaymentRefunded' as const, detail: refundedEvent(record, refund) }));
  return [{ name: 'PaymentRecorded', detail: recorded }, ...refunds];
}

let lookup: PaymentLookup | undefined;

/** The lookup of this function's payments table (PAYMENTS_TABLE_NAME; the function needs read access to it). */
export function paymentLookup(): PaymentLookup {
  if (!lookup) {
    const store = new DynamoPaymentStore(documentClientOf(), config().tables.payments);
    lookup = {
      get: (merchantId, paymentId) => store.get(merchantId, paymentId),
      analyticsEvents: async (cursor, limit) => {
        const page = await store.scan(cursor, limit);
        return { events: page.items.flatMap(analyticsEventsOf), payments: page.items.length, ...(page.cursor ? { cursor: page.cursor } : {}) };
      },
    };
  }
  return lookup;
}
