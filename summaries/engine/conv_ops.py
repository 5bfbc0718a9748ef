"""`tf.nn.conv2d` (dilated too), `conv2d_transpose`, `conv1d`, `depthwise_conv2d`, `max_pool`, `avg_pool`
(NHWC, TF1 semantics); kernels beside gradients.

Every kernel works on one strided window view of the padded input (`sliding_window_view`, no copy):
conv2d copies it once into an im2col matrix for a single matmul, the pools reduce the view directly.
Backprop scatters window gradients with one strided add per kernel position (kh * kw), never per pixel.
"""
from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from summaries.engine.array_ops import expand_dims, squeeze
from summaries.engine.array_ops import shape as _shape
from summaries.engine.dtypes import TensorShape, int32
from summaries.engine.errors import kernel_error
from summaries.engine.graph import (Tensor, convert_to_tensor, make_op, name_scope, register_gradient, simple_op,
                                    static_value)


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
def _span(k, d: int):
    """Input cells a k-tap window dilated by d covers, (k - 1) * d + 1; None (unknown) stays None."""
    return None if k is None else (k - 1) * d + 1


def _windows(x: np.ndarray, kh: int, kw: int, sh: int, sw: int, padding: str, fill=0, dh: int = 1, dw: int = 1):
    """The (N, OH, OW, C, kh, kw) view of every (dilated) window over the padded input (a view, not a copy)."""
    n, h, w, c = x.shape
    ekh, ekw = _span(kh, dh), _span(kw, dw)
    (pt, pb), (pl, pr) = _pads(h, ekh, sh, padding), _pads(w, ekw, sw, padding)
    if pt or pb or pl or pr:
        x = np.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0)), constant_values=fill)
    oh, ow = _out_size(h, ekh, sh, padding), _out_size(w, ekw, sw, padding)
    return sliding_window_view(x, (ekh, ekw), axis=(1, 2))[:, ::sh, ::sw][:, :oh, :ow][..., ::dh, ::dw]


def _scatter(parts, in_shape, kh: int, kw: int, sh: int, sw: int, padding: str, dtype, dh: int = 1,
             dw: int = 1) -> np.ndarray:
    """The adjoint of `_windows`: add each (N, OH, OW, C) part, in row-major window offset (i, j) order,
    back where those window cells came from; the result is unpadded to `in_shape`."""
    n, h, w, c = (int(v) for v in in_shape)
    ekh, ekw = _span(kh, dh), _span(kw, dw)
    (pt, pb), (pl, pr) = _pads(h, ekh, sh, padding), _pads(w, ekw, sw, padding)
    oh, ow = _out_size(h, ekh, sh, padding), _out_size(w, ekw, sw, padding)
    out = np.zeros((n, h + pt + pb, w + pl + pr, c), dtype)
    for (i, j), part in zip(np.ndindex(kh, kw), parts):
        out[:, i * dh:i * dh + sh * (oh - 1) + 1:sh, j * dw:j * dw + sw * (ow - 1) + 1:sw] += part
    return out[:, pt:pt + h, pl:pl + w]


# ---- conv2d and its two backprops (each op's gradient is built from the other two) -------------------
def _geometry(attrs: dict) -> tuple:
    """(sh, sw, padding, dh, dw) from a Conv2D-family op's attrs."""
    (_, sh, sw, _), (_, dh, dw, _) = attrs["strides"], attrs["dilations"]
    return sh, sw, attrs["padding"], dh, dw


def _im2col(x: np.ndarray, kh: int, kw: int, sh: int, sw: int, padding: str, dh: int = 1, dw: int = 1):
    """(N*OH*OW, kh*kw*C) rows ordered like a [kh, kw, in, out] filter reshaped to (kh*kw*in, out)."""
    win = _windows(x, kh, kw, sh, sw, padding, 0, dh, dw)
    return win.transpose(0, 1, 2, 4, 5, 3).reshape(-1, kh * kw * x.shape[3])


