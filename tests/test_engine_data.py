"""`tf.data` for the TF1 engine: datasets, iterators and their per-Session state.

Truth: the same pipeline written directly in numpy / Python (slicing, itertools), and set/ordering
properties that TF's buffered shuffle guarantees whatever its random stream.
"""
from __future__ import annotations

import itertools
import re

import numpy as np
import pytest

import summaries as tf

RNG = np.random.default_rng(11)


pytestmark = pytest.mark.usefixtures("fresh_graph")


def drain(sess, fetches, feed_dict=None, limit=10_000) -> list:
    """Run `fetches` until OutOfRangeError; the list of results."""
    out = []
    for _ in range(limit):
        try:
            out.append(sess.run(fetches, feed_dict))
        except tf.errors.OutOfRangeError:
            return out
    raise AssertionError("the dataset did not end")


def elements(dataset) -> list:
    with tf.Session() as sess:
        return drain(sess, dataset.make_one_shot_iterator().get_next())


# ---- sources and simple transformations ------------------------------------------------------------------
def test_from_tensor_slices_array_list_tuple_dict():
    x = RNG.standard_normal((7, 3)).astype(np.float32)
    y = RNG.integers(0, 5, 7)
    got = elements(tf.data.Dataset.from_tensor_slices(x))
    np.testing.assert_array_equal(np.stack(got), x)
    assert elements(tf.data.Dataset.from_tensor_slices([4, 5, 6])) == [4, 5, 6]
    pairs = elements(tf.data.Dataset.from_tensor_slices((x, y)))
    assert len(pairs) == 7 and all(isinstance(p, tuple) for p in pairs)
    for i, (a, b) in enumerate(pairs):
        np.testing.assert_array_equal(a, x[i])
        assert b == y[i]
    dicts = elements(tf.data.Dataset.from_tensor_slices({"img": x, "label": y}))
    for i, d in enumerate(dicts):
        assert set(d) == {"img", "label"}
        np.testing.assert_array_equal(d["img"], x[i])
        assert d["label"] == y[i]


def test_output_types_and_shapes():
    x = np.zeros((10, 4, 2), np.float32)
    y = np.zeros(10, np.int32)
    ds = tf.data.Dataset.from_tensor_slices((x, {"y": y}))
    assert ds.output_types == (tf.float32, {"y": tf.int32})
    assert ds.output_shapes[0].as_list() == [4, 2] and ds.output_shapes[1]["y"].as_list() == []
    b = ds.batch(3)
    assert b.output_shapes[0].as_list() == [None, 4, 2] and b.output_shapes[1]["y"].as_list() == [None]
    assert ds.batch(3, drop_remainder=True).output_shapes[0].as_list() == [3, 4, 2]
    it = b.make_one_shot_iterator()
    assert it.output_types == b.output_types
    xs, d = it.get_next()
    assert xs.dtype == tf.float32 and xs.shape.as_list() == [None, 4, 2] and d["y"].shape.as_list() == [None]
    m = ds.map(lambda a, d: tf.reduce_sum(a) + tf.cast(d["y"], tf.float32))
    assert m.output_types == tf.float32 and m.output_shapes.as_list() == []


def test_range_take_skip_repeat_prefetch_against_python():
    assert elements(tf.data.Dataset.range(5)) == list(range(5))
    assert elements(tf.data.Dataset.range(2, 11, 3)) == list(range(2, 11, 3))
    assert tf.data.Dataset.range(3).output_types == tf.int64
    ds = tf.data.Dataset.range(10).skip(2).take(5).repeat(3).prefetch(tf.data.experimental.AUTOTUNE)
    assert elements(ds) == list(range(2, 7)) * 3
    assert elements(tf.data.Dataset.range(4).take(-1)) == [0, 1, 2, 3]
    assert elements(tf.data.Dataset.range(4).skip(-1)) == []
    assert elements(tf.data.Dataset.range(0).repeat()) == []
    forever = tf.data.Dataset.range(3).repeat().take(10)
    assert elements(forever) == list(itertools.islice(itertools.cycle(range(3)), 10))


def test_batch_partial_and_drop_remainder():
    x = RNG.standard_normal((10, 2))
    got = elements(tf.data.Dataset.from_tensor_slices(x).batch(4))
    assert [g.shape for g in got] == [(4, 2), (4, 2), (2, 2)]
    np.testing.assert_array_equal(np.concatenate(got), x)
    got = elements(tf.data.Dataset.from_tensor_slices(x).batch(4, drop_remainder=True))
    assert [g.shape for g in got] == [(4, 2), (4, 2)]
    np.testing.assert_array_equal(np.concatenate(got), x[:8])
    # batch then repeat keeps the partial batch of each epoch; repeat then batch crosses epochs
    assert [len(b) for b in elements(tf.data.Dataset.range(5).batch(2).repeat(2))] == [2, 2, 1, 2, 2, 1]
    flat = elements(tf.data.Dataset.range(5).repeat(2).batch(4))
    assert [list(b) for b in flat] == [[0, 1, 2, 3], [4, 0, 1, 2], [3, 4]]


