"""EventFileWriter: appends serialized Event records to one event file from a background thread.

Callers hand over already-serialized `Event` bytes; the thread frames and writes them in
batches, so adding an event costs a list append. The file is written when `max_queue`
events are pending, every `flush_secs`, on `flush()` / `close()` and at interpreter exit.
An I/O error in the thread is kept and raised to the caller at its next call.
"""
from __future__ import annotations

import atexit
import itertools
import os
import socket
import sys
import threading
import time
import weakref

from summaries.events.record import frame
from summaries.proto import Event

_counter = itertools.count()
_open_writers: "weakref.WeakSet[EventFileWriter]" = weakref.WeakSet()


def event_file_name(suffix: str = "") -> str:
    """`events.out.tfevents.<secs>.<host>.<pid>.<n><suffix>`: unique per writer, even within one process."""
    return f"events.out.tfevents.{int(time.time()):010d}.{socket.gethostname()}.{os.getpid()}.{next(_counter)}{suffix}"


class EventFileWriter:
    """Writes events to a new file in `logdir`; see the module docstring for when bytes hit the disk."""

    def __init__(self, logdir: str | os.PathLike, max_queue: int = 10, flush_secs: float = 120,
                 filename_suffix: str = ""):
        self.logdir = os.fspath(logdir)
        self.max_queue = max(1, int(max_queue))
        self.flush_secs = float(flush_secs)
        self.filename_suffix = filename_suffix
        self._cond = threading.Condition()
        self._pending: list[bytes] = []
        self._error: BaseException | None = None
        self._closed = True
        self._open()

    # -- lifecycle ---------------------------------------------------------------------
    def _open(self) -> None:
        os.makedirs(self.logdir, exist_ok=True)
        self.path = os.path.join(self.logdir, event_file_name(self.filename_suffix))
        self._file = open(self.path, "ab")
        self._closed = False
        self._flush_requested = 0
        self._flushed = 0
        header = Event(wall_time=time.time(), file_version="brain.Event:2").SerializeToString()
        self._file.write(frame(header))
        self._file.flush()
        self._thread = threading.Thread(target=self._run, name=f"EventFileWriter({self.path})", daemon=True)
        self._thread.start()
        _open_writers.add(self)

    def reopen(self) -> None:
        """Start a new event file after `close()`; a no-op while open."""
        if self._closed:
            self._open()

    def close(self) -> None:
        """Write everything pending, close the file and stop the thread."""
        if self._closed:
            self._raise_pending_error()
            return
        self.flush()
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._thread.join()
        self._file.close()
        _open_writers.discard(self)
        self._raise_pending_error()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- writing -----------------------------------------------------------------------
    def add_event_bytes(self, data: bytes) -> None:
        """Queue one serialized Event."""
        if self._error is not None:
            self._raise_pending_error()
        if self._closed:
            raise RuntimeError(f"event writer for {self.path} is closed (call reopen() to write again)")
        pending = self._pending
        pending.append(data)
        if len(pending) >= self.max_queue:
            with self._cond:
                self._cond.notify()

    def add_event(self, event: Event) -> None:
        self.add_event_bytes(event.SerializeToString())

    def flush(self) -> None:
        """Block until every event added so far is written to the file (and handed to the OS)."""
        if self._closed:
            self._raise_pending_error()
            return
        with self._cond:
            self._flush_requested += 1
            ticket = self._flush_requested
            self._cond.notify()
            while self._flushed < ticket and self._error is None and self._thread.is_alive():
                self._cond.wait(0.5)
        self._raise_pending_error()

    def _raise_pending_error(self) -> None:
        if self._error is not None:
            err, self._error = self._error, None
            raise OSError(f"writing events to {self.path} failed: {err}") from err

    # -- the I/O thread ----------------------------------------------------------------
    def _run(self) -> None:
        deadline = time.monotonic() + self.flush_secs
        while True:
            with self._cond:
                while (not self._closed and len(self._pending) < self.max_queue
                       and self._flush_requested == self._flushed and time.monotonic() < deadline):
                    self._cond.wait(max(0.0, min(1.0, deadline - time.monotonic())))
                # Slice-then-delete on the same list: an append racing with us lands past `n`, never lost.
                n = len(self._pending)
                batch = self._pending[:n]
                del self._pending[:n]
                ticket = self._flush_requested
                closing = self._closed
            try:
                if batch:
                    self._file.write(b"".join(map(frame, batch)))
                self._file.flush()
            except BaseException as e:  # kept for the caller: never lost silently
                self._error = e
            deadline = time.monotonic() + self.flush_secs
            with self._cond:
                self._flushed = max(self._flushed, ticket)
                self._cond.notify_all()
            if closing and not self._pending:
                return


@atexit.register
def _close_all_at_exit() -> None:
    """Scripts that never call close() lose nothing on a normal exit."""
    for writer in list(_open_writers):
        try:
            writer.close()
        except Exception as e:  # the interpreter is exiting: report, don't raise
            print(f"summaries: could not finish {writer.path}: {e}", file=sys.stderr)
