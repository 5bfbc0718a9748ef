"""Graph sources: RunMetadata (TF2 trace_export, step-stat shapes) and Keras configs (Keras 2 and 3 forms)."""
from __future__ import annotations

import json

import pytest

from board_server.data.logdir import LogdirProvider
from board_server.graphs import hierarchy, sources
from conftest import FIXTURES, expected
from summaries.proto import GraphDef, RunMetadata


def test_trace_export_function_graphs_merge_in_scopes():
    provider = LogdirProvider([("", str(FIXTURES / "tf2_native"))], workers=1)
    provider.reload(first=True)
    model = sources.load(provider, "traced", "f_trace")
    want = expected("tf2_native")["runs"]["traced"]["traced_graphs"]["f_trace"]["function_graphs"]
    got = sorted([n.name, n.op] for n in model.graph.node)
    assert got == sorted([f"graph_{i}/{name}", op] for i, g in enumerate(want, 1) for name, op in g["node_ops"])
    # inputs are renamed with their graph's scope, so every edge still resolves
    h = hierarchy.Hierarchy(model.graph, model.shapes)
    assert not any("not in the graph" in w for w in h.warnings)
    assert sources.info(provider)["traced"]["tags"]["f_trace"] == {
        "tag": "f_trace", "conceptual_graph": False, "op_graph": True, "profile": False}


def test_step_stats_shapes_and_partition_graph_fallback():
    meta = RunMetadata()
    g = meta.partition_graphs.add()
    g.node.add(name="a", op="Const")
    g.node.add(name="b", op="Neg").input.append("a")
    stats = meta.step_stats.dev_stats.add(device="/cpu:0").node_stats.add(node_name="a")
    out = stats.output.add(slot=0)
    for size in (3, -1):
        out.tensor_description.shape.dim.add(size=size)
    graph, shapes = sources.graph_from_run_metadata(meta.SerializeToString())
    assert [n.name for n in graph.node] == ["a", "b"]
    assert shapes == {"a": ["3×?"]}
    h = hierarchy.Hierarchy(graph, shapes)
    assert hierarchy.view(h, set())["edges"][0]["shape"] == "3×?"
    with pytest.raises(sources.GraphSourceError):
        sources.graph_from_run_metadata(b"\xff\xff\xff")


def test_keras2_functional_and_nested_sequential():
    config = {"class_name": "Model", "config": {"name": "m", "layers": [
        {"class_name": "InputLayer", "name": "in", "config": {"name": "in", "batch_input_shape": [None, 3]},
         "inbound_nodes": []},
        {"class_name": "Sequential", "name": "block", "config": {"name": "block", "layers": [
            {"class_name": "Dense", "config": {"name": "d1", "units": 5, "activation": "relu"}},
            {"class_name": "Dropout", "config": {"name": "drop", "rate": 0.5}}]},
         "inbound_nodes": [[["in", 0, 0, {}]]]},
        {"class_name": "Dense", "name": "head", "config": {"name": "head", "units": 1},
         "inbound_nodes": [[["block", 1, 0, {}]]]}],
        "input_layers": [["in", 0, 0]], "output_layers": [["head", 0, 0]]}}
    graph, shapes, warnings = sources.graph_from_keras(json.dumps(config))
    nodes = {n.name: (n.op, list(n.input)) for n in graph.node}
    assert nodes == {"in": ("InputLayer", []), "block/d1": ("Dense", ["in"]), "block/drop": ("Dropout", ["block/d1"]),
                     "head": ("Dense", ["block/drop"])}
    assert shapes["in"] == ["?×3"] and warnings == []
    attrs = {n.name: n.attr for n in graph.node}
    assert json.loads(attrs["block/d1"]["units"].s) == 5 and json.loads(attrs["block/d1"]["activation"].s) == "relu"
    view = hierarchy.view(hierarchy.Hierarchy(graph, shapes), set())
    assert {n["id"] for n in view["nodes"]} == {"in", "block", "head"}
    assert {(e["from"], e["to"]) for e in view["edges"]} == {("in", "block"), ("block", "head")}


def test_keras_sequential_without_inbound_nodes_is_a_chain():
    config = {"class_name": "Sequential", "config": {"name": "s", "layers": [
        {"class_name": "InputLayer", "config": {"name": "input_layer", "batch_shape": [None, 784]}},
        {"class_name": "Dense", "config": {"name": "dense", "units": 10}},
        {"class_name": "Dense", "config": {"name": "dense_1", "units": 2}}]}}
    graph, shapes, _ = sources.graph_from_keras(json.dumps(config))
    assert [(n.name, list(n.input)) for n in graph.node] == [("input_layer", []), ("dense", ["input_layer"]),
                                                            ("dense_1", ["dense"])]
    assert shapes == {"input_layer": ["?×784"]}


@pytest.mark.parametrize("text", ["not json", "[1, 2]", json.dumps({"class_name": "Functional", "config": {
    "layers": [{"class_name": "Dense", "name": "x", "config": {}, "inbound_nodes": [[["ghost", 0, 0, {}]]]}]}})])
def test_bad_keras_configs(text):
    if text.startswith("{"):
        graph, _, warnings = sources.graph_from_keras(text)
        assert [n.name for n in graph.node] == ["x"] and "ghost" in warnings[0]
    else:
        with pytest.raises(sources.GraphSourceError):
            sources.graph_from_keras(text)


def test_garbage_graph_def_raises():
    with pytest.raises(sources.GraphSourceError):
        sources.parse_graph_def(b"\xff\xff\xff\x07")
    assert sources.parse_graph_def(GraphDef().SerializeToString()).node == []