# ---- shuffle ---------------------------------------------------------------------------------------------
def test_shuffle_batch_repeat_every_element_twice():
    x = RNG.standard_normal((100, 3)).astype(np.float32)
    y = np.arange(100)
    ds = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(100, seed=1).batch(32).repeat(2)
    batches = elements(ds)
    assert [len(b[1]) for b in batches] == [32, 32, 32, 4] * 2
    ys = np.concatenate([b[1] for b in batches])
    np.testing.assert_array_equal(np.bincount(ys, minlength=100), np.full(100, 2))
    np.testing.assert_array_equal(np.concatenate([b[0] for b in batches]), x[ys])  # pairs stay together
    first, second = ys[:100], ys[100:]
    assert sorted(first) == list(range(100)) and not np.array_equal(first, y)
    assert not np.array_equal(first, second)  # reshuffled each epoch
    assert np.array_equal(ys, np.concatenate([b[1] for b in elements(ds)]))  # a seed repeats the order


def test_shuffle_buffer_semantics_and_seeds():
    n, buf = 200, 10
    out = elements(tf.data.Dataset.range(n).shuffle(buf, seed=3))
    assert sorted(out) == list(range(n)) and out != list(range(n))
    # with a buffer of `buf`, position k can only hold one of the first k + buf inputs
    assert all(v < k + buf for k, v in enumerate(out))
    assert elements(tf.data.Dataset.range(n).shuffle(1)) == list(range(n))
    same = elements(tf.data.Dataset.range(20).shuffle(20, reshuffle_each_iteration=False).repeat(3))
    assert same[:20] == same[20:40] == same[40:]
    runs = []
    for _ in range(2):  # a graph-level seed alone repeats too (op seeds follow the graph's op count, as TF1)
        tf.reset_default_graph()
        tf.set_random_seed(5)
        runs.append(elements(tf.data.Dataset.range(50).shuffle(50)))
    assert runs[0] == runs[1] and sorted(runs[0]) == list(range(50))


# ---- iterators -------------------------------------------------------------------------------------------
def test_out_of_range_at_end_and_after():
    nxt = tf.data.Dataset.range(3).make_one_shot_iterator().get_next()
    with tf.Session() as sess:
        assert [sess.run(nxt) for _ in range(3)] == [0, 1, 2]
        for _ in range(2):
            with pytest.raises(tf.errors.OutOfRangeError, match="End of sequence"):
                sess.run(nxt)


def test_two_outputs_in_one_run_come_from_one_element():
    x = np.arange(12).reshape(6, 2)
    a, b = tf.data.Dataset.from_tensor_slices((x, x * 10)).make_one_shot_iterator().get_next()
    doubled = a * 2
    with tf.Session() as sess:
        for i in range(3):
            va, vb, vd = sess.run([a, b, doubled])
            np.testing.assert_array_equal(va, x[i])
            np.testing.assert_array_equal(vb, x[i] * 10)
            np.testing.assert_array_equal(vd, x[i] * 2)


def test_two_get_next_ops_both_advance_and_state_is_per_session():
    it = tf.data.Dataset.range(10).make_one_shot_iterator()
    n1, n2 = it.get_next(), it.get_next()
    with tf.Session() as s1, tf.Session() as s2:
        assert s1.run([n1, n2]) in ([0, 1], [1, 0])
        assert s2.run(n1) == 0  # a new session starts from the beginning
        assert sorted(s1.run([n1, n2])) == [2, 3]
        assert s2.run(n2) == 1


