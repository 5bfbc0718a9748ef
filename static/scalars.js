// Scalars dashboard: tag cards grouped by name scope, smoothing computed server-side on the full
// series, extreme-keeping downsampling, STEP / RELATIVE / WALL axes, log scale, optional outlier-free
// y scaling, a sortable tooltip listing every visible run, CSV/JSON downloads, expandable cards, zoom
// kept across reloads, settings kept across page loads.
import {AXIS_MODES, PLOT_CONFIG, baseLayout, xAxisLayout, xValues as seriesX} from './plotting.js';
import {debounce, decodeFloats, el, finite, formatDuration, formatNumber, groupSections, groupTags, keep, lazyCards,
  nearestIndex, radios, restored, smoothingInputs, userRegex} from './util.js';

const POINTS = 1000;
const SORTS = ['descending', 'ascending', 'nearest', 'name'];
const settings = restored('scalars',
  {smoothing: 0.6, xAxis: 'step', logY: false, ignoreOutliers: false, sort: 'descending', tagFilter: ''},
  (name, v) => ({smoothing: v >= 0 && v <= 0.999, xAxis: AXIS_MODES.includes(v),
    sort: SORTS.includes(v)}[name] ?? true));
const save = () => keep('scalars', settings);

export async function mount(container, ctx) {
  let tagsByRun = {};
  const cards = new Map(); // tag -> card state
  const openGroups = new Set();
  const groupsEl = el('div', {class: 'groups'});
  const tagFilter = el('input', {class: 'filter tag-filter', type: 'search', placeholder: 'Filter tags (regex)',
    'aria-label': 'Filter tags', value: settings.tagFilter});
  const empty = el('p', {class: 'empty-state', hidden: true});
  container.append(el('div', {class: 'toolbar'}, tagFilter), empty, groupsEl);
  buildSettings(ctx.settings, () => redrawAll(), () => refetchAll());

  tagFilter.addEventListener('input', debounce(() => {
    settings.tagFilter = tagFilter.value;
    save();
    render();
  }, 150));

  const lazy = lazyCards(fetchCard);

  function allTags() {
    const tags = new Set();
    for (const run of ctx.runs.selected()) for (const tag of Object.keys(tagsByRun[run] || {})) tags.add(tag);
    return tags;
  }

  function render() {
    const re = userRegex(settings.tagFilter);
    tagFilter.classList.toggle('invalid', re === undefined);
    const tags = [...allTags()].filter((t) => !re || re.test(t));
    const groups = groupTags(tags);
    empty.hidden = tags.length > 0;
    empty.textContent = Object.keys(tagsByRun).length ? 'No scalar tags match the selected runs and filter.'
      : 'No scalar data yet. Runs appear here as soon as their first scalar is written.';
    const keep = new Set(tags);
    for (const [tag, card] of cards) if (!keep.has(tag)) { lazy.unobserve(card); cards.delete(tag); }
    groupsEl.replaceChildren(...groupSections(groups, openGroups, settings.tagFilter !== '', render, (list) => list,
      (tag) => cardFor(tag).node));
  }

  function cardFor(tag) {
    if (cards.has(tag)) return cards.get(tag);
    const plot = el('div', {class: 'plot'});
    const downloads = el('div', {class: 'downloads', hidden: true});
    const expand = el('button', {class: 'icon-button', title: 'Expand to full width', 'aria-label': 'Expand',
      text: '⤢'});
    const dl = el('button', {class: 'icon-button', title: 'Download data', 'aria-label': 'Download', text: '↓'});
    const note = el('div', {class: 'card-note'});
    const node = el('div', {class: 'card', dataset: {tag}},
      el('div', {class: 'card-header'}, el('span', {class: 'card-title', title: tag, text: tag}), dl, expand),
      downloads, plot, note);
    const card = {tag, node, plot, downloads, note, data: null};
    expand.addEventListener('click', () => {
      node.classList.toggle('wide');
      if (card.data) Plotly.Plots.resize(plot);
    });
    dl.addEventListener('click', () => { renderDownloads(card); downloads.hidden = !downloads.hidden; });
    plot.addEventListener('mousemove', (e) => showTooltip(card, e));
    plot.addEventListener('mouseleave', () => { ctx.tooltip.hidden = true; });
    cards.set(tag, card);
    lazy.observe(card);
    return card;
  }

  function renderDownloads(card) {
    card.downloads.replaceChildren(...ctx.runs.selected().filter((r) => tagsByRun[r] && tagsByRun[r][card.tag])
      .map((run) => el('div', {class: 'download-row'}, el('span', {class: 'run-name', text: run}),
        el('a', {href: ctx.url('data/plugin/scalars/scalars', {run, tag: card.tag, format: 'csv'}),
          download: `${run}_${card.tag}.csv`.replace(/[^\w.-]+/g, '_'), text: 'CSV'}),
        el('a', {href: ctx.url('data/plugin/scalars/scalars', {run, tag: card.tag}),
          download: `${run}_${card.tag}.json`.replace(/[^\w.-]+/g, '_'), text: 'JSON'}))));
  }

  async function fetchCard(card) {
    const series = ctx.runs.selected().filter((r) => tagsByRun[r] && tagsByRun[r][card.tag])
      .map((run) => ({run, tag: card.tag}));
    if (!series.length) { card.data = []; draw(card); return; }
    const result = await ctx.api('data/plugin/scalars/batch', {series, points: POINTS, smoothing: settings.smoothing});
    card.data = result.series.filter((s) => !s.missing).map((s) => ({
      run: s.run, total: s.total, step: s.step, wall: s.wall,
      value: decodeFloats(s.value), smoothed: decodeFloats(s.smoothed)}));
    draw(card);
  }

  const xValues = (s) => seriesX(settings.xAxis, ctx, s.run, s);

  function draw(card) {
    const traces = [];
    const smoothing = settings.smoothing > 0;
    for (const s of card.data) {
      const color = ctx.runs.colorOf(s.run);
      const x = xValues(s);
      traces.push({x, y: s.value.map(finite), type: 'scatter', mode: 'lines', hoverinfo: 'none',
        line: {color, width: smoothing ? 1 : 1.6}, opacity: smoothing ? 0.25 : 1, meta: {run: s.run, kind: 'raw'}});
      if (smoothing) {
        traces.push({x, y: s.smoothed.map(finite), type: 'scatter', mode: 'lines', hoverinfo: 'none',
          line: {color, width: 1.8}, meta: {run: s.run, kind: 'smoothed'}});
      }
    }
    const range = settings.ignoreOutliers ? inlierRange(card.data, smoothing, settings.logY) : null;
    // a new uirevision when the scaling rule changes, so the chart takes the new range even if zoomed
    const layout = {...baseLayout(`${card.tag}|${settings.ignoreOutliers}`), hovermode: false,
      xaxis: xAxisLayout(settings.xAxis),
      yaxis: {type: settings.logY ? 'log' : 'linear', gridcolor: '#eee', zeroline: false, exponentformat: 'e',
        ...(range ? {range, autorange: false} : {autorange: true})},
    };
    Plotly.react(card.plot, traces, layout, PLOT_CONFIG);
    const total = card.data.reduce((n, s) => n + s.total, 0);
    const drawn = card.data.reduce((n, s) => n + s.step.length, 0);
    card.note.textContent = total > drawn
      ? `${drawn.toLocaleString()} of ${total.toLocaleString()} points drawn (every spike kept)` : '';
  }

  function showTooltip(card, event) {
    const full = card.plot._fullLayout;
    if (!card.data || !card.data.length || !full || !full.xaxis) return;
    const box = card.plot.getBoundingClientRect();
    const px = event.clientX - box.left - full.margin.l;
    if (px < 0 || px > full.width - full.margin.l - full.margin.r) { ctx.tooltip.hidden = true; return; }
    const xv = full.xaxis.p2c(px);
    const rows = [];
    for (const s of card.data) {
      const xs = xValues(s).map((v) => (v instanceof Date ? v.getTime() : v));
      const target = xv instanceof Date ? xv.getTime() : (typeof xv === 'string' ? Date.parse(xv) : xv);
      const i = nearestIndex(xs, target);
      if (i < 0) continue;
      const start = ctx.runs.startTime(s.run) ?? s.wall[0];
      rows.push({run: s.run, value: s.value[i], smoothed: s.smoothed[i], step: s.step[i],
        wall: s.wall[i], relative: s.wall[i] - start, dist: Math.abs(xs[i] - target)});
    }
    const key = (r) => (settings.smoothing > 0 ? r.smoothed : r.value);
    const order = {
      descending: (a, b) => (key(b) > key(a) ? 1 : -1), ascending: (a, b) => (key(a) > key(b) ? 1 : -1),
      nearest: (a, b) => a.dist - b.dist, name: (a, b) => (a.run < b.run ? -1 : 1)}[settings.sort];
    rows.sort(order);
    const head = el('tr', {}, ...['', 'Run', settings.smoothing > 0 ? 'Smoothed' : '', 'Value', 'Step', 'Time',
      'Relative'].filter((h, i) => i !== 2 || h).map((h) => el('th', {text: h})));
    const body = rows.map((r) => {
      const swatch = el('span', {class: 'swatch'});
      swatch.style.background = ctx.runs.colorOf(r.run);
      return el('tr', {}, el('td', {}, swatch), el('td', {class: 'run-name', text: r.run}),
        settings.smoothing > 0 ? el('td', {text: formatNumber(r.smoothed)}) : null,
        el('td', {text: formatNumber(r.value)}), el('td', {text: String(r.step)}),
        el('td', {class: 'time', text: new Date(r.wall * 1000).toLocaleString()}),
        el('td', {text: formatDuration(r.relative)}));
    });
    ctx.tooltip.replaceChildren(el('div', {class: 'tooltip-title', text: card.tag}), el('table', {}, head, ...body));
    ctx.tooltip.hidden = false;
    const left = Math.min(event.clientX + 16, window.innerWidth - ctx.tooltip.offsetWidth - 8);
    ctx.tooltip.style.left = `${left}px`;
    ctx.tooltip.style.top = `${Math.min(event.clientY + 16, window.innerHeight - ctx.tooltip.offsetHeight - 8)}px`;
  }

  function redrawAll() { for (const card of cards.values()) if (card.data) draw(card); }
  const refetchAll = () => lazy.reloadAll(cards.values());

  async function refreshTags() {
    try { tagsByRun = await ctx.api('data/plugin/scalars/tags'); } catch (e) { return; }
    render();
    refetchAll();
  }

  ctx.onRunsChanged(() => { render(); refetchAll(); });
  ctx.onReload(refreshTags);
  await refreshTags();
}

