"""Sources and shape ops: constant, placeholder, zeros/ones, random ops, reshape, transpose, concat,
cast, identity, slicing. Each op's numpy kernel sits beside its gradient."""
from __future__ import annotations

import numpy as np

from summaries.engine import dtypes as dt
from summaries.engine.dtypes import TensorShape, as_dtype, as_shape
from summaries.engine.errors import InvalidArgumentError, kernel_error
from summaries.engine.graph import (Tensor, _default_dtype_for, convert_to_tensor, get_default_graph, make_op,
                                    name_scope, no_gradient, register_gradient, simple_op, static_value)

# ---- constants and placeholders -------------------------------------------------------------------
def _to_array(value, dtype):
    if dtype is not None and dtype is dt.string:
        arr = np.asarray(value, dtype=object)
        return np.vectorize(lambda s: s if isinstance(s, bytes) else str(s).encode(), otypes=[object])(arr) \
            if arr.size else arr
    if dtype is None:
        dtype = _default_dtype_for(value)
        if dtype is dt.string:
            return _to_array(value, dtype)
    arr = np.asarray(value)
    if arr.dtype.kind == "f" and dtype.is_integer and arr.size:
        raise TypeError(f"Expected {dtype.name}, got {value!r:.60} of type '{type(value).__name__}' instead.")
    return np.asarray(value, dtype=dtype.np)


def constant(value, dtype=None, shape=None, name: str = "Const", verify_shape: bool = False) -> Tensor:
    """A Const op holding a read-only numpy array."""
    dtype = None if dtype is None else as_dtype(dtype)
    arr = _to_array(value, dtype)
    if dtype is None:
        dtype = as_dtype(arr.dtype) if arr.dtype != object else dt.string
    if shape is not None:
        shape = [int(d) for d in (shape if isinstance(shape, (list, tuple)) else [shape])]
        arr = np.broadcast_to(arr, shape) if arr.size == 1 or arr.shape == tuple(shape) else arr.reshape(shape)
        arr = np.array(arr)
    arr.flags.writeable = False
    with name_scope(name) as scope:
        return make_op("Const", scope, [], [(dtype, arr.shape)], kernel=lambda: arr,
                       attrs={"value": arr, "dtype": dtype}).outputs[0]


def placeholder(dtype, shape=None, name=None) -> Tensor:
    """A value the caller must feed; running it unfed raises TF1's InvalidArgumentError."""
    dtype = as_dtype(dtype)
    shape = as_shape(shape)
    with name_scope(name or "Placeholder") as scope:
        op = make_op("Placeholder", scope, [], [(dtype, shape)], attrs={"dtype": dtype, "shape": shape})

    def unfed():
        raise InvalidArgumentError(None, op, missing_feed_message(op))
    op._kernel = unfed
    return op.outputs[0]


def missing_feed_message(op) -> str:
    shape = op.attrs["shape"]
    s = "" if shape.ndims is None else " and shape [" + ",".join("?" if d is None else str(d)
                                                                 for d in shape._dims) + "]"
    return (f"You must feed a value for placeholder tensor '{op.name}' with dtype {op.attrs['dtype'].c_name}{s}\n"
            f"\t [[node {op.name} (defined at <user code>) ]]")


def placeholder_with_default(input, shape, name=None) -> Tensor:
    x = convert_to_tensor(input)
    return simple_op("PlaceholderWithDefault", [x], x.dtype, as_shape(shape), lambda v: v, name=name).outputs[0]


# ---- fills ------------------------------------------------------------------------------------------
def _static_shape(shape):
    """Python dims of a shape argument, or None when it is a non-constant tensor."""
    if isinstance(shape, Tensor):
        v = static_value(shape)
        return None if v is None else [int(d) for d in np.ravel(v)]
    if isinstance(shape, TensorShape):
        return shape.as_list()
    if isinstance(shape, (int, np.integer)):
        return [int(shape)]
    return [int(d) for d in shape]


def fill(dims, value, name=None) -> Tensor:
    v = convert_to_tensor(value)
    with name_scope(name or "Fill") as scope:
        shp = _static_shape(dims)
        dims_t = dims if isinstance(dims, Tensor) else constant(shp, dt.int32, name="dims")
        if shp is not None:
            shp = tuple(shp)
            return make_op("Fill", scope, [dims_t, v], [(v.dtype, shp)],
                           kernel=lambda val: np.full(shp, val, dtype=val.dtype), exec_idx=(1,)).outputs[0]
        return make_op("Fill", scope, [dims_t, v], [(v.dtype, TensorShape(None))],
                       kernel=lambda d, val: np.full(tuple(d), val, dtype=val.dtype)).outputs[0]


