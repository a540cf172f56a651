// The chart pages: routing, fraud (with the label queue) and rewards (with the failed mints), from GET /insights.
import { api, query } from '../api.js';
import { BarChart, TimeChart } from '../charts.js';
import { dateTime, money, percent, score } from '../format.js';
import { html, Loading, PageTitle, Problem, useLoad, useState, WINDOWS, WindowPicker } from '../ui.js';
import { ledgerLink } from './payments.js';

function useInsights(view, windowId) {
  const w = WINDOWS.find((x) => x.id === windowId) ?? WINDOWS[1];
  return useLoad(() => api('GET', `/insights${query({ view, from: new Date(Date.now() - w.ms).toISOString(), interval: w.interval })}`), [view, windowId]);
}

function Page({ title, id, children, windowId, setWindowId }) {
  return html`<section aria-labelledby=${id}>
    <${PageTitle}><span id=${id}>${title}</span><//>
    <${WindowPicker} value=${windowId} onChange=${setWindowId} />
    ${children}
  </section>`;
}

/** The share of these payments whose first choice was not the best-scored connector (the policy exploring). */
function explored(payments) {
  const routed = payments.filter((p) => p.routing?.ranked?.length);
  const exploring = routed.filter((p) => p.routing.ranked.some((c) => c.score > p.routing.ranked[0].score));
  return { routed: routed.length, exploring: exploring.length };
}

function RouterNow() {
  const state = useLoad(() => api('GET', '/route/state'), []);
  const recent = useLoad(() => api('GET', `/payments${query({ limit: 100 })}`), []);
  if (state.error) return html`<${Problem} error=${state.error} />`;
  if (!state.data) return html`<${Loading} what="the router's state" />`;
  const s = state.data.state;
  const share = recent.data ? explored(recent.data.payments) : undefined;
  return html`<section aria-labelledby="router-now"><h2 id="router-now">The router now (policy ${s.policyVersion})</h2>
    <p>Exploration: ${percent(s.exploration)} of first choices are spread evenly over the healthy connectors${share && share.routed
      ? html`; in your latest ${share.routed} routed payments, ${share.exploring} (${percent(share.exploring / share.routed)}) went first to a connector that was not the best-scored`
      : null}.</p>
    <table><caption>Connectors: circuit breaker and fees</caption>
      <thead><tr><th scope="col">Connector</th><th scope="col">Kind</th><th scope="col">Enabled</th><th scope="col">Breaker</th><th scope="col" class="num">Recent attempts</th><th scope="col">Fee</th><th scope="col">Methods</th><th scope="col">Currencies</th></tr></thead>
      <tbody>${s.connectors.map(
        (c) => html`<tr><td>${c.connectorId}</td><td>${c.kind}</td><td>${c.enabled ? 'yes' : 'no'}</td>
          <td><span class=${`badge badge-${c.status === 'healthy' ? 'succeeded' : c.status === 'demoted' ? 'declined' : 'review'}`}>${c.status}</span>${c.probeShare !== undefined ? ` (probing ${percent(c.probeShare)})` : ''}</td>
          <td class="num">${c.recentAttempts}</td><td>${feeText(c.fee)}</td><td>${c.methods.join(', ')}</td><td>${c.currencies.join(', ')}</td></tr>`,
      )}</tbody></table>
  </section>`;
}

/** A fee schedule in words: "2.90% + 30 (minor units)", with its rules counted. */
function feeText(fee) {
  if (!fee || typeof fee.basisPoints !== 'number') return '—';
  const base = `${(fee.basisPoints / 100).toFixed(2)}% + ${fee.fixedMinor ?? 0} minor units`;
  return fee.rules?.length ? `${base} (${fee.rules.length} rule${fee.rules.length === 1 ? '' : 's'})` : base;
}

export function RoutingPage() {
  const [windowId, setWindowId] = useState('7d');
  const figures = useInsights('routing', windowId);
  const d = figures.data;
  const connectors = d ? d.connectors.map((c) => c.connectorId) : [];
  return html`<${Page} title="Routing" id="routing-title" windowId=${windowId} setWindowId=${setWindowId}>
    <${RouterNow} />
    <${Problem} error=${figures.error} />
    ${figures.loading && !d ? html`<${Loading} what="routing figures" />` : null}
    ${d
      ? html`<dl class="facts kpis">
          <dt>Payments routed</dt><dd>${d.payments}</dd>
          <dt>Approval rate</dt><dd>${percent(d.payments ? d.succeeded / d.payments : null)}</dd>
          <dt>Fell back</dt><dd>${d.fallbacks} (${percent(d.payments ? d.fallbacks / d.payments : null)})</dd>
          <dt>Volume</dt><dd>${d.volume.length ? d.volume.map((v) => money(v.amount, v.currency)).join(', ') : '—'}</dd>
        </dl>
        <table><caption>Per connector over the window</caption>
          <thead><tr><th scope="col">Connector</th><th scope="col" class="num">Tried</th><th scope="col" class="num">Charged</th><th scope="col" class="num">Approval rate</th></tr></thead>
          <tbody>${d.connectors.map((c) => html`<tr><td>${c.connectorId}</td><td class="num">${c.tried}</td><td class="num">${c.charged}</td><td class="num">${percent(c.approvalRate)}</td></tr>`)}</tbody>
        </table>
        <div class="charts">
          <${TimeChart} title="Approval rate per connector" percent=${true} times=${d.series.map((b) => b.at)}
            series=${connectors.map((id) => ({ label: id, values: d.series.map((b) => b.connectors.find((c) => c.connectorId === id)?.approvalRate ?? null) }))} />
          <${TimeChart} title="Volume per connector (payments tried)" times=${d.series.map((b) => b.at)}
            series=${connectors.map((id) => ({ label: id, values: d.series.map((b) => b.connectors.find((c) => c.connectorId === id)?.tried ?? 0) }))} />
          <${TimeChart} title="Learning curve: the approval rate of routed payments" percent=${true} times=${d.series.map((b) => b.at)}
            series=${[{ label: 'approval rate', values: d.series.map((b) => (b.payments ? b.succeeded / b.payments : null)) }]} />
        </div>`
      : null}
  <//>`;
}

