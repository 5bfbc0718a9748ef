"""Write tf_reference.npz/.json: TF1 bidirectional RNNs, LSTMCell peepholes/clipping/projection and
reverse_sequence run by real TensorFlow on fixed weights and inputs.

Run once with the peers venv (tensorflow-cpu 2.21, no Keras 2):
    /work/peers/bin/python tests/data/engine_rnn_extras/make_tf_reference.py
As in tests/data/engine_rnn/make_tf_reference.py, the cells come from TF's own copy of the TF1 cell code
(`tensorflow.python.keras.layers.legacy_rnn.rnn_cell_impl`, since `tf.compat.v1.nn.rnn_cell` raises under
Keras 3), while `dynamic_rnn`, `bidirectional_dynamic_rnn` and `static_bidirectional_rnn` are the real
`tf.compat.v1.nn` functions. Every variable is overwritten with seeded normal values before running, so the
engine's test can load the same weights by name. The json records, per case, how it was built and the
variable names and shapes TF made.
TensorFlow is imported by main() alone: CASES' cell makers take the cells namespace and `build(tf, ...)` the
TF1 namespace, so tests/test_engine_rnn_extras.py builds the same programs with `summaries`.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
BATCH, TIME, DEPTH, UNITS, PROJ = 2, 4, 3, 3, 2

# name: (fw cell, bw cell or None, api, sequence_length, time_major, weight scale); the cell makers take the
# cells namespace
CASES = {
    "bidi_lstm_seqlen": (lambda c: c.BasicLSTMCell(UNITS), lambda c: c.BasicLSTMCell(UNITS),
                         "bidirectional_dynamic_rnn", [4, 2], False, 0.5),
    "bidi_gru_rnn_time_major": (lambda c: c.GRUCell(UNITS), lambda c: c.BasicRNNCell(UNITS),
                                "bidirectional_dynamic_rnn", None, True, 0.5),
    "bidi_lstm_seqlen_time_major": (lambda c: c.LSTMCell(UNITS, use_peepholes=True),
                                    lambda c: c.LSTMCell(UNITS, num_proj=PROJ),
                                    "bidirectional_dynamic_rnn", [1, 3], True, 0.5),
    "static_bidi_seqlen": (lambda c: c.BasicLSTMCell(UNITS), lambda c: c.GRUCell(UNITS),
                           "static_bidirectional_rnn", [3, 2], False, 0.5),
    "static_bidi": (lambda c: c.BasicRNNCell(UNITS), lambda c: c.BasicRNNCell(UNITS),
                    "static_bidirectional_rnn", None, False, 0.5),
    "lstm_peepholes": (lambda c: c.LSTMCell(UNITS, use_peepholes=True, forget_bias=0.6), None,
                       "dynamic_rnn", None, False, 0.5),
    "lstm_peep_clip_proj": (lambda c: c.LSTMCell(UNITS, use_peepholes=True, cell_clip=0.3, num_proj=PROJ,
                                                 proj_clip=0.2), None, "dynamic_rnn", [4, 3], False, 1.0),
    "lstm_proj_concat_state": (lambda c: c.LSTMCell(UNITS, num_proj=PROJ, state_is_tuple=False), None,
                               "dynamic_rnn", None, False, 0.5),
}


def _flat(state):
    return [t for s in state for t in _flat(s)] if isinstance(state, tuple) else [state]


def build(tf, api, fw, bw, x, seq_len, time_major):
    """(outputs stacked into one [.., .., depth] tensor per direction, flat final states); `tf` is the TF1
    namespace."""
    if api == "dynamic_rnn":
        out, state = tf.nn.dynamic_rnn(fw, x, sequence_length=seq_len, dtype=tf.float32, time_major=time_major)
        return [out], _flat(state)
    if api == "bidirectional_dynamic_rnn":
        (out_fw, out_bw), (s_fw, s_bw) = tf.nn.bidirectional_dynamic_rnn(
            fw, bw, x, sequence_length=seq_len, dtype=tf.float32, time_major=time_major)
        return [out_fw, out_bw], _flat(s_fw) + _flat(s_bw)
    outs, s_fw, s_bw = tf.nn.static_bidirectional_rnn(fw, bw, tf.unstack(x, axis=1), dtype=tf.float32,
                                                      sequence_length=seq_len)
    return [tf.stack(outs, axis=1)], _flat(s_fw) + _flat(s_bw)


def run_case(tf1, cells, name, spec, rng, arrays, meta):
    make_fw, make_bw, api, seq_len, time_major, scale = spec
    shape = [TIME, BATCH, DEPTH] if time_major else [BATCH, TIME, DEPTH]
    with tf1.Graph().as_default() as g:
        x_val = rng.normal(size=shape).astype(np.float32)
        x = tf1.placeholder(tf1.float32, shape, name="x")
        outputs, states = build(tf1, api, make_fw(cells), make_bw and make_bw(cells), x, seq_len, time_major)
        variables = tf1.global_variables()
        with tf1.Session(graph=g) as sess:
            sess.run(tf1.global_variables_initializer())
            for v in variables:
                value = rng.normal(scale=scale, size=v.shape.as_list()).astype(np.float32)
                v.load(value, sess)
                arrays[f"{name}/var/{v.op.name}"] = value
            out_val, state_val = sess.run([outputs, states], {x: x_val})
    arrays[f"{name}/x"] = x_val
    for i, o in enumerate(out_val):
        arrays[f"{name}/outputs/{i}"] = o
    for i, s in enumerate(state_val):
        arrays[f"{name}/state/{i}"] = s
    meta[name] = {"api": api, "sequence_length": seq_len, "time_major": time_major,
                  "variables": [[v.op.name, v.shape.as_list()] for v in variables],
                  "output_shapes": [list(o.shape) for o in out_val], "state_tensors": len(state_val)}


def reverse_sequence_cases(tf1, rng, arrays, meta):
    """tf.reverse_sequence on a few axis layouts and length dtypes; its messages for too long / negative lengths."""
    layouts = {"seq1_batch0": ((2, 5, 3), 1, 0, [5, 2], np.int32),
               "seq0_batch2": ((4, 3, 3), 0, 2, [0, 4, 1], np.int64),
               "seq2_batch1": ((2, 3, 4), 2, 1, [3, 1, 4], np.int32)}
    with tf1.Graph().as_default(), tf1.Session() as sess:
        for name, (shape, seq_axis, batch_axis, lengths, ldt) in layouts.items():
            x = rng.normal(size=shape).astype(np.float32)
            y = tf1.reverse_sequence(x, np.array(lengths, ldt), seq_axis=seq_axis, batch_axis=batch_axis)
            arrays[f"reverse_sequence/{name}/x"] = x
            arrays[f"reverse_sequence/{name}/y"] = sess.run(y)
            meta[name] = {"seq_axis": seq_axis, "batch_axis": batch_axis, "seq_lengths": lengths,
                          "dtype": np.dtype(ldt).name}
        ph = tf1.placeholder(tf1.int32, [2])
        y = tf1.reverse_sequence(np.zeros((2, 3), np.float32), ph, seq_axis=1)
        for key, lengths in (("too_long_message", [1, 4]), ("negative_message", [-1, 2])):
            try:
                sess.run(y, {ph: lengths})
            except tf1.errors.InvalidArgumentError as e:
                meta[key] = [ln for ln in e.message.splitlines() if ln.startswith("seq_lens")][0]


def main():
    import tensorflow as tf
    from tensorflow.python.keras.layers.legacy_rnn import rnn_cell_impl as cells

    tf1 = tf.compat.v1
    tf1.disable_eager_execution()
    rng = np.random.default_rng(21)
    arrays = {}
    meta = {"tensorflow": tf.__version__, "sizes": [BATCH, TIME, DEPTH, UNITS, PROJ], "cases": {},
            "reverse_sequence": {}}
    for name, spec in CASES.items():
        run_case(tf1, cells, name, spec, rng, arrays, meta["cases"])
    reverse_sequence_cases(tf1, rng, arrays, meta["reverse_sequence"])
    np.savez(HERE / "tf_reference.npz", **arrays)
    (HERE / "tf_reference.json").write_text(json.dumps(meta, indent=1) + "\n")


if __name__ == "__main__":
    main()
