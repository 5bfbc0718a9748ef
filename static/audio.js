// Audio dashboard: a card per run and tag with an <audio controls> player, a step slider (and a
// sample slider when a step holds several clips). Clips are fetched per step from the server, which
// reads them from the event file on demand. A clip that is playing is never swapped for a newer
// step by a reload; the slider follows the latest step only while the listener is not playing.
import {el} from './util.js';
import {cardFrame, mountRunTagCards} from './tagcards.js';

export async function mount(container, ctx) {
  const frame = mountRunTagCards(container, ctx, {tagsRoute: 'data/plugin/audio/tags', noun: 'audio',
    makeCard: (run, tag, info) => makeCard(ctx, run, tag, info)});
  await frame.refreshTags();
}

function makeCard(ctx, run, tag, info) {
  const samples = Math.max(1, info.samples || 1);
  const audio = el('audio', {class: 'audio-player', controls: true, preload: 'metadata',
    'aria-label': `${tag} (${run})`});
  const stepLabel = el('span', {class: 'step-label'});
  const wallLabel = el('span', {class: 'wall-label'});
  const label = el('div', {class: 'audio-label', hidden: true});
  const stepSlider = el('input', {type: 'range', min: '0', max: '0', step: '1', value: '0', class: 'step-slider',
    'aria-label': 'Step'});
  const sampleSlider = el('input', {type: 'range', min: '0', max: String(samples - 1), step: '1', value: '0',
    class: 'sample-slider', 'aria-label': 'Sample'});
  const sampleLabel = el('span', {class: 'sample-label', text: `sample 1 of ${samples}`});
  const node = cardFrame(ctx, run, tag,
    el('div', {class: 'audio-controls'}, stepLabel, wallLabel, stepSlider),
    samples > 1 ? el('div', {class: 'audio-controls'}, sampleLabel, sampleSlider) : null,
    el('div', {class: 'audio-frame'}, audio), label);
  node.classList.add('audio-card');
  const card = {node, audio, points: [], followLatest: true};

  function show() {
    const p = card.points[Number(stepSlider.value)];
    if (!p) {
      audio.removeAttribute('src');
      stepLabel.textContent = 'no clip for this sample';
      wallLabel.textContent = '';
      label.hidden = true;
      return;
    }
    stepLabel.textContent = `step ${p.step}`;
    wallLabel.textContent = new Date(p.wall_time * 1000).toLocaleString();
    label.textContent = p.label || '';
    label.hidden = !p.label;
    const src = `data/plugin/audio/individualAudio?${p.query}`;
    if (audio.getAttribute('src') !== src) audio.src = src;
  }

  let loads = 0;
  card.load = async () => {
    const mine = ++loads;
    const points = await ctx.api(ctx.url('data/plugin/audio/audio', {run, tag, sample: sampleSlider.value}));
    if (mine !== loads) return; // a newer load (another sample) has started: its answer wins
    card.points = points;
    const last = Math.max(0, card.points.length - 1);
    stepSlider.max = String(last);
    stepSlider.disabled = card.points.length < 2;
    if ((card.followLatest && audio.paused) || Number(stepSlider.value) > last) stepSlider.value = String(last);
    show();
  };
  stepSlider.addEventListener('input', () => {
    card.followLatest = Number(stepSlider.value) === card.points.length - 1;
    show();
  });
  sampleSlider.addEventListener('input', () => {
    sampleLabel.textContent = `sample ${Number(sampleSlider.value) + 1} of ${samples}`;
    card.load().catch((e) => { card.error.textContent = `Could not load: ${e.message}`; });
  });
  return card;
}
