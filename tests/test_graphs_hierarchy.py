"""Scope hierarchy and views of graphs written by real TF1 / tensorboardX, checked against what the real
`tensorboard` package reads from the same event files (names, inputs) and expected.json."""
from __future__ import annotations

import time
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from board_server.data.logdir import LogdirProvider
from board_server.graphs import hierarchy, sources
from conftest import FIXTURES, expected
from summaries.proto import GraphDef


def tb_graph(fixture: str, run: str):
    """The run's GraphDef as real TensorBoard reads it."""
    acc = EventAccumulator(str(FIXTURES / fixture / run), size_guidance={"graph": 1})
    acc.Reload()
    return acc.Graph()


@pytest.fixture(scope="module")
def hier_of():
    made = {}

    def get(fixture: str, run: str) -> hierarchy.Hierarchy:
        if (fixture, run) not in made:
            provider = LogdirProvider([("", str(FIXTURES / fixture))], workers=1)
            provider.reload(first=True)
            model = sources.load(provider, run, None)
            made[fixture, run] = hierarchy.Hierarchy(model.graph, model.shapes)
        return made[fixture, run]
    return get


def scope_of(name: str, depth: int, all_names: set[str]) -> str:
    """The item a node is drawn as when only scopes shallower than `depth` are open (independent rule)."""
    parts = name.split("/")
    if name in {n.rsplit("/", k)[0] for n in all_names for k in range(1, n.count("/") + 1)}:
        parts = parts + [f"({parts[-1]})"]  # both an op and a scope
    return "/".join(parts[:depth])


def test_xor_top_level_is_scopes_collapsed(hier_of):
    h = hier_of("tf1_xor", "xor_logs")
    names = expected("tf1_xor")["runs"]["xor_logs"]["graph"]["names"]
    view = hierarchy.view(h, set())
    top = {n["label"]: n for n in view["nodes"]}
    assert set(top) == {name.split("/")[0] for name in names}
    for scope in ("layer1", "layer2", "cost", "train"):
        assert top[scope]["kind"] == "scope" and top[scope]["expanded"] is False
        assert not top[scope]["aux"]
        assert top[scope]["count"] == sum(n == scope or n.startswith(scope + "/") for n in names)
    assert top["Merge"]["aux"]  # the summary merge goes aside
    assert all(n["parent"] is None for n in view["nodes"])
    assert sum(n["count"] for n in view["nodes"]) == len(names)


def test_xor_bundled_edges_match_tensorboard_graph(hier_of):
    h = hier_of("tf1_xor", "xor_logs")
    graph = tb_graph("tf1_xor", "xor_logs")
    want = Counter()
    for node in graph.node:
        for text in node.input:
            src = text.lstrip("^").split(":")[0]
            a, b = src.split("/")[0], node.name.split("/")[0]
            if a != b:
                want[a, b] += 1
    view = hierarchy.view(h, set())
    got = {(e["from"], e["to"]): e["count"] for e in view["edges"]}
    assert got == dict(want)


def test_xor_expanding_layer1(hier_of):
    h = hier_of("tf1_xor", "xor_logs")
    names = expected("tf1_xor")["runs"]["xor_logs"]["graph"]["names"]
    view = hierarchy.view(h, {"layer1"})
    inside = {n["label"] for n in view["nodes"] if n["parent"] == "layer1"}
    assert inside == {n.split("/")[1] for n in names if n.startswith("layer1/")}
    assert {"weight1", "bias1", "MatMul", "add", "Sigmoid", "weights1", "biases1"} <= inside
    box = next(n for n in view["nodes"] if n["id"] == "layer1")
    assert box["expanded"] is True
    for child in (n for n in view["nodes"] if n["parent"] == "layer1"):  # children drawn inside the box
        assert box["x"] - box["w"] / 2 <= child["x"] - child["w"] / 2
        assert child["x"] + child["w"] / 2 <= box["x"] + box["w"] / 2
        assert box["y"] - box["h"] / 2 < child["y"] < box["y"] + box["h"] / 2
    # edges inside layer1 are exactly the inputs between its children, per TensorBoard's graph
    graph = tb_graph("tf1_xor", "xor_logs")
    all_names = {n.name for n in graph.node}
    want = Counter()
    for node in graph.node:
        for text in node.input:
            src = text.lstrip("^").split(":")[0]
            if src.startswith("layer1/") and node.name.startswith("layer1/"):
                a, b = scope_of(src, 2, all_names), scope_of(node.name, 2, all_names)
                if a != b:
                    want[a, b] += 1
    got = {(e["from"], e["to"]): e["count"] for e in view["edges"] if e["scope"] == "layer1"}
    assert got == dict(want)


def test_op_that_is_also_a_scope_goes_inside(hier_of):
    h = hier_of("tf1_xor", "xor_logs")
    view = hierarchy.view(h, {"layer1", "layer1/bias1"})
    inside = {n["label"]: n for n in view["nodes"] if n["parent"] == "layer1/bias1"}
    assert inside["(bias1)"]["name"] == "layer1/bias1" and inside["(bias1)"]["op"] == "VarHandleOp"
    assert {"Assign", "IsInitialized", "Read"} <= set(inside)


def test_everything_expanded_shows_every_op_once(hier_of):
    h = hier_of("tf1_mnist", "mnist")
    node_ops = expected("tf1_mnist")["runs"]["mnist"]["graph"]["node_ops"]
    view = hierarchy.view(h, set(h.scope_names[1:]))
    ops = sorted([n["name"], n["op"]] for n in view["nodes"] if n["kind"] == "op")
    assert ops == sorted(node_ops)
    assert view["warnings"] == []