function LabelQueue() {
  // The held payments, and the labels already given to them (GET /fraud/labels).
  const queue = useLoad(async () => {
    const page = await api('GET', `/payments${query({ status: 'review', limit: 50 })}`);
    const ids = page.payments.map((p) => p.paymentId);
    const given = ids.length ? (await api('GET', `/fraud/labels${query({ paymentIds: ids.join(',') })}`)).labels : [];
    return { ...page, labels: Object.fromEntries(given.map((l) => [l.paymentId, l.fraud ? 'fraud' : 'legitimate'])) };
  }, []);
  const [labelled, setLabelled] = useState({});
  const [problem, setProblem] = useState();
  const label = async (paymentId, fraud) => {
    setProblem(undefined);
    try {
      await api('POST', '/fraud/labels', { paymentId, fraud });
      setLabelled({ ...labelled, [paymentId]: fraud ? 'fraud' : 'legitimate' });
    } catch (error) {
      setProblem(error);
    }
  };
  return html`<section aria-labelledby="queue-title">
    <h2 id="queue-title">Label queue: payments held for review</h2>
    <${Problem} error=${queue.error ?? problem} />
    ${queue.loading ? html`<${Loading} what="the held payments" />` : null}
    ${queue.data
      ? html`<table class="queue"><caption>Held for review, newest first</caption>
          <thead><tr><th scope="col">Created</th><th scope="col">Payment</th><th scope="col" class="num">Amount</th><th scope="col" class="num">Score</th><th scope="col">Top reason</th><th scope="col">Label</th></tr></thead>
          <tbody>
            ${queue.data.payments.length === 0 ? html`<tr><td colspan="6">Nothing is held for review.</td></tr>` : null}
            ${queue.data.payments.map(
              (p) => html`<tr>
                <td>${dateTime(p.createdAt)}</td>
                <td><a href=${`#/payments/${p.paymentId}`}>${p.paymentId}</a></td>
                <td class="num">${money(p.amount, p.currency)}</td>
                <td class="num">${score(p.fraud?.score)}</td>
                <td>${p.fraud?.reasons?.[0]?.code ?? '—'}</td>
                <td>${labelled[p.paymentId] ?? queue.data.labels[p.paymentId]
                  ? html`<span role="status">Labelled ${labelled[p.paymentId] ?? queue.data.labels[p.paymentId]}</span>`
                  : html`<button type="button" onClick=${() => label(p.paymentId, true)} aria-label=${`Label ${p.paymentId} fraud`}>Fraud</button>
                      <button type="button" onClick=${() => label(p.paymentId, false)} aria-label=${`Label ${p.paymentId} legitimate`}>Legitimate</button>`}</td>
              </tr>`,
            )}
          </tbody></table>`
      : null}
  </section>`;
}

export function FraudPage() {
  const [windowId, setWindowId] = useState('7d');
  const figures = useInsights('fraud', windowId);
  const d = figures.data;
  return html`<${Page} title="Fraud" id="fraud-title" windowId=${windowId} setWindowId=${setWindowId}>
    <${Problem} error=${figures.error} />
    ${figures.loading && !d ? html`<${Loading} what="fraud figures" />` : null}
    ${d
      ? html`<dl class="facts kpis">
          <dt>Scored</dt><dd>${d.scored}</dd>
          <dt>Approved</dt><dd>${d.decisions.approve}</dd>
          <dt>Held for review</dt><dd>${d.decisions.review}</dd>
          <dt>Declined</dt><dd>${d.decisions.decline}</dd>
        </dl>
        <div class="charts">
          <${BarChart} title="Score distribution" labels=${d.scores.map((b) => b.from.toFixed(2))} values=${d.scores.map((b) => b.count)} />
          <${TimeChart} title="Decisions over time" times=${d.series.map((b) => b.at)}
            series=${[{ label: 'approve', values: d.series.map((b) => b.approve) }, { label: 'review', values: d.series.map((b) => b.review) }, { label: 'decline', values: d.series.map((b) => b.decline) }]} />
        </div>
        <table><caption>Top reasons (payments giving each)</caption><thead><tr><th scope="col">Reason</th><th scope="col" class="num">Payments</th></tr></thead>
          <tbody>${d.reasons.map((r) => html`<tr><td>${r.code}</td><td class="num">${r.count}</td></tr>`)}</tbody></table>`
      : null}
    <${LabelQueue} />
  <//>`;
}

export function RewardsPage() {
  const [windowId, setWindowId] = useState('30d');
  const figures = useInsights('rewards', windowId);
  const recent = useLoad(() => api('GET', `/payments${query({ status: 'succeeded', limit: 10 })}`), []);
  const d = figures.data;
  return html`<${Page} title="Rewards" id="rewards-title" windowId=${windowId} setWindowId=${setWindowId}>
    <${Problem} error=${figures.error} />
    ${d
      ? html`<dl class="facts kpis">
          <dt>Issued</dt><dd>${d.issued.tokens} tokens (${d.issued.count})</dd>
          <dt>Minted</dt><dd>${d.minted.tokens} tokens (${d.minted.count})</dd>
          <dt>Pending</dt><dd>${pending(d)} tokens</dd>
          <dt>Clawed back</dt><dd>${d.clawedBack.tokens} tokens (${d.clawedBack.count})</dd>
          <dt>Failed mints</dt><dd>${d.failedMints.count} transaction${d.failedMints.count === 1 ? '' : 's'} for ${d.failedMints.rewards} reward${d.failedMints.rewards === 1 ? '' : 's'}</dd>
        </dl>
        <div class="charts"><${TimeChart} title="Tokens over time" times=${d.series.map((b) => b.at)}
          series=${[{ label: 'issued', values: d.series.map((b) => Number(b.issued)) }, { label: 'minted', values: d.series.map((b) => Number(b.minted)) }, { label: 'clawed back', values: d.series.map((b) => Number(b.clawedBack)) }]} />
          <${TimeChart} title="Failed mint transactions" times=${d.series.map((b) => b.at)} series=${[{ label: 'failed', values: d.series.map((b) => b.failedMints) }]} /></div>
        <${FailedMints} figures=${d.failedMints} />`
      : html`<${Loading} what="reward figures" />`}
    <section aria-labelledby="recent-rewards"><h2 id="recent-rewards">Latest rewards</h2>
      <${Problem} error=${recent.error} />
      ${recent.data ? html`<ul class="rewards">${recent.data.payments.map((p) => html`<li><${RewardLine} paymentId=${p.paymentId} /></li>`)}</ul>` : null}
    </section>
  <//>`;
}

/** The rewards whose mint transactions failed in the window, most failures first, each with where it stands now. */
function FailedMints({ figures }) {
  return html`<section aria-labelledby="failed-mints"><h2 id="failed-mints">Failed mints</h2>
    ${figures.mostFailed.length === 0
      ? html`<p>No mint transaction failed in this window.</p>`
      : html`<p>Each failed transaction minted nothing; its reward's tokens stay owed, and the mints schedule sends a new one once the cause (a treasury without SOL, a rotated mint authority) is fixed.</p>
        <ul class="rewards">${figures.mostFailed.map(
          (f) => html`<li>${f.rewardId.startsWith('clm_') ? html`claim ${f.rewardId}` : html`<${RewardLine} paymentId=${f.rewardId} />`}: ${f.failures} failed transaction${f.failures === 1 ? '' : 's'}</li>`,
        )}</ul>`}
  </section>`;
}

/** Issued less minted and clawed back, exactly (decimal strings of at most 9 decimals). */
function pending(d) {
  const nanos = (text) => {
    const [whole, fraction = ''] = text.split('.');
    return BigInt(whole) * 1_000_000_000n + BigInt((fraction + '000000000').slice(0, 9));
  };
  const left = nanos(d.issued.tokens) - nanos(d.minted.tokens) - nanos(d.clawedBack.tokens);
  const whole = left / 1_000_000_000n;
  const fraction = (left % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  return fraction ? `${whole}.${fraction}` : String(whole);
}

function RewardLine({ paymentId }) {
  const reward = useLoad(() => api('POST', '/reward', { paymentId }), [paymentId]);
  if (reward.loading) return html`<span>${paymentId}: loading…</span>`;
  if (reward.error) return html`<span>${paymentId}: ${reward.error.message}</span>`;
  const r = reward.data.reward;
  const chain = r.chain ?? {};
  const tokens = r.tokensDisplay ?? r.tokens;
  return html`<a href=${`#/payments/${paymentId}`}>${paymentId}</a>: ${tokens} token${tokens === '1' ? '' : 's'},${' '}<span class=${`badge badge-${chain.state === 'minted' ? 'succeeded' : chain.state === 'failed' ? 'declined' : 'review'}`}>${chain.state ?? r.status}</span>
    ${chain.state === 'failed' ? html` (${chain.error}, ${dateTime(chain.failedAt)})` : null}
    ${chain.signature ? html` (<a href=${ledgerLink(chain.signature)} rel="noreferrer" target="_blank">${chain.state === 'minted' ? 'on the ledger' : 'its transaction'}</a>)` : null}`;
}
