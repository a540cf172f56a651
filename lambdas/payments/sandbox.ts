/**
 * Sandbox connectors with Stripe's test-card semantics, configurable latency, faults and fees. They keep
 * their charges in memory by idempotency key, like a gateway does, so a repeated call returns the first
 * result and reconciliation can look a charge up.
 *
 * Test cards: 4242424242424242 succeeds; 4000000000000002 card_declined; 4000000000009995 insufficient_funds;
 * 4000000000009987 lost_card; 4000000000009979 stolen_card; 4000000000000069 expired_card; 4000000000000127
 * incorrect_cvc; 4000000000000119 processing_error (retryable: another gateway may succeed). A past expiry
 * date is expired_card. Any other Luhn-valid number is an ordinary card: it succeeds, unless the connector
 * has an approval profile (contracts/connectors.ts), which approves it with a probability that depends
 * on the buyer's region, the card network and the amount. The draw is a hash of the connector and the
 * idempotency key, so a retried call gets the same answer, and it is otherwise a `do_not_honor` decline.
 *
 * Wallet tokens (Amazon Pay, on a connector whose methods include `wallet`): `wallet_declined_test`
 * payment_method_declined; `wallet_processing_error_test` processing_error (retryable); any other token is an
 * ordinary wallet payment, approved like an ordinary card (without the network adjustment). A connector that
 * does not take wallets declines them with payment_method_not_supported (routing never sends it one).
 *
 * Faults (SANDBOX_FAULTS, per connector): `unavailable` fails before processing (retryable); `timeout`
 * processes the charge and then loses the response (ambiguous: the caller must reconcile).
 *
 * The charge ledger is the gateway's own, outside the platform: with SANDBOX_LEDGER_DIR each connector
 * appends every processed call to `<dir>/<connector>.jsonl` (one line a gateway idempotency key, written
 * before the answer), so it survives a crash of the platform, a restart answers a repeated key with its
 * first result, and a double charge is visible from outside (`npm run test:faults` counts from it).
 */
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectorFee, type ApprovalProfile, type ConnectorDefinition } from '../../contracts/connectors';
import { GatewayDeclinedError, GatewayRetryableError } from '../../contracts/errors';
import { cardNetwork } from '../../contracts/methods';
import { regionOf } from '../../contracts/regions';
import { GatewayAmbiguousError, type ChargeRequest, type ChargeResult, type GatewayConnector } from './connectors';

const DECLINES: Readonly<Record<string, { code: string; message: string }>> = {
  '4000000000000002': { code: 'card_declined', message: 'the card was declined' },
  '4000000000009995': { code: 'insufficient_funds', message: 'the card has insufficient funds' },
  '4000000000009987': { code: 'lost_card', message: 'the card was reported lost' },
  '4000000000009979': { code: 'stolen_card', message: 'the card was reported stolen' },
  '4000000000000069': { code: 'expired_card', message: 'the card has expired' },
  '4000000000000127': { code: 'incorrect_cvc', message: "the card's security code is incorrect" },
};
const PROCESSING_ERROR_CARD = '4000000000000119';
const SUCCESS_CARD = '4242424242424242';
const DECLINED_WALLET_TOKEN = 'wallet_declined_test';
const PROCESSING_ERROR_WALLET_TOKEN = 'wallet_processing_error_test';

/** The approval probability of an ordinary card or wallet payment under a sandbox profile, clamped to [0, 1]. */
export function approvalProbability(profile: ApprovalProfile, request: Pick<ChargeRequest, 'amount' | 'card' | 'country'>): number {
  const region = regionOf(request.country);
  let p = profile.base;
  if (region) p += profile.byRegion?.[region] ?? 0;
  if (request.card) p += profile.byNetwork?.[cardNetwork(request.card.number)] ?? 0; // a wallet has no network
  if (profile.large && request.amount >= profile.large.minor) p += profile.large.delta;
  return Math.min(1, Math.max(0, p));
}

