"""Histograms: TensorBoard's routes over the provider's [k, 3] buckets.

Every writer's form (TF1 HistogramProto, TF2 [k, 3] tensors, tensorboardX) arrives here already
normalized by the data layer. Long series are thinned to `downsample_to` steps (default 500, like
TensorBoard's reservoir) spread evenly over the run, first and last step always kept.
"""
from __future__ import annotations

from flask import Blueprint, request

from board_server.jsonutil import float_list, json_error, json_response
from board_server.plugins.common import run_and_tag, tag_listing
from board_server.plugins.series import even_indices

NAME = "histograms"
TAB_NAME = "Histograms"
DEFAULT_STEPS = 500
MAX_STEPS = 10_000


def is_active(provider) -> bool:
    return bool(provider.tags(NAME))


def sampled_points(provider):
    """(points, None) for the request's run/tag/downsample_to, or (None, error response)."""
    run, tag, error = run_and_tag()
    if error is not None:
        return None, error
    try:
        limit = min(MAX_STEPS, max(1, int(request.args.get("downsample_to", DEFAULT_STEPS))))
    except ValueError:
        return None, json_error("downsample_to must be an integer", 400)
    points = provider.histograms(run, tag)
    if points is None:
        return None, json_error(f"no histogram series for run {run!r}, tag {tag!r}", 404)
    return [points[i] for i in even_indices(len(points), limit)], None


def create_blueprint(provider) -> Blueprint:
    bp = Blueprint(NAME, __name__)

    @bp.route("/tags")
    def tags():
        return json_response(tag_listing(provider, NAME))

    @bp.route("/histograms")
    def histograms():
        points, error = sampled_points(provider)
        if error is not None:
            return error
        return json_response([[p.wall_time, p.step, [float_list(row) for row in p.buckets]] for p in points])

    return bp
