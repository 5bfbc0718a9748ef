// Graphs dashboard: the server lays out name scopes (collapsed boxes, bundled edges with counts) and this
// draws them as SVG with zoom/pan; a click opens or closes a scope; repeated ops (add, add_1, ... add_9)
// come as one "series" box drawn as a stack of cards, opened like a scope; a search expands the scopes and
// series on a node's path; the details panel lists a node's op, device, attrs, inputs, outputs and shapes;
// "trace inputs" highlights everything feeding the selected node. Warnings say what could not be drawn.
// Edges to auxiliary nodes (set aside in a side column) are drawn as stubs (graph_stubs.js); hovering one
// lights up its other ends, a click selects them.
import {debounce, el, svg} from './util.js';
import {groupStubs, stubPeers, stubShape, tensors} from './graph_stubs.js';

const RUN_GRAPH = '__run_graph__';

/** A link in the details panel that runs `action` instead of navigating. */
function actionLink(text, action) {
  return el('a', {href: '#', text, onclick: (ev) => { ev.preventDefault(); action(); }});
}

function fit(text, width, charWidth = 6.6) {
  const max = Math.max(3, Math.floor(width / charWidth));
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

export async function mount(container, ctx) {
  const state = {info: {}, run: null, tag: null, expanded: new Map(), layout: null, selected: null,
    trace: false, traced: null, view: {x: 0, y: 0, k: 1}, version: 0, request: 0, byId: new Map(),
    stubs: new Map()};

  // -- sidebar: run and tag selectors, trace toggle, buttons --
  const runSelect = el('select', {class: 'graph-run', 'aria-label': 'Run'});
  const tagSelect = el('select', {class: 'graph-tag', 'aria-label': 'Graph'});
  const traceBox = el('input', {type: 'checkbox', class: 'graph-trace'});
  const collapseAll = el('button', {class: 'text-button', text: 'Collapse all'});
  const fitButton = el('button', {class: 'text-button', text: 'Fit to screen'});
  ctx.settings.append(el('h2', {text: 'Graph'}),
    el('div', {class: 'row'}, el('label', {class: 'graph-label', text: 'Run'}), runSelect),
    el('div', {class: 'row'}, el('label', {class: 'graph-label', text: 'Graph'}), tagSelect),
    el('label', {class: 'row'}, traceBox, 'Trace inputs of the selected node'),
    el('div', {class: 'row'}, collapseAll, fitButton),
    el('div', {class: 'graph-legend'},
      el('span', {class: 'legend-scope', text: 'scope'}), el('span', {class: 'legend-series', text: 'series'}),
      el('span', {class: 'legend-op', text: 'op'}),
      el('span', {class: 'legend-aux', text: 'auxiliary'})));

  // -- main: search, warnings, canvas, details --
  const search = el('input', {class: 'filter graph-search', type: 'search', placeholder: 'Search nodes',
    'aria-label': 'Search nodes'});
  const results = el('ul', {class: 'graph-results', hidden: true});
  const warnings = el('details', {class: 'graph-warnings', hidden: true});  // notes on what was not drawn
  const message = el('p', {class: 'empty-state', hidden: true});
  const viewport = svg('g', {class: 'viewport'});
  const defs = svg('defs', {},
    svg('marker', {id: 'graph-arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 8, markerHeight: 8,
      markerUnits: 'userSpaceOnUse',
      orient: 'auto-start-reverse'}, svg('path', {d: 'M0,0 L10,5 L0,10 z', class: 'arrow-head'})),
    svg('marker', {id: 'graph-stub-arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 6, markerHeight: 6,
      markerUnits: 'userSpaceOnUse', orient: 'auto'}, svg('path', {d: 'M0,0 L10,5 L0,10 z', class: 'stub-head'})));
  const canvas = svg('svg', {class: 'graph-canvas', role: 'img', 'aria-label': 'Graph'}, defs, viewport);
  const details = el('aside', {class: 'graph-details', hidden: true});
  const stage = el('div', {class: 'graph-stage'}, canvas, details);
  container.append(el('div', {class: 'graph-toolbar'}, el('div', {class: 'graph-search-box'}, search, results)),
    warnings, message, stage);

  const key = () => `${state.run}\u0000${state.tag}`;
  const expandedSet = () => {
    if (!state.expanded.has(key())) state.expanded.set(key(), new Set());
    return state.expanded.get(key());
  };
  const params = (extra = {}) => {
    const p = {run: state.run, ...extra};
    const info = state.info[state.run];
    const tagInfo = info && info.tags[state.tag];
    if (state.tag && state.tag !== RUN_GRAPH) {
      p.tag = state.tag;
      if (tagInfo && tagInfo.conceptual_graph && !tagInfo.op_graph && !tagInfo.profile) p.conceptual = 'true';
    }
    return p;
  };

  // -- run / tag lists --
  async function refreshInfo() {
    try {
      state.info = await ctx.api('data/plugin/graphs/info');
    } catch (e) {
      showMessage(`Could not load the graph list: ${e.message}`);
      return;
    }
    const runs = Object.keys(state.info).filter((r) => ctx.runs.all().includes(r) || !ctx.runs.all().length);
    const selected = ctx.runs.selected();
    const shown = runs.filter((r) => selected.includes(r));
    const list = shown.length ? shown : runs;
    const previous = state.run;
    runSelect.replaceChildren(...list.map((r) => el('option', {value: r, text: r})));
    if (!list.length) {
      state.run = null;
      state.layout = null;
      viewport.replaceChildren();
      tagSelect.replaceChildren();
      showMessage('No graph data yet. Write one with FileWriter.add_graph, tf.summary.trace_export, '
        + 'a Keras TensorBoard callback or add_graph in tensorboardX / PyTorch.');
      return;
    }
    state.run = list.includes(previous) ? previous : list[0];
    runSelect.value = state.run;
    fillTags();
    if (state.run !== previous || !state.layout) await draw(true);
  }

  function fillTags() {
    const info = state.info[state.run] || {run_graph: false, tags: {}};
    const options = [];
    if (info.run_graph) options.push(el('option', {value: RUN_GRAPH, text: 'Default (run graph)'}));
    for (const [tag, t] of Object.entries(info.tags)) {
      const kind = t.conceptual_graph ? 'conceptual' : t.op_graph ? 'op graph' : 'profile';
      options.push(el('option', {value: tag, text: `${tag} (${kind})`}));
    }
    tagSelect.replaceChildren(...options);
    const values = options.map((o) => o.value);
    if (!values.includes(state.tag)) state.tag = values[0] || null;
    tagSelect.value = state.tag;
  }

  function showMessage(text) {
    message.hidden = !text;
    message.textContent = text || '';
  }

  // -- layout fetch and drawing --
  async function draw(refit = false) {
    if (!state.run) return;
    const request = ++state.request;
    const expanded = [...expandedSet()].join(',');
    canvas.dataset.state = 'loading';
    let layout;
    try {
      layout = await ctx.api(ctx.url('data/plugin/graphs/layout', params(expanded ? {expanded} : {})));
    } catch (e) {
      if (request !== state.request) return;
      state.layout = null;
      viewport.replaceChildren();
      showWarnings([`Could not draw this graph: ${e.message}`]);
      canvas.dataset.state = 'error';
      return;
    }
    if (request !== state.request) return;
    showMessage(layout.nodes.length ? '' : 'This graph has no nodes.');
    state.layout = layout;
    showWarnings(layout.warnings);
    render();
    if (refit) fitView();
    if (state.trace && state.selected) await traceInputs();
    state.version += 1;
    canvas.dataset.state = 'ready';
    canvas.dataset.version = String(state.version);
  }

  function showWarnings(list) {
    // A few notes show open; a long list (e.g. PyTorch graphs whose inputs name absent nodes) stays one line.
    warnings.hidden = !list.length;
    warnings.open = list.length <= 2;
    warnings.replaceChildren(el('summary', {text: `Notes about this graph (${list.length})`}),
      el('ul', {}, ...list.map((w) => el('li', {text: w}))));
  }

  function render() {
    const layout = state.layout;
    const boxes = svg('g', {class: 'boxes'});
    const edges = svg('g', {class: 'edges'});
    const nodes = svg('g', {class: 'nodes'});
    for (const n of layout.nodes) {
      if (n.kind !== 'op' && n.expanded) boxes.append(expandedBox(n));
      else nodes.append(nodeShape(n));
    }
    for (const e of layout.edges) {
      if (e.aux || e.points.length < 2) continue;
      edges.append(edgePath(e));
    }
    state.byId = new Map(layout.nodes.map((n) => [n.id, n]));
    state.stubs = groupStubs(layout.stubs || []);
    const stubs = svg('g', {class: 'stubs'});
    for (const [id, byDir] of state.stubs) {
      const n = state.byId.get(id);
      if (!n) continue;
      for (const dir of ['in', 'out']) if (byDir[dir]) stubs.append(stubShape(n, dir, byDir[dir], stubActions));
    }
    viewport.replaceChildren(boxes, edges, nodes, stubs);
    placeEdgeLabels(layout, edges);
    applySelection();
  }

  // Move each edge label along its edge to the first spot that covers no node and no other label
  // (else the least covered one): shortest edges first, since they have the fewest spots.
  function placeEdgeLabels(layout, edgeLayer) {
    const items = [...edgeLayer.querySelectorAll('.graph-edge')].map((g) => ({
      text: g.querySelector('.edge-label'), path: g.querySelector('path:not(.hit)')})).filter((it) => it.text);
    if (!items.length || items.length > 400) return;
    const taken = layout.nodes.map((n) => {
      const h = n.kind !== 'op' && n.expanded ? 24 : n.h;  // an open box: only its header
      return {x: n.x - n.w / 2 - 2, y: n.y - n.h / 2 - 2, r: n.x + n.w / 2 + 2, b: n.y - n.h / 2 + h + 2};
    });
    const covered = (a) => taken.reduce((sum, b) => sum
      + Math.max(0, Math.min(a.r, b.r) - Math.max(a.x, b.x)) * Math.max(0, Math.min(a.b, b.b) - Math.max(a.y, b.y)), 0);
    for (const it of items) it.length = it.path.getTotalLength();
    items.sort((a, b) => a.length - b.length);
    for (const {text, path, length} of items) {
      const box = text.getBBox();
      const x0 = Number(text.getAttribute('x')); const y0 = Number(text.getAttribute('y'));
      let best = null;
      for (const f of [0.5, 0.4, 0.6, 0.3, 0.7, 0.2, 0.8, 0.12, 0.88]) {
        const p = path.getPointAtLength(f * length);
        for (const x of [p.x + 4, p.x - 4 - box.width]) {
          const spot = {x: x + box.x - x0, y: p.y + box.y - y0, tx: x, ty: p.y};
          spot.r = spot.x + box.width; spot.b = spot.y + box.height;
          spot.cost = covered(spot);
          if (!best || spot.cost < best.cost) best = spot;
          if (!best.cost) break;
        }
        if (!best.cost) break;
      }
      text.setAttribute('x', best.tx); text.setAttribute('y', best.ty);
      taken.push(best);
    }
  }

  function markPeers(ids, on) {
    for (const g of viewport.querySelectorAll('.graph-node')) {
      if (ids.includes(g.dataset.id)) g.classList.toggle('stub-peer', on);
    }
  }
  const stubActions = {markPeers, select: (id) => selectNode(id)};

  // Select a drawn node without opening it (a stub's other end, an auxiliary link in the details).
  async function selectNode(id) {
    const n = state.byId.get(id);
    if (!n) return;
    state.selected = n;
    applySelection();
    centerOn(n);
    showDetails(n.name, n.kind, n.id);
    if (state.trace && n.kind === 'op') await traceInputs();
  }

  function nodeShape(n) {
    const x = n.x - n.w / 2; const y = n.y - n.h / 2;
    const classes = ['graph-node', n.kind, n.aux ? 'aux' : ''].join(' ');
    const g = svg('g', {class: classes, dataset: {id: n.id, name: n.name, parent: n.parent || ''}, tabindex: 0});
    const label = n.label;
    const title = svg('title', {text: n.kind === 'scope' ? `${n.name} (${n.count} ops) — click to expand`
      : n.kind === 'series' ? `${n.name}: ${n.count} ${n.op} ops — click to expand` : `${n.name} (${n.op})`});
    if (n.kind === 'series') {  // a stack of cards: two offset behind the front one
      for (const off of [6, 3]) {
        g.append(svg('rect', {x: x + off, y: y - off, width: n.w, height: n.h, rx: 6, ry: 6, class: 'card'}));
      }
      g.append(svg('rect', {x, y, width: n.w, height: n.h, rx: 6, ry: 6, class: 'front'}), title,
        svg('text', {x: n.x, y: n.y - 2, class: 'label', text: fit(label, n.w - 12)}),
        svg('text', {x: n.x, y: n.y + 11, class: 'count', text: fit(`${n.count} × ${n.op}`, n.w - 12, 5.4)}));
    } else if (n.kind === 'scope') {
      g.append(svg('rect', {x, y, width: n.w, height: n.h, rx: 8, ry: 8}), title,
        svg('text', {x: n.x, y: n.y - 2, class: 'label', text: fit(label, n.w - 12)}),
        svg('text', {x: n.x, y: n.y + 11, class: 'count', text: `${n.count} op${n.count === 1 ? '' : 's'}`}));
    } else {
      g.append(svg('rect', {x, y, width: n.w, height: n.h, rx: n.h / 2, ry: n.h / 2}), title,
        svg('text', {x: n.x, y: n.y + 4, class: 'label', text: fit(label, n.w - 8)}));
    }
    g.addEventListener('click', (ev) => { ev.stopPropagation(); onNodeClick(n); });
    g.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') onNodeClick(n); });
    return g;
  }

  function expandedBox(n) {
    const x = n.x - n.w / 2; const y = n.y - n.h / 2;
    const g = svg('g', {class: `graph-node ${n.kind} expanded${n.aux ? ' aux' : ''} depth-${n.depth % 4}`,
      dataset: {id: n.id, name: n.name, parent: n.parent || ''}});
    const count = n.kind === 'series' ? `${n.count} × ${n.op}` : `${n.count} ops`;
    const header = svg('g', {class: 'box-header', tabindex: 0},
      svg('rect', {x, y, width: n.w, height: 24, rx: 8, ry: 8, class: 'header-rect'}),
      svg('text', {x: x + 10, y: y + 16, class: 'label box-label',
        text: `▾ ${fit(n.label, n.w - 30 - 5.4 * count.length)}`}),
      svg('text', {x: x + n.w - 8, y: y + 16, class: 'count box-count', text: count}),
      svg('title', {text: `${n.name} — click to collapse`}));
    g.append(svg('rect', {x, y, width: n.w, height: n.h, rx: 8, ry: 8, class: 'box-rect'}), header);
    header.addEventListener('click', (ev) => { ev.stopPropagation(); onNodeClick(n); });
    header.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') onNodeClick(n); });
    return g;
  }

  function edgePath(e) {
    const pts = e.points;
    let d = `M${pts[0][0]},${pts[0][1]}`;
    if (pts.length === 2) d += ` L${pts[1][0]},${pts[1][1]}`;
    else {
      for (let i = 1; i < pts.length - 1; i++) {
        const mx = (pts[i][0] + pts[i + 1][0]) / 2; const my = (pts[i][1] + pts[i + 1][1]) / 2;
        d += ` Q${pts[i][0]},${pts[i][1]} ${i === pts.length - 2 ? `${pts[i + 1][0]},${pts[i + 1][1]}` : `${mx},${my}`}`;
      }
    }
    const control = e.control === e.count;
    const width = Math.min(5, 1 + Math.log2(e.count));
    const g = svg('g', {class: `graph-edge${control ? ' control' : ''}`, dataset: {from: e.from, to: e.to}});
    const path = svg('path', {d, 'marker-end': 'url(#graph-arrow)'});
    path.style.strokeWidth = String(width);
    const text = e.count > 1 ? `${e.count} tensors` : e.shape;
    g.append(svg('path', {d, class: 'hit'}), path,
      svg('title', {text: `${e.from} → ${e.to}: ${e.count} edge${e.count === 1 ? '' : 's'}`
        + `${e.control ? ` (${e.control} control)` : ''}${e.shape ? `, shape ${e.shape}` : ''}`}));
    if (text) {
      const mid = pts[Math.floor((pts.length - 1) / 2)]; const next = pts[Math.floor((pts.length - 1) / 2) + 1];
      g.append(svg('text', {x: (mid[0] + next[0]) / 2 + 4, y: (mid[1] + next[1]) / 2, class: 'edge-label', text}));
    }
    return g;
  }

  // -- interaction --
  async function onNodeClick(n) {
    state.selected = n;
    if (n.kind !== 'op') {
      const set = expandedSet();
      if (set.has(n.name)) {
        for (const s of [...set]) if (s === n.name || s.startsWith(`${n.name}/`)) set.delete(s);
      } else set.add(n.name);
      await draw();
    } else applySelection();
    showDetails(n.name, n.kind, n.id);
    if (state.trace && n.kind === 'op') await traceInputs();
  }

  function applySelection() {
    const id = state.selected && state.selected.id;
    const peers = new Set(id ? stubPeers(state.stubs, id).map((p) => p.other) : []);
    for (const g of viewport.querySelectorAll('.graph-node')) {
      g.classList.toggle('selected', !!id && g.dataset.id === id);
      g.classList.toggle('aux-peer', peers.has(g.dataset.id));
    }
    for (const g of viewport.querySelectorAll('.aux-stub')) g.classList.toggle('selected', g.dataset.node === id);
  }

  async function traceInputs() {
    const traced = viewport.querySelectorAll('.traced, .dimmed');
    for (const node of traced) node.classList.remove('traced', 'dimmed');
    if (!state.trace || !state.selected || state.selected.kind !== 'op') return;
    const expanded = [...expandedSet()].join(',');
    let result;
    try {
      result = await ctx.api(ctx.url('data/plugin/graphs/trace', params({name: state.selected.name, expanded})));
    } catch (e) { return; }
    const ids = new Set(result.ids);
    ids.add(state.selected.id);
    for (const g of viewport.querySelectorAll('.graph-node')) {
      g.classList.toggle('traced', ids.has(g.dataset.id));
      g.classList.toggle('dimmed', !ids.has(g.dataset.id));
    }
    for (const g of viewport.querySelectorAll('.graph-edge')) {
      const on = ids.has(g.dataset.from) && ids.has(g.dataset.to);
      g.classList.toggle('traced', on);
      g.classList.toggle('dimmed', !on);
    }
    // a stub is an edge too: traced when both ends are (an open box counts when a node inside it is)
    const reached = (id) => ids.has(id) || [...ids].some((x) => x.startsWith(`${id}/`));
    for (const g of viewport.querySelectorAll('.aux-stub')) {
      const agg = (state.stubs.get(g.dataset.node) || {})[g.dataset.dir];
      const on = reached(g.dataset.node) && Boolean(agg) && agg.others.some((o) => reached(o.other));
      g.classList.toggle('traced', on);
      g.classList.toggle('dimmed', !on);
    }
  }

  async function showDetails(name, kind = 'op', id = name) {
    let info;
    try {
      info = await ctx.api(ctx.url('data/plugin/graphs/node', params({name, kind})));
    } catch (e) {
      details.hidden = false;
      details.replaceChildren(el('p', {class: 'error', text: e.message}));
      return;
    }
    const close = el('button', {class: 'icon-button close', title: 'Close', 'aria-label': 'Close', text: '×'});
    close.addEventListener('click', () => { details.hidden = true; });
    const rows = [el('div', {class: 'details-head'}, el('h3', {text: info.name}), close)];
    const field = (label, value) => value !== undefined && value !== null && value !== ''
      && rows.push(el('div', {class: 'field'}, el('span', {class: 'key', text: label}), el('span', {text: String(value)})));
    if (info.kind === 'series') {
      field('Kind', 'series of repeated ops');
      field('Op', info.op);
      field('Members', info.count);
      rows.push(el('h4', {text: `Members (${info.members.length}${info.more_children ? '+' : ''})`}),
        el('ul', {class: 'details-list'}, ...info.members.map((name) => el('li', {}, actionLink(name, () => reveal(name))))));
    } else if (info.kind === 'scope') {
      field('Kind', 'name scope');
      field('Ops inside', info.count);
      rows.push(el('h4', {text: `Children (${info.children.length}${info.more_children ? '+' : ''})`}),
        el('ul', {class: 'details-list'}, ...info.children.map((c) => el('li', {text: c.kind === 'op'
          ? `${c.label} (${c.op})` : c.kind === 'series' ? `${c.label} (${c.op} series)` : `${c.label}/`}))));
    } else {
      field('Op', info.op);
      field('Series', info.series);
      field('Device', info.device);
      if (info.shapes.length) field('Output shapes', info.shapes.join(', '));
      const ioList = (title, list) => {
        rows.push(el('h4', {text: `${title} (${list.length})`}));
        rows.push(el('ul', {class: 'details-list'}, ...list.map((i) => {
          const item = el('li', {class: `${i.control ? 'control' : ''}${i.missing ? ' missing' : ''}`},
            actionLink(`${i.control ? '^' : ''}${i.name}${i.slot > 0 ? `:${i.slot}` : ''}`,
              () => { if (!i.missing) reveal(i.name); }));
          if (i.shape) item.append(el('span', {class: 'shape', text: ` ${i.shape}`}));
          if (i.missing) item.append(el('span', {class: 'shape', text: ' (not in graph)'}));
          return item;
        })));
      };
      ioList('Inputs', info.inputs);
      ioList('Outputs', info.outputs);
      const attrs = Object.entries(info.attrs);
      if (attrs.length) {
        rows.push(el('h4', {text: 'Attributes'}));
        rows.push(el('dl', {class: 'details-attrs'}, ...attrs.flatMap(([k, v]) => [el('dt', {text: k}), el('dd', {text: v})])));
      }
    }
    const peers = stubPeers(state.stubs, id);
    if (peers.length) {
      rows.push(el('h4', {text: `Auxiliary connections (${peers.length})`}),
        el('ul', {class: 'details-list aux-links'}, ...peers.map((p) => el('li', {},
          el('span', {class: 'shape', text: p.dir === 'in' ? '← ' : '→ '}), actionLink(p.other, () => selectNode(p.other)),
          el('span', {class: 'shape', text: ` ${tensors(p.count, p.control)}`})))));
    }
    details.replaceChildren(...rows);
    details.hidden = false;
  }

  async function reveal(name) {
    let match;
    try {
      const found = await ctx.api(ctx.url('data/plugin/graphs/search', params({q: name})));
      match = found.matches.find((m) => m.name === name) || found.matches[0];
    } catch (e) { return; }
    if (!match) return;
    const set = expandedSet();
    for (const s of match.scopes) set.add(s);
    await draw();
    const node = state.layout && state.layout.nodes.find((n) => n.id === match.id);
    if (node) {
      state.selected = node;
      applySelection();
      centerOn(node);
      if (state.trace) await traceInputs();
    }
    showDetails(match.name, 'op', match.id);
  }

  const runSearch = debounce(async () => {
    const q = search.value.trim();
    if (!q || !state.run) { results.hidden = true; return; }
    let found;
    try { found = await ctx.api(ctx.url('data/plugin/graphs/search', params({q}))); } catch (e) { return; }
    results.replaceChildren(...found.matches.slice(0, 20).map((m) => {
      const li = el('li', {tabindex: 0, dataset: {name: m.name}}, el('span', {text: m.name}),
        el('span', {class: 'op', text: m.op}));
      const pick = () => { results.hidden = true; search.value = m.name; reveal(m.name); };
      li.addEventListener('click', pick);
      li.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') pick(); });
      return li;
    }));
    if (!found.matches.length) results.append(el('li', {class: 'none', text: 'No matching node'}));
    results.hidden = false;
  }, 200);
  search.addEventListener('input', runSearch);
  search.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter') { const first = results.querySelector('li[data-name]'); if (first) first.click(); }
    if (ev.key === 'Escape') results.hidden = true;
  });

  // -- zoom and pan --
  function applyView() {
    const {x, y, k} = state.view;
    viewport.setAttribute('transform', `translate(${x},${y}) scale(${k})`);
  }

  function fitView() {
    const layout = state.layout;
    const box = canvas.getBoundingClientRect();
    if (!layout || !box.width) return;
    const k = Math.min(1.5, Math.max(0.05, Math.min((box.width - 40) / Math.max(1, layout.width),
      (box.height - 40) / Math.max(1, layout.height))));
    state.view = {k, x: (box.width - layout.width * k) / 2, y: 20};
    applyView();
  }

  function centerOn(n) {
    const box = canvas.getBoundingClientRect();
    const k = Math.max(state.view.k, 0.8);
    state.view = {k, x: box.width / 2 - n.x * k, y: box.height / 2 - n.y * k};
    applyView();
  }

  canvas.addEventListener('wheel', (ev) => {
    ev.preventDefault();
    const box = canvas.getBoundingClientRect();
    const px = ev.clientX - box.left; const py = ev.clientY - box.top;
    const factor = Math.exp(-ev.deltaY * 0.0015);
    const k = Math.min(8, Math.max(0.02, state.view.k * factor));
    const ratio = k / state.view.k;
    state.view = {k, x: px - (px - state.view.x) * ratio, y: py - (py - state.view.y) * ratio};
    applyView();
  }, {passive: false});
  let drag = null;
  canvas.addEventListener('pointerdown', (ev) => {
    if (ev.target.closest('.graph-node:not(.expanded)') || ev.target.closest('.box-header')
      || ev.target.closest('.aux-stub')) return;
    drag = {x: ev.clientX, y: ev.clientY, vx: state.view.x, vy: state.view.y};
    canvas.setPointerCapture(ev.pointerId);
    canvas.classList.add('panning');
  });
  canvas.addEventListener('pointermove', (ev) => {
    if (!drag) return;
    state.view.x = drag.vx + ev.clientX - drag.x;
    state.view.y = drag.vy + ev.clientY - drag.y;
    applyView();
  });
  const endDrag = () => { drag = null; canvas.classList.remove('panning'); };
  canvas.addEventListener('pointerup', endDrag);
  canvas.addEventListener('pointercancel', endDrag);

  // -- controls --
  runSelect.addEventListener('change', async () => {
    state.run = runSelect.value; state.selected = null; details.hidden = true; fillTags(); await draw(true);
  });
  tagSelect.addEventListener('change', async () => {
    state.tag = tagSelect.value; state.selected = null; details.hidden = true; await draw(true);
  });
  traceBox.addEventListener('change', async () => { state.trace = traceBox.checked; await traceInputs(); });
  collapseAll.addEventListener('click', async () => { expandedSet().clear(); await draw(true); });
  fitButton.addEventListener('click', fitView);
  ctx.onRunsChanged(() => refreshInfo());
  ctx.onReload(() => refreshInfo());

  await refreshInfo();
}
