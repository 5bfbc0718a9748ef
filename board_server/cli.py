"""`board --logdir DIR`: TensorBoard's flags -> a data provider -> the app -> a threaded server."""
from __future__ import annotations

import argparse
import gc
import logging
import os
import signal
import sys
import threading
import time

from board_server import __version__
from board_server.memory import keep_response_buffers, limit_malloc_arenas

LOOPBACK_NAMES = {"localhost", "127.0.0.1", "[::1]", "::1"}


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="board", description="Serve TensorBoard logdirs in the browser.")
    p.add_argument("--logdir", help="directory to read runs from (every subdirectory with event files is a run)")
    p.add_argument("--logdir_spec", help="name:path,name:path,... (several logdirs, runs prefixed by name)")
    p.add_argument("--port", type=int, default=6006, help="port to serve on (0 picks a free one; default 6006)")
    p.add_argument("--host", default=None, help="address to bind (default: localhost only)")
    p.add_argument("--bind_all", action="store_true", help="serve on all network interfaces")
    p.add_argument("--reload_interval", type=float, default=5.0,
                   help="seconds between checks for new data (0 = load once; default 5)")
    p.add_argument("--path_prefix", default="", help="serve under this URL path, e.g. /board")
    p.add_argument("--samples_per_plugin", default="",
                   help="accepted for compatibility; board keeps every scalar point and image")
    p.add_argument("--window_title", default="", help="title of the browser tab")
    p.add_argument("--load_workers", type=int, default=None, help="threads reading runs during the first load (default: cores)")
    p.add_argument("--verbose", action="store_true", help="log every request")
    p.add_argument("--version", action="version", version=f"board {__version__}")
    args = p.parse_args(argv)
    if not args.logdir and not args.logdir_spec:
        p.error("one of --logdir or --logdir_spec is required (e.g. board --logdir ./logs)")
    if not 0 <= args.port <= 65535:
        p.error(f"--port must be 0-65535 (0 picks a free one), not {args.port}")
    if not args.reload_interval >= 0:  # also refuses nan
        p.error(f"--reload_interval must be 0 (load once) or a number of seconds, not {args.reload_interval}")
    if args.load_workers is not None and args.load_workers < 1:
        p.error(f"--load_workers must be at least 1, not {args.load_workers}")
    return args


def logdirs_from(args) -> list[tuple[str, str]]:
    if args.logdir_spec:
        out = []
        for item in args.logdir_spec.split(","):
            name, sep, path = item.partition(":")
            out.append((name, path) if sep and path else ("", item))
        return out
    return [("", args.logdir)]


def wait_for_logdirs(logdirs) -> None:
    missing = [path for _, path in logdirs if not os.path.isdir(os.path.expanduser(path))]
    if not missing:
        return
    print(f"board: logdir {', '.join(missing)} does not exist (yet); waiting for it to appear "
          f"(Ctrl+C to quit)", flush=True)
    while any(not os.path.isdir(os.path.expanduser(path)) for _, path in logdirs):
        time.sleep(1)
    print("board: logdir appeared, loading", flush=True)


def load_then_settle(provider, logdirs) -> None:
    wait_for_logdirs(logdirs)
    provider.start()
    provider.wait_loaded()
    # The modules and the loaded runs live as long as the server: keep the cyclic collector off
    # them, so its full passes (16 ms over a big logdir) do not stall requests.
    gc.freeze()
    keep_response_buffers()


def _interrupt(*_):
    raise KeyboardInterrupt


def main(argv=None) -> int:
    args = parse_args(argv)
    limit_malloc_arenas()  # before any thread starts
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from board_server.data.logdir import LogdirProvider

    logdirs = logdirs_from(args)
    provider = LogdirProvider(logdirs, reload_interval=args.reload_interval, workers=args.load_workers)
    # Load while the web stack is imported and bound; the provider starts when the logdir exists.
    threading.Thread(target=load_then_settle, args=(provider, logdirs), daemon=True).start()

    from board_server.app import create_app, with_path_prefix
    from board_server.serving import make_server

    host = "0.0.0.0" if args.bind_all else (args.host or "localhost")
    bind = "127.0.0.1" if host == "localhost" else host
    allowed = None if (args.bind_all or host not in LOOPBACK_NAMES | {"127.0.0.1"}) else LOOPBACK_NAMES
    app = create_app(provider, window_title=args.window_title,
                     data_location=args.logdir or args.logdir_spec, allowed_hosts=allowed)
    try:
        server = make_server(bind, args.port, with_path_prefix(app, args.path_prefix), verbose=args.verbose)
    except OSError as e:
        print(f"board: cannot listen on {bind}:{args.port}: {e.strerror or e}", file=sys.stderr)
        return 1
    port = server.socket.getsockname()[1]
    shown = "127.0.0.1" if bind in ("127.0.0.1", "0.0.0.0") else bind
    prefix = "/" + args.path_prefix.strip("/") + "/" if args.path_prefix.strip("/") else "/"
    print(f"board {__version__} at http://{shown}:{port}{prefix} (Ctrl+C to quit)", flush=True)
    print(f"  remote host? on your machine run: ssh -L {port}:127.0.0.1:{port} <this-host>  "
          f"then open http://127.0.0.1:{port}{prefix}", flush=True)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("\nboard: bye", flush=True)
    finally:
        provider.stop()
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
