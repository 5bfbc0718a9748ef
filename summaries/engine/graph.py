"""The graph model: Graph, Operation, Tensor, TF1 op naming and name scopes.

An Operation carries its numpy kernel (a plain callable, or a factory bound to a Session for
stateful ops such as variables and random ops); the Session compiles the kernels it needs into
one flat function, so nothing here runs at `sess.run` time.
"""
from __future__ import annotations

import contextlib
import re
import threading

import numpy as np

from summaries.engine import dtypes as _dt
from summaries.engine.dtypes import DType, TensorShape, as_dtype, as_shape


class GraphKeys:
    GLOBAL_VARIABLES = "variables"
    VARIABLES = "variables"
    LOCAL_VARIABLES = "local_variables"
    TRAINABLE_VARIABLES = "trainable_variables"
    SUMMARIES = "summaries"
    GLOBAL_STEP = "global_step"
    UPDATE_OPS = "update_ops"
    MOVING_AVERAGE_VARIABLES = "moving_average_variables"
    METRIC_VARIABLES = "metric_variables"
    LOSSES = "losses"
    REGULARIZATION_LOSSES = "regularization_losses"
    TRAIN_OP = "train_op"
    INIT_OP = "init_op"


class Tensor:
    """One output of an Operation: `name` is "op:index"; static dtype and shape."""

    __array_priority__ = 100
    _ctx = None  # the cond branch it was made in (control_flow._Branch), None outside any cond

    def __init__(self, op: "Operation", index: int, dtype: DType, shape: TensorShape):
        self.op = op
        self.value_index = index
        self.dtype = dtype
        self._shape = shape

    @property
    def name(self) -> str:
        return f"{self.op.name}:{self.value_index}"

    @property
    def graph(self) -> "Graph":
        return self.op.graph

    @property
    def shape(self) -> TensorShape:
        return self._shape

    def get_shape(self) -> TensorShape:
        return self._shape

    def set_shape(self, shape) -> None:
        self._shape = self._shape.merge_with(as_shape(shape))

    @property
    def device(self) -> str:
        return ""

    def consumers(self) -> list:
        return [op for op in self.op.graph._ops if any(t is self for t in op.inputs)]

    def eval(self, feed_dict=None, session=None):
        from summaries.engine.session import get_default_session_or_raise
        return (session or get_default_session_or_raise()).run(self, feed_dict)

    def __str__(self) -> str:
        return f'Tensor("{self.name}", shape={self._shape}, dtype={self.dtype.name})'

    def __repr__(self) -> str:
        return f"<tf.Tensor '{self.name}' shape={self._shape} dtype={self.dtype.name}>"

    def __hash__(self):
        return id(self)

    def __bool__(self):
        raise TypeError("Using a `tf.Tensor` as a Python `bool` is not allowed. Use `if t is not None:` "
                        "instead of `if t:` to test if a tensor is defined, and use TensorFlow ops such as "
                        "tf.cond to execute subgraphs conditioned on the value of a tensor.")

    def __iter__(self):
        dims = self._shape._dims
        if dims is None or not dims or dims[0] is None:
            raise TypeError("Tensor objects are only iterable when the first dimension is known.")
        return iter(self[i] for i in range(dims[0]))

    def __len__(self):
        raise TypeError("len is not well defined for symbolic Tensors.")


class Operation:
    """A node: type, unique name, input tensors, control inputs, outputs, attrs and its kernel."""

    _loop = None  # the while loop body it was built in (while_loop._LoopContext): run only by that loop's op

    def __init__(self, graph: "Graph", op_type: str, name: str, inputs, outputs, attrs, kernel, factory,
                 exec_idx, control_inputs):
        self.graph = graph
        self.type = op_type
        self.name = name
        self.inputs = list(inputs)
        self.control_inputs = list(control_inputs)
        self.attrs = dict(attrs or {})
        self._kernel = kernel
        self._factory = factory
        self._exec_idx = tuple(range(len(self.inputs))) if exec_idx is None else tuple(exec_idx)
        self._id = len(graph._ops)
        self.outputs = [Tensor(self, i, d, as_shape(s)) for i, (d, s) in enumerate(outputs)]

    @property
    def values(self):
        return tuple(self.outputs)

    @property
    def device(self) -> str:
        return ""

    @property
    def node_def(self):
        from summaries.engine.graphdef import node_def
        return node_def(self)

    def get_attr(self, name: str):
        return self.attrs[name]

    def kernel_for(self, session):
        """The callable the session runs: the op's pure kernel, or one bound to the session's state."""
        return self._factory(session) if self._factory is not None else self._kernel

    def run(self, feed_dict=None, session=None) -> None:
        from summaries.engine.session import get_default_session_or_raise
        (session or get_default_session_or_raise()).run(self, feed_dict)

    def __repr__(self) -> str:
        return f"<tf.Operation '{self.name}' type={self.type}>"

    def __str__(self) -> str:
        return str(self.node_def)


