"""The bulk (numpy) reader gives exactly what the one-record-at-a-time protobuf path gives."""
from __future__ import annotations

import struct

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from board_server.data.fastscan import clean_prefix, decode_scalars, masked_crc_rows
from board_server.data import loader
from board_server.data.loader import load_run
from summaries.events.record import frame, iter_file_records, masked_crc32c
from summaries.proto import DataType, Event, SessionLog, SummaryMetadata, TensorProto

tags = st.one_of(st.sampled_from(["loss", "a/b", "", "손실/학습", "x" * 200]), st.text(max_size=12))
steps = st.one_of(st.integers(0, 300), st.integers(-2**63, 2**63 - 1))
floats = st.floats(width=32, allow_nan=True, allow_infinity=True)
scalar = st.tuples(st.just("scalar"), tags, steps, st.floats(0, 2e9), floats)
other = st.tuples(st.just("other"), tags, steps, st.floats(0, 2e9), floats)


def encode(kind, tag, step, wall, value) -> bytes:
    event = Event(wall_time=wall, step=step)
    if kind == "scalar":
        event.summary.value.add(tag=tag, simple_value=value)
    else:  # two values in one summary, or a histogram: not the plain-scalar layout
        event.summary.value.add(tag=tag, simple_value=value)
        event.summary.value.add(tag=tag + "_2", simple_value=value)
    return event.SerializeToString()


def reference(path) -> dict:
    out: dict[str, list] = {}
    for data in iter_file_records(path):
        event = Event.FromString(data)
        for v in event.summary.value:
            if v.WhichOneof("value") == "simple_value":
                out.setdefault(v.tag, []).append((event.step, event.wall_time, float(np.float32(v.simple_value))))
    return out


def loaded(directory) -> dict:
    bulk_min, loader.BULK_MIN_BYTES = loader.BULK_MIN_BYTES, 0  # every buffer takes the bulk path
    try:
        run = load_run("r", str(directory)).data
    finally:
        loader.BULK_MIN_BYTES = bulk_min
    out = {}
    for tag, column in run.scalars.items():
        s = column.series()
        out[tag] = list(zip(s.steps.tolist(), s.wall_times.tolist(), s.values.tolist()))
    return out


