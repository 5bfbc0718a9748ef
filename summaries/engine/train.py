"""`tf.train`: optimizers (GradientDescent, Momentum, Adam, Adagrad, RMSProp, Adadelta) as TF1 builds them
(learning-rate schedules are in learning_rate_decay.py).

Each variable update is one Apply* op whose kernel reads the variable and its slots from the session
store and writes new arrays back (never mutating arrays a caller may hold).
"""
from __future__ import annotations

import numpy as np

from summaries.engine import dtypes as dt
from summaries.engine.array_ops import constant
from summaries.engine.control_flow import group
from summaries.engine.gradients import gradients
from summaries.engine.graph import (GraphKeys, Tensor, convert_to_tensor, get_default_graph, make_op, name_scope,
                                    no_gradient)
from summaries.engine.variables import (Variable, assign_add, slot_variable, trainable_variables, uninitialized,
                                        zeros_initializer)


class Optimizer:
    GATE_NONE, GATE_OP, GATE_GRAPH = 0, 1, 2
    _slot_names: tuple = ()

    def __init__(self, use_locking: bool, name: str):
        if not name:
            raise ValueError("Must specify the optimizer name")
        self._name = name
        self._use_locking = use_locking
        self._slots: dict = {}

    def get_name(self) -> str:
        return self._name

    def compute_gradients(self, loss, var_list=None, gate_gradients=GATE_OP, aggregation_method=None,
                          colocate_gradients_with_ops=False, grad_loss=None):
        """[(gradient, variable)] for the trainable variables (or `var_list`); gradient may be None."""
        if var_list is None:
            var_list = trainable_variables()
        var_list = list(var_list)
        if not var_list:
            raise ValueError("No variables to optimize.")
        grads = gradients(loss, var_list, grad_ys=None if grad_loss is None else [grad_loss])
        return list(zip(grads, var_list))

    def minimize(self, loss, global_step=None, var_list=None, gate_gradients=GATE_OP, aggregation_method=None,
                 colocate_gradients_with_ops=False, name=None, grad_loss=None):
        gv = self.compute_gradients(loss, var_list, grad_loss=grad_loss)
        if not any(g is not None for g, _ in gv):
            raise ValueError(f"No gradients provided for any variable, check your graph for ops that do not "
                             f"support gradients, between variables {[v.name for _, v in gv]} and loss {loss}.")
        return self.apply_gradients(gv, global_step=global_step, name=name)

    def apply_gradients(self, grads_and_vars, global_step=None, name=None):
        gv = [(g, v) for g, v in grads_and_vars if g is not None]
        if not gv:
            raise ValueError(f"No gradients provided for any variable: {[v.name for _, v in grads_and_vars]}.")
        var_list = [v for _, v in gv]
        self._create_slots(var_list)
        with name_scope(name or self._name) as scope:
            self._prepare()
            updates = []
            for g, v in gv:
                with name_scope("update_" + v.op.name):
                    updates.append(self._apply_dense(convert_to_tensor(g), v))
            if global_step is None:
                return self._finish(updates, scope)
            final = self._finish(updates, "update")
            with get_default_graph().control_dependencies([final]):
                return assign_add(global_step, 1, name=scope).op

    def _finish(self, updates, name):
        return group(*updates, name=name)

    # slots
    def _zeros_slot(self, var, slot, op_name, value=0.0):
        key = (slot, id(var))
        if key not in self._slots:
            shp = var.shape.as_list()
            init = (lambda: constant(np.full(shp, value, var.dtype.np), var.dtype)) if value else \
                (lambda: zeros_initializer(var.dtype)(shp))
            self._slots[key] = slot_variable(var, init, op_name)
        return self._slots[key]

    def get_slot(self, var, name):
        return self._slots.get((name, id(var)))

    def get_slot_names(self):
        return list(self._slot_names)

    def variables(self):
        return list(self._slots.values())

    def _create_slots(self, var_list):
        pass

    def _prepare(self):
        pass

    def _apply_dense(self, grad, var):
        raise NotImplementedError


_PY_VALUES: dict = {}  # id(hyper Const tensor) -> exact Python value, so float64 variables train exactly


def _as_hyper(value, name, dtype=dt.float32) -> Tensor:
    if isinstance(value, Tensor):
        return value
    t = constant(value, dtype, name=name)
    _PY_VALUES[id(t)] = (t, float(value))
    return t