def _conv_kernel(sh: int, sw: int, padding: str, dh: int, dw: int):
    def k(x, f):
        kh, kw, _, co = f.shape
        n, h, w, _ = x.shape
        out = _im2col(x, kh, kw, sh, sw, padding, dh, dw) @ f.reshape(-1, co)
        return out.reshape(n, _out_size(h, _span(kh, dh), sh, padding), _out_size(w, _span(kw, dw), sw, padding),
                           co)
    return k


def _check_backprop_size(xs, fs, gs, sh, sw, padding, dh, dw) -> None:
    """TF's run-time check that out_backprop is the conv2d output of an input of `xs`'s size."""
    for axis, s, d in ((1, sh, dh), (2, sw, dw)):
        want = _out_size(int(xs[axis]), _span(int(fs[axis - 1]), d), s, padding)
        if want != gs[axis]:
            raise kernel_error(f"Conv2DSlowBackpropInput: Size of out_backprop doesn't match "
                                       f"computed: actual = {gs[axis]}, computed = {want} spatial_dim: {axis} "
                                       f"input: {int(xs[axis])} filter: {int(fs[axis - 1])} output: {gs[axis]} "
                                       f"stride: {s} dilation: {d}")


def _backprop_input_kernel(sh, sw, padding, dh, dw):
    def k(xs, fv, gv):
        kh, kw, ci, co = fv.shape
        _check_backprop_size(xs, fv.shape, gv.shape, sh, sw, padding, dh, dw)
        cols = (gv.reshape(-1, co) @ fv.reshape(-1, co).T).reshape(gv.shape[:3] + (kh, kw, ci))
        parts = (cols[:, :, :, i, j] for i, j in np.ndindex(kh, kw))
        return _scatter(parts, xs, kh, kw, sh, sw, padding, gv.dtype, dh, dw)
    return k


def _backprop_filter_kernel(sh, sw, padding, dh, dw):
    def k(xv, fs, gv):
        kh, kw, ci, co = (int(v) for v in fs)
        return (_im2col(xv, kh, kw, sh, sw, padding, dh, dw).T @ gv.reshape(-1, co)).reshape(kh, kw, ci, co)
    return k


def _conv_attrs(dtype, strides, padding, dilations, use_cudnn_on_gpu=True) -> dict:
    return {"T": dtype, "strides": list(strides), "use_cudnn_on_gpu": bool(use_cudnn_on_gpu), "padding": padding,
            "explicit_paddings": [], "data_format": "NHWC", "dilations": list(dilations)}


def _conv_op(scope: str, x: Tensor, f: Tensor, attrs: dict) -> Tensor:
    """A Conv2D op named `scope`, its static output shape checked (a window wider than VALID input fails)."""
    fd = f.shape._dims or [None] * 4
    sh, sw, padding, dh, dw = _geometry(attrs)
    out = _static_shape("Conv2D", x, _span(fd[0], dh), _span(fd[1], dw), sh, sw, padding, fd[3])
    return make_op("Conv2D", scope, [x, f], [(x.dtype, out)], attrs=attrs,
                   kernel=_conv_kernel(sh, sw, padding, dh, dw)).outputs[0]


def _backprop_input(sizes: Tensor, f: Tensor, g: Tensor, shape, attrs: dict, scope: str | None = None) -> Tensor:
    k = _backprop_input_kernel(*_geometry(attrs))
    if scope is None:
        return simple_op("Conv2DBackpropInput", [sizes, f, g], g.dtype, shape, k, attrs=attrs).outputs[0]
    return make_op("Conv2DBackpropInput", scope, [sizes, f, g], [(g.dtype, shape)], attrs=attrs,
                   kernel=k).outputs[0]


def _backprop_filter(x: Tensor, f_sizes: Tensor, g: Tensor, shape, attrs: dict) -> Tensor:
    k = _backprop_filter_kernel(*_geometry(attrs))
    return simple_op("Conv2DBackpropFilter", [x, f_sizes, g], x.dtype, shape, k, attrs=attrs).outputs[0]


