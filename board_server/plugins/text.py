"""Text: TensorBoard's text summaries (markdown strings, or string tensors shown as tables).

The server sends the raw strings; the page renders markdown itself by building DOM nodes
(never HTML from data), so a summary can hold any characters without reaching the page as markup.
"""
from __future__ import annotations

from flask import Blueprint

from board_server.jsonutil import json_error, json_response
from board_server.plugins.common import run_and_tag
from board_server.plugins.series import even_indices

NAME = "text"
TAB_NAME = "Text"
MAX_STEPS = 100  # per request, spread over the run, newest kept
MAX_CHARS = 1 << 20  # per string sent to the page


def is_active(provider) -> bool:
    return bool(provider.tags(NAME))


def create_blueprint(provider) -> Blueprint:
    bp = Blueprint(NAME, __name__)

    @bp.route("/tags")
    def tags():
        return json_response({run: sorted(tags) for run, tags in provider.tags(NAME).items()})

    @bp.route("/text")
    def text():
        run, tag, error = run_and_tag()
        if error is not None:
            return error
        points = provider.text(run, tag)
        if points is None:
            return json_error(f"no text series for run {run!r}, tag {tag!r}", 404)
        keep = even_indices(len(points), MAX_STEPS)
        return json_response([{"wall_time": p.wall_time, "step": p.step, "shape": list(p.shape),
                               "text": [s if len(s) <= MAX_CHARS else s[:MAX_CHARS] + " …(truncated)"
                                        for s in p.strings]}
                              for p in (points[i] for i in keep[::-1])])

    return bp
