"""TF1's `tf.while_loop` as one functional op, and `map_fn` / `scan` / `foldl` built on it.

`cond` and `body` are traced once, under `while/`, while a loop context is active (`Graph._loop_ctx`):
each tensor they take from outside is replaced by a per-loop capture stand-in (an `Enter` op) and becomes
an input of the `While` op. That op's kernel compiles cond and body into two session sub-plans and iterates
in Python, so the main plan never sees the body and graphs without loops compile exactly as before.
The gradient runs the body's gradient sub-graph (built once per loop) backward over the loop variables
the forward kernel kept for each iteration.
"""
from __future__ import annotations

import threading
import weakref

import numpy as np

from summaries.engine import dtypes as dt
from summaries.engine import nest
from summaries.engine.array_ops import concat, expand_dims, gather, reshape, shape, zeros, zeros_like
from summaries.engine.dtypes import TensorShape, as_shape
from summaries.engine.errors import InvalidArgumentError, kernel_error
from summaries.engine.gradients import gradients
from summaries.engine.graph import (Tensor, convert_to_tensor, is_tensor_like, make_op, name_scope,
                                    register_gradient, simple_op)
from summaries.engine.math_ops import less

_SHAPE_HINT = ("To allow the shape to vary across iterations, use the `shape_invariants` argument of "
               "tf.while_loop to specify a less-specific shape.")


def _building(g, ctx, name_stack: str):
    """Build inside loop context `ctx` only: outer cond branches and control dependencies do not reach in."""
    return g._building_state(_loop_ctx=ctx, _cond_ctx=None, _control_stack=[], _name_stack=name_stack)


def _enter(src: Tensor, shape, name: str = "Enter") -> Tensor:
    """A stand-in that the loop's sub-plans feed; `src` is a display-only (non-exec) input."""
    g = src.graph
    with g.name_scope(name) as scope:
        return make_op("Enter", scope, [src], [(src.dtype, shape)], exec_idx=(),
                       attrs={"T": src.dtype, "is_constant": False}).outputs[0]


class _LoopContext:
    """A loop body (or a loop's gradient body) being built; `forward`: the loop whose ops a gradient may use."""

    def __init__(self, g, forward=None):
        self.graph, self.parent, self.forward = g, g._loop_ctx, forward
        self.scope = g._name_stack
        self.captured: dict = {}  # id(outside tensor) -> its stand-in
        self.sources: list = []  # outside tensors, in capture order: inputs of the loop op
        self.standins: list = []
        self.control: list = []  # outside ops that inner ops wait on: control inputs of the loop op
        self.grad = None  # a forward loop's gradient context, once a gradient was asked for
        # set by while_loop / _grad_body once traced: vars, inits, cond, body, ... / gys, dxs, fl, fc

    def owns(self, op) -> bool:
        c = op._loop
        while c is not None:
            if c is self or c is self.forward:
                return True
            c = c.parent
        return False

    def capture(self, t: Tensor) -> Tensor:
        if self.owns(t.op):
            return t
        s = self.captured.get(id(t))
        if s is None:
            with _building(self.graph, self, self.scope):
                s = _enter(t, t.shape)
            s.op.attrs["is_constant"] = True
            self.captured[id(t)] = s
            self.sources.append(t)
            self.standins.append(s)
        return s

    def capture_inputs(self, inputs, exec_idx, ctrl):
        """Data inputs from outside go through stand-ins; outside control inputs move to the loop op."""
        inputs = list(inputs)
        for i in exec_idx:
            inputs[i] = self.capture(inputs[i])
        inner = []
        for c in ctrl:
            if self.owns(c):
                inner.append(c)
            elif c not in self.control:
                self.control.append(c)
        return inputs, inner


def _as_tensor_of(x, like: Tensor) -> Tensor:
    return convert_to_tensor(x) if is_tensor_like(x) else convert_to_tensor(x, like.dtype)


