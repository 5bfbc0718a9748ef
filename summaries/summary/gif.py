"""A small animated-GIF encoder (GIF89a): one 256-color palette, LZW, NETSCAPE looping.

TensorBoard's image dashboard shows an image summary holding GIF bytes as an animation; this is how
tensorboardX writes videos (through moviepy). This encoder keeps moviepy/ffmpeg/Pillow out.
Colors are exact when the whole clip has at most 256 of them, else a median-cut palette.
"""
from __future__ import annotations

import struct

import numpy as np

_CLEAR, _END, _MAX_CODES = 256, 257, 4096


def _median_cut(colors: np.ndarray, counts: np.ndarray, size: int) -> np.ndarray:
    """Up to `size` colors: split the widest box of distinct colors at its pixel-weighted median."""
    boxes = [np.arange(len(colors))]
    spans = [np.ptp(colors, axis=0)]
    while len(boxes) < size:
        widest = int(np.argmax([s.max() for s in spans]))
        if spans[widest].max() == 0:
            break
        box, span = boxes.pop(widest), spans.pop(widest)
        box = box[np.argsort(colors[box, int(np.argmax(span))], kind="stable")]
        cut = int(np.searchsorted(np.cumsum(counts[box]), counts[box].sum() / 2))
        halves = (box[:min(max(cut, 1), len(box) - 1)], box[min(max(cut, 1), len(box) - 1):])
        boxes += halves
        spans += [np.ptp(colors[half], axis=0) for half in halves]
    return np.array([np.rint(np.average(colors[b], axis=0, weights=counts[b])) for b in boxes], np.uint8)


def _nearest(colors: np.ndarray, palette: np.ndarray) -> np.ndarray:
    """Index of the nearest palette entry (squared RGB distance) of each color, in chunks:
    |c - p|^2 = |p|^2 - 2 c.p + |c|^2, the last term the same for every entry."""
    out = np.empty(len(colors), np.uint8)
    pal = palette.astype(np.float64)
    norms = (pal ** 2).sum(axis=1)
    for start in range(0, len(colors), 16384):
        part = colors[start:start + 16384].astype(np.float64)
        out[start:start + 16384] = (norms[None] - 2 * part @ pal.T).argmin(axis=1)
    return out


def quantize(frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(palette [256, 3], indices [T, H, W]) of TxHxWx3 uint8 frames; exact with <= 256 colors."""
    flat = frames.reshape(-1, 3)
    keys = (flat[:, 0].astype(np.int32) << 16) | (flat[:, 1].astype(np.int32) << 8) | flat[:, 2]
    uniq, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    colors = np.stack([(uniq >> 16) & 255, (uniq >> 8) & 255, uniq & 255], axis=1).astype(np.uint8)
    if len(colors) <= 256:
        palette, index = colors, np.arange(len(colors), dtype=np.uint8)
    else:
        palette = _median_cut(colors, counts, 256)
        index = _nearest(colors, palette)
    full = np.zeros((256, 3), np.uint8)
    full[:len(palette)] = palette
    return full, index[inverse.ravel()].reshape(frames.shape[:3])


def lzw(indices: bytes) -> bytes:
    """GIF's variable-width LZW of 8-bit indices (minimum code size 8), codes packed LSB first.

    The decoder adds each table entry one code later than the encoder, so a code is written in the
    width the decoder will read it with: the bit length of (entries so far - 1), 9 to 12 bits."""
    out, acc, nbits = bytearray(), 0, 0
    table: dict[int, int] = {}
    next_code = _END + 1

    def emit(code: int) -> None:
        nonlocal acc, nbits
        acc |= code << nbits
        nbits += min(12, max(9, (next_code - 1).bit_length()))
        while nbits >= 8:
            out.append(acc & 255)
            acc >>= 8
            nbits -= 8

    emit(_CLEAR)
    prefix = indices[0] if indices else None
    for byte in indices[1:]:
        code = table.get((prefix << 8) | byte)
        if code is not None:
            prefix = code
            continue
        emit(prefix)
        if next_code < _MAX_CODES:
            table[(prefix << 8) | byte] = next_code
            next_code += 1
        else:  # table full: start over, as the decoder will on reading the clear code
            emit(_CLEAR)
            table.clear()
            next_code = _END + 1
        prefix = byte
    if prefix is not None:
        emit(prefix)
    next_code += 1  # the decoder catches up on reading that last code: the end code is read one entry later
    emit(_END)
    if nbits:
        out.append(acc & 255)
    return bytes(out)


def _sub_blocks(data: bytes) -> bytes:
    """GIF data sub-blocks: length-prefixed runs of at most 255 bytes, then a 0 terminator."""
    return b"".join(bytes([len(data[i:i + 255])]) + data[i:i + 255] for i in range(0, len(data), 255)) + b"\0"


def encode_gif(frames: np.ndarray, fps: float = 4) -> bytes:
    """An endlessly looping animated GIF of TxHxWx3 uint8 frames shown `fps` frames a second."""
    if frames.ndim != 4 or frames.shape[3] != 3 or frames.dtype != np.uint8 or 0 in frames.shape:
        raise ValueError(f"encode_gif needs non-empty TxHxWx3 uint8 frames, got {frames.dtype} {frames.shape}")
    if not fps > 0:
        raise ValueError(f"encode_gif: fps must be positive, got {fps!r}")
    t, h, w, _ = frames.shape
    if max(h, w) > 65535:
        raise ValueError(f"encode_gif: {w}x{h} exceeds GIF's 65535-pixel limit")
    palette, indices = quantize(frames)
    delay = max(2, int(round(100 / fps)))  # hundredths of a second; browsers slow down anything under 2
    parts = [b"GIF89a", struct.pack("<HHBBB", w, h, 0xF7, 0, 0), palette.tobytes(),
             b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"]  # loop count 0: forever
    for frame in indices:
        parts += [b"\x21\xf9\x04" + struct.pack("<BHB", 0x04, delay, 0) + b"\0",  # disposal 1: keep
                  b"\x2c" + struct.pack("<HHHHB", 0, 0, w, h, 0), b"\x08", _sub_blocks(lzw(frame.tobytes()))]
    return b"".join(parts) + b"\x3b"
