"""The layered layout: edges flow downward, nothing overlaps, crossings are few, cycles never break it."""
from __future__ import annotations

import itertools
import math
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from board_server.graphs.layout import NODE_GAP, grid_layout, layered_layout


def brute_crossings(lay, edges):
    """Crossings between straight edge segments of adjacent layers, counted pairwise from coordinates."""
    segs = [(lay.x[u], lay.y[u], lay.x[v], lay.y[v]) for u, v in edges]
    count = 0
    for (a, b) in itertools.combinations(segs, 2):
        if a[1] == b[1] and a[3] == b[3] and a[0] != b[0] and a[2] != b[2]:
            count += (a[0] - b[0]) * (a[2] - b[2]) < 0
    return count


def segment_enters_box(p, q, box, inset=0.5) -> bool:
    """Whether segment p-q passes through the interior of box (x0, y0, x1, y1) shrunk by `inset`
    (Liang-Barsky clipping: a touch along the border does not count)."""
    x0, y0, x1, y1 = box[0] + inset, box[1] + inset, box[2] - inset, box[3] - inset
    if x0 >= x1 or y0 >= y1:
        return False
    (px, py), (qx, qy) = p, q
    lo, hi = 0.0, 1.0
    for step, start, low, high in ((qx - px, px, x0, x1), (qy - py, py, y0, y1)):
        if step == 0:
            if not low < start < high:
                return False
            continue
        a, b = (low - start) / step, (high - start) / step
        lo, hi = max(lo, min(a, b)), min(hi, max(a, b))
    return lo < hi


def check_drawing(sizes, edges, lay):
    n = len(sizes)
    assert all(math.isfinite(v) for v in lay.x + lay.y)
    # no two nodes of one row overlap (gap kept)
    rows = {}
    for i in range(n):
        rows.setdefault(round(lay.y[i], 6), []).append(i)
    for members in rows.values():
        members.sort(key=lambda i: lay.x[i])
        for a, b in zip(members, members[1:]):
            assert lay.x[b] - lay.x[a] >= (sizes[a][0] + sizes[b][0]) / 2 + NODE_GAP - 1e-6
    for k, (u, v) in enumerate(edges):
        if u == v:
            assert lay.points[k] == []
            continue
        pts = lay.points[k]
        if k in lay.reversed:
            assert lay.y[u] > lay.y[v]
        else:
            assert lay.y[u] < lay.y[v]
        # points run from the source's border to the target's border
        assert math.isclose(pts[0][0], lay.x[u]) and math.isclose(pts[-1][0], lay.x[v])
        assert math.isclose(abs(pts[0][1] - lay.y[u]), sizes[u][1] / 2)
        assert math.isclose(abs(pts[-1][1] - lay.y[v]), sizes[v][1] / 2)
        # no edge runs through a node (its own ends included: it leaves and enters at their borders),
        # unless the layout said it drew long edges straight
        for i in range(0 if any("drawn straight" in w for w in lay.warnings) else n):
            box = (lay.x[i] - sizes[i][0] / 2, lay.y[i] - sizes[i][1] / 2,
                   lay.x[i] + sizes[i][0] / 2, lay.y[i] + sizes[i][1] / 2)
            assert not any(segment_enters_box(p, q, box) for p, q in zip(pts, pts[1:])), (k, i, pts)
    for i in range(n):
        assert lay.x[i] - sizes[i][0] / 2 >= -1e-6 and lay.x[i] + sizes[i][0] / 2 <= lay.width + 1e-6


def test_chain_and_fan_out_flow_down():
    sizes = [(60, 24)] * 5
    edges = [(0, 1), (1, 2), (0, 3), (0, 4)]
    lay = layered_layout(sizes, edges)
    check_drawing(sizes, edges, lay)
    assert lay.reversed == set() and lay.warnings == []
    # a parent sits between its children (coordinate assignment pulls it to their mean)
    xs = [lay.x[1], lay.x[3], lay.x[4]]
    assert min(xs) <= lay.x[0] <= max(xs)


