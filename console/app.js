// The SmartPay console: sign-in, navigation and the pages. Hash routes: #/payments, #/payments/<id>, #/routing,
// #/fraud, #/rewards, #/chat. Every figure comes from the API with the merchant's own token, so a merchant only
// ever sees its own payments.
import { claims, expired, getConfig, loadConfig, setToken, token } from './api.js';
import { finishHostedSignIn, startHostedSignIn } from './signin.js';
import { html, render, useEffect, useState } from './ui.js';
import { ChatPage } from './pages/chat.js';
import { FraudPage, RewardsPage, RoutingPage } from './pages/insights.js';
import { PaymentPage, PaymentsPage } from './pages/payments.js';

const PAGES = [
  { path: 'payments', label: 'Payments', view: PaymentsPage },
  { path: 'routing', label: 'Routing', view: RoutingPage },
  { path: 'fraud', label: 'Fraud', view: FraudPage },
  { path: 'rewards', label: 'Rewards', view: RewardsPage },
  { path: 'chat', label: 'Chat', view: ChatPage },
];

function useRoute() {
  const read = () => location.hash.replace(/^#\/?/, '') || 'payments';
  const [route, setRoute] = useState(read());
  useEffect(() => {
    const on = () => setRoute(read());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}

function SignIn({ onSignedIn, reason }) {
  const [value, setValue] = useState('');
  if (getConfig().auth?.mode === 'cognito') {
    return html`<main id="main" class="signin">
      <h1>Sign in to the SmartPay console</h1>
      ${reason ? html`<p class="problem" role="alert">${reason}</p>` : null}
      <p>You sign in on your organisation's SmartPay sign-in page (with your authenticator code), then come back here.</p>
      <button type="submit" onClick=${() => startHostedSignIn(getConfig().auth)}>Sign in</button>
    </main>`;
  }
  const submit = (e) => {
    e.preventDefault();
    setToken(value.trim());
    onSignedIn();
  };
  return html`<main id="main" class="signin">
    <h1>Sign in to the SmartPay console</h1>
    ${reason ? html`<p class="problem" role="alert">${reason}</p>` : null}
    <form onSubmit=${submit}>
      <label for="token">ID token</label>
      <textarea id="token" name="token" rows="4" value=${value} onInput=${(e) => setValue(e.currentTarget.value)} required
        aria-describedby="token-help"></textarea>
      <p id="token-help">Locally: <code>npm run token -- --merchant m_demo</code> prints one. It is kept in this tab only.</p>
      <button type="submit">Sign in</button>
    </form>
  </main>`;
}

function App() {
  const route = useRoute();
  const [, setSignedIn] = useState(0);
  if (!token() || expired()) {
    const reason = token() ? 'Your token has expired: sign in again.' : document.getElementById('app').dataset.problem;
    return html`<${SignIn} reason=${reason} onSignedIn=${() => setSignedIn((n) => n + 1)} />`;
  }
  const [first, rest] = [route.split('/')[0], route.split('/').slice(1).join('/')];
  const page = PAGES.find((p) => p.path === first) ?? PAGES[0];
  const merchant = claims()?.['custom:merchantId'] ?? '?';
  const signOut = () => {
    setToken(undefined);
    setSignedIn((n) => n + 1);
  };
  return html`<header class="top">
      <span class="brand">SmartPay</span>
      <nav aria-label="Console"><ul>${PAGES.map((p) => html`<li><a href=${`#/${p.path}`} aria-current=${p === page ? 'page' : undefined}>${p.label}</a></li>`)}</ul></nav>
      <span class="who">Merchant <strong>${merchant}</strong> <button type="button" onClick=${signOut}>Sign out</button></span>
    </header>
    <main id="main">${page.path === 'payments' && rest ? html`<${PaymentPage} id=${decodeURIComponent(rest)} />` : html`<${page.view} />`}</main>`;
}

async function start() {
  // A token handed over in the URL's fragment (npm start prints such a link): kept in this tab, removed from the URL.
  const handed = /[#&?]token=([^&]+)/.exec(location.hash)?.[1];
  if (handed) {
    setToken(decodeURIComponent(handed));
    history.replaceState(null, '', `${location.pathname}#/payments`);
  }
  await loadConfig();
  const root = document.getElementById('app');
  // Back from the hosted sign-in page with an authorization code: exchange it (PKCE) for the ID token.
  const problem = await finishHostedSignIn(getConfig().auth).catch((error) => error.message);
  if (problem) root.dataset.problem = problem;
  root.textContent = '';
  render(html`<${App} />`, root);
}

start();
