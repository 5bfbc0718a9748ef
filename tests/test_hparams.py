"""HParams: what `add_hparams` writes, what the routes serve, and the dashboard in a real browser.

Independent truth is the real `tensorboard` package: its hparams plugin data decoding, its own TF-free
builders (`hparams.summary_v2`, `hparams.metadata`) for a Keras/TF2-style logdir, and its HParams plugin
itself (TF-free, over its multiplexer data provider), whose `/experiment` and `/session_groups` answers our
routes must agree with.
"""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tensorboard.backend import application
from tensorboard.backend.event_processing import data_provider
from tensorboard.plugins import base_plugin
from tensorboard.plugins.hparams import api_pb2, hparams_plugin, metadata, plugin_data_pb2
from tensorboard.plugins.hparams import summary_v2 as tb_hp
from tensorboard.plugins.scalar import scalars_plugin
from werkzeug.test import Client
from werkzeug.wrappers import Response

from board_server.app import create_app
from conftest import FIXTURES, loaded_provider, screenshot, serve, tb_multiplexer
from summaries.proto import Summary
from summaries.summary.file_writer import FileWriter
from summaries.summary.writer import SummaryWriter

ALL_STATUSES = ["STATUS_UNKNOWN", "STATUS_SUCCESS", "STATUS_FAILURE", "STATUS_RUNNING"]


def _tensorboard(logdir):
    """TensorBoard's own HParams plugin (and the scalars plugin it reads metrics through) over `logdir`."""
    multiplexer = tb_multiplexer(logdir)
    provider = data_provider.MultiplexerDataProvider(multiplexer, str(logdir))
    context = base_plugin.TBContext(logdir=str(logdir), multiplexer=multiplexer, data_provider=provider,
                                    plugin_name_to_instance={})
    scalars = scalars_plugin.ScalarsPlugin(context)
    hparams = hparams_plugin.HParamsPlugin(context)
    context.plugin_name_to_instance.update(scalars=scalars, hparams=hparams)
    client = Client(application.TensorBoardWSGI([scalars, hparams], data_provider=provider), Response)

    def post(route, body):
        r = client.post(f"/data/plugin/hparams/{route}", data=json.dumps(body), content_type="application/json")
        assert r.status_code == 200, r.data
        return json.loads(r.data)
    experiment = post("experiment", {"experimentName": ""})
    groups = post("session_groups", {"experimentName": "", "startIndex": 0, "sliceSize": 1000,
                                     "allowedStatuses": ALL_STATUSES})["sessionGroups"]
    return multiplexer, experiment, groups


def _ours(logdir):
    with loaded_provider(logdir) as provider:
        client = create_app(provider).test_client()
        out = {}
        for route in ("experiment", "sessions"):
            r = client.get(f"/data/plugin/hparams/{route}")
            assert r.status_code == 200 and r.mimetype == "application/json", r.data
            out[route] = json.loads(r.data)
        listing = json.loads(client.get("/data/plugins_listing").data)
        return out["experiment"], out["sessions"], listing["hparams"]["enabled"]


