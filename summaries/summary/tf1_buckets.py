"""TensorFlow 1's default histogram: the fixed bucket scheme and how a HistogramProto is emitted.

Facts reproduced (tensorflow/core/lib/histogram): limits are 1e-12 * 1.1**k up to 1e20 (built by
repeated multiplication in double), mirrored for negatives, with 0 and +-DBL_MAX; a value goes to
the first bucket whose limit is greater than it; sums are accumulated in double, in input order;
runs of empty buckets are merged into one entry carrying the run's last limit.
"""
from __future__ import annotations

import sys

import numpy as np

from summaries.proto import HistogramProto

DBL_MAX = sys.float_info.max


def _default_limits() -> np.ndarray:
    positive = []
    v = 1.0e-12
    while v < 1.0e20:
        positive.append(v)
        v *= 1.1
    negative = [-x for x in reversed(positive)]
    return np.array([-DBL_MAX, *negative, 0.0, *positive, DBL_MAX], dtype=np.float64)


DEFAULT_LIMITS = _default_limits()


def tf1_histogram(values) -> HistogramProto:
    """The HistogramProto TensorFlow 1 writes for `values` (any shape; flattened in C order)."""
    raw = np.asarray(values).ravel()
    v = raw.astype(np.float64, copy=False)
    proto = HistogramProto()
    if v.size:
        # Sorting in the input's own dtype is cheaper and exact: float32 -> float64 keeps the order.
        ordered = np.sort(raw if raw.dtype == np.float32 else v).astype(np.float64, copy=False)
        proto.min = float(ordered[0])
        proto.max = float(ordered[-1])
        proto.num = float(v.size)
        # TF adds value and value*value into two doubles in input order. cumsum adds in order too
        # (np.sum is pairwise); one complex cumsum runs both sums in one pass, each part rounded
        # exactly as its own double sum would be.
        both = np.empty(v.size, dtype=np.complex128)
        both.real, both.imag = v, v * v
        total = np.cumsum(both)[-1]
        proto.sum, proto.sum_squares = float(total.real), float(total.imag)
        # Bucket i holds [limit[i-1], limit[i]): counts are differences of "how many values < limit".
        # (Searching the 1.5k limits in the sorted values is ~10x faster than placing each value.)
        below = np.searchsorted(ordered, DEFAULT_LIMITS, side="left")
        below[-1] = v.size  # DBL_MAX itself belongs to the last bucket
        counts = np.diff(below, prepend=0)
    else:
        proto.min, proto.max = DBL_MAX, -DBL_MAX
        counts = np.zeros(DEFAULT_LIMITS.size, dtype=np.int64)
    limits, buckets = _merge_empty_runs(counts)
    proto.bucket_limit.extend(limits)
    proto.bucket.extend(buckets)
    return proto


def _merge_empty_runs(counts: np.ndarray) -> tuple[list[float], list[float]]:
    """Nonempty buckets as they are; each run of empty ones becomes one entry with the run's last limit."""
    nonzero = counts > 0
    # Keep bucket i if it is nonempty, or it is empty and the next one is not (or it is the last).
    keep = nonzero | np.append(nonzero[1:], True)
    idx = np.flatnonzero(keep)
    return DEFAULT_LIMITS[idx].tolist(), counts[idx].astype(np.float64).tolist()