def _check_shape(init: Tensor, out: Tensor, inv: TensorShape):
    if not out.shape.is_compatible_with(inv):
        raise ValueError(f"Input tensor '{init.name}' enters the loop with shape {inv}, but has shape "
                         f"{out.shape} after one iteration. {_SHAPE_HINT}")
    if out.dtype is not init.dtype:
        raise ValueError(f"Input tensor '{init.name}' enters the loop with dtype {init.dtype.name}, but has "
                         f"dtype {out.dtype.name} after one iteration.")


def _less_specific(out: TensorShape, inv: TensorShape) -> bool:
    """True when the body's static shape does not prove the invariant (checked at run time instead)."""
    if inv._dims is None:
        return False
    return out._dims is None or any(i is not None and o is None for o, i in zip(out._dims, inv._dims))


def _loop_factory(op, ctx):
    """The While kernel: compiles cond/body sub-plans for the session and iterates them."""
    nv, has_max = len(ctx.vars), ctx.has_max
    checks = [(i, np.dtype(s.dtype.np), s.shape._dims if i in ctx.loose else None, s)
              for i, s in enumerate(ctx.vars)]

    def check(vals):
        for i, npd, dims, s in checks:
            v = vals[i]
            if getattr(v, "dtype", None) != npd or dims is not None and (
                    np.ndim(v) != len(dims) or any(d is not None and d != n for d, n in zip(dims, np.shape(v)))):
                raise InvalidArgumentError(None, op, f"Loop variable {i} ('{ctx.inits[i].name}') of '{op.name}' "
                                                     f"entered as {s.dtype.name} {s.shape} but the body returned "
                                                     f"{np.asarray(v).dtype} {np.shape(v)}")

    def factory(sess):
        feeds = ctx.vars + ctx.standins
        cond_plan, body_plan = sess.plan([ctx.cond], feeds), sess.plan(ctx.body, feeds)
        keep = ctx.grad is not None  # a gradient exists: keep every iteration's loop variables

        def kernel(*args):
            vals, caps = args[:nv], args[nv:len(args) - has_max]
            limit = args[-1] if has_max else None
            hist = [] if keep else None
            n = 0
            while (limit is None or n < limit) and cond_plan.run(vals + caps)[0]:
                if keep:
                    hist.append(vals)
                vals = body_plan.run(vals + caps)
                check(vals)
                n += 1
            if ctx.back_prop:
                return (*vals, (hist, caps))
            return vals if nv > 1 else vals[0]
        return kernel
    return factory


def _split_vars(loop_vars):
    """(a bare tensor?, the top-level items as a list: the structure the loop works on, its leaves)."""
    single = not isinstance(loop_vars, (list, tuple))
    structure = [loop_vars] if single else list(loop_vars)
    return single, structure, nest.flatten(structure)