def _agree(ours_experiment, ours_sessions, tb_experiment, tb_groups):
    """Our experiment/sessions say what TensorBoard's plugin says (names, types, domains, metric values)."""
    types = {"DATA_TYPE_FLOAT64": "number", "DATA_TYPE_STRING": "string", "DATA_TYPE_BOOL": "bool"}
    ours_h = {h["name"]: h for h in ours_experiment["hparams"]}
    # the same hparams in TensorBoard's order (differing first, then by name), metrics in its order too
    assert list(ours_h) == [h["name"] for h in tb_experiment["hparamInfos"]]
    assert [h["differs"] for h in ours_experiment["hparams"]] == [h.get("differs", False)
                                                                for h in tb_experiment["hparamInfos"]]
    for info in tb_experiment["hparamInfos"]:
        mine = ours_h[info["name"]]
        assert mine["type"] == types[info["type"]]
        if "domainDiscrete" in info:
            assert sorted(map(str, mine["domain"]["values"])) == sorted(map(str, info["domainDiscrete"]))
        if "domainInterval" in info:
            assert mine["domain"] == {"min": info["domainInterval"]["minValue"],
                                      "max": info["domainInterval"]["maxValue"]}
    assert [(m["group"], m["tag"]) for m in ours_experiment["metrics"]] == \
           [(m["name"].get("group", ""), m["name"]["tag"]) for m in tb_experiment["metricInfos"]]
    tb_sessions = {s["name"]: (g, s) for g in tb_groups for s in g["sessions"]}
    assert {s["name"] for s in ours_sessions} == set(tb_sessions)
    for mine in ours_sessions:
        group, session = tb_sessions[mine["name"]]
        assert mine["hparams"] == group["hparams"]
        assert mine["status"] == session["status"].replace("STATUS_", "").lower()
        want = {(m["name"].get("group", ""), m["name"]["tag"]): m for m in session["metricValues"]}
        got = {(m["group"], m["tag"]): mine["metrics"].get(m["key"]) for m in ours_experiment["metrics"]}
        assert {k for k, v in got.items() if v is not None} == set(want)
        for key, m in want.items():
            assert got[key]["value"] == pytest.approx(m["value"], rel=1e-7, abs=0)
            assert got[key]["step"] == m["trainingStep"] and got[key]["wall_time"] == m["wallTimeSecs"]


# (a) add_hparams -> TensorBoard's decoding, and TensorBoard's plugin agrees with our routes

def test_add_hparams_is_read_by_tensorboard(tmp_logdir):
    trials = [({"lr": 0.1, "layers": 3, "opt": "adam", "bn": True, "np_lr": np.float32(0.25)},
               {"hparam/accuracy": 0.5, "hparam/loss": 1.25}),
              ({"lr": 0.01, "layers": np.int64(5), "opt": "sgd", "bn": np.bool_(False), "np_lr": np.array(0.5)},
               {"hparam/accuracy": np.float64(0.75), "hparam/loss": 0.5})]
    with SummaryWriter(tmp_logdir) as writer:
        writer.add_hparams(*trials[0], run_name="first")
        writer.add_hparams(*trials[1], hparam_domain_discrete={"opt": ["adam", "sgd", "rmsprop"]},
                           run_name="second", global_step=7)
        with pytest.raises(ValueError, match="'bad'"):
            writer.add_hparams({"bad": [1, 2]}, {"m": 1.0}, run_name="never")
        with pytest.raises(ValueError, match="'opt'"):
            writer.add_hparams({"opt": "nadam"}, {}, hparam_domain_discrete={"opt": ["adam"]}, run_name="never")
    assert not (tmp_logdir / "never").exists()  # bad values raise before anything is written

    multiplexer, tb_experiment, tb_groups = _tensorboard(tmp_logdir)
    contents = multiplexer.PluginRunToTagToContent(metadata.PLUGIN_NAME)
    assert set(contents) == {"first", "second"}
    for run, (hparams, metrics) in zip(["first", "second"], trials):
        tags = contents[run]
        start = metadata.parse_session_start_info_plugin_data(tags[metadata.SESSION_START_INFO_TAG])
        decoded = {k: getattr(v, v.WhichOneof("kind")) for k, v in start.hparams.items()}
        want = {k: (bool(v) if isinstance(v, (bool, np.bool_)) else v if isinstance(v, str) else float(v))
                for k, v in hparams.items()}
        assert decoded == want
        assert {k: type(v) for k, v in decoded.items()} == {k: type(v) for k, v in want.items()}
        end = metadata.parse_session_end_info_plugin_data(tags[metadata.SESSION_END_INFO_TAG])
        assert end.status == api_pb2.STATUS_SUCCESS and end.end_time_secs >= start.start_time_secs > 0
        experiment = metadata.parse_experiment_plugin_data(tags[metadata.EXPERIMENT_TAG])
        assert [h.name for h in experiment.hparam_infos] == list(hparams)
        kinds = {h.name: h.type for h in experiment.hparam_infos}
        assert kinds == {"lr": api_pb2.DATA_TYPE_FLOAT64, "layers": api_pb2.DATA_TYPE_FLOAT64,
                         "opt": api_pb2.DATA_TYPE_STRING, "bn": api_pb2.DATA_TYPE_BOOL,
                         "np_lr": api_pb2.DATA_TYPE_FLOAT64}
        assert [m.name.tag for m in experiment.metric_infos] == list(metrics)
        for tag, value in metrics.items():  # the metrics are scalars of the session run, at global_step
            events = multiplexer.Tensors(run, tag)
            assert len(events) == 1 and events[0].step == (7 if run == "second" else 0)
            assert events[0].tensor_proto.float_val[0] == pytest.approx(float(value), rel=1e-7)
    second = metadata.parse_experiment_plugin_data(contents["second"][metadata.EXPERIMENT_TAG])
    opt = next(h for h in second.hparam_infos if h.name == "opt")
    assert list(opt.domain_discrete) == ["adam", "sgd", "rmsprop"]

    ours_experiment, ours_sessions, active = _ours(tmp_logdir)
    assert active and ours_experiment["source"] == "experiment"
    _agree(ours_experiment, ours_sessions, tb_experiment, tb_groups)


