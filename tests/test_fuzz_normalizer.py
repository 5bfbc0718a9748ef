"""Fuzzing the event/summary normalizer: valid framing around invalid or mutated protobufs.

Seeds are the records of the fixture files written by real TF / tensorboardX. Each example takes one run
directory, replaces one record by a damaged version of it (bit flips, truncation, inserted garbage, or a
semantic mutation: histogram counts not matching limits, image bytes that are not an image, a tensor of the
wrong shape/dtype for its plugin, huge dims, a plugin name that does not fit the value, invalid UTF-8), frames
it with correct CRCs and loads the run the way the server does. Checks:
- no exception escapes the loader / normalizer;
- every record not touched by the damage is still read: every tag the damaged record did not name serves
  exactly what it serves when the damaged record is simply absent (independent truth: the same loader on the
  file without that record; the undamaged fixtures themselves are checked against real TensorBoard elsewhere);
- every route of every plugin answers every run/tag without a 5xx and with JSON (or the blob).

Budget: BOARD_FUZZ_EXAMPLES (default 400 per property, ~30 s for the file on 2 cores). BOARD_FUZZ_SEED fixes the
seed (the seed of every run is printed, so a failure is reproducible with BOARD_FUZZ_SEED=<printed seed>).
"""
from __future__ import annotations

import logging
import math
import os
import random
import shutil
import struct
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, note, seed, settings, strategies as st

from conftest import FIXTURES
from board_server.app import create_app
from board_server.data.logdir import LogdirProvider
from board_server.data.normalize import Normalizer
from board_server.data.run_data import RunData
from summaries.events.record import frame, read_records
from summaries.proto import DataType, Event, SessionLog

EXAMPLES = int(os.environ.get("BOARD_FUZZ_EXAMPLES", "400"))
SEED = int(os.environ.get("BOARD_FUZZ_SEED", "0")) or random.SystemRandom().randrange(1, 2**31)
print(f"test_fuzz_normalizer: BOARD_FUZZ_SEED={SEED}")
SEED_FILES = sorted(p for p in FIXTURES.rglob("*tfevents*")
                    if p.stat().st_size and "bad_data_crc" not in str(p) and "truncated" not in str(p))
