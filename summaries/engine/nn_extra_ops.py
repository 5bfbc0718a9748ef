"""Less common TF1 ops kept apart from nn_ops for size: top_k, in_top_k, l2_normalize, selu, the
contrib l1/l2 regularizers, and the host-side `tf.Print` / `tf.py_func`; kernels beside gradients."""
from __future__ import annotations

import itertools
import numbers
import sys

import numpy as np

from summaries.engine import dtypes as dt
from summaries.engine.errors import kernel_error, shape_error
from summaries.engine.graph import (Tensor, convert_to_tensor, make_op, name_scope, no_gradient, register_gradient,
                                    simple_op, static_value)
from summaries.engine.math_ops import (_pair, _unary, abs as _abs, maximum, multiply, negative, reduce_sum, rsqrt,
                                       square, sum_to)


def _static_int(t: Tensor):
    v = static_value(t)
    return None if v is None else int(v)


# ---- top_k / in_top_k --------------------------------------------------------------------------------
def _top_k_order(v, k: int):
    """Indices of the k largest along the last axis, ties broken by the lower index first (as TF's TopK):
    a stable ascending sort of the reversed row, read backwards."""
    n = v.shape[-1]
    rev = np.argsort(v[..., ::-1], axis=-1, kind="stable")[..., ::-1]
    return (n - 1 - rev)[..., :k]


def top_k(input, k=1, sorted: bool = True, name: str | None = None) -> tuple[Tensor, Tensor]:
    """(values, indices) of the `k` largest entries of the last axis (TopKV2; indices int32). Results are
    always sorted, which TF1 also does for sorted=False on CPU."""
    with name_scope(name or "TopKV2") as scope:
        x = convert_to_tensor(input)
        kt = convert_to_tensor(k, dt.int32, name="k")
        dims, kv = x.shape._dims, _static_int(kt)
        if dims is not None and len(dims) < 1:
            raise shape_error(scope, "TopKV2", "Shape must be at least rank 1 but is rank 0", x, kt)
        if kv is not None and kv < 0:
            raise ValueError(f"Need k >= 0, got {kv} for '{scope[:-1]}' (op: 'TopKV2')")
        if kv is not None and dims is not None and dims[-1] is not None and dims[-1] < kv:
            raise shape_error(scope, "TopKV2", f"input must have last dimension >= k = {kv} but is {dims[-1]}",
                              x, kt)
        out = None if dims is None else list(dims[:-1]) + [kv]
        def kernel(v, kk):
            kk = int(kk)
            if np.shape(v)[-1] < kk:
                raise kernel_error(f"input must have at least k columns. Had {np.shape(v)[-1]}, needed {kk}")
            idx = _top_k_order(v, kk)
            return np.take_along_axis(v, idx, -1), idx.astype(np.int32)
        op = make_op("TopKV2", scope, [x, kt], [(x.dtype, out), (dt.int32, out)], kernel=kernel,
                     attrs={"T": x.dtype, "sorted": bool(sorted)})
        return op.outputs[0], op.outputs[1]


@register_gradient("TopKV2")
def _top_k_grad(op, g, _g_indices=None):
    """Scatter the values' gradient back to the positions the indices came from."""
    x, idx = op.inputs[0], op.outputs[1]

    def k(gv, iv, xv):
        out = np.zeros(np.shape(xv), np.asarray(gv).dtype)
        np.put_along_axis(out, iv.astype(np.int64), gv, -1)
        return out
    return [simple_op("TopKGrad", [g, idx, x], x.dtype, x.shape, k).outputs[0], None]


def _in_top_k_kernel(pred, targ, k):
    pred = np.asarray(pred)
    n = pred.shape[-1]
    t = np.asarray(targ).astype(np.int64)
    ok = (t >= 0) & (t < n)
    tv = np.take_along_axis(pred, np.clip(t, 0, max(n - 1, 0))[:, None], -1) if n else np.zeros((len(t), 1))
    higher = np.sum(pred > tv, axis=-1)  # ties count as in: only strictly larger predictions push it out
    return ok & np.isfinite(tv[:, 0]) & (higher < int(k))


def in_top_k(predictions, targets, k, name: str | None = None) -> Tensor:
    """Whether each `targets[i]` is among the `k` largest `predictions[i]` (InTopKV2; bool [batch])."""
    with name_scope(name or "in_top_k"):
        p = convert_to_tensor(predictions)
        t = convert_to_tensor(targets)
        kt = convert_to_tensor(k, t.dtype, name="k")
        with name_scope("InTopKV2") as scope:
            if p.shape.ndims is not None and p.shape.ndims != 2:
                raise shape_error(scope, "InTopKV2", f"Shape must be rank 2 but is rank {p.shape.ndims}", p, t, kt)
            if t.shape.ndims is not None and t.shape.ndims != 1:
                raise shape_error(scope, "InTopKV2", f"Shape must be rank 1 but is rank {t.shape.ndims}", p, t, kt)
            if not t.dtype.is_integer:
                raise TypeError(f"Value passed to parameter 'targets' has DataType {t.dtype.name} not in list "
                                f"of allowed values: int32, int64")
            out = [p.shape._dims[0]] if p.shape.ndims is not None else [None]
            return make_op("InTopKV2", scope, [p, t, kt], [(dt.bool_, out)], kernel=_in_top_k_kernel,
                           attrs={"T": t.dtype}).outputs[0]


