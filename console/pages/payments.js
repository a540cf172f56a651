// Payments: search, filters and paging over GET /payments; a payment's timeline from GET /payments/{id} and its
// reward (POST /reward {paymentId}).
import { api, getConfig, query } from '../api.js';
import { dateTime, money, percent, score } from '../format.js';
import { html, Loading, PageTitle, Problem, Status, useLoad, useState } from '../ui.js';

const STATUSES = ['succeeded', 'declined', 'review', 'processing', 'pending_action', 'failed'];

export function PaymentsPage() {
  const [filters, setFilters] = useState({ q: '', status: '', connectorId: '', currency: '', customerId: '', from: '', to: '' });
  const [applied, setApplied] = useState(filters);
  const [cursors, setCursors] = useState([undefined]);
  const cursor = cursors[cursors.length - 1];
  const page = useLoad(
    () =>
      api('GET', `/payments${query({ ...applied, from: applied.from && new Date(applied.from).toISOString(), to: applied.to && new Date(applied.to).toISOString(), limit: 20, cursor })}`),
    [JSON.stringify(applied), cursor],
  );
  const field = (name) => (e) => setFilters({ ...filters, [name]: e.currentTarget.value });
  const submit = (e) => {
    e.preventDefault();
    setApplied(filters);
    setCursors([undefined]);
  };
  return html`<section aria-labelledby="payments-title">
    <${PageTitle}><span id="payments-title">Payments</span><//>
    <form class="filters" onSubmit=${submit} role="search" aria-label="Search and filter payments">
      <label>Search <input name="q" type="search" value=${filters.q} onInput=${field('q')} placeholder="payment id, customer, last 4, description" /></label>
      <label>Status <select name="status" value=${filters.status} onChange=${field('status')}><option value="">any</option>${STATUSES.map((s) => html`<option value=${s}>${s}</option>`)}</select></label>
      <label>Connector <input name="connectorId" value=${filters.connectorId} onInput=${field('connectorId')} size="14" /></label>
      <label>Currency <input name="currency" value=${filters.currency} onInput=${field('currency')} size="4" maxlength="3" /></label>
      <label>Customer <input name="customerId" value=${filters.customerId} onInput=${field('customerId')} size="14" /></label>
      <label>From <input name="from" type="datetime-local" value=${filters.from} onInput=${field('from')} /></label>
      <label>To <input name="to" type="datetime-local" value=${filters.to} onInput=${field('to')} /></label>
      <button type="submit">Apply</button>
    </form>
    <${Problem} error=${page.error} />
    ${page.loading ? html`<${Loading} what="payments" />` : null}
    ${page.data
      ? html`<table class="payments">
          <caption>Your payments, newest first${cursors.length > 1 ? ` (page ${cursors.length})` : ''}</caption>
          <thead><tr><th scope="col">Created</th><th scope="col">Payment</th><th scope="col">Customer</th><th scope="col" class="num">Amount</th><th scope="col">Status</th><th scope="col">Connector</th><th scope="col" class="num">Fraud score</th></tr></thead>
          <tbody>
            ${page.data.payments.length === 0 ? html`<tr><td colspan="7">No payment matches.</td></tr>` : null}
            ${page.data.payments.map(
              (p) => html`<tr>
                <td>${dateTime(p.createdAt)}</td>
                <td><a href=${`#/payments/${p.paymentId}`}>${p.paymentId}</a></td>
                <td>${p.customerId}</td>
                <td class="num">${money(p.amount, p.currency)}</td>
                <td><${Status} status=${p.status} /></td>
                <td>${p.connectorId ?? '—'}</td>
                <td class="num">${score(p.fraud?.score)}</td>
              </tr>`,
            )}
          </tbody>
        </table>
        <nav class="pager" aria-label="Pages">
          <button type="button" disabled=${cursors.length === 1} onClick=${() => setCursors(cursors.slice(0, -1))}>Previous page</button>
          <button type="button" disabled=${!page.data.nextCursor} onClick=${() => setCursors([...cursors, page.data.nextCursor])}>Next page</button>
        </nav>`
      : null}
  </section>`;
}

/** A Solana transaction on the ledger the platform mints on (the local one: Solana Explorer with a custom RPC). */
export function ledgerLink(signature) {
  const rpc = getConfig().solanaRpcUrl;
  const cluster = rpc ? `?cluster=custom&customUrl=${encodeURIComponent(rpc)}` : '?cluster=devnet';
  return `https://explorer.solana.com/tx/${signature}${cluster}`;
}

function Step({ title, at, children }) {
  return html`<li class="step"><h3>${title}${at ? html` <time datetime=${at}>${dateTime(at)}</time>` : null}</h3>${children}</li>`;
}

function Reward({ payment }) {
  const reward = useLoad(() => (payment.status === 'succeeded' ? api('POST', '/reward', { paymentId: payment.paymentId }) : Promise.resolve(undefined)), [payment.paymentId, payment.status]);
  if (payment.status !== 'succeeded') return html`<p>No reward: only succeeded payments earn one.</p>`;
  if (reward.loading) return html`<${Loading} what="the reward" />`;
  if (reward.error) return html`<${Problem} error=${reward.error} />`;
  const r = reward.data.reward;
  const chain = r.chain ?? {};
  return html`<dl class="facts">
    <dt>Tokens</dt><dd>${r.tokensDisplay ?? r.tokens}</dd>
    <dt>Status</dt><dd>${r.status}${r.error ? ` (${r.error})` : ''}</dd>
    <dt>On chain</dt><dd>${chain.state ?? '—'}${chain.wallet ? ` to ${chain.wallet}` : ''}</dd>
    ${chain.state === 'failed' ? html`<dt>Mint failed</dt><dd>${dateTime(chain.failedAt)}: ${chain.error} (the tokens stay owed; the mints schedule sends a new transaction)</dd>` : null}
    ${chain.signature ? html`<dt>Signature</dt><dd><a href=${ledgerLink(chain.signature)} rel="noreferrer" target="_blank">${chain.signature}</a></dd>` : null}
  </dl>`;
}

export function PaymentPage({ id }) {
  const loaded = useLoad(() => api('GET', `/payments/${encodeURIComponent(id)}`), [id]);
  if (loaded.loading) return html`<${Loading} what="the payment" />`;
  if (loaded.error) return html`<${PageTitle}>Payment ${id}<//><${Problem} error=${loaded.error} /><p><a href="#/payments">Back to payments</a></p>`;
  const p = loaded.data.payment;
  return html`<article aria-labelledby="payment-title">
    <${PageTitle}><span id="payment-title">Payment ${p.paymentId}</span><//>
    <p><a href="#/payments">Back to payments</a></p>
    <dl class="facts">
      <dt>Status</dt><dd><${Status} status=${p.status} />${p.code ? ` ${p.code}` : ''}</dd>
      <dt>Amount</dt><dd>${money(p.amount, p.currency)}</dd>
      <dt>Customer</dt><dd>${p.customerId}</dd>
      ${p.card ? html`<dt>Card</dt><dd>${p.card.brand} •••• ${p.card.last4 ?? ''}</dd>` : null}
      ${p.country ? html`<dt>Country</dt><dd>${p.country}</dd>` : null}
    </dl>
    <h2>Timeline</h2>
    <ol class="timeline" aria-label="Timeline">
      <${Step} title="Created" at=${p.createdAt}><p>${p.description ?? ''}</p><//>
      ${p.fraud
        ? html`<${Step} title=${`Fraud score ${score(p.fraud.score)}: ${p.fraud.decision}`}>
            <p>Model ${p.fraud.modelVersion}${p.fraud.scoredBy ? ` (${p.fraud.scoredBy})` : ''}.</p>
            <table><caption>Reasons</caption><thead><tr><th scope="col">Reason</th><th scope="col" class="num">Weight</th><th scope="col">Detail</th></tr></thead>
            <tbody>${p.fraud.reasons.map((r) => html`<tr><td>${r.code}</td><td class="num">${r.weight.toFixed(3)}</td><td>${r.detail}</td></tr>`)}</tbody></table>
          <//>`
        : null}
      ${p.routing
        ? html`<${Step} title=${`Routed (policy ${p.routing.policyVersion})`}>
            <table><caption>Connectors ranked (the choice first)</caption><thead><tr><th scope="col">Connector</th><th scope="col" class="num">Propensity</th><th scope="col" class="num">Score</th><th scope="col" class="num">Expected success</th><th scope="col" class="num">Est. fee</th><th scope="col">Health</th></tr></thead>
            <tbody>${p.routing.ranked.map((c) => html`<tr><td>${c.connectorId}</td><td class="num">${percent(c.propensity)}</td><td class="num">${c.score.toFixed(3)}</td><td class="num">${percent(c.expectedSuccess)}</td><td class="num">${money(c.estimatedFeeMinor, p.currency)}</td><td>${c.status}</td></tr>`)}</tbody></table>
          <//>`
        : null}
      ${p.attempts.map(
        (a) => html`<${Step} title=${`Attempt ${a.attempt + 1} at ${a.connectorId}: ${a.outcome.replace('_', ' ')}`} at=${a.at}>
          <p>${a.code ? `Code ${a.code}. ` : ''}${Math.round(a.latencyMs)} ms${a.feeMinor !== undefined ? `, fee ${money(a.feeMinor, p.currency)}` : ''}.</p>
        <//>`,
      )}
      ${p.finalizedAt ? html`<${Step} title=${`Outcome: ${p.status}`} at=${p.finalizedAt}>${p.reason ? html`<p>${p.reason}</p>` : null}<//>` : null}
      ${(p.refunds ?? []).map((r) => html`<${Step} title=${`Refund ${money(r.amount, r.currency)}: ${r.status}`} at=${r.createdAt}>${r.reason ? html`<p>${r.reason}</p>` : null}<//>`)}
      <${Step} title="Reward"><${Reward} payment=${p} /><//>
    </ol>
  </article>`;
}
