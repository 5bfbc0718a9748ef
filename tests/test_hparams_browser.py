"""The HParams dashboard in a real browser (Chromium): the table (sorting, filters, links to scalars), the
parallel coordinates (brushing), the scatter plot matrix (hover across plots) and the CSV/JSON downloads,
checked against what `add_hparams` wrote and what the routes serve (themselves checked against TensorBoard's
own hparams plugin in tests/test_hparams.py). Hostile names must show as text.
"""
from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest

from conftest import get_json, screenshot, serve
from summaries.summary.writer import SummaryWriter

HOSTILE = '<img src=x onerror=alert(1)><b>bold</b>&amp;'


@pytest.fixture(scope="module")
def search_url(tmp_path_factory):
    """Five sessions of a search: lr over three decades, a hostile optimizer name, two metrics."""
    logdir = tmp_path_factory.mktemp("hparams_search")
    rng = np.random.default_rng(7)
    truth = []
    with SummaryWriter(logdir) as writer:
        for i, (lr, opt) in enumerate([(1e-4, "adam"), (3e-3, "sgd"), (0.1, HOSTILE), (1e-2, "adam"), (5e-4, "sgd")]):
            accuracy = float(rng.uniform(0.5, 1.0))
            loss = float(rng.uniform(0.0, 2.0))
            writer.add_hparams({"lr": lr, "optimizer": opt, "layers": i % 3 + 1, "batchnorm": i % 2 == 0},
                               {"hparam/accuracy": accuracy, "hparam/loss": loss}, run_name=f"trial-{i}")
            truth.append((f"trial-{i}", np.float32(accuracy)))
    with serve(logdir, "--reload_interval", "0") as url:
        yield url, truth


def _rows(page):
    return page.eval_on_selector_all(".hp-table tbody tr.hp-row", "(rows) => rows.map((r) => r.dataset.session)")


