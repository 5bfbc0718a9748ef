"""board_server.serving, the HTTP/1.1 server, against the standard library's client and raw sockets.

The server runs in-process around small WSGI apps that echo what they were given, so each test checks
one rule of HTTP/1.1 (RFC 9112) or WSGI (PEP 3333): framing, keep-alive, HEAD, 100-continue, pipelining,
the errors it answers itself as JSON, and that a failing app never takes the server down.
"""
from __future__ import annotations

import http.client
import json
import socket
import threading
import time

import pytest

from board_server import serving


def echo_app(environ, start_response):
    """Answers with the environ's interesting keys as JSON (and Content-Length)."""
    keys = ("REQUEST_METHOD", "PATH_INFO", "QUERY_STRING", "SERVER_PROTOCOL", "REMOTE_PORT", "CONTENT_TYPE",
            "HTTP_X_TOKEN", "HTTP_HOST")
    body = json.dumps({**{k: environ.get(k) for k in keys}, "body": environ["wsgi.input"].read().decode(),
                       "x_token_headers": sorted(k for k in environ if "TOKEN" in k)}).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def streaming_app(environ, start_response):
    """A body of unknown length, in three parts (as the scalars route streams a long series)."""
    start_response("200 OK", [("Content-Type", "text/plain")])
    return iter([b"first,", b"", b"second,", b"third"])


def failing_app(environ, start_response):
    if environ["PATH_INFO"] == "/before":
        raise RuntimeError("broken before the response started")
    if environ["PATH_INFO"] == "/oserror":  # an app's own OSError is a 500, not taken for a client gone
        raise FileNotFoundError("/missing/file")
    if environ["PATH_INFO"] == "/text":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return ["not bytes"]

    def body():
        yield b"partial"
        raise RuntimeError("broken in the middle of the body")
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "100")])
    return body()


@pytest.fixture
def serve_app():
    servers = []

    def start(app):
        server = serving.make_server("127.0.0.1", 0, app)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server.socket.getsockname()[1]
    yield start
    for server in servers:
        server.server_close()


