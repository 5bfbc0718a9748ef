"""`tf.layers.conv2d_transpose`, `conv1d`, `max_pooling1d`, `average_pooling1d`: TF1's functional layers
on conv_ops, with the scoping and variable names layers.py documents (`conv1d/kernel`, ...)."""
from __future__ import annotations

import numpy as np

from summaries.engine import conv_ops
from summaries.engine.array_ops import expand_dims, shape, squeeze, stack
from summaries.engine.graph import Tensor, convert_to_tensor
from summaries.engine.layers import _ZEROS, _channels_last, _dims, _finish, _layer_scope, _pair, _padding
from summaries.engine.manip_ops import pad as _pad
from summaries.engine.variables import Initializer, get_variable


def _single(value, what: str) -> int:
    """An int or a 1-tuple, as Keras' normalize_tuple(value, 1) accepts."""
    v = [int(value)] if isinstance(value, (int, np.integer)) else [int(d) for d in value]
    if len(v) != 1 or v[0] < 1:
        raise ValueError(f"The `{what}` argument must be an int or a tuple of 1 positive int, got {value!r}")
    return v[0]


def _deconv_length(size, k: int, s: int, padding: str):
    """Keras' transposed-conv output length: in * s, plus max(k - s, 0) with VALID (a size known at build
    time or a scalar tensor); None stays None."""
    if size is None:
        return None
    return size * s + (max(k - s, 0) if padding == "VALID" else 0)


def _rank_input(inputs, layer: str, rank: int) -> tuple[Tensor, list]:
    x = convert_to_tensor(inputs)
    dims = _dims(x, layer)
    if len(dims) != rank:
        raise ValueError(f"Input 0 of layer {layer} is incompatible with the layer: expected ndim={rank}, found "
                         f"ndim={len(dims)}. Full shape received: {x.shape}")
    if dims[-1] is None:
        raise ValueError("The channel dimension of the inputs should be defined. Found `None`.")
    return x, dims


def conv2d_transpose(inputs, filters: int, kernel_size, strides=(1, 1), padding: str = "valid",
                     data_format: str = "channels_last", activation=None, use_bias: bool = True,
                     kernel_initializer: Initializer | None = None, bias_initializer: Initializer = _ZEROS,
                     trainable: bool = True, name: str | None = None, reuse=None, kernel_regularizer=None,
                     bias_regularizer=None) -> Tensor:
    """Transposed 2-D convolution of NHWC `inputs` with `<scope>/kernel` [kh, kw, filters, in] (the filter
    of the conv2d it inverts), plus `<scope>/bias`; output H*sh (+ max(kh - sh, 0) with 'valid')."""
    _channels_last(data_format, "conv2d_transpose")
    x, dims = _rank_input(inputs, "conv2d_transpose", 4)
    (kh, kw), (sh, sw), pad = _pair(kernel_size, "kernel_size"), _pair(strides, "strides"), _padding(padding)
    n = int(filters)
    with _layer_scope("conv2d_transpose", name, reuse):
        kernel = get_variable("kernel", [kh, kw, n, dims[3]], x.dtype, kernel_initializer, trainable=trainable,
                              regularizer=kernel_regularizer)
        static = [dims[0], _deconv_length(dims[1], kh, sh, pad), _deconv_length(dims[2], kw, sw, pad), n]
        if None in static:  # unknown sizes come from the input's run-time shape, as TF1 does
            dyn = shape(x)
            oh, ow = (static[i] if static[i] is not None else _deconv_length(dyn[i], k, s, pad)
                      for i, k, s in ((1, kh, sh), (2, kw, sw)))
            out_shape = stack([dyn[0] if static[0] is None else static[0], oh, ow, n])
        else:
            out_shape = static
        y = conv_ops.conv2d_transpose(x, kernel, out_shape, [1, sh, sw, 1], pad)
        y.set_shape(static)
        return _finish(y, n, use_bias, bias_initializer, trainable, activation, bias_regularizer)


def conv1d(inputs, filters: int, kernel_size, strides=1, padding: str = "valid", data_format: str = "channels_last",
           dilation_rate=1, activation=None, use_bias: bool = True, kernel_initializer: Initializer | None = None,
           bias_initializer: Initializer = _ZEROS, trainable: bool = True, name: str | None = None, reuse=None,
           kernel_regularizer=None, bias_regularizer=None) -> Tensor:
    """1-D convolution of [batch, width, channels] `inputs` with `<scope>/kernel` [k, in, filters], plus
    `<scope>/bias`; padding 'causal' left-pads (k - 1) * dilation_rate zeros so no output sees the future."""
    _channels_last(data_format, "conv1d")
    x, dims = _rank_input(inputs, "conv1d", 3)
    k, s = _single(kernel_size, "kernel_size"), _single(strides, "strides")
    d = _single(dilation_rate, "dilation_rate")
    causal = str(padding).lower() == "causal"
    pad = "VALID" if causal else _padding(padding)
    n = int(filters)
    with _layer_scope("conv1d", name, reuse):
        kernel = get_variable("kernel", [k, dims[2], n], x.dtype, kernel_initializer, trainable=trainable,
                              regularizer=kernel_regularizer)
        if causal:
            x = _pad(x, [[0, 0], [(k - 1) * d, 0], [0, 0]])
        y = conv_ops.conv1d(x, kernel, s, pad, dilations=d)
        return _finish(y, n, use_bias, bias_initializer, trainable, activation, bias_regularizer)


def _pooling1d(op, base: str, inputs, pool_size, strides, padding, data_format, name) -> Tensor:
    """Keras' Pooling1D: the 2-D pool over [batch, width, 1, channels], squeezed back."""
    _channels_last(data_format, base)
    k, s, pad = _single(pool_size, "pool_size"), _single(strides, "strides"), _padding(padding)
    x, _ = _rank_input(inputs, base, 3)
    with _layer_scope(base, name, None):
        y = op(expand_dims(x, 2), ksize=[1, k, 1, 1], strides=[1, s, 1, 1], padding=pad)
        return squeeze(y, [2])


def max_pooling1d(inputs, pool_size, strides, padding: str = "valid", data_format: str = "channels_last",
                  name: str | None = None) -> Tensor:
    """Max over `pool_size` windows of [batch, width, channels] `inputs`."""
    return _pooling1d(conv_ops.max_pool, "max_pooling1d", inputs, pool_size, strides, padding, data_format, name)


def average_pooling1d(inputs, pool_size, strides, padding: str = "valid", data_format: str = "channels_last",
                      name: str | None = None) -> Tensor:
    """Mean over `pool_size` windows of [batch, width, channels] `inputs` ('same' averages real cells only)."""
    return _pooling1d(conv_ops.avg_pool, "average_pooling1d", inputs, pool_size, strides, padding, data_format,
                      name)
