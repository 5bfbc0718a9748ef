"""The narrow interface every dashboard plugin reads through. Plugins never open files.

The implementation (the logdir loader in this package) discovers runs, tails event files,
normalizes every writer's forms (TF1, TF2/Keras, tensorboardX, PyTorch, ours) and keeps:
scalars as columnar numpy arrays at full resolution, histograms as [k, 3] bucket arrays,
blobs (images, audio) as references into the event files read on demand, text, graphs, other
plugins' tensors and every plugin's metadata content.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class RunInfo:
    name: str  # path relative to the logdir, "/"-separated; "." for the logdir itself
    start_time: float | None  # wall time of the run's first event, if any


@dataclass(frozen=True)
class TagInfo:
    display_name: str
    description: str
    plugin: str  # "scalars", "histograms", "images", "audio", "text", "graphs", ...
    last_step: int | None = None
    samples: int = 1  # for blob sequences: the largest number of blobs in one step


@dataclass
class ScalarSeries:
    steps: np.ndarray  # int32 when every step fits, else int64
    wall_times: np.ndarray  # float64
    values: np.ndarray  # float32 when every value came as float32 (simple_value), else float64


@dataclass(frozen=True)
class HistogramPoint:
    wall_time: float
    step: int
    buckets: np.ndarray  # float64 [k, 3]: left edge, right edge, count


@dataclass(frozen=True)
class BlobSequencePoint:
    wall_time: float
    step: int
    count: int  # blobs at this step
    width: int | None = None  # for images, when known without decoding
    height: int | None = None


@dataclass(frozen=True)
class TextPoint:
    wall_time: float
    step: int
    shape: tuple[int, ...]
    strings: list[str]


@dataclass(frozen=True)
class TensorPoint:
    wall_time: float
    step: int
    array: np.ndarray


class DataProvider(Protocol):
    def runs(self) -> list[RunInfo]: ...

    def loading_status(self) -> dict:
        """{"runs_found": int, "runs_loaded": int, "done": bool}, for the page's loading bar."""

    def tags(self, plugin: str) -> dict[str, dict[str, TagInfo]]:
        """run -> tag -> info, for the tags of one plugin kind."""

    def run_tags(self, run: str, plugin: str) -> dict[str, TagInfo]:
        """tag -> info for one run and plugin kind (empty when the run has none)."""

    def scalars(self, run: str, tag: str) -> ScalarSeries | None: ...

    def histograms(self, run: str, tag: str) -> list[HistogramPoint] | None: ...

    def blob_sequence(self, run: str, tag: str) -> list[BlobSequencePoint] | None: ...

    def read_blob(self, run: str, tag: str, index: int, sample: int) -> bytes | None:
        """Bytes of blob `sample` at the `index`-th step of a blob sequence; read from disk."""

    def text(self, run: str, tag: str) -> list[TextPoint] | None: ...

    def tensors(self, run: str, tag: str) -> list[TensorPoint] | None:
        """Tensor summaries of plugins that have no kind of their own here (e.g. pr_curves), per step;
        thinned like histograms on long runs."""

    def run_file(self, run: str, path: str, limit: int) -> bytes:
        """A file a plugin keeps beside a run's event files (`path` relative to the run's directory; see
        data/run_files.py for what is refused). RunFileError (with a status) when it cannot be read."""

    def run_file_version(self, run: str, path: str) -> tuple | None:
        """Something that changes when that file is rewritten (for caches), or None when it is absent."""

    def plugin_contents(self, plugin: str) -> dict[str, dict[str, bytes]]:
        """run -> tag -> the `plugin_data.content` of the tag's first metadata (TensorBoard's
        PluginRunToTagToContent); hparams keeps everything it has there."""

    def graph(self, run: str) -> bytes | None:
        """The run's serialized GraphDef (from Event.graph_def or meta_graph_def), if any."""

    def run_metadata(self, run: str, tag: str) -> bytes | None:
        """Serialized RunMetadata of a tagged_run_metadata event or a graph_run_metadata summary.

        Tags come from tags("run_metadata") (tagged_run_metadata events) and
        tags("graph_run_metadata_graph") / tags("graph_run_metadata") (TF2 trace_export).
        """

    def keras_model(self, run: str, tag: str) -> str | None:
        """The model config JSON of a `graph_keras_model` summary (tags("graph_keras_model"))."""
