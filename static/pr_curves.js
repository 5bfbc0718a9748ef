// PR Curves dashboard: a card per tag (grouped by name scope) drawing precision against recall, one
// curve per selected run in the run's color. As in TensorBoard, each run has one step slider (in the
// sidebar) that applies to all its tags and starts at, and follows, the latest step; each card draws
// the run's curve at the step nearest the slider's and lists that step and its wall time.
import {PLOT_CONFIG, baseLayout, plotlyText} from './plotting.js';
import {debounce, decodeFloats, el, finite, groupSections, groupTags, lazyCards, userRegex} from './util.js';

const ROUTE = 'data/plugin/pr_curves';

function wallText(wall) {
  return Number.isFinite(wall) ? new Date(wall * 1000).toLocaleString() : '';
}

/** The entry of `entries` whose step is nearest `step` (the latest when step is undefined). */
export function entryNear(entries, step) {
  if (!entries.length) return null;
  if (step === undefined) return entries[entries.length - 1];
  let best = entries[0];
  for (const e of entries) if (Math.abs(e.step - step) < Math.abs(best.step - step)) best = e;
  return best;
}

export async function mount(container, ctx) {
  let tagsByRun = {};
  const steps = new Map(); // run -> {entries: [{step, wall_time}], index, latest}
  const cards = new Map(); // tag -> card
  const openGroups = new Set();
  let tagFilter = '';

  const sliders = el('div', {class: 'pr-sliders'});
  ctx.settings.append(el('h2', {text: 'Steps'}), sliders);
  const filter = el('input', {class: 'filter tag-filter', type: 'search', placeholder: 'Filter tags (regex)',
    'aria-label': 'Filter tags'});
  const empty = el('p', {class: 'empty-state', hidden: true});
  const groupsEl = el('div', {class: 'groups'});
  container.append(el('div', {class: 'toolbar'}, filter), empty, groupsEl);
  filter.addEventListener('input', debounce(() => { tagFilter = filter.value; render(); }, 150));

  const lazy = lazyCards(fetchCard);

  const runsWithTags = () => ctx.runs.selected().filter((r) => tagsByRun[r] && Object.keys(tagsByRun[r]).length);

  function chosenStep(run) {
    const s = steps.get(run);
    return s && s.entries.length ? s.entries[s.index].step : undefined;
  }

  function renderSliders() {
    const runs = runsWithTags();
    sliders.replaceChildren(...runs.map((run) => {
      const s = steps.get(run) || {entries: [], index: 0, latest: true};
      const swatch = el('span', {class: 'swatch'});
      swatch.style.background = ctx.runs.colorOf(run);
      const input = el('input', {type: 'range', class: 'step-slider', min: '0', step: '1',
        max: String(Math.max(0, s.entries.length - 1)), value: String(s.index), 'aria-label': `Step of ${run}`,
        dataset: {run}, disabled: s.entries.length < 2});
      const stepLabel = el('span', {class: 'step-label'});
      const wallLabel = el('span', {class: 'wall-label'});
      const label = () => {
        const e = s.entries[s.index];
        stepLabel.textContent = e ? `step ${e.step}` : 'no steps';
        wallLabel.textContent = e ? wallText(e.wall_time) : '';
      };
      label();
      input.addEventListener('input', () => {
        s.index = Number(input.value);
        s.latest = s.index === s.entries.length - 1;
        label();
        for (const card of cards.values()) if (card.data) draw(card);
      });
      return el('div', {class: 'pr-slider', dataset: {run}},
        el('div', {class: 'pr-slider-run'}, swatch, el('span', {class: 'run-name', title: run, text: run})),
        input, el('div', {class: 'pr-slider-labels'}, stepLabel, wallLabel));
    }));
    if (!runs.length) sliders.append(el('p', {class: 'empty', text: 'No runs with PR curves selected.'}));
  }

  async function refreshSteps() {
    let byRun;
    try { byRun = await ctx.api(`${ROUTE}/available_time_entries`); } catch (e) { return; }
    for (const [run, entries] of Object.entries(byRun)) {
      const old = steps.get(run);
      const s = {entries, index: entries.length - 1, latest: true};
      if (old && !old.latest && old.entries[old.index]) {  // keep a chosen step while new ones arrive
        const step = old.entries[old.index].step;
        const at = entries.findIndex((e) => e.step === step);
        if (at >= 0) { s.index = at; s.latest = at === entries.length - 1; }
      }
      s.index = Math.max(0, s.index);
      steps.set(run, s);
    }
    for (const run of [...steps.keys()]) if (!(run in byRun)) steps.delete(run);
  }

  function render() {
    const re = userRegex(tagFilter);
    filter.classList.toggle('invalid', re === undefined);
    const selected = runsWithTags();
    const tags = new Set();
    for (const run of selected) for (const tag of Object.keys(tagsByRun[run])) if (!re || re.test(tag)) tags.add(tag);
    const groups = groupTags(tags);
    empty.hidden = tags.size > 0;
    empty.textContent = Object.keys(tagsByRun).length ? 'No PR curve tags match the selected runs and filter.'
      : 'No PR curve data yet. Runs appear here as soon as they write some.';
    for (const [tag, card] of cards) {
      if (!tags.has(tag)) { lazy.unobserve(card); cards.delete(tag); }
    }
    groupsEl.replaceChildren(...groupSections(groups, openGroups, tagFilter !== '', render, (list) => list,
      (tag) => cardFor(tag).node));
    renderSliders();
    // the run selection decides which curves a card holds: fetch again where it changed
    for (const card of cards.values()) {
      const runs = runsFor(card.tag).join('\n');
      if (card.runsKey !== runs) lazy.reload(card);
    }
  }

  function runsFor(tag) {
    return runsWithTags().filter((r) => tagsByRun[r][tag]);
  }

  function cardFor(tag) {
    if (cards.has(tag)) return cards.get(tag);
    const plot = el('div', {class: 'plot pr-plot'});
    const table = el('div', {class: 'pr-runs'});
    const note = el('div', {class: 'card-note'});
    const node = el('div', {class: 'card pr-card', dataset: {tag}},
      el('div', {class: 'card-header'}, el('span', {class: 'card-title', title: tag, text: tag})), plot, table, note);
    const card = {tag, node, plot, table, note, data: null, runsKey: null};
    cards.set(tag, card);
    lazy.observe(card);
    return card;
  }

  async function fetchCard(card) {
    const runs = runsFor(card.tag);
    card.runsKey = runs.join('\n');
    if (!runs.length) { card.data = {}; draw(card); return; }
    const data = await ctx.api(ctx.url(`${ROUTE}/pr_curves`, [['tag', card.tag], ...runs.map((r) => ['run', r])]));
    if (card.runsKey !== runs.join('\n')) return;  // the selection changed meanwhile; a newer fetch follows
    card.data = data;
    card.note.textContent = '';
    draw(card);
  }

  function draw(card) {
    const traces = [];
    const rows = [];
    for (const run of ctx.runs.selected()) {
      const entries = card.data[run];
      if (!entries) continue;
      const entry = entryNear(entries, chosenStep(run));
      const color = ctx.runs.colorOf(run);
      const swatch = el('span', {class: 'swatch'});
      swatch.style.background = color;
      rows.push(el('div', {class: 'pr-run', dataset: {run}}, swatch,
        el('span', {class: 'run-name', title: run, text: run}),
        el('span', {class: 'pr-step', text: entry ? `step ${entry.step}` : 'no data'}),
        el('span', {class: 'pr-wall', text: entry ? wallText(entry.wall_time) : ''})));
      if (!entry) continue;
      const counts = (key) => decodeFloats(entry[key]);
      const [tp, fp, tn, fn] = ['true_positives', 'false_positives', 'true_negatives', 'false_negatives'].map(counts);
      traces.push({x: decodeFloats(entry.recall).map(finite), y: decodeFloats(entry.precision).map(finite),
        customdata: entry.thresholds.map((t, i) => [t, tp[i], fp[i], tn[i], fn[i]]),
        type: 'scatter', mode: 'lines', name: run, meta: [plotlyText(run), entry.step],
        line: {color, width: 1.8, shape: 'linear'},
        hovertemplate: '%{meta[0]} · step %{meta[1]}<br>threshold %{customdata[0]:.4f}<br>precision %{y:.4f}'
          + '<br>recall %{x:.4f}<br>TP %{customdata[1]}  FP %{customdata[2]}<br>TN %{customdata[3]}  '
          + 'FN %{customdata[4]}<extra></extra>'});
    }
    card.table.replaceChildren(...rows);
    const axis = (text) => ({range: [-0.02, 1.02], gridcolor: '#eee', zeroline: false, title: {text, standoff: 4}});
    const layout = {...baseLayout(card.tag), hovermode: 'closest', xaxis: axis('recall'), yaxis: axis('precision')};
    Plotly.react(card.plot, traces, layout, PLOT_CONFIG);
    card.plot.dataset.steps = traces.map((t) => t.meta[1]).join(',');
  }

  async function refreshAll() {
    try { tagsByRun = await ctx.api(`${ROUTE}/tags`); } catch (e) { return; }
    await refreshSteps();
    for (const card of cards.values()) card.runsKey = null;  // new data may have arrived: fetch again
    render();
  }

  ctx.onRunsChanged(render);
  ctx.onReload(refreshAll);
  await refreshAll();
}
