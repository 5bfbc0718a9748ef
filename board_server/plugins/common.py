"""What several dashboards share: the tags listing, the run/tag parameters, a small result cache."""
from __future__ import annotations

import threading
from collections import OrderedDict
from urllib.parse import urlencode

from flask import Response, request

from board_server.jsonutil import json_error


def tag_listing(provider, plugin: str, samples: bool = False) -> dict:
    """TensorBoard's `{run: {tag: {displayName, description[, samples]}}}` for one kind of tag."""
    return {run: {tag: {"displayName": info.display_name, "description": info.description,
                        **({"samples": info.samples} if samples else {})}
                  for tag, info in sorted(tags.items())}
            for run, tags in provider.tags(plugin).items()}


def run_and_tag() -> tuple[str | None, str | None, Response | None]:
    """The request's `run` and `tag`, or a JSON 400 saying they are required."""
    run, tag = request.args.get("run"), request.args.get("tag")
    if run is None or tag is None:
        return None, None, json_error("run and tag are required", 400)
    return run, tag, None


def int_arg(name: str, default: int | None = None) -> int | None:
    """An integer query parameter (an index or sample number); ValueError naming it when it is not one."""
    raw = request.args.get(name)
    if raw is None:
        return default
    if len(raw) > 12 or not raw.lstrip("-").isdigit():
        raise ValueError(f"{name} must be an integer")
    return int(raw)


def blob_points(provider, plugin: str, noun: str):
    """(run, tag, sample, points) of a blob listing request (`images`, `audio`), or a JSON error response."""
    run, tag, error = run_and_tag()
    if error is not None:
        return error
    try:
        sample = int_arg("sample", 0)
    except ValueError as e:
        return json_error(str(e), 400)
    if sample < 0:
        return json_error("sample must not be negative", 400)
    points = provider.blob_sequence(run, tag) if tag in provider.run_tags(run, plugin) else None
    if points is None:  # blob sequences hold images and audio alike: only this plugin's tags count
        return json_error(f"no {noun} series for run {run!r}, tag {tag!r}", 404)
    return run, tag, sample, points


def blob_bytes(provider, plugin: str, noun: str, item: str):
    """The bytes an `individualImage`/`individualAudio` request names, or a JSON error response."""
    run, tag, error = run_and_tag()
    if error is not None:
        return error
    try:
        index, sample = int_arg("index"), int_arg("sample", 0)
    except ValueError as e:
        return json_error(str(e), 400)
    if index is None:
        return json_error("index is required", 400)
    if tag not in provider.run_tags(run, plugin):
        return json_error(f"no {noun} series for run {run!r}, tag {tag!r}", 404)
    data = provider.read_blob(run, tag, index, sample)
    if data is None:
        return json_error(f"no {item} {sample} at index {index} of run {run!r}, tag {tag!r}", 404)
    return data


def blob_query(run: str, tag: str, index: int, sample: int) -> str:
    return urlencode({"run": run, "tag": tag, "index": index, "sample": sample})


class IdentityLRU:
    """A small LRU of results computed from provider objects, valid while those are the same objects.

    The data layer replaces an object (a series, a graph) whenever its data changes, so identity
    says whether a cached result is still right, without comparing or hashing the data.
    """

    def __init__(self, size: int):
        self.size = size
        self.items: OrderedDict = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key, sources: tuple):
        with self.lock:
            hit = self.items.get(key)
            if hit is None or len(hit[0]) != len(sources) or any(a is not b for a, b in zip(hit[0], sources)):
                return None
            self.items.move_to_end(key)
            return hit[1]

    def put(self, key, sources: tuple, value):
        with self.lock:
            self.items[key] = (sources, value)
            self.items.move_to_end(key)
            while len(self.items) > self.size:
                self.items.popitem(last=False)
        return value
