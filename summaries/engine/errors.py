"""`tf.errors`: the exception classes TF1 programs catch, with TF's names."""
from __future__ import annotations


class OpError(Exception):
    """Base of run-time errors; carries the failing op like TF's OpError."""

    def __init__(self, node_def=None, op=None, message: str = "", *args):
        super().__init__(message)
        self.node_def = node_def
        self.op = op
        self.message = message


class InvalidArgumentError(OpError):
    pass


def kernel_error(message: str) -> InvalidArgumentError:
    """The InvalidArgumentError a kernel raises; the session's plan names the op that ran it."""
    return InvalidArgumentError(None, None, message)


class FailedPreconditionError(OpError):
    pass


class NotFoundError(OpError):
    pass


class UnimplementedError(OpError):
    pass


class OutOfRangeError(OpError):
    pass


class ResourceExhaustedError(OpError):
    pass


class InternalError(OpError):
    pass


class UnknownError(OpError):
    pass


class DataLossError(OpError):
    """A file that is not what it claims, or a damaged one (e.g. a checkpoint)."""


def shape_text(shape) -> str:
    """A static shape as TF1's messages print it: "[?,3]", or "?" when even the rank is unknown."""
    dims = shape._dims
    return "?" if dims is None else "[" + ",".join("?" if d is None else str(d) for d in dims) + "]"


def shape_error(scope: str, op_type: str, message: str, *inputs) -> ValueError:
    """TF1's graph-construction error: the message, then the op and its input shapes."""
    return ValueError(f"{message} for '{scope.rstrip('/')}' (op: '{op_type}') with input shapes: "
                      f"{', '.join(shape_text(t.shape) for t in inputs)}.")
