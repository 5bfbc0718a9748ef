"""Pure functions from numpy values to `Summary` protos, in the forms TensorFlow 1 writes.

No I/O and no engine: the FileWriter, the SummaryWriter and the engine's graph-mode summary ops
all build their summaries here.
"""
from __future__ import annotations

import io
import numbers
import wave

import numpy as np

from summaries.proto import DataType, HistogramProto, Summary, SummaryMetadata, TensorProto
from summaries.proto.plugins_pb2 import TextPluginData
from summaries.summary.encode import varint
from summaries.summary.tf1_buckets import tf1_histogram
from summaries.summary.png import encode_png

__all__ = ["scalar", "histogram", "histogram_from_bins", "image", "text", "audio", "to_numpy", "scalar_value",
           "float_image_to_uint8", "pr_curve", "pr_curve_raw", "histogram_raw", "draw_boxes"]


def to_numpy(value) -> np.ndarray:
    """numpy view of a number, list, numpy array or anything with `__array__` (e.g. a torch tensor).

    A torch tensor that requires grad or lives on a GPU is detached/copied through its own methods,
    without importing torch.
    """
    if hasattr(value, "detach") and hasattr(value, "cpu"):
        value = value.detach().cpu()
    return np.asarray(value)


def scalar_value(tag: str, value) -> float:
    """`value` as a Python float, or TypeError naming the tag."""
    if isinstance(value, (float, int)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, (str, bytes)) or value is None:
        raise TypeError(f"scalar summary {tag!r}: expected a number, got {type(value).__name__} {value!r:.40}")
    try:
        arr = to_numpy(value)
    except Exception as e:
        raise TypeError(f"scalar summary {tag!r}: expected a number, got {type(value).__name__}") from e
    if arr.size != 1 or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
        raise TypeError(f"scalar summary {tag!r}: expected a single number, got {type(value).__name__} "
                        f"of dtype {arr.dtype} and shape {arr.shape}")
    return float(arr.reshape(()))


def scalar(tag: str, value) -> Summary:
    """A TF1 scalar: `simple_value` (float32)."""
    return Summary(value=[Summary.Value(tag=tag, simple_value=scalar_value(tag, value))])


def _finite_values(tag: str, values) -> np.ndarray:
    arr = to_numpy(values)
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
        raise TypeError(f"histogram summary {tag!r}: expected numbers, got dtype {arr.dtype}")
    arr = arr.astype(np.float64, copy=False)
    if not np.isfinite(arr).all():
        kind = "NaN" if np.isnan(arr).any() else "Infinity"
        raise ValueError(f"{kind} in summary histogram for: {tag}")  # TensorFlow's own message
    return arr


def histogram(tag: str, values) -> Summary:
    """A TF1 histogram (HistogramProto with TensorFlow's default buckets, bucket for bucket)."""
    return Summary(value=[Summary.Value(tag=tag, histo=tf1_histogram(_finite_values(tag, values)))])


def histogram_from_bins(tag: str, values, bins="tensorflow", max_bins: int | None = None) -> Summary:
    """A histogram with numpy-style `bins` (an int, an edge array or a numpy rule name like 'auto');
    bins='tensorflow' gives TensorFlow's default buckets."""
    v = _finite_values(tag, values).ravel()
    if isinstance(bins, str) and bins == "tensorflow":
        return histogram(tag, v)
    if v.size == 0:
        return Summary(value=[Summary.Value(tag=tag, histo=tf1_histogram(v))])
    counts, edges = np.histogram(v, bins=bins)
    if max_bins is not None and counts.size > max_bins:
        counts, edges = np.histogram(v, bins=int(max_bins))
    # Trim empty buckets at both ends; the left edge stays as a first limit with count 0, as
    # tensorboardX writes it, so readers recover each bucket's left edge.
    nz = np.flatnonzero(counts)
    start, end = (nz[0], nz[-1] + 1) if nz.size else (0, counts.size)
    histo = HistogramProto(min=float(v.min()), max=float(v.max()), num=float(v.size), sum=float(v.sum()),
                           sum_squares=float(np.dot(v, v)))
    histo.bucket_limit.extend(edges[start:end + 1].astype(np.float64).tolist())
    histo.bucket.extend([0.0, *counts[start:end].astype(np.float64).tolist()])
    return Summary(value=[Summary.Value(tag=tag, histo=histo)])


