"""TensorBoard's smoothing and our downsampling, against straightforward reference loops."""
from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings, strategies as st

from board_server.plugins.series import downsample_indices, smooth


def reference_smooth(values, weight):
    """TensorBoard's debiased EMA, written as its dashboard loop reads."""
    finite = [v for v in values if math.isfinite(v)]
    constant = all(v == values[0] for v in values) and len(finite) == len(values)
    last, n, out = 0.0, 0, []
    for v in values:
        if constant or not math.isfinite(v):
            out.append(v)
            continue
        last = last * weight + (1 - weight) * v
        n += 1
        out.append(last / (1 - weight ** n))
    return out


@given(st.lists(st.floats(allow_nan=True, allow_infinity=True, width=32), max_size=60),
       st.floats(min_value=0.0, max_value=0.99))
@settings(max_examples=300, deadline=None)
def test_smoothing_matches_tensorboard(values, weight):
    got = smooth(np.array(values, dtype=np.float64), weight).tolist()
    want = reference_smooth(values, weight) if weight > 0 else values
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert (math.isnan(g) and math.isnan(w)) or g == w or abs(g - w) <= 1e-9 * max(1.0, abs(w))


@given(st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=1, max_size=3000),
       st.integers(min_value=2, max_value=400))
@settings(max_examples=200, deadline=None)
def test_downsampling_keeps_extremes_ends_and_non_finite(values, points):
    arr = np.array(values)
    keep = downsample_indices(arr, points)
    assert list(keep) == sorted(set(keep.tolist())) and keep[0] == 0 and keep[-1] == len(values) - 1
    assert len(keep) <= max(len(values) if len(values) <= points else 0, 3 * (points // 2) + 2)
    finite = arr[np.isfinite(arr)]
    kept = arr[keep]
    if finite.size:
        assert finite.max() in kept and finite.min() in kept
    if (~np.isfinite(arr)).any():
        assert (~np.isfinite(kept)).any()


def test_json_encoders_agree():
    """orjson (when installed) and the standard library give the same JSON values, bit for bit."""
    import json
    import math

    import numpy as np

    from board_server import jsonutil
    rng = np.random.default_rng(1)
    values = np.concatenate([rng.normal(size=500) * 10.0 ** rng.integers(-30, 30, 500),
                             [0.0, -0.0, 1e-320, 1.7976931348623157e308, 5e-324],
                             rng.normal(size=50).astype(np.float32)])
    payload = {"v": jsonutil.float_list(np.append(values, [math.nan, math.inf])), "s": "손실 <x>", "n": [2**62, -1]}
    fast, slow = json.loads(jsonutil.dumps(payload)), json.loads(jsonutil._dumps_stdlib(payload))
    assert fast == slow
    assert [math.copysign(1, v) for v in fast["v"][:-2]] == [math.copysign(1, v) for v in values]


def test_thinned_list_is_bounded_even_and_keeps_first_and_latest():
    from dataclasses import dataclass

    from board_server.data.run_data import ThinnedList

    @dataclass
    class P:
        step: int

    for n in (1, 7, 999, 1000, 1001, 1002, 2001, 4096, 12345):
        series = ThinnedList(limit=500)
        for i in range(n):
            series.append(P(i))
            assert series.items[-1].step == i  # the latest is always there
        steps = [p.step for p in series]
        assert len(steps) <= 1001 and steps[0] == 0 and steps == sorted(set(steps))
        body = steps[:-1] if n > 1 and (n - 1) % series.stride else steps
        assert len(set(np.diff(body).tolist())) <= 1  # evenly spaced (the held latest point aside)
        if n > 1000:
            assert len(steps) >= 500
    series = ThinnedList(limit=500)
    for i in range(3000):
        series.append(P(i))
    assert series.purge_from(1500) > 0 and max(p.step for p in series) < 1500


def test_smoothing_long_series_matches_the_sequential_loop():
    rng = np.random.default_rng(3)
    values = np.cumsum(rng.normal(size=20000)) + 1e3 * rng.random()
    values[[5, 7000, 15000]] = [math.nan, math.inf, -math.inf]
    for weight in (0.01, 0.6, 0.95, 0.999):
        got = smooth(values, weight)
        want = np.array(reference_smooth(values.tolist(), weight))
        finite = np.isfinite(want)
        assert np.array_equal(finite, np.isfinite(got))
        np.testing.assert_allclose(got[finite], want[finite], rtol=1e-9, atol=1e-9)
