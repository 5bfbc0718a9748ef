"""Dilated/atrous conv2d, conv2d_transpose, conv1d, depthwise_conv2d and the 1-D / transposed tf.layers:
values against plain-loop references written from TF's documented geometry, gradients against central
finite differences, static shapes, TF1's op types and variable names, and TF1-like errors."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import summaries as tf

from convref import ref_conv2d, ref_geometry, run, taps
from gradcheck import check_gradients, numeric_grad

RNG = np.random.default_rng(2024)
TF_CASES = Path(__file__).parent / "data" / "engine_conv_more" / "tf_cases.npz"


# ---- plain-loop references -------------------------------------------------------------------------
def ref_conv2d_transpose(v, w, out_shape, sh, sw, padding):
    """Each value cell pushed back through the filter onto the input cells conv2d read it from."""
    kh, kw, _, _ = w.shape
    y = np.zeros(out_shape)
    for oy, ox, i, j, iy, ix in taps(out_shape[1], out_shape[2], kh, kw, sh, sw, 1, 1, padding):
        y[:, iy, ix] += v[:, oy, ox] @ w[i, j].T
    return y


def ref_depthwise(x, w, sh=1, sw=1, padding="SAME", dh=1, dw=1):
    n, h, wd, c = x.shape
    kh, kw, _, m = w.shape
    y = np.zeros((n, ref_geometry(h, kh, sh, padding, dh)[0], ref_geometry(wd, kw, sw, padding, dw)[0], c * m))
    for oy, ox, i, j, iy, ix in taps(h, wd, kh, kw, sh, sw, dh, dw, padding):
        for ch in range(c):
            for mm in range(m):
                y[:, oy, ox, ch * m + mm] += x[:, iy, ix, ch] * w[i, j, ch, mm]
    return y


def ref_conv1d(x, w, s, padding, d=1):
    return ref_conv2d(x[:, None], w[None], 1, s, padding, 1, d)[:, 0]


# ---- dilated conv2d and atrous_conv2d ---------------------------------------------------------------
DILATED = [((2, 7, 7, 3), (3, 3), (1, 1), (2, 2), "SAME"), ((1, 9, 8, 2), (3, 2), (1, 1), (3, 2), "VALID"),
           ((1, 8, 8, 2), (2, 2), (1, 1), (3, 3), "SAME"), ((1, 9, 9, 2), (3, 3), (2, 2), (2, 2), "VALID"),
           ((1, 6, 7, 1), (2, 3), (2, 1), (2, 2), "SAME")]


@pytest.mark.parametrize("xs,k,s,d,padding", DILATED)
def test_dilated_conv2d_matches_loop_reference(xs, k, s, d, padding):
    x, w = RNG.standard_normal(xs), RNG.standard_normal(k + (xs[3], 4))
    y, got = run(lambda a, b: tf.nn.conv2d(a, b, [1, s[0], s[1], 1], padding, dilations=[1, d[0], d[1], 1]), x, w)
    want = ref_conv2d(x, w, s[0], s[1], padding, d[0], d[1])
    assert y.op.type == "Conv2D" and y.op.attrs["dilations"] == [1, d[0], d[1], 1]
    assert y.shape.as_list() == [None] + list(want.shape[1:])
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("padding", ["SAME", "VALID"])
def test_atrous_conv2d_is_conv2d_with_rate_spaced_taps(padding):
    x, w = RNG.standard_normal((2, 9, 8, 2)), RNG.standard_normal((3, 3, 2, 3))
    y, got = run(lambda a, b: tf.nn.atrous_conv2d(a, b, 2, padding), x, w)
    assert y.shape.as_list() == [None] + list(ref_conv2d(x, w, padding=padding, dh=2, dw=2).shape[1:])
    np.testing.assert_allclose(got, ref_conv2d(x, w, padding=padding, dh=2, dw=2), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("xs,k,s,d,padding", DILATED[:4])
def test_dilated_conv2d_gradients(xs, k, s, d, padding):
    x, w = RNG.standard_normal((1,) + xs[1:]), RNG.standard_normal(k + (xs[3], 2))
    check_gradients(lambda a, b: tf.nn.conv2d(a, b, [1, s[0], s[1], 1], padding, dilations=[1, d[0], d[1], 1]),
                    [x, w])


def test_dilated_conv2d_second_order_gradient():
    """Gradients of (d loss / dx) and (d loss / dw): the backprop ops' own gradients, against differences."""
    x, w = RNG.standard_normal((1, 6, 6, 2)), RNG.standard_normal((2, 2, 2, 2))
    for wrt in (0, 1):
        def build(a, b):
            y = tf.nn.conv2d(a, b, [1, 1, 1, 1], "SAME", dilations=[1, 2, 2, 1])
            return tf.gradients(tf.reduce_sum(y * y), [a, b][wrt])[0]
        check_gradients(build, [x, w], atol=1e-5)


