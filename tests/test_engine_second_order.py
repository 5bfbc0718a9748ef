"""Second derivatives through the fused gradient ops, and tf.hessians, against finite differences."""
from __future__ import annotations

import numpy as np
import pytest

import summaries as tf

from gradcheck import check_gradients, numeric_grad

RNG = np.random.default_rng(5)
X = np.array([-1.7, -0.4, 0.3, 0.9, 2.2])  # away from the kinks at 0 (and 6)
POS = np.array([0.3, 0.8, 1.5, 2.4, 4.0])  # for sqrt, rsqrt, reciprocal

CASES = [
    (tf.square, X), (tf.sqrt, POS), (tf.rsqrt, POS), (tf.reciprocal, POS), (tf.sigmoid, X), (tf.tanh, X),
    (tf.nn.relu, X), (tf.nn.relu6, X * 4), (lambda x: tf.nn.leaky_relu(x, alpha=0.3), X), (tf.nn.elu, X),
    (tf.nn.softplus, X),
]


@pytest.mark.parametrize("f,xv", CASES)
def test_second_derivative_equals_central_second_differences(f, xv):
    """d/dx of (d sum f(x) / dx) = f''(x), elementwise; truth: (f(x+h) - 2f(x) + f(x-h)) / h^2 in float64."""
    tf.reset_default_graph()
    x = tf.placeholder(tf.float64, [5])
    y = f(x)
    (first,) = tf.gradients(tf.reduce_sum(y), [x])
    (second,) = tf.gradients(tf.reduce_sum(first), [x])
    h = 1e-4
    with tf.Session() as sess:
        got = sess.run(second, {x: xv})
        fx = [sess.run(y, {x: v}) for v in (xv + h, xv, xv - h)]
    np.testing.assert_allclose(got, (fx[0] - 2 * fx[1] + fx[2]) / h ** 2, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("f,xv", CASES)
def test_gradient_of_the_first_gradient_wrt_both_inputs(f, xv):
    """The fused ops' own gradients (w.r.t. the forward value and the upstream gradient) by finite
    differences of the whole first-order graph: d sum(r * d<f(x), w>/dx) / d(x, w)."""
    check_gradients(lambda x, w: tf.gradients(tf.reduce_sum(f(x) * w), [x])[0], [xv, RNG.standard_normal(5)])


def test_leaky_relu_gradient_uses_its_alpha():
    check_gradients(lambda x: tf.nn.leaky_relu(x, alpha=0.3), [X])


def test_hessians_of_a_small_network_equal_finite_differences_of_its_gradient():
    tf.reset_default_graph()
    w = tf.placeholder(tf.float64, [2, 2])
    x = tf.constant(RNG.standard_normal((3, 2)))
    loss = tf.reduce_sum(tf.tanh(tf.matmul(x, w)) ** 2) + tf.reduce_sum(tf.sigmoid(w))
    (hess,) = tf.hessians(loss, w)
    assert hess.shape.as_list() == [2, 2, 2, 2]
    (grad,) = tf.gradients(loss, [w])
    wv = RNG.standard_normal((2, 2))
    with tf.Session() as sess:
        got = sess.run(hess, {w: wv})
        for i in np.ndindex(2, 2):
            want = numeric_grad(lambda v: sess.run(grad, {w: v})[i], wv)
            np.testing.assert_allclose(got[i], want, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(got.reshape(4, 4), got.reshape(4, 4).T, rtol=1e-10)  # symmetric


def test_hessians_need_a_known_shape():
    tf.reset_default_graph()
    x = tf.placeholder(tf.float64, [None])
    with pytest.raises(ValueError, match="fully defined shape"):
        tf.hessians(tf.reduce_sum(x * x), x)


@pytest.mark.parametrize("xv", [np.array([2.0, 1.5, 3.0]), np.array([0.5, -0.7, 0.2])])
def test_second_derivative_through_a_cond(xv):
    """A gradient that passed a cond's Merge/Switch differentiates again (the Switch's gradient is a Merge
    too); truth: central second differences of the taken branch's function, on both branches."""
    tf.reset_default_graph()
    x = tf.placeholder(tf.float64, [3])
    y = tf.cond(tf.reduce_sum(x) > 3.0, lambda: tf.reduce_sum(x * x * x), lambda: tf.reduce_sum(tf.sin(x) * x))
    (first,) = tf.gradients(y, [x])
    (second,) = tf.gradients(tf.reduce_sum(first), [x])
    h = 1e-4
    with tf.Session() as sess:
        got = sess.run(second, {x: xv})
        want = np.array([(sess.run(y, {x: xv + h * e}) - 2 * sess.run(y, {x: xv}) + sess.run(y, {x: xv - h * e}))
                         / h ** 2 for e in np.eye(3)])
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_second_derivative_through_a_broadcast_gradient():
    """d(x * b)/db sums a broadcast gradient back to b's shape (math_ops.sum_to's Sum); its own gradient
    broadcasts back. Known shapes by finite differences; unknown shapes (the Sum's other form) must agree."""
    xv, bv = RNG.standard_normal((3, 4)), RNG.standard_normal(4)
    first = lambda x, b: tf.gradients(tf.reduce_sum(tf.sin(x * b)), [b])[0]  # noqa: E731
    check_gradients(first, [xv, bv])
    tf.reset_default_graph()
    x, b = tf.placeholder(tf.float64, [None, 4]), tf.placeholder(tf.float64, [None])
    known_x, known_b = tf.placeholder(tf.float64, [3, 4]), tf.placeholder(tf.float64, [4])
    unknown = tf.gradients(tf.reduce_sum(tf.square(first(x, b))), [x, b])
    known = tf.gradients(tf.reduce_sum(tf.square(first(known_x, known_b))), [known_x, known_b])
    with tf.Session() as sess:
        got = sess.run(unknown, {x: xv, b: bv})
        want = sess.run(known, {known_x: xv, known_b: bv})
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-12)
