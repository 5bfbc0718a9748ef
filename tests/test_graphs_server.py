"""The graphs routes over HTTP (real CLI): TensorBoard's /info and /graph, our /layout, /node, /search,
/trace; graphs written by real TF1, TF2 trace_export and tensorboardX; hostile graphs never give a 5xx."""
from __future__ import annotations

import json
import urllib.parse
from pathlib import Path

import pytest
from google.protobuf import text_format
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.compat.proto import graph_pb2 as tb_graph_pb2

from conftest import FIXTURES, expected, fetch, get_json, serve, wait_loaded
from summaries.events.record import frame
from summaries.proto import Event, GraphDef, Summary


def route(url: str, path: str, **params) -> str:
    return f"{url}data/plugin/graphs/{path}?{urllib.parse.urlencode(params)}"


@pytest.fixture(scope="module")
def xor_url():
    with serve(FIXTURES / "tf1_xor", "--reload_interval", "0") as url:
        yield wait_loaded(url)


def test_xor_info_graph_text_layout(xor_url):
    info = get_json(xor_url + "data/plugin/graphs/info")
    assert set(info) == {"xor_logs", "xor_logs_r0_01"}
    assert info["xor_logs"]["run_graph"] is True and info["xor_logs"]["tags"] == {}
    assert "graphs" in get_json(xor_url + "data/plugins_listing")

    status, ctype, text = fetch(route(xor_url, "graph", run="xor_logs"))
    assert status == 200 and ctype.startswith("text/x-protobuf")
    graph = text_format.Parse(text.decode("utf-8"), tb_graph_pb2.GraphDef())  # TensorBoard's own proto parses it
    want = expected("tf1_xor")["runs"]["xor_logs"]["graph"]
    assert sorted([n.name, n.op] for n in graph.node) == sorted(want["node_ops"])

    top = get_json(route(xor_url, "layout", run="xor_logs"))
    labels = {n["label"]: n for n in top["nodes"]}
    assert {"layer1", "layer2", "cost", "train"} <= set(labels)
    assert all(labels[s]["kind"] == "scope" and not labels[s]["expanded"] for s in ("layer1", "layer2", "cost"))
    opened = get_json(route(xor_url, "layout", run="xor_logs", expanded="layer1"))
    inside = {n["label"] for n in opened["nodes"] if n["parent"] == "layer1"}
    assert {"weight1", "bias1", "MatMul", "add", "Sigmoid", "weights1", "biases1"} <= inside


def test_xor_node_search_trace(xor_url):
    acc = EventAccumulator(str(FIXTURES / "tf1_xor" / "xor_logs"))
    acc.Reload()
    tb_nodes = {n.name: n for n in acc.Graph().node}
    details = get_json(route(xor_url, "node", run="xor_logs", name="layer1/MatMul"))
    assert details["op"] == tb_nodes["layer1/MatMul"].op
    assert [i["name"] for i in details["inputs"]] == [t.split(":")[0] for t in tb_nodes["layer1/MatMul"].input]
    assert details["device"] == tb_nodes["layer1/MatMul"].device
    assert set(details["attrs"]) == set(tb_nodes["layer1/MatMul"].attr) - {"_output_shapes"}
    consumers = sorted(n.name for n in tb_nodes.values() if any(t.split(":")[0] == "layer1/MatMul"
                                                                 for t in n.input))
    assert sorted(o["name"] for o in details["outputs"]) == consumers
    scope = get_json(route(xor_url, "node", run="xor_logs", name="layer1"))
    assert scope["kind"] == "scope" and scope["count"] == sum(n.startswith("layer1/") for n in tb_nodes)
    # "layer1/bias1" is both an op and a scope: kind picks which one
    assert get_json(route(xor_url, "node", run="xor_logs", name="layer1/bias1"))["op"] == "VarHandleOp"
    both = get_json(route(xor_url, "node", run="xor_logs", name="layer1/bias1", kind="scope"))
    assert both["kind"] == "scope" and both["count"] == sum(n.startswith("layer1/bias1") for n in tb_nodes)

    hits = get_json(route(xor_url, "search", run="xor_logs", q="layer2/Sigmoid"))["matches"]
    assert hits[0]["name"] == "layer2/Sigmoid" and hits[0]["scopes"] == ["layer2"]

    traced = get_json(route(xor_url, "trace", run="xor_logs", name="layer2/Sigmoid"))
    assert {"layer1", "layer2", "x-input"} <= set(traced["ids"]) and "cost" not in traced["ids"]

    for path, params, code in [("layout", {"run": "nope"}, 404), ("layout", {}, 400),
                               ("node", {"run": "xor_logs", "name": "nope"}, 404),
                               ("trace", {"run": "xor_logs", "name": "nope"}, 404),
                               ("layout", {"run": "xor_logs", "expanded": ",".join(["a"] * 600)}, 400)]:
        status, ctype, body = fetch(route(xor_url, path, **params))
        assert status == code and ctype.startswith("application/json") and "error" in json.loads(body)