def test_mnist_auxiliary_nodes_set_aside(hier_of):
    h = hier_of("tf1_mnist", "mnist")
    top = {n["label"]: n for n in hierarchy.view(h, set())["nodes"]}
    assert top["init"]["aux"] and top["Merge"]["aux"]
    for main in ("layer1", "layer2", "layer3", "gradients", "Adam"):
        assert not top[main]["aux"]
    main_right = max(n["x"] + n["w"] / 2 for n in top.values() if not n["aux"])
    assert all(n["x"] - n["w"] / 2 > main_right for n in top.values() if n["aux"])


def test_tbx_torch_graph_scopes_shapes_and_dangling_inputs(hier_of):
    h = hier_of("tbx", "tbx_run")
    names = expected("tbx")["runs"]["tbx_run"]["graph"]["names"]
    view = hierarchy.view(h, set())
    assert {n["label"] for n in view["nodes"]} == {n.split("/")[0] for n in names}
    # shapes on edges come from the `_output_shapes` attr real TensorBoard reads
    graph = tb_graph("tbx", "tbx_run")
    x = next(n for n in graph.node if n.name == "input/x")
    dims = "×".join(str(d.size) for d in x.attr["_output_shapes"].list.shape[0].dim)
    edge = next(e for e in view["edges"] if e["from"] == "input" and e["to"] == "MLP")
    assert edge["shape"] == dims
    dangling = {t for n in graph.node for t in n.input if t not in {m.name for m in graph.node}}
    assert dangling and all(any(d in w for w in view["warnings"]) for d in dangling)
    expanded = hierarchy.view(h, {"MLP"})
    inside = {n["label"] for n in expanded["nodes"] if n["parent"] == "MLP"}
    assert inside == {n.split("/")[1] for n in names if n.startswith("MLP/")}
    assert {"Linear[fc1]", "Linear[fc2]"} <= inside


def test_upstream_and_search(hier_of):
    h = hier_of("tf1_xor", "xor_logs")
    graph = tb_graph("tf1_xor", "xor_logs")
    inputs = {n.name: [t.lstrip("^").split(":")[0] for t in n.input] for n in graph.node}
    seen, stack = set(), ["layer1/Sigmoid"]
    while stack:
        name = stack.pop()
        if name not in seen:
            seen.add(name)
            stack.extend(inputs[name])
    assert {h.names[i] for i in h.upstream(h.index["layer1/Sigmoid"])} == seen
    hits = [h.names[i] for i in h.search("sigmoid")]
    assert hits[:2] == sorted(n for n in inputs if n.endswith("/Sigmoid"))[:2]
    assert h.ancestors(h.index["layer1/bias1/Read/ReadVariableOp"]) == ["layer1", "layer1/bias1",
                                                                         "layer1/bias1/Read"]


def _graph(nodes) -> GraphDef:
    g = GraphDef()
    for name, op, inputs in nodes:
        node = g.node.add(name=name, op=op)
        node.input.extend(inputs)
    return g


def test_bad_graphs_draw_with_warnings():
    cyclic = hierarchy.Hierarchy(_graph([("a/x", "Add", ["b/y"]), ("b/y", "Add", ["a/x"]), ("c", "Add", ["c"])]))
    view = hierarchy.view(cyclic, {"a", "b"})
    assert any("cycle" in w for w in view["warnings"])
    empty = hierarchy.view(hierarchy.Hierarchy(GraphDef()), set())
    assert empty["nodes"] == [] and any("no nodes" in w for w in empty["warnings"])
    dangling = hierarchy.view(hierarchy.Hierarchy(_graph([("a", "Add", ["ghost:1", "^ghost2"])])), {"nope"})
    assert len(dangling["nodes"]) == 1
    assert any("ghost" in w for w in dangling["warnings"]) and any("nope" in w for w in dangling["warnings"])


def test_fifty_thousand_flat_nodes_fall_back_to_a_grid():
    g = _graph([(f"n{i}", "Add", [f"n{i - 1}"] if i else []) for i in range(50_000)])
    t0 = time.perf_counter()
    h = hierarchy.Hierarchy(g)
    view = hierarchy.view(h, set())
    assert time.perf_counter() - t0 < 30
    assert any("grid" in w for w in view["warnings"])
    assert len(view["nodes"]) == hierarchy.MAX_GRID_ITEMS and view["edges"] == []


names = st.text(alphabet="ab/_:^", min_size=0, max_size=8)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(names, st.lists(names, max_size=3)), max_size=25))
def test_any_names_and_inputs_draw_every_op_once(spec):
    """Odd names ('', 'a//b', '/a', 'a/'), ops that are also scopes, duplicates, self and dangling inputs."""
    h = hierarchy.Hierarchy(_graph([(name, "Op", inputs) for name, inputs in spec]))
    view = hierarchy.view(h, set(h.scope_names[1:]))
    drawn = Counter(n["name"] for n in view["nodes"] if n["kind"] == "op")
    assert set(drawn) == {name for name, _ in spec} and set(drawn.values()) <= {1}
    ids = [n["id"] for n in view["nodes"]]
    assert len(ids) == len(set(ids))  # ids are unique even when an op and a scope share a name
    known = set(ids)
    assert all(e["from"] in known and e["to"] in known for e in view["edges"])