_VALID_SCOPE = re.compile(r"^[A-Za-z0-9.][A-Za-z0-9_.\\/>-]*$")


class Graph:
    """A TF1 graph: ops in creation order (a topological order), names, scopes and collections."""

    def __init__(self):
        self._ops: list[Operation] = []
        self._by_name: dict[str, Operation] = {}
        self._names_in_use: dict[str, int] = {}
        self._name_stack = ""
        self._collections: dict[str, list] = {}
        self._control_stack: list[list[Operation]] = []
        self._cond_ctx = None  # the innermost cond branch being built (control_flow._Branch)
        self._loop_ctx = None  # the innermost while loop body being built (while_loop._LoopContext)
        self.seed = None
        self._finalized = False
        self._var_store: dict[str, object] = {}
        self._var_scope = None  # set by variables.py
        self._lock = threading.Lock()

    # ---- naming -----------------------------------------------------------------------------
    def unique_name(self, name: str, mark_as_used: bool = True) -> str:
        """TF1's rule: prefix the name scope, then append _1, _2... compared case-insensitively."""
        if self._name_stack:
            name = self._name_stack + "/" + name
        key = name.lower()
        i = self._names_in_use.get(key, 0)
        if mark_as_used:
            self._names_in_use[key] = i + 1
        if i > 0:
            base = key
            while key in self._names_in_use:
                key = f"{base}_{i}"
                i += 1
            if mark_as_used:
                self._names_in_use[key] = 1
            name = f"{name}_{i - 1}"
        return name

    def get_name_scope(self) -> str:
        return self._name_stack

    @contextlib.contextmanager
    def name_scope(self, name):
        """Enter a scope; yields "scope/". A name ending in "/" re-enters it as is; None/"" resets to root."""
        old = self._name_stack
        if not name:
            new = ""
        elif name.endswith("/"):
            new = name[:-1]
        else:
            if not self._name_stack and not _VALID_SCOPE.match(name):
                raise ValueError(f"'{name}' is not a valid scope name")
            new = self.unique_name(name)
        self._name_stack = new
        try:
            yield (new + "/") if new else ""
        finally:
            self._name_stack = old

    # ---- ops ----------------------------------------------------------------------------------
    def _add_op(self, op_type, scope, inputs, outputs, attrs=None, kernel=None, factory=None, exec_idx=None,
                control_inputs=()):
        if self._finalized:
            raise RuntimeError("Graph is finalized and cannot be modified.")
        name = scope[:-1] if scope.endswith("/") else scope
        if name in self._by_name:
            raise ValueError(f"Duplicate node name in graph: '{name}'")
        for t in inputs:
            if t.graph is not self:
                raise ValueError(f"Tensor {t} must be from the same graph as the op {name!r} being created.")
        ctrl = list(control_inputs)
        ctx, loop = self._cond_ctx, self._loop_ctx
        if ctx is not None or loop is not None:  # the contexts reroute data (exec) inputs only
            exec_idx = tuple(range(len(inputs))) if exec_idx is None else tuple(exec_idx)
        if ctx is not None:  # inside a cond branch: outside inputs go through Switches, sources wait on the pivot
            inputs = ctx.capture_inputs(name, inputs, exec_idx)
            if not exec_idx and ctx.pivot not in ctrl:
                ctrl.insert(0, ctx.pivot)
        for deps in self._control_stack:
            for c in deps:
                if c not in ctrl and not any(t.op is c for t in inputs):
                    ctrl.append(c)
        if loop is not None:  # inside a while body: outside inputs become the loop's capture stand-ins
            inputs, ctrl = loop.capture_inputs(inputs, exec_idx, ctrl)
        op = Operation(self, op_type, name, inputs, outputs, attrs, kernel, factory, exec_idx, ctrl)
        if loop is not None:
            op._loop = loop
        if ctx is not None:
            for t in op.outputs:
                t._ctx = ctx
        self._ops.append(op)
        self._by_name[name] = op
        self._names_in_use.setdefault(name.lower(), 1)
        return op

    def get_operations(self) -> list:
        return list(self._ops)

    def get_operation_by_name(self, name: str) -> Operation:
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"The name '{name}' refers to an Operation not in the graph.") from None

    def get_tensor_by_name(self, name: str) -> Tensor:
        if ":" not in name:
            raise ValueError(f"The name '{name}' looks like an (invalid) Operation name, not a Tensor. "
                             f"Tensor names must be of the form \"<op_name>:<output_index>\".")
        op_name, idx = name.rsplit(":", 1)
        if op_name not in self._by_name:
            raise KeyError(f"The name '{name}' refers to a Tensor which does not exist. "
                           f"The operation, '{op_name}', does not exist in the graph.")
        outs = self._by_name[op_name].outputs
        if int(idx) >= len(outs):
            raise KeyError(f"The name '{name}' refers to a Tensor which does not exist.")
        return outs[int(idx)]

    def as_graph_element(self, obj):
        if isinstance(obj, (Tensor, Operation)):
            return obj
        if hasattr(obj, "_as_graph_element"):
            return obj._as_graph_element()
        if isinstance(obj, str):
            return self.get_tensor_by_name(obj) if ":" in obj else self.get_operation_by_name(obj)
        raise TypeError(f"Can not convert a {type(obj).__name__} into a Tensor or Operation.")

    def as_graph_def(self, from_version=None, add_shapes: bool = True):
        from summaries.engine.graphdef import graph_def
        return graph_def(self, add_shapes=add_shapes)

    @property
    def version(self) -> int:
        return len(self._ops)

    @property
    def finalized(self) -> bool:
        return self._finalized

    def finalize(self) -> None:
        self._finalized = True

    # ---- collections --------------------------------------------------------------------------
    def add_to_collection(self, name: str, value) -> None:
        self._collections.setdefault(name, []).append(value)

    def add_to_collections(self, names, value) -> None:
        for n in ([names] if isinstance(names, str) else names):
            self.add_to_collection(n, value)

    def get_collection_ref(self, name: str) -> list:
        return self._collections.setdefault(name, [])

    def get_collection(self, name: str, scope=None) -> list:
        items = list(self._collections.get(name, []))
        if scope is None:
            return items
        rx = re.compile(scope)
        return [x for x in items if hasattr(x, "name") and rx.match(x.name)]

    def get_all_collection_keys(self) -> list:
        return list(self._collections)

    def clear_collection(self, name: str) -> None:
        self._collections.pop(name, None)

    # ---- contexts -----------------------------------------------------------------------------
    @contextlib.contextmanager
    def _building_state(self, **fields):
        """Build with some of `_cond_ctx`, `_loop_ctx`, `_control_stack`, `_name_stack` set, then restore them:
        how cond branches, loop bodies and their Switches/captures are built apart from the caller's context."""
        saved = {name: getattr(self, name) for name in fields}
        for name, value in fields.items():
            setattr(self, name, value)
        try:
            yield
        finally:
            for name, value in saved.items():
                setattr(self, name, value)

    @contextlib.contextmanager
    def control_dependencies(self, control_inputs):
        if control_inputs is None:  # as TF1, this also leaves any cond branch or loop body being built
            with self._building_state(_control_stack=[], _cond_ctx=None, _loop_ctx=None):
                yield
            return
        ops = []
        for c in control_inputs:
            c = c.op if isinstance(c, Tensor) else (c._as_graph_element().op if hasattr(c, "_as_graph_element")
                                                   else c)
            ops.append(c)
        self._control_stack.append(ops)
        try:
            yield
        finally:
            self._control_stack.pop()

    @contextlib.contextmanager
    def device(self, device_name):
        yield

    @contextlib.contextmanager
    def as_default(self):
        _graph_stack.append(self)
        try:
            yield self
        finally:
            _graph_stack.pop()

    @contextlib.contextmanager
    def colocate_with(self, op, ignore_existing=False):
        yield