def test_dilation_errors():
    tf.reset_default_graph()
    x = tf.placeholder(tf.float32, [None, 7, 7, 2])
    with pytest.raises(ValueError, match=r"^rate 0 cannot be less than one"):
        tf.nn.atrous_conv2d(x, tf.zeros([3, 3, 2, 2]), 0, "SAME")
    with pytest.raises(ValueError, match=r"^Conv2D: dilations must be \[1, h, w, 1\]"):
        tf.nn.conv2d(x, tf.zeros([3, 3, 2, 2]), [1, 1, 1, 1], "SAME", dilations=[2, 1, 1, 1])
    assert tf.nn.conv2d(x, tf.zeros([4, 4, 2, 2]), [1, 1, 1, 1], "VALID", dilations=[1, 2, 2, 1]).shape[1] == 1
    with pytest.raises(ValueError, match="^Conv2D: a 9x9 window does not fit the 7x7 input"):  # 5 taps, 2 apart
        tf.nn.conv2d(x, tf.zeros([5, 5, 2, 2]), [1, 1, 1, 1], "VALID", dilations=[1, 2, 2, 1])


# ---- conv2d_transpose -------------------------------------------------------------------------------
TRANSPOSED = [((2, 4, 4, 2), (3, 3), (2, 2), (2, 8, 8, 3), "SAME"),
              ((1, 3, 4, 2), (3, 2), (2, 3), (1, 7, 11, 1), "VALID"),
              ((1, 4, 4, 3), (2, 2), (2, 2), (1, 7, 8, 2), "SAME"),
              ((2, 5, 5, 1), (3, 3), (1, 1), (2, 5, 5, 2), "SAME"),
              ((1, 3, 3, 2), (4, 4), (3, 3), (1, 10, 10, 2), "VALID")]


