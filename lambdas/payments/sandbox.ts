/**
 * Sandbox processors: the test world's issuer (contracts/issuer.ts: Stripe's test cards, Amazon Pay test
 * wallet tokens, and a connector's approval profile for ordinary cards) behind the connector port, in process,
 * with configurable latency, faults and fees. They keep their charges by idempotency key, like a gateway does,
 * so a repeated call returns the first result and reconciliation can look a charge up. They stay for routing's
 * learning world; the real gateways' adapters are stripe.ts (and, locally, their fakes in local/gateways/).
 *
 * A sandbox whose methods do not include `wallet` declines a wallet token with payment_method_not_supported
 * (routing never sends it one).
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
import { connectorFee, type ConnectorDefinition } from '../../contracts/connectors';
import { GatewayDeclinedError, GatewayRetryableError, RefundDeclinedError } from '../../contracts/errors';
import { issuerAnswer } from '../../contracts/issuer';
import { journalLines, repairJournal } from '../../contracts/journal';
import { GatewayAmbiguousError, type ChargeRequest, type ChargeResult, type GatewayConnector, type RefundCall, type RefundResult } from './connectors';

export type SandboxFault = 'unavailable' | 'timeout';

export interface SandboxOptions {
  readonly fault?: string;
  /** The added latency of each answer (SANDBOX_LATENCY_MS). */
  readonly latencyMs?: number;
  /** The caller's budget for an answer (GATEWAY_TIMEOUT_MS): a later one is a timeout, its outcome unknown. */
  readonly timeoutMs?: number;
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

/** A refund line of a connector's ledger file (no `key`, so readers of charges pass over it). */
export interface RefundLine {
  readonly refundKey: string;
  readonly at: string;
  readonly chargeReference: string;
  readonly amount: number;
  readonly currency: string;
  /** The refund's reference, or why it was refused. */
  readonly reference?: string;
  readonly declined?: { readonly code: string; readonly message: string };
}

/** Reads a connector's ledger file: every processed call by its idempotency key (refund lines have `refundKey`). */
export function readLedger(dir: string, connectorId: string): LedgerLine[] {
  const file = join(dir, `${connectorId}.jsonl`);
  if (!existsSync(file)) return [];
  // A line cut short by a crash mid-write is not a processed call (it was never answered).
  return journalLines<LedgerLine>(readFileSync(file, 'utf8'));
}

interface Ledger {
  get(key: string): Outcome | undefined;
  record(key: string, outcome: Outcome, request: ChargeRequest, at: string): void;
  /** A charge by its reference: its amount, and what its refunds took. */
  charge(reference: string): { readonly amount: number; refunded: number } | undefined;
  refund(key: string): RefundLine | undefined;
  recordRefund(line: RefundLine): void;
}

/** Charges by connector id (and ledger folder) and idempotency key, shared by every instance in the process. */
const ledgers = new Map<string, Ledger>();

