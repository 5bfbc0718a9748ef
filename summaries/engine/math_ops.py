"""Math ops (elementwise with broadcasting, matmul, reductions, comparisons) and Python operators on
tensors. Each op's numpy kernel sits beside its gradient; broadcast gradients are summed back to the
input's shape."""
from __future__ import annotations

import numpy as np

from summaries.engine import dtypes as dt
from summaries.engine.array_ops import cast, constant, getitem
from summaries.engine.dtypes import TensorShape, broadcast_shapes
from summaries.engine.errors import shape_error
from summaries.engine.graph import (Tensor, convert_to_tensor, is_tensor_like, make_op, name_scope,
                                    no_gradient, register_gradient, simple_op)


def _pair(x, y):
    """Convert operands like TF1: a Python value takes the dtype of the tensor beside it."""
    if is_tensor_like(x):
        x = convert_to_tensor(x)
        y = convert_to_tensor(y, None if is_tensor_like(y) else x.dtype, name="y")
    elif is_tensor_like(y):
        y = convert_to_tensor(y)
        x = convert_to_tensor(x, y.dtype, name="x")
    else:
        x = convert_to_tensor(x, name="x")
        y = convert_to_tensor(y, x.dtype, name="y")
    return x, y


def _binary(op_type, default_name, kernel, x, y, name, out_dtype=None):
    with name_scope(name or default_name) as scope:
        x, y = _pair(x, y)
        if x.dtype is not y.dtype:
            raise TypeError(f"Input 'y' of '{op_type}' Op has type {y.dtype.name} that does not match type "
                            f"{x.dtype.name} of argument 'x'.")
        shp = broadcast_shapes(x.shape, y.shape)
        return make_op(op_type, scope, [x, y], [(out_dtype or x.dtype, shp)], kernel=kernel,
                       attrs={"T": x.dtype}).outputs[0]


def sum_to(g: Tensor, x: Tensor, name="Sum") -> Tensor:
    """Sum a broadcast gradient back to the shape of `x` (its static shape when known)."""
    if g.shape.is_fully_defined() and x.shape.is_fully_defined() and g.shape == x.shape:
        return g
    if x.shape.is_fully_defined():
        xs = tuple(x.shape.as_list())
        return simple_op("Sum", [g], g.dtype, xs, lambda gv: _sum_to(gv, xs), name=name).outputs[0]
    return simple_op("Sum", [g, x], g.dtype, x.shape, lambda gv, xv: _sum_to(gv, np.shape(xv)),
                     name=name).outputs[0]


def _sum_to(gv, xs):
    gs = np.shape(gv)
    if gs == xs:
        return gv
    lead = len(gs) - len(xs)
    axes = tuple(range(lead)) + tuple(i + lead for i, d in enumerate(xs) if d == 1 and gs[i + lead] != 1)
    r = np.sum(gv, axis=axes, keepdims=False) if axes else gv
    return np.reshape(r, xs)


# ---- elementwise binary ------------------------------------------------------------------------------
def add(x, y, name=None):
    return _binary("Add", "Add", np.add, x, y, name)


def subtract(x, y, name=None):
    return _binary("Sub", "Sub", np.subtract, x, y, name)


def multiply(x, y, name=None):
    return _binary("Mul", "Mul", np.multiply, x, y, name)


def _truediv_kernel(a, b):
    return np.true_divide(a, b)


def truediv(x, y, name=None):
    with name_scope(name or "truediv") as scope:
        x, y = _pair(x, y)
        if x.dtype.is_integer:
            x, y = cast(x, dt.float64), cast(y, dt.float64)
        return _binary("RealDiv", "RealDiv", _truediv_kernel, x, y, scope)


def div(x, y, name=None):
    with name_scope(name or "div") as scope:
        x, y = _pair(x, y)
        if x.dtype.is_integer:
            return _binary("FloorDiv", "FloorDiv", np.floor_divide, x, y, scope)
        return _binary("RealDiv", "RealDiv", _truediv_kernel, x, y, scope)


divide = truediv


def floordiv(x, y, name=None):
    return _binary("FloorDiv", "FloorDiv", np.floor_divide, x, y, name)


def mod(x, y, name=None):
    return _binary("FloorMod", "FloorMod", np.mod, x, y, name)


def pow(x, y, name=None):
    return _binary("Pow", "Pow", np.power, x, y, name)


def maximum(x, y, name=None):
    return _binary("Maximum", "Maximum", np.maximum, x, y, name)


def minimum(x, y, name=None):
    return _binary("Minimum", "Minimum", np.minimum, x, y, name)


