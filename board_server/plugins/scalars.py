"""Scalars: TensorBoard's routes (every point, JSON or CSV) and a batch route for the dashboard.

The batch route smooths each series on its full resolution (TensorBoard's debiased EMA), then
downsamples to the requested number of points keeping every bucket's extremes, so a one-step
spike is never hidden and the smoothed line does not depend on how many points are drawn.
"""
from __future__ import annotations

import csv
import io

from flask import Blueprint, Response, request

from board_server.jsonutil import float_list, json_error, json_response
from board_server.plugins.series import downsample_indices, smooth

NAME = "scalars"
TAB_NAME = "Scalars"
MAX_BATCH = 500  # series per batch request
MAX_POINTS = 100_000


def is_active(provider) -> bool:
    return bool(provider.tags(NAME))


def create_blueprint(provider) -> Blueprint:
    bp = Blueprint(NAME, __name__)

    @bp.route("/tags")
    def tags():
        return json_response({run: {tag: {"displayName": info.display_name, "description": info.description}
                                    for tag, info in sorted(tags.items())}
                              for run, tags in provider.tags(NAME).items()})

    @bp.route("/scalars")
    def scalars():
        run, tag = request.args.get("run"), request.args.get("tag")
        if run is None or tag is None:
            return json_error("run and tag are required", 400)
        series = provider.scalars(run, tag)
        if series is None:
            return json_error(f"no scalar series for run {run!r}, tag {tag!r}", 404)
        walls, steps, values = series.wall_times.tolist(), series.steps.tolist(), float_list(series.values)
        if request.args.get("format") == "csv":
            out = io.StringIO()
            writer = csv.writer(out)
            writer.writerow(["Wall time", "Step", "Value"])
            writer.writerows(zip(walls, steps, series.values.tolist()))
            return Response(out.getvalue(), mimetype="text/csv",
                            headers={"Content-Disposition": "attachment; filename=scalars.csv"})
        return json_response(list(zip(walls, steps, values)))

    @bp.route("/batch", methods=["POST"])
    def batch():
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not isinstance(body.get("series"), list):
            return json_error('expected JSON {"series": [{"run", "tag"}...], "points", "smoothing"}', 400)
        if len(body["series"]) > MAX_BATCH:
            return json_error(f"at most {MAX_BATCH} series per request", 400)
        try:
            points = min(MAX_POINTS, max(2, int(body.get("points", 1000))))
            weight = min(0.999, max(0.0, float(body.get("smoothing", 0.0))))
        except (TypeError, ValueError):
            return json_error("points must be an integer and smoothing a number", 400)
        out = []
        for item in body["series"]:
            if not isinstance(item, dict):
                return json_error("each series is {run, tag}", 400)
            run, tag = str(item.get("run")), str(item.get("tag"))
            series = provider.scalars(run, tag)
            if series is None:
                out.append({"run": run, "tag": tag, "missing": True})
                continue
            smoothed = smooth(series.values, weight)
            keep = downsample_indices(series.values, points)
            out.append({"run": run, "tag": tag, "total": int(series.steps.size),
                        "step": series.steps[keep].tolist(), "wall": series.wall_times[keep].tolist(),
                        "value": float_list(series.values[keep]), "smoothed": float_list(smoothed[keep])})
        return json_response({"series": out})

    return bp
