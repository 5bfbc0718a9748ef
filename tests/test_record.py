"""Record framing: byte-identical to TensorFlow's, and a reader that loses nothing it could read."""
from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings, strategies as st

from conftest import FIXTURES
from summaries.events.record import (HEADER, MAX_RECORD, RecordFileReader, frame, masked_crc32c,
                                     read_records)

TF_FILE = FIXTURES / "tf1_xor" / "xor_logs" / "events.out.tfevents.1795366961.vm"


def test_framing_is_byte_identical_to_tensorflow():
    """Re-framing every record TensorFlow wrote gives back the file byte for byte."""
    raw = TF_FILE.read_bytes()
    result = read_records(raw)
    assert not result.corruptions and not result.incomplete_tail
    assert b"".join(frame(data) for _, data in result.records) == raw


def test_masked_crc_known_value():
    # TensorFlow's masked CRC32C of the empty string: crc32c("") = 0, masked = 0xA282EAD8.
    assert masked_crc32c(b"") == 0xA282EAD8


@given(st.lists(st.binary(max_size=300), max_size=20), st.integers(min_value=0, max_value=400))
@settings(max_examples=200, deadline=None)
def test_truncation_gives_prefix_and_incomplete_tail(payloads, cut):
    """A file cut anywhere yields exactly the records wholly before the cut, and says the tail is incomplete."""
    buf = b"".join(frame(p) for p in payloads)
    cut = min(cut, len(buf))
    result = read_records(buf[:cut])
    got = [d for _, d in result.records]
    ends, pos = [], 0
    for p in payloads:
        pos += HEADER + len(p) + 4
        ends.append(pos)
    whole = [p for p, e in zip(payloads, ends) if e <= cut]
    assert got == whole
    assert not result.corruptions
    assert result.incomplete_tail == (result.next_offset != cut)
    # Resuming from next_offset with the full file yields the rest, nothing twice.
    rest = read_records(buf[result.next_offset:], base_offset=result.next_offset)
    assert got + [d for _, d in rest.records] == payloads


def test_bad_data_crc_fixture_resumes_after_damage():
    raw = (FIXTURES / "edge_shared" / "bad_data_crc" / "events.out.tfevents.1700000000.host").read_bytes()
    result = read_records(raw)
    assert [(c.offset, c.reason) for c in result.corruptions] == [(248, "bad data crc")]
    assert len(result.records) == 10  # expected.json: intact_records
    assert not result.incomplete_tail and result.next_offset == len(raw)


def test_bad_length_crc_resyncs_to_next_intact_record():
    records = [frame(b"a" * 10), frame(b"b" * 20), frame(b"c" * 30)]
    damaged = bytearray(b"".join(records))
    damaged[len(records[0]) + 3] ^= 0xFF  # inside the second record's length field
    result = read_records(bytes(damaged))
    assert [d for _, d in result.records] == [b"a" * 10, b"c" * 30]
    assert [c.reason for c in result.corruptions] == ["bad length crc"]
    assert result.corruptions[0].offset == len(records[0])


def test_inserted_garbage_between_records():
    a, b = frame(b"first"), frame(b"second")
    result = read_records(a + b"\x00garbage\xff" * 5 + b)
    assert [d for _, d in result.records] == [b"first", b"second"]
    assert len(result.corruptions) == 1 and result.corruptions[0].offset == len(a)


def test_huge_length_with_valid_crc_is_corrupt_not_awaited():
    length = struct.pack("<Q", 1 << 62)
    bogus = length + struct.pack("<I", masked_crc32c(length)) + b"x" * 8
    good = frame(b"after")
    result = read_records(bogus + good)
    assert [d for _, d in result.records] == [b"after"]
    assert result.corruptions[0].reason == "absurd length"


def test_length_larger_than_bytes_left_is_an_incomplete_tail():
    length = struct.pack("<Q", MAX_RECORD)  # plausible but far beyond the buffer: wait for it
    partial = length + struct.pack("<I", masked_crc32c(length)) + b"x" * 100
    result = read_records(frame(b"ok") + partial)
    assert [d for _, d in result.records] == [b"ok"]
    assert result.incomplete_tail and not result.corruptions


def test_file_reader_tails_a_growing_file(tmp_path):
    path = tmp_path / "events.out.tfevents.1.host"
    records = [frame(bytes([i]) * (i + 1)) for i in range(50)]
    blob = b"".join(records)
    reader = RecordFileReader(path)
    seen = []
    path.write_bytes(b"")
    for cut in range(0, len(blob) + 1, 37):  # grow the file in odd-sized steps, mid-record included
        path.write_bytes(blob[:cut])
        result = reader.poll()
        assert not result.corruptions
        seen += [d for _, d in result.records]
    path.write_bytes(blob)
    seen += [d for _, d in reader.poll().records]
    assert seen == [bytes([i]) * (i + 1) for i in range(50)]
    assert reader.offset == len(blob) and not reader.incomplete_tail


def test_file_reader_reports_vanished_file(tmp_path):
    with pytest.raises(OSError):
        RecordFileReader(tmp_path / "missing").poll()
