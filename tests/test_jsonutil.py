"""The scalars route's rows: the same numbers and JSON types as TensorBoard's (Python json) output."""
from __future__ import annotations

import json
import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from board_server import jsonutil

SPECIAL = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def reference(wall, steps, values) -> list:
    """What TensorBoard prints, parsed: float wall time, int step, float64 of the float32 value."""
    return [[float(w), int(s), float(v)] for w, s, v in zip(wall.tolist(), steps.tolist(), values.tolist())]


def parsed(text: bytes) -> list:
    return [[SPECIAL.get(x, x) if isinstance(x, str) else x for x in row] for row in json.loads(text)]


def same_rows(got: list, want: list) -> bool:
    def same(a, b):
        if type(a) is not type(b):
            return False
        return (math.isnan(a) and math.isnan(b)) if isinstance(a, float) and math.isnan(b) else a == b
    return len(got) == len(want) and all(len(g) == 3 and all(map(same, g, w)) for g, w in zip(got, want))


walls = st.one_of(st.floats(allow_nan=False, allow_infinity=False),  # whole numbers included
                  st.integers(0, 2**40).map(float), st.floats(1e9, 2e9))
float32s = st.floats(width=32)  # NaN and infinities included
int64s = st.one_of(st.integers(-2**63, 2**63 - 1), st.integers(-5, 10**6), st.sampled_from([2**53 - 1, 2**53]))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(walls, int64s, float32s), max_size=40))
def test_rows_equal_python_json_for_any_series(rows):
    wall = np.array([r[0] for r in rows], np.float64)
    steps = np.array([r[1] for r in rows], np.int64)
    values = np.array([r[2] for r in rows], np.float32)
    text = jsonutil.series_rows(wall, steps, values)
    assert same_rows(parsed(text), reference(wall, steps, values))


def test_fast_path_is_taken_for_ordinary_series_and_matches():
    n = 20_000
    wall = 1.7e9 + np.arange(n, dtype=np.float64) * np.float64(0.37)
    wall[::7] = np.floor(wall[::7])  # whole-second wall times print as "1700000000.0"
    steps = np.arange(n, dtype=np.int32) * 3 - 100
    values = (np.sin(np.arange(n)) * 1e-3).astype(np.float32)
    if jsonutil.orjson is not None:
        assert jsonutil._rows_from_matrix(wall, steps, values) is not None
    assert same_rows(parsed(jsonutil.series_rows(wall, steps, values)), reference(wall, steps, values))
    values[5] = np.nan  # a NaN anywhere takes the list path and is still printed as "NaN"
    assert json.loads(jsonutil.series_rows(wall, steps, values))[5][2] == "NaN"