def while_loop(cond, body, loop_vars, shape_invariants=None, parallel_iterations: int = 10, back_prop: bool = True,
               swap_memory: bool = False, name=None, maximum_iterations=None, return_same_structure: bool = False):
    """TF1's `tf.while_loop`: repeat `body` while `cond` holds; returns the final loop variables."""
    if not callable(cond):
        raise TypeError("cond must be callable.")
    if not callable(body):
        raise TypeError("body must be callable.")
    if parallel_iterations < 1:
        raise TypeError("parallel_iterations must be a positive integer.")
    single, spec, leaves = _split_vars(loop_vars)
    if not leaves:
        raise ValueError("No loop variables provided")
    with name_scope(name, "while", leaves) as scope:
        inits = [convert_to_tensor(x) for x in leaves]
        g = inits[0].graph
        limit = None if maximum_iterations is None else convert_to_tensor(maximum_iterations,
                                                                          name="maximum_iterations")
        if limit is not None and limit.shape.ndims not in (None, 0):
            raise ValueError(f"maximum_iterations must be a scalar, saw shape: {limit.shape}")
        invs = [t.shape for t in inits]
        if shape_invariants is not None:
            try:
                invs = [as_shape(inv) for inv in nest.flatten_up_to(spec, [shape_invariants] if single
                                                                    else list(shape_invariants))]
            except ValueError:
                raise ValueError(f"shape_invariants {shape_invariants!r} do not have the structure of the loop "
                                 f"variables {loop_vars!r}") from None
            for t, inv in zip(inits, invs):
                if not t.shape.is_compatible_with(inv):
                    raise ValueError(f"The shape invariant specified for {t.name} is not compatible with the "
                                     f"initial shape of the loop variable. It enters the loop with shape "
                                     f"{t.shape}, but the specified shape invariant is {inv}.")
        ctx = _LoopContext(g)
        with _building(g, ctx, scope[:-1]):
            ctx.vars = [_enter(t, inv) for t, inv in zip(inits, invs)]
            args = nest.pack_as(spec, ctx.vars)
            c = cond(*args)
            c = ctx.capture(convert_to_tensor(c))
            if c.dtype is not dt.bool_ or c.shape.ndims not in (None, 0):
                raise ValueError(f"cond must return a boolean scalar, got {c!r}")
            r = body(*args)
            r = list(r) if isinstance(r, (list, tuple)) else [r]
            nest.assert_same_structure(spec, r)
            outs = [ctx.capture(_as_tensor_of(x, t)) for x, t in zip(nest.flatten(r), inits)]
        for t, o, inv in zip(inits, outs, invs):
            _check_shape(t, o, inv)
        ctx.inits, ctx.cond, ctx.body = inits, c, outs
        ctx.has_max, ctx.back_prop = limit is not None, back_prop
        ctx.loose = {i for i, (o, inv) in enumerate(zip(outs, invs)) if _less_specific(o.shape, inv)}
        # with back_prop, a hidden last output carries (kept iterations, captured values) to the gradient op
        out_specs = [(t.dtype, inv) for t, inv in zip(inits, invs)] + ([(dt.string, None)] if back_prop else [])
        with g.name_scope("While") as s:
            op = make_op("While", s, inits + ctx.sources + ([limit] if limit is not None else []), out_specs,
                         attrs={"T": inits[0].dtype, "parallel_iterations": parallel_iterations,
                                "back_prop": back_prop}, control_inputs=ctx.control)
        op._factory, op._while = _loop_factory(op, ctx), ctx
        result = nest.pack_as(loop_vars, op.outputs[:len(inits)])
        if isinstance(result, (list, tuple)) and len(result) == 1 and not return_same_structure:
            return result[0]  # TF1 unwraps a one-variable list
        return result


# ---- gradient ----------------------------------------------------------------------------------------
def _grad_body(op, ctx):
    """Trace d(body)/d(loop vars, captures) once, in its own loop context; zeros where a loop variable's path
    is missing. A capture's gradient is fetched as its terms (the parts `gradients` summed), so that the
    scatter of a gather of its rows can be fetched as (rows, indices) and added in place by the kernel: a
    dense scatter per iteration would make map_fn / scan / dynamic_rnn's gradient quadratic in the rows.
    The dense scatter ops stay in the graph (unrun), so the exported graph is unchanged."""
    g = op.graph
    fl = [i for i, s in enumerate(ctx.vars) if s.dtype.is_floating]
    fc = [j for j, s in enumerate(ctx.standins) if s.dtype.is_floating]
    gctx = _LoopContext(g, forward=ctx)
    with _building(g, gctx, g._name_stack):
        gctx.gys = [_enter(ctx.vars[i], ctx.vars[i].shape, name="grad_y") for i in fl]
        xs = [ctx.vars[i] for i in fl] + [ctx.standins[j] for j in fc]
        dxs = gradients([ctx.body[i] for i in fl], xs, grad_ys=gctx.gys, name="body_grad")
        dense, scatters = [], []  # (k: which capture, a dense term) and (k, a scatter op)
        for k, (d, s) in enumerate(zip(dxs[len(fl):], xs[len(fl):])):
            terms = [] if d is None else [d]
            if d is not None and d.op.type == "AddN" and any(_scatters(t, s) for t in d.op.inputs):
                terms = list(d.op.inputs)
            for t in terms:
                if _scatters(t, s):
                    scatters.append((k, t.op))
                else:
                    dense.append((k, t))
        gctx.dxs = [zeros_like(x) if d is None else gctx.capture(d) for d, x in zip(dxs[:len(fl)], xs)] + \
            [gctx.capture(t) for _, t in dense] + \
            [gctx.capture(sc.inputs[n]) for _, sc in scatters for n in (0, 2)]  # each scatter's rows, indices
    gctx.fl, gctx.fc = fl, fc
    gctx.dense_to = [k for k, _ in dense]
    gctx.rows_to = [(k, sc._add_rows) for k, sc in scatters]
    ctx.grad = gctx
    return gctx


