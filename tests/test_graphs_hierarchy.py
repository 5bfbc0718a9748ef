"""Scope hierarchy and views of graphs written by real TF1 / tensorboardX, checked against what the real
`tensorboard` package reads from the same event files (names, inputs) and expected.json."""
from __future__ import annotations

import re
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


# -- series: repeated ops drawn as one box, as TensorBoard does --------------------------------------------
ADD_SERIES = "block/add_[1-12]"


def repeated_nodes() -> list[tuple[str, str, list[str]]]:
    """A scope `block` with AddV2 ops add_1..add_12 (a chain, each also fed by x) summed by AddN, Mul ops
    mul_1..mul_4 (too few for a series), conv_1..conv_10 alternating two op types, Relu ops relu_1..3 and
    relu_5..9 (numbers with a gap); at the top, Const, Const_1..Const_4 (a bare name counts as number 0)."""
    nodes = [("input", "Placeholder", []), ("block/x", "Identity", ["input"])]
    nodes += [(f"block/add_{k}", "AddV2", ["block/x"] + ([f"block/add_{k - 1}"] if k > 1 else []))
              for k in range(1, 13)]
    nodes += [("block/sum", "AddN", [f"block/add_{k}" for k in range(1, 13)])]
    nodes += [(f"block/mul_{k}", "Mul", ["block/x", "block/sum"]) for k in range(1, 5)]
    nodes += [(f"block/conv_{k}", "Conv2D" if k % 2 else "DepthwiseConv2dNative", ["block/x"]) for k in range(1, 11)]
    nodes += [(f"block/relu_{k}", "Relu", ["block/sum"]) for k in (1, 2, 3, 5, 6, 7, 8, 9)]
    consts = ["Const"] + [f"Const_{k}" for k in range(1, 5)]
    nodes += [(c, "Const", []) for c in consts] + [("out", "AddN", ["block/sum", *consts])]
    return nodes


def drawn_as(name: str) -> str:
    """The item an op of repeated_nodes() is drawn as when only `block` is open (written out by hand)."""
    m = re.fullmatch(r"block/(add|conv|relu)_(\d+)|(Const)(_\d)?", name)
    if m is None:
        return name
    if m[3]:
        return "Const_[0-4]"
    return {"add": ADD_SERIES, "relu": "block/relu_[1-3,5-9]",
            "conv": "block/conv_[1,3,…,9]" if int(m[2]) % 2 else "block/conv_[2,4,…,10]"}[m[1]]


def test_repeated_ops_form_one_collapsed_series():
    h = hierarchy.Hierarchy(_graph(repeated_nodes()))
    view = hierarchy.view(h, {"block"})
    inside = {n["id"]: n for n in view["nodes"] if n["parent"] == "block"}
    series = inside[ADD_SERIES]
    assert series["kind"] == "series" and series["expanded"] is False
    assert (series["label"], series["op"], series["count"]) == ("add_[1-12]", "AddV2", 12)
    assert not any(re.fullmatch(r"block/add_\d+", i) for i in inside)  # members are not drawn
    # bundled edges between the drawn items of `block`, counted from the GraphDef
    want = Counter()
    for name, _op, inputs in repeated_nodes():
        for src in inputs:
            a, b = drawn_as(src), drawn_as(name)
            if a != b and a.startswith("block/") and b.startswith("block/"):
                want[a, b] += 1
    got = {(e["from"], e["to"]): e["count"] for e in view["edges"] if e["scope"] == "block"}
    assert got == dict(want)
    assert got["block/x", ADD_SERIES] == 12 and got[ADD_SERIES, "block/sum"] == 12
    top = {(e["from"], e["to"]): e["count"] for e in view["edges"] if e["scope"] is None}
    assert top == {("input", "block"): 1, ("block", "out"): 1, ("Const_[0-4]", "out"): 5}


def test_expanded_series_shows_its_members_with_real_names():
    h = hierarchy.Hierarchy(_graph(repeated_nodes()))
    view = hierarchy.view(h, {"block", ADD_SERIES})
    box = next(n for n in view["nodes"] if n["id"] == ADD_SERIES)
    members = [n for n in view["nodes"] if n["parent"] == ADD_SERIES]
    assert box["expanded"] is True and len(members) == 12
    assert {(n["id"], n["name"], n["kind"], n["op"]) for n in members} == {
        (f"block/add_{k}", f"block/add_{k}", "op", "AddV2") for k in range(1, 13)}
    for n in members:  # drawn inside the series box
        assert box["x"] - box["w"] / 2 <= n["x"] - n["w"] / 2 and n["x"] + n["w"] / 2 <= box["x"] + box["w"] / 2
        assert box["y"] - box["h"] / 2 < n["y"] < box["y"] + box["h"] / 2
    inner = {(e["from"], e["to"]): e["count"] for e in view["edges"] if e["scope"] == ADD_SERIES}
    assert inner == {(f"block/add_{k - 1}", f"block/add_{k}"): 1 for k in range(2, 13)}
    outer = {(e["from"], e["to"]): e["count"] for e in view["edges"] if e["scope"] == "block"}
    assert outer["block/x", ADD_SERIES] == 12  # still bundled at the scope's level
    # a series opens only inside its open scope
    closed = hierarchy.view(h, {ADD_SERIES})
    assert not any(n["parent"] == ADD_SERIES for n in closed["nodes"])