@pytest.mark.browser
def test_browser_table_and_parallel_coordinates(page, search_url):
    url, truth = search_url
    page.goto(url + "#hparams")
    page.wait_for_selector(".hp-table tbody tr.hp-row", timeout=15000)
    assert sorted(_rows(page)) == sorted(name for name, _ in truth)
    headers = page.eval_on_selector_all(".hp-table thead tr:first-child th", "(ths) => ths.map((t) => t.dataset.column || '')")
    # TensorBoard's order: hparams by name (add_hparams declares them, so none "differs"), metrics as declared
    assert headers == ["", "h:batchnorm", "h:layers", "h:lr", "h:optimizer", "m:hparam/accuracy", "m:hparam/loss"]

    # sorting by a metric: ascending, then descending on a second click
    button = page.locator(".hp-table th[data-column='m:hparam/accuracy'] button")
    button.click()
    by_accuracy = [name for name, _ in sorted(truth, key=lambda t: t[1])]
    page.wait_for_function("(want) => [...document.querySelectorAll('.hp-table tbody tr.hp-row')]"
                           ".map((r) => r.dataset.session).join() === want", arg=",".join(by_accuracy), timeout=5000)
    page.locator(".hp-table th[data-column='m:hparam/accuracy'] button").click()
    page.wait_for_function("(want) => [...document.querySelectorAll('.hp-table tbody tr.hp-row')]"
                           ".map((r) => r.dataset.session).join() === want", arg=",".join(by_accuracy[::-1]),
                           timeout=5000)
    shown = page.eval_on_selector_all(".hp-table tbody tr.hp-row td[data-column='m:hparam/accuracy']",
                                      "(tds) => tds.map((t) => Number(t.textContent))")
    assert shown == pytest.approx([float(v) for _, v in sorted(truth, key=lambda t: -t[1])], rel=1e-4)

    # the hostile string is text: shown verbatim, no element made from it, no dialog
    cell = page.locator(".hp-table tr[data-session='trial-2'] td[data-column='h:optimizer']")
    assert cell.text_content() == HOSTILE
    assert page.locator(".pane[data-plugin=hparams] img, .pane[data-plugin=hparams] td b").count() == 0

    # a filter box per hparam: a numeric range keeps the sessions inside it
    page.fill(".hp-filter[data-hparam=lr]", "0.001..0.05")
    page.wait_for_function("() => document.querySelectorAll('.hp-table tbody tr.hp-row').length === 2", timeout=5000)
    assert sorted(_rows(page)) == ["trial-1", "trial-3"]
    page.fill(".hp-filter[data-hparam=lr]", "")
    page.wait_for_function("() => document.querySelectorAll('.hp-table tbody tr.hp-row').length === 5", timeout=5000)
    screenshot(page, "hparams_table")

    page.click(".hp-tab[data-view='parallel coordinates']")
    page.wait_for_selector(".hp-parcoords svg .hp-pc-line", timeout=15000)
    chart = page.evaluate("""() => {
        const root = document.querySelector('.hp-parcoords svg');
        return {axes: [...root.querySelectorAll('.hp-axis')].map((a) => a.dataset.column),
                labels: [...root.querySelectorAll('.hp-axis-label')].map((t) => t.textContent),
                ticks: [...root.querySelectorAll('.hp-axis')].map((a) =>
                    [...a.querySelectorAll('.hp-tick-label')].map((t) => t.textContent)),
                lines: [...root.querySelectorAll('.hp-pc-line')].map((l) => ({session: l.dataset.session,
                    stroke: l.getAttribute('stroke'), points: (l.getAttribute('d').match(/[ML]/g) || []).length}))};
    }""")
    # one axis per hparam and metric, in the table's order; lr spans three decades: a log axis
    assert chart["axes"] == headers[1:]
    labels = dict(zip(chart["axes"], chart["labels"]))
    ticks = dict(zip(chart["axes"], chart["ticks"]))
    assert chart["labels"] == ["batchnorm", "layers", "lr (log)", "optimizer", "hparam/accuracy", "hparam/loss"]
    assert labels["h:lr"] == "lr (log)" and ticks["h:lr"] == ["0.0001", "0.001", "0.01", "0.1"]
    assert sorted(ticks["h:optimizer"]) == sorted(["adam", "sgd", HOSTILE[:23] + "…"])  # categories, as text
    assert page.locator(".hp-axis[data-column='h:optimizer']  .hp-label title").text_content() == HOSTILE
    assert ticks["h:batchnorm"] == ["false", "true"]
    assert sorted(line["session"] for line in chart["lines"]) == sorted(name for name, _ in truth)
    assert all(line["points"] == 6 for line in chart["lines"])  # every session crosses every axis
    # lines colored by the first metric: the best accuracy is viridis' top, the worst its bottom
    stroke = {line["session"]: line["stroke"] for line in chart["lines"]}
    ranked = [name for name, _ in sorted(truth, key=lambda t: t[1])]
    assert stroke[ranked[-1]] == "rgb(253, 231, 37)" and stroke[ranked[0]] == "rgb(68, 1, 84)"
    screenshot(page, "hparams_parcoords")

    # brushing an axis dims the lines outside the dragged range
    box = page.locator(".hp-axis[data-column='m:hparam/accuracy'] .hp-axis-hit").bounding_box()
    x = box["x"] + box["width"] / 2
    page.mouse.move(x, box["y"] + 2)  # above the axis top: from the maximum
    page.mouse.down()
    page.mouse.move(x, box["y"] + box["height"] / 3, steps=4)
    page.mouse.up()
    dimmed = page.eval_on_selector_all(".hp-pc-line", "(ls) => ls.filter((l) => !l.classList.contains('dim'))"
                                       ".map((l) => l.dataset.session)")
    assert ranked[-1] in dimmed and ranked[0] not in dimmed and 0 < len(dimmed) < len(truth)
    screenshot(page, "hparams_parcoords_brushed")
    assert page.locator(".pane[data-plugin=hparams] img").count() == 0

    # a session's name links to its scalars: the scalars tab, runs filtered to the session and its sub-runs
    page.click(".hp-tab[data-view='table']")
    page.click(".hp-table tr[data-session='trial-1'] .hp-run-link")
    page.wait_for_function("() => location.hash === '#scalars'", timeout=5000)
    assert page.input_value("#run-filter") == "^trial-1(/|$)"
    page.wait_for_selector(".pane[data-plugin=scalars] .card[data-tag='hparam/accuracy']", timeout=15000)
    assert page.eval_on_selector_all("#run-list .run-name", "(ns) => ns.map((n) => n.textContent)") == ["trial-1"]
    assert not page.console_errors and not page.dialogs


