"""map_fn / scan / foldl / dynamic_rnn over long loops: rows accumulated in linear time (op AppendRow, views
of a growing buffer) and the gradients of gathered captures added row by row (not a dense scatter per
iteration). Truth: numpy, closed forms and central finite differences (float64); results must not depend
on which path ran, and the tests check that the fast path did run.
"""
from __future__ import annotations

import numpy as np
import pytest

import summaries as tf
from board_server.graphs import hierarchy

from gradcheck import check_directional_gradient as check_directional_grad
from gradcheck import check_loss_gradients as check_grads, numeric_grad

RNG = np.random.default_rng(7)


pytestmark = pytest.mark.usefixtures("fresh_graph")


# ---- row accumulation (op AppendRow: amortized O(1) per row, views of a growing buffer) ----------------------
@pytest.mark.parametrize("n", [0, 1, 5, 300])
def test_map_fn_scan_foldl_of_any_length(n):
    x = tf.placeholder(tf.float64, [None, 3])
    m = tf.map_fn(lambda r: tf.sin(r) * r, x)
    m_sum = tf.map_fn(lambda r: tf.reduce_sum(r * r), x)
    m_int = tf.map_fn(lambda r: tf.cast(tf.reduce_sum(r), tf.int32) + 1, x, dtype=tf.int32)
    s = tf.scan(lambda a, r: a * 0.5 + tf.tanh(r), x, initializer=tf.ones([3], tf.float64))
    f = tf.foldl(lambda a, r: a * 0.9 + r * r, x, initializer=tf.zeros([3], tf.float64))
    assert m.shape.as_list() == [None, 3] and m_sum.shape.as_list() == [None] and s.shape.as_list() == [None, 3]
    v = RNG.normal(size=(n, 3)) * 3
    states, a = [], np.ones(3)
    for r in v:
        a = a * 0.5 + np.tanh(r)
        states.append(a)
    fold = np.zeros(3)
    for r in v:
        fold = fold * 0.9 + r * r
    with tf.Session() as sess:
        got_m, got_sum, got_int, got_s, got_f = sess.run([m, m_sum, m_int, s, f], {x: v})
    np.testing.assert_allclose(got_m, np.sin(v) * v)
    np.testing.assert_allclose(got_sum, (v * v).sum(1))
    assert got_int.dtype == np.int32 and got_int.shape == (n,)
    np.testing.assert_array_equal(got_int, v.sum(1).astype(np.int32) + 1)
    assert got_s.shape == (n, 3) and got_m.shape == (n, 3) and got_sum.shape == (n,)
    np.testing.assert_allclose(got_s, np.reshape(states, (n, 3)))
    np.testing.assert_allclose(got_f, fold)
    w = RNG.normal(size=(n, 3))
    loss = (tf.reduce_sum(m * w) + tf.reduce_sum(m_sum * m_sum) + tf.reduce_sum(tf.square(s) * w)
            + tf.reduce_sum(f * f))
    got = check_directional_grad(loss, x, v)
    if n <= 5:
        check_grads(loss, {x: v})
    if n == 0:
        assert got.shape == (0, 3)


def test_scan_without_initializer_of_one_and_many_rows():
    x = tf.placeholder(tf.float32, [None, 2])
    s = tf.scan(lambda a, r: a + r, x)
    with tf.Session() as sess:
        for n in (1, 2, 257):
            v = RNG.normal(size=(n, 2)).astype(np.float32)
            got = sess.run(s, {x: v})
            assert got.dtype == np.float32
            np.testing.assert_allclose(got, np.cumsum(v, 0), rtol=1e-5, atol=1e-5)


def test_an_accumulated_value_used_twice_is_not_overwritten():
    """Two rows appended to the same value: the first may extend the shared buffer in place, the second must
    not write over it. The body reads both results, so corruption would show in values and gradients."""
    from summaries.engine.while_loop import append_row
    x = tf.placeholder(tf.float64, [None, 2])
    n = tf.shape(x)[0]

    def body(i, total, acc, other):
        r = tf.gather(x, i)
        longer, alt = append_row(acc, r), append_row(acc, -2.0 * r)
        return i + 1, total + tf.reduce_sum(alt * longer * longer), longer, alt
    inv = tf.TensorShape(None)
    _, total, acc, other = tf.while_loop(lambda i, *a: i < n, body,
                                         (0, tf.constant(0.0, tf.float64), tf.zeros([0], tf.float64),
                                          tf.zeros([0], tf.float64)),
                                         shape_invariants=(tf.TensorShape([]), tf.TensorShape([]), inv, inv))
    loss = total + tf.reduce_sum(other * acc)
    for k in (1, 4, 5, 9, 40):  # across the buffer's growth (capacity 4, then 10, 22, 46)
        v = RNG.normal(size=(k, 2))
        want = 0.0
        for j in range(k):
            alt = np.concatenate([v[:j], -2.0 * v[j:j + 1]])
            want += np.sum(alt * v[:j + 1] ** 2)
        with tf.Session() as sess:
            got_total, got_acc, got_other = sess.run([total, acc, other], {x: v})
        np.testing.assert_allclose(got_acc, v)
        np.testing.assert_allclose(got_other, np.concatenate([v[:-1], -2.0 * v[-1:]]))
        np.testing.assert_allclose(got_total, want)
        if k <= 5:
            check_grads(loss, {x: v})
        else:
            check_directional_grad(loss, x, v)


