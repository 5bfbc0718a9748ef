"""Images: TensorBoard's routes; the bytes stay in the event files and are read per request.

The data layer keeps, per step, only where the image record lives (file, offset, which value);
`individualImage` re-reads that one record. The content type comes from the bytes' magic
number, never from the request, and unknown bytes are served as an opaque download.
"""
from __future__ import annotations

from flask import Blueprint, Response

from board_server.jsonutil import json_response
from board_server.plugins.common import blob_bytes, blob_points, blob_query, tag_listing

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
        found = blob_points(provider, NAME, "image")
        if isinstance(found, Response):
            return found
        run, tag, sample, points = found
        return json_response([
            {"wall_time": p.wall_time, "step": p.step, "width": p.width, "height": p.height,
             "query": blob_query(run, tag, index, sample)}
            for index, p in enumerate(points) if p.count > sample])

    @bp.route("/individualImage")
    def individual_image():
        data = blob_bytes(provider, NAME, "image", "image")
        if isinstance(data, Response):
            return data
        return Response(data, mimetype=sniff_image_type(data), headers={"Cache-Control": "private, max-age=86400"})

    return bp
