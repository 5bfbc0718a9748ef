"""The Projector's files, as tensorboardX 2.6.5's `add_embedding` lays them out in a run directory.

    <run>/projector_config.pbtxt              one `embeddings { ... }` entry appended per call
    <run>/<step, 5 digits>/<tag, encoded>/tensors.tsv    one row per point, tab-separated
                                          .../metadata.tsv   one label per line (a header row when given)
                                          .../sprite.png     the label images tiled in a square

Event files are not involved: TensorBoard's projector reads projector_config.pbtxt only.
Deliberate differences from tensorboardX (identical bytes otherwise): uint8 label images are taken as
they are (tensorboardX multiplies every image by 255, so uint8 ones come out saturated); the sprite's
unused bottom rows are black (tensorboardX leaves them uninitialized); tabs and line breaks inside labels
become spaces (tensorboardX writes them raw, which shifts every later row); quotes and backslashes in the
tag are escaped in the config (tensorboardX's file then fails to parse).
"""
from __future__ import annotations

import math
import os
import posixpath
import warnings

import numpy as np

from summaries.summary.png import encode_png

CONFIG_NAME = "projector_config.pbtxt"
MAX_SPRITE = 8192  # pixels a side; TensorBoard's frontend refuses bigger sprites (tensorboardX#516)


def encode_tag(tag: str) -> str:
    """The tag as a single directory name (tensorboardX's `_encode`: %, / and \\ as %xx)."""
    return tag.replace("%", "%25").replace("/", "%2f").replace("\\", "%5c")


def subdir(tag: str, step: int) -> str:
    """`<step zero-padded to 5>/<encoded tag>`, relative to the run directory ("/"-separated)."""
    return f"{str(step).zfill(5)}/{encode_tag(tag)}"


def tensors_tsv(mat: np.ndarray) -> str:
    """Each row's values as Python prints them (`str(x.item())`), tab-separated, one row a line."""
    return "".join("\t".join(str(v) for v in row) + "\n" for row in mat.tolist())


def _cell(value) -> str:
    return str(value).replace("\t", " ").replace("\r", " ").replace("\n", " ")


def metadata_tsv(metadata, header=None) -> str:
    """One label per line; with `header`, a header row and then each point's columns, tab-separated."""
    if not header:
        return "".join(_cell(x) + "\n" for x in metadata)
    rows = [list(header)] + [list(row) for row in metadata]
    if any(len(row) != len(rows[0]) for row in rows):
        raise ValueError(f"add_embedding: the header has {len(rows[0])} columns; every metadata row must too")
    return "".join("\t".join(_cell(x) for x in row) + "\n" for row in rows)


def sprite_pixels(label_img: np.ndarray) -> np.ndarray:
    """The (S, S, 3) uint8 sprite of N square NCHW images (C 1 or 3): ceil(sqrt(N)) images a row, row-major,
    black below the last row. Floats are taken to be in [0, 1] (scaled by 255, clipped, truncated)."""
    n, c, h, w = label_img.shape
    if h != w:
        raise ValueError(f"add_embedding: label images must be square (got {h}x{w}), as TensorBoard needs")
    if c not in (1, 3):
        raise ValueError(f"add_embedding: label images need 1 or 3 channels (NCHW), got {c}")
    if label_img.dtype == np.uint8:
        pixels = label_img
    else:
        scaled = np.nan_to_num(label_img.astype(np.float64) * 255, nan=0.0)
        pixels = np.clip(scaled, 0, 255).astype(np.uint8)
    if c == 1:
        pixels = np.repeat(pixels, 3, axis=1)
    per_row = min(n, int(math.ceil(math.sqrt(n * h * w) / w)))
    side = per_row * w
    if side > MAX_SPRITE:
        raise ValueError(f"add_embedding: the sprite would be {side} pixels a side; TensorBoard shows at most "
                         f"{MAX_SPRITE} (fewer or smaller label images)")
    sprite = np.zeros((side, side, 3), dtype=np.uint8)
    for i in range(n):
        y, x = divmod(i, per_row)
        sprite[y * h:(y + 1) * h, x * w:(x + 1) * w] = pixels[i].transpose(1, 2, 0)
    return sprite


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def config_entry(tag: str, step: int, sub: str, has_metadata: bool, image_dim: tuple[int, int] | None) -> str:
    """One `embeddings { ... }` entry of projector_config.pbtxt, in tensorboardX's layout."""
    lines = ["embeddings {", f"tensor_name: {_quoted(f'{tag}:{str(step).zfill(5)}')}",
             f"tensor_path: {_quoted(posixpath.join(sub, 'tensors.tsv'))}"]
    if has_metadata:
        lines.append(f"metadata_path: {_quoted(posixpath.join(sub, 'metadata.tsv'))}")
    if image_dim is not None:
        lines += ["sprite {", f"image_path: {_quoted(posixpath.join(sub, 'sprite.png'))}",
                  f"single_image_dim: {image_dim[0]}", f"single_image_dim: {image_dim[1]}", "}"]
    return "\n".join(lines + ["}"]) + "\n"


def write_embedding(run_dir: str, mat, metadata=None, label_img=None, global_step: int | None = None,
                    tag: str = "default", metadata_header=None) -> str:
    """Write one embedding's files under `run_dir` and append its config entry; returns its directory.
    Every input is checked before anything is written."""
    mat = np.asarray(mat)
    if mat.ndim != 2:
        raise ValueError(f"add_embedding: mat must be 2-D (points x dimensions), got shape {mat.shape}")
    step = 0 if global_step is None else int(global_step)
    if metadata is not None:
        metadata = list(metadata)
        if len(metadata) != mat.shape[0]:
            raise ValueError(f"add_embedding: {len(metadata)} labels for {mat.shape[0]} points")
        metadata_text = metadata_tsv(metadata, metadata_header)
    sprite = None
    if label_img is not None:
        label_img = np.asarray(label_img)
        if label_img.ndim != 4 or label_img.shape[0] != mat.shape[0]:
            raise ValueError(f"add_embedding: label_img must be NCHW with one image per point, got shape "
                             f"{label_img.shape} for {mat.shape[0]} points")
        sprite = encode_png(sprite_pixels(label_img))
    if encode_tag(tag) in ("", ".", ".."):
        raise ValueError(f"add_embedding: tag {tag!r} cannot name a directory of its own")
    sub = subdir(tag, step)
    path = os.path.join(run_dir, *sub.split("/"))
    if os.path.isdir(path):
        warnings.warn(f"add_embedding: {path} exists (same tag and global_step again?); its files are replaced")
    os.makedirs(path, exist_ok=True)
    if metadata is not None:
        with open(os.path.join(path, "metadata.tsv"), "w", encoding="utf-8", newline="\n") as f:
            f.write(metadata_text)
    if sprite is not None:
        with open(os.path.join(path, "sprite.png"), "wb") as f:
            f.write(sprite)
    with open(os.path.join(path, "tensors.tsv"), "w", encoding="utf-8", newline="\n") as f:
        f.write(tensors_tsv(mat))
    dims = None if label_img is None else (label_img.shape[3], label_img.shape[2])
    with open(os.path.join(run_dir, CONFIG_NAME), "a", encoding="utf-8", newline="\n") as f:
        f.write(config_entry(tag, step, sub, metadata is not None, dims))
    return path
