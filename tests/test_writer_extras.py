"""SummaryWriter extras (add_histogram_raw, add_figure, add_image_with_boxes, add_video): read back by the
real `tensorboard` package and compared with what tensorboardX 2.6.5 makes for the same inputs
(tests/data/writer_extras/, made by make_reference.py there)."""
from __future__ import annotations

import sys
import types
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.util import tensor_util

from conftest import load_script, tb_multiplexer
from pngdecode import decode_png
from summaries.proto import Summary
from summaries.summary import builders, gif
from summaries.summary.writer import SummaryWriter

REFERENCE = Path(__file__).resolve().parent / "data" / "writer_extras"
MAKER = load_script(REFERENCE / "make_reference.py")


@pytest.fixture(scope="module")
def reference():
    with np.load(REFERENCE / "reference.npz") as data:
        return {k: data[k] for k in data.files}


def mux_tensors(logdir, tag: str) -> list:
    """(step, wall_time, ndarray) of `tag` in the single run at `logdir`, as real TensorBoard's plugin
    multiplexer gives them to the dashboards (old-style histograms and images converted to tensors)."""
    mux = tb_multiplexer(logdir)
    (run,) = mux.Runs()
    return [(e.step, e.wall_time, tensor_util.make_ndarray(e.tensor_proto)) for e in mux.Tensors(run, tag)]


def proto_events(logdir, kind: str, tag: str) -> list:
    """The raw protos of `tag` (HistogramProto, image) as real TensorBoard's EventAccumulator keeps them."""
    acc = EventAccumulator(str(logdir), size_guidance={"histograms": 0, "images": 0})
    acc.Reload()
    return getattr(acc, kind)(tag)


# --- add_histogram_raw ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("case", sorted(MAKER.histogram_raw_cases()))
def test_histogram_raw_equals_tensorboardx(reference, case):
    kwargs = MAKER.histogram_raw_cases()[case]
    ours = builders.histogram_raw(case, **kwargs).SerializeToString()
    assert ours == reference[f"histogram_raw/{case}"].tobytes()


@pytest.mark.parametrize("case", sorted(MAKER.histogram_raw_cases()))
def test_histogram_raw_read_back_by_tensorboard(tmp_path, case):
    kwargs = MAKER.histogram_raw_cases()[case]
    with SummaryWriter(tmp_path) as w:
        w.add_histogram_raw("raw", **kwargs, global_step=3, walltime=1234.5)
    (event,) = proto_events(tmp_path, "Histograms", "raw")
    assert (event.step, event.wall_time) == (3, 1234.5)
    h = event.histogram_value
    assert (h.min, h.max, h.num, h.sum, h.sum_squares) == tuple(
        float(kwargs[k]) for k in ("min", "max", "num", "sum", "sum_squares"))
    limits = np.asarray(kwargs["bucket_limits"], np.float64).tolist()
    counts = np.asarray(kwargs["bucket_counts"], np.float64).tolist()
    assert (list(h.bucket_limit), list(h.bucket)) == (limits, counts)
    # What the histogram dashboard gets: [left, right, count] rows over the non-empty span, the
    # first left edge being min and the last right edge max.
    (step, wall, buckets) = mux_tensors(tmp_path, "raw")[0]
    nonempty = [i for i, c in enumerate(counts) if c > 0]
    first, last = nonempty[0], nonempty[-1]
    want = [[float(kwargs["min"]) if i == first else limits[i - 1], float(kwargs["max"]) if i == last else limits[i],
             counts[i]] for i in range(first, last + 1)]
    assert (step, wall) == (3, 1234.5)
    np.testing.assert_array_equal(buckets, np.array(want, np.float32))


@pytest.mark.parametrize("limits,counts", [([1, 2, 3], [1, 2]), ([[1, 2]], [[1, 2]]), ([], [1])])
def test_histogram_raw_mismatched_buckets_name_the_tag(tmp_path, limits, counts):
    with SummaryWriter(tmp_path) as w:
        with pytest.raises(ValueError, match="my/hist"):
            w.add_histogram_raw("my/hist", 0, 1, 3, 1, 1, limits, counts, 0)


