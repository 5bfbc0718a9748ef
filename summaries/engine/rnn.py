"""TF1's RNN API (`tf.nn.rnn_cell`, `tf.contrib.rnn`, `dynamic_rnn`, `static_rnn` and their bidirectional
forms) on the engine's own ops.

Cells create their variables on their first call, inside a default-named variable scope taken from the
enclosing one, exactly where TF1's layer-based cells put them (`rnn/basic_lstm_cell/kernel`,
`rnn/multi_rnn_cell/cell_0/gru_cell/gates/bias`, ...), and reuse them on every later call. `dynamic_rnn`
unrolls a time axis known statically (small graphs, as before the engine had loops) and runs a `while_loop`
over time when the axis is only known when fed; a cell first called inside the loop body still names its
variables from the variable scope (get_variable builds them outside the loop, as TF1 does). The
backward direction of a bidirectional RNN reads the inputs reversed per example (`reverse_sequence`).
Gradients need nothing new: everything is built from differentiable ops (matmul, slicing, sigmoid, ...).
"""
from __future__ import annotations

import collections

from summaries.engine import dtypes as dt
from summaries.engine import nest
from summaries.engine import nn_ops
from summaries.engine.array_ops import (cast, concat, dim_size, expand_dims, gather, identity, shape, stack,
                                        transpose, unstack, zeros)
from summaries.engine.dtypes import TensorShape
from summaries.engine.graph import Tensor, convert_to_tensor, name_scope
from summaries.engine.math_ops import add, clip_by_value, less, matmul, multiply, subtract
from summaries.engine.sequence_ops import reverse, reverse_sequence
from summaries.engine.variables import (Initializer, constant_initializer, get_variable, variable_scope,
                                        zeros_initializer)
from summaries.engine.while_loop import append_row, while_loop


class LSTMStateTuple(collections.namedtuple("LSTMStateTuple", ("c", "h"))):
    """An LSTM's state: `c` (the memory cell) and `h` (the output), in TF1's order."""
    __slots__ = ()

    @property
    def dtype(self):
        return self.c.dtype


def _nesting(state):
    """The nesting of a state, sequence types aside (a plain (c, h) tuple may enter an LSTM)."""
    return tuple(_nesting(s) for s in state) if isinstance(state, (tuple, list)) else None


def _zeros(dims: list, dtype) -> Tensor:
    """Zeros shaped `dims`, whose entries may be scalar tensors (a batch size known only when run)."""
    if not any(isinstance(d, Tensor) for d in dims):
        return zeros([int(d) for d in dims], dtype)
    t = zeros(stack(dims), dtype)
    t.set_shape([None if isinstance(d, Tensor) else d for d in dims])
    return t


def _activation(fn):
    return nn_ops.tanh if fn is None else fn


class RNNCell:
    """Base of the cells: scope capture on the first call, `zero_state`, sizes. Subclasses define `_build`
    (create variables for an input depth) and `_step` (one time step)."""
    _base_name = "rnn_cell"

    def __init__(self, reuse=None, name: str | None = None):
        self._reuse, self._name, self._scope = reuse, name, None

    @property
    def state_size(self):
        raise NotImplementedError

    @property
    def output_size(self) -> int:
        raise NotImplementedError

    def zero_state(self, batch_size, dtype):
        """Zeros shaped like the state, `[batch_size, n]` per tensor; batch_size may be a scalar tensor."""
        with name_scope(type(self).__name__ + "ZeroState"):
            return nest.pack_as(self.state_size, [_zeros([batch_size, n], dtype)
                                                  for n in nest.flatten(self.state_size)])

    def __call__(self, inputs, state, scope=None):
        x = convert_to_tensor(inputs)
        if self._scope is None:
            depth = x.shape.as_list()[-1] if x.shape.ndims is not None else None
            if depth is None:
                raise ValueError(f"Expected inputs.shape[-1] to be known, saw shape: {x.shape}")
            name = self._name or self._base_name
            if scope is not None or self._reuse:
                ctx = variable_scope(scope if scope is not None else name, reuse=self._reuse)
            else:
                ctx = variable_scope(None, default_name=name)
            with ctx as vs:
                self._scope = vs
                self._build(int(depth), x.dtype)
                return self._step(x, state)
        with variable_scope(self._scope, reuse=True):
            return self._step(x, state)

    def _build(self, depth: int, dtype) -> None:
        raise NotImplementedError

    def _step(self, x: Tensor, state):
        raise NotImplementedError


