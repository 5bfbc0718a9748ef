// Shared pieces of the HParams plot views (parallel coordinates, scatter plot matrix): axes, colors, labels.
import {niceTicks} from './plotting.js';
import {formatNumber, svg} from './util.js';

// matplotlib's viridis at 9 stops, interpolated: the color of the first metric, low (0) to high (1)
const VIRIDIS = ['#440154', '#472d7b', '#3b528b', '#2c728e', '#21918c', '#28ae80', '#5ec962', '#addc30', '#fde725'];

/** The parallel coordinates' margins; the color bar of both views spans the same height. */
export const MARGIN = {l: 80, r: 150, t: 44, b: 26};

/** A number as JavaScript writes it, to 6 significant digits (0.0001, 1e-7, 250000). */
export function plain(v) {
  return Number.isFinite(v) ? String(Number(v.toPrecision(6))) : formatNumber(v);
}

/** SVG text cut to `n` characters with an ellipsis (SVG has no text-overflow), the whole text as its tooltip. */
export function label(attrs, text, n) {
  const clipped = text.length > n;
  return svg('g', {class: 'hp-label'}, svg('text', {...attrs, text: clipped ? `${text.slice(0, Math.max(1, n - 1))}…` : text}),
    clipped ? svg('title', {text}) : null);
}

function viridis(t) {
  const at = Math.min(1, Math.max(0, t)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(at));
  const [a, b] = [VIRIDIS[i], VIRIDIS[i + 1]].map((hex) => [1, 3, 5].map((k) => parseInt(hex.slice(k, k + 2), 16)));
  const mix = a.map((c, k) => Math.round(c + (b[k] - c) * (at - i)));
  return `rgb(${mix.join(', ')})`;
}

/** One axis for a shown column: numbers as they are (log10 over wide positive ranges), strings and bools as
 *  categories. `raw` is the column's value per session; the axis' `values` are positions on it (null where a
 *  session has no finite value). */
export function dimension(column, raw) {
  const base = {id: column.id, label: column.label, kind: column.kind};
  if (column.type === 'number' || raw.every((v) => typeof v === 'number' || v === undefined || v === null)) {
    const values = raw.map((v) => (typeof v === 'number' && Number.isFinite(v) ? v : null));
    const finite = values.filter((v) => v !== null);
    let lo = finite.length ? Math.min(...finite) : 0;
    let hi = finite.length ? Math.max(...finite) : 1;
    if (finite.length > 1 && lo > 0 && hi / lo >= 100) {
      const ticks = [];
      for (let k = Math.floor(Math.log10(lo)); k <= Math.ceil(Math.log10(hi)); k += 1) ticks.push(k);
      return {...base, scale: 'log', values: values.map((v) => (v === null ? null : Math.log10(v))),
        range: [ticks[0], ticks[ticks.length - 1]], ticks: ticks.map((k) => [k, plain(10 ** k)])};
    }
    if (!(hi > lo)) { const pad = Math.abs(lo) * 0.1 || 1; lo -= pad; hi += pad; }
    return {...base, scale: 'linear', values, range: [lo, hi],
      ticks: niceTicks(lo, hi, 5).map((t) => [t, formatNumber(t)])};
  }
  const categories = [...new Set(raw.filter((v) => v !== undefined && v !== null).map(String))].sort();
  return {...base, scale: 'category', values: raw.map((v) => (v === undefined || v === null ? null
    : categories.indexOf(String(v)))), range: [-0.5, Math.max(0.5, categories.length - 0.5)],
  ticks: categories.map((c, i) => [i, c])};
}

/** Sessions colored by the first shown metric (viridis, low to high; grey without a finite value). */
export function colorScale(dims, list) {
  const firstMetric = dims.find((d) => d.kind === 'metric');
  const colorValues = firstMetric ? firstMetric.values : list.map(() => null);
  const finite = colorValues.filter((v) => v !== null);
  const cLo = Math.min(...finite);
  const cHi = Math.max(...finite);
  const colorOf = (v) => (v === null ? '#9e9e9e' : viridis(cHi > cLo ? (v - cLo) / (cHi - cLo) : 0.5));
  return {firstMetric, colorValues, cLo, cHi, colorOf};
}

/** The first metric's color scale as a vertical bar at the right edge of a `width` x `height` plot. */
export function colorbar(name, lo, hi, width, height) {
  const x = width - 62;
  const top = MARGIN.t;
  const h = height - MARGIN.t - MARGIN.b;
  const g = svg('g', {class: 'hp-colorbar'});
  const n = 24;
  for (let i = 0; i < n; i += 1) {
    g.append(svg('rect', {x, y: top + (h * i) / n, width: 12, height: h / n + 0.5, fill: viridis(1 - i / (n - 1))}));
  }
  g.append(svg('text', {class: 'hp-tick-label', x: x + 16, y: top + 4, text: formatNumber(hi)}),
    svg('text', {class: 'hp-tick-label', x: x + 16, y: top + h, text: formatNumber(lo)}),
    label({class: 'hp-colorbar-label', x: x - 8, y: top + h / 2, 'text-anchor': 'middle',
      transform: `rotate(-90 ${x - 8} ${top + h / 2})`}, name, Math.floor(h / 7)));
  return g;
}