def raw_exchange(port: int, data: bytes, timeout: float = 10) -> bytes:
    """Send `data` as it is and return everything the server sends until it closes the connection (each
    use ends in a close: an error, HTTP/1.0 or `Connection: close`); a server that does not close fails."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        out = b""
        while part := s.recv(65536):
            out += part
        return out


def json_error_status(raw: bytes) -> int:
    """The status of the only response in `raw`, which must be a JSON error with nothing after it."""
    head, _, body = raw.partition(b"\r\n\r\n")
    length = int(next(line.split(b":")[1] for line in head.split(b"\r\n") if line.startswith(b"Content-Length")))
    assert b"application/json" in head and length == len(body) and "error" in json.loads(body), raw
    return int(head.split()[1])


def test_keep_alive_serves_several_requests_on_one_connection(serve_app):
    port = serve_app(echo_app)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    ports = set()
    for i in range(3):
        conn.request("GET", f"/a%20b/%C3%A9?q=%20{i}&x=1")
        response = conn.getresponse()
        seen = json.loads(response.read())
        assert response.status == 200 and response.getheader("Date")
        assert seen["PATH_INFO"] == "/a b/\u00c3\u00a9"  # PEP 3333: undecoded bytes as latin-1 text
        assert seen["QUERY_STRING"] == f"q=%20{i}&x=1"  # the query is left as sent
        ports.add(seen["REMOTE_PORT"])
    assert len(ports) == 1, "each request came on a new connection: keep-alive did not hold"


def test_body_of_unknown_length_is_chunked_for_http11_and_closed_for_http10(serve_app):
    port = serve_app(streaming_app)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("GET", "/")
    response = conn.getresponse()
    assert response.getheader("Transfer-Encoding") == "chunked"
    assert response.read() == b"first,second,third"
    conn.request("GET", "/")  # the chunked framing ended cleanly: the connection is still usable
    assert conn.getresponse().read() == b"first,second,third"

    raw = raw_exchange(port, b"GET / HTTP/1.0\r\n\r\n")
    head, _, body = raw.partition(b"\r\n\r\n")
    assert b"Transfer-Encoding" not in head and b"Connection: close" in head and body == b"first,second,third"


def test_head_sends_headers_only_and_the_next_response_frames_right(serve_app):
    port = serve_app(echo_app)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("HEAD", "/x")
    response = conn.getresponse()
    assert response.status == 200 and int(response.getheader("Content-Length")) > 0 and response.read() == b""
    conn.request("GET", "/after-head")
    assert json.loads(conn.getresponse().read())["PATH_INFO"] == "/after-head"


def test_pipelined_requests_are_answered_in_order(serve_app):
    port = serve_app(echo_app)
    raw = raw_exchange(port, b"GET /one HTTP/1.1\r\nHost: a\r\n\r\nPOST /two HTTP/1.1\r\nHost: a\r\n"
                             b"Content-Length: 5\r\n\r\nhelloGET /three HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
    bodies = [json.loads(part.split(b"\r\n\r\n", 1)[1]) for part in raw.split(b"HTTP/1.1 200 OK")[1:]]
    assert [(b["PATH_INFO"], b["body"]) for b in bodies] == [("/one", ""), ("/two", "hello"), ("/three", "")]
    assert raw.count(b"Connection: close") == 1


def test_expect_100_continue_gets_the_go_ahead_before_the_body(serve_app):
    port = serve_app(echo_app)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
        assert s.recv(100).startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
        s.sendall(b"data")
        reply = s.recv(65536)
    assert reply.startswith(b"HTTP/1.1 200 OK") and json.loads(reply.split(b"\r\n\r\n", 1)[1])["body"] == "data"


def test_absolute_form_target_sets_path_and_host(serve_app):
    """RFC 9112 3.2.2: a server must accept `GET http://host/path`, and the authority replaces Host
    (so the app's Host check sees the name the client really asked for)."""
    port = serve_app(echo_app)
    for target, want in ((b"http://Elsewhere:99/p?q=1", ("Elsewhere:99", "/p", "q=1")),
                         (b"http://x?q=1", ("x", "/", "q=1"))):
        raw = raw_exchange(port, b"GET " + target + b" HTTP/1.1\r\nHost: local\r\nConnection: close\r\n\r\n")
        seen = json.loads(raw.split(b"\r\n\r\n", 1)[1])
        assert (seen["HTTP_HOST"], seen["PATH_INFO"], seen["QUERY_STRING"]) == want


def test_headers_reach_the_app_and_underscore_names_are_dropped(serve_app):
    port = serve_app(echo_app)
    raw = raw_exchange(port, b"GET / HTTP/1.1\r\nHost: h:1\r\nX-Token: a\r\nX-Token: b\r\nX_Token: spoof\r\n"
                             b"Content-Type: text/x\r\nConnection: close\r\n\r\n")
    seen = json.loads(raw.split(b"\r\n\r\n", 1)[1])
    assert seen["HTTP_X_TOKEN"] == "a,b" and seen["x_token_headers"] == ["HTTP_X_TOKEN"]
    assert seen["HTTP_HOST"] == "h:1" and seen["CONTENT_TYPE"] == "text/x"


@pytest.mark.parametrize("request_bytes,status", [
    (b"GARBAGE\r\n\r\n", 400),
    (b"GET /x HTTP/2.0\r\n\r\n", 505),
    (b"GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    (b"\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    (b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\n\r\n", 414),
    (b"GET / HTTP/1.1\r\n" + b"X-A: b\r\n" * 200 + b"\r\n", 431),
    (b"GET / HTTP/1.1\r\nX-Big: " + b"b" * 70000 + b"\r\n\r\n", 431),
    (b"GET / HTTP/1.1\r\nBad Header: x\r\n\r\n", 400),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 411),
    (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 400),
    (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \xb2\r\n\r\n", 400),  # a digit to str.isdigit, not to int()
    (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999\r\n\r\n", 413),
    (b"GET / HTTP/1.1\r\n\r\n", 400),  # HTTP/1.1 without Host (RFC 9112 3.2)
    (b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost: a\r\nX: a\rTransfer-Encoding: chunked\r\n\r\n", 400),  # bare CR
    (b"GET / HTTP/1.1\r\nHost: a\r\nX\x00Y: 1\r\n\r\n", 400),
    (b"GET\x0c/ HTTP/1.1\r\nHost: a\r\n\r\n", 400),
])
def test_bad_requests_get_a_json_error_and_the_connection_closes(serve_app, request_bytes, status):
    port = serve_app(echo_app)
    raw = raw_exchange(port, request_bytes)
    assert json_error_status(raw) == status
    assert b"Connection: close" in raw.partition(b"\r\n\r\n")[0]


def test_failing_app_gives_500_before_the_body_and_a_cut_connection_after(serve_app):
    port = serve_app(failing_app)
    for path in (b"/before", b"/oserror", b"/text"):
        assert json_error_status(raw_exchange(port, b"GET " + path + b" HTTP/1.1\r\nHost: a\r\n\r\n")) == 500
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("GET", "/middle")
    response = conn.getresponse()
    with pytest.raises(http.client.IncompleteRead):  # the client can tell the body is broken
        response.read()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)  # and the server still answers
    conn.request("GET", "/before")
    assert conn.getresponse().status == 500


def test_idle_connection_is_closed_after_the_timeout(serve_app, monkeypatch):
    monkeypatch.setattr(serving, "IDLE_TIMEOUT", 1.0)
    port = serve_app(echo_app)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        started = time.monotonic()
        assert s.recv(100) == b""  # closed by the server, not by our own timeout
        assert 0.5 < time.monotonic() - started < 8


def test_body_cut_short_by_a_silent_client_is_a_400_not_a_dead_thread(serve_app, monkeypatch):
    monkeypatch.setattr(serving, "IDLE_TIMEOUT", 1.0)
    port = serve_app(echo_app)
    for sent in (b"abc", b""):  # part of the body, or none of it
        raw = raw_exchange(port, b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n" + sent)
        assert json_error_status(raw) == 400
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)  # the server goes on serving
    conn.request("GET", "/next")
    assert json.loads(conn.getresponse().read())["PATH_INFO"] == "/next"


def lying_app(environ, start_response):
    """Declares a Content-Length the body does not match, or sends a body where none may be."""
    declared, body, status = {"/short": ("10", b"abc", "200 OK"), "/long": ("3", b"abcdef", "200 OK"),
                              "/nocontent": (None, b"oops", "204 No Content")}[environ["PATH_INFO"]]
    start_response(status, [("Content-Length", declared)] if declared else [])
    return [body]


def test_a_body_that_does_not_match_its_framing_never_poses_as_the_next_response(serve_app):
    port = serve_app(lying_app)
    nxt = b"GET /short HTTP/1.1\r\nHost: a\r\n\r\n"
    short = raw_exchange(port, b"GET /short HTTP/1.1\r\nHost: a\r\n\r\n" + nxt)
    assert short.endswith(b"\r\n\r\nabc") and short.count(b"HTTP/1.1 200") == 1  # closed, not reused
    long = raw_exchange(port, b"GET /long HTTP/1.1\r\nHost: a\r\n\r\n" + nxt)
    assert long.endswith(b"\r\n\r\nabc") and long.count(b"HTTP/1.1 200") == 1  # cut at the declared length
    none = raw_exchange(port, b"GET /nocontent HTTP/1.1\r\nHost: a\r\n\r\n" + nxt)
    assert b"oops" not in none and none.count(b"HTTP/1.1 204") == 1 and none.startswith(b"HTTP/1.1 204")
    assert none.split(b"HTTP/1.1 200 OK", 1)[1].endswith(b"\r\n\r\nabc")  # the next response framed right


def test_connections_beyond_the_cap_wait_for_a_free_slot(serve_app, monkeypatch):
    monkeypatch.setattr(serving, "MAX_CONNECTIONS", 2)
    port = serve_app(echo_app)
    silent = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(2)]
    answered = threading.Event()

    def third():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/third")
        if json.loads(conn.getresponse().read())["PATH_INFO"] == "/third":
            answered.set()
    threading.Thread(target=third, daemon=True).start()
    assert not answered.wait(0.5), "a third connection was served while two held every slot"
    silent[0].close()
    assert answered.wait(5), "the freed slot was not given to the waiting connection"
    silent[1].close()


def test_server_close_ends_kept_alive_connections(serve_app):
    server = serving.make_server("127.0.0.1", 0, echo_app)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    conn = http.client.HTTPConnection("127.0.0.1", server.socket.getsockname()[1], timeout=5)
    conn.request("GET", "/")
    conn.getresponse().read()
    server.server_close()
    conn.auto_open = 0  # do not let the client reconnect behind our back
    with pytest.raises((http.client.HTTPException, OSError)):
        conn.request("GET", "/again")
        conn.getresponse().read()


def test_a_request_trickling_in_is_cut_off_but_an_idle_connection_is_not(serve_app, monkeypatch):
    """Each read has its own timeout, so a client sending a header byte at a time could hold a thread for
    ever: the whole request must arrive within REQUEST_TIMEOUT of its first byte. Waiting idle before the
    first byte is the keep-alive idle time, not part of it."""
    monkeypatch.setattr(serving, "REQUEST_TIMEOUT", 1.0)
    port = serve_app(echo_app)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"GET /slow HTTP/1.1\r\nHost: a\r\n")
        started, closed = time.monotonic(), False
        while time.monotonic() - started < 6 and not closed:
            time.sleep(0.2)
            try:
                s.sendall(b"X-Drip: 1\r\n")
            except OSError:
                closed = True
        assert closed and time.monotonic() - started < 4, "a trickling request kept its connection"
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        time.sleep(2)  # idle past REQUEST_TIMEOUT before the first byte
        s.sendall(b"GET /after-idle HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        reply = b""
        while part := s.recv(65536):
            reply += part
    assert json.loads(reply.split(b"\r\n\r\n", 1)[1])["PATH_INFO"] == "/after-idle"