fuzz = settings(max_examples=EXAMPLES, deadline=None, print_blob=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
PLUGINS = ["scalars", "histograms", "images", "audio", "text", "graph_run_metadata_graph", "graph_run_metadata",
           "graph_keras_model", "pr_curves", "hparams", ""]
MARK = b"\x01MARK\x01"  # placeholder replaced by invalid UTF-8 after serializing


@pytest.fixture(autouse=True, scope="module")
def _quiet():
    """Every damaged record logs a warning by design; keep the output readable."""
    logger = logging.getLogger("board")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    yield
    logger.setLevel(level)


def _records(path: Path) -> list[bytes]:
    return [d for _, d in read_records(path.read_bytes()).records]


# -- mutations ------------------------------------------------------------------------------------------
def _mutate_bytes(data, payload: bytes) -> bytes:
    how = data.draw(st.sampled_from(["flip", "truncate", "insert"]), label="byte mutation")
    raw = bytearray(payload)
    if how == "flip" and raw:
        for p in data.draw(st.lists(st.integers(0, len(raw) - 1), min_size=1, max_size=4), label="flips"):
            raw[p] ^= 1 << data.draw(st.integers(0, 7))
    elif how == "truncate":
        del raw[data.draw(st.integers(0, max(0, len(raw) - 1)), label="cut"):]
    else:
        at = data.draw(st.integers(0, len(raw)), label="at")
        raw[at:at] = data.draw(st.binary(min_size=1, max_size=64), label="garbage")
    return bytes(raw)


def _mutate_value(data, value) -> bytes | None:
    """Rewrite one Summary.Value in place; returns replacement bytes for MARK, if any."""
    kinds = ["histo_mismatch", "histo_nonfinite", "image_bytes", "tensor_shape", "tensor_dtype",
             "tensor_content", "plugin_swap", "bad_utf8_tag", "bad_utf8_string", "huge_dims"]
    kind = data.draw(st.sampled_from(kinds), label="semantic mutation")
    if kind == "histo_mismatch":
        limits = data.draw(st.lists(st.floats(allow_nan=False), max_size=8))
        counts = data.draw(st.lists(st.floats(-5, 1e6), max_size=8))
        value.histo.bucket_limit[:] = limits
        value.histo.bucket[:] = counts
    elif kind == "histo_nonfinite":
        n = data.draw(st.integers(1, 6))
        value.histo.bucket_limit[:] = data.draw(st.lists(st.floats(), min_size=n, max_size=n))
        value.histo.bucket[:] = data.draw(st.lists(st.floats(), min_size=n, max_size=n))
        value.histo.min, value.histo.max = data.draw(st.floats()), data.draw(st.floats())
    elif kind == "image_bytes":
        value.image.encoded_image_string = data.draw(st.binary(max_size=64))
        value.image.width = data.draw(st.integers(-2**31, 2**31 - 1))
        value.image.height = data.draw(st.integers(-2**31, 2**31 - 1))
    elif kind == "tensor_shape":
        value.tensor.tensor_shape.Clear()
        for d in data.draw(st.lists(st.integers(-3, 5), max_size=4)):
            value.tensor.tensor_shape.dim.add(size=d)
    elif kind == "huge_dims":
        value.tensor.tensor_shape.Clear()
        for d in data.draw(st.lists(st.sampled_from([0, 1, 2**31, 2**40, 2**62, -(2**62)]), min_size=1, max_size=3)):
            value.tensor.tensor_shape.dim.add(size=d)
    elif kind == "tensor_dtype":
        value.tensor.dtype = data.draw(st.one_of(st.sampled_from(sorted(DataType.values())), st.integers(0, 300)))
    elif kind == "tensor_content":
        value.tensor.tensor_content = data.draw(st.binary(max_size=40))
    elif kind == "plugin_swap":
        value.metadata.plugin_data.plugin_name = data.draw(st.sampled_from(PLUGINS), label="plugin")
        if data.draw(st.booleans(), label="string tensor"):
            value.tensor.dtype = DataType.DT_STRING
            value.tensor.string_val[:] = data.draw(st.lists(st.binary(max_size=12), max_size=4))
    elif kind == "bad_utf8_tag":
        value.tag = MARK.decode()
        return b"\xff\xfe\xc3(\xed\xa0\x80"[:len(MARK)].ljust(len(MARK), b"\x80")
    elif kind == "bad_utf8_string":
        value.metadata.plugin_data.plugin_name = data.draw(st.sampled_from(["text", "images", "audio"]))
        value.tensor.dtype = DataType.DT_STRING
        value.tensor.string_val[:] = [b"\xff\xfe", b"ok", b"\xc3(", b"\xed\xa0\x80"]
    return None


def _mutate_semantic(data, payload: bytes) -> bytes:
    event = Event.FromString(payload)
    swap = None
    if data.draw(st.integers(0, 4), label="also step/wall") == 0:
        event.step = data.draw(st.integers(-(2**63), 2**63 - 1), label="step")
        event.wall_time = data.draw(st.floats(), label="wall")
    if event.WhichOneof("what") == "summary" and event.summary.value:
        value = event.summary.value[data.draw(st.integers(0, len(event.summary.value) - 1), label="value")]
        swap = _mutate_value(data, value)
    elif event.WhichOneof("what") in ("graph_def", "meta_graph_def"):
        raw = bytearray(getattr(event, event.WhichOneof("what")))
        for p in data.draw(st.lists(st.integers(0, max(0, len(raw) - 1)), min_size=1, max_size=6)):
            if raw:
                raw[p] ^= 0xFF
        setattr(event, event.WhichOneof("what"), bytes(raw))
    else:
        event.step = data.draw(st.integers(-(2**63), 2**63 - 1), label="step")
        event.wall_time = data.draw(st.floats(), label="wall")
    out = event.SerializeToString()
    return out.replace(MARK, swap) if swap is not None else out


# -- what a run serves ----------------------------------------------------------------------------------
def _tags_of(payload: bytes) -> tuple[set[str], str | None]:
    """Tags the record names (and its kind), as far as it parses; empty if it does not."""
    try:
        event = Event.FromString(payload)
    except Exception:  # noqa: BLE001 - any parse failure means "names nothing"
        return set(), None
    what = event.WhichOneof("what")
    tags = {v.tag for v in event.summary.value} if what == "summary" else set()
    if what == "tagged_run_metadata":
        tags.add(event.tagged_run_metadata.tag)
    if what == "session_log" and event.session_log.status != SessionLog.START:
        what = "session_log_other"
    return tags, what


def _floats(values) -> list:
    return [repr(float(v)) if isinstance(v, float) and math.isnan(v) else v for v in values]


def snapshot(provider: LogdirProvider, skip: set[str]) -> dict:
    """Everything the provider serves for tags not in `skip` (blob bytes included)."""
    out: dict = {}
    for plugin in PLUGINS + ["run_metadata"]:
        for run, tags in provider.tags(plugin).items():
            for tag, info in tags.items():
                if tag not in skip:
                    out[("tag", plugin, run, tag)] = (info.display_name, info.description)
    for run in provider.runs():
        r = run.name
        data = provider._runs[r].data  # the tag sets, to walk every series
        for tag in data.scalars:
            if tag not in skip:
                s = provider.scalars(r, tag)
                out[("scalars", r, tag)] = (s.steps.tolist(), _floats(s.values.tolist()))
        for tag in data.histograms:
            if tag not in skip:
                out[("histo", r, tag)] = [(p.step, _floats(p.buckets.ravel().tolist()))
                                          for p in provider.histograms(r, tag)]
        for tag in data.blobs:
            if tag not in skip:
                points = provider.blob_sequence(r, tag)
                out[("blob", r, tag)] = [(p.step, p.count, [provider.read_blob(r, tag, i, k)
                                                            for k in range(min(p.count, 4))])
                                         for i, p in enumerate(points)]
        for tag in data.text:
            if tag not in skip:
                out[("text", r, tag)] = [(p.step, p.shape, p.strings) for p in provider.text(r, tag)]
    return out


def check_routes(provider) -> int:
    """Hit every route for every run/tag of every plugin; no 5xx, JSON bodies. Returns requests made."""
    client = create_app(provider).test_client()
    n = 0

    def get(url, **kw):
        nonlocal n
        n += 1
        resp = client.post(url, **kw) if "json" in kw else client.get(url, query_string=kw.get("q"))
        assert resp.status_code < 500, (url, kw, resp.status_code, resp.get_data()[:300])
        if resp.mimetype == "application/json":
            resp.get_json()
        return resp

    for route in ("/data/runs", "/data/runs_info", "/data/status", "/data/plugins_listing",
                  "/data/plugin/graphs/info", "/data/plugin/text/tags"):
        get(route)
    for name, series in (("scalars", ["scalars", "scalars?format=csv"]), ("histograms", ["histograms"]),
                         ("distributions", ["distributions"]), ("images", ["images"]), ("audio", ["audio"]),
                         ("text", ["text"]), ("pr_curves", ["pr_curves"])):
        listing = get(f"/data/plugin/{name}/tags").get_json()
        for run, tags in listing.items():
            for tag in tags:
                for route in series:
                    path, _, extra = route.partition("?")
                    q = {"run": run, "tag": tag, **dict([extra.split("=")] if extra else [])}
                    get(f"/data/plugin/{name}/{path}", q=q)
                if name == "scalars":
                    get("/data/plugin/scalars/batch", json={"series": [{"run": run, "tag": tag}], "points": 50,
                                                              "smoothing": 0.6})
                if name in ("images", "audio"):
                    single = "individualImage" if name == "images" else "individualAudio"
                    for i, p in enumerate(provider.blob_sequence(run, tag) or []):
                        for k in range(min(p.count, 3)):
                            get(f"/data/plugin/{name}/{single}", q={"run": run, "tag": tag, "index": i, "sample": k})
    get("/data/plugin/pr_curves/available_time_entries")
    get("/data/plugin/hparams/experiment")
    get("/data/plugin/hparams/sessions")
    for run, item in get("/data/plugin/graphs/info").get_json().items():
        if item["run_graph"]:
            get("/data/plugin/graphs/layout", q={"run": run})
        for tag, flags in item["tags"].items():
            get("/data/plugin/graphs/layout", q={"run": run, "tag": tag})
            if flags.get("conceptual_graph"):
                get("/data/plugin/graphs/layout", q={"run": run, "tag": tag, "conceptual": "true"})
    return n


def _load(directory: Path) -> LogdirProvider:
    provider = LogdirProvider([("", str(directory))], reload_interval=0, workers=1)
    provider.reload(first=True)
    return provider


def _write_run(root: Path, source: Path, records: list[bytes]) -> Path:
    """The fixture file's run directory (its sibling event files too) with `source` rewritten."""
    run = root / "run"
    run.mkdir(parents=True)
    for sibling in source.parent.iterdir():
        if "tfevents" in sibling.name and sibling.is_file():
            if sibling == source:
                (run / sibling.name).write_bytes(b"".join(frame(r) for r in records))
            else:
                shutil.copyfile(sibling, run / sibling.name)
    return run


def _direct_ingest(payload: bytes) -> None:
    """The normalizer itself, on a fresh run and inside a file of each version: must not raise."""
    for version in (2.0, 0.0):
        n = Normalizer(RunData(), "direct")
        n.file_version = version
        n.ingest(payload, "direct", 0)


def _run_case(path: Path, victim: int, mutated: bytes) -> None:
    note(f"reproduce with BOARD_FUZZ_SEED={SEED}; file {path.relative_to(FIXTURES)}, record {victim}, "
         f"damaged payload {mutated[:80]!r}...")
    records = _records(path)
    original = records[victim]
    _direct_ingest(mutated)
    orig_tags, orig_what = _tags_of(original)
    mut_tags, mut_what = _tags_of(mutated)
    with tempfile.TemporaryDirectory() as tmp:
        damaged = _load(_write_run(Path(tmp) / "damaged", path, records[:victim] + [mutated] + records[victim + 1:]))
        check_routes(damaged)
        global_kinds = {"file_version", "session_log", "graph_def", "meta_graph_def"}
        if {orig_what, mut_what} & global_kinds:
            return  # a record that changes the whole run (purge, file version, graph): only "no crash" holds
        absent = _load(_write_run(Path(tmp) / "absent", path, records[:victim] + records[victim + 1:]))
        skip = orig_tags | mut_tags
        want, got = snapshot(absent, skip), snapshot(damaged, skip)
        lost = [k for k in want if got.get(k) != want[k]]
        assert not lost, f"records untouched by the damage read differently: {lost[:5]}"


def _victim(data, path: Path) -> int:
    n = len(_records(path))
    return data.draw(st.integers(1 if n > 1 else 0, n - 1), label="victim")  # record 0 is file_version


@seed(SEED)
@fuzz
@given(st.sampled_from(SEED_FILES), st.data())
def test_byte_mutations_of_one_record(path, data):
    victim = _victim(data, path)
    _run_case(path, victim, _mutate_bytes(data, _records(path)[victim]))


@seed(SEED + 1)
@fuzz
@given(st.sampled_from(SEED_FILES), st.data())
def test_wrong_value_types(path, data):
    victim = _victim(data, path)
    _run_case(path, victim, _mutate_semantic(data, _records(path)[victim]))


@seed(SEED + 2)
@settings(max_examples=max(10, EXAMPLES // 3), deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300))
def test_arbitrary_payloads_never_raise(payload):
    note(f"reproduce with BOARD_FUZZ_SEED={SEED}")
    _direct_ingest(payload)
    _direct_ingest(b"\x09" + struct.pack("<d", 1.0) + payload)  # looks like an Event at first


def test_undamaged_fixtures_serve_every_route():
    """The seeds themselves (checked against TensorBoard by the other suites) pass the route walk."""
    for fixture in ("edge_shared", "tf1_mnist", "tf2_native", "tbx", "tf1_xor"):
        assert check_routes(_load(FIXTURES / fixture)) > 5


def test_fuzz_seeds_present():
    assert len(SEED_FILES) >= 10
