// The API as the console calls it: the signed-in merchant's ID token on every call, JSON in and out, errors as
// thrown ApiErrors carrying the API's {error:{code,message,details}}.
const TOKEN_KEY = 'smartpay.token';

let config = { apiBase: '', auth: { mode: 'token' } };

export async function loadConfig() {
  const response = await fetch('config.json', { cache: 'no-store' });
  if (response.ok) config = await response.json();
  return config;
}

export const getConfig = () => config;

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = body?.error?.code ?? 'http_error';
    this.details = body?.error?.details;
  }
}

export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(value) {
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  else sessionStorage.removeItem(TOKEN_KEY);
}

/** The claims of the token (unverified: for display only; the API verifies it on every call). */
export function claims() {
  const value = token();
  if (!value) return undefined;
  try {
    const payload = value.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(decodeURIComponent(escape(atob(payload))));
  } catch {
    return undefined;
  }
}

export function expired() {
  const c = claims();
  return !c || (typeof c.exp === 'number' && c.exp * 1000 <= Date.now());
}

export async function api(method, path, body, headers = {}) {
  const response = await fetch(`${config.apiBase}${path}`, {
    method,
    headers: { authorization: `Bearer ${token()}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let json;
  try {
    json = await response.json();
  } catch {
    json = undefined;
  }
  if (!response.ok) {
    if (response.status === 401) setToken(undefined);
    throw new ApiError(response.status, json);
  }
  return json;
}

/** A query string of the given values, leaving out the empty ones. */
export function query(values) {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(values)) if (value !== undefined && value !== null && value !== '') params.set(name, String(value));
  const text = params.toString();
  return text ? `?${text}` : '';
}
