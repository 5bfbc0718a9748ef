"""`tf.nn.conv2d`, `max_pool`, `avg_pool` (NHWC, TF1 semantics); kernels beside gradients.

Every kernel works on one strided window view of the padded input (`sliding_window_view`, no copy):
conv2d copies it once into an im2col matrix for a single matmul, the pools reduce the view directly.
Backprop scatters window gradients with one strided add per kernel position (kh * kw), never per pixel.
"""
from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from summaries.engine.array_ops import shape as _shape
from summaries.engine.dtypes import TensorShape
from summaries.engine.graph import Tensor, convert_to_tensor, make_op, name_scope, register_gradient, simple_op


# ---- arguments and shapes ----------------------------------------------------------------------------
def _check_layout(op: str, padding, data_format) -> str:
    """TF's string attrs, checked up front so a typo fails at graph build naming the op, not at run time."""
    if isinstance(data_format, bytes):
        data_format = data_format.decode()
    if data_format not in ("NHWC", None):
        raise ValueError(f"{op}: only data_format='NHWC' is supported by this engine, got {data_format!r}")
    if isinstance(padding, bytes):
        padding = padding.decode()
    if padding not in ("SAME", "VALID"):
        raise ValueError(f"{op}: padding must be 'SAME' or 'VALID', got {padding!r}")
    return padding


def _hw(op: str, what: str, value) -> list[int]:
    """An int, [h, w] or [1, h, w, 1] as TF's 4-element attr; batch/channel entries must be 1."""
    if value is None:
        raise ValueError(f"{op}: {what} is required, e.g. [1, 2, 2, 1]")
    v = [int(value)] if isinstance(value, (int, np.integer)) else [int(x) for x in value]
    if len(v) == 1:
        v = [1, v[0], v[0], 1]
    elif len(v) == 2:
        v = [1, v[0], v[1], 1]
    if len(v) != 4 or v[0] != 1 or v[3] != 1 or min(v) < 1:
        raise ValueError(f"{op}: {what} must be [1, h, w, 1] with positive h, w (no batch or channel "
                         f"{what} in NHWC), got {value!r}")
    return v


def _out_size(size, k, s: int, padding: str):
    """Output length along one axis (unknown stays None): ceil(in/s) for SAME, ceil((in-k+1)/s) for VALID."""
    if size is None or (k is None and padding == "VALID"):
        return None
    return -(-size // s) if padding == "SAME" else -(-(size - k + 1) // s)


def _pads(size: int, k: int, s: int, padding: str) -> tuple[int, int]:
    """(before, after): SAME pads max((out-1)*s + k - in, 0) in total, the odd one at the bottom/right."""
    if padding == "VALID":
        return 0, 0
    total = max((math.ceil(size / s) - 1) * s + k - size, 0)
    return total // 2, total - total // 2


def _static_shape(op: str, x: Tensor, kh, kw, sh: int, sw: int, padding: str, channels) -> TensorShape:
    d = x.shape._dims
    if d is None:
        return TensorShape([None, None, None, channels])
    if len(d) != 4:
        raise ValueError(f"{op}: input must be 4-D NHWC, got shape {x.shape}")
    oh, ow = _out_size(d[1], kh, sh, padding), _out_size(d[2], kw, sw, padding)
    if (oh is not None and oh < 1) or (ow is not None and ow < 1):
        raise ValueError(f"{op}: a {kh}x{kw} window does not fit the {d[1]}x{d[2]} input with VALID padding")
    return TensorShape([d[0], oh, ow, channels])


# ---- window views -----------------------------------------------------------------------------------
def _windows(x: np.ndarray, kh: int, kw: int, sh: int, sw: int, padding: str, fill=0):
    """The (N, OH, OW, C, kh, kw) view of every window over the padded input (a view, not a copy)."""
    n, h, w, c = x.shape
    (pt, pb), (pl, pr) = _pads(h, kh, sh, padding), _pads(w, kw, sw, padding)
    if pt or pb or pl or pr:
        x = np.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0)), constant_values=fill)
    oh, ow = _out_size(h, kh, sh, padding), _out_size(w, kw, sw, padding)
    return sliding_window_view(x, (kh, kw), axis=(1, 2))[:, ::sh, ::sw][:, :oh, :ow]


