"""`tf.train.ExponentialMovingAverage`: shadow variables that follow variables or tensors, as TF1 builds them.

Each `apply()` adds one `AssignMovingAvg` op per value, `shadow -= (shadow - value) * (1 - decay)`. A
variable's shadow starts at the variable's initial value and a tensor's at zero; with `num_updates` the
decay is `min(decay, (1 + n) / (10 + n))`, so early averages are not pinned to where they started.
Evaluation code restores the averages into the model's variables with `variables_to_restore()`.
"""
from __future__ import annotations

from summaries.engine import dtypes as dt
from summaries.engine.array_ops import cast, zeros
from summaries.engine.control_flow import group
from summaries.engine.graph import GraphKeys, Operation, Tensor, convert_to_tensor, get_default_graph, name_scope
from summaries.engine.math_ops import divide, minimum, multiply, subtract
from summaries.engine.math_ops import pow as power
from summaries.engine.variables import (Variable, assign_add, assign_sub, global_variables, slot_variable,
                                        trainable_variables)

_FLOATS = (dt.float16, dt.float32, dt.float64)


def _current(value, dtype=None) -> Tensor:
    """A variable's value when the reading op runs (after the updates it depends on), else the tensor."""
    return value.read_value() if isinstance(value, Variable) else convert_to_tensor(value, dtype)


def _zero_debiased_delta(shadow: Variable, value: Tensor, one_minus_decay: Tensor) -> Tensor:
    """TF1's zero debiasing: a `biased` average from zero and a `local_step` count give the unbiased one,
    `biased / (1 - decay ** step)`; the returned delta moves `shadow` onto it."""
    shape = shadow.shape.as_list()
    biased = slot_variable(shadow, lambda: zeros(shape, shadow.dtype), "biased")
    step = slot_variable(shadow, lambda: zeros([], shadow.dtype), "local_step")
    new_biased = assign_sub(biased, multiply(subtract(biased.read_value(), value), one_minus_decay))
    new_step = assign_add(step, 1.0)
    unbiased = divide(new_biased, subtract(1.0, power(subtract(1.0, one_minus_decay), new_step)))
    return subtract(shadow.read_value(), unbiased)


def assign_moving_average(variable: Variable, value, decay, zero_debias: bool = True, name=None) -> Tensor:
    """`variable -= (variable - value) * (1 - decay)` in an `AssignMovingAvg` scope; returns the new value."""
    with name_scope(name or "AssignMovingAvg") as scope:
        # a Python decay is taken in the variable's dtype (TF1 rounds it through float32 first)
        one_minus_decay = (subtract(1.0, decay) if isinstance(decay, Tensor) else
                           convert_to_tensor(1.0 - decay, variable.dtype, name="decay"))
        if one_minus_decay.dtype != variable.dtype:
            one_minus_decay = cast(one_minus_decay, variable.dtype)
        value = _current(value, variable.dtype)
        if zero_debias:
            delta = _zero_debiased_delta(variable, value, one_minus_decay)
        else:
            delta = multiply(subtract(variable.read_value(), value), one_minus_decay)
        return assign_sub(variable, delta, name=scope)


class ExponentialMovingAverage:
    """`tf.train.ExponentialMovingAverage(decay, num_updates=None, zero_debias=False)`."""

    def __init__(self, decay, num_updates=None, zero_debias: bool = False, name: str = "ExponentialMovingAverage"):
        self._decay = decay
        self._num_updates = num_updates
        self._zero_debias = zero_debias
        self._name = name
        self._averages: dict[int, tuple] = {}  # id(var or tensor) -> (it, its shadow variable)

    @property
    def name(self) -> str:
        return self._name

    def apply(self, var_list=None) -> Operation:
        """Create the shadows (once per value) and return an op that moves every one toward its value."""
        var_list = list(trainable_variables() if var_list is None else var_list)
        for var in var_list:
            if var.dtype not in _FLOATS:
                raise TypeError(f"The variables must be half, float, or double: {var.name}")
            if id(var) in self._averages:
                raise ValueError(f"Moving average already computed for: {var.name}")
            if isinstance(var, Variable):
                shadow = slot_variable(var, var.initialized_value(), self._name)
                get_default_graph().add_to_collection(GraphKeys.MOVING_AVERAGE_VARIABLES, var)
            else:
                shape = var.shape.as_list()
                if shape is None or None in shape:
                    raise ValueError(f"Moving average of {var.name} needs a fully defined shape, not {var.shape}")
                shadow = slot_variable(var, lambda: zeros(shape, var.dtype), self._name)
            self._averages[id(var)] = (var, shadow)
        with name_scope(self._name) as scope:
            decay = convert_to_tensor(self._decay, name="decay")
            if self._num_updates is not None:
                n = cast(_current(self._num_updates), dt.float32, name="num_updates")
                decay = minimum(decay, divide(1.0 + n, 10.0 + n))
            updates = []
            for var in var_list:
                shadow = self._averages[id(var)][1]
                # a tensor's shadow starts at zero, so it is zero-debiased (a variable's starts at its value)
                updates.append(assign_moving_average(shadow, var, decay,
                                                     zero_debias=self._zero_debias and not isinstance(var, Variable)))
            return group(*updates, name=scope)

    def average(self, var):
        """The shadow variable of `var` (None if `apply` did not see it)."""
        entry = self._averages.get(id(var))
        return entry[1] if entry else None

    def average_name(self, var) -> str:
        return f"{var.op.name}/{self._name}"

    def variables_to_restore(self, moving_avg_variables=None) -> dict:
        """Checkpoint names -> variables, as TF1 maps them: each averaged variable (by default every
        trainable one) is restored from its shadow's name, every other global variable from its own."""
        if moving_avg_variables is None:
            moving_avg_variables = trainable_variables() + \
                get_default_graph().get_collection(GraphKeys.MOVING_AVERAGE_VARIABLES)
        out = {self.average_name(v): v for v in moving_avg_variables}
        averaged = {id(v) for v in moving_avg_variables}
        for v in global_variables():
            if id(v) not in averaged and v.op.name not in out:
                out[v.op.name] = v
        return out
