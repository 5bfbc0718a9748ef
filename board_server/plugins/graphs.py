"""Graphs: TensorBoard's /info and /graph routes, plus the hierarchy + layout the page draws.

The parsed graph and its scope hierarchy are cached per (run, tag, conceptual) and rebuilt only when
the provider hands back a different graph object; laid-out levels are cached inside the hierarchy, so
expanding one scope re-lays only that scope and its ancestors. Bad graphs (cycles, dangling inputs, no
nodes, too many nodes) come back as drawable JSON with "warnings", or a JSON error — never a traceback.
"""
from __future__ import annotations

import logging
import threading

from flask import Blueprint, Response, request
from google.protobuf import text_format

from board_server.graphs import hierarchy as hier
from board_server.graphs import sources
from board_server.jsonutil import json_error, json_response
from board_server.plugins.common import IdentityLRU

NAME = "graphs"
TAB_NAME = "Graphs"
MAX_EXPANDED = 500
MAX_PARAM = 4096
MAX_LIST = 500  # inputs/outputs/children listed in node details
MAX_ATTR_TEXT = 600
CACHE_SIZE = 8
log = logging.getLogger("board.graphs")

_GRAPH_PLUGINS = ("graphs", "graph_run_metadata_graph", "graph_run_metadata", "run_metadata", "graph_keras_model")


def is_active(provider) -> bool:
    return any(provider.tags(plugin) for plugin in _GRAPH_PLUGINS)


class _Graphs:
    """(run, tag, conceptual) -> (GraphModel, Hierarchy), rebuilt when the provider's raw objects change."""

    def __init__(self, provider) -> None:
        self.provider = provider
        self.built = IdentityLRU(CACHE_SIZE)
        self.lock = threading.Lock()  # one build at a time; also guards the hierarchies' level caches

    def _raw(self, run: str, tag: str | None, conceptual: bool) -> tuple:
        p = self.provider
        if conceptual:
            return (p.keras_model(run, tag) if tag else None,)
        if tag and tag != sources.RUN_GRAPH_TAG:
            return p.run_metadata(run, tag), p.keras_model(run, tag), p.graph(run)
        return (p.graph(run),) + tuple(p.run_metadata(run, t) for t in p.run_tags(run, "run_metadata"))

    def get(self, run: str, tag: str | None, conceptual: bool):
        key, raw = (run, tag, conceptual), self._raw(run, tag, conceptual)
        with self.lock:
            hit = self.built.get(key, raw)
            if hit is not None:
                return hit
            model = sources.load(self.provider, run, tag, conceptual)
            if model is None:
                return None, None
            h = hier.Hierarchy(model.graph, model.shapes)
            h.warnings[:0] = model.warnings
            return self.built.put(key, raw, (model, h))


def _params():
    run = request.args.get("run")
    tag = request.args.get("tag") or None
    conceptual = request.args.get("conceptual", "").lower() in ("1", "true", "yes")
    if run is None:
        return None, None, None, json_error("run is required", 400)
    if len(run) > MAX_PARAM or (tag and len(tag) > MAX_PARAM):
        return None, None, None, json_error("run or tag too long", 400)
    return run, tag, conceptual, None


def _attr_text(value) -> str:
    text = text_format.MessageToString(value, as_one_line=True)
    return text if len(text) <= MAX_ATTR_TEXT else text[:MAX_ATTR_TEXT] + "…"


def _node_details(h: hier.Hierarchy, name: str, scope_first: bool = False) -> dict | None:
    i = None if scope_first and h.scope_of(name) is not None else h.index.get(name)
    if i is None and name.endswith(")"):  # a renamed op's id "a/b/(b)"
        head, _, _ = name.rpartition("/")
        i = h.index.get(head) if name == f"{head}/({head.rsplit('/', 1)[-1]})" else None
    if i is None:
        sid = h.scope_of(name)
        if sid is None or sid == 0:
            return None
        children = h.children[sid]
        details = {"name": name, "id": name, "kind": h.kind(h.n + sid), "count": int(h.scope_count[sid]),
                   "children": [{"id": h.item_name(c), "label": h.item_label(c), "kind": h.kind(c),
                                 "op": h.ops[c] if c < h.n else h.series.get(c - h.n)} for c in children[:MAX_LIST]],
                   "more_children": max(0, len(children) - MAX_LIST), "scopes": h.ancestors(h.n + sid)}
        if h.is_series(sid):  # its members are ops: list their real names
            details.update(op=h.series[sid], members=[h.names[c] for c in children[:MAX_LIST]])
        return details
    node = h.nodes[i]
    inputs = []
    for text in list(node.input)[:MAX_LIST]:
        src, slot, control = hier.split_input(text)
        shapes = h.shapes.get(src) or []
        inputs.append({"name": src, "slot": slot, "control": control, "missing": src not in h.index,
                       "shape": shapes[slot] if not control and 0 <= slot < len(shapes) else ""})
    out_edges = [int(e) for e in (h.esrc == i).nonzero()[0][:MAX_LIST]]
    outputs = [{"name": h.names[h.edst[e]], "slot": int(h.eslot[e]), "control": bool(h.econtrol[e])}
               for e in out_edges]
    attrs = {key: _attr_text(node.attr[key]) for key in sorted(node.attr) if key != "_output_shapes"}
    return {"name": node.name, "id": h.hier_name(i), "kind": "op", "op": node.op, "device": node.device,
            "attrs": attrs, "inputs": inputs, "outputs": outputs, "shapes": h.shapes.get(node.name, []),
            "scopes": h.ancestors(i), "series": h.series_of(i), "aux": bool(h.aux_op[i])}