TRICKY = ['adam', 'sgd, "nesterov"', 'multi\nline', HOSTILE]


@pytest.fixture(scope="module")
def tricky_url(tmp_path_factory):
    """Twelve sessions: strings needing CSV quoting, a session without accuracy, one with a NaN loss."""
    logdir = tmp_path_factory.mktemp("hparams_tricky")
    rng = np.random.default_rng(11)
    with SummaryWriter(logdir) as writer:
        for i in range(12):
            metrics = {"hparam/accuracy": float(rng.uniform(0.5, 1.0)), "hparam/loss": float(rng.uniform(0, 2))}
            if i == 5:
                del metrics["hparam/accuracy"]
            if i == 7:
                metrics["hparam/loss"] = float("nan")
            writer.add_hparams({"lr": 10.0 ** -(i % 4 + 1) * (1 + i / 10), "opt": TRICKY[i % 4], "layers": i % 3 + 1},
                               metrics, run_name=f"s{i:02d}")
    with serve(logdir, "--reload_interval", "0") as url:
        yield url


def _finite(session, column):
    """A session's value on a column from the sessions route, or None where a plot has no point for it."""
    kind, key = column.split(":", 1)
    if kind == "h":
        return session["hparams"].get(key)
    metric = session["metrics"].get(key)
    return None if metric is None or isinstance(metric["value"], str) else metric["value"]


def _same(cell: str, value) -> bool:
    """A downloaded CSV cell says `value` (a sessions-route value: number, "NaN"..., string, bool or None)."""
    if value is None:
        return cell == ""
    if isinstance(value, bool):
        return cell == str(value).lower()
    if isinstance(value, (int, float)) or value in ("NaN", "Infinity", "-Infinity"):
        return float(cell) == float(value) or (math.isnan(float(cell)) and math.isnan(float(value)))
    return cell == value


