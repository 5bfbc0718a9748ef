"""`tf.data` (TF1 1.4+ input pipelines): Dataset transformations and iterators run by the Session.

A Dataset is only a description: nothing runs when it is built. An iterator's initializer op takes every
tensor the pipeline was built from as inputs (so fed placeholders reach it through the ordinary plan), turns
the pipeline into a Python generator of flat element lists and keeps it for that Session. Each
IteratorGetNext op pulls one element per `sess.run`, so all of its outputs in a run come from one element,
and the end of the data is TF1's `OutOfRangeError("End of sequence")`.

`map`/`filter` functions build graph ops on element placeholders, as TF1 traces a function; the iterator runs
that sub-graph per element with a plan of its own. Element structures are tensors, tuples (namedtuples) and
dicts (sorted keys), nested; a Python list is one tensor, as in TF.
"""
from __future__ import annotations

import itertools
import types
import weakref

import numpy as np

from summaries.engine import dtypes as dt
from summaries.engine import nest
from summaries.engine.array_ops import placeholder
from summaries.engine.dtypes import TensorShape, as_shape
from summaries.engine.errors import FailedPreconditionError, OutOfRangeError, kernel_error
from summaries.engine.graph import Tensor, convert_to_tensor, get_default_graph, make_op, name_scope
from summaries.engine.random_ops import get_seed


# ---- element structures ----------------------------------------------------------------------------------
def _flatten(s) -> list:
    """Leaves of an element structure: tuples and dicts nest, a list is one tensor (as in tf.data)."""
    return nest.flatten(s, sequences=(tuple,))


def _pack(s, flat):
    """`flat` (in `_flatten` order) rebuilt into the structure of `s`."""
    return nest.pack_as(s, flat, sequences=(tuple,))


def _placeholders(tensors, stop=()) -> list:
    """The Placeholder ops `tensors` depend on (not looking past the tensors in `stop`)."""
    stop_ids = {id(t) for t in stop}
    seen, found, stack = set(), [], [t.op for t in tensors if id(t) not in stop_ids]
    while stack:
        op = stack.pop()
        if id(op) in seen:
            continue
        seen.add(id(op))
        if op.type == "Placeholder":
            found.append(op)
        stack += [t.op for t in op.inputs if id(t) not in stop_ids] + list(op.control_inputs)
    return found


class _Run:
    """One initialization of an iterator in one Session: its input values and shuffle generators."""

    def __init__(self, sess, values: dict):
        self.sess, self.values, self.rngs = sess, values, {}

    def value(self, x):
        return self.values[id(x)] if isinstance(x, Tensor) else x

    def rng(self, key, seeds, persist: bool):
        """A generator per shuffle: kept across epochs when `persist`, else restarted from the same seed."""
        if persist and key in self.rngs:
            return self.rngs[key][1]
        seed = self.rngs[key][0] if key in self.rngs else (
            list(seeds) if seeds[0] is not None else np.random.SeedSequence().entropy)
        self.rngs[key] = (seed, np.random.default_rng(seed))
        return self.rngs[key][1]


class _Function:
    """`fn` traced once on placeholders for a dataset's elements; applied per element by a sub-plan."""

    def __init__(self, fn, dataset: "Dataset", name: str):
        g = get_default_graph()
        with g.control_dependencies(None), name_scope(name):
            self.args = [placeholder(d, s, name=f"arg{i}") for i, (d, s) in
                         enumerate(zip(_flatten(dataset.output_types), _flatten(dataset.output_shapes)))]
            nested = _pack(dataset.output_types, self.args)
            out = fn(*nested) if type(nested) is tuple else fn(nested)
            self.outputs = [convert_to_tensor(t) for t in _flatten(out)]
        self.structure = out
        self.captured = [op.outputs[0] for op in _placeholders(self.outputs, self.args)]

    def caller(self, run: _Run):
        plan, extra = run.sess.plan(self.outputs, self.args + self.captured), [run.value(t) for t in self.captured]
        return lambda el: list(plan.run(list(el) + extra))


