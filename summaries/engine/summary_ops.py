"""Graph-mode `tf.summary.*` ops: their value in `sess.run` is a serialized Summary.

Tags follow TF1: the summary's name scope (current scopes + name, made unique case-insensitively)
without the trailing slash, so `scalar("cost", c)` inside `name_scope("cost")` is `cost/cost`, and a
second `histogram("X", ...)` beside an op named X is `X_1`. Images add `/image/0..N-1`.
"""
from __future__ import annotations

import re

import numpy as np

from summaries.engine import dtypes as dt
from summaries.engine.array_ops import constant
from summaries.engine.graph import (GraphKeys, Tensor, convert_to_tensor, get_default_graph, make_op, name_scope,
                                    no_gradient)
from summaries.summary import builders

_INVALID = re.compile(r"[^-/\w\.]")


def clean_tag(name):
    """TF1's summary name cleaning: invalid characters -> '_', no leading '/'."""
    if name is None:
        return None
    new = _INVALID.sub("_", name).lstrip("/")
    return new


def _collect(op_tensor, collections):
    g = get_default_graph()
    for c in (collections if collections is not None else [GraphKeys.SUMMARIES]):
        g.add_to_collection(c, op_tensor)
    return op_tensor


def _summary(op_type, name, family, values, tag_const_name, build, collections, extra_attrs=None):
    name = clean_tag(name)
    family = clean_tag(family)
    base = name if family is None else f"{family}/{name}"
    with name_scope(base) as scope:
        tag = scope.rstrip("/")
        if family is not None:
            tag = f"{family}/{tag}"
        v = convert_to_tensor(values)
        tag_t = constant(tag, dt.string, name=tag_const_name)
        op = make_op(op_type, scope, [tag_t, v], [(dt.string, [])], kernel=build(tag), exec_idx=(1,),
                     attrs={"T": v.dtype, **(extra_attrs or {})})
    return _collect(op.outputs[0], collections)


def scalar(name, tensor, collections=None, family=None) -> Tensor:
    """A ScalarSummary; the tensor must hold one number at run time."""
    def build(tag):
        return lambda v: builders.scalar(tag, v).SerializeToString()
    return _summary("ScalarSummary", name, family, tensor, "tags", build, collections)


def histogram(name, values, collections=None, family=None) -> Tensor:
    """A HistogramSummary with TF1's default buckets; NaN/Inf raise as TF does."""
    def build(tag):
        return lambda v: builders.histogram(tag, v).SerializeToString()
    return _summary("HistogramSummary", name, family, values, "tag", build, collections)


def image(name, tensor, max_outputs=3, collections=None, family=None) -> Tensor:
    """An ImageSummary of an NHWC batch; tags `<tag>/image/<i>` (or `<tag>/image` when max_outputs == 1)."""
    def build(tag):
        return lambda v: builders.image(tag, v, max_outputs).SerializeToString()
    return _summary("ImageSummary", name, family, tensor, "tag", build, collections,
                    {"max_images": int(max_outputs)})


def audio(name, tensor, sample_rate, max_outputs=3, collections=None, family=None) -> Tensor:
    def build(tag):
        return lambda v: builders.audio(tag, v, float(sample_rate), max_outputs).SerializeToString()
    return _summary("AudioSummaryV2", name, family, tensor, "tag", build, collections,
                    {"max_outputs": int(max_outputs)})


def text(name, tensor, collections=None) -> Tensor:
    def build(tag):
        return lambda v: builders.text(tag, v).SerializeToString()
    return _summary("TensorSummaryV2", name, None, tensor, "tag", build, collections)


def tensor_summary(name, tensor, summary_description=None, collections=None, summary_metadata=None,
                   family=None, display_name=None) -> Tensor:
    from summaries.engine.graphdef import tensor_proto
    from summaries.proto import Summary

    def build(tag):
        return lambda v: Summary(value=[Summary.Value(tag=tag, tensor=tensor_proto(np.asarray(v)))]).SerializeToString()
    return _summary("TensorSummaryV2", name, family, tensor, "tag", build, collections)


def _merge_kernel(*parts):
    return b"".join(parts)  # concatenated Summary messages parse as one with all values


def merge(inputs, collections=None, name=None) -> Tensor:
    """MergeSummary: one Summary holding the values of all `inputs`."""
    xs = [convert_to_tensor(x) for x in inputs]
    with name_scope(name or "Merge"):
        with name_scope("MergeSummary") as scope:
            op = make_op("MergeSummary", scope, xs, [(dt.string, [])], kernel=_merge_kernel, attrs={"N": len(xs)})
    return _collect(op.outputs[0], collections or [])


def merge_all(key=GraphKeys.SUMMARIES, scope=None, name=None):
    """Merge every summary in the collection, or None when there is none (as TF1)."""
    items = get_default_graph().get_collection(key, scope)
    if not items:
        return None
    return merge(items, name=name)


def get_summary_description(node_def):
    return None


no_gradient("ScalarSummary", "HistogramSummary", "ImageSummary", "AudioSummaryV2", "TensorSummaryV2",
            "MergeSummary")