def test_initializable_iterator_with_feeds_and_reinit():
    xp = tf.placeholder(tf.float32, [None, 2])
    bs = tf.placeholder(tf.int64, [])
    it = tf.data.Dataset.from_tensor_slices(xp).batch(bs).make_initializable_iterator()
    nxt = it.get_next()
    a, b = RNG.standard_normal((5, 2)), RNG.standard_normal((7, 2))
    with tf.Session() as sess:
        with pytest.raises(tf.errors.FailedPreconditionError, match="not been initialized"):
            sess.run(nxt)
        sess.run(it.initializer, {xp: a, bs: 2})
        got = drain(sess, nxt)
        assert [g.shape[0] for g in got] == [2, 2, 1]
        np.testing.assert_allclose(np.concatenate(got), a.astype(np.float32))
        sess.run(it.initializer, {xp: b, bs: 3})
        first = sess.run(nxt)
        sess.run(it.initializer, {xp: b, bs: 3})  # re-initializing restarts mid-epoch
        got = drain(sess, nxt)
        np.testing.assert_allclose(got[0], first)
        assert [g.shape[0] for g in got] == [3, 3, 1]
        np.testing.assert_allclose(np.concatenate(got), b.astype(np.float32))


def test_one_shot_iterator_rejects_placeholders():
    xp = tf.placeholder(tf.float32, [None])
    with pytest.raises(ValueError, match="Cannot capture a placeholder"):
        tf.data.make_one_shot_iterator(tf.data.Dataset.from_tensor_slices(xp))


def test_reinitializable_iterator_from_structure():
    train = tf.data.Dataset.range(0, 6).batch(2)
    val = tf.data.Dataset.range(100, 103).batch(2)
    it = tf.data.Iterator.from_structure(train.output_types, train.output_shapes)
    nxt = it.get_next()
    train_init, val_init = it.make_initializer(train), it.make_initializer(val)
    with tf.Session() as sess:
        sess.run(train_init)
        assert [list(b) for b in drain(sess, nxt)] == [[0, 1], [2, 3], [4, 5]]
        sess.run(val_init)
        assert [list(b) for b in drain(sess, nxt)] == [[100, 101], [102]]
    with pytest.raises(TypeError):
        it.make_initializer(tf.data.Dataset.from_tensor_slices(np.zeros(3, np.float32)))


# ---- functions -------------------------------------------------------------------------------------------
def test_map_per_element_tuple_dict_and_after_batch():
    x = RNG.standard_normal((9, 3)).astype(np.float32)
    y = RNG.integers(0, 4, 9).astype(np.int32)
    ds = tf.data.Dataset.from_tensor_slices((x, y)).map(
        lambda a, b: (tf.reduce_sum(tf.square(a)), tf.one_hot(b, 4)))
    got = elements(ds)
    np.testing.assert_allclose([g[0] for g in got], (x ** 2).sum(1), rtol=1e-6)
    np.testing.assert_array_equal(np.stack([g[1] for g in got]), np.eye(4)[y])
    d = tf.data.Dataset.from_tensor_slices({"x": x, "y": y}).map(lambda e: {"s": e["x"] * 2.0, "y": e["y"] + 1})
    got = elements(d)
    np.testing.assert_allclose(np.stack([g["s"] for g in got]), x * 2)
    np.testing.assert_array_equal([g["y"] for g in got], y + 1)
    batched = elements(tf.data.Dataset.from_tensor_slices(x).batch(4).map(lambda a: tf.reduce_mean(a, 0)))
    np.testing.assert_allclose(np.stack(batched), [x[i:i + 4].mean(0) for i in range(0, 9, 4)], rtol=1e-6)


def test_map_captures_placeholder_and_variable():
    scale = tf.placeholder(tf.float32, [])
    v = tf.Variable(3.0)
    it = tf.data.Dataset.range(4).map(lambda i: tf.cast(i, tf.float32) * scale + v).make_initializable_iterator()
    nxt = it.get_next()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(it.initializer, {scale: 2.0})
        np.testing.assert_allclose(drain(sess, nxt), np.arange(4) * 2.0 + 3.0)


def test_filter_and_zip():
    evens = elements(tf.data.Dataset.range(10).filter(lambda i: tf.equal(i % 2, 0)))
    assert evens == [i for i in range(10) if i % 2 == 0]
    z = tf.data.Dataset.zip((tf.data.Dataset.range(5), tf.data.Dataset.range(10, 13)))
    assert [tuple(e) for e in elements(z)] == list(zip(range(5), range(10, 13)))
    with pytest.raises(ValueError):
        tf.data.Dataset.range(3).filter(lambda i: i)


def test_training_loop_over_dataset_lowers_loss():
    x = RNG.standard_normal((64, 3)).astype(np.float32)
    w_true = np.array([[1.5], [-2.0], [0.5]], np.float32)
    y = x @ w_true + 0.3
    xb, yb = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(64, seed=0).batch(16).repeat(20) \
        .make_one_shot_iterator().get_next()
    w = tf.Variable(tf.zeros([3, 1]))
    b = tf.Variable(0.0)
    loss = tf.reduce_mean(tf.square(tf.matmul(xb, w) + b - yb))
    step = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        losses = [l for l, _ in drain(sess, [loss, step])]
        assert len(losses) == 4 * 20
        final_w = sess.run(w)
    full = lambda w_, b_: float(np.mean((x @ w_ + b_ - y) ** 2))  # noqa: E731
    assert full(final_w, 0.3) < 1e-3 * full(np.zeros((3, 1)), 0.0)
    assert np.mean(losses[-4:]) < 1e-3 * np.mean(losses[:4])


