"""MNIST for the labs: the old `input_data.read_data_sets(dir, one_hot=True)` surface.

Reads the standard IDX files (train-images-idx3-ubyte.gz, ...) from the directory given, or from
`--data_dir DIR` on the command line. When they are absent it says so and generates a small
digit-like set locally (seven-segment glyphs with random slant, scale, shift, stroke width and
noise), deterministic and offline, so every lab runs without a download.
"""
from __future__ import annotations

import argparse
import gzip
import os
import sys

import numpy as np

FILES = {"train_images": "train-images-idx3-ubyte.gz", "train_labels": "train-labels-idx1-ubyte.gz",
         "test_images": "t10k-images-idx3-ubyte.gz", "test_labels": "t10k-labels-idx1-ubyte.gz"}


def data_dir(default: str = "MNIST_data/") -> str:
    """`--data_dir DIR` (or `--data_dir=DIR`) from the command line, else `default`."""
    argv = sys.argv[1:]
    for i, a in enumerate(argv):
        if a == "--data_dir" and i + 1 < len(argv):
            return argv[i + 1]
        if a.startswith("--data_dir="):
            return a.split("=", 1)[1]
    return default


def lab_flags(description: str, logdir: str) -> argparse.Namespace:
    """The command line the CNN labs share: training length, batch, logging and data directory."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--steps", type=int, default=0, help="training steps (default: one epoch)")
    parser.add_argument("--batch_size", type=int, default=100)
    parser.add_argument("--learning_rate", type=float, default=0.001)
    parser.add_argument("--logdir", default=logdir)
    parser.add_argument("--summary_every", type=int, default=10, help="write summaries every N steps")
    parser.add_argument("--eval_size", type=int, default=0, help="test images to score (default: all)")
    parser.add_argument("--data_dir", default="MNIST_data/", help="directory of the MNIST .gz files")
    return parser.parse_args()


def batched_accuracy(score, test: DataSet, size: int = 0, batch: int = 500) -> float:
    """Mean of `score(images, labels)` over the first `size` test images (all by default), `batch` at a
    time so a CNN's activations for 10,000 images never sit in memory at once."""
    n = size or test.num_examples
    hits = 0.0
    for i in range(0, n, batch):
        xs, ys = test.images[i:min(n, i + batch)], test.labels[i:min(n, i + batch)]
        hits += score(xs, ys) * len(xs)
    return hits / n


class DataSet:
    """Images (N, 784) float32 in [0, 1] and labels; `next_batch` walks shuffled epochs."""

    def __init__(self, images: np.ndarray, labels: np.ndarray, seed: int = 0):
        self._images, self._labels = images, labels
        self._rng = np.random.default_rng(seed)
        self._order = self._rng.permutation(len(images))
        self._pos = 0
        self.epochs_completed = 0

    @property
    def images(self) -> np.ndarray:
        return self._images

    @property
    def labels(self) -> np.ndarray:
        return self._labels

    @property
    def num_examples(self) -> int:
        return len(self._images)

    def next_batch(self, batch_size: int, fake_data: bool = False, shuffle: bool = True):
        if self._pos + batch_size > len(self._order):
            self.epochs_completed += 1
            self._order = self._rng.permutation(len(self._images)) if shuffle else np.arange(len(self._images))
            self._pos = 0
        idx = self._order[self._pos:self._pos + batch_size]
        self._pos += batch_size
        return self._images[idx], self._labels[idx]


class Datasets:
    def __init__(self, train: DataSet, validation: DataSet, test: DataSet):
        self.train, self.validation, self.test = train, validation, test


def _read_idx(path: str) -> np.ndarray:
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def _one_hot(labels: np.ndarray, n: int = 10) -> np.ndarray:
    return np.eye(n, dtype=np.float32)[labels]