no_gradient("InTopKV2")


# ---- div_no_nan ---------------------------------------------------------------------------------------
def div_no_nan(x, y, name: str | None = None) -> Tensor:
    """x / y, and 0 where y == 0 (TF1's safe mean of the losses: a zero weight count gives 0, not NaN)."""
    def k(a, b):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(b == 0, np.zeros((), np.result_type(a, b)), np.true_divide(a, b)).astype(a.dtype)
    with name_scope(name or "div_no_nan") as scope:
        x, y = _pair(x, y)
        if x.dtype is not y.dtype:
            raise TypeError(f"Input 'y' of 'DivNoNan' Op has type {y.dtype.name} that does not match type "
                            f"{x.dtype.name} of argument 'x'.")
        return make_op("DivNoNan", scope, [x, y], [(x.dtype, dt.broadcast_shapes(x.shape, y.shape))], kernel=k,
                       attrs={"T": x.dtype}).outputs[0]


@register_gradient("DivNoNan")
def _div_no_nan_grad(op, g):
    x, y = op.inputs
    gx = div_no_nan(g, y)
    gy = div_no_nan(multiply(negative(g), x), multiply(y, y))
    return [sum_to(gx, x), sum_to(gy, y, name="Sum_1")]


# ---- l2_normalize / selu -----------------------------------------------------------------------------
def l2_normalize(x, axis=None, epsilon: float = 1e-12, name: str | None = None, dim=None) -> Tensor:
    """x / sqrt(max(sum(x**2, axis), epsilon)), built from TF1's ops (Square, Sum, Maximum, Rsqrt, Mul)."""
    if axis is not None and dim is not None:
        raise ValueError("Cannot specify both 'axis' and 'dim'.")
    axis = dim if axis is None else axis
    with name_scope(name or "l2_normalize") as scope:
        x = convert_to_tensor(x, name="x")
        square_sum = reduce_sum(square(x), axis, keepdims=True)
        inv = rsqrt(maximum(square_sum, convert_to_tensor(epsilon, x.dtype, name="Maximum/y")))
        return multiply(x, inv, name=scope)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(features, name: str | None = None) -> Tensor:
    """Scaled ELU: scale * (x if x > 0 else alpha * (exp(x) - 1)), TF1's self-normalizing constants."""
    def k(v):
        a, s = np.asarray(_SELU_ALPHA, v.dtype), np.asarray(_SELU_SCALE, v.dtype)
        return np.where(v > 0, s * v, (s * a) * np.expm1(np.minimum(v, 0)))
    return _unary("Selu", k, features, name)


@register_gradient("Selu")
def _selu_grad(op, g):
    """dy/dx = scale for x > 0, else y + scale * alpha (from the output, as TF1's SeluGrad)."""
    y = op.outputs[0]

    def k(gv, yv):
        s, sa = np.asarray(_SELU_SCALE, yv.dtype), np.asarray(_SELU_SCALE * _SELU_ALPHA, yv.dtype)
        return gv * np.where(yv > 0, s, yv + sa)
    return [simple_op("SeluGrad", [g, y], y.dtype, y.shape, k).outputs[0]]


# ---- regularizers (tf.contrib.layers) ----------------------------------------------------------------
def _check_scale(scale):
    if isinstance(scale, numbers.Integral):
        raise ValueError(f"scale cannot be an integer: {scale}")
    if isinstance(scale, numbers.Real):
        if scale < 0.0:
            raise ValueError(f"Setting a scale less than 0 on a regularizer: {scale:g}.")
        return scale != 0.0
    return True


def _regularizer(scale, scope, default_scope: str, penalty):
    """A function w -> scale * penalty(w) in op `scope` (or `default_scope`); None for every w when scale is 0."""
    if not _check_scale(scale):
        return lambda _: None

    def regularize(weights):
        with name_scope(scope or default_scope) as nm:
            w = convert_to_tensor(weights)
            return multiply(convert_to_tensor(scale, w.dtype, name="scale"), penalty(w), name=nm)
    return regularize


def l2_regularizer(scale: float, scope: str | None = None):
    """A function w -> scale * l2_loss(w) (op `l2_regularizer`); scale 0 gives a function returning None."""
    from summaries.engine.nn_ops import l2_loss  # here: nn_ops imports this module
    return _regularizer(scale, scope, "l2_regularizer", l2_loss)