def test_series_needs_five_ops_of_one_type_and_labels_number_ranges():
    h = hierarchy.Hierarchy(_graph(repeated_nodes()))
    view = hierarchy.view(h, {"block"})
    inside = {n["id"]: n for n in view["nodes"] if n["parent"] == "block"}
    assert {f"block/mul_{k}" for k in range(1, 5)} <= set(inside)  # 4 repeated ops stay 4 ops
    assert all(inside[f"block/mul_{k}"]["kind"] == "op" for k in range(1, 5))
    # same base, two op types: two series, never merged
    assert (inside["block/conv_[1,3,…,9]"]["op"], inside["block/conv_[1,3,…,9]"]["count"]) == ("Conv2D", 5)
    assert (inside["block/conv_[2,4,…,10]"]["op"], inside["block/conv_[2,4,…,10]"]["count"]) == (
        "DepthwiseConv2dNative", 5)
    assert inside["block/relu_[1-3,5-9]"]["count"] == 8
    top = {n["id"]: n for n in view["nodes"] if n["parent"] is None}
    assert top["Const_[0-4]"]["kind"] == "series" and top["Const_[0-4]"]["count"] == 5
    assert sum(n["count"] for n in top.values()) == len(repeated_nodes())
    assert {name for name, op in ((n[0], n[1]) for n in repeated_nodes()) if op == "Conv2D"} == {
        h.names[i] for i in h.children[h.scope_of("block/conv_[1,3,…,9]")]}


def test_search_path_goes_through_the_series():
    h = hierarchy.Hierarchy(_graph(repeated_nodes()))
    hit = h.search("add_7")[0]
    assert h.names[hit] == "block/add_7" and h.hier_name(hit) == "block/add_7"
    assert h.ancestors(hit) == ["block", ADD_SERIES] and h.series_of(hit) == ADD_SERIES
    view = hierarchy.view(h, set(h.ancestors(hit)))
    assert next(n for n in view["nodes"] if n["id"] == "block/add_7")["parent"] == ADD_SERIES
    assert h.series_of(h.index["block/sum"]) is None


def test_scopes_never_form_series_and_auxiliary_series_go_aside():
    nodes = [(f"layer_{k}/w", "VarHandleOp", []) for k in range(1, 7)]
    nodes += [("loss" + (f"_{k}" if k else ""), "ScalarSummary", [f"layer_{k + 1}/w"]) for k in range(6)]
    h = hierarchy.Hierarchy(_graph(nodes))
    top = {n["id"]: n for n in hierarchy.view(h, set())["nodes"]}
    assert {f"layer_{k}" for k in range(1, 7)} <= set(top)
    assert all(top[f"layer_{k}"]["kind"] == "scope" for k in range(1, 7))
    assert top["loss_[0-5]"]["kind"] == "series" and top["loss_[0-5]"]["aux"] is True
    assert not any(n["aux"] for i, n in top.items() if i != "loss_[0-5]")


def test_series_ids_never_collide_with_op_or_scope_names():
    nodes = [(f"s/add_{k}", "Add", []) for k in range(1, 6)] + [("s/add_[1-5]", "Add", []),
                                                                 ("s/add_[1-5] #2/inner", "Add", [])]
    h = hierarchy.Hierarchy(_graph(nodes))
    assert "s/add_[1-5] #3" in h.scope_id and h.is_series(h.scope_id["s/add_[1-5] #3"])
    view = hierarchy.view(h, set(h.scope_names[1:]))
    assert sorted(n["name"] for n in view["nodes"] if n["kind"] == "op") == sorted(n[0] for n in nodes)
    ids = [n["id"] for n in view["nodes"]]
    assert len(ids) == len(set(ids)) and "s/add_[1-5]" in ids  # the op keeps its real name as id


def test_repeated_ops_in_a_big_graph_stay_fast():
    """50 scopes of 1,000 chained ops each: 50 series of 1,000; the top level and one open series draw fast."""
    def name(i):
        return f"s{i // 1000}/add" + (f"_{i % 1000}" if i % 1000 else "")
    g = _graph([(name(i), "Add", [name(i - 1)] if i else []) for i in range(50_000)])
    t0 = time.perf_counter()
    h = hierarchy.Hierarchy(g)
    top = hierarchy.view(h, {"s7"})
    assert [n["id"] for n in top["nodes"] if n["parent"] == "s7"] == ["s7/add_[0-999]"]
    opened = hierarchy.view(h, {"s7", "s7/add_[0-999]"})
    assert sum(n["parent"] == "s7/add_[0-999]" for n in opened["nodes"]) == 1000
    assert time.perf_counter() - t0 < 30


