// A small markdown renderer that builds DOM nodes and never parses HTML: headings, paragraphs,
// emphasis, inline code, fenced code, lists, block quotes, tables, rules and http(s) links.
// Anything else (raw HTML included) shows as the text it is.
import {el} from './util.js';

export function renderMarkdown(source) {
  const root = el('div', {class: 'markdown'});
  const lines = String(source).replace(/\r\n?/g, '\n').split('\n');
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (!line.trim()) { i++; continue; }
    const fence = line.match(/^\s*(```|~~~)/);
    if (fence) {
      const body = [];
      for (i++; i < lines.length && !lines[i].trim().startsWith(fence[1]); i++) body.push(lines[i]);
      i++;
      root.append(el('pre', {}, el('code', {text: body.join('\n')})));
      continue;
    }
    const heading = line.match(/^(#{1,6})\s+(.*)$/);
    if (heading) { root.append(el(`h${heading[1].length}`, {}, ...inline(heading[2]))); i++; continue; }
    if (/^\s*([-*_])(\s*\1){2,}\s*$/.test(line)) { root.append(el('hr')); i++; continue; }
    if (isTableStart(lines, i)) { i = table(lines, i, root); continue; }
    if (/^\s*>/.test(line)) {
      const body = [];
      for (; i < lines.length && /^\s*>/.test(lines[i]); i++) body.push(lines[i].replace(/^\s*>\s?/, ''));
      const quote = renderMarkdown(body.join('\n'));
      root.append(el('blockquote', {}, ...quote.childNodes));
      continue;
    }
    const item = /^\s*([-*+]|\d+[.)])\s+/;
    if (item.test(line)) {
      const ordered = /^\s*\d/.test(line);
      const list = el(ordered ? 'ol' : 'ul');
      for (; i < lines.length && item.test(lines[i]); i++) list.append(el('li', {}, ...inline(lines[i].replace(item, ''))));
      root.append(list);
      continue;
    }
    const para = [];
    for (; i < lines.length && lines[i].trim() && !/^(#{1,6}\s|\s*```|\s*>)/.test(lines[i]) && !isTableStart(lines, i); i++) {
      para.push(lines[i].trim());
    }
    root.append(el('p', {}, ...inline(para.join(' '))));
  }
  return root;
}

function cells(line) {
  return line.trim().replace(/^\|/, '').replace(/\|$/, '').split('|').map((c) => c.trim());
}

function isTableStart(lines, i) {
  return i + 1 < lines.length && lines[i].includes('|') && /^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$/.test(lines[i + 1]);
}

function table(lines, i, root) {
  const head = cells(lines[i]);
  const rows = [];
  for (i += 2; i < lines.length && lines[i].includes('|') && lines[i].trim(); i++) rows.push(cells(lines[i]));
  root.append(el('table', {}, el('thead', {}, el('tr', {}, ...head.map((c) => el('th', {}, ...inline(c))))),
    el('tbody', {}, ...rows.map((r) => el('tr', {}, ...head.map((_, k) => el('td', {}, ...inline(r[k] ?? ''))))))));
  return i;
}

const INLINE = /(`+)([^`]*?)\1|\*\*([^*]+)\*\*|__([^_]+)__|\*([^*]+)\*|_([^_]+)_|\[([^\]]*)\]\(([^)\s]*)\)/;

/** Inline markdown as DOM nodes (text nodes for everything that is not markup we know). */
export function inline(text) {
  const out = [];
  let rest = text;
  while (rest) {
    const m = rest.match(INLINE);
    if (!m) { out.push(document.createTextNode(rest)); break; }
    if (m.index) out.push(document.createTextNode(rest.slice(0, m.index)));
    if (m[1]) out.push(el('code', {text: m[2]}));
    else if (m[3] || m[4]) out.push(el('strong', {}, ...inline(m[3] || m[4])));
    else if (m[5] || m[6]) out.push(el('em', {}, ...inline(m[5] || m[6])));
    else if (/^https?:\/\//i.test(m[8])) out.push(el('a', {href: m[8], rel: 'noopener noreferrer', target: '_blank'}, ...inline(m[7])));
    else out.push(document.createTextNode(m[0])); // javascript:, data: and relative links stay text
    rest = rest.slice(m.index + m[0].length);
  }
  return out;
}
