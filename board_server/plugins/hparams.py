"""HParams: the sessions of a hyperparameter search, their hparams and final metrics, as our own JSON.

Reads TensorBoard's hparams plugin data (`_hparams_/experiment`, `_hparams_/session_start_info`,
`_hparams_/session_end_info`), as written by tensorboardX / PyTorch `add_hparams` (each session a
sub-run holding all three plus its metric scalars) and by TF2's `hp.hparams_config` + `hp.hparams` /
Keras (the experiment in the root run, each session a run with `train/` and `validation/` sub-runs).

GET /data/plugin/hparams/experiment ->
    {"hparams": [{"name", "displayName", "description", "type": "number"|"string"|"bool"|"unset",
                  "domain"?: {"values": [...]} | {"min", "max"}, "differs": bool}],
     "metrics": [{"tag", "group", "key", "displayName", "description"}],
     "source": "experiment" | "inferred", "warnings": [str]}
  From an experiment summary when a run has one (the root run's first, else the union of all
  of them, in run order: tensorboardX writes one per session); else inferred as TensorBoard does: the
  union of the sessions' hparams (a type fitting every value; string/bool hparams get their distinct
  values, numbers their range) and, as metrics, every scalar tag of the session runs and their sub-runs
  (group = the sub-run's path below its session). An experiment naming no metric gets inferred ones.
  Order as TensorBoard's backend (2.15+) answers: hparams whose values differ across sessions first, then by
  name (`differs` is the proto's field for a declared experiment, so in practice: by name); declared metrics in
  their declared order, inferred ones by (tag, group).
GET /data/plugin/hparams/sessions ->
    [{"name": run, "group": group_name, "hparams": {name: number|string|bool|null},
      "metrics": {key: {"value", "step", "wall_time"}}, "status": "success"|"failure"|"running"|"unknown",
      "start_time": float|null, "end_time": float|null}]
  key is "<group>/<tag>" (or the tag when the group is empty); each metric is the last value of
  scalar `tag` in run `<session>/<group>`. Floats that are NaN/Inf travel as "NaN"/"Infinity"/"-Infinity".
"""
from __future__ import annotations

import json
import math
import posixpath

from flask import Blueprint
from google.protobuf.message import DecodeError

from board_server.jsonutil import encode_float, json_response
from summaries.proto import hparams_pb2 as hp
from summaries.summary.hparams import EXPERIMENT_TAG, SESSION_END_INFO_TAG as SESSION_END_TAG
from summaries.summary.hparams import SESSION_START_INFO_TAG as SESSION_START_TAG

HPARAMS_PREFIX = EXPERIMENT_TAG.rpartition("/")[0] + "/"  # `_hparams_/`: the plugin's own tags, never metrics

NAME = "hparams"
TAB_NAME = "HParams"
ROOT = "."
_TYPES = {hp.DATA_TYPE_UNSET: "unset", hp.DATA_TYPE_STRING: "string", hp.DATA_TYPE_BOOL: "bool",
          hp.DATA_TYPE_FLOAT64: "number"}
_STATUS = {hp.STATUS_UNKNOWN: "unknown", hp.STATUS_SUCCESS: "success", hp.STATUS_FAILURE: "failure",
           hp.STATUS_RUNNING: "running"}


def _parsed(provider) -> tuple[dict[str, dict[str, hp.HParamsPluginData]], list[str]]:
    """run -> tag -> decoded plugin data, and a warning per content that does not decode."""
    out: dict[str, dict[str, hp.HParamsPluginData]] = {}
    warnings = []
    for run, tags in provider.plugin_contents(NAME).items():
        for tag, content in tags.items():
            try:
                out.setdefault(run, {})[tag] = hp.HParamsPluginData.FromString(content)
            except DecodeError as e:
                warnings.append(f"run {run!r}, tag {tag!r}: not hparams plugin data ({e})")
    return out, warnings


