// Histograms dashboard: one card per run and tag. OFFSET mode draws each step's histogram as a
// ridge (older steps further back and higher up), OVERLAY draws them on one axis. Buckets of all
// steps are re-binned onto one shared grid so TF1's exponential buckets and TF2's uniform ones
// look alike. The offset axis can be STEP, RELATIVE (hours) or WALL time.
import {decodeFloats, el, keep, radios, restored} from './util.js';
import {AXIS_MODES, PLOT_CONFIG, axisValue, baseLayout, niceTicks, tint} from './plotting.js';
import {cardFrame, mountRunTagCards} from './tagcards.js';

const BINS = 40;
const MAX_DRAWN = 100; // steps drawn per card; the server already thinned to <= 500
const settings = restored('histograms', {mode: 'offset', axis: 'step'},
  (name, v) => (name === 'mode' ? ['offset', 'overlay'] : AXIS_MODES).includes(v));

export async function mount(container, ctx) {
  const frame = mountRunTagCards(container, ctx, {tagsRoute: 'data/plugin/histograms/tags', noun: 'histogram',
    makeCard: (run, tag) => {
      const plot = el('div', {class: 'plot histogram-plot'});
      const note = el('div', {class: 'card-note'});
      const card = {node: cardFrame(ctx, run, tag, plot, note), plot, note, data: null};
      card.load = async () => {
        const points = await ctx.api(ctx.url('data/plugin/histograms/histograms', {run, tag}));
        card.data = points.map(([wall, step, buckets]) => ({wall, step, buckets: buckets.map(decodeFloats)}));
        draw(ctx, run, tag, card);
      };
      return card;
    }});
  const redraw = () => { for (const card of frame.cards()) if (card.data) draw(ctx, card.node.dataset.run, card.node.dataset.tag, card); };
  ctx.settings.append(
    el('h2', {text: 'Histogram mode'}), radios('histogram-mode', ['offset', 'overlay'], settings.mode,
      (m) => { settings.mode = m; keep('histograms', settings); redraw(); }),
    el('h2', {text: 'Offset time axis'}), radios('histogram-axis', AXIS_MODES, settings.axis,
      (a) => { settings.axis = a; keep('histograms', settings); redraw(); }));
  await frame.refreshTags();
}

/** Every step's buckets re-binned onto BINS equal bins spanning all steps. */
export function rebin(points) {
  let lo = Infinity; let hi = -Infinity;
  for (const p of points) {
    for (const [left, right] of p.buckets) {
      if (Number.isFinite(left)) lo = Math.min(lo, left);
      if (Number.isFinite(right)) hi = Math.max(hi, right);
    }
  }
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return null;
  if (hi <= lo) { lo -= 0.5; hi += 0.5; }
  const width = (hi - lo) / BINS;
  const centers = Array.from({length: BINS}, (_, i) => lo + (i + 0.5) * width);
  const counts = points.map((p) => {
    const out = new Float64Array(BINS);
    for (const [left, right, count] of p.buckets) {
      if (!(count > 0)) continue;
      const l = Math.max(lo, Number.isFinite(left) ? left : lo);
      const r = Math.min(hi, Number.isFinite(right) ? right : hi);
      if (r <= l) { out[Math.min(BINS - 1, Math.max(0, Math.floor((l - lo) / width)))] += count; continue; }
      for (let i = Math.max(0, Math.floor((l - lo) / width)); i < BINS && lo + i * width < r; i++) {
        const overlap = Math.min(r, lo + (i + 1) * width) - Math.max(l, lo + i * width);
        if (overlap > 0) out[i] += count * overlap / (r - l);
      }
    }
    return Array.from(out);
  });
  return {lo, hi, centers, counts};
}

function draw(ctx, run, tag, card) {
  const all = card.data;
  const stride = Math.max(1, Math.ceil(all.length / MAX_DRAWN));
  const points = all.filter((_, i) => i % stride === 0 || i === all.length - 1);
  const grid = rebin(points);
  if (!grid) { card.note.textContent = 'No finite buckets to draw.'; Plotly.purge(card.plot); return; }
  const color = ctx.runs.colorOf(run);
  const firstWall = points.length ? points[0].wall : 0;
  const offsets = points.map((p) => {
    const v = axisValue(settings.axis, ctx, run, p.step, p.wall, firstWall);
    return v instanceof Date ? v.getTime() : v;
  });
  const peak = Math.max(1e-12, ...grid.counts.flat());
  const span = points.length > 1 ? Math.max(...offsets) - Math.min(...offsets) : 1;
  const height = (span || 1) * (points.length > 1 ? 0.3 : 1);
  const traces = points.map((p, k) => {
    const t = points.length > 1 ? 0.75 * (1 - k / (points.length - 1)) : 0;
    const counts = grid.counts[k];
    const hovertemplate = `step ${p.step}<br>x %{x:.4g}<br>count %{customdata:.4g}<extra></extra>`;
    if (settings.mode === 'overlay') {
      return {x: grid.centers, y: counts, customdata: counts, type: 'scatter', mode: 'lines',
        line: {color: tint(color, t), width: 1.2}, hovertemplate};
    }
    const base = offsets[k];
    return {x: [grid.lo, ...grid.centers, grid.hi], y: [base, ...counts.map((c) => base - height * c / peak), base],
      customdata: [0, ...counts, 0], type: 'scatter', mode: 'lines', fill: 'toself', fillcolor: tint(color, 0.92),
      line: {color: tint(color, t), width: 1}, hovertemplate};
  });
  const layout = {...baseLayout(`${run}\u0000${tag}\u0000${settings.mode}\u0000${settings.axis}`), hovermode: 'closest',
    xaxis: {gridcolor: '#eee', zeroline: false, exponentformat: 'e'},
    yaxis: settings.mode === 'overlay' ? {autorange: true, gridcolor: '#eee', zeroline: false, title: {text: 'count'}}
      : {autorange: 'reversed', type: settings.axis === 'wall' ? 'date' : 'linear', gridcolor: '#eee',
        zeroline: false, side: 'right', title: {text: {step: 'step', relative: 'hours', wall: ''}[settings.axis]},
        // the oldest ridge rises above its step: label only the steps (or hours) that were logged
        ...(settings.axis === 'wall' ? {} : {tickmode: 'array',
          tickvals: niceTicks(Math.min(...offsets), Math.max(...offsets))})},
  };
  layout.margin = {...layout.margin, r: settings.mode === 'offset' ? 56 : 12};
  Plotly.react(card.plot, traces, layout, PLOT_CONFIG);
  card.plot.dataset.mode = settings.mode;
  card.plot.dataset.steps = String(points.length);
  card.note.textContent = points.length < all.length
    ? `${points.length} of ${all.length} steps drawn` : `${all.length} step${all.length === 1 ? '' : 's'}`;
}
