"""Batch normalization: tf.nn.moments / tf.nn.batch_normalization and tf.layers.batch_normalization.

Truth comes from a plain numpy formula, finite differences (float64), and real TensorFlow's numbers in
tests/data/engine_batchnorm/tf_reference.{npz,json} (made once by make_tf_reference.py there: see its
docstring for why TF 2.21 needs the TF1 layer wired from its real ops).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import summaries as tf

from gradcheck import numeric_grad, numeric_grad_of_variable

DATA = Path(__file__).parent / "data" / "engine_batchnorm"
REF = np.load(DATA / "tf_reference.npz")
TABLE = json.loads((DATA / "tf_reference.json").read_text())
RNG = np.random.default_rng(7)
EPS = 1e-3


pytestmark = pytest.mark.usefixtures("fresh_graph")


def np_bn(x, mean, var, beta, gamma, eps=EPS):
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


def batch_axes(x):
    return tuple(range(x.ndim - 1))


# ---- tf.nn.moments / tf.nn.batch_normalization -----------------------------------------------------
@pytest.mark.parametrize("shape,axes", [((5, 3), [0]), ((2, 3, 4, 5), [0, 1, 2]), ((4, 6), [1])])
@pytest.mark.parametrize("keep", [False, True])
def test_moments_match_numpy(shape, axes, keep):
    xv = RNG.normal(2.0, 3.0, shape)
    x = tf.placeholder(tf.float64, shape)
    mean, var = tf.nn.moments(x, axes, keep_dims=keep)
    with tf.Session() as sess:
        m, v = sess.run([mean, var], {x: xv})
    np.testing.assert_allclose(m, xv.mean(tuple(axes), keepdims=keep), rtol=1e-12)
    np.testing.assert_allclose(v, xv.var(tuple(axes), keepdims=keep), rtol=1e-12)
    assert mean.op.name.startswith("moments/") and var.op.name.startswith("moments/")


def test_batch_normalization_matches_numpy_and_tf_names():
    xv = RNG.normal(size=(6, 4))
    mean, var, beta, gamma = xv.mean(0), xv.var(0), RNG.normal(size=4), RNG.uniform(0.5, 2, 4)
    y = tf.nn.batch_normalization(tf.constant(xv), mean, var, beta, gamma, EPS)
    y_plain = tf.nn.batch_normalization(tf.constant(xv), mean, var, None, None, EPS)
    with tf.Session() as sess:
        got, got_plain = sess.run([y, y_plain])
    np.testing.assert_allclose(got, np_bn(xv, mean, var, beta, gamma), rtol=1e-12)
    np.testing.assert_allclose(got_plain, np_bn(xv, mean, var, 0.0, 1.0), rtol=1e-12, atol=1e-12)
    assert y.op.name == "batchnorm/add_1"
    ops = {o.name for o in tf.get_default_graph().get_operations()}
    assert {"batchnorm/Rsqrt", "batchnorm/mul", "batchnorm/mul_1", "batchnorm/mul_2", "batchnorm/sub"} <= ops


# ---- tf.layers.batch_normalization: forward and moving statistics vs numpy ---------------------------
@pytest.mark.parametrize("shape", [(8, 3), (4, 3, 2, 5)])
def test_layer_forward_training_and_inference_vs_numpy(shape):
    xv = RNG.normal(1.0, 2.0, shape)
    c = shape[-1]
    gamma, beta = RNG.uniform(0.5, 2, c), RNG.normal(size=c)
    x = tf.placeholder(tf.float64, [None, *shape[1:]])
    kw = dict(gamma_initializer=tf.constant_initializer(gamma), beta_initializer=tf.constant_initializer(beta))
    y_train = tf.layers.batch_normalization(x, training=True, name="bn", **kw)
    y_infer = tf.layers.batch_normalization(x, training=False, name="bn", reuse=True)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        tr, inf = sess.run([y_train, y_infer], {x: xv})
    ax = batch_axes(xv)
    np.testing.assert_allclose(tr, np_bn(xv, xv.mean(ax), xv.var(ax), beta, gamma), rtol=1e-10)
    np.testing.assert_allclose(inf, np_bn(xv, 0.0, 1.0, beta, gamma), rtol=1e-10)


def test_layer_axis_1_normalizes_per_channel_of_axis_1():
    xv = RNG.normal(size=(5, 3, 2))
    y = tf.layers.batch_normalization(tf.constant(xv), axis=1, training=True)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got = sess.run(y)
    m, v = xv.mean((0, 2), keepdims=True), xv.var((0, 2), keepdims=True)
    np.testing.assert_allclose(got, (xv - m) / np.sqrt(v + EPS), rtol=1e-10)
    assert tf.global_variables()[0].shape.as_list() == [3]


@pytest.mark.parametrize("shape,dtype,fused,unbiased", [
    ((6, 3), tf.float32, None, False), ((3, 2, 2, 3), tf.float32, None, True),
    ((3, 2, 2, 3), tf.float64, None, False), ((3, 2, 2, 3), tf.float32, False, False)])
def test_moving_stats_follow_the_recurrence(shape, dtype, fused, unbiased):
    """TF1: rank-4 float32 NHWC takes the fused kernel (unbiased variance into the average) unless
    fused=False; everything else the biased one."""
    momentum, steps = 0.8, 4
    batches = [RNG.normal(1.0, 2.0, shape) for _ in range(steps)]
    x = tf.placeholder(dtype, [None, *shape[1:]])
    tf.layers.batch_normalization(x, momentum=momentum, training=True, fused=fused)
    updates = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
    assert [u.op.name for u in updates] == ["batch_normalization/AssignMovingAvg",
                                            "batch_normalization/AssignMovingAvg_1"]
    mm, mv = np.zeros(shape[-1]), np.ones(shape[-1])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for b in batches:
            b = b.astype(dtype.as_numpy_dtype)
            sess.run(updates, {x: b})
            flat = b.reshape(-1, shape[-1]).astype(np.float64)
            mm -= (1 - momentum) * (mm - flat.mean(0))
            mv -= (1 - momentum) * (mv - flat.var(0, ddof=1 if unbiased else 0))
        got_mm, got_mv = sess.run(tf.global_variables()[2:4])
    rtol = 1e-5 if dtype == tf.float32 else 1e-12
    np.testing.assert_allclose(got_mm, mm, rtol=rtol, atol=1e-6)
    np.testing.assert_allclose(got_mv, mv, rtol=rtol)


def test_training_false_makes_no_update_ops_and_tensor_false_changes_nothing():
    x = tf.placeholder(tf.float32, [None, 3])
    tf.layers.batch_normalization(x, training=False)
    assert tf.get_collection(tf.GraphKeys.UPDATE_OPS) == []
    flag = tf.placeholder(tf.bool, [])
    y = tf.layers.batch_normalization(x, training=flag, momentum=0.5)
    updates = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
    assert len(updates) == 2
    xv = RNG.normal(3.0, 2.0, (5, 3)).astype(np.float32)
    stats = tf.global_variables()[6:8]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        out_false, _ = sess.run([y, updates], {x: xv, flag: False})
        np.testing.assert_array_equal(np.stack(sess.run(stats)), [np.zeros(3), np.ones(3)])
        np.testing.assert_allclose(out_false, xv / np.sqrt(1 + EPS), rtol=1e-6)
        out_true, _ = sess.run([y, updates], {x: xv, flag: True})
        np.testing.assert_allclose(out_true, np_bn(xv, xv.mean(0), xv.var(0), 0, 1), rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(sess.run(stats[0]), 0.5 * xv.mean(0), rtol=1e-5)


# ---- against real TensorFlow --------------------------------------------------------------------------
def _describe_vars():
    return [{"name": v.name, "shape": v.shape.as_list(), "trainable": v in tf.trainable_variables()}
            for v in tf.global_variables()]


@pytest.mark.parametrize("key", ["rank2", "rank4"])
def test_against_real_tf(key):
    batches = [REF[f"{key}/batch{i}"] for i in range(3)]
    x = tf.placeholder(tf.float32, [None, *batches[0].shape[1:]], name="x")
    training = tf.placeholder(tf.bool, [], name="training")
    out = tf.layers.batch_normalization(
        x, momentum=TABLE["momentum"], epsilon=TABLE["epsilon"], training=training,
        gamma_initializer=tf.constant_initializer(REF[f"{key}/gamma_init"]),
        beta_initializer=tf.constant_initializer(REF[f"{key}/beta_init"]))
    ups = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
    assert _describe_vars() == TABLE["variables"][key]
    assert [u.name for u in ups] == TABLE["update_ops"][key]
    mm, mv = tf.global_variables()[2:4]
    close = dict(rtol=1e-5, atol=1e-5)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        np.testing.assert_allclose(sess.run(out, {x: batches[0], training: False}),
                                   REF[f"{key}/infer_out_initial"], **close)
        sess.run(ups, {x: batches[0], training: False})
        np.testing.assert_array_equal(np.stack(sess.run([mm, mv])), REF[f"{key}/stats_after_false"])
        for i, b in enumerate(batches):
            o, _ = sess.run([out, ups], {x: b, training: True})
            np.testing.assert_allclose(o, REF[f"{key}/train_out{i}"], **close)
        np.testing.assert_allclose(np.stack(sess.run([mm, mv])), REF[f"{key}/moving_after3"], **close)
        np.testing.assert_allclose(sess.run(out, {x: batches[0], training: False}),
                                   REF[f"{key}/infer_out_after3"], **close)


# ---- gradients vs finite differences -----------------------------------------------------------------
@pytest.mark.parametrize("shape", [(4, 3), (2, 2, 2, 3)])
def test_gradients_training_mode_vs_finite_differences(shape):
    xv = RNG.normal(size=shape)
    c = shape[-1]
    w = RNG.normal(size=shape)  # a loss that is not invariant to the normalization
    x = tf.placeholder(tf.float64, shape)
    y = tf.layers.batch_normalization(x, training=True,
                                      gamma_initializer=tf.constant_initializer(RNG.uniform(0.5, 2, c)),
                                      beta_initializer=tf.constant_initializer(RNG.normal(size=c)))
    loss = tf.reduce_sum(tf.square(y) * w) + tf.reduce_sum(y * y * y)
    gamma, beta = tf.trainable_variables()
    grads = tf.gradients(loss, [x, gamma, beta])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        gx, gg, gb = sess.run(grads, {x: xv})

        def at_xv():
            return float(sess.run(loss, {x: xv}))
        np.testing.assert_allclose(gx, numeric_grad(lambda a: float(sess.run(loss, {x: a})), xv), rtol=1e-5,
                                   atol=1e-6)
        np.testing.assert_allclose(gg, numeric_grad_of_variable(sess, gamma, at_xv), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(gb, numeric_grad_of_variable(sess, beta, at_xv), rtol=1e-5, atol=1e-6)


def test_classic_training_loop_with_update_ops_dependency():
    xv = RNG.normal(4.0, 3.0, (16, 5)).astype(np.float32)
    yv = (xv[:, :1] > 4).astype(np.float32)
    x = tf.placeholder(tf.float32, [None, 5])
    y = tf.placeholder(tf.float32, [None, 1])
    is_training = tf.placeholder(tf.bool, [])
    h = tf.nn.relu(tf.layers.batch_normalization(tf.layers.dense(x, 8), training=is_training))
    loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=tf.layers.dense(h, 1)))
    with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):
        train_op = tf.train.AdamOptimizer(1e-2).minimize(loss)
    mm = [v for v in tf.global_variables() if v.name == "batch_normalization/moving_mean:0"][0]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        first = sess.run(loss, {x: xv, y: yv, is_training: True})
        for _ in range(30):
            sess.run(train_op, {x: xv, y: yv, is_training: True})
        assert sess.run(loss, {x: xv, y: yv, is_training: True}) < first
        assert np.abs(sess.run(mm)).max() > 0.1  # only the control dependency ran the updates


# ---- names, reuse --------------------------------------------------------------------------------------
def test_unique_names_explicit_name_and_reuse():
    x = tf.placeholder(tf.float32, [None, 3])
    tf.layers.batch_normalization(x)
    tf.layers.batch_normalization(x)
    tf.layers.batch_normalization(x, name="mine")
    n = len(tf.global_variables())
    tf.layers.batch_normalization(x, name="mine", reuse=True)
    assert len(tf.global_variables()) == n == 12
    names = [v.name for v in tf.global_variables()]
    assert names[0] == "batch_normalization/gamma:0" and names[4] == "batch_normalization_1/gamma:0"
    assert names[8:] == ["mine/gamma:0", "mine/beta:0", "mine/moving_mean:0", "mine/moving_variance:0"]
    assert len(tf.trainable_variables()) == 6
    with pytest.raises(ValueError, match="already exists"):
        tf.layers.batch_normalization(x, name="mine")


def test_center_scale_off_and_trainable_false():
    x = tf.placeholder(tf.float32, [None, 3])
    tf.layers.batch_normalization(x, center=False, scale=False)
    tf.layers.batch_normalization(x, trainable=False)
    assert [v.name for v in tf.global_variables()][:2] == ["batch_normalization/moving_mean:0",
                                                           "batch_normalization/moving_variance:0"]
    assert tf.trainable_variables() == []


@pytest.mark.parametrize("shape,axes", [([None, 4, 4, 3], (0, 1, 2)), ([None, 3], (0,))])
def test_float16_inputs_normalize_in_float32_and_stay_float16(shape, axes):
    """TF1's layer keeps float32 parameters for float16 inputs; truth: numpy's normalization of the same
    values in float32, rounded to float16."""
    x = tf.placeholder(tf.float16, shape)
    training = tf.placeholder(tf.bool, [])
    y = tf.layers.batch_normalization(x, training=training)
    xv = RNG.normal(size=[6, *shape[1:]]).astype(np.float16)
    wide = xv.astype(np.float32)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got_train, got_test = sess.run(y, {x: xv, training: True}), sess.run(y, {x: xv, training: False})
    assert y.dtype == tf.float16 and got_train.dtype == np.float16
    want = (wide - wide.mean(axes)) / np.sqrt(wide.var(axes) + 1e-3)
    np.testing.assert_allclose(got_train, want.astype(np.float16), atol=2e-3, rtol=2e-3)
    np.testing.assert_allclose(got_test, (wide / np.sqrt(1 + 1e-3)).astype(np.float16), atol=2e-3, rtol=2e-3)
