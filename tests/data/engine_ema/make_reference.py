"""Writes reference.json with real TensorFlow's tf.compat.v1.train.ExponentialMovingAverage (graph mode):
shadow values after each of 5 steps, and the names of the variables it creates.

    /work/peers/bin/python tests/data/engine_ema/make_reference.py   # any Python with tensorflow

`build(tf)` takes the TF1 namespace, so tests/test_engine_ema.py builds the same graph with `summaries`.
"""
import json
from pathlib import Path

import numpy as np

FEEDS = [[1.0, 2.0], [3.0, -1.0], [0.5, 0.5], [-2.0, 4.0], [10.0, 0.0]]


def build(tf):
    """Two variables and a fed tensor, averaged; the slow average waits on updates it must see."""
    w = tf.Variable([0.5, -0.5], name="w")
    b = tf.Variable(2.0, name="b")
    x = tf.placeholder(tf.float32, [2], name="x")
    mean = tf.reduce_mean(x, name="batch_mean")
    step = tf.Variable(0, trainable=False, name="step")
    move = tf.group(tf.assign(w, x), tf.assign_add(b, 1.0), tf.assign_add(step, 1))
    with tf.control_dependencies([move]):
        slow = tf.train.ExponentialMovingAverage(0.9, num_updates=step, name="slow")
        slow_op = slow.apply([w, b])
    fast = tf.train.ExponentialMovingAverage(0.5, zero_debias=True)
    fast_op = fast.apply([mean])
    return w, b, x, mean, slow, slow_op, fast, fast_op


def main():
    import tensorflow
    tf = tensorflow.compat.v1
    tf.disable_v2_behavior()
    w, b, x, mean, slow, slow_op, fast, fast_op = build(tf)
    out = {"feeds": FEEDS, "steps": [], "global_variables": sorted(v.op.name for v in tf.global_variables()),
           "restore": sorted(slow.variables_to_restore().keys())}
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for feed in FEEDS:
            sess.run([slow_op, fast_op], {x: feed})
            w_avg, b_avg, m_avg = sess.run([slow.average(w), slow.average(b), fast.average(mean)])
            out["steps"].append({"w": np.asarray(w_avg).tolist(), "b": float(b_avg), "mean": float(m_avg)})
    (Path(__file__).parent / "reference.json").write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