def test_append_row_kernel_shares_rows_only_when_safe():
    from summaries.engine.while_loop import _append_row_kernel
    a = _append_row_kernel(np.zeros([0]), np.array([1.0, 2.0]))
    b = _append_row_kernel(a, np.array([3.0, 4.0]))
    c = _append_row_kernel(a, np.array([5.0, 6.0]))  # a again: b owns the row past a, so c copies
    d = _append_row_kernel(b, np.array([7.0, 8.0]))
    np.testing.assert_array_equal(a, [[1, 2]])
    np.testing.assert_array_equal(b, [[1, 2], [3, 4]])
    np.testing.assert_array_equal(c, [[1, 2], [5, 6]])
    np.testing.assert_array_equal(d, [[1, 2], [3, 4], [7, 8]])
    assert np.shares_memory(a, b) and np.shares_memory(b, d) and not np.shares_memory(b, c)
    r = _append_row_kernel(d[::-1], np.array([9.0, 9.0]))  # the buffer's filled length, but not its first rows
    np.testing.assert_array_equal(r, [[7, 8], [3, 4], [1, 2], [9, 9]])
    np.testing.assert_array_equal(d, [[1, 2], [3, 4], [7, 8]])
    wide = _append_row_kernel(np.zeros([0], np.float32), np.float64(1.5))  # dtypes promote as concat does
    assert wide.dtype == np.float64
    with pytest.raises(tf.errors.InvalidArgumentError, match="cannot follow"):
        _append_row_kernel(b, np.array([1.0, 2.0, 3.0]))


def test_append_row_second_derivative():
    from summaries.engine.while_loop import append_row
    acc, row = tf.placeholder(tf.float64, [None, 2]), tf.placeholder(tf.float64, [2])
    out = append_row(acc, row)
    ga, gr = tf.gradients(tf.reduce_sum(tf.sin(out)), [acc, row])
    second = tf.reduce_sum(tf.square(ga)) + tf.reduce_sum(tf.exp(gr))
    av, rv = RNG.normal(size=(3, 2)), RNG.normal(size=2)
    check_grads(second, {acc: av, row: rv})


def test_map_fn_graph_def_exports_the_append_op():
    x = tf.placeholder(tf.float32, [None, 4], name="x")
    y = tf.map_fn(lambda r: r * 2.0, x)
    tf.gradients(tf.reduce_sum(y), x)
    g = tf.get_default_graph()
    nodes = {n.name: n for n in g.as_graph_def().node}
    appends = [n for n in nodes.values() if n.op == "AppendRow"]
    assert len(appends) == 1 and appends[0].name.startswith("map/while/")
    assert all(i.split(":")[0] in nodes for i in appends[0].input) and len(appends[0].input) == 2
    assert appends[0].attr["T"].type == tf.float32.as_datatype_enum
    assert any(n.op == "AppendRowGrad" for n in nodes.values())
    h = hierarchy.Hierarchy(g.as_graph_def())
    assert not h.warnings


def test_map_fn_and_scan_over_a_vector_have_gradients():
    """Rows of a 1-D tensor are scalars (gather with a scalar index): the gradient scatters them back."""
    x = tf.placeholder(tf.float64, [None])
    loss = tf.reduce_sum(tf.map_fn(lambda r: tf.sin(r) * r, x) * tf.scan(lambda a, r: a * 0.5 + r * r, x))
    check_grads(loss, {x: RNG.normal(size=6)})


# ---- gradients of gathered captures (rows added into the running sum, not a dense scatter per iteration) ------
def gradient_terms():
    """(captures added row-wise, dense terms) of each loop gradient built so far: shows which path runs."""
    ops = [op for op in tf.get_default_graph()._ops if op.type == "While" and op._while.grad is not None]
    return [(len(op._while.grad.rows_to), len(op._while.grad.dense_to)) for op in ops]


