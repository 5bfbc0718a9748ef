"""Series math shared by dashboards: TensorBoard's debiased EMA and extreme-keeping downsampling."""
from __future__ import annotations

from itertools import accumulate

import numpy as np


def smooth(values: np.ndarray, weight: float) -> np.ndarray:
    """TensorBoard's smoothing: an EMA over the finite points, debiased by 1 - weight**n.

    Non-finite points pass through unchanged and do not enter the average; a constant series
    is returned as is (no debiasing wobble).
    """
    values = np.asarray(values, dtype=np.float64)
    if weight <= 0 or values.size == 0:
        return values.copy()
    finite = np.isfinite(values)
    out = values.copy()
    y = values[finite]
    if y.size == 0 or (finite.all() and np.all(y == y[0])):
        return out
    ema = np.fromiter(accumulate(y.tolist(), lambda last, v: last * weight + (1 - weight) * v, initial=0.0),
                      dtype=np.float64, count=y.size + 1)[1:]
    debias = 1.0 - weight ** np.arange(1, y.size + 1, dtype=np.float64)
    out[finite] = ema / debias
    return out


def downsample_indices(values: np.ndarray, points: int) -> np.ndarray:
    """Indices of at most ~`points` samples: in each of points/2 equal index buckets, the min and the
    max (and the first non-finite value, if any); the first and last points are always kept."""
    n = values.size
    if n <= points:
        return np.arange(n)
    buckets = max(1, points // 2)
    size = -(-n // buckets)
    padded = np.concatenate([values, np.full(buckets * size - n, np.nan)]).reshape(buckets, size)
    nan = ~np.isfinite(padded)
    low = np.argmin(np.where(nan, np.inf, padded), axis=1)
    high = np.argmax(np.where(nan, -np.inf, padded), axis=1)
    base = np.arange(buckets) * size
    picks = [base + low, base + high]
    has_bad = nan.any(axis=1)
    has_bad[-1] = nan[-1, : n - base[-1]].any()  # padding is not data
    if has_bad.any():
        picks.append((base + np.argmax(nan, axis=1))[has_bad])
    keep = np.unique(np.concatenate([*picks, [0, n - 1]]))
    return keep[keep < n]


def even_indices(n: int, limit: int) -> np.ndarray:
    """At most `limit` evenly spread indices of range(n), always including the first and the last."""
    if n <= limit:
        return np.arange(n)
    if limit <= 1:
        return np.array([n - 1])
    return np.unique(np.round(np.linspace(0, n - 1, limit)).astype(np.int64))
