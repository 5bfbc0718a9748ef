"""RNN cells, dynamic_rnn/static_rnn, fully_connected and sequence_loss against independent truth: plain numpy
cells with the same weights, central finite differences, and real TF1 cells run once by real TensorFlow
(tests/data/engine_rnn/make_tf_reference.py -> tf_reference.npz/.json)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import summaries as tf

from conftest import load_script
from gradcheck import numeric_grad, numeric_grad_of_variable
from rnnref import flat_state, load_random, np_gru, np_lstm

DATA = Path(__file__).parent / "data" / "engine_rnn"
RNG = np.random.default_rng(7)
B, T, D, H = 2, 3, 4, 3


# ---- plain numpy cells (TF1's documented gate math) ----------------------------------------------------
def np_basic_rnn(w, x, h):
    k, b = w["basic_rnn_cell/kernel"], w["basic_rnn_cell/bias"]
    h = np.tanh(np.concatenate([x, h], 1) @ k + b)
    return h, h


def np_run(step, xs, state, seq_len=None):
    """Step a numpy cell over [batch, time, depth]; past an example's length output 0 and keep its state."""
    outs = []
    flat = lambda s: list(s) if isinstance(s, tuple) else [s]  # noqa: E731
    for t in range(xs.shape[1]):
        out, new = step(xs[:, t], state)
        if seq_len is not None:
            keep = (t < np.asarray(seq_len))[:, None]
            out = np.where(keep, out, 0.0)
            merged = [np.where(keep, n, o) for n, o in zip(flat(new), flat(state))]
            new = tuple(merged) if isinstance(new, tuple) else merged[0]
        outs.append(out)
        state = new
    return np.stack(outs, 1), state


CELLS = {
    "basic_rnn": (lambda: tf.nn.rnn_cell.BasicRNNCell(H), np_basic_rnn),
    "basic_lstm": (lambda: tf.contrib.rnn.BasicLSTMCell(H, forget_bias=0.3),
                   lambda w, x, s: np_lstm(w, "basic_lstm_cell/", x, s, forget_bias=0.3)),
    "lstm": (lambda: tf.nn.rnn_cell.LSTMCell(H, cell_clip=0.4),
             lambda w, x, s: np_lstm(w, "lstm_cell/", x, s, clip=0.4)),
    "gru": (lambda: tf.contrib.rnn.GRUCell(H), lambda w, x, h: np_gru(w, "gru_cell/", x, h)),
}


def _feed_state(cell, dtype=tf.float64):
    """Placeholders shaped like the cell's state (tuples kept), with random values to feed them."""
    if isinstance(cell.state_size, tuple):
        phs = tuple(tf.placeholder(dtype, [B, n]) for n in cell.state_size)
        return tf.contrib.rnn.LSTMStateTuple(*phs), {p: RNG.normal(size=(B, H)) for p in phs}
    p = tf.placeholder(dtype, [B, cell.state_size])
    return p, {p: RNG.normal(size=(B, cell.state_size))}


@pytest.mark.parametrize("kind", sorted(CELLS))
def test_one_step_matches_numpy(kind):
    tf.reset_default_graph()
    make, ref = CELLS[kind]
    cell = make()
    x = tf.placeholder(tf.float64, [B, D])
    state, feed = _feed_state(cell)
    out, new_state = cell(x, state)
    assert cell.output_size == H and out.shape.as_list() == [B, H]
    feed[x] = RNG.normal(size=(B, D))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        w = load_random(sess, RNG)
        got_out, got_state = sess.run([out, new_state], feed)
    want_out, want_state = ref(w, feed[x], tuple(feed[p] for p in state) if isinstance(state, tuple)
                               else feed[state])
    np.testing.assert_allclose(got_out, want_out, rtol=1e-12)
    np.testing.assert_allclose(np.asarray(got_state), np.asarray(want_state), rtol=1e-12)


