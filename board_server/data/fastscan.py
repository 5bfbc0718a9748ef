"""Bulk reading of clean event-file stretches: framing, CRCs and scalar decoding with numpy.

Most of a big logdir is millions of identical-looking scalar events. Checking and decoding
them one by one in Python costs microseconds each; here a tight loop only walks the length
fields, then both CRCs of every record are verified with a table-driven CRC32C vectorized
over records of equal length, and the records that are exactly one `simple_value` summary
are decoded column-wise (wall time, step varint, tag, value) in one pass per record length.

Anything unusual (a failed CRC, an absurd length, a half-written tail) ends the clean
prefix; the caller hands the rest to `summaries.events.record.read_records`, which reports
and resynchronizes. Records that are not plain scalars are returned for the protobuf path.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

from summaries.events.record import FOOTER, HEADER, MAX_RECORD, masked_crc32c

_U64 = struct.Struct("<Q").unpack_from
_MASK_DELTA = np.uint32(0xA282EAD8)
VECTOR_MAX_LEN = 512  # longer records are CRC-checked by the C library one by one
VECTOR_MIN_GROUP = 32  # so are rare lengths


def _crc_table() -> np.ndarray:
    table = np.arange(256, dtype=np.uint32)
    for _ in range(8):
        table = np.where(table & 1, (table >> 1) ^ np.uint32(0x82F63B78), table >> 1).astype(np.uint32)
    return table


_TABLE = _crc_table()


def masked_crc_rows(rows: np.ndarray) -> np.ndarray:
    """TensorFlow's masked CRC32C of each row of a uint8 matrix."""
    crc = np.full(rows.shape[0], 0xFFFFFFFF, dtype=np.uint32)
    for column in rows.T:
        crc = _TABLE[(crc ^ column) & 0xFF] ^ (crc >> 8)
    crc ^= np.uint32(0xFFFFFFFF)
    return ((crc >> 15) | (crc << 17)) + _MASK_DELTA


@dataclass
class CleanPrefix:
    starts: np.ndarray  # int64 offsets (in the buffer) of each record's data
    lengths: np.ndarray  # int64 data lengths
    end: int  # buffer position after the last verified record

    @staticmethod
    def empty() -> "CleanPrefix":
        none = np.empty(0, dtype=np.int64)
        return CleanPrefix(none, none, 0)


def clean_prefix(buf: bytes, start: int = 0) -> CleanPrefix:
    """The longest run of complete records from `start` whose both CRCs hold."""
    heads, sizes, pos = frame_positions(buf, start)
    if heads.size == 0:
        return CleanPrefix(heads, sizes, start)
    arr = np.frombuffer(buf, dtype=np.uint8)
    stored = arr[heads[:, None] + np.arange(8, 12)].copy().view("<u4")[:, 0]
    ok = masked_crc_rows(arr[heads[:, None] + np.arange(8)]) == stored
    ok &= _data_crcs_ok(buf, arr, heads + HEADER, sizes)
    bad = np.flatnonzero(~ok)
    if bad.size:
        cut = int(bad[0])
        return CleanPrefix(heads[:cut] + HEADER, sizes[:cut], int(heads[cut]))
    return CleanPrefix(heads + HEADER, sizes, pos)


