// HParams dashboard: the sessions of a hyperparameter search, as TensorBoard shows them.
//   TABLE: one row per session (hparam columns, then metric columns); click a header to sort, a filter
//          box under each hparam header, the session's name links to its scalars.
//   PARALLEL COORDINATES: one axis per shown hparam and metric (string and bool hparams as categorical ticks,
//          wide positive ranges on a log axis), lines colored by the first metric, drag an axis to brush.
//          Drawn in SVG: plotly's `parcoords` needs WebGL through regl, which compiles code with Function()
//          and so cannot run under the page's Content-Security-Policy (no 'unsafe-eval').
//   SCATTER PLOT MATRIX: one small SVG scatter plot per (shown column) x (shown metric), a point per session
//          colored as the lines are; hovering a point outlines that session in every plot, with its values.
//          Drawn by hparams_scatter.js; the axes, colors and labels both plots share are in hparams_axes.js.
// The table's rows (filtered and sorted as shown, shown columns only) download as CSV or JSON, made in the page.
// Columns come in the server's order, which is TensorBoard's: differing hparams first, then by name.
// Columns can be hidden in the sidebar. Every string from the data reaches the page as text (el / svg set
// textContent), never as markup.
import {colorbar, colorScale, dimension, label, MARGIN, plain} from './hparams_axes.js';
import {drawScatterMatrix} from './hparams_scatter.js';
import {debounce, decodeFloats, el, formatNumber, keep, restored, svg, userRegex} from './util.js';

const VIEWS = ['table', 'parallel coordinates', 'scatter plot matrix'];
const settings = restored('hparams', {view: 'table'}, (name, v) => name !== 'view' || VIEWS.includes(v));
const SPECIAL = {NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity};

/** A number from the server (NaN and infinities travel as strings); other values as they are. */
const num = (v) => (typeof v === 'string' && v in SPECIAL ? SPECIAL[v] : v);
/** An hparam's value: "NaN" is a number only in a number column (a string hparam may say "NaN"). */
const hparamValue = (session, name, type) => (type === 'number' ? num(session.hparams[name]) : session.hparams[name]);

