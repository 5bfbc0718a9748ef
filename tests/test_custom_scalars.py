"""Custom Scalars: our layout builder against tensorboardX's bytes and real TensorBoard's reading, our routes
against TensorBoard's own custom_scalars plugin on a tensorboardX-written logdir (tests/data/custom_scalars/,
made by make_fixture.py), bad input, NaN, hostile names, the page."""
from __future__ import annotations

import contextlib
import json
import math
import re

import numpy as np
import pytest
from tensorboard import context
from tensorboard.backend import json_util
from tensorboard.backend.event_processing import data_provider, event_file_loader
from tensorboard.compat.proto import event_pb2 as tb_event_pb2
from tensorboard.plugins import base_plugin
from tensorboard.plugins.custom_scalar import custom_scalars_plugin
from tensorboard.plugins.custom_scalar import layout_pb2 as tb_layout_pb2
from tensorboard.plugins.scalar import scalars_plugin
from tensorboard.util import tensor_util

from board_server.app import create_app
from conftest import FIXTURES, load_script, loaded_provider, screenshot, serve, tb_multiplexer
from summaries.proto import layout_pb2
from summaries.summary import custom_scalars as cs
from summaries.summary.writer import SummaryWriter

DATA = FIXTURES.parent / "custom_scalars"
LOGDIR = DATA / "logdir"
MAKER = load_script(DATA / "make_fixture.py")
CONFIG = "custom_scalars__config__"


class TensorBoard:
    """TensorBoard's custom_scalars plugin (with its scalars plugin) over its own multiplexer, no TensorFlow."""

    def __init__(self, logdir):
        self.multiplexer = tb_multiplexer(logdir)
        provider = data_provider.MultiplexerDataProvider(self.multiplexer, str(logdir))
        instances = {}
        tb_context = base_plugin.TBContext(data_provider=provider, logdir=str(logdir),
                                           plugin_name_to_instance=instances)
        instances["scalars"] = scalars_plugin.ScalarsPlugin(tb_context)
        self.plugin = custom_scalars_plugin.CustomScalarsPlugin(tb_context)
        self.ctx = context.RequestContext()

    def layout(self):
        body = self.plugin.layout_impl(self.ctx, "")
        return json.loads(body) if isinstance(body, str) else body

    def scalars(self, run, regex):
        """What TensorBoard's HTTP layer sends: NaN/Inf cleansed to strings."""
        return json_util.Cleanse(self.plugin.scalars_impl(self.ctx, run, regex, ""))


@pytest.fixture
def client_for():
    with contextlib.ExitStack() as stack:
        yield lambda logdir: create_app(stack.enter_context(loaded_provider(logdir))).test_client()


def no_bare_constants(data: bytes):
    def bare(token):
        raise AssertionError(f"bare {token} in the JSON")
    return json.loads(data, parse_constant=bare)


def written_values(logdir, run):
    """The custom_scalars Summary.Values in a run's event files, as TensorBoard's own protos."""
    out = []
    for path in sorted((logdir / run).glob("events.out.tfevents.*")):
        for record in event_file_loader.RawEventFileLoader(str(path)).Load():
            event = tb_event_pb2.Event.FromString(record)
            out += [v for v in event.summary.value if v.tag == CONFIG]
    return out


# --- writer -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("run, layout", [("a", MAKER.LAYOUT_A), ("b", MAKER.LAYOUT_B)])
def test_builder_writes_tensorboardx_bytes(run, layout):
    [theirs] = written_values(LOGDIR, run)
    [ours] = cs.custom_scalars(layout).value
    assert ours.SerializeToString() == theirs.SerializeToString()


def test_shorthands_write_tensorboardx_bytes():
    first, second = written_values(LOGDIR, "c")  # add_custom_scalars_multilinechart, then _marginchart
    [multi] = cs.custom_scalars(cs.multiline_layout(["price/.*"], category="Stale", title="replaced")).value
    [margin] = cs.custom_scalars(cs.margin_layout(["price/mid", "price/low", "price/high"], category="Prices",
                                                  title="band c")).value
    assert multi.SerializeToString() == first.SerializeToString()
    assert margin.SerializeToString() == second.SerializeToString()
    [default] = cs.custom_scalars(cs.multiline_layout(["x"])).value
    layout = tb_layout_pb2.Layout.FromString(default.tensor.string_val[0])
    assert [(c.title, c.chart[0].title) for c in layout.category] == [("default", "untitled")]