def float_image_to_uint8(image: np.ndarray) -> np.ndarray:
    """TF1's float image rule, per image: all >= 0 -> scale so the max is 255; any negative -> scale
    by the largest magnitude to 127 and center 0 at 128. Non-finite pixels become red."""
    img = image.astype(np.float32)
    finite = np.isfinite(img)
    vals = img[finite]
    lo = float(vals.min()) if vals.size else 0.0
    hi = float(vals.max()) if vals.size else 0.0
    if lo < 0:
        peak = max(-lo, hi)
        scale, offset = (127.0 / peak if peak >= 1e-6 else 0.0), 128.0
    else:
        scale, offset = (255.0 / hi if hi >= 1e-6 else 0.0), 0.0
    out = np.where(finite, img * np.float32(scale) + np.float32(offset), 0).astype(np.uint8)
    bad = ~finite.all(axis=-1)
    if bad.any():
        out[bad] = np.array([255, 0, 0, 255], dtype=np.uint8)[: out.shape[-1]]
    return out


def _blob_tags(tag: str, kind: str, count: int, max_outputs: int) -> list[str]:
    """TF1 naming: `tag/image` when max_outputs == 1, else `tag/image/0`, `tag/image/1`, ..."""
    if max_outputs == 1:
        return [f"{tag}/{kind}"][:count]
    return [f"{tag}/{kind}/{i}" for i in range(count)]


def image(tag: str, images, max_outputs: int = 3) -> Summary:
    """TF1 image summary of an NHWC batch (C = 1, 3 or 4): uint8 as is, floats rescaled like TF1."""
    arr = to_numpy(images)
    if arr.ndim != 4 or arr.shape[-1] not in (1, 3, 4):
        raise ValueError(f"image summary {tag!r}: expected a [batch, height, width, channels] array with "
                         f"1, 3 or 4 channels, got shape {tuple(arr.shape)}")
    count = min(arr.shape[0], max(0, int(max_outputs)))
    values = []
    for name, img in zip(_blob_tags(tag, "image", count, max_outputs), arr[:count]):
        pixels = img if img.dtype == np.uint8 else float_image_to_uint8(img)
        h, w, c = pixels.shape
        values.append(Summary.Value(tag=name, image=Summary.Image(
            height=h, width=w, colorspace=c, encoded_image_string=encode_png(pixels))))
    return Summary(value=values)


def _text_tensor(text) -> TensorProto:
    arr = np.asarray(text, dtype=object)
    proto = TensorProto(dtype=DataType.DT_STRING)
    for d in arr.shape:
        proto.tensor_shape.dim.add(size=d)
    proto.string_val.extend(s if isinstance(s, bytes) else str(s).encode("utf-8") for s in arr.ravel())
    return proto


def text(tag: str, text) -> Summary:
    """A text summary (string tensor of any rank, plugin `text`), as TF and TensorBoard write it."""
    metadata = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(
        plugin_name="text", content=TextPluginData(version=0).SerializeToString()))
    return Summary(value=[Summary.Value(tag=tag, metadata=metadata, tensor=_text_tensor(text))])


def _wav(clip: np.ndarray, sample_rate: int) -> bytes:
    pcm = (np.clip(clip, -1.0, 1.0) * 32767).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(pcm.shape[1])
        w.setsampwidth(2)
        w.setframerate(int(sample_rate))
        w.writeframes(pcm.tobytes())
    return buf.getvalue()


def audio(tag: str, audio, sample_rate: numbers.Real, max_outputs: int = 3) -> Summary:
    """TF1 audio summary: [batch, frames] or [batch, frames, channels] floats in [-1, 1] -> 16-bit WAV."""
    arr = to_numpy(audio).astype(np.float32)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim != 3:
        raise ValueError(f"audio summary {tag!r}: expected [batch, frames(, channels)], got shape {arr.shape}")
    count = min(arr.shape[0], max(0, int(max_outputs)))
    values = [Summary.Value(tag=name, audio=Summary.Audio(
        sample_rate=float(sample_rate), num_channels=clip.shape[1], length_frames=clip.shape[0],
        encoded_audio_string=_wav(clip, sample_rate), content_type="audio/wav"))
        for name, clip in zip(_blob_tags(tag, "audio", count, max_outputs), arr[:count])]
    return Summary(value=values)


_PR_MINIMUM_COUNT = 1e-7  # TensorBoard's guard: precision and recall over no examples are 0, not NaN
_PR_BLOCK = 65536  # numpy's histogram sums weights in blocks of this many; summing alike gives the same floats


def _pr_summary(tag: str, data: np.ndarray) -> Summary:
    """The [6, n] float32 tensor (TP, FP, TN, FN, precision, recall) with plugin `pr_curves` metadata.

    PrCurvePluginData is written by hand: field 1 `version` is 0 (proto3's default, so absent) and
    field 2 `num_thresholds` a uint32 varint (tag byte 0x10), the bytes TensorBoard's proto gives.
    """
    data = np.ascontiguousarray(data, dtype="<f4")
    content = b"\x10" + varint(data.shape[1])
    metadata = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name="pr_curves", content=content))
    tensor = TensorProto(dtype=DataType.DT_FLOAT, tensor_content=data.tobytes())
    for d in data.shape:
        tensor.tensor_shape.dim.add(size=d)
    return Summary(value=[Summary.Value(tag=tag, metadata=metadata, tensor=tensor)])