_default_graph = Graph()
_graph_stack: list[Graph] = []


def get_default_graph() -> Graph:
    return _graph_stack[-1] if _graph_stack else _default_graph


def reset_default_graph() -> None:
    global _default_graph
    if _graph_stack:
        raise AssertionError("Do not use tf.reset_default_graph() to clear nested graphs.")
    _default_graph = Graph()


@contextlib.contextmanager
def name_scope(name, default_name=None, values=None):
    """`tf.name_scope`: yields "scope/" (unique), as TF1 does."""
    g = get_default_graph()
    if values:
        for v in values:
            if isinstance(v, Tensor):
                g = v.graph
                break
    with g.name_scope(name if name else default_name) as scope:
        yield scope


op_scope = name_scope


# ---- conversion -------------------------------------------------------------------------------
def _default_dtype_for(value) -> DType:
    if isinstance(value, np.ndarray) or isinstance(value, np.generic):
        return as_dtype(value.dtype)
    arr = np.asarray(value)
    if arr.dtype.kind == "f":
        return _dt.float32
    if arr.dtype.kind in "iu":
        return _dt.int32 if arr.size == 0 or (np.abs(arr).max() < 2 ** 31) else _dt.int64
    if arr.dtype.kind == "b":
        return _dt.bool_
    if arr.dtype.kind in "OSU":
        return _dt.string
    raise TypeError(f"Failed to convert object of type {type(value)} to Tensor.")