export type SandboxFault = 'unavailable' | 'timeout';

export interface SandboxOptions {
  readonly fault?: string;
  readonly latencyMs?: number;
  readonly now?: () => Date;
  /** The durable ledger's folder; in memory (this process) when omitted. */
  readonly ledgerDir?: string;
}

type Outcome = { readonly ok: true; readonly result: ChargeResult } | { readonly ok: false; readonly error: Error };

/** One line of a connector's ledger file. */
export interface LedgerLine {
  readonly key: string;
  readonly at: string;
  readonly amount: number;
  readonly currency: string;
  readonly ok: boolean;
  readonly result?: ChargeResult;
  readonly error?: { readonly name: string; readonly message: string; readonly code: string };
}

function outcomeOf(line: LedgerLine, connectorId: string): Outcome {
  if (line.ok && line.result) return { ok: true, result: line.result };
  const { name, message, code } = line.error ?? { name: 'GatewayDeclinedError', message: 'declined', code: 'card_declined' };
  const error =
    name === 'GatewayRetryableError'
      ? new GatewayRetryableError(message, code, { connectorId })
      : new GatewayDeclinedError(message, code, { connectorId });
  return { ok: false, error };
}

/** Reads a connector's ledger file: every processed call by its idempotency key. */
export function readLedger(dir: string, connectorId: string): LedgerLine[] {
  const file = join(dir, `${connectorId}.jsonl`);
  if (!existsSync(file)) return [];
  // A line cut short by a crash mid-write is not a processed call (it was never answered).
  return readFileSync(file, 'utf8')
    .split('\n')
    .flatMap((line) => {
      try {
        return line ? [JSON.parse(line) as LedgerLine] : [];
      } catch {
        return [];
      }
    });
}

interface Ledger {
  get(key: string): Outcome | undefined;
  record(key: string, outcome: Outcome, request: ChargeRequest, at: string): void;
}

/** Charges by connector id (and ledger folder) and idempotency key, shared by every instance in the process. */
const ledgers = new Map<string, Ledger>();

function ledgerFor(connectorId: string, dir: string | undefined): Ledger {
  const id = `${dir ?? ''}\u0000${connectorId}`;
  let ledger = ledgers.get(id);
  if (ledger) return ledger;
  const outcomes = new Map<string, Outcome>();
  let file: string | undefined;
  if (dir) {
    mkdirSync(dir, { recursive: true });
    file = join(dir, `${connectorId}.jsonl`);
    for (const line of readLedger(dir, connectorId)) if (!outcomes.has(line.key)) outcomes.set(line.key, outcomeOf(line, connectorId));
  }
  ledger = {
    get: (key) => outcomes.get(key),
    record(key, outcome, request, at) {
      outcomes.set(key, outcome);
      if (!file) return;
      const line: LedgerLine = {
        key,
        at,
        amount: request.amount,
        currency: request.currency,
        ok: outcome.ok,
        ...(outcome.ok
          ? { result: outcome.result }
          : { error: { name: outcome.error.name, message: outcome.error.message, code: (outcome.error as { code?: string }).code ?? 'unknown' } }),
      };
      // Synchronous append: on disk (the OS's) before the gateway answers, so a kill -9 after it cannot lose it.
      appendFileSync(file, `${JSON.stringify(line)}\n`);
    },
  };
  ledgers.set(id, ledger);
  return ledger;
}

export class SandboxConnector implements GatewayConnector {
  readonly id: string;
  private readonly ledger: Ledger;

  constructor(
    private readonly definition: ConnectorDefinition,
    private readonly options: SandboxOptions = {},
  ) {
    if (options.fault !== undefined && options.fault !== 'unavailable' && options.fault !== 'timeout') {
      throw new Error(`unknown sandbox fault "${options.fault}" for ${definition.id}; use unavailable or timeout`);
    }
    this.id = definition.id;
    this.ledger = ledgerFor(definition.id, options.ledgerDir);
  }

