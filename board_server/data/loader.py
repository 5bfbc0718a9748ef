"""Loading one run: its event files, read in name order, tailed incrementally.

Only new bytes are read on each poll; an incomplete last record is held (re-read from its
start) until it completes; a corrupt record is logged once with its file and offset and
reading resumes at the next intact record.
"""
from __future__ import annotations

import logging
import os
from collections import Counter

import numpy as np
from google.protobuf.message import DecodeError

from board_server.data.fastscan import CleanPrefix, clean_prefix, decode_scalars
from board_server.data.normalize import Normalizer
from board_server.data.run_data import RunData
from summaries.events.record import HEADER, read_records
from summaries.proto import Event

log = logging.getLogger("board.data")
CHUNK = 512 << 10  # bytes read per step: bounds the peak memory of a load (buffer + its records)
# Below this the one-record-at-a-time path is faster than the numpy one, whose fixed cost is ~0.5 ms
# (scalar-only files: 17 KB 0.9 vs 1.2 ms, 67 KB 3.6 vs 1.7 ms); logdirs of many small runs.
BULK_MIN_BYTES = 32 << 10


def is_event_file(name: str) -> bool:
    return "tfevents" in name


class FileCursor:
    """How far one event file has been read."""

    __slots__ = ("path", "offset", "size_seen", "reported")

    def __init__(self, path: str):
        self.path = path
        self.offset = 0
        self.size_seen = -1
        self.reported: set[int] = set()  # corruption offsets already logged


class RunLoader:
    """Reads a run directory's event files into a RunData."""

    def __init__(self, name: str, directory: str):
        self.name = name
        self.directory = directory
        self.data = RunData()
        self.normalizer = Normalizer(self.data, name)
        self.cursors: dict[str, FileCursor] = {}
        self.corruptions: list[str] = []
        self.first_walls: dict[str, float] = {}  # path -> wall time of its first event, when needed

    def event_files(self) -> list[str]:
        """Regular event files in the order they were started (a restart's purge depends on it)."""
        try:
            names = [n for n in os.listdir(self.directory) if is_event_file(n)]
        except OSError:
            return []
        paths = [os.path.join(self.directory, n) for n in names]
        # A symlink could point anywhere: only regular files inside the run directory are read.
        paths = [p for p in paths if os.path.isfile(p) and not os.path.islink(p)]
        return sorted(paths, key=self._start_key(paths))

    def _start_key(self, paths: list[str]):
        """Name order, as TensorBoard reads, except that files named in the same second are ordered by
        their first event's wall time: by name, pid 10000 would come before pid 9999."""
        seconds = {p: _name_seconds(p) for p in paths}
        counts = Counter(seconds.values())

        def key(path):
            sec = seconds[path]
            first = self._first_wall(path) if counts[sec] > 1 else 0.0
            return (sec, first, os.path.basename(path))
        return key

    def _first_wall(self, path: str) -> float:
        if path not in self.first_walls:
            wall = _first_wall_time(path)
            if wall is None:
                return float("inf")  # nothing written yet: it started last
            self.first_walls[path] = wall
        return self.first_walls[path]

    def poll(self) -> int:
        """Read whatever is new in the run's files; returns the number of records read."""
        total = 0
        for path in self.event_files():
            cursor = self.cursors.get(path)
            if cursor is None:
                cursor = self.cursors[path] = FileCursor(path)
            try:
                size = os.path.getsize(path)
                if size == cursor.size_seen:
                    continue
                if cursor.offset == 0:
                    self.normalizer.start_file()
                total += self._read_new(cursor, size)
                cursor.size_seen = size
            except OSError as e:  # deleted or unreadable under us: keep what we have
                log.warning("%s: cannot read %s: %s", self.name, path, e)
        for path in list(self.cursors):
            if not os.path.exists(path):
                del self.cursors[path]
                self.first_walls.pop(path, None)
        return total

    def _ingest_clean(self, buf: bytes, prefix: CleanPrefix, cursor: FileCursor) -> None:
        """Plain scalars in bulk, every other record through the normalizer, all in file order."""
        if prefix.starts.size == 0:
            return
        batch = decode_scalars(buf, prefix.starts, prefix.lengths)
        scalar_rank = np.cumsum(batch.is_scalar)  # scalars among records [0..i]
        done = 0  # scalars already ingested
        for i in np.flatnonzero(~batch.is_scalar).tolist() + [prefix.starts.size]:
            upto = int(scalar_rank[i - 1]) if i else 0
            if upto > done:
                part = slice(done, upto)
                self.normalizer.ingest_scalars(batch.tags, batch.tag_ids[part], batch.steps[part],
                                               batch.walls[part], batch.values[part])
                done = upto
            if i < prefix.starts.size:
                start, length = int(prefix.starts[i]), int(prefix.lengths[i])
                self.normalizer.ingest(buf[start:start + length], cursor.path, cursor.offset + start - HEADER)

    def _read_new(self, cursor: FileCursor, size: int) -> int:
        count = 0
        chunk = CHUNK
        with open(cursor.path, "rb") as f:
            while cursor.offset < size:
                f.seek(cursor.offset)
                buf = f.read(chunk)
                if not buf:
                    break
                prefix = clean_prefix(buf) if len(buf) >= BULK_MIN_BYTES else CleanPrefix.empty()
                self._ingest_clean(buf, prefix, cursor)
                count += prefix.starts.size
                result = read_records(buf, prefix.end, cursor.offset)  # damage and tails, one by one
                for bad in result.corruptions:
                    if bad.offset not in cursor.reported:
                        cursor.reported.add(bad.offset)
                        message = f"{cursor.path}: {bad}; reading resumes at the next intact record"
                        self.corruptions.append(message)
                        log.warning("%s: %s", self.name, message)
                ingest = self.normalizer.ingest
                for offset, data in result.records:
                    ingest(data, cursor.path, offset)
                count += len(result.records)
                progressed = result.next_offset > cursor.offset
                cursor.offset = result.next_offset
                if len(buf) < chunk:  # that was everything the file has now
                    break
                if not progressed:  # one record larger than the chunk: read more at once
                    chunk *= 2
        return count


def _name_seconds(path: str) -> int:
    """The `<secs>` of `events.out.tfevents.<secs>.<host>...` (-1 when the name has none)."""
    parts = os.path.basename(path).split(".")
    return int(parts[3]) if len(parts) > 3 and parts[3].isdigit() else -1


def _first_wall_time(path: str) -> float | None:
    try:
        with open(path, "rb") as f:
            result = read_records(f.read(4096))
    except OSError:
        return None
    if not result.records:
        return None
    try:
        return Event.FromString(result.records[0][1]).wall_time
    except (DecodeError, RuntimeError, ValueError):  # a damaged first event: taken as started last
        return None


def load_run(name: str, directory: str) -> RunLoader:
    """A fully loaded RunLoader, its scalar columns consolidated (so serving them allocates nothing)."""
    loader = RunLoader(name, directory)
    loader.poll()
    for column in loader.data.scalars.values():
        column.series()
    return loader
