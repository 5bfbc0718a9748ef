"""`tf.nn` and `tf.losses`: activations, softmax, cross-entropies, dropout; kernels beside gradients.

Cross-entropies are single fused ops (numerically stable log-sum-exp) whose kernels also return the
backprop term, so training does not recompute the softmax.
"""
from __future__ import annotations

import numpy as np

from summaries.engine import dtypes as dt
from summaries.engine.array_ops import (cast, constant, get_seed, ones_like, reshape, shape, size, squeeze, stack,
                                        stop_gradient, to_float, where, zeros_like)
from summaries.engine.errors import kernel_error
from summaries.engine.graph import (GraphKeys, Tensor, convert_to_tensor, get_default_graph, make_op, name_scope,
                                    register_gradient, simple_op)
from summaries.engine.math_ops import _grad_op, _unary, abs as _abs, add, add_n, equal, log, minimum, multiply, negative
from summaries.engine.math_ops import (reduce_mean, reduce_sum, rsqrt, square, squared_difference, subtract, sum_to,
                                       truediv)
from summaries.engine.nn_extra_ops import div_no_nan


# ---- activations -------------------------------------------------------------------------------------
def _sigmoid(v):
    # exp(-logaddexp(0, -v)) is stable for large |v| and keeps the input dtype.
    return np.exp(-np.logaddexp(0, -v))


def sigmoid(x, name=None):
    return _unary("Sigmoid", _sigmoid, x, name)


def tanh(x, name=None):
    return _unary("Tanh", np.tanh, x, name)


def relu(features, name=None):
    return _unary("Relu", lambda v: np.maximum(v, 0), features, name)


def relu6(features, name=None):
    return _unary("Relu6", lambda v: np.clip(v, 0, 6), features, name)


def elu(features, name=None):
    return _unary("Elu", lambda v: np.where(v > 0, v, np.expm1(np.minimum(v, 0))), features, name)


def softplus(features, name=None):
    return _unary("Softplus", lambda v: np.logaddexp(0, v), features, name)


def leaky_relu(features, alpha=0.2, name=None):
    x, a = convert_to_tensor(features), float(alpha)
    return simple_op("LeakyRelu", [x], x.dtype, x.shape, lambda v: np.where(v > 0, v, v * np.asarray(a, v.dtype)),
                     name=name, attrs={"T": x.dtype, "alpha": a}).outputs[0]


@register_gradient("Sigmoid")
def _sigmoid_grad(op, g):
    y = op.outputs[0]
    return [_grad_op("SigmoidGrad", [y, g], lambda yv, gv: gv * yv * (1 - yv), y)]


@register_gradient("Tanh")
def _tanh_grad(op, g):
    y = op.outputs[0]
    return [_grad_op("TanhGrad", [y, g], lambda yv, gv: gv * (1 - yv * yv), y)]


@register_gradient("Relu")
def _relu_grad(op, g):
    y = op.outputs[0]
    return [_grad_op("ReluGrad", [g, y], lambda gv, yv: gv * (yv > 0), y)]


@register_gradient("Relu6")
def _relu6_grad(op, g):
    x = op.inputs[0]
    return [_grad_op("Relu6Grad", [g, x], lambda gv, xv: gv * ((xv > 0) & (xv < 6)), x)]


@register_gradient("Elu")
def _elu_grad(op, g):
    y = op.outputs[0]
    return [_grad_op("EluGrad", [g, y], lambda gv, yv: gv * np.where(yv > 0, 1, yv + 1), y)]


@register_gradient("Softplus")
def _softplus_grad(op, g):
    x = op.inputs[0]
    return [_grad_op("SoftplusGrad", [g, x], lambda gv, xv: gv * _sigmoid(xv), x)]


@register_gradient("LeakyRelu")
def _leaky_grad(op, g):
    x, a = op.inputs[0], op.attrs["alpha"]
    return [_grad_op("LeakyReluGrad", [g, x], lambda gv, xv: gv * np.where(xv > 0, 1, a).astype(xv.dtype), x)]


