"""Hand-encoded Event bytes for the hot path: a scalar event in a few microseconds.

`scalar_event(tag, value, step, wall_time)` returns exactly what
`Event(wall_time=..., step=..., summary=Summary(value=[Value(tag=..., simple_value=...)])).SerializeToString()`
returns (a test checks this against protobuf), without building any protobuf object.
"""
from __future__ import annotations

import struct
from functools import lru_cache

_WALL = struct.Struct("<Bd")  # field 1 (wall_time), wire type fixed64
_F32 = struct.Struct("<f")


def varint(n: int) -> bytes:
    """Protobuf base-128 varint; negative int64 as its 10-byte two's complement, as protobuf does."""
    if n < 0:
        n += 1 << 64
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


@lru_cache(maxsize=4096)
def _scalar_prefix(tag: str) -> bytes:
    """Everything of a scalar event after wall_time/step and before the 4 float bytes."""
    tag_bytes = tag.encode("utf-8")
    tag_field = b"\x0a" + varint(len(tag_bytes)) + tag_bytes if tag_bytes else b""  # proto3 omits ""
    value_head = tag_field + b"\x15"  # Value.tag, then simple_value (fixed32)
    value_len = len(value_head) + 4
    summary_len = 1 + len(varint(value_len)) + value_len  # Summary.value (field 1)
    return b"\x2a" + varint(summary_len) + b"\x0a" + varint(value_len) + value_head  # Event.summary (field 5)


def _f32(value: float) -> bytes:
    try:
        return _F32.pack(value)
    except OverflowError:  # beyond float32: protobuf rounds to +-inf, so do we
        return _F32.pack(float("inf") if value > 0 else float("-inf"))


def event_prefix(wall_time: float, step: int | None) -> bytes:
    """The wall_time and step fields that open every Event (step 0 is omitted, as protobuf does)."""
    head = _WALL.pack(0x09, wall_time)
    return head + b"\x10" + varint(step) if step else head


def scalar_event(tag: str, value: float, step: int | None, wall_time: float) -> bytes:
    return event_prefix(wall_time, step) + _scalar_prefix(tag) + _f32(value)


def summary_event(summary_bytes: bytes, step: int | None, wall_time: float) -> bytes:
    """An Event holding an already-serialized Summary."""
    return event_prefix(wall_time, step) + b"\x2a" + varint(len(summary_bytes)) + summary_bytes