def test_written_layouts_read_back_in_tensorboard(tmp_path, client_for):
    with SummaryWriter(str(tmp_path / "r1")) as w:
        w.add_scalar("loss/train", 1.0, 0)
        w.add_custom_scalars({"Training": {"losses": ["Multiline", ["loss/.*", "acc"]],
                                           "band": ["Margin", ["m", "lo", "hi"]]}})
    with SummaryWriter(str(tmp_path / "r2")) as w:
        w.add_scalar("m", 1.0, 0)
        w.add_custom_scalars_multilinechart(["m$"], category="Training", title="m only")
    with SummaryWriter(str(tmp_path / "r3")) as w:
        w.add_scalar("m", 1.0, 0)
        w.add_custom_scalars_marginchart(["m", "lo", "hi"])
        closed = tb_layout_pb2.Layout(category=[tb_layout_pb2.Category(title="Shut", closed=True, chart=[
            tb_layout_pb2.Chart(title="c", multiline=tb_layout_pb2.MultilineChartContent(tag=["m"]))])])
    with SummaryWriter(str(tmp_path / "r4")) as w:
        w.add_custom_scalars(closed)  # a Layout proto (TensorBoard's own) for what the dict form cannot say
    tb = TensorBoard(tmp_path)
    for run in ("r1", "r2", "r3", "r4"):
        assert tb.multiplexer.SummaryMetadata(run, CONFIG).plugin_data.plugin_name == "custom_scalars"
        [event] = tb.multiplexer.Tensors(run, CONFIG)
        array = tensor_util.make_ndarray(event.tensor_proto)
        assert array.shape == () and event.step == 0
    first = tb_layout_pb2.Layout.FromString(
        tensor_util.make_ndarray(tb.multiplexer.Tensors("r1", CONFIG)[0].tensor_proto).item())
    want = tb_layout_pb2.Layout(category=[tb_layout_pb2.Category(title="Training", chart=[
        tb_layout_pb2.Chart(title="losses", multiline=tb_layout_pb2.MultilineChartContent(tag=["loss/.*", "acc"])),
        tb_layout_pb2.Chart(title="band", margin=tb_layout_pb2.MarginChartContent(series=[
            tb_layout_pb2.MarginChartContent.Series(value="m", lower="lo", upper="hi")]))])])
    assert first == want
    layout = tb.layout()
    assert [c["title"] for c in layout["category"]] == ["Training", "default", "Shut"]
    assert [ch["title"] for ch in layout["category"][0]["chart"]] == ["losses", "band", "m only"]
    assert layout["category"][2]["closed"] is True
    client = client_for(tmp_path)
    assert client.get("/data/plugin/custom_scalars/layout").get_json() == layout
    listing = client.get("/data/plugins_listing").get_json()
    assert listing["custom_scalars"] == {**listing["custom_scalars"], "enabled": True, "tab_name": "Custom Scalars"}
    assert list(listing)[:2] == ["scalars", "custom_scalars"]  # TensorBoard's tab order


def test_bad_layouts_name_category_and_chart(tmp_path):
    bad = [({"Cat": {"chart": ["Pie", ["a"]]}}, "'Cat', chart 'chart'.*'Multiline' or 'Margin'"),
           ({"Cat": {"chart": ["Margin", ["a", "b"]]}}, "'Cat', chart 'chart'.*exactly 3"),
           ({"Cat": {"chart": ["Multiline", "loss"]}}, "'Cat', chart 'chart'.*list of strings"),
           ({"Cat": {"chart": ["Multiline", ["ok", 3]]}}, "'Cat', chart 'chart'.*strings"),
           ({"Cat": {"chart": ["Multiline", ["loss(["]]}}, "'Cat', chart 'chart'.*bad tag regex"),
           ({"Cat": {"chart": ["Multiline", []]}}, "'Cat', chart 'chart'.*regex"),
           ({"Cat": {"chart": "Multiline"}}, "'Cat', chart 'chart'"),
           ({"Cat": ["chart"]}, "'Cat'"),
           ({"Cat": {3: ["Multiline", ["a"]]}}, "'Cat'.*chart title"),
           ({1: {}}, "category title"),
           ([["Cat"]], "dict")]
    for layout, words in bad:
        with pytest.raises(ValueError, match=words):
            cs.custom_scalars(layout)
    with SummaryWriter(str(tmp_path)) as w:
        with pytest.raises(ValueError, match="'default', chart 'untitled'.*exactly 3"):
            w.add_custom_scalars_marginchart(["a", "b"])
        with pytest.raises(ValueError, match="'Cat', chart 'x'"):
            w.add_custom_scalars({"Cat": {"x": ["Line", ["a"]]}})
    assert written_values(tmp_path, ".") == []  # nothing written for a bad layout