def _softmax(v, axis=-1):
    e = np.exp(v - np.max(v, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def _log_softmax(v, axis=-1):
    s = v - np.max(v, axis=axis, keepdims=True)
    return s - np.log(np.sum(np.exp(s), axis=axis, keepdims=True))


def softmax(logits, axis=None, name=None, dim=None):
    x = convert_to_tensor(logits)
    return simple_op("Softmax", [x], x.dtype, x.shape, _softmax, name=name).outputs[0]


def log_softmax(logits, axis=None, name=None, dim=None):
    x = convert_to_tensor(logits)
    return simple_op("LogSoftmax", [x], x.dtype, x.shape, _log_softmax, name=name).outputs[0]


@register_gradient("Softmax")
def _softmax_grad(op, g):
    y = op.outputs[0]
    return [_grad_op("SoftmaxGrad", [g, y], lambda gv, yv: (gv - np.sum(gv * yv, -1, keepdims=True)) * yv, y)]


@register_gradient("LogSoftmax")
def _log_softmax_grad(op, g):
    y = op.outputs[0]
    return [_grad_op("LogSoftmaxGrad", [g, y], lambda gv, yv: gv - np.exp(yv) * np.sum(gv, -1, keepdims=True), y)]


def bias_add(value, bias, data_format=None, name=None):
    return add(value, bias, name=name or "BiasAdd")


def l2_loss(t, name=None):
    x = convert_to_tensor(t)
    return simple_op("L2Loss", [x], x.dtype, [], lambda v: np.sum(np.square(v)) / 2, name=name).outputs[0]


@register_gradient("L2Loss")
def _l2_grad(op, g):
    return [multiply(op.inputs[0], g)]


# ---- cross-entropies ---------------------------------------------------------------------------------
def _sce_kernel(labels, logits):
    ls = _log_softmax(logits)
    return -np.sum(labels * ls, axis=-1), np.exp(ls) * np.sum(labels, -1, keepdims=True) - labels


def softmax_cross_entropy_with_logits_v2(_sentinel=None, labels=None, logits=None, dim=-1, name=None, axis=None):
    with name_scope(name or "softmax_cross_entropy_with_logits") as scope:
        logits = convert_to_tensor(logits)
        labels = convert_to_tensor(labels, logits.dtype)
        d = logits.shape._dims
        out = None if d is None else d[:-1]
        op = make_op("SoftmaxCrossEntropyWithLogits", scope, [labels, logits],
                     [(logits.dtype, out), (logits.dtype, logits.shape)], kernel=_sce_kernel)
        return op.outputs[0]


def softmax_cross_entropy_with_logits(_sentinel=None, labels=None, logits=None, dim=-1, name=None, axis=None):
    """TF1's deprecated form: no gradient flows into the labels."""
    with name_scope(name or "softmax_cross_entropy_with_logits_sg") as scope:
        labels = stop_gradient(labels, name="labels_stop_gradient")
        return softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits, name=scope)


@register_gradient("SoftmaxCrossEntropyWithLogits")
def _sce_grad(op, g, _g_backprop=None):
    labels, logits = op.inputs
    backprop = op.outputs[1]
    gl = _grad_op("SoftmaxCrossEntropyGrad", [g, backprop], lambda gv, bv: np.expand_dims(gv, -1) * bv, logits)
    glab = _grad_op("SoftmaxCrossEntropyLabelsGrad", [g, logits],
                    lambda gv, xv: -np.expand_dims(gv, -1) * _log_softmax(xv), labels)
    return [glab, gl]


def _sparse_kernel(labels, logits):
    ls = _log_softmax(logits)
    lab = np.asarray(labels).astype(np.int64)
    if lab.size and (lab.min() < 0 or lab.max() >= logits.shape[-1]):
        raise kernel_error(f"Received a label value of {lab.max()} which is outside the "
                                   f"valid range of [0, {logits.shape[-1]}).")
    loss = -np.take_along_axis(ls, lab[..., None], -1)[..., 0]
    back = np.exp(ls)
    np.put_along_axis(back, lab[..., None], np.take_along_axis(back, lab[..., None], -1) - 1, -1)
    return loss, back


def sparse_softmax_cross_entropy_with_logits(_sentinel=None, labels=None, logits=None, name=None):
    with name_scope(name or "SparseSoftmaxCrossEntropyWithLogits") as scope:
        logits = convert_to_tensor(logits)
        labels = convert_to_tensor(labels)
        d = logits.shape._dims
        op = make_op("SparseSoftmaxCrossEntropyWithLogits", scope, [labels, logits],
                     [(logits.dtype, None if d is None else d[:-1]), (logits.dtype, logits.shape)],
                     kernel=_sparse_kernel)
        return op.outputs[0]


@register_gradient("SparseSoftmaxCrossEntropyWithLogits")
def _sparse_grad(op, g, _g_backprop=None):
    logits = op.inputs[1]
    gl = _grad_op("SparseSoftmaxCrossEntropyGrad", [g, op.outputs[1]],
                  lambda gv, bv: np.expand_dims(gv, -1) * bv, logits)
    return [None, gl]


def _sig_ce_kernel(z, x):
    return np.maximum(x, 0) - x * z + np.log1p(np.exp(-np.abs(x)))


def sigmoid_cross_entropy_with_logits(_sentinel=None, labels=None, logits=None, name=None):
    with name_scope(name or "logistic_loss") as scope:
        logits = convert_to_tensor(logits)
        labels = convert_to_tensor(labels, logits.dtype)
        return make_op("SigmoidCrossEntropyWithLogits", scope, [labels, logits], [(logits.dtype, logits.shape)],
                       kernel=_sig_ce_kernel).outputs[0]


@register_gradient("SigmoidCrossEntropyWithLogits")
def _sig_ce_grad(op, g):
    z, x = op.inputs
    gx = _grad_op("SigmoidCrossEntropyGrad", [g, z, x], lambda gv, zv, xv: gv * (_sigmoid(xv) - zv), x)
    gz = _grad_op("SigmoidCrossEntropyLabelsGrad", [g, x], lambda gv, xv: -gv * xv, z)
    return [sum_to(gz, z), sum_to(gx, x, name="Sum_1")]


# ---- dropout -----------------------------------------------------------------------------------------
def dropout(x, keep_prob=None, noise_shape=None, seed=None, name=None, rate=None):
    """Zero each element with probability 1 - keep_prob and scale the rest by 1/keep_prob.

    One fused op: output 0 is the result, output 1 the scaled mask its gradient reuses.
    """
    if keep_prob is None:
        keep_prob = 1.0 - (0.5 if rate is None else rate) if not hasattr(rate, "dtype") else None
        if keep_prob is None:
            keep_prob = subtract(1.0, rate)
    with name_scope(name or "dropout") as scope:
        x = convert_to_tensor(x)
        kp = convert_to_tensor(keep_prob, x.dtype, name="keep_prob")
        seed1, seed2 = get_seed(seed)
        npd = x.dtype.np
        ref = []

        def factory(sess):
            rng = sess._rng_for(ref[0], seed1, seed2)

            def k(v, p):
                p = npd.type(p)
                if p >= 1:
                    return v, np.ones((1,) * np.ndim(v), npd)
                mask = (rng.random(np.shape(v), dtype=npd) < p).astype(npd) / p
                return v * mask, mask
            return k
        op = make_op("Dropout", scope, [x, kp], [(x.dtype, x.shape), (x.dtype, x.shape)], factory=factory,
                     attrs={"seed": seed1 or 0, "seed2": seed2 or 0, "T": x.dtype})
        ref.append(op)
        return op.outputs[0]


@register_gradient("Dropout")
def _dropout_grad(op, g, _g_mask=None):
    return [multiply(g, op.outputs[1]), None]


# ---- tf.losses ---------------------------------------------------------------------------------------
class _Reduction:
    NONE = "none"
    SUM = "weighted_sum"
    MEAN = "weighted_mean"
    SUM_OVER_BATCH_SIZE = "weighted_sum_over_batch_size"
    SUM_BY_NONZERO_WEIGHTS = "weighted_sum_by_nonzero_weights"
    SUM_OVER_NONZERO_WEIGHTS = SUM_BY_NONZERO_WEIGHTS


class losses:
    """`tf.losses` (the common ones), added to the LOSSES collection as TF1 does."""
    Reduction = _Reduction

    @staticmethod
    def mean_squared_error(labels, predictions, weights=1.0, scope=None, loss_collection=GraphKeys.LOSSES,
                           reduction=_Reduction.SUM_BY_NONZERO_WEIGHTS):
        with name_scope(scope or "mean_squared_error") as sc:
            predictions = convert_to_tensor(predictions)
            labels = convert_to_tensor(labels, predictions.dtype)
            per = squared_difference(predictions, labels)
            return losses.compute_weighted_loss(per, weights, sc, loss_collection, reduction)

    @staticmethod
    def absolute_difference(labels, predictions, weights=1.0, scope=None, loss_collection=GraphKeys.LOSSES,
                            reduction=_Reduction.SUM_BY_NONZERO_WEIGHTS):
        with name_scope(scope or "absolute_difference") as sc:
            predictions = convert_to_tensor(predictions)
            per = _abs(subtract(predictions, convert_to_tensor(labels, predictions.dtype)))
            return losses.compute_weighted_loss(per, weights, sc, loss_collection, reduction)

    @staticmethod
    def softmax_cross_entropy(onehot_labels, logits, weights=1.0, label_smoothing=0, scope=None,
                              loss_collection=GraphKeys.LOSSES, reduction=_Reduction.SUM_BY_NONZERO_WEIGHTS):
        """With `label_smoothing` s, the targets become onehot * (1 - s) + s / num_classes, as TF1."""
        with name_scope(scope or "softmax_cross_entropy_loss") as sc:
            logits = convert_to_tensor(logits)
            labels = convert_to_tensor(onehot_labels, logits.dtype)
            if label_smoothing:
                classes = labels.shape.as_list()[-1] if labels.shape.ndims else None
                share = (label_smoothing / classes if classes is not None else  # else read when run, as TF1
                         truediv(label_smoothing, cast(shape(labels)[-1], labels.dtype)))
                labels = add(multiply(labels, 1.0 - label_smoothing), share)
            ce = softmax_cross_entropy_with_logits_v2(labels=stop_gradient(labels), logits=logits, name="xentropy")
            return losses.compute_weighted_loss(ce, weights, sc, loss_collection, reduction)

    @staticmethod
    def sparse_softmax_cross_entropy(labels, logits, weights=1.0, scope=None, loss_collection=GraphKeys.LOSSES,
                                     reduction=_Reduction.SUM_BY_NONZERO_WEIGHTS):
        with name_scope(scope or "sparse_softmax_cross_entropy_loss") as sc:
            ce = sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits, name="xentropy")
            return losses.compute_weighted_loss(ce, weights, sc, loss_collection, reduction)

    @staticmethod
    def sigmoid_cross_entropy(multi_class_labels, logits, weights=1.0, label_smoothing=0, scope=None,
                              loss_collection=GraphKeys.LOSSES, reduction=_Reduction.SUM_BY_NONZERO_WEIGHTS):
        """With `label_smoothing` s, the targets become labels * (1 - s) + s / 2, as TF1."""
        with name_scope(scope or "sigmoid_cross_entropy_loss") as sc:
            logits = convert_to_tensor(logits)
            labels = convert_to_tensor(multi_class_labels, logits.dtype)
            if label_smoothing:
                labels = add(multiply(labels, 1.0 - label_smoothing), 0.5 * label_smoothing)
            ce = sigmoid_cross_entropy_with_logits(labels=labels, logits=logits)
            return losses.compute_weighted_loss(ce, weights, sc, loss_collection, reduction)

    @staticmethod
    def compute_weighted_loss(losses, weights=1.0, scope=None, loss_collection=GraphKeys.LOSSES,
                              reduction=_Reduction.SUM_BY_NONZERO_WEIGHTS) -> Tensor:
        """TF1's weighting and reduction of per-element losses: the default divides the weighted sum by the
        number of nonzero weights (broadcast to the losses), 0 when there are none. TF1 reduces in float32;
        float64 losses are reduced in float64 here (same values, more digits)."""
        if reduction not in (_Reduction.NONE, _Reduction.SUM, _Reduction.MEAN, _Reduction.SUM_OVER_BATCH_SIZE,
                             _Reduction.SUM_BY_NONZERO_WEIGHTS):
            raise ValueError(f"Invalid Reduction Key {reduction}.")
        with name_scope(scope or "weighted_loss"):
            per = convert_to_tensor(losses)
            in_dtype = per.dtype
            work = dt.float64 if in_dtype is dt.float64 else dt.float32
            per = cast(per, work)
            w = cast(convert_to_tensor(weights, work if not isinstance(weights, Tensor) else None), work)
            loss = multiply(per, w)
            if reduction != _Reduction.NONE:
                loss = reduce_sum(loss)
                denom = None
                if reduction == _Reduction.MEAN:
                    denom = reduce_sum(multiply(ones_like(per), w))
                elif reduction == _Reduction.SUM_BY_NONZERO_WEIGHTS:
                    with name_scope("num_present") as nscope:
                        present = where(equal(w, 0.0), zeros_like(w), ones_like(w))
                        denom = reduce_sum(multiply(present, ones_like(per)), name=nscope)
                elif reduction == _Reduction.SUM_OVER_BATCH_SIZE:
                    denom = cast(size(per), work, name="num_elements")
                if denom is not None:
                    loss = div_no_nan(loss, denom, name="value")
            loss = cast(loss, in_dtype)
            if loss_collection:
                get_default_graph().add_to_collection(loss_collection, loss)
            return loss

    @staticmethod
    def log_loss(labels, predictions, weights=1.0, epsilon=1e-7, scope=None, loss_collection=GraphKeys.LOSSES,
                 reduction=_Reduction.SUM_BY_NONZERO_WEIGHTS) -> Tensor:
        """-y log(p + eps) - (1 - y) log(1 - p + eps), weighted and reduced as TF1 (float32)."""
        with name_scope(scope or "log_loss") as sc:
            p, y = to_float(predictions), to_float(labels)
            p.shape.assert_is_compatible_with(y.shape)
            per = subtract(negative(multiply(y, log(add(p, epsilon)))),
                           multiply(subtract(1.0, y), log(add(subtract(1.0, p), epsilon))))
            return losses.compute_weighted_loss(per, weights, sc, loss_collection, reduction)

    @staticmethod
    def huber_loss(labels, predictions, weights=1.0, delta=1.0, scope=None, loss_collection=GraphKeys.LOSSES,
                   reduction=_Reduction.SUM_BY_NONZERO_WEIGHTS) -> Tensor:
        """0.5 e^2 for |e| <= delta, else delta (|e| - 0.5 delta), e = predictions - labels (float32)."""
        with name_scope(scope or "huber_loss") as sc:
            p, y = to_float(predictions), to_float(labels)
            p.shape.assert_is_compatible_with(y.shape)
            abs_error = _abs(subtract(p, y))
            quadratic = minimum(abs_error, delta)
            linear = subtract(abs_error, quadratic)
            per = add(multiply(0.5, multiply(quadratic, quadratic)), multiply(delta, linear))
            return losses.compute_weighted_loss(per, weights, sc, loss_collection, reduction)

    @staticmethod
    def get_losses(scope=None, loss_collection=GraphKeys.LOSSES):
        return get_default_graph().get_collection(loss_collection, scope)

    @staticmethod
    def get_regularization_losses(scope=None) -> list:
        return get_default_graph().get_collection(GraphKeys.REGULARIZATION_LOSSES, scope)

    @staticmethod
    def get_regularization_loss(scope=None, name="total_regularization_loss") -> Tensor:
        """The sum of the regularization losses (an AddN), or a 0.0 constant when there are none."""
        regs = losses.get_regularization_losses(scope)
        return add_n(regs, name=name) if regs else constant(0.0)

    @staticmethod
    def get_total_loss(add_regularization_losses=True, name="total_loss", scope=None) -> Tensor:
        """AddN of the LOSSES collection plus (by default, as TF1) the regularization losses."""
        parts = losses.get_losses(scope)
        if add_regularization_losses:
            parts += losses.get_regularization_losses(scope)
        return add_n(parts, name=name)