def squared_difference(x, y, name=None):
    return _binary("SquaredDifference", "SquaredDifference", lambda a, b: np.square(a - b), x, y, name)


@register_gradient("Add")
def _add_grad(op, g):
    x, y = op.inputs
    return [sum_to(g, x), sum_to(g, y, name="Sum_1")]


@register_gradient("Sub")
def _sub_grad(op, g):
    x, y = op.inputs
    return [sum_to(g, x), negative(sum_to(g, y, name="Sum_1"))]


@register_gradient("Mul")
def _mul_grad(op, g):
    x, y = op.inputs
    return [sum_to(multiply(g, y), x), sum_to(multiply(x, g, name="Mul_1"), y, name="Sum_1")]


@register_gradient("RealDiv")
def _div_grad(op, g):
    x, y = op.inputs
    gx = truediv(g, y)
    gy = multiply(g, truediv(truediv(negative(x), y), y))
    return [sum_to(gx, x), sum_to(gy, y, name="Sum_1")]


@register_gradient("Pow")
def _pow_grad(op, g):
    x, y = op.inputs
    z = op.outputs[0]
    gx = multiply(g, multiply(y, pow(x, subtract(y, 1))))
    safe = simple_op("SafeLog", [x], x.dtype, x.shape,
                     lambda v: np.log(np.where(v > 0, v, 1)).astype(np.asarray(v).dtype)).outputs[0]
    gy = multiply(g, multiply(z, safe))
    return [sum_to(gx, x), sum_to(gy, y, name="Sum_1")]


def _select_grad_pair(op, g, pick_x):
    x, y = op.inputs
    mx = simple_op("SelectMask", [x, y], g.dtype, op.outputs[0].shape,
                   lambda a, b: pick_x(a, b).astype(np.result_type(a, b))).outputs[0]
    gx = multiply(g, mx)
    gy = subtract(g, gx)
    return [sum_to(gx, x), sum_to(gy, y, name="Sum_1")]


@register_gradient("Maximum")
def _max_grad(op, g):
    return _select_grad_pair(op, g, np.greater_equal)


@register_gradient("Minimum")
def _min_grad(op, g):
    return _select_grad_pair(op, g, np.less_equal)


@register_gradient("SquaredDifference")
def _sqdiff_grad(op, g):
    x, y = op.inputs
    d = multiply(g, multiply(constant(2, g.dtype), subtract(x, y)))
    return [sum_to(d, x), negative(sum_to(d, y, name="Sum_1"))]


# ---- comparisons and logic ---------------------------------------------------------------------------
def equal(x, y, name=None):
    return _binary("Equal", "Equal", np.equal, x, y, name, dt.bool_)


def not_equal(x, y, name=None):
    return _binary("NotEqual", "NotEqual", np.not_equal, x, y, name, dt.bool_)


def greater(x, y, name=None):
    return _binary("Greater", "Greater", np.greater, x, y, name, dt.bool_)


def greater_equal(x, y, name=None):
    return _binary("GreaterEqual", "GreaterEqual", np.greater_equal, x, y, name, dt.bool_)


def less(x, y, name=None):
    return _binary("Less", "Less", np.less, x, y, name, dt.bool_)


def less_equal(x, y, name=None):
    return _binary("LessEqual", "LessEqual", np.less_equal, x, y, name, dt.bool_)


def logical_and(x, y, name=None):
    return _binary("LogicalAnd", "LogicalAnd", np.logical_and, x, y, name, dt.bool_)


def logical_or(x, y, name=None):
    return _binary("LogicalOr", "LogicalOr", np.logical_or, x, y, name, dt.bool_)


def logical_xor(x, y, name="LogicalXor"):
    return _binary("LogicalXor", "LogicalXor", np.logical_xor, x, y, name, dt.bool_)


def logical_not(x, name=None):
    x = convert_to_tensor(x)
    return simple_op("LogicalNot", [x], dt.bool_, x.shape, np.logical_not, name=name).outputs[0]


no_gradient("Equal", "NotEqual", "Greater", "GreaterEqual", "Less", "LessEqual", "LogicalAnd", "LogicalOr",
            "LogicalXor", "LogicalNot", "FloorDiv", "FloorMod", "ArgMax", "ArgMin", "Sign", "SelectMask",
            "SafeLog", "Round", "Floor", "Ceil")


# ---- elementwise unary -------------------------------------------------------------------------------
def _unary(op_type, kernel, x, name):
    x = convert_to_tensor(x)
    return simple_op(op_type, [x], x.dtype, x.shape, kernel, name=name, attrs={"T": x.dtype}).outputs[0]


def negative(x, name=None):
    return _unary("Neg", np.negative, x, name)


