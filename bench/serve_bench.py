"""Serving benchmark: N concurrent clients over every route, board and TensorBoard side by side.

    python bench/serve_bench.py [--logdir small|large] [--clients 16] [--seconds 20] [--tensorboard PATH]

`small`: a generated logdir of 1,000 small runs (scalars, histograms, images, a few graphs), cached in /tmp.
`large`: the 2M-event scalar logdir of bench/load_bench.py (10 runs x 10 tags x 20,000 steps), cached in /tmp.
Each server is started on the logdir and measured once fully loaded: clients (threads over keep-alive
connections, spread over a few processes so the client's GIL is not the bottleneck) pick a random route and a
random run/tag for a bounded time. Printed per server: requests, throughput, p50/p95/p99 latency and errors
(5xx or transport failures; 4xx are counted apart), and the same per route. TensorBoard (when
`/work/peers/bin/tensorboard` or --tensorboard exists) gets the routes it has; board-only routes are marked.
"""
from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import os
import random
import re
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from load_bench import generate as generate_large, tree_rss_mb  # noqa: E402

SMALL = Path("/tmp/board_serve_bench_1000")
LARGE = Path("/tmp/board_load_bench_10x10x20000")
DEFAULT_TB = "/work/peers/bin/tensorboard"
BOARD_ONLY = {"scalars_batch", "graph_layout"}


# -- logdirs ----------------------------------------------------------------------------------------------
def generate_small(path: Path, runs: int = 1000) -> Path:
    """`runs` runs: 2 scalar tags x 100 steps, a histogram x 10 steps, an 8x8 image x 3 steps; a graph every 100."""
    done = path / ".complete"
    if done.exists():
        return path
    from summaries.proto import GraphDef
    from summaries.summary.writer import SummaryWriter
    rng = np.random.default_rng(0)
    for r in range(runs):
        w = SummaryWriter(str(path / f"group{r // 100:02d}" / f"run{r:04d}"), max_queue=1000)
        for step in range(100):
            w.add_scalar("loss", 1.0 / (step + 1) + r * 1e-3, step, walltime=1.7e9 + step)
            w.add_scalar("metrics/accuracy", step / 100.0, step, walltime=1.7e9 + step)
        for step in range(0, 100, 10):
            w.add_histogram("weights", rng.normal(size=200), step, walltime=1.7e9 + step)
        for step in (0, 50, 99):
            w.add_image("sample", rng.integers(0, 255, (3, 8, 8), dtype=np.uint8), step, walltime=1.7e9 + step)
        if r % 100 == 0:
            g = GraphDef()
            for i in range(50):
                g.node.add(name=f"layer{i // 10}/op{i}", op="MatMul", input=[f"layer{(i - 1) // 10}/op{i - 1}"] if i else [])
            w.file_writer.add_graph(None, graph_def=g)
        w.close()
    done.touch()
    return path


# -- servers ----------------------------------------------------------------------------------------------
def start(cmd: list[str]) -> tuple[subprocess.Popen, str, list[str]]:
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT)
    lines: list[str] = []
    found = threading.Event()
    url = [""]

    def drain():
        for line in proc.stdout:
            lines.append(line)
            m = re.search(r"(http://[^\s]+/)", line)
            if m and not url[0]:
                url[0] = m.group(1).replace("localhost", "127.0.0.1")
                found.set()

    threading.Thread(target=drain, daemon=True).start()
    if not found.wait(120):
        proc.kill()
        raise RuntimeError("server did not print a URL:\n" + "".join(lines[-30:]))
    return proc, url[0], lines


def get_json(base: str, path: str, timeout: float = 60):
    parts = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        conn.request("GET", parts.path + path)
        resp = conn.getresponse()
        body = resp.read()
        return json.loads(body) if resp.status == 200 else None
    except (OSError, ValueError, http.client.HTTPException):
        return None
    finally:
        conn.close()