def frame_positions(buf: bytes, start: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Offsets and lengths of the complete records from `start` (not yet CRC-checked), and the end.

    Each record's offset depends on every length before it, so this is a walk; but logs repeat
    a few record lengths in a cycle (one event per tag per step), so the walk predicts the next
    thousands of lengths from the last cycle, checks the prediction against the file in one numpy
    pass and keeps the part that held, falling back to one step at a time where it did not.
    """
    arr = np.frombuffer(buf, dtype=np.uint8)
    end = len(buf)
    heads: list[np.ndarray] = []
    sizes: list[np.ndarray] = []
    single_heads: list[int] = []  # records found one at a time, not yet moved into `heads`
    single_sizes: list[int] = []
    recent: list[int] = []  # the last lengths seen, to find the cycle
    seen, next_try = 0, 32  # look for a cycle again only after this many records
    pos = start
    while end - pos >= HEADER:
        if seen >= next_try:
            period = _period(recent)
            good = _predicted(arr, end, pos, recent[-period:]) if period else None
            if good is not None:
                at, lengths = good
                if single_heads:
                    heads.append(np.array(single_heads, dtype=np.int64))
                    sizes.append(np.array(single_sizes, dtype=np.int64))
                    single_heads, single_sizes = [], []
                heads.append(at)
                sizes.append(lengths)
                pos = int(at[-1] + HEADER + lengths[-1] + FOOTER)
                recent = lengths[-128:].tolist()
                seen += at.size
                next_try = seen
                continue
            next_try = seen + 32
        length = _U64(buf, pos)[0]
        if length > MAX_RECORD or pos + HEADER + length + FOOTER > end:
            break
        single_heads.append(pos)
        single_sizes.append(length)
        recent.append(length)
        if len(recent) > 256:
            del recent[:128]
        seen += 1
        pos += HEADER + length + FOOTER
    if single_heads:
        heads.append(np.array(single_heads, dtype=np.int64))
        sizes.append(np.array(single_sizes, dtype=np.int64))
    if not heads:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), pos
    return np.concatenate(heads), np.concatenate(sizes), pos


def _predicted(arr: np.ndarray, end: int, pos: int, cycle: list[int]):
    """(offsets, lengths) of the records from `pos` that follow the repeating `cycle`, or None."""
    pattern = np.array(cycle, dtype=np.int64)
    period = pattern.size
    want = min(1 << 16, max(period, (end - pos) // (int(pattern.mean()) + HEADER + FOOTER) + 1))
    guess = np.tile(pattern, -(-want // period))[:want]
    at = pos + np.concatenate(([0], np.cumsum(guess + HEADER + FOOTER)[:-1]))
    fits = np.flatnonzero(at + HEADER > end)
    m = int(fits[0]) if fits.size else at.size
    actual = arr[at[:m, None] + np.arange(8)].copy().view("<u8")[:, 0].astype(np.int64)
    wrong = np.flatnonzero(actual != guess[:m])
    good = int(wrong[0]) if wrong.size else m
    if good:
        complete = np.flatnonzero(at[:good] + HEADER + guess[:good] + FOOTER > end)
        good = int(complete[0]) if complete.size else good
    return (at[:good], guess[:good]) if good else None


def _period(lengths: list[int]) -> int:
    """The shortest cycle (<= 64) the last 128 lengths repeat, or 0."""
    if len(lengths) < 32:
        return 0
    tail = lengths[-128:]
    for p in range(1, min(65, len(tail) // 2 + 1)):
        if tail[p:] == tail[:-p]:
            return p
    return 0


def _data_crcs_ok(buf: bytes, arr: np.ndarray, starts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    ok = np.zeros(starts.size, dtype=bool)
    stored = arr[(starts + sizes)[:, None] + np.arange(4)].copy().view("<u4")[:, 0]
    for length, members in _by_length(sizes):
        if length <= VECTOR_MAX_LEN and members.size >= VECTOR_MIN_GROUP:
            rows = arr[starts[members][:, None] + np.arange(length)]
            ok[members] = masked_crc_rows(rows) == stored[members]
        else:
            view = memoryview(buf)
            for i in members.tolist():
                s = int(starts[i])
                ok[i] = masked_crc32c(view[s:s + length]) == int(stored[i])
    return ok


@dataclass
class ScalarBatch:
    """Decoded plain-scalar records of a clean prefix, in file order."""
    is_scalar: np.ndarray  # bool per record
    tag_ids: np.ndarray  # per scalar record, index into `tags`
    tags: list[str]
    steps: np.ndarray  # int64
    walls: np.ndarray  # float64
    values: np.ndarray  # float32


def decode_scalars(buf: bytes, starts: np.ndarray, sizes: np.ndarray) -> ScalarBatch:
    """Column-wise decode of every record that is exactly `Event{wall_time, step, summary{value{tag,
    simple_value}}}` (the layout `normalize.fast_scalar` accepts); other records are flagged."""
    n = starts.size
    arr = np.frombuffer(buf, dtype=np.uint8)
    is_scalar = np.zeros(n, dtype=bool)
    steps = np.zeros(n, dtype=np.int64)
    walls = np.zeros(n, dtype=np.float64)
    values = np.zeros(n, dtype=np.float32)
    tag_keys = np.full(n, -1, dtype=np.int64)
    tags: list[str] = []
    tag_index: dict[bytes, int] = {}
    for length, members in _by_length(sizes):
        if length < 16 or length > VECTOR_MAX_LEN or members.size < VECTOR_MIN_GROUP:
            continue  # few records: the per-record path is cheaper than numpy's fixed costs
        rows = arr[starts[members][:, None] + np.arange(length)]
        _decode_rows(rows, length, members, is_scalar, steps, walls, values, tag_keys, tags, tag_index)
    keep = is_scalar
    return ScalarBatch(is_scalar, tag_keys[keep], tags, steps[keep], walls[keep], values[keep])


def _by_length(sizes: np.ndarray):
    """(length, indices) for each distinct record length; long records share one group (-1)."""
    capped = np.minimum(sizes, VECTOR_MAX_LEN + 1)
    counts = np.bincount(capped, minlength=VECTOR_MAX_LEN + 2)
    for length in np.flatnonzero(counts).tolist():
        members = np.flatnonzero(capped == length)
        if length > VECTOR_MAX_LEN:
            for size in np.unique(sizes[members]).tolist():
                yield size, members[sizes[members] == size]
        else:
            yield length, members


def _row_keys(block: np.ndarray) -> np.ndarray:
    """An int64 key per row of a uint8 matrix, equal for equal rows (exact for <= 7 bytes, else hashed)."""
    key = np.zeros(block.shape[0], dtype=np.uint64)
    for column in block.T:
        key = key * np.uint64(1099511628211) + column.astype(np.uint64) + np.uint64(1)
    return key.view(np.int64)


def _varint(rows: np.ndarray, at: np.ndarray, max_bytes: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(value uint64, byte count, ok) of the varint at column `at` of each row.

    Tries 3 bytes wide first (steps below 2M, short lengths), then the full width for the rest."""
    if max_bytes <= 3:
        return _varint_fixed(rows, at, max_bytes)
    value, count, ok = _varint_fixed(rows, at, 3)
    redo = np.flatnonzero(~ok)
    if redo.size:
        value[redo], count[redo], ok[redo] = _varint_fixed(rows[redo], at[redo], max_bytes)
    return value, count, ok


def _varint_fixed(rows: np.ndarray, at: np.ndarray, max_bytes: int):
    width = rows.shape[1]
    first = int(at[0]) if at.size else 0
    if at.size and first + max_bytes <= width and (at == first).all():  # the usual case: one layout
        chunk = rows[:, first:first + max_bytes].astype(np.uint64)
    else:
        idx = np.minimum(at[:, None] + np.arange(max_bytes), width - 1)
        chunk = rows[np.arange(rows.shape[0])[:, None], idx].astype(np.uint64)
    ends = chunk < 0x80
    ok = ends.any(axis=1) & (at + 1 <= width)
    count = np.argmax(ends, axis=1) + 1
    used = np.arange(max_bytes) < count[:, None]
    shifts = (np.arange(max_bytes, dtype=np.uint64) * np.uint64(7))
    value = np.bitwise_or.reduce(np.where(used, (chunk & np.uint64(0x7F)) << shifts, np.uint64(0)), axis=1)
    ok &= at + count <= width
    return value, count, ok


def _decode_rows(rows, length, members, is_scalar, steps, walls, values, tag_keys, tags, tag_index) -> None:
    m = rows.shape[0]
    r = np.arange(m)
    ok = rows[:, 0] == 0x09
    wall = rows[:, 1:9].copy().view("<f8")[:, 0]
    pos = np.full(m, 9, dtype=np.int64)
    has_step = rows[:, 9] == 0x10
    step, count, step_ok = _varint(rows, pos + 1, 10)
    ok &= ~has_step | step_ok
    pos = np.where(has_step, pos + 1 + count, pos)
    step = np.where(has_step, step, np.uint64(0)).view(np.int64)
    for _field in range(2):  # Event.summary (0x2a), then Summary.value (0x0a): each must run to the end
        tag_byte = 0x2A if _field == 0 else 0x0A
        ok &= rows[r, np.minimum(pos, length - 1)] == tag_byte
        size, count, size_ok = _varint(rows, pos + 1, 5)
        pos = pos + 1 + count
        ok &= size_ok & (pos + size.astype(np.int64) == length)
    has_tag = rows[r, np.minimum(pos, length - 1)] == 0x0A
    tag_len, count, tag_ok = _varint(rows, pos + 1, 5)
    tag_len = np.where(has_tag, tag_len.astype(np.int64), 0)
    ok &= ~has_tag | tag_ok
    tag_start = np.where(has_tag, pos + 1 + count, pos)
    pos = tag_start + tag_len
    ok &= (pos + 5 == length) & (rows[r, np.clip(pos, 0, length - 1)] == 0x15)
    if not ok.any():
        return
    good = np.flatnonzero(ok)
    value = rows[good[:, None], (pos[good][:, None] + 1 + np.arange(4))].copy().view("<f4")[:, 0]
    keys = np.full(good.size, -1, dtype=np.int64)
    combo = tag_start[good] * (VECTOR_MAX_LEN + 1) + tag_len[good]
    for code in np.unique(combo).tolist():
        start, size = divmod(code, VECTOR_MAX_LEN + 1)
        which = np.flatnonzero(combo == code)
        block = rows[good[which], start:start + size]
        hashes, first, name_of = np.unique(_row_keys(block), return_index=True, return_inverse=True)
        if not np.array_equal(block, block[first[name_of.reshape(-1)]]):
            continue  # a hash collision (never seen in practice): leave these rows to the protobuf path
        ids = []
        for raw in (bytes(block[i]) for i in first.tolist()):
            if raw not in tag_index:
                try:
                    tags.append(raw.decode("utf-8"))
                except UnicodeDecodeError:
                    tags.append(None)  # left to the protobuf path, which reports it
                tag_index[raw] = len(tags) - 1
            ids.append(tag_index[raw])
        keys[which] = np.array(ids, dtype=np.int64)[name_of.reshape(-1)]
    undecodable = [i for i, name in enumerate(tags) if name is None]
    valid = ~np.isin(keys, undecodable) & (keys >= 0)
    good, keys, value = good[valid], keys[valid], value[valid]
    target = members[good]
    is_scalar[target] = True
    steps[target] = step[good]
    walls[target] = wall[good]
    values[target] = value
    tag_keys[target] = keys
