/**
 * Wallet payments through /pay: routing sends them only to a connector that takes wallets (amazon-pay here),
 * which charges them at its wallet rate; the payment keeps the wallet's name and the token's last 4, never the
 * token; declines and ineligible buyers get their own answers.
 */
import type { LocalPlatform } from '../../local/platform';
import { LOCAL_CONNECTORS } from '../../local/connectors';
import { ApiClient, payBody, startPlatform, uniqueCustomer, uniqueMerchant } from './client';

// The local registry, with amazon-pay approving every ordinary token so the outcomes are certain.
const CONNECTORS = LOCAL_CONNECTORS.map((c) => (c.id === 'amazon-pay' ? { ...c, approval: undefined } : c));
const wallet = (token: string) => ({ type: 'wallet', wallet: 'amazon_pay', token });

let platform: LocalPlatform;
let client: ApiClient;
beforeAll(async () => {
  platform = await startPlatform({ env: { CONNECTORS: JSON.stringify(CONNECTORS) } });
  client = await ApiClient.forMerchant(platform, uniqueMerchant());
});
afterAll(async () => {
  await platform?.close(1000);
});

test('a wallet payment is charged by amazon-pay at its wallet rate, and kept without its token', async () => {
  const token = 'amzn_tok_e2e_9F3K';
  const result = await client.pay(payBody({ amount: 4_200, country: 'US', customerId: uniqueCustomer(), paymentMethod: wallet(token) }));
  expect(result.status).toBe(201);
  const { payment } = result.json;
  expect(payment).toMatchObject({ status: 'succeeded', connectorId: 'amazon-pay', feeMinor: 131, wallet: { wallet: 'amazon_pay', tokenLast4: '9F3K' } });
  expect(payment.card).toBeUndefined();
  expect(payment.attempts.map((a: { connectorId: string }) => a.connectorId)).toEqual(['amazon-pay']);
  const read = await client.call('GET', `/payments/${payment.paymentId}`);
  expect(read.json.payment.wallet).toEqual({ wallet: 'amazon_pay', tokenLast4: '9F3K' });
  expect(read.text).not.toContain(token);
  expect(result.text).not.toContain(token);
  await platform.idle();
  expect(platform.bus.failures()).toEqual([]);
});

test('a declined wallet payment is a 402 with the gateway’s code', async () => {
  const result = await client.pay(payBody({ country: 'US', customerId: uniqueCustomer(), paymentMethod: wallet('wallet_declined_test') }));
  expect(result.status).toBe(402);
  expect(result.json.error.code).toBe('payment_method_declined');
});

test('a wallet payment no connector can take is a 422 that says why', async () => {
  // amazon-pay, the only wallet connector, does not take Brazilian buyers.
  const result = await client.pay(payBody({ currency: 'USD', country: 'BR', customerId: uniqueCustomer(), paymentMethod: wallet('amzn_tok_e2e_BR01') }));
  expect(result.status).toBe(422);
  expect(result.json.error).toMatchObject({ code: 'no_eligible_connector' });
  expect(result.json.error.message).toBe('no enabled connector takes wallet payments in USD from BR');
});
