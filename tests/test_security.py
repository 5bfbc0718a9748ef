"""Safe-by-default server: localhost bind, DNS-rebinding Host check, CSP, no bytes outside the logdir's event
files and static/, bounded parameters, JSON errors without tracebacks.

Over HTTP against the real CLI (requests are sent with http.client so paths and Host headers go out exactly as
written, not normalized by a client library); the 500 handler is tested in-process with a provider that raises.
Each test names the line it guards; removing that protection makes the test fail.
"""
from __future__ import annotations

import http.client
import ipaddress
import json
import os
import shutil
import socket
import time
import urllib.parse
from pathlib import Path

import pytest

from conftest import FIXTURES, ROOT, serve
from board_server.app import create_app
from board_server.data.logdir import LogdirProvider
from summaries.summary.file_writer import FileWriter
from summaries.summary.writer import SummaryWriter

SECRET_TAG = "outside_secret_tag"
PYPROJECT = (ROOT / "pyproject.toml").read_text()
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]")


def _outside_event_file(directory: Path) -> Path:
    writer = SummaryWriter(directory)
    writer.add_scalar(SECRET_TAG, 42.0, 1)
    writer.add_image(SECRET_TAG + "_img", __import__("numpy").zeros((3, 4, 4), dtype="uint8"), 1)
    writer.close()
    return next(p for p in directory.iterdir() if "tfevents" in p.name)


@pytest.fixture(scope="module")
def hostile_logdir(tmp_path_factory) -> Path:
    """A logdir with a real run, plus symlinks pointing at event files outside it."""
    base = tmp_path_factory.mktemp("security")
    logdir, outside = base / "logs", base / "outside"
    logdir.mkdir()
    outside_file = _outside_event_file(outside)
    shutil.copytree(FIXTURES / "tf1_mnist" / "mnist", logdir / "mnist")  # has images
    (logdir / "linked_dir").symlink_to(outside, target_is_directory=True)  # a run dir that is a symlink
    real = logdir / "real"
    FileWriter(real).close()
    (real / "events.out.tfevents.9999999999.symlinked").symlink_to(outside_file)  # a symlinked event file
    return logdir


@pytest.fixture(scope="module")
def server(hostile_logdir):
    with serve(hostile_logdir) as url:
        yield url


def _hostport(url: str) -> tuple[str, int]:
    parts = urllib.parse.urlsplit(url)
    return parts.hostname, parts.port


def request(url: str, path: str, *, host: str | None = None, method: str = "GET", body: bytes | None = None,
            headers: dict | None = None):
    """(status, headers, body) for `path` sent verbatim, with an optional explicit Host header."""
    hostname, port = _hostport(url)
    conn = http.client.HTTPConnection(hostname, port, timeout=30)
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", host if host is not None else f"{hostname}:{port}")
        for k, v in (headers or {}).items():
            conn.putheader(k, v)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


def _assert_json_error(status: int, headers: dict, body: bytes, want_status: int | tuple) -> dict:
    wanted = want_status if isinstance(want_status, tuple) else (want_status,)
    assert status in wanted, (status, body[:300])
    assert headers.get("Content-Type", "").startswith("application/json"), headers
    text = body.decode("utf-8")
    assert "Traceback" not in text and 'File "' not in text and "<html" not in text.lower()
    payload = json.loads(text)
    assert isinstance(payload, dict) and "error" in payload
    return payload


def _other_interface_ip() -> str | None:
    """A non-loopback address of this machine, if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("10.255.255.255", 1))  # no packet is sent; picks the outgoing interface
            ip = s.getsockname()[0]
        except OSError:
            return None
    return None if ip.startswith("127.") else ip


def _listening_addresses(port: int) -> set[str]:
    """Local addresses of the sockets listening on `port`, from the kernel's table (/proc/net/tcp, tcp6)."""
    found = set()
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A = LISTEN
                raw = bytes.fromhex(address)
                if width == 8:
                    found.add(".".join(str(b) for b in raw[::-1]))
                else:  # four little-endian 32-bit words
                    words = b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4))
                    found.add(str(ipaddress.IPv6Address(words)))
    return found


