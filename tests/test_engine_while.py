"""TF1 `tf.while_loop` (a functional `While` op) and map_fn / scan / foldl built on it.

Truth: numpy loops written independently of the engine, and central finite differences (float64) for
every gradient; the plan of a graph without a loop must not change at all.
"""
from __future__ import annotations

import numpy as np
import pytest

import summaries as tf
from board_server.graphs import hierarchy
from summaries.engine.graph import simple_op

from gradcheck import check_loss_gradients as check_grads

RNG = np.random.default_rng(7)


pytestmark = pytest.mark.usefixtures("fresh_graph")


# ---- values -----------------------------------------------------------------------------------------------
def test_counter():
    r = tf.while_loop(lambda i: i < 10, lambda i: i + 1, [0])
    assert isinstance(r, tf.Tensor) and r.shape == tf.TensorShape([])
    with tf.Session() as sess:
        assert sess.run(r) == 10
    assert tf.while_loop(lambda i: i < 3, lambda i: [i + 1], [0], return_same_structure=True)[0].dtype == tf.int32


def test_several_vars_and_a_shape_invariant():
    i0, s0, acc0 = tf.constant(0), tf.constant(1.0, tf.float64), tf.zeros([0], tf.float64)

    def body(i, s, acc):
        return i + 1, s * 1.5, tf.concat([acc, tf.expand_dims(s, 0)], 0)
    i, s, acc = tf.while_loop(lambda i, s, acc: i < 5, body, (i0, s0, acc0),
                              shape_invariants=(i0.shape, s0.shape, tf.TensorShape([None])))
    assert acc.shape.as_list() == [None]
    with tf.Session() as sess:
        got = sess.run([i, s, acc])
    want, s_np = [], 1.0
    for _ in range(5):
        want.append(s_np)
        s_np *= 1.5
    assert got[0] == 5 and got[1] == s_np
    np.testing.assert_allclose(got[2], want)


def test_namedtuple_and_nested_structures():
    st = tf.nn.rnn_cell.LSTMStateTuple(tf.constant(1.0), tf.constant(2.0))
    out = tf.while_loop(lambda k, s: k < 3, lambda k, s: (k + 1, tf.nn.rnn_cell.LSTMStateTuple(s.h, s.c + s.h)),
                        (0, st))
    assert isinstance(out, tuple) and type(out[1]) is type(st)
    with tf.Session() as sess:
        k, (c, h) = sess.run(out)
    c_np, h_np = 1.0, 2.0
    for _ in range(3):
        c_np, h_np = h_np, c_np + h_np
    assert (k, c, h) == (3, c_np, h_np)


def test_maximum_iterations():
    n = tf.placeholder(tf.int32, [])
    r = tf.while_loop(lambda i: i < 100, lambda i: i + 2, [0], maximum_iterations=n)
    with tf.Session() as sess:
        assert [sess.run(r, {n: k}) for k in (0, 3, 7, 80)] == [0, 6, 14, 100]


def test_nested_loops():
    def outer(i, total):
        j, t = tf.while_loop(lambda j, t: j < i, lambda j, t: (j + 1, t + j), (0, total))
        return i + 1, t
    i, total = tf.while_loop(lambda i, t: i < 6, outer, (0, 0))
    with tf.Session() as sess:
        assert sess.run([i, total]) == [6, sum(j for i in range(6) for j in range(i))]


def test_cond_inside_body_runs_only_the_taken_branch():
    hits = tf.Variable(0)

    def body(i, x):
        x = tf.cond(tf.equal(i % 3, 0), lambda: x * 2.0, lambda: x + 1.0)
        return i + 1, x
    i, x = tf.while_loop(lambda i, x: i < 7, body, (0, tf.constant(1.0)))
    n = tf.while_loop(lambda k: k < 4, lambda k: tf.cond(k > 1, lambda: tf.assign_add(hits, 1) * 0 + k + 1,
                                                         lambda: k + 1), [0])
    with tf.Session() as sess:
        sess.run(hits.initializer)
        want = 1.0
        for k in range(7):
            want = want * 2 if k % 3 == 0 else want + 1
        assert sess.run(x) == want
        assert sess.run(n) == 4 and sess.run(hits) == 2  # iterations k=2, 3 only


