"""One BLAS thread for the engine's matmuls, unless the user chose otherwise.

The labs multiply small matrices (batch 100 by a few hundred units). Multi-threaded OpenBLAS on
such sizes spends more in waking and spinning threads than it gains, and on a shared 2-core
machine a busy neighbour makes it several times slower than one thread (measured: 6.2 ms vs 0.8 ms
for 100x784 @ 784x512 float32 under load). numpy's bundled OpenBLAS reads OPENBLAS_NUM_THREADS only
at import, so the setting is applied through the library's own call when the first Session starts.
"""
from __future__ import annotations

import ctypes
import os

_done = False
_SETTERS = ("scipy_openblas_set_num_threads64_", "scipy_openblas_set_num_threads", "openblas_set_num_threads64_",
            "openblas_set_num_threads")


def limit_blas_threads(threads: int = 1) -> bool:
    """Set numpy's OpenBLAS to `threads` threads once; False when the user set a count or it is not OpenBLAS."""
    global _done
    if _done or any(os.environ.get(v) for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "BOARD_BLAS_THREADS")):
        return False
    _done = True
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "openblas" in line.lower() and ".so" in line}
    except OSError:
        return False
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for name in _SETTERS:
            setter = getattr(lib, name, None)
            if setter is not None:
                setter(ctypes.c_int(threads))
                return True
    return False
