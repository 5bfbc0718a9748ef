"""PR curves: the routes against the real `tensorboard` package's own pr_curves plugin, our writer against
tensorboardX-computed tensors (tests/data/pr_curves/, made by make_reference.py), bad inputs, the page."""
from __future__ import annotations

import contextlib
import json
import re
import shutil

import numpy as np
import pytest
from tensorboard import context
from tensorboard.backend.event_processing import data_provider
from tensorboard.plugins import base_plugin
from tensorboard.plugins.pr_curve import plugin_data_pb2, pr_curves_plugin
from tensorboard.util import tensor_util

from board_server.app import create_app
from conftest import FIXTURES, load_script, loaded_provider, screenshot, serve, tb_multiplexer
from summaries.summary import builders
from summaries.summary.writer import SummaryWriter

REFERENCE = FIXTURES.parent / "pr_curves"
MAKER = load_script(REFERENCE / "make_reference.py")


class TensorBoard:
    """TensorBoard's pr_curves plugin over its own multiplexer (no TensorFlow needed)."""

    def __init__(self, logdir):
        self.multiplexer = tb_multiplexer(logdir, pr_curves=0)
        provider = data_provider.MultiplexerDataProvider(self.multiplexer, str(logdir))
        self.plugin = pr_curves_plugin.PrCurvesPlugin(base_plugin.TBContext(data_provider=provider))
        self.ctx = context.RequestContext()

    def tags(self):
        return self.plugin.tags_impl(self.ctx, "")

    def pr_curves(self, runs, tag):
        return self.plugin.pr_curves_impl(self.ctx, "", runs, tag)


@pytest.fixture
def client_for():
    """A test client of our app over a logdir, its data layer loaded (stopped after the test)."""
    with contextlib.ExitStack() as stack:
        yield lambda logdir: create_app(stack.enter_context(loaded_provider(logdir))).test_client()


def assert_same_tags(ours: dict, theirs: dict):
    """Equal listings; TensorBoard leaves an unset display name empty where the data layer names the tag."""
    assert set(ours) == {run for run, tags in theirs.items() if tags}
    for run, tags in theirs.items():
        for tag, info in tags.items():
            assert ours[run][tag]["description"] == info["description"]
            assert ours[run][tag]["displayName"] == (info["displayName"] or tag)
        assert set(ours[run]) == set(tags)


def test_routes_equal_tensorboards_plugin_on_tbx_fixture(client_for):
    logdir = FIXTURES / "tbx"
    client, tb = client_for(logdir), TensorBoard(logdir)
    tags = client.get("/data/plugin/pr_curves/tags").get_json()
    assert_same_tags(tags, tb.tags())
    assert tags == {"tbx_run": {"pr": {"displayName": "pr", "description": ""}}}
    got = client.get("/data/plugin/pr_curves/pr_curves?tag=pr&run=tbx_run").get_json()
    want = tb.pr_curves(["tbx_run"], "pr")
    assert got == want
    assert len(got["tbx_run"]) == 10 and len(got["tbx_run"][-1]["precision"]) == 127
    entries = client.get("/data/plugin/pr_curves/available_time_entries").get_json()
    assert entries == {"tbx_run": [{"step": e["step"], "wall_time": e["wall_time"]} for e in want["tbx_run"]]}
    assert client.get("/data/plugin/pr_curves/available_time_entries?tag=pr").get_json() == entries
    assert client.get("/data/plugins_listing").get_json()["pr_curves"]["enabled"] is True


