"""Random ops (random_normal, truncated_normal, random_uniform, random_shuffle) with TF1's seed rule:
each op draws from its own generator in the session, seeded from (graph seed, op seed)."""
from __future__ import annotations

import numpy as np

from summaries.engine import dtypes as dt
from summaries.engine.array_ops import _static_shape, constant
from summaries.engine.dtypes import TensorShape, as_dtype
from summaries.engine.graph import (Tensor, convert_to_tensor, get_default_graph, name_scope, no_gradient,
                                    simple_op)

DEFAULT_GRAPH_SEED = 87654321

# ---- random ops ------------------------------------------------------------------------------------
def get_seed(op_seed):
    """TF1's (graph seed, op seed) rule, so `tf.set_random_seed` makes every run repeat."""
    g = get_default_graph()
    if g.seed is not None:
        return g.seed, (len(g._ops) if op_seed is None else op_seed)
    if op_seed is not None:
        return DEFAULT_GRAPH_SEED, op_seed
    return None, None


def _random(op_type, shape, dtype, seed, draw):
    """An op drawing from the session's generator for this op; `draw(rng, shape)` makes the array."""
    seed1, seed2 = get_seed(seed)
    shp = _static_shape(shape)
    shape_t = shape if isinstance(shape, Tensor) else constant(shp, dt.int32, name="shape")
    attrs = {"dtype": dtype, "seed": seed1 or 0, "seed2": seed2 or 0, "T": dt.int32}
    if shp is not None:
        shp = tuple(shp)

        def factory(sess, _op=[None]):
            rng = sess._rng_for(op_ref[0], seed1, seed2)
            return lambda: draw(rng, shp)
        exec_idx, out_shape = (), shp
    else:
        def factory(sess):
            rng = sess._rng_for(op_ref[0], seed1, seed2)
            return lambda s: draw(rng, tuple(int(d) for d in s))
        exec_idx, out_shape = None, TensorShape(None)
    op_ref = [None]
    op = simple_op(op_type, [shape_t], dtype, out_shape, None, attrs=attrs, exec_idx=exec_idx, factory=factory)
    op_ref[0] = op
    return op.outputs[0]


def random_normal(shape, mean=0.0, stddev=1.0, dtype=dt.float32, seed=None, name=None) -> Tensor:
    dtype = as_dtype(dtype)
    with name_scope(name or "random_normal") as scope:
        mean_t = convert_to_tensor(mean, dtype, name="mean")
        std_t = convert_to_tensor(stddev, dtype, name="stddev")
        rnd = _random("RandomStandardNormal", shape, dtype, seed,
                      lambda rng, s: rng.standard_normal(s, dtype=dtype.np))
        from summaries.engine.math_ops import add, multiply
        return add(multiply(rnd, std_t, name="mul"), mean_t, name=scope)


def _truncated(rng, s, np_type):
    out = rng.standard_normal(s, dtype=np_type)
    bad = np.abs(out) > 2
    while bad.any():
        out[bad] = rng.standard_normal(int(bad.sum()), dtype=np_type)
        bad = np.abs(out) > 2
    return out


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=dt.float32, seed=None, name=None) -> Tensor:
    dtype = as_dtype(dtype)
    with name_scope(name or "truncated_normal") as scope:
        mean_t = convert_to_tensor(mean, dtype, name="mean")
        std_t = convert_to_tensor(stddev, dtype, name="stddev")
        rnd = _random("TruncatedNormal", shape, dtype, seed, lambda rng, s: _truncated(rng, s, dtype.np))
        from summaries.engine.math_ops import add, multiply
        return add(multiply(rnd, std_t, name="mul"), mean_t, name=scope)


def random_uniform(shape, minval=0, maxval=None, dtype=dt.float32, seed=None, name=None) -> Tensor:
    dtype = as_dtype(dtype)
    if dtype.is_integer:
        if maxval is None:
            raise ValueError("Must specify maxval for integer dtype")
        with name_scope(name or "random_uniform"):
            lo, hi = int(minval), int(maxval)
            return _random("RandomUniformInt", shape, dtype, seed,
                           lambda rng, s: rng.integers(lo, hi, size=s, dtype=dtype.np))
    maxval = 1.0 if maxval is None else maxval
    with name_scope(name or "random_uniform") as scope:
        lo = convert_to_tensor(minval, dtype, name="min")
        hi = convert_to_tensor(maxval, dtype, name="max")
        rnd = _random("RandomUniform", shape, dtype, seed, lambda rng, s: rng.random(s, dtype=dtype.np))
        from summaries.engine.math_ops import add, multiply, subtract
        return add(multiply(rnd, subtract(hi, lo, name="sub"), name="mul"), lo, name=scope)


def random_shuffle(value, seed=None, name=None) -> Tensor:
    x = convert_to_tensor(value)
    seed1, seed2 = get_seed(seed)
    ref = []
    op = simple_op("RandomShuffle", [x], x.dtype, x.shape, None, name=name,
                   factory=lambda sess: (lambda v, rng=sess._rng_for(ref[0], seed1, seed2): rng.permutation(v)))
    ref.append(op)
    return op.outputs[0]


no_gradient("RandomUniformInt", "RandomShuffle")
