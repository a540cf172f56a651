// The console's building blocks: preact with htm (no build step), and small shared components.
import { h, render } from './vendor/preact.js';
import { useEffect, useRef, useState, useCallback } from './vendor/hooks.js';
import htm from './vendor/htm.js';

export const html = htm.bind(h);
export { render, useEffect, useRef, useState, useCallback };

/** Runs an async load when its keys change: {loading, error, data, reload}. */
export function useLoad(load, keys) {
  const [state, setState] = useState({ loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true, error: undefined }));
    load().then(
      (data) => live && setState({ loading: false, data }),
      (error) => live && setState({ loading: false, error }),
    );
    return () => {
      live = false;
    };
  }, [...keys, tick]);
  return { ...state, reload: () => setTick((t) => t + 1) };
}

export function Problem({ error }) {
  if (!error) return null;
  const fields = (error.details?.issues ?? []).map((i) => `${i.field}: ${i.problem ?? i.message ?? ''}`);
  return html`<div class="problem" role="alert"><strong>${error.code ?? 'error'}</strong>: ${error.message}${fields.length ? html`<ul>${fields.map((f) => html`<li>${f}</li>`)}</ul>` : null}</div>`;
}

export function Loading({ what }) {
  return html`<p class="loading" role="status">Loading ${what}…</p>`;
}

export function Status({ status }) {
  return html`<span class=${`badge badge-${status}`}>${status.replace('_', ' ')}</span>`;
}

/** A page's heading, focused when the page opens (screen readers hear where they are). */
export function PageTitle({ children }) {
  const ref = useRef();
  useEffect(() => ref.current?.focus(), []);
  return html`<h1 tabindex="-1" ref=${ref}>${children}</h1>`;
}

/** The window pickers the chart pages share: the last 24 hours, 7, 30 or 90 days. */
export const WINDOWS = [
  { id: '24h', label: 'Last 24 hours', ms: 86_400_000, interval: 'hour' },
  { id: '7d', label: 'Last 7 days', ms: 7 * 86_400_000, interval: 'day' },
  { id: '30d', label: 'Last 30 days', ms: 30 * 86_400_000, interval: 'day' },
  { id: '90d', label: 'Last 90 days', ms: 90 * 86_400_000, interval: 'day' },
];

export function WindowPicker({ value, onChange }) {
  return html`<label class="picker">Window <select value=${value} onChange=${(e) => onChange(e.currentTarget.value)}>${WINDOWS.map((w) => html`<option value=${w.id}>${w.label}</option>`)}</select></label>`;
}
