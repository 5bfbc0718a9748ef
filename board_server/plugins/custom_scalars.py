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
POST /margin {"runs": [...], "series": [{"value", "lower", "upper"}], "points"} -> {"series": [{run, index,
  total, step, wall, value, lower, upper}]}: a margin chart as drawn, per run and series (index into
  `series`) whose value tag the run has: the value's steps kept by its own extremes and by each bound's
  (so a spike of a bound shows too), every bound read at those same steps (null where it has none).
POST /batch {"runs": [...], "regexes": [...], "points", "smoothing"} -> {"series": [{run, tag, total, step,
  wall, value, smoothed}], "invalid": [regex...]}: what the page draws of a multiline chart, each matching
  series smoothed (TensorBoard's debiased EMA) on every point and downsampled keeping extremes, as the
  scalars dashboard draws it.
"""
from __future__ import annotations

import logging
import re

import numpy as np

from flask import Blueprint, Response, request
from google.protobuf.message import DecodeError

from board_server.jsonutil import dumps, float_list, json_error, json_response, series_rows_chunks
from board_server.plugins import scalars as scalars_plugin
from board_server.plugins.common import IdentityLRU
from board_server.plugins.series import batch_params, downsample_indices, drawn
from summaries.proto import layout_pb2
from summaries.summary.custom_scalars import CONFIG_TAG

try:  # the regex parser, to refuse patterns that backtrack without bound
    from re import _constants as sre, _parser as sre_parse  # Python 3.11+
except ImportError:  # pragma: no cover - Python 3.10
    import sre_constants as sre
    import sre_parse

NAME = "custom_scalars"
TAB_NAME = "Custom Scalars"
MAX_REGEX = 1000  # characters; a longer pattern is reported invalid
MAX_OPEN_REPEATS = 2  # unbounded repeats in a row (`.*acc.*`): a third made 0.2 s a 1,000-char tag, a fourth 36 s
MAX_RUNS = 500
MAX_REGEXES = 100  # per batch request
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


def _open_repeats(items, in_repeat: bool = False) -> int:
    """How many unbounded repeats a parsed pattern chains (the degree of its backtracking), or a number over
    MAX_OPEN_REPEATS when a repeat or an alternation sits inside an unbounded repeat (`(a+)+`, `(a|a)*`):
    those backtrack exponentially, and `re` holds the GIL, so one request would stall the whole server."""
    total = 0
    for op, av in items:
        if op in (sre.MAX_REPEAT, sre.MIN_REPEAT) or op is getattr(sre, "POSSESSIVE_REPEAT", None):
            lo, hi, sub = av
            unbounded = hi == sre.MAXREPEAT
            if in_repeat and (unbounded or hi > 1):
                return MAX_OPEN_REPEATS + 1
            inner = _open_repeats(sub, in_repeat or unbounded)
            total += unbounded + (inner * hi if inner and not unbounded else inner)  # (.*a){3} chains three
        elif op == sre.BRANCH:
            if in_repeat:
                return MAX_OPEN_REPEATS + 1
            total += max(_open_repeats(alt, in_repeat) for alt in av[1])
        elif op == sre.SUBPATTERN:
            total += _open_repeats(av[-1], in_repeat)
        elif op in (sre.ASSERT, sre.ASSERT_NOT):
            total += _open_repeats(av[1], in_repeat)
        elif op == sre.GROUPREF_EXISTS:
            total += max(_open_repeats(alt, in_repeat) for alt in av[1:] if alt is not None)
    return total


def compile_regex(text: str | None) -> re.Pattern | None:
    """TensorBoard's tag regex (matched from the start of a tag), or None when empty, invalid, or one that
    can backtrack without bound (see `_open_repeats`; TensorBoard runs any)."""
    if not text or len(text) > MAX_REGEX:
        return None
    try:
        pattern = re.compile(text)
        if _open_repeats(sre_parse.parse(text)) > MAX_OPEN_REPEATS:
            return None
        return pattern
    except (re.error, RecursionError, OverflowError):
        return None


def matching_tags(provider, run: str, regexes: list[re.Pattern]) -> list[str]:
    """The run's scalar tags any of `regexes` matches, sorted."""
    return sorted(t for t in provider.run_tags(run, scalars_plugin.NAME) if any(r.match(t) for r in regexes))


def margin_drawn(value, lower, upper, points: int) -> dict:
    """One margin series as drawn (see the module docstring): value, lower and upper at the same steps."""
    keep = [downsample_indices(value.values, points)]
    for bound in (lower, upper):
        if bound is not None:
            keep.append(np.flatnonzero(np.isin(value.steps, bound.steps[downsample_indices(bound.values, points)])))
    keep = np.unique(np.concatenate(keep))
    steps = value.steps[keep]

    def at(bound) -> list | None:
        if bound is None or bound.steps.size == 0:
            return None if bound is None else [None] * steps.size
        order = np.argsort(bound.steps, kind="stable")
        i = order[np.minimum(np.searchsorted(bound.steps, steps, sorter=order), order.size - 1)]
        return [v if hit else None for v, hit in zip(float_list(bound.values[i]), bound.steps[i] == steps)]
    return {"total": int(value.steps.size), "step": steps.tolist(), "wall": value.wall_times[keep].tolist(),
            "value": float_list(value.values[keep]), "lower": at(lower), "upper": at(upper)}


def create_blueprint(provider) -> Blueprint:
    bp = Blueprint(NAME, __name__)
    cache = IdentityLRU(scalars_plugin.DRAWN_CACHE)  # the page asks for the same charts on every reload tick

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
        return Response(_tag_to_events(run, matching_tags(provider, run, [regex])), mimetype="application/json")

    def _tag_to_events(run: str, tags: list[str]):
        """The answer a tag at a time, each series a chunk of points at a time (`tag=.*` on a big run)."""
        yield b'{"regex_valid":true,"tag_to_events":{'
        first = True
        for tag in tags:
            series = provider.scalars(run, tag)
            if series is None:
                continue
            yield (b"" if first else b",") + dumps(tag) + b":"
            yield from series_rows_chunks(series.wall_times, series.steps, series.values)
            first = False
        yield b"}}"

    @bp.route("/margin", methods=["POST"])
    def margin():
        body = request.get_json(silent=True)
        specs = body.get("series") if isinstance(body, dict) else None
        if not isinstance(specs, list) or not isinstance(body.get("runs"), list) or not all(
                isinstance(x, dict) and all(isinstance(x.get(k), str) for k in ("value", "lower", "upper"))
                for x in specs) or not all(isinstance(r, str) for r in body["runs"]):
            return json_error('expected JSON {"runs": [...], "series": [{"value", "lower", "upper"}], "points"}', 400)
        if len(body["runs"]) * len(specs) > MAX_SERIES:
            return json_error(f"at most {MAX_SERIES} run and series pairs per request", 400)
        try:
            points, _ = batch_params(body)
        except ValueError as e:
            return json_error(str(e), 400)
        out = []
        for run in body["runs"]:
            for index, spec in enumerate(specs):
                value = provider.scalars(run, spec["value"])
                if value is not None:
                    bounds = (provider.scalars(run, spec["lower"]), provider.scalars(run, spec["upper"]))
                    out.append({"run": run, "index": index, **margin_drawn(value, *bounds, points)})
        return json_response({"series": out})

    @bp.route("/batch", methods=["POST"])
    def batch():
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not isinstance(body.get("runs"), list) \
                or not isinstance(body.get("regexes"), list):
            return json_error('expected JSON {"runs": [...], "regexes": [...], "points", "smoothing"}', 400)
        runs, texts = body["runs"], body["regexes"]
        if len(runs) > MAX_RUNS or len(texts) > MAX_REGEXES:
            return json_error(f"at most {MAX_RUNS} runs and {MAX_REGEXES} regexes per request", 400)
        if not all(isinstance(r, str) for r in runs + texts):
            return json_error("runs and regexes must be strings", 400)
        try:
            points, weight = batch_params(body)
        except ValueError as e:
            return json_error(str(e), 400)
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
                key = (run, tag, points, weight)
                entry = cache.get(key, (series,))
                if entry is None:
                    entry = cache.put(key, (series,), drawn(series, points, weight))
                out.append({"run": run, "tag": tag, **entry})
        return json_response({"series": out, "invalid": [t for t, r in compiled if r is None]})

    return bp
