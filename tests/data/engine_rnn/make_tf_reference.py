"""Write tf_reference.npz/.json: TF1 RNN cells run by real TensorFlow on fixed weights and inputs.

Run once with the peers venv (tensorflow-cpu 2.21, no Keras 2):
    /work/peers/bin/python tests/data/engine_rnn/make_tf_reference.py
In TF 2.21 `tf.compat.v1.nn.rnn_cell.*` raises "not available with Keras 3", so the cells come from TF's
own copy of the TF1 implementation, `tensorflow.python.keras.layers.legacy_rnn.rnn_cell_impl` (the code
`tf.compat.v1.nn.rnn_cell` pointed at); `dynamic_rnn`/`static_rnn` are the real `tf.compat.v1.nn` ones
(while_loop based). Every variable is overwritten with seeded normal values before running, so the
engine's test can load the same weights by name. The json records, per case, the variable names and
shapes TF made, and what TF does when a second cell is built in the same `rnn` scope.
TensorFlow is imported by main() alone: CASES' cell makers take the cells namespace and `build(tf, ...)` the
TF1 namespace, so tests/test_engine_rnn.py builds the same programs with `summaries`.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
BATCH, TIME, DEPTH, UNITS = 2, 3, 4, 3

# name: (cell maker taking the cells namespace, sequence_length, dynamic_rnn or static_rnn)
CASES = {
    "basic_rnn": (lambda cells: cells.BasicRNNCell(UNITS), None, "dynamic"),
    "basic_lstm": (lambda cells: cells.BasicLSTMCell(UNITS), None, "dynamic"),
    "basic_lstm_seqlen": (lambda cells: cells.BasicLSTMCell(UNITS, forget_bias=0.5), [3, 1], "dynamic"),
    "basic_lstm_concat_state": (lambda cells: cells.BasicLSTMCell(UNITS, state_is_tuple=False), None, "dynamic"),
    "lstm": (lambda cells: cells.LSTMCell(UNITS, forget_bias=0.7), None, "dynamic"),
    "gru": (lambda cells: cells.GRUCell(UNITS), [2, 3], "dynamic"),
    "multi": (lambda cells: cells.MultiRNNCell([cells.BasicLSTMCell(UNITS), cells.GRUCell(UNITS)]), [2, 3],
              "dynamic"),
    "static_lstm": (lambda cells: cells.BasicLSTMCell(UNITS), [1, 3], "static"),
}


def _flat(state):
    return [t for s in state for t in _flat(s)] if isinstance(state, tuple) else [state]


def build(tf, cell, x, seq_len, kind):
    """(outputs [batch, time, units], final state) of `cell` over `x` by dynamic_rnn or static_rnn; `tf` is
    the TF1 namespace."""
    if kind == "dynamic":
        return tf.nn.dynamic_rnn(cell, x, sequence_length=seq_len, dtype=tf.float32)
    outs, state = tf.nn.static_rnn(cell, tf.unstack(x, axis=1), sequence_length=seq_len, dtype=tf.float32)
    return tf.stack(outs, axis=1), state


def run_case(tf1, cells, name, make_cell, seq_len, kind, rng, arrays, meta):
    g = tf1.Graph()
    with g.as_default():
        x_val = rng.normal(size=(BATCH, TIME, DEPTH)).astype(np.float32)
        x = tf1.placeholder(tf1.float32, [BATCH, TIME, DEPTH], name="x")
        outputs, state = build(tf1, make_cell(cells), x, seq_len, kind)
        variables = tf1.global_variables()
        with tf1.Session(graph=g) as sess:
            sess.run(tf1.global_variables_initializer())
            for v in variables:
                value = rng.normal(scale=0.5, size=v.shape.as_list()).astype(np.float32)
                v.load(value, sess)
                arrays[f"{name}/var/{v.op.name}"] = value
            out_val, state_val = sess.run([outputs, _flat(state)], {x: x_val})
        arrays[f"{name}/x"] = x_val
        arrays[f"{name}/outputs"] = out_val
        for i, s in enumerate(state_val):
            arrays[f"{name}/state/{i}"] = s
        meta[name] = {"variables": [[v.op.name, v.shape.as_list()] for v in variables],
                      "sequence_length": seq_len, "kind": kind, "state_tensors": len(state_val)}


def second_cell_behaviour(tf1, cells):
    """Two new BasicLSTMCells, each in its own dynamic_rnn with the default scope, in one graph."""
    with tf1.Graph().as_default():
        x = tf1.placeholder(tf1.float32, [BATCH, TIME, DEPTH])
        tf1.nn.dynamic_rnn(cells.BasicLSTMCell(UNITS), x, dtype=tf1.float32)
        try:
            tf1.nn.dynamic_rnn(cells.BasicLSTMCell(UNITS), x, dtype=tf1.float32)
        except ValueError as e:
            return {"raises": "ValueError", "message": str(e).splitlines()[0]}
        return {"raises": None, "variables": [v.op.name for v in tf1.global_variables()]}


def main():
    import tensorflow as tf
    from tensorflow.python.keras.layers.legacy_rnn import rnn_cell_impl as cells

    tf1 = tf.compat.v1
    tf1.disable_eager_execution()
    rng = np.random.default_rng(12)
    arrays, meta = {}, {"tensorflow": tf.__version__, "sizes": [BATCH, TIME, DEPTH, UNITS]}
    for name, (make_cell, seq_len, kind) in CASES.items():
        run_case(tf1, cells, name, make_cell, seq_len, kind, rng, arrays, meta.setdefault("cases", {}))
    meta["second_cell_in_rnn_scope"] = second_cell_behaviour(tf1, cells)
    np.savez(HERE / "tf_reference.npz", **arrays)
    (HERE / "tf_reference.json").write_text(json.dumps(meta, indent=1) + "\n")


if __name__ == "__main__":
    main()
