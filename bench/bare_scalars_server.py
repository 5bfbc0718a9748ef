"""The scalars route's floor: board's data layer and JSON encoder behind a bare socket server.

    python bench/bare_scalars_server.py --logdir DIR --port N   (load_bench.py --floor starts it)

No HTTP parsing beyond the request line, no Flask, no werkzeug: what one Python process must spend per
request to send every point of a series. load_bench.py measures it beside board and TensorBoard, which
says how much of board's latency is its web stack and how much the work itself.
"""
from __future__ import annotations

import argparse
import socket
import sys
import threading
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from board_server.data.logdir import LogdirProvider  # noqa: E402
from board_server.jsonutil import series_rows  # noqa: E402
from board_server.memory import keep_response_buffers, limit_malloc_arenas  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logdir", required=True)
    parser.add_argument("--port", type=int, required=True)
    args, _ = parser.parse_known_args()
    limit_malloc_arenas()  # board's memory settings, so the two differ only in the web stack
    provider = LogdirProvider([("", args.logdir)], reload_interval=0).start()
    provider.wait_loaded()
    keep_response_buffers()

    def handle(conn: socket.socket) -> None:
        with conn, conn.makefile("rb") as reader:
            target = reader.readline().split()[1].decode()
            while reader.readline() not in (b"\r\n", b""):
                pass
            query = urllib.parse.parse_qs(urllib.parse.urlsplit(target).query)
            series = provider.scalars(query.get("run", [""])[0], query.get("tag", [""])[0])
            body = b"[]" if series is None else series_rows(series.wall_times, series.steps, series.values)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
                         b"Connection: close\r\n\r\n%s" % (len(body), body))

    server = socket.create_server(("127.0.0.1", args.port), backlog=128)
    while True:
        conn, _ = server.accept()
        threading.Thread(target=handle, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    main()
