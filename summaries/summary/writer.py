"""`SummaryWriter`: a drop-in for the common methods of tensorboardX's / torch.utils.tensorboard's writer.

Same argument names and defaults. Values may be Python numbers, numpy arrays or anything with
`__array__` (a torch tensor), and torch is never imported.
"""
from __future__ import annotations

import os
import socket
import time
import warnings
from datetime import datetime

import numpy as np

from summaries.proto import DataType, Event, SessionLog, Summary, SummaryMetadata, TensorProto
from summaries.summary import builders
from summaries.summary import custom_scalars as custom_scalars_summary
from summaries.summary import embedding
from summaries.summary import hparams as hparams_summary
from summaries.summary.file_writer import FileWriter, graph_def_bytes


def _default_logdir(comment: str) -> str:
    stamp = datetime.now().strftime("%b%d_%H-%M-%S")
    return os.path.join("runs", f"{stamp}_{socket.gethostname()}{comment}")


def _to_hwc(tag: str, img: np.ndarray, dataformats: str) -> np.ndarray:
    """An image in `dataformats` (CHW, HWC, HW, ...) as HWC, as tensorboardX converts it."""
    fmt = dataformats.upper()
    if img.ndim != len(fmt) or sorted(fmt) not in (sorted("CHW"), sorted("HW")):
        raise ValueError(f"image {tag!r}: shape {tuple(img.shape)} does not match dataformats {dataformats!r}")
    if fmt.find("C") < 0:
        img = img[..., None]
        fmt += "C"
    img = np.transpose(img, [fmt.index(c) for c in "HWC"])
    if img.shape[2] == 1:
        img = np.repeat(img, 3, axis=2)  # tensorboardX shows grayscale as RGB
    if img.shape[2] not in (3, 4):
        raise ValueError(f"image {tag!r}: expected 1, 3 or 4 channels, got shape {tuple(img.shape)} "
                         f"in {dataformats!r}")
    return img