/**
 * "Ignore outliers in chart scaling": a y range covering the 5th to 95th percentile of each drawn series
 * (smoothed when smoothing is on), padded by a tenth. Per series and then joined, so a run whose values
 * sit apart from the others is never scaled out of view (a TensorBoard complaint); plotly's autoscale
 * button still shows everything. In log10 units for a log axis; null when there is too little to scale by.
 */
function inlierRange(data, smoothing, logY) {
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of data) {
    const ys = [];
    for (const v of (smoothing ? s.smoothed : s.value)) {
      if (Number.isFinite(v) && (!logY || v > 0)) ys.push(logY ? Math.log10(v) : v);
    }
    if (!ys.length) continue;
    ys.sort((a, b) => a - b);
    lo = Math.min(lo, quantile(ys, 0.05));
    hi = Math.max(hi, quantile(ys, 0.95));
  }
  if (!Number.isFinite(lo)) return null;
  const pad = hi > lo ? (hi - lo) * 0.1 : Math.abs(lo) * 0.1 || 1;
  return [lo - pad, hi + pad];
}

function quantile(sorted, p) {
  const at = (sorted.length - 1) * p;
  const i = Math.floor(at);
  return i + 1 < sorted.length ? sorted[i] + (sorted[i + 1] - sorted[i]) * (at - i) : sorted[i];
}

