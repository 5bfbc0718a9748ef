"""PR Curves: TensorBoard's routes over the provider's [6, num_thresholds] PR tensors.

Rows of a tensor: TP, FP, TN, FN, precision, recall, one column per threshold i/(n-1). As
TensorBoard does, each step's curve drops its tail of thresholds where TP + FP (as integers) is 0:
precision is undefined there. Series are thinned to `downsample_to` steps (default 100, TensorBoard's
sampling for this plugin), first and last step always kept, the same in both data routes so the
step slider and the curves agree.
"""
from __future__ import annotations

import math

import numpy as np
from flask import Blueprint, request

from board_server.jsonutil import encode_float, float_list, json_error, json_response
from board_server.plugins.common import tag_listing
from board_server.plugins.series import even_indices

NAME = "pr_curves"
TAB_NAME = "PR Curves"
DEFAULT_STEPS = 100
MAX_STEPS = 10_000
MAX_RUNS = 1_000  # runs per request
TP, FP, TN, FN, PRECISION, RECALL = range(6)


def is_active(provider) -> bool:
    return bool(provider.tags(NAME))


def _count(value: float):
    """A count as TensorBoard sends it (an integer, truncated); NaN/Inf as the JSON-safe strings."""
    return int(value) if math.isfinite(value) else encode_float(value)


def pr_entry(step: int, wall_time: float, array: np.ndarray) -> dict:
    """TensorBoard's JSON entry for one step's curve."""
    data = np.asarray(array, dtype=np.float64)
    whole = np.trunc(np.nan_to_num(data[[TP, FP]], nan=0.0, posinf=0.0, neginf=0.0))
    positive = np.flatnonzero(whole.sum(axis=0) != 0)
    end = int(positive[-1]) + 1 if positive.size else 1  # TensorBoard keeps at least the first threshold
    n = data.shape[1]
    return {"wall_time": wall_time, "step": step,
            "precision": float_list(data[PRECISION, :end]), "recall": float_list(data[RECALL, :end]),
            "true_positives": [_count(v) for v in data[TP, :end].tolist()],
            "false_positives": [_count(v) for v in data[FP, :end].tolist()],
            "true_negatives": [_count(v) for v in data[TN, :end].tolist()],
            "false_negatives": [_count(v) for v in data[FN, :end].tolist()],
            "thresholds": np.linspace(0.0, 1.0, n)[:end].tolist()}


def _well_formed(array) -> bool:
    return isinstance(array, np.ndarray) and array.ndim == 2 and array.shape[0] == 6 and array.shape[1] >= 1 \
        and np.issubdtype(array.dtype, np.number)


def _limit():
    """(downsample_to, None) or (None, error response)."""
    try:
        return min(MAX_STEPS, max(1, int(request.args.get("downsample_to", DEFAULT_STEPS)))), None
    except ValueError:
        return None, json_error("downsample_to must be an integer", 400)


def _points(provider, run: str, tag: str, limit: int):
    """The run's well-formed PR points of `tag`, thinned; None when the run has no such PR curve tag."""
    if tag not in provider.run_tags(run, NAME):
        return None
    points = [p for p in (provider.tensors(run, tag) or []) if _well_formed(p.array)]
    return [points[i] for i in even_indices(len(points), limit)]


def create_blueprint(provider) -> Blueprint:
    bp = Blueprint(NAME, __name__)

    @bp.route("/tags")
    def tags():
        return json_response(tag_listing(provider, NAME))

    @bp.route("/pr_curves")
    def pr_curves():
        runs, tag = request.args.getlist("run"), request.args.get("tag")
        if not runs:
            return json_error("No runs provided when fetching PR curve data (give one or more run=...)", 400)
        if not tag:
            return json_error("No tag provided when fetching PR curve data (give tag=...)", 400)
        if len(runs) > MAX_RUNS:
            return json_error(f"at most {MAX_RUNS} runs per request", 400)
        limit, error = _limit()
        if error is not None:
            return error
        out = {}
        for run in runs:
            points = _points(provider, run, tag, limit)
            if points is None:
                return json_error(f"No PR curves could be found for run {run!r} and tag {tag!r}", 404)
            out[run] = [pr_entry(p.step, p.wall_time, p.array) for p in points]
        return json_response(out)

    @bp.route("/available_time_entries")
    def available_time_entries():
        """{run: [{step, wall_time}]}: the steps of `tag` if given, else of each run's first PR tag."""
        limit, error = _limit()
        if error is not None:
            return error
        wanted = request.args.get("tag")
        out = {}
        for run, run_tags in provider.tags(NAME).items():
            tag = wanted if wanted is not None else min(run_tags, default=None)
            if tag is None or tag not in run_tags:
                continue
            out[run] = [{"step": p.step, "wall_time": p.wall_time} for p in _points(provider, run, tag, limit)]
        return json_response(out)

    return bp