def wait_loaded(base: str, runs: int, last_step: int, timeout: float = 600) -> float:
    """Seconds until every run lists its scalar tags and a sample of runs serves its last step."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        tags = get_json(base, "data/plugin/scalars/tags") or {}
        if len(tags) >= runs:
            sample = random.Random(0).sample(sorted(tags), min(20, len(tags)))
            if all((pts := get_json(base, "data/plugin/scalars/scalars?" + urllib.parse.urlencode(
                    {"run": r, "tag": sorted(tags[r])[0]}))) and pts[-1][1] == last_step for r in sample):
                return time.monotonic() - t0
        time.sleep(0.5)
    raise RuntimeError(f"{base} did not load in {timeout} s")


# -- the request mix --------------------------------------------------------------------------------------
def plan(base: str, board: bool) -> dict[str, list[tuple[str, str, bytes | None]]]:
    """route kind -> concrete (method, path, body) requests, from the server's own listings."""
    kinds: dict[str, list] = {"runs": [("GET", "data/runs", None)]}
    q = urllib.parse.urlencode
    scalars = get_json(base, "data/plugin/scalars/tags") or {}
    pairs = [(r, t) for r in scalars for t in scalars[r]]
    if pairs:
        kinds["scalars_tags"] = [("GET", "data/plugin/scalars/tags", None)]
        kinds["scalars"] = [("GET", "data/plugin/scalars/scalars?" + q({"run": r, "tag": t}), None) for r, t in pairs]
        if board:
            rnd = random.Random(1)
            kinds["scalars_batch"] = [("POST", "data/plugin/scalars/batch", json.dumps(
                {"series": [{"run": r, "tag": t} for r, t in rnd.sample(pairs, min(8, len(pairs)))],
                 "points": 1000, "smoothing": 0.6}).encode()) for _ in range(200)]
    histos = get_json(base, "data/plugin/histograms/tags") or {}
    hpairs = [(r, t) for r in histos for t in histos[r]]
    if hpairs:
        kinds["histograms_tags"] = [("GET", "data/plugin/histograms/tags", None)]
        kinds["histograms"] = [("GET", "data/plugin/histograms/histograms?" + q({"run": r, "tag": t}), None)
                               for r, t in hpairs]
        kinds["distributions"] = [("GET", "data/plugin/distributions/distributions?" + q({"run": r, "tag": t}),
                                   None) for r, t in hpairs]
    images = get_json(base, "data/plugin/images/tags") or {}
    ipairs = [(r, t) for r in images for t in images[r]]
    if ipairs:
        kinds["images_tags"] = [("GET", "data/plugin/images/tags", None)]
        kinds["images"] = [("GET", "data/plugin/images/images?" + q({"run": r, "tag": t, "sample": 0}), None)
                           for r, t in ipairs]
        individual = []
        for r, t in random.Random(2).sample(ipairs, min(50, len(ipairs))):
            for item in get_json(base, "data/plugin/images/images?" + q({"run": r, "tag": t, "sample": 0})) or []:
                individual.append(("GET", "data/plugin/images/individualImage?" + item["query"], None))
        kinds["individual_image"] = individual
    info = get_json(base, "data/plugin/graphs/info") or {}
    graph_runs = [r for r, item in info.items() if item.get("run_graph")]
    if graph_runs:
        kinds["graph"] = [("GET", "data/plugin/graphs/graph?" + q({"run": r}), None) for r in graph_runs]
        if board:
            kinds["graph_layout"] = [("GET", "data/plugin/graphs/layout?" + q({"run": r}), None) for r in graph_runs]
    return {k: v for k, v in kinds.items() if v}


