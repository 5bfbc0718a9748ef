"""Write tf_cases.npz: dilated/atrous conv2d, conv2d_transpose, conv1d and depthwise_conv2d computed by real
TensorFlow (tf.compat.v1), for tests/test_engine_conv_more.py.

Run by hand, never by the tests (TensorFlow is not a test dependency):
    /work/peers/bin/python tests/data/engine_conv_more/make_tf_cases.py
Each case stores its inputs (`in0`, `in1`), a random cotangent `r`, the forward output `y` and the
gradients `d0`, `d1` of sum(y * r); key "cases" holds the JSON list of (key, op, input shapes, kwargs).
"""
import json
import os

import numpy as np
import tensorflow as tf

tf1 = tf.compat.v1
tf1.disable_eager_execution()

# (op, [input shape, filter shape], keyword arguments of tf.compat.v1.nn.<op>)
CASES = [
    ("conv2d", [(2, 7, 7, 3), (3, 3, 3, 4)], dict(strides=[1, 1, 1, 1], padding="SAME", dilations=[1, 2, 2, 1])),
    ("conv2d", [(1, 9, 8, 2), (3, 2, 2, 3)], dict(strides=[1, 1, 1, 1], padding="VALID", dilations=[1, 3, 2, 1])),
    ("conv2d", [(1, 9, 9, 2), (3, 3, 2, 2)], dict(strides=[1, 2, 2, 1], padding="SAME", dilations=[1, 2, 2, 1])),
    ("atrous_conv2d", [(2, 8, 9, 2), (3, 3, 2, 3)], dict(rate=2, padding="SAME")),
    ("atrous_conv2d", [(1, 10, 10, 1), (2, 2, 1, 2)], dict(rate=3, padding="VALID")),
    ("conv2d_transpose", [(2, 4, 4, 2), (3, 3, 3, 2)], dict(output_shape=[2, 8, 8, 3], strides=[1, 2, 2, 1],
                                                             padding="SAME")),
    ("conv2d_transpose", [(1, 3, 4, 2), (3, 2, 1, 2)], dict(output_shape=[1, 7, 11, 1], strides=[1, 2, 3, 1],
                                                             padding="VALID")),
    ("conv2d_transpose", [(1, 4, 4, 3), (2, 2, 2, 3)], dict(output_shape=[1, 7, 8, 2], strides=[1, 2, 2, 1],
                                                             padding="SAME")),
    ("conv1d", [(2, 9, 3), (3, 3, 4)], dict(stride=2, padding="SAME")),
    ("conv1d", [(1, 11, 2), (2, 2, 3)], dict(stride=1, padding="VALID", dilations=3)),
    ("depthwise_conv2d", [(2, 6, 6, 3), (3, 3, 3, 2)], dict(strides=[1, 1, 1, 1], padding="SAME")),
    ("depthwise_conv2d", [(1, 7, 6, 2), (2, 3, 2, 1)], dict(strides=[1, 2, 2, 1], padding="VALID")),
    ("depthwise_conv2d", [(1, 8, 8, 2), (3, 3, 2, 3)], dict(strides=[1, 1, 1, 1], padding="SAME", rate=[2, 2])),
]


def main():
    rng = np.random.default_rng(11)
    out, cases = {}, []
    for i, (op, shapes, kwargs) in enumerate(CASES):
        key = f"case{i}"
        with tf1.Graph().as_default():
            phs = [tf1.placeholder(tf.float32, s) for s in shapes]
            y = getattr(tf1.nn, op)(*phs, **kwargs)
            r = tf1.placeholder(tf.float32, y.shape)
            grads = tf1.gradients(tf1.reduce_sum(y * r), phs)
            ins = [rng.standard_normal(s).astype(np.float32) for s in shapes]
            rv = rng.standard_normal(y.shape.as_list()).astype(np.float32)
            with tf1.Session() as sess:
                yv, *gv = sess.run([y] + grads, {**dict(zip(phs, ins)), r: rv})
        arrays = {"in0": ins[0], "in1": ins[1], "r": rv, "y": yv, "d0": gv[0], "d1": gv[1]}
        out.update({f"{key}_{k}": v for k, v in arrays.items()})
        cases.append({"key": key, "op": op, "kwargs": kwargs})
    out["cases"] = np.array(json.dumps(cases))
    out["tf_version"] = np.array(tf.__version__)
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tf_cases.npz")
    np.savez_compressed(path, **out)
    print(f"wrote {path}: {len(cases)} cases, TensorFlow {tf.__version__}")


if __name__ == "__main__":
    main()
