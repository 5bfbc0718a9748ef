"""Write tf_cases.npz: conv2d / max_pool / avg_pool cases computed by real TensorFlow (tf.compat.v1).

Run by hand, never by the tests (TensorFlow is not a test dependency):
    /work/peers/bin/python tests/data/engine_conv/make_tf_cases.py
For each case it stores the inputs, a random cotangent `r`, the forward output and the gradients of
sum(output * r), plus (key "attrs") the attrs TF writes on each op type in its GraphDef.
"""
import json
import os

import numpy as np
import tensorflow as tf

tf1 = tf.compat.v1
tf1.disable_eager_execution()

# (input NHWC, filter [kh, kw, in, out], strides (sh, sw), padding)
CONV = [((2, 5, 5, 3), (3, 3, 3, 4), (1, 1), "SAME"),
        ((1, 6, 7, 2), (3, 2, 2, 3), (2, 2), "SAME"),
        ((2, 7, 6, 1), (2, 3, 1, 2), (2, 1), "VALID"),
        ((1, 8, 8, 3), (4, 4, 3, 2), (3, 3), "SAME"),
        ((1, 4, 5, 2), (1, 1, 2, 3), (2, 2), "SAME"),
        ((2, 6, 6, 2), (3, 3, 2, 5), (2, 2), "VALID")]
# (op, input NHWC, ksize (kh, kw), strides (sh, sw), padding, ties)
POOL = [("max", (2, 5, 5, 3), (2, 2), (2, 2), "SAME", False),
        ("max", (1, 6, 7, 2), (3, 3), (2, 2), "SAME", False),
        ("max", (1, 7, 6, 2), (3, 2), (1, 2), "VALID", False),
        ("max", (2, 6, 6, 2), (2, 2), (2, 2), "VALID", True),
        ("max", (1, 5, 5, 1), (3, 3), (1, 1), "SAME", True),
        ("avg", (2, 5, 5, 3), (2, 2), (2, 2), "SAME", False),
        ("avg", (1, 6, 7, 2), (3, 3), (2, 2), "SAME", False),
        ("avg", (1, 7, 6, 2), (3, 2), (1, 2), "VALID", False),
        ("avg", (1, 4, 4, 1), (3, 3), (1, 1), "SAME", False)]


def main():
    rng = np.random.default_rng(7)
    out, cases, attrs = {}, [], {}
    for i, (xs, ws, (sh, sw), pad) in enumerate(CONV):
        g = tf1.Graph()
        with g.as_default():
            x = tf1.placeholder(tf.float32, xs)
            w = tf1.placeholder(tf.float32, ws)
            y = tf1.nn.conv2d(x, w, strides=[1, sh, sw, 1], padding=pad)
            r = tf1.placeholder(tf.float32, y.shape)
            dx, dw = tf1.gradients(tf1.reduce_sum(y * r), [x, w])
            xv = rng.standard_normal(xs).astype(np.float32)
            wv = rng.standard_normal(ws).astype(np.float32)
            rv = rng.standard_normal(y.shape.as_list()).astype(np.float32)
            with tf1.Session() as sess:
                yv, dxv, dwv = sess.run([y, dx, dw], {x: xv, w: wv, r: rv})
            attrs["Conv2D"] = {k: str(v) for k, v in y.op.node_def.attr.items()}
        out.update({f"conv{i}_{k}": v for k, v in dict(x=xv, w=wv, r=rv, y=yv, dx=dxv, dw=dwv).items()})
        cases.append({"key": f"conv{i}", "op": "conv2d", "strides": [1, sh, sw, 1], "padding": pad})
    for i, (kind, xs, (kh, kw), (sh, sw), pad, ties) in enumerate(POOL):
        g = tf1.Graph()
        with g.as_default():
            x = tf1.placeholder(tf.float32, xs)
            fn = tf1.nn.max_pool if kind == "max" else tf1.nn.avg_pool
            y = fn(x, ksize=[1, kh, kw, 1], strides=[1, sh, sw, 1], padding=pad)
            r = tf1.placeholder(tf.float32, y.shape)
            (dx,) = tf1.gradients(tf1.reduce_sum(y * r), [x])
            xv = rng.standard_normal(xs).astype(np.float32)
            if ties:  # few distinct values: windows hold repeated maxima, so the tie rule shows in dx
                xv = np.round(xv).astype(np.float32)
            rv = rng.standard_normal(y.shape.as_list()).astype(np.float32)
            with tf1.Session() as sess:
                yv, dxv = sess.run([y, dx], {x: xv, r: rv})
            attrs[y.op.type] = {k: str(v) for k, v in y.op.node_def.attr.items()}
        out.update({f"pool{i}_{k}": v for k, v in dict(x=xv, r=rv, y=yv, dx=dxv).items()})
        cases.append({"key": f"pool{i}", "op": f"{kind}_pool", "ksize": [1, kh, kw, 1],
                      "strides": [1, sh, sw, 1], "padding": pad})
    out["cases"] = np.array(json.dumps(cases))
    out["attrs"] = np.array(json.dumps(attrs, sort_keys=True))
    out["tf_version"] = np.array(tf.__version__)
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tf_cases.npz")
    np.savez_compressed(path, **out)
    print(f"wrote {path}: {len(cases)} cases, TensorFlow {tf.__version__}")


if __name__ == "__main__":
    main()