def _pr_inputs(tag: str, labels, predictions, num_thresholds, weights):
    """Checked (labels as float64, predictions, weights broadcast to the labels' shape), or ValueError."""
    if isinstance(num_thresholds, bool) or not isinstance(num_thresholds, numbers.Integral) or num_thresholds < 2:
        raise ValueError(f"pr_curve {tag!r}: num_thresholds must be an integer >= 2, got {num_thresholds!r}")
    y, p = to_numpy(labels), to_numpy(predictions)
    if y.shape != p.shape:
        raise ValueError(f"pr_curve {tag!r}: labels of shape {y.shape} and predictions of shape {p.shape} differ")
    if not (np.issubdtype(y.dtype, np.number) or y.dtype == np.bool_) or not np.isin(y, (0, 1)).all():
        raise ValueError(f"pr_curve {tag!r}: labels must be booleans or 0/1 values")
    if not (np.issubdtype(p.dtype, np.number) or p.dtype == np.bool_) or np.iscomplexobj(p):
        raise ValueError(f"pr_curve {tag!r}: predictions must be numbers in [0, 1], got dtype {p.dtype}")
    if p.dtype == np.bool_ or not np.issubdtype(p.dtype, np.floating):
        p = p.astype(np.float64)
    if not ((p >= 0) & (p <= 1)).all():  # NaN fails both comparisons
        raise ValueError(f"pr_curve {tag!r}: predictions must be in [0, 1]")
    w = np.ones((), np.float64) if weights is None else to_numpy(weights)
    if not (np.issubdtype(w.dtype, np.number) or w.dtype == np.bool_) or not np.isfinite(w).all():
        raise ValueError(f"pr_curve {tag!r}: weights must be finite numbers")
    try:
        w = np.broadcast_to(w, y.shape)
    except ValueError:
        raise ValueError(f"pr_curve {tag!r}: weights of shape {w.shape} do not broadcast to the labels' "
                         f"shape {y.shape}") from None
    return y.astype(np.float64), p, w


def pr_curve(tag: str, labels, predictions, num_thresholds: int = 127, weights=None) -> Summary:
    """TensorBoard's PR-curve summary for one binary classifier.

    Threshold i is i/(n-1); an example counts at every threshold up to its bucket floor(p * (n-1)),
    computed in the predictions' own float type as TensorBoard and tensorboardX do, so counts (and
    the float32 tensor) equal theirs. Unlike tensorboardX, `num_thresholds` is not capped at 127.
    """
    y, p, w = _pr_inputs(tag, labels, predictions, num_thresholds, weights)
    n = int(num_thresholds)
    buckets = np.floor(p * (n - 1)).astype(np.int64).ravel()
    positive, negative = (y * w).ravel(), ((1.0 - y) * w).ravel()
    tp_buckets, fp_buckets = np.zeros(n), np.zeros(n)
    for start in range(0, buckets.size, _PR_BLOCK):
        part = slice(start, start + _PR_BLOCK)
        tp_buckets += np.bincount(buckets[part], weights=positive[part], minlength=n)
        fp_buckets += np.bincount(buckets[part], weights=negative[part], minlength=n)
    tp = np.cumsum(tp_buckets[::-1])[::-1]  # examples at or above each threshold
    fp = np.cumsum(fp_buckets[::-1])[::-1]
    tn, fn = fp[0] - fp, tp[0] - tp
    precision = tp / np.maximum(_PR_MINIMUM_COUNT, tp + fp)
    recall = tp / np.maximum(_PR_MINIMUM_COUNT, tp + fn)
    return _pr_summary(tag, np.stack((tp, fp, tn, fn, precision, recall)))


def pr_curve_raw(tag: str, tp, fp, tn, fn, precision, recall, num_thresholds: int = 127,
                 weights=None) -> Summary:
    """A PR curve from precomputed per-threshold values (six equal-length 1-D arrays).

    `num_thresholds` and `weights` are accepted for tensorboardX's signature; the curve's length
    is that of the arrays (TensorBoard reads it from the tensor's shape).
    """
    rows = [to_numpy(v) for v in (tp, fp, tn, fn, precision, recall)]
    shapes = {r.shape for r in rows}
    if len(shapes) != 1 or rows[0].ndim != 1 or rows[0].size < 1:
        raise ValueError(f"pr_curve_raw {tag!r}: expected six 1-D arrays of one length, got shapes "
                         f"{[r.shape for r in rows]}")
    if any(not (np.issubdtype(r.dtype, np.number) or r.dtype == np.bool_) or np.iscomplexobj(r) for r in rows):
        raise ValueError(f"pr_curve_raw {tag!r}: values must be real numbers")
    return _pr_summary(tag, np.stack([r.astype(np.float64) for r in rows]))