def _linear(args: list, kernel, bias) -> Tensor:
    """`concat(args, 1) @ kernel + bias`, the affine map every TF1 cell applies to [inputs, state]."""
    return nn_ops.bias_add(matmul(concat(args, 1), kernel), bias)


class BasicRNNCell(RNNCell):
    """`h' = activation([x, h] @ kernel + bias)`; output and state are both h'."""
    _base_name = "basic_rnn_cell"

    def __init__(self, num_units: int, activation=None, reuse=None, name: str | None = None, dtype=None):
        super().__init__(reuse, name)
        self._units, self._act = int(num_units), _activation(activation)

    state_size = output_size = property(lambda self: self._units)

    def _build(self, depth, dtype):
        self._kernel = get_variable("kernel", [depth + self._units, self._units], dtype)
        self._bias = get_variable("bias", [self._units], dtype, zeros_initializer())

    def _step(self, x, state):
        h = self._act(_linear([x, state], self._kernel, self._bias))
        return h, h


class BasicLSTMCell(RNNCell):
    """TF1's LSTM without peepholes: gates i, j, f, o from one matmul, forget_bias added to f."""
    _base_name = "basic_lstm_cell"

    def __init__(self, num_units: int, forget_bias: float = 1.0, state_is_tuple: bool = True, activation=None,
                 reuse=None, name: str | None = None, dtype=None):
        super().__init__(reuse, name)
        self._units, self._forget_bias = int(num_units), float(forget_bias)
        self._tuple, self._act = state_is_tuple, _activation(activation)

    @property
    def state_size(self):
        return LSTMStateTuple(self._units, self._units) if self._tuple else 2 * self._units

    output_size = property(lambda self: self._units)

    def _build(self, depth, dtype):
        self._kernel = get_variable("kernel", [depth + self._units, 4 * self._units], dtype)
        self._bias = get_variable("bias", [4 * self._units], dtype, zeros_initializer())

    def _step(self, x, state):
        n = self._units
        c, h = state if self._tuple else (state[:, :n], state[:, n:])
        z = _linear([x, h], self._kernel, self._bias)
        i, j, f, o = z[:, :n], z[:, n:2 * n], z[:, 2 * n:3 * n], z[:, 3 * n:]
        new_c = add(multiply(c, nn_ops.sigmoid(add(f, self._forget_bias))),
                    multiply(nn_ops.sigmoid(i), self._act(j)))
        new_h = multiply(self._act(new_c), nn_ops.sigmoid(o))
        return new_h, (LSTMStateTuple(new_c, new_h) if self._tuple else concat([new_c, new_h], 1))


class LSTMCell(RNNCell):
    """TF1's full LSTM: BasicLSTMCell's gates plus optional peepholes (`w_f_diag`, `w_i_diag`, `w_o_diag`:
    the cell state feeds the gates), cell clipping, and a projection (`projection/kernel`) that maps the
    output (and the state's h) to num_proj units, optionally clipped."""
    _base_name = "lstm_cell"

    def __init__(self, num_units: int, use_peepholes: bool = False, cell_clip: float | None = None,
                 initializer: Initializer | None = None, num_proj: int | None = None, proj_clip=None,
                 num_unit_shards=None, num_proj_shards=None, forget_bias: float = 1.0, state_is_tuple: bool = True,
                 activation=None, reuse=None, name: str | None = None, dtype=None):
        if num_unit_shards is not None or num_proj_shards is not None:
            raise NotImplementedError("LSTMCell: num_unit_shards/num_proj_shards (variable partitioning) are "
                                      "not supported by this engine")
        super().__init__(reuse, name)
        self._units, self._peep, self._init = int(num_units), bool(use_peepholes), initializer
        self._cell_clip = None if cell_clip is None else float(cell_clip)
        self._proj = None if num_proj is None else int(num_proj)
        self._proj_clip = None if proj_clip is None else float(proj_clip)
        self._forget_bias, self._tuple, self._act = float(forget_bias), state_is_tuple, _activation(activation)

    @property
    def state_size(self):
        h = self._proj or self._units
        return LSTMStateTuple(self._units, h) if self._tuple else self._units + h

    output_size = property(lambda self: self._proj or self._units)

    def _build(self, depth, dtype):
        n = self._units
        self._kernel = get_variable("kernel", [depth + (self._proj or n), 4 * n], dtype, self._init)
        self._bias = get_variable("bias", [4 * n], dtype, zeros_initializer())
        if self._peep:
            self._w_f, self._w_i, self._w_o = (get_variable(f"w_{g}_diag", [n], dtype, self._init) for g in "fio")
        if self._proj is not None:
            self._proj_kernel = get_variable("projection/kernel", [n, self._proj], dtype, self._init)

    def _step(self, x, state):
        n, sig = self._units, nn_ops.sigmoid
        c, m = state if self._tuple else (state[:, :n], state[:, n:])
        z = _linear([x, m], self._kernel, self._bias)
        i, j, f, o = z[:, :n], z[:, n:2 * n], z[:, 2 * n:3 * n], z[:, 3 * n:]
        f = add(f, self._forget_bias)
        if self._peep:
            f, i = add(f, multiply(self._w_f, c)), add(i, multiply(self._w_i, c))
        new_c = add(multiply(sig(f), c), multiply(sig(i), self._act(j)))
        if self._cell_clip is not None:
            new_c = clip_by_value(new_c, -self._cell_clip, self._cell_clip)
        if self._peep:
            o = add(o, multiply(self._w_o, new_c))
        new_m = multiply(sig(o), self._act(new_c))
        if self._proj is not None:
            new_m = matmul(new_m, self._proj_kernel)
            if self._proj_clip is not None:
                new_m = clip_by_value(new_m, -self._proj_clip, self._proj_clip)
        return new_m, (LSTMStateTuple(new_c, new_m) if self._tuple else concat([new_c, new_m], 1))


