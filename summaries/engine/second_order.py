"""Gradients of the fused gradient ops (SigmoidGrad, TanhGrad, ReluGrad, ...) and `tf.hessians`.

The first-order gradients of activations are single fused ops, as in TF1; without gradients of their
own, a second derivative (a gradient penalty, a Hessian) stopped at them. Each rule below writes the
derivative with ordinary differentiable ops; the mask-like ones (ReluGrad...) reuse their own kernel.
"""
from __future__ import annotations

from summaries.engine.array_ops import reshape, stack, where, zeros_like
from summaries.engine.gradients import gradients
from summaries.engine.graph import Operation, Tensor, convert_to_tensor, name_scope, register_gradient, simple_op
from summaries.engine.math_ops import greater, multiply, subtract, truediv
from summaries.engine.nn_ops import sigmoid


def _applied_to(op: Operation, upstream: Tensor) -> Tensor:
    """The op's own (linear in its gradient input) kernel on `upstream`: its derivative for that input."""
    like = op.inputs[1]
    return simple_op(op.type, [upstream, like], like.dtype, like.shape, op._kernel, attrs=dict(op.attrs)).outputs[0]


@register_gradient("SquareGrad")
def _square_grad_grad(op, up):  # g * 2x
    g, x = op.inputs
    return [multiply(up, multiply(2.0, x)), multiply(up, multiply(2.0, g))]


@register_gradient("SqrtGrad")
def _sqrt_grad_grad(op, up):  # g * 0.5 / y
    y, g = op.inputs
    return [multiply(up, truediv(multiply(-0.5, g), multiply(y, y))), multiply(up, truediv(0.5, y))]


@register_gradient("RsqrtGrad")
def _rsqrt_grad_grad(op, up):  # -0.5 * g * y^3
    y, g = op.inputs
    y2 = multiply(y, y)
    return [multiply(up, multiply(-1.5, multiply(g, y2))), multiply(up, multiply(-0.5, multiply(y2, y)))]


@register_gradient("ReciprocalGrad")
def _reciprocal_grad_grad(op, up):  # -g * y^2
    y, g = op.inputs
    return [multiply(up, multiply(-2.0, multiply(g, y))), multiply(up, multiply(-1.0, multiply(y, y)))]


@register_gradient("SigmoidGrad")
def _sigmoid_grad_grad(op, up):  # g * y * (1 - y)
    y, g = op.inputs
    return [multiply(up, multiply(g, subtract(1.0, multiply(2.0, y)))),
            multiply(up, multiply(y, subtract(1.0, y)))]


@register_gradient("TanhGrad")
def _tanh_grad_grad(op, up):  # g * (1 - y^2)
    y, g = op.inputs
    return [multiply(up, multiply(-2.0, multiply(g, y))), multiply(up, subtract(1.0, multiply(y, y)))]


@register_gradient("ReluGrad")
@register_gradient("Relu6Grad")
@register_gradient("LeakyReluGrad")
def _mask_grad_grad(op, up):  # g * mask(x): zero through the mask, as TF1 (a tensor, not None)
    return [_applied_to(op, up), zeros_like(op.inputs[1])]


@register_gradient("EluGrad")
def _elu_grad_grad(op, up):  # g where y > 0, else g * (y + 1)
    g, y = op.inputs
    return [_applied_to(op, up), where(greater(y, 0.0), zeros_like(y), multiply(up, g))]


@register_gradient("SoftplusGrad")
def _softplus_grad_grad(op, up):  # g * sigmoid(x)
    g, x = op.inputs
    s = sigmoid(x)
    return [multiply(up, s), multiply(up, multiply(g, multiply(s, subtract(1.0, s))))]


def hessians(ys, xs, name: str = "hessians", colocate_gradients_with_ops=False, gate_gradients=False,
             aggregation_method=None) -> list:
    """`tf.hessians`: for each x (of static size n), d2 sum(ys) / dx dx shaped x.shape + x.shape, one
    gradient of each element of the first gradient (n of them, so for small xs)."""
    xs = [convert_to_tensor(x) for x in (xs if isinstance(xs, (list, tuple)) else [xs])]
    out = []
    with name_scope(name):
        for x in xs:
            dims = x.shape.as_list()
            if dims is None or None in dims:
                raise ValueError(f"tf.hessians needs a fully defined shape for {x.name}, got {x.shape}")
            (first,) = gradients(ys, [x])
            if first is None:
                out.append(None)
                continue
            flat = reshape(first, [-1])
            rows = []
            for i in range(int(flat.shape.as_list()[0])):
                (row,) = gradients(flat[i], [x])
                rows.append(zeros_like(x) if row is None else row)
            out.append(reshape(stack(rows), dims + dims))
    return out
