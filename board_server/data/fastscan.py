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

import functools
import struct
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

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


@functools.lru_cache(maxsize=8)  # a log has few record lengths; a table is 1 KB per byte of length
def _position_tables(length: int) -> tuple[np.ndarray, np.uint32]:
    """For a `length`-byte message: each byte value's share of the CRC at each position, and the
    CRC of all zeros. The CRC is affine in the message bits, so a message's CRC is the zero CRC
    xor one lookup per byte: no chain from byte to byte, two numpy passes per column, not five."""
    tables = np.empty((length, 256), dtype=np.uint32)
    share = _TABLE  # a byte's effect on a register that starts at 0 ...
    for i in range(length - 1, -1, -1):
        tables[i] = share
        share = _TABLE[share & 0xFF] ^ (share >> 8)  # ... moved on by one more byte (a zero)
    zero = np.uint32(0xFFFFFFFF)
    for _ in range(length):
        zero = _TABLE[zero & 0xFF] ^ (zero >> 8)
    return tables, zero ^ np.uint32(0xFFFFFFFF)


def masked_crc_rows(rows: np.ndarray, length: int | None = None) -> np.ndarray:
    """TensorFlow's masked CRC32C of each row of a uint8 matrix; rows of `length` bytes whose
    bytes past the matrix's columns are zero, if given (they add nothing but to the zero CRC)."""
    tables, zero = _position_tables(rows.shape[1] if length is None else length)
    crc = np.full(rows.shape[0], zero, dtype=np.uint32)
    for table, column in zip(tables, rows.T):
        crc ^= table[column]
    return ((crc >> 15) | (crc << 17)) + _MASK_DELTA


def _windows(arr: np.ndarray, starts: np.ndarray, width: int) -> np.ndarray:
    """The `width` bytes from each start, as rows (a gather through a strided view, no index matrix)."""
    return sliding_window_view(arr, width)[starts]


def _u32_at(arr: np.ndarray, starts: np.ndarray) -> np.ndarray:
    return _windows(arr, starts, 4).view("<u4")[:, 0]


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
    # a header is the 8-byte length just read: its CRC comes from `sizes`, on the low bytes in use
    used = max(1, (int(sizes.max()).bit_length() + 7) // 8)
    length_bytes = sizes.astype("<u8").view(np.uint8).reshape(-1, 8)[:, :used]
    ok = masked_crc_rows(length_bytes, length=8) == _u32_at(arr, heads + 8)
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
    actual = _windows(arr, at[:m], 8).view("<u8")[:, 0].astype(np.int64)
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
    stored = _u32_at(arr, starts + sizes)
    for length, members in _by_length(sizes):
        if length <= VECTOR_MAX_LEN and members.size >= VECTOR_MIN_GROUP:
            rows = _windows(arr, starts[members], length)
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
        rows = _windows(arr, starts[members], length)
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
    """An int64 key per row of a uint8 matrix, equal for equal rows (a hash: callers check for collisions)."""
    key = np.zeros(block.shape[0], dtype=np.uint64)
    for column in block.T:
        key = key * np.uint64(1099511628211) + column.astype(np.uint64) + np.uint64(1)
    return key.view(np.int64)


def _groups(codes: np.ndarray):
    """(code, indices) for each distinct value of `codes`; one pass when all are equal (the usual case)."""
    first = codes[0]
    if (codes == first).all():
        yield int(first), np.arange(codes.size)
        return
    for code in np.unique(codes).tolist():
        yield code, np.flatnonzero(codes == code)


def _factorize(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(a row holding each distinct key, each row's distinct index). The distinct keys are found
    in the first rows (a layout repeats a few tags), and every row is looked up among them;
    sorting all rows is left for keys the first rows did not show."""
    distinct = np.unique(keys[:4096])
    code = np.searchsorted(distinct, keys)
    known = distinct[np.minimum(code, distinct.size - 1)] == keys
    if not known.all():
        distinct = np.union1d(distinct, keys[~known])
        code = np.searchsorted(distinct, keys)
    holder = np.empty(distinct.size, dtype=np.int64)
    holder[code] = np.arange(keys.size)  # any row of each key will do
    return holder, code


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


def _bytes_at(rows: np.ndarray, at: np.ndarray, count: int = 1) -> np.ndarray:
    """Each row's `count` bytes from its column `at` (columns past the row's end read its last
    byte); a plain slice when every row has the same layout, the usual case."""
    width = rows.shape[1]
    first = int(at[0]) if at.size else 0
    if at.size and 0 <= first and first + count <= width and (at == first).all():
        return rows[:, first:first + count]
    idx = np.minimum(at[:, None] + np.arange(count), width - 1)
    return rows[np.arange(rows.shape[0])[:, None], idx]


def _varint_fixed(rows: np.ndarray, at: np.ndarray, max_bytes: int):
    width = rows.shape[1]
    chunk = _bytes_at(rows, at, max_bytes)
    wide = np.uint32 if max_bytes <= 4 else np.uint64  # 7 bits a byte
    value = np.zeros(rows.shape[0], dtype=wide)
    count = np.zeros(rows.shape[0], dtype=np.int64)
    inside = np.ones(rows.shape[0], dtype=bool)  # this byte still belongs to the varint
    for k in range(max_bytes):  # column by column: 1-D passes, no reduction along short rows
        column = chunk[:, k]
        value |= ((column & 0x7F).astype(wide) << wide(7 * k)) * inside
        count += inside
        inside &= column >= 0x80
    ok = ~inside & (at + count <= width)
    return value.astype(np.uint64), count, ok


def _decode_rows(rows, length, members, is_scalar, steps, walls, values, tag_keys, tags, tag_index) -> None:
    m = rows.shape[0]
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
        ok &= _bytes_at(rows, pos)[:, 0] == tag_byte
        size, count, size_ok = _varint(rows, pos + 1, 5)
        pos = pos + 1 + count
        ok &= size_ok & (pos + size.astype(np.int64) == length)
    has_tag = _bytes_at(rows, pos)[:, 0] == 0x0A
    tag_len, count, tag_ok = _varint(rows, pos + 1, 5)
    tag_len = np.where(has_tag, tag_len.astype(np.int64), 0)
    ok &= ~has_tag | tag_ok
    tag_start = np.where(has_tag, pos + 1 + count, pos)
    pos = tag_start + tag_len
    ok &= (pos + 5 == length) & (_bytes_at(rows, pos)[:, 0] == 0x15)
    if not ok.any():
        return
    good = np.flatnonzero(ok)
    value = _bytes_at(rows, pos + 1, 4)[good].view("<f4")[:, 0]
    keys = np.full(good.size, -1, dtype=np.int64)
    combo = tag_start[good] * (VECTOR_MAX_LEN + 1) + tag_len[good]
    for code, which in _groups(combo):
        start, size = divmod(code, VECTOR_MAX_LEN + 1)
        block = rows[good[which], start:start + size]
        first, name_of = _factorize(_row_keys(block))
        if not np.array_equal(block, block[first[name_of]]):
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
        keys[which] = np.array(ids, dtype=np.int64)[name_of]
    undecodable = [i for i, name in enumerate(tags) if name is None]
    valid = ~np.isin(keys, undecodable) & (keys >= 0)
    good, keys, value = good[valid], keys[valid], value[valid]
    target = members[good]
    is_scalar[target] = True
    steps[target] = step[good]
    walls[target] = wall[good]
    values[target] = value
    tag_keys[target] = keys
