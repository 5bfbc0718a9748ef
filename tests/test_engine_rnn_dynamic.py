"""dynamic_rnn over a time axis known only when fed (a while_loop over time) against the unrolled path (a
static time axis, itself checked against numpy and real TF1 in test_engine_rnn*.py) with the same weights,
and its gradients against central finite differences."""
from __future__ import annotations

import numpy as np
import pytest

import summaries as tf

from gradcheck import numeric_grad, numeric_grad_of_variable
from rnnref import flat_state

RNG = np.random.default_rng(11)
B, D, H = 3, 2, 2

CELLS = {
    "basic_rnn": lambda: tf.nn.rnn_cell.BasicRNNCell(H),
    "basic_lstm": lambda: tf.contrib.rnn.BasicLSTMCell(H, forget_bias=0.3),
    "gru": lambda: tf.contrib.rnn.GRUCell(H),
    "lstm_peep_proj": lambda: tf.nn.rnn_cell.LSTMCell(H + 1, use_peepholes=True, num_proj=H, cell_clip=0.8),
    "multi": lambda: tf.nn.rnn_cell.MultiRNNCell([tf.nn.rnn_cell.BasicLSTMCell(H), tf.nn.rnn_cell.GRUCell(H)]),
}


class Net:
    """dynamic_rnn on a float64 placeholder of `shape` (batch-major unless time_major) in a fresh graph, plus a
    loss summing every output and final state tensor times fixed random weights."""

    def __init__(self, make_cell, shape, time_major=False, seq_len=False, bidirectional=False):
        tf.reset_default_graph()
        self.x = tf.placeholder(tf.float64, shape, name="x")
        self.sl = tf.placeholder(tf.int32, [None], name="sl") if seq_len else None
        if bidirectional:
            outs, states = tf.nn.bidirectional_dynamic_rnn(make_cell(), make_cell(), self.x, self.sl,
                                                           dtype=tf.float64, time_major=time_major)
            self.out, self.state = tf.concat(outs, 2), states
        else:
            self.out, self.state = tf.nn.dynamic_rnn(make_cell(), self.x, self.sl, dtype=tf.float64,
                                                     time_major=time_major)
        self.fetch = [self.out] + flat_state(self.state)
        self.vars = tf.global_variables()
        self.names = [v.op.name for v in self.vars]
        loss_rng = np.random.default_rng(3)
        self.loss = tf.add_n([tf.reduce_sum(t * tf.constant(loss_rng.normal(size=(1,) * t.shape.ndims)))
                              for t in self.fetch])
        self.grads = tf.gradients(self.loss, [self.x] + self.vars)
        self.sess = tf.Session()

    def load(self, weights: dict) -> None:
        for v in self.vars:
            v.load(weights[v.op.name], self.sess)

    def feed(self, x, seq_len=None) -> dict:
        return {self.x: x, **({self.sl: seq_len} if self.sl is not None else {})}

    def run(self, fetches, x, seq_len=None):
        return self.sess.run(fetches, self.feed(x, seq_len))


def random_weights(net: Net) -> dict:
    return {v.op.name: RNG.normal(scale=0.6, size=v.shape.as_list()) for v in net.vars}


def inputs(t: int, time_major: bool):
    x = RNG.normal(size=(t, B, D) if time_major else (B, t, D))
    return x, np.array([t, max(t - 2, 0), min(1, t)], np.int32)  # full, shorter, (nearly) empty


def static_shape(t, time_major):
    return [t, B, D] if time_major else [B, t, D]


def assert_all_close(got, want, rtol=1e-12, atol=1e-14):
    assert len(got) == len(want)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol)


# ---- values: while path == unrolled path ------------------------------------------------------------------
@pytest.mark.parametrize("time_major", [False, True])
@pytest.mark.parametrize("seq_len", [False, True])
@pytest.mark.parametrize("kind", sorted(CELLS))
def test_same_results_as_unrolled_for_several_lengths(kind, seq_len, time_major):
    dyn = Net(CELLS[kind], [None, None, D], time_major, seq_len)
    dyn_shape = dyn.out.shape.as_list()
    weights = random_weights(dyn)
    dyn.load(weights)
    for t in (2, 5, 9):  # one graph, one Session, every length
        x, lengths = inputs(t, time_major)
        got = dyn.run(dyn.fetch, x, lengths)
        ref = Net(CELLS[kind], static_shape(t, time_major), time_major, seq_len)
        assert ref.names == dyn.names
        ref.load(weights)
        want = ref.run(ref.fetch, x, lengths)
        assert got[0].shape == want[0].shape == tuple(static_shape(t, time_major)[:2] + [want[0].shape[2]])
        assert_all_close(got, want)
        if seq_len:  # past its length an example's outputs are zero
            outs = got[0] if time_major else got[0].transpose(1, 0, 2)
            assert not outs[lengths[1]:, 1].any()
    assert dyn_shape == [None, None, got[0].shape[2]]


def test_static_shapes_and_empty_sequence():
    net = Net(CELLS["multi"], [B, None, D])
    assert net.out.shape.as_list() == [B, None, H]
    assert [s.shape.as_list() for s in flat_state(net.state)] == [[B, H]] * 3
    tm = Net(CELLS["basic_lstm"], [None, B, D], time_major=True)
    assert tm.out.shape.as_list() == [None, B, H]
    tm.sess.run(tf.global_variables_initializer())
    out, c, h = tm.run(tm.fetch, np.zeros((0, B, D)))
    assert out.shape == (0, B, H) and not c.any() and not h.any()