@pytest.mark.parametrize("n", [0, 1, 5, 300])
def test_map_fn_and_scan_gradients_of_the_gathered_rows(n):
    x = tf.placeholder(tf.float64, [None, 3])
    w = tf.placeholder(tf.float64, [None, 3])
    m = tf.map_fn(lambda r: tf.sin(r) * r, x)
    s = tf.scan(lambda a, r: a * 0.5 + tf.tanh(r), x, initializer=tf.ones([3], tf.float64))
    v, wv = RNG.normal(size=(n, 3)), RNG.normal(size=(n, 3))
    g_m, g_s = tf.gradients(tf.reduce_sum(m * w), x)[0], tf.gradients(tf.reduce_sum(s * w), x)[0]
    assert gradient_terms() == [(1, 0), (1, 0)]  # x only through its gathered rows
    with tf.Session() as sess:
        got_m, got_s = sess.run([g_m, g_s], {x: v, w: wv})
    np.testing.assert_allclose(got_m, wv * (np.cos(v) * v + np.sin(v)))
    # d(sum w*s)/dx[k] = (1 - tanh^2 x[k]) * sum_{t>=k} w[t] * 0.5^(t-k)
    back, want_s = np.zeros(3), np.zeros((n, 3))
    for k in reversed(range(n)):
        back = back * 0.5 + wv[k]
        want_s[k] = back * (1 - np.tanh(v[k]) ** 2)
    np.testing.assert_allclose(got_s, want_s)
    assert got_m.shape == got_s.shape == (n, 3)
    if 0 < n <= 5:
        check_grads(tf.reduce_sum(m * w) + tf.reduce_sum(tf.square(s)), {x: v, w: wv})


@pytest.mark.parametrize("n", [0, 1, 4, 200])
def test_capture_used_through_gather_and_densely(n):
    """map_fn's fn reads its row and the whole of x: x's gradient adds a dense term and the row's scatter."""
    x = tf.placeholder(tf.float64, [None, 2])
    w = tf.placeholder(tf.float64, [None, 2])
    y = tf.map_fn(lambda r: r * tf.reduce_sum(x), x)  # y[k] = x[k] * sum(x)
    loss = tf.reduce_sum(y * w)
    g = tf.gradients(loss, x)[0]
    assert gradient_terms() == [(1, 1)]
    v, wv = RNG.normal(size=(n, 2)), RNG.normal(size=(n, 2))
    with tf.Session() as sess:
        got = sess.run(g, {x: v, w: wv})
    np.testing.assert_allclose(got, wv * v.sum() + (wv * v).sum(), atol=1e-12)
    if 0 < n <= 4:
        check_grads(loss, {x: v, w: wv})


@pytest.mark.parametrize("steps", [0, 1, 7])
def test_gathers_with_repeated_indices_on_axis_0_and_1_in_a_while_loop(steps):
    """Indices from a captured tensor (repeated across iterations), repeated within one gather, 2-D indices,
    and gathers of columns (axis 1), all of one captured x; and a second capture used densely."""
    x = tf.placeholder(tf.float64, [None, 4])
    c = tf.placeholder(tf.float64, [4])
    idx = tf.placeholder(tf.int32, [None])

    def body(k, acc):
        j = tf.gather(idx, k)
        rows = tf.gather(x, tf.stack([j, j, 0]))  # [3, 4]
        grid = tf.gather(x, tf.stack([tf.stack([j, 1]), tf.stack([j, j])]))  # [2, 2, 4]
        cols = tf.gather(x, tf.stack([k % 4, 2]), axis=1)  # [n, 2]
        return k + 1, (acc * tf.cos(c) + tf.reduce_sum(tf.sin(rows) * c, 0) + tf.reduce_sum(grid * grid, [0, 1])
                       + tf.reduce_sum(tf.tanh(cols)))
    _, acc = tf.while_loop(lambda k, acc: k < tf.size(idx), body, (0, tf.zeros([4], tf.float64)))
    loss = tf.reduce_sum(acc * acc)
    v, cv = RNG.normal(size=(3, 4)), RNG.normal(size=4)
    iv = np.array([2, 0, 2, 2, 1, 0, 2][:steps], np.int32)
    # numpy truth of the values: the same recurrence
    want = np.zeros(4)
    for k, j in enumerate(iv):
        want = (want * np.cos(cv) + (np.sin(v[[j, j, 0]]) * cv).sum(0) + (v[[[j, 1], [j, j]]] ** 2).sum((0, 1))
                + np.tanh(v[:, [k % 4, 2]]).sum())
    with tf.Session() as sess:
        np.testing.assert_allclose(sess.run(acc, {x: v, c: cv, idx: iv}), want)
    gx, gc = tf.gradients(loss, [x, c])
    assert gradient_terms() == [(3, 1)]  # x: three scatters; c: dense
    grads = {x: v, c: cv}
    with tf.Session() as sess:
        got_x, got_c = sess.run([gx, gc], {**grads, idx: iv})
        for ph, got in ((x, got_x), (c, got_c)):
            def f(val, ph=ph):
                return sess.run(loss, {**grads, idx: iv, ph: val})
            np.testing.assert_allclose(got, numeric_grad(f, grads[ph]), rtol=1e-6, atol=1e-8)
    if steps == 0:
        assert not got_x.any() and not got_c.any()


