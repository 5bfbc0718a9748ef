"""summaries: write TensorFlow event files; `import summaries as tf` runs TF1-style graph code.

The TF1 namespace (placeholder, Session, train, nn, ...) lives in `summaries.engine.api` and is
loaded on first attribute access, so code that only needs the event format (the board server
imports `summaries.events` and `summaries.proto`) never pays for, or depends on, the engine.
"""
from __future__ import annotations

import importlib

__version__ = "0.1.0"

_SUBMODULES = {"summary", "events", "proto", "engine"}


def __getattr__(name: str):
    if name in _SUBMODULES:
        return importlib.import_module(f"summaries.{name}")
    if name == "SummaryWriter":
        from summaries.summary.writer import SummaryWriter
        return SummaryWriter
    api = importlib.import_module("summaries.engine.api")
    try:
        return getattr(api, name)
    except AttributeError:
        raise AttributeError(f"module 'summaries' has no attribute {name!r}") from None


def __dir__():
    api = importlib.import_module("summaries.engine.api")
    return sorted(set(globals()) | _SUBMODULES | {"SummaryWriter"} | set(dir(api)))
