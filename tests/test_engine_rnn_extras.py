"""tf.reverse / tf.reverse_sequence, bidirectional RNNs and LSTMCell peepholes/clipping/projection against
independent truth: numpy (np.flip, index arithmetic, cells stepped by hand, the backward pass walked from each
example's last valid step), central finite differences, and real TF1 code run once by real TensorFlow
(tests/data/engine_rnn_extras/make_tf_reference.py -> tf_reference.npz/.json)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import summaries as tf
from summaries.engine.errors import InvalidArgumentError

from conftest import load_script
from gradcheck import numeric_grad, numeric_grad_of_variable
from rnnref import flat_state, load_random, np_gru, np_lstm

DATA = Path(__file__).parent / "data" / "engine_rnn_extras"
RNG = np.random.default_rng(11)
B, T, D, H, P = 2, 4, 3, 3, 2


def check_input_and_variable_grads(sess, loss, grads, x, xv, variables, feed=None):
    """Analytic grads of `loss` w.r.t. [x] + variables equal finite differences (variables restored after)."""
    feed = dict(feed or {})
    analytic = sess.run(grads, {**feed, x: xv})
    np.testing.assert_allclose(analytic[0], numeric_grad(lambda v: sess.run(loss, {**feed, x: v}), xv),
                               rtol=1e-5, atol=1e-7)
    for var, g in zip(variables, analytic[1:]):
        num = numeric_grad_of_variable(sess, var, lambda: sess.run(loss, {**feed, x: xv}))
        np.testing.assert_allclose(g, num, rtol=1e-5, atol=1e-7, err_msg=var.op.name)
    return analytic


# ---- reverse -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("axis", [[0], [1], [-1], [0, 2], [2, -2, 0], []])
def test_reverse_matches_np_flip(axis):
    tf.reset_default_graph()
    xv = RNG.normal(size=(2, 3, 4))
    x = tf.placeholder(tf.float64, [None, 3, 4])
    y = tf.reverse(x, axis)
    assert y.shape.as_list() == [None, 3, 4]
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(y, {x: xv}), np.flip(xv, tuple(axis)))


def test_reverse_with_fed_axis_and_its_gradient():
    tf.reset_default_graph()
    xv = RNG.normal(size=(3, 4))
    x = tf.placeholder(tf.float64, [3, 4])
    ax = tf.placeholder(tf.int32, [None])
    y = tf.reverse(x, ax)
    r = tf.constant(RNG.normal(size=(3, 4)))
    loss = tf.reduce_sum(tf.square(tf.reverse(x, [1])) * r)
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(y, {x: xv, ax: [1, 0]}), xv[::-1, ::-1])
        np.testing.assert_array_equal(sess.run(y, {x: xv, ax: []}), xv)
        check_input_and_variable_grads(sess, loss, tf.gradients(loss, [x]), x, xv, [])
        g = sess.run(tf.gradients(tf.reduce_sum(y * r), x)[0], {x: xv, ax: [0]})
        np.testing.assert_array_equal(g, sess.run(r)[::-1])
    with pytest.raises(ValueError):
        tf.reverse(x, [2])
    with pytest.raises(ValueError):
        tf.reverse(x, [1, -1])


# ---- reverse_sequence ----------------------------------------------------------------------------------
def np_reverse_sequence(x, lengths, seq_axis, batch_axis):
    """By index: element (b, t) comes from (b, n_b - 1 - t) when t < n_b, else stays."""
    out = np.empty_like(x)
    for idx in np.ndindex(x.shape):
        b, t = idx[batch_axis], idx[seq_axis]
        src = list(idx)
        if t < lengths[b]:
            src[seq_axis] = lengths[b] - 1 - t
        out[idx] = x[tuple(src)]
    return out


@pytest.mark.parametrize("shape,seq_axis,batch_axis,lengths", [
    ((3, 5, 2), 1, 0, [5, 0, 3]), ((4, 2), 0, 1, [1, 4]), ((2, 3, 4), 2, 1, [4, 2, 1]),
    ((4, 3, 2, 2), 0, 2, [2, 3])])
@pytest.mark.parametrize("ldtype", [np.int32, np.int64])
def test_reverse_sequence_matches_numpy_and_gradient(shape, seq_axis, batch_axis, lengths, ldtype):
    tf.reset_default_graph()
    xv = RNG.normal(size=shape)
    x = tf.placeholder(tf.float64, shape)
    lens = tf.placeholder(tf.int32 if ldtype == np.int32 else tf.int64, [len(lengths)])
    y = tf.reverse_sequence(x, lens, seq_axis=seq_axis, batch_axis=batch_axis)
    assert y.shape.as_list() == list(shape)
    r = tf.constant(RNG.normal(size=shape))
    loss = tf.reduce_sum(tf.square(y) * r)
    with tf.Session() as sess:
        feed = {lens: np.array(lengths, ldtype)}
        np.testing.assert_array_equal(sess.run(y, {**feed, x: xv}),
                                      np_reverse_sequence(xv, lengths, seq_axis, batch_axis))
        check_input_and_variable_grads(sess, loss, tf.gradients(loss, [x]), x, xv, [], feed)


def test_reverse_sequence_tf1_keywords_unknown_batch_and_errors():
    tf.reset_default_graph()
    x = tf.placeholder(tf.float32, [None, 3])
    lens = tf.placeholder(tf.int32, [None])
    y = tf.reverse_sequence(x, lens, seq_dim=1, batch_dim=0)
    assert y.shape.as_list() == [None, 3]
    xv = RNG.normal(size=(4, 3)).astype(np.float32)
    msgs = json.loads((DATA / "tf_reference.json").read_text())["reverse_sequence"]
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(y, {x: xv, lens: [3, 2, 1, 0]}),
                                      np_reverse_sequence(xv, [3, 2, 1, 0], 1, 0))
        with pytest.raises(InvalidArgumentError, match=r"^" + msgs["too_long_message"].replace("(", r"\(")
                           .replace(")", r"\)")):
            sess.run(y, {x: xv[:2], lens: [1, 4]})
        with pytest.raises(InvalidArgumentError, match=r"^" + msgs["negative_message"].replace("(", r"\(")
                           .replace(")", r"\)")):
            sess.run(y, {x: xv[:2], lens: [-1, 2]})
        with pytest.raises(InvalidArgumentError, match="Length of seq_lengths"):
            sess.run(y, {x: xv[:2], lens: [1, 2, 3]})
    with pytest.raises(ValueError, match="Length of seq_lengths"):
        tf.reverse_sequence(tf.zeros([2, 3]), [1, 2, 3], seq_axis=1)
    with pytest.raises(ValueError):
        tf.reverse_sequence(tf.zeros([2, 3]), [1, 2], seq_axis=0, batch_axis=0)
    with pytest.raises(ValueError):
        tf.reverse_sequence(tf.zeros([2, 3]), [1, 2], seq_axis=1, seq_dim=1)
    with pytest.raises(TypeError):
        tf.reverse_sequence(tf.zeros([2, 3]), [1.0, 2.0], seq_axis=1)


# ---- numpy walks over the cells of rnnref.py ------------------------------------------------------------
def np_walk(step, xs, zero, lengths, backward=False):
    """Per example b (batch 1 at a time): step over its first n_b inputs, from n_b-1 down to 0 if `backward`;
    the output made at input t sits at t, outputs past n_b are 0, the state is the one after the walk."""
    outs, states = np.zeros(xs.shape[:2] + (step(xs[:1, 0], zero(1))[0].shape[1],)), []
    for b, n in enumerate(lengths):
        s = zero(1)
        for t in (reversed(range(n)) if backward else range(n)):
            o, s = step(xs[b:b + 1, t], s)
            outs[b, t] = o[0]
        states.append(s)
    return outs, states


def np_forward(step, xs, zero, lengths):
    return np_walk(step, xs, zero, lengths)


def np_backward(step, xs, zero, lengths):
    return np_walk(step, xs, zero, lengths, backward=True)


def _rows(states):
    """Per-example numpy states (tuples or arrays of batch 1) -> flat list of [batch, n] arrays."""
    first = states[0]
    if isinstance(first, tuple):
        return [np.concatenate([s[k] for s in states]) for k in range(len(first))]
    return [np.concatenate(states)]


# ---- bidirectional_dynamic_rnn --------------------------------------------------------------------------
@pytest.mark.parametrize("time_major", [False, True])
@pytest.mark.parametrize("seq_len", [None, [4, 2]])
def test_bidirectional_dynamic_rnn_matches_stepping_by_hand(seq_len, time_major):
    tf.reset_default_graph()
    shape = [T, B, D] if time_major else [B, T, D]
    x = tf.placeholder(tf.float64, shape)
    lens = None if seq_len is None else tf.placeholder(tf.int32, [B])
    (out_fw, out_bw), (s_fw, s_bw) = tf.nn.bidirectional_dynamic_rnn(
        tf.nn.rnn_cell.LSTMCell(H, use_peepholes=True), tf.nn.rnn_cell.GRUCell(H), x, sequence_length=lens,
        dtype=tf.float64, time_major=time_major)
    assert out_fw.shape.as_list() == shape[:2] + [H] and out_bw.shape.as_list() == shape[:2] + [H]
    assert isinstance(s_fw, tf.nn.rnn_cell.LSTMStateTuple)
    assert [[v.op.name, v.shape.as_list()] for v in tf.global_variables()] == [
        ["bidirectional_rnn/fw/lstm_cell/kernel", [D + H, 4 * H]], ["bidirectional_rnn/fw/lstm_cell/bias", [4 * H]],
        ["bidirectional_rnn/fw/lstm_cell/w_f_diag", [H]], ["bidirectional_rnn/fw/lstm_cell/w_i_diag", [H]],
        ["bidirectional_rnn/fw/lstm_cell/w_o_diag", [H]],
        ["bidirectional_rnn/bw/gru_cell/gates/kernel", [D + H, 2 * H]],
        ["bidirectional_rnn/bw/gru_cell/gates/bias", [2 * H]],
        ["bidirectional_rnn/bw/gru_cell/candidate/kernel", [D + H, H]],
        ["bidirectional_rnn/bw/gru_cell/candidate/bias", [H]]]
    xv = RNG.normal(size=shape)
    lengths = [T] * B if seq_len is None else seq_len
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        w = load_random(sess, RNG)
        feed = {x: xv} if lens is None else {x: xv, lens: seq_len}
        got_fw, got_bw, got_sfw, got_sbw = sess.run([out_fw, out_bw, flat_state(s_fw), s_bw], feed)
    bt = np.swapaxes(xv, 0, 1) if time_major else xv
    want_fw, st_fw = np_forward(lambda a, s: np_lstm(w, "bidirectional_rnn/fw/lstm_cell/", a, s, peep=True), bt,
                                lambda n: (np.zeros((n, H)), np.zeros((n, H))), lengths)
    want_bw, st_bw = np_backward(lambda a, s: np_gru(w, "bidirectional_rnn/bw/gru_cell/", a, s), bt,
                                 lambda n: np.zeros((n, H)), lengths)
    if time_major:
        got_fw, got_bw = np.swapaxes(got_fw, 0, 1), np.swapaxes(got_bw, 0, 1)
    np.testing.assert_allclose(got_fw, want_fw, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(got_bw, want_bw, rtol=1e-12, atol=1e-14)
    for g, want in zip(got_sfw + [got_sbw], _rows(st_fw) + _rows(st_bw)):
        np.testing.assert_allclose(g, want, rtol=1e-12)


def test_bidirectional_dynamic_rnn_scope_initial_states_and_unknown_batch():
    tf.reset_default_graph()
    x = tf.placeholder(tf.float64, [None, T, D])
    lens = tf.placeholder(tf.int64, [None])
    h0 = tf.placeholder(tf.float64, [None, H])
    (out_fw, out_bw), (s_fw, s_bw) = tf.nn.bidirectional_dynamic_rnn(
        tf.nn.rnn_cell.BasicRNNCell(H), tf.nn.rnn_cell.BasicRNNCell(H), x, sequence_length=lens,
        initial_state_fw=h0, initial_state_bw=2 * h0, scope="birnn")
    assert [v.op.name for v in tf.trainable_variables()] == [
        "birnn/fw/basic_rnn_cell/kernel", "birnn/fw/basic_rnn_cell/bias",
        "birnn/bw/basic_rnn_cell/kernel", "birnn/bw/basic_rnn_cell/bias"]
    xv, hv, lv = RNG.normal(size=(3, T, D)), RNG.normal(size=(3, H)), [1, 4, 0]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        w = load_random(sess, RNG)
        got = sess.run([out_fw, out_bw, s_fw, s_bw], {x: xv, lens: lv, h0: hv})

    def rnn(p):
        return lambda a, s: (np.tanh(np.concatenate([a, s], 1) @ w[p + "kernel"] + w[p + "bias"]),) * 2
    for k, (run, p, init) in enumerate([(np_forward, "birnn/fw/basic_rnn_cell/", hv),
                                        (np_backward, "birnn/bw/basic_rnn_cell/", 2 * hv)]):
        outs, states = [], []
        for b in range(3):   # each example with its own initial state
            o, s = run(rnn(p), xv[b:b + 1], lambda n, b=b: init[b:b + 1], [lv[b]])
            outs.append(o)
            states.append(s[0])
        np.testing.assert_allclose(got[k], np.concatenate(outs), rtol=1e-12)
        np.testing.assert_allclose(got[2 + k], np.concatenate(states), rtol=1e-12)
    np.testing.assert_array_equal(got[3][2], 2 * hv[2])  # length 0: the state is the initial one


@pytest.mark.parametrize("time_major", [False, True])
def test_bidirectional_dynamic_rnn_gradients_match_finite_differences(time_major):
    tf.reset_default_graph()
    shape = [3, 2, 2] if time_major else [2, 3, 2]
    x = tf.placeholder(tf.float64, shape)
    (out_fw, out_bw), (s_fw, s_bw) = tf.nn.bidirectional_dynamic_rnn(
        tf.nn.rnn_cell.LSTMCell(2, use_peepholes=True, num_proj=1), tf.nn.rnn_cell.GRUCell(2), x,
        sequence_length=[3, 2], dtype=tf.float64, time_major=time_major)
    r = tf.constant(RNG.normal(size=shape[:2] + [3]))
    loss = (tf.reduce_sum(tf.concat([out_fw, out_bw], 2) * r) +
            tf.add_n([tf.reduce_sum(tf.square(s)) for s in flat_state(s_fw) + [s_bw]]))
    variables = tf.trainable_variables()
    assert len(variables) == 10
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        load_random(sess, RNG, scale=0.8)
        xv = RNG.normal(size=shape)
        g = check_input_and_variable_grads(sess, loss, tf.gradients(loss, [x] + variables), x, xv, variables)
    past = g[0][2, 1] if time_major else g[0][1, 2]
    assert np.all(past == 0)   # the second example's third step lies past its length: nothing flows back


# ---- static_bidirectional_rnn ---------------------------------------------------------------------------
@pytest.mark.parametrize("seq_len", [None, [2, 4]])
def test_static_bidirectional_rnn_matches_numpy(seq_len):
    tf.reset_default_graph()
    x = tf.placeholder(tf.float64, [B, T, D])
    outputs, s_fw, s_bw = tf.contrib.rnn.static_bidirectional_rnn(
        tf.contrib.rnn.BasicLSTMCell(H), tf.contrib.rnn.LSTMCell(H, num_proj=P), tf.unstack(x, axis=1),
        dtype=tf.float64, sequence_length=seq_len)
    assert tf.nn.static_bidirectional_rnn is tf.contrib.rnn.static_bidirectional_rnn
    assert isinstance(outputs, list) and len(outputs) == T
    assert all(o.shape.as_list() == [B, H + P] for o in outputs)
    assert [v.op.name for v in tf.global_variables()] == [
        "bidirectional_rnn/fw/basic_lstm_cell/kernel", "bidirectional_rnn/fw/basic_lstm_cell/bias",
        "bidirectional_rnn/bw/lstm_cell/kernel", "bidirectional_rnn/bw/lstm_cell/bias",
        "bidirectional_rnn/bw/lstm_cell/projection/kernel"]
    xv = RNG.normal(size=(B, T, D))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        w = load_random(sess, RNG)
        got, got_fw, got_bw = sess.run([tf.stack(outputs, 1), s_fw, s_bw], {x: xv})
    lengths = [T] * B if seq_len is None else seq_len
    zero = lambda n: (np.zeros((n, H)), np.zeros((n, P)))  # noqa: E731
    want_fw, st_fw = np_forward(lambda a, s: np_lstm(w, "bidirectional_rnn/fw/basic_lstm_cell/", a, s), xv,
                                lambda n: (np.zeros((n, H)),) * 2, lengths)
    want_bw, st_bw = np_backward(lambda a, s: np_lstm(w, "bidirectional_rnn/bw/lstm_cell/", a, s, proj=True), xv,
                                 zero, lengths)
    np.testing.assert_allclose(got, np.concatenate([want_fw, want_bw], 2), rtol=1e-12, atol=1e-14)
    for g, want in zip(list(got_fw) + list(got_bw), _rows(st_fw) + _rows(st_bw)):
        np.testing.assert_allclose(g, want, rtol=1e-12)
    with pytest.raises(ValueError):
        tf.nn.static_bidirectional_rnn(tf.contrib.rnn.GRUCell(H), tf.contrib.rnn.GRUCell(H), [], dtype=tf.float64)
    with pytest.raises(TypeError):
        tf.nn.static_bidirectional_rnn(tf.contrib.rnn.GRUCell(H), tf.contrib.rnn.GRUCell(H), x, dtype=tf.float64)


# ---- LSTMCell options -----------------------------------------------------------------------------------
LSTM_CONFIGS = {
    "peepholes": dict(use_peepholes=True, forget_bias=0.4),
    "cell_clip": dict(cell_clip=0.25),
    "proj": dict(num_proj=P),
    "peep_clip_proj_clip": dict(use_peepholes=True, cell_clip=0.3, num_proj=P, proj_clip=0.15),
    "proj_concat_state": dict(num_proj=P, state_is_tuple=False),
}


@pytest.mark.parametrize("config", sorted(LSTM_CONFIGS))
def test_lstm_cell_options_one_step_match_numpy(config):
    kw = LSTM_CONFIGS[config]
    tf.reset_default_graph()
    cell = tf.nn.rnn_cell.LSTMCell(H, initializer=tf.constant_initializer(0.1), **kw)
    proj = kw.get("num_proj")
    hdim = proj or H
    assert cell.output_size == hdim
    assert cell.state_size == ((H, hdim) if kw.get("state_is_tuple", True) else H + hdim)
    x = tf.placeholder(tf.float64, [B, D])
    if kw.get("state_is_tuple", True):
        state = tf.nn.rnn_cell.LSTMStateTuple(tf.placeholder(tf.float64, [B, H]), tf.placeholder(tf.float64,
                                                                                                 [B, hdim]))
    else:
        state = tf.placeholder(tf.float64, [B, H + hdim])
    out, new_state = cell(x, state)
    assert out.shape.as_list() == [B, hdim]
    names = [[v.op.name, v.shape.as_list()] for v in tf.global_variables()]
    want_names = [["lstm_cell/kernel", [D + hdim, 4 * H]], ["lstm_cell/bias", [4 * H]]]
    if kw.get("use_peepholes"):
        want_names += [[f"lstm_cell/w_{g}_diag", [H]] for g in "fio"]
    if proj:
        want_names += [["lstm_cell/projection/kernel", [H, P]]]
    assert names == want_names
    xv, cv, mv = RNG.normal(size=(B, D)), 2 * RNG.normal(size=(B, H)), RNG.normal(size=(B, hdim))
    feed = {x: xv, **({state.c: cv, state.h: mv} if isinstance(state, tuple) else
                      {state: np.concatenate([cv, mv], 1)})}
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        init = {v.op.name: sess.run(v) for v in tf.global_variables()}
        w = load_random(sess, RNG, scale=1.0)
        got_out, got_state = sess.run([out, flat_state(new_state)], feed)
    # the initializer applies to the kernel, peepholes and projection; the bias starts at zero
    assert all(np.all(v == (0.0 if k.endswith("bias") else 0.1)) for k, v in init.items())
    want_out, (wc, wm) = np_lstm(w, "lstm_cell/", xv, (cv, mv), kw.get("forget_bias", 1.0),
                                 kw.get("use_peepholes", False), kw.get("cell_clip"), bool(proj),
                                 kw.get("proj_clip"))
    np.testing.assert_allclose(got_out, want_out, rtol=1e-12)
    want_state = [wc, wm] if kw.get("state_is_tuple", True) else [np.concatenate([wc, wm], 1)]
    for g, want in zip(got_state, want_state):
        np.testing.assert_allclose(g, want, rtol=1e-12)
    if "cell_clip" in kw:
        assert np.abs(got_state[0]).max() == pytest.approx(kw["cell_clip"])   # the clip was active
    if "proj_clip" in kw:
        assert np.abs(got_out).max() == pytest.approx(kw["proj_clip"])


def test_lstm_cell_peephole_projection_gradients_match_finite_differences():
    tf.reset_default_graph()
    x = tf.placeholder(tf.float64, [2, 3, 2])
    outputs, state = tf.nn.dynamic_rnn(tf.nn.rnn_cell.LSTMCell(2, use_peepholes=True, num_proj=3), x,
                                       sequence_length=[2, 3], dtype=tf.float64)
    r = tf.constant(RNG.normal(size=(2, 3, 3)))
    loss = tf.reduce_sum(outputs * r) + tf.reduce_sum(tf.square(state.c)) + tf.reduce_sum(state.h)
    variables = tf.trainable_variables()
    assert [v.op.name.split("/", 2)[2] for v in variables] == ["kernel", "bias", "w_f_diag", "w_i_diag",
                                                              "w_o_diag", "projection/kernel"]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        load_random(sess, RNG, scale=0.8)
        check_input_and_variable_grads(sess, loss, tf.gradients(loss, [x] + variables), x, RNG.normal(size=(2, 3, 2)),
                        variables)


def test_lstm_cell_partitioning_is_refused():
    with pytest.raises(NotImplementedError, match="num_unit_shards"):
        tf.nn.rnn_cell.LSTMCell(H, num_unit_shards=2)


# ---- real TensorFlow reference ----------------------------------------------------------------------
REF_META = json.loads((DATA / "tf_reference.json").read_text())
REF = np.load(DATA / "tf_reference.npz")
SCRIPT = load_script(DATA / "make_tf_reference.py")  # its CASES and build(tf, ...), run here with `summaries`


@pytest.mark.parametrize("case", sorted(REF_META["cases"]))
def test_names_shapes_and_values_match_real_tf(case):
    assert sorted(SCRIPT.CASES) == sorted(REF_META["cases"])
    assert REF_META["sizes"] == [B, T, D, H, P] == [SCRIPT.BATCH, SCRIPT.TIME, SCRIPT.DEPTH, SCRIPT.UNITS, SCRIPT.PROJ]
    meta = REF_META["cases"][case]
    make_fw, make_bw = SCRIPT.CASES[case][:2]
    cells = tf.nn.rnn_cell
    tf.reset_default_graph()
    x = tf.placeholder(tf.float32, REF[f"{case}/x"].shape)
    outputs, states = SCRIPT.build(tf, meta["api"], make_fw(cells), make_bw and make_bw(cells), x,
                                   meta["sequence_length"], meta["time_major"])
    assert [[v.op.name, v.shape.as_list()] for v in tf.global_variables()] == meta["variables"]
    assert [o.shape.as_list() for o in outputs] == meta["output_shapes"]
    assert len(states) == meta["state_tensors"]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for v in tf.global_variables():
            v.load(REF[f"{case}/var/{v.op.name}"], sess)
        got_out, got_states = sess.run([outputs, states], {x: REF[f"{case}/x"]})
    for i, o in enumerate(got_out):
        np.testing.assert_allclose(o, REF[f"{case}/outputs/{i}"], rtol=1e-5, atol=1e-6)
    for i, s in enumerate(got_states):
        np.testing.assert_allclose(s, REF[f"{case}/state/{i}"], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["seq1_batch0", "seq0_batch2", "seq2_batch1"])
def test_reverse_sequence_matches_real_tf(name):
    meta = REF_META["reverse_sequence"][name]
    tf.reset_default_graph()
    lengths = np.array(meta["seq_lengths"], meta["dtype"])
    y = tf.reverse_sequence(REF[f"reverse_sequence/{name}/x"], lengths, seq_axis=meta["seq_axis"],
                            batch_axis=meta["batch_axis"])
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(y), REF[f"reverse_sequence/{name}/y"])