repeats = st.tuples(st.sampled_from(["", "a/", "a/b/", "/", "add_1/"]), st.sampled_from(["add", "x_1", "a", ""]),
                    st.sampled_from(["A", "B"]), st.sets(st.integers(0, 9), max_size=9)).map(
    lambda t: [(f"{t[0]}{t[1]}_{k}" if k else f"{t[0]}{t[1]}", t[2]) for k in sorted(t[3])])


@st.composite
def repeated_specs(draw):
    ops = [op for group in draw(st.lists(repeats, max_size=6)) for op in group]
    ops += [(name, "A") for name in draw(st.lists(names, max_size=10))]
    pool = [name for name, _ in ops] + ["ghost"]
    return [(name, op, draw(st.lists(st.sampled_from(pool), max_size=3))) for name, op in ops]


@settings(max_examples=80, deadline=None)
@given(repeated_specs())
def test_any_repeated_names_draw_every_op_once(spec):
    """Series in any scope, mixed op types, bare bases, duplicates, ops that are also scopes, odd names."""
    h = hierarchy.Hierarchy(_graph(spec))
    view = hierarchy.view(h, set(h.scope_names[1:]))
    drawn = Counter(n["name"] for n in view["nodes"] if n["kind"] == "op")
    assert set(drawn) == {name for name, _, _ in spec} and set(drawn.values()) <= {1}
    ids = [n["id"] for n in view["nodes"]]
    assert len(ids) == len(set(ids))
    known = set(ids)
    assert all(e["from"] in known and e["to"] in known for e in view["edges"])
    for sid, op in h.series.items():
        members = h.children[sid]
        assert len(members) >= 5 and {h.ops[i] for i in members} == {op}
    collapsed = hierarchy.view(h, set())
    assert sum(n["count"] for n in collapsed["nodes"]) == h.n


def aux_nodes() -> list[tuple[str, str, list[str]]]:
    """A tiny model with summaries reading main nodes and an init scope assigning its variable."""
    return [("x", "Placeholder", []), ("layer/w", "VariableV2", []),
            ("layer/mul", "Mul", ["x", "layer/w", "^init/assign_w"]), ("cost", "Sum", ["layer/mul"]),
            ("summaries/cost", "ScalarSummary", ["cost"]), ("summaries/w", "HistogramSummary", ["layer/w"]),
            ("summaries/mul", "HistogramSummary", ["layer/mul"]),
            ("init/value", "Const", []), ("init/assign_w", "Assign", ["layer/w", "init/value"])]


AUX_STUBS = sorted([  # (node, other, dir, count, control) at the top level of aux_nodes()
    ("layer", "summaries", "out", 2, 0), ("summaries", "layer", "in", 2, 0),
    ("cost", "summaries", "out", 1, 0), ("summaries", "cost", "in", 1, 0),
    ("layer", "init", "out", 1, 0), ("init", "layer", "in", 1, 0),
    ("init", "layer", "out", 1, 1), ("layer", "init", "in", 1, 1)])


def stub_rows(view) -> list[tuple]:
    return sorted((s["node"], s["other"], s["dir"], s["count"], s["control"]) for s in view["stubs"])


def test_edges_to_auxiliary_items_become_stubs_not_routed_edges():
    h = hierarchy.Hierarchy(_graph(aux_nodes()))
    view = hierarchy.view(h, set())
    top = {n["id"]: n for n in view["nodes"]}
    assert {i for i, n in top.items() if n["aux"]} == {"summaries", "init"}
    assert stub_rows(view) == AUX_STUBS  # two summaries reading `layer` bundle into one stub of count 2
    for e in view["edges"]:  # stubbed edges keep no route; main-flow edges do
        stubbed = top[e["from"]]["aux"] != top[e["to"]]["aux"]
        assert e["aux"] == stubbed and (e["points"] == []) == stubbed
    # opening a scope keeps its stubs; its children are all main-flow, so none are added
    opened = hierarchy.view(h, {"layer"})
    assert stub_rows(opened) == AUX_STUBS
    # inside an auxiliary scope the level has its own main/aux split: init's Const feeds its Assign, both main
    assert stub_rows(hierarchy.view(h, {"init"})) == AUX_STUBS


def test_xor_stubs_name_the_merge_summary(hier_of):
    h = hier_of("tf1_xor", "xor_logs")
    view = hierarchy.view(h, set())
    outs = {(s["node"], s["count"]) for s in view["stubs"] if s["dir"] == "out"}
    assert outs == {("layer1", 3), ("layer2", 3), ("cost", 1), ("accuracy", 1)}
    ins = [s for s in view["stubs"] if s["dir"] == "in"]
    assert {s["node"] for s in ins} == {"Merge"} and sum(s["count"] for s in ins) == 8
    inside = hierarchy.view(h, {"layer1"})
    assert ("layer1/weight1", "layer1/weights1", "out", 1, 0) in stub_rows(inside)