def _filled(value, shape, dtype, name):
    dtype = as_dtype(dtype)
    shp = _static_shape(shape)
    if shp is not None and int(np.prod(shp)) < 1000:
        return constant(np.full(shp, value, dtype=dtype.np), dtype=dtype, name=name)
    with name_scope(name) as scope:
        return fill(shape, constant(value, dtype, name="Const"), name=scope)


def zeros(shape, dtype=dt.float32, name=None) -> Tensor:
    return _filled(0, shape, dtype, name or "zeros")


def ones(shape, dtype=dt.float32, name=None) -> Tensor:
    return _filled(1, shape, dtype, name or "ones")


def zeros_like(tensor, dtype=None, name=None, optimize=True) -> Tensor:
    x = convert_to_tensor(tensor)
    d = as_dtype(dtype) if dtype is not None else x.dtype
    return simple_op("ZerosLike", [x], d, x.shape, lambda v: np.zeros(np.shape(v), d.np), name=name).outputs[0]


def ones_like(tensor, dtype=None, name=None, optimize=True) -> Tensor:
    x = convert_to_tensor(tensor)
    d = as_dtype(dtype) if dtype is not None else x.dtype
    return simple_op("OnesLike", [x], d, x.shape, lambda v: np.ones(np.shape(v), d.np), name=name).outputs[0]


no_gradient("Const", "Placeholder", "Fill", "ZerosLike", "OnesLike", "Shape", "Size", "Rank",
            "RandomStandardNormal", "TruncatedNormal", "RandomUniform", "OneHot", "StopGradient")


# ---- identity, casts ---------------------------------------------------------------------------------
def identity(input, name=None) -> Tensor:
    x = convert_to_tensor(input)
    return simple_op("Identity", [x], x.dtype, x.shape, _ident, name=name).outputs[0]


def _ident(v):
    return v


@register_gradient("Identity")
@register_gradient("PlaceholderWithDefault")
def _identity_grad(op, g):
    return [g]


def stop_gradient(input, name=None) -> Tensor:
    x = convert_to_tensor(input)
    return simple_op("StopGradient", [x], x.dtype, x.shape, _ident, name=name).outputs[0]


def cast(x, dtype, name=None) -> Tensor:
    x = convert_to_tensor(x)
    d = as_dtype(dtype)
    if d is x.dtype:
        return x
    npd = d.np
    return simple_op("Cast", [x], d, x.shape, lambda v: np.asarray(v).astype(npd), name=name,
                     attrs={"SrcT": x.dtype, "DstT": d}).outputs[0]


def to_float(x, name="ToFloat") -> Tensor:
    return cast(x, dt.float32, name=name)


def to_int32(x, name="ToInt32") -> Tensor:
    return cast(x, dt.int32, name=name)


@register_gradient("Cast")
def _cast_grad(op, g):
    src = op.inputs[0].dtype
    if src.is_floating and op.outputs[0].dtype.is_floating:
        return [cast(g, src)]
    return [None]


# ---- shapes ------------------------------------------------------------------------------------------
def shape(input, name=None, out_type=dt.int32) -> Tensor:
    x = convert_to_tensor(input)
    npd = as_dtype(out_type).np
    n = x.shape.ndims
    return simple_op("Shape", [x], as_dtype(out_type), [n], lambda v: np.array(np.shape(v), npd),
                     name=name).outputs[0]


def size(input, name=None, out_type=dt.int32) -> Tensor:
    x = convert_to_tensor(input)
    npd = as_dtype(out_type).np
    return simple_op("Size", [x], as_dtype(out_type), [], lambda v: npd.type(np.size(v)), name=name).outputs[0]


def rank(input, name=None) -> Tensor:
    x = convert_to_tensor(input)
    return simple_op("Rank", [x], dt.int32, [], lambda v: np.int32(np.ndim(v)), name=name).outputs[0]