def _scatters(t: Tensor, s: Tensor) -> bool:
    """Whether `t` is gather's gradient for params `s` (a dense scatter-add of rows into zeros like `s`)."""
    return getattr(t.op, "_add_rows", None) is not None and t.op.inputs[1] is s


def _add_into(a, b):
    """a + b, written into `a` (a sum the gradient kernel made, seen by nothing else) when that keeps its
    dtype and shape: no new array per iteration."""
    if isinstance(a, np.ndarray) and a.shape == np.shape(b) and np.result_type(a, b) == a.dtype:
        a += b
        return a
    return a + b


def _add_rows_into(a: np.ndarray, add_rows, rows, indices) -> np.ndarray:
    """a + the scatter of `rows` at `indices` (as gather's gradient), added into `a` (a gradient kernel's own
    sum) in its dtype or, when the rows' dtype is wider, a copy in theirs: costs the rows, not all of `a`."""
    rows = np.asarray(rows)
    t = np.result_type(a.dtype, rows.dtype)
    return add_rows(a if t == a.dtype else a.astype(t), rows, indices)


def _grad_factory(ctx, gctx):
    nfl, nd = len(gctx.fl), len(gctx.dense_to)

    def factory(sess):
        plan = sess.plan(gctx.dxs, ctx.vars + ctx.standins + gctx.gys + gctx.standins)

        def kernel(hist, *args):
            states, caps = hist
            gv, outer = args[:nfl], args[nfl:]
            gc = [np.zeros_like(caps[j]) for j in gctx.fc]
            for vals in reversed(states):
                out = plan.run(vals + caps + gv + outer)
                gv = out[:nfl]
                for k, b in zip(gctx.dense_to, out[nfl:nfl + nd]):
                    gc[k] = _add_into(gc[k], b)
                rows = out[nfl + nd:]
                for (k, add_rows), r, i in zip(gctx.rows_to, rows[::2], rows[1::2]):
                    gc[k] = _add_rows_into(gc[k], add_rows, r, i)
            res = (*gv, *gc)
            return res if len(res) > 1 else res[0]
        return kernel
    return factory


@register_gradient("While")
def _while_grad(op, *grads):
    ctx = op._while
    nv = len(ctx.vars)
    if not ctx.back_prop or not any(s.dtype.is_floating for s in ctx.vars):
        return [None] * len(op.inputs)
    gctx = ctx.grad or _grad_body(op, ctx)
    gys = [grads[i] for i in gctx.fl]
    outs = [(ctx.inits[i].dtype, ctx.inits[i].shape) for i in gctx.fl] + \
           [(ctx.sources[j].dtype, ctx.sources[j].shape) for j in gctx.fc]
    with op.graph.name_scope("WhileGrad") as s:
        gop = make_op("WhileGrad", s, [op.outputs[nv]] + gys + gctx.sources, outs,
                      factory=_grad_factory(ctx, gctx), attrs={"T": outs[0][0]})
    res = [None] * len(op.inputs)
    for k, i in enumerate(gctx.fl + [nv + j for j in gctx.fc]):
        res[i] = gop.outputs[k]
    return res


