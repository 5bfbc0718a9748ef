// Custom Scalars dashboard: the runs' merged layout (data/plugin/custom_scalars/layout) as collapsible
// categories (closed ones start collapsed) of chart cards. A multiline chart draws, for each selected run,
// every scalar tag matching one of its regexes (matched server-side with TensorBoard's Python regexes):
// one line per (run, tag) in the run's color, a dash (then marker) per tag, smoothed on the server with the
// scalars dashboard's debiased EMA. A margin chart draws each series' value line with a band from lower to
// upper per run. Charts load when scrolled into view and refresh on reload. Names reach the page as text only.
import {AXIS_MODES, PLOT_CONFIG, baseLayout, plotlyText, withAlpha, xAxisLayout, xValues as seriesX}
  from './plotting.js';
import {debounce, decodeFloats, el, finite, formatNumber, groupHeader, keep, lazyCards, radios, restored,
  smoothingInputs, svg} from './util.js';

const POINTS = 1000;
const DASHES = ['solid', 'dash', 'dot', 'dashdot', 'longdash', 'longdashdot'];
const DASH_ARRAYS = {solid: '', dash: '6,3', dot: '2,2', dashdot: '6,2,2,2', longdash: '10,3', longdashdot: '10,2,2,2'};
const SYMBOLS = ['circle', 'square', 'diamond', 'triangle-up', 'x', 'cross'];
const settings = restored('custom_scalars', {smoothing: 0.6, xAxis: 'step'},
  (name, v) => ({smoothing: v >= 0 && v <= 0.999, xAxis: AXIS_MODES.includes(v)}[name] ?? true));
const save = () => keep('custom_scalars', settings);

/** Line style of the i-th tag of a chart: a dash pattern, and past six tags a marker too. */
function tagStyle(i) {
  const dash = DASHES[i % DASHES.length];
  const symbol = i >= DASHES.length ? SYMBOLS[Math.floor(i / DASHES.length - 1) % SYMBOLS.length] : null;
  return {dash, symbol};
}

