"""Images: TensorBoard's routes; the bytes stay in the event files and are read per request.

The data layer keeps, per step, only where the image record lives (file, offset, which value);
`individualImage` re-reads that one record. The content type comes from the bytes' magic
number, never from the request, and unknown bytes are served as an opaque download.
"""
from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, Response

from board_server.jsonutil import json_error, json_response
from board_server.plugins.common import int_arg, run_and_tag, tag_listing

NAME = "images"
TAB_NAME = "Images"
MAGIC = ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"), (b"GIF87a", "image/gif"),
         (b"GIF89a", "image/gif"), (b"BM", "image/bmp"))


def sniff_image_type(data: bytes) -> str:
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    for magic, mime in MAGIC:
        if data.startswith(magic):
            return mime
    return "application/octet-stream"


def is_active(provider) -> bool:
    return bool(provider.tags(NAME))


def create_blueprint(provider) -> Blueprint:
    bp = Blueprint(NAME, __name__)

    @bp.route("/tags")
    def tags():
        return json_response(tag_listing(provider, NAME, samples=True))

    @bp.route("/images")
    def images():
        run, tag, error = run_and_tag()
        if error is not None:
            return error
        try:
            sample = int_arg("sample", 0)
        except ValueError as e:
            return json_error(str(e), 400)
        points = provider.blob_sequence(run, tag)
        if points is None or not _is_image_tag(provider, run, tag):
            return json_error(f"no image series for run {run!r}, tag {tag!r}", 404)
        return json_response([
            {"wall_time": p.wall_time, "step": p.step, "width": p.width, "height": p.height,
             "query": _query(run, tag, index, sample)}
            for index, p in enumerate(points) if p.count > sample])

    @bp.route("/individualImage")
    def individual_image():
        run, tag, error = run_and_tag()
        if error is not None:
            return error
        try:
            index, sample = int_arg("index"), int_arg("sample", 0)
        except ValueError as e:
            return json_error(str(e), 400)
        if index is None:
            return json_error("index is required", 400)
        if not _is_image_tag(provider, run, tag):
            return json_error(f"no image series for run {run!r}, tag {tag!r}", 404)
        data = provider.read_blob(run, tag, index, sample)
        if data is None:
            return json_error(f"no image {sample} at index {index} of run {run!r}, tag {tag!r}", 404)
        return Response(data, mimetype=sniff_image_type(data),
                        headers={"Cache-Control": "private, max-age=86400"})

    return bp


def _is_image_tag(provider, run: str, tag: str) -> bool:
    """Blob sequences hold audio too; only image tags are served here."""
    return tag in provider.run_tags(run, NAME)


def _query(run: str, tag: str, index: int, sample: int) -> str:
    return urlencode({"run": run, "tag": tag, "index": index, "sample": sample})
