"""Reductions (sum/mean/max/min/prod/any/all) and argmax/argmin; kernels beside gradients.

The reduction axes are baked into the kernel at graph-build time (TF1 also makes them a Const input,
which the GraphDef shows)."""
from __future__ import annotations

import numpy as np

from summaries.engine import dtypes as dt
from summaries.engine.array_ops import cast, constant, reshape, shape, stop_gradient, where, zeros, zeros_like
from summaries.engine.graph import (Tensor, convert_to_tensor, make_op, name_scope, no_gradient, register_gradient,
                                    simple_op, static_value)
from summaries.engine.math_ops import _grad_op, add, exp, log, not_equal, subtract

# ---- reductions --------------------------------------------------------------------------------------
def _axes(x: Tensor, axis, reduction_indices):
    axis = reduction_indices if axis is None else axis
    if isinstance(axis, Tensor):
        v = static_value(axis)
        if v is None:
            raise NotImplementedError("reduction axes must be constants")
        axis = v.tolist()
    if axis is None:
        return None
    return tuple(int(a) for a in (axis if isinstance(axis, (list, tuple, np.ndarray)) else [axis]))


def _reduce(op_type, np_fn, input_tensor, axis, keepdims, name, reduction_indices, keep_dims, mean=False):
    x = convert_to_tensor(input_tensor)
    keep = bool(keepdims if keepdims is not None else (keep_dims or False))
    axes = _axes(x, axis, reduction_indices)
    n = x.shape.ndims
    if axes is None and n is not None:
        axes = tuple(range(n))
    idx = constant(list(axes) if axes is not None else [], dt.int32, name="Const")
    out = None
    if n is not None:
        ax = {a % n for a in axes} if n else set()
        out = [1 if i in ax else d for i, d in enumerate(x.shape._dims)] if keep else \
            [d for i, d in enumerate(x.shape._dims) if i not in ax]
    if axes is not None:
        axes_n = tuple(a % n for a in axes) if n else axes
    else:
        axes_n = None
    npd = x.dtype.np
    if mean and x.dtype.is_integer:
        def k(v):
            return (np.sum(v, axis=axes_n, keepdims=keep) // max(1, np.size(v) // max(1, np.size(
                np.sum(v, axis=axes_n, keepdims=keep))))).astype(npd)
    elif np_fn in (np.sum, np.mean, np.prod):
        def k(v):
            return np_fn(v, axis=axes_n, keepdims=keep, dtype=npd)
    else:
        def k(v):
            if np.size(v) == 0 and axes_n != ():
                raise ValueError(f"{op_type} of an empty tensor")
            return np_fn(v, axis=axes_n, keepdims=keep)
    with name_scope(name or op_type) as scope:
        return make_op(op_type, scope, [x, idx], [(x.dtype, out)], kernel=k, exec_idx=(0,),
                       attrs={"T": x.dtype, "keep_dims": keep, "axes": axes_n}).outputs[0]