class GRUCell(RNNCell):
    """TF1's GRU: `gates` (r, u; bias initialised to 1) and `candidate` sub-scopes; h' = u*h + (1-u)*c."""
    _base_name = "gru_cell"

    def __init__(self, num_units: int, activation=None, reuse=None, kernel_initializer: Initializer | None = None,
                 bias_initializer: Initializer | None = None, name: str | None = None, dtype=None):
        super().__init__(reuse, name)
        self._units, self._act = int(num_units), _activation(activation)
        self._kinit, self._binit = kernel_initializer, bias_initializer

    state_size = output_size = property(lambda self: self._units)

    def _build(self, depth, dtype):
        n = self._units
        with variable_scope("gates"):
            self._gk = get_variable("kernel", [depth + n, 2 * n], dtype, self._kinit)
            self._gb = get_variable("bias", [2 * n], dtype, self._binit or constant_initializer(1.0))
        with variable_scope("candidate"):
            self._ck = get_variable("kernel", [depth + n, n], dtype, self._kinit)
            self._cb = get_variable("bias", [n], dtype, self._binit or zeros_initializer())

    def _step(self, x, state):
        n = self._units
        gates = nn_ops.sigmoid(_linear([x, state], self._gk, self._gb))
        r, u = gates[:, :n], gates[:, n:]
        c = self._act(_linear([x, multiply(r, state)], self._ck, self._cb))
        new_h = add(multiply(u, state), multiply(subtract(1.0, u), c))
        return new_h, new_h


class MultiRNNCell(RNNCell):
    """Stacked cells: cell i runs in scope `multi_rnn_cell/cell_i` on the previous cell's output."""
    _base_name = "multi_rnn_cell"

    def __init__(self, cells, state_is_tuple: bool = True):
        super().__init__()
        if not cells:
            raise ValueError("Must specify at least one cell for MultiRNNCell.")
        if not state_is_tuple:
            raise NotImplementedError("MultiRNNCell: only state_is_tuple=True is supported by this engine")
        self._cells = list(cells)

    state_size = property(lambda self: tuple(c.state_size for c in self._cells))
    output_size = property(lambda self: self._cells[-1].output_size)

    def _build(self, depth, dtype):
        """Each sub-cell creates its own variables on its first call."""

    def _step(self, x, state):
        new_states = []
        for i, cell in enumerate(self._cells):
            with variable_scope(f"cell_{i}"):
                x, s = cell(x, state[i])
            new_states.append(s)
        return x, tuple(new_states)


class DropoutWrapper(RNNCell):
    """Dropout on a cell's inputs and outputs (keep probabilities may be tensors, e.g. a placeholder fed
    1.0 at test time). It adds no variable scope: the wrapped cell's variables keep their TF1 names."""

    def __init__(self, cell: RNNCell, input_keep_prob=1.0, output_keep_prob=1.0, state_keep_prob=1.0,
                 seed=None, variational_recurrent: bool = False, input_size=None, dtype=None,
                 dropout_state_filter_visitor=None):
        if not (isinstance(state_keep_prob, (int, float)) and state_keep_prob == 1.0):
            raise NotImplementedError("DropoutWrapper: state_keep_prob is not supported by this engine")
        if variational_recurrent:  # one mask for every time step: not what a fresh dropout per call gives
            raise NotImplementedError("DropoutWrapper: variational_recurrent is not supported by this engine")
        super().__init__()
        self._cell, self._in, self._out, self._seed = cell, input_keep_prob, output_keep_prob, seed

    state_size = property(lambda self: self._cell.state_size)
    output_size = property(lambda self: self._cell.output_size)

    def zero_state(self, batch_size, dtype):
        return self._cell.zero_state(batch_size, dtype)

    def _drop(self, x, keep):
        if isinstance(keep, (int, float)) and keep == 1.0:
            return x
        return nn_ops.dropout(x, keep_prob=keep, seed=self._seed)

    def __call__(self, inputs, state, scope=None):
        output, new_state = self._cell(self._drop(convert_to_tensor(inputs), self._in), state, scope)
        return self._drop(output, self._out), new_state


