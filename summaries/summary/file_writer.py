"""TF1's `tf.summary.FileWriter`: summaries, graphs, session logs and run metadata into an event file."""
from __future__ import annotations

import os
import time

from google.protobuf.message import DecodeError, Message

from summaries.events.writer import EventFileWriter
from summaries.proto import Event, GraphDef, SessionLog, Summary, TaggedRunMetadata
from summaries.summary.encode import scalar_event, summary_event


def graph_def_bytes(graph) -> bytes:
    """Serialized GraphDef of a GraphDef proto, its bytes, or anything with `as_graph_def()` (our engine's Graph)."""
    if hasattr(graph, "as_graph_def"):
        graph = graph.as_graph_def()
    if isinstance(graph, (bytes, bytearray)):
        GraphDef.FromString(bytes(graph))  # reject garbage here, not in the viewer
        return bytes(graph)
    if isinstance(graph, Message) and graph.DESCRIPTOR.name == "GraphDef":
        return graph.SerializeToString()
    raise TypeError(f"add_graph needs a GraphDef, its serialized bytes or a Graph with as_graph_def(); "
                    f"got {type(graph).__name__}")


class FileWriter:
    """Writes Event protocol buffers to an event file in `logdir` (TensorFlow 1's API and defaults)."""

    def __init__(self, logdir: str | os.PathLike, graph=None, max_queue: int = 10, flush_secs: float = 120,
                 filename_suffix: str = "", graph_def=None):
        self._logdir = os.fspath(logdir)
        self.event_writer = EventFileWriter(self._logdir, max_queue, flush_secs, filename_suffix)
        if graph is not None or graph_def is not None:
            self.add_graph(graph if graph is not None else graph_def)

    def get_logdir(self) -> str:
        return self._logdir

    def add_summary(self, summary, global_step: int | None = None, walltime: float | None = None) -> None:
        """Add a `Summary` proto or its serialized bytes (what `sess.run(merged)` returns)."""
        if isinstance(summary, (bytes, bytearray)):
            data = bytes(summary)
            try:
                Summary.FromString(data)
            except DecodeError as e:
                raise ValueError(f"add_summary: the bytes given are not a serialized Summary ({e})") from None
        elif isinstance(summary, Message) and summary.DESCRIPTOR.name == "Summary":
            data = summary.SerializeToString()
        else:
            raise TypeError(f"add_summary needs a Summary proto or its bytes, got {type(summary).__name__}")
        step = None if global_step is None else int(global_step)
        self.event_writer.add_event_bytes(summary_event(data, step, time.time() if walltime is None else walltime))

    def add_scalar_fast(self, tag: str, value: float, step: int | None, walltime: float | None = None) -> None:
        """A simple_value scalar without building protobuf objects (SummaryWriter's hot path)."""
        self.event_writer.add_event_bytes(scalar_event(tag, value, step, time.time() if walltime is None else walltime))

    def add_graph(self, graph, global_step: int | None = None, graph_def=None) -> None:
        """Add a graph for the graph dashboard: a GraphDef, its bytes, or a Graph (e.g. `sess.graph`)."""
        event = Event(wall_time=time.time(), graph_def=graph_def_bytes(graph if graph is not None else graph_def))
        if global_step is not None:
            event.step = int(global_step)
        self.add_event(event)

    def add_session_log(self, session_log: SessionLog, global_step: int | None = None) -> None:
        event = Event(wall_time=time.time(), session_log=session_log)
        if global_step is not None:
            event.step = int(global_step)
        self.add_event(event)

    def add_run_metadata(self, run_metadata, tag: str, global_step: int | None = None) -> None:
        """Add a RunMetadata (proto or bytes) under `tag`, as TF1's FileWriter does."""
        data = run_metadata if isinstance(run_metadata, bytes) else run_metadata.SerializeToString()
        event = Event(wall_time=time.time(), tagged_run_metadata=TaggedRunMetadata(tag=tag, run_metadata=data))
        if global_step is not None:
            event.step = int(global_step)
        self.add_event(event)

    def add_event(self, event: Event) -> None:
        self.event_writer.add_event(event)

    def flush(self) -> None:
        self.event_writer.flush()

    def close(self) -> None:
        self.event_writer.close()

    def reopen(self) -> None:
        self.event_writer.reopen()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