def abs(x, name=None):
    return _unary("Abs", np.abs, x, name)


def sign(x, name=None):
    return _unary("Sign", np.sign, x, name)


def square(x, name=None):
    return _unary("Square", np.square, x, name)


def sqrt(x, name=None):
    return _unary("Sqrt", np.sqrt, x, name)


def rsqrt(x, name=None):
    return _unary("Rsqrt", lambda v: 1 / np.sqrt(v), x, name)


def exp(x, name=None):
    return _unary("Exp", np.exp, x, name)


def log(x, name=None):
    return _unary("Log", np.log, x, name)


def log1p(x, name=None):
    return _unary("Log1p", np.log1p, x, name)


def reciprocal(x, name=None):
    return _unary("Reciprocal", np.reciprocal, x, name)


def floor(x, name=None):
    return _unary("Floor", np.floor, x, name)


def ceil(x, name=None):
    return _unary("Ceil", np.ceil, x, name)


def round(x, name=None):
    return _unary("Round", np.round, x, name)


def sin(x, name=None):
    return _unary("Sin", np.sin, x, name)


def cos(x, name=None):
    return _unary("Cos", np.cos, x, name)


def _grad_op(op_type, inputs, kernel, like):
    return simple_op(op_type, inputs, like.dtype, like.shape, kernel).outputs[0]


@register_gradient("Neg")
def _neg_grad(op, g):
    return [negative(g)]


@register_gradient("Abs")
def _abs_grad(op, g):
    return [multiply(g, sign(op.inputs[0]))]


@register_gradient("Square")
def _square_grad(op, g):
    x = op.inputs[0]
    return [_grad_op("SquareGrad", [g, x], lambda gv, xv: gv * (2 * xv), x)]


@register_gradient("Sqrt")
def _sqrt_grad(op, g):
    y = op.outputs[0]
    return [_grad_op("SqrtGrad", [y, g], lambda yv, gv: gv * 0.5 / yv, y)]


@register_gradient("Rsqrt")
def _rsqrt_grad(op, g):
    y = op.outputs[0]
    return [_grad_op("RsqrtGrad", [y, g], lambda yv, gv: gv * (-0.5) * yv ** 3, y)]


@register_gradient("Exp")
def _exp_grad(op, g):
    return [multiply(g, op.outputs[0])]


@register_gradient("Log")
def _log_grad(op, g):
    return [multiply(g, reciprocal(op.inputs[0]))]


@register_gradient("Log1p")
def _log1p_grad(op, g):
    return [multiply(g, reciprocal(add(1, op.inputs[0])))]


@register_gradient("Reciprocal")
def _reciprocal_grad(op, g):
    y = op.outputs[0]
    return [_grad_op("ReciprocalGrad", [y, g], lambda yv, gv: -gv * yv * yv, y)]


@register_gradient("Sin")
def _sin_grad(op, g):
    return [multiply(g, cos(op.inputs[0]))]


@register_gradient("Cos")
def _cos_grad(op, g):
    return [negative(multiply(g, sin(op.inputs[0])))]


# ---- matmul ------------------------------------------------------------------------------------------
def matmul(a, b, transpose_a=False, transpose_b=False, adjoint_a=False, adjoint_b=False, a_is_sparse=False,
           b_is_sparse=False, name=None):
    ta, tb = bool(transpose_a or adjoint_a), bool(transpose_b or adjoint_b)
    with name_scope(name or "MatMul") as scope:
        a, b = _pair(a, b)
        if a.dtype is not b.dtype:
            raise TypeError(f"Input 'b' of 'MatMul' Op has type {b.dtype.name} that does not match type "
                            f"{a.dtype.name} of argument 'a'.")
        da, db = a.shape._dims, b.shape._dims
        out = None
        if da is not None and db is not None:
            if len(da) != 2 or len(db) != 2:
                raise shape_error(scope, "MatMul", f"Shape must be rank 2 but is rank "
                                                   f"{len(da) if len(da) != 2 else len(db)}", a, b)
            m, k1 = (da[1], da[0]) if ta else (da[0], da[1])
            k2, n = (db[1], db[0]) if tb else (db[0], db[1])
            if k1 is not None and k2 is not None and k1 != k2:
                raise shape_error(scope, "MatMul", f"Dimensions must be equal, but are {k1} and {k2}", a, b)
            out = [m, n]
        # np.dot, not np.matmul: numpy's matmul skips BLAS for transposed views (100x slower).
        if ta and tb:
            k = lambda x, y: np.dot(x.T, y.T)  # noqa: E731
        elif ta:
            k = lambda x, y: np.dot(x.T, y)  # noqa: E731
        elif tb:
            k = lambda x, y: np.dot(x, y.T)  # noqa: E731
        else:
            k = np.dot
        return make_op("MatMul", scope, [a, b], [(a.dtype, out)], kernel=k,
                       attrs={"T": a.dtype, "transpose_a": ta, "transpose_b": tb}).outputs[0]


