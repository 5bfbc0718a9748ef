"""Name-scope hierarchy of a GraphDef: scopes as boxes, edges bundled per level, auxiliary nodes set aside.

Items are ints: op i is item i, scope s (s >= 1; scope 0 is the root) is item n_ops + s. A series of
repeated ops (series.py) is a scope too, one level below its members' real scope, so expanding, edge
bundling, search paths and tracing treat it like any box; members keep their real names as ids. `paths[i, k]`
is the item op i belongs to at depth k+1 (its scope at that depth, or itself), -1 below it, so the edges
of any one level come from two column compares over the edge arrays — a 50k-node graph stays fast.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from summaries.proto import GraphDef
from board_server.graphs.series import find_series
from board_server.graphs.sources import node_output_shapes
from board_server.graphs.stubs import aux_stubs

MAX_DEPTH = 48  # deeper names keep their tail as one leaf label
AUX_OPS = frozenset({"NoOp", "SaveV2", "RestoreV2", "Save", "Restore", "SaveSlices", "MergeV2Checkpoints",
                     "ScalarSummary", "HistogramSummary", "ImageSummary", "AudioSummary", "AudioSummaryV2",
                     "TensorSummary", "TensorSummaryV2", "MergeSummary", "WriteSummary", "WriteScalarSummary",
                     "WriteHistogramSummary", "WriteImageSummary", "WriteAudioSummary", "FlushSummaryWriter",
                     "CreateSummaryFileWriter", "SummaryWriter", "VarIsInitializedOp", "IsVariableInitialized",
                     "Assert", "Print", "PrintV2"})
AUX_SCOPE = re.compile(r"^(save(_\d+)?|init(_\d+)?|report_uninitialized_\w+|Merge|summaries|.*_summary|"
                       r"IsInitialized|Initializer|Assign|Read)$")
MAX_WARNED = 5


def split_input(text: str) -> tuple[str, int, bool]:
    """'^a' -> ('a', -1, True); 'a:2' -> ('a', 2, False); 'a' -> ('a', 0, False)."""
    if text.startswith("^"):
        return text[1:], -1, True
    head, sep, tail = text.rpartition(":")
    if sep and tail.isdigit():
        return head, int(tail), False
    return text, 0, False


def _unique(base: str, taken: set[str]) -> str:
    """`base`, or `base #2`, `base #3`... whichever is not taken yet (then taken)."""
    uid, k = base, 1
    while uid in taken:
        k += 1
        uid = f"{base} #{k}"
    taken.add(uid)
    return uid


@dataclass
class Level:
    """The visible children of one scope and the bundled edges between them."""
    items: list[int]
    edges: list[tuple[int, int, int, int, int]]  # (src item, dst item, count, control count, first edge index)
    aux: set[int]


class Hierarchy:
    def __init__(self, graph: GraphDef, shapes: dict[str, list[str]] | None = None) -> None:
        self.warnings: list[str] = []
        nodes = []
        self.index: dict[str, int] = {}
        for node in graph.node:
            if node.name in self.index:
                self._warn("duplicate", f"duplicate node name {node.name!r} (only the first one is drawn)")
                continue
            self.index[node.name] = len(nodes)
            nodes.append(node)
        self.n = len(nodes)
        self.names = [node.name for node in nodes]
        self.ops = [node.op for node in nodes]
        self.nodes = nodes
        self.shapes = {name: node_output_shapes(node) for name, node in zip(self.names, nodes)
                       if "_output_shapes" in node.attr}
        for name, value in (shapes or {}).items():
            self.shapes.setdefault(name, value)
        self._build_scopes()
        self._build_edges(nodes)
        self._build_aux()
        self._check_cycles()

    def _check_cycles(self) -> None:
        from board_server.graphs.layout import remove_cycles
        edges = list(zip(self.esrc.tolist(), self.edst.tolist()))
        back = remove_cycles(self.n, edges)
        if back:
            k = min(back)
            self.warnings.append(f"the graph has cycles ({len(back)} edge(s) close one, e.g. "
                                 f"{self.names[edges[k][0]]!r} -> {self.names[edges[k][1]]!r}); drawn upward")

    def _warn(self, kind: str, text: str) -> None:
        counts = self.__dict__.setdefault("_warn_counts", {})
        counts[kind] = counts.get(kind, 0) + 1
        if counts[kind] <= MAX_WARNED:
            self.warnings.append(text)
        elif counts[kind] == MAX_WARNED + 1:
            self.warnings.append(f"more {kind} problems not listed")

    # -- scopes ----------------------------------------------------------------------------
    def _build_scopes(self) -> None:
        segments = []
        prefixes: set[str] = set()
        for name in self.names:
            parts = name.split("/")
            if len(parts) > MAX_DEPTH:
                parts = parts[:MAX_DEPTH - 1] + ["/".join(parts[MAX_DEPTH - 1:])]
            segments.append(parts)
            for k in range(1, len(parts)):
                prefixes.add("/".join(parts[:k]))
        for i, name in enumerate(self.names):
            if name in prefixes:  # both an op and a scope: the op goes inside, as "(leaf)"
                segments[i] = segments[i] + [f"({segments[i][-1]})"]
        self.scope_names = [""]
        self.scope_parent = [0]
        self.scope_depth = [0]
        scope_id: dict[str, int] = {}  # the root is not in it: a scope may be named "" ("/x")
        self.labels = []
        op_parent = np.zeros(self.n, dtype=np.int64)
        chains: list[list[int]] = []
        children: list[list[int]] = [[]]
        found = find_series(segments, self.ops)
        member_of = {i: k for k, group in enumerate(found) for i in group.members}
        series_sid: dict[int, int] = {}
        self.series: dict[int, str] = {}  # scope ids that are series -> their members' op type
        taken = prefixes | set(self.index) if found else set()  # series ids never equal a scope or op name
        for i, parts in enumerate(segments):
            parent = 0
            chain = []
            for k in range(1, len(parts)):
                key = "/".join(parts[:k])
                sid = scope_id.get(key)
                if sid is None:
                    sid = scope_id[key] = self._new_scope(key, parent, k, children)
                parent = sid
                chain.append(self.n + sid)
            k = member_of.get(i)
            if k is not None:  # a series is one more level, between the scope and its members
                sid = series_sid.get(k)
                if sid is None:
                    group = found[k]
                    uid = _unique(group.label if len(parts) == 1 else f"{group.scope}/{group.label}", taken)
                    sid = series_sid[k] = scope_id[uid] = self._new_scope(uid, parent, len(parts), children)
                    self.series[sid] = group.op
                parent = sid
                chain.append(self.n + sid)
            op_parent[i] = parent
            children[parent].append(i)
            chain.append(i)
            chains.append(chain)
            self.labels.append(parts[-1])
        for k, sid in series_sid.items():
            children[sid] = list(found[k].members)  # by number, not graph order
        self.scope_id = scope_id
        taken = set(scope_id)
        self.op_ids = []
        for i, label in enumerate(self.labels):  # ids unique across ops and scopes, whatever the names
            sid = int(op_parent[i])
            sid = self.scope_parent[sid] if sid in self.series else sid  # a member's id is its real name
            parent = self.scope_names[sid] if sid else None
            self.op_ids.append(_unique(label if parent is None else f"{parent}/{label}", taken))
        self.children = children
        self.op_parent = op_parent
        self.scope_parent = np.asarray(self.scope_parent, dtype=np.int64)
        depth = max((len(c) for c in chains), default=1)
        self.paths = np.full((self.n, depth), -1, dtype=np.int64)
        for i, chain in enumerate(chains):
            self.paths[i, :len(chain)] = chain
        # ops below each scope (a scope's count in the page)
        counts = np.zeros(len(self.scope_names), dtype=np.int64)
        flat = self.paths[self.paths >= self.n] - self.n
        np.add.at(counts, flat, 1)
        counts[0] = self.n
        self.scope_count = counts

    def _new_scope(self, name: str, parent: int, depth: int, children: list[list[int]]) -> int:
        sid = len(self.scope_names)
        self.scope_names.append(name)
        self.scope_parent.append(parent)
        self.scope_depth.append(depth)
        children.append([])
        children[parent].append(self.n + sid)
        return sid

    def is_series(self, sid: int) -> bool:
        return sid in self.series

    def kind(self, item: int) -> str:
        """What the page draws for an item: "op", "series" or "scope"."""
        return "op" if item < self.n else "series" if item - self.n in self.series else "scope"

    # -- edges -----------------------------------------------------------------------------
    def _build_edges(self, nodes) -> None:
        src, dst, slot, control = [], [], [], []
        self.outputs: list[list[int]] = [[] for _ in range(self.n)]
        for j, node in enumerate(nodes):
            for text in node.input:
                name, s, is_control = split_input(text)
                i = self.index.get(name)
                if i is None:
                    self._warn("dangling input", f"node {node.name!r} has input {text!r}, which is not in the "
                                                 "graph (not drawn)")
                    continue
                src.append(i)
                dst.append(j)
                slot.append(s)
                control.append(is_control)
        self.esrc = np.asarray(src, dtype=np.int64)
        self.edst = np.asarray(dst, dtype=np.int64)
        self.eslot = np.asarray(slot, dtype=np.int64)
        self.econtrol = np.asarray(control, dtype=bool)
        self.psrc = self.paths[self.esrc] if len(src) else np.zeros((0, self.paths.shape[1]), dtype=np.int64)
        self.pdst = self.paths[self.edst] if len(src) else np.zeros((0, self.paths.shape[1]), dtype=np.int64)
        # CSR of inputs, for tracing upstream
        order = np.argsort(self.edst, kind="stable")
        self.in_src = self.esrc[order]
        self.in_ptr = np.searchsorted(self.edst[order], np.arange(self.n + 1))

    def edge_shape(self, e: int) -> str:
        if self.econtrol[e]:
            return ""
        shapes = self.shapes.get(self.names[self.esrc[e]])
        slot = int(self.eslot[e])
        return shapes[slot] if shapes and 0 <= slot < len(shapes) else ""

    # -- auxiliary nodes ---------------------------------------------------------------------
    def _build_aux(self) -> None:
        aux_op = np.fromiter((op in AUX_OPS or op.endswith("Summary") for op in self.ops), dtype=bool,
                             count=self.n)
        self.aux_op = aux_op
        aux_count = np.zeros(len(self.scope_names), dtype=np.int64)
        rows = self.paths[aux_op]
        flat = rows[rows >= self.n] - self.n
        np.add.at(aux_count, flat, 1)
        self.aux_scope = (aux_count == self.scope_count) & (self.scope_count > 0)
        for i in np.flatnonzero(aux_op).tolist():  # a scope named after a summary op ("w/(w)") is that summary
            if self.ops[i].endswith("Summary") and self.names[i] == self.scope_names[self.op_parent[i]]:
                self.aux_scope[self.op_parent[i]] = True
        for sid, name in enumerate(self.scope_names):
            if sid and AUX_SCOPE.match(name.rsplit("/", 1)[-1]):
                self.aux_scope[sid] = True
        self.aux_scope[0] = False

    def is_aux_item(self, item: int) -> bool:
        return bool(self.aux_op[item]) if item < self.n else bool(self.aux_scope[item - self.n])

    # -- queries ---------------------------------------------------------------------------
    def item_name(self, item: int) -> str:
        if item < self.n:
            return self.hier_name(item)
        return self.scope_names[item - self.n]

    def hier_name(self, op: int) -> str:
        return self.op_ids[op]

    def item_label(self, item: int) -> str:
        return self.labels[item] if item < self.n else self.scope_names[item - self.n].rsplit("/", 1)[-1]

    def scope_of(self, name: str) -> int | None:
        return self.scope_id.get(name)

    def series_of(self, op: int) -> str | None:
        """The id of the series box an op is drawn in, if any."""
        sid = int(self.op_parent[op])
        return self.scope_names[sid] if sid in self.series else None

    def ancestors(self, item: int) -> list[str]:
        """Ids of the scopes and series containing an item, outermost first (what a search expands)."""
        row = self.paths[item] if item < self.n else None
        if row is None:
            out, sid = [], int(self.scope_parent[item - self.n])
            while sid:
                out.append(self.scope_names[sid])
                sid = int(self.scope_parent[sid])
            return out[::-1]
        return [self.scope_names[int(v) - self.n] for v in row if v >= self.n]

    def level(self, sid: int) -> Level:
        """Children of scope `sid` and the edges between them, bundled per (src, dst) pair with counts."""
        items = self.children[sid]
        k = int(self.scope_depth[sid])
        if len(self.esrc) == 0 or k >= self.paths.shape[1]:
            return Level(items, [], {i for i in items if self.is_aux_item(i)})
        a, b = self.psrc[:, k], self.pdst[:, k]
        mask = (a != b) & (a >= 0) & (b >= 0)
        if k:
            me = self.n + sid
            mask &= (self.psrc[:, k - 1] == me) & (self.pdst[:, k - 1] == me)
        idx = np.flatnonzero(mask)
        edges = []
        if idx.size:
            total = self.n + len(self.scope_names)
            keys = a[idx] * total + b[idx]
            uniq, first, inverse, counts = np.unique(keys, return_index=True, return_inverse=True,
                                                     return_counts=True)
            controls = np.bincount(inverse, weights=self.econtrol[idx].astype(np.float64), minlength=uniq.size)
            for key, f, c, cc in zip(uniq.tolist(), first.tolist(), counts.tolist(), controls.tolist()):
                edges.append((key // total, key % total, c, int(cc), int(idx[f])))
        aux = {i for i in items if self.is_aux_item(i)}
        if len(items) >= 10 and edges:  # high-degree hubs (global step, learning rate, init) go aside too
            degree: dict[int, set[int]] = {}
            for s, d, *_ in edges:
                degree.setdefault(s, set()).add(d)
                degree.setdefault(d, set()).add(s)
            values = np.array([len(v) for v in degree.values()], dtype=np.float64)
            limit = max(8.0, values.mean() + 3 * values.std())
            aux |= {i for i, v in degree.items() if len(v) > limit and i < self.n}
        if len(aux) >= len(items):  # never put everything aside
            aux = set()
        return Level(items, edges, aux)

    def upstream(self, op: int, limit: int = 200_000) -> set[int]:
        """Every op feeding `op` (through data and control inputs), for "trace inputs"."""
        seen = {op}
        stack = [op]
        while stack and len(seen) < limit:
            j = stack.pop()
            for i in self.in_src[self.in_ptr[j]:self.in_ptr[j + 1]].tolist():
                if i not in seen:
                    seen.add(i)
                    stack.append(i)
        return seen

    def search(self, query: str, limit: int = 50) -> list[int]:
        """Ops whose name contains `query` (case-insensitive); exact name matches first."""
        q = query.lower()
        exact = [self.index[query]] if query in self.index else []
        hits = [i for i, name in enumerate(self.names) if q in name.lower() and i not in exact]
        hits.sort(key=lambda i: (len(self.names[i]), self.names[i]))
        return (exact + hits)[:limit]


# -- the drawn view: nested layered layouts of the open scopes ------------------------------------
PAD = 14.0
HEADER = 26.0
AUX_GAP = 48.0
MAX_LEVEL_ITEMS = 1200  # more direct children than this: a grid without edges
MAX_GRID_ITEMS = 2000  # of which this many are drawn
MAX_VISIBLE = 6000  # drawn items in one view; further expansions are refused with a warning


def item_size(h: Hierarchy, item: int) -> tuple[float, float]:
    label = h.item_label(item)
    if item < h.n:
        return min(190.0, max(38.0, 6.6 * len(label) + 16)), 24.0
    return min(230.0, max(72.0, 7.0 * len(label) + 44)), 36.0


def header_width(h: Hierarchy, item: int) -> float:
    """An open box is at least as wide as its header: "▾ label" left, the count ("12 ops", "12 × Add") right."""
    sid = item - h.n
    count = f"{h.scope_count[sid]} × {h.series[sid]}" if h.is_series(sid) else f"{h.scope_count[sid]} ops"
    return 7.0 * len(h.item_label(item)) + 5.4 * len(count) + 48


def _lay_level(h: Hierarchy, sid: int, open_ids: set[int], warnings: list[str], budget: list[int]) -> dict:
    """Relative layout of one open scope's children: {w, h, items: [(item, x, y, w, h, aux, sub)], edges}."""
    key = (sid, frozenset(s for s in open_ids if s != sid and sid in _ancestor_ids(h, s)))
    cache = h.__dict__.setdefault("_view_cache", {})
    if key in cache:
        budget[0] -= cache[key]["visible"]
        return cache[key]
    level = h.level(sid)
    items = level.items
    local_warnings: list[str] = []
    crowded = len(items) > MAX_LEVEL_ITEMS
    if crowded:  # too many to lay out or draw: a grid of the first ones, no edges
        items = items[:MAX_GRID_ITEMS]
        level = Level(items, [], level.aux & set(items))
        local_warnings.append(f"could not draw {h.scope_names[sid] or 'the top level'} in full: it has "
                              f"{len(h.children[sid])} direct children; showing the first {len(items)} as a "
                              "grid without edges")
    subs: dict[int, dict] = {}
    sizes: dict[int, tuple[float, float]] = {}
    budget[0] -= len(items)
    visible = len(items)
    for item in items:
        s = item - h.n
        if s > 0 and s in open_ids:
            if budget[0] - len(h.children[s]) < 0:
                local_warnings.append(f"not expanding {h.scope_names[s]!r}: the view would exceed "
                                      f"{MAX_VISIBLE} nodes")
            else:
                before = budget[0]
                sub = subs[item] = _lay_level(h, s, open_ids, local_warnings, budget)
                visible += before - budget[0]
                sizes[item] = (max(sub["w"] + 2 * PAD, header_width(h, item)), sub["h"] + HEADER + PAD)
                continue
        sizes[item] = item_size(h, item)
    main = [i for i in items if i not in level.aux]
    aux = [i for i in items if i in level.aux]
    where = {item: k for k, item in enumerate(main)}
    drawn_edges = [(where[s], where[d]) for s, d, *_ in level.edges if s in where and d in where]
    if crowded:
        lay = _grid(main, sizes)
        points = None
    else:
        lay = _layered(main, sizes, drawn_edges)
        local_warnings.extend(f"{h.scope_names[sid] or 'top level'}: {w}" for w in lay.warnings
                              if "cycle" not in w)  # bundled scopes often loop; real cycles: Hierarchy
        points = iter(lay.points)
    placed = [(item, lay.x[k], lay.y[k], *sizes[item], False) for k, item in enumerate(main)]
    ax, ay = lay.width + (AUX_GAP if main else 0.0), 0.0
    aux_w = max((sizes[i][0] for i in aux), default=0.0)
    for item in aux:
        w, hh = sizes[item]
        placed.append((item, ax + aux_w / 2, ay + hh / 2, w, hh, True))
        ay += hh + 12.0
    edges = []
    for s, d, count, control, first in level.edges:
        path = next(points) if (points is not None and s in where and d in where) else []
        edges.append((s, d, count, control, first, path, s in level.aux or d in level.aux))
    result = {"w": max(lay.width, ax + aux_w if aux else 0.0), "h": max(lay.height, ay - 12.0 if aux else 0.0),
              "items": placed, "subs": subs, "edges": edges, "warnings": local_warnings, "visible": visible}
    if len(cache) > 512:
        cache.clear()
    cache[key] = result
    warnings.extend(local_warnings)
    return result