def _value(v: hp.Value):
    """A google.protobuf.Value as JSON (NaN-safe numbers; lists and structs as their JSON text)."""
    kind = v.WhichOneof("kind")
    if kind == "number_value":
        return encode_float(v.number_value)
    if kind == "string_value":
        return v.string_value
    if kind == "bool_value":
        return v.bool_value
    if kind in ("list_value", "struct_value"):
        return json.dumps(_plain(v), allow_nan=True, sort_keys=True)
    return None


def _plain(v: hp.Value):
    kind = v.WhichOneof("kind")
    if kind == "list_value":
        return [_plain(x) for x in v.list_value.values]
    if kind == "struct_value":
        return {k: _plain(x) for k, x in v.struct_value.fields.items()}
    return getattr(v, kind) if kind and kind != "null_value" else None


def _type_of(v: hp.Value) -> int:
    return {"number_value": hp.DATA_TYPE_FLOAT64, "string_value": hp.DATA_TYPE_STRING,
            "bool_value": hp.DATA_TYPE_BOOL}.get(v.WhichOneof("kind"), hp.DATA_TYPE_UNSET)


def _metric_key(group: str, tag: str) -> str:
    return f"{group}/{tag}" if group else tag


def _join(session: str, group: str) -> str:
    if not group:
        return session
    return group if session == ROOT else f"{session}/{group}"


def _hparam_json(info: hp.HParamInfo) -> dict:
    out = {"name": info.name, "displayName": info.display_name or info.name, "description": info.description,
           "type": _TYPES.get(info.type, "unset"), "differs": info.differs}
    domain = info.WhichOneof("domain")
    if domain == "domain_discrete":
        out["domain"] = {"values": [_value(v) for v in info.domain_discrete.values]}
    elif domain == "domain_interval":
        out["domain"] = {"min": encode_float(info.domain_interval.min_value),
                         "max": encode_float(info.domain_interval.max_value)}
    return out


def _metric_json(group: str, tag: str, display: str = "", description: str = "") -> dict:
    key = _metric_key(group, tag)
    return {"tag": tag, "group": group, "key": key, "displayName": display or key, "description": description}


def _sessions(parsed) -> dict[str, hp.SessionStartInfo]:
    return {run: tags[SESSION_START_TAG].session_start_info for run, tags in parsed.items()
            if SESSION_START_TAG in tags and tags[SESSION_START_TAG].HasField("session_start_info")}


def _inferred_hparams(starts: dict[str, hp.SessionStartInfo]) -> list[dict]:
    """TensorBoard's rule: one type fitting every value (mixed types -> string), with the values' domain."""
    values: dict[str, list[hp.Value]] = {}
    for start in starts.values():
        for name, v in start.hparams.items():
            values.setdefault(name, []).append(v)
    out = []
    for name in sorted(values):
        kinds = {_type_of(v) for v in values[name]} - {hp.DATA_TYPE_UNSET}
        if not kinds:
            continue
        kind = kinds.pop() if len(kinds) == 1 else hp.DATA_TYPE_STRING
        info = {"name": name, "displayName": name, "description": "", "type": _TYPES[kind]}
        typed = [v for v in values[name] if _type_of(v) != hp.DATA_TYPE_UNSET]
        if kind == hp.DATA_TYPE_FLOAT64:
            numbers = [v.number_value for v in typed]
            info["domain"] = {"min": encode_float(min(numbers)), "max": encode_float(max(numbers))}
            info["differs"] = len({encode_float(x) for x in numbers}) > 1
        else:
            distinct = {str(_value(v)) if kind == hp.DATA_TYPE_STRING else v.bool_value for v in typed}
            info["domain"] = {"values": sorted(distinct, key=str)}
            info["differs"] = len(distinct) > 1
        out.append(info)
    return out


def _session_of(run: str, sessions) -> str | None:
    """The longest session run that is `run` or one of its parents."""
    path = run
    while path not in sessions:
        if path in ("", ROOT):
            return ROOT if ROOT in sessions else None
        path = posixpath.dirname(path)
    return path


