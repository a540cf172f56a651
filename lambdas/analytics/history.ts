/** The chat's PaymentHistory over payments' read port: the facts an answer may cite, and nothing else. */
import type { PaymentLookup } from '../payments/lookup';
import type { PaymentHistory } from './chat';

export function paymentHistory(lookup: () => PaymentLookup): PaymentHistory {
  return {
    list: async (merchantId, from, to, limit) => {
      const { items, truncated } = await lookup().listWindow(merchantId, from, to, limit);
      return {
        truncated,
        items: items.map((p) => ({
          paymentId: p.paymentId,
          status: p.status,
          amount: p.amount,
          currency: p.currency,
          customerId: p.customerId,
          connectorId: p.connectorId,
          code: p.code,
          createdAt: p.createdAt,
        })),
      };
    },
  };
}