# --- routes -------------------------------------------------------------------------------------------

REGEXES = ["loss/.*", "acc", "price/mid", "train", ".*train$", "loss/te", "", "(", "[a-", "other/.*|acc/.*"]


def test_routes_equal_tensorboards_plugin_on_tbx_fixture(client_for):
    client, tb = client_for(LOGDIR), TensorBoard(LOGDIR)
    layout = client.get("/data/plugin/custom_scalars/layout").get_json()
    assert layout == tb.layout()
    assert [c["title"] for c in layout["category"]] == ["Losses", "Prices", "Extra", "Hidden"]
    assert [c["title"] for c in layout["category"][0]["chart"]] == ["loss", "accuracy", "train only"]
    assert [c["title"] for c in layout["category"][1]["chart"]] == ["band", "band c"]  # c's last layout only
    assert [c["closed"] for c in layout["category"]] == [False, False, False, True]
    compared = 0
    for run in "abcde":
        for regex in REGEXES:
            response = client.get("/data/plugin/custom_scalars/scalars", query_string={"run": run, "tag": regex})
            assert response.status_code == 200 and response.is_json
            got = no_bare_constants(response.data)
            assert got == tb.scalars(run, regex), (run, regex)
            compared += len(got["tag_to_events"])
    assert compared > 15
    got = client.get("/data/plugin/custom_scalars/scalars?run=b&tag=loss/test").get_json()
    events = got["tag_to_events"]["loss/test"]
    assert len(events) == 18 and events[5][2] == "NaN" and [e[1] for e in events] == list(range(0, 180, 10))
    assert client.get("/data/plugin/custom_scalars/scalars?run=a&tag=(").get_json() == {
        "regex_valid": False, "tag_to_events": {}}
    assert client.get("/data/plugin/custom_scalars/scalars?run=a&tag=train").get_json() == {
        "regex_valid": True, "tag_to_events": {}}  # matched from the start of the tag, as TensorBoard


def test_layout_merge_keeps_categories_first_seen_in_a_later_run(tmp_path, client_for):
    """The one deliberate difference from TensorBoard: it drops a third run's charts for a category first
    seen in the second run (it merges them into the second run's copy, not into the merged layout)."""
    for run, layout in [("r1", {"A": {"a": ["Multiline", ["a"]]}}), ("r2", {"B": {"b": ["Multiline", ["b"]]}}),
                        ("r3", {"B": {"b": ["Multiline", ["b"]], "b2": ["Multiline", ["b2"]]}})]:
        with SummaryWriter(str(tmp_path / run)) as w:
            w.add_custom_scalars(layout)
    ours = client_for(tmp_path).get("/data/plugin/custom_scalars/layout").get_json()
    theirs = TensorBoard(tmp_path).layout()
    assert [ch["title"] for ch in ours["category"][1]["chart"]] == ["b", "b2"]
    if [ch["title"] for ch in theirs["category"][1]["chart"]] == ["b"]:  # TensorBoard 2.21's merge
        theirs["category"][1]["chart"].append(ours["category"][1]["chart"][1])
    assert ours == theirs


def test_no_layout(tmp_path, client_for):
    with SummaryWriter(str(tmp_path / "plain")) as w:
        w.add_scalar("loss", 1.0, 0)
    client = client_for(tmp_path)
    assert client.get("/data/plugin/custom_scalars/layout").get_json() == {} == TensorBoard(tmp_path).layout()
    assert client.get("/data/plugins_listing").get_json()["custom_scalars"]["enabled"] is False


