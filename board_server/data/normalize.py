"""Event records -> a run's logical series, whoever wrote them.

Writers differ: TF1 and tensorboardX/PyTorch write `simple_value`, `HistogramProto` and
`Summary.Image`; TF2/Keras write tensors whose meaning is in plugin metadata that only the
*first* event of a tag carries. The normalizer remembers each tag's plugin and maps every
form onto the kinds in RunData. It also applies TensorBoard's orphan purge: a
`SessionLog.START` drops everything at or after its step; in files older than
`brain.Event:2`, a summary whose step went back drops that tag's later points.

Simple scalar events (the bulk of most logdirs) are decoded without building protobuf
objects; anything that does not fit that exact layout takes the protobuf path.
"""
from __future__ import annotations

import json
import logging
import struct

import numpy as np
from google.protobuf.message import DecodeError

from board_server.data.provider import BlobSequencePoint, HistogramPoint, TensorPoint, TextPoint
from board_server.data.run_data import BlobRef, RunData, ThinnedList
from board_server.data.tensors import (BadTensor, histogram_proto_to_buckets, histogram_tensor_to_buckets,
                                       tensor_shape, tensor_to_numpy)
from summaries.proto import Event, SessionLog

log = logging.getLogger("board.data")
_D = struct.Struct("<d").unpack_from
_F = struct.Struct("<f").unpack_from
GRAPH_PLUGINS = ("graph_run_metadata_graph", "graph_run_metadata")
HISTOGRAM_STEPS = 500  # histogram steps kept per tag: between 500 and 1,000, evenly spread (see ThinnedList)
MAX_OTHER_TENSOR = 1 << 16  # elements of another plugin's tensor kept in memory (a PR curve has 6 x 201 at most)


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        b = data[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result & 0xFFFFFFFFFFFFFFFF, pos  # the 10th byte's extra bits are dropped, as protobuf does
        shift += 7
        if shift > 63:
            raise IndexError("varint too long")


def fast_scalar(data: bytes):
    """(tag, step, wall, value) of an Event that is exactly one `simple_value` summary, else None.

    Layout: 09 wall(8) [10 step-varint] 2a len 0a len [0a taglen tag] 15 value(4), nothing else.
    """
    try:
        if data[0] != 0x09:
            return None
        wall = _D(data, 1)[0]
        pos = 9
        step = 0
        if data[pos] == 0x10:
            step, pos = _varint(data, pos + 1)
            if step >= 1 << 63:
                step -= 1 << 64
        if data[pos] != 0x2A:
            return None
        summary_len, pos = _varint(data, pos + 1)
        if pos + summary_len != len(data) or data[pos] != 0x0A:
            return None
        value_len, pos = _varint(data, pos + 1)
        if pos + value_len != len(data):
            return None
        tag = ""
        if data[pos] == 0x0A:
            tag_len, pos = _varint(data, pos + 1)
            tag = data[pos:pos + tag_len].decode("utf-8")
            pos += tag_len
        if data[pos] != 0x15 or pos + 5 != len(data):
            return None
        return tag, step, wall, _F(data, pos + 1)[0]
    except (IndexError, UnicodeDecodeError, struct.error):
        return None


class Normalizer:
    """Feeds one run's records, in file order, into its RunData."""

    def __init__(self, run: RunData, run_name: str):
        self.run = run
        self.run_name = run_name
        self.plugin_of: dict[str, str] = {}  # tag -> plugin, from the first event that said so
        self.file_version = 2.0
        self.most_recent_step = None
        self.bad_values = 0

    def start_file(self) -> None:
        self.file_version = 0.0  # until the file says otherwise

    def ingest(self, data: bytes, path: str, offset: int) -> None:
        run = self.run
        run.events += 1
        fast = fast_scalar(data)
        if fast is not None:
            tag, step, wall, value = fast
            if run.start_time is None:
                run.start_time = wall
            self._check_out_of_order(step, (tag,))
            run.add_scalar(tag, step, wall, value)
            return
        try:
            event = Event.FromString(data)
        except (DecodeError, RuntimeError, ValueError) as e:
            self._bad(path, offset, f"not a valid Event ({e})")
            return
        if run.start_time is None and event.wall_time:
            run.start_time = event.wall_time
        what = event.WhichOneof("what")
        if what == "file_version":
            self.file_version = _version_number(event.file_version)
        elif what == "session_log":
            if event.session_log.status == SessionLog.START and self.file_version >= 2:
                run.purge_from(event.step)
        elif what == "summary":
            self._check_out_of_order(event.step, [v.tag for v in event.summary.value])
            for index, value in enumerate(event.summary.value):
                try:
                    self._value(event, index, value, path, offset)
                except (BadTensor, ValueError, IndexError, UnicodeDecodeError) as e:
                    self._bad(path, offset, f"tag {value.tag!r}: {e}")
        elif what == "graph_def":
            run.graph = event.graph_def
            run.note_tag("graphs", "__run_graph__", event.step)
        elif what == "meta_graph_def":
            if run.graph is None:
                from summaries.proto import MetaGraphDef
                try:
                    run.graph = MetaGraphDef.FromString(event.meta_graph_def).graph_def.SerializeToString()
                    run.note_tag("graphs", "__run_graph__", event.step)
                except DecodeError as e:
                    self._bad(path, offset, f"meta_graph_def is not a MetaGraphDef ({e})")
        elif what == "tagged_run_metadata":
            tag = event.tagged_run_metadata.tag
            run.run_metadata[tag] = event.tagged_run_metadata.run_metadata
            run.note_tag("run_metadata", tag, event.step)
        if what in ("session_log", "graph_def", "meta_graph_def", "tagged_run_metadata"):
            self.most_recent_step = event.step

    def ingest_scalars(self, tags: list[str], tag_ids, steps, walls, values) -> None:
        """Many plain scalar events at once, in file order (from the bulk reader)."""
        n = len(steps)
        if n == 0:
            return
        run = self.run
        if self.file_version < 2:  # restarts show only as steps going back: check each event
            for tag_id, step, wall, value in zip(tag_ids.tolist(), steps.tolist(), walls.tolist(), values.tolist()):
                run.events += 1
                if run.start_time is None:
                    run.start_time = wall
                self._check_out_of_order(step, (tags[tag_id],))
                run.add_scalar(tags[tag_id], step, wall, value)
            return
        run.events += n
        if run.start_time is None:
            run.start_time = float(walls[0])
        self.most_recent_step = int(steps[-1])
        order = np.argsort(tag_ids, kind="stable")
        ids = tag_ids[order]
        bounds = np.flatnonzero(np.diff(ids)) + 1
        for group in np.split(order, bounds):
            run.add_scalars(tags[int(tag_ids[group[0]])], steps[group], walls[group], values[group])

    def _check_out_of_order(self, step: int, tags) -> None:
        """Files written before `brain.Event:2` mark restarts only by a step going back."""
        if self.file_version < 2 and self.most_recent_step is not None and step < self.most_recent_step:
            self.run.purge_from(step, set(tags))
        self.most_recent_step = step

    def _bad(self, path: str, offset: int, why: str) -> None:
        self.bad_values += 1
        log.warning("%s: record at offset %d of %s skipped: %s", self.run_name, offset, path, why)

    def _value(self, event: Event, index: int, value, path: str, offset: int) -> None:
        run, tag, step, wall = self.run, value.tag, event.step, event.wall_time
        if value.HasField("metadata") and value.metadata.plugin_data.plugin_name:
            plugin_data = value.metadata.plugin_data
            self.plugin_of[tag] = plugin_data.plugin_name
            if plugin_data.content:  # the first content of a tag is its content, as in TensorBoard
                run.plugin_contents.setdefault(plugin_data.plugin_name, {}).setdefault(tag, plugin_data.content)
        description = value.metadata.summary_description if value.HasField("metadata") else ""
        display = value.metadata.display_name if value.HasField("metadata") else ""
        kind = value.WhichOneof("value")
        if kind == "simple_value":
            run.add_scalar(tag, step, wall, value.simple_value)
        elif kind == "histo":
            self._histogram(tag, step, wall, histogram_proto_to_buckets(value.histo), description, display)
        elif kind == "image":
            point = BlobSequencePoint(wall, step, 1, value.image.width, value.image.height)
            self._blob("images", tag, point, BlobRef(path, offset, index, "image"), description, display)
        elif kind == "audio":
            point = BlobSequencePoint(wall, step, 1)
            self._blob("audio", tag, point, BlobRef(path, offset, index, "audio"), description, display)
        elif kind == "tensor":
            self._tensor(self.plugin_of.get(tag, ""), value, event, index, path, offset, description, display)
        elif kind is None and tag in self.plugin_of:  # metadata alone (tensorboardX's hparams summaries)
            run.note_tag(self.plugin_of[tag], tag, step, description, display)

    def _tensor(self, plugin, value, event, index, path, offset, description, display) -> None:
        run, tag, step, wall, proto = self.run, value.tag, event.step, event.wall_time, value.tensor
        if plugin == "scalars":
            array = tensor_to_numpy(proto)
            if array.size != 1:
                raise BadTensor(f"scalar tensor of shape {array.shape}")
            run.add_scalar(tag, step, wall, float(array.reshape(())))
            if description or display:
                run.note_tag("scalars", tag, step, description, display)
        elif plugin == "histograms":
            self._histogram(tag, step, wall, histogram_tensor_to_buckets(tensor_to_numpy(proto)), description,
                            display)
        elif plugin == "images":
            array = tensor_to_numpy(proto)
            if array.ndim != 1 or array.size < 2:
                raise BadTensor(f"image tensor of shape {array.shape}, expected [2 + n]")
            width, height = _int_or_none(array[0]), _int_or_none(array[1])
            point = BlobSequencePoint(wall, step, array.size - 2, width, height)
            self._blob("images", tag, point, BlobRef(path, offset, index, "image_tensor"), description, display)
        elif plugin == "audio":
            shape = tensor_shape(proto)
            count = shape[0] if shape else 1
            self._blob("audio", tag, BlobSequencePoint(wall, step, count), BlobRef(path, offset, index, "audio_tensor"),
                       description, display)
        elif plugin == "text":
            array = tensor_to_numpy(proto)
            strings = [s.decode("utf-8", "replace") if isinstance(s, bytes) else str(s) for s in array.ravel()]
            run.text.setdefault(tag, []).append(TextPoint(wall, step, tuple(array.shape), strings))
            run.note_tag("text", tag, step, description, display)
        elif plugin in GRAPH_PLUGINS:
            run.run_metadata[tag] = proto.string_val[0] if proto.string_val else b""
            run.note_tag(plugin, tag, step)
        elif plugin == "graph_keras_model":
            run.keras_models[tag] = (proto.string_val[0] if proto.string_val else b"").decode("utf-8", "replace")
            json.loads(run.keras_models[tag] or "{}")
            run.note_tag(plugin, tag, step)
        elif plugin:  # e.g. pr_curves, hparams: kept as tensors for their dashboards, unless too big to hold
            array = tensor_to_numpy(proto)
            if array.size <= MAX_OTHER_TENSOR:
                series = run.tensors.get(tag)
                if series is None:
                    series = run.tensors[tag] = ThinnedList(HISTOGRAM_STEPS)
                series.append(TensorPoint(wall, step, array))
            run.note_tag(plugin, tag, step, description, display)

    def _histogram(self, tag, step, wall, buckets, description, display) -> None:
        series = self.run.histograms.get(tag)
        if series is None:
            series = self.run.histograms[tag] = ThinnedList(HISTOGRAM_STEPS)
        series.append(HistogramPoint(wall, step, buckets))
        self.run.note_tag("histograms", tag, step, description, display)

    def _blob(self, plugin, tag, point, ref, description, display) -> None:
        self.run.blobs.setdefault(tag, []).append((point, ref))
        self.run.note_tag(plugin, tag, point.step, description, display, samples=point.count)


def _version_number(text: str) -> float:
    try:
        return float(text.rsplit(":", 1)[-1])
    except ValueError:
        return 0.0


def _int_or_none(raw) -> int | None:
    try:
        return int(raw)
    except (TypeError, ValueError):
        return None