def _masked(step: int, seq_len: Tensor | None, output, new_state, old_state):
    """TF1's copy-through: past an example's length its output is zero and its state stays as it was."""
    if seq_len is None:
        return output, new_state
    with name_scope("mask"):
        keep = expand_dims(cast(less(step, seq_len), output.dtype), 1)
        out = multiply(output, keep)
        flat = [add(multiply(n, keep), multiply(o, subtract(1.0, keep)))
                for n, o in zip(nest.flatten(new_state), nest.flatten(old_state))]
    return out, nest.pack_as(new_state, flat)


def _step(cell: RNNCell, x, state, t, seq_len):
    """One masked step at time `t` (an int, or the loop's counter); a cell must keep its state's nesting."""
    out, new_state = cell(x, state)
    if _nesting(new_state) != _nesting(state):
        raise ValueError(f"{type(cell).__name__} changed the structure of its state in one step: it got "
                         f"{state!r} and returned {new_state!r}")
    return _masked(t, seq_len, out, new_state, state)


def _start(cell: RNNCell, batch, initial_state, dtype, sequence_length):
    """(the state entering the first step, int32 sequence lengths or None)."""
    if initial_state is not None:
        state = initial_state
    elif dtype is None:
        raise ValueError("If there is no initial_state, you must give a dtype.")
    else:
        state = cell.zero_state(batch, dtype)
    seq_len = None
    if sequence_length is not None:
        seq_len = identity(cast(sequence_length, dt.int32), name="sequence_length")
    return state, seq_len


def _unroll(cell: RNNCell, steps: list, batch, initial_state, dtype, sequence_length):
    state, seq_len = _start(cell, batch, initial_state, dtype, sequence_length)
    outputs = []
    for t, x in enumerate(steps):
        out, state = _step(cell, x, state, t, seq_len)
        outputs.append(out)
    return outputs, state


def _loop(cell: RNNCell, x_tm: Tensor, initial_state, dtype, sequence_length):
    """The recurrence as a while_loop over the time-major inputs' first axis, known only when run: step t
    gathers its input row and appends its output to a growing [time, batch, units] tensor (as scan does);
    returns (time-major outputs, final state)."""
    batch = dim_size(x_tm, 1)
    state, seq_len = _start(cell, batch, initial_state, dtype, sequence_length)
    flat0 = [convert_to_tensor(s) for s in nest.flatten(state)]
    acc0 = _zeros([0, batch, cell.output_size], x_tm.dtype)
    n = shape(x_tm)[0]
    last = []  # the state the body returns: the final state has its (sequence) types

    def body(t, flat, acc):
        out, new_state = _step(cell, gather(x_tm, t), nest.pack_as(state, flat), t, seq_len)
        last[:] = [new_state]
        return t + 1, nest.flatten(new_state), append_row(acc, out)
    acc_shape = TensorShape([None]).concatenate(acc0.shape[1:])
    _, flat, acc = while_loop(lambda t, flat, acc: less(t, n), body, (0, flat0, acc0),
                              shape_invariants=(TensorShape([]), [s.shape for s in flat0], acc_shape))
    return acc, nest.pack_as(last[0], flat)


def dynamic_rnn(cell: RNNCell, inputs, sequence_length=None, initial_state=None, dtype=None,
                parallel_iterations=None, swap_memory=False, time_major: bool = False, scope=None):
    """Run `cell` over [batch, time, depth] inputs ([time, batch, depth] if time_major); returns
    (outputs with the same major axes, final_state). A static time axis is unrolled, else a while_loop runs."""
    x = convert_to_tensor(inputs)
    dims = x.shape.as_list() if x.shape.ndims is not None else None
    t_axis = 0 if time_major else 1
    if dims is None or len(dims) < 3:
        raise ValueError(f"dynamic_rnn: inputs '{x.name}' must have a known rank of at least 3; got shape "
                         f"{x.shape}")
    swap = [1, 0, *range(2, len(dims))]
    with variable_scope(scope or "rnn"):
        if dims[t_axis] is None:
            outputs, state = _loop(cell, x if time_major else transpose(x, swap), initial_state, dtype,
                                   sequence_length)
            return (outputs if time_major else transpose(outputs, swap)), state
        steps = unstack(x, dims[t_axis], axis=t_axis)
        outputs, state = _unroll(cell, steps, dim_size(x, 1 - t_axis), initial_state, dtype, sequence_length)
        return stack(outputs, axis=t_axis), state