@pytest.mark.parametrize("vs,k,s,out,padding", TRANSPOSED)
def test_conv2d_transpose_matches_loop_reference(vs, k, s, out, padding):
    v, w = RNG.standard_normal(vs), RNG.standard_normal(k + (out[3], vs[3]))
    y, got = run(lambda a, b: tf.nn.conv2d_transpose(a, b, list(out), [1, s[0], s[1], 1], padding), v, w,
                 unknown_batch=False)
    assert y.op.type == "Conv2DBackpropInput" and y.op.name == "conv2d_transpose"
    assert y.shape.as_list() == list(out)
    np.testing.assert_allclose(got, ref_conv2d_transpose(v, w, out, s[0], s[1], padding), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("vs,k,s,out,padding", TRANSPOSED)
def test_conv2d_transpose_is_the_adjoint_of_conv2d(vs, k, s, out, padding):
    """<conv2d(x, w), v> == <x, conv2d_transpose(v, w)>: the defining identity of the transpose."""
    v, w, x = RNG.standard_normal(vs), RNG.standard_normal(k + (out[3], vs[3])), RNG.standard_normal(out)
    _, (c, t) = run(lambda a, b, z: [tf.nn.conv2d(z, b, [1, s[0], s[1], 1], padding),
                                     tf.nn.conv2d_transpose(a, b, list(out), [1, s[0], s[1], 1], padding)],
                    v, w, x, unknown_batch=False)
    assert c.shape == v.shape
    np.testing.assert_allclose(np.sum(c * v), np.sum(x * t), rtol=1e-10)


@pytest.mark.parametrize("vs,k,s,out,padding", TRANSPOSED[:3])
def test_conv2d_transpose_gradients(vs, k, s, out, padding):
    v, w = RNG.standard_normal((1,) + vs[1:]), RNG.standard_normal(k + (out[3], vs[3]))
    check_gradients(lambda a, b: tf.nn.conv2d_transpose(a, b, [1] + list(out[1:]), [1, s[0], s[1], 1], padding),
                    [v, w])


def test_conv2d_transpose_dynamic_output_shape():
    """An output_shape built from the value's run-time batch size: static shape keeps what is known."""
    v, w = RNG.standard_normal((3, 4, 4, 2)), RNG.standard_normal((3, 3, 5, 2))
    y, got = run(lambda a: tf.nn.conv2d_transpose(a, w, tf.stack([tf.shape(a)[0], 8, 8, 5]), [1, 2, 2, 1]), v)
    assert y.shape.as_list() == [None, None, None, 5]
    np.testing.assert_allclose(got, ref_conv2d_transpose(v, w, (3, 8, 8, 5), 2, 2, "SAME"), rtol=1e-12, atol=1e-12)


def test_conv2d_transpose_errors():
    tf.reset_default_graph()
    v = tf.placeholder(tf.float32, [2, 4, 4, 2])
    with pytest.raises(ValueError, match=r"^input channels does not match filter's input channels, 2 != 3"):
        tf.nn.conv2d_transpose(v, tf.zeros([3, 3, 5, 3]), [2, 8, 8, 5], [1, 2, 2, 1])
    with pytest.raises(ValueError, match=r"^output_shape does not match filter's output channels, 4 != 5"):
        tf.nn.conv2d_transpose(v, tf.zeros([3, 3, 5, 2]), [2, 8, 8, 4], [1, 2, 2, 1])
    with pytest.raises(ValueError, match=r"^output_shape must have shape \(4,\)"):
        tf.nn.conv2d_transpose(v, tf.zeros([3, 3, 5, 2]), [8, 8, 5], [1, 2, 2, 1])
    y = tf.nn.conv2d_transpose(v, tf.zeros([3, 3, 5, 2]), [2, 9, 9, 5], [1, 1, 1, 1], "SAME")
    with tf.Session() as sess, pytest.raises(tf.errors.InvalidArgumentError, match="Size of out_backprop"):
        sess.run(y, {v: np.zeros((2, 4, 4, 2), np.float32)})


# ---- conv1d -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("width,k,s,d,padding", [(9, 3, 1, 1, "SAME"), (9, 2, 2, 1, "SAME"), (10, 3, 3, 1, "VALID"),
                                                 (11, 3, 1, 2, "SAME"), (11, 2, 1, 3, "VALID")])
def test_conv1d_matches_loop_reference_and_tf1_graph(width, k, s, d, padding):
    x, w = RNG.standard_normal((2, width, 3)), RNG.standard_normal((k, 3, 4))
    y, got = run(lambda a, b: tf.nn.conv1d(a, b, s, padding, dilations=d), x, w)
    want = ref_conv1d(x, w, s, padding, d)
    assert y.shape.as_list() == [None] + list(want.shape[1:])
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    ops = {o.name: o.type for o in tf.get_default_graph().get_operations() if o.name.startswith("conv1d")}
    assert ops == {"conv1d/ExpandDims": "ExpandDims", "conv1d/ExpandDims_1": "ExpandDims", "conv1d": "Conv2D",
                   "conv1d/Squeeze": "Squeeze"}


