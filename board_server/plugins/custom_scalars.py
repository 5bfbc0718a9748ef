"""Custom Scalars: TensorBoard's routes over the runs' layouts and their scalars.

A run's layout is the last `custom_scalars__config__` summary it wrote (a DT_STRING scalar holding a
serialized Layout, as tensorboardX's `add_custom_scalars` writes it).

GET /layout -> the runs' layouts merged as TensorBoard merges them, as TensorBoard's JSON (every field,
  proto field names: {"version", "category": [{"title", "chart": [{"title", "multiline": {"tag": [...]}} |
  {"title", "margin": {"series": [{"value", "lower", "upper"}]}}], "closed"}]}), or {} when no run has
  one. Runs in sorted order: the first layout as it is; each later layout's categories append their
  charts (those not already there, compared as protos) to the category of the same title, or are
  appended as new categories. One deliberate difference: TensorBoard's merge forgets a category first
  seen in a later run, so a third run's charts for it are dropped; here they are merged too.
GET /scalars?run=R&tag=REGEX -> {"regex_valid": bool, "tag_to_events": {tag: [[wall_time, step, value]...]}}:
  every point of each scalar tag of run R that the regex matches from its start (Python `re.match`, as
  TensorBoard). An empty or invalid regex gives regex_valid false and no tags; a missing or unknown run
  is a JSON 400/404 naming it (TensorBoard answers an unknown run with no tags).
POST /batch {"runs": [...], "regexes": [...], "points", "smoothing"} -> {"series": [{run, tag, total, step,
  wall, value, smoothed}], "invalid": [regex...]}: what the page draws of a multiline chart, each matching
  series smoothed (TensorBoard's debiased EMA) on every point and downsampled keeping extremes, as the
  scalars dashboard draws it.
"""
from __future__ import annotations

import logging
import re

from flask import Blueprint, Response, request
from google.protobuf.message import DecodeError

from board_server.jsonutil import dumps, float_list, json_error, json_response, series_rows
from board_server.plugins.series import downsample_indices, smooth
from summaries.proto import layout_pb2

NAME = "custom_scalars"
TAB_NAME = "Custom Scalars"
CONFIG_TAG = "custom_scalars__config__"
SCALARS = "scalars"
MAX_REGEX = 1000  # characters; a longer pattern is reported invalid (bounds the work a request can ask)
MAX_RUNS = 500
MAX_POINTS = 100_000
MAX_SERIES = 2000  # matching series per batch request
log = logging.getLogger(__name__)


def is_active(provider) -> bool:
    return any(CONFIG_TAG in tags for tags in provider.tags(NAME).values())


def run_layout(provider, run: str) -> layout_pb2.Layout | None:
    """The last layout run `run` wrote, or None (none, or not a decodable Layout)."""
    points = provider.tensors(run, CONFIG_TAG)
    if not points:
        return None
    array = points[-1].array
    content = array.reshape(-1)[0] if getattr(array, "size", 0) >= 1 else None
    if isinstance(content, str):
        content = content.encode("utf-8")
    if not isinstance(content, bytes):
        return None
    try:
        return layout_pb2.Layout.FromString(content)
    except DecodeError as e:
        log.warning("run %r: %s is not a serialized Layout (%s)", run, CONFIG_TAG, e)
        return None


def merged_layout(provider) -> layout_pb2.Layout | None:
    """The runs' layouts merged (see the module docstring), or None when no run has one."""
    merged = None
    by_title: dict[str, layout_pb2.Category] = {}
    for run in sorted(provider.tags(NAME)):
        layout = run_layout(provider, run)
        if layout is None:
            continue
        if merged is None:
            merged = layout
            for category in merged.category:
                by_title[category.title] = category
            continue
        for category in layout.category:
            target = by_title.get(category.title)
            if target is None:
                target = merged.category.add()
                target.CopyFrom(category)
                by_title[category.title] = target
            else:
                target.chart.extend([c for c in category.chart if c not in target.chart])
    return merged


