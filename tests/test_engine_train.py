"""Optimizers against their published update rules, written out in numpy here (Kingma & Ba for Adam,
Sutskever et al. for Nesterov momentum, Duchi et al. for Adagrad, Hinton's RMSProp), plus the
minimize / compute_gradients / apply_gradients / global_step surface."""
from __future__ import annotations

import numpy as np
import pytest

import summaries as tf


pytestmark = pytest.mark.usefixtures("fresh_graph")


A = np.array([[3.0, 1.0], [1.0, 2.0]])
T = np.array([1.0, -2.0])
W0 = np.array([0.5, 0.5])


def loss_grad(w):
    """Gradient of 0.5 * ||A w - t||^2."""
    return A.T @ (A @ w - T)


def run_optimizer(opt, steps=5):
    w = tf.Variable(W0, dtype=tf.float64)
    loss = 0.5 * tf.reduce_sum(tf.square(tf.reshape(tf.matmul(tf.constant(A), tf.reshape(w, [2, 1])), [2]) - T))
    train = opt.minimize(loss)
    out = []
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(steps):
            sess.run(train)
            out.append(sess.run(w))
    return out


def reference(update, state, steps=5):
    w, out = W0.copy(), []
    for t in range(1, steps + 1):
        w, state = update(w, loss_grad(w), state, t)
        out.append(w.copy())
    return out


def test_gradient_descent():
    ours = run_optimizer(tf.train.GradientDescentOptimizer(0.05))
    ref = reference(lambda w, g, s, t: (w - 0.05 * g, s), None)
    np.testing.assert_allclose(ours, ref, rtol=1e-12)


@pytest.mark.parametrize("nesterov", [False, True])
def test_momentum(nesterov):
    ours = run_optimizer(tf.train.MomentumOptimizer(0.05, 0.9, use_nesterov=nesterov))

    def upd(w, g, v, t):
        v = 0.9 * v + g
        step = (g + 0.9 * v) if nesterov else v
        return w - 0.05 * step, v
    np.testing.assert_allclose(ours, reference(upd, np.zeros(2)), rtol=1e-12)


def test_adam():
    ours = run_optimizer(tf.train.AdamOptimizer(0.1))

    def upd(w, g, s, t):
        m, v = s
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        # TF1 keeps the beta powers in float32 variables, multiplied by beta each step.
        p1, p2 = np.float32(0.9), np.float32(0.999)
        for _ in range(t - 1):
            p1, p2 = np.float32(p1 * np.float32(0.9)), np.float32(p2 * np.float32(0.999))
        lr = 0.1 * np.sqrt(1 - np.float64(p2)) / (1 - np.float64(p1))
        return w - lr * m / (np.sqrt(v) + 1e-8), (m, v)
    np.testing.assert_allclose(ours, reference(upd, (np.zeros(2), np.zeros(2))), rtol=1e-9)


def test_adagrad():
    ours = run_optimizer(tf.train.AdagradOptimizer(0.2))

    def upd(w, g, acc, t):
        acc = acc + g * g
        return w - 0.2 * g / np.sqrt(acc), acc
    np.testing.assert_allclose(ours, reference(upd, np.full(2, 0.1)), rtol=1e-12)


@pytest.mark.parametrize("momentum", [0.0, 0.5])
def test_rmsprop(momentum):
    ours = run_optimizer(tf.train.RMSPropOptimizer(0.01, decay=0.9, momentum=momentum, epsilon=1e-10))

    def upd(w, g, s, t):
        ms, mom = s
        ms = 0.9 * ms + 0.1 * g * g
        mom = momentum * mom + 0.01 * g / np.sqrt(ms + 1e-10)
        return w - mom, (ms, mom)
    np.testing.assert_allclose(ours, reference(upd, (np.ones(2), np.zeros(2))), rtol=1e-10)


def test_compute_apply_gradients_and_global_step():
    x = tf.placeholder(tf.float32, [None, 1])
    w = tf.Variable([[2.0]])
    b = tf.Variable([0.0])
    unused = tf.Variable(1.0)
    loss = tf.reduce_mean(tf.square(tf.matmul(x, w) + b - 3.0))
    opt = tf.train.GradientDescentOptimizer(0.1)
    gv = opt.compute_gradients(loss)
    assert [v for _, v in gv] == [w, b, unused] and gv[2][0] is None
    step = tf.train.get_or_create_global_step()
    train = opt.apply_gradients(gv, global_step=step)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(3):
            sess.run(train, {x: [[1.0], [2.0]]})
        assert sess.run(step) == 3
        assert sess.run(unused) == 1.0


def test_minimize_without_gradients_is_an_error():
    v = tf.Variable(1.0)
    c = tf.constant(2.0)
    with pytest.raises(ValueError, match="No gradients provided"):
        tf.train.GradientDescentOptimizer(0.1).minimize(c * 1.0, var_list=[v])


def test_adam_slot_and_power_variable_names():
    with tf.variable_scope("layer1"):
        w = tf.get_variable("W", [3, 2])
    tf.train.AdamOptimizer().minimize(tf.reduce_sum(w))
    names = {v.op.name for v in tf.global_variables()}
    assert {"layer1/W", "layer1/W/Adam", "layer1/W/Adam_1", "beta1_power", "beta2_power"} <= names
    assert [v.op.name for v in tf.trainable_variables()] == ["layer1/W"]


def test_session_runs_blas_single_threaded_unless_told():
    """Small-batch matmuls run on one OpenBLAS thread (threads contend on shared 2-core machines)."""
    import os
    import subprocess
    import sys
    code = """
import ctypes, numpy
import summaries as tf
def threads():
    for path in {l.split()[-1] for l in open('/proc/self/maps') if 'openblas' in l.lower() and '.so' in l}:
        lib = ctypes.CDLL(path)
        for name in ('scipy_openblas_get_num_threads64_', 'openblas_get_num_threads64_', 'openblas_get_num_threads'):
            if hasattr(lib, name):
                return getattr(lib, name)()
before = threads()
tf.Session()
print(before, threads())
"""
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    before, after = out.split()
    assert before != "None", "numpy's OpenBLAS was not found (the PyPI numpy wheels bundle it)"
    assert after == "1"
    env["OPENBLAS_NUM_THREADS"] = "2"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.split()[1] == out.split()[0]  # the user's choice is left alone
