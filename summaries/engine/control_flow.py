"""group / no_op / tuple / control_dependencies, and TF1's `cond` built from Switch and Merge.

`cond` is TF1's (v1) control flow: while a branch fn runs, the graph routes every tensor the branch
uses from outside through `Switch(tensor, pred)` and makes its source ops wait on the branch's pivot.
At run time the untaken Switch output is DEAD, the Session skips everything that depends on it and
`Merge` forwards the live branch: only the taken branch's side effects run, and its gradient (built
from Switch/Merge too) never touches the other branch's NaN/inf.
"""
from __future__ import annotations


import numpy as np

from summaries.engine import dtypes as dt
from summaries.engine import nest
from summaries.engine.array_ops import identity, zeros_like
from summaries.engine.dtypes import TensorShape
from summaries.engine.graph import (Operation, Tensor, convert_to_tensor, get_default_graph, is_tensor_like, make_op,
                                    name_scope, no_gradient, register_gradient)
from summaries.engine.session import DEAD


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
    with name_scope(name or "tuple"):
        gate = group(*[t for t in tensors if t is not None], *(control_inputs or []), name="group_deps")
        out = []
        with control_dependencies([gate]):
            for t in tensors:
                out.append(None if t is None else identity(t, name="control_dependency"))
        return out


def with_dependencies(dependencies, output_tensor, name=None):
    with control_dependencies(dependencies):
        return identity(output_tensor, name=name)


no_gradient("NoOp")


# ---- cond: Switch / Merge -----------------------------------------------------------------------------------
def _switch_kernel(x, p):
    return (DEAD, x) if p else (x, DEAD)


def _merge_kernel(*xs):
    for i, x in enumerate(xs):
        if x is not DEAD:
            return x, np.int32(i)
    return DEAD, DEAD


def _switch(data: Tensor, pred: Tensor, scope: str) -> Operation:
    """Switch(data, pred) -> (output_false, output_true); at run time the untaken one is DEAD."""
    return make_op("Switch", scope, [data, pred], [(data.dtype, data.shape)] * 2, kernel=_switch_kernel,
                   attrs={"T": data.dtype})


def _merge(inputs: list, scope: str, pred: Tensor) -> Operation:
    """Merge(inputs) -> (the live input, its index); DEAD only when every input is. `pred` decides which input
    is live (its gradient switches on it), whether the Merge ends a cond or a Switch's gradient."""
    shape = inputs[0].shape
    for t in inputs[1:]:
        shape = _most_specific(shape, t.shape)
    op = make_op("Merge", scope, list(inputs), [(inputs[0].dtype, shape), (dt.int32, [])],
                 kernel=_merge_kernel, attrs={"T": inputs[0].dtype, "N": len(inputs)})
    op._cond_pred = pred
    return op


def _most_specific(a: TensorShape, b: TensorShape) -> TensorShape:
    """The most specific shape compatible with both (unknown rank when the ranks differ)."""
    if a._dims is None or b._dims is None or len(a._dims) != len(b._dims):
        return TensorShape(None)
    return TensorShape([x if x == y else None for x, y in zip(a._dims, b._dims)])


def _detached(g, name_stack: str):
    """Build outside any branch and control dependency, in `name_stack` (as TF1 builds its Switches)."""
    return g._building_state(_cond_ctx=None, _control_stack=[], _name_stack=name_stack)


def _in_branch(g, branch):
    return g._building_state(_cond_ctx=branch)


class _Cond:
    """One `cond`: its `pred_id`, its two branches and one Switch per outside tensor, shared by both."""

    def __init__(self, pred_id: Tensor):
        self.pred = pred_id
        self.switches: dict = {}
        self.branches: list = []

    def switch(self, src: Tensor, at: str) -> Operation:
        sw = self.switches.get(id(src))
        if sw is None:
            g = src.graph
            with _detached(g, at), g.name_scope("Switch") as scope:
                sw = _switch(src, self.pred, scope)
            for t, branch in zip(sw.outputs, self.branches):
                t._ctx = branch
            self.switches[id(src)] = sw
        return sw


class _Branch:
    """One branch being built (Graph._cond_ctx): the graph asks it to capture each new op's inputs."""

    def __init__(self, cond: _Cond, index: int, parent, pivot: Operation):
        self.cond, self.index, self.parent, self.pivot = cond, index, parent, pivot

    def contains(self, t: Tensor) -> bool:
        c = t._ctx
        while c is not None:
            if c is self:
                return True
            c = c.parent
        return False

    def capture(self, t: Tensor, at: str) -> Tensor:
        """`t` as seen in this branch: through this cond's Switch (after the enclosing conds') if outside."""
        if self.contains(t):
            return t
        if self.parent is not None:
            t = self.parent.capture(t, at)
        return self.cond.switch(t, at).outputs[self.index]

    def capture_inputs(self, name: str, inputs, exec_idx) -> list:
        """Only data (exec) inputs are switched: a variable reference or a baked-in shape stays as is."""
        inputs = list(inputs)
        for i in exec_idx:
            inputs[i] = self.capture(inputs[i], name)
        return inputs


