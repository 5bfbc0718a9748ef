// Projector dashboard: one embedding (run and tensor picked in the sidebar) as a 2-D scatter of two of its first
// three principal components (computed on the server: data/plugin/projector/pca), drawn on a <canvas> by hand
// (plotly's WebGL traces need 'unsafe-eval', which the CSP forbids, and SVG is too slow for 20,000 points).
// Wheel zooms about the cursor, dragging pans, a double click fits the view again. Hovering shows the nearest
// point's metadata (and its sprite image); points can be colored by a metadata column (a categorical palette
// with a legend) and a label search highlights matches. Names and metadata reach the page as text only.
import {el, keep, restored} from './util.js';

const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f',
  '#bcbd22', '#17becf', '#393b79', '#ad494a', '#8ca252', '#bd9e39', '#d6616b', '#7b4173', '#3182bd',
  '#e6550d', '#31a354'];
const OTHER = '#c7c7c7';
const PLAIN = '#3f6fb5';
const HOVER_PX = 14;  // a point counts as hovered within this many CSS pixels
const settings = restored('projector', {key: '', x: 0, y: 1, colorBy: '', labelBy: ''});
const save = () => keep('projector', settings);

export async function mount(container, ctx) {
  const picker = el('select', {'aria-label': 'Embedding', class: 'pj-select'});
  const xSel = el('select', {'aria-label': 'X axis component', class: 'pj-select'});
  const ySel = el('select', {'aria-label': 'Y axis component', class: 'pj-select'});
  const colorSel = el('select', {'aria-label': 'Color by', class: 'pj-select'});
  const labelSel = el('select', {'aria-label': 'Label by', class: 'pj-select'});
  const search = el('input', {type: 'search', class: 'filter pj-search', placeholder: 'Search labels',
    'aria-label': 'Search labels'});
  const matches = el('div', {class: 'pj-matches'});
  ctx.settings.append(el('div', {class: 'pj-settings'},
    el('label', {class: 'pj-field'}, el('span', {text: 'Embedding'}), picker),
    el('label', {class: 'pj-field'}, el('span', {text: 'X'}), xSel),
    el('label', {class: 'pj-field'}, el('span', {text: 'Y'}), ySel),
    el('label', {class: 'pj-field'}, el('span', {text: 'Color by'}), colorSel),
    el('label', {class: 'pj-field'}, el('span', {text: 'Label by'}), labelSel),
    search, matches));

  const info = el('div', {class: 'pj-info'});
  const note = el('div', {class: 'card-note pj-note'});
  const canvas = el('canvas', {class: 'pj-canvas', tabindex: '0', 'aria-label': 'Embedding scatter plot'});
  const legend = el('div', {class: 'pj-legend'});
  const empty = el('p', {class: 'empty-state', hidden: true,
    text: 'No embeddings yet. Write one with SummaryWriter.add_embedding(...) (or tensorboardX\'s); '
      + 'it appears here.'});
  const plot = el('div', {class: 'card pj-card'}, info, el('div', {class: 'pj-plot'}, canvas), legend, note);
  container.append(empty, plot);

  let listing = [];  // [{run, name, error}]
  let data = null;  // the pca answer
  let view = null;  // {cx, cy, scale}: data point (cx, cy) at the canvas center, CSS pixels per unit
  let colors = null;  // per point color
  let highlighted = null;  // Uint8Array of matches, or null
  let sprite = null;  // {image, dim, perRow}
  let hovered = -1;
  let loadToken = 0;

  const keyOf = (e) => JSON.stringify([e.run, e.name]);

  async function refreshList() {
    const answer = await ctx.api('data/plugin/projector/runs');
    const next = [];
    const problems = [];
    for (const run of answer.runs) {
      if (run.error) problems.push(run.error);
      for (const e of run.embeddings) {
        if (e.error) problems.push(`${run.run}: ${e.name}: ${e.error}`); else next.push({run: run.run, name: e.name});
      }
    }
    const changed = next.map(keyOf).join('\n') !== listing.map(keyOf).join('\n');
    listing = next;
    empty.hidden = listing.length > 0 || problems.length > 0;
    plot.hidden = listing.length === 0 && problems.length === 0;
    note.textContent = problems.length ? `Not shown: ${problems.join('; ')}` : '';
    if (!changed) return;
    picker.replaceChildren(...listing.map((e) => el('option', {value: keyOf(e), text: `${e.run} — ${e.name}`})));
    const keys = listing.map(keyOf);
    picker.value = keys.includes(settings.key) ? settings.key : (keys[0] || '');
    if (picker.value && (!data || keyOf(data) !== picker.value)) await load(picker.value);
  }

  async function load(key) {
    const token = ++loadToken;
    const [run, name] = JSON.parse(key);
    info.textContent = `Loading ${run} — ${name}…`;
    let answer;
    try {
      answer = await ctx.api(ctx.url('data/plugin/projector/pca', {run, name}));
    } catch (e) {
      if (token === loadToken) { data = null; info.textContent = `Could not load ${run} — ${name}: ${e.message}`; draw(); }
      return;
    }
    if (token !== loadToken) return;
    data = answer;
    settings.key = key; save();
    sprite = null;
    if (data.sprite) loadSprite(run, name, data.sprite.single_image_dim, token);
    fillSelects();
    fit();
    recolor();
    rehighlight();
  }

  function loadSprite(run, name, dim, token) {
    const image = new Image();
    image.onload = () => {
      if (token !== loadToken || !dim.length) return;
      sprite = {image, dim, perRow: Math.max(1, Math.floor(image.naturalWidth / dim[0]))};
    };
    image.src = ctx.url('data/plugin/projector/sprite', {run, name});
  }

  function fillSelects() {
    const pcs = data.components.map((_, j) => el('option', {value: String(j),
      text: `PC${j + 1} (${(100 * data.variance[j]).toFixed(1)}% variance)`}));
    xSel.replaceChildren(...pcs.map((o) => o.cloneNode(true)));
    ySel.replaceChildren(...pcs);
    const n = data.components.length;
    settings.x = Math.min(settings.x, n - 1);
    settings.y = n > 1 ? Math.min(settings.y, n - 1) : 0;
    if (settings.x === settings.y && n > 1) settings.y = settings.x === 0 ? 1 : 0;
    xSel.value = String(settings.x); ySel.value = String(settings.y);
    const columns = data.metadata ? data.metadata.columns : [];
    colorSel.replaceChildren(el('option', {value: '', text: 'No coloring'}),
      ...columns.map((c) => el('option', {value: c, text: c})));
    colorSel.value = columns.includes(settings.colorBy) ? settings.colorBy : '';
    labelSel.replaceChildren(...(columns.length ? columns : ['(index)']).map((c) => el('option', {value: c, text: c})));
    labelSel.value = columns.includes(settings.labelBy) ? settings.labelBy : (columns[0] || '(index)');
    const truncated = data.truncated ? ` (the first ${data.points} of ${data.total_points} points: `
      + `at most ${data.max_points} are projected)` : '';
    info.textContent = `${data.run} — ${data.name}: ${data.points} points, ${data.dimensions} dimensions, `
      + `PCA of the centered points${truncated}`;
  }

  function column(name) {
    if (!data || !data.metadata) return null;
    const j = data.metadata.columns.indexOf(name);
    return j < 0 ? null : data.metadata.values[j];
  }

  function labelOf(i) {
    const values = column(labelSel.value);
    return values ? values[i] : String(i);
  }

  function recolor() {
    const values = column(colorSel.value);
    if (!values) { colors = null; legend.replaceChildren(); draw(); return; }
    const counts = new Map();
    for (const v of values) counts.set(v, (counts.get(v) || 0) + 1);
    const order = [...counts.keys()].sort((a, b) => {
      const na = Number(a); const nb = Number(b);
      return a !== '' && b !== '' && !Number.isNaN(na) && !Number.isNaN(nb) ? na - nb : (a < b ? -1 : a > b ? 1 : 0);
    });
    const byCount = [...order].sort((a, b) => counts.get(b) - counts.get(a)).slice(0, PALETTE.length);
    const colorOf = new Map(order.filter((v) => byCount.includes(v)).map((v, i) => [v, PALETTE[i]]));
    colors = values.map((v) => colorOf.get(v) || OTHER);
    const items = [...colorOf].map(([v, c]) => legendItem(c, v === '' ? '(empty)' : v, counts.get(v)));
    const rest = order.length - colorOf.size;
    if (rest > 0) {
      const others = values.length - [...colorOf.keys()].reduce((s, v) => s + counts.get(v), 0);
      items.push(legendItem(OTHER, `${rest} other values`, others));
    }
    legend.replaceChildren(el('span', {class: 'pj-legend-title', text: `${colorSel.value}:`}), ...items);
    draw();
  }

  function legendItem(color, label, count) {
    const swatch = el('span', {class: 'swatch'});
    swatch.style.background = color;
    return el('span', {class: 'pj-legend-item', dataset: {value: label}, title: `${label}: ${count} points`},
      swatch, el('span', {class: 'pj-legend-label', text: label}), el('span', {class: 'count', text: String(count)}));
  }

  function rehighlight() {
    const text = search.value.trim().toLowerCase();
    if (!data || !text) { highlighted = null; matches.textContent = ''; draw(); return; }
    highlighted = new Uint8Array(data.points);
    let count = 0;
    for (let i = 0; i < data.points; i++) {
      if (String(labelOf(i)).toLowerCase().includes(text)) { highlighted[i] = 1; count++; }
    }
    matches.textContent = `${count} of ${data.points} points match`;
    canvas.dataset.matches = String(count);
    draw();
  }

  const xs = () => data.components[settings.x];
  const ys = () => (data.components.length > 1 ? data.components[settings.y] : null);

  function fit() {
    if (!data) return;
    const x = xs(); const y = ys();
    let x0 = Infinity; let x1 = -Infinity; let y0 = Infinity; let y1 = -Infinity;
    for (let i = 0; i < data.points; i++) {
      x0 = Math.min(x0, x[i]); x1 = Math.max(x1, x[i]);
      const yi = y ? y[i] : 0;
      y0 = Math.min(y0, yi); y1 = Math.max(y1, yi);
    }
    const {width, height} = size();
    const span = Math.max(x1 - x0, y1 - y0, 1e-12);
    view = {cx: (x0 + x1) / 2, cy: (y0 + y1) / 2, scale: 0.9 * Math.min(width, height) / span};
    draw();
  }

  function size() {
    const rect = canvas.getBoundingClientRect();
    return {width: Math.max(1, rect.width), height: Math.max(1, rect.height)};
  }

  const toScreen = (px, py, width, height) => [width / 2 + (px - view.cx) * view.scale,
    height / 2 - (py - view.cy) * view.scale];

  function draw() {
    const {width, height} = size();
    const ratio = window.devicePixelRatio || 1;
    if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
      canvas.width = Math.round(width * ratio); canvas.height = Math.round(height * ratio);
    }
    const g = canvas.getContext('2d');
    g.setTransform(ratio, 0, 0, ratio, 0, 0);
    g.clearRect(0, 0, width, height);
    if (!data || !view) { canvas.dataset.pointsDrawn = '0'; return; }
    const x = xs(); const y = ys();
    drawAxes(g, width, height);
    let drawn = 0;
    const faded = highlighted !== null;
    g.globalAlpha = faded ? 0.25 : 0.8;
    for (let i = 0; i < data.points; i++) {
      if (faded && highlighted[i]) continue;
      const [sx, sy] = toScreen(x[i], y ? y[i] : 0, width, height);
      if (sx < -4 || sy < -4 || sx > width + 4 || sy > height + 4) continue;
      g.fillStyle = colors ? colors[i] : PLAIN;
      g.fillRect(sx - 2, sy - 2, 4, 4);
      drawn++;
    }
    g.globalAlpha = 1;
    if (faded) {
      g.strokeStyle = '#000'; g.lineWidth = 1;
      for (let i = 0; i < data.points; i++) {
        if (!highlighted[i]) continue;
        const [sx, sy] = toScreen(x[i], y ? y[i] : 0, width, height);
        if (sx < -6 || sy < -6 || sx > width + 6 || sy > height + 6) continue;
        g.fillStyle = colors ? colors[i] : PLAIN;
        g.beginPath(); g.arc(sx, sy, 4.5, 0, 2 * Math.PI); g.fill(); g.stroke();
        drawn++;
      }
    }
    if (hovered >= 0 && hovered < data.points) {
      const [sx, sy] = toScreen(x[hovered], y ? y[hovered] : 0, width, height);
      g.strokeStyle = '#000'; g.lineWidth = 2;
      g.beginPath(); g.arc(sx, sy, 7, 0, 2 * Math.PI); g.stroke();
    }
    canvas.dataset.pointsDrawn = String(drawn);
  }

  function drawAxes(g, width, height) {
    const [ox, oy] = toScreen(0, 0, width, height);
    g.strokeStyle = '#e0e0e0'; g.lineWidth = 1;
    g.beginPath(); g.moveTo(0, oy); g.lineTo(width, oy); g.moveTo(ox, 0); g.lineTo(ox, height); g.stroke();
    g.fillStyle = '#757575'; g.font = '11px sans-serif';
    g.fillText(`PC${settings.x + 1} →`, width - 48, height - 8);
    if (data.components.length > 1) g.fillText(`↑ PC${settings.y + 1}`, 8, 14);
  }

  function nearest(mx, my) {
    const {width, height} = size();
    const x = xs(); const y = ys();
    let best = -1; let bestD = HOVER_PX * HOVER_PX;
    for (let i = 0; i < data.points; i++) {
      const [sx, sy] = toScreen(x[i], y ? y[i] : 0, width, height);
      const d = (sx - mx) ** 2 + (sy - my) ** 2;
      if (d < bestD) { bestD = d; best = i; }
    }
    return best;
  }

  function showTooltip(i, event) {
    const tip = ctx.tooltip;
    if (i < 0) { tip.hidden = true; return; }
    const rows = [el('div', {class: 'pj-tip-title', text: `${labelOf(i)}`})];
    if (data.metadata) {
      data.metadata.columns.forEach((c, j) => rows.push(el('div', {class: 'pj-tip-row'},
        el('span', {class: 'pj-tip-key', text: `${c}: `}), el('span', {text: data.metadata.values[j][i]}))));
    }
    rows.push(el('div', {class: 'pj-tip-row pj-tip-index', text: `point ${i}`}));
    if (sprite) {
      const [w, h] = sprite.dim;
      const thumb = el('canvas', {class: 'pj-thumb', width: String(w), height: String(h)});
      const sx = (i % sprite.perRow) * w; const sy = Math.floor(i / sprite.perRow) * h;
      thumb.getContext('2d').drawImage(sprite.image, sx, sy, w, h, 0, 0, w, h);
      rows.push(thumb);
    }
    tip.replaceChildren(el('div', {class: 'pj-tip'}, ...rows));
    tip.hidden = false;
    tip.style.left = `${event.clientX + 14}px`;
    tip.style.top = `${event.clientY + 14}px`;
  }

  let drag = null;
  canvas.addEventListener('mousedown', (e) => {
    if (!view) return;
    drag = {x: e.clientX, y: e.clientY, cx: view.cx, cy: view.cy};
    canvas.classList.add('dragging');
  });
  window.addEventListener('mouseup', () => { drag = null; canvas.classList.remove('dragging'); });
  canvas.addEventListener('mousemove', (e) => {
    if (!data || !view) return;
    if (drag) {
      view.cx = drag.cx - (e.clientX - drag.x) / view.scale;
      view.cy = drag.cy + (e.clientY - drag.y) / view.scale;
      ctx.tooltip.hidden = true;
      draw();
      return;
    }
    const rect = canvas.getBoundingClientRect();
    const i = nearest(e.clientX - rect.left, e.clientY - rect.top);
    canvas.dataset.hovered = String(i);
    if (i !== hovered) { hovered = i; draw(); }
    showTooltip(i, e);
  });
  canvas.addEventListener('mouseleave', () => {
    hovered = -1; canvas.dataset.hovered = '-1'; ctx.tooltip.hidden = true; draw();
  });
  canvas.addEventListener('wheel', (e) => {
    if (!view) return;
    e.preventDefault();
    const rect = canvas.getBoundingClientRect();
    const {width, height} = size();
    const mx = e.clientX - rect.left; const my = e.clientY - rect.top;
    const px = view.cx + (mx - width / 2) / view.scale; const py = view.cy - (my - height / 2) / view.scale;
    view.scale *= Math.exp(-e.deltaY * 0.0015);
    view.cx = px - (mx - width / 2) / view.scale; view.cy = py + (my - height / 2) / view.scale;
    draw();
  }, {passive: false});
  canvas.addEventListener('dblclick', fit);
  // where point i is drawn, in CSS pixels from the canvas' top left (for tests; null before anything is drawn)
  canvas.pointScreen = (i) => (data && view ? toScreen(xs()[i], ys() ? ys()[i] : 0, size().width, size().height)
    : null);
  new ResizeObserver(() => draw()).observe(canvas);

  picker.addEventListener('change', () => load(picker.value));
  xSel.addEventListener('change', () => { settings.x = Number(xSel.value); save(); fit(); });
  ySel.addEventListener('change', () => { settings.y = Number(ySel.value); save(); fit(); });
  colorSel.addEventListener('change', () => { settings.colorBy = colorSel.value; save(); recolor(); });
  labelSel.addEventListener('change', () => { settings.labelBy = labelSel.value; save(); rehighlight(); });
  search.addEventListener('input', rehighlight);

  ctx.onReload(() => { refreshList().catch((e) => { note.textContent = `Could not list embeddings: ${e.message}`; }); });
  try {
    await refreshList();
  } catch (e) {
    note.textContent = `Could not list embeddings: ${e.message}`;
  }
}
