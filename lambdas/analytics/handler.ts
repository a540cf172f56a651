/**
 * Analytics Lambda: POST /chat, answers about the caller's own payments.
 */
import { documentClientOf } from '../shared/clients';
import { config } from '../shared/config';
import { ValidationError } from '../../contracts/errors';
import { instrumented } from '../shared/powertools';
import { apiRoute, errorResponse, isApiGatewayEvent, parseApiBody } from '../shared/http';
import { ChatRequest } from '../../contracts/api';
import { DynamoPaymentStore } from '../payments/store';
import { answer, type PaymentHistory } from './chat';

let history: PaymentHistory | undefined;
function paymentHistory(): PaymentHistory {
  if (!history) {
    const store = new DynamoPaymentStore(documentClientOf(), config().tables.payments);
    history = {
      list: async (merchantId, from, to, limit) => {
        const { items, truncated } = await store.listWindow(merchantId, from, to, limit);
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
  return history;
}

export const handler = instrumented('analytics', async (event) => {
  if (!isApiGatewayEvent(event)) {
    return errorResponse(new ValidationError('the analytics function only serves POST /chat'));
  }
  return apiRoute(event, async (merchantId) => ({
    status: 200,
    body: await answer(merchantId, parseApiBody(event, ChatRequest), paymentHistory(), new Date()),
  }));
});
