"""Variables (VariableV2 + Assign + `/read`), assign ops, initializers, variable_scope and get_variable.

Values live in the Session (keyed by the variable op), so one graph can back several sessions.
"""
from __future__ import annotations

import contextlib
import math

import numpy as np

from summaries.engine import dtypes as dt
from summaries.engine.array_ops import constant, random_normal, random_uniform, truncated_normal
from summaries.engine.dtypes import as_dtype, as_shape
from summaries.engine.errors import FailedPreconditionError, shape_error
from summaries.engine.graph import (GraphKeys, Tensor, convert_to_tensor, get_default_graph, make_op, name_scope,
                                    register_gradient, simple_op)
from summaries.engine.math_ops import _install


def uninitialized(op):
    return FailedPreconditionError(None, op, f"Attempting to use uninitialized value {op.name}\n"
                                             f"\t [[node {op.name} (defined at <user code>) ]]")


def _var_factory(op):
    key = op.name

    def factory(sess):
        store = sess._store

        def read():
            try:
                return store[key]
            except KeyError:
                raise uninitialized(op) from None
        return read
    return factory


def _assign_kernel_factory(var_op, npd, fn):
    """Kernel for Assign/AssignAdd/AssignSub: updates the session store, returns the new value."""
    key = var_op.name

    def factory(sess):
        store = sess._store
        if fn is None:
            def k(v):
                v = np.array(v, dtype=npd)
                store[key] = v
                return v
        else:
            def k(v):
                try:
                    new = fn(store[key], v).astype(npd, copy=False)
                except KeyError:
                    raise uninitialized(var_op) from None
                store[key] = new
                return new
        return k
    return factory


def slot_variable(primary, initial, name: str) -> "Variable":
    """A non-trainable variable named `<primary op>/<name>`, as TF1's slot creator names optimizer slots and
    moving averages' shadows."""
    g = get_default_graph()
    with g.control_dependencies(None), name_scope(None), name_scope(primary.op.name + "/"):
        return Variable(initial, trainable=False, name=name, dtype=primary.dtype)


def _assign_op(op_type, ref_tensor, var_op, value, name, fn, validate_shape=True):
    with name_scope(name or op_type) as scope:
        v = convert_to_tensor(value, var_op.outputs[0].dtype, name="value")
        if validate_shape and op_type == "Assign" and not v.shape.is_compatible_with(var_op.outputs[0].shape):
            raise shape_error(scope, "Assign", "Dimensions must be equal", var_op.outputs[0], v)
        out_shape = var_op.outputs[0].shape if validate_shape else v.shape
        op = make_op(op_type, scope, [ref_tensor, v], [(v.dtype, out_shape)], exec_idx=(1,),
                     factory=_assign_kernel_factory(var_op, v.dtype.np, fn),
                     attrs={"T": v.dtype, "use_locking": True, "validate_shape": validate_shape})
        return op.outputs[0]