def _infer_reshape(in_shape: TensorShape, shp):
    if shp is None:
        return TensorShape(None)
    if -1 in shp:
        known = int(np.prod([d for d in shp if d != -1]))
        total = in_shape.num_elements()
        return TensorShape([total // known if (d == -1 and total is not None and known) else
                            (None if d == -1 else d) for d in shp])
    return TensorShape(shp)


def reshape(tensor, shape, name=None) -> Tensor:
    x = convert_to_tensor(tensor)
    with name_scope(name or "Reshape") as scope:
        shp = _static_shape(shape)
        shape_t = shape if isinstance(shape, Tensor) else constant(shp, dt.int32, name="shape")
        out = _infer_reshape(x.shape, shp)
        if shp is not None:
            tshp = tuple(shp)

            def k(v):
                try:
                    return np.reshape(v, tshp)
                except ValueError:
                    raise kernel_error(f"Input to reshape is a tensor with {np.size(v)} "
                                               f"values, but the requested shape has {int(np.prod(tshp))}")
            return make_op("Reshape", scope, [x, shape_t], [(x.dtype, out)], kernel=k, exec_idx=(0,)).outputs[0]
        return make_op("Reshape", scope, [x, shape_t], [(x.dtype, out)],
                       kernel=lambda v, s: np.reshape(v, tuple(int(d) for d in s))).outputs[0]


def reshape_like(g, x, name="Reshape") -> Tensor:
    """Reshape `g` to the runtime shape of `x` (used by gradients)."""
    if x.shape.is_fully_defined():
        return reshape(g, x.shape.as_list(), name=name)
    return simple_op("Reshape", [g, x], g.dtype, x.shape, lambda a, b: np.reshape(a, np.shape(b)),
                     name=name).outputs[0]


@register_gradient("Reshape")
def _reshape_grad(op, g):
    return [reshape_like(g, op.inputs[0]), None]


def expand_dims(input, axis=None, name=None, dim=None) -> Tensor:
    x = convert_to_tensor(input)
    axis = int(dim if axis is None else axis)
    dims = x.shape._dims
    out = None
    if dims is not None:
        a = axis if axis >= 0 else len(dims) + 1 + axis
        out = dims[:a] + [1] + dims[a:]
    return simple_op("ExpandDims", [x], x.dtype, TensorShape(out), lambda v: np.expand_dims(v, axis),
                     name=name).outputs[0]


def squeeze(input, axis=None, name=None, squeeze_dims=None) -> Tensor:
    x = convert_to_tensor(input)
    axis = squeeze_dims if axis is None else axis
    ax = None if axis is None else tuple([axis] if isinstance(axis, int) else axis)
    dims = x.shape._dims
    out = None
    if dims is not None:
        n = len(dims)
        axs = {a % n for a in ax} if ax is not None else {i for i, d in enumerate(dims) if d == 1}
        out = None if ax is None and None in dims else [d for i, d in enumerate(dims) if i not in axs]
    return simple_op("Squeeze", [x], x.dtype, TensorShape(out), lambda v: np.squeeze(v, axis=ax),
                     name=name).outputs[0]


@register_gradient("ExpandDims")
@register_gradient("Squeeze")
def _squeeze_grad(op, g):
    return [reshape_like(g, op.inputs[0])]


def transpose(a, perm=None, name="transpose", conjugate=False) -> Tensor:
    x = convert_to_tensor(a)
    n = x.shape.ndims
    if perm is None:
        if n is None:
            return simple_op("Transpose", [x], x.dtype, TensorShape(None), np.transpose, name=name).outputs[0]
        perm = list(range(n))[::-1]
    perm = [int(p) for p in perm]
    out = None if n is None else [x.shape._dims[p] for p in perm]
    with name_scope(name) as scope:
        perm_t = constant(perm, dt.int32, name="perm")
        p = tuple(perm)
        return make_op("Transpose", scope, [x, perm_t], [(x.dtype, out)], kernel=lambda v: np.transpose(v, p),
                       exec_idx=(0,), attrs={"perm": perm}).outputs[0]


@register_gradient("Transpose")
def _transpose_grad(op, g):
    perm = op.attrs.get("perm")
    if perm is None:
        return [transpose(g)]
    return [transpose(g, list(np.argsort(perm))), None]