# ---- row accumulation ------------------------------------------------------------------------------
# map_fn / scan / dynamic_rnn stack one row per iteration. Concatenating onto the rows so far would copy them
# every time (quadratic), so op AppendRow writes the row into spare capacity of a buffer that doubles when
# full and returns a view of the filled rows. Views stay valid: a buffer is only extended past its fill mark,
# and only from a value that ends exactly there (a value seen twice has its later rows copied, not shared).
_filled: dict = {}  # id(buffer) -> rows written to it so far (a live buffer; entries go when it is freed)
_filled_lock = threading.Lock()


def _append_row_kernel(acc: np.ndarray, y) -> np.ndarray:
    """AppendRow's kernel: in place when `acc` is exactly a buffer's filled rows with room left, else a copy
    into a new buffer (with room for as many rows again)."""
    y = np.asarray(y)
    n, buf = len(acc), acc.base
    with _filled_lock:
        if (buf is not None and _filled.get(id(buf)) == n and n < len(buf) and acc.ctypes.data == buf.ctypes.data
                and acc.strides == buf.strides and acc.shape[1:] == buf.shape[1:] == y.shape
                and acc.dtype == buf.dtype and np.result_type(buf.dtype, y.dtype) == buf.dtype):
            buf[n] = y  # acc is exactly buf[:n] (same start, layout, dtype): the row past it is spare
            _filled[id(buf)] = n + 1
            return buf[:n + 1]
    if n == 0:
        acc = acc.reshape((0,) + y.shape)  # the empty [0] vector a loop starts from
    elif acc.shape[1:] != y.shape:
        raise kernel_error(f"AppendRow: a row of shape {y.shape} cannot follow rows of shape {acc.shape[1:]}")
    buf = np.empty((max(4, 2 * n + 2),) + y.shape, np.result_type(acc.dtype, y.dtype))
    buf[:n] = acc
    buf[n] = y
    _filled[id(buf)] = n + 1  # a new buffer: no other thread sees it yet
    weakref.finalize(buf, _filled.pop, id(buf), None)
    return buf[:n + 1]


def append_row(acc: Tensor, y: Tensor) -> Tensor:
    """`acc` (rows so far, or an empty [0] vector before the first) with `y` as one more row."""
    return simple_op("AppendRow", [acc, y], acc.dtype, TensorShape([None]).concatenate(y.shape),
                     _append_row_kernel).outputs[0]


def _split_last_row(g, acc):
    """AppendRow's gradient: views of the incoming gradient, all rows but the last (for `acc`) and the last."""
    g = np.asarray(g)
    return np.reshape(g[:-1], np.shape(acc)), g[-1, ...]


@register_gradient("AppendRow")
def _append_row_grad(op, g):
    acc, y = op.inputs
    with op.graph.name_scope("AppendRowGrad") as s:
        gop = make_op("AppendRowGrad", s, [g, acc], [(g.dtype, acc.shape), (g.dtype, y.shape)],
                      kernel=_split_last_row)
    return list(gop.outputs)


@register_gradient("AppendRowGrad")
def _split_last_row_grad(op, g_acc, g_row):
    """AppendRowGrad is linear in its gradient input: its own gradient joins the two parts back as rows."""
    return [append_row(g_acc, g_row), None]


# ---- map_fn / scan / foldl -----------------------------------------------------------------------------
def _stacked(acc: Tensor, row: TensorShape, n) -> Tensor:
    """The rows accumulated in a loop with their static shape; a known row shape also fixes zero rows.
    Rows of no elements cannot say their count by size, so theirs is read off the accumulator."""
    if row.is_fully_defined():
        out = reshape(acc, [-1] + row.as_list() if row.num_elements() else concat([shape(acc)[:1], row.as_list()], 0))
    else:
        out = acc
    out.set_shape(TensorShape([n]).concatenate(row))
    return out


