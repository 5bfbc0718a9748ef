"""Hostile names and text in a real browser: nothing runs, everything shows as text.

Headless Chromium over `edge_shared` (run `<img src=x onerror=alert(2)>`, tags like `<script>alert(1)</script>`)
and over a generated logdir where every dashboard gets hostile input: run and tag names with markup for scalars,
histograms/distributions and images, markdown text with `<script>`, `<img onerror>` and `javascript:` links, and
a graph whose node names, op types, device and attributes hold markup. On every tab: no dialog, no console
error (the CSP would report a blocked inline handler there), no inline script / `on*` attribute / `javascript:`
link / `img[src=x]` in the DOM, no request to another host, and the hostile names are in the page as text.
"""
from __future__ import annotations

import numpy as np
import pytest

from conftest import FIXTURES, screenshot, serve
from summaries.proto import GraphDef
from summaries.summary.file_writer import FileWriter
from summaries.summary.writer import SummaryWriter

pytestmark = pytest.mark.browser

EDGE_RUN = "<img src=x onerror=alert(2)>"
EDGE_TAGS = ["<script>alert(1)</script>", "a\"quote'and&amp;", "emoji 🚀 loss", "손실/학습", "../../etc/passwd"]
RUN = "<img src=x onerror=alert(7)>"
NESTED_RUN = "q\"uo't&amp;/<svg onload=alert(8)>"
SCALAR_TAG = "<script>alert(10)</script>"
HIST_TAG = "<img src=x onerror=alert(11)>/hist"
IMAGE_TAG = "\"><svg onload=alert(12)>"
TEXT_TAG = "<b onmouseover=alert(13)>notes</b>"
MARKDOWN = ("# <i>head</i>\n\n<script>alert(14)</script>\n\n<img src=x onerror=alert(15)>\n\n"
            "[click](javascript:alert(16)) [mixed](JaVaScRiPt:alert(17)) [spaced]( javascript:alert(18))\n\n"
            "<a href=\"javascript:alert(19)\">raw</a>\n\n![pic](javascript:alert(20))\n\n"
            "`<iframe src=javascript:alert(21)>`\n\n| h |\n|---|\n| <img src=x onerror=alert(22)> |\n")
GRAPH_SCOPE = "<img src=x onerror=alert(23)>"
GRAPH_OP = "<script>alert(24)</script>"

DOM_AUDIT = """() => {
    const all = [...document.querySelectorAll('*')];
    return {
        inline_scripts: [...document.scripts].filter((s) => !s.src).length,
        handlers: all.filter((e) => [...e.attributes].some((a) => a.name.toLowerCase().startsWith('on')))
                     .map((e) => e.outerHTML.slice(0, 120)),
        js_links: all.filter((e) => ['href', 'src', 'xlink:href', 'action'].some((n) =>
                     /^\\s*javascript:/i.test(e.getAttribute(n) || ''))).map((e) => e.outerHTML.slice(0, 120)),
        img_x: [...document.images].filter((i) => i.getAttribute('src') === 'x').length,
        frames: document.querySelectorAll('iframe, object, embed').length,
    };
}"""


def audit(page, base: str, name: str) -> None:
    page.wait_for_timeout(400)  # let late handlers/requests fire
    screenshot(page, f"security_{name}")
    dom = page.evaluate(DOM_AUDIT)
    assert dom == {"inline_scripts": 0, "handlers": [], "js_links": [], "img_x": 0, "frames": 0}, (name, dom)
    assert not page.dialogs, (name, page.dialogs)
    assert not page.console_errors, (name, page.console_errors)
    own = base.split("://", 1)[1].rstrip("/")
    foreign = {h for h in page.requested_hosts if h != own and not h.startswith(("data:", "blob:"))}
    assert not foreign, (name, foreign)


def texts(page, selector: str) -> list[str]:
    return page.eval_on_selector_all(selector, "(ns) => ns.map((n) => n.textContent)")


def open_tab(page, tab: str) -> None:
    """Switch dashboards the way a user does (the page reads the hash only when it loads)."""
    page.click(f"#tabs button[data-plugin={tab}]")
    page.wait_for_selector(f".pane[data-plugin={tab}]", state="visible", timeout=20000)


