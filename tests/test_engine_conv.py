"""tf.nn.conv2d / max_pool / avg_pool: against plain-loop references, against real TensorFlow's outputs
and gradients (tests/data/engine_conv/tf_cases.npz, made by make_tf_cases.py there), and gradients
against central finite differences in float64."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import summaries as tf

from convref import ref_conv2d, ref_pool, run
from gradcheck import check_gradients

RNG = np.random.default_rng(4321)
TF_CASES = Path(__file__).parent / "data" / "engine_conv" / "tf_cases.npz"


# ---- against the plain-loop references of convref.py -----------------------------------------------
# (input NHWC, kernel (kh, kw), strides (sh, sw), padding): odd and even sizes, strides 1 to 3
GEOMETRIES = [((2, 5, 5, 3), (3, 3), (1, 1), "SAME"), ((1, 6, 6, 2), (3, 3), (2, 2), "SAME"),
              ((1, 7, 6, 2), (2, 3), (2, 1), "SAME"), ((2, 4, 7, 1), (2, 2), (1, 1), "SAME"),
              ((1, 5, 5, 2), (3, 3), (2, 2), "VALID"), ((2, 6, 7, 3), (2, 3), (1, 2), "VALID"),
              ((1, 8, 8, 2), (4, 4), (3, 3), "SAME"), ((1, 5, 4, 2), (1, 1), (2, 2), "SAME")]


@pytest.mark.parametrize("xs,k,s,padding", GEOMETRIES)
def test_conv2d_matches_loop_reference(xs, k, s, padding):
    x = RNG.standard_normal(xs)
    w = RNG.standard_normal(k + (xs[3], 4))
    y, got = run(lambda a, b: tf.nn.conv2d(a, b, [1, s[0], s[1], 1], padding), x, w)
    want = ref_conv2d(x, w, s[0], s[1], padding)
    assert y.shape.as_list() == [None] + list(want.shape[1:])
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("xs,k,s,padding", GEOMETRIES)
@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pools_match_loop_reference(kind, xs, k, s, padding):
    x = RNG.standard_normal(xs)
    fn, reduce = (tf.nn.max_pool, max) if kind == "max" else (tf.nn.avg_pool, lambda c: sum(c) / len(c))
    y, got = run(lambda a: fn(a, [1, k[0], k[1], 1], [1, s[0], s[1], 1], padding), x)
    want = ref_pool(x, k[0], k[1], s[0], s[1], padding, reduce)
    assert y.shape.as_list() == [None] + list(want.shape[1:])
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_float32_stays_float32_and_max_pool2d_alias():
    x = RNG.standard_normal((2, 6, 6, 3)).astype(np.float32)
    w = RNG.standard_normal((3, 3, 3, 2)).astype(np.float32)
    _, (c, m, m2, a) = run(lambda v: [tf.nn.conv2d(v, w, [1, 1, 1, 1], "SAME"),
                                      tf.nn.max_pool(v, [1, 2, 2, 1], [1, 2, 2, 1], "VALID"),
                                      tf.nn.max_pool2d(v, [1, 2, 2, 1], [1, 2, 2, 1], "VALID"),
                                      tf.nn.avg_pool(v, [1, 3, 3, 1], [1, 2, 2, 1], "SAME")], x)
    assert {c.dtype, m.dtype, a.dtype} == {np.dtype(np.float32)}
    np.testing.assert_array_equal(m, m2)


# ---- real TensorFlow -------------------------------------------------------------------------------
def tf_cases():
    data = np.load(TF_CASES)
    return [pytest.param(c, {k[len(c["key"]) + 1:]: data[k] for k in data.files if k.startswith(c["key"] + "_")},
                         id=f'{c["key"]}-{c["op"]}-{c["padding"]}') for c in json.loads(str(data["cases"]))]


@pytest.mark.parametrize("case,arrays", tf_cases())
def test_matches_real_tensorflow_outputs_and_gradients(case, arrays):
    """Forward and d sum(y * r) / d inputs as TF 2.21's tf.compat.v1 computed them (float32)."""
    tf.reset_default_graph()
    x = tf.placeholder(tf.float32, arrays["x"].shape)
    r = tf.constant(arrays["r"])
    if case["op"] == "conv2d":
        w = tf.placeholder(tf.float32, arrays["w"].shape)
        y = tf.nn.conv2d(x, w, case["strides"], case["padding"])
        wrt, feed, names = [x, w], {x: arrays["x"], w: arrays["w"]}, ["dx", "dw"]
    else:
        fn = tf.nn.max_pool if case["op"] == "max_pool" else tf.nn.avg_pool
        y = fn(x, case["ksize"], case["strides"], case["padding"])
        wrt, feed, names = [x], {x: arrays["x"]}, ["dx"]
    assert y.shape.as_list() == list(arrays["y"].shape)
    grads = tf.gradients(tf.reduce_sum(y * r), wrt)
    with tf.Session() as sess:
        got = sess.run([y] + grads, feed)
    for name, value in zip(["y"] + names, got):
        np.testing.assert_allclose(value, arrays[name], rtol=1e-5, atol=1e-5, err_msg=name)