def _apply(op_type, var, slots, grad, hypers, update):
    """An Apply* op: inputs (var, *slots, *hypers, grad); the kernel gets (grad, *hypers) and the store."""
    keys = [var.op.name] + [s.op.name for s in slots]
    ops_ = [var.op] + [s.op for s in slots]
    npds = [var.dtype.np] + [s.dtype.np for s in slots]

    def factory(sess):
        store = sess._store

        def k(g, *dyn):
            if fixed:
                it = iter(dyn)
                h = [next(it) if c is None else c for c in fixed]
            else:
                h = dyn
            try:
                cur = [store[k_] for k_ in keys]
            except KeyError as e:
                raise uninitialized(ops_[keys.index(e.args[0])]) from None
            new = update(g, *cur, *h)
            for k_, v, npd in zip(keys, new, npds):
                store[k_] = np.asarray(v).astype(npd, copy=False)
            return store[keys[0]]
        return k
    inputs = [var._ref] + [s._ref for s in slots] + list(hypers) + [grad]
    n = len(inputs)
    consts = [_PY_VALUES.get(id(h), (None, None)) for h in hypers]
    fixed = [v if t is h else None for h, (t, v) in zip(hypers, consts)]
    first = 1 + len(slots)
    dyn_idx = [first + i for i, c in enumerate(fixed) if c is None]
    if all(c is None for c in fixed):
        fixed = None
    with name_scope(op_type) as scope:
        return make_op(op_type, scope, inputs, [(var.dtype, var.shape)], factory=factory,
                       exec_idx=[n - 1] + dyn_idx,
                       attrs={"T": var.dtype, "use_locking": False}).outputs[0].op


no_gradient("ApplyGradientDescent", "ApplyMomentum", "ApplyAdam", "ApplyAdagrad", "ApplyRMSProp", "ApplyAdadelta")


class GradientDescentOptimizer(Optimizer):
    def __init__(self, learning_rate, use_locking=False, name="GradientDescent"):
        super().__init__(use_locking, name)
        self._lr = learning_rate

    def _prepare(self):
        self._lr_t = _as_hyper(self._lr, "learning_rate")

    def _apply_dense(self, grad, var):
        return _apply("ApplyGradientDescent", var, [], grad, [self._lr_t], lambda g, w, lr: (w - lr * g,))


class MomentumOptimizer(Optimizer):
    _slot_names = ("momentum",)

    def __init__(self, learning_rate, momentum, use_locking=False, name="Momentum", use_nesterov=False):
        super().__init__(use_locking, name)
        self._lr, self._momentum, self._nesterov = learning_rate, momentum, use_nesterov

    def _create_slots(self, var_list):
        for v in var_list:
            self._slots[("momentum", id(v))] = self._zeros_slot(v, "momentum", self._name)

    def _prepare(self):
        self._lr_t = _as_hyper(self._lr, "learning_rate")
        self._m_t = _as_hyper(self._momentum, "momentum")

    def _apply_dense(self, grad, var):
        nesterov = self._nesterov

        def update(g, w, acc, lr, m):
            acc = acc * m + g
            return (w - (g * lr + acc * (m * lr)) if nesterov else w - lr * acc), acc
        return _apply("ApplyMomentum", var, [self.get_slot(var, "momentum")], grad, [self._lr_t, self._m_t],
                      update)


class AdamOptimizer(Optimizer):
    _slot_names = ("m", "v")

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8, use_locking=False, name="Adam"):
        super().__init__(use_locking, name)
        self._lr, self._beta1, self._beta2, self._eps = learning_rate, beta1, beta2, epsilon
        self._powers = None

    def _create_slots(self, var_list):
        if self._powers is None:
            with name_scope(None):
                b1 = Variable(float(self._beta1), trainable=False, name="beta1_power", dtype=dt.float32)
                b2 = Variable(float(self._beta2), trainable=False, name="beta2_power", dtype=dt.float32)
            self._powers = (b1, b2)
        for v in var_list:
            self._zeros_slot(v, "m", self._name)
            self._zeros_slot(v, "v", self._name + "_1")

    def _prepare(self):
        self._lr_t = _as_hyper(self._lr, "learning_rate")
        self._b1_t = _as_hyper(self._beta1, "beta1")
        self._b2_t = _as_hyper(self._beta2, "beta2")
        self._eps_t = _as_hyper(self._eps, "epsilon")

    def _apply_dense(self, grad, var):
        b1p, b2p = self._powers

        def update(g, w, m, v, p1, p2, lr, b1, b2, eps):
            f = w.dtype.type  # the float32 powers are cast to the variable's dtype first, as TF1 does
            lr_t = lr * np.sqrt(1 - f(p2)) / (1 - f(p1))
            m = m * b1 + g * (1 - b1)
            v = v * b2 + (g * g) * (1 - b2)
            return w - (m * lr_t) / (np.sqrt(v) + eps), m, v, p1, p2
        return _apply("ApplyAdam", var, [self.get_slot(var, "m"), self.get_slot(var, "v"), b1p, b2p], grad,
                      [self._lr_t, self._b1_t, self._b2_t, self._eps_t], update)

    def _finish(self, updates, name):
        b1p, b2p = self._powers
        with get_default_graph().control_dependencies(updates):
            u1 = b1p.assign(b1p * self._b1_t)
            u2 = b2p.assign(b2p * self._b2_t)
        return group(*updates, u1, u2, name=name)


