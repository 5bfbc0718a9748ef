"""Scalars: TensorBoard's routes (every point, JSON or CSV) and a batch route for the dashboard.

The batch route smooths each series on its full resolution (TensorBoard's debiased EMA), then
downsamples to the requested number of points keeping every bucket's extremes, so a one-step
spike is never hidden and the smoothed line does not depend on how many points are drawn.
"""
from __future__ import annotations

import csv
import io

import numpy as np
from flask import Blueprint, Response, request

from board_server.jsonutil import (STREAM_CHUNK, csv_rows, json_error, json_response, series_rows,
                                   series_rows_chunks)
from board_server.plugins.common import IdentityLRU, run_and_tag, tag_listing
from board_server.plugins.series import batch_params, drawn

NAME = "scalars"
TAB_NAME = "Scalars"
MAX_BATCH = 500  # series per batch request
DRAWN_CACHE = 1024  # batch results kept (each ~1,000 points)
STREAM_MIN = 50_000  # longer series are streamed chunk by chunk; shorter ones sent in one piece


def _csv_chunks(series):
    yield b"Wall time,Step,Value\r\n"
    for start in range(0, series.steps.size, STREAM_CHUNK):
        part = slice(start, start + STREAM_CHUNK)
        fast = csv_rows(series.wall_times[part], series.steps[part], series.values[part])
        if fast is not None:
            yield fast
            continue
        out = io.StringIO()
        csv.writer(out).writerows(zip(series.wall_times[part].tolist(), series.steps[part].tolist(),
                                      series.values[part].astype(np.float64).tolist()))
        yield out.getvalue().encode()


def is_active(provider) -> bool:
    return bool(provider.tags(NAME))


def create_blueprint(provider) -> Blueprint:
    bp = Blueprint(NAME, __name__)
    cache = IdentityLRU(DRAWN_CACHE)  # the page asks for the same charts on every reload tick

    @bp.route("/tags")
    def tags():
        return json_response(tag_listing(provider, NAME))

    @bp.route("/scalars")
    def scalars():
        run, tag, error = run_and_tag()
        if error is not None:
            return error
        series = provider.scalars(run, tag)
        if series is None:
            return json_error(f"no scalar series for run {run!r}, tag {tag!r}", 404)
        if request.args.get("format") == "csv":
            return Response(_csv_chunks(series), mimetype="text/csv",
                            headers={"Content-Disposition": "attachment; filename=scalars.csv"})
        if series.steps.size <= STREAM_MIN:  # one write: lowest latency for the common case
            return Response(series_rows(series.wall_times, series.steps, series.values), mimetype="application/json")
        return Response(series_rows_chunks(series.wall_times, series.steps, series.values), mimetype="application/json")

    @bp.route("/batch", methods=["POST"])
    def batch():
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not isinstance(body.get("series"), list):
            return json_error('expected JSON {"series": [{"run", "tag"}...], "points", "smoothing"}', 400)
        if len(body["series"]) > MAX_BATCH:
            return json_error(f"at most {MAX_BATCH} series per request", 400)
        try:
            points, weight = batch_params(body)
        except ValueError as e:
            return json_error(str(e), 400)
        out = []
        for item in body["series"]:
            if not isinstance(item, dict):
                return json_error("each series is {run, tag}", 400)
            run, tag = str(item.get("run")), str(item.get("tag"))
            series = provider.scalars(run, tag)
            if series is None:
                out.append({"run": run, "tag": tag, "missing": True})
                continue
            key = (run, tag, points, weight)
            entry = cache.get(key, (series,))
            if entry is None:
                entry = cache.put(key, (series,), drawn(series, points, weight))
            out.append({"run": run, "tag": tag, **entry})
        return json_response({"series": out})

    return bp