def _elems(elems):
    """(structure, leaf tensors, their length as a tensor, its static value or None)."""
    xs = [convert_to_tensor(e) for e in nest.flatten(elems)]
    if not xs:
        raise ValueError("elems must be a Tensor or (possibly nested) sequence of Tensors.")
    dims = xs[0].shape._dims
    return elems, xs, gather(shape(xs[0]), 0), dims[0] if dims else None


def _row(spec, xs, i):
    return nest.pack_as(spec, [gather(x, i) for x in xs])


def map_fn(fn, elems, dtype=None, parallel_iterations=None, back_prop: bool = True, swap_memory: bool = False,
           infer_shape: bool = True, name=None):
    """TF1's `tf.map_fn`: `fn` on each row of `elems` (a tensor or nested tensors), results stacked.
    `dtype` gives the structure and dtypes of `fn`'s result when it differs from `elems`'."""
    with name_scope(name, "map"):
        spec, xs, n, n_static = _elems(elems)
        out_spec = nest.pack_as(spec, [x.dtype for x in xs]) if dtype is None else dtype
        dtypes = [dt.as_dtype(d) for d in nest.flatten(out_spec)]
        rows: list = []

        def body(i, *accs):
            out = fn(_row(spec, xs, i))
            nest.assert_same_structure(out_spec, out)
            ys = [convert_to_tensor(y, d) for y, d in zip(nest.flatten(out), dtypes)]
            rows[:] = [y.shape for y in ys]
            return [i + 1] + [append_row(a, y) for a, y in zip(accs, ys)]
        res = while_loop(lambda i, *accs: less(i, n), body, [0] + [zeros([0], d) for d in dtypes],
                         shape_invariants=[[]] + [TensorShape(None)] * len(dtypes), back_prop=back_prop,
                         return_same_structure=True)
        return nest.pack_as(out_spec, [_stacked(a, r, n_static) for a, r in zip(res[1:], rows)])


def _fold(fn, elems, initializer, collect: bool, back_prop: bool):
    """The loop of scan (`collect`: also stack each state) and foldl: state = fn(state, row)."""
    spec, xs, n, n_static = _elems(elems)
    a_spec = _row(spec, xs, 0) if initializer is None else initializer
    a0 = [convert_to_tensor(a) for a in nest.flatten(a_spec)]
    k = len(a0)
    accs = [expand_dims(a, 0) if initializer is None else zeros([0], a.dtype) for a in a0] if collect else []

    def body(i, *vs):
        out = fn(nest.pack_as(a_spec, vs[:k]), _row(spec, xs, i))
        nest.assert_same_structure(a_spec, out)
        ys = [_as_tensor_of(y, a) for y, a in zip(nest.flatten(out), a0)]
        return [i + 1] + ys + [append_row(acc, y) for acc, y in zip(vs[k:], ys)]
    res = while_loop(lambda i, *vs: less(i, n), body, [int(initializer is None)] + a0 + accs,
                     shape_invariants=[[]] + [a.shape for a in a0] + [TensorShape(None)] * len(accs),
                     back_prop=back_prop, return_same_structure=True)
    if collect:
        return nest.pack_as(a_spec, [_stacked(acc, a.shape, n_static) for acc, a in zip(res[1 + k:], a0)])
    return nest.pack_as(a_spec, res[1:1 + k])


def scan(fn, elems, initializer=None, parallel_iterations: int = 10, back_prop: bool = True,
         swap_memory: bool = False, infer_shape: bool = True, name=None):
    """TF1's `tf.scan`: every state of `state = fn(state, row)`, stacked; without an initializer the first
    row is the first state (and the first result)."""
    with name_scope(name, "scan"):
        return _fold(fn, elems, initializer, True, back_prop)


def foldl(fn, elems, initializer=None, parallel_iterations: int = 10, back_prop: bool = True,
          swap_memory: bool = False, name=None):
    """TF1's `tf.foldl`: the last state of `state = fn(state, row)` (first row as initializer by default)."""
    with name_scope(name, "foldl"):
        return _fold(fn, elems, initializer, False, back_prop)
