"""Reference numbers and graph nodes for tests/test_engine_cond.py, written by real TensorFlow.

TF1 graph mode with v1 control flow (Switch/Merge). Run once with a Python that has tensorflow:
    /work/peers/bin/python tests/data/engine_cond/make_reference.py
It writes reference.npz (inputs, values, gradients, moving averages) and graph.json (cond nodes).
Every graph builder takes the `tf` module, so the test builds the very same graphs with `summaries`.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
RNG = np.random.default_rng(7)
INPUTS = {"x": RNG.normal(size=(3, 4)), "w": RNG.normal(size=(4, 2)), "a": RNG.normal(size=2),
          "batches": RNG.normal(size=(5, 6, 3)) * 2.0 + 1.0}
TRAINING = [True, False, True, True, False]
DECAY = 0.9


def scalar_case(tf):
    """The sqrt/NaN case: the untaken branch's infinite local gradient must not leak."""
    x = tf.placeholder(tf.float64, [], name="x")
    y = tf.cond(x > 0, lambda: tf.sqrt(x) * 3.0, lambda: -x + 1.0)
    return x, y, tf.gradients(y, x)[0]


def matrix_case(tf):
    p = tf.placeholder(tf.bool, [], name="p")
    x = tf.placeholder(tf.float64, [3, 4], name="x")
    w = tf.placeholder(tf.float64, [4, 2], name="w")
    y = tf.cond(p, lambda: tf.reduce_sum(tf.tanh(tf.matmul(x, w))),
                lambda: 0.5 * tf.reduce_sum(x * x) + tf.reduce_sum(w))
    return p, x, w, y, tf.gradients(y, [x, w])


def nested_case(tf):
    """Nested conds returning tuples; `a` is used in every branch and outside."""
    p = tf.placeholder(tf.bool, [], name="p")
    q = tf.placeholder(tf.bool, [], name="q")
    a = tf.placeholder(tf.float64, [2], name="a")
    u, s = tf.cond(p, lambda: tf.cond(q, lambda: (a * 2.0, tf.reduce_sum(a)),
                                      lambda: (tf.exp(a), tf.reduce_sum(a * a))),
                   lambda: (a - 1.0, tf.constant(7.0, tf.float64)))
    loss = tf.reduce_sum(u * u) + s * s + tf.reduce_sum(a)
    return p, q, a, loss, tf.gradients(loss, a)[0]


def batchnorm_case(tf):
    """Moving averages updated under control_dependencies inside the training branch only."""
    x = tf.placeholder(tf.float64, [None, 3], name="x")
    training = tf.placeholder(tf.bool, [], name="is_training")
    ma_mean = tf.Variable(np.zeros(3), name="ma_mean")
    ma_var = tf.Variable(np.ones(3), name="ma_var")
    mean, var = tf.nn.moments(x, [0])

    def update_and_identity():
        um = tf.assign(ma_mean, ma_mean * DECAY + mean * (1 - DECAY))
        uv = tf.assign(ma_var, ma_var * DECAY + var * (1 - DECAY))
        with tf.control_dependencies([um, uv]):
            return tf.identity(mean), tf.identity(var)

    m, v = tf.cond(training, update_and_identity, lambda: (ma_mean, ma_var))
    return x, training, ma_mean, ma_var, m, v


def graph_case(tf):
    """A small cond whose node names and types the test compares with TF1's GraphDef."""
    x = tf.placeholder(tf.float32, [], name="x")
    w = tf.placeholder(tf.float32, [], name="w")
    c = tf.constant(3.0, name="c")
    y = tf.cond(x > 0, lambda: tf.sqrt(x) * c, lambda: w + 1.0)
    tf.gradients(y, [x, w])


def cond_nodes(graph_def) -> list:
    """(name, op, inputs) of the Switch/Merge machinery, the part that must look like TF1's."""
    keep = []
    for n in graph_def.node:
        if n.op in ("Switch", "Merge") and (n.name.startswith("cond/") or n.name.endswith("/cond_grad")) \
                or n.name in ("cond/switch_t", "cond/switch_f", "cond/pred_id"):
            keep.append([n.name, n.op, list(n.input)])
    return keep


def run(tf) -> tuple[dict, list]:
    """Values and gradients of every case (the test calls this with `summaries`)."""
    out = {}
    with tf.Graph().as_default(), tf.Session() as sess:
        x, y, g = scalar_case(tf)
        for v in (4.0, -4.0, 0.25):
            out[f"scalar_y_{v}"], out[f"scalar_g_{v}"] = sess.run([y, g], {x: v})
    with tf.Graph().as_default(), tf.Session() as sess:
        p, x, w, y, gs = matrix_case(tf)
        for flag in (True, False):
            out[f"matrix_y_{flag}"], (out[f"matrix_gx_{flag}"], out[f"matrix_gw_{flag}"]) = sess.run(
                [y, gs], {p: flag, x: INPUTS["x"], w: INPUTS["w"]})
    with tf.Graph().as_default(), tf.Session() as sess:
        p, q, a, loss, ga = nested_case(tf)
        for fp in (True, False):
            for fq in (True, False):
                out[f"nested_loss_{fp}_{fq}"], out[f"nested_g_{fp}_{fq}"] = sess.run(
                    [loss, ga], {p: fp, q: fq, a: INPUTS["a"]})
    with tf.Graph().as_default(), tf.Session() as sess:
        x, training, ma_mean, ma_var, m, v = batchnorm_case(tf)
        sess.run(tf.global_variables_initializer())
        for i, (batch, flag) in enumerate(zip(INPUTS["batches"], TRAINING)):
            out[f"bn_m_{i}"], out[f"bn_v_{i}"] = sess.run([m, v], {x: batch, training: flag})
            out[f"bn_ma_mean_{i}"], out[f"bn_ma_var_{i}"] = sess.run([ma_mean, ma_var])
    with tf.Graph().as_default() as g:
        graph_case(tf)
        nodes = cond_nodes(g.as_graph_def())
    return out, nodes


if __name__ == "__main__":
    import tensorflow

    tf1 = tensorflow.compat.v1
    tf1.disable_eager_execution()
    tf1.disable_control_flow_v2()
    values, nodes = run(tf1)
    np.savez(HERE / "reference.npz", **values, **{f"input_{k}": v for k, v in INPUTS.items()})
    (HERE / "graph.json").write_text(json.dumps({"tensorflow": tensorflow.__version__, "nodes": nodes}, indent=1))