function ledgerFor(connectorId: string, dir: string | undefined): Ledger {
  const id = `${dir ?? ''}\u0000${connectorId}`;
  let ledger = ledgers.get(id);
  if (ledger) return ledger;
  const outcomes = new Map<string, Outcome>();
  const charges = new Map<string, { amount: number; refunded: number }>();
  const refunds = new Map<string, RefundLine>();
  const applyRefund = (line: RefundLine) => {
    refunds.set(line.refundKey, line);
    const charge = charges.get(line.chargeReference);
    if (charge && line.reference) charge.refunded += line.amount;
  };
  let file: string | undefined;
  if (dir) {
    mkdirSync(dir, { recursive: true });
    file = join(dir, `${connectorId}.jsonl`);
    repairJournal(file);
    for (const line of readLedger(dir, connectorId) as Array<LedgerLine | RefundLine>) {
      if ('refundKey' in line) {
        if (!refunds.has(line.refundKey)) applyRefund(line);
      } else if (line.key && !outcomes.has(line.key)) {
        outcomes.set(line.key, outcomeOf(line, connectorId));
        if (line.ok && line.result) charges.set(line.result.gatewayReference, { amount: line.amount, refunded: 0 });
      }
    }
  }
  ledger = {
    get: (key) => outcomes.get(key),
    charge: (reference) => charges.get(reference),
    refund: (key) => refunds.get(key),
    recordRefund(line) {
      applyRefund(line);
      if (file) appendFileSync(file, `${JSON.stringify(line)}\n`);
    },
    record(key, outcome, request, at) {
      outcomes.set(key, outcome);
      if (outcome.ok) charges.set(outcome.result.gatewayReference, { amount: request.amount, refunded: 0 });
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

function refundOutcome(line: RefundLine, connectorId: string): RefundResult {
  if (line.declined) throw new RefundDeclinedError(line.declined.message, { connectorId, gatewayCode: line.declined.code });
  return { gatewayReference: line.reference ?? '', status: 'succeeded' };
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

  /**
   * The answer's latency, within the caller's budget: past it, the call is a timeout whose outcome is unknown (what
   * it asked for was done: the ledger holds it, and `retrieve` finds it), as a gateway that answers too late.
   */
  private async answerDelay(what: string): Promise<void> {
    const { latencyMs = 0, timeoutMs } = this.options;
    if (latencyMs <= 0) return;
    const late = timeoutMs !== undefined && latencyMs > timeoutMs;
    await new Promise((resolve) => setTimeout(resolve, late ? timeoutMs : latencyMs));
    if (late) throw new GatewayAmbiguousError(`${this.id} did not answer the ${what} within ${timeoutMs} ms (GATEWAY_TIMEOUT_MS)`);
  }

  async charge(request: ChargeRequest): Promise<ChargeResult> {
    if (this.options.fault === 'unavailable') {
      await this.answerDelay('charge');
      throw new GatewayRetryableError(`${this.id} is unavailable`, 'gateway_unavailable', { connectorId: this.id });
    }
    let outcome = this.ledger.get(request.idempotencyKey);
    if (!outcome) {
      outcome = this.process(request);
      this.ledger.record(request.idempotencyKey, outcome, request, (this.options.now ?? (() => new Date()))().toISOString());
    }
    await this.answerDelay('charge');
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

  async refund(call: RefundCall): Promise<RefundResult> {
    if (this.options.fault === 'unavailable') {
      await this.answerDelay('refund');
      throw new GatewayRetryableError(`${this.id} is unavailable`, 'gateway_unavailable', { connectorId: this.id });
    }
    let line = this.ledger.refund(call.idempotencyKey);
    if (!line) {
      const charge = this.ledger.charge(call.chargeReference);
      const at = (this.options.now ?? (() => new Date()))().toISOString();
      const base = { refundKey: call.idempotencyKey, at, chargeReference: call.chargeReference, amount: call.amount, currency: call.currency };
      let declined: RefundLine['declined'];
      if (!charge) declined = { code: 'resource_missing', message: `${this.id} has no charge ${call.chargeReference}` };
      else if (charge.refunded >= charge.amount) declined = { code: 'charge_already_refunded', message: 'the charge has already been refunded' };
      else if (call.amount > charge.amount - charge.refunded) {
        declined = { code: 'amount_too_large', message: `the refund (${call.amount}) is greater than what is left of the charge (${charge.amount - charge.refunded})` };
      }
      const reference = `${this.definition.kind}_re_${createHash('sha256').update(`${this.id}:${call.idempotencyKey}`).digest('hex').slice(0, 21)}`;
      line = declined ? { ...base, declined } : { ...base, reference };
      this.ledger.recordRefund(line);
    }
    await this.answerDelay('refund');
    if (this.options.fault === 'timeout') throw new GatewayAmbiguousError(`${this.id} timed out after the refund was sent`);
    return refundOutcome(line, this.id);
  }

  async retrieveRefund(call: Pick<RefundCall, 'idempotencyKey'>): Promise<RefundResult | undefined> {
    const line = this.ledger.refund(call.idempotencyKey);
    return line ? refundOutcome(line, this.id) : undefined;
  }

  private process(request: ChargeRequest): Outcome {
    if (!request.card && !request.wallet) {
      // A tokenised card or a Solana Pay transfer is its own gateway's (routing never sends one here).
      return { ok: false, error: new GatewayDeclinedError(`${this.id} takes raw cards and wallet tokens only`, 'payment_method_not_supported', { connectorId: this.id }, { requestRefused: true }) };
    }
    if (request.wallet && !this.definition.methods.includes('wallet')) {
      return { ok: false, error: new GatewayDeclinedError(`${this.id} does not take wallet payments`, 'payment_method_not_supported', { connectorId: this.id }, { requestRefused: true }) };
    }
    const answer = issuerAnswer(request, {
      connectorId: this.id,
      key: request.idempotencyKey,
      approval: this.definition.approval,
      now: (this.options.now ?? (() => new Date()))(),
    });
    if (answer.kind === 'declined') return { ok: false, error: new GatewayDeclinedError(answer.message, answer.code, { connectorId: this.id }) };
    if (answer.kind === 'retryable') return { ok: false, error: new GatewayRetryableError(answer.message, answer.code, { connectorId: this.id }) };
    const reference = createHash('sha256').update(`${this.id}:${request.idempotencyKey}`).digest('hex').slice(0, 24);
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
