// Distributions dashboard: each histogram compressed (server-side, TensorBoard's way) to the values
// at 9 percentiles of a normal distribution's basis points, drawn over steps as nested bands:
// min–max, ±1.5σ, ±1σ, ±0.5σ, and the median as a line.
import {decodeFloats, el, keep, radios, restored} from './util.js';
import {AXIS_MODES, PLOT_CONFIG, axisValue, baseLayout, withAlpha} from './plotting.js';
import {cardFrame, mountRunTagCards} from './tagcards.js';

const BANDS = [[0, 8, 0.18], [1, 7, 0.3], [2, 6, 0.45], [3, 5, 0.6]]; // lower index, upper index, opacity
const settings = restored('distributions', {axis: 'step'}, (name, v) => AXIS_MODES.includes(v));

export async function mount(container, ctx) {
  const frame = mountRunTagCards(container, ctx, {tagsRoute: 'data/plugin/distributions/tags', noun: 'distribution',
    makeCard: (run, tag) => {
      const plot = el('div', {class: 'plot distribution-plot'});
      const card = {node: cardFrame(ctx, run, tag, plot), plot, data: null};
      card.load = async () => {
        const points = await ctx.api(ctx.url('data/plugin/distributions/distributions', {run, tag}));
        card.data = points.map(([wall, step, pairs]) => ({wall, step, values: decodeFloats(pairs.map((p) => p[1]))}));
        draw(ctx, run, tag, card);
      };
      return card;
    }});
  const redraw = () => { for (const card of frame.cards()) if (card.data) draw(ctx, card.node.dataset.run, card.node.dataset.tag, card); };
  ctx.settings.append(el('h2', {text: 'Horizontal axis'}),
    radios('distribution-axis', AXIS_MODES, settings.axis,
      (a) => { settings.axis = a; keep('distributions', settings); redraw(); }));
  await frame.refreshTags();
}

function draw(ctx, run, tag, card) {
  const color = ctx.runs.colorOf(run);
  const firstWall = card.data.length ? card.data[0].wall : 0;
  const x = card.data.map((p) => axisValue(settings.axis, ctx, run, p.step, p.wall, firstWall));
  const column = (i) => card.data.map((p) => (Number.isFinite(p.values[i]) ? p.values[i] : null));
  const traces = [];
  for (const [lower, upper, alpha] of BANDS) {
    traces.push({x, y: column(lower), type: 'scatter', mode: 'lines', line: {width: 0, color}, hoverinfo: 'skip'});
    traces.push({x, y: column(upper), type: 'scatter', mode: 'lines', line: {width: 0, color}, fill: 'tonexty',
      fillcolor: withAlpha(color, alpha), hoverinfo: 'skip'});
  }
  traces.push({x, y: column(4), customdata: card.data.map((p) => p.step), type: 'scatter', mode: 'lines',
    line: {color, width: 1.5}, hovertemplate: 'step %{customdata}<br>median %{y:.4g}<extra></extra>'});
  const layout = {...baseLayout(`${run}\u0000${tag}`), hovermode: 'closest',
    xaxis: {type: settings.axis === 'wall' ? 'date' : 'linear', gridcolor: '#eee', zeroline: false,
      title: {text: {step: 'step', relative: 'hours', wall: ''}[settings.axis], standoff: 4}},
    yaxis: {gridcolor: '#eee', zeroline: false, exponentformat: 'e'}};
  Plotly.react(card.plot, traces, layout, PLOT_CONFIG);
  card.plot.dataset.steps = String(card.data.length);
}