@register_gradient("MatMul")
def _matmul_grad(op, g):
    a, b = op.inputs
    ta, tb = op.attrs["transpose_a"], op.attrs["transpose_b"]
    if not ta and not tb:
        return [matmul(g, b, transpose_b=True), matmul(a, g, transpose_a=True, name="MatMul_1")]
    if not ta and tb:
        return [matmul(g, b), matmul(g, a, transpose_a=True, name="MatMul_1")]
    if ta and not tb:
        return [matmul(b, g, transpose_b=True), matmul(a, g, name="MatMul_1")]
    return [matmul(b, g, transpose_a=True, transpose_b=True),
            matmul(g, a, transpose_a=True, transpose_b=True, name="MatMul_1")]


def add_n(inputs, name=None):
    xs = [convert_to_tensor(x) for x in inputs]
    if len(xs) == 1:
        return xs[0]

    def k(*vs):
        out = vs[0] + vs[1]
        for v in vs[2:]:
            out = out + v
        return out
    shp = xs[0].shape
    for x in xs[1:]:
        shp = broadcast_shapes(shp, x.shape)
    return simple_op("AddN", xs, xs[0].dtype, shp, k, name=name, attrs={"N": len(xs)}).outputs[0]


@register_gradient("AddN")
def _addn_grad(op, g):
    return [sum_to(g, x) for x in op.inputs]


def clip_by_value(t, clip_value_min, clip_value_max, name=None):
    with name_scope(name or "clip_by_value") as scope:
        x = convert_to_tensor(t)
        lo = convert_to_tensor(clip_value_min, x.dtype, name="clip_value_min")
        hi = convert_to_tensor(clip_value_max, x.dtype, name="clip_value_max")
        return make_op("ClipByValue", scope, [x, lo, hi], [(x.dtype, x.shape)], kernel=np.clip).outputs[0]


@register_gradient("ClipByValue")
def _clip_grad(op, g):
    x, lo, hi = op.inputs
    m = simple_op("ClipMask", [x, lo, hi], g.dtype, x.shape,
                  lambda a, b, c: ((a >= b) & (a <= c)).astype(np.asarray(a).dtype)).outputs[0]
    return [multiply(g, m), None, None]


def stack(values, axis=0, name="stack"):
    from summaries.engine.array_ops import stack as _stack
    return _stack(values, axis, name)


# ---- Python operators on tensors ---------------------------------------------------------------------
def _binop(fn, default_name, reverse=False):
    def method(self, other):
        if reverse:
            with name_scope(default_name) as scope:
                return fn(convert_to_tensor(other, self.dtype if not is_tensor_like(other) else None, name="x")
                          if not is_tensor_like(other) else other, self, name=scope)
        return fn(self, other, name=default_name)
    return method


def _install(cls):
    for m, fn, nm in [("add", add, "add"), ("sub", subtract, "sub"), ("mul", multiply, "mul"),
                      ("truediv", truediv, "truediv"), ("floordiv", floordiv, "floordiv"), ("mod", mod, "mod"),
                      ("pow", pow, "pow"), ("matmul", matmul, "MatMul"), ("and", logical_and, "and"),
                      ("or", logical_or, "or"), ("xor", logical_xor, "xor")]:
        setattr(cls, f"__{m}__", _binop(fn, nm))
        setattr(cls, f"__r{m}__", _binop(fn, nm, reverse=True))
    cls.__lt__ = _binop(less, "Less")
    cls.__le__ = _binop(less_equal, "LessEqual")
    cls.__gt__ = _binop(greater, "Greater")
    cls.__ge__ = _binop(greater_equal, "GreaterEqual")
    cls.__neg__ = lambda self: negative(self, name="Neg")
    cls.__abs__ = lambda self: abs(self, name="Abs")
    cls.__invert__ = lambda self: logical_not(self, name="LogicalNot")
    cls.__getitem__ = lambda self, key: getitem(self, key)


_install(Tensor)
TensorShape  # re-exported for callers that build shapes next to math ops


# Reductions live in reduce_ops (kept apart for size); re-exported here as TF's math_ops does.
from summaries.engine.reduce_ops import (arg_max, arg_min, argmax, argmin, reduce_all, reduce_any,  # noqa: E402,F401
                                         reduce_max, reduce_mean, reduce_min, reduce_prod, reduce_sum)
