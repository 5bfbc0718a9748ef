"""Fuzzing the record reader with real event files as seeds.

Each example takes a fixture file written by TensorFlow / tensorboardX, damages it (truncation, bit flips,
inserted garbage, huge length fields) and checks: no exception, no hang, no allocation beyond the file's size,
and every record that the damage did not touch is still read, in order.

Budget: BOARD_FUZZ_EXAMPLES (default 150 per property, a few seconds). Failures print hypothesis'
reproduction blob; BOARD_FUZZ_SEED fixes the seed of a run.
"""
from __future__ import annotations

import os
import struct
import tracemalloc

from hypothesis import given, seed, settings, strategies as st, HealthCheck

from conftest import FIXTURES
from summaries.events.record import HEADER, masked_crc32c, read_records

EXAMPLES = int(os.environ.get("BOARD_FUZZ_EXAMPLES", "150"))
SEED = int(os.environ.get("BOARD_FUZZ_SEED", "0")) or None
SEED_FILES = sorted(p for p in FIXTURES.rglob("*tfevents*")
                    if p.stat().st_size and "bad_data_crc" not in str(p) and "truncated" not in str(p))
fuzz = settings(max_examples=EXAMPLES, deadline=None, print_blob=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _maybe_seed(fn):
    return seed(SEED)(fn) if SEED else fn


def _records(raw: bytes) -> list[tuple[int, bytes]]:
    result = read_records(raw)
    assert not result.corruptions and not result.incomplete_tail
    return result.records


def _span(offset: int, data: bytes) -> tuple[int, int]:
    return offset, offset + HEADER + len(data) + 4


def _survivors(records, lo: int, hi: int) -> list[bytes]:
    """Records wholly outside the damaged byte range [lo, hi)."""
    return [d for off, d in records if _span(off, d)[1] <= lo or _span(off, d)[0] >= hi]


def _check(damaged: bytes, expect_before: list[bytes], expect_after: list[bytes]):
    tracemalloc.start()
    try:
        result = read_records(damaged)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    got = [d for _, d in result.records]
    assert peak < 4 * len(damaged) + 65536, f"reader allocated {peak} bytes for a {len(damaged)}-byte file"
    # Every untouched record comes out, in order (damage may not invent records either).
    it = iter(got)
    for want in expect_before + expect_after:
        assert any(d == want for d in it), "an intact record was lost"
    return result


@_maybe_seed
@fuzz
@given(st.sampled_from(SEED_FILES), st.data())
def test_bit_flips(path, data):
    raw = path.read_bytes()
    records = _records(raw)
    damaged = bytearray(raw)
    positions = data.draw(st.lists(st.integers(0, len(raw) - 1), min_size=1, max_size=4))
    for p in positions:
        damaged[p] ^= 1 << data.draw(st.integers(0, 7))
    lo, hi = min(positions), max(positions) + 1
    before = [d for off, d in records if _span(off, d)[1] <= lo]
    after = [d for off, d in records if _span(off, d)[0] >= hi]
    _check(bytes(damaged), before, after)


@_maybe_seed
@fuzz
@given(st.sampled_from(SEED_FILES), st.data())
def test_inserted_garbage(path, data):
    raw = path.read_bytes()
    records = _records(raw)
    at = data.draw(st.integers(0, len(raw)))
    garbage = data.draw(st.binary(min_size=1, max_size=200))
    damaged = raw[:at] + garbage + raw[at:]
    before = [d for off, d in records if _span(off, d)[1] <= at]
    after = [d for off, d in records if _span(off, d)[0] >= at]
    _check(damaged, before, after)


@_maybe_seed
@fuzz
@given(st.sampled_from(SEED_FILES), st.data())
def test_truncation_then_growth(path, data):
    raw = path.read_bytes()
    records = _records(raw)
    cut = data.draw(st.integers(0, len(raw)))
    head = read_records(raw[:cut])
    assert not head.corruptions
    assert [d for _, d in head.records] == [d for off, d in records if _span(off, d)[1] <= cut]
    tail = read_records(raw[head.next_offset:], base_offset=head.next_offset)
    assert [d for _, d in head.records + tail.records] == [d for _, d in records]


@_maybe_seed
@fuzz
@given(st.sampled_from(SEED_FILES), st.data())
def test_huge_length_fields(path, data):
    raw = path.read_bytes()
    records = _records(raw)
    victim = data.draw(st.integers(0, len(records) - 1))
    off, payload = records[victim]
    length = struct.pack("<Q", data.draw(st.integers(1 << 31, (1 << 64) - 1)))
    keep_crc = data.draw(st.booleans())
    crc = struct.pack("<I", masked_crc32c(length)) if keep_crc else raw[off + 8:off + 12]
    damaged = raw[:off] + length + crc + raw[off + 12:]
    lo, hi = _span(off, payload)
    result = _check(damaged, _survivors(records[:victim], lo, hi), _survivors(records[victim + 1:], lo, hi))
    assert result.corruptions and result.corruptions[0].offset == off


def test_fuzz_seeds_present():
    assert len(SEED_FILES) >= 10