def conv2d(input, filter=None, strides=None, padding=None, use_cudnn_on_gpu: bool = True,
           data_format: str = "NHWC", dilations=None, name: str | None = None, filters=None) -> Tensor:
    """2-D cross-correlation of NHWC `input` with a [kh, kw, in, out] `filter`, as TF1's Conv2D op;
    `dilations` [1, dh, dw, 1] spread the filter taps dh/dw cells apart (atrous)."""
    padding = _check_layout("Conv2D", padding, data_format)
    strides = _hw("Conv2D", "strides", strides)
    dilations = _hw("Conv2D", "dilations", 1 if dilations is None else dilations)
    with name_scope(name or "Conv2D") as scope:
        x = convert_to_tensor(input, name="input")
        f = convert_to_tensor(filter if filter is not None else filters, x.dtype, name="filter")
        fd = f.shape._dims or [None] * 4
        if len(fd) != 4:
            raise ValueError(f"Conv2D: filter must be 4-D [kh, kw, in, out], got shape {f.shape}")
        xd = x.shape._dims
        if xd is not None and None not in (xd[-1], fd[2]) and xd[-1] != fd[2]:
            raise ValueError(f"Conv2D: input has {xd[-1]} channels but the filter expects {fd[2]}")
        return _conv_op(scope, x, f, _conv_attrs(x.dtype, strides, padding, dilations, use_cudnn_on_gpu))


def atrous_conv2d(value, filters, rate: int, padding: str, name: str | None = None) -> Tensor:
    """`conv2d` with the filter taps `rate` cells apart, stride 1 (TF1 builds it under `convolution`)."""
    if int(rate) < 1:
        raise ValueError(f"rate {rate} cannot be less than one")
    return conv2d(value, filters, [1, 1, 1, 1], padding, dilations=[1, int(rate), int(rate), 1],
                  name=name or "convolution")


@register_gradient("Conv2D")
def _conv2d_grad(op, g):
    x, f = op.inputs
    attrs = {k: op.attrs[k] for k in ("T", "strides", "use_cudnn_on_gpu", "padding", "explicit_paddings",
                                      "data_format", "dilations")}
    return [_backprop_input(_shape(x), f, g, x.shape, attrs),
            _backprop_filter(x, _shape(f, name="Shape_1"), g, f.shape, attrs)]


@register_gradient("Conv2DBackpropInput")
def _conv2d_backprop_input_grad(op, g):
    """Linear in (filter, out_backprop): the filter's gradient correlates g with out_backprop, and
    out_backprop's is conv2d(g, filter)."""
    f, dy = op.inputs[1], op.inputs[2]
    with name_scope("Conv2D") as scope:
        gdy = _conv_op(scope, g, f, dict(op.attrs))
    return [None, _backprop_filter(g, _shape(f), dy, f.shape, dict(op.attrs)), gdy]


@register_gradient("Conv2DBackpropFilter")
def _conv2d_backprop_filter_grad(op, g):
    x, dy = op.inputs[0], op.inputs[2]
    with name_scope("Conv2D") as scope:
        gdy = _conv_op(scope, x, g, dict(op.attrs))
    return [_backprop_input(_shape(x), g, dy, x.shape, dict(op.attrs)), None, gdy]