function buildSettings(root, redraw, refetch) {
  const apply = debounce(refetch, 120);
  const [slider, number] = smoothingInputs(settings.smoothing, (v) => { settings.smoothing = v; save(); apply(); });
  const log = el('input', {type: 'checkbox', class: 'log-y', checked: settings.logY});
  log.addEventListener('change', () => { settings.logY = log.checked; save(); redraw(); });
  const outliers = el('input', {type: 'checkbox', class: 'ignore-outliers', checked: settings.ignoreOutliers});
  outliers.addEventListener('change', () => { settings.ignoreOutliers = outliers.checked; save(); redraw(); });
  const sort = el('select', {'aria-label': 'Tooltip sorting', class: 'tooltip-sort'},
    ...SORTS.map((s) => el('option', {value: s, text: s, selected: s === settings.sort})));
  sort.addEventListener('change', () => { settings.sort = sort.value; save(); });
  root.append(
    el('h2', {text: 'Smoothing'}), el('div', {class: 'row'}, slider, number),
    el('h2', {text: 'Horizontal axis'}),
    radios('scalars-x', AXIS_MODES, settings.xAxis,
      (mode) => { settings.xAxis = mode; save(); redraw(); }),
    el('label', {class: 'row'}, log, ' Log scale (y)'),
    el('label', {class: 'row'}, outliers, ' Ignore outliers in chart scaling'),
    el('h2', {text: 'Tooltip sorting'}), el('div', {class: 'row'}, sort));
}
