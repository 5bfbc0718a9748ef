"""The writer's contract: durability, error reporting, bad input, file naming, the scalar fast path."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from summaries.events.record import read_records
from summaries.proto import Event, Summary
from summaries.summary import FileWriter, builders
from summaries.summary.encode import scalar_event
from summaries.summary.writer import SummaryWriter

ROOT = Path(__file__).resolve().parent.parent


def events_in(logdir) -> list[Event]:
    out = []
    for path in sorted(Path(logdir).glob("events.out.tfevents.*")):
        result = read_records(path.read_bytes())
        assert not result.corruptions and not result.incomplete_tail
        out += [Event.FromString(d) for _, d in result.records]
    return out


def scalar_steps(logdir) -> list[int]:
    return [e.step for e in events_in(logdir) if e.HasField("summary")]


@given(st.text(max_size=40), st.floats(width=32) | st.floats(), st.integers(-2**63, 2**63 - 1) | st.none(),
       st.floats(min_value=1.0, max_value=4e9))  # a real wall time is never 0 (proto3 would omit it)
@settings(max_examples=300, deadline=None)
def test_scalar_fast_path_equals_protobuf(tag, value, step, wall):
    event = Event(wall_time=wall, summary=Summary(value=[Summary.Value(tag=tag, simple_value=value)]))
    if step is not None:
        event.step = step
    assert scalar_event(tag, value, step, wall) == event.SerializeToString()


def test_first_event_is_file_version_and_names_are_unique(tmp_path):
    writers = [FileWriter(tmp_path) for _ in range(3)]
    for w in writers:
        w.close()
    names = [p.name for p in tmp_path.iterdir()]
    assert len(set(names)) == 3 and all(n.startswith("events.out.tfevents.") for n in names)
    for p in tmp_path.iterdir():
        first = events_in_file(p)[0]
        assert first.file_version == "brain.Event:2"


def events_in_file(path) -> list[Event]:
    return [Event.FromString(d) for _, d in read_records(Path(path).read_bytes()).records]


def test_creates_missing_directories(tmp_path):
    with SummaryWriter(tmp_path / "a" / "b" / "c") as w:
        w.add_scalar("x", 1, 0)
    assert scalar_steps(tmp_path / "a" / "b" / "c") == [0]


def test_flush_then_sigkill_loses_nothing(tmp_path):
    script = textwrap.dedent(f"""
        import os, sys, time
        sys.path.insert(0, {str(ROOT)!r})
        from summaries.summary.writer import SummaryWriter
        w = SummaryWriter({str(tmp_path)!r}, flush_secs=3600, max_queue=1000)
        for i in range(500):
            w.add_scalar("loss", i, i)
        w.flush()
        print("flushed", flush=True)
        time.sleep(60)
    """)
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "flushed"
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert scalar_steps(tmp_path) == list(range(500))


def test_script_that_never_closes_loses_nothing(tmp_path):
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        import summaries
        w = summaries.SummaryWriter({str(tmp_path)!r}, flush_secs=3600, max_queue=100000)
        for i in range(1234):
            w.add_scalar("loss", i * 0.5, i)
        w.add_histogram("h", [1, 2, 3], 0)
    """)
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
    assert scalar_steps(tmp_path)[:1234] == list(range(1234))
    assert sum(1 for e in events_in(tmp_path) if e.HasField("summary")) == 1235


def test_flush_secs_writes_in_the_background(tmp_path):
    w = SummaryWriter(tmp_path, flush_secs=0.2, max_queue=1000)
    w.add_scalar("x", 1.0, 1)
    deadline = time.monotonic() + 10
    while scalar_steps(tmp_path) != [1]:
        assert time.monotonic() < deadline, "flush_secs did not write the pending event"
        time.sleep(0.05)
    w.close()


def test_io_error_in_thread_is_raised_at_next_call(tmp_path):
    w = FileWriter(tmp_path)

    class Broken:
        def write(self, data):
            raise OSError(28, "No space left on device")

        def flush(self):
            pass

        def close(self):
            pass

    w.event_writer._file = Broken()
    w.add_summary(builders.scalar("x", 1.0), 1)
    with pytest.raises(OSError, match="No space left on device"):
        w.flush()
    w.close()