def test_tf2_trace_export_graph():
    with serve(FIXTURES / "tf2_native", "--reload_interval", "0") as url:
        wait_loaded(url)
        info = get_json(url + "data/plugin/graphs/info")
        assert info["traced"]["tags"]["f_trace"]["op_graph"] is True
        assert info["traced"]["run_graph"] is False
        want = expected("tf2_native")["runs"]["traced"]["traced_graphs"]["f_trace"]["function_graphs"]
        status, _, text = fetch(route(url, "graph", run="traced", tag="f_trace"))
        graph = text_format.Parse(text.decode("utf-8"), tb_graph_pb2.GraphDef())
        names = sorted(n.name for n in graph.node)
        assert names == sorted(f"graph_{i}/{n}" for i, g in enumerate(want, 1) for n in g["names"])
        lay = get_json(route(url, "layout", run="traced", tag="f_trace", expanded="graph_3,graph_3/dense1"))
        inside = {n["label"] for n in lay["nodes"] if n["parent"] == "graph_3/dense1"}
        assert inside == {n.split("/")[1] for n in want[2]["names"] if n.startswith("dense1/")}


def test_tbx_torch_graph_with_shapes():
    with serve(FIXTURES / "tbx", "--reload_interval", "0") as url:
        wait_loaded(url)
        info = get_json(url + "data/plugin/graphs/info")
        assert info["tbx_run"]["run_graph"] is True
        lay = get_json(route(url, "layout", run="tbx_run", expanded="MLP"))
        names = expected("tbx")["runs"]["tbx_run"]["graph"]["names"]
        ops = sorted(n["name"] for n in lay["nodes"] if n["kind"] == "op")
        assert set(ops) <= set(names) and "MLP/19" in ops
        assert any(e["shape"] == "1×4" for e in lay["edges"]) and lay["has_shapes"]
        assert any("MLP/Linear[fc1]/weight/fc1" in w for w in lay["warnings"])


# -- hostile graphs ---------------------------------------------------------------------------
def write_events(run_dir: Path, events: list[Event]) -> None:
    run_dir.mkdir(parents=True)
    with open(run_dir / "events.out.tfevents.1700000000.test", "wb") as f:
        for i, event in enumerate([Event(wall_time=1700000000, file_version="brain.Event:2")] + events):
            event.wall_time = event.wall_time or 1700000000.0 + i
            f.write(frame(event.SerializeToString()))


def graph_event(nodes) -> Event:
    g = GraphDef()
    for name, op, inputs in nodes:
        g.node.add(name=name, op=op).input.extend(inputs)
    return Event(graph_def=g.SerializeToString())


def keras_event(config: dict) -> Event:
    value = Summary.Value(tag="keras")
    value.metadata.plugin_data.plugin_name = "graph_keras_model"
    value.tensor.dtype = 7  # DT_STRING
    value.tensor.string_val.append(json.dumps(config).encode())
    return Event(step=0, summary=Summary(value=[value]))


KERAS = {"class_name": "Functional", "config": {"name": "model", "layers": [
    {"class_name": "InputLayer", "name": "inp", "config": {"name": "inp", "batch_shape": [None, 8]},
     "inbound_nodes": []},
    {"class_name": "Dense", "name": "d1", "config": {"name": "d1", "units": 4},
     "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {
         "shape": [None, 8], "keras_history": ["inp", 0, 0]}}], "kwargs": {}}]},
    {"class_name": "Dense", "name": "d2", "config": {"name": "d2", "units": 4},
     "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {
         "shape": [None, 8], "keras_history": ["inp", 0, 0]}}], "kwargs": {}}]},
    {"class_name": "Concatenate", "name": "cat", "config": {"name": "cat"},
     "inbound_nodes": [{"args": [[{"class_name": "__keras_tensor__", "config": {
         "shape": [None, 4], "keras_history": ["d1", 0, 0]}}, {"class_name": "__keras_tensor__", "config": {
             "shape": [None, 4], "keras_history": ["d2", 0, 0]}}]], "kwargs": {}}]}],
    "input_layers": [["inp", 0, 0]], "output_layers": [["cat", 0, 0]]}}


