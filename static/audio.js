// Audio dashboard: a card per run and tag with an <audio controls> player, a step slider (and a
// sample slider when a step holds several clips). Clips are fetched per step from the server, which
// reads them from the event file on demand. A clip that is playing is never swapped for a newer
// step by a reload; the slider follows the latest step only while the listener is not playing.
import {el} from './util.js';
import {blobSliders, cardFrame, mountRunTagCards} from './tagcards.js';

export async function mount(container, ctx) {
  const frame = mountRunTagCards(container, ctx, {tagsRoute: 'data/plugin/audio/tags', noun: 'audio',
    makeCard: (run, tag, info) => makeCard(ctx, run, tag, info)});
  await frame.refreshTags();
}

function makeCard(ctx, run, tag, info) {
  const samples = Math.max(1, info.samples || 1);
  const audio = el('audio', {class: 'audio-player', controls: true, preload: 'metadata',
    'aria-label': `${tag} (${run})`});
  const label = el('div', {class: 'audio-label', hidden: true});
  const sliders = blobSliders(samples, 'audio-controls', show, () => card.load().catch((e) => {
    card.error.textContent = `Could not load: ${e.message}`;
  }));
  const {stepLabel, wallLabel} = sliders;
  const node = cardFrame(ctx, run, tag, ...sliders.rows, el('div', {class: 'audio-frame'}, audio), label);
  node.classList.add('audio-card');
  const card = {node, audio};

  function show() {
    const p = sliders.point();
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
    const points = await ctx.api(ctx.url('data/plugin/audio/audio', {run, tag, sample: sliders.sample()}));
    if (mine !== loads) return; // a newer load (another sample) has started: its answer wins
    sliders.setPoints(points, audio.paused);  // a clip that is playing is not swapped for a newer step
  };
  return card;
}