def test_bad_requests(client_for):
    client = client_for(LOGDIR)
    cases = {"/data/plugin/custom_scalars/scalars?tag=loss": (400, "run is required"),
             "/data/plugin/custom_scalars/scalars?run=nope&tag=loss": (404, "'nope'"),
             "/data/plugin/custom_scalars/scalars?run=%3Cb%3E&tag=x": (404, "'<b>'")}
    for path, (status, words) in cases.items():
        response = client.get(path)
        assert response.status_code == status and response.is_json, path
        assert words in response.get_json()["error"], (path, response.get_json())
    invalid = {"regex_valid": False, "tag_to_events": {}}
    for regex in ["(", "*", "a{2,1}", "(?P<x", "x" * 5000, ""]:
        assert client.get("/data/plugin/custom_scalars/scalars", query_string={"run": "a", "tag": regex}
                          ).get_json() == invalid, regex
    assert client.get("/data/plugin/custom_scalars/scalars?run=a").get_json() == invalid
    for body in [None, [], {"runs": "a", "regexes": ["x"]}, {"runs": ["a"], "regexes": [1]},
                 {"runs": ["a"], "regexes": ["x"], "points": "many"}, {"runs": ["a"] * 501, "regexes": ["x"]}]:
        response = client.post("/data/plugin/custom_scalars/batch", json=body)
        assert response.status_code == 400 and "error" in response.get_json(), body
    answer = client.post("/data/plugin/custom_scalars/batch",
                         json={"runs": ["a", "nope"], "regexes": ["(", "acc/t"]}).get_json()
    assert answer["invalid"] == ["("] and [(s["run"], s["tag"]) for s in answer["series"]] == [("a", "acc/train")]


def debiased_ema(values, weight):
    """TensorBoard's smoothing, point by point: an EMA over the finite values divided by 1 - weight**n."""
    out, last, n = [], 0.0, 0
    for v in values:
        if not math.isfinite(v):
            out.append(v)
            continue
        n += 1
        last = last * weight + (1 - weight) * v
        out.append(last / (1 - weight ** n))
    return out


def test_batch_draws_the_route_points_smoothed(client_for):
    client = client_for(LOGDIR)
    answer = client.post("/data/plugin/custom_scalars/batch",
                         json={"runs": ["a", "b"], "regexes": ["loss/.*", "acc/train"], "smoothing": 0.6,
                               "points": 1000}).get_json()
    got = {(s["run"], s["tag"]): s for s in answer["series"]}
    assert sorted(got) == [("a", "acc/train"), ("a", "loss/train"), ("a", "loss/valid"), ("b", "acc/train"),
                           ("b", "loss/test"), ("b", "loss/train"), ("b", "loss/valid")]
    for (run, tag), s in got.items():
        query = {"run": run, "tag": re.escape(tag) + "$"}
        events = client.get("/data/plugin/custom_scalars/scalars", query_string=query).get_json()["tag_to_events"][tag]
        assert s["total"] == len(events) and s["step"] == [e[1] for e in events]
        assert s["wall"] == [e[0] for e in events] and s["value"] == [e[2] for e in events]
        values = [float(e[2]) for e in events]
        want = debiased_ema(values, 0.6)
        for a, b in zip(s["smoothed"], want):
            assert (a == "NaN" and math.isnan(b)) or a == pytest.approx(b, rel=1e-9)


def test_nan_and_infinity_travel_as_strings(tmp_path, client_for):
    with SummaryWriter(str(tmp_path / "odd")) as w:
        for step, v in enumerate([1.0, float("nan"), float("inf"), -float("inf"), 2.0]):
            w.add_scalar("odd/x", v, step)
        w.add_custom_scalars_multilinechart(["odd/.*"])
    client = client_for(tmp_path)
    got = no_bare_constants(client.get("/data/plugin/custom_scalars/scalars?run=odd&tag=odd").data)
    assert [e[2] for e in got["tag_to_events"]["odd/x"]] == [1.0, "NaN", "Infinity", "-Infinity", 2.0]
    assert got == TensorBoard(tmp_path).scalars("odd", "odd")
    response = client.post("/data/plugin/custom_scalars/batch", json={"runs": ["odd"], "regexes": ["odd"],
                                                                      "smoothing": 0.5})
    [series] = no_bare_constants(response.data)["series"]
    assert series["value"] == [1.0, "NaN", "Infinity", "-Infinity", 2.0]
    assert series["smoothed"][1:4] == ["NaN", "Infinity", "-Infinity"]


HOSTILE_RUN = "<b>bold</b> %{y} &amp;"
HOSTILE_TAG = "<img src=x onerror=alert(1)>/(x)"
HOSTILE_CATEGORY = "<script>alert(1)</script>"
HOSTILE_CHART = "<i>chart</i> %{x}"