def test_source_pulled_down_next_to_its_consumer():
    # 0 -> 1 -> 2 -> 3 and a constant 4 only feeding 3: it goes in the layer just above 3
    sizes = [(40, 20)] * 5
    edges = [(0, 1), (1, 2), (2, 3), (4, 3)]
    lay = layered_layout(sizes, edges)
    assert lay.y[4] == lay.y[2]


def test_barycenter_removes_an_avoidable_crossing():
    # given order puts a->d and b->c crossing; a layout must untangle it
    sizes = [(40, 20)] * 4
    edges = [(0, 3), (1, 2)]
    lay = layered_layout(sizes, edges)
    assert brute_crossings(lay, edges) == 0 and lay.crossings == 0


def test_crossings_fewer_than_random_orders_on_a_layered_graph():
    rng = random.Random(7)
    layers = [list(range(k * 8, k * 8 + 8)) for k in range(4)]
    edges = []
    for upper, lower in zip(layers, layers[1:]):
        for u in upper:
            for v in rng.sample(lower, 2):
                edges.append((u, v))
    sizes = [(50, 24)] * 32
    lay = layered_layout(sizes, edges)
    check_drawing(sizes, edges, lay)
    drawn = brute_crossings(lay, edges)
    assert drawn == lay.crossings  # the Fenwick count agrees with pairwise geometry
    # independent baseline: the mean crossings of random orderings of the same layers
    baseline = []
    for _ in range(20):
        pos = {}
        for layer in layers:
            for i, v in enumerate(rng.sample(layer, len(layer))):
                pos[v] = i
        baseline.append(sum((pos[a] - pos[c]) * (pos[b] - pos[d]) < 0
                            for (a, b), (c, d) in itertools.combinations(edges, 2)
                            if a // 8 == c // 8 and a != c and b != d))
    assert drawn < 0.6 * (sum(baseline) / len(baseline))


def test_cycle_is_reported_and_drawn():
    sizes = [(40, 20)] * 3
    edges = [(0, 1), (1, 2), (2, 0)]
    lay = layered_layout(sizes, edges)
    assert len(lay.reversed) == 1 and "cycle" in lay.warnings[0]
    check_drawing(sizes, edges, lay)


def test_long_edge_routed_through_dummies():
    sizes = [(40, 20)] * 4
    edges = [(0, 1), (1, 2), (2, 3), (0, 3)]
    lay = layered_layout(sizes, edges)
    check_drawing(sizes, edges, lay)
    assert len(lay.points[3]) == 6  # source, entering and leaving each crossed layer, target
    assert {p[0] for p in lay.points[3][1:3]} == {lay.points[3][1][0]}  # straight down through a layer
    ys = [p[1] for p in lay.points[3]]
    assert ys == sorted(ys)


def test_empty_and_grid():
    assert layered_layout([], []).x == []
    grid = grid_layout([(30, 20)] * 10)
    assert len(set(zip(grid.x, grid.y))) == 10


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 25).flatmap(lambda n: st.tuples(
    st.just(n), st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=60),
    st.lists(st.tuples(st.integers(10, 200), st.integers(10, 60)), min_size=n, max_size=n))))
def test_any_graph_draws(case):
    n, edges, sizes = case
    lay = layered_layout([tuple(map(float, s)) for s in sizes], edges)
    check_drawing(sizes, edges, lay)


def _boxes_nest_without_overlap(view):
    """Every drawn node lies inside its parent's box; siblings never overlap."""
    by_id = {n["id"]: n for n in view["nodes"]}
    siblings = {}
    for n in view["nodes"]:
        siblings.setdefault(n["parent"], []).append(n)
        if n["parent"] is not None:
            box = by_id[n["parent"]]
            assert box["x"] - box["w"] / 2 <= n["x"] - n["w"] / 2 and n["x"] + n["w"] / 2 <= box["x"] + box["w"] / 2
            assert box["y"] - box["h"] / 2 <= n["y"] - n["h"] / 2 and n["y"] + n["h"] / 2 <= box["y"] + box["h"] / 2
    for group in siblings.values():
        for a, b in itertools.combinations(group, 2):
            apart_x = abs(a["x"] - b["x"]) >= (a["w"] + b["w"]) / 2 - 0.1
            apart_y = abs(a["y"] - b["y"]) >= (a["h"] + b["h"]) / 2 - 0.1
            assert apart_x or apart_y, (a["id"], b["id"])


