// The page shell: tabs, the shared run selector, loading status and the reload timer.
//
// Each dashboard is an ES module static/<plugin>.js exporting `mount(container, ctx)`. ctx:
//   ctx.api(path, body?)        fetch JSON relative to the page (POST when body is given)
//   ctx.url(path, params)       a relative URL with a query string
//   ctx.settings                this dashboard's own section in the sidebar (shown with its tab)
//   ctx.runs.all() / .selected()    run names (all known / checked and matching the run filter)
//   ctx.runs.colorOf(run)       a stable color per run
//   ctx.runs.startTime(run)     wall time of the run's first event (for RELATIVE axes)
//   ctx.onRunsChanged(fn)       called when the selection changes
//   ctx.onReload(fn)            called after each reload tick (new data may have arrived)
//   ctx.isActive()              whether this dashboard's tab is showing
//   ctx.tooltip                 the shared floating tooltip element
import {api, el, keep, restored, url, userRegex} from './util.js';

const PALETTE = ['#ff7043', '#0077bb', '#cc3311', '#33bbee', '#ee3377', '#009988', '#bbbbbb', '#8e44ad',
  '#e6a100', '#2e7d32', '#5c6bc0', '#795548', '#00acc1', '#c0ca33', '#d81b60', '#546e7a'];

const state = {
  runs: [], startTimes: new Map(), checked: new Map(), colors: new Map(),
  runFilter: '', runListeners: [], reloadListeners: [], reloadIntervalMs: 5000,
};

const runs = {
  all: () => state.runs.slice(),
  selected: () => {
    const re = userRegex(state.runFilter);
    return state.runs.filter((r) => state.checked.get(r) !== false && (!re || re.test(r)));
  },
  colorOf: (run) => {
    if (!state.colors.has(run)) state.colors.set(run, PALETTE[state.colors.size % PALETTE.length]);
    return state.colors.get(run);
  },
  startTime: (run) => state.startTimes.get(run),
};

const KEPT_UNCHECKED = 2000;  // run names remembered as unchecked across page loads

function notifyRuns() {
  const unchecked = [...state.checked].filter(([, on]) => !on).map(([run]) => run).slice(-KEPT_UNCHECKED);
  keep('runs', {filter: state.runFilter, unchecked});
  for (const fn of state.runListeners) fn();
}

function restoreRuns() {
  const saved = restored('runs', {filter: '', unchecked: []},
    (name, v) => name !== 'unchecked' || (Array.isArray(v) && v.every((r) => typeof r === 'string')));
  state.runFilter = saved.filter;
  for (const run of saved.unchecked) state.checked.set(run, false);
}

function renderRunList() {
  const list = document.getElementById('run-list');
  const re = userRegex(state.runFilter);
  document.getElementById('run-filter').classList.toggle('invalid', re === undefined);
  list.replaceChildren(...state.runs.filter((r) => !re || re.test(r)).map((run) => {
    const box = el('input', {type: 'checkbox', dataset: {run}});
    box.checked = state.checked.get(run) !== false;
    box.addEventListener('change', () => { state.checked.set(run, box.checked); notifyRuns(); });
    const swatch = el('span', {class: 'swatch'});
    swatch.style.background = runs.colorOf(run);
    return el('li', {}, el('label', {title: run}, box, swatch, el('span', {class: 'run-name', text: run})));
  }));
  if (!state.runs.length) list.append(el('li', {class: 'empty', text: 'No runs yet.'}));
}

async function refreshRuns() {
  const info = await api('data/runs_info');
  const names = info.map((r) => r.name);
  const changed = names.join('\n') !== state.runs.join('\n');
  state.runs = names;
  for (const r of info) state.startTimes.set(r.name, r.start_time);
  names.forEach(runs.colorOf);
  if (changed) { renderRunList(); notifyRuns(); }
}

async function refreshStatus() {
  const status = await api('data/status');
  state.reloadIntervalMs = status.reload_interval > 0 ? Math.max(1000, status.reload_interval * 1000) : 0;
  const node = document.getElementById('status');
  const problems = Object.entries(status.corruptions || {});
  const text = status.done ? `${status.runs_loaded} run${status.runs_loaded === 1 ? '' : 's'}`
    : `Loading runs ${status.runs_loaded}/${status.runs_found}…`;
  node.replaceChildren(el('span', {class: status.done ? '' : 'loading', text}));
  if (problems.length) {
    const detail = problems.map(([run, list]) => `${run}: ${list.join('; ')}`).join('\n');
    node.append(el('span', {class: 'warning', title: detail, text: ` · ${problems.length} run(s) with damaged records`}));
  }
  return status;
}