# ---- from_generator and padded_batch ---------------------------------------------------------------------
def _padded(parts, shape, fill):
    """numpy's own padding of each part to `shape`, stacked: the truth for padded_batch."""
    return np.stack([np.pad(p, [(0, want - have) for have, want in zip(p.shape, shape)], constant_values=fill)
                     for p in parts])


def test_from_generator_calls_afresh_per_epoch_and_checks_elements():
    calls = []

    def sentences(count):
        calls.append(int(count))
        for i in range(int(count)):
            yield {"ids": RNG.integers(0, 9, size=i + 1), "label": i % 2}
    count = tf.placeholder(tf.int64, [])
    ds = tf.data.Dataset.from_generator(sentences, {"ids": tf.int32, "label": tf.int64},
                                        {"ids": [None], "label": []}, args=[count])
    assert ds.output_shapes["ids"].as_list() == [None] and ds.output_shapes["label"].as_list() == []
    it = ds.repeat(2).make_initializable_iterator()
    nxt = it.get_next()
    with tf.Session() as sess:
        sess.run(it.initializer, {count: 3})
        got = drain(sess, nxt)
    assert calls == [3, 3]
    assert [g["ids"].shape for g in got] == [(1,), (2,), (3,)] * 2
    assert [int(g["label"]) for g in got] == [0, 1, 0] * 2
    assert all(g["ids"].dtype == np.int32 for g in got)

    def wrong_shape():
        yield np.zeros(2, np.float32)
        yield np.zeros((2, 2), np.float32)

    def wrong_type():
        yield "not a number"
    for gen, message in ((wrong_shape, "yielded an element of shape (2, 2) where an element of shape (?,) was"),
                         (wrong_type, "could not be converted to the expected type")):
        nxt = tf.data.Dataset.from_generator(gen, tf.float32, [None]).make_one_shot_iterator().get_next()
        with tf.Session() as sess:
            if gen is wrong_shape:
                sess.run(nxt)
            with pytest.raises(tf.errors.InvalidArgumentError, match=re.escape(message)):
                sess.run(nxt)


def test_padded_batch_equals_numpy_padding():
    lengths = [3, 1, 4, 1, 5, 9, 2]
    rows = [RNG.normal(size=(n, 2)).astype(np.float32) for n in lengths]
    words = [np.array([b"w%d" % k for k in range(n)], object) for n in lengths]
    ds = tf.data.Dataset.from_generator(lambda: zip(rows, words, lengths), (tf.float32, tf.string, tf.int32),
                                        ([None, 2], [None], []))
    batched = ds.padded_batch(3, padded_shapes=([None, 2], [10], []), padding_values=(-1.0, b"<pad>", 0))
    assert [s.as_list() for s in batched.output_shapes] == [[None, None, 2], [None, 10], [None]]
    got = elements(batched)
    assert len(got) == 3
    for k, (x, w, n) in enumerate(got):
        part = slice(3 * k, 3 * k + 3)
        longest = max(lengths[part])
        np.testing.assert_array_equal(x, _padded(rows[part], (longest, 2), -1.0))
        np.testing.assert_array_equal(w, _padded(words[part], (10,), b"<pad>"))
        np.testing.assert_array_equal(n, lengths[part])
    default = elements(ds.map(lambda x, w, n: x).padded_batch(4, padded_shapes=[None, None], drop_remainder=True))
    assert len(default) == 1 and default[0].dtype == np.float32
    np.testing.assert_array_equal(default[0], _padded(rows[:4], (4, 2), 0.0))


def test_padded_batch_rejects_a_padded_shape_smaller_than_an_element():
    ds = tf.data.Dataset.from_generator(lambda: iter([[1, 2], [1, 2, 3]]), tf.int32, [None])
    with pytest.raises(ValueError, match="not compatible"):
        ds.padded_batch(2, padded_shapes=[None, None])
    nxt = ds.padded_batch(2, padded_shapes=[2]).make_one_shot_iterator().get_next()
    with tf.Session() as sess, pytest.raises(tf.errors.InvalidArgumentError, match="smaller size than the input"):
        sess.run(nxt)