def _reachable(ip: str, port: int) -> bool:
    try:
        with socket.create_connection((ip, port), timeout=2):
            return True
    except OSError:
        return False


# -- bind address (guards cli.py: host = "0.0.0.0" if args.bind_all else (args.host or "localhost")) ------
def test_default_bind_is_loopback_only(server):
    hostname, port = _hostport(server)
    assert hostname == "127.0.0.1"
    assert _reachable("127.0.0.1", port)
    assert _listening_addresses(port) == {"127.0.0.1"}  # the socket itself, whatever interfaces exist
    ip = _other_interface_ip()
    if ip is not None:
        assert not _reachable(ip, port), f"the default server answers on {ip}"


def test_bind_all_is_reachable_elsewhere_and_skips_host_check(tmp_logdir):
    """The control for the two tests above/below: --bind_all opens other interfaces and accepts any Host."""
    ip = _other_interface_ip()
    with serve(tmp_logdir, "--bind_all") as url:
        _, port = _hostport(url)
        if ip is not None:
            assert _reachable(ip, port)
        status, _, _ = request(url, "/data/runs", host="evil.example.com")
        assert status == 200


# -- DNS rebinding (guards app.py _guard: `if host_name(request.host).lower() not in allowed_hosts`) --------
@pytest.mark.parametrize("host", ["evil.com", "evil.com:6006", "localhost.evil.com", "127.0.0.1.nip.io",
                                  "[::2]:80", "", "LOCALHOST.evil"])
def test_foreign_host_header_is_refused(server, host):
    status, headers, body = request(server, "/data/runs", host=host)
    _assert_json_error(status, headers, body, (400, 403))
    status, headers, body = request(server, "/", host=host)
    assert status in (400, 403) and b"<html" not in body.lower()


@pytest.mark.parametrize("name", LOOPBACK_HOSTS)
def test_loopback_host_headers_are_served(server, name):
    _, port = _hostport(server)
    for host in (name, f"{name}:{port}"):
        status, _, body = request(server, "/data/runs", host=host)
        assert status == 200, (host, body[:200])
        assert "mnist" in json.loads(body)


# -- CSP (guards app.py CSP and _headers) -----------------------------------------------------------------
def _csp_directives(value: str) -> dict[str, list[str]]:
    out = {}
    for part in value.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


@pytest.mark.parametrize("path", ["/", "/data/runs", "/static/app.js", "/nope"])
def test_csp_allows_only_own_origin_for_scripts(server, path):
    status, headers, _ = request(server, path)
    csp = _csp_directives(headers.get("Content-Security-Policy", ""))
    assert csp.get("default-src") == ["'self'"], csp
    assert csp.get("script-src") == ["'self'"], csp  # no 'unsafe-inline', no 'unsafe-eval', no other host
    assert csp.get("object-src") == ["'none'"] and "frame-ancestors" in csp
    for directive, sources in csp.items():
        assert not any(s.startswith(("http:", "https:", "*")) or s == "*" for s in sources), (directive, sources)
    assert headers.get("X-Content-Type-Options") == "nosniff"


def test_index_has_no_inline_script(server):
    """What the CSP would block anyway must not be needed by the page (else the page breaks)."""
    _, _, body = request(server, "/")
    html = body.decode()
    assert "<script>" not in html and "onload=" not in html and "javascript:" not in html
    for tag in html.split("<script")[1:]:
        assert "src=" in tag.split(">")[0]