def concat(values, axis, name="concat") -> Tensor:
    xs = [convert_to_tensor(v) for v in values]
    if len(xs) == 1:
        return identity(xs[0], name=name)
    axis = int(axis)
    with name_scope(name) as scope:
        axis_t = constant(axis, dt.int32, name="axis")
        ranks = {x.shape.ndims for x in xs} - {None}
        out = None
        if len(ranks) == 1:
            r = ranks.pop()
            a = axis % r
            dims = [x.shape._dims for x in xs if x.shape._dims is not None]
            out = list(dims[0])
            out[a] = None if any(d[a] is None for d in dims) or len(dims) < len(xs) else sum(d[a] for d in dims)
        return make_op("ConcatV2", scope, xs + [axis_t], [(xs[0].dtype, out)],
                       kernel=lambda *vs: np.concatenate(vs, axis), exec_idx=range(len(xs)),
                       attrs={"axis": axis, "N": len(xs)}).outputs[0]


@register_gradient("ConcatV2")
def _concat_grad(op, g):
    xs = op.inputs[:-1]
    axis = op.attrs["axis"]

    def split(gv, *vs):
        cuts = np.cumsum([np.shape(v)[axis] for v in vs[:-1]])
        return tuple(np.split(gv, cuts, axis))
    sop = make_op("SplitV", get_default_graph().unique_name("split") + "/", [g] + list(xs),
                  [(x.dtype, x.shape) for x in xs], kernel=split, attrs={"axis": axis})
    return list(sop.outputs) + [None]


def stack(values, axis=0, name="stack") -> Tensor:
    xs = [convert_to_tensor(v) for v in values]
    d0 = xs[0].shape._dims
    out = None
    if d0 is not None:
        a = axis if axis >= 0 else len(d0) + 1 + axis
        out = d0[:a] + [len(xs)] + d0[a:]
    with name_scope(name) as scope:
        return make_op("Pack", scope, xs, [(xs[0].dtype, out)], kernel=lambda *vs: np.stack(vs, axis),
                       attrs={"axis": axis, "N": len(xs)}).outputs[0]


pack = stack


@register_gradient("Pack")
def _pack_grad(op, g):
    axis, n = op.attrs["axis"], op.attrs["N"]
    return list(unstack(g, n, axis))


def unstack(value, num=None, axis=0, name="unstack"):
    x = convert_to_tensor(value)
    dims = x.shape._dims
    if num is None:
        num = dims[axis] if dims is not None else None
        if num is None:
            raise ValueError(f"Cannot infer num from shape {x.shape}")
    out = None if dims is None else dims[:axis % len(dims)] + dims[axis % len(dims) + 1:]
    with name_scope(name) as scope:
        op = make_op("Unpack", scope, [x], [(x.dtype, out)] * num,
                     kernel=lambda v: tuple(np.moveaxis(v, axis, 0)), attrs={"axis": axis, "num": num})
    return list(op.outputs)


@register_gradient("Unpack")
def _unpack_grad(op, *grads):
    axis = op.attrs["axis"]
    grads = [zeros_like(o) if g is None else g for g, o in zip(grads, op.outputs)]
    return [stack(grads, axis)]


def one_hot(indices, depth, on_value=None, off_value=None, axis=None, dtype=None, name=None) -> Tensor:
    idx = convert_to_tensor(indices)
    d = as_dtype(dtype) if dtype is not None else dt.float32
    on = 1 if on_value is None else on_value
    off = 0 if off_value is None else off_value
    depth = int(depth)
    dims = idx.shape._dims

    def k(v):
        v = np.asarray(v)
        out = np.full(v.shape + (depth,), off, d.np)
        ok = (v >= 0) & (v < depth)
        np.put_along_axis(out, np.where(ok, v, 0)[..., None], np.where(ok, on, off)[..., None].astype(d.np), -1)
        return out
    return simple_op("OneHot", [idx], d, None if dims is None else dims + [depth], k, name=name).outputs[0]


# ---- slicing ---------------------------------------------------------------------------------------
_PROBES = (0, 1, 1009, 1013)  # sizes tried for an unknown dimension (small ones catch `x[:k]`)