def test_conv1d_gradients_and_errors():
    check_gradients(lambda a, b: tf.nn.conv1d(a, b, 2, "SAME"), [RNG.standard_normal((1, 7, 2)),
                                                                 RNG.standard_normal((3, 2, 2))])
    tf.reset_default_graph()
    x = tf.placeholder(tf.float32, [None, 9, 3])
    with pytest.raises(ValueError, match="^Conv2D: input has 3 channels but the filter expects 4"):
        tf.nn.conv1d(x, tf.zeros([2, 4, 4]), 1, "SAME")
    with pytest.raises(ValueError, match="^conv1d: value must be 3-D"):
        tf.nn.conv1d(tf.zeros([2, 9, 9, 3]), tf.zeros([2, 3, 4]), 1, "SAME")
    with pytest.raises(ValueError, match="^conv1d: stride must be"):
        tf.nn.conv1d(x, tf.zeros([2, 3, 4]), [2, 2], "SAME")


# ---- depthwise_conv2d -------------------------------------------------------------------------------
@pytest.mark.parametrize("xs,k,m,s,rate,padding", [((2, 6, 6, 3), (3, 3), 2, (1, 1), 1, "SAME"),
                                                   ((1, 7, 6, 2), (2, 3), 1, (2, 2), 1, "VALID"),
                                                   ((1, 8, 8, 2), (3, 3), 3, (1, 1), 2, "SAME"),
                                                   ((1, 9, 9, 1), (2, 2), 2, (1, 1), 3, "VALID")])
def test_depthwise_conv2d_matches_loop_reference(xs, k, m, s, rate, padding):
    x, w = RNG.standard_normal(xs), RNG.standard_normal(k + (xs[3], m))
    y, got = run(lambda a, b: tf.nn.depthwise_conv2d(a, b, [1, s[0], s[1], 1], padding, rate=[rate, rate]), x, w)
    want = ref_depthwise(x, w, s[0], s[1], padding, rate, rate)
    assert y.op.type == "DepthwiseConv2dNative" and y.shape.as_list() == [None] + list(want.shape[1:])
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("s,rate,padding", [((1, 1), 1, "SAME"), ((2, 2), 1, "VALID"), ((1, 1), 2, "SAME")])
def test_depthwise_conv2d_gradients(s, rate, padding):
    x, w = RNG.standard_normal((1, 6, 5, 2)), RNG.standard_normal((3, 2, 2, 2))
    check_gradients(lambda a, b: tf.nn.depthwise_conv2d(a, b, [1, s[0], s[1], 1], padding, rate=[rate, rate]),
                    [x, w])


def test_depthwise_conv2d_errors():
    tf.reset_default_graph()
    x = tf.placeholder(tf.float32, [None, 7, 7, 3])
    with pytest.raises(ValueError, match="^DepthwiseConv2dNative: input has 3 channels but the filter expects 4"):
        tf.nn.depthwise_conv2d(x, tf.zeros([3, 3, 4, 2]), [1, 1, 1, 1], "SAME")
    with pytest.raises(ValueError, match="strides > 1 not supported in conjunction with dilation_rate > 1"):
        tf.nn.depthwise_conv2d(x, tf.zeros([3, 3, 3, 2]), [1, 2, 2, 1], "SAME", rate=[2, 2])


# ---- real TensorFlow -------------------------------------------------------------------------------
def tf_cases():
    data = np.load(TF_CASES)
    return [pytest.param(c, {k[len(c["key"]) + 1:]: data[k] for k in data.files if k.startswith(c["key"] + "_")},
                         id=f'{c["key"]}-{c["op"]}') for c in json.loads(str(data["cases"]))]


