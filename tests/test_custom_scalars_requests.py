"""What a request can ask of the custom scalars routes.

Regexes: matched against tags on the server, where `re` holds the GIL, so a pattern that backtracks without
bound (`(a+)+X`) would stall every request (and any web page can send one with an <img> to localhost). Such
patterns are answered as invalid; what people write matches exactly as Python's `re.match` (TensorBoard's).
Margin charts: value, lower and upper at the same steps, each bound read at the value's step.
"""
from __future__ import annotations

import re

import numpy as np
import pytest

from board_server.app import create_app
from board_server.plugins.custom_scalars import compile_regex
from conftest import FIXTURES, loaded_provider
from summaries.summary.writer import SummaryWriter

LOGDIR = FIXTURES.parent / "custom_scalars" / "logdir"
EVERYDAY = ["loss/.*", ".*acc.*", "acc/train", "(train|valid)/loss", "loss/(train|valid)", r"[a-z]+/\w+",
            ".*loss.*|.*acc.*", "x{2,5}", "(?:lo)*ss", "(.*a){2}", "price/(mid|low)$"]
BACKTRACKING = ["(a+)+X", "(.*.*.*)*X", "(.*.*.*.*)*X", "(a|a)*X", "(a|aa)*X", r"(\d+\.)*X", "(a*)*",
                "((a)+)+", ".*a.*a.*X", "(.*a){3}X", "(?:x+x+)+y", "(?=(a+)+)X"]


@pytest.fixture(scope="module")
def client():
    with loaded_provider(LOGDIR) as provider:
        yield create_app(provider).test_client()


@pytest.mark.parametrize("pattern", EVERYDAY)
def test_everyday_patterns_match_as_python_re(client, pattern):
    assert compile_regex(pattern) is not None
    tags = client.get("/data/plugin/scalars/tags").get_json()["a"]
    answer = client.get("/data/plugin/custom_scalars/scalars", query_string={"run": "a", "tag": pattern}).get_json()
    assert answer["regex_valid"] and sorted(answer["tag_to_events"]) == sorted(
        t for t in tags if re.match(pattern, t))


@pytest.mark.parametrize("pattern", BACKTRACKING)
def test_backtracking_patterns_are_answered_as_invalid(client, pattern):
    assert compile_regex(pattern) is None
    assert client.get("/data/plugin/custom_scalars/scalars", query_string={"run": "a", "tag": pattern}
                      ).get_json() == {"regex_valid": False, "tag_to_events": {}}
    answer = client.post("/data/plugin/custom_scalars/batch", json={"runs": ["a"], "regexes": [pattern]}).get_json()
    assert answer == {"series": [], "invalid": [pattern]}


@pytest.mark.parametrize("route,body", [("custom_scalars", '{"runs": ["a"], "regexes": ["acc"], "points": 1e999}'),
                                        ("scalars", '{"series": [{"run": "a", "tag": "acc/train"}], "points": 1e999}'),
                                        ("scalars", '{"series": [], "smoothing": Infinity, "points": Infinity}')])
def test_infinite_numbers_in_a_batch_are_a_400_not_a_500(client, route, body):
    response = client.post(f"/data/plugin/{route}/batch", data=body, content_type="application/json")
    assert response.status_code == 400 and "points" in response.get_json()["error"]


def test_margin_bounds_are_read_at_the_values_steps(tmp_path):
    """lower lacks every 7th step and has one spike; upper is written in reverse step order: the answer
    keeps the value's extremes and the spike's step, and each bound is the one written at that step."""
    n = 5000
    rng = np.random.default_rng(3)
    value = rng.normal(size=n)
    lower, upper = value - 1 - rng.random(n), value + 1 + rng.random(n)
    lower[2346] = -50.0
    with SummaryWriter(str(tmp_path / "run")) as w:
        for step in range(n):
            w.add_scalar("v", value[step], step)
            if step % 7:
                w.add_scalar("lo", lower[step], step)
        for step in reversed(range(n)):
            w.add_scalar("hi", upper[step], step)
    with loaded_provider(tmp_path) as provider:
        client = create_app(provider).test_client()
        [got] = client.post("/data/plugin/custom_scalars/margin", json={
            "runs": ["run", "nope"], "series": [{"value": "v", "lower": "lo", "upper": "hi"}], "points": 200,
        }).get_json()["series"]
        assert got["run"] == "run" and got["index"] == 0 and got["total"] == n
        steps = got["step"]
        assert steps == sorted(steps) and 2346 in steps and int(np.argmin(value)) in steps and len(steps) < 700
        np.testing.assert_allclose(got["value"], value[steps].astype(np.float32), rtol=1e-6)
        for step, lo, hi in zip(steps, got["lower"], got["upper"]):
            assert (lo is None) == (step % 7 == 0) and np.isclose(hi, np.float32(upper[step]))
            assert lo is None or np.isclose(lo, np.float32(lower[step]))
        for body in [{"runs": ["run"], "series": [{"value": "v"}]}, {"runs": "run", "series": []},
                     {"runs": ["run"] * 3000, "series": [{"value": "v", "lower": "lo", "upper": "hi"}]}]:
            assert client.post("/data/plugin/custom_scalars/margin", json=body).status_code == 400, body