def test_captures_variable_and_placeholder():
    w = tf.Variable(np.array([[0.5, -0.2], [0.1, 0.3]]), name="w")
    x = tf.placeholder(tf.float64, [2])
    k = tf.placeholder(tf.int32, [])
    h = tf.while_loop(lambda i, h: i < k, lambda i, h: (i + 1, tf.tanh(tf.matmul(h[None], w)[0] + x)),
                      (0, tf.zeros([2], tf.float64)))[1]
    xv = np.array([0.3, -0.7])
    with tf.Session() as sess:
        sess.run(w.initializer)
        for steps in (0, 1, 4):
            h_np = np.zeros(2)
            for _ in range(steps):
                h_np = np.tanh(h_np @ sess.run(w) + xv)
            np.testing.assert_allclose(sess.run(h, {x: xv, k: steps}), h_np)
        sess.run(w.assign(np.eye(2)))  # the loop reads the variable when it runs
        np.testing.assert_allclose(sess.run(h, {x: xv, k: 1}), np.tanh(xv))


def test_body_returning_outside_tensor_and_python_number():
    c = tf.constant(5.0)
    a, b = tf.while_loop(lambda a, b: a < 3.0, lambda a, b: (a + 1.0, c), (0.0, 1.0))
    with tf.Session() as sess:
        assert sess.run([a, b]) == [3.0, 5.0]


# ---- gradients -------------------------------------------------------------------------------------------
def test_gradient_of_repeated_squaring():
    x = tf.placeholder(tf.float64, [])
    n = 3
    y = tf.while_loop(lambda i, y: i < n, lambda i, y: (i + 1, y * y), (0, x))[1]
    g = tf.gradients(y, x)[0]
    with tf.Session() as sess:
        for v in (0.9, 1.1, -1.05):
            assert np.isclose(sess.run(y, {x: v}), v ** (2 ** n))
            assert np.isclose(sess.run(g, {x: v}), 2 ** n * v ** (2 ** n - 1))
    check_grads(y, {x: 1.1})


def test_rnn_gradients_wrt_weights_input_and_initial_state():
    w = tf.placeholder(tf.float64, [3, 3])
    x = tf.placeholder(tf.float64, [2, 3])
    h0 = tf.placeholder(tf.float64, [2, 3])
    h = tf.while_loop(lambda i, h: i < 4, lambda i, h: (i + 1, tf.tanh(tf.matmul(h, w) + x)), (0, h0))[1]
    loss = tf.reduce_sum(h * tf.constant(RNG.normal(size=(2, 3))))
    check_grads(loss, {w: RNG.normal(size=(3, 3)) * 0.5, x: RNG.normal(size=(2, 3)), h0: RNG.normal(size=(2, 3))})


def test_gradient_through_variable_capture_and_training_step():
    w = tf.Variable(2.0, dtype=tf.float64)
    x = tf.placeholder(tf.float64, [])
    y = tf.while_loop(lambda i, y: i < 3, lambda i, y: (i + 1, y * w), (0, x))[1]
    loss = tf.square(y - 1.0)
    step = tf.train.GradientDescentOptimizer(1e-3).minimize(loss)
    with tf.Session() as sess:
        sess.run(w.initializer)
        g = sess.run(tf.gradients(loss, w)[0], {x: 0.5})
        # loss = (x w^3 - 1)^2
        assert np.isclose(g, 2 * (0.5 * 8 - 1) * 0.5 * 3 * 4)
        sess.run(step, {x: 0.5})
        assert np.isclose(sess.run(w), 2.0 - 1e-3 * g)


