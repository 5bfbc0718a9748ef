"""The HTTP server: werkzeug's, with a fixed pool of request threads and no unread access log."""
from __future__ import annotations

import queue
import threading

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler

REQUEST_THREADS = 32  # requests served at once; more wait in the queue


class QuietHandler(WSGIRequestHandler):
    verbose = False

    def log_request(self, code="-", size="-") -> None:
        if self.verbose:  # otherwise the formatted line would only be dropped by the logger
            super().log_request(code, size)


class PooledServer(BaseWSGIServer):
    """werkzeug's threaded server starts a thread per request and waits until it runs; under load
    that wait is one more hand-off of the GIL per request. A fixed pool of threads avoids it.
    They are daemon threads, as werkzeug's are, so a stalled client cannot hold up Ctrl+C."""

    multithread = True

    def __init__(self, host: str, port: int, app, verbose: bool = False, threads: int = REQUEST_THREADS):
        handler = type("Handler", (QuietHandler,), {"verbose": verbose})
        super().__init__(host, port, app, handler=handler)
        self._requests: queue.SimpleQueue = queue.SimpleQueue()
        for i in range(threads):
            threading.Thread(target=self._serve_requests, name=f"board-http-{i}", daemon=True).start()

    def process_request(self, request, client_address) -> None:
        self._requests.put((request, client_address))

    def _serve_requests(self) -> None:
        while True:
            request, client_address = self._requests.get()
            try:
                self.finish_request(request, client_address)
            except Exception:
                self.handle_error(request, client_address)
            finally:
                self.shutdown_request(request)