def same(a: dict, b: dict) -> bool:
    if sorted(a) != sorted(b):
        return False
    for tag in a:
        for (s1, w1, v1), (s2, w2, v2) in zip(a[tag], b[tag], strict=True):
            if s1 != s2 or w1 != w2 or not (v1 == v2 or (np.isnan(v1) and np.isnan(v2))):
                return False
    return True


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(scalar, scalar, scalar, other), min_size=1, max_size=300), st.integers(1, 40))
def test_bulk_equals_protobuf_path(tmp_path_factory, events, repeat):
    directory = tmp_path_factory.mktemp("run")
    header = Event(wall_time=1.0, file_version="brain.Event:2").SerializeToString()
    # repeat the sequence so equal-length groups are big enough for the vectorized CRC path
    body = b"".join(frame(encode(*e)) for e in events * max(1, 64 // len(events) * (repeat % 3)))
    (directory / "events.out.tfevents.1.host").write_bytes(frame(header) + body)
    assert same(loaded(directory), reference(directory / "events.out.tfevents.1.host"))


def test_vector_crc_equals_library():
    rng = np.random.default_rng(0)
    rows = rng.integers(0, 256, (50, 37), dtype=np.uint8)
    assert masked_crc_rows(rows).tolist() == [masked_crc32c(bytes(r)) for r in rows]
    lengths = np.array([0, 1, 255, 256, 70_000, 2**24 + 5, 2**40], dtype="<u8")  # as record headers hold them
    low = lengths.view(np.uint8).reshape(-1, 8)[:, :3]
    want = [masked_crc32c(int(n).to_bytes(8, "little")) for n in lengths]
    assert masked_crc_rows(low, length=8).tolist()[:5] == want[:5]  # zero past the third byte
    assert masked_crc_rows(lengths.view(np.uint8).reshape(-1, 8)).tolist() == want


def test_damage_ends_the_clean_prefix_and_nothing_is_lost(tmp_path):
    records = [frame(encode("scalar", "t", i + 1, 1.0 + i, float(i))) for i in range(100)]  # equal lengths
    data = bytearray(b"".join(records))
    bad = sum(len(r) for r in records[:40]) + 20  # a byte inside record 40's payload
    data[bad] ^= 0xFF
    prefix = clean_prefix(bytes(data))
    assert prefix.starts.size == 40 and prefix.end == sum(len(r) for r in records[:40])
    batch = decode_scalars(bytes(data), prefix.starts, prefix.lengths)
    assert batch.steps.tolist() == list(range(1, 41)) and batch.tags == ["t"]
    (tmp_path / "events.out.tfevents.1.h").write_bytes(bytes(data))
    got = loaded(tmp_path)["t"]
    assert [p[0] for p in got] == [i + 1 for i in range(100) if i != 40]  # only the damaged record is lost


def test_late_tags_and_mixed_layouts_in_one_record_length(tmp_path):
    """Bulk groups records by length; inside a group, tag positions differ (a 2-byte step varint with
    a 2-letter tag is as long as a 1-byte step with a 3-letter tag), and tags first seen after the
    first 4,096 records of a group must still be told apart."""
    events = []
    for i in range(6000):
        events.append(("scalar", "ab", 128 + i % 100, 1.0 + i, float(i)))  # step takes 2 varint bytes
        events.append(("scalar", "abc", 1 + i % 100, 2.0 + i, float(-i)))  # 1 byte, one letter more
        if i >= 5000:
            events.append(("scalar", "xy" if i % 2 else "zz", 128 + i % 100, 3.0 + i, 0.5))  # late tags
    assert len({len(encode(*e)) for e in events}) == 1  # one record length: one bulk group
    header = Event(wall_time=1.0, file_version="brain.Event:2").SerializeToString()  # steps may go back
    body = b"".join(frame(encode(*e)) for e in events)
    data = frame(header) + body
    prefix = clean_prefix(data)
    assert decode_scalars(data, prefix.starts, prefix.lengths).is_scalar[1:].all()  # all in bulk, both layouts
    (tmp_path / "events.out.tfevents.1.host").write_bytes(data)
    got = loaded(tmp_path)
    assert sorted(got) == ["ab", "abc", "xy", "zz"] and len(got["xy"]) == 500 and len(got["abc"]) == 6000
    assert same(got, reference(tmp_path / "events.out.tfevents.1.host"))


def test_overlong_step_varint_reads_as_protobuf_does(tmp_path):
    """A 10-byte step varint whose last byte carries bits past the 64th (a damaged file): protobuf keeps
    the low 64 bits; both the per-record and the bulk path must too (found by the normalizer fuzz)."""
    data = b"\t" + struct.pack("<d", 5.0) + b"\x10" + b"\xff" * 9 + b"\x03" + b"*\x0e\n\x0c\n\x05steps\x15" + struct.pack("<f", 1.0)
    assert Event.FromString(data).step == -1
    for copies in (1, 40):  # one record: per-record path; 40 equal ones: the bulk path
        (tmp_path / "events.out.tfevents.1.host").write_bytes(frame(data) * copies)
        got = loaded(tmp_path)
        assert got == reference(tmp_path / "events.out.tfevents.1.host") and got["steps"][0][0] == -1


def test_huge_length_field_is_not_trusted():
    length = struct.pack("<Q", 2**62)
    data = length + struct.pack("<I", masked_crc32c(length)) + b"\x00" * 64
    assert clean_prefix(data).starts.size == 0


def _event_file(path, wall: float, events) -> None:
    records = [Event(wall_time=wall, file_version="brain.Event:2")]
    for step, kind in events:
        event = Event(wall_time=wall + step * 1e-3, step=step)
        if kind == "start":
            event.session_log.status = SessionLog.START
        else:
            event.summary.value.add(tag="loss", simple_value=float(step) + kind)
        records.append(event)
    path.write_bytes(b"".join(frame(e.SerializeToString()) for e in records))


def test_restart_in_the_same_second_is_read_after_the_run_it_replaces(tmp_path):
    # pid 9999 started first; by name "...1700000000.host.10000.0" sorts before "....9999.0"
    _event_file(tmp_path / "events.out.tfevents.1700000000.host.9999.0", 1700000000.1,
                [(s, 0.0) for s in range(10)])
    _event_file(tmp_path / "events.out.tfevents.1700000000.host.10000.0", 1700000000.7,
                [(5, "start")] + [(s, 0.5) for s in range(5, 8)])
    got = loaded(tmp_path)["loss"]
    assert [(s, v) for s, _, v in got] == [(s, float(s)) for s in range(5)] + [(s, s + 0.5) for s in range(5, 8)]


def test_values_stay_float32_unless_a_double_needs_float64(tmp_path):
    """The first point of a tag is read on the one-record path and the rest in bulk: the join must
    not widen a series of simple_values to float64 (twice the memory), and a DT_DOUBLE tensor
    series keeps every bit of its doubles."""
    header = Event(wall_time=1.0, file_version="brain.Event:2").SerializeToString()
    floats32 = [float(np.float32(1 / (i + 3))) for i in range(400)]
    doubles = [1 / (i + 3) for i in range(400)]  # not representable in float32
    records = [frame(header)]
    for i in range(400):
        records.append(frame(encode("scalar", "loss", i, 1.7e9 + i, floats32[i])))
        event = Event(wall_time=1.7e9 + i, step=i)
        value = event.summary.value.add(tag="exact", metadata=SummaryMetadata(
            plugin_data=SummaryMetadata.PluginData(plugin_name="scalars")))
        value.tensor.CopyFrom(TensorProto(dtype=DataType.DT_DOUBLE, double_val=[doubles[i]]))
        records.append(frame(event.SerializeToString()))
    (tmp_path / "events.out.tfevents.1.host").write_bytes(b"".join(records))
    run = load_run("r", str(tmp_path)).data
    loss, exact = run.scalars["loss"].series(), run.scalars["exact"].series()
    assert loss.values.dtype == np.float32 and loss.values.tolist() == floats32
    assert exact.values.dtype == np.float64 and exact.values.tolist() == doubles
