// Text dashboard: a card per run and tag listing its steps, newest first. Strings are rendered as
// markdown (static/markdown.js builds DOM nodes, never HTML); a 2-D string tensor is a table.
import {el} from './util.js';
import {renderMarkdown} from './markdown.js';
import {cardFrame, mountRunTagCards} from './tagcards.js';

export async function mount(container, ctx) {
  const frame = mountRunTagCards(container, ctx, {tagsRoute: 'data/plugin/text/tags', noun: 'text',
    // TensorBoard's text tags route lists tag names per run; the card frame wants {run: {tag: info}}.
    adaptTags: (byRun) => Object.fromEntries(Object.entries(byRun).map(
      ([run, tags]) => [run, Object.fromEntries(tags.map((t) => [t, {}]))])),
    makeCard: (run, tag) => {
      const body = el('div', {class: 'text-steps'});
      const card = {node: cardFrame(ctx, run, tag, body)};
      card.node.classList.add('text-card');
      card.load = async () => {
        const points = await ctx.api(ctx.url('data/plugin/text/text', {run, tag}));
        body.replaceChildren(...points.map((p) => el('div', {class: 'text-step'},
          el('div', {class: 'text-step-label', text: `step ${p.step}`}), renderTensor(p))));
      };
      return card;
    }});
  await frame.refreshTags();
}

function renderTensor(point) {
  const [rows, cols] = point.shape;
  if (point.shape.length === 2) {
    const cells = point.text;
    return el('table', {class: 'text-tensor'}, el('tbody', {}, ...Array.from({length: rows}, (_, r) => el('tr', {},
      ...Array.from({length: cols}, (_, c) => el('td', {}, renderMarkdown(cells[r * cols + c] ?? '')))))));
  }
  return el('div', {}, ...point.text.map(renderMarkdown));
}