def _grid(tag: str, images: np.ndarray, dataformats: str, ncols: int = 8) -> np.ndarray:
    """A batch (NCHW, NHWC, ...) as one HWC image, rows of up to `ncols` images, like tensorboardX."""
    fmt = dataformats.upper()
    if images.ndim != len(fmt) or "N" not in fmt:
        raise ValueError(f"images {tag!r}: shape {tuple(images.shape)} does not match dataformats {dataformats!r}")
    n_axis = fmt.index("N")
    frames = [_to_hwc(tag, np.take(images, i, axis=n_axis), fmt.replace("N", "")) for i in range(images.shape[n_axis])]
    if not frames:
        raise ValueError(f"images {tag!r}: empty batch")
    h, w, c = frames[0].shape
    cols = min(len(frames), ncols)
    rows = -(-len(frames) // cols)
    canvas = np.zeros((h * rows, w * cols, c), dtype=frames[0].dtype)
    for i, frame in enumerate(frames):
        r, k = divmod(i, cols)
        canvas[r * h:(r + 1) * h, k * w:(k + 1) * w] = frame
    return canvas


def _figure_rgba(tag: str, figure, close: bool) -> np.ndarray:
    """HxWx4 uint8 pixels of a matplotlib figure drawn by its Agg canvas (draw, buffer_rgba,
    get_width_height); on HiDPI the buffer holds more pixels than the logical size, so its real size wins."""
    canvas = figure.canvas
    if not hasattr(canvas, "buffer_rgba"):
        raise TypeError(f"figure {tag!r}: its canvas {type(canvas).__name__} has no buffer_rgba(); "
                        f"use an Agg-based matplotlib backend")
    canvas.draw()
    buf = np.asarray(memoryview(canvas.buffer_rgba())).view(np.uint8)  # shaped (h, w, 4) or flat bytes
    if buf.ndim != 3:  # a flat buffer: the logical size times the device pixel ratio
        w, h = canvas.get_width_height()
        ratio = round(float(np.sqrt(buf.size / 4 / max(1, w * h))), 6)
        width, height = round(w * ratio), round(h * ratio)
        if width * height * 4 != buf.size:
            raise ValueError(f"figure {tag!r}: RGBA buffer of {buf.size} bytes does not fit size {w}x{h}")
        buf = buf.reshape(height, width, 4)
    if buf.shape[2] != 4:
        raise ValueError(f"figure {tag!r}: expected an RGBA buffer, got shape {buf.shape}")
    pixels = buf.copy()  # the canvas reuses its buffer; closing may free it
    if close:
        _close_figure(figure)
    return pixels


def _video_frames(tag: str, video: np.ndarray, dataformats: str) -> np.ndarray:
    """(T, H', W', 3) uint8 frames of an N-clip batch laid out as tensorboardX does: the batch padded
    with black clips to a power of two, in 2**((N.bit_length() - 1) // 2) rows. GIF has no alpha."""
    fmt = dataformats.upper()
    if sorted(fmt) != sorted("NTCHW") or video.ndim != 5:
        raise ValueError(f"video {tag!r}: shape {tuple(video.shape)} does not match dataformats {dataformats!r}")
    v = _as_uint8(np.transpose(video, [fmt.index(c) for c in "NTCHW"]))
    n, t, c, h, w = v.shape
    if c not in (1, 3, 4) or 0 in v.shape:
        raise ValueError(f"video {tag!r}: expected a non-empty (N, T, C, H, W) clip with 1, 3 or 4 channels, "
                         f"got {tuple(v.shape)} as NTCHW")
    v = np.repeat(v, 3, axis=2) if c == 1 else v[:, :, :3]
    v = np.concatenate([v, np.zeros(((1 << (n - 1).bit_length()) - n, t, 3, h, w), np.uint8)])
    rows = 2 ** ((n.bit_length() - 1) // 2)
    cols = len(v) // rows
    return v.reshape(rows, cols, t, 3, h, w).transpose(2, 0, 4, 1, 5, 3).reshape(t, rows * h, cols * w, 3)


def _close_figure(figure) -> None:
    """Release the figure as matplotlib's pyplot does (it keeps every figure alive until closed)."""
    try:
        from matplotlib import pyplot
    except ImportError:
        return
    pyplot.close(figure)


def _as_uint8(img: np.ndarray) -> np.ndarray:
    """tensorboardX's rule: uint8 as is, anything else is taken to be in [0, 1] and scaled by 255."""
    if img.dtype == np.uint8:
        return img
    return (img.astype(np.float32) * 255).clip(0, 255).astype(np.uint8)


class SummaryWriter:
    """Writes scalars, histograms, images, text and graphs for TensorBoard (or board) to `log_dir`."""

    def __init__(self, log_dir: str | os.PathLike | None = None, comment: str = "", purge_step: int | None = None,
                 max_queue: int = 10, flush_secs: float = 120, filename_suffix: str = "", **_ignored):
        self.logdir = os.fspath(log_dir) if log_dir is not None else _default_logdir(comment)
        self._options = dict(max_queue=max_queue, flush_secs=flush_secs, filename_suffix=filename_suffix)
        self.file_writer = FileWriter(self.logdir, **self._options)
        self.all_writers = {self.logdir: self.file_writer}
        if purge_step is not None:  # readers drop what a crashed run wrote at or after purge_step
            self.file_writer.add_session_log(SessionLog(status=SessionLog.START), purge_step)

    def get_logdir(self) -> str:
        return self.logdir

    def _summary(self, summary: Summary, global_step, walltime, writer: FileWriter | None = None) -> None:
        (writer or self.file_writer).add_summary(summary, None if global_step is None else int(global_step),
                                                 walltime)

    def add_scalar(self, tag: str, scalar_value, global_step: int | None = None, walltime: float | None = None,
                   new_style: bool = False, double_precision: bool = False) -> None:
        """One point of a scalar series; `new_style` writes TF2's tensor form (plugin `scalars`)."""
        value = builders.scalar_value(tag, scalar_value)
        step = None if global_step is None else int(global_step)
        if not new_style:
            self.file_writer.add_scalar_fast(tag, value, step, walltime)
            return
        dtype = DataType.DT_DOUBLE if double_precision else DataType.DT_FLOAT
        tensor = TensorProto(dtype=dtype, double_val=[value]) if double_precision else TensorProto(
            dtype=dtype, float_val=[value])
        metadata = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name="scalars"))
        self._summary(Summary(value=[Summary.Value(tag=tag, tensor=tensor, metadata=metadata)]), step, walltime)

    def add_scalars(self, main_tag: str, tag_scalar_dict: dict, global_step: int | None = None,
                    walltime: float | None = None) -> None:
        """Several series on one chart: each key becomes the run `<log_dir>/<main_tag>/<key>` with tag `main_tag`."""
        walltime = time.time() if walltime is None else walltime
        for key, value in tag_scalar_dict.items():
            writer = self._sub_writer(os.path.join(main_tag.replace("/", "_"), key))
            writer.add_scalar_fast(main_tag, builders.scalar_value(main_tag, value),
                                   None if global_step is None else int(global_step), walltime)

    def add_custom_scalars(self, layout) -> None:
        """The Custom Scalars dashboard's layout for this run (tensorboardX's dict form
        {category: {chart: ['Multiline', [regex...]] | ['Margin', [value, lower, upper]]}}, or a Layout).
        TensorBoard shows the last layout a run wrote: call once per writer."""
        self._summary(custom_scalars_summary.custom_scalars(layout), None, None)

    def add_custom_scalars_multilinechart(self, tags: list, category: str = "default",
                                          title: str = "untitled") -> None:
        """A layout of one Multiline chart: every scalar tag matching any of `tags` (regexes)."""
        self.add_custom_scalars(custom_scalars_summary.multiline_layout(tags, category, title))

    def add_custom_scalars_marginchart(self, tags: list, category: str = "default", title: str = "untitled") -> None:
        """A layout of one Margin chart: `tags` are the (value, lower, upper) scalar tags."""
        self.add_custom_scalars(custom_scalars_summary.margin_layout(tags, category, title))

    def _sub_writer(self, subdir: str) -> FileWriter:
        """The writer of run `<log_dir>/<subdir>`, made on first use (add_scalars' and add_hparams' runs)."""
        path = os.path.join(self.logdir, subdir)
        writer = self.all_writers.get(path)
        if writer is None:
            writer = self.all_writers[path] = FileWriter(path, **self._options)
        return writer

    def add_histogram(self, tag: str, values, global_step: int | None = None, bins="tensorflow",
                      walltime: float | None = None, max_bins: int | None = None) -> None:
        """A histogram of `values`: TensorFlow's buckets by default, or numpy `bins` ('auto', an int, edges)."""
        self._summary(builders.histogram_from_bins(tag, values, bins, max_bins), global_step, walltime)

    def add_histogram_raw(self, tag: str, min, max, num, sum, sum_squares, bucket_limits, bucket_counts,
                          global_step: int | None = None, walltime: float | None = None) -> None:
        """A histogram from statistics computed elsewhere; bucket_limits[i] is bucket i's right edge
        (np.histogram's edges[1:]), so both lists must have one length."""
        self._summary(builders.histogram_raw(tag, min, max, num, sum, sum_squares, bucket_limits, bucket_counts),
                      global_step, walltime)

    def add_image(self, tag: str, img_tensor, global_step: int | None = None, walltime: float | None = None,
                  dataformats: str = "CHW") -> None:
        """One image; uint8 as is, floats taken to be in [0, 1]."""
        img = _as_uint8(_to_hwc(tag, builders.to_numpy(img_tensor), dataformats))
        self._summary(self._image_summary(tag, img), global_step, walltime)

    def add_images(self, tag: str, img_tensor, global_step: int | None = None, walltime: float | None = None,
                   dataformats: str = "NCHW") -> None:
        """A batch of images, tiled into one grid image as tensorboardX does."""
        img = _as_uint8(_grid(tag, builders.to_numpy(img_tensor), dataformats))
        self._summary(self._image_summary(tag, img), global_step, walltime)

    def add_image_with_boxes(self, tag: str, img_tensor, box_tensor, global_step: int | None = None,
                             walltime: float | None = None, rescale: float = 1, dataformats: str = "CHW",
                             labels: list[str] | str | None = None) -> None:
        """One image with [N, 4] boxes (x_min, y_min, x_max, y_max in pixels) outlined in red, 2 pixels
        wide, as tensorboardX draws them; labels must be one per box (else skipped with a warning)."""
        img = _as_uint8(_to_hwc(tag, builders.to_numpy(img_tensor), dataformats))
        labels = [labels] if isinstance(labels, str) else labels
        boxes = builders.to_numpy(box_tensor)
        if labels is not None and len(labels) != (len(boxes) if boxes.ndim else 0):
            warnings.warn(f"image_with_boxes {tag!r}: {len(labels)} labels for {boxes.shape} boxes; labels skipped")
            labels = None
        img = builders.draw_boxes(tag, img, boxes, labels)
        if rescale != 1:
            img = builders.resize_nearest(img, rescale)
        self._summary(self._image_summary(tag, img), global_step, walltime)

    @staticmethod
    def _image_summary(tag: str, hwc: np.ndarray) -> Summary:
        from summaries.summary.png import encode_png
        h, w, c = hwc.shape
        return Summary(value=[Summary.Value(tag=tag, image=Summary.Image(
            height=h, width=w, colorspace=c, encoded_image_string=encode_png(np.ascontiguousarray(hwc))))])

    def add_figure(self, tag: str, figure, global_step: int | None = None, close: bool = True,
                   walltime: float | None = None) -> None:
        """A matplotlib figure (or a list of same-sized figures, tiled like add_images) as an RGBA image.

        Duck-typed on the figure's Agg canvas, so matplotlib is imported only to close the figure."""
        figures = figure if isinstance(figure, list) else [figure]
        if not figures:
            raise ValueError(f"figure {tag!r}: empty list of figures")
        frames = [_figure_rgba(tag, f, close) for f in figures]
        if len({f.shape for f in frames}) != 1:
            raise ValueError(f"figure {tag!r}: figures of different sizes {[f.shape for f in frames]} "
                             f"cannot be tiled into one image")
        img = frames[0] if not isinstance(figure, list) else _grid(tag, np.stack(frames), "NHWC")
        self._summary(self._image_summary(tag, img), global_step, walltime)

    def add_video(self, tag: str, vid_tensor, global_step: int | None = None, fps: float = 4,
                  walltime: float | None = None, dataformats: str = "NTCHW") -> None:
        """A batch of clips (N, T, C, H, W; uint8, or floats in [0, 1]) as one looping animated GIF
        image, the clips tiled as tensorboardX tiles them; encoded here, without moviepy."""
        from summaries.summary.gif import encode_gif
        frames = _video_frames(tag, builders.to_numpy(vid_tensor), dataformats)
        _, h, w, c = frames.shape
        image = Summary.Image(height=h, width=w, colorspace=c, encoded_image_string=encode_gif(frames, fps))
        self._summary(Summary(value=[Summary.Value(tag=tag, image=image)]), global_step, walltime)

    def add_text(self, tag: str, text_string: str, global_step: int | None = None,
                 walltime: float | None = None) -> None:
        """Text (markdown) shown by the text dashboard."""
        self._summary(builders.text(tag, [text_string]), global_step, walltime)

    def add_hparams(self, hparam_dict: dict, metric_dict: dict, hparam_domain_discrete: dict | None = None,
                    run_name: str | None = None, global_step: int | None = None) -> None:
        """One session of a hyperparameter search, as tensorboardX / PyTorch write it: a sub-run
        `<log_dir>/<run_name or the time>` holding the experiment, session-start and session-end
        summaries and each metric of `metric_dict` as a scalar. Bad values raise before anything is written."""
        if not isinstance(hparam_dict, dict) or not isinstance(metric_dict, dict):
            raise TypeError("add_hparams: hparam_dict and metric_dict must be dicts")
        summaries = hparams_summary.hparams_summaries(hparam_dict, metric_dict, hparam_domain_discrete)
        metrics = {tag: builders.scalar_value(tag, value) for tag, value in metric_dict.items()}
        writer = self._sub_writer(run_name or str(time.time()))
        for summary in summaries:
            self._summary(summary, global_step, None, writer)
        for tag, value in metrics.items():
            writer.add_scalar_fast(tag, value, None if global_step is None else int(global_step))
        writer.flush()  # a finished session: visible at once, as tensorboardX's closed writer makes it

    def add_audio(self, tag: str, snd_tensor, global_step: int | None = None, sample_rate: int = 44100,
                  walltime: float | None = None) -> None:
        """A mono or multi-channel clip of floats in [-1, 1]."""
        clip = builders.to_numpy(snd_tensor).astype(np.float32)
        summary = builders.audio(tag, clip.reshape(1, clip.shape[0], -1), sample_rate, max_outputs=1)
        summary.value[0].tag = tag
        self._summary(summary, global_step, walltime)

    def add_pr_curve(self, tag: str, labels, predictions, global_step: int | None = None, num_thresholds: int = 127,
                     weights=None, walltime: float | None = None) -> None:
        """A precision-recall curve of binary `labels` against `predictions` in [0, 1] (TensorBoard's PR
        curve; `num_thresholds` is not capped at 127 as tensorboardX caps it)."""
        self._summary(builders.pr_curve(tag, labels, predictions, num_thresholds, weights), global_step, walltime)

    def add_pr_curve_raw(self, tag: str, true_positive_counts, false_positive_counts, true_negative_counts,
                         false_negative_counts, precision, recall, global_step: int | None = None,
                         num_thresholds: int = 127, weights=None, walltime: float | None = None) -> None:
        """A precision-recall curve from counts, precision and recall already computed per threshold."""
        self._summary(builders.pr_curve_raw(tag, true_positive_counts, false_positive_counts, true_negative_counts,
                                            false_negative_counts, precision, recall, num_thresholds, weights),
                      global_step, walltime)

    def add_embedding(self, mat, metadata=None, label_img=None, global_step: int | None = None,
                      tag: str = "default", metadata_header=None) -> None:
        """Points for the Projector: `mat` (N, D) rows, optional labels (one per point, or rows of columns
        named by `metadata_header`) and square NCHW `label_img` tiled into a sprite. Written as tensorboardX
        writes them (see summaries.summary.embedding): files beside the event files, not events."""
        images = None if label_img is None else builders.to_numpy(label_img)
        embedding.write_embedding(self.logdir, builders.to_numpy(mat), metadata, images, global_step, tag,
                                  metadata_header)

    def add_graph(self, model, input_to_model=None, verbose: bool = False, **_ignored) -> None:
        """A GraphDef (proto or bytes) or a Graph with `as_graph_def()`, e.g. our engine's `sess.graph`."""
        if hasattr(model, "forward") and not hasattr(model, "as_graph_def"):
            raise TypeError("add_graph: tracing a torch module needs torch itself (torch.utils.tensorboard); "
                            "pass a GraphDef or an engine graph here")
        self.file_writer.add_event(Event(wall_time=time.time(), graph_def=graph_def_bytes(model)))

    def flush(self) -> None:
        for writer in self.all_writers.values():
            writer.flush()

    def close(self) -> None:
        for writer in self.all_writers.values():
            writer.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