def test_bad_requests_name_run_and_tag(client_for):
    client = client_for(FIXTURES / "tbx")
    cases = {"/data/plugin/pr_curves/pr_curves?tag=pr": (400, "No runs"),
             "/data/plugin/pr_curves/pr_curves?run=tbx_run": (400, "No tag"),
             "/data/plugin/pr_curves/pr_curves?run=tbx_run&tag=": (400, "No tag"),
             "/data/plugin/pr_curves/pr_curves?run=nope&tag=pr": (404, "'nope' and tag 'pr'"),
             "/data/plugin/pr_curves/pr_curves?run=tbx_run&run=nope&tag=pr": (404, "'nope'"),
             "/data/plugin/pr_curves/pr_curves?run=tbx_run&tag=loss": (404, "'tbx_run' and tag 'loss'"),
             "/data/plugin/pr_curves/pr_curves?run=tbx_run&tag=pr&downsample_to=x": (400, "downsample_to"),
             "/data/plugin/pr_curves/available_time_entries?downsample_to=x": (400, "downsample_to")}
    for path, (status, words) in cases.items():
        response = client.get(path)
        assert response.status_code == status, path
        assert response.is_json and words in response.get_json()["error"], (path, response.get_json())
    assert client.get("/data/plugin/pr_curves/available_time_entries?tag=nope").get_json() == {}
    thinned = client.get("/data/plugin/pr_curves/pr_curves?run=tbx_run&tag=pr&downsample_to=3").get_json()
    steps = client.get("/data/plugin/pr_curves/available_time_entries?downsample_to=3").get_json()
    assert [e["step"] for e in thinned["tbx_run"]] == [e["step"] for e in steps["tbx_run"]] == [0, 40, 90]


@pytest.fixture(scope="module")
def reference():
    with np.load(REFERENCE / "reference.npz") as data:
        return {key: data[key] for key in data.files}


def tensor_of(summary):
    value = summary.value[0]
    assert value.metadata.plugin_data.plugin_name == "pr_curves"
    shape = [d.size for d in value.tensor.tensor_shape.dim]
    return np.frombuffer(value.tensor.tensor_content, "<f4").reshape(shape), value.metadata.plugin_data.content


CASES = ["small", "weighted", "all_ones", "low_scores", "n201"]


@pytest.mark.parametrize("case", CASES)
def test_builder_equals_tensorboardx(reference, case):
    kwargs = {k: reference[f"{case}/{k}"] for k in ("labels", "predictions", "weights") if f"{case}/{k}" in reference}
    n = int(reference[f"{case}/num_thresholds"])
    tensor, content = tensor_of(builders.pr_curve(case, num_thresholds=n, **kwargs))
    want = reference[f"{case}/tensor"]
    assert tensor.shape == want.shape == (6, n)
    np.testing.assert_array_equal(tensor, want)
    if f"{case}/content" in reference:
        assert content == reference[f"{case}/content"].tobytes()
    parsed = plugin_data_pb2.PrCurvePluginData.FromString(content)
    assert (parsed.version, parsed.num_thresholds) == (0, n)


def test_builder_equals_tensorboardx_beyond_one_histogram_block(reference):
    labels, predictions, weights = MAKER.big_inputs()  # the inputs make_reference.py gave tensorboardX
    tensor, _ = tensor_of(builders.pr_curve("big", labels, predictions, 127, weights))
    np.testing.assert_array_equal(tensor, reference["big/tensor"])


def test_raw_builder_equals_tensorboardx(reference):
    tensor, content = tensor_of(builders.pr_curve_raw("raw", *reference["raw/inputs"], num_thresholds=7))
    np.testing.assert_array_equal(tensor, reference["raw/tensor"])
    assert content == reference["raw/content"].tobytes()


def test_counts_are_the_examples_at_or_above_each_threshold():
    """Independent of any writer: with unit weights, TP(i) counts positives with floor(p*(n-1)) >= i."""
    rng = np.random.default_rng(3)
    labels, predictions = rng.random(500) < 0.4, rng.random(500)
    predictions[:5] = [0.0, 1.0, 0.25, 0.5, 0.75]  # exactly on thresholds of n = 5
    tensor, _ = tensor_of(builders.pr_curve("t", labels, predictions, num_thresholds=5))
    thresholds = np.arange(5) / 4
    tp = [(labels & (predictions >= t)).sum() for t in thresholds]
    fp = [(~labels & (predictions >= t)).sum() for t in thresholds]
    np.testing.assert_array_equal(tensor[0], tp)
    np.testing.assert_array_equal(tensor[1], fp)
    np.testing.assert_array_equal(tensor[2], (~labels).sum() - np.array(fp))
    np.testing.assert_array_equal(tensor[3], labels.sum() - np.array(tp))
    np.testing.assert_allclose(tensor[4], np.array(tp) / np.maximum(1e-7, np.add(tp, fp)), rtol=1e-6)
    np.testing.assert_allclose(tensor[5], np.array(tp) / labels.sum(), rtol=1e-6)


