// Images dashboard: a card per run and tag with a step slider (and a sample slider when a step
// holds several images). Bytes are fetched per image from the server, which reads them from the
// event file on demand. Small images (digits) are scaled up without smoothing; large ones fit the
// card; a click toggles full size. Brightness and contrast apply to every image.
import {el} from './util.js';
import {blobSliders, cardFrame, mountRunTagCards} from './tagcards.js';

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
  const sliders = blobSliders(samples, 'image-controls', show, () => card.load().catch(() => {}));
  const {stepLabel, wallLabel} = sliders;
  const node = cardFrame(ctx, run, tag, ...sliders.rows, el('div', {class: 'image-frame'}, img));
  node.classList.add('image-card');
  const card = {node, img};

  function show() {
    const p = sliders.point();
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
    sliders.setPoints(await ctx.api(ctx.url('data/plugin/images/images', {run, tag, sample: sliders.sample()})));
  };
  img.addEventListener('click', () => node.classList.toggle('full-size'));
  return card;
}
