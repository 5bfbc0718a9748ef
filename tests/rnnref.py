"""Numpy references for the RNN engine tests: TF1's documented cell math (stepped by hand), state flattening
and seeded variable values, shared by test_engine_rnn*.py."""
from __future__ import annotations

import numpy as np

import summaries as tf


def sig(z):
    return 1.0 / (1.0 + np.exp(-z))


def flat_state(state) -> list:
    """A (nested) tuple state as the flat list of its tensors or arrays, depth first."""
    return [t for s in state for t in flat_state(s)] if isinstance(state, tuple) else [state]


def load_random(sess, rng: np.random.Generator, scale: float = 0.5, prefix: str = "") -> dict:
    """Give every global variable seeded normal values from `rng`; returns them keyed by name without
    `prefix` (full names by default)."""
    w = {}
    for v in tf.global_variables():
        value = rng.normal(scale=scale, size=v.shape.as_list()).astype(v.dtype.as_numpy_dtype)
        v.load(value, sess)
        w[v.op.name[len(prefix):] if prefix and v.op.name.startswith(prefix) else v.op.name] = value
    return w


def np_lstm(w, p, x, state, forget_bias=1.0, peep=False, clip=None, proj=False, proj_clip=None):
    """TF1's documented (Basic)LSTMCell math; `p` is the variable-name prefix (e.g. 'rnn/lstm_cell/')."""
    c, m = state
    i, j, f, o = np.split(np.concatenate([x, m], 1) @ w[p + "kernel"] + w[p + "bias"], 4, axis=1)
    if peep:
        f, i = f + w[p + "w_f_diag"] * c, i + w[p + "w_i_diag"] * c
    c = sig(f + forget_bias) * c + sig(i) * np.tanh(j)
    if clip is not None:
        c = np.clip(c, -clip, clip)
    if peep:
        o = o + w[p + "w_o_diag"] * c
    m = sig(o) * np.tanh(c)
    if proj:
        m = m @ w[p + "projection/kernel"]
        if proj_clip is not None:
            m = np.clip(m, -proj_clip, proj_clip)
    return m, (c, m)


def np_gru(w, p, x, h):
    """TF1's GRUCell math; `p` is the variable-name prefix (e.g. 'rnn/gru_cell/')."""
    r, u = np.split(sig(np.concatenate([x, h], 1) @ w[p + "gates/kernel"] + w[p + "gates/bias"]), 2, 1)
    c = np.tanh(np.concatenate([x, r * h], 1) @ w[p + "candidate/kernel"] + w[p + "candidate/bias"])
    h = u * h + (1 - u) * c
    return h, h