@pytest.mark.browser
def test_browser_scatter_matrix_and_downloads(page, tricky_url):
    url = tricky_url
    experiment = get_json(url + "data/plugin/hparams/experiment")
    sessions = {s["name"]: s for s in get_json(url + "data/plugin/hparams/sessions")}
    assert len(sessions) == 12
    columns = [f"h:{h['name']}" for h in experiment["hparams"]] + [f"m:{m['key']}" for m in experiment["metrics"]]
    metrics = [c for c in columns if c.startswith("m:")]
    assert columns == ["h:layers", "h:lr", "h:opt", "m:hparam/accuracy", "m:hparam/loss"]
    page.goto(url + "#hparams")
    page.wait_for_function("() => document.querySelectorAll('.hp-table tbody tr.hp-row').length === 12", timeout=15000)
    cell = page.locator(".hp-table tr[data-session='s01'] td[data-column='h:opt']")
    assert cell.text_content() == TRICKY[1]

    # one plot per (column, metric); in each, a point per session with a finite value on both axes
    page.click(".hp-tab[data-view='scatter plot matrix']")
    page.wait_for_selector(".hp-scatter .hp-sp-point", timeout=15000)
    assert page.locator(".hp-parcoords-view").is_hidden() and page.locator(".hp-table-view").is_hidden()
    plots = page.evaluate("""() => [...document.querySelectorAll('.hp-sp-plot')].map((p) => ({x: p.dataset.x,
        y: p.dataset.y, points: [...p.querySelectorAll('.hp-sp-point')].map((c) => c.dataset.session)}))""")
    assert [(p["x"], p["y"]) for p in plots] == [(x, y) for y in metrics for x in columns]
    for p in plots:
        want = sorted(n for n, s in sessions.items() if _finite(s, p["x"]) is not None
                      and _finite(s, p["y"]) is not None)
        assert sorted(p["points"]) == want, (p["x"], p["y"])
    assert len(plots[0]["points"]) == 11 and len(plots[-1]["points"]) == 11  # s05 has no accuracy, s07 a NaN loss
    assert page.locator(".hp-sp text").filter(has_text="sgd").count() >= 1
    assert page.locator(".pane[data-plugin=hparams] img, .pane[data-plugin=hparams] svg b").count() == 0
    screenshot(page, "hparams_scatter")

    # hovering a point outlines that session in every plot it is drawn in, and tells its values
    target = page.locator(".hp-sp-plot[data-x='h:lr'][data-y='m:hparam/loss'] .hp-sp-point[data-session='s02']")
    box = target.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    name = page.evaluate("([x, y]) => document.elementFromPoint(x, y).dataset.session", [x, y])
    assert name in sessions
    page.mouse.move(x, y)
    page.wait_for_function("(n) => document.querySelector('.hp-scatter').dataset.highlighted === n", arg=name,
                           timeout=5000)
    lit = page.evaluate("""() => [...document.querySelectorAll('.hp-sp-point.hl')].map((c) =>
        [c.closest('.hp-sp-plot').dataset.x + '|' + c.closest('.hp-sp-plot').dataset.y, c.dataset.session])""")
    assert {s for _, s in lit} == {name}
    assert sorted(p for p, _ in lit) == sorted(f"{p['x']}|{p['y']}" for p in plots if name in p["points"])
    assert page.locator(".hp-sp-ring").count() == len(lit)
    tip = page.locator("#tooltip")
    assert tip.is_visible() and name in tip.text_content()
    assert sessions[name]["hparams"]["opt"].replace("\n", "") in tip.text_content().replace("\n", "")
    screenshot(page, "hparams_scatter_hover")
    page.mouse.move(2, 2)
    page.wait_for_function("() => !document.querySelector('.hp-scatter').dataset.highlighted", timeout=5000)
    assert page.locator(".hp-sp-point.hl").count() == 0

    # downloads: the table's rows after filtering, in its order, parse back to the sessions' values
    page.click(".hp-tab[data-view='table']")
    page.fill(".hp-filter[data-hparam=opt]", "adam|sgd|line")
    page.wait_for_function("() => document.querySelectorAll('.hp-table tbody tr.hp-row').length === 9", timeout=5000)
    page.click(".hp-table th[data-column='m:hparam/loss'] button")
    page.wait_for_function("() => document.querySelector('.hp-table tbody tr.hp-row').dataset.session !== 's00'",
                           timeout=5000)
    rows = _rows(page)
    labels = page.eval_on_selector_all(".hp-table thead tr:first-child th.hp-col:not(.hp-session)",
                                       "(ths) => ths.map((t) => t.dataset.column)")
    assert labels == columns
    with page.expect_download() as info:
        page.click(".hp-download[data-format=csv]")
    assert info.value.suggested_filename == "hparams_sessions.csv"
    with open(info.value.path(), newline="", encoding="utf-8") as f:
        table = list(csv.reader(f))
    assert table[0] == ["session", "status", "layers", "lr", "opt", "hparam/accuracy", "hparam/loss"]
    assert [r[0] for r in table[1:]] == rows and len(rows) == 9
    for row in table[1:]:
        s = sessions[row[0]]
        assert row[1] == s["status"]
        want = [s["hparams"].get(c[2:]) if c.startswith("h:") else (s["metrics"].get(c[2:]) or {}).get("value")
                for c in columns]
        assert all(_same(c, v) for c, v in zip(row[2:], want)), (row, want)
    assert {r[4] for r in table[1:]} == set(TRICKY[:3])  # comma, quotes and newline came back whole

    with page.expect_download() as info:
        page.click(".hp-download[data-format=json]")
    with open(info.value.path(), encoding="utf-8") as f:
        listed = json.load(f)
    assert [r["session"] for r in listed] == rows
    for r in listed:
        s = sessions[r["session"]]
        assert r["status"] == s["status"] and r["hparams"] == s["hparams"]
        assert r["metrics"] == {k: m["value"] for k, m in s["metrics"].items()}
    assert not page.console_errors and not page.dialogs
