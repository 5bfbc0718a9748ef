"""Distributions: each histogram compressed to the values at fixed percentiles over steps.

The compression is TensorBoard's: basis points of the normal distribution's -inf, -1.5σ, -1σ,
-0.5σ, 0, +0.5σ, +1σ, +1.5σ, +inf, located by linear interpolation inside the bucket where the
cumulative count crosses them, so our bands match TensorBoard's for the same data.
"""
from __future__ import annotations

import numpy as np
from flask import Blueprint

from board_server.jsonutil import encode_float, json_response
from board_server.plugins.common import tag_listing
from board_server.plugins.histograms import sampled_points

NAME = "distributions"
TAB_NAME = "Distributions"
BASIS_POINTS = (0, 668, 1587, 3085, 5000, 6915, 8413, 9332, 10000)


def is_active(provider) -> bool:
    return bool(provider.tags("histograms"))


def compress(buckets: np.ndarray, bps=BASIS_POINTS) -> list[tuple[int, float]]:
    """[(basis point, value)] for [k, 3] buckets (left, right, count)."""
    with np.errstate(all="ignore"):  # infinite edges or counts give inf/NaN values, sent as such
        return _compress(buckets, bps)


def _compress(buckets: np.ndarray, bps) -> list[tuple[int, float]]:
    buckets = np.asarray(buckets, dtype=np.float64).reshape(-1, 3)
    if buckets.shape[0] == 0:
        return [(bp, 0.0) for bp in bps]
    lowest, highest = buckets[0, 0], buckets[-1, 1]
    counts, right = buckets[:, 2], buckets[:, 1]
    total = counts.sum()
    cumulative = np.cumsum(counts * bps[-1] / (total if total else 1.0))
    out = []
    for bp in bps:
        i = int(np.searchsorted(cumulative, bp, side="right"))
        # Skip empty buckets: the crossing is in the first bucket that adds weight.
        while i < len(cumulative) and cumulative[i] == (cumulative[i - 1] if i else 0.0):
            i += 1
        if i >= len(cumulative):
            break
        before = cumulative[i - 1] if i else 0.0
        left = lowest if i == 0 or before == 0 else max(right[i - 1], lowest)
        top = min(right[i], highest)
        out.append((bp, float(left + (bp - before) * (top - left) / (cumulative[i] - before))))
    out.extend((bp, float(highest)) for bp in bps[len(out):])
    return out


def create_blueprint(provider) -> Blueprint:
    bp = Blueprint(NAME, __name__)

    @bp.route("/tags")
    def tags():
        return json_response(tag_listing(provider, "histograms"))

    @bp.route("/distributions")
    def distributions():
        points, error = sampled_points(provider)
        if error is not None:
            return error
        return json_response([[p.wall_time, p.step, [[b, encode_float(v)] for b, v in compress(p.buckets)]]
                              for p in points])

    return bp
