"""Concurrent writers, crashes, renames and deletions under a live server.

Writer processes (ours, and tensorboardX's synchronous EventsWriter when /work/peers has it) append scalars to several runs and flush
periodically, appending the last flushed step to a side file *after* each flush. They are SIGKILLed at random
moments and restarted the way a training job resumes from its last checkpoint: a new event file in the same
run, `purge_step` = last reported step + 1 (a SessionLog.START, so what the dead writer wrote after its last
report is dropped by the reader, as TensorBoard does). Mid-way one run directory is renamed and one old event
file is deleted (after the server has read it). The real CLI serves with --reload_interval 1 while client threads
poll runs, tags and series.

Asserts: no 5xx and no traceback ever; at the end every surviving run serves every reported-flushed step
exactly once (and no step twice), the renamed run is gone under its old name.

Runs once by default (~30 s); BOARD_CONCURRENCY_RUNS=20 repeats it; BOARD_CONCURRENCY_SEED fixes the seed
(the seed of each repetition is printed).
"""
from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from pathlib import Path

import pytest

from conftest import ROOT

RUNS = int(os.environ.get("BOARD_CONCURRENCY_RUNS", "1"))
FIXED_SEED = int(os.environ.get("BOARD_CONCURRENCY_SEED", "0"))
DURATION = float(os.environ.get("BOARD_CONCURRENCY_SECONDS", "14"))  # of writing, kills and restarts
PEERS_PYTHON = Path("/work/peers/bin/python")
TAGS = ("loss", "acc/top1")

WRITER = r"""
import os, random, sys, time
kind, logdir, side, start, seed = sys.argv[1:6]
start, rnd = int(start), random.Random(int(seed))
if kind == "ours":
    from summaries.summary.writer import SummaryWriter
    w = SummaryWriter(logdir, purge_step=start if start else None, max_queue=100000, flush_secs=3600)
    add, flush = w.add_scalar, w.flush
else:  # tensorboardX's own synchronous events writer (its SummaryWriter.flush() does not drain its queue)
    from tensorboardX.event_file_writer import EventsWriter
    from tensorboardX.proto.event_pb2 import Event, SessionLog
    from tensorboardX.summary import scalar
    os.makedirs(logdir, exist_ok=True)
    ev = EventsWriter(os.path.join(logdir, "events"))
    if start:
        ev.write_event(Event(step=start, wall_time=time.time(), session_log=SessionLog(status=SessionLog.START)))
    add = lambda tag, value, step: ev.write_event(Event(step=step, wall_time=time.time(), summary=scalar(tag, value)))
    flush = ev.flush
step = start
with open(side, "a") as report:
    while True:
        for _ in range(rnd.randint(1, 25)):
            add("loss", 1.0 / (step + 1), step)
            add("acc/top1", step * 0.5, step)
            step += 1
        flush()
        report.write(f"{step - 1}\n")  # only after the flush returned
        report.flush()
        time.sleep(rnd.uniform(0.0, 0.04))
"""


def _tbx_available() -> bool:
    if not PEERS_PYTHON.exists():
        return False
    return subprocess.run([str(PEERS_PYTHON), "-c", "import tensorboardX"], capture_output=True).returncode == 0


TBX = _tbx_available()


class Server:
    """The real CLI on a free port; its output is drained (and kept) so it never blocks on a full pipe."""

    def __init__(self, logdir: Path):
        cmd = [sys.executable, "-u", "-m", "board_server", "--logdir", str(logdir), "--port", "0",
               "--reload_interval", "1"]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT)
        self.lines: list[str] = []
        self.url_ready = threading.Event()
        self.url = ""
        threading.Thread(target=self._drain, daemon=True).start()
        if not self.url_ready.wait(30):
            self.stop()
            raise RuntimeError("board did not print its URL:\n" + "".join(self.lines))

    def _drain(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line)
            m = re.search(r"(http://[^\s]+/)", line)
            if m and not self.url:
                self.url = m.group(1)
                self.url_ready.set()

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)


