/**
 * Analytics Lambda: POST /chat, answers about the caller's own payments (read through payments' PaymentLookup).
 */
import { ChatRequest } from '../../contracts/api';
import { ValidationError } from '../../contracts/errors';
import { apiRoute, errorResponse, isApiGatewayEvent, parseApiBody } from '../shared/http';
import { instrumented } from '../shared/powertools';
import { paymentLookup } from '../payments/lookup';
import { answer, type PaymentHistory } from './chat';

/** The chat's view of the merchant's history: the facts an answer may cite. */
const history: PaymentHistory = {
  list: async (merchantId, from, to, limit) => {
    const { items, truncated } = await paymentLookup().listWindow(merchantId, from, to, limit);
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

export const handler = instrumented('analytics', async (event) => {
  if (!isApiGatewayEvent(event)) {
    return errorResponse(new ValidationError('the analytics function only serves POST /chat'));
  }
  return apiRoute(event, async (merchantId) => ({
    status: 200,
    body: await answer(merchantId, parseApiBody(event, ChatRequest), history, new Date()),
  }));
});
