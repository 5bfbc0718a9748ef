"""Write-path benchmark: ours vs tensorboardX, side by side in one process.

    python bench/write_bench.py [--repeats 7]

Prints the median µs per call of add_scalar, add_histogram (10k floats) and add_image (3x64x64 uint8)
for each writer, and ours/theirs. tensorboardX is measured only when importable.
Targets (issue 2): add_scalar <= 5 µs; histogram and image <= 0.5x tensorboardX.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from summaries.summary.writer import SummaryWriter as OurWriter  # noqa: E402

try:
    from tensorboardX import SummaryWriter as TbxWriter
except ImportError:
    TbxWriter = None

CASES = {
    "add_scalar": (20000, lambda w, i, data: w.add_scalar("loss", 0.5 + i * 1e-6, i)),
    "add_histogram (10k floats)": (200, lambda w, i, data: w.add_histogram("weights", data["hist"], i)),
    "add_image (3x64x64 uint8)": (500, lambda w, i, data: w.add_image("image", data["image"], i)),
}


def measure(writer_cls, call, n: int, data: dict, repeats: int) -> float:
    """Median µs per call over `repeats` rounds of `n` calls, close() included (all bytes on disk)."""
    samples = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as d:
            w = writer_cls(d)
            start = time.perf_counter()
            for i in range(n):
                call(w, i, data)
            w.close()
            samples.append((time.perf_counter() - start) / n * 1e6)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    data = {"hist": rng.normal(size=10_000).astype(np.float32),
            "image": rng.integers(0, 256, size=(3, 64, 64), dtype=np.uint8)}
    print(f"{'call':28} {'board µs':>10} {'tensorboardX µs':>16} {'ratio':>7}")
    for name, (n, call) in CASES.items():
        ours = measure(OurWriter, call, n, data, args.repeats)
        theirs = measure(TbxWriter, call, n, data, args.repeats) if TbxWriter else float("nan")
        ratio = f"{ours / theirs:.2f}x" if TbxWriter else "n/a"
        print(f"{name:28} {ours:10.1f} {theirs:16.1f} {ratio:>7}")
    if TbxWriter is None:
        print("(tensorboardX not installed: pip install tensorboardX to compare)")


if __name__ == "__main__":
    main()
