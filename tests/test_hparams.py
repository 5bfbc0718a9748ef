"""HParams: what `add_hparams` writes and what the routes serve (the page: tests/test_hparams_browser.py).

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
from conftest import FIXTURES, loaded_provider, tb_multiplexer
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