def test_lstm_concat_state_and_multi_cell_step():
    tf.reset_default_graph()
    flat = tf.nn.rnn_cell.BasicLSTMCell(H, state_is_tuple=False)
    assert flat.state_size == 2 * H
    multi = tf.nn.rnn_cell.MultiRNNCell([tf.nn.rnn_cell.BasicLSTMCell(H), tf.nn.rnn_cell.GRUCell(H)])
    assert multi.state_size == ((H, H), H) and multi.output_size == H
    x = tf.placeholder(tf.float64, [B, D])
    s0 = tf.placeholder(tf.float64, [B, 2 * H])
    out_flat, st_flat = flat(x, s0)
    out_multi, st_multi = multi(x, multi.zero_state(B, tf.float64))
    assert [v.op.name for v in tf.global_variables()][2:] == [
        "multi_rnn_cell/cell_0/basic_lstm_cell/kernel", "multi_rnn_cell/cell_0/basic_lstm_cell/bias",
        "multi_rnn_cell/cell_1/gru_cell/gates/kernel", "multi_rnn_cell/cell_1/gru_cell/gates/bias",
        "multi_rnn_cell/cell_1/gru_cell/candidate/kernel", "multi_rnn_cell/cell_1/gru_cell/candidate/bias"]
    xv, sv = RNG.normal(size=(B, D)), RNG.normal(size=(B, 2 * H))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        w = load_random(sess, RNG)
        got = sess.run([out_flat, st_flat, out_multi, st_multi], {x: xv, s0: sv})
    h, (c, h2) = np_lstm(w, "basic_lstm_cell/", xv, (sv[:, :H], sv[:, H:]))
    np.testing.assert_allclose(got[0], h, rtol=1e-12)
    np.testing.assert_allclose(got[1], np.concatenate([c, h2], 1), rtol=1e-12)
    m = {k.split("/", 2)[2]: v for k, v in w.items() if k.startswith("multi")}
    h0, s0_ = np_lstm(m, "basic_lstm_cell/", xv, (np.zeros((B, H)), np.zeros((B, H))))
    h1, s1_ = np_gru(m, "gru_cell/", h0, np.zeros((B, H)))
    np.testing.assert_allclose(got[2], h1, rtol=1e-12)
    np.testing.assert_allclose(got[3][0], s0_, rtol=1e-12)
    np.testing.assert_allclose(got[3][1], s1_, rtol=1e-12)


@pytest.mark.parametrize("time_major", [False, True])
@pytest.mark.parametrize("kind", ["basic_lstm", "gru"])
def test_dynamic_rnn_equals_stepping_the_cell_by_hand(kind, time_major):
    tf.reset_default_graph()
    make, ref = CELLS[kind]
    cell = make()
    shape = [T, B, D] if time_major else [B, T, D]
    x = tf.placeholder(tf.float64, shape)
    outputs, state = tf.nn.dynamic_rnn(cell, x, dtype=tf.float64, time_major=time_major)
    assert outputs.shape.as_list() == ([T, B, H] if time_major else [B, T, H])
    # the same cell object stepped by hand shares dynamic_rnn's variables
    s = cell.zero_state(B, tf.float64)
    by_hand = []
    for xt in tf.unstack(x, axis=0 if time_major else 1):
        o, s = cell(xt, s)
        by_hand.append(o)
    assert len(tf.global_variables()) == (4 if kind == "gru" else 2)
    xv = RNG.normal(size=shape)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        w = load_random(sess, RNG, prefix="rnn/")
        got, got_state, hand, hand_state = sess.run([outputs, state, tf.stack(by_hand, 1), s], {x: xv})
    bt = np.swapaxes(xv, 0, 1) if time_major else xv
    zero = (np.zeros((B, H)),) * 2 if kind == "basic_lstm" else np.zeros((B, H))
    want, want_state = np_run(lambda a, b: ref(w, a, b), bt, zero)
    np.testing.assert_allclose(np.swapaxes(got, 0, 1) if time_major else got, want, rtol=1e-12)
    np.testing.assert_allclose(np.asarray(got_state), np.asarray(want_state), rtol=1e-12)
    np.testing.assert_allclose(hand, want, rtol=1e-12)
    np.testing.assert_allclose(np.asarray(hand_state), np.asarray(want_state), rtol=1e-12)