def test_builders_reject_bad_values():
    from summaries.summary import hparams as builders
    for bad in (None, [1], {"a": 1}, b"bytes", 1j, np.zeros(3), object()):
        with pytest.raises(ValueError, match="'k'"):
            builders.hparam_value("k", bad)
    with pytest.raises(ValueError, match="'x'"):
        builders.experiment({"x": 1.0}, [], hparam_domain_discrete={"x": ["a", "b"]})  # domain of another type
    with pytest.raises(ValueError, match="missing"):
        builders.experiment({"x": 1.0}, [], hparam_domain_discrete={"missing": [1.0]})
    with pytest.raises(ValueError, match="status"):
        builders.session_end("done")
    summary = builders.session_start({"a": 1}, group_name="g", start_time_secs=12.5)
    data = plugin_data_pb2.HParamsPluginData.FromString(summary.value[0].metadata.plugin_data.content)
    assert data.version == metadata.PLUGIN_DATA_VERSION and data.session_start_info.group_name == "g"
    assert data.session_start_info.start_time_secs == 12.5 and data.session_start_info.hparams["a"].number_value == 1


# (b) a Keras/TF2-style logdir written with TensorBoard's own builders

def _write_tb_summary(writer: FileWriter, tb_summary, step: int = 0) -> None:
    writer.add_summary(Summary.FromString(tb_summary.SerializeToString()), step)


def _session_end_pb(status):
    data = plugin_data_pb2.HParamsPluginData(session_end_info=plugin_data_pb2.SessionEndInfo(
        status=status, end_time_secs=1234.5))
    summary = tb_hp.summary_pb2.Summary()
    summary.value.add(tag=metadata.SESSION_END_INFO_TAG, metadata=metadata.create_summary_metadata(data),
                      tensor=metadata.NULL_TENSOR)
    return summary


def _keras_logdir(root):
    """Root run: hparams_config; sessions run-i with train/ and validation/ sub-runs of epoch scalars."""
    rng = np.random.default_rng(29)
    with FileWriter(root) as writer:
        _write_tb_summary(writer, tb_hp.hparams_config_pb(
            hparams=[tb_hp.HParam("lr", tb_hp.RealInterval(1e-3, 1e-1)),
                     tb_hp.HParam("units", tb_hp.Discrete([16, 32])),
                     tb_hp.HParam("optimizer", tb_hp.Discrete(["adam", "sgd"]))],
            metrics=[tb_hp.Metric("epoch_loss", group="validation", display_name="val loss"),
                     tb_hp.Metric("epoch_accuracy", group="train"),
                     tb_hp.Metric("epoch_accuracy", group="validation")]))
    truth = {}
    statuses = [api_pb2.STATUS_SUCCESS, api_pb2.STATUS_FAILURE, None]
    for i, (lr, units, opt) in enumerate([(0.01, 16, "adam"), (0.05, 32, "sgd"), (0.002, 32, "adam")]):
        session = f"run-{i}"
        with FileWriter(root / session) as writer:
            _write_tb_summary(writer, tb_hp.hparams_pb({"lr": lr, "units": units, "optimizer": opt},
                                                       trial_id=session))
            if statuses[i] is not None:
                _write_tb_summary(writer, _session_end_pb(statuses[i]))
        for split in ("train", "validation"):
            with SummaryWriter(root / session / split) as writer:
                for epoch in range(4 + i):
                    for tag in ("epoch_loss", "epoch_accuracy"):
                        value = float(rng.uniform(0, 1))
                        writer.add_scalar(tag, value, epoch, new_style=True)  # Keras writes tensor scalars
                        truth[(session, split, tag)] = (np.float32(value), epoch)
    return truth


