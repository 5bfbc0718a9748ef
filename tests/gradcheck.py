"""Central finite differences: the independent truth every engine gradient test compares against."""
from __future__ import annotations

import numpy as np


def numeric_grad(f, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """d f / d x of a scalar function `f` of the array `x`, one central difference per element
    (use float64 values: float32 cannot resolve eps)."""
    x = np.asarray(x)
    grad = np.zeros(x.shape, dtype=np.float64)
    for i in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[i] = eps
        grad[i] = (f(x + step) - f(x - step)) / (2 * eps)
    return grad


def numeric_grad_of_variable(sess, var, loss_fn, eps: float = 1e-6) -> np.ndarray:
    """Central differences of `loss_fn()` (a scalar, e.g. `lambda: sess.run(loss, feed)`) with respect to the
    variable `var`, loading each perturbed value into `sess`; the variable's value is restored afterwards."""
    value = sess.run(var)

    def at(v):
        var.load(v, sess)
        return loss_fn()
    try:
        return numeric_grad(at, value, eps)
    finally:
        var.load(value, sess)


def check_gradients(build, inputs, wrt=None, atol: float = 1e-6, rtol: float = 1e-5, eps: float = 1e-6,
                    seed: int = 0) -> None:
    """tf.gradients of sum(build(*xs) * r) (a fixed random r per output) equal central differences of the
    same graph, for the inputs `wrt` (all by default), fed as float64 placeholders."""
    import summaries as tf

    tf.reset_default_graph()
    rng = np.random.default_rng(seed)
    phs = [tf.placeholder(tf.float64, np.shape(v), name=f"in{i}") for i, v in enumerate(inputs)]
    y = build(*phs)
    ys = list(y) if isinstance(y, (list, tuple)) else [y]
    feed = dict(zip(phs, inputs))
    with tf.Session() as sess:  # an output's static shape may be unknown (e.g. boolean_mask)
        shapes = [np.shape(v) for v in sess.run(ys, feed)]
    loss = tf.add_n([tf.reduce_sum(t * tf.constant(rng.standard_normal(s), tf.float64)) for t, s in zip(ys, shapes)])
    wrt = list(range(len(inputs))) if wrt is None else list(wrt)
    grads = tf.gradients(loss, [phs[i] for i in wrt])
    missing = [i for i, g in zip(wrt, grads) if g is None]
    assert not missing, f"no gradient for inputs {missing}"
    with tf.Session() as sess:
        analytic = sess.run(grads, feed)
        for got, i in zip(analytic, wrt):
            want = numeric_grad(lambda v: sess.run(loss, {**feed, phs[i]: v}), inputs[i], eps)
            np.testing.assert_allclose(got, want, atol=atol, rtol=rtol, err_msg=f"input {i}")