# -- path traversal (guards send_from_directory's safe_join in app.py static_file/index/plotly_js) ----------
TRAVERSALS = ["/static/../pyproject.toml", "/static/%2e%2e/pyproject.toml", "/static/..%2Fpyproject.toml",
              "/static/%2e%2e%2fpyproject.toml", "/static/..%5Cpyproject.toml", "/static/....//pyproject.toml",
              "/static/%252e%252e/pyproject.toml", "/static//etc/passwd", "/static/%2Fetc%2Fpasswd",
              "/static/../../../../../../etc/passwd", "/static/..%2F..%2F..%2F..%2F..%2Fetc%2Fpasswd",
              f"/static/{ROOT}/pyproject.toml", "/static/" + urllib.parse.quote(str(ROOT / "pyproject.toml"), safe=""),
              "/vendor/../pyproject.toml", "/vendor/%2e%2e/%2e%2e/pyproject.toml", "/../pyproject.toml",
              "/%2e%2e/pyproject.toml", "/static/..", "/static/", "/static/.", "/static/%00../pyproject.toml"]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_no_traversal_out_of_static(server, path):
    status, headers, body = request(server, path)
    text = body.decode("utf-8", "replace")
    assert "[project]" not in text and PYPROJECT[:60] not in text, f"{path} served pyproject.toml"
    assert "root:x:0:0" not in text, f"{path} served /etc/passwd"
    assert status in (400, 404) or (status == 200 and path in ("/static/..", "/../pyproject.toml")
                                    and "<html" in text.lower() and "[project]" not in text), (status, text[:200])
    if status >= 400:
        _assert_json_error(status, headers, body, (400, 404))


def test_static_still_serves_its_own_files(server):
    """Control: the traversal checks above are not passing just because static serving is broken."""
    assert request(server, "/static/app.js")[0] == 200
    assert request(server, "/")[0] == 200


@pytest.mark.parametrize("run,tag", [("../outside", SECRET_TAG + "_img"), ("/etc", "passwd"),
                                     ("linked_dir", SECRET_TAG + "_img"),
                                     ("mnist/../../outside", "input/image/0"), ("mnist", "../../../etc/passwd"),
                                     (str(ROOT), "pyproject.toml")])
def test_individual_image_with_crafted_run_tag(server, run, tag):
    for index in ("0", "-1", "99999999999"):
        q = urllib.parse.urlencode({"run": run, "tag": tag, "index": index, "sample": "0"})
        status, headers, body = request(server, "/data/plugin/images/individualImage?" + q)
        _assert_json_error(status, headers, body, (400, 404))


def test_individual_image_serves_logdir_images(server):
    """Control: a real image of the logdir is served (so the 404s above are not a broken route)."""
    q = urllib.parse.urlencode({"run": "mnist", "tag": "input/image/0", "index": "0", "sample": "0"})
    status, headers, body = request(server, "/data/plugin/images/individualImage?" + q)
    assert status == 200 and body.startswith(b"\x89PNG")


# guards logdir.py discover(): os.walk without followlinks, and `not os.path.islink(...)` for event files
def test_symlinked_run_directory_is_not_read(server):
    runs = json.loads(request(server, "/data/runs")[2])
    assert "linked_dir" not in runs and not any(r.startswith("linked_dir") for r in runs)
    for plugin in ("scalars", "images"):
        tags = json.loads(request(server, f"/data/plugin/{plugin}/tags")[2])
        assert "linked_dir" not in tags


# Guards loader.RunLoader.event_files: `not os.path.islink(p)`.
def test_symlinked_event_file_inside_a_run_is_not_read(server):
    runs = json.loads(request(server, "/data/runs")[2])
    assert "real" in runs  # its own (empty) event file makes it a run
    for plugin in ("scalars", "images"):
        body = request(server, f"/data/plugin/{plugin}/tags")[2].decode()
        assert SECRET_TAG not in body, f"{plugin}: an event file outside the logdir was read through a symlink"
    q = urllib.parse.urlencode({"run": "real", "tag": SECRET_TAG + "_img", "index": "0", "sample": "0"})
    status, _, body = request(server, "/data/plugin/images/individualImage?" + q)
    assert status == 404 and not body.startswith(b"\x89PNG"), "an image outside the logdir was served"


