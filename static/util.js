// Small helpers shared by the dashboards. Every piece of data reaches the page through
// textContent or attribute setters here — never through innerHTML.

/** Create an element: el('div', {class: 'x', title: t}, child, 'text', ...). */
export function el(tag, attrs = {}, ...children) {
  return filled(document.createElement(tag), attrs, children);
}

/** Attributes (`class`, `text`, `on*` listeners, `dataset`, the rest as attributes) and children. */
function filled(node, attrs, children) {
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.setAttribute('class', value);
    else if (key === 'text') node.textContent = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** GET (or POST JSON) a path relative to the page; throws with the server's JSON error message. */
export async function api(path, body) {
  const options = body === undefined ? {} : {
    method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body)};
  const response = await fetch(path, options);
  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`;
    try { message = (await response.json()).error || message; } catch (e) { /* not JSON */ }
    throw new Error(message);
  }
  return response.json();
}

/** Build a relative URL with query parameters. */
export function url(path, params) {
  return `${path}?${new URLSearchParams(params).toString()}`;
}

const SPECIAL = {NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity};
/** Numbers from the server's JSON, where NaN and infinities travel as strings. */
export function decodeFloats(list) {
  return list.map((v) => (typeof v === 'string' ? SPECIAL[v] : v));
}

export function formatNumber(v) {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '∞';
  if (v === -Infinity) return '-∞';
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1e5 || a < 1e-3 ? v.toExponential(4) : String(Number(v.toPrecision(5)));
}

export function formatDuration(seconds) {
  if (!Number.isFinite(seconds)) return '';
  const s = Math.abs(seconds);
  if (s < 60) return `${seconds.toFixed(1)}s`;
  if (s < 3600) return `${(seconds / 60).toFixed(1)}m`;
  if (s < 86400) return `${(seconds / 3600).toFixed(2)}h`;
  return `${(seconds / 86400).toFixed(2)}d`;
}

/** A RegExp from user text, or null when the text is not a valid pattern (then nothing is filtered). */
export function userRegex(text) {
  if (!text) return null;
  try { return new RegExp(text, 'i'); } catch (e) { return undefined; }
}

/** Group tags by their first name-scope segment, like TensorBoard's tag cards. */
export function groupTags(tags) {
  const groups = new Map();
  for (const tag of [...tags].sort()) {
    const slash = tag.indexOf('/');
    const group = slash > 0 ? tag.slice(0, slash) : tag;
    if (!groups.has(group)) groups.set(group, []);
    groups.get(group).push(tag);
  }
  return groups;
}

/** The collapsible header of a group of cards: a chevron, the group's name (as text) and how many it holds. */
export function groupHeader(name, count, open) {
  return el('button', {class: 'group-header', 'aria-expanded': String(open)},
    el('span', {class: 'chevron', text: open ? '▾' : '▸'}), el('span', {class: 'group-name', text: name}),
    el('span', {class: 'count', text: String(count)}));
}

/**
 * Collapsible sections for `groups` (from groupTags), as every tag dashboard shows them: the first three
 * open until the user opens or closes one, all open while a filter is typed. `entries(tags)` lists what a
 * section holds (its count); `nodeOf(entry)` builds an entry's card, only for open sections.
 */
export function groupSections(groups, openGroups, filtering, rerender, entries, nodeOf) {
  if (openGroups.size === 0 && groups.size) [...groups.keys()].slice(0, 3).forEach((g) => openGroups.add(g));
  return [...groups].map(([group, tags]) => {
    const items = entries(tags);
    const open = openGroups.has(group) || filtering;
    const header = groupHeader(group, items.length, open);
    header.addEventListener('click', () => {
      if (openGroups.has(group)) openGroups.delete(group); else openGroups.add(group);
      rerender();
    });
    const body = el('div', {class: 'cards', hidden: !open}, ...(open ? items.map(nodeOf) : []));
    return el('section', {class: 'group', dataset: {group}}, header, body);
  });
}

/** A chart value plotly can draw: the number, or null (a gap) for NaN and the infinities. */
export const finite = (v) => (Number.isFinite(v) ? v : null);

/**
 * Cards that load when scrolled into view (or within 200px of it) and, once marked stale, again while in
 * view. `load(card)` fetches and draws a card (`card.node` its element); a failure shows in `noteOf(card)`
 * as "Could not load: …". Each card gets `stale` and `visible` flags.
 */
export function lazyCards(load, noteOf = (card) => card.note) {
  async function run(card) {
    card.stale = false;
    try { await load(card); } catch (e) { noteOf(card).textContent = `Could not load: ${e.message}`; }
  }
  const observer = new IntersectionObserver((entries) => {
    for (const entry of entries) {
      const card = entry.target.boardCard;
      if (!card) continue;
      card.visible = entry.isIntersecting;
      if (card.visible && card.stale) run(card);
    }
  }, {rootMargin: '200px'});
  const reload = (card) => { card.stale = true; if (card.visible) run(card); };
  return {
    /** Watch a new card: it loads when it first comes into view. */
    observe(card) {
      Object.assign(card, {stale: true, visible: false});
      card.node.boardCard = card;
      observer.observe(card.node);
    },
    unobserve(card) { observer.unobserve(card.node); },
    /** Mark a card stale: it loads now if in view, else when it comes into view. */
    reload,
    reloadAll(cards) { for (const card of cards) reload(card); },
  };
}

export function debounce(fn, ms) {
  let timer = null;
  return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
}

/** Binary search: index of the element of sorted `xs` nearest to `x`. */
export function nearestIndex(xs, x) {
  let lo = 0; let hi = xs.length - 1;
  if (hi < 0) return -1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (xs[mid] < x) lo = mid; else hi = mid;
  }
  return Math.abs(xs[lo] - x) <= Math.abs(xs[hi] - x) ? lo : hi;
}

/** Radio buttons in a dashboard's settings: radios(name, ['a', 'b'], current, onChange). */
export function radios(name, choices, current, onChange) {
  return el('div', {class: 'row radios'}, ...choices.map((choice) => {
    const input = el('input', {type: 'radio', name, value: choice, checked: current === choice});
    input.addEventListener('change', () => onChange(choice));
    return el('label', {class: 'radio'}, input, ` ${choice.toUpperCase()}`);
  }));
}

/** The smoothing slider and its number box, kept in step; `onChange(value)` (in [0, 0.999]) after each edit. */
export function smoothingInputs(value, onChange) {
  const slider = el('input', {type: 'range', min: '0', max: '0.999', step: '0.001', value: String(value),
    'aria-label': 'Smoothing', class: 'smoothing-slider'});
  const number = el('input', {type: 'number', min: '0', max: '0.999', step: '0.01', value: String(value),
    class: 'smoothing-number', 'aria-label': 'Smoothing value'});
  const set = (v) => {
    const smoothing = Math.min(0.999, Math.max(0, Number(v) || 0));
    slider.value = String(smoothing); number.value = String(smoothing);
    onChange(smoothing);
  };
  slider.addEventListener('input', () => set(slider.value));
  number.addEventListener('change', () => set(number.value));
  return [slider, number];
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** An SVG element, attributes as `el` takes them (text and names are never parsed as markup). */
export function svg(tag, attrs = {}, ...children) {
  return filled(document.createElementNS(SVG_NS, tag), attrs, children);
}

/**
 * Settings kept across page loads (localStorage, per host:port): each field of `defaults` takes the stored
 * value when that has the default's type and passes `valid`, else the default. Storage may be off or full:
 * then the defaults are used and nothing is kept.
 */
export function restored(key, defaults, valid = () => true) {
  let saved = null;
  try { saved = JSON.parse(localStorage.getItem(`board.${key}`)); } catch (e) { /* none or unreadable */ }
  const out = {...defaults};
  if (saved && typeof saved === 'object') {
    for (const [name, value] of Object.entries(defaults)) {
      if (typeof saved[name] === typeof value && valid(name, saved[name])) out[name] = saved[name];
    }
  }
  return out;
}

export function keep(key, values) {
  try { localStorage.setItem(`board.${key}`, JSON.stringify(values)); } catch (e) { /* storage off or full */ }
}