def test_gradient_of_unused_and_passthrough_loop_vars():
    x = tf.placeholder(tf.float64, [2])
    z = tf.placeholder(tf.float64, [2])

    def body(i, a, b, c):  # a is overwritten (no gradient), b is passed through, c mixes a and b
        return i + 1, tf.ones([2], tf.float64), b, c + a * b
    _, a, b, c = tf.while_loop(lambda i, *v: i < 3, body, (0, x, z, x * z))
    check_grads(tf.reduce_sum(c * c) + tf.reduce_sum(b), {x: np.array([0.3, -1.2]), z: np.array([0.7, 0.4])})


def test_gradient_through_cond_in_body_and_nested_loop():
    x = tf.placeholder(tf.float64, [])

    def body(i, y):
        y = tf.cond(i < 2, lambda: y * y, lambda: tf.sin(y))
        y = tf.while_loop(lambda j, v: j < 2, lambda j, v: (j + 1, v * x + 0.1), (0, y))[1]
        return i + 1, y
    y = tf.while_loop(lambda i, y: i < 3, body, (0, x))[1]
    check_grads(y, {x: 0.8})


def test_back_prop_false_stops_gradients():
    x = tf.placeholder(tf.float64, [])
    y = tf.while_loop(lambda i, y: i < 2, lambda i, y: (i + 1, y * 3.0), (0, x), back_prop=False)[1]
    assert tf.gradients(y * x, x)[0] is not None
    with tf.Session() as sess:
        assert sess.run(tf.gradients(y * x, x)[0], {x: 2.0}) == 18.0  # y treated as a constant


# ---- map_fn / scan / foldl ---------------------------------------------------------------------------------
def test_map_fn_values_and_gradients():
    x = tf.placeholder(tf.float64, [4, 3])
    y = tf.map_fn(lambda r: tf.reduce_sum(tf.sin(r) * r), x)
    pair = tf.map_fn(lambda ab: (ab[0] * ab[1], ab[0] - 1), (x, x * 2.0), dtype=(tf.float64, tf.float64))
    v = RNG.normal(size=(4, 3))
    assert y.shape.as_list() == [4]
    with tf.Session() as sess:
        np.testing.assert_allclose(sess.run(y, {x: v}), (np.sin(v) * v).sum(1))
        p0, p1 = sess.run(pair, {x: v})
        np.testing.assert_allclose(p0, 2 * v * v)
        np.testing.assert_allclose(p1, v - 1)
    check_grads(tf.reduce_sum(y * y) + tf.reduce_sum(pair[0] * pair[1]), {x: v})


def test_scan_values_and_gradients():
    x = tf.placeholder(tf.float64, [5, 2])
    s = tf.scan(lambda a, r: a * 0.5 + tf.tanh(r), x)
    s_init = tf.scan(lambda a, r: a * r, x, initializer=tf.ones([2], tf.float64))
    v = RNG.normal(size=(5, 2))
    want, a = [], v[0]
    want.append(a)
    for r in v[1:]:
        a = a * 0.5 + np.tanh(r)
        want.append(a)
    assert s.shape.as_list() == [5, 2]
    with tf.Session() as sess:
        np.testing.assert_allclose(sess.run(s, {x: v}), want)
        np.testing.assert_allclose(sess.run(s_init, {x: v}), np.cumprod(v, 0))
    check_grads(tf.reduce_sum(tf.square(s)) + tf.reduce_sum(s_init), {x: v})


def test_foldl_values_and_gradients():
    x = tf.placeholder(tf.float64, [4, 3])
    f = tf.foldl(lambda a, r: a * r + 1.0, x)
    f0 = tf.foldl(lambda a, r: a + tf.reduce_sum(r * r), x, initializer=tf.constant(2.0, tf.float64))
    v = RNG.normal(size=(4, 3))
    a = v[0]
    for r in v[1:]:
        a = a * r + 1
    with tf.Session() as sess:
        np.testing.assert_allclose(sess.run(f, {x: v}), a)
        assert np.isclose(sess.run(f0, {x: v}), 2.0 + (v * v).sum())
    check_grads(tf.reduce_sum(f * f) + f0, {x: v})


