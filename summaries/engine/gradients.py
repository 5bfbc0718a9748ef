"""`tf.gradients`: reverse-mode differentiation that adds gradient ops to the graph under `gradients/`."""
from __future__ import annotations

from summaries.engine.graph import GRADIENTS, Tensor, convert_to_tensor, get_default_graph, name_scope


def _as_tensor(x) -> Tensor:
    return x._as_graph_element() if hasattr(x, "_as_graph_element") else convert_to_tensor(x)


def gradients(ys, xs, grad_ys=None, name="gradients", colocate_gradients_with_ops=False,
              gate_gradients=False, aggregation_method=None, stop_gradients=None):
    """d(sum ys)/d(xs): a list with a Tensor (or None when x does not reach y) per x."""
    ys = [_as_tensor(y) for y in (ys if isinstance(ys, (list, tuple)) else [ys])]
    xs_list = xs if isinstance(xs, (list, tuple)) else [xs]
    xs = [_as_tensor(x) for x in xs_list]
    stop = {id(_as_tensor(s).op) for s in (stop_gradients or [])}
    g = get_default_graph()
    from summaries.engine.array_ops import ones_like
    from summaries.engine.math_ops import add_n

    # Ops between xs and ys: reachable backwards from ys and forwards from xs through float tensors only
    # (as TF1: a cond's predicate does not make its Switches depend on x).
    back = set()
    stack = [y.op for y in ys]
    while stack:
        op = stack.pop()
        if id(op) in back:
            continue
        back.add(id(op))
        if id(op) in stop:
            continue
        stack.extend(t.op for t in op.inputs)
    x_ops = {id(x.op) for x in xs}
    fwd = set(x_ops)
    for op in g._ops:
        if id(op) in back and id(op) not in stop and any(t.dtype.is_floating and id(t.op) in fwd
                                                         for t in op.inputs):
            fwd.add(id(op))
    between = [op for op in g._ops if id(op) in back and id(op) in fwd]

    with name_scope(name or "gradients"):
        grads: dict = {}  # tensor id -> list of partial gradients
        for i, y in enumerate(ys):
            gy = grad_ys[i] if grad_ys is not None and grad_ys[i] is not None else None
            if gy is None:
                gy = ones_like(y, name=f"grad_ys_{i}")
            grads.setdefault(id(y), []).append(convert_to_tensor(gy))

        def total(t):
            parts = grads.get(id(t))
            if not parts:
                return None
            if len(parts) > 1:
                grads[id(t)] = [add_n(parts, name="AddN")]
            return grads[id(t)][0]

        for op in reversed(between):
            out_grads = [total(t) for t in op.outputs]
            if all(gr is None for gr in out_grads):
                continue
            if not any(id(t.op) in fwd for t in op.inputs):
                continue  # a source with respect to xs: nothing upstream needs its gradient
            if id(op) in stop:
                continue
            if op.type not in GRADIENTS:
                if not any(t.dtype.is_floating for t in op.inputs):
                    continue
                raise LookupError(f"No gradient defined for operation '{op.name}' (op type: {op.type})")
            fn = GRADIENTS[op.type]
            if fn is None or not op.inputs:
                continue
            if any(gr is None for gr in out_grads):
                from summaries.engine.array_ops import zeros_like
                out_grads = [zeros_like(t) if gr is None and t.dtype.is_floating else gr
                             for gr, t in zip(out_grads, op.outputs)]
            with name_scope(op.name + "_grad"):
                in_grads = fn(op, *out_grads)
            for t, gr in zip(op.inputs, in_grads):
                if gr is not None and t.dtype.is_floating and id(t.op) in fwd:
                    grads.setdefault(id(t), []).append(gr)
        return [total(x) for x in xs]
