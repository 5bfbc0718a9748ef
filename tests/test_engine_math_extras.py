"""TF1 math/nn/losses/metrics/training extras: values against numpy formulas, gradients against central
finite differences (float64), streaming-metric semantics, regularization loss names, decay schedules and
Adadelta against the TF1 formulas written in numpy."""
from __future__ import annotations

import math

import numpy as np
import pytest

import summaries as tf

from gradcheck import check_gradients as _fd_check
from gradcheck import numeric_grad

RNG = np.random.default_rng(7)


pytestmark = pytest.mark.usefixtures("fresh_graph")


def _run(fetches, feed=None):
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        return sess.run(fetches, feed)


# ---- reductions ----------------------------------------------------------------------------------------
def _np_lse(x, axis=None, keepdims=False):
    m = np.max(x, axis=axis, keepdims=True)
    out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis)


@pytest.mark.parametrize("axis,keep", [(None, False), (1, False), (0, True), ([0, 1], False), (-1, True)])
def test_reduce_logsumexp_values_and_shapes(axis, keep):
    x = RNG.standard_normal((3, 4)).astype(np.float32) * 5
    y = tf.reduce_logsumexp(tf.constant(x), axis=axis, keepdims=keep)
    want = _np_lse(x.astype(np.float64), axis=None if axis is None else tuple(np.atleast_1d(axis)), keepdims=keep)
    assert y.shape.as_list() == list(np.shape(want))
    np.testing.assert_allclose(_run(y), want, rtol=1e-5)


@pytest.mark.filterwarnings("ignore:divide by zero")
def test_reduce_logsumexp_is_stable_and_keeps_infinite_max():
    x = np.array([[1000.0, 1000.0], [-1000.0, -1e4], [-np.inf, -np.inf]])
    out = _run(tf.reduce_logsumexp(tf.constant(x), 1))
    np.testing.assert_allclose(out[:2], [1000 + np.log(2), -1000.0])
    assert out[2] == -np.inf


def test_reduce_logsumexp_unknown_batch_keeps_static_shape():
    x = tf.placeholder(tf.float64, [None, 3])
    y = tf.reduce_logsumexp(x, 1)
    assert y.shape.as_list() == [None]
    v = RNG.standard_normal((2, 3))
    np.testing.assert_allclose(_run(y, {x: v}), _np_lse(v, 1))


@pytest.mark.parametrize("axis", [None, 0, 1])
def test_reduce_logsumexp_gradient(axis):
    _fd_check(lambda x: tf.reduce_logsumexp(x, axis=axis, keepdims=axis == 1), [RNG.standard_normal((3, 4))])


def test_count_nonzero():
    x = np.array([[0, 1, 2], [0, 0, 3]], np.int32)
    a, b, c = tf.count_nonzero(x), tf.count_nonzero(x, 1, keepdims=True), tf.count_nonzero(
        tf.constant([0.0, 0.5, -1.0]), dtype=tf.int32)
    assert a.dtype == tf.int64 and c.dtype == tf.int32 and b.shape.as_list() == [2, 1]
    va, vb, vc = _run([a, b, c])
    assert va == np.count_nonzero(x) and vc == 2
    np.testing.assert_array_equal(vb, np.count_nonzero(x, 1)[:, None])


# ---- top_k / in_top_k / l2_normalize / selu -------------------------------------------------------------
def test_top_k_values_indices_and_ties():
    x = np.array([[3.0, 1.0, 3.0, 2.0], [0.0, 5.0, -1.0, 5.0]], np.float32)
    values, indices = tf.nn.top_k(x, k=3)
    assert values.shape.as_list() == [2, 3] and indices.dtype == tf.int32
    assert values.op.type == "TopKV2" and values.op.name == "TopKV2"
    v, i = _run([values, indices])
    want_i = np.array([[0, 2, 3], [1, 3, 0]])  # ties: lower index first
    np.testing.assert_array_equal(i, want_i)
    np.testing.assert_array_equal(v, np.take_along_axis(x, want_i, 1))
    big = RNG.standard_normal((5, 7))
    v, i = _run(tf.nn.top_k(big, 4))
    np.testing.assert_array_equal(i, np.argsort(-big, axis=1)[:, :4])