def test_silent_connections_do_not_block_other_requests(server):
    """Clients that connect and send nothing each hold a request thread; however many there are,
    the next request is still served (no fixed pool of threads to exhaust)."""
    hostname, port = _hostport(server)
    silent = [socket.create_connection((hostname, port), timeout=10) for _ in range(48)]
    try:
        time.sleep(0.5)  # the server has accepted them all and waits for their request lines
        conn = http.client.HTTPConnection(hostname, port, timeout=10)
        conn.request("GET", "/data/runs")
        response = conn.getresponse()
        assert response.status == 200 and "mnist" in json.loads(response.read())
    finally:
        for s in silent:
            s.close()


# -- bounded parameters (guards app.py MAX_QUERY / MAX_CONTENT_LENGTH and the plugins' own limits) ----------
def test_oversized_query_string_is_refused(server):
    q = urllib.parse.urlencode({"run": "mnist", "tag": "x" * 9000})
    status, headers, body = request(server, "/data/plugin/scalars/scalars?" + q)
    _assert_json_error(status, headers, body, 414)


def test_oversized_body_is_refused(server):
    body = json.dumps({"series": [{"run": "mnist", "tag": "loss"}], "pad": "x" * (20 << 20)}).encode()
    status, headers, resp = request(server, "/data/plugin/scalars/batch", method="POST", body=body,
                                    headers={"Content-Type": "application/json"})
    _assert_json_error(status, headers, resp, 413)


def test_oversized_batch_and_params_are_4xx_json(server):
    body = json.dumps({"series": [{"run": "mnist", "tag": "loss"}] * 5000}).encode()
    status, headers, resp = request(server, "/data/plugin/scalars/batch", method="POST", body=body,
                                    headers={"Content-Type": "application/json"})
    _assert_json_error(status, headers, resp, 400)
    for path in ("/data/plugin/images/individualImage?run=mnist&tag=input/image/0&index=" + "9" * 40,
                 "/data/plugin/histograms/histograms?run=mnist&tag=X&downsample_to=" + "9" * 40,
                 "/data/plugin/graphs/layout?run=" + "r" * 5000,
                 "/data/plugin/scalars/batch"):
        status, headers, resp = request(server, path)
        assert 400 <= status < 500, (path, status)
        _assert_json_error(status, headers, resp, status)


# -- error responses (guards app.py _http_error and _unexpected) -------------------------------------------
@pytest.mark.parametrize("path,want", [("/nope", 404), ("/data/nope", 404), ("/data/plugin/nope/tags", 404),
                                       ("/data/plugin/scalars/nope", 404), ("/data/plugin/scalars/batch", 405),
                                       ("/data/plugin/scalars/scalars", 400)])
def test_errors_are_json_without_traceback(server, path, want):
    _assert_json_error(*request(server, path), want)


class _ExplodingProvider(LogdirProvider):
    SECRET = "SECRET-detail /home/user/.ssh/id_rsa"

    def runs(self):
        raise RuntimeError(self.SECRET)

    def tags(self, plugin):
        raise KeyError(self.SECRET)


def test_route_that_raises_gives_json_500_without_details(tmp_logdir):
    app = create_app(_ExplodingProvider([("", str(tmp_logdir))]))
    client = app.test_client()
    for path in ("/data/runs", "/data/plugin/scalars/tags", "/data/plugin/images/tags", "/data/plugins_listing"):
        resp = client.get(path)
        assert resp.status_code == 500, (path, resp.status_code)
        _assert_json_error(resp.status_code, dict(resp.headers), resp.get_data(), 500)
        assert _ExplodingProvider.SECRET not in resp.get_data(as_text=True)


def test_host_check_in_process_rejects_and_accepts():
    """The allow-list itself, independent of the CLI (guards app.py host_name)."""
    app = create_app(LogdirProvider([("", os.devnull)]), allowed_hosts={"localhost", "127.0.0.1", "[::1]", "::1"})
    client = app.test_client()
    assert client.get("/data/runs", headers={"Host": "evil.com"}).status_code == 403
    assert client.get("/data/runs", headers={"Host": "[::1]:6006"}).status_code == 200
    assert client.get("/data/runs", headers={"Host": "localhost:1"}).status_code == 200