@pytest.fixture(scope="module")
def hostile_url(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    write_events(root / "cycle", [graph_event([("a/x", "Add", ["b/y"]), ("b/y", "Add", ["a/x:0"]),
                                               ("c", "Identity", ["^a/x"])])])
    write_events(root / "dangling", [graph_event([("a", "Add", ["ghost", "ghost2:1"]), ("b", "Neg", ["a"])])])
    write_events(root / "empty", [graph_event([])])
    write_events(root / "garbage", [Event(graph_def=b"\xff\xff\xff\x07not a graph")])
    write_events(root / "flat50k", [graph_event([(f"n{i}", "Add", [f"n{i - 1}"] if i else [])
                                                 for i in range(50_000)])])
    write_events(root / "scoped50k", [graph_event([(f"block{i // 500}/unit{i // 25}/op{i}", "Add",
                                                    [f"block{(i - 1) // 500}/unit{(i - 1) // 25}/op{i - 1}"]
                                                    if i else []) for i in range(50_000)])])
    write_events(root / "keras", [keras_event(KERAS)])
    with serve(root, "--reload_interval", "0") as url:
        yield wait_loaded(url)


@pytest.mark.parametrize("run,needle", [("cycle", "cycle"), ("dangling", "ghost"), ("empty", "no nodes"),
                                        ("flat50k", "grid"), ("scoped50k", None)])
def test_hostile_graphs_draw_with_warnings(hostile_url, run, needle):
    status, ctype, body = fetch(route(hostile_url, "layout", run=run))
    assert status == 200 and ctype.startswith("application/json")
    lay = json.loads(body)
    if needle:
        assert any(needle in w for w in lay["warnings"]), lay["warnings"]
    if run == "scoped50k":
        assert [n["label"] for n in lay["nodes"]] == [f"block{i}" for i in range(100)]
        assert all(e["count"] == 1 for e in lay["edges"]) and len(lay["edges"]) == 99
        opened = get_json(route(hostile_url, "layout", run=run, expanded="block7"))
        assert sum(n["parent"] == "block7" for n in opened["nodes"]) == 20
    status, _, _ = fetch(route(hostile_url, "graph", run=run))
    assert status == 200


def test_garbage_graph_is_a_json_error(hostile_url):
    status, ctype, body = fetch(route(hostile_url, "layout", run="garbage"))
    assert status == 422 and ctype.startswith("application/json") and "GraphDef" in json.loads(body)["error"]


def test_keras_conceptual_graph(hostile_url):
    info = get_json(hostile_url + "data/plugin/graphs/info")
    assert info["keras"]["tags"]["keras"]["conceptual_graph"] is True
    status, _, text = fetch(route(hostile_url, "graph", run="keras", tag="keras", conceptual="true"))
    graph = text_format.Parse(text.decode("utf-8"), tb_graph_pb2.GraphDef())
    layers = KERAS["config"]["layers"]
    assert [(n.name, n.op) for n in graph.node] == [(x["name"], x["class_name"]) for x in layers]
    assert {n.name: list(n.input) for n in graph.node}["cat"] == ["d1", "d2"]
    lay = get_json(route(hostile_url, "layout", run="keras", tag="keras", conceptual="true"))
    assert {(e["from"], e["to"], e["shape"]) for e in lay["edges"]} == {
        ("inp", "d1", "?×8"), ("inp", "d2", "?×8"), ("d1", "cat", "?×4"), ("d2", "cat", "?×4")}


# -- series of repeated ops ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def repeated_url(tmp_path_factory):
    from test_graphs_hierarchy import repeated_nodes
    root = tmp_path_factory.mktemp("repeated")
    write_events(root / "repeated", [graph_event(repeated_nodes())])
    with serve(root, "--reload_interval", "0") as url:
        yield wait_loaded(url)


def test_series_layout_collapsed_and_expanded(repeated_url):
    from test_graphs_hierarchy import ADD_SERIES
    lay = get_json(route(repeated_url, "layout", run="repeated", expanded="block"))
    inside = {n["id"]: n for n in lay["nodes"] if n["parent"] == "block"}
    assert inside[ADD_SERIES]["kind"] == "series" and inside[ADD_SERIES]["count"] == 12
    assert not inside[ADD_SERIES]["expanded"] and "block/add_7" not in inside
    edges = {(e["from"], e["to"]): e["count"] for e in lay["edges"]}
    assert edges["block/x", ADD_SERIES] == 12 and edges[ADD_SERIES, "block/sum"] == 12
    opened = get_json(route(repeated_url, "layout", run="repeated", expanded=f"block,{ADD_SERIES}"))
    members = {n["name"] for n in opened["nodes"] if n["parent"] == ADD_SERIES}
    assert members == {f"block/add_{k}" for k in range(1, 13)}  # real op names
    assert next(n for n in opened["nodes"] if n["id"] == ADD_SERIES)["expanded"] is True
    # repeated expanded= params and a series whose scope is closed
    split = get_json(route(repeated_url, "layout", run="repeated") + f"&expanded=block&expanded={ADD_SERIES}")
    assert split["nodes"] == opened["nodes"]
    alone = get_json(route(repeated_url, "layout", run="repeated", expanded=ADD_SERIES))
    assert not any(n["parent"] for n in alone["nodes"])


def test_series_node_search_trace(repeated_url):
    from test_graphs_hierarchy import ADD_SERIES
    series = get_json(route(repeated_url, "node", run="repeated", name=ADD_SERIES, kind="series"))
    assert (series["kind"], series["op"], series["count"]) == ("series", "AddV2", 12)
    assert series["members"] == [f"block/add_{k}" for k in range(1, 13)] and series["scopes"] == ["block"]
    assert get_json(route(repeated_url, "node", run="repeated", name=ADD_SERIES)) == series
    scope = get_json(route(repeated_url, "node", run="repeated", name="block"))
    kinds = {c["id"]: (c["kind"], c["op"]) for c in scope["children"]}
    assert kinds[ADD_SERIES] == ("series", "AddV2") and kinds["block/mul_1"] == ("op", "Mul")
    member = get_json(route(repeated_url, "node", run="repeated", name="block/add_7"))
    assert (member["name"], member["op"], member["series"]) == ("block/add_7", "AddV2", ADD_SERIES)
    assert [i["name"] for i in member["inputs"]] == ["block/x", "block/add_6"]
    assert member["scopes"] == ["block", ADD_SERIES]

    hits = get_json(route(repeated_url, "search", run="repeated", q="add_7"))["matches"]
    assert hits[0]["name"] == "block/add_7" and hits[0]["id"] == "block/add_7"
    assert hits[0]["scopes"] == ["block", ADD_SERIES] and hits[0]["series"] == ADD_SERIES

    # trace: the series is lit while collapsed, its members once it is open
    closed = get_json(route(repeated_url, "trace", run="repeated", name="block/sum", expanded="block"))
    assert {"block", ADD_SERIES, "block/x", "input"} <= set(closed["ids"]) and "block/add_3" not in closed["ids"]
    opened = get_json(route(repeated_url, "trace", run="repeated", name="block/add_3",
                            expanded=f"block,{ADD_SERIES}"))
    assert {ADD_SERIES, "block/add_1", "block/add_2", "block/add_3", "block/x"} <= set(opened["ids"])
    assert "block/add_4" not in opened["ids"] and closed["ops"] == 15


# -- stubs of edges to auxiliary nodes ------------------------------------------------------------
def test_layout_stubs_for_auxiliary_edges(tmp_path):
    from test_graphs_hierarchy import AUX_STUBS, aux_nodes, stub_rows
    write_events(tmp_path / "aux", [graph_event(aux_nodes())])
    with serve(tmp_path, "--reload_interval", "0") as url:
        wait_loaded(url)
        lay = get_json(route(url, "layout", run="aux"))
        assert stub_rows(lay) == AUX_STUBS
        routed = {(e["from"], e["to"]) for e in lay["edges"] if e["points"]}
        assert routed == {("x", "layer"), ("layer", "cost")}  # stubbed edges are not routed
        assert stub_rows(get_json(route(url, "layout", run="aux", expanded="layer,init"))) == AUX_STUBS


def test_xor_layout_stubs(xor_url):
    lay = get_json(route(xor_url, "layout", run="xor_logs"))
    into_merge = {s["other"]: s["count"] for s in lay["stubs"] if s["node"] == "Merge"}
    assert into_merge == {"layer1": 3, "layer2": 3, "cost": 1, "accuracy": 1}
    assert all(s["dir"] == "in" for s in lay["stubs"] if s["node"] == "Merge")
