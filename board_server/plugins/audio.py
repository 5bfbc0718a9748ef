"""Audio: TensorBoard's routes; the clips stay in the event files and are read per request.

Like images, the data layer keeps per step only where the record lives; `individualAudio`
re-reads it. The content type comes from the clip's magic number, never from the request, and
unknown bytes are served as an opaque download. Clips are served with byte ranges, so the
browser's <audio> element can seek without fetching the clip again.
"""
from __future__ import annotations

from flask import Blueprint, Response, request

from board_server.jsonutil import json_response
from board_server.plugins.common import IdentityLRU, blob_bytes, blob_points, blob_query, tag_listing

NAME = "audio"
TAB_NAME = "Audio"
OCTET = "application/octet-stream"
MAGIC = ((b"OggS", "audio/ogg"), (b"fLaC", "audio/flac"), (b"ID3", "audio/mpeg"))


def sniff_audio_type(data: bytes) -> str:
    """The clip's format from its first bytes (WAV, Ogg, FLAC, MP3), else an opaque download."""
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "audio/wav"
    for magic, mime in MAGIC:
        if data.startswith(magic):
            return mime
    if len(data) >= 2 and data[0] == 0xFF and data[1] & 0xE6 == 0xE2:  # an MPEG layer III frame sync
        return "audio/mpeg"
    return OCTET


def is_active(provider) -> bool:
    return bool(provider.tags(NAME))


def create_blueprint(provider) -> Blueprint:
    bp = Blueprint(NAME, __name__)
    # (run, tag) -> content type, valid while the tag's first point is the same object. The type is the
    # tag's, as in TensorBoard (one encoding per tag), so one clip is read per tag, not one per step.
    types = IdentityLRU(4096)

    def content_type(run: str, tag: str, first) -> str:
        hit = types.get((run, tag), (first,))
        if hit is None:
            data = provider.read_blob(run, tag, 0, 0)
            hit = types.put((run, tag), (first,), OCTET if data is None else sniff_audio_type(data))
        return hit

    @bp.route("/tags")
    def tags():
        return json_response(tag_listing(provider, NAME, samples=True))

    @bp.route("/audio")
    def audio():
        found = blob_points(provider, NAME, "audio")
        if isinstance(found, Response):
            return found
        run, tag, sample, points = found
        kind = content_type(run, tag, points[0]) if points else OCTET
        return json_response([
            {"wall_time": p.wall_time, "step": p.step, "label": "", "contentType": kind,
             "query": blob_query(run, tag, index, sample)}
            for index, p in enumerate(points) if p.count > sample])

    @bp.route("/individualAudio")
    def individual_audio():
        data = blob_bytes(provider, NAME, "audio", "audio clip")
        if isinstance(data, Response):
            return data
        response = Response(data, mimetype=sniff_audio_type(data), headers={"Cache-Control": "private, max-age=86400"})
        return response.make_conditional(request, accept_ranges=True, complete_length=len(data))

    return bp
