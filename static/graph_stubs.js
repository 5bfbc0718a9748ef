// Edges to auxiliary nodes (set aside in a side column) are not routed; each end gets a short dashed
// "stub" instead, at most one in- and one out-stub per node with the counts added up, as TensorBoard does.
import {svg} from './util.js';

/** node id -> {in, out}: each {count, control, others: [{other, count, control}], biggest first}. */
export function groupStubs(list) {
  const out = new Map();
  for (const s of list) {
    if (!out.has(s.node)) out.set(s.node, {});
    const byDir = out.get(s.node);
    const agg = byDir[s.dir] || (byDir[s.dir] = {count: 0, control: 0, others: []});
    agg.count += s.count;
    agg.control += s.control;
    agg.others.push({other: s.other, count: s.count, control: s.control});
  }
  for (const byDir of out.values()) {
    for (const agg of Object.values(byDir)) agg.others.sort((a, b) => b.count - a.count || (a.other < b.other ? -1 : 1));
  }
  return out;
}

/** The other ends of a node's stubs, both directions. */
export function stubPeers(stubs, id) {
  const byDir = stubs.get(id) || {};
  return ['in', 'out'].flatMap((dir) => (byDir[dir] ? byDir[dir].others.map((o) => ({dir, ...o})) : []));
}

/** "3 tensors (1 control)": the count a stub and the details panel show. */
export const tensors = (count, control) => `${count} tensor${count === 1 ? '' : 's'}${control ? ` (${control} control)` : ''}`;

function stubTitle(n, dir, agg) {
  const shown = agg.others.slice(0, 8).map((o) => `${o.other} (${tensors(o.count, o.control)})`);
  if (agg.others.length > shown.length) shown.push(`and ${agg.others.length - shown.length} more`);
  const way = dir === 'out' ? `${n.name} → ${n.aux ? 'main graph' : 'auxiliary'}`
    : `${n.aux ? 'main graph' : 'auxiliary'} → ${n.name}`;
  return `${way}: ${shown.join(', ')}; ${tensors(agg.count, agg.control)} in all — click to select `
    + agg.others[0].other;
}

/**
 * A short dashed arrow on the side facing the other column (main nodes' right, auxiliary nodes' left).
 * `markPeers(ids, on)` lights the other ends while hovered; `select(id)` is called on click or Enter.
 */
export function stubShape(n, dir, agg, {markPeers, select}) {
  const side = n.aux ? -1 : 1;
  const edgeX = n.x + side * n.w / 2; const farX = edgeX + side * 16;
  const cy = n.expanded ? n.y - n.h / 2 + 12 : n.y;
  const y = cy + (dir === 'out' ? 1 : -1) * (n.expanded ? 6 : n.h / 4);
  const d = dir === 'out' ? `M${edgeX},${y} L${farX},${y}` : `M${farX},${y} L${edgeX},${y}`;
  const g = svg('g', {class: `aux-stub ${dir}`, tabindex: 0,
    dataset: {node: n.id, dir, other: agg.others[0].other, count: String(agg.count)}},
  svg('rect', {x: Math.min(edgeX, farX), y: y - 5, width: 16, height: 10, class: 'hit'}),
  svg('path', {d, class: 'stub-line', 'marker-end': 'url(#graph-stub-arrow)'}),
  svg('title', {text: stubTitle(n, dir, agg)}));
  const peers = agg.others.map((o) => o.other);
  g.addEventListener('mouseenter', () => markPeers(peers, true));
  g.addEventListener('mouseleave', () => markPeers(peers, false));
  g.addEventListener('click', (ev) => { ev.stopPropagation(); select(peers[0]); });
  g.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') select(peers[0]); });
  return g;
}