@pytest.mark.parametrize("case,arrays", tf_cases())
def test_matches_real_tensorflow_outputs_and_gradients(case, arrays):
    """Forward and d sum(y * r) / d inputs as TF 2.21's tf.compat.v1.nn computed them (float32);
    the fixture is made by tests/data/engine_conv_more/make_tf_cases.py."""
    tf.reset_default_graph()
    phs = [tf.placeholder(tf.float32, arrays[k].shape) for k in ("in0", "in1")]
    y = getattr(tf.nn, case["op"])(*phs, **case["kwargs"])
    assert y.shape.as_list() == list(arrays["y"].shape)
    grads = tf.gradients(tf.reduce_sum(y * tf.constant(arrays["r"])), phs)
    with tf.Session() as sess:
        got = sess.run([y] + grads, {phs[0]: arrays["in0"], phs[1]: arrays["in1"]})
    for name, value in zip(["y", "d0", "d1"], got):
        np.testing.assert_allclose(value, arrays[name], rtol=1e-5, atol=1e-5, err_msg=name)


# ---- layers -----------------------------------------------------------------------------------------
def layer_values(build, x):
    """Build a layer on a float64 placeholder; return (output tensor, output value, {var name: value})."""
    tf.reset_default_graph()
    ph = tf.placeholder(tf.float64, [None] + list(x.shape[1:]))
    y = build(ph)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got, var_values = sess.run([y, {v.name: v for v in tf.global_variables()}], {ph: x})
    return y, got, var_values


@pytest.mark.parametrize("hw,k,s,padding,want_hw", [((4, 5), (3, 3), (2, 2), "valid", (9, 11)),
                                                    ((4, 5), (3, 2), (2, 3), "same", (8, 15)),
                                                    ((3, 3), (1, 1), (3, 3), "valid", (9, 9)),
                                                    ((4, 4), (2, 2), (1, 1), "valid", (5, 5))])
def test_layers_conv2d_transpose(hw, k, s, padding, want_hw):
    x = RNG.standard_normal((2,) + hw + (3,))
    y, got, var = layer_values(lambda a: tf.layers.conv2d_transpose(
        a, 4, k, strides=s, padding=padding, bias_initializer=tf.random_normal_initializer(seed=1)), x)
    kernel, bias = var["conv2d_transpose/kernel:0"], var["conv2d_transpose/bias:0"]
    assert kernel.shape == k + (4, 3) and bias.shape == (4,)
    assert y.shape.as_list() == [None, *want_hw, 4] and got.shape == (2, *want_hw, 4)
    want = ref_conv2d_transpose(x, kernel, (2, *want_hw, 4), s[0], s[1], padding.upper()) + bias
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    assert y.op.name == "conv2d_transpose/BiasAdd"
    assert tf.get_default_graph().get_operation_by_name("conv2d_transpose/conv2d_transpose").type == \
        "Conv2DBackpropInput"


def test_layers_conv2d_transpose_trains_and_names():
    tf.reset_default_graph()
    x = tf.placeholder(tf.float32, [None, 4, 4, 2])
    y = tf.layers.conv2d_transpose(x, 3, 3, strides=2, padding="same", activation=tf.nn.relu)
    tf.layers.conv2d_transpose(y, 1, 2, use_bias=False)
    assert [(v.name, v.shape.as_list()) for v in tf.trainable_variables()] == [
        ("conv2d_transpose/kernel:0", [3, 3, 3, 2]), ("conv2d_transpose/bias:0", [3]),
        ("conv2d_transpose_1/kernel:0", [2, 2, 1, 3])]
    grads = tf.gradients(tf.reduce_sum(y), tf.trainable_variables()[:2])
    assert all(g is not None for g in grads)
    with pytest.raises(ValueError, match="expected ndim=4"):
        tf.layers.conv2d_transpose(tf.zeros([2, 4, 3]), 2, 3)


