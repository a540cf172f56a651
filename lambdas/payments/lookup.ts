/**
 * The payments area's read port: how other areas read a merchant's payments (fraud labels, rewards, chat).
 * They never build the payments store; they ask for this port, and the payments area decides how it is read.
 */
import { documentClientOf } from '../shared/clients';
import { config } from '../shared/config';
import type { PaymentRecord } from './model';
import { DynamoPaymentStore } from './store';

export type { PaymentRecord } from './model';

export interface PaymentLookup {
  /** One of the merchant's payments, or undefined. */
  get(merchantId: string, paymentId: string): Promise<PaymentRecord | undefined>;
  /** The merchant's payments created in [from, to), oldest first, at most `limit`. */
  listWindow(merchantId: string, from: Date, to: Date, limit: number): Promise<{ items: PaymentRecord[]; truncated: boolean }>;
}

let lookup: PaymentLookup | undefined;

/** The lookup of this function's payments table (PAYMENTS_TABLE_NAME; the function needs read access to it). */
export function paymentLookup(): PaymentLookup {
  lookup ??= new DynamoPaymentStore(documentClientOf(), config().tables.payments);
  return lookup;
}
