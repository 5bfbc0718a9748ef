"""The HTTP server: HTTP/1.1 with keep-alive, a thread per connection, the app called through WSGI.

Why our own and not werkzeug's development server: that one sits on `http.server`, which parses every
request's headers with `email.parser` and answers HTTP/1.0 (a new connection and thread per request).
This one parses what a WSGI app needs, refuses what it does not support with a JSON error, keeps
connections open, and sends a small response's head and body in one system call. On the 2M-event
bench (8 clients on the scalars route) the server's CPU per request fell from ~2.8 to ~2.5 ms, near
the same encoder behind a bare socket (bench/load_bench.py --floor). A thread per connection, as
werkzeug's, so a slow or silent client never blocks the others; an idle connection is closed after
IDLE_TIMEOUT seconds, a request still arriving REQUEST_TIMEOUT seconds after its first byte is cut off.

Requests share the CPU as they come: a small one (a tags listing) is not queued behind a big one.
werkzeug's server, whose accept loop waits for the GIL, served them nearly first come, first served:
on bench/serve_bench.py (16 clients, every route) that gave p50/p95 28/43 ms, against 16/113 ms here,
with the same throughput. The work is the same either way, so a page's last answer comes no later; its
small answers come first. (A first-come-first-served gate of 3 requests gave 25/41 ms there but cost the
scalars route a third of its p95 under 8 clients, 26 -> 35 ms: not kept.)
"""
from __future__ import annotations

import io
import json
import logging
import re
import socket
import struct
import sys
import threading
import time
from email.utils import formatdate
from urllib.parse import unquote_to_bytes

log = logging.getLogger("board.http")
MAX_LINE = 16384  # bytes of the request line (the app refuses long query strings itself, with JSON)
MAX_HEADERS = 100  # header lines per request
MAX_HEAD = 65536  # bytes of request line and headers together
MAX_BODY = 4 << 20  # bytes of request body (the scalars batch POST), read into memory; larger: JSON 413
IDLE_TIMEOUT = 120.0  # seconds a kept-alive connection may stay silent (and a send may stall)
REQUEST_TIMEOUT = 30.0  # seconds from a request's first byte to the end of its body (a trickle is cut off)
LINGER_SECONDS, LINGER_BYTES = 2.0, 64 << 20  # how long and how much to read after refusing a request
MAX_CONNECTIONS = 512  # open connections (a thread each); more wait in the listen backlog
NO_BODY_STATUS = ("1", "204", "304")
TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # what a header name may be (RFC 9110 5.1)
CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # in a line before its CRLF: bare CR, NUL, ...


class BadRequest(Exception):
    """A request the server answers itself, with `status` and a JSON error, then closes the connection."""

    def __init__(self, status: str, message: str):
        super().__init__(message)
        self.status = status


class ClientGone(OSError):
    """The client closed the connection or stopped reading: nothing more can be sent."""