def test_graphdef_attrs_match_tensorflow():
    """The last case of each op type in the fixture, rebuilt here: same attrs, same values, in the GraphDef."""
    data = np.load(TF_CASES)
    want = json.loads(str(data["attrs"]))
    last = {p.values[0]["op"]: p.values[0] for p in tf_cases()}
    tf.reset_default_graph()
    x = tf.placeholder(tf.float32, [None, 8, 8, 2])
    tf.nn.conv2d(x, tf.zeros([2, 2, 2, 3]), last["conv2d"]["strides"], last["conv2d"]["padding"])
    for op in ("max_pool", "avg_pool"):
        getattr(tf.nn, op)(x, last[op]["ksize"], last[op]["strides"], last[op]["padding"])
    nodes = {n.op: n for n in tf.get_default_graph().as_graph_def().node}
    for op_type in ("Conv2D", "MaxPool", "AvgPool"):
        got = {k: str(v) for k, v in nodes[op_type].attr.items() if k != "_output_shapes"}
        assert got == want[op_type], op_type


# ---- finite differences ----------------------------------------------------------------------------
def distinct(shape):
    """Values at least 0.05 apart, shuffled: no ties, so max pooling is differentiable everywhere."""
    return RNG.permutation(int(np.prod(shape))).reshape(shape) * 0.05 - 1.0


@pytest.mark.parametrize("xs,k,s,padding", [GEOMETRIES[i] for i in (0, 1, 2, 4, 6)])
def test_conv2d_gradients_finite_differences(xs, k, s, padding):
    xs = (1,) + xs[1:]
    check_gradients(lambda a, b: tf.nn.conv2d(a, b, [1, s[0], s[1], 1], padding),
                    [RNG.standard_normal(xs), RNG.standard_normal(k + (xs[3], 2))])


@pytest.mark.parametrize("xs,k,s,padding", [GEOMETRIES[i] for i in (0, 1, 2, 4, 5)])
@pytest.mark.parametrize("fn", [tf.nn.max_pool, tf.nn.avg_pool], ids=["max", "avg"])
def test_pool_gradients_finite_differences(fn, xs, k, s, padding):
    check_gradients(lambda a: fn(a, [1, k[0], k[1], 1], [1, s[0], s[1], 1], padding), [distinct(xs)])


def test_max_pool_gradient_goes_to_the_first_maximum():
    x = np.array([[1., 3.], [3., 2.]]).reshape(1, 2, 2, 1)
    tf.reset_default_graph()
    ph = tf.placeholder(tf.float64, x.shape)
    (g,) = tf.gradients(tf.nn.max_pool(ph, [1, 2, 2, 1], [1, 2, 2, 1], "VALID"), [ph])
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(g, {ph: x}).ravel(), [0, 1, 0, 0])


# ---- errors ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("op_type,call", [
    ("Conv2D", lambda x, df, p: tf.nn.conv2d(x, tf.zeros([3, 3, 2, 4]), [1, 1, 1, 1], p, data_format=df)),
    ("MaxPool", lambda x, df, p: tf.nn.max_pool(x, [1, 2, 2, 1], [1, 2, 2, 1], p, data_format=df)),
    ("AvgPool", lambda x, df, p: tf.nn.avg_pool(x, [1, 2, 2, 1], [1, 2, 2, 1], p, data_format=df)),
])
def test_bad_data_format_or_padding_names_the_op(op_type, call):
    tf.reset_default_graph()
    x = tf.placeholder(tf.float32, [None, 8, 8, 2])
    with pytest.raises(ValueError, match=rf"^{op_type}: only data_format='NHWC'.*'NCHW'"):
        call(x, "NCHW", "SAME")
    with pytest.raises(ValueError, match=rf"^{op_type}: padding must be 'SAME' or 'VALID', got 'same'"):
        call(x, "NHWC", "same")


def test_unknown_filter_shape_still_runs():
    x, w = RNG.standard_normal((1, 5, 5, 2)), RNG.standard_normal((3, 3, 2, 2))
    tf.reset_default_graph()
    xp, wp = tf.placeholder(tf.float64, [None, 5, 5, 2]), tf.placeholder(tf.float64)
    y = tf.nn.conv2d(xp, wp, [1, 2, 2, 1], "SAME")
    assert y.shape.as_list() == [None, 3, 3, None]
    with tf.Session() as sess:
        np.testing.assert_allclose(sess.run(y, {xp: x, wp: w}), ref_conv2d(x, w, 2, 2, "SAME"), rtol=1e-12)


def test_bad_arguments_fail_clearly():
    tf.reset_default_graph()
    x = tf.placeholder(tf.float32, [None, 8, 8, 2])
    with pytest.raises(ValueError, match="^Conv2D: input has 2 channels but the filter expects 3"):
        tf.nn.conv2d(x, tf.zeros([3, 3, 3, 4]), [1, 1, 1, 1], "SAME")
    with pytest.raises(ValueError, match="^MaxPool: strides must be"):
        tf.nn.max_pool(x, [1, 2, 2, 1], [2, 2, 2, 1], "SAME")
    with pytest.raises(ValueError, match="^AvgPool: a 9x9 window does not fit"):
        tf.nn.avg_pool(x, [1, 9, 9, 1], [1, 1, 1, 1], "VALID")