async function reloadTick() {
  try {
    await refreshRuns();
    await refreshStatus();
    for (const fn of state.reloadListeners) fn();
  } catch (e) {
    document.getElementById('status').textContent = `Server unreachable: ${e.message}`;
  }
}

async function watchFirstLoad() {
  // Poll fast while the first load is running, so runs show up as soon as each is loaded.
  for (;;) {
    let status = null;
    try { status = await refreshStatus(); await refreshRuns(); } catch (e) { /* retry */ }
    if (status && status.done) break;
    for (const fn of state.reloadListeners) fn();
    await new Promise((r) => setTimeout(r, 700));
  }
  for (const fn of state.reloadListeners) fn();
}

function scheduleReloads() {
  const tick = async () => {
    if (state.reloadIntervalMs > 0) await reloadTick();
    setTimeout(tick, state.reloadIntervalMs || 5000);
  };
  setTimeout(tick, state.reloadIntervalMs || 5000);
}

async function main() {
  const env = await api('data/environment');
  if (env.window_title) document.title = env.window_title;
  restoreRuns();
  const filter = document.getElementById('run-filter');
  filter.value = state.runFilter;
  filter.addEventListener('input', () => { state.runFilter = filter.value; renderRunList(); notifyRuns(); });
  document.getElementById('runs-all').addEventListener('change', (e) => {
    const re = userRegex(state.runFilter);
    for (const r of state.runs) if (!re || re.test(r)) state.checked.set(r, e.target.checked);
    renderRunList(); notifyRuns();
  });
  document.getElementById('reload').addEventListener('click', reloadTick);
  await refreshRuns().catch(() => {});

  const listing = await api('data/plugins_listing');
  const tabs = document.getElementById('tabs');
  const main = document.getElementById('main');
  const settings = document.getElementById('settings');
  const panes = new Map();
  const names = Object.keys(listing);
  const firstActive = names.find((n) => listing[n].enabled) || names[0];
  let active = null;

  async function show(name) {
    active = name;
    for (const button of tabs.children) button.classList.toggle('active', button.dataset.plugin === name);
    for (const [n, pane] of panes) { pane.main.hidden = n !== name; pane.settings.hidden = n !== name; }
    if (!panes.has(name)) {
      const pane = {main: el('div', {class: 'pane', dataset: {plugin: name}}), settings: el('div')};
      panes.set(name, pane);
      main.append(pane.main);
      settings.append(pane.settings);
      const ctx = {
        api, url, runs, settings: pane.settings, tooltip: document.getElementById('tooltip'),
        onRunsChanged: (fn) => state.runListeners.push(() => active === name && fn()),
        onReload: (fn) => state.reloadListeners.push(() => active === name && fn()),
        isActive: () => active === name,
      };
      try {
        const module = await import(`./${name}.js`);
        await module.mount(pane.main, ctx);
      } catch (e) {
        pane.main.replaceChildren(el('p', {class: 'error', text: `Could not load the ${name} dashboard: ${e.message}`}));
      }
    }
    if (active === name && location.hash.slice(1) !== name) history.replaceState(null, '', `#${name}`);
    for (const fn of state.reloadListeners) fn();
  }

  for (const name of names) {
    const info = listing[name];
    tabs.append(el('button', {class: `tab${info.enabled ? '' : ' inactive'}`, dataset: {plugin: name},
      title: info.enabled ? '' : 'No data for this dashboard yet', onclick: () => show(name), text: info.tab_name}));
  }
  const followHash = () => {  // links and back/forward between dashboards
    const name = location.hash.slice(1);
    if (listing[name] && name !== active) show(name);
  };
  window.addEventListener('hashchange', followHash);
  window.addEventListener('popstate', followHash);
  const wanted = location.hash.slice(1);
  await show(listing[wanted] ? wanted : firstActive);
  watchFirstLoad().then(scheduleReloads);
}

main().catch((e) => {
  document.getElementById('main').replaceChildren(el('p', {class: 'error', text: `Cannot reach the server: ${e.message}`}));
});
