"""Projector (embeddings): the runs' `projector_config.pbtxt` entries, an embedding's points projected by PCA,
and its sprite image. Routes of our own (TensorBoard's send the raw tensor for its WebGL page to project):

GET /runs -> {"runs": [{"run", "error": str|null, "embeddings": [{"name", "tensor_path", "metadata_path": str|null,
  "sprite": {"image_path", "single_image_dim": [w, h]|null}|null, "error": str|null}]}]}: every run whose directory
  holds a projector_config.pbtxt (TensorBoard's ProjectorConfig in text format: summaries/proto/projector.proto,
  parsed by protobuf's text_format), in run order. A config that cannot be read or parsed gives the run an error
  and no embeddings; an entry whose tensor lives in a TensorFlow checkpoint (no tensor_path) is listed with an
  error (reading checkpoints needs TensorFlow).
GET /pca?run=R&name=N -> {"run", "name", "total_points", "points", "truncated", "max_points", "dimensions",
  "components": [[x per point], ...] (up to 3), "variance": [fraction of the total variance per component],
  "metadata": {"columns": [...], "values": [[column's value per point], ...]}|null, "sprite":
  {"single_image_dim": [w, h]}|null}: the first `points` rows (at most MAX_POINTS of `total_points`, fewer
  when rows x columns would pass MAX_VALUES; `truncated` says a cap was hit; one projection at a time)
  centered and projected on their first principal axes (numpy's SVD), metadata read as TensorBoard reads it
  (a first line with a tab is the header; one column is "label").
GET /sprite?run=R&name=N -> the sprite image's bytes (its type from its first bytes, as the images route).

Files are read through the data layer (`provider.run_file`: only inside the run's directory, by the relative
paths the config names; absolute paths, `..`, symlinks and non-regular files refused; TensorBoard refuses paths
resolving outside the config's directory and follows symlinks), each kind with a size cap here. Every failure
is a JSON 400/404/413 naming the run and tensor.
"""
from __future__ import annotations

import codecs
import os
import threading

import numpy as np
from flask import Blueprint, Response, request
from google.protobuf import text_format

from board_server.data.run_files import RunFileError
from board_server.jsonutil import float_list, json_error, json_response
from board_server.plugins.common import IdentityLRU
from board_server.plugins.images import sniff_image_type
from summaries.proto import projector_pb2
from summaries.summary.embedding import CONFIG_NAME, MAX_SPRITE

NAME = "projector"
TAB_NAME = "Projector"
MAX_CONFIG_BYTES = 1 << 20
MAX_TENSOR_BYTES = 512 << 20
MAX_METADATA_BYTES = 64 << 20
MAX_SPRITE_BYTES = 64 << 20
MAX_POINTS = 20_000
MAX_VALUES = 10_000_000  # numbers a projection reads (rows x columns): bounds memory and the SVD's time
COMPONENTS = 3
CACHE_SIZE = 8
CHECKPOINT_ONLY = "the tensor is in a TensorFlow checkpoint, which is not read"


class ProjectorError(RunFileError):
    """A failure the page is told about (a 4xx answer): a file that cannot be read or parsed."""


# -- projector_config.pbtxt ---------------------------------------------------------------------------------------

def embeddings_of(config: projector_pb2.ProjectorConfig) -> list[dict]:
    """The config's embeddings as the listing gives them (names as TensorBoard normalizes them)."""
    out = []
    for entry in config.embeddings:
        name = entry.tensor_name or os.path.basename(entry.tensor_path)
        if name.endswith(":0"):
            name = name[:-2]
        sprite_info = None
        if entry.HasField("sprite") and entry.sprite.image_path:
            dims = list(entry.sprite.single_image_dim)[:2]
            sprite_info = {"image_path": entry.sprite.image_path,  # no thumbnails without a sane size
                           "single_image_dim": dims if len(dims) == 2 and all(1 <= d <= MAX_SPRITE for d in dims)
                           else None}
        out.append({"name": name, "tensor_path": entry.tensor_path or None,
                    "metadata_path": entry.metadata_path or None, "sprite": sprite_info,
                    "tensor_shape": list(entry.tensor_shape),
                    "error": None if entry.tensor_path else CHECKPOINT_ONLY})
    return out


def _canonical(name: str) -> str:
    return name if ":" in name else name + ":0"


