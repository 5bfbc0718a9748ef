"""Write the reference checkpoints with real TensorFlow (run once with /work/peers/bin/python).

A tf.compat.v1 graph with float32/float64/int32/int64 variables, scalar and 2-D, one under a
scope, saved by `tf.compat.v1.train.Saver` (V2 format) at global steps 1 and 2 into `tf/`, so the
`checkpoint` file lists both. The values saved at each step go to `values.npz` as `<step>/<name>`.
A second graph of 24 small variables with shared name prefixes goes to `many/` (its values in
`many.npz`): more than 16 index entries, so the index block has several restart points.
"""
import os
import pathlib

import numpy as np
import tensorflow as tf

HERE = pathlib.Path(__file__).resolve().parent
OUT = HERE / "tf"


def fresh(directory: pathlib.Path) -> None:
    directory.mkdir(exist_ok=True)
    for f in directory.iterdir():
        f.unlink()


def save_many(tf1, rng) -> None:
    """24 variables dense_<i>/{kernel,bias}: prefix-compressed keys across restart points."""
    fresh(HERE / "many")
    with tf1.Graph().as_default():
        variables = {}
        for i in range(12):
            variables[f"dense_{i}/kernel"] = tf1.Variable(rng.standard_normal((2, 3)).astype(np.float32),
                                                          name=f"dense_{i}/kernel")
            variables[f"dense_{i}/bias"] = tf1.Variable(rng.standard_normal(3).astype(np.float32),
                                                        name=f"dense_{i}/bias")
        saver = tf1.train.Saver(save_relative_paths=True)
        with tf1.Session() as sess:
            sess.run(tf1.global_variables_initializer())
            saver.save(sess, str(HERE / "many" / "model.ckpt"), write_meta_graph=False)
            np.savez(HERE / "many.npz", **sess.run(variables))


def main() -> None:
    tf1 = tf.compat.v1
    tf1.disable_eager_execution()
    fresh(OUT)
    rng = np.random.default_rng(7)
    initial = {
        "weights": rng.standard_normal((3, 4)).astype(np.float32),
        "layer/bias": np.float64(0.25),
        "counts": rng.integers(-1000, 1000, (2, 5)).astype(np.int64),
        "layer/kernel": rng.standard_normal((4, 2)),
        "global_step": np.int64(0),
        "epoch": np.int32(3),
    }
    variables = {name: tf1.Variable(value, name=name) for name, value in initial.items()}
    bump = [v.assign_add(tf.ones_like(v)) for v in variables.values()]
    saver = tf1.train.Saver(save_relative_paths=True)
    saved = {}
    with tf1.Session() as sess:
        sess.run(tf1.global_variables_initializer())
        for step in (1, 2):
            sess.run(bump)
            saver.save(sess, str(OUT / "model.ckpt"), global_step=step, write_meta_graph=False)
            for name, value in sess.run(variables).items():
                saved[f"{step}/{name}"] = value
    np.savez(HERE / "values.npz", **saved)
    save_many(tf1, rng)
    print(sorted(os.listdir(OUT)))


if __name__ == "__main__":
    main()