def test_written_file_reads_back_in_tensorboard(reference, tmp_path, client_for):
    """Our SummaryWriter's file through TensorBoard's own multiplexer and plugin, and through our routes."""
    logdir = tmp_path / "logs"
    with SummaryWriter(str(logdir / "ours")) as writer:
        for step, case in enumerate(CASES):
            kwargs = {k: reference[f"{case}/{k}"] for k in ("labels", "predictions", "weights")
                      if f"{case}/{k}" in reference}
            n = int(reference[f"{case}/num_thresholds"])
            writer.add_pr_curve(case, global_step=step, num_thresholds=n, walltime=1000.0 + step, **kwargs)
            writer.add_pr_curve("all", global_step=step, num_thresholds=n, walltime=1000.0 + step, **kwargs)
        writer.add_pr_curve_raw("raw", *reference["raw/inputs"], global_step=7, num_thresholds=7, walltime=2000.0)
    tb = TensorBoard(logdir)
    for step, case in enumerate(CASES + ["raw"]):
        [event] = tb.multiplexer.Tensors("ours", case)
        np.testing.assert_array_equal(tensor_util.make_ndarray(event.tensor_proto), reference[f"{case}/tensor"])
        content = tb.multiplexer.SummaryMetadata("ours", case).plugin_data.content
        n = reference[f"{case}/tensor"].shape[1]
        assert plugin_data_pb2.PrCurvePluginData.FromString(content).num_thresholds == n
    client = client_for(logdir)
    assert_same_tags(client.get("/data/plugin/pr_curves/tags").get_json(), tb.tags())
    for tag in CASES + ["raw", "all"]:
        got = client.get(f"/data/plugin/pr_curves/pr_curves?run=ours&tag={tag}").get_json()
        assert got == tb.pr_curves(["ours"], tag), tag
    low = client.get("/data/plugin/pr_curves/pr_curves?run=ours&tag=low_scores").get_json()["ours"][0]
    assert 1 < len(low["precision"]) < 127  # thresholds above every prediction are cut, as TensorBoard does
    steps = client.get("/data/plugin/pr_curves/available_time_entries?tag=all").get_json()
    assert steps == {"ours": [{"step": s, "wall_time": 1000.0 + s} for s in range(len(CASES))]}


def test_bad_inputs_name_the_tag(tmp_path):
    good = dict(labels=np.array([0, 1, 1]), predictions=np.array([0.1, 0.5, 0.9]))
    bad = [dict(good, labels=np.array([0, 1])),
           dict(good, labels=np.array([0, 2, 1])),
           dict(good, labels=np.array([0.0, 0.5, 1.0])),
           dict(good, labels=np.array(["a", "b", "c"])),
           dict(good, predictions=np.array([0.1, 1.5, 0.9])),
           dict(good, predictions=np.array([-0.1, 0.5, 0.9])),
           dict(good, predictions=np.array([0.1, np.nan, 0.9])),
           dict(good, predictions=np.array(["x", "y", "z"])),
           dict(good, weights=np.array([1.0, 2.0])),
           dict(good, weights=np.array([1.0, np.inf, 1.0])),
           dict(good, num_thresholds=1),
           dict(good, num_thresholds=2.5)]
    for kwargs in bad:
        with pytest.raises(ValueError, match="'my/tag'"):
            builders.pr_curve("my/tag", **kwargs)
    with SummaryWriter(str(tmp_path)) as writer:
        with pytest.raises(ValueError, match="'my/tag'"):
            writer.add_pr_curve("my/tag", [0, 1], [0.5, 2.0])
        with pytest.raises(ValueError, match="'raw/tag'"):
            writer.add_pr_curve_raw("raw/tag", [1, 2], [1, 2], [1, 2], [1, 2], [1.0, 1.0], [0.5])
        writer.add_pr_curve("ok", [True, False], [1.0, 0.0], 0)  # booleans, both ends of [0, 1]
        writer.add_pr_curve("scalar_weight", [1, 0], [0.7, 0.2], 0, weights=2.0)
    tensor, _ = tensor_of(builders.pr_curve("empty", [], [], num_thresholds=3))
    np.testing.assert_array_equal(tensor, np.zeros((6, 3)))


def chart(page, tag):
    return page.evaluate("""(tag) => {
        const card = [...document.querySelectorAll('.pr-card')].find((c) => c.dataset.tag === tag);
        const gd = card && card.querySelector('.js-plotly-plot');
        return gd && gd.data ? gd.data.map((t) => ({run: t.name, x: t.x, y: t.y, color: t.line.color,
            hover: t.hovertemplate, custom: t.customdata})) : null;
    }""", tag)