def write_hostile(logdir):
    with SummaryWriter(str(logdir / HOSTILE_RUN)) as w:
        for step in range(6):
            w.add_scalar(HOSTILE_TAG, step * 0.5, step)
            w.add_scalar("m", step, step)
            w.add_scalar("lo", step - 1, step)
            w.add_scalar("hi", step + 1, step)
        w.add_custom_scalars({HOSTILE_CATEGORY: {HOSTILE_CHART: ["Multiline", [re.escape(HOSTILE_TAG)]],
                                                 "band": ["Margin", ["m", "lo", "hi"]]}})


def test_hostile_names_in_routes(tmp_path, client_for):
    write_hostile(tmp_path)
    client = client_for(tmp_path)
    layout = client.get("/data/plugin/custom_scalars/layout").get_json()
    assert layout == TensorBoard(tmp_path).layout()
    assert layout["category"][0]["title"] == HOSTILE_CATEGORY
    assert layout["category"][0]["chart"][0]["title"] == HOSTILE_CHART
    got = client.get("/data/plugin/custom_scalars/scalars",
                     query_string={"run": HOSTILE_RUN, "tag": re.escape(HOSTILE_TAG)}).get_json()
    assert list(got["tag_to_events"]) == [HOSTILE_TAG] and len(got["tag_to_events"][HOSTILE_TAG]) == 6


# --- page ---------------------------------------------------------------------------------------------

TRACES = """([category, chart]) => {
    const card = [...document.querySelectorAll('.cs-card')].find(
        (c) => c.dataset.category === category && c.dataset.chart === chart);
    const gd = card && card.querySelector('.js-plotly-plot');
    return gd && gd.data ? gd.data.map((t) => ({...t.board, n: t.x.length, color: t.line.color,
        dash: t.line.dash || 'solid', fill: t.fill || null, hover: t.hovertemplate || null})) : null;
}"""


def traces(page, category, chart, kind="line"):
    return [t for t in page.evaluate(TRACES, [category, chart]) or [] if kind is None or t["kind"] == kind]


def wait_lines(page, category, chart, count):
    page.wait_for_function("""([category, chart, count]) => {
        const traces = (%s)([category, chart]);
        return traces && traces.filter((t) => t.kind === 'line').length === count;
    }""" % TRACES, arg=[category, chart, count], timeout=15000)


def run_colors(page):
    return page.evaluate("""() => Object.fromEntries([...document.querySelectorAll('#run-list label')].map(
        (l) => [l.querySelector('input').dataset.run,
                getComputedStyle(l.querySelector('.swatch')).backgroundColor]))""")


def rgb(hex_color):
    return "rgb(%d, %d, %d)" % tuple(int(hex_color[i:i + 2], 16) for i in (1, 3, 5))


