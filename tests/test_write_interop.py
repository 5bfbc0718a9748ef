"""What we write, read back by the real `tensorboard` package: same tags, steps, wall times and values."""
from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from conftest import FIXTURES
from pngdecode import decode_png
from summaries.summary import FileWriter, builders
from summaries.summary.tf1_buckets import tf1_histogram
from summaries.summary.writer import SummaryWriter

KEEP_ALL = {"scalars": 0, "histograms": 0, "images": 0, "tensors": 0, "audio": 0, "compressedHistograms": 0}


def read(path) -> EventAccumulator:
    acc = EventAccumulator(str(path), size_guidance=KEEP_ALL)
    acc.Reload()
    return acc


def test_scalars_exact_in_float32_with_steps_and_wall_times(tmp_path):
    rng = np.random.default_rng(0)
    values = np.concatenate([rng.normal(size=50) * 10.0 ** rng.integers(-30, 30, size=50),
                             [0.0, -0.0, 1e-45, 3.4e38, 1e39, -1e39, float("nan"), float("inf"), float("-inf")]])
    with SummaryWriter(tmp_path) as w:
        for i, v in enumerate(values):
            w.add_scalar("loss/train", v, global_step=i * 3 - 5, walltime=1_600_000_000.25 + i)
    got = read(tmp_path).Scalars("loss/train")
    assert [e.step for e in got] == [i * 3 - 5 for i in range(len(values))]
    assert [e.wall_time for e in got] == [1_600_000_000.25 + i for i in range(len(values))]
    with np.errstate(over="ignore"):
        want = values.astype(np.float32)  # 1e39 overflows float32 to inf, as TensorFlow stores it
    np.testing.assert_array_equal(np.array([e.value for e in got], dtype=np.float32), want)


def test_tf1_filewriter_add_summary_bytes_and_proto(tmp_path):
    with FileWriter(tmp_path) as fw:
        fw.add_summary(builders.scalar("a", 1.5).SerializeToString(), global_step=7)
        fw.add_summary(builders.scalar("a", 2.5), global_step=8)
    assert [(e.step, e.value) for e in read(tmp_path).Scalars("a")] == [(7, 1.5), (8, 2.5)]


def test_histograms_bucket_for_bucket(tmp_path):
    rng = np.random.default_rng(1)
    data = [rng.normal(size=1000).astype(np.float32), np.arange(-5, 5, dtype=np.int64), np.array([], np.float32)]
    with SummaryWriter(tmp_path) as w:
        for step, values in enumerate(data):
            w.add_histogram("w", values, step)
    events = read(tmp_path).Histograms("w")
    assert [e.step for e in events] == [0, 1, 2]
    for values, event in zip(data, events):
        h = event.histogram_value
        v = values.astype(np.float64)
        assert h.num == v.size
        # Independent truth: count each value into TF's buckets by a plain loop over the emitted limits.
        limits = list(h.bucket_limit)
        counts = [0.0] * len(limits)
        for x in v:
            counts[next(i for i, lim in enumerate(limits) if x < lim)] += 1
        assert counts == list(h.bucket)
        if v.size:
            assert (h.min, h.max) == (v.min(), v.max())
            assert h.sum == pytest.approx(v.sum(), rel=1e-12)


def _reconstructions(h: dict):
    """Value sets (float32) that must produce histogram `h`: exact when num <= 4 (min, max, sum, sum_squares)."""
    n = int(h["num"])
    lo, hi = h["min"], h["max"]
    if n == 1:
        yield [lo]
    elif n == 2:
        yield [lo, hi]
    elif n in (3, 4):
        rest_sum = h["sum"] - lo - hi
        rest_sq = h["sum_squares"] - lo * lo - hi * hi
        if n == 3:
            yield [lo, rest_sum, hi]
        else:  # a + b = s, a^2 + b^2 = q
            disc = max(0.0, 2 * rest_sq - rest_sum ** 2)
            a, b = (rest_sum - math.sqrt(disc)) / 2, (rest_sum + math.sqrt(disc)) / 2
            yield [lo, a, b, hi]


@pytest.mark.parametrize("fixture,run,recoverable", [("tf1_xor", "xor_logs", 400),
                                                     ("tf1_xor", "xor_logs_r0_01", 400), ("tf1_mnist", "mnist", 0)])
