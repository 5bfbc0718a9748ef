"""`tf.layers`: TF1's functional layers (dense, conv2d, conv2d_transpose, conv1d, pooling, dropout, flatten,
batch_normalization) on the engine's own ops.

Every layer opens a variable scope the way TF1's functional API does, so checkpoints and graphs carry TF1's
names: `name=None` takes the layer's snake_case class name made unique among variable scopes (dense,
dense_1, ...); an explicit `name` is the scope itself, so building it twice without `reuse` fails in
get_variable exactly as in TF1; `reuse=True` without a name shares the first layer's scope (`dense`).
The layer's ops are created inside that scope's name scope (`dense/MatMul`, `conv2d/Conv2D`, ...).
A kernel_initializer of None defers to get_variable: the enclosing scope's initializer, else glorot_uniform.
"""
from __future__ import annotations

import numpy as np

from summaries.engine import conv_ops, nn_ops
from summaries.engine import dtypes as dt
from summaries.engine.array_ops import cast, expand_dims, identity, reshape, shape, size, squeeze, stack
from summaries.engine.control_flow import cond
from summaries.engine.graph import (GraphKeys, Tensor, convert_to_tensor, get_default_graph, is_tensor_like,
                                    static_value)
from summaries.engine.manip_ops import pad as _pad, tensordot
from summaries.engine.math_ops import maximum, matmul, multiply, subtract, truediv
from summaries.engine.moving_averages import assign_moving_average
from summaries.engine.variables import (Initializer, get_variable, ones_initializer, variable_scope,
                                        zeros_initializer)

_ZEROS = zeros_initializer()
_ONES = ones_initializer()


def _layer_scope(base: str, name: str | None, reuse):
    """The variable scope TF1's functional layers use (see the module docstring)."""
    if name is not None:
        return variable_scope(name, reuse=reuse)
    if reuse:
        return variable_scope(base, reuse=reuse)
    return variable_scope(None, default_name=base)


def _dims(x: Tensor, layer: str) -> list:
    if x.shape.ndims is None:
        raise ValueError(f"tf.layers.{layer}: the input's rank must be known, got shape {x.shape}")
    return x.shape.as_list()


def _pair(value, what: str) -> tuple[int, int]:
    """An int or an (h, w) pair, as Keras' conv_utils.normalize_tuple accepts."""
    v = [int(value)] * 2 if isinstance(value, (int, np.integer)) else [int(d) for d in value]
    if len(v) != 2 or min(v) < 1:
        raise ValueError(f"The `{what}` argument must be an int or a tuple of 2 positive ints, got {value!r}")
    return v[0], v[1]


def _padding(padding: str) -> str:
    p = str(padding).upper()
    if p not in ("SAME", "VALID"):
        raise ValueError(f"The `padding` argument must be one of 'valid', 'same', got {padding!r}")
    return p


def _channels_last(data_format: str, layer: str) -> None:
    if str(data_format).lower() != "channels_last":
        raise ValueError(f"tf.layers.{layer}: this engine's conv/pool ops are NHWC only, so data_format must "
                         f"be 'channels_last', got {data_format!r}")


def _finish(y: Tensor, units: int, use_bias: bool, bias_initializer, trainable: bool, activation,
            bias_regularizer=None) -> Tensor:
    """`activation(y + <scope>/bias)`, the tail dense and conv2d share (bias [units] when `use_bias`)."""
    if use_bias:
        y = nn_ops.bias_add(y, get_variable("bias", [units], y.dtype, bias_initializer, trainable=trainable,
                                            regularizer=bias_regularizer))
    return y if activation is None else activation(y)


def dense(inputs, units: int, activation=None, use_bias: bool = True, kernel_initializer: Initializer | None = None,
          bias_initializer: Initializer = _ZEROS, trainable: bool = True, name: str | None = None,
          reuse=None, kernel_regularizer=None, bias_regularizer=None) -> Tensor:
    """`activation(inputs @ kernel + bias)` with `<scope>/kernel` [in, units] and `<scope>/bias` [units];
    inputs of rank > 2 (e.g. [batch, time, features]) are mapped over their last axis, as in TF1.
    Regularizer losses go to REGULARIZATION_LOSSES as `<scope>/kernel/Regularizer/...`, as in TF1."""
    x = convert_to_tensor(inputs)
    dims = _dims(x, "dense")
    if len(dims) < 2:
        raise ValueError(f"Input 0 of layer dense is incompatible with the layer: expected min_ndim=2, found "
                         f"ndim={len(dims)}. Full shape received: {x.shape}")
    if dims[-1] is None:
        raise ValueError("The last dimension of the inputs to `Dense` should be defined. Found `None`.")
    with _layer_scope("dense", name, reuse):
        kernel = get_variable("kernel", [dims[-1], int(units)], x.dtype, kernel_initializer, trainable=trainable,
                              regularizer=kernel_regularizer)
        return _finish(_matmul_last_axis(x, dims, kernel), int(units), use_bias, bias_initializer, trainable,
                       activation, bias_regularizer)