def conv2d_transpose(value=None, filter=None, output_shape=None, strides=None, padding: str = "SAME",
                     data_format: str = "NHWC", name: str | None = None, input=None, filters=None,
                     dilations=None) -> Tensor:
    """Spread NHWC `value` [N, H, W, out] back through a [kh, kw, in, out] filter to an `output_shape`
    [N, OH, OW, in] map: conv2d's gradient w.r.t. its input (TF1's Conv2DBackpropInput op), so `value`
    must be the size conv2d(strides, padding) makes from `output_shape` (checked at run time, as in TF)."""
    padding = _check_layout("Conv2DBackpropInput", padding, data_format)
    strides = _hw("Conv2DBackpropInput", "strides", strides)
    dilations = _hw("Conv2DBackpropInput", "dilations", 1 if dilations is None else dilations)
    with name_scope(name or "conv2d_transpose") as scope:
        v = convert_to_tensor(value if value is not None else input, name="value")
        f = convert_to_tensor(filter if filter is not None else filters, v.dtype, name="filter")
        vd, fd = v.shape._dims or [None] * 4, f.shape._dims or [None] * 4
        if len(vd) != 4 or len(fd) != 4:
            raise ValueError(f"conv2d_transpose: value must be 4-D NHWC and filter 4-D [kh, kw, in, out], got "
                             f"shapes {v.shape} and {f.shape}")
        if None not in (vd[3], fd[3]) and vd[3] != fd[3]:
            raise ValueError(f"input channels does not match filter's input channels, {vd[3]} != {fd[3]}")
        sizes = convert_to_tensor(output_shape, int32, name="output_shape")
        if sizes.shape._dims is not None and sizes.shape._dims not in ([4], [None]):
            raise ValueError(f"output_shape must have shape (4,), got {sizes.shape}")
        known = static_value(sizes)
        if known is not None and fd[2] is not None and int(known[3]) != fd[2]:
            raise ValueError(f"output_shape does not match filter's output channels, {int(known[3])} != {fd[2]}")
        out = (TensorShape([int(d) for d in known]) if known is not None
               else TensorShape([vd[0], None, None, fd[2]]))
        attrs = _conv_attrs(v.dtype, strides, padding, dilations)
        return _backprop_input(sizes, f, v, out, attrs, scope=scope)


def _one(op: str, what: str, value) -> int:
    """conv1d's stride/dilation: an int, [s] or [1, s, 1]."""
    v = [int(value)] if isinstance(value, (int, np.integer)) else [int(x) for x in value]
    if len(v) == 3 and v[0] == v[2] == 1:
        v = v[1:2]
    if len(v) != 1 or v[0] < 1:
        raise ValueError(f"{op}: {what} must be a positive int, [s] or [1, s, 1], got {value!r}")
    return v[0]


def conv1d(value=None, filters=None, stride=None, padding=None, use_cudnn_on_gpu=None, data_format=None,
           name: str | None = None, input=None, dilations=None) -> Tensor:
    """1-D cross-correlation of NWC `value` with a [k, in, out] filter, built as TF1 does: ExpandDims of
    both to height 1, a Conv2D op named after the scope, and Squeeze (so gradients come from Conv2D's)."""
    if data_format not in (None, "NWC", b"NWC"):
        raise ValueError(f"conv1d: only data_format='NWC' is supported by this engine, got {data_format!r}")
    s = _one("conv1d", "stride", stride)
    d = _one("conv1d", "dilations", 1 if dilations is None else dilations)
    with name_scope(name or "conv1d") as scope:
        x = convert_to_tensor(value if value is not None else input, name="value")
        if x.shape.ndims is not None and x.shape.ndims != 3:
            raise ValueError(f"conv1d: value must be 3-D [batch, width, channels], got shape {x.shape}")
        f = convert_to_tensor(filters, x.dtype, name="filters")
        if f.shape.ndims is not None and f.shape.ndims != 3:
            raise ValueError(f"conv1d: filters must be 3-D [width, in, out], got shape {f.shape}")
        y = conv2d(expand_dims(x, 1), expand_dims(f, 0), [1, 1, s, 1], padding, use_cudnn_on_gpu is not False,
                   dilations=[1, 1, d, 1], name=scope)
        return squeeze(y, [1])