def _scatter(parts, in_shape, kh: int, kw: int, sh: int, sw: int, padding: str, dtype) -> np.ndarray:
    """The adjoint of `_windows`: add each (N, OH, OW, C) part, in row-major window offset (i, j) order,
    back where those window cells came from; the result is unpadded to `in_shape`."""
    n, h, w, c = (int(v) for v in in_shape)
    (pt, pb), (pl, pr) = _pads(h, kh, sh, padding), _pads(w, kw, sw, padding)
    oh, ow = _out_size(h, kh, sh, padding), _out_size(w, kw, sw, padding)
    out = np.zeros((n, h + pt + pb, w + pl + pr, c), dtype)
    for (i, j), part in zip(np.ndindex(kh, kw), parts):
        out[:, i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw] += part
    return out[:, pt:pt + h, pl:pl + w]


# ---- conv2d -----------------------------------------------------------------------------------------
def _im2col(x: np.ndarray, kh: int, kw: int, sh: int, sw: int, padding: str) -> np.ndarray:
    """(N*OH*OW, kh*kw*C) rows ordered like a [kh, kw, in, out] filter reshaped to (kh*kw*in, out)."""
    win = _windows(x, kh, kw, sh, sw, padding)
    return win.transpose(0, 1, 2, 4, 5, 3).reshape(-1, kh * kw * x.shape[3])


def _conv_kernel(sh: int, sw: int, padding: str):
    def k(x, f):
        kh, kw, _, co = f.shape
        n, h, w, _ = x.shape
        out = _im2col(x, kh, kw, sh, sw, padding) @ f.reshape(-1, co)
        return out.reshape(n, _out_size(h, kh, sh, padding), _out_size(w, kw, sw, padding), co)
    return k


def conv2d(input, filter=None, strides=None, padding=None, use_cudnn_on_gpu: bool = True,
           data_format: str = "NHWC", dilations=None, name: str | None = None, filters=None) -> Tensor:
    """2-D cross-correlation of NHWC `input` with a [kh, kw, in, out] `filter`, as TF1's Conv2D op."""
    padding = _check_layout("Conv2D", padding, data_format)
    strides = _hw("Conv2D", "strides", strides)
    if dilations is not None and any(d != 1 for d in _hw("Conv2D", "dilations", dilations)):
        raise ValueError(f"Conv2D: dilations other than 1 are not supported by this engine, got {dilations}")
    with name_scope(name or "Conv2D") as scope:
        x = convert_to_tensor(input, name="input")
        f = convert_to_tensor(filter if filter is not None else filters, x.dtype, name="filter")
        fd = f.shape._dims or [None] * 4
        if len(fd) != 4:
            raise ValueError(f"Conv2D: filter must be 4-D [kh, kw, in, out], got shape {f.shape}")
        xd = x.shape._dims
        if xd is not None and None not in (xd[-1], fd[2]) and xd[-1] != fd[2]:
            raise ValueError(f"Conv2D: input has {xd[-1]} channels but the filter expects {fd[2]}")
        out = _static_shape("Conv2D", x, fd[0], fd[1], strides[1], strides[2], padding, fd[3])
        attrs = {"T": x.dtype, "strides": strides, "use_cudnn_on_gpu": bool(use_cudnn_on_gpu),
                 "padding": padding, "explicit_paddings": [], "data_format": "NHWC", "dilations": [1, 1, 1, 1]}
        return make_op("Conv2D", scope, [x, f], [(x.dtype, out)], attrs=attrs,
                       kernel=_conv_kernel(strides[1], strides[2], padding)).outputs[0]


@register_gradient("Conv2D")
def _conv2d_grad(op, g):
    x, f = op.inputs
    sh, sw, padding = op.attrs["strides"][1], op.attrs["strides"][2], op.attrs["padding"]
    attrs = {k: op.attrs[k] for k in ("T", "strides", "use_cudnn_on_gpu", "padding", "explicit_paddings",
                                      "data_format", "dilations")}

    def dx(xs, fv, gv):
        kh, kw, ci, co = fv.shape
        cols = (gv.reshape(-1, co) @ fv.reshape(-1, co).T).reshape(gv.shape[:3] + (kh, kw, ci))
        parts = (cols[:, :, :, i, j] for i, j in np.ndindex(kh, kw))
        return _scatter(parts, xs, kh, kw, sh, sw, padding, gv.dtype)

    def dfilter(xv, fs, gv):
        kh, kw, ci, co = (int(v) for v in fs)
        return (_im2col(xv, kh, kw, sh, sw, padding).T @ gv.reshape(-1, co)).reshape(kh, kw, ci, co)

    gx = simple_op("Conv2DBackpropInput", [_shape(x), f, g], x.dtype, x.shape, dx, attrs=attrs).outputs[0]
    gf = simple_op("Conv2DBackpropFilter", [x, _shape(f, name="Shape_1"), g], f.dtype, f.shape, dfilter,
                   attrs=attrs).outputs[0]
    return [gx, gf]