  async charge(request: ChargeRequest): Promise<ChargeResult> {
    if (this.options.latencyMs) await new Promise((resolve) => setTimeout(resolve, this.options.latencyMs));
    if (this.options.fault === 'unavailable') {
      throw new GatewayRetryableError(`${this.id} is unavailable`, 'gateway_unavailable', { connectorId: this.id });
    }
    let outcome = this.ledger.get(request.idempotencyKey);
    if (!outcome) {
      outcome = this.process(request);
      this.ledger.record(request.idempotencyKey, outcome, request, (this.options.now ?? (() => new Date()))().toISOString());
    }
    if (this.options.fault === 'timeout') {
      throw new GatewayAmbiguousError(`${this.id} timed out after the request was sent`);
    }
    if (!outcome.ok) throw outcome.error;
    return outcome.result;
  }

  async retrieve(idempotencyKey: string): Promise<ChargeResult | undefined> {
    const outcome = this.ledger.get(idempotencyKey);
    if (!outcome) return undefined;
    // A processed call that declined or failed is not "no charge yet": its answer is final, as a gateway's lookup says.
    if (!outcome.ok) throw outcome.error;
    return outcome.result;
  }

  private process(request: ChargeRequest): Outcome {
    if (!request.card) return this.processWallet(request);
    const { number, expMonth, expYear } = request.card;
    const now = (this.options.now ?? (() => new Date()))();
    const decline = DECLINES[number];
    if (decline) {
      return { ok: false, error: new GatewayDeclinedError(decline.message, decline.code, { connectorId: this.id }) };
    }
    if (expYear < now.getUTCFullYear() || (expYear === now.getUTCFullYear() && expMonth < now.getUTCMonth() + 1)) {
      return { ok: false, error: new GatewayDeclinedError('the card has expired', 'expired_card', { connectorId: this.id }) };
    }
    if (number === PROCESSING_ERROR_CARD) {
      return {
        ok: false,
        error: new GatewayRetryableError('an error occurred while processing the card', 'processing_error', { connectorId: this.id }),
      };
    }
    return this.approve(request, number === SUCCESS_CARD);
  }

  private processWallet(request: ChargeRequest): Outcome {
    const token = request.wallet?.token;
    if (token === undefined) throw new Error('sandbox: a charge request has neither a card nor a wallet');
    if (!this.definition.methods.includes('wallet')) {
      return { ok: false, error: new GatewayDeclinedError(`${this.id} does not take wallet payments`, 'payment_method_not_supported', { connectorId: this.id }) };
    }
    if (token === DECLINED_WALLET_TOKEN) {
      return { ok: false, error: new GatewayDeclinedError('the wallet payment was declined', 'payment_method_declined', { connectorId: this.id }) };
    }
    if (token === PROCESSING_ERROR_WALLET_TOKEN) {
      return { ok: false, error: new GatewayRetryableError('an error occurred while processing the wallet payment', 'processing_error', { connectorId: this.id }) };
    }
    return this.approve(request, false);
  }

  /** An ordinary payment: approved under the connector's approval profile (always, without one, or when `always`). */
  private approve(request: ChargeRequest, always: boolean): Outcome {
    const reference = createHash('sha256').update(`${this.id}:${request.idempotencyKey}`).digest('hex').slice(0, 24);
    if (!always && this.definition.approval) {
      // A uniform draw in [0, 1) from the reference: the same call always gets the same answer.
      const draw = parseInt(reference.slice(0, 12), 16) / 2 ** 48;
      if (draw >= approvalProbability(this.definition.approval, request)) {
        return { ok: false, error: new GatewayDeclinedError('the issuer did not approve the payment', 'do_not_honor', { connectorId: this.id }) };
      }
    }
    const method = request.card ? 'card' : 'wallet';
    return {
      ok: true,
      result: {
        gatewayReference: `${this.definition.kind}_${reference}`,
        feeMinor: connectorFee(this.definition.fee, { amountMinor: request.amount, method, country: request.country }),
      },
    };
  }
}