# ---- datasets -------------------------------------------------------------------------------------------
class Dataset:
    """An immutable pipeline description: element types/shapes, the tensors it reads, and a generator maker."""

    def __init__(self, output_types, output_shapes, gen, parents=(), inputs=()):
        self.output_types, self.output_shapes = output_types, output_shapes
        self._gen, self._parents, self._inputs = gen, tuple(parents), [t for t in inputs if isinstance(t, Tensor)]

    def _all_inputs(self) -> list:
        """Every tensor the pipeline reads, once each: the inputs of an iterator's initializer op."""
        return list({id(t): t for t in [t for p in self._parents for t in p._all_inputs()] + self._inputs}.values())

    def _derive(self, gen, types_=None, shapes=None, inputs=()) -> "Dataset":
        return Dataset(self.output_types if types_ is None else types_,
                       self.output_shapes if shapes is None else shapes, gen, [self], inputs)

    # ---- sources ----
    @staticmethod
    def from_tensor_slices(tensors) -> "Dataset":
        """One element per row of the leading dimension of every component (all must agree)."""
        with name_scope("tensors"):
            flat = [convert_to_tensor(t, name=f"component_{i}") for i, t in enumerate(_flatten(tensors))]
        for t in flat:
            if t.shape.ndims == 0:
                raise ValueError("Unbatching a tensor is only supported for rank >= 1")
        lead = {t.shape._dims[0] for t in flat if t.shape._dims is not None} - {None}
        if len(lead) > 1:
            raise ValueError(f"Dimensions {sorted(lead)} are not compatible: all components of "
                             f"from_tensor_slices need the same leading dimension")
        shapes = [TensorShape(None if t.shape._dims is None else t.shape._dims[1:]) for t in flat]

        def gen(run):
            vals = [run.value(t) for t in flat]
            if len({len(v) for v in vals}) > 1:
                raise ValueError(f"Dimensions {[len(v) for v in vals]} of the components do not match")
            for i in range(len(vals[0])):
                yield [v[i] for v in vals]
        return Dataset(_pack(tensors, [t.dtype for t in flat]), _pack(tensors, shapes), gen, inputs=flat)

    @staticmethod
    def from_tensors(tensors) -> "Dataset":
        """A single element: the tensors themselves."""
        with name_scope("tensors"):
            flat = [convert_to_tensor(t, name=f"component_{i}") for i, t in enumerate(_flatten(tensors))]
        return Dataset(_pack(tensors, [t.dtype for t in flat]), _pack(tensors, [t.shape for t in flat]),
                       lambda run: iter([[run.value(t) for t in flat]]), inputs=flat)

    @staticmethod
    def from_generator(generator, output_types, output_shapes=None, args=None) -> "Dataset":
        """The elements `generator(*args)` yields, each checked against the declared types and shapes; the
        generator is called afresh at every initialization (and every epoch of a following `repeat`)."""
        shapes = _shapes_like(output_types, output_shapes)
        types_, flat_shapes = _flatten(output_types), _flatten(shapes)
        with name_scope("generator"):
            arg_tensors = [convert_to_tensor(a, name=f"arg{i}") for i, a in enumerate(args or ())]

        def gen(run):
            for element in generator(*(run.value(a) for a in arg_tensors)):
                try:
                    leaves = nest.flatten_up_to(output_types, element)
                except (TypeError, ValueError, KeyError) as e:
                    raise kernel_error(f"`generator` yielded an element that did not match the "
                                                           f"expected structure ({e}). The expected structure was "
                                                           f"{output_types}, but the yielded element was {element!r}.")
                yield [_generated(v, d, s) for v, d, s in zip(leaves, types_, flat_shapes)]
        return Dataset(output_types, shapes, gen, inputs=arg_tensors)

    @staticmethod
    def range(*args) -> "Dataset":
        """Python's range(start, stop, step) as int64 scalars."""
        return Dataset(dt.int64, TensorShape([]),
                       lambda run: ([np.int64(i)] for i in range(*(int(run.value(a)) for a in args))), inputs=args)

    @staticmethod
    def zip(datasets) -> "Dataset":
        """Elements of the nested datasets side by side, until the shortest ends."""
        subs = _flatten(datasets)

        def gen(run):
            for parts in zip(*(d._gen(run) for d in subs)):
                yield [x for p in parts for x in p]
        return Dataset(_pack(datasets, [d.output_types for d in subs]),
                       _pack(datasets, [d.output_shapes for d in subs]), gen, subs)

    # ---- transformations ----
    def batch(self, batch_size, drop_remainder: bool = False) -> "Dataset":
        """Stack `batch_size` consecutive elements; the last batch is partial unless `drop_remainder`."""
        n = batch_size if isinstance(batch_size, Tensor) else int(batch_size)
        lead = n if drop_remainder and isinstance(n, int) else None

        def gen(run):
            size, src = int(run.value(n)), self._gen(run)
            while True:
                chunk = list(itertools.islice(src, size))
                if not chunk or (drop_remainder and len(chunk) < size):
                    return
                yield [np.stack(c) for c in zip(*chunk)]
        shapes = [TensorShape(None) if s.ndims is None else TensorShape([lead] + s._dims)
                  for s in _flatten(self.output_shapes)]
        return self._derive(gen, shapes=_pack(self.output_types, shapes), inputs=[n])

    def padded_batch(self, batch_size, padded_shapes=None, padding_values=None,
                     drop_remainder: bool = False) -> "Dataset":
        """`batch` for elements of different shapes: each component is padded with its padding value (0, False
        or b"" by default) to `padded_shapes`, whose unknown (None/-1) dimensions take the batch's largest."""
        n = batch_size if isinstance(batch_size, Tensor) else int(batch_size)
        lead = n if drop_remainder and isinstance(n, int) else None
        types_, own = _flatten(self.output_types), _flatten(self.output_shapes)
        targets = own if padded_shapes is None else [as_shape(s) for s in _flatten(padded_shapes)]
        if len(targets) != len(types_):
            raise ValueError(f"padded_shapes {padded_shapes} does not match the element structure {self.output_types}")
        for target, shape in zip(targets, own):
            if target.ndims is None or (shape.ndims is not None and shape.ndims != target.ndims):
                raise ValueError(f"The padded shape {target} is not compatible with the corresponding input "
                                 f"component shape {shape}.")
        fills = ([None] * len(types_) if padding_values is None else
                 [getattr(v, "value", v) for v in _flatten(padding_values)])

        def gen(run):
            size, src = int(run.value(n)), self._gen(run)
            pads = [_default_padding(d) if f is None else np.asarray(run.value(f), d.np)
                    for f, d in zip(fills, types_)]
            while True:
                chunk = list(itertools.islice(src, size))
                if not chunk or (drop_remainder and len(chunk) < size):
                    return
                yield [_pad_stack([np.asarray(el[i], types_[i].np) for el in chunk], targets[i], pads[i])
                       for i in range(len(types_))]
        shapes = [TensorShape([lead] + t.as_list()) for t in targets]
        return self._derive(gen, shapes=_pack(self.output_types, shapes), inputs=[n, *fills])

    def shuffle(self, buffer_size, seed=None, reshuffle_each_iteration: bool = True) -> "Dataset":
        """TF's buffered shuffle: fill a buffer of `buffer_size`, emit a random slot and refill it from the input.

        With a seed (op or graph level) every initialization repeats the same order; each epoch of a
        following `repeat` draws a new order unless `reshuffle_each_iteration=False`. Same algorithm as TF,
        not TF's random stream, so orders differ from real TF."""
        seeds = get_seed(seed)
        key = object()

        def gen(run):
            size, rng, buf = int(run.value(buffer_size)), run.rng(key, seeds, reshuffle_each_iteration), []
            for el in self._gen(run):
                if len(buf) < size:
                    buf.append(el)
                    continue
                i = rng.integers(len(buf))
                yield buf[i]
                buf[i] = el
            while buf:
                i = rng.integers(len(buf))
                buf[i], buf[-1] = buf[-1], buf[i]
                yield buf.pop()
        return self._derive(gen, inputs=[buffer_size])

    def repeat(self, count=None) -> "Dataset":
        """The input `count` times (forever for None or -1); an empty input stays empty."""
        def gen(run):
            c, k = (None if count is None else int(run.value(count))), 0
            while c is None or c < 0 or k < c:
                empty = True
                for el in self._gen(run):
                    empty = False
                    yield el
                if empty:
                    return
                k += 1
        return self._derive(gen, inputs=[count])

    def take(self, count) -> "Dataset":
        """The first `count` elements (all for -1)."""
        def gen(run):
            c = int(run.value(count))
            return itertools.islice(self._gen(run), None if c < 0 else c)
        return self._derive(gen, inputs=[count])

    def skip(self, count) -> "Dataset":
        """All but the first `count` elements (none for -1)."""
        def gen(run):
            c = int(run.value(count))
            return iter(()) if c < 0 else itertools.islice(self._gen(run), c, None)
        return self._derive(gen, inputs=[count])

    def map(self, map_func, num_parallel_calls=None) -> "Dataset":
        """`map_func` on each element (a tuple element is passed as separate arguments, as TF1 does)."""
        f = _Function(map_func, self, "map")

        def gen(run):
            call = f.caller(run)
            return (call(el) for el in self._gen(run))
        return self._derive(gen, _pack(f.structure, [t.dtype for t in f.outputs]),
                            _pack(f.structure, [t.shape for t in f.outputs]), f.captured)

    def filter(self, predicate) -> "Dataset":
        """The elements for which `predicate` (a scalar bool graph) is true."""
        f = _Function(predicate, self, "filter")
        if len(f.outputs) != 1 or f.outputs[0].dtype is not dt.bool_:
            raise ValueError("`predicate` must return a scalar boolean tensor.")

        def gen(run):
            call = f.caller(run)
            return (el for el in self._gen(run) if call(el)[0])
        return self._derive(gen, inputs=f.captured)

    def prefetch(self, buffer_size) -> "Dataset":
        """No-op: elements are produced on demand in the session's thread."""
        return self

    # ---- iterators ----
    def make_one_shot_iterator(self) -> "Iterator":
        """An iterator that initializes itself on its first use in each Session (no placeholders allowed)."""
        for op in _placeholders(self._all_inputs()):
            raise ValueError(f"Failed to capture resource: Cannot capture a placeholder (name:{op.name}, "
                             f"type:Placeholder) by value. Use make_initializable_iterator() instead.")
        it = Iterator(self.output_types, self.output_shapes)
        it._one_shot = it.make_initializer(self, name="OneShotIterator")
        return it

    def make_initializable_iterator(self, shared_name=None) -> "Iterator":
        it = Iterator(self.output_types, self.output_shapes)
        it.initializer = it.make_initializer(self)
        return it


