"""Every differentiable engine op: tf.gradients against central finite differences (float64)."""
from __future__ import annotations

import numpy as np
import pytest

import summaries as tf

from gradcheck import check_gradients as _check

RNG = np.random.default_rng(1234)


def rand(*shape, positive=False, away=None):
    x = RNG.standard_normal(shape)
    if positive:
        x = np.abs(x) + 0.5
    if away is not None:  # keep clear of kinks (relu at 0, clip bounds)
        x = np.where(np.abs(x - away) < 0.1, x + 0.3, x)
    return x


BROADCAST_PAIRS = [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 4), (3, 1)), ((), (2, 3)), ((5, 1), (1, 4))]


@pytest.mark.parametrize("sa,sb", BROADCAST_PAIRS)
@pytest.mark.parametrize("fn", [
    lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a * b, lambda a, b: a / b,
    tf.add, tf.subtract, tf.multiply, tf.div, tf.truediv, tf.mul, tf.sub, tf.squared_difference,
    tf.maximum, tf.minimum])
def test_binary_broadcast(fn, sa, sb):
    _check(fn, [rand(*sa), rand(*sb, positive=True)])


@pytest.mark.parametrize("sa,sb", BROADCAST_PAIRS[:3])
def test_pow(sa, sb):
    _check(tf.pow, [rand(*sa, positive=True), rand(*sb)])


@pytest.mark.parametrize("fn,positive,away", [
    (tf.negative, False, None), (tf.neg, False, None), (lambda x: -x, False, None), (tf.abs, False, 0.0),
    (tf.square, False, None), (tf.sqrt, True, None), (tf.rsqrt, True, None), (tf.exp, False, None),
    (tf.log, True, None), (tf.log1p, True, None), (tf.reciprocal, True, None), (tf.sin, False, None),
    (tf.cos, False, None), (tf.sigmoid, False, None), (tf.tanh, False, None), (tf.nn.relu, False, 0.0),
    (tf.nn.relu6, False, 0.0), (tf.nn.elu, False, 0.0), (tf.nn.softplus, False, None),
    (tf.nn.leaky_relu, False, 0.0), (tf.identity, False, None), (tf.nn.l2_loss, False, None),
    (lambda x: tf.clip_by_value(x, -0.5, 0.5), False, 0.5),
])
def test_unary(fn, positive, away):
    x = rand(3, 4, positive=positive, away=away)
    if away == 0.5:
        x = np.where(np.abs(np.abs(x) - 0.5) < 0.1, x + 0.25, x)
    _check(fn, [x])


def test_cast_float_roundtrip():
    """Cast is linear, so a coarse step is exact up to float32 rounding."""
    _check(lambda x: tf.cast(tf.cast(x, tf.float32) * 3.0, tf.float64), [rand(3, 4)], eps=1e-2, atol=1e-3)


@pytest.mark.parametrize("ta,tb", [(False, False), (True, False), (False, True), (True, True)])
def test_matmul(ta, tb):
    a = rand(4, 3) if ta else rand(3, 4)
    b = rand(5, 4) if tb else rand(4, 5)
    _check(lambda x, y: tf.matmul(x, y, transpose_a=ta, transpose_b=tb), [a, b])


def test_matmul_operator():
    _check(lambda x, y: x @ y, [rand(2, 3), rand(3, 2)])


@pytest.mark.parametrize("reduce", [tf.reduce_sum, tf.reduce_mean, tf.reduce_max, tf.reduce_min, tf.reduce_prod])
@pytest.mark.parametrize("kw", [{}, {"axis": 1}, {"axis": 0, "keepdims": True}, {"reduction_indices": [0, 2]},
                                {"axis": -1, "keep_dims": True}])
def test_reductions(reduce, kw):
    _check(lambda x: reduce(x, **kw), [rand(2, 3, 4)])


