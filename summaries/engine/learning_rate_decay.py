"""`tf.train` learning-rate schedules (exponential, natural-exp, inverse-time, polynomial, cosine decay and
piecewise constant), built from graph ops with TF1's formulas so they follow a global step tensor."""
from __future__ import annotations

import math

from summaries.engine import dtypes as dt
from summaries.engine.array_ops import cast, constant, where
from summaries.engine.graph import convert_to_tensor, name_scope
from summaries.engine.math_ops import (add, ceil, cos, equal, exp, floor, greater, minimum, multiply, negative, pow,
                                       subtract, truediv)


def _decay_inputs(op: str, learning_rate, global_step, decay_steps):
    """The learning rate as a tensor and step / decay_steps in its dtype (TF1's first lines of each schedule)."""
    if global_step is None:
        raise ValueError(f"global_step is required for {op}.")
    lr = convert_to_tensor(learning_rate, name="learning_rate")
    return lr, cast(global_step, lr.dtype), cast(decay_steps, lr.dtype)


def _fraction(step, steps, staircase: bool):
    """step / decay_steps, floored when `staircase` (the exponential and inverse-time schedules)."""
    p = truediv(step, steps)
    return floor(p) if staircase else p


def exponential_decay(learning_rate, global_step, decay_steps, decay_rate, staircase=False, name=None):
    """lr * decay_rate ** (step / decay_steps) (the exponent floored when `staircase`)."""
    with name_scope(name or "ExponentialDecay") as scope:
        lr, step, steps = _decay_inputs("exponential_decay", learning_rate, global_step, decay_steps)
        return multiply(lr, pow(cast(decay_rate, lr.dtype), _fraction(step, steps, staircase)), name=scope)


def natural_exp_decay(learning_rate, global_step, decay_steps, decay_rate, staircase=False, name=None):
    """lr * exp(-decay_rate * step / decay_steps) (the exponent floored when `staircase`)."""
    with name_scope(name or "NaturalExpDecay") as scope:
        lr, step, steps = _decay_inputs("natural_exp_decay", learning_rate, global_step, decay_steps)
        p = _fraction(step, steps, staircase)
        return multiply(lr, exp(multiply(negative(cast(decay_rate, lr.dtype)), p)), name=scope)


def inverse_time_decay(learning_rate, global_step, decay_steps, decay_rate, staircase=False, name=None):
    """lr / (1 + decay_rate * step / decay_steps) (the ratio floored when `staircase`)."""
    with name_scope(name or "InverseTimeDecay") as scope:
        lr, step, steps = _decay_inputs("inverse_time_decay", learning_rate, global_step, decay_steps)
        p = _fraction(step, steps, staircase)
        return truediv(lr, add(1.0, multiply(cast(decay_rate, lr.dtype), p)), name=scope)


def polynomial_decay(learning_rate, global_step, decay_steps, end_learning_rate=0.0001, power=1.0, cycle=False,
                     name=None):
    """(lr - end) * (1 - step / decay_steps) ** power + end, the step capped at decay_steps; with `cycle`
    decay_steps grows to the first multiple above the step instead (1x at step 0)."""
    with name_scope(name or "PolynomialDecay") as scope:
        lr, step, steps = _decay_inputs("polynomial_decay", learning_rate, global_step, decay_steps)
        end, pw = cast(end_learning_rate, lr.dtype), cast(power, lr.dtype)
        if cycle:
            mult = where(equal(step, 0.0), constant(1.0, lr.dtype), ceil(truediv(step, steps)))
            steps = multiply(steps, mult)
        else:
            step = minimum(step, steps)
        p = truediv(step, steps)
        return add(multiply(subtract(lr, end), pow(subtract(1.0, p), pw)), end, name=scope)


def cosine_decay(learning_rate, global_step, decay_steps, alpha=0.0, name=None):
    """lr * ((1 - alpha) * 0.5 * (1 + cos(pi * min(step, decay_steps) / decay_steps)) + alpha)."""
    with name_scope(name or "CosineDecay") as scope:
        lr, step, steps = _decay_inputs("cosine_decay", learning_rate, global_step, decay_steps)
        fraction = truediv(minimum(step, steps), steps)
        cosine = multiply(0.5, add(1.0, cos(multiply(constant(math.pi, lr.dtype), fraction))))
        decayed = add(multiply(1.0 - alpha, cosine), alpha)
        return multiply(lr, decayed, name=scope)


def piecewise_constant(x, boundaries, values, name=None):
    """values[0] while x <= boundaries[0], values[i] for boundaries[i-1] < x <= boundaries[i], values[-1]
    after the last boundary; a chain of Selects (TF1 builds a tf.case with the same predicates)."""
    if len(boundaries) != len(values) - 1:
        raise ValueError("The length of boundaries should be 1 less than the length of values")
    with name_scope(name or "PiecewiseConstant"):
        xt = convert_to_tensor(x)
        bs = [convert_to_tensor(b) for b in boundaries]
        vs = [convert_to_tensor(v) for v in values]
        for i, b in enumerate(bs):
            if b.dtype is not xt.dtype:
                if b.dtype is dt.int32 and xt.dtype is dt.int64:
                    bs[i] = cast(b, dt.int64)
                else:
                    raise ValueError(f"Boundaries ({b.dtype.name}) must have the same dtype as x "
                                     f"({xt.dtype.name}).")
        for v in vs[1:]:
            if v.dtype is not vs[0].dtype:
                raise ValueError(f"Values must have elements all with the same dtype ({vs[0].dtype.name} vs "
                                 f"{v.dtype.name}).")
        out = vs[0]
        for b, v in zip(bs, vs[1:]):
            out = where(greater(xt, b), v, out)
        return out