def test_layers_conv2d_transpose_with_unknown_spatial_size():
    """Height/width unknown until run time: the output shape is computed from the input's shape tensor."""
    x = RNG.standard_normal((2, 3, 4, 2))
    tf.reset_default_graph()
    ph = tf.placeholder(tf.float64, [None, None, None, 2])
    y = tf.layers.conv2d_transpose(ph, 3, (3, 2), strides=(2, 3), use_bias=False)
    assert y.shape.as_list() == [None, None, None, 3]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got, kernel = sess.run([y, tf.trainable_variables()[0]], {ph: x})
    np.testing.assert_allclose(got, ref_conv2d_transpose(x, kernel, (2, 7, 12, 3), 2, 3, "VALID"), rtol=1e-12,
                               atol=1e-12)


@pytest.mark.parametrize("width,k,s,d,padding", [(9, 3, 1, 1, "same"), (9, 3, 2, 1, "valid"), (8, 2, 1, 2, "causal"),
                                                 (7, 3, 1, 1, "causal")])
def test_layers_conv1d(width, k, s, d, padding):
    x = RNG.standard_normal((2, width, 3))
    y, got, var = layer_values(lambda a: tf.layers.conv1d(
        a, 4, k, strides=s, padding=padding, dilation_rate=d,
        bias_initializer=tf.random_normal_initializer(seed=2)), x)
    kernel, bias = var["conv1d/kernel:0"], var["conv1d/bias:0"]
    assert kernel.shape == (k, 3, 4) and bias.shape == (4,)
    if padding == "causal":  # left zero padding, then VALID: output t sees inputs up to t only
        want = ref_conv1d(np.pad(x, ((0, 0), ((k - 1) * d, 0), (0, 0))), kernel, s, "VALID", d) + bias
        assert want.shape[1] == width
    else:
        want = ref_conv1d(x, kernel, s, padding.upper(), d) + bias
    assert y.shape.as_list() == [None] + list(want.shape[1:])
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_layers_conv1d_and_conv2d_transpose_input_gradients():
    """d loss / d inputs through each layer (variables initialized), against central differences."""
    for build, shape in [(lambda a: tf.layers.conv1d(a, 2, 3, padding="same", activation=tf.tanh), (1, 5, 2)),
                         (lambda a: tf.layers.conv2d_transpose(a, 2, 3, strides=2, activation=tf.tanh),
                          (1, 3, 3, 2))]:
        tf.reset_default_graph()
        x = RNG.standard_normal(shape)
        ph = tf.placeholder(tf.float64, shape)
        y = build(ph)
        r = tf.constant(RNG.standard_normal(y.shape.as_list()))
        loss = tf.reduce_sum(y * r)
        grad = tf.gradients(loss, ph)[0]
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            got = sess.run(grad, {ph: x})
            want = numeric_grad(lambda v: sess.run(loss, {ph: v}), x)
        np.testing.assert_allclose(got, want, atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("width,k,s,padding", [(9, 2, 2, "valid"), (9, 3, 2, "same"), (8, 3, 1, "same")])
def test_layers_pooling1d(kind, width, k, s, padding):
    x = RNG.standard_normal((2, width, 3))
    fn = tf.layers.max_pooling1d if kind == "max" else tf.layers.average_pooling1d
    y, got, _ = layer_values(lambda a: fn(a, k, s, padding=padding), x)
    out, before = ref_geometry(width, k, s, padding.upper())
    want = np.zeros((2, out, 3))
    for o in range(out):
        cells = x[:, max(o * s - before, 0):min(o * s - before + k, width)]
        want[:, o] = cells.max(axis=1) if kind == "max" else cells.mean(axis=1)
    assert y.shape.as_list() == [None, out, 3]
    assert y.name.startswith(f"{'max' if kind == 'max' else 'average'}_pooling1d/")
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    check_gradients(lambda a: fn(a, k, s, padding=padding), [x[:1]])