def test_keras_layout_sessions_and_last_metrics(tmp_logdir):
    truth = _keras_logdir(tmp_logdir)
    _, tb_experiment, tb_groups = _tensorboard(tmp_logdir)
    experiment, sessions, active = _ours(tmp_logdir)
    assert active and experiment["source"] == "experiment"
    _agree(experiment, sessions, tb_experiment, tb_groups)
    assert [h["name"] for h in experiment["hparams"]] == ["lr", "optimizer", "units"]  # declared lr, units, opt.
    assert experiment["hparams"][0]["domain"] == {"min": 1e-3, "max": 1e-1}
    assert experiment["hparams"][1]["domain"] == {"values": ["adam", "sgd"]}
    assert {m["key"]: m["displayName"] for m in experiment["metrics"]} == {
        "validation/epoch_loss": "val loss", "train/epoch_accuracy": "train/epoch_accuracy",
        "validation/epoch_accuracy": "validation/epoch_accuracy"}
    by_name = {s["name"]: s for s in sessions}
    assert set(by_name) == {"run-0", "run-1", "run-2"}
    assert by_name["run-1"]["hparams"] == {"lr": 0.05, "units": 32.0, "optimizer": "sgd"}
    assert [by_name[f"run-{i}"]["status"] for i in range(3)] == ["success", "failure", "unknown"]
    assert by_name["run-0"]["group"] == "run-0"  # summary_v2's group name is the trial id
    for (session, split, tag), (value, step) in truth.items():
        if (split, tag) == ("train", "epoch_loss"):
            assert f"{split}/{tag}" not in by_name[session]["metrics"]  # not a declared metric
            continue
        got = by_name[session]["metrics"][f"{split}/{tag}"]
        assert got["value"] == float(value) and got["step"] == step


def test_inferred_experiment_without_config(tmp_logdir):
    """No experiment summary: hparams are the union of the sessions', metrics every scalar of session runs."""
    truth = _keras_logdir(tmp_logdir)
    for path in tmp_logdir.glob("events.out.tfevents.*"):
        path.unlink()  # drop the root run's hparams_config
    with FileWriter(tmp_logdir / "run-3") as writer:  # a session with a mixed-type and an extra hparam
        _write_tb_summary(writer, tb_hp.hparams_pb({"lr": "auto", "units": 8, "extra": True}))
    with SummaryWriter(tmp_logdir / "not-a-session") as writer:
        writer.add_scalar("unrelated", 1.0, 0)
    _, tb_experiment, tb_groups = _tensorboard(tmp_logdir)
    experiment, sessions, _ = _ours(tmp_logdir)
    assert experiment["source"] == "inferred"
    _agree(experiment, sessions, tb_experiment, tb_groups)
    kinds = {h["name"]: h["type"] for h in experiment["hparams"]}
    assert kinds == {"lr": "string", "units": "number", "optimizer": "string", "extra": "bool"}
    assert {m["key"] for m in experiment["metrics"]} == {f"{s}/{t}" for s in ("train", "validation")
                                                          for t in ("epoch_loss", "epoch_accuracy")}
    run0 = next(s for s in sessions if s["name"] == "run-0")
    value, step = truth[("run-0", "train", "epoch_loss")]
    assert run0["metrics"]["train/epoch_loss"] == {"value": float(value), "step": step,
                                                   "wall_time": run0["metrics"]["train/epoch_loss"]["wall_time"]}


# (c) the tensorboardX fixture