# Seven-segment strokes in a unit box (x right, y down) and the segments each digit lights.
_SEGMENTS = {"a": ((0, 0), (1, 0)), "b": ((1, 0), (1, .5)), "c": ((1, .5), (1, 1)), "d": ((0, 1), (1, 1)),
             "e": ((0, .5), (0, 1)), "f": ((0, 0), (0, .5)), "g": ((0, .5), (1, .5))}
_DIGITS = ["abcdef", "bc", "abged", "abgcd", "fgbc", "afgcd", "afgedc", "abc", "abcdefg", "abcdfg"]


def synthetic_digits(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """`n` 28x28 digit-like images (flattened, float32 in [0, 1]) and their labels 0..9."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n)
    yy, xx = np.mgrid[0:28, 0:28].astype(np.float32)
    px, py = xx.ravel(), yy.ravel()
    images = np.zeros((n, 784), np.float32)
    f32 = np.float32
    w = rng.uniform(9, 14, n).astype(f32)
    h = rng.uniform(15, 20, n).astype(f32)
    cx = (14 + rng.uniform(-2.5, 2.5, n)).astype(f32)
    cy = (14 + rng.uniform(-2, 2, n)).astype(f32)
    slant = rng.uniform(-0.3, 0.3, n).astype(f32)
    thick = rng.uniform(1.0, 2.2, n).astype(f32)
    for seg, ((x0, y0), (x1, y1)) in _SEGMENTS.items():
        on = np.array([seg in _DIGITS[d] for d in labels])
        idx = np.flatnonzero(on)
        if not idx.size:
            continue
        # segment end points in pixels, with slant (x shifts with height)
        def pt(ux, uy):
            y = cy[idx] + f32(uy - 0.5) * h[idx]
            x = cx[idx] + f32(ux - 0.5) * w[idx] - slant[idx] * f32(uy - 0.5) * h[idx]
            return x[:, None], y[:, None]
        ax, ay = pt(x0, y0)
        bx, by = pt(x1, y1)
        dx, dy = bx - ax, by - ay
        t = np.clip(((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy), 0, 1)
        dist = np.hypot(px - (ax + t * dx), py - (ay + t * dy))
        ink = np.clip(1.0 - (dist - thick[idx, None] / 2), 0, 1)
        images[idx] = np.maximum(images[idx], ink)
    images += rng.standard_normal(images.shape, dtype=np.float32) * f32(0.08)
    return np.clip(images, 0, 1).astype(np.float32), labels


def read_data_sets(train_dir: str = "MNIST_data/", one_hot: bool = False, fake_data: bool = False,
                   validation_size: int = 5000, seed: int = 0, synthetic_size: int = 12000) -> Datasets:
    """The real MNIST from `train_dir` when its four .gz files are there, else the synthetic set."""
    paths = {k: os.path.join(train_dir, v) for k, v in FILES.items()}
    if all(os.path.exists(p) for p in paths.values()):
        train_x = _read_idx(paths["train_images"]).reshape(-1, 784).astype(np.float32) / 255.0
        train_y = _read_idx(paths["train_labels"]).astype(np.int64)
        test_x = _read_idx(paths["test_images"]).reshape(-1, 784).astype(np.float32) / 255.0
        test_y = _read_idx(paths["test_labels"]).astype(np.int64)
    else:
        print(f"MNIST files not found in {train_dir!r} (expected {', '.join(FILES.values())}); "
              f"using a generated digit-like dataset instead.")
        train_x, train_y = synthetic_digits(synthetic_size, seed=1)
        test_x, test_y = synthetic_digits(max(1000, synthetic_size // 6), seed=2)
        validation_size = min(validation_size, len(train_x) // 10)
    if one_hot:
        train_y, test_y = _one_hot(train_y), _one_hot(test_y)
    val = DataSet(train_x[:validation_size], train_y[:validation_size], seed)
    train = DataSet(train_x[validation_size:], train_y[validation_size:], seed)
    return Datasets(train, val, DataSet(test_x, test_y, seed))


input_data = sys.modules[__name__]
