"""Every writer's graph turned into one model: a GraphDef plus output shapes per node.

Sources: a run's GraphDef (TF1 FileWriter, meta graphs, tensorboardX / torch `add_graph`), RunMetadata
(TF2 `trace_export`: function graphs, else partition graphs; step stats carry torch/TF output shapes),
and a Keras model config (the conceptual graph: one node per layer, edges from `inbound_nodes`).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from google.protobuf.message import DecodeError

from summaries.proto import AttrValue, GraphDef, RunMetadata, TensorShapeProto, DataType

RUN_GRAPH_TAG = "__run_graph__"  # what the loader calls a run's own graph
MAX_KERAS_DEPTH = 32


class GraphSourceError(ValueError):
    """The stored bytes/JSON are not a graph we can read (reported to the page as a JSON error)."""


@dataclass
class GraphModel:
    graph: GraphDef
    kind: str  # "op" (a GraphDef), "conceptual" (Keras layers), "profile" (RunMetadata graphs)
    shapes: dict[str, list[str]] = field(default_factory=dict)  # node name -> shape text per output slot
    warnings: list[str] = field(default_factory=list)


# -- shapes ---------------------------------------------------------------------------------
def shape_text(shape: TensorShapeProto) -> str:
    """'1×4', '?×10', 'scalar' or '?' (unknown rank), as the page labels edges."""
    if shape.unknown_rank:
        return "?"
    if not shape.dim:
        return "scalar"
    return "×".join("?" if d.size < 0 else str(d.size) for d in shape.dim)


def node_output_shapes(node) -> list[str]:
    """Shapes from the `_output_shapes` attr (TF with add_shapes, tensorboardX/torch)."""
    attr = node.attr.get("_output_shapes") if "_output_shapes" in node.attr else None
    if attr is None:
        return []
    return [shape_text(s) for s in attr.list.shape]


def _step_stats_shapes(run_metadata: RunMetadata) -> dict[str, list[str]]:
    shapes: dict[str, list[str]] = {}
    for dev in run_metadata.step_stats.dev_stats:
        for stats in dev.node_stats:
            if not stats.output:
                continue
            slots = max(o.slot for o in stats.output) + 1
            if slots > 1024:
                continue
            out = ["?"] * slots
            for o in stats.output:
                if o.HasField("tensor_description"):
                    out[o.slot] = shape_text(o.tensor_description.shape)
            shapes[stats.node_name] = out
    return shapes


# -- GraphDef / RunMetadata ----------------------------------------------------------------
def parse_graph_def(data: bytes) -> GraphDef:
    try:
        return GraphDef.FromString(data)
    except (DecodeError, RuntimeError, ValueError) as e:
        raise GraphSourceError(f"the stored graph is not a GraphDef ({e})") from None


def merge_graphs(graphs: list[GraphDef]) -> GraphDef:
    """One graph from several; with more than one, each goes in a scope `graph_<i>` (as TensorBoard does)."""
    if len(graphs) == 1:
        return graphs[0]
    merged = GraphDef()
    for i, graph in enumerate(graphs, 1):
        prefix = f"graph_{i}/"
        for node in graph.node:
            new = merged.node.add()
            new.CopyFrom(node)
            new.name = prefix + node.name
            del new.input[:]
            for name in node.input:
                control = name.startswith("^")
                new.input.append(("^" if control else "") + prefix + name.lstrip("^"))
    return merged


def graph_from_run_metadata(data: bytes) -> tuple[GraphDef | None, dict[str, list[str]]]:
    """The graph held by a RunMetadata (function graphs first, then partition graphs) and step-stat shapes."""
    try:
        meta = RunMetadata.FromString(data)
    except (DecodeError, RuntimeError, ValueError) as e:
        raise GraphSourceError(f"the stored run metadata is not a RunMetadata ({e})") from None
    graphs = [f.pre_optimization_graph for f in meta.function_graphs if f.pre_optimization_graph.node]
    if not graphs:
        graphs = [g for g in meta.partition_graphs if g.node]
    graph = merge_graphs(graphs) if graphs else None
    return graph, _step_stats_shapes(meta)


# -- Keras ---------------------------------------------------------------------------------
def _tensor_refs(obj, depth: int = 0) -> list[tuple[str, int, int, list | None]]:
    """(layer, node index, tensor index, shape) of every tensor an inbound-node spec refers to.

    Keras 3 writes {"keras_history": [layer, node, tensor], "shape": [...]} dicts; Keras 2 writes
    [layer, node, tensor, kwargs] lists.
    """
    if depth > 20:
        return []
    if isinstance(obj, dict):
        config = obj.get("config") if isinstance(obj.get("config"), dict) else obj
        history = config.get("keras_history")
        if isinstance(history, list) and history and isinstance(history[0], str):
            index = [int(v) if isinstance(v, int) else 0 for v in (history + [0, 0])[1:3]]
            return [(history[0], index[0], index[1], config.get("shape"))]
        return [ref for value in obj.values() for ref in _tensor_refs(value, depth + 1)]
    if isinstance(obj, list):
        if len(obj) >= 3 and isinstance(obj[0], str) and isinstance(obj[1], int) and isinstance(obj[2], int):
            return [(obj[0], obj[1], obj[2], None)]
        return [ref for value in obj for ref in _tensor_refs(value, depth + 1)]
    return []


def _keras_shape_text(shape) -> str | None:
    if not isinstance(shape, list):
        return None
    return "×".join("?" if d is None else str(d) for d in shape) if shape else "scalar"


def _is_model(layer: dict) -> bool:
    config = layer.get("config")
    return isinstance(config, dict) and isinstance(config.get("layers"), list)


class _KerasBuilder:
    def __init__(self) -> None:
        self.graph = GraphDef()
        self.shapes: dict[str, list[str]] = {}
        self.warnings: list[str] = []

    def model(self, spec: dict, scope: str, inputs: list[str], depth: int = 0) -> list[str]:
        """Add a model's layers under `scope`; return the node names that are its outputs."""
        config = spec.get("config") if isinstance(spec.get("config"), dict) else {}
        layers = [layer for layer in config.get("layers", []) if isinstance(layer, dict)]
        sequential = spec.get("class_name") == "Sequential" or not any("inbound_nodes" in x for x in layers)
        outputs_of: dict[str, list[str]] = {}
        previous = list(inputs)
        for layer in layers:
            lconf = layer.get("config") if isinstance(layer.get("config"), dict) else {}
            name = str(layer.get("name") or lconf.get("name") or f"layer_{len(outputs_of)}")
            full = scope + name
            if sequential:
                sources = previous
            else:
                sources = []
                for ref_layer, _node, _tensor, shape in _tensor_refs(layer.get("inbound_nodes", [])):
                    for src in outputs_of.get(ref_layer, []):
                        sources.append(src)
                        text = _keras_shape_text(shape)
                        if text:
                            self.shapes.setdefault(src, [text])
                    if ref_layer not in outputs_of:
                        self.warnings.append(f"layer {full!r} refers to unknown layer {ref_layer!r}")
                if not sources and layer.get("class_name") != "InputLayer":
                    sources = list(inputs)
            if _is_model(layer) and depth < MAX_KERAS_DEPTH:
                outputs_of[name] = self.model(layer, full + "/", sources, depth + 1)
            else:
                self._layer(full, layer, lconf, sources)
                outputs_of[name] = [full]
            previous = outputs_of[name]
        if sequential:
            return previous
        wanted = [ref[0] for ref in _tensor_refs(config.get("output_layers", []))]
        return [n for layer in wanted for n in outputs_of.get(layer, [])] or previous

    def _layer(self, full: str, layer: dict, lconf: dict, sources: list[str]) -> None:
        node = self.graph.node.add()
        node.name = full
        node.op = str(layer.get("class_name") or "Layer")
        node.input.extend(dict.fromkeys(sources))
        node.attr["keras_class"].s = node.op.encode()
        for key in ("units", "activation", "filters", "kernel_size", "rate", "dtype", "trainable", "batch_shape",
                    "batch_input_shape", "input_shape", "pool_size", "strides", "padding"):
            if key in lconf and lconf[key] is not None:
                value = lconf[key]
                if isinstance(value, dict):
                    value = value.get("config", {}).get("name", value.get("class_name", ""))
                node.attr[key].CopyFrom(AttrValue(s=json.dumps(value)[:200].encode()))
        dtype = lconf.get("dtype")
        if isinstance(dtype, str) and dtype.upper() in DataType.keys():
            node.attr["T"].type = DataType.Value(dtype.upper())
        shape = lconf.get("batch_shape") or lconf.get("batch_input_shape")
        text = _keras_shape_text(shape)
        if text:
            self.shapes[full] = [text]


