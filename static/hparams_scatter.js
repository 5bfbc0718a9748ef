// HParams scatter plot matrix: one small SVG scatter plot per (shown column) x (shown metric), a point per session.
import {el, svg} from './util.js';
import {colorbar, colorScale, dimension, label} from './hparams_axes.js';

const CELL = {l: 44, r: 8, t: 6, b: 20};  // a scatter plot's margins inside its cell

/** At most about `n` ticks: every k-th of a long list. */
const thinned = (ticks, n) => ticks.filter((_, i) => i % Math.ceil(ticks.length / n) === 0);

/** The page's tooltip `tip` filled with a session's status and shown columns, next to the pointer. */
function showSessionTooltip(tip, session, cols, textOf, event) {
  if (!session) return;
  tip.replaceChildren(el('div', {class: 'tooltip-title', text: session.name}), el('table', {},
    el('tr', {}, el('th', {text: 'status'}), el('td', {text: session.status})),
    ...cols.map((c) => el('tr', {}, el('th', {text: c.label}), el('td', {text: textOf(session, c)})))));
  tip.hidden = false;
  tip.style.left = `${Math.min(event.clientX + 16, window.innerWidth - tip.offsetWidth - 8)}px`;
  tip.style.top = `${Math.min(event.clientY + 16, window.innerHeight - tip.offsetHeight - 8)}px`;
}

/** Scatter plot matrix in SVG (a point per session and plot keeps it light; WebGL cannot run here), drawn into
 *  `host` with its caption in `note`. `columns`: the shown columns; `sessions`: the filtered sessions; `total`: how
 *  many sessions there are in all; `valueOf(session, column)`: a cell's value, `textOf(session, column)`: its text
 *  as the table shows it; `tooltip`: the page's tooltip element. */
