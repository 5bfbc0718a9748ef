"""The DataProvider over one or more logdirs: run discovery, parallel first load, live reload.

Every directory holding `*tfevents*` files is a run, named by its path relative to the logdir
("." for the logdir itself; `name/...` under a `--logdir_spec` entry). The first load reads
runs in parallel worker processes and serves each run as soon as it is in; afterwards a
reload thread polls every run for new bytes, picks up new runs and drops vanished ones.
"""
from __future__ import annotations

import logging
import os
import struct
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed

from board_server.data.loader import RunLoader, is_event_file, load_run
from board_server.data.provider import (BlobSequencePoint, HistogramPoint, RunInfo, ScalarSeries, TagInfo,
                                        TensorPoint, TextPoint)
from board_server.data.run_data import BlobRef
from board_server.data.run_files import RunFileError, read_inside, version_inside
from board_server.memory import release_free_memory
from summaries.events.record import FOOTER, HEADER, MAX_RECORD, masked_crc32c
from summaries.proto import Event

log = logging.getLogger("board.data")
# Runs at least this big load in parallel threads (their time is in numpy, which releases the GIL);
# smaller ones are mostly Python and load faster one after another (1,000 runs of 26 KB: 0.81 s in
# one thread, 0.93 s in two; 10 runs of 10 MB: 1.02 s in one, 0.61 s in two).
PARALLEL_RUN_BYTES = 1 << 20


