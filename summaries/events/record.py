"""TFRecord framing: the one place that knows how records sit in an event file.

A record is `uint64 length | uint32 masked_crc(length) | data | uint32 masked_crc(data)`,
little-endian, CRC32C masked as TensorFlow masks it. The writer frames; the reader
parses from a byte offset and tells apart three ways a record can fail to come out:

- an *incomplete tail*: the bytes end mid-record. The file is probably still being
  written, so the reader stops there and the caller retries from `next_offset` later;
- a *corrupt record* (bad length CRC, bad data CRC, or an absurd length): reported with
  its offset and reason, then reading resumes at the next intact record, so nothing that
  can be read is lost;
- nothing: all records were complete.

A length field is only ever compared with the bytes at hand, never used to allocate.
"""
from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field

import crc32c as _crc32c

HEADER = 12  # uint64 length + uint32 masked length CRC
FOOTER = 4  # uint32 masked data CRC
MAX_RECORD = 1 << 30  # a length above this (with a valid length CRC) is called corrupt, not awaited
_MASK_DELTA = 0xA282EAD8
_U64 = struct.Struct("<Q")
_U32 = struct.Struct("<I")


def masked_crc32c(data: bytes | memoryview) -> int:
    """TensorFlow's masked CRC32C of `data`."""
    crc = _crc32c.crc32c(data)
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


def frame(data: bytes) -> bytes:
    """One framed record holding `data`."""
    length = _U64.pack(len(data))
    return b"".join((length, _U32.pack(masked_crc32c(length)), data, _U32.pack(masked_crc32c(data))))


@dataclass(frozen=True)
class Corruption:
    """A damaged stretch of a file: where it starts and why it was rejected."""
    offset: int
    reason: str  # "bad length crc", "bad data crc" or "absurd length"

    def __str__(self) -> str:
        return f"corrupt record at offset {self.offset} ({self.reason})"


@dataclass
class ReadResult:
    """What one parse of a buffer gave: complete records (offset, data) and damage found."""
    records: list[tuple[int, bytes]] = field(default_factory=list)
    corruptions: list[Corruption] = field(default_factory=list)
    next_offset: int = 0  # where to resume; for an incomplete tail, the start of that record
    incomplete_tail: bool = False  # the buffer ended mid-record: retry from next_offset later


def _header_ok(buf, pos: int) -> int | None:
    """The record length at `pos` if its length CRC checks, else None."""
    length_bytes = buf[pos:pos + 8]
    if _U32.unpack_from(buf, pos + 8)[0] != masked_crc32c(length_bytes):
        return None
    return _U64.unpack_from(buf, pos)[0]


def _resync(buf, pos: int, end: int) -> int:
    """The first offset after `pos` where a record with a valid length CRC starts.

    If there is none, returns where the last partial header could start, to retry later.
    A candidate whose data runs past `end` is accepted (it may be a record still being
    written); its data CRC is checked when the bytes arrive.
    """
    pos += 1
    while pos + HEADER <= end:
        length = _header_ok(buf, pos)
        if length is not None and length <= MAX_RECORD:
            stop = pos + HEADER + length + FOOTER
            if stop > end:
                return pos
            data = buf[pos + HEADER:pos + HEADER + length]
            if _U32.unpack_from(buf, stop - FOOTER)[0] == masked_crc32c(data):
                return pos
        pos += 1
    return pos  # fewer than HEADER bytes left: maybe a header still being written


def read_records(buf: bytes | memoryview, start: int = 0, base_offset: int = 0) -> ReadResult:
    """Parse every complete record in `buf` from `start`.

    Offsets in the result are `base_offset + position in buf`, so a caller holding only
    the new bytes of a file can report true file offsets.
    """
    result = ReadResult()
    end = len(buf)
    pos = start
    while True:
        if end - pos < HEADER:
            result.incomplete_tail = end != pos
            break
        length = _header_ok(buf, pos)
        if length is None or length > MAX_RECORD:
            reason = "bad length crc" if length is None else "absurd length"
            result.corruptions.append(Corruption(base_offset + pos, reason))
            pos = _resync(buf, pos, end)
            continue
        stop = pos + HEADER + length + FOOTER
        if stop > end:
            result.incomplete_tail = True
            break
        data = bytes(buf[pos + HEADER:stop - FOOTER])
        if _U32.unpack_from(buf, stop - FOOTER)[0] != masked_crc32c(data):
            result.corruptions.append(Corruption(base_offset + pos, "bad data crc"))
            # The length CRC held, so the next record most likely starts right after this one.
            nxt = stop
            if nxt + HEADER <= end and _header_ok(buf, nxt) is None:
                nxt = _resync(buf, pos, end)
            pos = nxt
            continue
        result.records.append((base_offset + pos, data))
        pos = stop
    result.next_offset = base_offset + pos
    return result


class RecordFileReader:
    """Reads one event file incrementally: each `poll()` returns only records not seen before.

    Holds no file handle between polls (files may be deleted or rotated under it). Only the
    bytes from the first unread record onward are read, so a growing file costs its new
    bytes, and an incomplete last record is re-read once it is complete.
    """

    def __init__(self, path: str | os.PathLike, offset: int = 0):
        self.path = os.fspath(path)
        self.offset = offset  # first byte not yet consumed
        self.incomplete_tail = False

    def poll(self) -> ReadResult:
        """Records that completed since the last poll. Raises OSError if the file vanished."""
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            buf = f.read()
        result = read_records(buf, 0, self.offset)
        self.offset = result.next_offset
        self.incomplete_tail = result.incomplete_tail
        return result


def iter_file_records(path: str | os.PathLike):
    """Every intact record's data in a whole file (a convenience for tests and tools)."""
    with open(path, "rb") as f:
        buf = f.read()
    for _, data in read_records(buf).records:
        yield data
