"""Histograms, distributions and images dashboards in headless Chromium on logdirs written by real TF."""
from __future__ import annotations

import pytest

from conftest import FIXTURES, expected, screenshot, serve

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def xor_url():
    with serve(FIXTURES / "tf1_xor", "--reload_interval", "0") as url:
        yield url


def card_plot(page, run, tag):
    return page.evaluate("""([run, tag]) => {
        const card = [...document.querySelectorAll('.card')].find((c) => c.dataset.run === run && c.dataset.tag === tag);
        const gd = card && card.querySelector('.js-plotly-plot');
        return gd && gd.data ? {mode: gd.dataset.mode, traces: gd.data.length,
            fills: gd.data.filter((t) => t.fill).length, drawn: Number(gd.dataset.steps),
            reversed: gd._fullLayout.yaxis.range[0] > gd._fullLayout.yaxis.range[1],
            hover: gd.data[gd.data.length - 1].hovertemplate} : null;
    }""", [run, tag])


def wait_plot(page, run, tag):
    """Scroll the card into view (cards load lazily) and wait for its plot."""
    page.wait_for_selector(f".card[data-run='{run}'][data-tag='{tag}']", timeout=15000)
    page.locator(f".card[data-run='{run}'][data-tag='{tag}']").first.scroll_into_view_if_needed()
    page.wait_for_function("""([run, tag]) => {
        const card = [...document.querySelectorAll('.card')].find((c) => c.dataset.run === run && c.dataset.tag === tag);
        const gd = card && card.querySelector('.js-plotly-plot');
        return gd && gd.data && gd.data.length > 0;
    }""", arg=[run, tag], timeout=15000)


def test_histograms_offset_and_overlay(page, xor_url):
    page.goto(xor_url + "#histograms")
    steps = len(expected("tf1_xor")["runs"]["xor_logs"]["histograms"]["layer1/weights1"])
    wait_plot(page, "xor_logs", "layer1/weights1")
    offset = card_plot(page, "xor_logs", "layer1/weights1")
    drawn = min(steps, (steps + 1) // 2 if steps > 100 else steps)  # at most 100 ridges, last step kept
    assert offset["mode"] == "offset" and offset["reversed"]
    assert offset["traces"] == offset["fills"] == offset["drawn"] == drawn
    assert offset["hover"].startswith("step 1000<br>")  # the newest ridge is the last drawn (in front)
    # one card per run and tag, grouped by scope: both runs' layer1 cards are there
    cards = page.eval_on_selector_all(".pane[data-plugin=histograms] .card",
                                      "(cs) => cs.map((c) => c.dataset.run + '|' + c.dataset.tag)")
    assert "xor_logs_r0_01|layer1/weights1" in cards and "xor_logs|layer1/biases1" in cards
    ticks = page.eval_on_selector_all(
        ".card[data-run='xor_logs'][data-tag='layer1/weights1'] .ytick text",
        "(ts) => ts.map((t) => Number(t.textContent.replace(/\u2212/g, '-').replace(/,/g, '')))")
    logged = [p["step"] for p in expected("tf1_xor")["runs"]["xor_logs"]["histograms"]["layer1/weights1"]]
    assert len(ticks) >= 3 and all(min(logged) <= t <= max(logged) for t in ticks), ticks  # no step -200
    page.hover(".card[data-run='xor_logs'][data-tag='layer1/weights1'] .js-plotly-plot", position={"x": 200, "y": 200})
    screenshot(page, "histograms_offset_xor")

    page.check("input[name=histogram-mode][value=overlay]")
    page.wait_for_function("""() => {
        const gd = document.querySelector(".card[data-run='xor_logs'][data-tag='layer1/weights1'] .js-plotly-plot");
        return gd.dataset.mode === 'overlay';
    }""", timeout=10000)
    overlay = card_plot(page, "xor_logs", "layer1/weights1")
    assert overlay["traces"] == drawn and overlay["fills"] == 0 and not overlay["reversed"]
    screenshot(page, "histograms_overlay_xor")
    page.check("input[name=histogram-axis][value=wall]")
    page.wait_for_timeout(300)
    page.reload()  # the mode and the axis are kept across page loads
    wait_plot(page, "xor_logs", "layer1/weights1")
    assert page.is_checked("input[name=histogram-mode][value=overlay]")
    assert page.is_checked("input[name=histogram-axis][value=wall]")
    assert card_plot(page, "xor_logs", "layer1/weights1")["mode"] == "overlay"
    assert not page.console_errors and not page.dialogs


def test_distributions_bands(page, xor_url):
    page.goto(xor_url + "#distributions")
    wait_plot(page, "xor_logs", "layer2/hypothesis")
    info = page.evaluate("""() => {
        const gd = document.querySelector(".card[data-run='xor_logs'][data-tag='layer2/hypothesis'] .js-plotly-plot");
        return {traces: gd.data.length, fills: gd.data.filter((t) => t.fill === 'tonexty').length,
                points: gd.data[8].x.length, median: gd.data[8].y};
    }""")
    steps = len(expected("tf1_xor")["runs"]["xor_logs"]["histograms"]["layer2/hypothesis"])
    assert info["traces"] == 9 and info["fills"] == 4 and info["points"] == steps
    assert all(0 <= v <= 1 for v in info["median"])  # sigmoid outputs
    screenshot(page, "distributions_xor")
    assert not page.console_errors and not page.dialogs


def test_images_slider_moves_through_steps(page):
    want = expected("tf1_mnist")["runs"]["mnist"]["images"]["input/image/0"]
    with serve(FIXTURES / "tf1_mnist", "--reload_interval", "0") as url:
        page.goto(url + "#histograms")
        page.wait_for_selector(".pane[data-plugin=histograms] .card")  # that dashboard is mounted
        page.evaluate("() => { location.hash = 'images'; }")  # a link or back/forward switches the tab
        try:
            page.wait_for_selector(".tab.active[data-plugin=images]", timeout=15000)
        except Exception:
            state = page.evaluate("() => [location.href, [...document.querySelectorAll('.tab.active')].map((t) => t.dataset.plugin)]")
            raise AssertionError(f"hash change did not switch to images: {state}, console: {page.console_errors}")
        card = ".card[data-run='mnist'][data-tag='input/image/0']"
        page.wait_for_function("""(sel) => {
            const img = document.querySelector(sel + ' img');
            return img && img.complete && img.naturalWidth > 0;
        }""", arg=card, timeout=15000)
        img = page.locator(card + " img")
        assert img.evaluate("(i) => [i.naturalWidth, i.naturalHeight]") == [want[-1]["width"], want[-1]["height"]]
        assert page.locator(card + " .step-label").text_content() == f"step {want[-1]['step']}"
        assert "pixelated" in img.get_attribute("class")
        assert img.evaluate("(i) => i.getBoundingClientRect().width") >= 4 * 28 - 1  # scaled up crisp
        screenshot(page, "images_mnist_last")
        seen = set()
        for index in (0, len(want) // 2):
            page.locator(card + " .step-slider").fill(str(index))
            page.wait_for_function("""([sel, step]) => document.querySelector(sel + ' .step-label').textContent === 'step ' + step
                && document.querySelector(sel + ' img').complete""", arg=[card, want[index]["step"]], timeout=10000)
            seen.add(img.get_attribute("src"))
        assert len(seen) == 2
        screenshot(page, "images_mnist_first")
        assert page.locator(".pane[data-plugin=images] .card").count() == 3  # input/image/0..2
        assert not page.console_errors and not page.dialogs