def test_tf1_histograms_equal_tensorflow(fixture, run, recoverable):
    """For every fixture histogram whose inputs can be recovered (num <= 4), ours equals TensorFlow's exactly;
    for all of them, the bucket limits are TensorFlow's scheme."""
    expected = json.loads((FIXTURES / fixture / "expected.json").read_text())["runs"][run]["histograms_tf1"]
    from summaries.summary.tf1_buckets import DEFAULT_LIMITS
    limits = set(DEFAULT_LIMITS.tolist())
    checked = 0
    for tag, events in expected.items():
        for h in events:
            assert set(h["bucket_limit"]) <= limits, tag
            assert sum(h["bucket"]) == h["num"], tag
            for values in _reconstructions(h):
                f32 = np.array(values, dtype=np.float32)
                matches = []
                for perm in set(itertools.permutations(f32.tolist())):  # TF sums in input order
                    ours = tf1_histogram(np.array(perm, dtype=np.float32))
                    matches.append((ours.min, ours.max, ours.num, ours.sum, ours.sum_squares,
                                    list(ours.bucket_limit), list(ours.bucket))
                                   == (h["min"], h["max"], h["num"], h["sum"], h["sum_squares"],
                                       h["bucket_limit"], h["bucket"]))
                assert any(matches), (tag, h["step"])
                checked += 1
    assert checked >= recoverable


def test_images_decode_to_same_pixels(tmp_path):
    rng = np.random.default_rng(2)
    gray = rng.integers(0, 256, size=(2, 5, 7, 1), dtype=np.uint8)
    rgb = rng.integers(0, 256, size=(3, 64, 64), dtype=np.uint8)  # CHW, like add_image's default
    rgba = rng.integers(0, 256, size=(4, 6, 4), dtype=np.uint8)
    with FileWriter(tmp_path / "tf1") as fw:
        fw.add_summary(builders.image("digits", gray, max_outputs=3), 1)
    with SummaryWriter(tmp_path / "tbx") as w:
        w.add_image("chw", rgb, 2)
        w.add_image("hwc", rgba, 3, dataformats="HWC")
        w.add_images("batch", rng.integers(0, 256, size=(3, 3, 4, 5), dtype=np.uint8), 4)
    acc = read(tmp_path / "tf1")
    assert sorted(acc.Tags()["images"]) == ["digits/image/0", "digits/image/1"]
    for i in range(2):
        (ev,) = acc.Images(f"digits/image/{i}")
        assert (ev.step, ev.width, ev.height) == (1, 7, 5)
        np.testing.assert_array_equal(decode_png(ev.encoded_image_string), gray[i])
    acc = read(tmp_path / "tbx")
    (ev,) = acc.Images("chw")
    np.testing.assert_array_equal(decode_png(ev.encoded_image_string), rgb.transpose(1, 2, 0))
    (ev,) = acc.Images("hwc")
    np.testing.assert_array_equal(decode_png(ev.encoded_image_string), rgba)
    (ev,) = acc.Images("batch")
    assert (ev.width, ev.height) == (15, 4)  # three 5-wide images side by side


def test_float_images_scaled_like_tf1():
    img = np.array([[[[0.0], [0.5], [1.0]]]], dtype=np.float32)  # max 1 -> 255
    px = decode_png(builders.image("f", img).value[0].image.encoded_image_string)
    assert px.ravel().tolist() == [0, 127, 255]
    neg = np.array([[[[-1.0], [0.0], [0.5]]]], dtype=np.float32)  # 0 -> 128, scale 127/max|v|
    px = decode_png(builders.image("f", neg).value[0].image.encoded_image_string)
    assert px.ravel().tolist() == [1, 128, 191]


def test_text_and_unicode_tags_byte_exact(tmp_path):
    tags = ["손실/학습", "emoji 🚀 loss", "a\"quote'&amp;", "<script>x</script>"]
    with SummaryWriter(tmp_path) as w:
        for i, tag in enumerate(tags):
            w.add_scalar(tag, i, 0)
        w.add_text("notes", "**bold** 한국어", 0)
    acc = read(tmp_path)
    assert sorted(acc.Tags()["scalars"]) == sorted(tags)
    (ev,) = acc.Tensors("notes")
    assert ev.tensor_proto.string_val == ["**bold** 한국어".encode("utf-8")]


def test_add_scalars_matches_tensorboardx_layout(tmp_path):
    with SummaryWriter(tmp_path) as w:
        for step in range(3):
            w.add_scalars("compare", {"a": step, "b": -step}, step)
    # tensorboardX 2.6.5 (tests/data/fixtures/tbx): runs compare/a and compare/b, tag "compare".
    assert [e.value for e in read(tmp_path / "compare" / "a").Scalars("compare")] == [0, 1, 2]
    assert [e.value for e in read(tmp_path / "compare" / "b").Scalars("compare")] == [0, -1, -2]
    tbx = FIXTURES / "tbx" / "tbx_run" / "compare"
    assert sorted(p.name for p in tbx.iterdir()) == ["a", "b"]


def test_graph_and_run_metadata_read_by_tensorboard(tmp_path):
    from summaries.proto import GraphDef, NodeDef, RunMetadata
    graph = GraphDef(node=[NodeDef(name="x", op="Placeholder"), NodeDef(name="y", op="Identity", input=["x"])])
    with FileWriter(tmp_path, graph=graph) as fw:
        fw.add_run_metadata(RunMetadata(), "step1", global_step=1)
    acc = read(tmp_path)
    assert [n.name for n in acc.Graph().node] == ["x", "y"]
    assert acc.Tags()["run_metadata"] == ["step1"]