@pytest.mark.parametrize("api", ["dynamic", "static"])
def test_sequence_length_zeroes_outputs_and_freezes_state(api):
    tf.reset_default_graph()
    cell = tf.nn.rnn_cell.BasicLSTMCell(H)
    x = tf.placeholder(tf.float64, [B, T, D])
    lengths = tf.placeholder(tf.int32, [B])
    if api == "dynamic":
        outputs, state = tf.nn.dynamic_rnn(cell, x, sequence_length=lengths, dtype=tf.float64)
    else:
        outs, state = tf.contrib.rnn.static_rnn(cell, tf.unstack(x, axis=1), sequence_length=lengths,
                                                dtype=tf.float64)
        outputs = tf.stack(outs, 1)
    xv = RNG.normal(size=(B, T, D))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        w = load_random(sess, RNG, prefix="rnn/")
        got, (c, h) = sess.run([outputs, state], {x: xv, lengths: [1, 3]})
        full, full_state = sess.run([outputs, state], {x: xv, lengths: [3, 3]})
    assert np.all(got[0, 1:] == 0) and np.all(got[0, 0] != 0)
    np.testing.assert_allclose(h[0], got[0, 0], rtol=1e-12)   # state frozen after step 1
    np.testing.assert_allclose(got[1], full[1], rtol=1e-12)   # a full-length example is untouched
    np.testing.assert_allclose(h[1], full_state.h[1], rtol=1e-12)
    zero = (np.zeros((B, H)),) * 2
    want, (wc, wh) = np_run(lambda a, s: np_lstm(w, "basic_lstm_cell/", a, s), xv, zero, [1, 3])
    np.testing.assert_allclose(got, want, rtol=1e-12)
    np.testing.assert_allclose(c, wc, rtol=1e-12)


@pytest.mark.parametrize("make", [lambda: tf.nn.rnn_cell.BasicLSTMCell(2), lambda: tf.nn.rnn_cell.GRUCell(2),
                                  lambda: tf.nn.rnn_cell.MultiRNNCell([tf.nn.rnn_cell.BasicRNNCell(2),
                                                                       tf.nn.rnn_cell.BasicLSTMCell(2)])],
                         ids=["lstm", "gru", "multi"])
def test_gradients_match_finite_differences(make):
    tf.reset_default_graph()
    x = tf.placeholder(tf.float64, [2, 3, 2])
    outputs, state = tf.nn.dynamic_rnn(make(), x, sequence_length=[3, 2], dtype=tf.float64)
    r = tf.constant(RNG.normal(size=(2, 3, 2)))
    loss = tf.reduce_sum(outputs * r) + tf.add_n([tf.reduce_sum(tf.square(s)) for s in flat_state(state)])
    kernels = [v for v in tf.trainable_variables() if v.op.name.endswith("kernel")]
    grads = tf.gradients(loss, [x] + kernels)
    xv, eps = RNG.normal(size=(2, 3, 2)), 1e-6
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        load_random(sess, RNG, scale=0.8, prefix="rnn/")
        analytic = sess.run(grads, {x: xv})
        nums = [numeric_grad(lambda v: sess.run(loss, {x: v}), xv, eps)] + [
            numeric_grad_of_variable(sess, k, lambda: sess.run(loss, {x: xv}), eps) for k in kernels]
        for g, num in zip(analytic, nums):
            np.testing.assert_allclose(g, num, rtol=1e-5, atol=1e-7)
    assert np.all(analytic[0][1, 2] == 0)   # past the second example's length nothing flows back