def test_series_keeps_a_wide_level_narrow():
    """40 parallel ops between a source and a sink: one series box instead of a row 40 wide."""
    from board_server.graphs import hierarchy
    from summaries.proto import GraphDef
    g = GraphDef()
    g.node.add(name="src", op="Placeholder")
    for k in range(40):
        g.node.add(name=f"fan_{k}" if k else "fan", op="Mul").input.extend(["src"])
    g.node.add(name="sink", op="AddN").input.extend([f"fan_{k}" if k else "fan" for k in range(40)])
    h = hierarchy.Hierarchy(g)
    collapsed = hierarchy.view(h, set())
    assert [n["id"] for n in collapsed["nodes"]] == ["src", "fan_[0-39]", "sink"]
    assert collapsed["width"] < 300 and len(collapsed["edges"]) == 2
    assert [e["count"] for e in collapsed["edges"]] == [40, 40]
    for e in collapsed["edges"]:  # edges run from the source box's bottom to the target box's top
        a = next(n for n in collapsed["nodes"] if n["id"] == e["from"])
        b = next(n for n in collapsed["nodes"] if n["id"] == e["to"])
        assert math.isclose(e["points"][0][1], a["y"] + a["h"] / 2, abs_tol=0.2)
        assert math.isclose(e["points"][-1][1], b["y"] - b["h"] / 2, abs_tol=0.2)
    expanded = hierarchy.view(h, {"fan_[0-39]"})
    assert expanded["width"] > 10 * collapsed["width"]
    assert sum(n["parent"] == "fan_[0-39]" for n in expanded["nodes"]) == 40
    _boxes_nest_without_overlap(collapsed)
    _boxes_nest_without_overlap(expanded)


def test_nested_series_views_nest_without_overlap():
    from board_server.graphs import hierarchy
    from test_graphs_hierarchy import _graph, repeated_nodes
    h = hierarchy.Hierarchy(_graph(repeated_nodes()))
    for expanded in (set(), {"block"}, {"block", "block/add_[1-12]"}, set(h.scope_names[1:])):
        _boxes_nest_without_overlap(hierarchy.view(h, expanded))


def test_too_many_long_edges_are_drawn_straight():
    """Past MAX_DUMMIES layer crossings edges are not routed; crossing counts must skip them, not fail."""
    n = 302
    edges = [(i, i + 1) for i in range(n - 2)] + [(0, i) for i in range(2, n - 1)]
    edges += [(n - 1, i) for i in range(1, n - 1, 3)]
    sizes = [(40.0, 20.0)] * n
    lay = layered_layout(sizes, edges)
    assert "too many long edges to route; drawn straight" in lay.warnings
    check_drawing(sizes, edges, lay)


def test_stubbed_auxiliary_edges_do_not_move_the_main_flow():
    """Edges to the auxiliary column are stubs: the main flow is laid out as if they were not there, and
    every stub's main-flow end lies left of the column (so a stub on its right side points towards it)."""
    from board_server.graphs import hierarchy
    from test_graphs_hierarchy import _graph, aux_nodes
    nodes = aux_nodes()
    with_aux = hierarchy.view(hierarchy.Hierarchy(_graph(nodes)), set())
    plain = [(name, op, [i for i in inputs if not i.startswith("^init")]) for name, op, inputs in nodes
             if not name.startswith(("summaries/", "init/"))]
    without = hierarchy.view(hierarchy.Hierarchy(_graph(plain)), set())
    where = {n["id"]: (n["x"], n["y"]) for n in without["nodes"]}
    drawn = {n["id"]: n for n in with_aux["nodes"]}
    assert {i: (n["x"], n["y"]) for i, n in drawn.items() if not n["aux"]} == where
    column = min(n["x"] - n["w"] / 2 for n in drawn.values() if n["aux"])
    for stub in with_aux["stubs"]:
        node = drawn[stub["node"]]
        assert node["aux"] == (stub["node"] in {"summaries", "init"})
        if not node["aux"]:
            assert node["x"] + node["w"] / 2 < column