def moments(x, axes, shift=None, name=None, keep_dims=False, keepdims=None):
    """Mean and (biased, population) variance of `x` over `axes`, as TF1's `tf.nn.moments`.

    The variance measures squared distances to a stop_gradient'ed mean, as TF1 does: the dropped term's
    gradient sums (x - mean) and so is zero anyway. `shift` is accepted and ignored (TF1 ignores it too).
    """
    keep = bool(keepdims if keepdims is not None else keep_dims)
    with name_scope(name or "moments"):
        x = convert_to_tensor(x)
        axes = [int(a) for a in (axes if isinstance(axes, (list, tuple)) else [axes])]
        mean = reduce_mean(x, axes, keepdims=True, name="mean")
        var = reduce_mean(squared_difference(x, stop_gradient(mean)), axes, keepdims=True, name="variance")
        if not keep:
            mean, var = squeeze(mean, axes), squeeze(var, axes)
        return mean, var


def batch_normalization(x, mean, variance, offset, scale, variance_epsilon, name=None):
    """`scale * (x - mean) / sqrt(variance + eps) + offset`, built as TF1 builds it (`batchnorm/...`).

    TF1 folds the statistics into one multiplier and one shift, `x * inv + (offset - mean * inv)` with
    `inv = rsqrt(variance + eps) * scale`, so the op names and the rounding order match its graph.
    `offset`/`scale` may be None. Gradients come from the elementwise ops.
    """
    with name_scope(name or "batchnorm"):
        x = convert_to_tensor(x)
        inv = rsqrt(add(variance, convert_to_tensor(variance_epsilon, x.dtype), name="add"))
        if scale is not None:
            inv = multiply(inv, scale, name="mul")
        y = multiply(x, inv, name="mul_1")
        if offset is not None:
            shift = subtract(offset, multiply(mean, inv, name="mul_2"), name="sub")
        else:
            shift = multiply(negative(mean, name="Neg"), inv, name="mul_2")
        return add(y, shift, name="add_1")


