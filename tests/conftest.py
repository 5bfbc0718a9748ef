"""Shared test fixtures: the reference logdirs, a real `board` server process, a real browser.

- `FIXTURES`: logdirs written by real TensorFlow / tensorboardX / PyTorch (copied from shared/),
  each with `expected.json` as read back by real TensorBoard.
- `serve(logdir, *flags)`: starts `python -m board_server --logdir ... --port 0` as a child
  process, waits for the URL it prints, yields it, and stops the server.
- `wait_loaded(url)`: waits for a served logdir's first load (fails the test on timeout); `fetch(url)`:
  status, content type and body of any answer, errors included.
- `loaded_provider(logdir)`: an in-process LogdirProvider after its first load; `tb_multiplexer(logdir)`:
  real TensorBoard's EventMultiplexer over the same directory (the independent reading).
- `fresh_graph`: an empty default graph for engine tests (`pytestmark = pytest.mark.usefixtures(...)`).
- `load_script(path)`: a reference-maker script under tests/data as a module (its TF imports live in
  main(), so loading it needs no TensorFlow).
- `browser` / `page`: headless Chromium through Playwright (Debian's /usr/bin/chromium, no
  download). A page records console errors and dialogs; tests assert both are empty.
  Screenshots go to test-artifacts/.
"""
from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "data" / "fixtures"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("BOARD_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run"]


def expected(fixture: str) -> dict:
    """The expected.json of a reference logdir (what real TensorBoard read from it)."""
    return json.loads((FIXTURES / fixture / "expected.json").read_text())


@contextlib.contextmanager
def serve(logdir, *flags: str, timeout: float = 60.0):
    """Run the real CLI on a free port; yield its base URL (ends with '/')."""
    cmd = [sys.executable, "-u", "-m", "board_server", "--logdir", str(logdir), "--port", "0", *flags]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT)
    lines: list[str] = []
    try:
        url = None
        deadline = time.monotonic() + timeout
        while url is None:
            line = proc.stdout.readline()
            if not line:
                raise RuntimeError("board exited before serving:\n" + "".join(lines))
            lines.append(line)
            m = re.search(r"(http://[^\s]+/)", line)
            if m:
                url = m.group(1)
            if time.monotonic() > deadline:
                raise RuntimeError("board did not print its URL:\n" + "".join(lines))
        while True:  # wait until it answers
            try:
                urllib.request.urlopen(url + "data/runs", timeout=5).read()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        with contextlib.suppress(Exception):
            proc.stdout.close()


def get_json(url: str):
    with urllib.request.urlopen(url, timeout=30) as r:
        return json.loads(r.read().decode("utf-8"))


def wait_loaded(url: str, timeout: float = 60.0) -> str:
    """Wait for the served logdir's first load (the server answers while it is still loading); returns `url`."""
    deadline = time.monotonic() + timeout
    while not get_json(url + "data/status").get("done"):
        if time.monotonic() > deadline:
            pytest.fail(f"first load of {url} did not finish within {timeout} s")
        time.sleep(0.05)
    return url


def fetch(full_url: str, headers: dict | None = None) -> tuple[int, str, bytes]:
    """(status, content type without parameters, body) of a GET, HTTP errors included."""
    try:
        with urllib.request.urlopen(urllib.request.Request(full_url, headers=headers or {}), timeout=60) as r:
            return r.status, r.headers.get_content_type(), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get_content_type(), e.read()


@contextlib.contextmanager
def loaded_provider(logdir):
    """Our in-process data layer over `logdir` after its first load; stopped on exit."""
    from board_server.data.logdir import LogdirProvider
    provider = LogdirProvider([("", str(logdir))], reload_interval=0, workers=1).start()
    try:
        assert provider.wait_loaded(60)
        yield provider
    finally:
        provider.stop()


def tb_multiplexer(logdir, **size_guidance):
    """Real TensorBoard's EventMultiplexer over `logdir`, loaded (keyword arguments: tensor_size_guidance)."""
    from tensorboard.backend.event_processing.plugin_event_multiplexer import EventMultiplexer
    multiplexer = EventMultiplexer(tensor_size_guidance=size_guidance or None)
    multiplexer.AddRunsFromDirectory(str(logdir))
    multiplexer.Reload()
    return multiplexer


@pytest.fixture
def fresh_graph():
    """An empty default graph (summaries is imported here so server-only test runs never load the engine)."""
    import summaries
    summaries.reset_default_graph()
    yield


def load_script(path):
    """A script (e.g. a tests/data reference maker) loaded as a module without running its main()."""
    path = Path(path)
    spec = importlib.util.spec_from_file_location(f"{path.parent.name}_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():  # a browser test that cannot run is a failure, not a pass
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (`apt-get install -y chromium`, as .ci/run "
                    f"does) or point BOARD_TEST_CHROMIUM at a Chromium binary")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    """A fresh page that records console errors, page errors, dialogs and off-host requests."""
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = ctx.new_page()
    pg.console_errors = []
    pg.dialogs = []
    pg.requested_hosts = set()
    pg.on("console", lambda m: m.type == "error" and pg.console_errors.append(m.text))
    pg.on("pageerror", lambda e: pg.console_errors.append(str(e)))

    def on_dialog(d):
        pg.dialogs.append(d.message)
        d.dismiss()

    pg.on("dialog", on_dialog)
    pg.on("request", lambda r: pg.requested_hosts.add(re.sub(r"^\w+://([^/]+).*$", r"\1", r.url)))
    yield pg
    ctx.close()


def screenshot(pg, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    pg.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture
def tmp_logdir(tmp_path):
    d = tmp_path / "logs"
    d.mkdir()
    return d


def copy_fixture(name: str, dest: Path) -> Path:
    target = dest / name
    shutil.copytree(FIXTURES / name, target)
    return target
