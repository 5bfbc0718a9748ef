// One card per (run, tag), grouped by the tag's first name scope, loaded lazily when scrolled
// into view and refreshed on reload: the frame the histograms, distributions and images
// dashboards share. Each dashboard supplies makeCard(run, tag, info) -> {node, load()}.
import {debounce, el, groupSections, groupTags, lazyCards, userRegex} from './util.js';

export function mountRunTagCards(container, ctx, {tagsRoute, noun, makeCard, adaptTags = (t) => t}) {
  let tagsByRun = {};
  let tagFilter = '';
  const cards = new Map(); // run \0 tag -> {node, load, stale, visible}
  const openGroups = new Set();
  const groupsEl = el('div', {class: 'groups'});
  const filter = el('input', {class: 'filter tag-filter', type: 'search', placeholder: 'Filter tags (regex)',
    'aria-label': 'Filter tags'});
  const empty = el('p', {class: 'empty-state', hidden: true});
  container.append(el('div', {class: 'toolbar'}, filter), empty, groupsEl);
  filter.addEventListener('input', debounce(() => { tagFilter = filter.value; render(); }, 150));

  const lazy = lazyCards(async (card) => { await card.load(); card.error.textContent = ''; }, (card) => card.error);

  function cardFor(run, tag) {
    const key = `${run}\u0000${tag}`;
    if (!cards.has(key)) {
      const card = makeCard(run, tag, tagsByRun[run][tag]);
      card.error = el('div', {class: 'card-note error'});
      card.node.append(card.error);
      cards.set(key, card);
      lazy.observe(card);
    }
    return cards.get(key);
  }

  function render() {
    const re = userRegex(tagFilter);
    filter.classList.toggle('invalid', re === undefined);
    const selected = ctx.runs.selected().filter((r) => tagsByRun[r]);
    const tags = new Set();
    for (const run of selected) for (const tag of Object.keys(tagsByRun[run])) if (!re || re.test(tag)) tags.add(tag);
    const groups = groupTags(tags);
    empty.hidden = tags.size > 0;
    empty.textContent = Object.keys(tagsByRun).length ? `No ${noun} tags match the selected runs and filter.`
      : `No ${noun} data yet. Runs appear here as soon as they write some.`;
    const shown = new Set();
    groupsEl.replaceChildren(...groupSections(groups, openGroups, tagFilter !== '', render,
      (list) => list.flatMap((tag) => selected.filter((run) => tagsByRun[run][tag]).map((run) => [run, tag])),
      ([run, tag]) => {
        shown.add(`${run}\u0000${tag}`);
        return cardFor(run, tag).node;
      }));
    for (const [key, card] of cards) {
      if (!shown.has(key)) { lazy.unobserve(card); cards.delete(key); }
    }
  }

  const refetchAll = () => lazy.reloadAll(cards.values());

  async function refreshTags() {
    try { tagsByRun = adaptTags(await ctx.api(tagsRoute)); } catch (e) { return; }
    render();
    refetchAll();
  }

  ctx.onRunsChanged(render);
  ctx.onReload(refreshTags);
  return {refreshTags, refetchAll, cards: () => [...cards.values()]};
}

/** A card's frame: a title (the tag) and the run with its color swatch. */
export function cardFrame(ctx, run, tag, ...body) {
  const swatch = el('span', {class: 'swatch'});
  swatch.style.background = ctx.runs.colorOf(run);
  return el('div', {class: 'card', dataset: {run, tag}},
    el('div', {class: 'card-header'}, el('span', {class: 'card-title', title: tag, text: tag})),
    el('div', {class: 'card-run'}, swatch, el('span', {class: 'run-name', title: run, text: run})), ...body);
}

/**
 * The step and sample sliders of a card of blobs (images, audio): rows of controls (step and wall time, the
 * step slider; a sample slider when a step holds several), the point the step slider is on, and `setPoints`
 * for a (re)load. The step slider follows the latest step until the user moves it back; a load may be told
 * not to jump (a clip that is playing). `show()` after every change; `reloadSample()` when the sample moves.
 */
export function blobSliders(samples, rowClass, show, reloadSample) {
  const stepLabel = el('span', {class: 'step-label'});
  const wallLabel = el('span', {class: 'wall-label'});
  const step = el('input', {type: 'range', min: '0', max: '0', step: '1', value: '0', class: 'step-slider',
    'aria-label': 'Step'});
  const sample = el('input', {type: 'range', min: '0', max: String(samples - 1), step: '1', value: '0',
    class: 'sample-slider', 'aria-label': 'Sample'});
  const sampleLabel = el('span', {class: 'sample-label', text: `sample 1 of ${samples}`});
  let points = [];
  let followLatest = true;
  step.addEventListener('input', () => {
    followLatest = Number(step.value) === points.length - 1;
    show();
  });
  sample.addEventListener('input', () => {
    sampleLabel.textContent = `sample ${Number(sample.value) + 1} of ${samples}`;
    reloadSample();
  });
  return {
    rows: [el('div', {class: rowClass}, stepLabel, wallLabel, step),
      samples > 1 ? el('div', {class: rowClass}, sampleLabel, sample) : null],
    stepLabel,
    wallLabel,
    sample: () => Number(sample.value),
    point: () => points[Number(step.value)],
    setPoints(next, mayJump = true) {
      points = next;
      const last = Math.max(0, points.length - 1);
      step.max = String(last);
      step.disabled = points.length < 2;
      if ((followLatest && mayJump) || Number(step.value) > last) step.value = String(last);
      show();
    },
  };
}