def _inferred_metrics(provider, sessions) -> list[dict]:
    names = set()
    for run, tags in provider.tags("scalars").items():
        session = _session_of(run, sessions)
        if session is None:
            continue
        group = "" if run == session else (run if session == ROOT else run[len(session) + 1:])
        names.update((group, tag) for tag in tags if not tag.startswith(HPARAMS_PREFIX))
    return [_metric_json(group, tag) for group, tag in sorted(names, key=lambda gt: (gt[1], gt[0]))]


def experiment(provider, decoded=None) -> dict:
    """The hparams and metrics to show (see the module docstring); `decoded`: `_parsed(provider)` if at hand."""
    parsed, warnings = _parsed(provider) if decoded is None else decoded
    runs = sorted(parsed, key=lambda r: (r != ROOT, r))
    declared = [parsed[r][EXPERIMENT_TAG].experiment for r in runs
                if EXPERIMENT_TAG in parsed[r] and parsed[r][EXPERIMENT_TAG].HasField("experiment")]
    if declared and ROOT in parsed and EXPERIMENT_TAG in parsed[ROOT]:
        declared = declared[:1]
    hparams, metrics, seen_h, seen_m = [], [], set(), set()
    for exp in declared:
        for info in exp.hparam_infos:
            if info.name not in seen_h:
                seen_h.add(info.name)
                hparams.append(_hparam_json(info))
        for info in exp.metric_infos:
            if (info.name.group, info.name.tag) not in seen_m:
                seen_m.add((info.name.group, info.name.tag))
                metrics.append(_metric_json(info.name.group, info.name.tag, info.display_name, info.description))
    starts = _sessions(parsed)
    if not declared:
        hparams = _inferred_hparams(starts)
    hparams.sort(key=lambda h: (not h["differs"], h["name"]))  # TensorBoard's order (see the module docstring)
    if not metrics:
        metrics = _inferred_metrics(provider, set(starts))
    return {"hparams": hparams, "metrics": metrics, "source": "experiment" if declared else "inferred",
            "warnings": warnings}


def _last(provider, run: str, tag: str) -> dict | None:
    series = provider.scalars(run, tag)
    if series is None or series.steps.size == 0:
        return None
    return {"value": encode_float(float(series.values[-1])), "step": int(series.steps[-1]),
            "wall_time": float(series.wall_times[-1])}


def sessions(provider, metrics: list[dict] | None = None) -> list[dict]:
    """One entry per session run, with its hparams, status and last metric values."""
    decoded = _parsed(provider)
    parsed = decoded[0]
    if metrics is None:
        metrics = experiment(provider, decoded)["metrics"]
    out = []
    for run, start in sorted(_sessions(parsed).items()):
        end_data = parsed[run].get(SESSION_END_TAG)
        end = end_data.session_end_info if end_data is not None else None
        values = {}
        for m in metrics:
            last = _last(provider, _join(run, m["group"]), m["tag"])
            if last is not None:
                values[m["key"]] = last
        out.append({"name": run, "group": start.group_name, "hparams": {k: _value(v) for k, v in
                                                                         sorted(start.hparams.items())},
                    "metrics": values, "status": _STATUS.get(end.status, "unknown") if end else "unknown",
                    "start_time": _time(start.start_time_secs), "end_time": _time(end.end_time_secs if end else 0)})
    return out


def _time(seconds: float) -> float | None:
    return seconds if seconds and math.isfinite(seconds) else None


def is_active(provider) -> bool:
    return any(SESSION_START_TAG in tags for tags in provider.plugin_contents(NAME).values())


def create_blueprint(provider) -> Blueprint:
    bp = Blueprint(NAME, __name__)

    @bp.route("/experiment")
    def experiment_route():
        return json_response(experiment(provider))

    @bp.route("/sessions")
    def sessions_route():
        return json_response(sessions(provider))

    return bp
