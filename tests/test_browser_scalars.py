"""The scalars dashboard in headless Chromium, on logdirs written by real TensorFlow."""
from __future__ import annotations

import pytest

from conftest import FIXTURES, expected, screenshot, serve

pytestmark = pytest.mark.browser


def plot_data(page, tag):
    """The traces plotly drew in a tag's card: [{run, kind, n}] (n = points drawn)."""
    return page.evaluate("""(tag) => {
        const card = [...document.querySelectorAll('.card')].find((c) => c.dataset.tag === tag);
        const gd = card && card.querySelector('.js-plotly-plot');
        return gd ? gd.data.map((t) => ({run: t.meta.run, kind: t.meta.kind, n: t.x.length, y: t.y})) : null;
    }""", tag)


def wait_for_traces(page, tag, count):
    page.wait_for_function("""([tag, count]) => {
        const card = [...document.querySelectorAll('.card')].find((c) => c.dataset.tag === tag);
        const gd = card && card.querySelector('.js-plotly-plot');
        return gd && gd.data && gd.data.length === count;
    }""", arg=[tag, count], timeout=15000)


@pytest.fixture(scope="module")
def xor_url():
    with serve(FIXTURES / "tf1_xor", "--reload_interval", "2") as url:
        yield url


def test_xor_runs_charts_points_smoothing_and_filters(page, xor_url):
    page.goto(xor_url)
    page.wait_for_selector(".run-list label")
    runs = page.locator(".run-list .run-name").all_text_contents()
    assert runs == ["xor_logs", "xor_logs_r0_01"]
    for tag in ("cost/cost", "accuracy/accuracy"):
        wait_for_traces(page, tag, 4)  # raw + smoothed per run
        want = {run: len(data["scalars"][tag]) for run, data in expected("tf1_xor")["runs"].items()}
        drawn = {t["run"]: t["n"] for t in plot_data(page, tag) if t["kind"] == "raw"}
        assert drawn == want  # 101 points per run: every step written every 10 steps
    screenshot(page, "scalars_xor")

    before = {t["run"]: t["y"] for t in plot_data(page, "cost/cost") if t["kind"] == "smoothed"}
    page.fill(".smoothing-number", "0.95")
    page.dispatch_event(".smoothing-number", "change")
    page.wait_for_function("""() => {
        const card = [...document.querySelectorAll('.card')].find((c) => c.dataset.tag === 'cost/cost');
        const t = card.querySelector('.js-plotly-plot').data.find((d) => d.meta.kind === 'smoothed');
        return t && window.__lastSmoothed !== JSON.stringify(t.y) && (window.__lastSmoothed = JSON.stringify(t.y));
    }""", timeout=10000)
    page.wait_for_timeout(500)
    after = {t["run"]: t["y"] for t in plot_data(page, "cost/cost") if t["kind"] == "smoothed"}
    assert after["xor_logs"] != before["xor_logs"], "the smoothing slider did not change the line"
    raw = {t["run"]: t["y"] for t in plot_data(page, "cost/cost") if t["kind"] == "raw"}
    assert after["xor_logs"][0] == raw["xor_logs"][0]  # debiased EMA starts at the first value

    page.uncheck("input[data-run='xor_logs_r0_01']")
    wait_for_traces(page, "cost/cost", 2)
    assert {t["run"] for t in plot_data(page, "cost/cost")} == {"xor_logs"}
    page.check("input[data-run='xor_logs_r0_01']")
    wait_for_traces(page, "cost/cost", 4)

    page.fill(".tag-filter", "^cost")
    page.wait_for_function("() => !document.querySelector('[data-tag=\"accuracy/accuracy\"]')", timeout=5000)
    assert page.locator(".card").count() == 1
    page.fill(".tag-filter", "")
    page.fill("#run-filter", "r0_01$")
    page.wait_for_timeout(300)
    assert page.locator(".run-list .run-name").all_text_contents() == ["xor_logs_r0_01"]
    wait_for_traces(page, "cost/cost", 2)
    page.fill("#run-filter", "([")  # an invalid regex filters nothing and is marked, not thrown
    page.wait_for_timeout(300)
    assert page.locator("#run-filter.invalid").count() == 1
    assert page.console_errors == [] and page.dialogs == []
    assert page.requested_hosts <= {xor_url.split("/")[2]}


def test_hover_tooltip_lists_every_visible_run(page, xor_url):
    page.goto(xor_url)
    wait_for_traces(page, "cost/cost", 4)
    box = page.locator("[data-tag='cost/cost'] .plot").bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
    page.wait_for_selector("#tooltip:not([hidden])")
    rows = page.locator("#tooltip td.run-name").all_text_contents()
    assert sorted(rows) == ["xor_logs", "xor_logs_r0_01"]
    # each row's wall-clock time is the one TensorBoard reads for that run at that step
    heads = page.locator("#tooltip th").all_text_contents()
    assert heads[1:] == ["Run", "Smoothed", "Value", "Step", "Time", "Relative"]
    for row in page.locator("#tooltip tr").all()[1:]:
        cells = row.locator("td").all_text_contents()
        run, step, shown = cells[1], int(cells[4]), cells[5]
        wall = {s: w for s, w, _ in expected("tf1_xor")["runs"][run]["scalars"]["cost/cost"]}[step]
        assert shown == page.evaluate("(w) => new Date(w * 1000).toLocaleString()", wall)
    screenshot(page, "scalars_tooltip")


