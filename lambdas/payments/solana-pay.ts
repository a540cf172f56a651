/**
 * The Solana Pay adapter of the connector port (`@solana/pay`). A charge is a transfer request, not a charge: it
 * answers `requiresAction` with the request's URL (`encodeURL`: the merchant's wallet, the amount in the
 * currency's stablecoin, its mint, a reference key, a label, a message and the payment id as memo), and the
 * payment waits (`pending_action`) until the customer's wallet sends it.
 *
 * The reference key is derived from the attempt's gateway key, so a retried call is the same request. The
 * transfer is found on chain by its reference (the signatures for that address, as `findReference` reads them,
 * but every page of them, not only the latest) and each candidate is checked with `validateTransfer`: the recipient's token account received at least the
 * amount, of the right mint, carrying the reference. Only a valid transfer settles the payment: an underpaid one,
 * another mint or another recipient never does (the payment's action then expires, `action_expired`).
 *
 * One token a major unit: the currency's stablecoin (USDC for USD, EURC for EUR) from the connector's account
 * (`solanaPay.tokens`). Refunds are the merchant's wallet's to send, not this adapter's (refund_declined).
 */
import { createHash } from 'node:crypto';
import type { Connection } from '@solana/web3.js';
import bs58 from 'bs58';
import { connectorFee, type ConnectorDefinition, type SolanaPayAccount } from '../../contracts/connectors';
import { GatewayDeclinedError, RefundDeclinedError } from '../../contracts/errors';
import { currencyExponent, formatMajor } from '../../contracts/money';
import { ChargeOutcomeUnknownError, type ChargeRequest, type ChargeResult, type Expected, type GatewayConnector, type RefundResult } from './connectors';

export interface SolanaPayOptions {
  /** The cluster's connection (SOLANA_RPC_URL, or the secret holding it), made when first needed. */
  readonly connection: () => Promise<Connection>;
}

/**
 * A reference's transactions are read a page at a time, newest first, up to this many in all: a wrong transfer
 * before the right one, or anyone's spam of tiny transfers carrying the reference, cannot hide the right one.
 */
const PAGE = 100;
const MAX_CANDIDATES = 1_000;

export class SolanaPayConnector implements GatewayConnector {
  readonly id: string;
  private readonly account: SolanaPayAccount;

  constructor(
    private readonly definition: ConnectorDefinition,
    private readonly options: SolanaPayOptions,
  ) {
    if (!definition.solanaPay) throw new Error(`connector ${definition.id} is a solana_pay connector without its solanaPay account`);
    this.id = definition.id;
    this.account = definition.solanaPay;
  }

  /** The request's token (its currency's stablecoin) and amount in its units, as a decimal string. */
  private terms(amount: number, currency: string): { mint: string; amount: string } {
    const token = this.account.tokens[currency];
    if (!token || token.decimals < currencyExponent(currency)) {
      throw new GatewayDeclinedError(`${this.id} takes no Solana Pay payments in ${currency}`, 'currency_not_supported', { connectorId: this.id }, { requestRefused: true });
    }
    return { mint: token.mint, amount: formatMajor({ amount, currency }) };
  }

  async charge(request: ChargeRequest): Promise<ChargeResult> {
    if (!request.solanaPay) {
      throw new GatewayDeclinedError(`${this.id} takes Solana Pay transfers only`, 'payment_method_not_supported', { connectorId: this.id }, { requestRefused: true });
    }
    const terms = this.terms(request.amount, request.currency);
    const [{ encodeURL }, { PublicKey }, { default: BigNumber }] = await Promise.all([import('@solana/pay'), import('@solana/web3.js'), import('bignumber.js')]);
    const reference = referenceOf(request.idempotencyKey);
    const paymentId = request.idempotencyKey.split(':')[0] ?? request.idempotencyKey;
    const url = encodeURL({
      recipient: new PublicKey(this.account.recipient),
      amount: new BigNumber(terms.amount),
      splToken: new PublicKey(terms.mint),
      reference: new PublicKey(reference),
      ...(this.account.label ? { label: this.account.label } : {}),
      message: request.description ?? `Payment ${paymentId}`,
      memo: paymentId,
    });
    return {
      gatewayReference: reference,
      feeMinor: 0,
      requiresAction: { type: 'solana_pay', url: url.toString(), recipient: this.account.recipient, amount: terms.amount, splToken: terms.mint, reference },
    };
  }

  /**
   * The transfer of a request, found by its reference and checked against the payment (`expected`): the charge
   * (its signature as the reference), or the request again (`requiresAction`) while no valid transfer is there.
   */
  async retrieve(idempotencyKey: string, _gatewayReference?: string, expected?: Expected): Promise<ChargeResult | undefined> {
    if (!expected) throw new ChargeOutcomeUnknownError(`${this.id}: a transfer is checked against the payment's amount, which was not given`);
    const terms = this.terms(expected.amount, expected.currency);
    const reference = referenceOf(idempotencyKey);
    const [{ validateTransfer, ValidateTransferError }, { PublicKey }, { default: BigNumber }] = await Promise.all([import('@solana/pay'), import('@solana/web3.js'), import('bignumber.js')]);
    const fields = { recipient: new PublicKey(this.account.recipient), amount: new BigNumber(terms.amount), splToken: new PublicKey(terms.mint), reference: new PublicKey(reference) };
    try {
      const connection = await this.options.connection();
      const signatures: Array<{ signature: string; err: unknown }> = [];
      for (let before: string | undefined; signatures.length < MAX_CANDIDATES; ) {
        const page = await connection.getSignaturesForAddress(fields.reference, { limit: PAGE, ...(before ? { before } : {}) }, 'confirmed');
        signatures.push(...page);
        if (page.length < PAGE) break;
        before = page.at(-1)?.signature;
      }
      // Oldest first: the first valid transfer is the payment's.
      for (const { signature, err } of [...signatures].reverse()) {
        if (err) continue;
        try {
          await validateTransfer(connection, signature, fields, { commitment: 'confirmed' });
        } catch (error) {
          if (error instanceof ValidateTransferError) continue; // underpaid, another mint or recipient: not this payment's
          throw error;
        }
        return { gatewayReference: signature, feeMinor: connectorFee(this.definition.fee, { amountMinor: expected.amount, method: 'solana_pay' }) };
      }
    } catch (error) {
      throw new ChargeOutcomeUnknownError(`${this.id}: the cluster could not be read (${(error as Error).message})`);
    }
    const again = await this.charge({ amount: expected.amount, currency: expected.currency, idempotencyKey, solanaPay: true });
    return again;
  }

  /** Nothing to cancel on chain: a last look for the transfer (the charge when it came), else none. */
  async cancel(idempotencyKey: string, gatewayReference: string, expected?: Expected): Promise<ChargeResult | undefined> {
    const found = await this.retrieve(idempotencyKey, gatewayReference, expected);
    return found?.requiresAction ? undefined : found;
  }

  async refund(): Promise<RefundResult> {
    throw new RefundDeclinedError(`a Solana Pay payment is refunded from the merchant's wallet (${this.account.recipient}), not through SmartPay`, {
      connectorId: this.id,
      gatewayCode: 'refund_not_supported',
    });
  }

  async retrieveRefund(): Promise<RefundResult | undefined> {
    return undefined;
  }
}

/** The reference key of an attempt: 32 bytes derived from its gateway key (the same request on every call). */
export function referenceOf(idempotencyKey: string): string {
  // Any 32 bytes are a valid reference (it need not be on the curve: nobody signs with it).
  return bs58.encode(createHash('sha256').update(`smartpay:solana-pay:${idempotencyKey}`).digest());
}