# ---- real TensorFlow reference ----------------------------------------------------------------------
REF_META = json.loads((DATA / "tf_reference.json").read_text())
REF = np.load(DATA / "tf_reference.npz")
SCRIPT = load_script(DATA / "make_tf_reference.py")  # its CASES and build(tf, ...), run here with `summaries`
@pytest.mark.parametrize("case", sorted(REF_META["cases"]))
def test_names_shapes_and_values_match_real_tf(case):
    meta = REF_META["cases"][case]
    assert sorted(SCRIPT.CASES) == sorted(REF_META["cases"])
    assert REF_META["sizes"] == [B, T, D, H] == [SCRIPT.BATCH, SCRIPT.TIME, SCRIPT.DEPTH, SCRIPT.UNITS]
    tf.reset_default_graph()
    x = tf.placeholder(tf.float32, [B, T, D])
    make_cell = SCRIPT.CASES[case][0]
    outputs, state = SCRIPT.build(tf, make_cell(tf.nn.rnn_cell), x, meta["sequence_length"], meta["kind"])
    assert [[v.op.name, v.shape.as_list()] for v in tf.global_variables()] == meta["variables"]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for v in tf.global_variables():
            v.load(REF[f"{case}/var/{v.op.name}"], sess)
        got, got_state = sess.run([outputs, flat_state(state)], {x: REF[f"{case}/x"]})
    np.testing.assert_allclose(got, REF[f"{case}/outputs"], rtol=1e-5, atol=1e-6)
    assert len(got_state) == meta["state_tensors"]
    for i, s in enumerate(got_state):
        np.testing.assert_allclose(s, REF[f"{case}/state/{i}"], rtol=1e-5, atol=1e-6)


def test_second_new_cell_in_the_default_scope_fails_like_tf():
    tf.reset_default_graph()
    x = tf.placeholder(tf.float32, [B, T, D])
    tf.nn.dynamic_rnn(tf.contrib.rnn.BasicLSTMCell(H), x, dtype=tf.float32)
    want = REF_META["second_cell_in_rnn_scope"]
    assert want["raises"] == "ValueError"
    with pytest.raises(ValueError) as err:
        tf.nn.dynamic_rnn(tf.contrib.rnn.BasicLSTMCell(H), x, dtype=tf.float32)
    assert str(err.value).splitlines()[0] == want["message"]


# ---- errors ------------------------------------------------------------------------------------------
def test_clear_errors():
    tf.reset_default_graph()
    x = tf.placeholder(tf.float32, [None, None, D], name="chars")
    out, _ = tf.nn.dynamic_rnn(tf.contrib.rnn.BasicLSTMCell(H), x, dtype=tf.float32)  # a while_loop over time
    assert out.shape.as_list() == [None, None, H]
    with pytest.raises(ValueError, match="must give a dtype"):
        tf.nn.dynamic_rnn(tf.contrib.rnn.BasicLSTMCell(H), tf.placeholder(tf.float32, [B, T, D]))
    with pytest.raises(NotImplementedError, match="num_unit_shards"):
        tf.nn.rnn_cell.LSTMCell(H, num_unit_shards=2)


def test_dynamic_batch_size_with_zero_state_from_tensor():
    tf.reset_default_graph()
    x = tf.placeholder(tf.float32, [None, T, D])
    outputs, state = tf.nn.dynamic_rnn(tf.nn.rnn_cell.GRUCell(H), x, dtype=tf.float32)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got, s = sess.run([outputs, state], {x: RNG.normal(size=(5, T, D))})
    assert got.shape == (5, T, H) and s.shape == (5, H)
    np.testing.assert_array_equal(got[:, -1], s)


def test_dropout_wrapper_keeps_names_and_drops_outputs():
    """keep_prob 1 (fed) is the plain cell with the same variable names; 0.5 zeroes about half the outputs
    and doubles the rest."""
    tf.reset_default_graph()
    x = tf.placeholder(tf.float64, [None, T, D])
    keep = tf.placeholder(tf.float64, [])
    cells = [tf.contrib.rnn.DropoutWrapper(tf.contrib.rnn.BasicLSTMCell(H), output_keep_prob=keep) for _ in range(2)]
    outputs, _ = tf.nn.dynamic_rnn(tf.contrib.rnn.MultiRNNCell(cells), x, dtype=tf.float64)
    names = sorted(v.op.name for v in tf.trainable_variables())
    assert names == [f"rnn/multi_rnn_cell/cell_{i}/basic_lstm_cell/{k}" for i in (0, 1) for k in ("bias", "kernel")]
    xv = RNG.normal(size=(400, T, D))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        w = {v.op.name.split("/", 3)[-1].replace("basic_lstm_cell/", f"c{v.op.name.split('/')[2][-1]}/"):
             sess.run(v) for v in tf.trainable_variables()}
        full = sess.run(outputs, {x: xv, keep: 1.0})
        dropped = sess.run(outputs, {x: xv, keep: 0.5})
    # keep 1: the two stacked cells by hand
    state = [(np.zeros((400, H)), np.zeros((400, H))) for _ in range(2)]
    want = []
    for t in range(T):
        h = xv[:, t]
        for i in range(2):
            h, state[i] = np_lstm({"c/kernel": w[f"c{i}/kernel"], "c/bias": w[f"c{i}/bias"]}, "c/", h, state[i])
        want.append(h)
    np.testing.assert_allclose(full, np.stack(want, 1), rtol=1e-10)
    zero = dropped[:, :, :] == 0
    assert 0.35 < zero.mean() < 0.65  # the last cell's outputs: about half dropped
    assert np.all(np.isfinite(dropped))