def static_rnn(cell: RNNCell, inputs, initial_state=None, dtype=None, sequence_length=None, scope=None):
    """Run `cell` over a Python list of [batch, depth] inputs; returns (list of outputs, final_state)."""
    steps = [convert_to_tensor(v) for v in inputs]
    if not steps:
        raise ValueError("inputs must not be empty")
    with variable_scope(scope or "rnn"):
        return _unroll(cell, steps, dim_size(steps[0], 0), initial_state, dtype, sequence_length)


def _reverse_time(x: Tensor, sequence_length, time_axis: int, batch_axis: int) -> Tensor:
    """Reverse each example's valid steps (all steps without sequence_length), as the backward pass sees them."""
    if sequence_length is None:
        return reverse(x, [time_axis])
    return reverse_sequence(x, sequence_length, seq_axis=time_axis, batch_axis=batch_axis)


def bidirectional_dynamic_rnn(cell_fw: RNNCell, cell_bw: RNNCell, inputs, sequence_length=None,
                              initial_state_fw=None, initial_state_bw=None, dtype=None, parallel_iterations=None,
                              swap_memory=False, time_major: bool = False, scope=None):
    """dynamic_rnn forward (scope `fw`) and over the per-example reversed inputs (scope `bw`), the latter's
    outputs reversed back so both line up in time; returns ((output_fw, output_bw), (state_fw, state_bw))."""
    x = convert_to_tensor(inputs)
    if sequence_length is not None:
        sequence_length = convert_to_tensor(sequence_length)
    t_axis, b_axis = (0, 1) if time_major else (1, 0)
    with variable_scope(scope or "bidirectional_rnn"):
        with variable_scope("fw") as fw_scope:
            output_fw, state_fw = dynamic_rnn(cell_fw, x, sequence_length, initial_state_fw, dtype,
                                              time_major=time_major, scope=fw_scope)
        with variable_scope("bw") as bw_scope:
            x_rev = _reverse_time(x, sequence_length, t_axis, b_axis)
            tmp, state_bw = dynamic_rnn(cell_bw, x_rev, sequence_length, initial_state_bw, dtype,
                                        time_major=time_major, scope=bw_scope)
    output_bw = _reverse_time(tmp, sequence_length, t_axis, b_axis)
    return (output_fw, output_bw), (state_fw, state_bw)


def _reverse_steps(steps: list, sequence_length) -> list:
    """A list of [batch, depth] steps reversed per example (TF1 stacks them time-major to do so)."""
    if sequence_length is None:
        return steps[::-1]
    return unstack(reverse_sequence(stack(steps), sequence_length, seq_axis=0, batch_axis=1), len(steps))


def static_bidirectional_rnn(cell_fw: RNNCell, cell_bw: RNNCell, inputs, initial_state_fw=None,
                             initial_state_bw=None, dtype=None, sequence_length=None, scope=None):
    """static_rnn both ways (scopes `fw`/`bw`); returns (list of concat([fw, bw], 1) per step, state_fw,
    state_bw)."""
    if not isinstance(inputs, (list, tuple)):
        raise TypeError("inputs must be a sequence")
    if not inputs:
        raise ValueError("inputs must not be empty")
    steps = [convert_to_tensor(v) for v in inputs]
    if sequence_length is not None:
        sequence_length = convert_to_tensor(sequence_length)
    with variable_scope(scope or "bidirectional_rnn"):
        with variable_scope("fw") as fw_scope:
            output_fw, state_fw = static_rnn(cell_fw, steps, initial_state_fw, dtype, sequence_length, fw_scope)
        with variable_scope("bw") as bw_scope:
            tmp, state_bw = static_rnn(cell_bw, _reverse_steps(steps, sequence_length), initial_state_bw, dtype,
                                       sequence_length, bw_scope)
    output_bw = _reverse_steps(tmp, sequence_length)
    return [concat([fw, bw], 1) for fw, bw in zip(output_fw, output_bw)], state_fw, state_bw
