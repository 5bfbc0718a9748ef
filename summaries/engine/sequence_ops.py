"""`tf.reverse` and `tf.reverse_sequence`, the reversals a backward RNN runs on (kept out of array_ops for
size). Each op's numpy kernel sits beside its gradient, which is the same reversal of the incoming gradient."""
from __future__ import annotations

import numpy as np

from summaries.engine import dtypes as dt
from summaries.engine.array_ops import constant
from summaries.engine.errors import kernel_error
from summaries.engine.graph import Tensor, convert_to_tensor, make_op, name_scope, register_gradient, static_value


def _axes_arg(axis) -> list[int] | None:
    """Python ints of a reverse `axis` argument, or None when it is a non-constant tensor."""
    if isinstance(axis, Tensor):
        v = static_value(axis)
        return None if v is None else [int(a) for a in np.ravel(v)]
    return [int(a) for a in np.ravel(np.asarray(axis))]


def _check_axes(axes: list[int], ndims: int | None) -> list[int]:
    if ndims is None:
        return axes
    for a in axes:
        if not -ndims <= a < ndims:
            raise ValueError(f"'axis'[{axes.index(a)}] = {a} is out of valid range [{-ndims}, {ndims})")
    norm = [a % ndims for a in axes]
    if len(set(norm)) != len(norm):
        raise ValueError(f"axis {axes} specifies the same dimension more than once")
    return norm


def _flip(v, axes):
    try:
        return np.flip(v, tuple(int(a) for a in np.ravel(axes)))
    except ValueError as e:  # numpy's AxisError is a ValueError
        raise kernel_error(f"reverse: invalid axis {list(np.ravel(axes))}: {e}")


def reverse(tensor, axis, name=None) -> Tensor:
    """Flip `tensor` along each dimension in `axis` (a list of ints, negatives count from the end)."""
    x = convert_to_tensor(tensor)
    axes = _axes_arg(axis)
    with name_scope(name or "ReverseV2") as scope:
        if axes is None:
            axis_t = convert_to_tensor(axis)
            return make_op("ReverseV2", scope, [x, axis_t], [(x.dtype, x.shape)], kernel=_flip).outputs[0]
        axes = _check_axes(axes, x.shape.ndims)
        axis_t = constant(axes, dt.int32, name="axis")
        flip = tuple(axes)
        return make_op("ReverseV2", scope, [x, axis_t], [(x.dtype, x.shape)], kernel=lambda v: np.flip(v, flip),
                       exec_idx=(0,)).outputs[0]


reverse_v2 = reverse


@register_gradient("ReverseV2")
def _reverse_grad(op, g):
    return [reverse(g, op.inputs[1]), None]


def _reverse_sequence_kernel(seq_axis: int, batch_axis: int):
    def k(v, lengths):
        v = np.asarray(v)
        lengths = np.asarray(lengths)
        if lengths.shape != (v.shape[batch_axis],):
            raise kernel_error(f"Length of seq_lengths != input.dims({batch_axis}), "
                                       f"({lengths.shape[0] if lengths.ndim else lengths} vs. "
                                       f"{v.shape[batch_axis]})")
        out = v.copy()
        src = np.moveaxis(v, (batch_axis, seq_axis), (0, 1))
        dst = np.moveaxis(out, (batch_axis, seq_axis), (0, 1))  # a view: writing it fills `out`
        for b, n in enumerate(lengths):
            if n < 0:
                raise kernel_error(f"seq_lens({b}) < 0")
            if n > v.shape[seq_axis]:
                raise kernel_error(f"seq_lens({b}) > input.dims({seq_axis})")
            dst[b, :n] = src[b, :n][::-1]
        return out
    return k


def reverse_sequence(input, seq_lengths, seq_axis=None, batch_axis=None, name=None, seq_dim=None,
                     batch_dim=None) -> Tensor:
    """Reverse, per example b (along `batch_axis`), the first `seq_lengths[b]` entries along `seq_axis`;
    the rest stay in place. TF1's older `seq_dim`/`batch_dim` keywords are accepted too."""
    if seq_axis is not None and seq_dim is not None:
        raise ValueError("Cannot specify both 'seq_axis' and 'seq_dim'")
    if batch_axis is not None and batch_dim is not None:
        raise ValueError("Cannot specify both 'batch_axis' and 'batch_dim'")
    seq_axis = seq_dim if seq_axis is None else seq_axis
    batch_axis = (0 if batch_dim is None else batch_dim) if batch_axis is None else batch_axis
    if seq_axis is None:
        raise ValueError("reverse_sequence: seq_axis is required")
    seq_axis, batch_axis = int(seq_axis), int(batch_axis)
    x = convert_to_tensor(input)
    lengths = convert_to_tensor(seq_lengths)
    if not lengths.dtype.is_integer:
        raise TypeError(f"seq_lengths must be int32 or int64, got {lengths.dtype.name}")
    n = x.shape.ndims
    if seq_axis == batch_axis:
        raise ValueError(f"seq_dim == batch_dim == {seq_axis}")
    if n is not None and not (0 <= seq_axis < n and 0 <= batch_axis < n):
        raise ValueError(f"seq_dim ({seq_axis}) and batch_dim ({batch_axis}) must be in [0, {n}) for an input "
                         f"of shape {x.shape}")
    if lengths.shape.ndims not in (None, 1):
        raise ValueError(f"seq_lengths must be 1-D, got shape {lengths.shape}")
    if n is not None and lengths.shape.ndims == 1:
        nb, nl = x.shape.as_list()[batch_axis], lengths.shape.as_list()[0]
        if nb is not None and nl is not None and nb != nl:
            raise ValueError(f"Length of seq_lengths != input.dims({batch_axis}), ({nl} vs. {nb})")
    with name_scope(name or "ReverseSequence") as scope:
        return make_op("ReverseSequence", scope, [x, lengths], [(x.dtype, x.shape)],
                       kernel=_reverse_sequence_kernel(seq_axis, batch_axis),
                       attrs={"seq_dim": seq_axis, "batch_dim": batch_axis, "Tlen": lengths.dtype}).outputs[0]


@register_gradient("ReverseSequence")
def _reverse_sequence_grad(op, g):
    return [reverse_sequence(g, op.inputs[1], op.attrs["seq_dim"], op.attrs["batch_dim"]), None]