class Iterator:
    """Per-Session position in a dataset; `get_next()` ops advance it one element per run."""

    def __init__(self, output_types, output_shapes):
        self.output_types, self.output_shapes = output_types, _shapes_like(output_types, output_shapes)
        self.initializer = None
        self._one_shot = None
        self._state: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # Session -> element generator

    @staticmethod
    def from_structure(output_types, output_shapes=None, shared_name=None, output_classes=None) -> "Iterator":
        """A reinitializable iterator: `make_initializer(dataset)` points it at any dataset of that structure."""
        return Iterator(output_types, output_shapes)

    def make_initializer(self, dataset: Dataset, name=None):
        """An op that (re)starts this iterator at the beginning of `dataset` in the session that runs it."""
        if _flatten(dataset.output_types) != _flatten(self.output_types):
            raise TypeError(f"Expected output types {self.output_types} but got dataset with output types "
                            f"{dataset.output_types}.")
        inputs = dataset._all_inputs()

        def factory(sess):
            def kernel(*vals):
                self._state[sess] = dataset._gen(_Run(sess, {id(t): v for t, v in zip(inputs, vals)}))
            return kernel
        with name_scope(name or "MakeIterator") as scope:
            return make_op("MakeIterator", scope, inputs, [], factory=factory)

    def get_next(self, name=None):
        """Tensors with the element structure; running them takes the next element (all outputs from it)."""
        types_, shapes = _flatten(self.output_types), _flatten(self.output_shapes)
        npds = [d.np for d in types_]

        def factory(sess):
            def kernel():
                if sess not in self._state:
                    if self._one_shot is None:
                        raise FailedPreconditionError(None, op, "GetNext() failed because the iterator has not "
                                                      "been initialized. Ensure that you have run the initializer "
                                                      "operation for this iterator before getting the next element.")
                    sess.run(self._one_shot)
                el = next(self._state[sess], None)
                if el is None:
                    raise OutOfRangeError(None, op, "End of sequence")
                vals = tuple(np.asarray(v, d) for v, d in zip(el, npds))
                return vals if len(vals) > 1 else vals[0]
            return kernel
        with name_scope(name or "IteratorGetNext") as scope:
            op = make_op("IteratorGetNext", scope, [], list(zip(types_, shapes)), factory=factory)
        return _pack(self.output_types, op.outputs)