@pytest.mark.parametrize("steps", [0, 1, 3, 150])
def test_dynamic_rnn_over_an_unknown_time_axis_gradient_of_its_inputs(steps):
    x = tf.placeholder(tf.float64, [2, None, 3])
    out, state = tf.nn.dynamic_rnn(tf.nn.rnn_cell.BasicRNNCell(4), x, dtype=tf.float64)
    wo = tf.constant(RNG.normal(size=(1, 1, 4)))
    loss = tf.reduce_sum(out * wo) + tf.reduce_sum(tf.square(state))
    g = tf.gradients(loss, x)[0]
    assert [r for r, _ in gradient_terms()] == [1]  # the time-major inputs' rows (the weights: dense)
    v = RNG.normal(size=(2, steps, 3))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got = sess.run(g, {x: v})
        assert got.shape == v.shape
        if steps <= 3:
            want = numeric_grad(lambda val: sess.run(loss, {x: val}), v)
        else:  # one random direction: a central difference stays cheap for a long sequence
            d = RNG.normal(size=v.shape)
            want = (sess.run(loss, {x: v + 1e-6 * d}) - sess.run(loss, {x: v - 1e-6 * d})) / 2e-6
            got = np.sum(got * d)
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)


def test_float32_map_fn_gradient_and_graph_def_with_the_row_wise_path():
    """Exact sums in float32 (each row's gradient is added once), and the dense scatter stays exportable."""
    x = tf.placeholder(tf.float32, [None, 5], name="x")
    y = tf.map_fn(lambda r: r * 2.0 + tf.reduce_sum(tf.gather(r, [0, 0])), x)
    g = tf.gradients(tf.reduce_sum(y), x)[0]
    v = RNG.normal(size=(50, 5)).astype(np.float32)
    with tf.Session() as sess:
        got = sess.run(g, {x: v})
    want = np.full((50, 5), 2.0, np.float32)
    want[:, 0] += 10.0  # y[k] = 2 r + 2 r[0] on each of the 5 columns
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, want)
    nodes = tf.get_default_graph().as_graph_def().node
    assert any(n.op == "UnsortedSegmentSum" for n in nodes)
    assert not hierarchy.Hierarchy(tf.get_default_graph().as_graph_def()).warnings


def test_append_row_copies_a_view_with_another_layout_and_takes_zero_width_rows():
    """A transposed or reshaped view of the buffer starts where it does and has its fill length, but not its
    layout: the row must go to a copy (review finding). Rows of zero width still count as rows."""
    from summaries.engine.while_loop import _append_row_kernel
    a = _append_row_kernel(np.zeros([0]), np.arange(4.0).reshape(2, 2))
    t = _append_row_kernel(a.transpose(0, 2, 1), np.array([[4.0, 5.0], [6.0, 7.0]]))
    np.testing.assert_array_equal(t, [[[0, 2], [1, 3]], [[4, 5], [6, 7]]])
    flat = _append_row_kernel(np.zeros([0]), np.arange(4.0))
    square = _append_row_kernel(flat.reshape(1, 2, 2), np.array([[8.0, 9.0], [10.0, 11.0]]))
    np.testing.assert_array_equal(square, [[[0, 1], [2, 3]], [[8, 9], [10, 11]]])
    np.testing.assert_array_equal(flat, [[0, 1, 2, 3]])
    x = tf.placeholder(tf.float64, [None, 0])
    with tf.Session() as sess:
        assert sess.run(tf.map_fn(lambda r: r * 2.0, x), {x: np.zeros((6, 0))}).shape == (6, 0)