class Variable:
    """`tf.Variable`: a VariableV2 op, its Assign initializer and a `/read` Identity used as its value."""

    def __init__(self, initial_value=None, trainable=True, collections=None, validate_shape=True,
                 caching_device=None, name=None, variable_def=None, dtype=None, expected_shape=None,
                 import_scope=None, constraint=None, use_resource=None, synchronization=None, aggregation=None,
                 shape=None):
        if initial_value is None:
            raise ValueError("initial_value must be specified.")
        g = get_default_graph()
        with g.control_dependencies(None), name_scope(name or "Variable") as scope:
            if callable(initial_value):
                with name_scope("Initializer"):
                    initial_value = initial_value()
            init = convert_to_tensor(initial_value, dtype, name="initial_value")
            vshape = init.shape if validate_shape else as_shape(shape)
            self._op = make_op("VariableV2", scope, [], [(init.dtype, vshape)],
                               attrs={"dtype": init.dtype, "shape": vshape, "container": "", "shared_name": ""})
            self._op._factory = _var_factory(self._op)
            self._ref = self._op.outputs[0]
            self._initializer = _assign_op("Assign", self._ref, self._op, init, "Assign", None,
                                           validate_shape).op
            self._snapshot = simple_op("Identity", [self._ref], init.dtype, vshape, _read_kernel,
                                       name="read").outputs[0]
        self._initial_value = init
        self._trainable = trainable
        if collections is None:
            collections = [GraphKeys.GLOBAL_VARIABLES]
        if trainable and GraphKeys.TRAINABLE_VARIABLES not in collections:
            collections = list(collections) + [GraphKeys.TRAINABLE_VARIABLES]
        g.add_to_collections(collections, self)

    # -- properties --
    @property
    def name(self) -> str:
        return self._ref.name

    @property
    def op(self):
        return self._op

    @property
    def graph(self):
        return self._op.graph

    @property
    def dtype(self):
        return self._ref.dtype

    @property
    def shape(self):
        return self._ref.shape

    def get_shape(self):
        return self._ref.shape

    @property
    def initializer(self):
        return self._initializer

    @property
    def initial_value(self):
        return self._initial_value

    @property
    def trainable(self):
        return self._trainable

    @property
    def device(self) -> str:
        return ""

    def value(self) -> Tensor:
        return self._snapshot

    def read_value(self) -> Tensor:
        """A new read, made under the current control dependencies, that sees the value when it runs: TF1's
        ref variables read after the updates they depend on, while `value()` is one early snapshot."""
        return simple_op("Identity", [self._snapshot], self.dtype, self.shape, None, name="read", exec_idx=(),
                         factory=_var_factory(self._op)).outputs[0]

    def initialized_value(self) -> Tensor:
        return self._initial_value

    def _as_graph_element(self) -> Tensor:
        return self._snapshot

    def eval(self, session=None):
        return self._snapshot.eval(session=session)

    def load(self, value, session=None):
        from summaries.engine.session import get_default_session_or_raise
        sess = session or get_default_session_or_raise()
        sess._store[self._op.name] = np.array(value, dtype=self.dtype.np)

    # -- assignment --
    def assign(self, value, use_locking=None, name=None, read_value=True):
        return _assign_op("Assign", self._ref, self._op, value, name, None)

    def assign_add(self, delta, use_locking=None, name=None, read_value=True):
        return _assign_op("AssignAdd", self._ref, self._op, delta, name, np.add)

    def assign_sub(self, delta, use_locking=None, name=None, read_value=True):
        return _assign_op("AssignSub", self._ref, self._op, delta, name, np.subtract)

    def __str__(self):
        return f"<tf.Variable '{self.name}' shape={self.shape} dtype={self.dtype.name}_ref>"

    __repr__ = __str__

    def __hash__(self):
        return id(self)

    def __iter__(self):
        raise TypeError("'Variable' object is not iterable.")


def _read_kernel(v):
    return v


_install(Variable)
Variable.__getitem__ = lambda self, key: self._snapshot[key]

register_gradient("VariableV2")(None)
for _t in ("Assign", "AssignAdd", "AssignSub"):
    register_gradient(_t)(None)


def _ref_and_op(ref):
    if isinstance(ref, Variable):
        return ref._ref, ref._op
    if isinstance(ref, Tensor) and ref.op.type == "VariableV2":
        return ref, ref.op
    if isinstance(ref, Tensor) and ref.op.type == "Identity" and ref.op.inputs and \
            ref.op.inputs[0].op.type == "VariableV2":
        return ref.op.inputs[0], ref.op.inputs[0].op
    raise TypeError(f"assign needs a Variable, got {ref!r}")


def assign(ref, value, validate_shape=None, use_locking=None, name=None):
    r, op = _ref_and_op(ref)
    return _assign_op("Assign", r, op, value, name, None, validate_shape is not False)


def assign_add(ref, value, use_locking=None, name=None):
    r, op = _ref_and_op(ref)
    return _assign_op("AssignAdd", r, op, value, name, np.add)


def assign_sub(ref, value, use_locking=None, name=None):
    r, op = _ref_and_op(ref)
    return _assign_op("AssignSub", r, op, value, name, np.subtract)


# ---- collections and initializers --------------------------------------------------------------------
def global_variables(scope=None):
    return get_default_graph().get_collection(GraphKeys.GLOBAL_VARIABLES, scope)


all_variables = global_variables


def trainable_variables(scope=None):
    return get_default_graph().get_collection(GraphKeys.TRAINABLE_VARIABLES, scope)


def local_variables(scope=None):
    return get_default_graph().get_collection(GraphKeys.LOCAL_VARIABLES, scope)


def variables_initializer(var_list, name="init"):
    from summaries.engine.control_flow import group
    return group(*[v.initializer for v in var_list], name=name)


def global_variables_initializer():
    return variables_initializer(global_variables(), name="init")


def local_variables_initializer():
    return variables_initializer(local_variables(), name="init")


initialize_all_variables = global_variables_initializer
initialize_variables = variables_initializer


class Initializer:
    """Base of `tf.*_initializer`: called with (shape, dtype) inside the variable's Initializer scope."""
    dtype = None

    def __call__(self, shape, dtype=None, partition_info=None):
        raise NotImplementedError

    def get_config(self):
        return {}


