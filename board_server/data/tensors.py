"""TensorProto -> numpy, for the dtypes summaries use; and TF1 HistogramProto -> TensorBoard's [k, 3]."""
from __future__ import annotations

import numpy as np

from summaries.proto import DataType, HistogramProto, TensorProto

_NUMERIC = {
    DataType.DT_FLOAT: (np.float32, "float_val"),
    DataType.DT_DOUBLE: (np.float64, "double_val"),
    DataType.DT_HALF: (np.float16, "half_val"),
    DataType.DT_INT32: (np.int32, "int_val"),
    DataType.DT_INT16: (np.int16, "int_val"),
    DataType.DT_INT8: (np.int8, "int_val"),
    DataType.DT_UINT8: (np.uint8, "int_val"),
    DataType.DT_INT64: (np.int64, "int64_val"),
    DataType.DT_UINT32: (np.uint32, "uint32_val"),
    DataType.DT_UINT64: (np.uint64, "uint64_val"),
    DataType.DT_BOOL: (np.bool_, "bool_val"),
}
MAX_ELEMENTS = 1 << 24  # a tensor claiming more elements than this is rejected, not allocated


class BadTensor(ValueError):
    """A tensor that cannot be decoded (unknown dtype, inconsistent shape, too large)."""


def tensor_shape(proto: TensorProto) -> tuple[int, ...]:
    return tuple(d.size for d in proto.tensor_shape.dim)


def tensor_to_numpy(proto: TensorProto) -> np.ndarray:
    """The tensor's values; strings come back as an object array of bytes."""
    shape = tensor_shape(proto)
    if any(d < 0 for d in shape):
        raise BadTensor(f"negative dimension in shape {shape}")
    size = int(np.prod(shape, dtype=np.float64)) if shape else 1
    if size > MAX_ELEMENTS:
        raise BadTensor(f"tensor of shape {shape} is too large")
    if proto.dtype == DataType.DT_STRING:
        values = list(proto.string_val)
        if len(values) != size:
            raise BadTensor(f"string tensor of shape {shape} has {len(values)} values")
        out = np.empty(size, dtype=object)
        out[:] = values
        return out.reshape(shape)
    if proto.dtype not in _NUMERIC:
        raise BadTensor(f"unsupported dtype {DataType.Name(proto.dtype) if proto.dtype in DataType.values() else proto.dtype}")
    dtype, field = _NUMERIC[proto.dtype]
    if proto.tensor_content:
        if len(proto.tensor_content) != size * np.dtype(dtype).itemsize:
            raise BadTensor(f"tensor_content of {len(proto.tensor_content)} bytes does not fit shape {shape}")
        return np.frombuffer(proto.tensor_content, dtype=np.dtype(dtype).newbyteorder("<")).astype(dtype).reshape(shape)
    values = getattr(proto, field)
    if proto.dtype == DataType.DT_HALF:
        flat = np.array(values, dtype=np.uint16).view(np.float16)
    else:
        flat = np.array(values, dtype=dtype)
    if flat.size == size:
        return flat.reshape(shape)
    if flat.size and flat.size < size:  # TensorFlow repeats the last value to fill the shape
        return np.concatenate([flat, np.full(size - flat.size, flat[-1], dtype=dtype)]).reshape(shape)
    if size == 0 and flat.size == 0:
        return flat.reshape(shape)
    raise BadTensor(f"{flat.size} values do not fit shape {shape}")


def histogram_proto_to_buckets(histo: HistogramProto) -> np.ndarray:
    """TF1 HistogramProto -> [k, 3] (left, right, count) the way TensorBoard converts it:
    empty buckets at both ends dropped, the first left edge is `min`, the last right edge `max`,
    values as float32."""
    counts = list(histo.bucket)
    limits = list(histo.bucket_limit)
    nonzero = [i for i, c in enumerate(counts) if c > 0]
    if not nonzero or len(limits) != len(counts):
        if len(limits) != len(counts):
            raise BadTensor(f"histogram with {len(limits)} limits but {len(counts)} counts")
        return np.zeros((0, 3), dtype=np.float64)
    start, end = nonzero[0], nonzero[-1]
    inner = limits[start:end]
    lefts = [histo.min] + inner
    rights = inner + [histo.max]
    with np.errstate(over="ignore"):  # +-DBL_MAX edges become +-inf in float32, as in TensorBoard
        return np.array([lefts, rights, counts[start:end + 1]], dtype=np.float32).T.astype(np.float64)


def histogram_tensor_to_buckets(array: np.ndarray) -> np.ndarray:
    """A TF2 histogram tensor ([k, 3], or [0] / [0, 3] when empty) as float64 [k, 3]."""
    if array.size == 0:
        return np.zeros((0, 3), dtype=np.float64)
    if array.ndim != 2 or array.shape[1] != 3:
        raise BadTensor(f"histogram tensor of shape {array.shape}, expected [k, 3]")
    return array.astype(np.float64)