def _expanded_param() -> set[str] | None:
    names: list[str] = []
    for value in request.args.getlist("expanded"):
        names.extend(part for part in value.split(",") if part)
    if len(names) > MAX_EXPANDED or any(len(n) > MAX_PARAM for n in names):
        return None
    return set(names)


def _visible_ids(h: hier.Hierarchy, ops, expanded: set[str]) -> set[str]:
    """Drawn items (and their enclosing open boxes) that contain any of `ops`."""
    open_items = {h.n + h.scope_id[s] for s in expanded if s in h.scope_id}
    out: set[str] = set()
    for op in ops:
        for item in h.paths[op].tolist():
            if item < 0:
                break
            out.add(h.item_name(item))
            if item >= h.n and item not in open_items:
                break
    return out


def create_blueprint(provider) -> Blueprint:
    bp = Blueprint(NAME, __name__)
    cache = _Graphs(provider)

    def graph_or_error():
        run, tag, conceptual, error = _params()
        if error is not None:
            return None, None, error
        try:
            model, h = cache.get(run, tag, conceptual)
        except sources.GraphSourceError as e:
            return None, None, json_error(str(e), 422)
        if model is None:
            what = f"tag {tag!r}" if tag else "a graph"
            return None, None, json_error(f"run {run!r} has no {what}", 404)
        return model, h, None

    @bp.errorhandler(Exception)
    def unexpected(e):
        if hasattr(e, "code") and isinstance(getattr(e, "code"), int) and e.code < 500:
            return json_error(str(e), e.code)
        log.exception("graphs route failed")
        return json_error(f"could not draw this graph: {type(e).__name__}: {e}", 422)

    @bp.route("/info")
    def info():
        return json_response(sources.info(provider))

    @bp.route("/graph")
    def graph():
        model, _h, error = graph_or_error()
        if error is not None:
            return error
        return Response(text_format.MessageToString(model.graph), mimetype="text/x-protobuf")

    @bp.route("/layout")
    def layout():
        model, h, error = graph_or_error()
        if error is not None:
            return error
        expanded = _expanded_param()
        if expanded is None:
            return json_error(f"at most {MAX_EXPANDED} expanded scopes", 400)
        with cache.lock:  # the hierarchy's level cache is shared
            payload = hier.view(h, expanded)
        payload["kind"] = model.kind
        payload["has_shapes"] = bool(h.shapes)
        return json_response(payload)

    @bp.route("/node")
    def node():
        _model, h, error = graph_or_error()
        if error is not None:
            return error
        name = request.args.get("name", "")
        details = _node_details(h, name, request.args.get("kind") in ("scope", "series"))
        if details is None:
            return json_error(f"no node or scope named {name!r}", 404)
        return json_response(details)

    @bp.route("/search")
    def search():
        _model, h, error = graph_or_error()
        if error is not None:
            return error
        query = request.args.get("q", "")[:MAX_PARAM]
        if not query:
            return json_response({"matches": []})
        hits = h.search(query)
        return json_response({"matches": [{"name": h.names[i], "id": h.hier_name(i), "op": h.ops[i],
                                           "scopes": h.ancestors(i), "series": h.series_of(i)} for i in hits]})

    @bp.route("/trace")
    def trace():
        _model, h, error = graph_or_error()
        if error is not None:
            return error
        expanded = _expanded_param() or set()
        details = request.args.get("name", "")
        i = h.index.get(details)
        if i is None:
            return json_error(f"no op named {details!r}", 404)
        ops = h.upstream(i)
        return json_response({"name": details, "ops": len(ops), "ids": sorted(_visible_ids(h, ops, expanded))})

    return bp