class zeros_initializer(Initializer):
    def __init__(self, dtype=dt.float32):
        self.dtype = as_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        from summaries.engine.array_ops import zeros
        return zeros(shape, as_dtype(dtype or self.dtype), name="zeros")


class ones_initializer(Initializer):
    def __init__(self, dtype=dt.float32):
        self.dtype = as_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        from summaries.engine.array_ops import ones
        return ones(shape, as_dtype(dtype or self.dtype), name="ones")


class constant_initializer(Initializer):
    def __init__(self, value=0, dtype=dt.float32, verify_shape=False):
        self.value, self.dtype = value, as_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        d = as_dtype(dtype or self.dtype)
        v = np.asarray(self.value, dtype=d.np)
        return constant(np.broadcast_to(v, shape) if v.size == 1 else v.reshape(shape), d)


class random_normal_initializer(Initializer):
    def __init__(self, mean=0.0, stddev=1.0, seed=None, dtype=dt.float32):
        self.mean, self.stddev, self.seed, self.dtype = mean, stddev, seed, as_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        return random_normal(shape, self.mean, self.stddev, as_dtype(dtype or self.dtype), self.seed)


class truncated_normal_initializer(random_normal_initializer):
    def __call__(self, shape, dtype=None, partition_info=None):
        return truncated_normal(shape, self.mean, self.stddev, as_dtype(dtype or self.dtype), self.seed)


class random_uniform_initializer(Initializer):
    def __init__(self, minval=0, maxval=None, seed=None, dtype=dt.float32):
        self.minval, self.maxval, self.seed, self.dtype = minval, maxval, seed, as_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        return random_uniform(shape, self.minval, self.maxval, as_dtype(dtype or self.dtype), self.seed)


def _fans(shape):
    shape = list(shape)
    if not shape:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = int(np.prod(shape[:-2])) if len(shape) > 2 else 1
    return shape[-2] * receptive, shape[-1] * receptive


class variance_scaling_initializer(Initializer):
    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None, dtype=dt.float32):
        self.scale, self.mode, self.distribution = scale, mode, distribution
        self.seed, self.dtype = seed, as_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        shape = [int(d) for d in shape]
        d = as_dtype(dtype or self.dtype)
        fan_in, fan_out = _fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out}.get(self.mode, (fan_in + fan_out) / 2.0)
        scale = self.scale / max(1.0, n)
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * scale)
            return random_uniform(shape, -limit, limit, d, self.seed)
        if self.distribution in ("truncated_normal", "normal"):
            return truncated_normal(shape, 0.0, math.sqrt(scale) / 0.87962566103423978, d, self.seed)
        return random_normal(shape, 0.0, math.sqrt(scale), d, self.seed)


class glorot_uniform_initializer(variance_scaling_initializer):
    def __init__(self, seed=None, dtype=dt.float32):
        super().__init__(1.0, "fan_avg", "uniform", seed, dtype)


class glorot_normal_initializer(variance_scaling_initializer):
    def __init__(self, seed=None, dtype=dt.float32):
        super().__init__(1.0, "fan_avg", "truncated_normal", seed, dtype)


def xavier_initializer(uniform=True, seed=None, dtype=dt.float32):
    return (glorot_uniform_initializer if uniform else glorot_normal_initializer)(seed, dtype)


def he_initializer(seed=None):
    return variance_scaling_initializer(2.0, "fan_in", "truncated_normal", seed)


# ---- variable_scope / get_variable -------------------------------------------------------------------
AUTO_REUSE = "AUTO_REUSE"


class VariableScope:
    def __init__(self, name: str, reuse=None, initializer=None, original_name_scope: str = "", regularizer=None):
        self.name = name
        self.reuse = reuse
        self.initializer = initializer
        self.original_name_scope = original_name_scope
        self.regularizer = regularizer

    def reuse_variables(self):
        self.reuse = True

    def set_initializer(self, initializer):
        self.initializer = initializer

    def set_regularizer(self, regularizer):
        self.regularizer = regularizer


def get_variable_scope() -> VariableScope:
    g = get_default_graph()
    if g._var_scope is None:
        g._var_scope = VariableScope("")
    return g._var_scope


def _scope_counts(g) -> dict[str, int]:
    """How often each variable scope was opened since its parent was last left (TF1's scope store)."""
    if not hasattr(g, "_var_scope_counts"):
        g._var_scope_counts = {}
    return g._var_scope_counts


def _unique_default(g, outer: VariableScope, base_name: str) -> str:
    counts = _scope_counts(g)
    prefix = outer.name + "/" if outer.name else ""
    if not counts.get(prefix + base_name):
        return base_name
    n = 1
    while counts.get(f"{prefix}{base_name}_{n}"):
        n += 1
    return f"{base_name}_{n}"