# ---- plans, graph export, errors ---------------------------------------------------------------------------
def test_graph_def_has_the_body_under_the_while_scope():
    x = tf.placeholder(tf.float32, [], name="x")
    tf.while_loop(lambda i, v: i < 3, lambda i, v: (i + 1, v * x), (0, x))
    nodes = {n.name: n for n in tf.get_default_graph().as_graph_def().node}
    assert nodes["while/While"].op == "While"
    assert {"while/Less", "while/mul", "while/add"} <= set(nodes)
    enters = [n for n in nodes.values() if n.op == "Enter"]
    assert len(enters) == 3 and all(n.name.startswith("while/") for n in enters)
    assert "x" in nodes["while/While"].input
    h = hierarchy.Hierarchy(tf.get_default_graph().as_graph_def())
    inside = {n["label"] for n in hierarchy.view(h, {"while"})["nodes"] if n["parent"] == "while"}
    assert not h.warnings and {"While", "Enter", "Less", "mul"} <= inside


def test_kernel_error_inside_the_loop_names_the_inner_op():
    x = tf.placeholder(tf.float32, [None, None])
    y = tf.while_loop(lambda i, m: i < 2, lambda i, m: (i + 1, tf.matmul(m, m, name="square")), (0, x),
                      shape_invariants=(tf.TensorShape([]), tf.TensorShape([None, None])))[1]
    with tf.Session() as sess:
        assert sess.run(y, {x: np.ones((2, 2))}).shape == (2, 2)
        with pytest.raises(tf.errors.InvalidArgumentError) as e:
            sess.run(y, {x: np.ones((2, 3))})
    assert e.value.op.name == "while/square"


def test_shape_invariant_violated_at_build_time():
    acc = tf.zeros([0])
    with pytest.raises(ValueError, match=r"Input tensor 'zeros:0' enters the loop with shape \(0,\), but has shape "
                                         r"\(1,\) after one iteration.*shape_invariants"):
        tf.while_loop(lambda a: tf.size(a) < 3, lambda a: tf.concat([a, [1.0]], 0), [acc])
    with pytest.raises(ValueError, match="not compatible with the initial shape"):
        tf.while_loop(lambda a: tf.size(a) < 3, lambda a: a, [acc], shape_invariants=[tf.TensorShape([2])])


def test_runtime_shape_and_dtype_are_checked():
    """A body output less specific than its invariant is checked when the loop runs (as is every dtype)."""
    x = tf.placeholder(tf.float32, [2])
    idx = tf.placeholder(tf.int32, [None])
    y = tf.while_loop(lambda i, v: i < 2, lambda i, v: (i + 1, tf.gather(v, idx)), (0, x))[1]

    def widen(v):  # a kernel that breaks its declared dtype (float32) returning float64
        return simple_op("Widen", [v], v.dtype, v.shape, lambda a: a.astype(np.float64)).outputs[0]
    z = tf.while_loop(lambda i, v: i < 2, lambda i, v: (i + 1, widen(v)), (0, x))[1]
    with tf.Session() as sess:
        np.testing.assert_allclose(sess.run(y, {x: [1.0, 2.0], idx: [1, 0]}), [1.0, 2.0])
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"Loop variable 1 .* float32 \(3,\)"):
            sess.run(y, {x: [1.0, 2.0], idx: [1, 0, 1]})
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"Loop variable 1 .* float64"):
            sess.run(z, {x: [1.0, 2.0]})


def test_bad_arguments():
    with pytest.raises(TypeError, match="cond must be callable"):
        tf.while_loop(True, lambda i: i, [0])
    with pytest.raises(TypeError, match="body must be callable"):
        tf.while_loop(lambda i: i < 2, None, [0])
    with pytest.raises(ValueError, match="same nested structure"):
        tf.while_loop(lambda i, j: i < 2, lambda i, j: (i + 1,), (0, 1))
    with pytest.raises(ValueError, match="same nested structure"):
        tf.while_loop(lambda i, p: i < 2, lambda i, p: (i + 1, p[0]), (0, (1, 2)))
    with pytest.raises(ValueError, match="dtype"):
        tf.while_loop(lambda i: i < 2, lambda i: tf.cast(i, tf.float32), [0])
