"""`tf.metrics` (mean, accuracy): streaming metrics over local variables, as TF1 builds them.

Each metric returns (value, update_op): running update_op adds the batch to `<scope>/total` and
`<scope>/count` (local variables, so `tf.local_variables_initializer()` resets them) and returns the
new mean; value reads the current mean without changing it.
"""
from __future__ import annotations

from summaries.engine import dtypes as dt
from summaries.engine.array_ops import cast, ones_like, size, squeeze, to_float
from summaries.engine.control_flow import control_dependencies
from summaries.engine.graph import GraphKeys, Tensor, convert_to_tensor, get_default_graph
from summaries.engine.math_ops import equal, maximum, multiply, reduce_sum
from summaries.engine.nn_extra_ops import div_no_nan
from summaries.engine.variables import Variable, assign_add, variable_scope, zeros_initializer


def _metric_variable(name: str) -> Variable:
    """A float32 scalar zero in LOCAL_VARIABLES and METRIC_VARIABLES, never trained."""
    return Variable(lambda: zeros_initializer()([], dt.float32), trainable=False, name=name,
                    collections=[GraphKeys.LOCAL_VARIABLES, GraphKeys.METRIC_VARIABLES])


def _squeeze_last(a: Tensor, b: Tensor):
    """TF1's remove_squeezable_dimensions: drop a trailing 1 from whichever has rank one more."""
    ra, rb = a.shape.ndims, b.shape.ndims
    if ra is not None and rb is not None:
        if ra == rb + 1 and a.shape.as_list()[-1] == 1:
            a = squeeze(a, [-1])
        elif rb == ra + 1 and b.shape.as_list()[-1] == 1:
            b = squeeze(b, [-1])
    return a, b


def _add_to(collections, value) -> None:
    if collections:
        get_default_graph().add_to_collections(collections, value)


def mean(values, weights=None, metrics_collections=None, updates_collections=None,
         name: str | None = None) -> tuple[Tensor, Tensor]:
    """The (weighted) mean of every value seen by update_op since the local variables were initialized;
    0 before any update (div_no_nan of total by count)."""
    with variable_scope(name, "mean", (values, weights)):
        v = to_float(convert_to_tensor(values))
        total = _metric_variable("total")
        count = _metric_variable("count")
        if weights is None:
            num = to_float(size(v))
        else:
            w = to_float(convert_to_tensor(weights))
            v, w = _squeeze_last(v, w)
            w = multiply(w, ones_like(v))  # broadcast the weights to the values, as TF1 does
            v = multiply(v, w)
            num = reduce_sum(w)
        update_total = assign_add(total, reduce_sum(v))
        with control_dependencies([v]):  # as TF1
            update_count = assign_add(count, num)
        value = div_no_nan(total, maximum(count, 0.0), name="value")
        update_op = div_no_nan(update_total, maximum(update_count, 0.0), name="update_op")
        _add_to(metrics_collections, value)
        _add_to(updates_collections, update_op)
        return value, update_op


def accuracy(labels, predictions, weights=None, metrics_collections=None, updates_collections=None,
             name: str | None = None) -> tuple[Tensor, Tensor]:
    """How often predictions == labels: `mean` of the float matches, in an `accuracy` scope."""
    labels, predictions = convert_to_tensor(labels), convert_to_tensor(predictions)
    predictions, labels = _squeeze_last(predictions, labels)
    predictions.shape.assert_is_compatible_with(labels.shape)
    if labels.dtype is not predictions.dtype:
        predictions = cast(predictions, labels.dtype)
    is_correct = to_float(equal(predictions, labels))
    return mean(is_correct, weights, metrics_collections, updates_collections, name or "accuracy")