@pytest.mark.parametrize("fn,shape", [
    (lambda x: tf.reshape(x, [-1]), (3, 4)), (lambda x: tf.reshape(x, [2, -1, 3]), (3, 4)),
    (lambda x: tf.transpose(x), (3, 4)), (lambda x: tf.transpose(x, [1, 2, 0]), (2, 3, 4)),
    (lambda x: tf.expand_dims(x, 1), (3, 4)), (lambda x: tf.squeeze(tf.expand_dims(x, 0)), (3, 4)),
    (lambda x: x[1:, ::2], (3, 4)), (lambda x: tf.gather(x, [0, 2, 2]), (3, 4)),
    (lambda x: tf.stack([x, x * 2], axis=1), (3, 4)), (lambda x: tf.unstack(x)[1], (3, 4)),
    (lambda x: tf.nn.softmax(x), (3, 4)), (lambda x: tf.nn.log_softmax(x), (3, 4)),
    (lambda x: tf.nn.dropout(x, keep_prob=1.0), (3, 4)),
    (lambda x: tf.where(x > 0, x * 2, x * 3), (3, 4)),
    (lambda x: tf.nn.bias_add(x, tf.constant([1.0, 2.0, 3.0, 4.0], tf.float64)), (3, 4)),
])
def test_shape_and_nn_ops(fn, shape):
    _check(fn, [rand(*shape, away=0.0)])


def test_concat():
    _check(lambda a, b: tf.concat([a, b], 1), [rand(3, 2), rand(3, 4)])
    _check(lambda a, b: tf.concat([a, b], 0), [rand(2, 3), rand(1, 3)])


def test_add_n():
    _check(lambda a, b: tf.add_n([a, b, a]), [rand(3, 2), rand(3, 2)])


def test_softmax_cross_entropy_v2_both_inputs():
    labels = np.abs(rand(4, 5)) + 0.1
    labels /= labels.sum(1, keepdims=True)
    _check(lambda lab, x: tf.nn.softmax_cross_entropy_with_logits_v2(labels=lab, logits=x), [labels, rand(4, 5)])


def test_softmax_cross_entropy_v1_stops_label_gradient():
    labels = np.eye(5)[[0, 3, 1, 4]]
    _check(lambda lab, x: tf.nn.softmax_cross_entropy_with_logits(labels=lab, logits=x), [labels, rand(4, 5)],
           wrt=[1])
    tf.reset_default_graph()
    lab = tf.placeholder(tf.float64, [2, 3])
    x = tf.placeholder(tf.float64, [2, 3])
    assert tf.gradients(tf.nn.softmax_cross_entropy_with_logits(labels=lab, logits=x), [lab]) == [None]


def test_sparse_softmax_cross_entropy():
    tf.reset_default_graph()
    labels = tf.constant([0, 3, 1], tf.int32)
    _check(lambda x: tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=tf.constant([0, 3, 1], tf.int32), logits=x), [rand(3, 5)])
    del labels


def test_sigmoid_cross_entropy_both_inputs():
    _check(lambda z, x: tf.nn.sigmoid_cross_entropy_with_logits(labels=z, logits=x),
           [np.abs(rand(3, 4)) % 1, rand(3, 4)])


def test_mean_squared_error():
    _check(lambda a, b: tf.losses.mean_squared_error(a, b) * tf.ones([1], tf.float64), [rand(3, 2), rand(3, 2)])


def test_dropout_gradient_uses_the_same_mask():
    """With keep_prob < 1 the gradient must be the mask applied in the forward pass."""
    tf.reset_default_graph()
    tf.set_random_seed(3)
    x = tf.placeholder(tf.float64, [50, 20])
    y = tf.nn.dropout(x, keep_prob=0.6)
    g, = tf.gradients(tf.reduce_sum(y), [x])
    xv = rand(50, 20, positive=True)
    with tf.Session() as sess:
        yv, gv = sess.run([y, g], {x: xv})
    np.testing.assert_allclose(gv, yv / xv)
    kept = gv != 0
    np.testing.assert_allclose(gv[kept], 1 / 0.6)
    assert 0.45 < kept.mean() < 0.75


def test_variable_gradient_through_read():
    tf.reset_default_graph()
    w = tf.Variable(np.array([[1.0, 2.0], [3.0, 4.0]]), dtype=tf.float64)
    x = tf.constant([[0.5, -1.0]], tf.float64)
    loss = tf.reduce_sum(tf.square(tf.matmul(x, w)))
    g, = tf.gradients(loss, [w])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        wv = sess.run(w)
        gv = sess.run(g)
    xv = np.array([[0.5, -1.0]])
    np.testing.assert_allclose(gv, xv.T @ (2 * (xv @ wv)))


def test_unconnected_gradient_is_none_and_stop_gradient_blocks():
    tf.reset_default_graph()
    a = tf.placeholder(tf.float64, [2])
    b = tf.placeholder(tf.float64, [2])
    y = tf.reduce_sum(a * 2 + tf.stop_gradient(b))
    assert tf.gradients(y, [a, b])[1] is None