def test_top_k_errors_name_the_op():
    with pytest.raises(ValueError, match=r"last dimension >= k = 5 but is 3 for 'my_top' \(op: 'TopKV2'\) "
                                          r"with input shapes: \[2,3\], \[\]"):
        tf.nn.top_k(tf.zeros([2, 3]), 5, name="my_top")
    with pytest.raises(ValueError, match="at least rank 1"):
        tf.nn.top_k(tf.constant(1.0))
    x = tf.placeholder(tf.float32, [None, None])
    v, _ = tf.nn.top_k(x, 3)
    with pytest.raises(tf.errors.InvalidArgumentError, match="at least k columns"):
        _run(v, {x: np.zeros((2, 2))})


def test_top_k_dynamic_k():
    x = tf.placeholder(tf.float32, [None, 4])
    k = tf.placeholder(tf.int32, [])
    values, indices = tf.nn.top_k(x, k)
    assert values.shape.as_list() == [None, None]
    v = RNG.standard_normal((3, 4)).astype(np.float32)
    got_v, got_i = _run([values, indices], {x: v, k: 2})
    np.testing.assert_array_equal(got_i, np.argsort(-v, axis=1)[:, :2])
    np.testing.assert_array_equal(got_v, -np.sort(-v, axis=1)[:, :2])


def test_top_k_gradient():
    x = RNG.permutation(12).reshape(3, 4).astype(np.float64)  # distinct values: no ties at the cut
    _fd_check(lambda t: tf.nn.top_k(t, 2)[0], [x], eps=1e-3)


def _np_in_top_k(p, t, k):
    out = []
    for row, target in zip(p, t):
        if not 0 <= target < len(row) or not np.isfinite(row[target]):
            out.append(False)
        else:
            out.append(int(np.sum(row > row[target])) < k)
    return np.array(out)


@pytest.mark.parametrize("k", [1, 2, 3])
def test_in_top_k(k):
    p = np.array([[0.1, 0.9, 0.9, 0.2], [0.5, 0.4, 0.3, 0.2], [1.0, 2.0, 3.0, 4.0], [0.0, 0.0, 0.0, 0.0]],
                 np.float32)
    t = np.array([2, 3, 1, 7], np.int32)
    out = tf.nn.in_top_k(p, t, k)
    assert out.dtype == tf.bool and out.shape.as_list() == [4] and out.op.name == "in_top_k/InTopKV2"
    np.testing.assert_array_equal(_run(out), _np_in_top_k(p, t, k))


def test_in_top_k_rank_error():
    with pytest.raises(ValueError, match="Shape must be rank 2 but is rank 1 for 'in_top_k/InTopKV2'"):
        tf.nn.in_top_k(tf.zeros([3]), tf.constant([0, 1, 2]), 1)


@pytest.mark.parametrize("axis", [0, 1, [0, 1]])
def test_l2_normalize(axis):
    x = RNG.standard_normal((3, 4))
    ax = tuple(np.atleast_1d(axis))
    want = x / np.sqrt(np.maximum(np.sum(x * x, axis=ax, keepdims=True), 1e-12))
    np.testing.assert_allclose(_run(tf.nn.l2_normalize(tf.constant(x), axis)), want, rtol=1e-12)
    np.testing.assert_allclose(_run(tf.nn.l2_normalize(tf.constant(x), dim=axis)), want, rtol=1e-12)
    _fd_check(lambda t: tf.nn.l2_normalize(t, axis), [x])


def test_l2_normalize_zero_vector_and_arg_clash():
    out = _run(tf.nn.l2_normalize(tf.zeros([2, 3]), 1, name="norm"))
    np.testing.assert_array_equal(out, np.zeros((2, 3)))
    assert tf.get_default_graph().get_operation_by_name("norm").type == "Mul"
    with pytest.raises(ValueError, match="both 'axis' and 'dim'"):
        tf.nn.l2_normalize(tf.zeros([2]), axis=0, dim=0)


