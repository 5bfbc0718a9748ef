"""Histograms, distributions and images served by the real CLI against what real TensorBoard read."""
from __future__ import annotations

import hashlib
import json
import urllib.parse

import numpy as np
import pytest

from conftest import FIXTURES, expected, fetch, get_json, serve, wait_loaded

FIXTURE_NAMES = sorted(p.name for p in FIXTURES.iterdir() if (p / "expected.json").exists())


@pytest.fixture(scope="module", params=FIXTURE_NAMES)
def served(request):
    with serve(FIXTURES / request.param, "--reload_interval", "0") as url:
        wait_loaded(url)
        yield request.param, url


def route(url, path, **params):
    return url + path + "?" + urllib.parse.urlencode(params)


def test_histogram_buckets_equal_tensorboard(served):
    name, url = served
    tags = get_json(url + "data/plugin/histograms/tags")
    for run, data in expected(name)["runs"].items():
        want = data.get("histograms", {})
        assert sorted(tags.get(run, {})) == sorted(want), run
        for tag, points in want.items():
            got = get_json(route(url, "data/plugin/histograms/histograms", run=run, tag=tag))
            assert [g[1] for g in got] == [p["step"] for p in points]
            for g, p in zip(got, points):
                assert g[0] == pytest.approx(p["wall"])
                np.testing.assert_allclose(np.array(g[2], float).reshape(-1, 3),
                                           np.array(p["buckets"], float).reshape(-1, 3), rtol=1e-6, atol=0)


def test_distributions_equal_tensorboards_compressor(served):
    from tensorboard.plugins.distribution.compressor import compress_histogram
    name, url = served
    for run, data in expected(name)["runs"].items():
        for tag, points in data.get("histograms", {}).items():
            got = get_json(route(url, "data/plugin/distributions/distributions", run=run, tag=tag))
            assert len(got) == len(points)
            for g, p in zip(got, points):
                want = compress_histogram(p["buckets"])
                assert [bp for bp, _ in g[2]] == [bp for bp, _ in want]
                np.testing.assert_allclose([v for _, v in g[2]], [v for _, v in want], rtol=1e-9, atol=1e-12)


def test_image_bytes_match_tensorboard_sha256(served):
    name, url = served
    tags = get_json(url + "data/plugin/images/tags")
    for run, data in expected(name)["runs"].items():
        want = data.get("images", {})
        assert sorted(tags.get(run, {})) == sorted(want), run
        for tag, points in want.items():
            samples = max(len(p["sha256"]) for p in points)
            assert tags[run][tag]["samples"] == samples
            for sample in range(samples):
                got = get_json(route(url, "data/plugin/images/images", run=run, tag=tag, sample=sample))
                steps = [p for p in points if len(p["sha256"]) > sample]
                assert [g["step"] for g in got] == [p["step"] for p in steps]
                for g, p in zip(got, steps):
                    assert (g["width"], g["height"]) == (p["width"], p["height"])
                    status, mime, body = fetch(url + "data/plugin/images/individualImage?" + g["query"])
                    assert status == 200
                    assert hashlib.sha256(body).hexdigest() == p["sha256"][sample]
                    assert mime == "image/png"


def test_every_image_form_is_served():
    """TF2 grayscale and RGB, tensorboardX CHW/HWC and batched images: all present and decodable PNGs."""
    from pngdecode import decode_png
    with serve(FIXTURES / "tf2_native", "--reload_interval", "0") as tf2, \
            serve(FIXTURES / "tbx", "--reload_interval", "0") as tbx:
        forms = {}
        for url in (tf2, tbx):
            wait_loaded(url)
            for run, tags in get_json(url + "data/plugin/images/tags").items():
                for tag, info in tags.items():
                    for sample in range(info["samples"]):
                        for g in get_json(route(url, "data/plugin/images/images", run=run, tag=tag, sample=sample)):
                            status, _, body = fetch(url + "data/plugin/images/individualImage?" + g["query"])
                            assert status == 200
                            pixels = decode_png(body)
                            assert pixels.shape[:2] == (g["height"], g["width"])
                            forms.setdefault(tag, set()).add(pixels.shape[2] if pixels.ndim == 3 else 1)
    assert forms["samples/gray"] == {1} and forms["samples/rgb"] == {3}
    assert len([t for t in forms if not t.startswith("samples/")]) >= 3, forms  # tbX CHW, HWC, batched


def test_missing_image_and_hostile_queries_are_json_404s():
    with serve(FIXTURES / "tf1_mnist", "--reload_interval", "0") as url:
        wait_loaded(url)
        good = get_json(route(url, "data/plugin/images/images", run="mnist", tag="input/image/0"))
        assert good
        bad = [dict(run="mnist", tag="input/image/0", index=len(good), sample=0),
               dict(run="mnist", tag="input/image/0", index=-1, sample=0),
               dict(run="mnist", tag="input/image/0", index=0, sample=1),
               dict(run="mnist", tag="loss", index=0, sample=0),  # a scalar tag is not an image
               dict(run="../../../etc", tag="passwd", index=0, sample=0),
               dict(run="/etc", tag="/etc/passwd", index=0, sample=0),
               dict(run="mnist%2F..%2F..", tag="input/image/0", index=0, sample=0)]
        for params in bad:
            status, mime, body = fetch(route(url, "data/plugin/images/individualImage", **params))
            assert (status, mime) == (404, "application/json"), params
            assert "error" in json.loads(body) and b"Traceback" not in body
        status, mime, body = fetch(route(url, "data/plugin/images/individualImage", run="mnist",
                                         tag="input/image/0", index="1e9999"))
        assert (status, mime) == (400, "application/json")
        status, _, _ = fetch(route(url, "data/plugin/histograms/histograms", run="mnist", tag="nope"))
        assert status == 404


def test_histogram_steps_are_thinned_keeping_first_and_last(tmp_logdir):
    from summaries.summary.writer import SummaryWriter
    rng = np.random.default_rng(0)
    with SummaryWriter(str(tmp_logdir / "run")) as w:
        for step in range(1203):
            w.add_histogram("h", rng.normal(size=50), step)
    with serve(tmp_logdir, "--reload_interval", "0") as url:
        wait_loaded(url)
        steps = [p[1] for p in get_json(route(url, "data/plugin/histograms/histograms", run="run", tag="h"))]
        assert len(steps) == 500 and steps[0] == 0 and steps[-1] == 1202 and steps == sorted(set(steps))
        gaps = np.diff(steps)
        assert gaps.max() <= 2 * gaps.min()  # evenly spread (the data layer keeps every 2nd step here)
        few = get_json(route(url, "data/plugin/distributions/distributions", run="run", tag="h", downsample_to=10))
        assert [p[1] for p in few][0] == 0 and few[-1][1] == 1202 and len(few) == 10


def test_sniffed_content_types():
    from board_server.plugins.images import sniff_image_type
    assert sniff_image_type(b"\x89PNG\r\n\x1a\nrest") == "image/png"
    assert sniff_image_type(b"\xff\xd8\xff\xe0") == "image/jpeg"
    assert sniff_image_type(b"GIF89a...") == "image/gif"
    assert sniff_image_type(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "image/webp"
    assert sniff_image_type(b"<svg onload=alert(1)>") == "application/octet-stream"
    assert sniff_image_type(b"") == "application/octet-stream"