def open_groups(page, plugin: str) -> None:
    """Expand every collapsed tag group of the pane (only the first few start open)."""
    for _ in range(50):
        closed = page.locator(f".pane[data-plugin={plugin}] .group-header[aria-expanded=false]")
        if closed.count() == 0:
            return
        closed.first.click()


def wait_card(page, run: str | None, tag: str, plugin: str, ready: str) -> None:
    """Wait until the card of (run, tag) in `plugin`'s pane exists, scroll to it, and wait for `ready`(card)."""
    find = """([plugin, run, tag]) => [...document.querySelectorAll(`.pane[data-plugin=${plugin}] .card`)]
        .find((c) => c.dataset.tag === tag && (run === null || c.dataset.run === run))"""
    page.wait_for_function(f"(a) => !!({find})(a)", arg=[plugin, run, tag], timeout=20000)
    page.evaluate(f"(a) => ({find})(a).scrollIntoView()", [plugin, run, tag])
    page.wait_for_function(f"(a) => {{ const card = ({find})(a); return ({ready})(card); }}",
                           arg=[plugin, run, tag], timeout=20000)


PLOT_READY = "(card) => { const gd = card.querySelector('.js-plotly-plot'); return gd && gd.data && gd.data.length > 0; }"
IMG_READY = "(card) => { const i = card.querySelector('img'); return i && i.complete && i.naturalWidth > 0; }"


@pytest.fixture(scope="module")
def hostile_logdir(tmp_path_factory):
    logdir = tmp_path_factory.mktemp("hostile") / "logs"
    rng = np.random.default_rng(0)
    with SummaryWriter(str(logdir / RUN)) as w:
        for step in range(5):
            w.add_scalar(SCALAR_TAG, float(step), step)
            w.add_histogram(HIST_TAG, rng.normal(size=100), step)
        w.add_image(IMAGE_TAG, rng.integers(0, 255, (3, 8, 8), dtype=np.uint8), 0)
        w.add_text(TEXT_TAG, MARKDOWN, 0)
    with SummaryWriter(str(logdir / NESTED_RUN)) as w:
        w.add_scalar(SCALAR_TAG, 1.0, 0)
    graph = GraphDef()
    graph.node.add(name=f"{GRAPH_SCOPE}/x", op="Placeholder", device="<b>/cpu:0</b>")
    node = graph.node.add(name=f"{GRAPH_SCOPE}/y", op=GRAPH_OP, input=[f"{GRAPH_SCOPE}/x"])
    node.attr["note"].s = b"<img src=x onerror=alert(25)>"
    graph.node.add(name="out\"'&amp;<i>", op="Identity", input=[f"{GRAPH_SCOPE}/y"])
    writer = FileWriter(logdir / "graph_run")
    writer.add_graph(None, graph_def=graph)
    writer.close()
    return logdir


@pytest.fixture(scope="module")
def edge_url():
    with serve(FIXTURES / "edge_shared", "--reload_interval", "0") as url:
        yield url


@pytest.fixture(scope="module")
def hostile_url(hostile_logdir):
    with serve(hostile_logdir, "--reload_interval", "0") as url:
        yield url


def test_edge_shared_every_tab(page, edge_url):
    page.goto(edge_url + "#scalars")
    page.wait_for_selector(".pane[data-plugin=scalars] .group-header", timeout=20000)
    open_groups(page, "scalars")
    for tag in EDGE_TAGS:
        wait_card(page, None, tag, "scalars", PLOT_READY)
    assert EDGE_RUN in texts(page, "#run-list .run-name")
    titles = texts(page, ".pane[data-plugin=scalars] .card-title")
    assert set(EDGE_TAGS) <= set(titles), titles
    gd = ".pane[data-plugin=scalars] .card .js-plotly-plot"
    page.locator(gd).first.hover(position={"x": 150, "y": 100})  # hover labels carry run names
    audit(page, edge_url, "edge_scalars")
    for tab in ("images", "histograms", "distributions", "graphs", "text"):
        open_tab(page, tab)
        page.wait_for_function("(run) => [...document.querySelectorAll('#run-list .run-name')]"
                               ".some((n) => n.textContent === run)", arg=EDGE_RUN, timeout=15000)
        audit(page, edge_url, f"edge_{tab}")