# ---- depthwise ----------------------------------------------------------------------------------------
def _depthwise_kernel(sh, sw, padding, dh, dw):
    def k(x, f):
        kh, kw, c, m = f.shape
        y = np.einsum("nhwcij,ijcm->nhwcm", _windows(x, kh, kw, sh, sw, padding, 0, dh, dw), f)
        return y.reshape(y.shape[:3] + (c * m,))
    return k


def depthwise_conv2d(input, filter, strides, padding, rate=None, name: str | None = None, data_format=None,
                     dilations=None) -> Tensor:
    """Each input channel c correlated with its own filters [kh, kw, c, :], output channel c * mult + m
    (TF1's DepthwiseConv2dNative); `rate` or `dilations` spread the taps (TF1 builds `rate` with
    space_to_batch around the op; here the op's dilations attr does it, same values)."""
    padding = _check_layout("DepthwiseConv2dNative", padding, data_format)
    strides = _hw("DepthwiseConv2dNative", "strides", strides)
    if rate is not None and dilations is not None:
        raise ValueError("depthwise_conv2d: pass rate or dilations, not both")
    dilations = _hw("DepthwiseConv2dNative", "rate", rate if rate is not None else (dilations or 1))
    if dilations != [1, 1, 1, 1] and strides != [1, 1, 1, 1]:
        raise ValueError("strides > 1 not supported in conjunction with dilation_rate > 1")
    with name_scope(name or "depthwise") as scope:
        x = convert_to_tensor(input, name="input")
        f = convert_to_tensor(filter, x.dtype, name="filter")
        xd, fd = x.shape._dims, f.shape._dims or [None] * 4
        if len(fd) != 4:
            raise ValueError(f"DepthwiseConv2dNative: filter must be 4-D [kh, kw, in, multiplier], got {f.shape}")
        if xd is not None and None not in (xd[-1], fd[2]) and xd[-1] != fd[2]:
            raise ValueError(f"DepthwiseConv2dNative: input has {xd[-1]} channels but the filter expects {fd[2]}")
        c = fd[2] if fd[2] is not None else (None if xd is None else xd[-1])
        out = _static_shape("DepthwiseConv2dNative", x, _span(fd[0], dilations[1]), _span(fd[1], dilations[2]),
                            strides[1], strides[2], padding, None if None in (c, fd[3]) else c * fd[3])
        attrs = {"T": x.dtype, "strides": strides, "padding": padding, "explicit_paddings": [],
                 "data_format": "NHWC", "dilations": dilations}
        return make_op("DepthwiseConv2dNative", scope, [x, f], [(x.dtype, out)], attrs=attrs,
                       kernel=_depthwise_kernel(*_geometry(attrs))).outputs[0]


@register_gradient("DepthwiseConv2dNative")
def _depthwise_grad(op, g):
    x, f = op.inputs
    sh, sw, padding, dh, dw = _geometry(op.attrs)

    def dx(xs, fv, gv):
        kh, kw, c, m = fv.shape
        g5 = gv.reshape(gv.shape[:3] + (c, m))
        parts = (np.einsum("nhwcm,cm->nhwc", g5, fv[i, j]) for i, j in np.ndindex(kh, kw))
        return _scatter(parts, xs, kh, kw, sh, sw, padding, gv.dtype, dh, dw)

    def dfilter(xv, fs, gv):
        kh, kw, c, m = (int(v) for v in fs)
        win = _windows(xv, kh, kw, sh, sw, padding, 0, dh, dw)
        return np.einsum("nhwcij,nhwcm->ijcm", win, gv.reshape(gv.shape[:3] + (c, m)))

    attrs = dict(op.attrs)
    gx = simple_op("DepthwiseConv2dNativeBackpropInput", [_shape(x), f, g], x.dtype, x.shape, dx,
                   attrs=attrs).outputs[0]
    gf = simple_op("DepthwiseConv2dNativeBackpropFilter", [x, _shape(f, name="Shape_1"), g], f.dtype, f.shape,
                   dfilter, attrs=attrs).outputs[0]
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