@contextlib.contextmanager
def variable_scope(name_or_scope=None, default_name=None, values=None, initializer=None, regularizer=None,
                   caching_device=None, partitioner=None, custom_getter=None, reuse=None, dtype=None,
                   use_resource=None, constraint=None, auxiliary_name_scope=True):
    """Prefix get_variable names and open a name scope, as TF1 does.

    A default-named scope takes the first `name`, `name_1`, ... not opened since its parent scope was
    entered (leaving a scope resets its subscopes' counts, so re-entering `D` with reuse finds `D/dense`
    again); its name scope is `default_name` made unique by the graph, which can differ from it.
    """
    g = get_default_graph()
    outer = get_variable_scope()
    defaults = outer  # where an unset initializer/regularizer comes from: a re-entered scope keeps its own
    if isinstance(name_or_scope, VariableScope):
        full, ns_name, defaults = name_or_scope.name, name_or_scope.original_name_scope, name_or_scope
        if reuse is None:
            reuse = name_or_scope.reuse
    else:
        if name_or_scope is None:
            if default_name is None:
                raise TypeError("If default_name is None then name_or_scope is required")
            name_or_scope, ns_name = _unique_default(g, outer, default_name), default_name
        else:
            ns_name = name_or_scope.rsplit("/", 1)[-1]
        full = (outer.name + "/" + name_or_scope) if outer.name else name_or_scope
    counts = _scope_counts(g)
    counts[full] = counts.get(full, 0) + 1
    if reuse is False:
        reuse = None
    eff_reuse = True if (outer.reuse is True and reuse is None) else (reuse if reuse is not None else outer.reuse)
    with name_scope(ns_name) as ns:
        scope = VariableScope(full, eff_reuse, initializer if initializer is not None else defaults.initializer, ns,
                              regularizer if regularizer is not None else defaults.regularizer)
        g._var_scope = scope
        try:
            yield scope
        finally:
            g._var_scope = outer
            for key in [k for k in counts if k.startswith(full + "/")]:
                counts[key] = 0


def get_variable(name, shape=None, dtype=None, initializer=None, regularizer=None, trainable=True,
                 collections=None, caching_device=None, partitioner=None, validate_shape=True, use_resource=None,
                 custom_getter=None, constraint=None, **kwargs) -> Variable:
    """Create or (with reuse) share a variable named "<variable scope>/<name>"."""
    g = get_default_graph()
    vs = get_variable_scope()
    full = f"{vs.name}/{name}" if vs.name else name
    existing = g._var_store.get(full)
    if existing is not None:
        if vs.reuse is None or vs.reuse is False:
            raise ValueError(f"Variable {full} already exists, disallowed. Did you mean to set reuse=True or "
                             f"reuse=tf.AUTO_REUSE in VarScope?")
        if shape is not None and not existing.shape.is_compatible_with(shape):
            raise ValueError(f"Trying to share variable {full}, but specified shape {as_shape(shape)} and found "
                             f"shape {existing.shape}.")
        return existing
    if vs.reuse is True:
        raise ValueError(f"Variable {full} does not exist, or was not created with tf.get_variable(). Did you "
                         f"mean to set reuse=tf.AUTO_REUSE in VarScope?")
    init = initializer if initializer is not None else vs.initializer
    d = as_dtype(dtype) if dtype is not None else None
    if init is None:
        d = d or dt.float32
        init = glorot_uniform_initializer() if d.is_floating else zeros_initializer()
    if isinstance(init, (Tensor, np.ndarray, list, float, int)) and not callable(init):
        value = init
    else:
        if shape is None:
            raise ValueError(f"Shape of a new variable ({full}) must be fully defined, but instead was None.")
        shp = [int(s) for s in (shape if isinstance(shape, (list, tuple)) else as_shape(shape).as_list())]
        dd = d or getattr(init, "dtype", None) or dt.float32
        value = lambda: init(shp, dtype=dd)  # noqa: E731
    with name_scope(None), name_scope(full + "/"):
        v = Variable(value, trainable=trainable, collections=collections, name=full + "/", dtype=d)
    g._var_store[full] = v
    regularizer = regularizer if regularizer is not None else vs.regularizer
    if regularizer:  # as TF1: built under "<var>/Regularizer/" free of control deps; None means no loss
        with g.control_dependencies(None), name_scope(None), name_scope(full + "/Regularizer/"):
            loss = regularizer(v)
        if loss is not None:
            g.add_to_collection(GraphKeys.REGULARIZATION_LOSSES, loss)
    return v