def sequence_loss(logits, targets, weights, average_across_timesteps: bool = True,
                  average_across_batch: bool = True, softmax_loss_function=None, name: str | None = None) -> Tensor:
    """`tf.contrib.seq2seq.sequence_loss`: weighted sparse softmax cross entropy of [batch, time, classes]
    logits, averaged (sum / (sum of weights + 1e-12)) over the axes asked for."""
    with name_scope(name or "sequence_loss"):
        lg, tg, wt = convert_to_tensor(logits), convert_to_tensor(targets), convert_to_tensor(weights)
        if lg.shape.ndims != 3:
            raise ValueError("Logits must be a [batch_size x sequence_length x logits] tensor")
        if tg.shape.ndims != 2 or wt.shape.ndims != 2:
            raise ValueError("Targets and weights must be [batch_size x sequence_length] tensors")
        num_classes = lg.shape.as_list()[2]
        flat_shape = [-1, num_classes] if num_classes is not None else stack([-1, shape(lg)[2]])
        loss_fn = softmax_loss_function or sparse_softmax_cross_entropy_with_logits
        ce = loss_fn(labels=reshape(tg, [-1]), logits=reshape(lg, flat_shape))
        ce = multiply(ce, reshape(wt, [-1]))
        if average_across_timesteps and average_across_batch:
            return truediv(reduce_sum(ce), add(reduce_sum(wt), 1e-12))
        bt = lg.shape.as_list()[:2]
        ce = reshape(ce, bt if None not in bt else shape(lg)[:2])
        if average_across_timesteps:
            return truediv(reduce_sum(ce, axis=[1]), add(reduce_sum(wt, axis=[1]), 1e-12))
        if average_across_batch:
            return truediv(reduce_sum(ce, axis=[0]), add(reduce_sum(wt, axis=[0]), 1e-12))
        return ce


square, reduce_sum, dt  # re-exported names used by api.nn
