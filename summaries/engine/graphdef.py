"""Export a Graph as TensorFlow's GraphDef: one NodeDef per op with inputs, `^control` inputs, attrs
(`dtype`/`T`/`shape`/`value`) and `_output_shapes`, for `FileWriter.add_graph(sess.graph)`."""
from __future__ import annotations

import numpy as np

from summaries.engine import dtypes as dt
from summaries.engine.dtypes import DType, TensorShape
from summaries.proto import AttrValue, GraphDef, NodeDef, TensorProto, VersionDef

_MAX_CONTENT = 1 << 20  # larger constants keep dtype/shape only, as TF's graph viewer does not need them


def tensor_proto(arr: np.ndarray, with_content: bool = True) -> TensorProto:
    d = dt.string if arr.dtype == object else dt.as_dtype(arr.dtype)
    p = TensorProto(dtype=d.as_datatype_enum)
    for s in arr.shape:
        p.tensor_shape.dim.add(size=s)
    if not with_content:
        return p
    if d is dt.string:
        p.string_val.extend(x if isinstance(x, bytes) else str(x).encode() for x in arr.ravel())
    elif arr.ndim == 0:
        v = arr.item()
        if d is dt.float32:
            p.float_val.append(v)
        elif d is dt.float64:
            p.double_val.append(v)
        elif d is dt.int64:
            p.int64_val.append(v)
        elif d is dt.bool_:
            p.bool_val.append(v)
        elif d is dt.float16:
            p.half_val.append(int(np.asarray(v, np.float16).view(np.uint16)))
        else:
            p.int_val.append(int(v))
    else:
        p.tensor_content = np.ascontiguousarray(arr).astype(arr.dtype.newbyteorder("<")).tobytes()
    return p


def _attr(value) -> AttrValue | None:
    if isinstance(value, DType):
        return AttrValue(type=value.as_datatype_enum)
    if isinstance(value, TensorShape):
        return AttrValue(shape=value.as_proto())
    if isinstance(value, np.ndarray):
        return AttrValue(tensor=tensor_proto(value, value.nbytes <= _MAX_CONTENT))
    if isinstance(value, bool):
        return AttrValue(b=value)
    if isinstance(value, (int, np.integer)):
        return AttrValue(i=int(value))
    if isinstance(value, float):
        return AttrValue(f=value)
    if isinstance(value, str):
        return AttrValue(s=value.encode())
    if isinstance(value, (list, tuple)) and all(isinstance(v, (int, np.integer)) for v in value):
        return AttrValue(list=AttrValue.ListValue(i=[int(v) for v in value]))
    return None


def node_def(op, add_shapes: bool = True) -> NodeDef:
    n = NodeDef(name=op.name, op=op.type)
    for t in op.inputs:
        n.input.append(t.op.name if t.value_index == 0 else t.name)
    n.input.extend("^" + c.name for c in op.control_inputs)
    for k, v in op.attrs.items():
        a = _attr(v)
        if a is not None:
            n.attr[k].CopyFrom(a)
    if op.outputs and "T" not in n.attr and "dtype" not in n.attr:
        n.attr["T"].CopyFrom(AttrValue(type=op.outputs[0].dtype.as_datatype_enum))
    if add_shapes and op.outputs:
        n.attr["_output_shapes"].CopyFrom(AttrValue(list=AttrValue.ListValue(
            shape=[t.shape.as_proto() for t in op.outputs])))
    return n


def graph_def(graph, add_shapes: bool = True) -> GraphDef:
    gd = GraphDef(versions=VersionDef(producer=27))
    gd.node.extend(node_def(op, add_shapes) for op in graph._ops)
    return gd