def graph_from_keras(config_json: str) -> tuple[GraphDef, dict[str, list[str]], list[str]]:
    """The conceptual graph of a Keras model config: layers as nodes, nested models as scopes."""
    try:
        spec = json.loads(config_json or "{}")
    except ValueError as e:
        raise GraphSourceError(f"the Keras model config is not JSON ({e})") from None
    if not isinstance(spec, dict):
        raise GraphSourceError("the Keras model config is not a JSON object")
    builder = _KerasBuilder()
    if _is_model(spec):
        builder.model(spec, "", [])
    elif spec:
        builder._layer(str(spec.get("config", {}).get("name", "layer")), spec, spec.get("config") or {}, [])
    return builder.graph, builder.shapes, builder.warnings


# -- from the data provider ---------------------------------------------------------------------
def load(provider, run: str, tag: str | None, conceptual: bool = False) -> GraphModel | None:
    """The graph a (run, tag) shows, or None when the run/tag has none."""
    if conceptual:
        text = provider.keras_model(run, tag) if tag else None
        if text is None:
            return None
        graph, shapes, warnings = graph_from_keras(text)
        return GraphModel(graph, "conceptual", shapes, warnings)
    if tag and tag != RUN_GRAPH_TAG:
        if provider.keras_model(run, tag) is not None and provider.run_metadata(run, tag) is None:
            return load(provider, run, tag, conceptual=True)
        data = provider.run_metadata(run, tag)
        if data is None:
            return None
        graph, shapes = graph_from_run_metadata(data)
        if graph is None:  # step stats only (e.g. tensorboardX's profiler): the run's graph with those shapes
            base = provider.graph(run)
            if base is None:
                raise GraphSourceError(f"run metadata {tag!r} holds no graph and run {run!r} has no graph")
            graph = parse_graph_def(base)
        return GraphModel(graph, "profile", shapes)
    data = provider.graph(run)
    if data is None:
        return None
    model = GraphModel(parse_graph_def(data), "op")
    for other in provider.run_tags(run, "run_metadata"):  # torch shapes may live in run metadata
        meta = provider.run_metadata(run, other)
        if meta:
            try:
                for name, shapes in graph_from_run_metadata(meta)[1].items():
                    model.shapes.setdefault(name, shapes)
            except GraphSourceError:
                pass
    return model


def info(provider) -> dict:
    """TensorBoard's /info payload: per run whether it has a run graph and which tags hold graphs."""
    out: dict[str, dict] = {}

    def item(run: str) -> dict:
        return out.setdefault(run, {"run": run, "run_graph": False, "tags": {}})

    def tag_item(run: str, tag: str) -> dict:
        return item(run)["tags"].setdefault(tag, {"tag": tag, "conceptual_graph": False, "op_graph": False,
                                                  "profile": False})

    for run, tags in provider.tags("graphs").items():
        if tags:
            item(run)["run_graph"] = True
    for plugin, flag in (("graph_run_metadata_graph", "op_graph"), ("graph_run_metadata", "profile"),
                         ("run_metadata", "profile"), ("graph_keras_model", "conceptual_graph")):
        for run, tags in provider.tags(plugin).items():
            for tag in tags:
                tag_item(run, tag)[flag] = True
                if plugin == "graph_run_metadata":
                    tag_item(run, tag)["op_graph"] = True
    return out