def test_tbx_fixture_session():
    logdir = FIXTURES / "tbx"
    _, tb_experiment, tb_groups = _tensorboard(logdir)
    experiment, sessions, active = _ours(logdir)
    assert active
    _agree(experiment, sessions, tb_experiment, tb_groups)
    run = "tbx_run/1795366977.4550238"
    assert [s["name"] for s in sessions] == [run]
    assert sessions[0]["hparams"] == {"lr": 0.01, "layers": 2, "opt": "adam"}
    assert sessions[0]["status"] == "success"
    expected = json.loads((logdir / "expected.json").read_text())["runs"][run]["scalars"]["hparam/accuracy"]
    step, wall, value = expected[-1]
    assert sessions[0]["metrics"]["hparam/accuracy"] == {"value": value, "step": step, "wall_time": wall}
    assert [m["key"] for m in experiment["metrics"]] == ["hparam/accuracy"]


def test_special_values_and_bad_contents(tmp_logdir):
    """NaN/Inf hparams and metrics travel as strings; undecodable plugin data is a warning, not a failure."""
    with SummaryWriter(tmp_logdir) as writer:
        writer.add_hparams({"x": float("nan"), "y": float("inf")}, {"m": float("-inf")}, run_name="s")
    with FileWriter(tmp_logdir / "broken") as writer:
        summary = Summary()
        value = summary.value.add(tag=metadata.SESSION_START_INFO_TAG)
        value.metadata.plugin_data.plugin_name = "hparams"
        value.metadata.plugin_data.content = b"\xff\xff\xff"
        writer.add_summary(summary, 0)
    experiment, sessions, active = _ours(tmp_logdir)
    assert active and len(experiment["warnings"]) == 1 and "broken" in experiment["warnings"][0]
    assert [s["name"] for s in sessions] == ["s"]
    assert sessions[0]["hparams"] == {"x": "NaN", "y": "Infinity"}
    assert sessions[0]["metrics"]["m"]["value"] == "-Infinity"
    assert not math.isnan(sessions[0]["start_time"])


def test_inactive_without_sessions(tmp_logdir):
    with SummaryWriter(tmp_logdir) as writer:
        writer.add_scalar("loss", 1.0, 0)
    experiment, sessions, active = _ours(tmp_logdir)
    assert not active and sessions == [] and experiment["hparams"] == []


class _FakeProvider:
    """Just what the hparams routes read: plugin contents, scalar tags and series."""

    def __init__(self, contents, scalars=None):
        self.contents, self.series = contents, scalars or {}

    def plugin_contents(self, plugin):
        return self.contents if plugin == "hparams" else {}

    def tags(self, plugin):
        out = {}
        for run, tag in self.series:
            out.setdefault(run, {})[tag] = None
        return out if plugin == "scalars" else {}

    def scalars(self, run, tag):
        return self.series.get((run, tag))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_routes_survive_damaged_plugin_data(data):
    """Byte-flipped and random plugin data: the answer is JSON (undecodable contents become warnings)."""
    from board_server.jsonutil import dumps
    from board_server.plugins import hparams as plugin
    from summaries.summary import hparams as builders
    good = [builders.experiment({"a": 1.0, "b": "x"}, ["m"], {"b": ["x", "y"]}),
            builders.session_start({"a": 2.0, "b": "y", "c": True}), builders.session_end("failure")]
    contents = {}
    for run in ("s1", "s1/sub", ".", "s2"):
        tags = {}
        for summary in good:
            raw = bytearray(summary.value[0].metadata.plugin_data.content)
            for _ in range(data.draw(st.integers(0, 3))):
                raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
            if data.draw(st.booleans()):
                raw = bytearray(data.draw(st.binary(max_size=40)))
            tags[summary.value[0].tag] = bytes(raw)
        contents[run] = tags
    from board_server.data.provider import ScalarSeries
    series = ScalarSeries(np.array([0, 1]), np.array([1.0, 2.0]), np.array([np.nan, np.inf]))
    provider = _FakeProvider(contents, {("s1", "m"): series, ("s1/sub", "m"): series, ("s2", "m"): series})
    experiment = json.loads(dumps(plugin.experiment(provider)))
    sessions = json.loads(dumps(plugin.sessions(provider)))
    assert isinstance(experiment["hparams"], list) and isinstance(sessions, list)
    assert plugin.is_active(provider) in (True, False)


# (d) the dashboard in a real browser

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
    import csv
    from conftest import get_json
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
