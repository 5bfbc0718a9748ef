"""Write tf_reference.npz/.json: real TensorFlow's numbers for TF1's `tf.layers.batch_normalization`.

Run once with the peers venv (tensorflow-cpu 2.21): `/work/peers/bin/python make_tf_reference.py`.

TF 2.21 ships Keras 3, whose `tf.compat.v1.layers.batch_normalization` raises "not available with
Keras 3" (it needs the tf_keras package, not installed here). So this script wires the TF1 layer's graph
by hand from real TF1 graph-mode ops, following TF 1.x's `BatchNormalizationBase` (V1 behaviour:
fused=None means fused; `_bessels_correction_test_only=True`; non-eager `_assign_moving_average`):
  - variables via tf.compat.v1.get_variable in the layer's variable scope: gamma, beta (trainable),
    moving_mean, moving_variance (trainable=False: GLOBAL_VARIABLES only);
  - rank 2: nn.moments + nn.batch_normalization (moving variance fed the *biased* batch variance);
  - rank 4 NHWC float32: nn.fused_batch_norm (FusedBatchNormV3), whose batch-variance output, fed to the
    moving average unchanged, is what the real kernel returns (it is the *unbiased* one; checked below);
  - AssignMovingAvg: `moving -= (moving - stat) * (1 - momentum)`; with a bool-tensor `training` the
    momentum is cond(training, momentum, 1.0) and the stats are cond(training, batch, moving).
Every number stored is computed by TensorFlow's kernels.
"""
import json
import os

import numpy as np
import tensorflow as tf

v1 = tf.compat.v1
v1.disable_eager_execution()
v1.disable_resource_variables()   # TF1's ref variables, so update ops are AssignSub as in TF1
HERE = os.path.dirname(os.path.abspath(__file__))
MOMENTUM, EPS = 0.9, 1e-3
SHAPES = {"rank2": (6, 4), "rank4": (3, 2, 2, 4)}


def layer(x, training, name, gamma_init, beta_init):
    """The TF1 layer's graph (see the module docstring); returns output and the two update tensors."""
    nd = x.shape.ndims
    c = int(x.shape[-1])
    with v1.variable_scope(name):
        gamma = v1.get_variable("gamma", [c], tf.float32, v1.constant_initializer(gamma_init))
        beta = v1.get_variable("beta", [c], tf.float32, v1.constant_initializer(beta_init))
        mm = v1.get_variable("moving_mean", [c], tf.float32, v1.zeros_initializer(), trainable=False)
        mv = v1.get_variable("moving_variance", [c], tf.float32, v1.ones_initializer(), trainable=False)
        if nd == 4:
            def train_fn():
                return v1.nn.fused_batch_norm(x, gamma, beta, epsilon=EPS, is_training=True)

            def infer_fn():
                return v1.nn.fused_batch_norm(x, gamma, beta, mean=mm, variance=mv, epsilon=EPS, is_training=False)
            out, mean, var = v1.cond(training, train_fn, infer_fn)
            stat_mean, stat_var = mean, var
        else:
            bm, bv = v1.nn.moments(x, [0])
            mean = v1.cond(training, lambda: bm, lambda: tf.identity(mm))
            var = v1.cond(training, lambda: bv, lambda: tf.identity(mv))
            out = v1.nn.batch_normalization(x, mean, var, beta, gamma, EPS)
            stat_mean, stat_var = mean, var
        momentum = v1.cond(training, lambda: tf.constant(MOMENTUM), lambda: tf.constant(1.0))
        ups = []
        for var_, stat in ((mm, stat_mean), (mv, stat_var)):
            with tf.name_scope("AssignMovingAvg") as scope:
                ups.append(v1.assign_sub(var_, (var_ - stat) * (1.0 - momentum), name=scope))
        for u in ups:
            v1.add_to_collection(v1.GraphKeys.UPDATE_OPS, u)
        return out, ups


def main():
    rng = np.random.default_rng(1234)
    data = {}
    table = {"momentum": MOMENTUM, "epsilon": EPS, "variables": {}, "update_ops": {}}
    for key, shp in SHAPES.items():
        v1.reset_default_graph()
        c = shp[-1]
        gamma_init = rng.uniform(0.5, 2.0, c).astype(np.float32)
        beta_init = rng.normal(size=c).astype(np.float32)
        batches = [rng.normal(loc=1.5, scale=2.0, size=shp).astype(np.float32) for _ in range(3)]
        x = v1.placeholder(tf.float32, [None] + list(shp[1:]), name="x")
        training = v1.placeholder(tf.bool, [], name="training")
        out, ups = layer(x, training, "batch_normalization", gamma_init, beta_init)
        table["variables"][key] = [
            {"name": v.name, "shape": v.shape.as_list(), "trainable": v in v1.trainable_variables()}
            for v in v1.global_variables()]
        table["update_ops"][key] = [u.name for u in v1.get_collection(v1.GraphKeys.UPDATE_OPS)]
        with v1.Session() as sess:
            sess.run(v1.global_variables_initializer())
            mm, mv = v1.global_variables()[2:4]
            data[f"{key}/gamma_init"], data[f"{key}/beta_init"] = gamma_init, beta_init
            for i, b in enumerate(batches):
                data[f"{key}/batch{i}"] = b
            data[f"{key}/infer_out_initial"] = sess.run(out, {x: batches[0], training: False})
            sess.run(ups, {x: batches[0], training: False})   # must leave the moving stats alone
            data[f"{key}/stats_after_false"] = np.stack(sess.run([mm, mv]))
            for i, b in enumerate(batches):
                o, _ = sess.run([out, ups], {x: b, training: True})
                data[f"{key}/train_out{i}"] = o
            data[f"{key}/moving_after3"] = np.stack(sess.run([mm, mv]))
            data[f"{key}/infer_out_after3"] = sess.run(out, {x: batches[0], training: False})
        if key == "rank4":   # which variance does the fused kernel hand to the moving average?
            b = batches[0].reshape(-1, c)
            data["rank4/fused_batch_variance0"] = _first_step_var(b)
            table["rank4_fused_variance_is_unbiased"] = bool(np.allclose(
                data["rank4/fused_batch_variance0"], np.var(b, 0, ddof=1), rtol=1e-5))
    np.savez(os.path.join(HERE, "tf_reference.npz"), **data)
    with open(os.path.join(HERE, "tf_reference.json"), "w") as f:
        json.dump(table, f, indent=1, sort_keys=True)
    print(json.dumps(table, indent=1))


def _first_step_var(b):
    """Re-run one fused training step alone and return the variance output TF computed."""
    v1.reset_default_graph()
    x = tf.constant(b.reshape(1, 1, -1, b.shape[-1]))
    c = b.shape[-1]
    _, _, var = v1.nn.fused_batch_norm(x, tf.ones([c]), tf.zeros([c]), epsilon=EPS, is_training=True)
    with v1.Session() as sess:
        return sess.run(var)


if __name__ == "__main__":
    main()