export async function mount(container, ctx) {
  let layout = {};
  let layoutText = null;
  const openByTitle = new Map();  // category title -> open, once the user has toggled it
  const cards = new Set();
  const body = el('div', {class: 'cs-categories'});
  const empty = el('p', {class: 'empty-state', hidden: true,
    text: 'No custom scalars layout yet. Write one with SummaryWriter.add_custom_scalars(...) '
      + '(or tensorboardX\'s); its charts appear here.'});
  container.append(empty, body);
  buildSettings(ctx.settings, () => { for (const c of cards) if (c.data) c.draw(); }, refetchAll);

  const lazy = lazyCards(async (card) => { await card.fetch(); card.draw(); });

  function refetchAll() { lazy.reloadAll(cards); }

  function forget(section) {
    for (const card of [...cards]) {
      if (card.section === section) { lazy.unobserve(card); cards.delete(card); }
    }
  }

  function render() {
    for (const card of cards) lazy.unobserve(card);
    cards.clear();
    const categories = layout.category || [];
    empty.hidden = categories.length > 0;
    body.replaceChildren(...categories.map((category) => section(category)));
  }

  function section(category) {
    const title = category.title;
    const charts = category.chart || [];
    const open = openByTitle.has(title) ? openByTitle.get(title) : !category.closed;
    const header = groupHeader(title, charts.length, open);
    const node = el('section', {class: 'group cs-category', dataset: {category: title, open: String(open)}}, header);
    const grid = el('div', {class: 'cards', hidden: !open});
    if (open) grid.append(...charts.map((chart) => cardFor(node, title, chart).node));
    node.append(grid);
    header.addEventListener('click', () => {
      openByTitle.set(title, !open);
      forget(node);
      node.replaceWith(section(category));
    });
    return node;
  }

  function cardFor(sectionNode, category, chart) {
    const kind = chart.margin ? 'margin' : 'multiline';
    const plot = el('div', {class: 'plot'});
    const legend = el('div', {class: 'cs-legend'});
    const note = el('div', {class: 'card-note'});
    const expand = el('button', {class: 'icon-button', title: 'Expand to full width', 'aria-label': 'Expand',
      text: '⤢'});
    const node = el('div', {class: 'card cs-card', dataset: {category, chart: chart.title, kind}},
      el('div', {class: 'card-header'}, el('span', {class: 'card-title', title: chart.title, text: chart.title}),
        expand),
      el('div', {class: 'cs-regexes', text: describe(chart)}), plot, legend, note);
    const card = {node, plot, legend, note, chart, kind, section: sectionNode, data: null};
    card.fetch = kind === 'margin' ? () => fetchMargin(card) : () => fetchMultiline(card);
    card.draw = () => (kind === 'margin' ? drawMargin(card) : drawMultiline(card));
    expand.addEventListener('click', () => {
      node.classList.toggle('wide');
      if (card.data) Plotly.Plots.resize(plot);
    });
    cards.add(card);
    lazy.observe(card);
    return card;
  }

  async function fetchMultiline(card) {
    const regexes = card.chart.multiline ? card.chart.multiline.tag || [] : [];
    const runs = ctx.runs.selected();
    const result = runs.length && regexes.length
      ? await ctx.api('data/plugin/custom_scalars/batch',
        {runs, regexes, points: POINTS, smoothing: settings.smoothing})
      : {series: [], invalid: []};
    card.data = result.series.map((s) => ({...s, value: decodeFloats(s.value), smoothed: decodeFloats(s.smoothed)}));
    card.invalid = result.invalid;
  }

  async function fetchMargin(card) {
    // value, lower and upper come at the same steps (the server picks them), so each point carries its bounds
    const runs = ctx.runs.selected();
    const series = card.chart.margin.series || [];
    const result = runs.length && series.length
      ? await ctx.api('data/plugin/custom_scalars/margin', {runs, series, points: POINTS}) : {series: []};
    const bound = (list) => (list ? decodeFloats(list) : null);  // null where a bound has no point at the step
    card.data = result.series.map((s) => ({run: s.run, index: s.index, value: {...s, value: decodeFloats(s.value)},
      lower: bound(s.lower), upper: bound(s.upper)}));
  }

  const xValues = (run, s) => seriesX(settings.xAxis, ctx, run, s);

  function plotLayout(card) {
    return {...baseLayout(`${card.node.dataset.category}|${card.chart.title}`), hovermode: 'closest',
      xaxis: xAxisLayout(settings.xAxis),
      yaxis: {gridcolor: '#eee', zeroline: false, exponentformat: 'e', autorange: true}};
  }

  function drawMultiline(card) {
    const tags = [...new Set(card.data.map((s) => s.tag))].sort();
    const smoothing = settings.smoothing > 0;
    const traces = [];
    const entries = [];
    for (const s of card.data) {
      const color = ctx.runs.colorOf(s.run);
      const {dash, symbol} = tagStyle(tags.indexOf(s.tag));
      const x = xValues(s.run, s);
      if (smoothing) {
        traces.push({x, y: s.value.map(finite), type: 'scatter', mode: 'lines', hoverinfo: 'skip',
          line: {color, width: 1, dash}, opacity: 0.25, board: {run: s.run, tag: s.tag, kind: 'raw'}});
      }
      traces.push({x, y: (smoothing ? s.smoothed : s.value).map(finite), type: 'scatter',
        mode: symbol ? 'lines+markers' : 'lines', line: {color, width: 1.8, dash},
        ...(symbol ? {marker: {symbol, size: 5, color}} : {}),
        customdata: s.value.map((v, i) => [formatNumber(v), formatNumber(s.smoothed[i])]),
        meta: [plotlyText(s.run), plotlyText(s.tag)], board: {run: s.run, tag: s.tag, kind: 'line'},
        hovertemplate: `%{meta[0]} · %{meta[1]}<br>step %{x}<br>${smoothing ? 'smoothed %{customdata[1]}<br>' : ''}`
          + 'value %{customdata[0]}<extra></extra>'});
      entries.push(legendEntry(s.run, s.tag, color, dash));
    }
    Plotly.react(card.plot, traces, plotLayout(card), PLOT_CONFIG);
    card.legend.replaceChildren(...entries);
    const drawn = card.data.reduce((n, s) => n + s.step.length, 0);
    const total = card.data.reduce((n, s) => n + s.total, 0);
    card.note.textContent = [
      card.invalid && card.invalid.length ? `Invalid regex: ${card.invalid.join(', ')}` : '',
      card.data.length ? '' : 'No scalar tag of the selected runs matches this chart.',
      total > drawn ? `${drawn.toLocaleString()} of ${total.toLocaleString()} points drawn (every spike kept)` : '',
    ].filter(Boolean).join(' · ');
  }

  function drawMargin(card) {
    const traces = [];
    const entries = [];
    for (const d of card.data) {
      const color = ctx.runs.colorOf(d.run);
      const {dash} = tagStyle(d.index);
      const series = card.chart.margin.series[d.index];
      const info = {run: d.run, tag: series.value, index: d.index};
      const x = xValues(d.run, d.value);
      const banded = d.value.step.map((_, i) => d.lower !== null && d.upper !== null
        && d.lower[i] !== null && d.upper[i] !== null);
      if (banded.some(Boolean)) {
        const bandX = x.filter((_, i) => banded[i]);
        const band = (values) => values.filter((_, i) => banded[i]).map(finite);
        traces.push({x: bandX, y: band(d.lower), type: 'scatter', mode: 'lines',
          line: {width: 0, color}, hoverinfo: 'skip', board: {...info, kind: 'lower'}});
        traces.push({x: bandX, y: band(d.upper), type: 'scatter', mode: 'lines',
          line: {width: 0, color}, fill: 'tonexty', fillcolor: withAlpha(color, 0.2), hoverinfo: 'skip',
          board: {...info, kind: 'upper'}});
      }
      const head = '%{meta[0]} · %{meta[1]}<br>step %{x}<br>value %{customdata[0]}';
      const [plain, withBounds] = [`${head}<extra></extra>`,
        `${head}<br>lower %{customdata[1]}<br>upper %{customdata[2]}<extra></extra>`];
      traces.push({x, y: d.value.value.map(finite), type: 'scatter', mode: 'lines',
        line: {color, width: 1.8, dash}, meta: [plotlyText(d.run), plotlyText(series.value)],
        customdata: d.value.value.map((v, i) => [formatNumber(v),
          ...(banded[i] ? [formatNumber(d.lower[i]), formatNumber(d.upper[i])] : [])]),
        board: {...info, kind: 'line'},
        hovertemplate: banded.every(Boolean) ? withBounds  // per point where only some steps have both bounds
          : (banded.some(Boolean) ? banded.map((b) => (b ? withBounds : plain)) : plain)});
      entries.push(legendEntry(d.run, `${series.value} (${series.lower} … ${series.upper})`, color, dash));
    }
    Plotly.react(card.plot, traces, plotLayout(card), PLOT_CONFIG);
    card.legend.replaceChildren(...entries);
    card.note.textContent = card.data.length ? '' : 'No selected run has this chart\'s value tag.';
  }

  function legendEntry(run, label, color, dash) {
    const sample = svg('svg', {class: 'cs-legend-line', width: 24, height: 8, 'aria-hidden': 'true'},
      svg('line', {x1: 0, y1: 4, x2: 24, y2: 4, stroke: color, 'stroke-width': 2,
        'stroke-dasharray': DASH_ARRAYS[dash] || undefined}));
    return el('span', {class: 'cs-legend-item', dataset: {run}}, sample,
      el('span', {class: 'run-name', text: run}), el('span', {class: 'cs-legend-tag', text: label}));
  }

  async function refresh() {
    let next;
    try { next = await ctx.api('data/plugin/custom_scalars/layout'); } catch (e) { return; }
    const text = JSON.stringify(next);
    if (text !== layoutText) {
      layoutText = text;
      layout = next;
      render();
    } else {
      refetchAll();
    }
  }

  ctx.onRunsChanged(refetchAll);
  ctx.onReload(refresh);
  await refresh();
}

function describe(chart) {
  if (chart.margin) {
    return (chart.margin.series || []).map((s) => `${s.value} (${s.lower} … ${s.upper})`).join(', ');
  }
  return chart.multiline ? (chart.multiline.tag || []).join(', ') : '';
}

function buildSettings(root, redraw, refetch) {
  const apply = debounce(refetch, 120);
  const [slider, number] = smoothingInputs(settings.smoothing, (v) => { settings.smoothing = v; save(); apply(); });
  root.append(el('h2', {text: 'Smoothing (multiline charts)'}), el('div', {class: 'row'}, slider, number),
    el('h2', {text: 'Horizontal axis'}),
    radios('custom-scalars-x', AXIS_MODES, settings.xAxis, (mode) => { settings.xAxis = mode; save(); redraw(); }));
}