def _slice_shape(dims, key):
    """The static shape of `x[key]`: numpy slices zero-stride stand-ins (no memory) of x's shape, each
    unknown dimension set to several sizes; an output axis is known when every stand-in agrees on it
    (so `x[:, -1]` of [?, T, H] is [?, H], while `x[:3]` of an unknown dimension stays unknown)."""
    shapes = set()
    for size in _PROBES if None in dims else _PROBES[:1]:  # known dimensions: the stand-ins would all agree
        probe = np.lib.stride_tricks.as_strided(np.empty(1, np.int8), [size if d is None else d for d in dims],
                                                [0] * len(dims))
        try:
            shapes.add(probe[key].shape)
        except (IndexError, TypeError, ValueError):
            continue  # e.g. an index past a small stand-in
    if not shapes or len({len(s) for s in shapes}) != 1:
        return None
    return [axis[0] if len(set(axis)) == 1 else None for axis in zip(*shapes)]


def dim_size(x: Tensor, i: int):
    """Dimension i of x: a Python int when static, else a scalar tensor read from tf.shape(x)."""
    d = x.shape._dims[i]
    return d if d is not None else getitem(shape(x), i)


def getitem(tensor, key) -> Tensor:
    """`tensor[...]` with basic numpy indexing (ints, slices, None, Ellipsis)."""
    x = convert_to_tensor(tensor)
    key = key if isinstance(key, tuple) else (key,)
    if any(isinstance(k, Tensor) for k in key):
        raise TypeError("indexing with tensors is not supported; use tf.gather")
    out = None if x.shape._dims is None else _slice_shape(x.shape._dims, key)
    op = simple_op("StridedSlice", [x], x.dtype, TensorShape(out), lambda v: v[key], attrs={"key": key})
    return op.outputs[0]


@register_gradient("StridedSlice")
def _slice_grad(op, g):
    key = op.attrs["key"]
    x = op.inputs[0]

    def k(gv, xv):
        out = np.zeros(np.shape(xv), dtype=gv.dtype)
        out[key] = gv
        return out
    return [simple_op("StridedSliceGrad", [g, x], g.dtype, x.shape, k).outputs[0]]


def gather(params, indices, axis=0, name=None) -> Tensor:
    p = convert_to_tensor(params)
    i = convert_to_tensor(indices)
    pd, idims = p.shape._dims, i.shape._dims
    out = None if pd is None or idims is None else pd[:axis % len(pd)] + idims + pd[axis % len(pd) + 1:]
    return simple_op("GatherV2", [p, i], p.dtype, TensorShape(out), lambda a, b: np.take(a, b, axis=axis),
                     name=name, attrs={"axis": axis}).outputs[0]


@register_gradient("GatherV2")
def _gather_grad(op, g):
    axis = op.attrs["axis"]
    p, i = op.inputs

    def add_rows(out, gv, iv):
        """Scatter-add g into `out` (shaped like params), in place: g's index dims (at `axis`, as many as the
        indices have) go first, to line up with the gathered axis moved first in the output."""
        iv = np.asarray(iv)
        at = axis % out.ndim
        index_dims = list(range(at, at + iv.ndim))
        np.add.at(np.moveaxis(out, at, 0), iv, np.moveaxis(gv, index_dims, list(range(iv.ndim))))
        return out

    def k(gv, pv, iv):
        return add_rows(np.zeros(np.shape(pv), dtype=gv.dtype), gv, iv)
    scatter = simple_op("UnsortedSegmentSum", [g, p, i], g.dtype, p.shape, k)
    scatter._add_rows = add_rows  # a loop's gradient may add (g, indices) into its running sum instead
    return [scatter.outputs[0], None]


def where(condition, x=None, y=None, name=None) -> Tensor:
    c = convert_to_tensor(condition)
    if x is None and y is None:
        return simple_op("Where", [c], dt.int64, [None, c.shape.ndims],
                         lambda v: np.argwhere(v).astype(np.int64), name=name).outputs[0]
    x = convert_to_tensor(x)
    y = convert_to_tensor(y, x.dtype)
    return simple_op("Select", [c, x, y], x.dtype, x.shape, np.where, name=name).outputs[0]


@register_gradient("Select")
def _select_grad(op, g):
    c = op.inputs[0]
    z = zeros_like(g)
    return [None, where(c, g, z), where(c, z, g)]


no_gradient("Where")


# Random ops live in random_ops (kept apart for size); re-exported here for callers of array_ops.
from summaries.engine.random_ops import (DEFAULT_GRAPH_SEED, get_seed, random_normal,  # noqa: E402,F401
                                         random_shuffle, random_uniform, truncated_normal)
