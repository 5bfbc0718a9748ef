"""Writes reference.npz: what tensorboardX 2.6.5 makes for fixed inputs of the SummaryWriter extras.

Run with a Python that has tensorboardX and Pillow (not the project venv):
    /work/peers_tb/bin/python tests/data/writer_extras/make_reference.py
The inputs are functions here that tests/test_writer_extras.py calls too (tensorboardX and Pillow
are imported by main() alone), so only tensorboardX's outputs are stored:
- `histogram_raw/<case>`: the serialized Summary of `tensorboardX.summary.histogram_raw`.
- `image_boxes/<case>`: the PNG bytes of `tensorboardX.summary.image_boxes` (Pillow's drawing), boxes
  ordered and at least 2 pixels wide and high (PIL draws reversed or thinner ones direction-dependently).
- `video/<n>`: the uint8 (T, H, W, C) frames `tensorboardX.summary.video` hands to moviepy for a batch of
  n clips (its tiling and scaling; moviepy's GIF step itself is not installed there).
"""
from pathlib import Path

import numpy as np


def histogram_raw_cases() -> dict:
    """Keyword arguments of add_histogram_raw (tag apart), as a user would pass them."""
    dummy = np.concatenate([[i + 0.001] * i for i in range(30)])  # tensorboardX's docstring example
    counts, limits = np.histogram(dummy)
    rng = np.random.default_rng(7)
    normal = rng.normal(size=500)
    n_counts, n_limits = np.histogram(normal, bins=17)
    return {
        "docstring": dict(min=dummy.min(), max=dummy.max(), num=len(dummy), sum=dummy.sum(),
                          sum_squares=dummy.dot(dummy), bucket_limits=limits[1:].tolist(),
                          bucket_counts=counts.tolist()),
        "numpy_arrays": dict(min=float(normal.min()), max=float(normal.max()), num=normal.size,
                             sum=float(normal.sum()), sum_squares=float(normal @ normal),
                             bucket_limits=n_limits[1:], bucket_counts=n_counts.astype(np.float64)),
        "ints": dict(min=-3, max=9, num=4, sum=10, sum_squares=100, bucket_limits=[0, 5, 10],
                     bucket_counts=[1, 2, 1]),
    }


def image_boxes_cases() -> dict:
    """Keyword arguments of add_image_with_boxes (tag apart): boxes inside, across every border, outside."""
    rng = np.random.default_rng(11)
    return {
        "rgb_chw": dict(img_tensor=rng.integers(0, 256, (3, 20, 24), dtype=np.uint8),
                        box_tensor=np.array([[2, 3, 10, 12], [15, 1, 23, 19], [-4, -3, 5, 6], [18, 14, 40, 30],
                                             [30, 2, 35, 9]]), dataformats="CHW"),
        "rgba_hwc_float_boxes": dict(img_tensor=rng.integers(0, 256, (16, 12, 4), dtype=np.uint8),
                                     box_tensor=np.array([[1.7, 2.2, 8.9, 13.5], [-2.5, 4.4, 3.6, 6.9]]),
                                     dataformats="HWC"),
        "gray_float_image": dict(img_tensor=rng.random((1, 10, 11)).astype(np.float32),
                                 box_tensor=np.array([[0, 0, 10, 9], [3, 3, 6, 6]], np.float32), dataformats="CHW"),
    }


def video_cases() -> dict:
    """Float clips (N, T, C, H, W) of values k/4, exact in float32 and float64 times 255, 5**3 colors at most."""
    rng = np.random.default_rng(13)
    return {n: (rng.integers(0, 5, (n, 3, 3, 4, 5)) / 4).astype(np.float32) for n in (1, 2, 3, 4, 5)}


def main():
    import tensorboardX
    from tensorboardX.summary import histogram_raw, image_boxes

    out = {"tensorboardX_version": np.array(tensorboardX.__version__)}
    for name, kwargs in histogram_raw_cases().items():
        summary = histogram_raw(name, **kwargs)
        out[f"histogram_raw/{name}"] = np.frombuffer(summary.SerializeToString(), np.uint8)
    for name, kwargs in image_boxes_cases().items():
        summary = image_boxes(name, kwargs["img_tensor"], kwargs["box_tensor"], dataformats=kwargs["dataformats"])
        out[f"image_boxes/{name}"] = np.frombuffer(summary.value[0].image.encoded_image_string, np.uint8)
    from tensorboardX.utils import _prepare_video
    for n, clip in video_cases().items():  # tensorboardX.summary.video up to its make_video(tensor, fps) call
        out[f"video/{n}"] = (_prepare_video(clip) * 255.0).astype(np.uint8)
    np.savez_compressed(Path(__file__).with_name("reference.npz"), **out)


if __name__ == "__main__":
    main()