def _ancestor_ids(h: Hierarchy, sid: int) -> set[int]:
    out = set()
    while sid:
        sid = int(h.scope_parent[sid])
        out.add(sid)
    return out


def _layered(main, sizes, edges):
    from board_server.graphs.layout import layered_layout
    return layered_layout([sizes[i] for i in main], edges)


def _grid(main, sizes):
    from board_server.graphs.layout import grid_layout
    return grid_layout([sizes[i] for i in main])


def view(h: Hierarchy, expanded: set[str]) -> dict:
    """What the page draws: nodes (ops, collapsed and expanded scopes and series), bundled edges and the
    stubs of edges to auxiliary items (stubs.py), absolute coordinates."""
    warnings = list(h.warnings)
    if h.n == 0:
        warnings.append("the graph has no nodes")
    unknown = [name for name in expanded if name not in h.scope_id]
    if unknown:
        warnings.append(f"{len(unknown)} expanded scope(s) not in this graph, ignored: {sorted(unknown)[:3]}")
    wanted = {h.scope_id[name] for name in expanded if name in h.scope_id}
    open_ids = {s for s in wanted if _ancestor_ids(h, s) - {0} <= wanted}
    budget = [MAX_VISIBLE]
    top = _lay_level(h, 0, open_ids, warnings, budget)
    nodes: list[dict] = []
    edges: list[dict] = []
    _flatten(h, top, 0.0, 0.0, None, 0, nodes, edges)
    return {"nodes": nodes, "edges": edges, "stubs": aux_stubs(nodes, edges), "width": top["w"],
            "height": top["h"], "warnings": list(dict.fromkeys(warnings)), "total_nodes": h.n}


