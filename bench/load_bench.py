"""Load benchmark: board vs TensorBoard on a 2M-event scalar logdir, side by side in one run.

    python bench/load_bench.py [--runs 10 --tags 10 --steps 20000] [--skip-slow] [--tensorboard PATH]

Generates (once, cached in /tmp) a logdir of runs x tags x steps scalar events, then for each server:
seconds from process start until every run's last point is served, peak RSS of the process tree
(sampled every 50 ms), points served per tag, and p50/p95 latency of the scalars route under 8
concurrent clients (each the median over --rounds rounds of --requests requests; the p95 range is
printed). TensorBoard is measured with --load_fast=true (its Rust loader) and, unless --skip-slow,
--load_fast=false (its Python loader), when a `tensorboard` executable is found. --floor adds board's
data layer and encoder behind a bare socket server (bench/bare_scalars_server.py): the latency floor of
one Python process sending every point, without any web stack.
"""
from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from summaries.summary.file_writer import FileWriter  # noqa: E402


def generate(path: Path, runs: int, tags: int, steps: int) -> Path:
    done = path / ".complete"
    if done.exists():
        return path
    shutil.rmtree(path, ignore_errors=True)
    for r in range(runs):
        writer = FileWriter(path / f"run{r}", max_queue=100_000, flush_secs=3600)
        for step in range(steps):
            for t in range(tags):
                writer.add_scalar_fast(f"tag{t}", 1.0 / (step + 1) + r + t * 1e-3, step, 1.7e9 + step)
        writer.close()
    done.touch()
    return path


def tree_rss_mb(pid: int) -> float:
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
            for task in Path(f"/proc/{p}/task").iterdir():
                todo.extend(int(c) for c in (task / "children").read_text().split())
        except OSError:
            pass
    return total / 1024


def get(url: str, timeout: float = 60):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return json.loads(r.read())


def measure(name: str, cmd: list[str], runs: int, tags: int, steps: int, clients: int, requests: int,
            rounds: int) -> dict:
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peak = [0.0]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], tree_rss_mb(proc.pid))
            time.sleep(0.05)

    threading.Thread(target=sample, daemon=True).start()
    lines: list[str] = []

    def drain():
        for line in proc.stdout:
            lines.append(line)

    threading.Thread(target=drain, daemon=True).start()
    try:
        port = int(cmd[cmd.index("--port") + 1])
        base = f"http://127.0.0.1:{port}/"
        scalars = lambda run, tag: get(base + "data/plugin/scalars/scalars?" +  # noqa: E731
                                       urllib.parse.urlencode({"run": run, "tag": tag}))
        pending = {f"run{r}" for r in range(runs)}
        while pending and time.monotonic() - start < 600:
            for run in sorted(pending):
                try:
                    points = scalars(run, f"tag{tags - 1}")
                    if points and points[-1][1] == steps - 1:
                        pending.discard(run)
                except (OSError, ValueError):
                    pass
            if pending:
                time.sleep(0.05)
        load_s = time.monotonic() - start
        if pending:
            raise RuntimeError(f"{name}: runs not served after 600 s: {sorted(pending)}")
        served = len(scalars("run0", "tag0"))

        def timed(target):  # the whole response received; not parsed (client CPU is not the server's latency)
            t0 = time.perf_counter()
            with urllib.request.urlopen(base + "data/plugin/scalars/scalars?" + urllib.parse.urlencode(
                    {"run": target[0], "tag": target[1]}), timeout=60) as r:
                r.read()
            return (time.perf_counter() - t0) * 1000

        p50s, p95s = [], []
        for seed in range(rounds):
            rng = random.Random(seed)
            targets = [(f"run{rng.randrange(runs)}", f"tag{rng.randrange(tags)}") for _ in range(requests)]
            with ThreadPoolExecutor(clients) as pool:
                latencies = sorted(pool.map(timed, targets))
            p50s.append(statistics.median(latencies))
            p95s.append(latencies[int(0.95 * (len(latencies) - 1))])
        return {"name": name, "load_s": load_s, "rss_mb": peak[0], "points": served, "p50_ms": statistics.median(p50s),
                "p95_ms": statistics.median(p95s), "p95_range": (min(p95s), max(p95s))}
    finally:
        stop.set()
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--tags", type=int, default=10)
    parser.add_argument("--steps", type=int, default=20000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=200, help="per latency round")
    parser.add_argument("--rounds", type=int, default=5, help="latency rounds; medians are reported")
    parser.add_argument("--skip-slow", action="store_true", help="skip TensorBoard's Python loader (~40 s)")
    parser.add_argument("--floor", action="store_true", help="also measure bench/bare_scalars_server.py")
    parser.add_argument("--tensorboard", default=shutil.which("tensorboard") or "/work/peers/bin/tensorboard")
    args = parser.parse_args()
    logdir = generate(Path(f"/tmp/board_load_bench_{args.runs}x{args.tags}x{args.steps}"),
                      args.runs, args.tags, args.steps)
    size = sum(f.stat().st_size for f in logdir.rglob("*tfevents*")) / 2**20
    print(f"logdir {logdir}: {args.runs * args.tags * args.steps:,} scalar events, {size:.0f} MB")
    common = ["--logdir", str(logdir), "--reload_interval", "0"]
    servers = [("board", [sys.executable, "-m", "board_server", "--port", "16006", *common])]
    if args.floor:
        servers.append(("board data+encoder, bare socket", [sys.executable, str(ROOT / "bench" / "bare_scalars_server.py"),
                                                            "--port", "16009", *common]))
    if Path(args.tensorboard).exists():
        servers.append(("tensorboard --load_fast=true",
                        [args.tensorboard, "--port", "16007", "--load_fast", "true", *common]))
        if not args.skip_slow:
            servers.append(("tensorboard --load_fast=false",
                            [args.tensorboard, "--port", "16008", "--load_fast", "false", *common]))
    else:
        print("tensorboard not found: measuring board alone")
    results = [measure(name, cmd, args.runs, args.tags, args.steps, args.clients, args.requests, args.rounds)
               for name, cmd in servers]
    print(f"{'server':33} {'load s':>8} {'peak RSS MB':>12} {'points/tag':>11} {'p50 ms':>8} {'p95 ms':>8} "
          f"{'p95 range':>13}")
    for r in results:
        print(f"{r['name']:33} {r['load_s']:8.2f} {r['rss_mb']:12.0f} {r['points']:11,} {r['p50_ms']:8.1f} "
              f"{r['p95_ms']:8.1f} {r['p95_range'][0]:6.1f}-{r['p95_range'][1]:<6.1f}")
    ours = [r for r in results if not r["name"].startswith("tensorboard")]
    for r in results[len(ours):]:
        for mine in ours:
            print(f"{mine['name']} / {r['name']}: load {mine['load_s'] / r['load_s']:.2f}x, "
                  f"RSS {mine['rss_mb'] / r['rss_mb']:.2f}x, p95 {mine['p95_ms'] / r['p95_ms']:.2f}x, "
                  f"points {mine['points'] / r['points']:.0f}x")


if __name__ == "__main__":
    main()