class Server:
    """Listens on (host, port); `serve_forever` accepts until `server_close`."""

    def __init__(self, host: str, port: int, app, verbose: bool = False):
        family, _, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                      flags=socket.AI_PASSIVE)[0]
        self.socket = socket.create_server(address, family=family, backlog=128)
        self.app = app
        self.verbose = verbose
        self.server_name = host  # only read when a request has no Host header; no DNS lookup for it
        self.server_port = str(self.socket.getsockname()[1])
        self.slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        self.open: set[socket.socket] = set()
        self.reading: dict[socket.socket, float] = {}  # connection -> when its request must have arrived

    def serve_forever(self) -> None:
        threading.Thread(target=self._cut_slow_requests, daemon=True).start()
        while True:
            self.slots.acquire()
            try:
                conn, peer = self.socket.accept()
            except OSError:
                self.slots.release()
                if self.socket.fileno() == -1:  # closed by server_close
                    return
                time.sleep(0.05)  # e.g. out of file descriptors: wait for connections to end, do not spin
                continue
            self.open.add(conn)
            threading.Thread(target=self._serve_connection, args=(conn, peer), daemon=True).start()

    def _cut_slow_requests(self) -> None:
        """Shut down a connection whose request is still arriving REQUEST_TIMEOUT seconds after its first
        byte: SO_RCVTIMEO bounds each read, not their sum, so a client sending a byte a second is stopped here."""
        while self.socket.fileno() != -1:
            time.sleep(min(1.0, REQUEST_TIMEOUT / 4))
            now = time.monotonic()
            for conn, deadline in list(self.reading.items()):
                if now > deadline and self.reading.pop(conn, None) is not None:
                    try:
                        conn.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

    def server_close(self) -> None:
        """Stop accepting and end every open connection (a kept-alive one would otherwise be served on)."""
        for sock in [self.socket, *list(self.open)]:
            try:
                sock.shutdown(socket.SHUT_RDWR)  # also wakes an accept() blocked in another thread (Linux)
            except OSError:
                pass
        self.socket.close()

    def _serve_connection(self, conn: socket.socket, peer) -> None:
        reader = conn.makefile("rb", buffering=65536)
        try:
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # each send is a whole head or body
            # Kernel timeouts, not settimeout(): that makes Python poll before every send of a large body.
            idle = struct.pack("ll", int(IDLE_TIMEOUT), 0)
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, idle)
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, idle)
            while Exchange(self, conn, reader, peer).run():
                pass
        except OSError:  # the client went away, or stayed silent past IDLE_TIMEOUT
            pass
        except Exception:  # a bug here must not print a thread's traceback and leave the socket open
            log.exception("error on the connection from %s", peer[0])
        finally:
            self.open.discard(conn)
            reader.close()
            conn.close()
            self.slots.release()