def read_config(provider, run: str) -> list[dict]:
    raw = provider.run_file(run, CONFIG_NAME, MAX_CONFIG_BYTES)
    try:
        config = text_format.Parse(raw.decode("utf-8"), projector_pb2.ProjectorConfig(), allow_unknown_field=True)
    except UnicodeDecodeError:
        raise ProjectorError(f"{CONFIG_NAME} is not UTF-8 text") from None
    except text_format.ParseError as e:
        raise ProjectorError(f"{CONFIG_NAME} is not a projector config ({e})") from None
    except RecursionError:  # unknown fields nested thousands deep
        raise ProjectorError(f"{CONFIG_NAME} is not a projector config (nested too deep)") from None
    return embeddings_of(config)


# -- tensors, metadata, PCA ------------------------------------------------------------------------------------

def parse_tensors(raw: bytes, shape: list[int], max_points: int) -> tuple[np.ndarray, int]:
    """(the first `max_points` rows as float64, the total number of rows) of a tensors.tsv, or of a raw float32
    file of 2-D `tensor_shape` (as TensorBoard falls back to when the file is not text)."""
    try:  # text, judged by its head (decoding all of a 512 MB file would double it in memory)
        codecs.getincrementaldecoder("utf-8")().decode(raw[:65536], final=False)
    except UnicodeDecodeError:
        if len(shape) != 2 or shape[0] * shape[1] * 4 != len(raw):
            raise ProjectorError("the tensor file is neither text nor float32 of the config's 2-D tensor_shape") \
                from None
        mat = np.frombuffer(raw, dtype="<f4").reshape(shape)
        return mat[:max_points].astype(np.float64), shape[0]
    first = raw[:raw.find(b"\n") if b"\n" in raw else len(raw)]
    columns = first.count(b"\t") + 1
    parts, following = _head(raw, min(max_points, max(1, MAX_VALUES // columns)))
    head = [line for line in (p.rstrip(b"\r").decode("utf-8", "replace") for p in parts) if line]
    total = len(head) + following  # empty lines in the head are skipped (tensorboardX writes none)
    if not head:
        return np.zeros((0, 0)), 0
    try:  # numpy's C parser: ~30% faster than float() per value on 20,000 x 784
        mat = np.loadtxt(head, delimiter="\t", dtype=np.float64, ndmin=2, comments=None)
    except ValueError as e:
        raise ProjectorError(f"the tensor file is not rows of tab-separated numbers ({str(e)[:120]})") from None
    return mat, total


def _head(raw: bytes, n: int) -> tuple[list[bytes], int]:
    """The first `n` lines of a file (the last may be the empty rest after a final newline) and how many lines
    follow them, splitting no further: a 512 MB file of short lines must not become millions of strings."""
    parts = raw.split(b"\n", n)
    rest = parts.pop() if len(parts) > n else b""
    return parts, (rest.count(b"\n") + (not rest.endswith(b"\n")) if rest else 0)


def pca(mat: np.ndarray, k: int = COMPONENTS) -> tuple[np.ndarray, np.ndarray]:
    """(the rows projected on the first k principal axes, [n, k'], each axis' fraction of the total variance):
    numpy's SVD of the centered matrix; k' = min(k, rows, columns)."""
    centered = mat - mat.mean(axis=0)
    _, s, vt = np.linalg.svd(centered, full_matrices=False)
    k = min(k, vt.shape[0])
    total = float(np.sum(s ** 2))
    fractions = (s[:k] ** 2 / total) if total > 0 else np.zeros(k)
    return centered @ vt[:k].T, fractions


def parse_metadata(raw: bytes, max_rows: int) -> dict:
    """{"columns", "rows" (the first `max_rows`), "total"} of a metadata.tsv (TensorBoard's rule: a first line
    holding a tab is a header; a single column is named "label"); only the head is split into strings."""
    parts, following = _head(raw, max_rows + 1)
    lines = [p.rstrip(b"\r").decode("utf-8", "replace") for p in parts]
    if not following and lines and lines[-1] == "":
        lines.pop()
    header = bool(lines) and "\t" in lines[0]
    columns, rows = (lines[0].split("\t"), lines[1:]) if header else (["label"], lines)
    return {"columns": columns, "rows": rows[:max_rows], "total": len(rows) + following}


def metadata_columns(parsed: dict, points: int, total: int) -> dict:
    """{"columns", "values": [[a column's value per point]]} for the first `points` of `total` points."""
    columns, rows = parsed["columns"], parsed["rows"]
    if parsed["total"] != total:
        raise ProjectorError(f"the metadata has {parsed['total']} rows for {total} points")
    values = [[] for _ in columns]
    for row in rows[:points]:
        cells = row.split("\t") if len(columns) > 1 else [row]
        for j in range(len(columns)):
            values[j].append(cells[j] if j < len(cells) else "")
    return {"columns": columns, "values": values}


def is_active(provider) -> bool:
    return any(provider.run_file_version(info.name, CONFIG_NAME) is not None for info in provider.runs())


def create_blueprint(provider) -> Blueprint:
    bp = Blueprint(NAME, __name__)
    cache = IdentityLRU(CACHE_SIZE)  # projections and parsed configs; their keys hold their files' versions
    computing = threading.Lock()  # one projection at a time: each may take seconds and hundreds of MB

    def cached(key, make):
        hit = cache.get(key, ())
        return hit if hit is not None else cache.put(key, (), make())

    def config_of(run: str) -> list[dict]:
        def read():
            try:
                return read_config(provider, run)
            except RunFileError as e:
                raise ProjectorError(f"run {run!r}: {e}", e.status) from None
        return cached(("config", run, provider.run_file_version(run, CONFIG_NAME)), read)

    def embedding_of(run: str, name: str) -> dict:
        for entry in config_of(run):
            if _canonical(entry["name"]) == _canonical(name):
                if entry["error"]:
                    raise ProjectorError(f"run {run!r}, tensor {name!r}: {entry['error']}")
                return entry
        raise ProjectorError(f"run {run!r} has no embedding {name!r}", 404)

    def params() -> tuple[str, str]:
        run, name = request.args.get("run"), request.args.get("name")
        if run is None or name is None:
            raise ProjectorError("run and name are required")
        return run, name

    def projected(run: str, name: str) -> dict:
        entry = embedding_of(run, name)
        paths = [CONFIG_NAME, entry["tensor_path"], entry["metadata_path"]]
        key = ("pca", run, name, tuple(provider.run_file_version(run, p) if p else None for p in paths),
               MAX_POINTS, MAX_VALUES)

        def project() -> dict:
            where = f"run {run!r}, tensor {name!r}"
            with computing:
                try:
                    raw = provider.run_file(run, entry["tensor_path"], MAX_TENSOR_BYTES)
                    mat, total = parse_tensors(raw, entry["tensor_shape"], MAX_POINTS)
                    del raw
                    if mat.shape[0] == 0 or mat.shape[1] == 0:
                        raise ProjectorError("the tensor is empty")
                    if not np.all(np.isfinite(mat)):
                        raise ProjectorError("the tensor holds NaN or infinite values")
                    coords, fractions = pca(mat)
                    metadata = None
                    if entry["metadata_path"]:
                        raw = provider.run_file(run, entry["metadata_path"], MAX_METADATA_BYTES)
                        metadata = metadata_columns(parse_metadata(raw, mat.shape[0]), mat.shape[0], total)
                except RunFileError as e:
                    raise ProjectorError(f"{where}: {e}", e.status) from None
                except np.linalg.LinAlgError as e:
                    raise ProjectorError(f"{where}: PCA failed ({e})") from None
            sprite = entry["sprite"]
            return {"run": run, "name": entry["name"], "total_points": total, "points": int(mat.shape[0]),
                    "truncated": total > mat.shape[0], "max_points": MAX_POINTS, "dimensions": int(mat.shape[1]),
                    "components": [float_list(coords[:, j].astype(np.float32)) for j in range(coords.shape[1])],
                    "variance": [float(f) for f in fractions], "metadata": metadata,
                    "sprite": None if sprite is None or sprite["single_image_dim"] is None
                    else {"single_image_dim": sprite["single_image_dim"]}}
        return cached(key, project)

    @bp.errorhandler(RunFileError)
    def _projector_error(e: RunFileError):
        return json_error(str(e), e.status)

    @bp.route("/runs")
    def runs():
        out = []
        for info in provider.runs():
            if provider.run_file_version(info.name, CONFIG_NAME) is None:
                continue
            try:
                embeddings, error = config_of(info.name), None
            except ProjectorError as e:
                embeddings, error = [], str(e)
            out.append({"run": info.name, "error": error,
                        "embeddings": [{k: v for k, v in e.items() if k != "tensor_shape"} for e in embeddings]})
        return json_response({"runs": out})

    @bp.route("/pca")
    def pca_route():
        return json_response(projected(*params()))

    @bp.route("/sprite")
    def sprite():
        run, name = params()
        entry = embedding_of(run, name)
        if entry["sprite"] is None:
            raise ProjectorError(f"run {run!r}, tensor {name!r} has no sprite", 404)
        try:
            data = provider.run_file(run, entry["sprite"]["image_path"], MAX_SPRITE_BYTES)
        except RunFileError as e:
            raise ProjectorError(f"run {run!r}, tensor {name!r}: {e}", e.status) from None
        mimetype = sniff_image_type(data)
        if not mimetype.startswith("image/"):
            raise ProjectorError(f"run {run!r}, tensor {name!r}: the sprite is not an image")
        return Response(data, mimetype=mimetype)

    return bp