export async function mount(container, ctx) {
  let experiment = {hparams: [], metrics: [], warnings: []};
  let sessions = [];
  let lastPayload = '';
  const hidden = new Set();  // column ids hidden in the sidebar
  const filters = new Map();  // hparam name -> filter text
  const sort = {column: null, descending: false};

  const empty = el('p', {class: 'empty-state', hidden: true});
  const warnings = el('p', {class: 'hp-warnings', hidden: true});
  const summary = el('div', {class: 'hp-summary'});
  const tableWrap = el('div', {class: 'hp-table-wrap'});
  const parcoords = el('div', {class: 'hp-parcoords'});
  const parcoordsNote = el('div', {class: 'card-note hp-parcoords-note'});
  const parcoordsView = el('div', {class: 'hp-view hp-parcoords-view'}, parcoords, parcoordsNote);
  const tableView = el('div', {class: 'hp-view hp-table-view'}, tableWrap);
  const scatter = el('div', {class: 'hp-scatter'});
  const scatterNote = el('div', {class: 'card-note hp-scatter-note'});
  const scatterView = el('div', {class: 'hp-view hp-scatter-view'}, scatter, scatterNote);
  const downloads = el('div', {class: 'hp-downloads'}, 'Download', ...['csv', 'json'].map((format) => el('button', {
    class: 'hp-download', dataset: {format}, text: format.toUpperCase(), title: `The table's rows as ${format.toUpperCase()}`,
    onclick: () => download(format)})));
  const tabs = el('div', {class: 'hp-tabs', role: 'tablist'}, ...VIEWS.map((view) => el('button', {
    class: 'hp-tab', role: 'tab', dataset: {view}, text: view, onclick: () => showView(view)})));
  const columnsBox = el('div', {class: 'hp-columns'});
  container.append(el('div', {class: 'hp-header'}, tabs, summary, downloads), warnings, empty, tableView,
    parcoordsView, scatterView);
  ctx.settings.append(el('h2', {text: 'Columns'}), columnsBox);

  const columns = () => [
    ...experiment.hparams.map((h) => ({id: `h:${h.name}`, kind: 'hparam', key: h.name, info: h,
      label: h.displayName || h.name, type: h.type})),
    ...experiment.metrics.map((m) => ({id: `m:${m.key}`, kind: 'metric', key: m.key, info: m,
      label: m.displayName || m.key, type: 'number'}))];
  const shown = () => columns().filter((c) => !hidden.has(c.id));

  function cellValue(session, column) {
    if (column.kind === 'hparam') return hparamValue(session, column.key, column.type);
    const metric = session.metrics[column.key];
    return metric ? num(metric.value) : undefined;
  }

  const display = (v) => (v === undefined || v === null ? '' : typeof v === 'number' ? formatNumber(v) : String(v));
  // an hparam as written (0.0005, 1e-7), a metric rounded
  const cellText = (v, column) => (column.kind === 'hparam' && typeof v === 'number' ? plain(v) : display(v));

  /** A filter box's test: `a..b`, `>x`, `>=x`, `<x`, `<=x` on numbers, else a regex on the value's text. */
  function filterTest(text, type) {
    const t = text.trim();
    if (!t) return () => true;
    if (type === 'number') {
      const range = t.match(/^(-?[\d.e+-]*)\s*\.\.\s*(-?[\d.e+-]*)$/i);
      if (range && (range[1] || range[2])) {
        const lo = range[1] ? Number(range[1]) : -Infinity;
        const hi = range[2] ? Number(range[2]) : Infinity;
        if (!Number.isNaN(lo) && !Number.isNaN(hi)) return (v) => typeof v === 'number' && v >= lo && v <= hi;
      }
      const cmp = t.match(/^(<=|>=|<|>|=)\s*(-?[\d.e+-]+)$/i);
      if (cmp && !Number.isNaN(Number(cmp[2]))) {
        const x = Number(cmp[2]);
        const op = {'<': (v) => v < x, '<=': (v) => v <= x, '>': (v) => v > x, '>=': (v) => v >= x,
          '=': (v) => v === x}[cmp[1]];
        return (v) => typeof v === 'number' && op(v);
      }
    }
    const re = userRegex(t);
    if (!re) return () => true;
    return (v) => re.test(display(v));
  }

  function visibleSessions() {
    const tests = experiment.hparams.map((h) => [h.name, filterTest(filters.get(h.name) || '', h.type), h.type]);
    return sessions.filter((s) => tests.every(([name, test, type]) => test(hparamValue(s, name, type))));
  }

  function compare(a, b) {
    // missing values last in both directions; numbers by value (NaN after numbers), the rest as text
    if (a === undefined || a === null) return b === undefined || b === null ? 0 : 1;
    if (b === undefined || b === null) return -1;
    const dir = sort.descending ? -1 : 1;
    if (typeof a === 'number' && typeof b === 'number') {
      if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) - Number.isNaN(b);
      return a === b ? 0 : (a < b ? -dir : dir);
    }
    return dir * String(a).localeCompare(String(b), undefined, {numeric: true});
  }

  function sortedSessions(list) {
    const column = shown().find((c) => c.id === sort.column);
    if (!column) return list;
    return list.map((s, i) => [s, i]).sort(([a, i], [b, j]) =>
      compare(cellValue(a, column), cellValue(b, column)) || i - j).map(([s]) => s);
  }

  function renderColumnsBox() {
    const group = (title, list) => [el('div', {class: 'hp-columns-title', text: title}), ...list.map((c) => {
      const box = el('input', {type: 'checkbox', checked: !hidden.has(c.id), dataset: {column: c.id}});
      box.addEventListener('change', () => {
        if (box.checked) hidden.delete(c.id); else hidden.add(c.id);
        renderTable(); drawChart();
      });
      return el('label', {class: 'row hp-column-toggle', title: c.key}, box, el('span', {class: 'run-name', text: c.label}));
    })];
    const cols = columns();
    columnsBox.replaceChildren(...group('Hyperparameters', cols.filter((c) => c.kind === 'hparam')),
      ...group('Metrics', cols.filter((c) => c.kind === 'metric')));
  }

  function header(column) {
    const arrow = sort.column === column.id ? (sort.descending ? ' ▼' : ' ▲') : '';
    const th = el('th', {class: `hp-col hp-${column.kind}`, dataset: {column: column.id}, title: column.key,
      'aria-sort': sort.column === column.id ? (sort.descending ? 'descending' : 'ascending') : 'none'},
    el('button', {class: 'hp-sort', text: column.label + arrow}));
    th.querySelector('button').addEventListener('click', () => {
      sort.descending = sort.column === column.id ? !sort.descending : false;
      sort.column = column.id;
      renderTable();
    });
    return th;
  }

  function filterCell(column) {
    if (column.kind !== 'hparam') return el('th', {class: 'hp-filter-cell'});
    const input = el('input', {class: 'filter hp-filter', type: 'search', dataset: {hparam: column.key},
      placeholder: column.type === 'number' ? 'e.g. 0.01..0.1' : 'regex', value: filters.get(column.key) || '',
      'aria-label': `Filter ${column.label}`});
    input.addEventListener('input', debounce(() => {
      filters.set(column.key, input.value);
      input.classList.toggle('invalid', column.type !== 'number' && userRegex(input.value) === undefined);
      renderBody(); drawChart();
    }, 150));
    return el('th', {class: 'hp-filter-cell'}, input);
  }

  let tbody = null;
  function renderTable() {
    const cols = shown();
    tbody = el('tbody');
    const table = el('table', {class: 'hp-table'}, el('thead', {},
      el('tr', {}, el('th', {class: 'hp-col hp-session', text: 'Session'}), ...cols.map(header)),
      el('tr', {class: 'hp-filters'}, el('th', {class: 'hp-filter-cell'}), ...cols.map(filterCell))), tbody);
    tableWrap.replaceChildren(table);
    renderBody();
  }

  function renderBody() {
    if (!tbody) return;
    const cols = shown();
    const list = sortedSessions(visibleSessions());
    tbody.replaceChildren(...list.map((s) => el('tr', {class: 'hp-row', dataset: {session: s.name}},
      el('td', {class: 'hp-session'}, el('span', {class: `hp-status hp-status-${s.status}`, title: `status: ${s.status}`}),
        el('a', {class: 'hp-run-link', href: '#scalars', title: `Show the scalars of ${s.name} and its sub-runs`,
          text: s.name, onclick: () => showRunScalars(s.name)})),
      ...cols.map((c) => {
        const v = cellValue(s, c);
        const metric = c.kind === 'metric' ? s.metrics[c.key] : null;
        return el('td', {class: `hp-${c.kind}${typeof v === 'number' ? ' num' : ''}`, dataset: {column: c.id},
          title: metric ? `step ${metric.step}` : undefined, text: cellText(v, c)});
      }))));
    if (!list.length && sessions.length) {
      tbody.append(el('tr', {}, el('td', {class: 'empty', colspan: String(cols.length + 1),
        text: 'No session matches the filters.'})));
    }
    summary.textContent = sessions.length ? `${list.length} of ${sessions.length} session${sessions.length === 1 ? '' : 's'}` : '';
  }

  function showRunScalars(run) {
    // the shell's run filter, set to this session and its sub-runs (train/, validation/ ...)
    const filter = document.getElementById('run-filter');
    if (filter) {
      filter.value = `^${run.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(/|$)`;
      filter.dispatchEvent(new Event('input'));
    }
  }


  const brushes = new Map();  // column id -> [lo, hi] in axis units: lines outside are dimmed

  /** Parallel coordinates in SVG: WebGL charts (plotly's parcoords) cannot run under the page's CSP. */
  function drawParcoords() {
    const cols = shown();
    const list = visibleSessions();
    parcoords.replaceChildren();
    if (!list.length || !cols.length) {
      parcoordsNote.textContent = sessions.length ? 'No session or column to draw.' : '';
      return;
    }
    const width = Math.max(480, parcoords.clientWidth || 900);
    const height = Math.max(300, parcoords.clientHeight || 480);
    const dims = cols.map((c) => dimension(c, list.map((s) => cellValue(s, c))));
    const step = dims.length > 1 ? (width - MARGIN.l - MARGIN.r) / (dims.length - 1) : 0;
    const xOf = (i) => MARGIN.l + (dims.length > 1 ? i * step : (width - MARGIN.l - MARGIN.r) / 2);
    const yOf = (d, v) => MARGIN.t + (1 - (v - d.range[0]) / (d.range[1] - d.range[0])) * (height - MARGIN.t - MARGIN.b);
    const {firstMetric, colorValues, cLo, cHi, colorOf} = colorScale(dims, list);
    const root = svg('svg', {class: 'hp-pc', width, height, viewBox: `0 0 ${width} ${height}`});
    const lines = svg('g', {class: 'hp-pc-lines'});
    root.append(lines);
    const paths = list.map((s, row) => {
      let d = '';
      let pen = false;
      dims.forEach((dim, i) => {
        const v = dim.values[row];
        if (v === null) { pen = false; return; }
        d += `${pen ? 'L' : 'M'}${xOf(i).toFixed(1)},${yOf(dim, v).toFixed(1)}`;
        pen = true;
      });
      const path = svg('path', {class: 'hp-pc-line', d: d || 'M0,0', stroke: colorOf(colorValues[row]),
        dataset: {session: s.name, color: colorValues[row] === null ? '' : String(colorValues[row])}},
      svg('title', {text: s.name}));
      lines.append(path);
      return path;
    });
    const restyle = () => {
      paths.forEach((path, row) => {
        const inside = dims.every((dim) => {
          const b = brushes.get(dim.id);
          const v = dim.values[row];
          return !b || (v !== null && v >= b[0] && v <= b[1]);
        });
        path.classList.toggle('dim', !inside);
      });
    };
    const chars = Math.max(6, Math.floor(Math.min(step || 160, 160) / 7));  // label room between axes
    dims.forEach((dim, i) => root.append(axis(dim, xOf(i), (v) => yOf(dim, v), height, restyle, chars)));
    if (firstMetric && cHi > cLo) root.append(colorbar(firstMetric.label, cLo, cHi, width, height));
    parcoords.append(root);
    restyle();
    parcoords.dataset.dimensions = String(dims.length);
    const incomplete = list.filter((_, row) => dims.some((d) => d.values[row] === null)).length;
    parcoordsNote.textContent = `${list.length} session${list.length === 1 ? '' : 's'}` +
      (firstMetric ? `; lines colored by ${firstMetric.label}` : '') +
      (incomplete ? `; ${incomplete} with a missing or non-finite value, drawn only where they have one` : '') +
      '. Drag along an axis to select a range; click it to clear.';
  }

  function axis(dim, x, y, height, restyle, chars) {
    const g = svg('g', {class: `hp-axis hp-axis-${dim.kind}`, dataset: {column: dim.id}});
    const top = MARGIN.t;
    const bottom = height - MARGIN.b;
    g.append(svg('line', {class: 'hp-axis-line', x1: x, x2: x, y1: top, y2: bottom}));
    for (const [v, text] of dim.ticks) {
      const ty = y(v);
      g.append(svg('line', {class: 'hp-tick', x1: x - 4, x2: x, y1: ty, y2: ty}),
        label({class: 'hp-tick-label', x: x - 7, y: ty + 3.5, 'text-anchor': 'end'}, text, 24));
    }
    g.append(label({class: 'hp-axis-label', x, y: top - 16, 'text-anchor': 'middle'},
      dim.scale === 'log' ? `${dim.label} (log)` : dim.label, chars));
    const band = svg('rect', {class: 'hp-brush', x: x - 9, width: 18, y: top, height: 0});
    const hit = svg('rect', {class: 'hp-axis-hit', x: x - 12, width: 24, y: top - 4, height: bottom - top + 8});
    const toValue = (py) => dim.range[0] + (1 - (py - top) / (bottom - top)) * (dim.range[1] - dim.range[0]);
    const showBand = () => {
      const b = brushes.get(dim.id);
      band.setAttribute('height', b ? String(Math.max(1, y(b[0]) - y(b[1]))) : '0');
      if (b) band.setAttribute('y', String(y(b[1])));
    };
    hit.addEventListener('pointerdown', (event) => {
      const box = hit.ownerSVGElement.getBoundingClientRect();
      const start = Math.min(bottom, Math.max(top, event.clientY - box.top));
      let moved = false;
      hit.setPointerCapture(event.pointerId);
      const move = (e) => {
        const now = Math.min(bottom, Math.max(top, e.clientY - box.top));
        if (Math.abs(now - start) < 3 && !moved) return;
        moved = true;
        const [a, b] = [toValue(start), toValue(now)].sort((p, q) => p - q);
        brushes.set(dim.id, [a, b]);
        showBand(); restyle();
      };
      const up = () => {
        hit.removeEventListener('pointermove', move);
        hit.removeEventListener('pointerup', up);
        if (!moved) { brushes.delete(dim.id); showBand(); restyle(); }
      };
      hit.addEventListener('pointermove', move);
      hit.addEventListener('pointerup', up);
    });
    showBand();
    g.append(band, hit);
    return g;
  }

  function drawChart() {
    if (!ctx.isActive()) return;
    if (settings.view === 'parallel coordinates') drawParcoords();
    else if (settings.view === 'scatter plot matrix') drawScatter();
  }

  function drawScatter() {
    drawScatterMatrix({host: scatter, note: scatterNote, tooltip: ctx.tooltip, columns: shown(),
      sessions: visibleSessions(), total: sessions.length, valueOf: cellValue,
      textOf: (session, column) => cellText(cellValue(session, column), column)});
  }

  /** The table's rows (filtered, sorted, shown columns) as a file: numbers in full (NaN, Infinity as words). */
  function download(format) {
    const cols = shown();
    const rows = sortedSessions(visibleSessions());
    let text;
    if (format === 'csv') {
      const field = (v) => {
        const t = v === undefined || v === null ? '' : String(v);
        return /[",\r\n]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t;
      };
      text = [['session', 'status', ...cols.map((c) => c.label)],
        ...rows.map((s) => [s.name, s.status, ...cols.map((c) => cellValue(s, c))])]
        .map((r) => r.map(field).join(',')).join('\r\n') + '\r\n';
    } else {
      const part = (s, kind) => Object.fromEntries(cols.filter((c) => c.kind === kind).map((c) => [c.key, cellValue(s, c)]));
      text = JSON.stringify(rows.map((s) => ({session: s.name, status: s.status, hparams: part(s, 'hparam'),
        metrics: part(s, 'metric')})), (_, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 1);
    }
    const href = URL.createObjectURL(new Blob([text], {type: format === 'csv' ? 'text/csv' : 'application/json'}));
    const link = el('a', {href, download: `hparams_sessions.${format}`, hidden: true});
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(href), 10000);
  }

  function showView(view) {
    settings.view = view;
    keep('hparams', settings);
    for (const tab of tabs.children) {
      const on = tab.dataset.view === view;
      tab.classList.toggle('active', on);
      tab.setAttribute('aria-selected', String(on));
    }
    tableView.hidden = view !== 'table';
    parcoordsView.hidden = view !== 'parallel coordinates';
    scatterView.hidden = view !== 'scatter plot matrix';
    drawChart();
  }

  function render() {
    const none = !sessions.length;
    empty.hidden = !none;
    empty.textContent = 'No hparams data yet. Sessions appear here once written with add_hparams '
      + '(tensorboardX / PyTorch / board) or hp.hparams (TensorFlow / Keras).';
    warnings.hidden = !experiment.warnings.length;
    warnings.textContent = experiment.warnings.length ? `Skipped unreadable hparams data: ${experiment.warnings.join('; ')}` : '';
    tabs.hidden = none;
    downloads.hidden = none;
    renderColumnsBox();
    renderTable();
    showView(settings.view);
  }

  async function refresh() {
    let exp;
    let list;
    try {
      [exp, list] = await Promise.all([ctx.api('data/plugin/hparams/experiment'), ctx.api('data/plugin/hparams/sessions')]);
    } catch (e) {
      empty.hidden = false;
      empty.textContent = `Could not load hparams: ${e.message}`;
      return;
    }
    const payload = JSON.stringify([exp, list]);
    if (payload === lastPayload) return;  // nothing new: keep the table (and focus in a filter box) as it is
    lastPayload = payload;
    experiment = exp;
    sessions = list.map((s) => ({...s, hparams: s.hparams || {}, metrics: s.metrics || {}}));
    for (const s of sessions) for (const m of Object.values(s.metrics)) [m.value] = decodeFloats([m.value]);
    render();
  }

  window.addEventListener('resize', debounce(drawChart, 150));
  ctx.onReload(refresh);
  await refresh();
}
