"""tf.layers: variable and tensor names against what real TF1 makes for the same programs
(tests/data/engine_layers/tf_names.json, made by make_tf_names.py there, whose CASES run here unchanged),
forward values against the hand-built ops, gradients against finite differences, dropout, reuse."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import summaries as tf

from conftest import load_script
from gradcheck import numeric_grad, numeric_grad_of_variable

DATA = Path(__file__).parent / "data" / "engine_layers"
TF_NAMES = json.loads((DATA / "tf_names.json").read_text())
programs = load_script(DATA / "make_tf_names.py")  # defines the programs only; TF is imported by its main() alone
RNG = np.random.default_rng(2024)


pytestmark = pytest.mark.usefixtures("fresh_graph")


def check_against_tf(case) -> None:
    ours, theirs = programs.describe(tf, case), TF_NAMES[case.__name__]
    assert ours["variables"] == theirs["variables"]
    for got, want in zip(ours["outputs"], theirs["outputs"], strict=True):
        assert (got["label"], got["shape"]) == (want["label"], want["shape"])
        if want["exact"]:
            assert got["name"] == want["name"]
        else:  # dropout while training: TF's op chain differs from our one Dropout op; the layer scope must not
            assert got["name"].startswith(want["name"].rsplit("/", 2)[0] + "/"), (got, want)


@pytest.mark.parametrize("case", programs.CASES, ids=lambda c: c.__name__)
def test_names_and_shapes_match_real_tf1(case):
    check_against_tf(case)


def test_duplicate_name_without_reuse_raises_like_tf1():
    with pytest.raises(ValueError) as e:
        programs.duplicate_name(tf)
    assert str(e.value) == TF_NAMES["duplicate_name"]["message"]


def test_reuse_shares_variables_and_values():
    x = tf.placeholder(tf.float32, [None, 4])
    a = tf.layers.dense(x, 3, activation=tf.nn.relu, name="fc")
    b = tf.layers.dense(x * 2.0, 3, activation=tf.nn.relu, name="fc", reuse=True)
    img = tf.placeholder(tf.float32, [None, 5, 5, 2])
    c = tf.layers.conv2d(img, 3, 3, name="conv")
    d = tf.layers.conv2d(img, 3, 3, name="conv", reuse=tf.AUTO_REUSE)
    assert [v.name for v in tf.global_variables()] == ["fc/kernel:0", "fc/bias:0", "conv/kernel:0", "conv/bias:0"]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        xv, iv = RNG.standard_normal((2, 4)), RNG.standard_normal((1, 5, 5, 2))
        av, bv, cv, dv = sess.run([a, b, c, d], {x: xv, img: iv})
        np.testing.assert_allclose(bv, sess.run(a, {x: 2 * xv}), rtol=1e-6)
        np.testing.assert_array_equal(cv, dv)
    with pytest.raises(ValueError, match="does not exist"):
        tf.layers.dense(x, 3, name="never_made", reuse=True)


def test_kernels_and_biases_are_trainable_and_global():
    x = tf.placeholder(tf.float32, [None, 6, 6, 1])
    h = tf.layers.flatten(tf.layers.max_pooling2d(tf.layers.conv2d(x, 2, 3), 2, 2))
    tf.layers.dense(h, 3)
    names = ["conv2d/kernel:0", "conv2d/bias:0", "dense/kernel:0", "dense/bias:0"]
    assert [v.name for v in tf.trainable_variables()] == names
    assert [v.name for v in tf.get_collection(tf.GraphKeys.GLOBAL_VARIABLES)] == names


# ---- forward values --------------------------------------------------------------------------------
def test_dense_equals_matmul_plus_bias():
    w, b = RNG.standard_normal((4, 3)), RNG.standard_normal(3)
    x = tf.placeholder(tf.float64, [None, 4])
    y = tf.layers.dense(x, 3, activation=tf.nn.tanh, kernel_initializer=tf.constant_initializer(w),
                        bias_initializer=tf.constant_initializer(b))
    ref = tf.nn.tanh(tf.matmul(x, tf.constant(w)) + tf.constant(b))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        xv = RNG.standard_normal((5, 4))
        got, want = sess.run([y, ref], {x: xv})
    assert y.dtype == tf.float64
    np.testing.assert_allclose(got, want, rtol=1e-12)


@pytest.mark.parametrize("strides,padding", [((1, 1), "same"), ((2, 1), "VALID"), (2, "Same")])
def test_conv2d_and_pools_equal_the_nn_ops(strides, padding):
    k, b = RNG.standard_normal((3, 2, 2, 4)), RNG.standard_normal(4)
    x = tf.placeholder(tf.float64, [None, 7, 6, 2])
    y = tf.layers.conv2d(x, 4, (3, 2), strides, padding, activation=tf.nn.relu,
                         kernel_initializer=tf.constant_initializer(k), bias_initializer=tf.constant_initializer(b))
    s = [1, strides, strides, 1] if isinstance(strides, int) else [1, *strides, 1]
    p = padding.upper()
    ref = tf.nn.relu(tf.nn.conv2d(x, tf.constant(k), s, p) + tf.constant(b))
    pools = [(tf.layers.max_pooling2d(y, 2, 2, padding), tf.nn.max_pool(ref, [1, 2, 2, 1], [1, 2, 2, 1], p)),
             (tf.layers.average_pooling2d(y, (2, 1), 1, padding), tf.nn.avg_pool(ref, [1, 2, 1, 1], [1] * 4, p)),
             (tf.layers.flatten(y), tf.reshape(ref, [-1, int(np.prod(ref.shape.as_list()[1:]))]))]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        xv = RNG.standard_normal((2, 7, 6, 2))
        for got, want in sess.run([(y, ref)] + pools, {x: xv}):
            np.testing.assert_allclose(got, want, rtol=1e-12)
    assert y.shape.as_list() == ref.shape.as_list()


def test_default_initializers_glorot_uniform_kernel_and_zero_bias():
    tf.set_random_seed(1)
    x = tf.placeholder(tf.float32, [None, 300])
    tf.layers.dense(x, 200)
    with tf.variable_scope("ones", initializer=tf.ones_initializer()):  # TF1: the scope's kernel initializer
        tf.layers.dense(x, 2)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        kernel, bias, ones_kernel, ones_bias = sess.run(tf.trainable_variables())
    np.testing.assert_array_equal(ones_kernel, np.ones((300, 2)))
    np.testing.assert_array_equal(ones_bias, np.zeros(2))
    limit = np.sqrt(6.0 / (300 + 200))
    assert kernel.dtype == np.float32 and np.abs(kernel).max() <= limit
    assert abs(kernel.std() - limit / np.sqrt(3)) < 0.01 * limit  # uniform on [-limit, limit]
    np.testing.assert_array_equal(bias, np.zeros(200, np.float32))


def test_flatten_keeps_what_is_known():
    x = tf.placeholder(tf.float32, [None, None, 3])
    y = tf.layers.flatten(x)
    z = tf.layers.flatten(tf.placeholder(tf.float32, [4]))
    assert (y.shape.as_list(), z.shape.as_list()) == ([None, None], [4, 1])
    with tf.Session() as sess:
        assert sess.run(y, {x: np.ones((2, 5, 3))}).shape == (2, 15)


# ---- gradients -------------------------------------------------------------------------------------
def test_dense_gradients_match_finite_differences():
    x = tf.constant(RNG.standard_normal((3, 4)))
    y = tf.layers.dense(x, 2, activation=tf.nn.tanh, bias_initializer=tf.random_normal_initializer(seed=3))
    loss = tf.reduce_sum(y * tf.constant(RNG.standard_normal((3, 2))))
    kernel, bias = tf.trainable_variables()
    grads = tf.gradients(loss, [kernel, bias])
    assert None not in grads
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for var, got in zip([kernel, bias], sess.run(grads)):
            num = numeric_grad_of_variable(sess, var, lambda: sess.run(loss))
            np.testing.assert_allclose(got, num, rtol=1e-6, atol=1e-8)


# ---- dropout ---------------------------------------------------------------------------------------
def test_dropout_is_the_identity_unless_training():
    x = tf.placeholder(tf.float32, [None, 50])
    training = tf.placeholder(tf.bool)
    outs = [tf.layers.dropout(x, 0.5), tf.layers.dropout(x, 0.5, training=False),
            tf.layers.dropout(x, 0.5, training=tf.constant(False)), tf.layers.dropout(x, 0.5, training=training)]
    assert [o.op.type for o in outs[:3]] == ["Identity"] * 3
    xv = RNG.standard_normal((4, 50)).astype(np.float32)
    with tf.Session() as sess:
        for got in sess.run(outs, {x: xv, training: False}):
            np.testing.assert_array_equal(got, xv)


@pytest.mark.parametrize("rate", [0.3, 0.75])
def test_dropout_while_training_drops_rate_and_scales_the_rest(rate):
    x = tf.placeholder(tf.float32, [None, 200])
    training = tf.placeholder(tf.bool)
    fed = tf.layers.dropout(x, rate, training=training, seed=5)
    fixed = tf.layers.dropout(x, rate, training=True, seed=6)
    dx = tf.gradients(tf.reduce_sum(fed), x)[0]
    with tf.Session() as sess:
        for y, g in [sess.run([fed, dx], {x: np.ones((100, 200)), training: True}),
                     (sess.run(fixed, {x: np.ones((100, 200))}), None)]:
            dropped = np.mean(y == 0)
            assert abs(dropped - rate) < 0.02, dropped
            np.testing.assert_allclose(y[y != 0], 1 / (1 - rate), rtol=1e-6)
            if g is not None:  # the gradient passes only the kept units, scaled like them
                np.testing.assert_array_equal(g, y)


# ---- errors ----------------------------------------------------------------------------------------
def test_unsupported_inputs_fail_clearly_at_build_time():
    with pytest.raises(ValueError, match="min_ndim=2"):
        tf.layers.dense(tf.placeholder(tf.float32, [4]), 2)
    with pytest.raises(ValueError, match="last dimension"):
        tf.layers.dense(tf.placeholder(tf.float32, [None, None]), 2)
    img = tf.placeholder(tf.float32, [None, 8, 8, 3])
    with pytest.raises(ValueError, match="channels_last"):
        tf.layers.conv2d(img, 4, 3, data_format="channels_first")
    with pytest.raises(ValueError, match="padding"):
        tf.layers.max_pooling2d(img, 2, 2, padding="full")
    with pytest.raises(ValueError, match="kernel_size"):
        tf.layers.conv2d(img, 4, (3, 3, 3))
    with pytest.raises(ValueError, match="channel dimension"):
        tf.layers.conv2d(tf.placeholder(tf.float32, [None, 8, 8, None]), 4, 3)
    with pytest.raises(ValueError, match="noise_shape"):
        tf.layers.dropout(img, noise_shape=[1, 1, 1, 3], training=True)


def test_compat_v1_layers_is_the_same_namespace():
    assert tf.compat.v1.layers.dense is tf.layers.dense


# ---- rank > 2 ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("static", [True, False])
def test_dense_maps_rank_3_inputs_over_the_last_axis(static):
    """[batch, time, features] -> [batch, time, units], as TF1's tensordot: against numpy and finite
    differences, with the static shape kept where it is known."""
    rng = np.random.default_rng(3)
    xv = rng.standard_normal((2, 5, 4))
    x = tf.placeholder(tf.float64, [2, 5, 4] if static else [None, None, 4])
    y = tf.layers.dense(x, 3, activation=tf.tanh, bias_initializer=tf.constant_initializer(0.5))
    assert y.shape.as_list() == ([2, 5, 3] if static else [None, None, 3])
    kernel = [v for v in tf.trainable_variables() if v.op.name == "dense/kernel"][0]
    loss = tf.reduce_sum(tf.square(y))
    grad_x, grad_k = tf.gradients(loss, [x, kernel])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        k = sess.run(kernel)
        got, gx, gk = sess.run([y, grad_x, grad_k], {x: xv})
        np.testing.assert_allclose(got, np.tanh(np.einsum("btf,fu->btu", xv, k) + 0.5), rtol=1e-12)
        numeric = numeric_grad(lambda xx: sess.run(loss, {x: xx}), xv)
        np.testing.assert_allclose(gx, numeric, rtol=1e-5, atol=1e-8)
        want_gk = np.einsum("btf,btu->fu", xv, 2 * got * (1 - got ** 2))
        np.testing.assert_allclose(gk, want_gk, rtol=1e-10)