def histogram_raw(tag: str, min, max, num, sum, sum_squares, bucket_limits, bucket_counts) -> Summary:
    """A HistogramProto from statistics computed elsewhere (tensorboardX's `histogram_raw`).

    Each bucket_limits[i] is the right edge of bucket i, so both lists have one length (a
    ValueError naming the tag, not a histogram the dashboards would misread).
    """
    limits, counts = to_numpy(bucket_limits), to_numpy(bucket_counts)
    if limits.ndim != 1 or counts.ndim != 1 or limits.size != counts.size:
        raise ValueError(f"histogram_raw {tag!r}: bucket_limits of shape {limits.shape} and bucket_counts of "
                         f"shape {counts.shape} must be 1-D of one length (use np.histogram's edges[1:])")
    stats = [scalar_value(tag, v) for v in (min, max, num, sum, sum_squares)]
    histo = HistogramProto(min=stats[0], max=stats[1], num=stats[2], sum=stats[3], sum_squares=stats[4])
    histo.bucket_limit.extend(limits.astype(np.float64).tolist())
    histo.bucket.extend(counts.astype(np.float64).tolist())
    return Summary(value=[Summary.Value(tag=tag, histo=histo)])


BOX_COLOR = (255, 0, 0, 255)  # tensorboardX draws its boxes in PIL's 'Red', with lines 2 pixels wide
LABEL_TAB = (10, 5)  # label tab: height, width per character (no font here, so no text in it)


def _box_array(tag: str, boxes) -> np.ndarray:
    """[N, 4] finite float64 (x_min, y_min, x_max, y_max) in pixels, or ValueError naming the tag."""
    arr = to_numpy(boxes)
    if arr.ndim != 2 or arr.shape[1] != 4 or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
        raise ValueError(f"image_with_boxes {tag!r}: expected boxes as an [N, 4] numeric array of "
                         f"(x_min, y_min, x_max, y_max), got shape {arr.shape} and dtype {arr.dtype}")
    arr = arr.astype(np.float64)
    if not np.isfinite(arr).all():
        raise ValueError(f"image_with_boxes {tag!r}: box coordinates must be finite")
    return arr


def _fill(img: np.ndarray, y0: int, y1: int, x0: int, x1: int, color: np.ndarray) -> None:
    """Paint the inclusive rectangle rows y0..y1, columns x0..x1, clipped to the image."""
    y0, x0 = max(y0, 0), max(x0, 0)
    y1, x1 = min(y1, img.shape[0] - 1), min(x1, img.shape[1] - 1)
    if y0 <= y1 and x0 <= x1:
        img[y0:y1 + 1, x0:x1 + 1] = color


def draw_boxes(tag: str, img: np.ndarray, boxes, labels: list[str] | None = None) -> np.ndarray:
    """A copy of HxWxC uint8 `img` with each box outlined as tensorboardX's PIL drawing does.

    Coordinates are truncated toward zero, as PIL does. For an ordered box at least 2 pixels wide and
    high the lines cover exactly PIL's pixels: rows y_min-1..y_min and y_max..y_max+1 (from x_min to
    x_max), columns x_min..x_min+1 and x_max-1..x_max. Reversed corners are swapped first. A label
    gets a filled tab in the box color over the box's bottom-left corner, without text (no font).
    """
    out = img.copy()
    color = np.array(BOX_COLOR[:out.shape[2]], np.uint8)
    for i, box in enumerate(_box_array(tag, boxes)):
        x0, y0, x1, y1 = (int(v) for v in box)
        left, right, top, bottom = min(x0, x1), max(x0, x1), min(y0, y1), max(y0, y1)
        _fill(out, top - 1, top, left, right, color)
        _fill(out, bottom, bottom + 1, left, right, color)
        _fill(out, top, bottom, left, left + 1, color)
        _fill(out, top, bottom, right - 1, right, color)
        if labels is not None and labels[i] is not None and str(labels[i]):  # tensorboardX skips empty labels
            height, per_char = LABEL_TAB
            _fill(out, bottom - height, bottom, left, left + per_char * len(str(labels[i])), color)
    return out


def resize_nearest(img: np.ndarray, scale: float) -> np.ndarray:
    """HxWxC `img` resized by `scale` (nearest pixel; tensorboardX uses Lanczos, which needs Pillow)."""
    h, w = img.shape[:2]
    new_h, new_w = max(1, int(h * scale)), max(1, int(w * scale))
    rows = np.minimum((np.arange(new_h) + 0.5) * h / new_h, h - 1).astype(np.int64)
    cols = np.minimum((np.arange(new_w) + 0.5) * w / new_w, w - 1).astype(np.int64)
    return img[rows][:, cols]