def test_histogram_raw_non_numeric_statistic_names_the_tag(tmp_path):
    with SummaryWriter(tmp_path) as w:
        with pytest.raises(TypeError, match="my/hist"):
            w.add_histogram_raw("my/hist", "zero", 1, 3, 1, 1, [1], [3], 0)


# --- add_figure ----------------------------------------------------------------------------------------------
# matplotlib is not installed here: a test double offers exactly the Agg canvas interface add_figure uses.

class Canvas:
    """draw(), buffer_rgba() and get_width_height() over a known RGBA array; `ratio` > 1 plays a HiDPI
    canvas whose logical size is smaller than its buffer, `flat` a buffer of bare bytes."""

    def __init__(self, rgba: np.ndarray, ratio: int = 1, flat: bool = False):
        self._rgba, self._ratio, self._flat, self._drawn = rgba, ratio, flat, False

    def draw(self):
        self._drawn = True

    def buffer_rgba(self):
        assert self._drawn, "buffer_rgba() before draw()"
        return self._rgba.tobytes() if self._flat else memoryview(self._rgba)

    def get_width_height(self):
        h, w = self._rgba.shape[:2]
        return w // self._ratio, h // self._ratio


class Figure:
    def __init__(self, rgba: np.ndarray, **canvas_options):
        self.canvas = Canvas(rgba, **canvas_options)


def random_rgba(seed: int, h: int, w: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(h, w, 4), dtype=np.uint8)


def decoded_images(logdir, tag: str) -> list:
    """(step, width, height, decoded pixels) of `tag` as the image dashboard gets them from real TensorBoard."""
    return [(step, int(t[0]), int(t[1]), decode_png(t[2])) for step, _, t in mux_tensors(logdir, tag)]


@pytest.mark.parametrize("options", [{}, {"flat": True}, {"ratio": 2}, {"ratio": 2, "flat": True}])
def test_figure_pixels_read_back_exactly(tmp_path, options):
    rgba = random_rgba(1, 6, 10)
    with SummaryWriter(tmp_path) as w:
        w.add_figure("fig", Figure(rgba, **options), global_step=5)
    ((step, width, height, pixels),) = decoded_images(tmp_path, "fig")
    assert (step, width, height) == (5, 10, 6)  # the buffer's real size, also on HiDPI
    np.testing.assert_array_equal(pixels, rgba)


def test_figure_list_is_tiled_like_add_images(tmp_path):
    figures = [random_rgba(seed, 4, 3) for seed in range(3)]
    with SummaryWriter(tmp_path) as w:
        w.add_figure("figs", [Figure(f) for f in figures], global_step=1)
    ((_, width, height, pixels),) = decoded_images(tmp_path, "figs")
    assert (width, height) == (9, 4)
    np.testing.assert_array_equal(pixels, np.concatenate(figures, axis=1))


def test_figure_list_of_different_sizes_names_the_tag(tmp_path):
    with SummaryWriter(tmp_path) as w:
        with pytest.raises(ValueError, match="figs"):
            w.add_figure("figs", [Figure(random_rgba(0, 4, 3)), Figure(random_rgba(0, 3, 4))])
        with pytest.raises(ValueError, match="figs"):
            w.add_figure("figs", [])


@pytest.fixture
def fake_pyplot(monkeypatch):
    """A stand-in `matplotlib.pyplot` recording close() calls."""
    closed = []
    pyplot = types.ModuleType("matplotlib.pyplot")
    pyplot.close = closed.append
    package = types.ModuleType("matplotlib")
    package.pyplot = pyplot
    monkeypatch.setitem(sys.modules, "matplotlib", package)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", pyplot)
    return closed