class LogdirProvider:
    """Implements board_server.data.provider.DataProvider."""

    def __init__(self, logdirs: list[tuple[str, str]], reload_interval: float = 5.0, workers: int | None = None):
        self.logdirs = [(prefix, os.path.abspath(os.path.expanduser(path))) for prefix, path in logdirs]
        self.reload_interval = reload_interval
        self.workers = workers or os.cpu_count() or 1
        self._runs: dict[str, RunLoader] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._found: dict[str, str] = {}
        self._first_load_done = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------
    def start(self) -> "LogdirProvider":
        self._thread = threading.Thread(target=self._run_forever, name="board-reload", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def wait_loaded(self, timeout: float | None = None) -> bool:
        return self._first_load_done.wait(timeout)

    def _run_forever(self) -> None:
        try:
            self.reload(first=True)
        except Exception:
            log.exception("first load failed")
        self._first_load_done.set()
        release_free_memory()
        while self.reload_interval > 0 and not self._stop.wait(self.reload_interval):
            try:
                self.reload()
            except Exception:  # never let one bad reload stop the loop
                log.exception("reload failed")

    # -- discovery and loading -------------------------------------------------------------
    def discover(self) -> dict[str, str]:
        """run name -> directory, for every directory holding event files (symlinks are not followed)."""
        found = {}
        for prefix, root in self.logdirs:
            if not os.path.isdir(root):
                continue
            for directory, dirs, files in os.walk(root):
                dirs.sort()
                if any(is_event_file(f) and not os.path.islink(os.path.join(directory, f)) for f in files):
                    rel = os.path.relpath(directory, root).replace(os.sep, "/")
                    name = rel if not prefix else (prefix if rel == "." else f"{prefix}/{rel}")
                    found[name] = directory
        return found

    def reload(self, first: bool = False) -> None:
        found = self.discover()
        self._found = found
        for name in [n for n in self._runs if n not in found]:
            del self._runs[name]  # its directory no longer holds event files
        new = [n for n in found if n not in self._runs]
        sizes = {n: _run_size(found[n]) for n in new} if first and self.workers > 1 else {}
        big = sorted((n for n in sizes if sizes[n] >= PARALLEL_RUN_BYTES), key=lambda n: -sizes[n])
        if len(big) > 1:
            self._load_parallel(big, found)  # biggest first, so the threads finish together
        for name in new:
            if name not in self._runs:
                self._install(load_run(name, found[name]))
        for name, loader in list(self._runs.items()):
            if name not in new:
                with self._locks[name]:
                    loader.poll()

    def _install(self, loader: RunLoader) -> None:
        self._locks.setdefault(loader.name, threading.Lock())
        self._runs[loader.name] = loader

    def _load_parallel(self, names: list[str], found: dict[str, str]) -> None:
        # Threads, not processes: the bulk reader spends its time in numpy, which releases the GIL,
        # and threads share one copy of the data (worker processes would hand it back pickled).
        with ThreadPoolExecutor(max_workers=min(self.workers, len(names))) as pool:
            futures = {pool.submit(load_run, name, found[name]): name for name in names}
            for future in as_completed(futures):
                try:
                    self._install(future.result())
                except Exception:  # a bug in the loader must not stop the other runs
                    log.exception("loading run %s failed", futures[future])

    # -- DataProvider ----------------------------------------------------------------------
    def runs(self) -> list[RunInfo]:
        return [RunInfo(name, loader.data.start_time) for name, loader in sorted(self._runs.items())]

    def loading_status(self) -> dict:
        return {"runs_found": len(self._found), "runs_loaded": len(self._runs),
                "done": self._first_load_done.is_set()}

    def corruptions(self) -> dict[str, list[str]]:
        return {name: list(loader.corruptions) for name, loader in self._runs.items() if loader.corruptions}

    def tags(self, plugin: str) -> dict[str, dict[str, TagInfo]]:
        out = {}
        for name, loader in sorted(self._runs.items()):
            tags = loader.data.tag_info.get(plugin)
            if tags:
                out[name] = dict(tags)
        return out

    def run_tags(self, run: str, plugin: str) -> dict[str, TagInfo]:
        loader = self._runs.get(run)
        return dict(loader.data.tag_info.get(plugin, {})) if loader is not None else {}

    def run_file(self, run: str, path: str, limit: int) -> bytes:
        loader = self._runs.get(run)
        if loader is None:
            raise RunFileError(f"no run {run!r}", 404)
        return read_inside(loader.directory, path, limit)

    def run_file_version(self, run: str, path: str) -> tuple | None:
        loader = self._runs.get(run)
        return None if loader is None else version_inside(loader.directory, path)

    def _data(self, run: str):
        loader = self._runs.get(run)
        return (loader.data, self._locks[run]) if loader is not None else (None, None)

    def _series_copy(self, run: str, store: str, tag: str) -> list | None:
        """A copy of one tag's points from a RunData store (taken under the run's lock), or None."""
        data, lock = self._data(run)
        if data is None or tag not in getattr(data, store):
            return None
        with lock:
            return list(getattr(data, store)[tag])

    def scalars(self, run: str, tag: str) -> ScalarSeries | None:
        data, lock = self._data(run)
        if data is None or tag not in data.scalars:
            return None
        with lock:
            return data.scalars[tag].series()

    def histograms(self, run: str, tag: str) -> list[HistogramPoint] | None:
        return self._series_copy(run, "histograms", tag)

    def blob_sequence(self, run: str, tag: str) -> list[BlobSequencePoint] | None:
        data, lock = self._data(run)
        if data is None or tag not in data.blobs:
            return None
        with lock:
            return [point for point, _ in data.blobs[tag]]

    def read_blob(self, run: str, tag: str, index: int, sample: int) -> bytes | None:
        data, lock = self._data(run)
        if data is None or tag not in data.blobs:
            return None
        with lock:
            points = data.blobs[tag]
            if not 0 <= index < len(points):
                return None
            point, ref = points[index]
        if not 0 <= sample < point.count:
            return None
        return _read_blob(ref, sample)

    def text(self, run: str, tag: str) -> list[TextPoint] | None:
        return self._series_copy(run, "text", tag)

    def tensors(self, run: str, tag: str) -> list[TensorPoint] | None:
        return self._series_copy(run, "tensors", tag)

    def plugin_contents(self, plugin: str) -> dict[str, dict[str, bytes]]:
        out = {}
        for name, loader in sorted(self._runs.items()):
            contents = loader.data.plugin_contents.get(plugin)
            if contents:
                out[name] = dict(contents)
        return out

    def graph(self, run: str) -> bytes | None:
        data, _ = self._data(run)
        return data.graph if data is not None else None

    def run_metadata(self, run: str, tag: str) -> bytes | None:
        data, _ = self._data(run)
        return data.run_metadata.get(tag) if data is not None else None

    def keras_model(self, run: str, tag: str) -> str | None:
        data, _ = self._data(run)
        return data.keras_models.get(tag) if data is not None else None


def _run_size(directory: str) -> int:
    """Bytes of a run directory's event files (0 when it cannot be listed)."""
    try:
        return sum(e.stat().st_size for e in os.scandir(directory) if is_event_file(e.name) and e.is_file())
    except OSError:
        return 0


def _read_blob(ref: BlobRef, sample: int) -> bytes | None:
    """Re-read one record by offset, check both CRCs, and pull out the blob."""
    try:
        with open(ref.path, "rb") as f:
            f.seek(ref.offset)
            header = f.read(HEADER)
            if len(header) < HEADER:
                return None
            (length,) = struct.unpack("<Q", header[:8])
            if struct.unpack("<I", header[8:])[0] != masked_crc32c(header[:8]) or length > MAX_RECORD:
                return None
            body = f.read(length + FOOTER)
    except OSError:
        return None
    if len(body) < length + FOOTER:
        return None
    payload = body[:length]
    if struct.unpack("<I", body[length:])[0] != masked_crc32c(payload):
        return None
    values = Event.FromString(payload).summary.value
    if ref.value_index >= len(values):
        return None
    value = values[ref.value_index]
    if ref.kind == "image":
        return value.image.encoded_image_string
    if ref.kind == "audio":
        return value.audio.encoded_audio_string
    strings = value.tensor.string_val
    index = sample + 2 if ref.kind == "image_tensor" else sample * 2  # [w, h, png...] or [k, 2] (wav, label)
    return strings[index] if index < len(strings) else None