def wait_chart(page, tag, check: str = "true", arg=None):
    page.wait_for_function("""([tag, arg]) => {
        const card = [...document.querySelectorAll('.pr-card')].find((c) => c.dataset.tag === tag);
        const gd = card && card.querySelector('.js-plotly-plot');
        const traces = gd && gd.data;
        return traces && (%s);
    }""" % check, arg=[tag, arg], timeout=15000)


@pytest.mark.browser
def test_page_draws_curves_and_follows_the_step_slider(page, tmp_path):
    logdir = shutil.copytree(FIXTURES / "tbx", tmp_path / "logs")
    rng = np.random.default_rng(5)
    with SummaryWriter(str(logdir / "ours")) as writer:  # a second run on the same tag, 201 thresholds
        for step in range(3):
            labels = rng.random(300) < 0.5
            writer.add_pr_curve("pr", labels, np.clip(labels * 0.3 + rng.random(300) * 0.7, 0, 1), step,
                                num_thresholds=201)
    tb = TensorBoard(logdir)
    want = tb.pr_curves(["tbx_run"], "pr")["tbx_run"]
    ours = tb.pr_curves(["ours"], "pr")["ours"]
    with serve(logdir, "--reload_interval", "0") as url:
        page.goto(url + "#pr_curves")
        page.wait_for_selector(".pr-card[data-tag='pr']", timeout=15000)
        wait_chart(page, "pr", "traces.length === 2")
        traces = {t["run"]: t for t in chart(page, "pr")}
        colors = page.evaluate("""() => Object.fromEntries([...document.querySelectorAll('#run-list label')].map(
            (l) => [l.querySelector('input').dataset.run,
                    getComputedStyle(l.querySelector('.swatch')).backgroundColor]))""")
        last = want[-1]
        trace = traces["tbx_run"]
        assert len(trace["x"]) == len(last["recall"]) == 127
        assert trace["x"] == last["recall"] and trace["y"] == last["precision"]
        assert len(traces["ours"]["x"]) == len(ours[-1]["recall"]) and traces["ours"]["y"] == ours[-1]["precision"]
        for run, t in traces.items():  # each curve in its run's color
            rgb = tuple(int(t["color"][i:i + 2], 16) for i in (1, 3, 5))
            assert colors[run] == "rgb(%d, %d, %d)" % rgb
        assert trace["custom"][5] == [last["thresholds"][5], last["true_positives"][5], last["false_positives"][5],
                                      last["true_negatives"][5], last["false_negatives"][5]]
        assert all(w in trace["hover"] for w in ("threshold", "precision", "recall", "TP", "FP", "TN", "FN"))
        slider = ".pr-slider[data-run='tbx_run']"
        assert page.locator(f"{slider} .step-label").text_content() == f"step {last['step']}"
        assert page.locator(f"{slider} .wall-label").text_content()
        row = ".pr-card[data-tag='pr'] .pr-run[data-run='tbx_run']"
        assert page.locator(f"{row} .pr-step").text_content() == f"step {last['step']}"
        box = page.locator(".pr-card[data-tag='pr'] .js-plotly-plot .nsewdrag").bounding_box()
        i = int(np.argmin(np.abs(np.array(last["recall"]) - 0.3)))  # left of the mode bar
        page.mouse.move(box["x"] + box["width"] * (0.02 + last["recall"][i]) / 1.04,  # axes span [-0.02, 1.02]
                        box["y"] + box["height"] * (1 - (0.02 + last["precision"][i]) / 1.04))
        page.wait_for_selector(".pr-card .hoverlayer .hovertext", timeout=5000)
        hover = page.locator(".pr-card .hoverlayer .hovertext").first.text_content()
        m = re.fullmatch(r"(\w+) · step (\d+)threshold ([\d.]+)precision ([\d.]+)recall ([\d.]+)"
                         r"TP (\d+)  FP (\d+)TN (\d+)  FN (\d+)", hover)
        assert m, hover
        entry = {"tbx_run": last, "ours": ours[-1]}[m[1]]
        shown = [round(float(v), 4) for v in m.groups()[2:5]] + [int(v) for v in m.groups()[5:]]
        assert int(m[2]) == entry["step"] and shown in [
            [round(entry[k][j], 4) for k in ("thresholds", "precision", "recall")]
            + [entry[k][j] for k in ("true_positives", "false_positives", "true_negatives", "false_negatives")]
            for j in range(len(entry["recall"]))]
        screenshot(page, "pr_curves_latest")

        first = want[0]
        page.locator(f"{slider} input[type=range]").fill("0")
        wait_chart(page, "pr", "JSON.stringify(traces.find((t) => t.name === 'tbx_run').y) === JSON.stringify(arg)",
                   first["precision"])
        traces = {t["run"]: t for t in chart(page, "pr")}
        assert traces["tbx_run"]["x"] == first["recall"]
        assert traces["ours"]["y"] == ours[-1]["precision"]  # the other run's slider did not move
        assert page.locator(f"{slider} .step-label").text_content() == f"step {first['step']}"
        assert page.locator(f"{row} .pr-step").text_content() == f"step {first['step']}"
        screenshot(page, "pr_curves_first_step")

        page.uncheck("#run-list input[data-run='tbx_run']")
        wait_chart(page, "pr", "traces.length === 1")
        assert [t["run"] for t in chart(page, "pr")] == ["ours"]
        assert page.locator(row).count() == 0 and page.locator(slider).count() == 0
        page.uncheck("#run-list input[data-run='ours']")
        page.wait_for_function("() => !document.querySelector(\".pr-card[data-tag='pr']\")", timeout=10000)
        assert page.locator(".pane[data-plugin=pr_curves] .empty-state").is_visible()
        page.check("#run-list input[data-run='tbx_run']")
        page.check("#run-list input[data-run='ours']")
        wait_chart(page, "pr", "traces.length === 2")
        assert not page.console_errors and not page.dialogs