def l1_regularizer(scale: float, scope: str | None = None):
    """A function w -> scale * sum(|w|) (op `l1_regularizer`); scale 0 gives a function returning None."""
    return _regularizer(scale, scope, "l1_regularizer", lambda w: reduce_sum(_abs(w)))


# ---- tf.Print / tf.py_func ---------------------------------------------------------------------------
def _element(e, kind: str, wide: bool) -> str:
    """One element as TF's StrCat prints it: %g with 6 (float) / 15 (double) digits, more if that does not
    round-trip; bools as 1/0."""
    if kind == "f":
        short, full = (15, 17) if wide else (6, 9)
        s = f"{e:.{short}g}"
        return s if type(e)(float(s)) == e or e != e else f"{e:.{full}g}"
    if kind == "b":
        return str(int(e))
    return e.decode("utf-8", "replace") if isinstance(e, (bytes, np.bytes_)) else str(e)


def _summarize(v, n: int) -> str:
    """Tensor::SummarizeValue: at most `n` elements (all if n < 0), inner rows in brackets, '...' where an
    inner row or the whole tensor was cut short."""
    arr = np.asarray(v)
    flat = arr.reshape(-1)
    limit = flat.size if n < 0 else min(n, flat.size)
    kind, wide = arr.dtype.kind, arr.dtype.itemsize >= 8
    pos, out = 0, []

    def dim(d: int) -> None:
        nonlocal pos
        if pos >= limit:
            return
        count = arr.shape[d]
        if d == arr.ndim - 1:
            for i in range(count):
                if pos >= limit:
                    if d:
                        out.append("...")
                    return
                out.append((" " if i else "") + _element(flat[pos], kind, wide))
                pos += 1
            return
        for _ in range(count):
            opened = pos < limit
            if opened:
                out.append("[")
            dim(d + 1)
            if pos < limit or opened:
                out.append("]")
    if arr.ndim == 0:
        out = [_element(flat[0], kind, wide)] if limit else []
    else:
        dim(0)
    return "".join(out) + ("..." if flat.size > limit else "")


def Print(input_, data, message: str | None = None, first_n: int | None = None, summarize: int | None = None,
          name: str | None = None) -> Tensor:
    """Identity on `input_` that, when it runs, writes `message` and each of `data` to stderr (at most
    `first_n` times per session when given; `summarize` elements per tensor, 3 by default)."""
    x = convert_to_tensor(input_)
    data = [convert_to_tensor(d) for d in data]
    msg, limit = message or "", -1 if first_n is None else int(first_n)
    n = 3 if summarize is None else int(summarize)

    def factory(sess):
        count = [0]

        def k(v, *vals):
            if limit < 0 or count[0] < limit:
                count[0] += 1
                print(msg + "".join(f"[{_summarize(d, n)}]" for d in vals), file=sys.stderr)
            return v
        return k
    return simple_op("Print", [x] + data, x.dtype, x.shape, None, name=name, factory=factory,
                     attrs={"T": x.dtype, "message": msg, "first_n": limit, "summarize": n}).outputs[0]


@register_gradient("Print")
def _print_grad(op, g):
    return [g] + [None] * (len(op.inputs) - 1)


_C_NAMES = {"float32": "float", "float64": "double", "float16": "half"}
_tokens = itertools.count()


def py_func(func, inp, Tout, stateful: bool = True, name: str | None = None):
    """Run `func` on the numpy values of `inp` as an op (PyFunc, or PyFuncStateless); outputs have the
    dtypes `Tout` (a list gives a list) and unknown shapes. It has no gradient, as in TF1."""
    many = isinstance(Tout, (list, tuple))
    outs = [dt.as_dtype(d) for d in (Tout if many else [Tout])]
    inputs = [convert_to_tensor(t) for t in inp]
    token = f"pyfunc_{next(_tokens)}"
    op_type = "PyFunc" if stateful else "PyFuncStateless"

    def kernel(*vals):
        ret = func(*vals)
        ret = list(ret) if isinstance(ret, (list, tuple)) else ([] if ret is None and not outs else [ret])
        if len(ret) != len(outs):
            raise kernel_error(f"{token} returns {len(ret)} values, but expects to see {len(outs)} values.")
        arrs = []
        for i, (r, d) in enumerate(zip(ret, outs)):
            a = np.asarray(r, dtype=object) if d is dt.string else np.asarray(r)
            if d is not dt.string and dt.as_dtype(a.dtype) is not d:
                got = dt.as_dtype(a.dtype).name
                raise kernel_error(f"{i}-th value returned by {token} is {_C_NAMES.get(got, got)}, but "
                                      f"expects {_C_NAMES.get(d.name, d.name)}")
            arrs.append(a)
        return tuple(arrs) if len(arrs) != 1 else arrs[0]
    with name_scope(name or op_type) as scope:
        op = make_op(op_type, scope, inputs, [(d, None) for d in outs], kernel=kernel,
                     attrs={"token": token, "Tin": [t.dtype for t in inputs], "Tout": outs})
    return list(op.outputs) if many else op.outputs[0]