def _flatten(h, lay, ox, oy, parent, depth, nodes, edges) -> None:
    for item, x, y, w, hh, aux in lay["items"]:
        cx, cy = ox + x, oy + y
        sub = lay["subs"].get(item)
        entry = {"id": h.item_name(item), "label": h.item_label(item), "x": round(cx, 1), "y": round(cy, 1),
                 "w": round(w, 1), "h": round(hh, 1), "parent": parent, "depth": depth, "aux": aux}
        if item < h.n:
            entry.update(kind="op", name=h.names[item], op=h.ops[item], count=1)
        else:
            sid = item - h.n
            entry.update(kind=h.kind(item), name=h.scope_names[sid],
                         op=h.series.get(sid), count=int(h.scope_count[sid]), expanded=sub is not None)
        nodes.append(entry)
        if sub is not None:
            _flatten(h, sub, cx - sub["w"] / 2, cy - hh / 2 + HEADER, entry["id"], depth + 1, nodes, edges)
    for s, d, count, control, first, path, aux in lay["edges"]:
        shape = h.edge_shape(first) if count == 1 else ""
        edges.append({"from": h.item_name(s), "to": h.item_name(d), "count": count, "control": control,
                      "shape": shape, "aux": aux, "scope": parent,
                      "points": [[round(ox + px, 1), round(oy + py, 1)] for px, py in path]})