def test_initial_state_and_variable_names():
    made = []

    def make():
        made.append(tf.nn.rnn_cell.MultiRNNCell([tf.contrib.rnn.GRUCell(H), tf.nn.rnn_cell.LSTMCell(H)]))
        return made[-1]
    results, names = [], []
    s0 = (RNG.normal(size=(B, H)), (RNG.normal(size=(B, H)), RNG.normal(size=(B, H))))
    x, _ = inputs(4, False)
    weights = None
    for shape in ([None, None, D], [B, 4, D]):
        tf.reset_default_graph()
        xp = tf.placeholder(tf.float64, shape)
        init = (tf.constant(s0[0]), tf.nn.rnn_cell.LSTMStateTuple(*map(tf.constant, s0[1])))
        out, state = tf.nn.dynamic_rnn(make(), xp, initial_state=init, scope="enc")
        assert isinstance(state[1], tf.nn.rnn_cell.LSTMStateTuple)
        names.append([v.op.name for v in tf.global_variables()])
        with tf.Session() as sess:
            weights = weights or {v.op.name: RNG.normal(size=v.shape.as_list()) for v in tf.global_variables()}
            for v in tf.global_variables():
                v.load(weights[v.op.name], sess)
            results.append(sess.run([out] + flat_state(state), {xp: x}))
    assert names[0] == names[1] == [
        "enc/multi_rnn_cell/cell_0/gru_cell/gates/kernel", "enc/multi_rnn_cell/cell_0/gru_cell/gates/bias",
        "enc/multi_rnn_cell/cell_0/gru_cell/candidate/kernel", "enc/multi_rnn_cell/cell_0/gru_cell/candidate/bias",
        "enc/multi_rnn_cell/cell_1/lstm_cell/kernel", "enc/multi_rnn_cell/cell_1/lstm_cell/bias"]
    assert_all_close(*results)


@pytest.mark.parametrize("seq_len", [False, True])
@pytest.mark.parametrize("time_major", [False, True])
def test_bidirectional_with_unknown_time_axis(seq_len, time_major):
    dyn = Net(CELLS["basic_lstm"], [None, None, D], time_major, seq_len, bidirectional=True)
    weights = random_weights(dyn)
    dyn.load(weights)
    x, lengths = inputs(5, time_major)
    ref = Net(CELLS["basic_lstm"], static_shape(5, time_major), time_major, seq_len, bidirectional=True)
    assert ref.names == dyn.names and any(n.startswith("bidirectional_rnn/bw/") for n in ref.names)
    ref.load(weights)
    assert_all_close(dyn.run(dyn.fetch, x, lengths), ref.run(ref.fetch, x, lengths))
    assert_all_close(dyn.run(dyn.grads, x, lengths), ref.run(ref.grads, x, lengths), rtol=1e-10)


# ---- gradients ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind,seq_len,time_major", [("basic_rnn", False, False), ("basic_lstm", True, False),
                                                     ("gru", True, True), ("lstm_peep_proj", True, False),
                                                     ("multi", False, True)])
def test_gradients_match_finite_differences_and_unrolled(kind, seq_len, time_major):
    dyn = Net(CELLS[kind], [None, None, D], time_major, seq_len)
    weights = random_weights(dyn)
    dyn.load(weights)
    x, lengths = inputs(3, time_major)
    got = dyn.run(dyn.grads, x, lengths)
    assert all(g is not None for g in dyn.grads)
    np.testing.assert_allclose(got[0], numeric_grad(lambda v: dyn.run(dyn.loss, v, lengths), x), rtol=1e-6,
                               atol=1e-8)
    for var, g in zip(dyn.vars, got[1:]):
        want = numeric_grad_of_variable(dyn.sess, var, lambda: dyn.run(dyn.loss, x, lengths))
        np.testing.assert_allclose(g, want, rtol=1e-6, atol=1e-8, err_msg=var.op.name)
    ref = Net(CELLS[kind], static_shape(3, time_major), time_major, seq_len)
    ref.load(weights)
    assert_all_close(got, ref.run(ref.grads, x, lengths), rtol=1e-10)


def test_training_on_the_while_path_lowers_the_loss():
    tf.reset_default_graph()
    x = tf.placeholder(tf.float64, [None, None, D])
    y = tf.placeholder(tf.float64, [None, None, 1])
    out, _ = tf.nn.dynamic_rnn(tf.contrib.rnn.BasicLSTMCell(4), x, dtype=tf.float64)
    pred = tf.layers.dense(out, 1)
    loss = tf.reduce_mean(tf.square(pred - y))
    step = tf.train.AdamOptimizer(0.05).minimize(loss)
    xv = RNG.normal(size=(4, 6, D))
    feed = {x: xv, y: np.cumsum(xv[:, :, :1], 1) * 0.5}  # a running sum: needs the recurrence
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        first = sess.run(loss, feed)
        for _ in range(40):
            sess.run(step, feed)
        assert sess.run(loss, feed) < 0.3 * first


# ---- errors ------------------------------------------------------------------------------------------------
class StateGrowingCell(tf.nn.rnn_cell.BasicRNNCell):
    """A broken cell: returns its state doubled into a tuple, so the state's structure changes in a step."""

    def _step(self, x, state):
        h, _ = super()._step(x, state)
        return h, (h, h)


@pytest.mark.parametrize("shape", [[None, None, D], [B, 3, D]])
def test_state_structure_change_is_a_clear_error(shape):
    tf.reset_default_graph()
    with pytest.raises(ValueError, match="StateGrowingCell changed the structure of its state"):
        tf.nn.dynamic_rnn(StateGrowingCell(H), tf.placeholder(tf.float64, shape), dtype=tf.float64)


def test_unknown_rank_is_a_clear_error():
    tf.reset_default_graph()
    with pytest.raises(ValueError, match="known rank of at least 3"):
        tf.nn.dynamic_rnn(CELLS["gru"](), tf.placeholder(tf.float64, None, name="seq"), dtype=tf.float64)