def _generated(value, dtype, shape: TensorShape) -> np.ndarray:
    """One component a generator yielded, as TF checks it: convertible to `dtype`, compatible with `shape`."""
    try:
        array = np.asarray(value, dtype.np)
    except (TypeError, ValueError):
        raise kernel_error(f"TypeError: `generator` yielded an element that could not be "
                                               f"converted to the expected type. The expected type was "
                                               f"{dtype.name}, but the yielded element was {value!r}.") from None
    if not TensorShape(list(array.shape)).is_compatible_with(shape):
        raise kernel_error(f"`generator` yielded an element of shape {array.shape} where an "
                                               f"element of shape {shape} was expected.")
    return array


def _default_padding(dtype) -> np.ndarray:
    return np.asarray(b"" if dtype is dt.string else 0, dtype.np)


def _pad_stack(parts: list, target: TensorShape, pad: np.ndarray) -> np.ndarray:
    """`parts` padded at the end of every axis to `target` (its None dimensions: the largest part's) and stacked."""
    dims = target.as_list()
    if any(p.ndim != len(dims) for p in parts):
        raise kernel_error(f"All elements in a batch must have the same rank as the padded "
                                               f"shape {tuple(dims)}: got shapes {[p.shape for p in parts]}.")
    size = [max(p.shape[a] for p in parts) if d is None or d < 0 else d for a, d in enumerate(dims)]
    out = np.full([len(parts), *size], pad, dtype=parts[0].dtype)
    for i, p in enumerate(parts):
        if any(have > want for have, want in zip(p.shape, size)):
            raise kernel_error(f"Attempted to pad to a smaller size than the input element: "
                                                   f"element of shape {p.shape}, padded shape {tuple(size)}.")
        out[(i, *(slice(0, k) for k in p.shape))] = p
    return out


def _shapes_like(output_types, output_shapes):
    """`output_shapes` as TensorShapes in the structure of `output_types` (unknown shapes when None)."""
    flat = _flatten(output_types)
    shapes = [None] * len(flat) if output_shapes is None else _flatten(output_shapes)
    return _pack(output_types, [as_shape(s) for s in shapes])


def make_one_shot_iterator(dataset: Dataset) -> Iterator:
    return dataset.make_one_shot_iterator()


def make_initializable_iterator(dataset: Dataset, shared_name=None) -> Iterator:
    return dataset.make_initializable_iterator(shared_name)


experimental = types.SimpleNamespace(AUTOTUNE=-1)
