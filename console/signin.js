// Sign-in on Cognito's hosted pages (the cloud console): the authorization-code flow with PKCE, for a public
// client (no secret). The verifier and state stay in this tab's sessionStorage for the round trip.
import { setToken } from './api.js';

const VERIFIER = 'smartpay.pkce.verifier';
const STATE = 'smartpay.pkce.state';

const base64url = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

function random(length) {
  return base64url(crypto.getRandomValues(new Uint8Array(length)));
}

/** Goes to the hosted sign-in page; it comes back to the console with ?code=…&state=…. */
export async function startHostedSignIn(auth) {
  const verifier = random(48);
  const state = random(16);
  sessionStorage.setItem(VERIFIER, verifier);
  sessionStorage.setItem(STATE, state);
  const challenge = base64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
  const params = new URLSearchParams({
    response_type: 'code',
    client_id: auth.clientId,
    redirect_uri: auth.redirectUri,
    scope: 'openid email profile',
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  location.assign(`${auth.domain}/oauth2/authorize?${params}`);
}

/** On the way back: exchanges the code for tokens and keeps the ID token. Resolves with nothing to do otherwise. */
export async function finishHostedSignIn(auth) {
  if (auth?.mode !== 'cognito') return undefined;
  const query = new URLSearchParams(location.search);
  const code = query.get('code');
  if (!code && !query.get('error')) return undefined;
  history.replaceState(null, '', location.pathname + location.hash);
  if (query.get('error')) throw new Error(`sign-in failed: ${query.get('error_description') ?? query.get('error')}`);
  const verifier = sessionStorage.getItem(VERIFIER);
  const expected = sessionStorage.getItem(STATE);
  sessionStorage.removeItem(VERIFIER);
  sessionStorage.removeItem(STATE);
  if (!verifier || query.get('state') !== expected) throw new Error('sign-in failed: the answer does not match the request this tab made; sign in again');
  const response = await fetch(`${auth.domain}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', client_id: auth.clientId, code, redirect_uri: auth.redirectUri, code_verifier: verifier }),
  });
  const tokens = await response.json().catch(() => ({}));
  if (!response.ok || !tokens.id_token) throw new Error(`sign-in failed: ${tokens.error ?? response.status}`);
  setToken(tokens.id_token);
  return undefined;
}