def test_selu_value_and_gradient():
    x = np.array([-3.0, -0.5, 0.25, 2.0])
    alpha, scale = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
    want = scale * np.where(x > 0, x, alpha * (np.exp(x) - 1))
    np.testing.assert_allclose(_run(tf.nn.selu(tf.constant(x))), want, rtol=1e-12)
    _fd_check(tf.nn.selu, [np.array([[-2.0, -0.3], [0.4, 1.7]])])


def test_div_no_nan_value_and_gradient():
    np.testing.assert_array_equal(_run(tf.div_no_nan(tf.constant([1.0, 2.0]), tf.constant([0.0, 4.0]))),
                                  [0.0, 0.5])
    _fd_check(tf.div_no_nan, [RNG.standard_normal((2, 3)), RNG.standard_normal((3,)) + 3])


# ---- regularization and losses --------------------------------------------------------------------------
def test_regularizer_names_values_and_collection():
    l2, l1 = tf.contrib.layers.l2_regularizer(0.1), tf.contrib.layers.l1_regularizer(0.5)
    x = tf.placeholder(tf.float32, [None, 3])
    tf.layers.dense(x, 2, kernel_regularizer=l2, bias_regularizer=l1, name="fc",
                    bias_initializer=tf.constant_initializer(-1.0))
    with tf.variable_scope("s", regularizer=l1):
        with tf.variable_scope("inner"):
            v = tf.get_variable("v", [3], initializer=tf.constant_initializer([1.0, -2.0, 3.0]))
        tf.get_variable("w", [2], regularizer=tf.contrib.layers.l2_regularizer(0.0))  # scale 0: no loss
    with tf.variable_scope("s/inner", reuse=True):
        assert tf.get_variable("v") is v  # reuse adds no second loss
    regs = tf.losses.get_regularization_losses()
    assert [r.name for r in regs] == ["fc/kernel/Regularizer/l2_regularizer:0",
                                      "fc/bias/Regularizer/l1_regularizer:0", "s/inner/v/Regularizer/l1_regularizer:0"]
    assert tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES) == regs
    total = tf.losses.get_regularization_loss()
    assert total.name == "total_regularization_loss:0"
    vals = _run([regs, total, tf.trainable_variables()[0]])  # fc/kernel
    np.testing.assert_allclose(vals[0][0], 0.1 * np.sum(vals[2] ** 2) / 2, rtol=1e-6)
    np.testing.assert_allclose(vals[0][1], 0.5 * 2.0, rtol=1e-6)
    np.testing.assert_allclose(vals[0][2], 0.5 * 6.0, rtol=1e-6)
    np.testing.assert_allclose(vals[1], sum(vals[0]), rtol=1e-6)


def test_conv2d_regularizers_and_dense_reuse():
    img = tf.placeholder(tf.float32, [None, 5, 5, 2])
    tf.layers.conv2d(img, 3, 3, kernel_regularizer=tf.contrib.layers.l1_regularizer(0.01),
                     bias_regularizer=tf.contrib.layers.l2_regularizer(0.1))
    x = tf.placeholder(tf.float32, [None, 3])
    reg = tf.contrib.layers.l2_regularizer(0.1)
    tf.layers.dense(x, 2, kernel_regularizer=reg, name="shared")
    tf.layers.dense(x, 2, kernel_regularizer=reg, name="shared", reuse=True)
    assert [r.op.name for r in tf.losses.get_regularization_losses()] == [
        "conv2d/kernel/Regularizer/l1_regularizer", "conv2d/bias/Regularizer/l2_regularizer",
        "shared/kernel/Regularizer/l2_regularizer"]
    kernel = tf.trainable_variables()[0]
    reg_v, k = _run([tf.losses.get_regularization_losses()[0], kernel])
    np.testing.assert_allclose(reg_v, 0.01 * np.abs(k).sum(), rtol=1e-5)


def test_scale_and_reduction_checks_and_empty_total():
    with pytest.raises(ValueError, match="Invalid Reduction Key"):
        tf.losses.log_loss(LABELS, PREDS, reduction="nope")
    with pytest.raises(ValueError, match="scale cannot be an integer"):
        tf.contrib.layers.l2_regularizer(1)
    with pytest.raises(ValueError, match="less than 0"):
        tf.contrib.layers.l1_regularizer(-0.1)
    assert _run(tf.losses.get_regularization_loss()) == 0.0