def _client_process(base: str, kinds: dict, threads: int, seconds: float, seed: int, out) -> None:
    parts = urllib.parse.urlsplit(base)
    names = sorted(kinds)
    results: list[tuple[str, float, int]] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def loop(rnd: random.Random):
        conn = None
        local = []
        while time.monotonic() < deadline:
            kind = rnd.choice(names)
            method, path, body = rnd.choice(kinds[kind])
            t = time.perf_counter()
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
                conn.request(method, parts.path + path, body=body,
                             headers={"Content-Type": "application/json"} if body else {})
                resp = conn.getresponse()
                resp.read()
                status = resp.status
                if resp.getheader("Connection", "").lower() == "close" or resp.version == 10:
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException):
                status = -1
                conn = None
            local.append((kind, time.perf_counter() - t, status))
        with lock:
            results.extend(local)

    pool = [threading.Thread(target=loop, args=(random.Random(seed * 1000 + i),)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    out.put(results)


def drive(base: str, kinds: dict, clients: int, seconds: float, procs: int) -> list[tuple[str, float, int]]:
    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    per = [clients // procs + (1 if i < clients % procs else 0) for i in range(procs)]
    workers = [ctx.Process(target=_client_process, args=(base, kinds, n, seconds, i, queue))
               for i, n in enumerate(per) if n]
    for w in workers:
        w.start()
    results = []
    for _ in workers:
        results.extend(queue.get())
    for w in workers:
        w.join()
    return results


def summarize(results, seconds: float) -> dict:
    def stats(rows):
        lat = np.array([r[1] for r in rows]) * 1000 if rows else np.zeros(1)
        return {"n": len(rows), "rps": len(rows) / seconds, "p50": float(np.percentile(lat, 50)),
                "p95": float(np.percentile(lat, 95)), "p99": float(np.percentile(lat, 99)),
                "errors": sum(1 for r in rows if r[2] >= 500 or r[2] < 0),
                "4xx": sum(1 for r in rows if 400 <= r[2] < 500)}
    routes = sorted({r[0] for r in results})
    return {"all": stats(results), "routes": {k: stats([r for r in results if r[0] == k]) for k in routes}}


def measure(name: str, cmd: list[str], runs: int, last_step: int, args) -> dict:
    proc, base, lines = start(cmd)
    try:
        loaded = wait_loaded(base, runs, last_step)
        kinds = plan(base, board=name == "board" and not args.common_only)
        results = drive(base, kinds, args.clients, args.seconds, args.client_procs)
        rss = tree_rss_mb(proc.pid)  # with children: TensorBoard's Rust data server
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
    tracebacks = sum("Traceback" in line for line in lines)
    return {"name": name, "loaded_s": loaded, "rss_mb": rss, "tracebacks": tracebacks, **summarize(results, args.seconds)}


def report(title: str, measured: list[dict]) -> None:
    print(f"\n== {title}")
    print(f"{'server':<28}{'loaded s':>9}{'requests':>10}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
          f"{'errors':>8}{'4xx':>6}{'RSS MB':>8}")
    for m in measured:
        a = m["all"]
        print(f"{m['name']:<28}{m['loaded_s']:>9.1f}{a['n']:>10}{a['rps']:>9.1f}{a['p50']:>9.1f}{a['p95']:>9.1f}"
              f"{a['p99']:>9.1f}{a['errors']:>8}{a['4xx']:>6}{m['rss_mb']:>8.0f}")
    routes = sorted({r for m in measured for r in m["routes"]})
    print(f"\n{'route (p50 / p95 / p99 ms, req/s)':<34}" + "".join(f"{m['name']:>38}" for m in measured))
    for route in routes:
        cells = []
        for m in measured:
            s = m["routes"].get(route)
            cells.append(f"{s['p50']:7.1f} /{s['p95']:7.1f} /{s['p99']:7.1f}, {s['rps']:6.1f}" if s else "—")
        mark = " (board only)" if route in BOARD_ONLY else ""
        print(f"{route + mark:<34}" + "".join(f"{c:>38}" for c in cells))
    for m in measured:
        if m["tracebacks"]:
            print(f"!! {m['name']} logged {m['tracebacks']} tracebacks")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--logdir", choices=["small", "large"], default="small")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--client-procs", type=int, default=2)
    parser.add_argument("--tensorboard", default=DEFAULT_TB)
    parser.add_argument("--no-tensorboard", action="store_true")
    parser.add_argument("--common-only", action="store_true",
                        help="only the routes both servers have (drops board's batch and layout routes)")
    args = parser.parse_args()
    if args.logdir == "small":
        t = time.monotonic()
        logdir, runs, last_step = generate_small(SMALL), 1000, 99
        title = f"1,000 small runs ({logdir}; generated/cached in {time.monotonic() - t:.0f} s)"
    else:
        logdir, runs, last_step = generate_large(LARGE, 10, 10, 20000), 10, 19999
        title = f"2M scalar events: 10 runs x 10 tags x 20,000 steps ({logdir})"
    title += f", {args.clients} clients, {args.seconds:.0f} s" + (", common routes only" if args.common_only else "")
    servers = [("board", [sys.executable, "-m", "board_server", "--logdir", str(logdir), "--port", "0"])]
    if not args.no_tensorboard and Path(args.tensorboard).exists():
        servers.append(("tensorboard --load_fast=true", [args.tensorboard, "--logdir", str(logdir), "--port", "0",
                                                         "--host", "127.0.0.1", "--load_fast", "true"]))
    else:
        print("tensorboard not found: measuring board alone")
    measured = []
    for name, cmd in servers:
        print(f"measuring {name} ...", flush=True)
        measured.append(measure(name, cmd, runs, last_step, args))
    report(title, measured)


if __name__ == "__main__":
    main()