def _matmul_last_axis(x: Tensor, dims: list, kernel: Tensor) -> Tensor:
    """`x @ kernel` over x's last axis: TF1's tensordot for inputs of rank > 2."""
    return matmul(x, kernel) if len(dims) == 2 else tensordot(x, kernel, [[len(dims) - 1], [0]])


def _rank_input(inputs, layer: str, rank: int) -> tuple[Tensor, list]:
    x = convert_to_tensor(inputs)
    dims = _dims(x, layer)
    if len(dims) != rank:
        raise ValueError(f"Input 0 of layer {layer} is incompatible with the layer: expected ndim={rank}, found "
                         f"ndim={len(dims)}. Full shape received: {x.shape}")
    if dims[-1] is None:
        raise ValueError("The channel dimension of the inputs should be defined. Found `None`.")
    return x, dims


def conv2d(inputs, filters: int, kernel_size, strides=(1, 1), padding: str = "valid",
           data_format: str = "channels_last", activation=None, use_bias: bool = True,
           kernel_initializer: Initializer | None = None, bias_initializer: Initializer = _ZEROS,
           trainable: bool = True, name: str | None = None, reuse=None, kernel_regularizer=None,
           bias_regularizer=None) -> Tensor:
    """2-D convolution of NHWC `inputs` with `<scope>/kernel` [kh, kw, in, filters], plus `<scope>/bias`."""
    _channels_last(data_format, "conv2d")
    x, dims = _rank_input(inputs, "conv2d", 4)
    (kh, kw), (sh, sw), pad = _pair(kernel_size, "kernel_size"), _pair(strides, "strides"), _padding(padding)
    with _layer_scope("conv2d", name, reuse):
        kernel = get_variable("kernel", [kh, kw, dims[3], int(filters)], x.dtype, kernel_initializer,
                              trainable=trainable, regularizer=kernel_regularizer)
        y = conv_ops.conv2d(x, kernel, strides=[1, sh, sw, 1], padding=pad)
        return _finish(y, int(filters), use_bias, bias_initializer, trainable, activation, bias_regularizer)


def _pooling(op, base: str, inputs, pool_size, strides, padding, data_format, name) -> Tensor:
    _channels_last(data_format, base)
    (kh, kw), (sh, sw), pad = _pair(pool_size, "pool_size"), _pair(strides, "strides"), _padding(padding)
    with _layer_scope(base, name, None):
        return op(convert_to_tensor(inputs), ksize=[1, kh, kw, 1], strides=[1, sh, sw, 1], padding=pad)


def max_pooling2d(inputs, pool_size, strides, padding: str = "valid", data_format: str = "channels_last",
                  name: str | None = None) -> Tensor:
    """Max over `pool_size` windows of NHWC `inputs` (tf.nn.max_pool in a `max_pooling2d` scope)."""
    return _pooling(conv_ops.max_pool, "max_pooling2d", inputs, pool_size, strides, padding, data_format, name)


def average_pooling2d(inputs, pool_size, strides, padding: str = "valid", data_format: str = "channels_last",
                      name: str | None = None) -> Tensor:
    """Mean over `pool_size` windows of NHWC `inputs` (tf.nn.avg_pool in an `average_pooling2d` scope)."""
    return _pooling(conv_ops.avg_pool, "average_pooling2d", inputs, pool_size, strides, padding, data_format,
                    name)


# ---- conv2d_transpose, conv1d, 1-D pooling ----------------------------------------------------------
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


def _static_flag(training):
    """A Python bool when `training` is known at build time (as TF1's smart_cond folds it), else its tensor."""
    if not is_tensor_like(training):
        return bool(training)
    t = convert_to_tensor(training)
    v = static_value(t)
    return t if v is None else bool(v)


