"""The HTTP server: werkzeug's threaded one (a thread per request, so a slow or silent client never
blocks the others), without formatting access-log lines that nobody will read."""
from __future__ import annotations

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler
from werkzeug.serving import make_server as _werkzeug_server


class QuietHandler(WSGIRequestHandler):
    verbose = False

    def log_request(self, code="-", size="-") -> None:
        if self.verbose:  # otherwise the formatted line would only be dropped by the logger
            super().log_request(code, size)


def make_server(host: str, port: int, app, verbose: bool = False) -> BaseWSGIServer:
    handler = type("Handler", (QuietHandler,), {"verbose": verbose})
    return _werkzeug_server(host, port, app, threaded=True, request_handler=handler)
