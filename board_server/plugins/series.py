"""Series math shared by dashboards: TensorBoard's debiased EMA and extreme-keeping downsampling."""
from __future__ import annotations

import functools
import math

import numpy as np

from board_server.jsonutil import float_list

MAX_POINTS = 100_000  # points per series a chart may ask for


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
    ema = _ema(y, weight)
    out[finite] = ema / (1.0 - _powers(weight, y.size + 1)[1:])
    return out


@functools.lru_cache(maxsize=16)
def _powers(weight: float, n: int) -> np.ndarray:
    """weight**0 .. weight**(n-1), cached: every series of a batch shares one smoothing weight."""
    out = np.empty(n)
    out[0] = 1.0
    out[1:] = weight
    return np.cumprod(out)


def _ema(y: np.ndarray, weight: float) -> np.ndarray:
    """s[t] = weight * s[t-1] + (1 - weight) * y[t], s[-1] = 0, without a Python loop per point.

    Within a block, s[t] = weight**(t+1) * s_in + (1 - weight) * weight**t * cumsum(y * weight**-k)[t];
    blocks are short enough that weight**-k stays below 1e100 (no overflow), and the rounding error
    stays about eps * max|y| / (1 - weight), as in the sequential loop.
    """
    out = np.empty_like(y)
    block = max(1, min(y.size, int(100 * math.log(10) / -math.log(weight))))
    decay = _powers(weight, block)
    grow = 1.0 / decay
    carry = 0.0
    for start in range(0, y.size, block):
        seg = y[start:start + block]
        m = seg.size
        out[start:start + m] = weight * decay[:m] * carry + (1 - weight) * decay[:m] * np.cumsum(seg * grow[:m])
        carry = out[start + m - 1]
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


def batch_params(body: dict) -> tuple[int, float]:
    """A chart batch request's `points` (2..MAX_POINTS, default 1000) and `smoothing` weight (0..0.999);
    ValueError with the message to answer (JSON numbers such as 1e999 parse to infinity)."""
    try:
        points = min(MAX_POINTS, max(2, int(body.get("points", 1000))))
        weight = min(0.999, max(0.0, float(body.get("smoothing", 0.0))))
    except (TypeError, ValueError, OverflowError):
        raise ValueError("points must be an integer and smoothing a number") from None
    return points, weight


def drawn(series, points: int, weight: float) -> dict:
    """What a chart draws of one series: smoothed on every point, then downsampled keeping extremes."""
    smoothed = smooth(series.values, weight)
    keep = downsample_indices(series.values, points)
    return {"total": int(series.steps.size), "step": series.steps[keep].tolist(),
            "wall": series.wall_times[keep].tolist(), "value": float_list(series.values[keep]),
            "smoothed": float_list(smoothed[keep])}