@pytest.mark.browser
def test_page_shows_categories_and_draws_charts(page, client_for):
    client = client_for(LOGDIR)

    def events(run, regex):
        return client.get("/data/plugin/custom_scalars/scalars", query_string={"run": run, "tag": regex}
                          ).get_json()["tag_to_events"]

    with serve(LOGDIR, "--reload_interval", "0") as url:
        page.goto(url + "#custom_scalars")
        page.wait_for_selector(".cs-category", timeout=15000)
        titles = page.eval_on_selector_all(".cs-category", "(s) => s.map((x) => x.dataset.category)")
        assert titles == ["Losses", "Prices", "Extra", "Hidden"]
        assert page.locator(".tab.active").text_content() == "Custom Scalars"
        hidden = ".cs-category[data-category='Hidden']"
        assert page.locator(f"{hidden} .group-header").get_attribute("aria-expanded") == "false"
        assert page.locator(f"{hidden} .cs-card").count() == 0 and not page.locator(f"{hidden} .cards").is_visible()
        charts = page.eval_on_selector_all(".cs-category[data-category='Losses'] .cs-card",
                                           "(s) => s.map((x) => x.dataset.chart)")
        assert charts == ["loss", "accuracy", "train only"]

        want = {(run, tag): len(points) for run in "abcde" for tag, points in events(run, "loss/.*").items()}
        assert len(want) == 6
        wait_lines(page, "Losses", "loss", len(want))
        lines = traces(page, "Losses", "loss")
        assert {(t["run"], t["tag"]): t["n"] for t in lines} == want
        colors = run_colors(page)
        for t in lines:
            assert colors[t["run"]] == rgb(t["color"])
            assert "%{meta[0]} · %{meta[1]}" in t["hover"]
        dashes = {t["tag"]: t["dash"] for t in lines}
        assert len(set(dashes.values())) == 3 and all(dashes[t["tag"]] == t["dash"] for t in lines)
        assert len(traces(page, "Losses", "loss", "raw")) == len(want)  # smoothing on: the raw lines, faint
        legend = page.eval_on_selector_all(".cs-card[data-chart='loss'] .cs-legend-item",
                                           "(s) => s.map((x) => x.textContent)")
        assert sorted(legend) == sorted(f"{run}{tag}" for run, tag in want)

        wait_lines(page, "Prices", "band", 2)  # runs a and c have the value tag
        band = traces(page, "Prices", "band", None)
        assert sorted(t["run"] for t in band if t["kind"] == "line") == ["a", "c"]
        assert [t["fill"] for t in band if t["kind"] == "upper"] == ["tonexty", "tonexty"]
        assert {t["run"]: t["n"] for t in band if t["kind"] == "line"} == {
            run: len(events(run, "price/mid$")["price/mid"]) for run in "ac"}
        screenshot(page, "custom_scalars")

        page.locator(".cs-card[data-chart='test loss']").scroll_into_view_if_needed()  # charts load when seen
        wait_lines(page, "Extra", "test loss", 1)
        page.uncheck("#run-list input[data-run='b']")
        wait_lines(page, "Extra", "test loss", 0)  # only run b has loss/test
        page.locator(".cs-card[data-chart='loss']").scroll_into_view_if_needed()
        wait_lines(page, "Losses", "loss", 3)
        assert {t["run"] for t in traces(page, "Losses", "loss")} == {"a", "e"}
        page.check("#run-list input[data-run='b']")
        wait_lines(page, "Losses", "loss", 6)

        page.click(f"{hidden} .group-header")
        page.locator(".cs-card[data-chart='other']").scroll_into_view_if_needed()
        wait_lines(page, "Hidden", "other", 2)
        assert page.locator(f"{hidden} .group-header").get_attribute("aria-expanded") == "true"
        assert {t["tag"] for t in traces(page, "Hidden", "other")} == {"other/x", "other/y"}
        page.click(".cs-category[data-category='Losses'] .group-header")
        page.wait_for_function("() => !document.querySelector(\".cs-card[data-chart='loss']\")", timeout=5000)
        screenshot(page, "custom_scalars_toggled")

        page.locator(".smoothing-number").fill("0")  # no smoothing: one trace per (run, tag), the raw values
        page.locator(".smoothing-number").dispatch_event("change")
        page.wait_for_function("() => (%s)(['Hidden', 'other']).every((t) => t.kind === 'line')" % TRACES,
                               timeout=15000)
        assert len(traces(page, "Hidden", "other", None)) == 2
        page.click("text=WALL")
        page.wait_for_function("() => document.querySelector(\".cs-card[data-chart='other'] .js-plotly-plot\")"
                               "._fullLayout.xaxis.type === 'date'", timeout=15000)
        assert not page.console_errors and not page.dialogs


@pytest.mark.browser
def test_hostile_names_show_as_text(page, tmp_path):
    write_hostile(tmp_path)
    with serve(tmp_path, "--reload_interval", "0") as url:
        page.goto(url + "#custom_scalars")
        wait_lines(page, HOSTILE_CATEGORY, HOSTILE_CHART, 1)
        wait_lines(page, HOSTILE_CATEGORY, "band", 1)
        assert page.locator(".cs-category .group-name").text_content() == HOSTILE_CATEGORY
        assert page.locator(".cs-card .card-title").first.text_content() == HOSTILE_CHART
        [line] = traces(page, HOSTILE_CATEGORY, HOSTILE_CHART)
        assert (line["run"], line["tag"], line["n"]) == (HOSTILE_RUN, HOSTILE_TAG, 6)
        assert page.locator(".cs-legend-item").first.text_content() == HOSTILE_RUN + HOSTILE_TAG
        box = page.locator(".cs-card .js-plotly-plot .nsewdrag").first.bounding_box()
        page.mouse.move(box["x"] + 2, box["y"] + box["height"] - 2)  # the first point: step 0, value 0
        page.wait_for_selector(".cs-card .hoverlayer .hovertext", timeout=5000)
        hover = page.locator(".cs-card .hoverlayer .hovertext").first.text_content()
        assert hover.startswith(f"{HOSTILE_RUN} · {HOSTILE_TAG}"), hover
        assert page.locator("main img, main b, main i, main script").count() == 0
        screenshot(page, "custom_scalars_hostile_names")
        assert not page.console_errors and not page.dialogs



