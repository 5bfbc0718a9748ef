"""glibc malloc settings that keep the server's resident memory close to what it holds.

Each request thread would get its own malloc arena, which keeps the freed buffers of big
responses; the GIL serializes the work anyway, so one arena costs no speed and keeps RSS flat
(measured on the 2M-event bench: 120 MB -> 102 MB peak). After the first load, the loaders'
freed temporaries are handed back to the OS, and from then on response buffers come from the heap
(`keep_response_buffers`). All are no-ops where libc is not glibc.
"""
from __future__ import annotations

import ctypes

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD, M_ARENA_MAX = -1, -3, -8
RESPONSE_BUFFER = 4 << 20  # bytes: a 20,000-point scalars response is ~0.9 MB, its encoding temporaries ~3 MB


def _libc():
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:
        return None


def limit_malloc_arenas(arenas: int = 1) -> None:
    libc = _libc()
    if libc is not None and hasattr(libc, "mallopt"):
        libc.mallopt(M_ARENA_MAX, arenas)


def release_free_memory() -> None:
    libc = _libc()
    if libc is not None and hasattr(libc, "malloc_trim"):
        libc.malloc_trim(0)


def keep_response_buffers(size: int = RESPONSE_BUFFER) -> None:
    """Allocate buffers up to `size` from the heap and keep up to twice that free there between requests.

    glibc's own thresholds move with the pattern of frees: some runs served every 0.9 MB scalars
    response from a fresh mmap (300 page faults a request, 0.5 ms of system time under 8 clients);
    fixed thresholds make the heap reuse the same pages. Called once the first load is done, so the
    loaders' large temporaries still go straight back to the OS.
    """
    libc = _libc()
    if libc is not None and hasattr(libc, "mallopt"):
        libc.mallopt(M_MMAP_THRESHOLD, size)
        libc.mallopt(M_TRIM_THRESHOLD, 2 * size)
