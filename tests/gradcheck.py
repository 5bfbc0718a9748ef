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


def check_loss_gradients(loss, inputs: dict, rtol: float = 1e-6, atol: float = 1e-8) -> None:
    """tf.gradients of the scalar tensor `loss` w.r.t. each placeholder in `inputs` (placeholder -> float64
    value) against central differences of the same graph."""
    import summaries as tf

    phs = list(inputs)
    grads = tf.gradients(loss, phs)
    assert all(g is not None for g in grads)
    with tf.Session() as sess:
        got = sess.run(grads, inputs)
        for ph, g in zip(phs, got):
            def f(v, ph=ph):
                return sess.run(loss, {**inputs, ph: v})
            np.testing.assert_allclose(g, numeric_grad(f, np.asarray(inputs[ph], np.float64)), rtol=rtol, atol=atol)


def check_directional_gradient(loss, ph, v: np.ndarray, eps: float = 1e-6, seed: int = 0) -> np.ndarray:
    """<tf.gradients(loss, ph), d> against a central difference of `loss` along one random direction d: a
    finite-difference check that stays cheap for long loops. Returns the gradient."""
    import summaries as tf

    g = tf.gradients(loss, ph)[0]
    d = np.random.default_rng(seed).normal(size=v.shape)
    with tf.Session() as sess:
        got = sess.run(g, {ph: v})
        want = (sess.run(loss, {ph: v + eps * d}) - sess.run(loss, {ph: v - eps * d})) / (2 * eps)
    assert got.shape == v.shape
    np.testing.assert_allclose(np.sum(got * d), want, rtol=1e-6, atol=1e-8)
    return got