def test_figure_closed_through_pyplot_only_when_asked(tmp_path, fake_pyplot):
    figures = [Figure(random_rgba(2, 2, 2)) for _ in range(3)]
    with SummaryWriter(tmp_path) as w:
        w.add_figure("a", figures[0], close=False)
        assert fake_pyplot == []
        w.add_figure("b", figures[0])
        w.add_figure("c", figures[1:])
    assert fake_pyplot == figures


def test_figure_without_matplotlib_still_written(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # `import matplotlib` now raises ImportError
    with SummaryWriter(tmp_path) as w:
        w.add_figure("fig", Figure(random_rgba(3, 2, 5)), close=True)
    assert len(decoded_images(tmp_path, "fig")) == 1


def test_figure_with_a_non_agg_canvas_names_the_tag(tmp_path):
    class NoBuffer:
        canvas = types.SimpleNamespace(draw=lambda: None, get_width_height=lambda: (1, 1))

    with SummaryWriter(tmp_path) as w:
        with pytest.raises(TypeError, match="fig"):
            w.add_figure("fig", NoBuffer())


# --- add_image_with_boxes ------------------------------------------------------------------------------------

RED = {3: [255, 0, 0], 4: [255, 0, 0, 255]}


@pytest.mark.parametrize("case", sorted(MAKER.image_boxes_cases()))
def test_boxes_equal_tensorboardx_pixels(reference, tmp_path, case):
    kwargs = MAKER.image_boxes_cases()[case]
    with SummaryWriter(tmp_path) as w:
        w.add_image_with_boxes("boxes", global_step=2, **kwargs)
    ((step, width, height, pixels),) = decoded_images(tmp_path, "boxes")
    want = decode_png(reference[f"image_boxes/{case}"].tobytes())  # Pillow's drawing, through tensorboardX
    assert (step, width, height) == (2, want.shape[1], want.shape[0])
    np.testing.assert_array_equal(pixels, want)


def outline(h: int, w: int, left: int, top: int, right: int, bottom: int) -> np.ndarray:
    """Where a 2-pixel outline of an ordered integer box lies, written pixel by pixel from its description:
    two rows at the top (above and on y_min), two at the bottom (on and below y_max), two columns
    inside each side; everything outside the image dropped."""
    mask = np.zeros((h, w), bool)
    for y in range(h):
        for x in range(w):
            on_row = (y in (top - 1, top, bottom, bottom + 1)) and left <= x <= right
            on_col = (x in (left, left + 1, right - 1, right)) and top <= y <= bottom
            mask[y, x] = on_row or on_col
    return mask


@pytest.mark.parametrize("box", [(2, 3, 9, 8), (-5, -5, 4, 4), (6, 5, 30, 30), (-3, 2, 30, 7), (20, 20, 30, 30)])
@pytest.mark.parametrize("channels", [3, 4])
def test_box_edges_red_inside_and_outside_unchanged(tmp_path, box, channels):
    img = np.random.default_rng(channels).integers(0, 200, (11, 13, channels), dtype=np.uint8)
    with SummaryWriter(tmp_path) as w:
        w.add_image_with_boxes("b", img, np.array([box]), dataformats="HWC")
    ((_, width, height, pixels),) = decoded_images(tmp_path, "b")
    assert (width, height) == (13, 11)  # clipped at the border, never grown
    mask = outline(11, 13, *box)
    assert (pixels[mask] == RED[channels]).all()
    np.testing.assert_array_equal(pixels[~mask], img[~mask])


def test_reversed_corners_draw_the_same_box(tmp_path):
    img = np.zeros((3, 12, 12), np.uint8)
    with SummaryWriter(tmp_path) as w:
        w.add_image_with_boxes("a", img, [[2, 3, 9, 10]])
        w.add_image_with_boxes("b", img, [[9, 10, 2, 3]])
    assert np.array_equal(decoded_images(tmp_path, "a")[0][3], decoded_images(tmp_path, "b")[0][3])


@pytest.mark.parametrize("boxes", [[1, 2, 3, 4], [[1, 2, 3]], [[[1, 2, 3, 4]]], [[0, 0, float("nan"), 3]],
                                   [["a", "b", "c", "d"]]])
def test_bad_boxes_name_the_tag(tmp_path, boxes):
    with SummaryWriter(tmp_path) as w:
        with pytest.raises(ValueError, match="my/boxes"):
            w.add_image_with_boxes("my/boxes", np.zeros((3, 4, 4), np.uint8), np.array(boxes))


def test_no_boxes_leaves_the_image(tmp_path):
    img = np.random.default_rng(5).integers(0, 256, (3, 5, 6), dtype=np.uint8)
    with SummaryWriter(tmp_path) as w:
        w.add_image_with_boxes("b", img, np.zeros((0, 4)))
    np.testing.assert_array_equal(decoded_images(tmp_path, "b")[0][3], img.transpose(1, 2, 0))


def test_labels_draw_a_tab_and_a_wrong_count_is_skipped(tmp_path):
    img = np.zeros((3, 30, 30), np.uint8)
    box = [[2, 2, 25, 25]]
    with SummaryWriter(tmp_path) as w:
        w.add_image_with_boxes("plain", img, box)
        w.add_image_with_boxes("label", img, box, labels="cat")
        with pytest.warns(UserWarning, match="labels skipped"):
            w.add_image_with_boxes("wrong", img, box, labels=["a", "b"])
    plain, label, wrong = (decoded_images(tmp_path, t)[0][3] for t in ("plain", "label", "wrong"))
    np.testing.assert_array_equal(wrong, plain)
    added = (label != plain).any(axis=2)
    ys, xs = np.nonzero(added)
    assert added.any() and ys.max() <= 25 and xs.min() >= 2  # a tab inside the box's bottom-left corner
    assert (label[added] == RED[3]).all()


def test_rescale_resizes_the_drawn_image(tmp_path):
    img = np.zeros((3, 10, 8), np.uint8)
    with SummaryWriter(tmp_path) as w:
        w.add_image_with_boxes("b", img, [[1, 1, 6, 8]], rescale=2)
        w.add_image_with_boxes("c", img, [[1, 1, 6, 8]])
    ((_, width, height, big),) = decoded_images(tmp_path, "b")
    small = decoded_images(tmp_path, "c")[0][3]
    assert (width, height) == (16, 20)
    np.testing.assert_array_equal(big, small.repeat(2, axis=0).repeat(2, axis=1))


# --- add_video (animated GIF) --------------------------------------------------------------------------------
# An independent GIF reader written from the GIF89a specification (not from summaries/summary/gif.py).

def lzw_decode(data: bytes, min_size: int) -> bytes:
    """Variable-width LZW as the GIF89a spec (appendix F) describes the decoder."""
    clear, end = 1 << min_size, (1 << min_size) + 1
    table = [bytes([i]) for i in range(clear)] + [b"", b""]
    size, pos, prev, out = min_size + 1, 0, None, bytearray()
    while True:
        code = 0
        for k in range(size):  # bits are packed least significant first
            code |= ((data[(pos + k) // 8] >> ((pos + k) % 8)) & 1) << k
        pos += size
        if code == clear:
            table, size, prev = table[:end + 1], min_size + 1, None
            continue
        if code == end:
            return bytes(out)
        if prev is None:
            entry = table[code]
        else:
            entry = table[code] if code < len(table) else table[prev] + table[prev][:1]
            assert code <= len(table), "code beyond the table"
            if len(table) < 4096:
                table.append(table[prev] + entry[:1])
        out += entry
        prev = code
        if len(table) == 1 << size and size < 12:
            size += 1


def read_blocks(gif: bytes, pos: int) -> tuple[bytes, int]:
    data = bytearray()
    while gif[pos]:
        data += gif[pos + 1:pos + 1 + gif[pos]]
        pos += 1 + gif[pos]
    return bytes(data), pos + 1


def decode_gif(gif: bytes) -> dict:
    """Frames (T, H, W, 3), per-frame delays (1/100 s) and the NETSCAPE loop count of a GIF89a file."""
    assert gif[:6] == b"GIF89a"
    w, h, packed = gif[6] | gif[7] << 8, gif[8] | gif[9] << 8, gif[10]
    pos, palette = 13, None
    if packed & 0x80:
        n = 2 << (packed & 7)
        palette, pos = np.frombuffer(gif[13:13 + 3 * n], np.uint8).reshape(n, 3), 13 + 3 * n
    frames, delays, loop = [], [], None
    while gif[pos] != 0x3B:
        if gif[pos] == 0x21:  # extension: label, then sub-blocks
            label = gif[pos + 1]
            body, pos = read_blocks(gif, pos + 2)
            if label == 0xF9:
                delays.append(body[1] | body[2] << 8)
            elif label == 0xFF and body[:11] == b"NETSCAPE2.0":
                loop = body[12] | body[13] << 8
        else:
            assert gif[pos] == 0x2C, f"unexpected block {gif[pos]:#x}"
            x, y, fw, fh = (gif[pos + 1 + 2 * i] | gif[pos + 2 + 2 * i] << 8 for i in range(4))
            assert (x, y, fw, fh) == (0, 0, w, h) and gif[pos + 9] & 0xC0 == 0  # full frame, no local table
            min_size = gif[pos + 10]
            data, pos = read_blocks(gif, pos + 11)
            indices = np.frombuffer(lzw_decode(data, min_size), np.uint8)
            frames.append(palette[indices].reshape(h, w, 3))
    return {"frames": np.stack(frames), "delays": delays, "loop": loop}


@given(st.binary(max_size=3000) | st.lists(st.integers(0, 3), max_size=3000).map(bytes))
@settings(max_examples=150, deadline=None)
def test_lzw_round_trips_through_the_spec_decoder(data):
    assert lzw_decode(gif.lzw(data), 8) == data


def test_lzw_every_table_size_and_full_tables():
    """Each length ends the stream at another table size (the end code crosses 512, 1024, 2048),
    and long random runs fill the 4096-entry table more than once."""
    rng = np.random.default_rng(3)
    for n in range(1, 1400, 3):
        data = rng.integers(0, 256, n, dtype=np.uint8).tobytes()
        assert lzw_decode(gif.lzw(data), 8) == data, n
    data = rng.integers(0, 256, 30000, dtype=np.uint8).tobytes()
    assert lzw_decode(gif.lzw(data), 8) == data


def gif_frames(logdir, tag: str):
    ((step, width, height, blob),) = [(s, int(t[0]), int(t[1]), t[2]) for s, _, t in mux_tensors(logdir, tag)]
    return step, width, height, decode_gif(blob)


@pytest.mark.parametrize("n", sorted(MAKER.video_cases()))
def test_video_equals_tensorboardx_frames(reference, tmp_path, n):
    with SummaryWriter(tmp_path) as w:
        w.add_video("clip", MAKER.video_cases()[n], global_step=4, fps=5)
    step, width, height, got = gif_frames(tmp_path, "clip")
    want = reference[f"video/{n}"]  # tensorboardX's tiled uint8 frames, few colors: the GIF is lossless
    assert (step, width, height) == (4, want.shape[2], want.shape[1])
    np.testing.assert_array_equal(got["frames"], want)
    assert got["delays"] == [20] * want.shape[0] and got["loop"] == 0  # 1/5 s a frame, looping forever


def test_video_with_many_colors_within_palette_error(tmp_path):
    rng = np.random.default_rng(8)
    base = np.linspace(0, 255, 32)
    clip = np.stack([np.stack(np.broadcast_arrays(base[None, :] + 4 * t, base[:, None], 128 + 0 * base[None, :])
                              ) for t in range(6)]).clip(0, 255).astype(np.uint8)  # T, C, H, W smooth gradients
    noisy = (clip.astype(np.int16) + rng.integers(-3, 4, clip.shape)).clip(0, 255).astype(np.uint8)
    with SummaryWriter(tmp_path) as w:
        w.add_video("v", noisy[None], fps=4)
    _, width, height, got = gif_frames(tmp_path, "v")
    want = noisy.transpose(0, 2, 3, 1)
    assert (width, height) == (32, 32) and got["frames"].shape == want.shape
    err = np.abs(got["frames"].astype(int) - want)
    assert len(np.unique(want.reshape(-1, 3), axis=0)) > 256  # the palette had to be chosen
    assert err.mean() < 4 and err.max() <= 24
    assert got["delays"] == [25] * 6


def test_video_uint8_grayscale_and_rgba(tmp_path):
    rng = np.random.default_rng(9)
    gray = rng.integers(0, 256, (1, 2, 1, 6, 7), dtype=np.uint8)
    rgba = rng.integers(0, 256, (1, 2, 4, 6, 7), dtype=np.uint8) // 64 * 64  # 64 colors: lossless
    with SummaryWriter(tmp_path) as w:
        w.add_video("gray", gray)
        w.add_video("rgba", rgba)
    np.testing.assert_array_equal(gif_frames(tmp_path, "gray")[3]["frames"],
                                  np.repeat(gray[0].transpose(0, 2, 3, 1), 3, axis=3))
    np.testing.assert_array_equal(gif_frames(tmp_path, "rgba")[3]["frames"], rgba[0, :, :3].transpose(0, 2, 3, 1))


@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (1, 2, 2, 4, 4), (1, 0, 3, 4, 4)])
def test_bad_video_shape_names_the_tag(tmp_path, shape):
    with SummaryWriter(tmp_path) as w:
        with pytest.raises(ValueError, match="my/video"):
            w.add_video("my/video", np.zeros(shape, np.uint8))


def test_video_gif_decoded_by_chromium(page, reference):
    """Chromium's own GIF decoder (WebCodecs ImageDecoder) gives every frame's exact pixels and delay."""
    import base64
    frames = reference["video/3"]
    blob = gif.encode_gif(frames, fps=4)
    # WebCodecs needs a secure context: a localhost page answered by Playwright itself, no server.
    page.route("http://localhost/gif-test", lambda route: route.fulfill(body="<!doctype html><title>gif</title>",
                                                                       content_type="text/html"))
    page.goto("http://localhost/gif-test")
    got = page.evaluate("""async (b64) => {
        const data = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
        const decoder = new ImageDecoder({data, type: 'image/gif'});
        await decoder.tracks.ready;
        const count = decoder.tracks.selectedTrack.frameCount, out = [];
        for (let i = 0; i < count; i++) {
            const {image} = await decoder.decode({frameIndex: i});
            const canvas = new OffscreenCanvas(image.displayWidth, image.displayHeight);
            const ctx = canvas.getContext('2d');
            ctx.drawImage(image, 0, 0);
            out.push({duration: image.duration, pixels: Array.from(ctx.getImageData(0, 0, canvas.width,
                                                                               canvas.height).data)});
            image.close();
        }
        return {count, repetition: decoder.tracks.selectedTrack.repetitionCount, frames: out};
    }""", base64.b64encode(blob).decode())
    t, h, w, _ = frames.shape
    assert got["count"] == t and got["repetition"] == float("inf")
    for want, frame in zip(frames, got["frames"]):
        assert frame["duration"] == 250_000  # microseconds
        rgba = np.array(frame["pixels"], np.uint8).reshape(h, w, 4)
        np.testing.assert_array_equal(rgba[..., :3], want)
        assert (rgba[..., 3] == 255).all()
    assert page.console_errors == []