# ---- pooling ----------------------------------------------------------------------------------------
def _pool(op_type: str, value, ksize, strides, padding, data_format, name, kernel_for, **extra) -> Tensor:
    padding = _check_layout(op_type, padding, data_format)
    ksize, strides = _hw(op_type, "ksize", ksize), _hw(op_type, "strides", strides)
    with name_scope(name or op_type) as scope:
        x = convert_to_tensor(value, name="input")
        d = x.shape._dims
        out = _static_shape(op_type, x, ksize[1], ksize[2], strides[1], strides[2], padding,
                            None if d is None else d[3])
        attrs = {"T": x.dtype, "ksize": ksize, "strides": strides, "padding": padding, "data_format": "NHWC",
                 **extra}
        return make_op(op_type, scope, [x], [(x.dtype, out)], attrs=attrs,
                       kernel=kernel_for(ksize[1], ksize[2], strides[1], strides[2], padding)).outputs[0]


def _lowest(dtype):
    """Padding for max: never chosen over a real element (TF ignores padded cells)."""
    return -np.inf if np.dtype(dtype).kind == "f" else np.iinfo(dtype).min


def _max_kernel(kh, kw, sh, sw, padding):
    return lambda x: _windows(x, kh, kw, sh, sw, padding, _lowest(x.dtype)).max(axis=(4, 5))


def _routed(x, y, g, kh, kw, sh, sw, padding):
    """Per window offset (row-major), g where that cell is its window's first maximum, as TF's MaxPoolGrad.

    One comparison with the pooled output per offset: cheaper than an argmax over a copy of all windows."""
    win = _windows(x, kh, kw, sh, sw, padding, _lowest(x.dtype))
    free = np.ones(g.shape, bool)
    for i, j in np.ndindex(kh, kw):
        hit = free & (win[..., i, j] == y)
        free &= ~hit
        yield np.where(hit, g, 0)


def _counts(h: int, w: int, kh, kw, sh, sw, padding) -> np.ndarray:
    """(1, OH, OW, 1) number of real (unpadded) cells per window: SAME averages over these only."""
    ones = np.ones((1, h, w, 1))
    return _windows(ones, kh, kw, sh, sw, padding).sum(axis=(4, 5))


def _avg_kernel(kh, kw, sh, sw, padding):
    def k(x):
        s = _windows(x, kh, kw, sh, sw, padding).sum(axis=(4, 5))
        return (s / _counts(x.shape[1], x.shape[2], kh, kw, sh, sw, padding)).astype(x.dtype, copy=False)
    return k


def max_pool(value, ksize, strides, padding, data_format: str = "NHWC", name: str | None = None,
             input=None) -> Tensor:
    """Max over each ksize window (SAME ignores the padding), as TF1's MaxPool op."""
    return _pool("MaxPool", value if value is not None else input, ksize, strides, padding, data_format, name,
                 _max_kernel, explicit_paddings=[])


max_pool2d = max_pool


def avg_pool(value, ksize, strides, padding, data_format: str = "NHWC", name: str | None = None,
             input=None) -> Tensor:
    """Mean over each ksize window; with SAME the mean is over the real cells only, as TF1's AvgPool op."""
    return _pool("AvgPool", value if value is not None else input, ksize, strides, padding, data_format, name,
                 _avg_kernel)


def _pool_params(op):
    (_, kh, kw, _), (_, sh, sw, _) = op.attrs["ksize"], op.attrs["strides"]
    return kh, kw, sh, sw, op.attrs["padding"]


@register_gradient("MaxPool")
def _max_pool_grad(op, g):
    x, y = op.inputs[0], op.outputs[0]
    kh, kw, sh, sw, padding = _pool_params(op)

    def k(xv, yv, gv):
        return _scatter(_routed(xv, yv, gv, kh, kw, sh, sw, padding), xv.shape, kh, kw, sh, sw, padding,
                        gv.dtype)
    return [simple_op("MaxPoolGrad", [x, y, g], x.dtype, x.shape, k, attrs=dict(op.attrs)).outputs[0]]


@register_gradient("AvgPool")
def _avg_pool_grad(op, g):
    x = op.inputs[0]
    kh, kw, sh, sw, padding = _pool_params(op)

    def k(xs, gv):
        share = (gv / _counts(int(xs[1]), int(xs[2]), kh, kw, sh, sw, padding)).astype(gv.dtype, copy=False)
        return _scatter([share] * (kh * kw), xs, kh, kw, sh, sw, padding, gv.dtype)
    return [simple_op("AvgPoolGrad", [_shape(x), g], x.dtype, x.shape, k, attrs=dict(op.attrs)).outputs[0]]