def test_total_loss_includes_regularization():
    w = tf.get_variable("w", [2], initializer=tf.constant_initializer([3.0, 4.0]),
                        regularizer=tf.contrib.layers.l2_regularizer(0.5))
    mse = tf.losses.mean_squared_error(tf.zeros([2]), w)
    with_reg, without = tf.losses.get_total_loss(), tf.losses.get_total_loss(False, name="data_loss")
    a, b = _run([with_reg, without])
    np.testing.assert_allclose(b, 12.5)
    np.testing.assert_allclose(a, 12.5 + 0.5 * 25 / 2)
    assert mse in tf.losses.get_losses()


def _np_reduce(per, w, reduction):
    """TF1's compute_weighted_loss in numpy: every mean is a safe one (0 when the denominator is 0)."""
    weighted = per * w
    if reduction == "none":
        return weighted
    denom = {"weighted_sum": 1.0, "weighted_mean": np.broadcast_to(w, per.shape).sum(),
             "weighted_sum_over_batch_size": per.size,
             "weighted_sum_by_nonzero_weights": np.broadcast_to(np.asarray(w) != 0, per.shape).sum()}[reduction]
    return weighted.sum() / denom if denom else 0.0


LABELS = np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 0.0]])
PREDS = np.array([[0.2, 0.7, 0.99], [0.6, 0.1, 0.4]])
WEIGHTS = [1.0, np.array([[2.0], [0.0]]), np.array([[0.0, 1.0, 0.5], [1.0, 0.0, 3.0]]), 0.0]
REDUCTIONS = ["weighted_sum_by_nonzero_weights", "weighted_sum", "weighted_mean", "weighted_sum_over_batch_size",
              "none"]