def _branch_tensor(g, branch: _Branch, x, other, at: str) -> Tensor:
    """A branch result as a tensor of `branch`; a Python number takes the other branch's dtype."""
    with _in_branch(g, branch):
        if isinstance(x, Operation):  # as TF1: the branch's pivot, gated on the op
            with g.control_dependencies([x]):
                return identity(branch.pivot.outputs[0], name="control_dependency")
        if is_tensor_like(x):
            return branch.capture(convert_to_tensor(x), at)
        hint = convert_to_tensor(other).dtype if is_tensor_like(other) else None
        try:
            return convert_to_tensor(x, hint)
        except TypeError:
            return convert_to_tensor(x)


def cond(pred, true_fn=None, false_fn=None, strict: bool = False, name=None, fn1=None, fn2=None):
    """TF1's `tf.cond`: only the branch selected by `pred` runs (ops, side effects and gradients).

    Branches return a tensor, a Python number, an op or a nested list/tuple/dict of them, the same
    structure on both sides; one Merge per element. Singleton lists are unpacked unless `strict`.
    A Python bool `pred` is accepted (TF1 rejects it).
    """
    true_fn = fn1 if true_fn is None else true_fn
    false_fn = fn2 if false_fn is None else false_fn
    for fn, label in ((true_fn, "true_fn"), (false_fn, "false_fn")):
        if not callable(fn):
            raise TypeError(f"'{label}' must be callable.")
    with name_scope(name, "cond", [pred]) as scope:
        p = convert_to_tensor(pred)
        if p.dtype is not dt.bool_:
            raise TypeError(f"'pred' must be a bool tensor, got {p!r}")
        if p.shape.ndims not in (None, 0):
            raise ValueError(f"'pred' must be a scalar, got shape {p.shape}")
        g = p.graph
        with g.name_scope("Switch") as s:
            pivots = _switch(p, p, s)
        switch_t = identity(pivots.outputs[1], name="switch_t")
        switch_f = identity(pivots.outputs[0], name="switch_f")
        c = _Cond(identity(p, name="pred_id"))
        c.branches = [_Branch(c, 0, g._cond_ctx, switch_f.op), _Branch(c, 1, g._cond_ctx, switch_t.op)]
        switch_f._ctx, switch_t._ctx = c.branches
        results = []
        for branch, fn, label in ((c.branches[1], true_fn, "true_fn"), (c.branches[0], false_fn, "false_fn")):
            with _in_branch(g, branch):
                r = fn()
            if r is None:
                raise ValueError(f"'{label}' must have a return value.")
            if not strict and isinstance(r, nest.SEQUENCES) and len(r) == 1:
                r = r[0]
            results.append(r)
        nest.assert_same_structure(results[0], results[1])
        merges = []
        for a, b in zip(nest.flatten(results[0]), nest.flatten(results[1])):
            ta = _branch_tensor(g, c.branches[1], a, b, scope[:-1])
            tb = _branch_tensor(g, c.branches[0], b, a, scope[:-1])
            if ta.dtype is not tb.dtype:
                raise ValueError(f"Outputs of 'true_fn' and 'false_fn' must have the same type(s). Received "
                                 f"{ta.dtype.name} from 'true_fn' and {tb.dtype.name} from 'false_fn'.")
            with g.name_scope("Merge") as s:
                merges.append(_merge([tb, ta], s, c.pred).outputs[0])
        return nest.pack_as(results[0], merges)


@register_gradient("Merge")
def _merge_grad(op, grad, _index_grad=None):
    """The output gradient goes to the branch that ran: Switch(grad, pred) -> (false side, true side)."""
    with grad.graph.name_scope("cond_grad") as s:
        return list(_switch(grad, op._cond_pred, s).outputs)


@register_gradient("Switch")
def _switch_grad(op, grad_false, grad_true):
    """Merge of the two sides; a missing side is zeros live only on that side, so one input is live."""
    grads = [zeros_like(t) if gr is None else gr for gr, t in zip((grad_false, grad_true), op.outputs)]
    with op.graph.name_scope("cond_grad") as s:
        return [_merge(grads, s, op.inputs[1]).outputs[0], None]