export function drawScatterMatrix({host, note, tooltip, columns: cols, sessions: list, total, valueOf, textOf}) {
  host.replaceChildren();
  tooltip.hidden = true;
  const dims = cols.map((c) => dimension(c, list.map((s) => valueOf(s, c)))).map((d) => (d.scale === 'category' ? d
    : {...d, range: [d.range[0] - (d.range[1] - d.range[0]) * 0.06, d.range[1] + (d.range[1] - d.range[0]) * 0.06]}));
  const ys = dims.filter((d) => d.kind === 'metric');
  if (!list.length || !ys.length) {
    note.textContent = total ? 'No session or metric to draw.' : '';
    return;
  }
  const {firstMetric, colorValues, cLo, cHi, colorOf} = colorScale(dims, list);
  const [legend, left, top] = [cHi > cLo ? 96 : 0, 24, 22];
  const cw = Math.max(150, Math.min(230, Math.floor(((host.clientWidth || 900) - left - legend - 2) / dims.length)));
  const ch = Math.round(cw * 0.72);
  const width = left + dims.length * cw + legend;
  const height = Math.max(top + ys.length * ch + 4, 220);
  const root = svg('svg', {class: 'hp-sp', width, height, viewBox: `0 0 ${width} ${height}`});
  const bySession = new Map();
  const overlay = svg('g', {class: 'hp-sp-overlay'});
  const title = (d) => (d.scale === 'log' ? `${d.label} (log)` : d.label);
  dims.forEach((dx, ix) => root.append(label({class: `hp-axis-label hp-sp-col hp-sp-${dx.kind}`,
    x: left + ix * cw + (cw + CELL.l - CELL.r) / 2, y: 14, 'text-anchor': 'middle'}, title(dx), Math.floor(cw / 7))));
  ys.forEach((dy, iy) => {
    const cy = top + iy * ch + (ch - CELL.b + CELL.t) / 2;
    root.append(label({class: 'hp-axis-label hp-sp-row hp-sp-metric', x: 12, y: cy, 'text-anchor': 'middle',
      transform: `rotate(-90 12 ${cy})`}, title(dy), Math.floor(ch / 7)));
    dims.forEach((dx, ix) => {
      const [x0, x1] = [left + ix * cw + CELL.l, left + (ix + 1) * cw - CELL.r];
      const [y0, y1] = [top + iy * ch + CELL.t, top + (iy + 1) * ch - CELL.b];
      const xOf = (v) => x0 + ((v - dx.range[0]) / (dx.range[1] - dx.range[0])) * (x1 - x0);
      const yOf = (v) => y1 - ((v - dy.range[0]) / (dy.range[1] - dy.range[0])) * (y1 - y0);
      const plot = svg('g', {class: 'hp-sp-plot', dataset: {x: dx.id, y: dy.id}},
        svg('rect', {class: 'hp-sp-frame', x: x0, y: y0, width: x1 - x0, height: y1 - y0}));
      const xt = thinned(dx.ticks, 4);
      for (const [v, text] of xt) {
        const px = xOf(v);
        plot.append(svg('line', {class: 'hp-sp-grid', x1: px, x2: px, y1: y0, y2: y1}),
          label({class: 'hp-tick-label', x: px, y: y1 + 12, 'text-anchor': 'middle'}, text,
            Math.max(3, Math.floor((x1 - x0) / xt.length / 5.5))));
      }
      for (const [v, text] of thinned(dy.ticks, Math.max(2, Math.floor((y1 - y0) / 16)))) {
        const py = yOf(v);
        plot.append(svg('line', {class: 'hp-sp-grid', x1: x0, x2: x1, y1: py, y2: py}),
          label({class: 'hp-tick-label', x: x0 - 4, y: py + 3.5, 'text-anchor': 'end'}, text, 7));
      }
      const points = svg('g', {class: 'hp-sp-points'});
      list.forEach((s, row) => {
        const [vx, vy] = [dx.values[row], dy.values[row]];
        if (vx === null || vy === null) return;
        const dot = svg('circle', {class: 'hp-sp-point', cx: xOf(vx).toFixed(1), cy: yOf(vy).toFixed(1), r: 3.5,
          fill: colorOf(colorValues[row]), dataset: {session: s.name}});
        points.append(dot);
        if (!bySession.has(s.name)) bySession.set(s.name, []);
        bySession.get(s.name).push(dot);
      });
      plot.append(points);
      root.append(plot);
    });
  });
  root.append(overlay);
  if (legend) root.append(colorbar(firstMetric.label, cLo, cHi, width, height));
  const byName = new Map(list.map((s) => [s.name, s]));
  const clear = () => {
    root.classList.remove('hovering');
    for (const dot of root.querySelectorAll('.hp-sp-point.hl')) dot.classList.remove('hl');
    overlay.replaceChildren();
    host.dataset.highlighted = '';
    tooltip.hidden = true;
  };
  root.addEventListener('pointerover', (event) => {
    const dot = event.target.closest('.hp-sp-point');
    if (!dot) return;
    clear();
    const name = dot.dataset.session;
    root.classList.add('hovering');
    host.dataset.highlighted = name;
    for (const d of bySession.get(name) || []) {
      d.classList.add('hl');
      overlay.append(svg('circle', {class: 'hp-sp-ring', cx: d.getAttribute('cx'), cy: d.getAttribute('cy'), r: 6,
        fill: d.getAttribute('fill')}));
    }
    showSessionTooltip(tooltip, byName.get(name), cols, textOf, event);
  });
  root.addEventListener('pointerout', (event) => { if (event.target.closest('.hp-sp-point')) clear(); });
  host.append(root);
  host.dataset.plots = String(dims.length * ys.length);
  const incomplete = list.filter((_, row) => dims.some((d) => d.values[row] === null)).length;
  note.textContent = `${list.length} session${list.length === 1 ? '' : 's'}` +
    (firstMetric ? `; points colored by ${firstMetric.label}` : '') +
    (incomplete ? `; ${incomplete} with a missing or non-finite value, left out of the plots that need it` : '') +
    '. Hover a point to find its session in every plot.';
}
