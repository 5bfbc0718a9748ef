"""Write tf_names.json: the variables and output tensors real TF1 `tf.layers` makes for a few small programs.

Run by hand, never by the tests (TensorFlow is not a test dependency). TF 2.16+ serves `tf.compat.v1.layers`
only through Keras 2, so tf-keras must be importable next to tensorflow:
    pip install --target /tmp/layers_helper_tfk --no-deps tf-keras==2.21.0
    PYTHONPATH=/tmp/layers_helper_tfk /work/peers/bin/python tests/data/engine_layers/make_tf_names.py
The programs are the functions in CASES; each takes the `tf` module, so tests/test_engine_layers.py runs the
very same code with `import summaries as tf` and compares. Each returns [(label, tensor, exact)]: with
exact False (dropout while training) only the layer's scope is compared, as TF's dropout is several ops.
"""
import json
import os
from pathlib import Path


def dense_names(tf):
    x = tf.placeholder(tf.float32, [None, 4], name="x")
    a = tf.layers.dense(x, 3, activation=tf.nn.relu)
    b = tf.layers.dense(a, 2)
    c = tf.layers.dense(x, 3, name="fc")
    d = tf.layers.dense(x, 3, name="fc", reuse=True)
    e = tf.layers.dense(x, 5, use_bias=False, trainable=False)
    f = tf.layers.dense(x, 3, reuse=True)  # no name: shares `dense`
    return [("relu", a, True), ("logits", b, True), ("fc", c, True), ("fc_again", d, True),
            ("no_bias", e, True), ("shared", f, True)]


def lab_cnn(tf):
    """The layers of lab 11-4's Model._build_net, in its variable scope."""
    with tf.variable_scope("m1"):
        training = tf.placeholder(tf.bool)
        x = tf.placeholder(tf.float32, [None, 784])
        img = tf.reshape(x, [-1, 28, 28, 1])
        c1 = tf.layers.conv2d(inputs=img, filters=32, kernel_size=[3, 3], padding="SAME", activation=tf.nn.relu)
        p1 = tf.layers.max_pooling2d(inputs=c1, pool_size=[2, 2], padding="SAME", strides=2)
        d1 = tf.layers.dropout(inputs=p1, rate=0.3, training=training)
        c2 = tf.layers.conv2d(inputs=d1, filters=64, kernel_size=[3, 3], padding="same", activation=tf.nn.relu)
        p2 = tf.layers.max_pooling2d(inputs=c2, pool_size=[2, 2], padding="same", strides=2)
        d2 = tf.layers.dropout(inputs=p2, rate=0.3, training=training)
        flat = tf.layers.flatten(d2)
        h = tf.layers.dense(inputs=flat, units=625, activation=tf.nn.relu)
        d3 = tf.layers.dropout(inputs=h, rate=0.5, training=training)
        logits = tf.layers.dense(inputs=d3, units=10)
    return [("conv1", c1, True), ("pool1", p1, True), ("drop1", d1, False), ("conv2", c2, True),
            ("pool2", p2, True), ("drop2", d2, False), ("flat", flat, True), ("dense", h, True),
            ("drop3", d3, False), ("logits", logits, True)]


def conv_pool_variants(tf):
    x = tf.placeholder(tf.float64, [2, 9, 9, 3], name="x")
    a = tf.layers.conv2d(x, 4, (3, 2), strides=(2, 1), padding="valid")
    b = tf.layers.conv2d(a, 5, 1, use_bias=False, name="one_by_one")
    c = tf.layers.average_pooling2d(b, 2, 2, padding="same")
    d = tf.layers.max_pooling2d(c, (2, 3), 1, padding="SAME", name="pool")
    e = tf.layers.max_pooling2d(c, 2, 1, name="pool")
    f = tf.layers.flatten(e)
    return [("conv", a, True), ("conv_1x1", b, True), ("avg", c, True), ("pool", d, True), ("pool_again", e, True),
            ("flat", f, True)]


def scopes(tf):
    """Variable scopes ignore name scopes; unnamed layers count per enclosing variable scope."""
    x = tf.placeholder(tf.float32, [None, 6], name="x")
    with tf.name_scope("ns"):
        a = tf.layers.dense(x, 3)
    with tf.variable_scope("outer"):
        b = tf.layers.dense(x, 2)
        with tf.variable_scope("inner"):
            c = tf.layers.dense(x, 2)
        d = tf.layers.dense(x, 2)
    e = tf.layers.dropout(x, 0.1, training=True)
    return [("ns_dense", a, True), ("outer", b, True), ("inner", c, True), ("outer_again", d, True),
            ("dropout", e, False)]


def taken_name_scope(tf):
    """A layer's ops take the next free name scope of its class name, apart from its variable scope's name."""
    x = tf.placeholder(tf.float32, [None, 6], name="x")
    tf.nn.dropout(x, rate=0.1)  # takes the name scope `dropout`, not the variable scope
    a = tf.layers.dropout(x, 0.1, training=True)
    b = tf.layers.dropout(x, 0.1)
    return [("first", a, False), ("second", b, True)]


def reentered_scope_reuse(tf):
    """The TF1 GAN idiom: a re-entered scope with reuse=True shares its unnamed layers (dense, dense_1)."""
    x = tf.placeholder(tf.float32, [None, 4], name="x")
    outs = []
    for reuse in (False, True):
        with tf.variable_scope("D", reuse=reuse):
            outs.append(tf.layers.dense(tf.layers.dense(x, 3), 1))
    return [("first", outs[0], True), ("second", outs[1], True)]


CASES = [dense_names, lab_cnn, conv_pool_variants, scopes, taken_name_scope, reentered_scope_reuse]


def duplicate_name(tf):
    x = tf.placeholder(tf.float32, [None, 4], name="x")
    tf.layers.dense(x, 3, name="fc")
    tf.layers.dense(x, 3, name="fc")


def describe(tf, case):
    g = tf.Graph()
    with g.as_default():
        outs = case(tf)
        return {"outputs": [{"label": label, "name": t.name, "shape": t.shape.as_list(), "exact": exact}
                            for label, t, exact in outs],
                "variables": [{"name": v.name, "shape": v.shape.as_list(), "dtype": v.dtype.base_dtype.name,
                               "trainable": any(v is w for w in tf.trainable_variables())}
                              for v in tf.global_variables()]}


def main():
    os.environ["TF_USE_LEGACY_KERAS"] = "1"
    import tensorflow.compat.v1 as tf
    tf.disable_eager_execution()
    table = {case.__name__: describe(tf, case) for case in CASES}
    with tf.Graph().as_default():
        try:
            duplicate_name(tf)
        except ValueError as e:
            table["duplicate_name"] = {"error": "ValueError", "message": str(e).split("\n")[0]}
    path = Path(__file__).with_name("tf_names.json")
    path.write_text(json.dumps(table, indent=1) + "\n")
    print(f"wrote {path}: {', '.join(table)}")


if __name__ == "__main__":
    main()