def test_nan_and_infinity_travel_as_json_strings(tmp_path, client_for):
    with SummaryWriter(str(tmp_path / "odd")) as writer:
        writer.add_pr_curve_raw("odd", [3, np.inf, 1], [1, 1, np.nan], [0, 1, 1], [0, 0, 2],
                                [0.75, np.nan, 0.5], [1.0, -np.inf, 0.25], global_step=4, num_thresholds=3)
    response = client_for(tmp_path).get("/data/plugin/pr_curves/pr_curves?run=odd&tag=odd")
    assert response.status_code == 200

    def bare(token):
        raise AssertionError(f"bare {token} in the JSON")

    [entry] = json.loads(response.data, parse_constant=bare)["odd"]
    assert entry["precision"] == [0.75, "NaN", 0.5] and entry["recall"] == [1.0, "-Infinity", 0.25]
    assert entry["true_positives"] == [3, "Infinity", 1] and entry["false_positives"] == [1, 1, "NaN"]
    assert entry["thresholds"] == [0.0, 0.5, 1.0] and entry["step"] == 4


@pytest.mark.browser
def test_hostile_run_and_tag_names_show_as_text(page, tmp_path):
    run, tag = "<b>bold</b> %{y} &amp;", "<img src=x onerror=alert(1)>/pr"
    with SummaryWriter(str(tmp_path / run)) as writer:
        writer.add_pr_curve(tag, [1, 0, 1, 0], [0.9, 0.4, 0.6, 0.1], 0, num_thresholds=5)
    with serve(tmp_path, "--reload_interval", "0") as url:
        page.goto(url + "#pr_curves")
        wait_chart(page, tag, "traces.length === 1")
        box = page.locator(".pr-card .js-plotly-plot .nsewdrag").bounding_box()
        page.mouse.move(box["x"] + box["width"] * 0.5 / 1.04, box["y"] + box["height"] * (1 - 1.02 / 1.04))
        page.wait_for_selector(".pr-card .hoverlayer .hovertext", timeout=5000)
        hover = page.locator(".pr-card .hoverlayer .hovertext").first.text_content()
        assert hover.startswith(run + " · step 0"), hover
        assert page.locator(".pr-card .card-title").text_content() == tag
        assert page.locator(".pr-card .pr-run .run-name").text_content() == run
        assert page.locator(".pr-card img, .pr-card b, .pr-sliders b").count() == 0
        screenshot(page, "pr_curves_hostile_names")
        assert not page.console_errors and not page.dialogs
