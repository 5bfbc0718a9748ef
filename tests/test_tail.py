"""Tailing files that are still being written: every point appears exactly once, nothing is lost,
a half-written record is neither reported as corruption nor dropped."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
import urllib.parse
import urllib.request

import pytest

from conftest import ROOT, get_json, serve

N = 600


def test_tail_while_writer_appends_with_half_written_records(tmp_path):
    run = tmp_path / "live"
    run.mkdir()
    script = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(ROOT)!r})
        from summaries.events.record import frame
        from summaries.summary.encode import scalar_event
        path = {str(run / "events.out.tfevents.1.host")!r}
        with open(path, "ab", buffering=0) as f:
            f.write(frame(b"\\x1a\\x0dbrain.Event:2"))
            for step in range({N}):
                record = frame(scalar_event("loss", step * 0.5, step, 1e9 + step))
                if step % 37 == 5:          # leave half a record on disk across a reload
                    cut = len(record) // 2 if step % 2 else 7
                    f.write(record[:cut]); time.sleep(0.35); f.write(record[cut:])
                else:
                    f.write(record)
                if step % 20 == 0:
                    time.sleep(0.05)
        print("done", flush=True)
    """)
    with serve(tmp_path, "--reload_interval", "0.1") as url:
        writer = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
        query = urllib.parse.urlencode({"run": "live", "tag": "loss"})
        seen_counts = set()
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(url + "data/plugin/scalars/scalars?" + query) as r:
                    points = json.loads(r.read())
            except urllib.error.HTTPError as e:
                assert e.code == 404  # before the first scalar lands
                points = []
            steps = [p[1] for p in points]
            assert steps == list(range(len(steps))), "a point was lost or read twice"
            assert all(p[2] == p[1] * 0.5 for p in points)
            seen_counts.add(len(steps))
            if writer.poll() is not None and len(steps) == N:
                break
            assert time.monotonic() < deadline, f"only {len(steps)} of {N} points after 60 s"
            time.sleep(0.05)
        assert writer.stdout.read().strip() == "done"
        assert len(seen_counts) > 5, "the test never observed the run mid-write"
        assert get_json(url + "data/status")["corruptions"] == {}


def test_missing_logdir_is_announced_then_loaded_when_it_appears(tmp_path):
    logdir = tmp_path / "not_yet"
    cmd = [sys.executable, "-u", "-m", "board_server", "--logdir", str(logdir), "--port", "0", "--reload_interval", "1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT)
    try:
        lines, url = [], None
        while url is None or not any("does not exist" in line for line in lines):
            line = proc.stdout.readline()
            assert line, "board exited:\n" + "".join(lines)
            lines.append(line)
            if "http://" in line:
                url = line.split("http://", 1)[1].split()[0]
        assert any(str(logdir) in line and "waiting for it to appear" in line for line in lines)
        assert get_json(f"http://{url}data/runs") == []
        from summaries import SummaryWriter
        with SummaryWriter(str(logdir / "run1")) as writer:
            writer.add_scalar("loss", 0.5, 3)
        deadline = time.monotonic() + 30
        while get_json(f"http://{url}data/runs") != ["run1"]:
            assert time.monotonic() < deadline, "the run never appeared"
            time.sleep(0.2)
        points = get_json(f"http://{url}data/plugin/scalars/scalars?run=run1&tag=loss")
        assert [p[1:] for p in points] == [[3, 0.5]]
        while not any("logdir appeared" in line for line in lines):  # said once loading starts
            line = proc.stdout.readline()
            assert line, "board exited:\n" + "".join(lines)
            lines.append(line)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        proc.stdout.close()


@pytest.mark.parametrize("flags,message", [
    (["--port", "99999"], "--port must be 0-65535"),  # the socket layer would have wrapped it to 34463
    (["--port", "-1"], "--port must be 0-65535"),
    (["--reload_interval", "-5"], "--reload_interval must be 0"),
    (["--reload_interval", "nan"], "--reload_interval must be 0"),
    (["--load_workers", "0"], "--load_workers must be at least 1"),
])
def test_bad_flags_are_refused_by_name(tmp_path, flags, message):
    cmd = [sys.executable, "-m", "board_server", "--logdir", str(tmp_path), *flags]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr, done.stderr
