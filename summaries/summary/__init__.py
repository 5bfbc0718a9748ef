"""`tf.summary`: the TF1 summary surface.

FileWriter and the pure numpy -> Summary builders (`summaries.summary.builders`) need nothing
but numpy and protobuf. The graph-mode ops (`scalar`, `histogram`, `image`, `text`, `audio`,
`merge`, `merge_all`) build engine ops and are loaded from the engine on first use.
"""
from __future__ import annotations

import importlib

from summaries.summary.file_writer import FileWriter  # noqa: F401

_GRAPH_OPS = {"scalar", "histogram", "image", "text", "audio", "merge", "merge_all", "tensor_summary"}


def __getattr__(name: str):
    if name in _GRAPH_OPS:
        return getattr(importlib.import_module("summaries.engine.summary_ops"), name)
    raise AttributeError(f"module 'summaries.summary' has no attribute {name!r}")