@pytest.mark.parametrize("weights", WEIGHTS)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_log_loss(weights, reduction):
    per = -LABELS * np.log(PREDS + 1e-7) - (1 - LABELS) * np.log(1 - PREDS + 1e-7)
    loss = tf.losses.log_loss(LABELS, PREDS, weights=weights, reduction=reduction)
    assert loss.dtype == tf.float32 and loss in tf.losses.get_losses()
    np.testing.assert_allclose(_run(loss), _np_reduce(per, weights, reduction), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("weights", WEIGHTS)
@pytest.mark.parametrize("delta", [0.25, 1.0])
def test_huber_loss(weights, delta):
    preds = PREDS * 3 - 1
    e = np.abs(preds - LABELS)
    per = np.where(e <= delta, 0.5 * e ** 2, delta * (e - 0.5 * delta))
    loss = tf.losses.huber_loss(LABELS, preds, weights=weights, delta=delta)
    assert loss.op.name == "huber_loss/value"
    np.testing.assert_allclose(_run(loss), _np_reduce(per, weights, "weighted_sum_by_nonzero_weights"), rtol=1e-5)


def test_loss_gradients_match_numpy_differences():
    """The losses compute in float32 (as TF1); their gradients match differences of the numpy formula."""
    p = tf.placeholder(tf.float32, PREDS.shape)
    w = WEIGHTS[2]
    log_l = tf.losses.log_loss(LABELS, p, weights=w)
    hub = tf.losses.huber_loss(LABELS, p * 3.0, weights=w, delta=0.5)

    def np_log(x):
        return _np_reduce(-LABELS * np.log(x + 1e-7) - (1 - LABELS) * np.log(1 - x + 1e-7), w,
                          "weighted_sum_by_nonzero_weights")

    def np_hub(x):
        e = np.abs(3 * x - LABELS)
        return _np_reduce(np.where(e <= 0.5, 0.5 * e ** 2, 0.5 * (e - 0.25)), w, "weighted_sum_by_nonzero_weights")
    grads = _run(tf.gradients([log_l], [p]) + tf.gradients([hub], [p]), {p: PREDS})
    for g, fn in zip(grads, [np_log, np_hub]):
        np.testing.assert_allclose(g, numeric_grad(fn, PREDS, 1e-6), rtol=1e-4, atol=1e-5)


# ---- metrics --------------------------------------------------------------------------------------------
def test_accuracy_streams_over_runs_and_resets():
    labels = tf.placeholder(tf.int64, [None])
    preds = tf.placeholder(tf.int64, [None])
    acc, update = tf.metrics.accuracy(labels, preds)
    assert acc.name == "accuracy/value:0" and update.name == "accuracy/update_op:0"
    assert [v.name for v in tf.local_variables()] == ["accuracy/total:0", "accuracy/count:0"]
    assert not tf.global_variables() and not tf.trainable_variables()
    batches = [([1, 2, 3], [1, 2, 0]), ([4], [0]), ([5, 6, 7, 8], [5, 6, 7, 8])]
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        assert sess.run(acc) == 0.0
        correct = seen = 0
        for lab, pr in batches:
            correct += int(np.sum(np.equal(lab, pr)))
            seen += len(lab)
            np.testing.assert_allclose(sess.run(update, {labels: lab, preds: pr}), correct / seen, rtol=1e-6)
            np.testing.assert_allclose(sess.run(acc), correct / seen, rtol=1e-6)
            np.testing.assert_allclose(sess.run(acc), correct / seen, rtol=1e-6)  # reading changes nothing
        sess.run(tf.local_variables_initializer())
        assert sess.run(acc) == 0.0


def test_accuracy_squeezes_and_second_metric_scope():
    a1 = tf.metrics.accuracy(tf.constant([[1], [2]]), tf.constant([1, 0]))
    a2 = tf.metrics.accuracy(tf.constant([1, 2]), tf.constant([1.0, 2.0]), name="acc2")
    a3 = tf.metrics.accuracy(tf.constant([1]), tf.constant([1]))
    assert a3[0].name == "accuracy_1/value:0" and a2[0].name == "acc2/value:0"
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        assert sess.run([a1[1], a2[1], a3[1]]) == [0.5, 1.0, 1.0]


def test_mean_weighted_and_collections():
    values = tf.placeholder(tf.float32, [None])
    weights = tf.placeholder(tf.float32, [None])
    m, update = tf.metrics.mean(values, weights, metrics_collections=["m"], updates_collections=["u"])
    plain, plain_up = tf.metrics.mean(values)
    assert tf.get_collection("m") == [m] and tf.get_collection("u") == [update]
    assert sorted(v.name for v in tf.local_variables()) == ["mean/count:0", "mean/total:0", "mean_1/count:0",
                                                           "mean_1/total:0"]
    data = [([1.0, 2.0, 3.0], [1.0, 0.0, 2.0]), ([10.0], [0.5]), ([4.0, 4.0], [0.0, 0.0])]
    tot = cnt = 0.0
    all_values = []
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        for v, w in data:
            tot += float(np.dot(v, w))
            cnt += float(np.sum(w))
            all_values += v
            got = sess.run([update, plain_up], {values: v, weights: w})
            np.testing.assert_allclose(got, [tot / cnt, np.mean(all_values)], rtol=1e-6)
            np.testing.assert_allclose(sess.run([m, plain]), [tot / cnt, np.mean(all_values)], rtol=1e-6)


# ---- learning-rate schedules ----------------------------------------------------------------------------
STEPS = [0, 1, 7, 10, 15, 20, 35]


def _schedule_values(make):
    step = tf.placeholder(tf.int64, [])
    lr = make(step)
    with tf.Session() as sess:
        return [float(sess.run(lr, {step: s})) for s in STEPS]


@pytest.mark.parametrize("staircase", [False, True])
def test_natural_exp_and_inverse_time_decay(staircase):
    def p(s):
        return math.floor(s / 10) if staircase else s / 10
    for fn, want in [(tf.train.natural_exp_decay, lambda s: 0.5 * math.exp(-0.3 * p(s))),
                     (tf.train.inverse_time_decay, lambda s: 0.5 / (1 + 0.3 * p(s))),
                     (tf.train.exponential_decay, lambda s: 0.5 * 0.3 ** p(s))]:
        got = _schedule_values(lambda s: fn(0.5, s, 10, 0.3, staircase))
        np.testing.assert_allclose(got, [want(s) for s in STEPS], rtol=1e-6)


@pytest.mark.parametrize("cycle", [False, True])
@pytest.mark.parametrize("power", [1.0, 0.5, 2.0])
def test_polynomial_decay(cycle, power):
    def want(s):
        steps = 10 * (max(1, math.ceil(s / 10)) if cycle else 1)
        s = s if cycle else min(s, 10)
        return (0.1 - 0.001) * (1 - s / steps) ** power + 0.001
    got = _schedule_values(lambda s: tf.train.polynomial_decay(0.1, s, 10, 0.001, power, cycle))
    np.testing.assert_allclose(got, [want(s) for s in STEPS], rtol=1e-5)


@pytest.mark.parametrize("alpha", [0.0, 0.2])
def test_cosine_decay(alpha):
    def want(s):
        return 0.1 * ((1 - alpha) * 0.5 * (1 + math.cos(math.pi * min(s, 20) / 20)) + alpha)
    got = _schedule_values(lambda s: tf.train.cosine_decay(0.1, s, 20, alpha))
    np.testing.assert_allclose(got, [want(s) for s in STEPS], rtol=1e-5, atol=1e-8)


def test_piecewise_constant():
    bounds, vals = [5, 15], [1.0, 0.5, 0.1]
    got = _schedule_values(lambda s: tf.train.piecewise_constant(s, bounds, vals))
    want = [vals[int(np.searchsorted(bounds, s, side="left"))] for s in STEPS]
    np.testing.assert_allclose(got, want, rtol=1e-7)
    step = tf.train.get_or_create_global_step()
    lr = tf.train.piecewise_constant(step, [3], [0.4, 0.2])
    assert _run(lr) == np.float32(0.4)
    with pytest.raises(ValueError, match="1 less than"):
        tf.train.piecewise_constant(step, [1, 2], [1.0, 2.0])
    with pytest.raises(ValueError, match="must have the same dtype as x"):
        tf.train.piecewise_constant(step, [1.5], [1.0, 2.0])
    with pytest.raises(ValueError, match="same dtype"):
        tf.train.piecewise_constant(step, [1], [1.0, 2])


def test_schedules_need_a_global_step():
    with pytest.raises(ValueError, match="global_step is required for cosine_decay"):
        tf.train.cosine_decay(0.1, None, 10)


# ---- Adadelta -------------------------------------------------------------------------------------------
def test_adadelta_matches_numpy_for_three_steps():
    x0, target = np.array([1.0, -2.0, 0.5]), np.array([0.3, 0.1, -0.4])
    lr, rho, eps = 0.7, 0.9, 1e-3
    w = tf.Variable(x0, name="w")
    loss = tf.reduce_sum(tf.square(w - target))
    opt = tf.train.AdadeltaOptimizer(lr, rho, eps)
    train = opt.minimize(loss)
    assert opt.get_slot_names() == ["accum", "accum_update"]
    assert opt.get_slot(w, "accum").name == "w/Adadelta:0"
    assert opt.get_slot(w, "accum_update").name == "w/Adadelta_1:0"
    assert any(op.type == "ApplyAdadelta" for op in tf.get_default_graph().get_operations())
    x, acc, acc_up = x0.copy(), np.zeros(3), np.zeros(3)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(3):
            sess.run(train)
            g = 2 * (x - target)
            acc = rho * acc + (1 - rho) * g * g
            upd = np.sqrt(acc_up + eps) / np.sqrt(acc + eps) * g
            acc_up = rho * acc_up + (1 - rho) * upd * upd
            x = x - lr * upd
            np.testing.assert_allclose(sess.run(w), x, rtol=1e-12)
        np.testing.assert_allclose(sess.run(opt.get_slot(w, "accum")), acc, rtol=1e-12)
        np.testing.assert_allclose(sess.run(opt.get_slot(w, "accum_update")), acc_up, rtol=1e-12)


# ---- tf.Print / tf.py_func ------------------------------------------------------------------------------
def test_print_is_identity_and_writes_stderr(capsys):
    x = tf.constant([1.0, 2.5, 3.0, 4.0])
    m = tf.constant([[1, 2], [3, 4]])
    y = tf.Print(x, [x, m, tf.constant(True)], message="vals: ", first_n=2)
    assert y.op.type == "Print" and y.shape.as_list() == [4]
    with tf.Session() as sess:
        for _ in range(3):
            np.testing.assert_array_equal(sess.run(y), [1.0, 2.5, 3.0, 4.0])
    err = capsys.readouterr().err.splitlines()
    assert err == ["vals: [1 2.5 3...][[1 2][3...]...][1]"] * 2


def test_print_gradient_passes_through():
    _fd_check(lambda t: tf.Print(t * t, [t], summarize=-1), [RNG.standard_normal((2, 2))])


def test_py_func_values_and_lists():
    x = tf.constant([1.0, 2.0, 3.0])
    y = tf.py_func(lambda a: (a * 2).astype(np.float32), [x], tf.float32)
    s, n = tf.py_func(lambda a, b: [np.sum(a).astype(np.float32), np.int64(b.size)], [x, x], [tf.float32, tf.int64],
                      stateful=False)
    assert y.op.type == "PyFunc" and s.op.type == "PyFuncStateless" and y.shape.ndims is None
    vy, vs, vn = _run([y, s, n])
    np.testing.assert_array_equal(vy, [2.0, 4.0, 6.0])
    assert vs == 6.0 and vn == 3


def test_py_func_errors():
    x = tf.constant([1.0, 2.0])
    wrong_type = tf.py_func(lambda a: a * 2.0, [tf.cast(x, tf.float64)], tf.float32)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"0-th value returned by pyfunc_\d+ is double, but "
                                                             r"expects float"):
        _run(wrong_type)
    wrong_count = tf.py_func(lambda a: (a, a), [x], tf.float32, name="two")
    with pytest.raises(tf.errors.InvalidArgumentError, match="returns 2 values, but expects to see 1 values") as e:
        _run(wrong_count)
    assert e.value.op is wrong_count.op and "[[node two (op: PyFunc)]]" in e.value.message
    y = tf.py_func(lambda a: a, [x], tf.float32, name="my_func")
    with pytest.raises(LookupError, match="No gradient defined for operation 'my_func' \\(op type: PyFunc\\)"):
        tf.gradients(tf.reduce_sum(y), [x])


