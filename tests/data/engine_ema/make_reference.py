"""Writes reference.json with real TensorFlow's tf.compat.v1.train.ExponentialMovingAverage (graph mode):
shadow values after each of 5 steps, and the names of the variables it creates.

    /work/peers/bin/python tests/data/engine_ema/make_reference.py   # any Python with tensorflow
"""
import json
from pathlib import Path

import numpy as np
import tensorflow as tf

v1 = tf.compat.v1
v1.disable_v2_behavior()

FEEDS = [[1.0, 2.0], [3.0, -1.0], [0.5, 0.5], [-2.0, 4.0], [10.0, 0.0]]


def build():
    """The same graph the test builds with `summaries`: two variables and a fed tensor, averaged."""
    w = v1.Variable([0.5, -0.5], name="w")
    b = v1.Variable(2.0, name="b")
    x = v1.placeholder(tf.float32, [2], name="x")
    mean = tf.reduce_mean(x, name="batch_mean")
    step = v1.Variable(0, trainable=False, name="step")
    move = v1.group(v1.assign(w, x), v1.assign_add(b, 1.0), v1.assign_add(step, 1))
    with v1.control_dependencies([move]):
        slow = v1.train.ExponentialMovingAverage(0.9, num_updates=step, name="slow")
        slow_op = slow.apply([w, b])
    fast = v1.train.ExponentialMovingAverage(0.5, zero_debias=True)
    fast_op = fast.apply([mean])
    return w, b, x, mean, slow, slow_op, fast, fast_op


def main():
    w, b, x, mean, slow, slow_op, fast, fast_op = build()
    out = {"feeds": FEEDS, "steps": [], "global_variables": sorted(v.op.name for v in v1.global_variables()),
           "restore": sorted(slow.variables_to_restore().keys())}
    with v1.Session() as sess:
        sess.run(v1.global_variables_initializer())
        for feed in FEEDS:
            sess.run([slow_op, fast_op], {x: feed})
            w_avg, b_avg, m_avg = sess.run([slow.average(w), slow.average(b), fast.average(mean)])
            out["steps"].append({"w": np.asarray(w_avg).tolist(), "b": float(b_avg), "mean": float(m_avg)})
    (Path(__file__).parent / "reference.json").write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