class Writer:
    """One run's writer process, restartable; knows the run's current directory and last reported step."""

    def __init__(self, kind: str, run_dir: Path, side: Path, rnd: random.Random):
        self.kind, self.run_dir, self.side, self.rnd = kind, run_dir, side, rnd
        self.proc: subprocess.Popen | None = None
        self.start_size = 0
        self.first_report: float | None = None
        self.instances = 0

    def reported(self) -> int:
        """The last step reported flushed (-1: none); a line cut by SIGKILL does not count."""
        if not self.side.exists():
            return -1
        lines = [ln for ln in self.side.read_text().split("\n")[:-1] if ln]
        return int(lines[-1]) if lines else -1

    def start(self) -> None:
        python = str(PEERS_PYTHON) if self.kind == "tbx" else sys.executable
        self.proc = subprocess.Popen([python, "-c", WRITER, self.kind, str(self.run_dir), str(self.side),
                                      str(self.reported() + 1), str(self.rnd.randrange(1 << 30))],
                                     cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.start_size = self.side.stat().st_size if self.side.exists() else 0
        self.first_report = None
        self.instances += 1

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
        if self.proc is not None and self.proc.stderr is not None:
            err = self.proc.stderr.read().decode("utf-8", "replace")
            self.proc.stderr.close()
            assert "Traceback" not in err, f"writer {self.run_dir.name} crashed:\n{err}"
        self.proc = None

    def alive_for(self) -> float:
        """Seconds since this instance's first report: its event file is at least that old. (Counting from the
        spawn is not enough: under load the import alone can take a second.)"""
        if self.proc is None:
            return 0.0
        if self.first_report is None:
            if not self.side.exists() or self.side.stat().st_size <= self.start_size:
                return 0.0
            self.first_report = time.monotonic()
        return time.monotonic() - self.first_report


def _get(url: str, data: bytes | None = None):
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"} if data else {})
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.status, json.loads(r.read())


class Clients:
    """Threads polling the routes the dashboard polls; any 5xx or transport error is recorded."""

    def __init__(self, base: str, n: int, seed: int):
        self.base, self.stop_flag = base, threading.Event()
        self.errors: list[str] = []
        self.requests = 0
        self.threads = [threading.Thread(target=self._loop, args=(random.Random(seed + i),), daemon=True)
                        for i in range(n)]
        for t in self.threads:
            t.start()

    def _call(self, path: str, body: dict | None = None):
        self.requests += 1
        try:
            return _get(self.base + path, json.dumps(body).encode() if body is not None else None)[1]
        except urllib.error.HTTPError as e:
            text = e.read().decode("utf-8", "replace")
            if e.code >= 500 or "Traceback" in text:
                self.errors.append(f"{path}: {e.code} {text[:200]}")
            return None
        except Exception as e:  # noqa: BLE001 - any transport failure is an error here
            self.errors.append(f"{path}: {type(e).__name__}: {e}")
            return None

    def _loop(self, rnd: random.Random) -> None:
        while not self.stop_flag.is_set():
            runs = self._call("data/runs") or []
            tags = self._call("data/plugin/scalars/tags") or {}
            pairs = [(r, t) for r in tags for t in tags[r]]
            for run, tag in rnd.sample(pairs, min(3, len(pairs))):
                self._call("data/plugin/scalars/scalars?" + urllib.parse.urlencode({"run": run, "tag": tag}))
            if pairs:
                self._call("data/plugin/scalars/batch", {"series": [{"run": r, "tag": t} for r, t in pairs],
                                                         "points": 200, "smoothing": 0.6})
            if runs:
                self._call("data/runs_info")

    def stop(self) -> None:
        self.stop_flag.set()
        for t in self.threads:
            t.join(30)


def _served_steps(base: str, run: str, tag: str) -> list[int]:
    try:
        status, points = _get(base + "data/plugin/scalars/scalars?" + urllib.parse.urlencode({"run": run, "tag": tag}))
    except urllib.error.HTTPError:
        return []
    return [p[1] for p in points]


def _wait_served(base: str, run: str, upto: int, timeout: float) -> bool:
    """True once every step 0..upto of every tag of `run` is served."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(set(range(upto + 1)) <= set(_served_steps(base, run, tag)) for tag in TAGS):
            return True
        time.sleep(0.2)
    return False


def _one_round(tmp: Path, seed: int) -> str:
    rnd = random.Random(seed)
    logdir, sides = tmp / "logs", tmp / "sides"
    logdir.mkdir()
    sides.mkdir()
    kinds = ["ours", "ours", "ours", "tbx" if TBX else "ours"]
    writers = {f"run{i}": Writer(kind, logdir / f"run{i}", sides / f"run{i}.txt", rnd) for i, kind in enumerate(kinds)}
    renamed = {"run2": "moved/run2_renamed"}
    delete_in = "run0"
    for w in writers.values():
        w.start()
    server = Server(logdir)
    clients = Clients(server.url, 3, seed)
    did_rename = did_delete = False
    try:
        t0 = time.monotonic()
        while time.monotonic() - t0 < DURATION:
            time.sleep(0.1)
            for name, w in writers.items():
                # Files live >= 1.2 s: event file names carry whole seconds, and files are read in name order
                # (a restart within the same second could sort before the file it resumes, as in TensorBoard).
                if w.proc is not None and w.alive_for() > 1.2 and rnd.random() < 0.04:
                    w.kill()
                elif w.proc is None and rnd.random() < 0.3:
                    w.start()
            elapsed = time.monotonic() - t0
            w = writers["run2"]
            # Rename when run2's writer is stopped or has written (a writer still starting would recreate
            # the old directory after the rename and put its steps there).
            if not did_rename and elapsed > DURATION * 0.4 and (w.proc is None or w.alive_for() > 0):
                target = logdir / renamed["run2"]
                target.parent.mkdir(parents=True)
                os.rename(w.run_dir, target)  # the writer may be alive: it keeps appending to its open file
                w.run_dir = target
                did_rename = True
            if not did_delete and elapsed > DURATION * 0.55:
                w = writers[delete_in]
                files = sorted(p for p in w.run_dir.iterdir() if "tfevents" in p.name)
                if len(files) >= 2:  # the oldest file's writer is dead (each lives >= 1.2 s; names sort by time)
                    # Only a file the server has read: deleting a file nobody read loses it legitimately.
                    if _wait_served(server.url, delete_in, w.reported(), 10):
                        files[0].unlink()
                        did_delete = True
                elif w.proc is not None and w.alive_for() > 1.2:
                    w.kill()  # so that a restart makes a second file
        for w in writers.values():
            w.kill()
        reported = {(w.run_dir.relative_to(logdir).as_posix()): w.reported() for w in writers.values()}
        for run, upto in reported.items():
            assert _wait_served(server.url, run, upto, 30), f"{run}: steps 0..{upto} not all served after 30 s"
        clients.stop()
        runs = _get(server.url + "data/runs")[1]
        assert "run2" not in runs and renamed["run2"] in runs, runs
        for run, upto in reported.items():
            for tag in TAGS:
                counts = Counter(_served_steps(server.url, run, tag))
                twice = sorted(s for s, c in counts.items() if c > 1)
                files = sorted(p.name for p in (logdir / run).iterdir())
                assert not twice, f"{run}/{tag}: steps served twice: {twice[:20]}; files {files}"
                missing = sorted(set(range(upto + 1)) - set(counts))
                assert not missing, f"{run}/{tag}: flushed steps lost: {missing[:20]}"
        assert not clients.errors, clients.errors[:10]
        assert did_rename and did_delete
    finally:
        clients.stop()
        for w in writers.values():
            w.kill()
        server.stop()
    log = "".join(server.lines)
    assert "Traceback" not in log, log[-3000:]
    return (f"seed {seed}: {clients.requests} requests, restarts "
            f"{ {n: w.instances for n, w in writers.items()} }, reported {reported}, deleted={did_delete}, tbx={TBX}")


@pytest.mark.parametrize("repetition", range(RUNS))
def test_writers_killed_renamed_deleted_under_live_server(tmp_path, repetition):
    seed = FIXED_SEED + repetition if FIXED_SEED else random.SystemRandom().randrange(1, 2**31)
    print(f"\ntest_concurrency: BOARD_CONCURRENCY_SEED={seed}")
    print(_one_round(tmp_path, seed))