def test_hostile_logdir_scalars_histograms_distributions(page, hostile_url):
    page.goto(hostile_url + "#scalars")
    wait_card(page, None, SCALAR_TAG, "scalars", PLOT_READY)
    assert {RUN, NESTED_RUN} <= set(texts(page, "#run-list .run-name"))
    assert SCALAR_TAG in texts(page, ".pane[data-plugin=scalars] .card-title")
    page.locator(".pane[data-plugin=scalars] .card .js-plotly-plot").first.hover(position={"x": 150, "y": 100})
    audit(page, hostile_url, "hostile_scalars")
    for tab in ("histograms", "distributions"):
        open_tab(page, tab)
        wait_card(page, RUN, HIST_TAG, tab, PLOT_READY)
        assert HIST_TAG in texts(page, f".pane[data-plugin={tab}] .card-title")
        assert RUN in texts(page, f".pane[data-plugin={tab}] .card-run .run-name")
        audit(page, hostile_url, f"hostile_{tab}")


def test_hostile_logdir_images(page, hostile_url):
    page.goto(hostile_url + "#images")
    wait_card(page, RUN, IMAGE_TAG, "images", IMG_READY)
    assert IMAGE_TAG in texts(page, ".pane[data-plugin=images] .card-title")
    audit(page, hostile_url, "hostile_images")


def test_hostile_logdir_text(page, hostile_url):
    page.goto(hostile_url + "#text")
    wait_card(page, RUN, TEXT_TAG, "text", "(card) => !!card.querySelector('.markdown, table')")
    card = page.locator(".pane[data-plugin=text] .card").first
    content = card.text_content()
    for shown in ("<script>alert(14)</script>", "<img src=x onerror=alert(15)>", "<i>head</i>",
                  "<img src=x onerror=alert(22)>", "<iframe src=javascript:alert(21)>"):
        assert shown in content, shown
    assert TEXT_TAG in texts(page, ".pane[data-plugin=text] .card-title")
    assert card.locator("script, img, iframe, svg, i").count() == 0
    hrefs = card.locator("a").evaluate_all("(as) => as.map((a) => a.getAttribute('href'))")
    assert not any(h and h.strip().lower().startswith("javascript:") for h in hrefs), hrefs
    audit(page, hostile_url, "hostile_text")


def test_hostile_logdir_graph(page, hostile_url):
    page.goto(hostile_url + "#graphs")
    page.wait_for_function("() => { const c = document.querySelector('.graph-canvas'); return c && c.dataset.state"
                           " === 'ready'; }", timeout=20000)
    ids = page.eval_on_selector_all(".graph-node", "(gs) => gs.map((g) => g.dataset.id)")
    assert GRAPH_SCOPE in ids and "out\"'&amp;<i>" in ids, ids
    svg_text = page.eval_on_selector(".graph-canvas", "(c) => c.textContent")
    assert GRAPH_SCOPE in svg_text or GRAPH_SCOPE[:12] in svg_text
    audit(page, hostile_url, "hostile_graph_collapsed")
    page.evaluate("(id) => [...document.querySelectorAll('.graph-node')].find((g) => g.dataset.id === id)"
                  ".dispatchEvent(new MouseEvent('click', {bubbles: true}))", GRAPH_SCOPE)
    page.wait_for_function("(id) => [...document.querySelectorAll('.graph-node')].some((g) => g.dataset.id === id)",
                           arg=f"{GRAPH_SCOPE}/y", timeout=15000)
    page.evaluate("(id) => [...document.querySelectorAll('.graph-node')].find((g) => g.dataset.id === id)"
                  ".dispatchEvent(new MouseEvent('click', {bubbles: true}))", f"{GRAPH_SCOPE}/y")
    # wait for the node's own details (the scope's panel, shown first, also lists the op's name)
    page.wait_for_function("(name) => { const h = document.querySelector('.graph-details h3');"
                           " return h && h.textContent === name; }", arg=f"{GRAPH_SCOPE}/y", timeout=15000)
    details = page.locator(".graph-details").text_content()
    assert f"{GRAPH_SCOPE}/y" in details and "<img src=x onerror=alert(25)>" in details
    audit(page, hostile_url, "hostile_graph_details")
