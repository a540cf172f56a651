/**
 * `GET /payments`: a merchant's payments, newest first, a page at a time (the console's list and search). The
 * query's window becomes a payment-id range (ids sort by creation time), `q` a payment id (read directly) or a
 * text filter, and the page ends with the cursor of the next.
 */
import type { PaymentListQuery, PaymentListResponse } from '../../contracts/api';
import { PaymentId, paymentIdRange } from '../../contracts/ids';
import { toView } from './model';
import type { PaymentFilter, PaymentStore } from './store';

export async function listPayments(merchantId: string, query: PaymentListQuery, store: Pick<PaymentStore, 'get' | 'list'>): Promise<PaymentListResponse> {
  // A payment id is found directly (and, as every filter, must also match the others).
  if (query.q !== undefined && PaymentId.safeParse(query.q).success) {
    const record = query.cursor ? undefined : await store.get(merchantId, query.q);
    const matches =
      record &&
      (query.status === undefined || record.status === query.status) &&
      (query.connectorId === undefined || record.connectorId === query.connectorId) &&
      (query.currency === undefined || record.currency === query.currency) &&
      (query.customerId === undefined || record.customerId === query.customerId) &&
      (query.from === undefined || record.createdAt >= new Date(query.from).toISOString()) &&
      (query.to === undefined || record.createdAt < new Date(query.to).toISOString());
    return { payments: matches ? [toView(record)] : [] };
  }
  const range = query.from !== undefined || query.to !== undefined ? paymentIdRange(new Date(query.from ?? 0), new Date(query.to ?? Date.UTC(2100, 0, 1))) : undefined;
  const filter: PaymentFilter = {
    ...(range ? { low: range.low, high: range.high } : {}),
    ...(query.status ? { status: query.status } : {}),
    ...(query.connectorId ? { connectorId: query.connectorId } : {}),
    ...(query.currency ? { currency: query.currency } : {}),
    ...(query.customerId ? { customerId: query.customerId } : {}),
    ...(query.q !== undefined ? { text: query.q } : {}),
  };
  const page = await store.list(merchantId, filter, query.limit, query.cursor);
  return { payments: page.items.map(toView), ...(page.next ? { nextCursor: page.next } : {}) };
}