def long_margin(step):
    """(value, lower, upper) at a step: lower < value < upper, each bound wobbling on its own, so that each
    series' per-bucket extremes (what the server keeps of a long series) sit at different steps."""
    value = math.sin(step * 0.05) + 0.3 * math.sin(step * 1.7)
    return value, value - 0.5 - 0.4 * abs(math.sin(step * 0.9)), value + 0.5 + 0.4 * abs(math.cos(step * 1.3))


def close(text, want):
    return math.isclose(float(text), want, rel_tol=1e-4, abs_tol=1e-9)  # formatNumber keeps 5 digits


@pytest.mark.browser
def test_margin_hover_pairs_bounds_by_step(page, tmp_path, client_for):
    with SummaryWriter(str(tmp_path / "long")) as w:
        for step in range(1500):  # over the 1000 points a chart asks for
            for tag, v in zip(("v", "lo", "hi"), long_margin(step)):
                w.add_scalar(tag, v, step)
        w.add_custom_scalars_marginchart(["v", "lo", "hi"], category="Long", title="band")
    steps = [s["step"] for s in client_for(tmp_path).post("/data/plugin/scalars/batch", json={
        "series": [{"run": "long", "tag": t} for t in ("v", "lo", "hi")], "points": 1000}).get_json()["series"]]
    assert all(len(s) < 1500 for s in steps) and steps[0] != steps[1] and steps[0] != steps[2]
    # each series downsampled on its own keeps other steps: the chart keeps all their extremes, at common steps
    drawn_steps = sorted(set(steps[0]) | set(steps[1]) | set(steps[2]))
    plot = "document.querySelector(\".cs-card[data-chart='band'] .js-plotly-plot\")"
    with serve(tmp_path, "--reload_interval", "0") as url:
        page.goto(url + "#custom_scalars")
        wait_lines(page, "Long", "band", 1)
        got = page.evaluate(f"""() => {plot}.data.map((t) => ({{kind: t.board.kind, x: [...t.x], y: [...t.y],
            customdata: t.customdata || null, hover: t.hovertemplate}}))""")
        line = next(t for t in got if t["kind"] == "line")
        assert line["x"] == drawn_steps
        bounded = []
        for i, (step, data) in enumerate(zip(line["x"], line["customdata"])):
            value, lower, upper = long_margin(step)
            assert close(data[0], value), (step, data)
            template = line["hover"][i] if isinstance(line["hover"], list) else line["hover"]
            assert ("lower %{customdata[1]}<br>upper %{customdata[2]}" in template) == (len(data) == 3)
            if len(data) == 3:  # the bounds shown are those written at this point's own step
                bounded.append(i)
                assert close(data[1], lower) and close(data[2], upper), (step, data)
        assert bounded
        for kind, k in (("lower", 1), ("upper", 2)):  # the band: the same step-aligned bounds
            [band] = [t for t in got if t["kind"] == kind]
            assert band["x"] == [line["x"][i] for i in bounded] == drawn_steps
            assert all(close(y, long_margin(x)[k]) for x, y in zip(band["x"], band["y"]))

        point = bounded[len(bounded) // 2]  # what a real hover shows
        page.evaluate(f"""(point) => Plotly.Fx.hover({plot}, [{{pointNumber: point,
            curveNumber: {plot}.data.findIndex((t) => t.board.kind === 'line')}}])""", point)
        page.wait_for_selector(".cs-card .hoverlayer .hovertext", timeout=5000)
        hover = page.locator(".cs-card .hoverlayer .hovertext").first.text_content()
        shown = dict(re.findall(r"(step|value|lower|upper) (\S+?)(?=step|value|lower|upper|$)", hover))
        step = line["x"][point]
        assert int(shown["step"]) == step, hover
        assert all(close(shown[k], want) for k, want in zip(("value", "lower", "upper"), long_margin(step))), hover
        assert not page.console_errors and not page.dialogs