def _chart_json(chart: layout_pb2.Chart) -> dict:
    out = {"title": chart.title}
    kind = chart.WhichOneof("content")
    if kind == "multiline":
        out["multiline"] = {"tag": list(chart.multiline.tag)}
    elif kind == "margin":
        out["margin"] = {"series": [{"value": s.value, "lower": s.lower, "upper": s.upper}
                                    for s in chart.margin.series]}
    return out


def layout_json(layout: layout_pb2.Layout) -> dict:
    """A Layout as TensorBoard's JSON of it (every field without presence printed, proto names)."""
    return {"version": layout.version,
            "category": [{"title": c.title, "chart": [_chart_json(ch) for ch in c.chart], "closed": c.closed}
                         for c in layout.category]}


def compile_regex(text: str | None) -> re.Pattern | None:
    """TensorBoard's tag regex (matched from the start of a tag), or None when empty or invalid."""
    if not text or len(text) > MAX_REGEX:
        return None
    try:
        return re.compile(text)
    except (re.error, RecursionError, OverflowError):
        return None


def matching_tags(provider, run: str, regexes: list[re.Pattern]) -> list[str]:
    """The run's scalar tags any of `regexes` matches, sorted."""
    return sorted(t for t in provider.run_tags(run, SCALARS) if any(r.match(t) for r in regexes))


def create_blueprint(provider) -> Blueprint:
    bp = Blueprint(NAME, __name__)

    def known(run: str) -> bool:
        return any(info.name == run for info in provider.runs())

    @bp.route("/layout")
    def layout():
        merged = merged_layout(provider)
        return json_response({} if merged is None else layout_json(merged))

    @bp.route("/scalars")
    def scalars():
        run = request.args.get("run")
        if run is None:
            return json_error("run is required (give run=...)", 400)
        if not known(run):
            return json_error(f"no run {run!r}", 404)
        regex = compile_regex(request.args.get("tag"))
        if regex is None:
            return json_response({"regex_valid": False, "tag_to_events": {}})
        parts = []
        for tag in matching_tags(provider, run, [regex]):
            series = provider.scalars(run, tag)
            if series is not None:
                parts.append(dumps(tag) + b":" + series_rows(series.wall_times, series.steps, series.values))
        body = b'{"regex_valid":true,"tag_to_events":{' + b",".join(parts) + b"}}"
        return Response(body, mimetype="application/json")

    @bp.route("/batch", methods=["POST"])
    def batch():
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not isinstance(body.get("runs"), list) \
                or not isinstance(body.get("regexes"), list):
            return json_error('expected JSON {"runs": [...], "regexes": [...], "points", "smoothing"}', 400)
        runs, texts = body["runs"], body["regexes"]
        if len(runs) > MAX_RUNS or len(texts) > 100:
            return json_error(f"at most {MAX_RUNS} runs and 100 regexes per request", 400)
        if not all(isinstance(r, str) for r in runs + texts):
            return json_error("runs and regexes must be strings", 400)
        try:
            points = min(MAX_POINTS, max(2, int(body.get("points", 1000))))
            weight = min(0.999, max(0.0, float(body.get("smoothing", 0.0))))
        except (TypeError, ValueError):
            return json_error("points must be an integer and smoothing a number", 400)
        compiled = [(t, compile_regex(t)) for t in texts]
        regexes = [r for _, r in compiled if r is not None]
        out = []
        for run in runs:
            for tag in matching_tags(provider, run, regexes) if regexes else []:
                series = provider.scalars(run, tag)
                if series is None:
                    continue
                if len(out) >= MAX_SERIES:
                    return json_error(f"more than {MAX_SERIES} series match; narrow the chart's regexes", 400)
                keep = downsample_indices(series.values, points)
                out.append({"run": run, "tag": tag, "total": int(series.steps.size),
                            "step": series.steps[keep].tolist(), "wall": series.wall_times[keep].tolist(),
                            "value": float_list(series.values[keep]),
                            "smoothed": float_list(smooth(series.values, weight)[keep])})
        return json_response({"series": out, "invalid": [t for t, r in compiled if r is None]})

    return bp