def reduce_sum(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None, keep_dims=None):
    return _reduce("Sum", np.sum, input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


def reduce_mean(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None, keep_dims=None):
    return _reduce("Mean", np.mean, input_tensor, axis, keepdims, name, reduction_indices, keep_dims, mean=True)


def reduce_max(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None, keep_dims=None):
    return _reduce("Max", np.max, input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


def reduce_min(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None, keep_dims=None):
    return _reduce("Min", np.min, input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


def reduce_prod(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None, keep_dims=None):
    return _reduce("Prod", np.prod, input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


def reduce_any(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None, keep_dims=None):
    return _reduce("Any", np.any, input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


def reduce_all(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None, keep_dims=None):
    return _reduce("All", np.all, input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


def reduce_logsumexp(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None,
                     keep_dims=None) -> Tensor:
    """log(sum(exp(x))) built as TF1 builds it: the (finite, stop_gradient'ed) max is subtracted before
    exp so large inputs do not overflow, and added back after the log; gradients flow through exp."""
    keep = bool(keepdims if keepdims is not None else (keep_dims or False))
    axis = reduction_indices if axis is None else axis
    with name_scope(name or "ReduceLogSumExp"):
        x = convert_to_tensor(input_tensor)
        raw_max = reduce_max(x, axis, keepdims=True)
        finite = simple_op("IsFinite", [raw_max], dt.bool_, raw_max.shape, np.isfinite).outputs[0]
        my_max = stop_gradient(where(finite, raw_max, zeros_like(raw_max)))
        result = log(reduce_sum(exp(subtract(x, my_max)), axis, keepdims=keep))
        if not keep:
            my_max = reshape(my_max, shape(result))
            my_max.set_shape(result.shape)
        return add(result, my_max)


def count_nonzero(input_tensor, axis=None, keepdims=None, dtype=dt.int64, name=None, reduction_indices=None,
                  keep_dims=None) -> Tensor:
    """How many elements are != 0 along `axis`, as TF1: NotEqual, cast to int64, Sum, cast to `dtype`."""
    with name_scope(name or "count_nonzero"):
        x = convert_to_tensor(input_tensor, name="input_tensor")
        nz = cast(not_equal(x, zeros([], x.dtype)), dt.int64, name="ToInt64")
        return cast(reduce_sum(nz, axis, keepdims, reduction_indices=reduction_indices, keep_dims=keep_dims),
                    dtype)


no_gradient("IsFinite")


def _expand_back(gv, xshape, axes, keep):
    if not keep and axes is not None:
        gv = np.expand_dims(gv, tuple(a % len(xshape) for a in axes)) if len(xshape) else gv
    return np.broadcast_to(gv, xshape)


@register_gradient("Sum")
def _sum_grad(op, g):
    """Also the gradient of math_ops.sum_to's Sum (a broadcast gradient summed back; no axes attr, and one
    or two inputs): its result broadcasts straight back to its input's shape."""
    x = op.inputs[0]
    axes, keep = op.attrs.get("axes"), op.attrs.get("keep_dims", False)
    back = _grad_op("Tile", [g, x], lambda gv, xv: _expand_back(gv, np.shape(xv), axes, keep), x)
    return [back, None][:len(op.inputs)]


@register_gradient("Mean")
def _mean_grad(op, g):
    x = op.inputs[0]
    axes, keep = op.attrs["axes"], op.attrs["keep_dims"]

    def k(gv, xv):
        xs = np.shape(xv)
        count = int(np.prod([xs[a] for a in axes])) if axes is not None else int(np.prod(xs))
        return _expand_back(gv / max(count, 1), xs, axes, keep).astype(np.asarray(gv).dtype, copy=False)
    return [_grad_op("Tile", [g, x], k, x), None]


def _minmax_grad(op, g):
    x, y = op.inputs[0], op.outputs[0]
    axes, keep = op.attrs["axes"], op.attrs["keep_dims"]

    def k(gv, xv, yv):
        xs = np.shape(xv)
        mask = (xv == _expand_back(yv, xs, axes, keep)).astype(np.asarray(gv).dtype)
        count = np.sum(mask, axis=axes, keepdims=True)
        return _expand_back(gv, xs, axes, keep) * mask / count
    return [_grad_op("MaxGrad", [g, x, y], k, x), None]


register_gradient("Max")(_minmax_grad)
register_gradient("Min")(_minmax_grad)


@register_gradient("Prod")
def _prod_grad(op, g):
    x, y = op.inputs[0], op.outputs[0]
    axes, keep = op.attrs["axes"], op.attrs["keep_dims"]

    def k(gv, xv, yv):
        xs = np.shape(xv)
        return _expand_back(gv * yv, xs, axes, keep) / xv
    return [_grad_op("ProdGrad", [g, x, y], k, x), None]


def _arg_reduce(op_type: str, fn, input, axis, name, dimension, output_type):
    x = convert_to_tensor(input)
    axis = dimension if axis is None else axis
    axis = 0 if axis is None else int(axis)
    od = dt.as_dtype(output_type)
    dims = x.shape._dims
    out = None if dims is None else [d for i, d in enumerate(dims) if i != axis % len(dims)]
    with name_scope(name or op_type) as scope:
        dim_t = constant(axis, dt.int32, name="dimension")
        return make_op(op_type, scope, [x, dim_t], [(od, out)], exec_idx=(0,),
                       kernel=lambda v: fn(v, axis=axis).astype(od.np)).outputs[0]


def argmax(input, axis=None, name=None, dimension=None, output_type=dt.int64):
    return _arg_reduce("ArgMax", np.argmax, input, axis, name, dimension, output_type)


def argmin(input, axis=None, name=None, dimension=None, output_type=dt.int64):
    return _arg_reduce("ArgMin", np.argmin, input, axis, name, dimension, output_type)


arg_max, arg_min = argmax, argmin