class AdagradOptimizer(Optimizer):
    _slot_names = ("accumulator",)

    def __init__(self, learning_rate, initial_accumulator_value=0.1, use_locking=False, name="Adagrad"):
        super().__init__(use_locking, name)
        self._lr, self._init = learning_rate, initial_accumulator_value

    def _create_slots(self, var_list):
        for v in var_list:
            self._zeros_slot(v, "accumulator", self._name, value=self._init)

    def _prepare(self):
        self._lr_t = _as_hyper(self._lr, "learning_rate")

    def _apply_dense(self, grad, var):
        def update(g, w, acc, lr):
            acc = acc + g * g
            return w - lr * g / np.sqrt(acc), acc
        return _apply("ApplyAdagrad", var, [self.get_slot(var, "accumulator")], grad, [self._lr_t], update)


class RMSPropOptimizer(Optimizer):
    _slot_names = ("rms", "momentum")

    def __init__(self, learning_rate, decay=0.9, momentum=0.0, epsilon=1e-10, use_locking=False, centered=False,
                 name="RMSProp"):
        super().__init__(use_locking, name)
        self._lr, self._decay, self._momentum, self._eps = learning_rate, decay, momentum, epsilon

    def _create_slots(self, var_list):
        for v in var_list:
            self._zeros_slot(v, "rms", self._name, value=1.0)
            self._zeros_slot(v, "momentum", self._name + "_1")

    def _prepare(self):
        self._lr_t = _as_hyper(self._lr, "learning_rate")
        self._rho_t = _as_hyper(self._decay, "decay")
        self._mom_t = _as_hyper(self._momentum, "momentum")
        self._eps_t = _as_hyper(self._eps, "epsilon")

    def _apply_dense(self, grad, var):
        def update(g, w, ms, mom, lr, rho, momentum, eps):
            ms = ms * rho + (g * g) * (1 - rho)
            mom = mom * momentum + lr * g / np.sqrt(ms + eps)
            return w - mom, ms, mom
        return _apply("ApplyRMSProp", var, [self.get_slot(var, "rms"), self.get_slot(var, "momentum")], grad,
                      [self._lr_t, self._rho_t, self._mom_t, self._eps_t], update)


class AdadeltaOptimizer(Optimizer):
    """TF1's Adadelta: accum and accum_update are decaying averages of g^2 and of the squared updates;
    each step moves var by lr * sqrt(accum_update + eps) / sqrt(accum + eps) * g."""
    _slot_names = ("accum", "accum_update")

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-8, use_locking=False, name="Adadelta"):
        super().__init__(use_locking, name)
        self._lr, self._rho, self._eps = learning_rate, rho, epsilon

    def _create_slots(self, var_list):
        for v in var_list:
            self._zeros_slot(v, "accum", self._name)
            self._zeros_slot(v, "accum_update", self._name)

    def _prepare(self):
        self._lr_t = _as_hyper(self._lr, "lr")
        self._rho_t = _as_hyper(self._rho, "rho")
        self._eps_t = _as_hyper(self._eps, "epsilon")

    def _apply_dense(self, grad, var):
        def update(g, w, accum, accum_update, lr, rho, eps):
            accum = accum * rho + (g * g) * (1 - rho)
            step = np.sqrt(accum_update + eps) / np.sqrt(accum + eps) * g
            accum_update = accum_update * rho + (step * step) * (1 - rho)
            return w - step * lr, accum, accum_update
        return _apply("ApplyAdadelta", var, [self.get_slot(var, "accum"), self.get_slot(var, "accum_update")],
                      grad, [self._lr_t, self._rho_t, self._eps_t], update)


# ---- global step and helpers ---------------------------------------------------------------------------
def get_or_create_global_step(graph=None):
    g = graph or get_default_graph()
    existing = g.get_collection(GraphKeys.GLOBAL_STEP)
    if existing:
        return existing[0]
    with name_scope(None):
        v = Variable(np.int64(0), trainable=False, name="global_step", dtype=dt.int64,
                     collections=[GraphKeys.GLOBAL_VARIABLES, GraphKeys.GLOBAL_STEP])
    return v


create_global_step = get_or_create_global_step


def get_global_step(graph=None):
    c = (graph or get_default_graph()).get_collection(GraphKeys.GLOBAL_STEP)
    return c[0] if c else None


def global_step(sess, global_step_tensor) -> int:
    return int(sess.run(global_step_tensor))
