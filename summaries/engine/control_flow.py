"""group / no_op / tuple / control_dependencies / cond: ordering ops without data."""
from __future__ import annotations

import numpy as np

from summaries.engine.graph import (Operation, Tensor, convert_to_tensor, get_default_graph, make_op, name_scope,
                                    no_gradient, simple_op)


def _noop():
    return None


def no_op(name=None) -> Operation:
    g = get_default_graph()
    with g.name_scope(name or "NoOp") as scope:
        return make_op("NoOp", scope, [], [], kernel=_noop)


def group(*inputs, name=None) -> Operation:
    """A NoOp that runs after all `inputs` (ops or tensors)."""
    deps = []
    for x in inputs:
        x = x.op if isinstance(x, Tensor) else (x._as_graph_element().op if hasattr(x, "_as_graph_element") else x)
        deps.append(x)
    g = get_default_graph()
    with g.name_scope(name or "group_deps") as scope:
        return make_op("NoOp", scope, [], [], kernel=_noop, control_inputs=deps)


def control_dependencies(control_inputs):
    return get_default_graph().control_dependencies(control_inputs)


def tuple(tensors, name=None, control_inputs=None):
    from summaries.engine.array_ops import identity
    with name_scope(name or "tuple"):
        gate = group(*[t for t in tensors if t is not None], *(control_inputs or []), name="group_deps")
        out = []
        with control_dependencies([gate]):
            for t in tensors:
                out.append(None if t is None else identity(t, name="control_dependency"))
        return out


def with_dependencies(dependencies, output_tensor, name=None):
    from summaries.engine.array_ops import identity
    with control_dependencies(dependencies):
        return identity(output_tensor, name=name)


def cond(pred, true_fn=None, false_fn=None, name=None, fn1=None, fn2=None):
    """Both branches are built and run; the predicate picks the result (enough for side-effect-free fns)."""
    true_fn = true_fn or fn1
    false_fn = false_fn or fn2
    with name_scope(name or "cond"):
        p = convert_to_tensor(pred)
        a = convert_to_tensor(true_fn())
        b = convert_to_tensor(false_fn(), a.dtype)
        return simple_op("Select", [p, a, b], a.dtype, a.shape, lambda c, x, y: x if bool(c) else y,
                         name="Merge").outputs[0]


no_gradient("NoOp")
np  # kept for kernels that may need it