def test_reopen_starts_a_new_file(tmp_path):
    w = FileWriter(tmp_path)
    w.add_summary(builders.scalar("x", 1.0), 1)
    w.close()
    with pytest.raises(RuntimeError, match="closed"):
        w.add_summary(builders.scalar("x", 2.0), 2)
    w.reopen()
    w.add_summary(builders.scalar("x", 2.0), 2)
    w.close()
    assert len(list(tmp_path.iterdir())) == 2
    assert sorted(scalar_steps(tmp_path)) == [1, 2]


@pytest.mark.parametrize("bad", ["0.5", None, [1, 2], np.zeros(3), b"1", object()])
def test_non_numeric_scalar_is_a_type_error_naming_the_tag(tmp_path, bad):
    with SummaryWriter(tmp_path) as w:
        with pytest.raises(TypeError, match="my/tag"):
            w.add_scalar("my/tag", bad, 0)


def test_array_like_scalars_without_torch(tmp_path):
    class TensorLike:  # what a torch tensor offers: __array__, detach(), cpu()
        def __init__(self, v):
            self.v = v

        def detach(self):
            return self

        def cpu(self):
            return self

        def __array__(self, dtype=None, copy=None):
            return np.array(self.v, dtype=dtype)

    with SummaryWriter(tmp_path) as w:
        w.add_scalar("t", TensorLike(2.5), 0)
        w.add_scalar("t", np.float16(1.5), 1)
        w.add_scalar("t", np.array([[3]]), 2)
        w.add_histogram("h", TensorLike(np.arange(10.0)), 0)
    values = [e.summary.value[0].simple_value for e in events_in(tmp_path) if e.HasField("summary")][:3]
    assert values == [2.5, 1.5, 3.0]
    assert "torch" not in sys.modules


@pytest.mark.parametrize("shape", [(28, 28), (1, 28, 28, 2), (2, 3, 4, 5, 1), (1, 4, 4, 5)])
def test_bad_image_shape_names_the_shape(shape):
    with pytest.raises(ValueError, match=str(shape).replace("(", r"\(").replace(")", r"\)")):
        builders.image("img", np.zeros(shape, np.uint8))


def test_bad_add_image_dataformats_names_the_shape(tmp_path):
    with SummaryWriter(tmp_path) as w:
        with pytest.raises(ValueError, match=r"\(2, 3\).*CHW"):
            w.add_image("img", np.zeros((2, 3)), 0)


def test_empty_histogram_is_valid():
    h = builders.histogram("empty", np.array([])).value[0].histo
    assert h.num == 0 and len(h.bucket) == 1 and h.bucket[0] == 0


def test_nan_in_histogram_is_a_clear_error():
    with pytest.raises(ValueError, match="NaN in summary histogram for: w"):
        builders.histogram("w", [1.0, float("nan")])


def test_max_outputs_one_uses_tf1_single_tag():
    s = builders.image("x", np.zeros((4, 2, 2, 3), np.uint8), max_outputs=1)
    assert [v.tag for v in s.value] == ["x/image"]
    s = builders.image("x", np.zeros((4, 2, 2, 3), np.uint8), max_outputs=3)
    assert [v.tag for v in s.value] == ["x/image/0", "x/image/1", "x/image/2"]


def test_purge_step_writes_session_start(tmp_path):
    with SummaryWriter(tmp_path, purge_step=50) as w:
        w.add_scalar("x", 1, 50)
    starts = [e for e in events_in(tmp_path) if e.HasField("session_log")]
    assert len(starts) == 1 and starts[0].step == 50 and starts[0].session_log.status == 1


def test_audio_is_wav(tmp_path):
    with SummaryWriter(tmp_path) as w:
        w.add_audio("beep", np.sin(np.linspace(0, 100, 800)), 0, sample_rate=8000)
    (value,) = [e.summary.value[0] for e in events_in(tmp_path) if e.HasField("summary")]
    assert value.audio.encoded_audio_string[:4] == b"RIFF" and value.audio.length_frames == 800