def dropout(inputs, rate=0.5, noise_shape=None, seed: int | None = None, training=False,
            name: str | None = None) -> Tensor:
    """Drop a `rate` fraction of units and scale the rest by 1/(1 - rate), only while `training`.

    `training` may be a bool placeholder: both branches are then built and the flag picks one per run.
    """
    if noise_shape is not None:
        raise ValueError("tf.layers.dropout: noise_shape is not supported by this engine's dropout op")
    with _layer_scope("dropout", name, None):
        x = convert_to_tensor(inputs)
        flag = _static_flag(training)
        if isinstance(flag, Tensor):
            return cond(flag, lambda: nn_ops.dropout(x, rate=rate, seed=seed), lambda: identity(x))
        return nn_ops.dropout(x, rate=rate, seed=seed) if flag else identity(x)


def flatten(inputs, name: str | None = None, data_format: str = "channels_last") -> Tensor:
    """[batch, ...] -> [batch, prod(...)], keeping every dimension that is known statically."""
    _channels_last(data_format, "flatten")
    x = convert_to_tensor(inputs)
    dims = _dims(x, "flatten")
    with _layer_scope("flatten", name, None):
        if len(dims) == 1:
            return expand_dims(x, 1)
        if None not in dims[1:]:
            return reshape(x, [-1, int(np.prod(dims[1:]))])
        if dims[0] is not None:
            return reshape(x, [dims[0], -1])
        y = reshape(x, stack([shape(x)[0], -1]))
        y.set_shape([None, None])
        return y


def _bn_axis(axis, ndims: int) -> int:
    a = axis[0] if isinstance(axis, (list, tuple)) and len(axis) == 1 else axis
    if not isinstance(a, (int, np.integer)):
        raise ValueError(f"tf.layers.batch_normalization: this engine takes one int axis, got {axis!r}")
    a = int(a) + ndims if int(a) < 0 else int(a)
    if not 0 <= a < ndims:
        raise ValueError(f"Invalid axis: {[axis]}")
    return a


def batch_normalization(inputs, axis=-1, momentum: float = 0.99, epsilon: float = 1e-3, center: bool = True,
                        scale: bool = True, beta_initializer: Initializer = _ZEROS,
                        gamma_initializer: Initializer = _ONES, moving_mean_initializer: Initializer = _ZEROS,
                        moving_variance_initializer: Initializer = _ONES, training=False, trainable: bool = True,
                        name: str | None = None, reuse=None, fused=None) -> Tensor:
    """Normalize over every axis but `axis`, then `gamma * x + beta`; TF1's `tf.layers.batch_normalization`.

    Variables `<scope>/gamma`, `beta` (trainable) and `moving_mean`, `moving_variance` (global only; TF1's
    layer does not put them in MOVING_AVERAGE_VARIABLES). While training the batch's moments normalize and
    two assign_sub ops in UPDATE_OPS move the moving stats by `(moving - batch) * (1 - momentum)`; otherwise
    the moving stats normalize and no update ops are made. A bool tensor `training` selects per run and
    makes the update's decay `1 - momentum` or 0, as TF1 does, so updates run with False change nothing.

    The moving variance follows TF1 exactly: rank-4 float16/32 inputs with axis 1 or 3 take TF1's fused
    kernel, whose variance output (fed to the moving average; `_bessels_correction_test_only`) is the
    *unbiased* n/(n-1) one; every other input takes TF1's `nn.moments` path, whose variance is *biased*.
    Normalization always uses the biased batch variance. `fused=False` forces the `nn.moments` path (so
    the biased moving variance), as in TF1; None and True take the fused one where it applies.
    """
    x = convert_to_tensor(inputs)
    dims = _dims(x, "batch_normalization")
    ax = _bn_axis(axis, len(dims))
    if dims[ax] is None:
        raise ValueError(f"Input has undefined `axis` dimension. Input shape: {x.shape}")
    channels, reduce_axes = int(dims[ax]), [i for i in range(len(dims)) if i != ax]
    unbiased = fused is not False and len(dims) == 4 and ax in (1, 3) and x.dtype in (dt.float16, dt.float32)
    pdtype = dt.float32 if x.dtype == dt.float16 else x.dtype
    xw = x if x.dtype == pdtype else cast(x, pdtype)  # float16 is normalized in float32, as TF1's kernel does
    bshape = [1] * len(dims)
    bshape[ax] = channels
    with _layer_scope("batch_normalization", name, reuse):
        gamma = get_variable("gamma", [channels], pdtype, gamma_initializer, trainable=trainable) if scale else None
        beta = get_variable("beta", [channels], pdtype, beta_initializer, trainable=trainable) if center else None
        moving_mean = get_variable("moving_mean", [channels], pdtype, moving_mean_initializer, trainable=False)
        moving_var = get_variable("moving_variance", [channels], pdtype, moving_variance_initializer,
                                  trainable=False)

        def bn(mean, var):
            g, b = gamma, beta
            if ax != len(dims) - 1:  # per-channel vectors must broadcast along `ax`
                mean, var = reshape(mean, bshape), reshape(var, bshape)
                g = None if gamma is None else reshape(gamma, bshape)
                b = None if beta is None else reshape(beta, bshape)
            out = nn_ops.batch_normalization(xw, mean, var, b, g, epsilon)
            return out if xw is x else cast(out, x.dtype)

        flag = _static_flag(training)
        if flag is False:
            return bn(moving_mean.value(), moving_var.value())
        mean, var = nn_ops.moments(xw, reduce_axes)
        stat_var = var
        if unbiased:  # n / max(n - 1, 1), n = elements per channel (the batch size may be dynamic)
            n = truediv(cast(size(x), pdtype), float(channels))
            stat_var = multiply(var, truediv(n, maximum(subtract(n, 1.0), 1.0)))
        rate = float(momentum)
        if isinstance(flag, Tensor):
            mean = cond(flag, lambda: mean, lambda: moving_mean.value())
            var_sel = cond(flag, lambda: var, lambda: moving_var.value())
            stat_var = var_sel if stat_var is var else cond(flag, lambda: stat_var, lambda: moving_var.value())
            # a momentum of 1 when not training: the moving statistics stay as they are
            rate = cond(flag, lambda: convert_to_tensor(rate, pdtype), lambda: convert_to_tensor(1.0, pdtype))
            out = bn(mean, var_sel)
        else:
            out = bn(mean, var)
        g = get_default_graph()
        for moving, value in ((moving_mean, mean), (moving_var, stat_var)):
            g.add_to_collection(GraphKeys.UPDATE_OPS, assign_moving_average(moving, value, rate, zero_debias=False))
        return out


