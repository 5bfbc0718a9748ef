"""Image memory benchmark: the server's RSS with 5,000 images of 64x64 vs the same logdir without them.

    python bench/image_memory_bench.py [--images 5000] [--size 64]

Writes two logdirs (same scalars; one also holds the images), starts `board` on each, waits for the
first load, requests the image list and one image (so the image path has run), and prints each
server's resident memory and the difference. Target (issue 5): the images add < 20 MB, because the
server keeps (file, offset) references and reads image bytes on demand. TensorBoard, when installed,
is measured on the same two logdirs (its default keeps only 4 images per tag in memory).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from load_bench import tree_rss_mb  # noqa: E402
from summaries.summary.writer import SummaryWriter  # noqa: E402


def write_logdir(path: Path, images: int, size: int, with_images: bool) -> None:
    rng = np.random.default_rng(0)
    with SummaryWriter(str(path / "run"), max_queue=1000) as w:
        for step in range(images):
            w.add_scalar("loss", 1.0 / (step + 1), step)
            if with_images:
                w.add_image("samples", rng.integers(0, 256, (size, size, 3), dtype=np.uint8), step,
                            dataformats="HWC")


def serve_and_measure(cmd: list[str], ready_path: str, settle: float, touch: list[str]) -> float:
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        url = None
        while url is None:
            line = proc.stdout.readline()
            if not line:
                raise RuntimeError(f"{cmd[0]} exited")
            m = re.search(r"(http://[^\s]+?/?)(\s|$)", line)
            if m and "http" in line:
                url = m.group(1).rstrip("/") + "/"
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            try:
                if ready_path.endswith("status"):
                    if json.loads(urllib.request.urlopen(url + ready_path, timeout=10).read())["done"]:
                        break
                else:
                    urllib.request.urlopen(url + ready_path, timeout=10).read()
                    break
            except OSError:
                pass
            time.sleep(0.2)
        time.sleep(settle)
        for path in touch:
            try:
                urllib.request.urlopen(url + path, timeout=30).read()
            except OSError:
                pass
        return tree_rss_mb(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=5000)
    parser.add_argument("--size", type=int, default=64)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="board_image_bench_"))
    try:
        plain, pictures = tmp / "scalars_only", tmp / "with_images"
        write_logdir(plain, args.images, args.size, with_images=False)
        write_logdir(pictures, args.images, args.size, with_images=True)
        size = sum(f.stat().st_size for f in pictures.rglob("*tfevents*")) / 2**20
        print(f"logdirs: {args.images} steps; with images {size:.1f} MB of event files")
        touch = ["data/plugin/images/images?run=run&tag=samples",
                 "data/plugin/images/individualImage?run=run&tag=samples&index=0&sample=0"]
        board = [sys.executable, "-m", "board_server", "--port", "0", "--reload_interval", "0", "--logdir"]
        ours = [serve_and_measure(board + [str(d)], "data/status", 1.0, touch) for d in (plain, pictures)]
        print(f"board:       without images {ours[0]:7.1f} MB   with images {ours[1]:7.1f} MB   "
              f"difference {ours[1] - ours[0]:+.1f} MB (target < 20 MB)")
        tb = shutil.which("tensorboard") or (Path(sys.executable).parent / "tensorboard")
        if Path(tb).exists():
            cmd = [str(tb), "--port", "0", "--reload_interval", "0", "--load_fast", "false", "--logdir"]
            try:
                theirs = [serve_and_measure(cmd + [str(d)], "data/runs", 15.0, []) for d in (plain, pictures)]
                print(f"tensorboard: without images {theirs[0]:7.1f} MB   with images {theirs[1]:7.1f} MB   "
                      f"difference {theirs[1] - theirs[0]:+.1f} MB (keeps 4 images per tag by default)")
            except Exception as e:  # noqa: BLE001 - the peer is optional
                print(f"tensorboard: not measured ({e})")
        else:
            print("tensorboard: not installed")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