def test_regularizers_of_a_reentered_scope_and_of_fully_connected():
    """A VariableScope object re-entered keeps its own regularizer and initializer (not the enclosing
    scope's); contrib's fully_connected applies weights_ and biases_regularizer."""
    with tf.variable_scope("saved", regularizer=tf.contrib.layers.l1_regularizer(1.0),
                           initializer=tf.ones_initializer()) as saved:
        pass
    with tf.variable_scope("elsewhere"):
        with tf.variable_scope(saved):
            w = tf.get_variable("w", [3])
    x = tf.placeholder(tf.float32, [None, 3])
    tf.contrib.layers.fully_connected(x, 2, weights_regularizer=tf.contrib.layers.l2_regularizer(0.5),
                                      biases_regularizer=tf.contrib.layers.l1_regularizer(0.5))
    assert [r.op.name for r in tf.losses.get_regularization_losses()] == [
        "saved/w/Regularizer/l1_regularizer", "fully_connected/weights/Regularizer/l2_regularizer",
        "fully_connected/biases/Regularizer/l1_regularizer"]
    w_val, first = _run([w, tf.losses.get_regularization_losses()[0]])
    assert w_val.tolist() == [1.0, 1.0, 1.0] and first == 3.0


def test_schedules_follow_the_learning_rate_dtype():
    step = tf.placeholder(tf.int64, [])
    for fn in (tf.train.exponential_decay, tf.train.natural_exp_decay, tf.train.inverse_time_decay):
        lr = fn(tf.constant(0.5, tf.float64), step, 10, 0.3)
        assert lr.dtype == tf.float64
        assert np.isclose(_run(lr, {step: 0}), 0.5)

