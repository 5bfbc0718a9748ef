"""Array manipulation ops TF1 programs lean on: range, tile, pad, split, sequence_mask, boolean_mask, gather_nd,
tensordot, linspace, matrix_transpose, einsum (array_ops.py is full). Constant arguments are baked into the
kernels at build time; every gradient is built from other ops, so second derivatives keep working."""
from __future__ import annotations

import builtins

import numpy as np

from summaries.engine import dtypes as dt
from summaries.engine.array_ops import (cast, concat, constant, dim_size, expand_dims, gather, getitem, ones_like,
                                        reshape, shape, squeeze, stack, transpose, where)
from summaries.engine.dtypes import TensorShape, as_dtype
from summaries.engine.errors import InvalidArgumentError, kernel_error, shape_error, shape_text
from summaries.engine.graph import (Tensor, convert_to_tensor, is_tensor_like, make_op, name_scope, no_gradient,
                                    register_gradient, simple_op, static_value)
from summaries.engine.math_ops import less, matmul, maximum, multiply, subtract
from summaries.engine.reduce_ops import reduce_max, reduce_prod, reduce_sum

_brange = builtins.range  # this module defines tf.range




def _const(x):
    """The numpy value of an argument known at build time (a Python value or a Const tensor), else None."""
    if isinstance(x, Tensor):
        return static_value(x)
    if is_tensor_like(x) or (isinstance(x, (list, tuple)) and any(is_tensor_like(v) for v in x)):
        return None
    return np.asarray(x)


# ---- range, linspace --------------------------------------------------------------------------------
_RANGE_DTYPES = [dt.int32, dt.int64, dt.float32, dt.float64]


def _check_dtype(t: Tensor, param: str, allowed) -> None:
    if t.dtype not in allowed:
        raise TypeError(f"Value passed to parameter '{param}' has DataType {t.dtype.name} not in list of allowed "
                        f"values: {', '.join(d.name for d in allowed)}")