def test_hostile_names_render_as_text(page):
    with serve(FIXTURES / "edge_shared", "--reload_interval", "0") as url:
        page.goto(url)
        page.wait_for_selector(".run-list label")
        page.fill(".tag-filter", ".")  # opens every group
        page.wait_for_function("() => document.querySelectorAll('.card-title').length >= 8", timeout=15000)
        names = page.locator(".run-list .run-name").all_text_contents()
        assert "<img src=x onerror=alert(2)>" in names and "런_unicode_run" in names
        titles = page.locator(".card-title").all_text_contents()
        for tag in ["<script>alert(1)</script>", 'a"quote\'and&amp;', "emoji 🚀 loss", "손실/학습", "../../etc/passwd"]:
            assert tag in titles
        page.wait_for_timeout(1000)
        screenshot(page, "scalars_hostile_names")
        assert page.dialogs == [] and page.console_errors == []
        assert page.evaluate("document.querySelectorAll('img[src=x], script:not([src])').length") == 0


def y_range(page, tag):
    return page.evaluate("""(tag) => {
        const card = [...document.querySelectorAll('.card')].find((c) => c.dataset.tag === tag);
        return card.querySelector('.js-plotly-plot')._fullLayout.yaxis.range.slice();
    }""", tag)


def test_ignore_outliers_scales_to_each_runs_bulk_and_keeps_spikes_by_default(page, tmp_path):
    from summaries.summary.writer import SummaryWriter
    # two runs far apart, one with few points (under 5% of all): scaled per run, neither leaves the view
    for run, level, steps in (("low", 1.0, 300), ("high", 100.0, 12)):
        with SummaryWriter(tmp_path / run) as w:
            for step in range(steps):
                w.add_scalar("loss", level + (step % 7) * 0.01 * level + (1e6 if step == 100 else 0.0), step)
    with serve(tmp_path, "--reload_interval", "0") as url:
        page.goto(url)
        page.wait_for_selector(".run-list label")
        page.fill(".smoothing-number", "0")
        page.dispatch_event(".smoothing-number", "change")
        wait_for_traces(page, "loss", 2)  # raw only, one per run
        assert y_range(page, "loss")[1] >= 1e6  # by default the spike is in view (every spike kept)
        page.check(".ignore-outliers")
        page.wait_for_function("""() => {
            const gd = document.querySelector('.card[data-tag="loss"] .js-plotly-plot');
            return gd._fullLayout.yaxis.range[1] < 1e5;
        }""", timeout=10000)
        low, high = y_range(page, "loss")
        assert low <= 1.0 and 1.06 * 100 <= high < 200  # both runs' bulk in view, the spike scaled out
        page.wait_for_timeout(300)
        screenshot(page, "scalars_ignore_outliers")
        page.uncheck(".ignore-outliers")
        page.wait_for_function("""() => {
            const gd = document.querySelector('.card[data-tag="loss"] .js-plotly-plot');
            return gd._fullLayout.yaxis.range[1] >= 1e6;
        }""", timeout=10000)
        assert page.console_errors == []


def test_settings_and_run_selection_survive_a_page_reload(page, xor_url):
    page.goto(xor_url)
    page.wait_for_selector(".run-list label")
    wait_for_traces(page, "cost/cost", 4)
    page.fill(".smoothing-number", "0.9")
    page.dispatch_event(".smoothing-number", "change")
    page.check(".log-y")
    page.check("input[name='scalars-x'][value='relative']")
    page.select_option(".tooltip-sort", "name")
    page.uncheck("input[data-run='xor_logs_r0_01']")
    wait_for_traces(page, "cost/cost", 2)
    page.reload()
    page.wait_for_selector(".run-list label")
    wait_for_traces(page, "cost/cost", 2)  # still one run: raw + smoothed
    assert page.input_value(".smoothing-number") == "0.9"
    assert page.is_checked(".log-y") and not page.is_checked(".ignore-outliers")
    assert page.is_checked("input[name='scalars-x'][value='relative']")
    assert page.input_value(".tooltip-sort") == "name"
    assert not page.is_checked("input[data-run='xor_logs_r0_01']") and page.is_checked("input[data-run='xor_logs']")
    assert {t["run"] for t in plot_data(page, "cost/cost")} == {"xor_logs"}
    assert page.evaluate("""() => document.querySelector('.card[data-tag="cost/cost"] .js-plotly-plot')
        ._fullLayout.yaxis.type""") == "log"
    assert page.console_errors == []
