// Charts with uPlot (loaded as a classic script: window.uPlot). Each chart has a text alternative: a table of its
// data that screen readers get, and anyone can open.
import { html, useEffect, useRef } from './ui.js';

const PALETTE = ['#0969da', '#1a7f37', '#cf222e', '#8250df', '#bf8700', '#0a7b83', '#bc4c00', '#6e7781'];

function useUplot(build, deps) {
  const ref = useRef();
  useEffect(() => {
    if (!ref.current || !window.uPlot) return undefined;
    const width = Math.max(320, ref.current.clientWidth || 640);
    const plot = build(width, ref.current);
    return () => plot.destroy();
  }, deps);
  return ref;
}

function DataTable({ caption, head, rows }) {
  return html`<details class="data"><summary>Data: ${caption}</summary><table><caption class="sr-only">${caption}</caption><thead><tr>${head.map((c) => html`<th scope="col">${c}</th>`)}</tr></thead><tbody>${rows.map((r) => html`<tr>${r.map((c) => html`<td>${c}</td>`)}</tr>`)}</tbody></table></details>`;
}

/** Lines over time: x = ISO times, series = [{label, values, percent?}]. */
export function TimeChart({ title, times, series, percent = false, height = 220 }) {
  const xs = times.map((t) => Date.parse(t) / 1000);
  const ref = useUplot(
    (width, el) =>
      new window.uPlot(
        {
          width,
          height,
          scales: percent ? { y: { range: [0, 1] } } : {},
          axes: [{}, { values: (_u, ticks) => ticks.map((v) => (percent ? `${Math.round(v * 100)}%` : String(v))) }],
          series: [{}, ...series.map((s, i) => ({ label: s.label, stroke: PALETTE[i % PALETTE.length], width: 2, spanGaps: false }))],
        },
        [xs, ...series.map((s) => s.values)],
        el,
      ),
    [JSON.stringify([times, series])],
  );
  const fmt = (v) => (v === null || v === undefined ? '—' : percent ? `${(v * 100).toFixed(1)}%` : String(v));
  return html`<figure class="chart"><figcaption>${title}</figcaption><div ref=${ref} role="img" aria-label=${`${title}: chart; the data table follows`}></div>
    <${DataTable} caption=${title} head=${['time (UTC)', ...series.map((s) => s.label)]} rows=${times.map((t, i) => [t.slice(0, 16).replace('T', ' '), ...series.map((s) => fmt(s.values[i]))])} /></figure>`;
}

/** Bars: labels and values (one series). */
export function BarChart({ title, labels, values, height = 220 }) {
  const ref = useUplot(
    (width, el) =>
      new window.uPlot(
        {
          width,
          height,
          scales: { x: { time: false, range: [-0.5, labels.length - 0.5] } },
          axes: [{ values: (_u, ticks) => ticks.map((t) => labels[Math.round(t)] ?? ''), space: 40 }, {}],
          series: [{}, { label: title, stroke: PALETTE[0], fill: 'rgba(9,105,218,0.35)', paths: window.uPlot.paths.bars({ size: [0.8, 60] }), points: { show: false } }],
          legend: { show: false },
        },
        [labels.map((_, i) => i), values],
        el,
      ),
    [JSON.stringify([labels, values])],
  );
  return html`<figure class="chart"><figcaption>${title}</figcaption><div ref=${ref} role="img" aria-label=${`${title}: chart; the data table follows`}></div>
    <${DataTable} caption=${title} head=${['', 'count']} rows=${labels.map((l, i) => [l, String(values[i])])} /></figure>`;
}