def _range_size(start, limit, delta, err) -> int:
    if delta == 0:
        raise err(f"Requires delta != 0: {delta}")
    if delta > 0 and start > limit:
        raise err(f"Requires start <= limit when delta > 0: {start}/{limit}")
    if delta < 0 and start < limit:
        raise err(f"Requires start >= limit when delta < 0: {start}/{limit}")
    if isinstance(start + limit + delta, (int, np.integer)):
        return int((abs(limit - start) + abs(delta) - 1) // abs(delta))
    return int(np.ceil(abs((limit - start) / delta)))


def range(start, limit=None, delta=1, dtype=None, name="range") -> Tensor:  # noqa: A001 (tf.range)
    """`tf.range`: op `Range`; ints give int32 unless an argument is wider (TF1's int32 < int64 < float32 <
    float64 promotion). Static length when all three arguments are constants."""
    if limit is None:
        start, limit = 0, start
    with name_scope(name) as scope:
        args = [convert_to_tensor(v, dtype, name=n) for v, n in zip((start, limit, delta), ("start", "limit", "delta"))]
        for a in args:
            _check_dtype(a, "Tidx", _RANGE_DTYPES)
            if a.shape.ndims not in (None, 0):
                raise shape_error(scope, "Range", f"Shape must be rank 0 but is rank {a.shape.ndims}", *args)
        out = max((a.dtype for a in args), key=_RANGE_DTYPES.index)
        npd, vals = out.np, [static_value(a) for a in args]
        n = None if any(v is None for v in vals) else _range_size(*(np.asarray(v, npd).item() for v in vals),
                                                                   ValueError)

        def k(s, lim, d):
            s, lim, d = s.item(), lim.item(), d.item()
            return (s + np.arange(_range_size(s, lim, d, kernel_error)) * d).astype(npd)
        return make_op("Range", scope, [cast(a, out) for a in args], [(out, [n])], kernel=k,
                       attrs={"Tidx": out}).outputs[0]


def linspace(start, stop, num, name=None) -> Tensor:
    """`tf.linspace`/`tf.lin_space`: op `LinSpace`, float32/float64 only (Python ints are a TypeError, as TF1)."""
    with name_scope(name or "LinSpace") as scope:
        first = start if is_tensor_like(start) else stop if is_tensor_like(stop) else None
        s = convert_to_tensor(start, None if first is None else convert_to_tensor(first).dtype, name="start")
        e = convert_to_tensor(stop, s.dtype, name="stop")
        n = convert_to_tensor(num, name="num")
        _check_dtype(s, "start", (dt.float32, dt.float64))
        _check_dtype(n, "num", (dt.int32, dt.int64))
        nv, npd = static_value(n), s.dtype.np
        if nv is not None and int(nv) <= 0:
            raise shape_error(scope, "LinSpace", f"Requires num > 0: {int(nv)}", s, e, n)

        def k(sv, ev, count):
            if count <= 0:
                raise kernel_error(f"Requires num > 0: {count}")
            return np.linspace(sv, ev, int(count), dtype=npd)
        return make_op("LinSpace", scope, [s, e, n], [(s.dtype, [None if nv is None else int(nv)])], kernel=k,
                       attrs={"T": s.dtype, "Tidx": n.dtype}).outputs[0]


lin_space = linspace
no_gradient("Range")


@register_gradient("LinSpace")
def _linspace_grad(op, g):
    """out[i] = start + t_i (stop - start) with t = linspace(0, 1, num): linear in start and stop."""
    s, _, n = op.inputs
    t = linspace(constant(0, s.dtype), constant(1, s.dtype), n)
    g_stop = reduce_sum(multiply(g, t))
    return [subtract(reduce_sum(g), g_stop), g_stop, None]


# ---- tile -------------------------------------------------------------------------------------------
def tile(input, multiples, name=None) -> Tensor:
    """`tf.tile`: op `Tile`; `multiples` may be a runtime tensor (e.g. `[tf.shape(x)[0], 1]`)."""
    x = convert_to_tensor(input)
    with name_scope(name or "Tile") as scope:
        m = convert_to_tensor(multiples, name="multiples")
        if m.shape.ndims not in (None, 1):
            raise shape_error(scope, "Tile", f"Shape must be rank 1 but is rank {m.shape.ndims}", x, m)
        n = m.shape._dims[0] if m.shape.ndims == 1 else None
        if n is not None and x.shape.ndims not in (None, n):
            raise shape_error(scope, "Tile", f"Shape must be rank {n} but is rank {x.shape.ndims}", x, m)
        mv = static_value(m)
        rank = x.shape.ndims if x.shape.ndims is not None else n
        xd = x.shape._dims or [None] * (rank or 0)
        out = None if rank is None else [None if d is None or mv is None else d * int(mv[i]) for i, d in enumerate(xd)]

        def k(v, reps):
            if np.shape(reps) != (np.ndim(v),) or (reps < 0).any():
                raise kernel_error(f"Expected multiples argument to be a non-negative vector of length "
                                 f"{np.ndim(v)} but got {np.asarray(reps).tolist()}")
            return np.tile(v, tuple(reps))
        return make_op("Tile", scope, [x, m], [(x.dtype, out)], kernel=k).outputs[0]


@register_gradient("Tile")
def _tile_grad(op, g):
    """Reshape the gradient to [m0, d0, m1, d1, ...] and sum over the tile axes (the even ones)."""
    x, m = op.inputs
    rank = x.shape.ndims if x.shape.ndims is not None else m.shape._dims[0] if m.shape.ndims == 1 else None
    if rank is None:
        raise NotImplementedError(f"tile gradient needs a known rank ('{op.name}')")
    mv = static_value(m)
    xd = x.shape._dims or [None] * rank
    split = [d for i in _brange(rank) for d in (None if mv is None else int(mv[i]), xd[i])]
    parts = simple_op("Reshape", [g, x, m], g.dtype, split, name="Reshape", kernel=lambda gv, xv, mm: np.reshape(
        gv, [d for pair in zip(np.ravel(mm), np.shape(xv)) for d in pair])).outputs[0]
    return [reduce_sum(parts, list(_brange(0, 2 * rank, 2))), None]


# ---- pad --------------------------------------------------------------------------------------------
def _fold_mirror(gv, pads, offset: int):
    """Add each mirrored border of `gv` back onto the cells it copies (offset 1: REFLECT, 0: SYMMETRIC)."""
    for ax, (b, a) in enumerate(pads):
        moved = np.moveaxis(gv, ax, 0)
        n = moved.shape[0] - b - a
        core = moved[b:b + n].copy()
        core[offset:b + offset][::-1] += moved[:b]
        core[n - offset - a:n - offset][::-1] += moved[b + n:]
        gv = np.moveaxis(core, 0, ax)
    return gv


def _check_mirror(dims, pads, mode, err):
    word = "less than" if mode == "REFLECT" else "no greater than"
    for d, (b, a) in zip(dims, pads):
        if d is not None and max(b, a) > d - (mode == "REFLECT"):
            raise err(f"paddings must be {word} the dimension size: {b}, {a} not {word} {d}")


def pad(tensor, paddings, mode="CONSTANT", name=None, constant_values=0) -> Tensor:
    """`tf.pad`: op `Pad` (zeros), `PadV2` (other constant) or `MirrorPad` (REFLECT/SYMMETRIC, numpy's modes of
    the same names). `paddings` must be known at build time."""
    x = convert_to_tensor(tensor)
    mode = str(mode).upper()
    if mode not in ("CONSTANT", "REFLECT", "SYMMETRIC"):
        raise ValueError(f"Unknown padding mode: {mode}")
    zero = not is_tensor_like(constant_values) and np.all(np.asarray(constant_values) == 0)
    op_type = "MirrorPad" if mode != "CONSTANT" else "Pad" if zero else "PadV2"
    pv = _const(paddings)
    if pv is None:
        raise NotImplementedError("tf.pad needs paddings known at graph-build time")
    with name_scope(name or op_type) as scope:
        inputs = [x, constant(pv.astype(np.int32), dt.int32, name="paddings")]
        if pv.ndim != 2 or pv.shape[1] != 2 or x.shape.ndims not in (None, pv.shape[0]):
            raise shape_error(scope, op_type, f"The first dimension of paddings must be the rank of inputs"
                                               f"{list(pv.shape)}, {shape_text(x.shape)}", *inputs)
        if (pv < 0).any():
            raise shape_error(scope, op_type, "Paddings must be non-negative", *inputs)
        pads = [(int(b), int(a)) for b, a in pv]
        dims = x.shape._dims
        out = None if dims is None else [None if d is None else d + b + a for d, (b, a) in zip(dims, pads)]
        if op_type == "MirrorPad":
            _check_mirror(dims or [], pads, mode, lambda msg: shape_error(scope, op_type, msg, *inputs))
        if op_type == "PadV2":
            inputs.append(convert_to_tensor(constant_values, x.dtype, name="constant_values"))

        def k(v, c=0):
            if op_type == "MirrorPad":
                _check_mirror(np.shape(v), pads, mode, kernel_error)
                return np.pad(v, pads, mode=mode.lower())
            return np.pad(v, pads, constant_values=c)
        return make_op(op_type, scope, inputs, [(x.dtype, out)], kernel=k, exec_idx=(0, 2)[:len(inputs) - 1],
                       attrs={"mode": mode, "paddings": pads}).outputs[0]


@register_gradient("Pad")
@register_gradient("PadV2")
def _pad_grad(op, g):
    """The input's gradient is the middle slice; the constant's is everything else (TF1 gives it None)."""
    gx = getitem(g, tuple(slice(b, -a or None) for b, a in op.attrs["paddings"]))
    return [gx, None] if op.type == "Pad" else [gx, None, subtract(reduce_sum(g), reduce_sum(gx))]


@register_gradient("MirrorPad")
def _mirror_pad_grad(op, g):
    """Fold the mirrored borders back (TF's MirrorPadGrad), whose own gradient is MirrorPad again."""
    pads, mode = op.attrs["paddings"], op.attrs["mode"]
    offset = 1 if mode == "REFLECT" else 0
    return [simple_op("MirrorPadGrad", [g, op.inputs[1]], g.dtype, op.inputs[0].shape, exec_idx=(0,),
                      kernel=lambda gv: _fold_mirror(gv, pads, offset), attrs=dict(op.attrs)).outputs[0], None]


@register_gradient("MirrorPadGrad")
def _mirror_pad_grad_grad(op, g):
    return [pad(g, op.attrs["paddings"], op.attrs["mode"]), None]


# ---- split ------------------------------------------------------------------------------------------
def split(value, num_or_size_splits, axis=0, num=None, name="split") -> list:
    """`tf.split`: an int gives op `Split` (equal parts), a list op `SplitV` (one size may be -1)."""
    x = convert_to_tensor(value)
    sv, av = _const(num_or_size_splits), _const(axis)
    if sv is None or av is None or av.ndim:
        raise NotImplementedError("tf.split needs num_or_size_splits and a scalar axis known at graph-build time")
    even = sv.ndim == 0
    op_type = "Split" if even else "SplitV"
    sizes = [-1] * int(sv) if even else [int(s) for s in sv]
    with name_scope(name) as scope:
        ax, dims = int(av), x.shape._dims
        if dims is not None:
            if not -len(dims) <= ax < len(dims):
                raise shape_error(scope, op_type, f"Dimension must be in range [{-len(dims)}, {len(dims)}), "
                                                   f"but is {ax}", x)
            ax %= len(dims)
        if num is not None and int(num) != len(sizes):
            raise ValueError(f"num={num} does not match the {len(sizes)} sizes in num_or_size_splits")
        if not even and (sizes.count(-1) > 1 or any(s < -1 for s in sizes)):
            raise shape_error(scope, op_type, f"Cannot infer the split sizes {sizes}: at most one -1 and no "
                                               f"other negative size allowed", x)

        def resolve(total, err):
            if even:
                if not sizes or total % len(sizes):
                    raise err(f"Dimension size must be evenly divisible by {len(sizes)} but is {total}")
                return [total // len(sizes)] * len(sizes)
            known = sum(s for s in sizes if s != -1)
            if (-1 in sizes and known > total) or (-1 not in sizes and known != total):
                raise err(f"Determined shape must either match input shape along split_dim exactly if fully "
                          f"specified, or be less than the size of the input along split_dim if not fully "
                          f"specified.  Got: {known}")
            return [total - known if s == -1 else s for s in sizes]
        size = None if dims is None else dims[ax]
        parts = sizes if size is None else resolve(size, lambda msg: shape_error(scope, op_type, msg, x))
        shapes = [None if dims is None else dims[:ax] + [None if s == -1 else s] + dims[ax + 1:] for s in parts]
        axis_t = constant(ax, dt.int32, name="split_dim")
        inputs = [axis_t, x] if even else [x, constant(sizes, dt.int32, name="size_splits"), axis_t]

        def k(v):
            out = np.split(v, np.cumsum(resolve(np.shape(v)[ax], kernel_error))[:-1], ax)
            return tuple(out) if len(out) > 1 else out[0]  # a one-output op's kernel returns the array itself
        return list(make_op(op_type, scope, inputs, [(x.dtype, s) for s in shapes], kernel=k,
                            exec_idx=(1 if even else 0,), attrs={"axis": ax, "num_split": len(sizes)}).outputs)


@register_gradient("Split")
@register_gradient("SplitV")
def _split_grad(op, *grads):
    """Concatenate the parts' gradients (gradients() fills unused parts with zeros). It also serves the
    SplitV that concat's gradient builds, whose inputs are [g, *xs]: only the first gradient is given and
    gradients() pairs the list with the inputs, so the list must start with the split value's."""
    g = concat(list(grads), op.attrs["axis"])
    return [None, g] if op.type == "Split" else [g, None, None]


# ---- masks ------------------------------------------------------------------------------------------
def sequence_mask(lengths, maxlen=None, dtype=dt.bool_, name=None) -> Tensor:
    """`tf.sequence_mask`: `range(maxlen) < lengths[..., None]`, built from those ops as TF1 does."""
    with name_scope(name or "SequenceMask"):
        lengths = convert_to_tensor(lengths)
        maxlen = (maximum(constant(0, lengths.dtype), reduce_max(lengths)) if maxlen is None else
                  convert_to_tensor(maxlen))
        if maxlen.shape.ndims not in (None, 0):
            raise ValueError("maxlen must be scalar for sequence_mask")
        row = range(constant(0, maxlen.dtype), maxlen, constant(1, maxlen.dtype), name="Range")
        mask = less(row, cast(expand_dims(lengths, -1), maxlen.dtype))
        return mask if as_dtype(dtype) is dt.bool_ else cast(mask, dtype)


def boolean_mask(tensor, mask, name="boolean_mask", axis=None) -> Tensor:
    """`tf.boolean_mask`: flatten the masked dimensions, then gather the rows where the mask is true (TF1's
    Reshape/Where/Squeeze/GatherV2; the gradient scatters back through GatherV2 and Reshape)."""
    with name_scope(name):
        x = convert_to_tensor(tensor, name="tensor")
        m = convert_to_tensor(mask, name="mask")
        nd = m.shape.ndims
        if not nd:
            raise ValueError("mask cannot be scalar." if nd == 0 else "Number of mask dimensions must be specified, "
                             "even if some dimensions are None.  E.g. shape=[None] is ok, but shape=None is not.")
        ax = 0 if axis is None else int(axis)
        xd = x.shape._dims
        if xd is not None:
            TensorShape(xd[ax:ax + nd]).assert_is_compatible_with(m.shape)
        shp = shape(x)
        flat = reshape(x, concat([getitem(shp, slice(None, ax)), constant([-1], dt.int32, name="minus_one"),
                                  getitem(shp, slice(ax + nd, None))], 0))
        out = gather(flat, squeeze(where(reshape(m, [-1])), axis=[1]), axis=ax)
        out.set_shape(None if xd is None else xd[:ax] + [None] + xd[ax + nd:])
        return out


# ---- gather_nd ------------------------------------------------------------------------------------
def _index_tuple(iv):
    return tuple(np.moveaxis(np.asarray(iv), -1, 0))


def gather_nd(params, indices, name=None) -> Tensor:
    """`tf.gather_nd`: op `GatherNd`; out-of-range indices are an InvalidArgumentError, as on TF's CPU."""
    p = convert_to_tensor(params)
    with name_scope(name or "GatherNd") as scope:
        i = convert_to_tensor(indices, name="indices")
        _check_dtype(i, "indices", (dt.int32, dt.int64))
        pd, idims = p.shape._dims, i.shape._dims
        if idims is not None and not idims:
            raise shape_error(scope, "GatherNd", "Shape must be at least rank 1 but is rank 0", p, i)
        depth = None if idims is None else idims[-1]
        if depth is not None and pd is not None and depth > len(pd):
            raise shape_error(scope, "GatherNd", f"indices.shape[-1] must be <= params.rank, but saw indices "
                                                  f"shape: {shape_text(i.shape)} and params shape: "
                                                  f"{shape_text(p.shape)}", p, i)
        out = None if depth is None or pd is None else idims[:-1] + pd[depth:]

        def k(pv, iv):
            bounds = np.shape(pv)[:np.shape(iv)[-1]]
            bad = ((iv < 0) | (iv >= np.array(bounds, dtype=np.int64))).any(-1)
            if bad.any():
                at = np.argwhere(bad)[0] if bad.ndim else []
                raise kernel_error(f"indices[{','.join(map(str, at))}] = {np.asarray(iv)[tuple(at)].tolist()} does "
                                 f"not index into param shape {list(np.shape(pv))}")
            return pv[_index_tuple(iv)]
        return make_op("GatherNd", scope, [p, i], [(p.dtype, out)], kernel=k).outputs[0]


@register_gradient("GatherNd")
def _gather_nd_grad(op, g):
    """Scatter-add the gradient into zeros of the params' shape (TF's ScatterNd; repeated indices add up)."""
    p, i = op.inputs

    def k(iv, uv, sv):
        out = np.zeros(tuple(sv), uv.dtype)
        np.add.at(out, _index_tuple(iv), uv)
        return out
    return [simple_op("ScatterNd", [i, g, shape(p)], g.dtype, p.shape, k).outputs[0], None]


@register_gradient("ScatterNd")
def _scatter_nd_grad(op, g):
    return [None, gather_nd(g, op.inputs[0]), None]


# ---- tensordot, einsum, matrix_transpose --------------------------------------------------------------
def _shape_arg(dims: list):
    return dims if all(isinstance(d, int) for d in dims) else stack(dims)


def _as_matrix(x: Tensor, rows: list, cols: list) -> Tensor:
    """Transpose x to rows+cols axes and reshape it to [prod(rows), prod(cols)]."""
    perm = rows + cols
    xt = x if perm == list(_brange(len(perm))) else transpose(x, perm)
    side = [[dim_size(x, a) for a in axes] for axes in (rows, cols)]
    return reshape(xt, _shape_arg([int(np.prod(ds)) if all(isinstance(d, int) for d in ds) else
                                   reduce_prod(stack(ds)) for ds in side]))


def _contraction_axes(axes, ra: int, rb: int):
    if isinstance(axes, (int, np.integer)):
        if not 0 <= axes <= min(ra, rb):
            raise ValueError("'axes' must be at least 0." if axes < 0 else f"'axes' must not be larger than the "
                             f"number of dimensions of tensor (ranks {ra} and {rb}).")
        return list(_brange(ra - axes, ra)), list(_brange(axes))
    if len(axes) != 2:
        raise ValueError("'axes' must be an integer or have length 2.")
    a_ax, b_ax = ([int(u) for u in np.ravel(v)] for v in axes)
    if len(a_ax) != len(b_ax):
        raise ValueError(f"Different number of contraction axes 'a' and 'b', {len(a_ax)} != {len(b_ax)}.")
    if any(not -r <= v < r for ax, r in ((a_ax, ra), (b_ax, rb)) for v in ax):
        raise ValueError(f"Contraction axes {axes} out of range for tensors of rank {ra} and {rb}.")
    return [v % ra for v in a_ax], [v % rb for v in b_ax]


def tensordot(a, b, axes, name=None) -> Tensor:
    """`tf.tensordot`: as TF1, transpose + reshape each side to a matrix, one MatMul, reshape back."""
    with name_scope(name or "Tensordot"):
        a = convert_to_tensor(a, name="a")
        b = convert_to_tensor(b, name="b")
        ra, rb = a.shape.ndims, b.shape.ndims
        if ra is None or rb is None:
            raise ValueError("tensordot needs inputs of known rank")
        a_ax, b_ax = _contraction_axes(axes, ra, rb)
        for i, j in zip(a_ax, b_ax):
            da, db = a.shape._dims[i], b.shape._dims[j]
            if da is not None and db is not None and da != db:
                raise ValueError(f"Dimensions must be equal, but are {da} and {db} for 'Tensordot' with input "
                                 f"shapes: {shape_text(a.shape)}, {shape_text(b.shape)} and axes {axes}.")
        free_a = [i for i in _brange(ra) if i not in a_ax]
        free_b = [j for j in _brange(rb) if j not in b_ax]
        ab = matmul(_as_matrix(a, free_a, a_ax), _as_matrix(b, b_ax, free_b))
        out = reshape(ab, _shape_arg([dim_size(a, i) for i in free_a] + [dim_size(b, j) for j in free_b]))
        out.set_shape([a.shape._dims[i] for i in free_a] + [b.shape._dims[j] for j in free_b])
        return out


def _parse_einsum(equation: str, n_inputs: int):
    eq = equation.replace(" ", "")
    if "." in eq:
        raise ValueError(f"einsum: ellipsis ('...') is not supported: {equation!r}")
    lhs, arrow, out = eq.partition("->")
    subs = lhs.split(",")
    if len(subs) != n_inputs:
        raise ValueError(f"einsum: {equation!r} names {len(subs)} operands but {n_inputs} inputs were given")
    for s in subs + [out]:
        if not all(c.isalpha() and c.isascii() for c in s) or len(set(s)) != len(s):
            raise ValueError(f"einsum: subscripts {s!r} of {equation!r} must be distinct letters (an index "
                             f"repeated within one operand is not supported)")
    if not arrow:
        out = "".join(sorted(c for c in set(lhs) if lhs.count(c) == 1 and c != ","))
    if set(out) - set(lhs):
        raise ValueError(f"einsum: output subscripts {out!r} name indices absent from the inputs: {equation!r}")
    return subs, out


def einsum(equation: str, *inputs, name=None) -> Tensor:
    """`tf.einsum` without ellipsis or repeated indices in one operand: one `Einsum` op (np.einsum)."""
    subs, out = _parse_einsum(equation, len(inputs))
    with name_scope(name or "einsum") as scope:
        xs = [convert_to_tensor(x, name=f"input_{i}") for i, x in enumerate(inputs)]
        if len({x.dtype for x in xs}) > 1:
            raise TypeError(f"einsum: inputs must share a dtype, got {[x.dtype.name for x in xs]}")
        sizes: dict = {}
        for x, s in zip(xs, subs):
            if x.shape.ndims is not None and x.shape.ndims != len(s):
                raise ValueError(f"einsum: subscripts {s!r} need a rank-{len(s)} input, got shape "
                                 f"{shape_text(x.shape)}")
            for c, d in zip(s, x.shape._dims or [None] * len(s)):
                if d is not None and sizes.get(c, d) != d:
                    raise ValueError(f"einsum: index {c!r} has size {sizes[c]} and {d} in {equation!r}")
                sizes[c] = d if d is not None else sizes.get(c)
        eqn = ",".join(subs) + "->" + out
        return make_op("Einsum", scope, xs, [(xs[0].dtype, [sizes.get(c) for c in out])],
                       kernel=lambda *vs: np.einsum(eqn, *vs, optimize=len(vs) > 2),
                       attrs={"equation": eqn, "N": len(xs)}).outputs[0]


@register_gradient("Einsum")
def _einsum_grad(op, g):
    """Input i's gradient: einsum of g with the other inputs onto i's subscripts; indices summed within input i
    alone are broadcast back."""
    lhs, out = op.attrs["equation"].split("->")
    subs = lhs.split(",")
    grads = []
    for i, (x, s) in enumerate(zip(op.inputs, subs)):
        others = [(y, t) for j, (y, t) in enumerate(zip(op.inputs, subs)) if j != i]
        reach = set(out).union(*(t for _, t in others))
        kept = "".join(c for c in s if c in reach)
        gi = einsum(",".join([out] + [t for _, t in others]) + "->" + kept, g, *(y for y, _ in others))
        if kept != s:
            for pos, c in enumerate(s):
                if c not in reach:
                    gi = expand_dims(gi, pos)
            gi = multiply(gi, ones_like(x))
        grads.append(gi)
    return grads


def matrix_transpose(a, name="matrix_transpose", conjugate=False) -> Tensor:
    """`tf.matrix_transpose`/`tf.linalg.transpose`: swap the last two axes (rank must be known, >= 2)."""
    with name_scope(name):
        x = convert_to_tensor(a, name="a")
        n = x.shape.ndims
        if n is None or n < 2:
            raise ValueError(f"Argument 'a' should be a (batch) matrix, with rank >= 2.  Found: {x.shape}")
        return transpose(x, list(_brange(n - 2)) + [n - 1, n - 2], conjugate=conjugate)
