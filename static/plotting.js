// Plotly settings and helpers shared by the chart dashboards (scalars, histograms, distributions).

export const AXIS_MODES = ['step', 'relative', 'wall'];

/** The x (or offset) value of a point by axis mode: step, hours since the run's start, or a Date. */
export function axisValue(mode, ctx, run, step, wall, firstWall) {
  if (mode === 'step') return step;
  if (mode === 'relative') return (wall - (ctx.runs.startTime(run) ?? firstWall)) / 3600;
  return new Date(wall * 1000);
}

/** A series' ({step, wall}) x values by axis mode: its steps, or each point's axisValue. */
export function xValues(mode, ctx, run, s) {
  if (mode === 'step') return s.step;
  return s.wall.map((w, i) => axisValue(mode, ctx, run, s.step[i], w, s.wall[0]));
}

/** The x axis layout of a chart drawn against `xValues(mode, ...)`. */
export function xAxisLayout(mode) {
  return {type: mode === 'wall' ? 'date' : 'linear', gridcolor: '#eee', zeroline: false,
    title: {text: {step: 'step', relative: 'hours', wall: ''}[mode], standoff: 4}};
}

/** About `count` round tick values (steps of 1, 2 or 5 times a power of ten) from lo to hi, both included. */
export function niceTicks(lo, hi, count = 5) {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].find((m) => m * power >= raw) * power;
  const ticks = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

export const PLOT_CONFIG = {displaylogo: false, responsive: true,
  modeBarButtonsToRemove: ['lasso2d', 'select2d', 'toImage']};

export function baseLayout(uirevision) {
  return {uirevision, margin: {l: 52, r: 12, t: 8, b: 36}, showlegend: false, paper_bgcolor: 'rgba(0,0,0,0)',
    plot_bgcolor: 'rgba(0,0,0,0)', font: {size: 11, color: '#444'}};
}

/** A run color (#rrggbb) mixed with white: t = 0 the color itself, t = 1 white. */
export function tint(hex, t) {
  const [r, g, b] = rgbOf(hex).map((c) => Math.round(c + (255 - c) * t));
  return `rgb(${r}, ${g}, ${b})`;
}

/** A run color (#rrggbb) with transparency. */
export function withAlpha(hex, alpha) {
  return `rgba(${rgbOf(hex).join(', ')}, ${alpha})`;
}

function rgbOf(hex) {
  const n = parseInt(hex.slice(1), 16);
  return [n >> 16, (n >> 8) & 255, n & 255];
}

/** Text for plotly's labels (names, hover templates), which read a little HTML and `%{...}` templates:
 * those characters are escaped so run and tag names show exactly as written. */
export function plotlyText(s) {
  return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/%/g, '&#37;');
}
