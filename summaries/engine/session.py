"""Session: runs fetches with feeds by compiling the needed ops into one Python function.

Per (fetches, feeds) signature the session finds the ops the fetches need (through data and control
inputs, stopping at fed tensors), orders them by creation (a topological order), and generates a flat
function whose body is one kernel call per op with locals for tensors. Repeated `sess.run` calls of a
training loop then cost one dict lookup plus the numpy work.

`cond` (TF1's Switch/Merge) needs dead tensors: the untaken output of a Switch is `DEAD` and every op
that depends on it is skipped. Only ops that can see a dead input get a guarded line, so plans
without a Switch are generated exactly as before.
"""
from __future__ import annotations

import collections
import contextlib
import threading

import numpy as np

from summaries.engine.array_ops import missing_feed_message
from summaries.engine.blas import limit_blas_threads
from summaries.engine.errors import InvalidArgumentError, OpError
from summaries.engine.graph import Operation, Tensor, get_default_graph

_local = threading.local()


class _Dead:
    """The value of a tensor in the branch of a `cond` that was not taken (TF's "dead" tensor)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "DEAD"


DEAD = _Dead()


def _maybe_dead(order, fed) -> set:
    """Ids of ops that may be skipped: Switch, or fed by one (a Merge only when all its inputs are)."""
    dead: set = set()
    for op in order:
        if op.outputs and all(id(t) in fed for t in op.outputs):
            continue
        ins = [id(op.inputs[i].op) in dead for i in op._exec_idx if id(op.inputs[i]) not in fed]
        by_data = (bool(ins) and all(ins)) if op.type == "Merge" else any(ins)
        if op.type == "Switch" or by_data or any(id(c) in dead for c in op.control_inputs):
            dead.add(id(op))
    return dead


def _dead_fetch_error(t: Tensor) -> InvalidArgumentError:
    return InvalidArgumentError(None, t.op, f"Fetched tensor '{t.name}' has no value: it is in the branch of a "
                                            f"`cond` that was not taken for this predicate value, so its op "
                                            f"'{t.op.name}' did not run.")


def _session_stack() -> list:
    if not hasattr(_local, "stack"):
        _local.stack = []
    return _local.stack


def get_default_session():
    st = _session_stack()
    return st[-1] if st else None


def get_default_session_or_raise():
    s = get_default_session()
    if s is None:
        raise ValueError("Cannot evaluate tensor using `eval()`: No default session is registered. Use "
                         "`with sess.as_default()` or pass an explicit session to `eval(session=sess)`")
    return s


# ---- fetch structures ----------------------------------------------------------------------------------
def _flatten(fetches, graph, out: list):
    """Append fetch elements to `out`; return a function rebuilding the structure from values."""
    if isinstance(fetches, (list, tuple)) and not hasattr(fetches, "_as_graph_element"):
        subs = [_flatten(f, graph, out) for f in fetches]
        if isinstance(fetches, tuple) and hasattr(fetches, "_fields"):
            cls = type(fetches)
            return lambda vals: cls(*[s(vals) for s in subs])
        if isinstance(fetches, tuple):
            return lambda vals: tuple(s(vals) for s in subs)
        return lambda vals: [s(vals) for s in subs]
    if isinstance(fetches, (dict, collections.OrderedDict)):
        keys = list(fetches)
        subs = [_flatten(fetches[k], graph, out) for k in keys]
        cls = type(fetches)
        return lambda vals: cls((k, s(vals)) for k, s in zip(keys, subs))
    if fetches is None:
        raise TypeError(f"Fetch argument None has invalid type {type(None)}")
    try:
        el = graph.as_graph_element(fetches)
    except (TypeError, KeyError) as e:
        if isinstance(e, KeyError):
            raise
        raise TypeError(f"Fetch argument {fetches!r} has invalid type {type(fetches)}, must be a string or "
                        f"Tensor. (Can not convert a {type(fetches).__name__} into a Tensor or Operation.)") from None
    if el.graph is not graph:
        raise ValueError(f"Fetch argument {fetches!r} cannot be interpreted as a Tensor. (Tensor {el} is not an "
                         f"element of this graph.)")
    i = len(out)
    out.append(el)
    return lambda vals: vals[i]


def _guarded_line(op, k: int, call: str, out_names: list, names: dict, fed: dict, dead, dead_expr: dict) -> str:
    """The line of a maybe-dead op: skipped (outputs DEAD) when a data input (except for Merge, which picks
    the live one itself) or a control input was; records how its own dependents test that it was skipped."""
    parts = [] if op.type == "Merge" else [
        f"{names[id(op.inputs[i])]} is DEAD" for i in op._exec_idx
        if id(op.inputs[i]) not in fed and id(op.inputs[i].op) in dead]
    parts += [dead_expr[id(c)] for c in op.control_inputs if id(c) in dead]
    guard = " or ".join(parts)
    if not out_names:
        dead_expr[id(op)] = f"d{k}"
        return f"    if not (d{k} := {guard}): {call}"
    if op.type == "Switch":
        dead_expr[id(op)] = f"({out_names[0]} is DEAD and {out_names[1]} is DEAD)"
    else:
        dead_expr[id(op)] = f"{out_names[0]} is DEAD"
    lhs = ", ".join(out_names) + " = "
    if not guard:
        return f"    {lhs}{call}"
    skipped = "DEAD" if len(out_names) == 1 else "(" + ", ".join(["DEAD"] * len(out_names)) + ")"
    return f"    {lhs}{skipped} if {guard} else {call}"


class Plan:
    """The compiled function for one (fetches, feeds) signature."""

    def __init__(self, session, fetch_els, feed_tensors):
        fed = {id(t): i for i, t in enumerate(feed_tensors)}
        needed: dict[int, Operation] = {}
        stack = []
        for el in fetch_els:
            if isinstance(el, Tensor):
                if id(el) not in fed:
                    stack.append(el.op)
            else:
                stack.append(el)
        while stack:
            op = stack.pop()
            if id(op) in needed:
                continue
            needed[id(op)] = op
            for i in op._exec_idx:
                t = op.inputs[i]
                if id(t) not in fed and id(t.op) not in needed:
                    stack.append(t.op)
            # a control input whose outputs are all fed is satisfied by the feed (TF1: a fed placeholder)
            stack.extend(c for c in op.control_inputs
                         if id(c) not in needed and not (c.outputs and all(id(t) in fed for t in c.outputs)))
        order = sorted(needed.values(), key=lambda o: o._id)
        for op in order:
            if op.type == "Placeholder":
                raise InvalidArgumentError(None, op, missing_feed_message(op))
        names = {}
        for i, t in enumerate(feed_tensors):
            names[id(t)] = f"f{i}"
        dead = _maybe_dead(order, fed) if any(op.type == "Switch" for op in order) else ()
        dead_expr: dict = {}  # op id -> expression true when that op was skipped in this run
        lines, kernels, self.line_ops = [], {}, {}
        n = 0
        for k, op in enumerate(order):
            outs = op.outputs
            if outs and all(id(t) in fed for t in outs):
                continue
            kname = f"K{k}"
            kernels[kname] = op.kernel_for(session)
            args = ", ".join(names[id(op.inputs[i])] for i in op._exec_idx)
            out_names = []
            for t in outs:
                n += 1
                nm = f"t{n}"
                if id(t) not in fed:
                    names[id(t)] = nm
                out_names.append(nm)
            if not outs:
                lhs = ""
            elif len(outs) == 1:
                lhs = out_names[0] + " = "
            else:
                lhs = ", ".join(out_names) + " = "
            self.line_ops[len(lines) + 2] = op
            if id(op) in dead:
                lines.append(_guarded_line(op, k, f"{kname}({args})", out_names, names, fed, dead, dead_expr))
            else:
                lines.append(f"    {lhs}{kname}({args})")
        rets = [names[id(el)] if isinstance(el, Tensor) else "None" for el in fetch_els]
        params = [f"f{i}" for i in range(len(feed_tensors))] + [f"{k}={k}" for k in kernels]
        ns = dict(kernels)
        if dead:
            params += ["DEAD=DEAD", "_dead=_dead"]
            ns.update(DEAD=DEAD, _dead=lambda i: _dead_fetch_error(fetch_els[i]))
            lines += [f"    if {names[id(el)]} is DEAD: raise _dead({i})" for i, el in enumerate(fetch_els)
                      if isinstance(el, Tensor) and id(el) not in fed and id(el.op) in dead]
        self.source = f"def _run({', '.join(params)}):\n" + "\n".join(lines) + \
            f"\n    return ({', '.join(rets)}{',' if rets else ''})\n"
        self.filename = f"<plan {id(self):x}>"
        exec(compile(self.source, self.filename, "exec"), ns)
        self.fn = ns["_run"]
        self.feed_specs = [(t, t.dtype.np, t.shape._dims, f"Cannot feed value of shape {{}} for Tensor "
                            f"'{t.name}', which has shape '{t.shape}'") for t in feed_tensors]

    def failing_op(self, tb):
        while tb is not None:
            if tb.tb_frame.f_code.co_filename == self.filename:
                return self.line_ops.get(tb.tb_lineno)
            tb = tb.tb_next
        return None

    def run(self, args):
        """Call the plan; an exception raised by one of its kernels names that op: a TF error a kernel raised
        without one gets it, anything else becomes TF's InvalidArgumentError (Session.run and the loop
        kernels that run sub-plans both go through here)."""
        try:
            return self.fn(*args)
        except OpError as e:
            op = self.failing_op(e.__traceback__) if e.op is None else None
            if op is not None:
                e.op, e.message = op, f"{e.message}\n\t [[node {op.name} (op: {op.type})]]"
                e.args = (e.message,)
            raise
        except Exception as e:
            op = self.failing_op(e.__traceback__)
            if op is None:
                raise
            raise InvalidArgumentError(None, op, f"{type(e).__name__}: {e}\n\t [[node {op.name} "
                                                 f"(op: {op.type})]]") from e


def _convert_feed(value, npd, dims, msg):
    if npd == object:
        arr = np.asarray(value, dtype=object)
    elif isinstance(value, np.ndarray) and value.dtype == npd:
        arr = value
    else:
        try:
            arr = np.asarray(value, dtype=npd)
        except (TypeError, ValueError) as e:
            raise ValueError(f"{msg.split(' of shape')[0]}: {e}") from None
    if dims is not None:
        shp = arr.shape
        if len(shp) != len(dims) or any(d is not None and d != s for d, s in zip(dims, shp)):
            raise ValueError(msg.format(shp))
    return arr


class BaseSession:
    def __init__(self, target: str = "", graph=None, config=None):
        limit_blas_threads()
        if target:
            raise ValueError(f"tf.Session({target!r}): distributed TensorFlow targets are not supported by this "
                             f"engine; it runs in-process only. Use tf.Session() without a target.")
        self._graph = graph if graph is not None else get_default_graph()
        self._store: dict = {}
        self._rngs: dict = {}
        self._plans: dict = {}
        self._closed = False
        self._default_cm = None

    @property
    def graph(self):
        return self._graph

    @property
    def graph_def(self):
        return self._graph.as_graph_def()

    @property
    def sess_str(self) -> str:
        return ""

    def _rng_for(self, op, seed1, seed2):
        rng = self._rngs.get(op.name)
        if rng is None:
            rng = np.random.default_rng(None if seed1 is None else [int(seed1) & 0xFFFFFFFF,
                                                                    int(seed2) & 0xFFFFFFFF])
            self._rngs[op.name] = rng
        return rng

    def _feed_key(self, key):
        g = self._graph
        if isinstance(key, str):
            return g.get_tensor_by_name(key if ":" in key else key + ":0")
        if hasattr(key, "_as_graph_element"):
            return key._as_graph_element()
        if isinstance(key, Tensor):
            return key
        raise TypeError(f"The value of a feed cannot be a tf.Tensor object. Acceptable feed keys are tensors "
                        f"and their names; got {type(key).__name__}")

    def plan(self, fetches: list, feeds: list) -> "Plan":
        """The compiled plan computing `fetches` from `feeds`, compiled once per session: for `run`, and for the
        sub-plans of loops and tf.data functions, which are asked for again at each initialization."""
        key = (tuple(map(id, fetches)), tuple(map(id, feeds)))
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = Plan(self, fetches, feeds)
        return plan

    def run(self, fetches, feed_dict=None, options=None, run_metadata=None):
        """Evaluate `fetches` (a tensor, op, name or a nested list/tuple/dict of them) with `feed_dict`."""
        if self._closed:
            raise RuntimeError("Attempted to use a closed Session.")
        els: list = []
        rebuild = _flatten(fetches, self._graph, els)
        if feed_dict:
            feed_tensors = [self._feed_key(k) for k in feed_dict]
            feed_vals = list(feed_dict.values())
        else:
            feed_tensors, feed_vals = [], []
        plan = self.plan(els, feed_tensors)
        args = [_convert_feed(v, *spec[1:]) for v, spec in zip(feed_vals, plan.feed_specs)]
        vals = plan.run(args)
        store_ids = None
        out = []
        for v in vals:
            if isinstance(v, np.ndarray):
                if v.ndim == 0:
                    v = v[()]
                else:
                    if store_ids is None:
                        store_ids = {id(a) for a in self._store.values()}
                    if id(v) in store_ids or not v.flags.writeable or not v.flags.owndata:
                        v = v.copy()
            out.append(v)
        return rebuild(out)

    def close(self) -> None:
        self._closed = True
        self._plans.clear()

    def as_default(self):
        return _as_default(self)

    def list_devices(self):
        return []

    def __enter__(self):
        self._default_cm = self.as_default()
        self._default_cm.__enter__()
        return self

    def __exit__(self, *exc):
        if self._default_cm is not None:
            self._default_cm.__exit__(*exc)
            self._default_cm = None
        self.close()


@contextlib.contextmanager
def _as_default(sess):
    st = _session_stack()
    st.append(sess)
    try:
        yield sess
    finally:
        if st and st[-1] is sess:
            st.pop()


class Session(BaseSession):
    """`tf.Session`."""


class InteractiveSession(BaseSession):
    """A session that installs itself as the default until closed (for `t.eval()` in notebooks)."""

    def __init__(self, target: str = "", graph=None, config=None):
        super().__init__(target, graph, config)
        _session_stack().append(self)

    def close(self) -> None:
        st = _session_stack()
        if self in st:
            st.remove(self)
        super().close()


class ConfigProto:
    """Accepted and ignored (device placement and threading are numpy's)."""

    def __init__(self, **kwargs):
        self.__dict__.update(kwargs)
        self.gpu_options = GPUOptions()


class GPUOptions:
    def __init__(self, **kwargs):
        self.allow_growth = False
        self.__dict__.update(kwargs)


class RunOptions:
    FULL_TRACE = 3
    NO_TRACE = 0

    def __init__(self, trace_level=0, **kwargs):
        self.trace_level = trace_level


class RunMetadata:
    def __init__(self):
        self.step_stats = None

    def SerializeToString(self) -> bytes:
        from summaries.proto import RunMetadata as _RM
        return _RM().SerializeToString()
