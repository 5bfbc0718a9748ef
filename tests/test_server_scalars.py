"""Scalars served over HTTP by the real CLI equal what real TensorBoard read from each fixture."""
from __future__ import annotations

import csv
import json
import math
import urllib.parse
import urllib.request

import pytest

from conftest import FIXTURES, expected, get_json, serve, wait_loaded

FIXTURE_NAMES = sorted(p.name for p in FIXTURES.iterdir() if (p / "expected.json").exists())


def _value(v):
    return {"nan": math.nan, "inf": math.inf, "-inf": -math.inf,
            "NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}.get(v, v) if isinstance(v, str) else v


def _same(a, b) -> bool:
    a, b = _value(a), _value(b)
    return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))


@pytest.fixture(scope="module", params=FIXTURE_NAMES)
def served(request):
    with serve(FIXTURES / request.param, "--reload_interval", "0") as url:
        get_json(url + "data/runs")
        yield request.param, url


def scalars(url, run, tag, fmt=None):
    params = {"run": run, "tag": tag, **({"format": fmt} if fmt else {})}
    with urllib.request.urlopen(url + "data/plugin/scalars/scalars?" + urllib.parse.urlencode(params)) as r:
        return r.read().decode("utf-8")


def test_runs_and_every_scalar_point(served):
    name, url = served
    wait_loaded(url)
    exp = expected(name)["runs"]
    assert sorted(get_json(url + "data/runs")) == sorted(exp)
    tags = get_json(url + "data/plugin/scalars/tags")
    for run, data in exp.items():
        want_tags = data.get("scalars", {})
        assert sorted(tags.get(run, {})) == sorted(want_tags), run
        for tag, points in want_tags.items():
            got = json.loads(scalars(url, run, tag))
            if isinstance(points, dict):  # summarized in expected.json: count, ends, sha of values
                assert len(got) == points["count"]
                assert [p[1] for p in got[:len(points["steps_first"])]] == points["steps_first"]
                continue
            assert [p[1] for p in got] == [p[0] for p in points], (run, tag)
            assert [p[0] for p in got] == [p[1] for p in points], (run, tag)  # wall times
            assert all(_same(g[2], w[2]) for g, w in zip(got, points)), (run, tag)


def test_csv_export_has_every_point(served):
    name, url = served
    wait_loaded(url)
    for run, data in expected(name)["runs"].items():
        for tag, points in data.get("scalars", {}).items():
            rows = scalars(url, run, tag, "csv").strip().splitlines()
            count = points["count"] if isinstance(points, dict) else len(points)
            assert rows[0] == "Wall time,Step,Value" and len(rows) == count + 1
            assert not any(" " in row for row in rows[1:])  # plain numbers, no padding
            # the same numbers as the JSON route (checked against TensorBoard's reading above)
            parsed = [[float(w), int(s), float(v)] for w, s, v in csv.reader(rows[1:])]
            json_points = json.loads(scalars(url, run, tag))
            assert len(parsed) == len(json_points) and all(
                a[:2] == b[:2] and _same(a[2], b[2]) for a, b in zip(parsed, json_points)), (run, tag)


def test_edge_cases_named_in_the_issue():
    with serve(FIXTURES / "edge_shared", "--reload_interval", "0") as url:
        wait_loaded(url)
        steps = lambda run: [p[1] for p in json.loads(scalars(url, run, "loss"))]  # noqa: E731
        assert steps("bad_data_crc") == [0, 1, 2, 3, 4, 6, 7, 8, 9]  # TensorBoard stops at 4
        assert steps("truncated_tail") == list(range(9))
        restarted = json.loads(scalars(url, "restarted", "loss"))
        assert len(restarted) == 150 and {p[2] for p in restarted if p[1] >= 50} == {2.0}
        status = get_json(url + "data/status")
        assert list(status["corruptions"]) == ["bad_data_crc"]
        assert "offset 248" in status["corruptions"]["bad_data_crc"][0]


def test_batch_route_downsamples_keeping_spikes_and_smooths_on_full_series(tmp_path):
    from summaries.summary.writer import SummaryWriter
    with SummaryWriter(tmp_path / "run") as w:
        for step in range(20000):
            w.add_scalar("loss", 1000.0 if step == 12345 else math.sin(step / 500), step)
    with serve(tmp_path, "--reload_interval", "0") as url:
        wait_loaded(url)

        def batch(points, smoothing):
            req = urllib.request.Request(url + "data/plugin/scalars/batch", method="POST",
                                         data=json.dumps({"series": [{"run": "run", "tag": "loss"}], "points": points,
                                                          "smoothing": smoothing}).encode(),
                                         headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(req) as r:
                return json.loads(r.read())["series"][0]

        few, many = batch(500, 0.9), batch(4000, 0.9)
        assert few["total"] == 20000 and len(few["step"]) <= 520 and len(many["step"]) <= 4020
        assert 12345 in few["step"] and 1000.0 in few["value"]  # the one-step spike survives
        assert few["step"][0] == 0 and few["step"][-1] == 19999
        # The smoothed value at a step does not depend on how many points were asked for.
        many_at = dict(zip(many["step"], many["smoothed"]))
        shared = [s for s in few["step"] if s in many_at]
        assert len(shared) > 50
        assert all(many_at[s] == sm for s, sm in zip(few["step"], few["smoothed"]) if s in many_at)


def test_batch_results_follow_new_data(tmp_logdir):
    """The batch route's per-series cache never serves a result older than the data."""
    from board_server.app import create_app
    from board_server.data.logdir import LogdirProvider
    from board_server.plugins.series import downsample_indices, smooth
    from summaries.summary.writer import SummaryWriter
    writer = SummaryWriter(str(tmp_logdir / "run"))
    for step in range(3000):
        writer.add_scalar("loss", math.sin(step / 50), step)
    writer.flush()
    provider = LogdirProvider([("", str(tmp_logdir))], reload_interval=0)
    provider.reload(first=True)
    client = create_app(provider).test_client()
    body = {"series": [{"run": "run", "tag": "loss"}], "points": 200, "smoothing": 0.9}
    for more in (0, 1000, 1):
        if more:
            start = provider.scalars("run", "loss").steps.size
            for step in range(start, start + more):
                writer.add_scalar("loss", math.cos(step / 7), step)
            writer.flush()
            provider.reload()
        first = client.post("/data/plugin/scalars/batch", json=body).get_json()["series"][0]
        again = client.post("/data/plugin/scalars/batch", json=body).get_json()["series"][0]
        series = provider.scalars("run", "loss")
        keep = downsample_indices(series.values, 200)
        assert first == again and first["total"] == series.steps.size
        assert first["step"] == series.steps[keep].tolist()
        assert first["smoothed"] == smooth(series.values, 0.9)[keep].tolist()
    writer.close()
