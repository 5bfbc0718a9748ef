"""JSON responses that keep NaN and infinities (as the strings "NaN", "Infinity", "-Infinity")."""
from __future__ import annotations

import json
import math

import numpy as np
from flask import Response

_SPECIAL = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}


def encode_float(x: float):
    return x if math.isfinite(x) else _SPECIAL[repr(float(x))]


def float_list(array: np.ndarray) -> list:
    """A float array as a JSON-safe list (fast when everything is finite)."""
    values = np.asarray(array, dtype=np.float64)
    if np.isfinite(values).all():
        return values.tolist()
    return [encode_float(v) for v in values.tolist()]


def json_response(payload, status: int = 200) -> Response:
    body = json.dumps(payload, allow_nan=False, ensure_ascii=False, separators=(",", ":"))
    return Response(body, status=status, mimetype="application/json")


def json_error(message: str, status: int) -> Response:
    return json_response({"error": message}, status)