class Exchange:
    """One request and its response on a connection; `run()` says whether the connection stays open."""

    def __init__(self, server: Server, conn: socket.socket, reader, peer):
        self.server, self.conn, self.reader, self.peer = server, conn, reader, peer
        self.status = self.headers = None
        self.head_sent = False
        self.chunked = False
        self.bodiless = False  # HEAD, 1xx, 204, 304: whatever the app yields is not sent
        self.left = None  # bytes of body still owed when the app declared a Content-Length
        self.keep_alive = False
        self.method = "-"

    def run(self) -> bool:
        try:
            if not self.reader.peek(1):  # waits, idle, for the next request's first byte
                return False
            self.server.reading[self.conn] = time.monotonic() + REQUEST_TIMEOUT
            try:
                environ = self._read_request()
            finally:
                self.server.reading.pop(self.conn, None)
        except BadRequest as e:
            self._send_error(e.status, str(e))
            self._linger()
            return False
        if environ is None:  # the client closed the connection between requests
            return False
        self._respond(environ)
        return self.keep_alive

    def _linger(self) -> None:
        """Read and drop what the client still sends (e.g. a refused 20 MB body) for a moment before
        closing: closing on unread bytes resets the connection, and the reset can destroy the error
        response before the client reads it."""
        self.conn.shutdown(socket.SHUT_WR)
        self.conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack("ll", 1, 0))
        deadline, dropped = time.monotonic() + LINGER_SECONDS, 0
        while time.monotonic() < deadline and dropped < LINGER_BYTES:
            part = self.conn.recv(65536)
            if not part:
                return
            dropped += len(part)

    # --- the request ---------------------------------------------------------------------------
    def _read_line(self, limit: int, too_long: BadRequest) -> bytes:
        line = self.reader.readline(limit + 1)
        if len(line) > limit:
            raise too_long
        if line and CONTROL.search(line.rstrip(b"\r\n").decode("latin-1")):
            raise BadRequest("400 Bad Request", "control character in the request head")
        return line

    def _read_request(self) -> dict | None:
        too_long = BadRequest("414 URI Too Long", "request line too long")
        line = self._read_line(MAX_LINE, too_long)
        if line in (b"\r\n", b"\n"):  # one blank line before a request is allowed (RFC 9112 2.2)
            line = self._read_line(MAX_LINE, too_long)
        if not line:
            return None
        parts = line.rstrip(b"\r\n").split(b" ")
        if len(parts) != 3 or not all(parts) or not line.endswith(b"\n"):
            raise BadRequest("400 Bad Request", "malformed request line")
        method, target, version = (p.decode("latin-1") for p in parts)
        if version not in ("HTTP/1.1", "HTTP/1.0"):
            raise BadRequest("505 HTTP Version Not Supported", f"{version} is not supported (HTTP/1.1 is)")
        self.method = method
        environ = self._headers_environ(len(line))
        if target[:8].lower().startswith(("http://", "https://")):  # absolute form: its authority is the Host
            rest = target.split("://", 1)[1]
            cut = min((i for i in (rest.find("/"), rest.find("?")) if i >= 0), default=len(rest))
            environ["HTTP_HOST"], target = rest[:cut], "/" + rest[cut:].lstrip("/")
        elif version == "HTTP/1.1" and ("HTTP_HOST" not in environ or "," in environ["HTTP_HOST"]):
            raise BadRequest("400 Bad Request", "an HTTP/1.1 request needs exactly one Host header")
        if not target.startswith("/"):
            raise BadRequest("400 Bad Request", "request target must be a path")
        path, _, query = target.partition("?")
        connection = environ.get("HTTP_CONNECTION", "").lower()
        self.keep_alive = version == "HTTP/1.1" and "close" not in connection
        environ.update({
            "REQUEST_METHOD": method, "SCRIPT_NAME": "", "PATH_INFO": unquote_to_bytes(path).decode("latin-1"),
            "QUERY_STRING": query, "RAW_URI": target, "REQUEST_URI": target, "SERVER_PROTOCOL": version,
            "SERVER_NAME": self.server.server_name, "SERVER_PORT": self.server.server_port,
            "REMOTE_ADDR": self.peer[0], "REMOTE_PORT": str(self.peer[1]),
            "wsgi.version": (1, 0), "wsgi.url_scheme": "http", "wsgi.input": self._read_body(environ, version),
            "wsgi.errors": sys.stderr, "wsgi.multithread": True, "wsgi.multiprocess": False,
            "wsgi.run_once": False, "wsgi.input_terminated": True,
        })
        return environ

    def _headers_environ(self, used: int) -> dict:
        environ: dict = {}
        too_big = BadRequest("431 Request Header Fields Too Large", "request headers too large")
        for _ in range(MAX_HEADERS + 1):
            line = self._read_line(MAX_HEAD - used, too_big)
            used += len(line)
            if line in (b"\r\n", b"\n"):
                return environ
            if not line.endswith(b"\n"):
                raise BadRequest("400 Bad Request", "request headers end early")
            name, colon, value = line.decode("latin-1").partition(":")
            if not colon or not TOKEN.fullmatch(name):
                raise BadRequest("400 Bad Request", "malformed header line")
            if "_" in name:  # `X_Forwarded_For` would alias `X-Forwarded-For` in the environ: drop it
                continue
            key = name.upper().replace("-", "_")
            key = key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else "HTTP_" + key
            value = value.strip(" \t\r\n")
            environ[key] = f"{environ[key]},{value}" if key in environ else value
        raise too_big

    def _read_body(self, environ: dict, version: str) -> io.BytesIO:
        """The whole body, read before the app runs (so a kept-alive connection is never left mid-body)."""
        if "HTTP_TRANSFER_ENCODING" in environ:
            raise BadRequest("411 Length Required", "chunked request bodies are not supported; send Content-Length")
        length = environ.get("CONTENT_LENGTH", "")
        if not length:
            return io.BytesIO(b"")
        if not (length.isascii() and length.isdigit()) or len(length) > 12:
            raise BadRequest("400 Bad Request", "Content-Length must be a number of bytes")
        if int(length) > MAX_BODY:
            raise BadRequest("413 Payload Too Large", f"request body over {MAX_BODY} bytes")
        if version == "HTTP/1.1" and environ.get("HTTP_EXPECT", "").lower() == "100-continue":
            self.conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        body = self.reader.read(int(length)) or b""  # None: the client went silent (SO_RCVTIMEO)
        if len(body) != int(length):
            raise BadRequest("400 Bad Request", "request body ends early")
        return io.BytesIO(body)

    # --- the response --------------------------------------------------------------------------
    def _start_response(self, status: str, headers: list, exc_info=None):
        if exc_info is not None and self.head_sent:
            raise exc_info[1].with_traceback(exc_info[2])
        self.status, self.headers = status, headers
        return self._write

    def _respond(self, environ: dict) -> None:
        try:
            result = self.server.app(environ, self._start_response)
            try:
                for chunk in result:
                    if chunk:
                        self._write(chunk)
                self._finish()
            finally:
                if hasattr(result, "close"):
                    result.close()
        except ClientGone:
            raise  # nothing can be answered
        except Exception:  # the app's own errors, OSError included
            log.exception("error serving %s %s", self.method, environ.get("PATH_INFO"))
            if self.head_sent:  # a broken body cannot be mended: end the connection so the client sees it
                self.keep_alive = False
            else:
                self._send_error("500 Internal Server Error", "internal error (see the server log)")
        if self.server.verbose:
            log.info('%s "%s %s" %s', self.peer[0], self.method, environ.get("RAW_URI"), self.status)

    def _head(self) -> bytes:
        names = {name.lower() for name, _ in self.headers}
        lines = [f"HTTP/1.1 {self.status}", *(f"{name}: {value}" for name, value in self.headers)]
        if "date" not in names:
            lines.append("Date: " + _http_date())
        self.bodiless = self.method == "HEAD" or self.status.startswith(NO_BODY_STATUS)
        if "transfer-encoding" in names:  # the server frames the body; an app's own framing would double it
            raise ValueError("a WSGI app must not set Transfer-Encoding")
        length = next((value for name, value in self.headers if name.lower() == "content-length"), None)
        if length is not None:
            self.left = int(length)
        elif not self.bodiless:
            if self.keep_alive:
                self.chunked = True
                lines.append("Transfer-Encoding: chunked")
            else:
                self.keep_alive = False  # the body ends when the connection does
        if not self.keep_alive:
            lines.append("Connection: close")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def _write(self, chunk: bytes) -> None:
        if self.status is None or not isinstance(chunk, (bytes, bytearray)):
            raise TypeError("a WSGI app must call start_response, then yield bytes")
        parts = []
        if not self.head_sent:
            parts.append(self._head())
            self.head_sent = True
        if self.bodiless:
            chunk = b""
        elif self.left is not None:  # never more than declared: extra bytes would pose as the next response
            if len(chunk) > self.left:
                self.keep_alive = False
                chunk = chunk[:self.left]
            self.left -= len(chunk)
        if chunk:
            parts.extend((b"%x\r\n" % len(chunk), chunk, b"\r\n") if self.chunked else (chunk,))
        self._send(parts)

    def _finish(self) -> None:
        if not self.head_sent:
            self._write(b"")
        if self.chunked:
            self._send([b"0\r\n\r\n"])
        if self.left and not self.bodiless:  # fewer bytes than declared: only closing tells the client
            self.keep_alive = False

    def _send(self, parts: list) -> None:
        """Small parts joined into one packet; a large body sent as it is, never copied."""
        try:
            if sum(len(p) for p in parts) <= 65536:
                self.conn.sendall(b"".join(parts))
                return
            for part in parts:
                self.conn.sendall(part)
        except OSError as e:
            raise ClientGone(str(e)) from e

    def _send_error(self, status: str, message: str) -> None:
        body = json.dumps({"error": message}).encode()
        self.status, self.headers = status, [("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                                             ("X-Content-Type-Options", "nosniff")]
        self.keep_alive = False
        if not self.head_sent:
            self._write(body)


_date_cache = [0, ""]


def _http_date() -> str:
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache[:] = [now, formatdate(now, usegmt=True)]
    return _date_cache[1]


def make_server(host: str, port: int, app, verbose: bool = False) -> Server:
    return Server(host, port, app, verbose)
