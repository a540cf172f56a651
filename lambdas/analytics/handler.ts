/**
 * Analytics Lambda: POST /chat, answers about the caller's own payments (read through payments' PaymentLookup).
 */
import { ChatRequest } from '../../contracts/api';
import { ValidationError } from '../../contracts/errors';
import { apiRoute, errorResponse, isApiGatewayEvent, parseApiBody } from '../shared/http';
import { instrumented } from '../shared/powertools';
import { paymentLookup } from '../payments/lookup';
import { answer } from './chat';
import { paymentHistory } from './history';

const history = paymentHistory(paymentLookup);

export const handler = instrumented('analytics', async (event) => {
  if (!isApiGatewayEvent(event)) {
    return errorResponse(new ValidationError('the analytics function only serves POST /chat'));
  }
  return apiRoute(event, async (merchantId) => ({
    status: 200,
    body: await answer(merchantId, parseApiBody(event, ChatRequest), history, new Date()),
  }));
});