# ---- contrib helpers ---------------------------------------------------------------------------------
def np_sequence_loss(logits, targets, weights, across_t, across_b):
    z = logits - logits.max(-1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(-1, keepdims=True))
    ce = -np.take_along_axis(logp, targets[..., None], -1)[..., 0] * weights
    if across_t and across_b:
        return ce.sum() / (weights.sum() + 1e-12)
    if across_t:
        return ce.sum(1) / (weights.sum(1) + 1e-12)
    if across_b:
        return ce.sum(0) / (weights.sum(0) + 1e-12)
    return ce


@pytest.mark.parametrize("across_t", [True, False])
@pytest.mark.parametrize("across_b", [True, False])
def test_sequence_loss_matches_numpy(across_t, across_b):
    tf.reset_default_graph()
    logits, targets = RNG.normal(size=(B, T, 5)), RNG.integers(0, 5, size=(B, T))
    weights = RNG.uniform(0, 1, size=(B, T))
    weights[0, -1] = 0.0
    lg = tf.placeholder(tf.float64, [None, T, 5])
    tg = tf.placeholder(tf.int32, [None, T])
    wt = tf.placeholder(tf.float64, [None, T])
    loss = tf.contrib.seq2seq.sequence_loss(lg, tg, wt, average_across_timesteps=across_t,
                                            average_across_batch=across_b)
    with tf.Session() as sess:
        got = sess.run(loss, {lg: logits, tg: targets, wt: weights})
    np.testing.assert_allclose(got, np_sequence_loss(logits, targets, weights, across_t, across_b), rtol=1e-12)


def test_fully_connected_defaults_to_relu_with_tf1_names():
    tf.reset_default_graph()
    x = tf.placeholder(tf.float64, [None, D])
    y = tf.contrib.layers.fully_connected(x, 6)
    z = tf.contrib.layers.fully_connected(x, 6, activation_fn=None)
    x3 = tf.placeholder(tf.float64, [B, T, D])
    y3 = tf.contrib.layers.fully_connected(x3, 2, scope="head")
    assert [[v.op.name, v.shape.as_list()] for v in tf.global_variables()] == [
        ["fully_connected/weights", [D, 6]], ["fully_connected/biases", [6]],
        ["fully_connected_1/weights", [D, 6]], ["fully_connected_1/biases", [6]],
        ["head/weights", [D, 2]], ["head/biases", [2]]]
    assert y3.shape.as_list() == [B, T, 2]
    xv, x3v = RNG.normal(size=(7, D)), RNG.normal(size=(B, T, D))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        w = load_random(sess, RNG)
        got_y, got_z, got_y3 = sess.run([y, z, y3], {x: xv, x3: x3v})
    pre = xv @ w["fully_connected/weights"] + w["fully_connected/biases"]
    assert (pre < 0).any() and (pre > 0).any()
    np.testing.assert_allclose(got_y, np.maximum(pre, 0), rtol=1e-12)
    np.testing.assert_allclose(got_z, xv @ w["fully_connected_1/weights"] + w["fully_connected_1/biases"],
                               rtol=1e-12)
    np.testing.assert_allclose(got_y3, np.maximum(x3v @ w["head/weights"] + w["head/biases"], 0), rtol=1e-12)