def convert_to_tensor(value, dtype=None, name=None, preferred_dtype=None) -> Tensor:
    """A Tensor for a Tensor, a Variable (its value) or a Python/numpy value (a Const op)."""
    if isinstance(value, Tensor):
        if dtype is not None and as_dtype(dtype) is not value.dtype:
            raise ValueError(f"Tensor conversion requested dtype {as_dtype(dtype).name} for Tensor with dtype "
                             f"{value.dtype.name}: {value!r}")
        return value
    if hasattr(value, "_as_graph_element"):
        t = value._as_graph_element()
        if dtype is not None and as_dtype(dtype) is not t.dtype:
            raise ValueError(f"Tensor conversion requested dtype {as_dtype(dtype).name} for Tensor with dtype "
                             f"{t.dtype.name}: {t!r}")
        return t
    if isinstance(value, Operation):
        raise TypeError(f"Can't convert Operation '{value.name}' to Tensor (target dtype={dtype}, name={name})")
    if _holds_tensor(value):  # TF1 packs a (nested) list holding tensors, row by row
        from summaries.engine.math_ops import stack
        return stack(list(value), name=name or "packed")
    from summaries.engine.array_ops import constant
    return constant(value, dtype=dtype or preferred_dtype, name=name or "Const")


def _holds_tensor(value) -> bool:
    return isinstance(value, (list, tuple)) and any(is_tensor_like(v) or _holds_tensor(v) for v in value)


def is_tensor_like(x) -> bool:
    return isinstance(x, Tensor) or hasattr(x, "_as_graph_element")


def static_value(t: Tensor):
    """The numpy value of a Const tensor (or None): lets kernels bake constant args in at build time."""
    return t.op.attrs.get("value") if t.op.type == "Const" else None


def make_op(op_type: str, scope: str, inputs, outputs, kernel=None, factory=None, attrs=None, exec_idx=None,
            control_inputs=()) -> Operation:
    """Add an op to the graph of its inputs (or the default graph); `scope` is its full name (+ '/')."""
    g = inputs[0].graph if inputs else get_default_graph()
    return g._add_op(op_type, scope, inputs, outputs, attrs, kernel, factory, exec_idx, control_inputs)


def np_dtype(d: DType):
    return d.np


# ---- gradient registry: op type -> fn(op, *output_grads) -> list of input grads (None = no gradient) --
GRADIENTS: dict = {}


def register_gradient(op_type: str):
    def deco(fn):
        GRADIENTS[op_type] = fn
        return fn
    return deco


def no_gradient(*op_types: str) -> None:
    for t in op_types:
        GRADIENTS[t] = None


def simple_op(op_type: str, inputs, dtype, shape, kernel, name=None, attrs=None, exec_idx=None, factory=None,
              n_out: int = 1) -> Operation:
    """An op named `name` (default: its type) in the current scope, with `n_out` outputs of one dtype/shape."""
    g = inputs[0].graph if inputs else get_default_graph()
    with g.name_scope(name or op_type) as scope:
        return g._add_op(op_type, scope, inputs, [(dtype, shape)] * n_out, attrs, kernel, factory, exec_idx)