def fully_connected(inputs, num_outputs: int, activation_fn=nn_ops.relu, normalizer_fn=None,
                    normalizer_params=None, weights_initializer: Initializer | None = None,
                    weights_regularizer=None, biases_initializer: Initializer | None = zeros_initializer(),
                    biases_regularizer=None, reuse=None, variables_collections=None, outputs_collections=None,
                    trainable: bool = True, scope=None) -> Tensor:
    """`tf.contrib.layers.fully_connected`: `fully_connected/weights` and `/biases`, relu by default (as
    in TF1); inputs of rank > 2 are mapped over their last axis."""
    x = convert_to_tensor(inputs)
    dims = x.shape.as_list() if x.shape.ndims is not None else None
    if dims is None or len(dims) < 2 or dims[-1] is None:
        raise ValueError(f"fully_connected: inputs must have rank >= 2 and a known last dimension, got {x.shape}")
    n = int(num_outputs)
    with _layer_scope("fully_connected", scope, reuse):  # weights default to glorot uniform, as get_variable's
        g = get_default_graph()
        w = get_variable("weights", [dims[-1], n], x.dtype, weights_initializer, trainable=trainable,
                         regularizer=weights_regularizer)
        for name in _collection_names(variables_collections, "weights"):
            g.add_to_collection(name, w)
        y = _matmul_last_axis(x, dims, w)
        if normalizer_fn is not None:
            y = normalizer_fn(y, **(normalizer_params or {}))
        elif biases_initializer is not None:
            b = get_variable("biases", [n], x.dtype, biases_initializer, trainable=trainable,
                             regularizer=biases_regularizer)
            for name in _collection_names(variables_collections, "biases"):
                g.add_to_collection(name, b)
            y = nn_ops.bias_add(y, b)
        y = y if activation_fn is None else activation_fn(y)
        for name in _collection_names(outputs_collections):
            g.add_to_collection(name, y)
        return y


def _collection_names(spec, key: str | None = None) -> list:
    """tf.contrib.layers' collections argument: a name, a list of names, or {variable key: names}."""
    if isinstance(spec, dict):
        spec = spec.get(key)
    if spec is None:
        return []
    return [spec] if isinstance(spec, str) else list(spec)
