// Images dashboard: a card per run and tag with a step slider (and a sample slider when a step
// holds several images). Bytes are fetched per image from the server, which reads them from the
// event file on demand. Small images (digits) are scaled up without smoothing; large ones fit the
// card; a click toggles full size. Brightness and contrast apply to every image.
import {el} from './util.js';
import {cardFrame, mountRunTagCards} from './tagcards.js';

const settings = {brightness: 1, contrast: 1};
const SMALL = 128; // images at most this wide are scaled up, pixelated

export async function mount(container, ctx) {
  const frame = mountRunTagCards(container, ctx, {tagsRoute: 'data/plugin/images/tags', noun: 'image',
    makeCard: (run, tag, info) => makeCard(ctx, run, tag, info)});
  const applyFilters = () => {
    for (const card of frame.cards()) card.img.style.filter = filterCss();
  };
  const slider = (key, label) => {
    const input = el('input', {type: 'range', min: '0', max: '3', step: '0.05', value: String(settings[key]),
      'aria-label': label, class: `image-${key}`});
    input.addEventListener('input', () => { settings[key] = Number(input.value); applyFilters(); });
    return el('div', {class: 'row'}, el('span', {class: 'slider-label', text: label}), input);
  };
  const reset = el('button', {class: 'text-button', text: 'Reset'});
  reset.addEventListener('click', () => {
    settings.brightness = 1; settings.contrast = 1;
    for (const input of ctx.settings.querySelectorAll('input[type=range]')) input.value = '1';
    applyFilters();
  });
  ctx.settings.append(el('h2', {text: 'Image adjustments'}), slider('brightness', 'Brightness'),
    slider('contrast', 'Contrast'), reset);
  await frame.refreshTags();
}

function filterCss() {
  return settings.brightness === 1 && settings.contrast === 1 ? ''
    : `brightness(${settings.brightness}) contrast(${settings.contrast})`;
}

function makeCard(ctx, run, tag, info) {
  const samples = Math.max(1, info.samples || 1);
  const img = el('img', {class: 'image', alt: `${tag} (${run})`});
  img.style.filter = filterCss();
  const stepLabel = el('span', {class: 'step-label'});
  const wallLabel = el('span', {class: 'wall-label'});
  const stepSlider = el('input', {type: 'range', min: '0', max: '0', step: '1', value: '0', class: 'step-slider',
    'aria-label': 'Step'});
  const sampleSlider = el('input', {type: 'range', min: '0', max: String(samples - 1), step: '1', value: '0',
    class: 'sample-slider', 'aria-label': 'Sample'});
  const sampleLabel = el('span', {class: 'sample-label', text: `sample 1 of ${samples}`});
  const frameNode = el('div', {class: 'image-frame'}, img);
  const node = cardFrame(ctx, run, tag,
    el('div', {class: 'image-controls'}, stepLabel, wallLabel, stepSlider),
    samples > 1 ? el('div', {class: 'image-controls'}, sampleLabel, sampleSlider) : null, frameNode);
  node.classList.add('image-card');
  const card = {node, img, points: [], followLatest: true};

  function show() {
    const i = Number(stepSlider.value);
    const p = card.points[i];
    if (!p) { img.removeAttribute('src'); stepLabel.textContent = 'no image at this sample'; return; }
    stepLabel.textContent = `step ${p.step}`;
    wallLabel.textContent = new Date(p.wall_time * 1000).toLocaleString();
    const src = `data/plugin/images/individualImage?${p.query}`;
    if (img.getAttribute('src') !== src) img.src = src;
    const small = (p.width || 0) > 0 && p.width <= SMALL;
    img.classList.toggle('pixelated', small);
    if (small) img.style.width = `${Math.min(4, Math.floor(SMALL * 2 / p.width)) * p.width}px`;
    else img.style.width = '';
  }

  card.load = async () => {
    const sample = Number(sampleSlider.value);
    card.points = await ctx.api(ctx.url('data/plugin/images/images', {run, tag, sample}));
    const last = Math.max(0, card.points.length - 1);
    stepSlider.max = String(last);
    stepSlider.disabled = card.points.length < 2;
    if (card.followLatest || Number(stepSlider.value) > last) stepSlider.value = String(last);
    show();
  };
  stepSlider.addEventListener('input', () => {
    card.followLatest = Number(stepSlider.value) === card.points.length - 1;
    show();
  });
  sampleSlider.addEventListener('input', () => {
    sampleLabel.textContent = `sample ${Number(sampleSlider.value) + 1} of ${samples}`;
    card.load().catch(() => {});
  });
  img.addEventListener('click', () => node.classList.toggle('full-size'));
  return card;
}
