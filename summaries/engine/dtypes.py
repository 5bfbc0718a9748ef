"""TF1 dtypes and static shapes (`tf.float32`, `TensorShape`, `Dimension`), printed the way TF1 prints them."""
from __future__ import annotations

import numpy as np

from summaries.proto import DataType


class DType:
    """A TF dtype: numpy type, DataType enum and the short name TF's C++ messages use ("float")."""

    def __init__(self, name: str, np_type, enum: int, c_name: str):
        self.name = name
        self.as_numpy_dtype = np_type
        self.np = np.dtype(np_type) if np_type is not object else np.dtype(object)
        self.as_datatype_enum = enum
        self.c_name = c_name

    @property
    def base_dtype(self) -> "DType":
        return self

    @property
    def real_dtype(self) -> "DType":
        return self

    @property
    def is_floating(self) -> bool:
        return self.name in ("float16", "float32", "float64")

    @property
    def is_integer(self) -> bool:
        return self.name in ("int8", "int16", "int32", "int64", "uint8")

    @property
    def is_bool(self) -> bool:
        return self.name == "bool"

    @property
    def size(self) -> int:
        return self.np.itemsize

    def __repr__(self) -> str:
        return f"tf.{self.name}"

    def __str__(self) -> str:
        return f"<dtype: '{self.name}'>"

    def __eq__(self, other) -> bool:
        if other is None:
            return False
        try:
            return as_dtype(other) is self
        except TypeError:
            return False

    def __ne__(self, other) -> bool:
        return not self.__eq__(other)

    def __hash__(self) -> int:
        return hash(self.name)


float16 = DType("float16", np.float16, DataType.DT_HALF, "half")
float32 = DType("float32", np.float32, DataType.DT_FLOAT, "float")
float64 = DType("float64", np.float64, DataType.DT_DOUBLE, "double")
int8 = DType("int8", np.int8, DataType.DT_INT8, "int8")
int16 = DType("int16", np.int16, DataType.DT_INT16, "int16")
int32 = DType("int32", np.int32, DataType.DT_INT32, "int32")
int64 = DType("int64", np.int64, DataType.DT_INT64, "int64")
uint8 = DType("uint8", np.uint8, DataType.DT_UINT8, "uint8")
bool_ = DType("bool", np.bool_, DataType.DT_BOOL, "bool")
string = DType("string", object, DataType.DT_STRING, "string")
half, double = float16, float64

_ALL = [float16, float32, float64, int8, int16, int32, int64, uint8, bool_, string]
_BY_NAME = {d.name: d for d in _ALL}
_BY_NAME.update({"float": float32, "double": float64, "half": float16, "str": string, "bytes": string})
_BY_NP = {d.np: d for d in _ALL if d is not string}


def as_dtype(value) -> DType:
    """DType from a DType, a name ("float", "int32"), a numpy dtype or a Python type."""
    if isinstance(value, DType):
        return value
    if isinstance(value, str):
        if value in _BY_NAME:
            return _BY_NAME[value]
        raise TypeError(f"Cannot convert value {value!r} to a TensorFlow DType.")
    if value is float:
        return float32
    if value is int:
        return int32
    if value is bool:
        return bool_
    if value in (str, bytes):
        return string
    try:
        npd = np.dtype(value)
    except TypeError:
        raise TypeError(f"Cannot convert value {value!r} to a TensorFlow DType.") from None
    if npd.kind in "OSU":
        return string
    if npd in _BY_NP:
        return _BY_NP[npd]
    raise TypeError(f"Cannot convert value {value!r} to a TensorFlow DType.")


class Dimension:
    """One static dimension; `value` is None when unknown (printed "?" as TF1 does)."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = None if value is None else int(value)

    def __int__(self) -> int:
        if self.value is None:
            raise TypeError("Cannot convert an unknown Dimension to an int")
        return self.value

    __index__ = __int__

    def __eq__(self, other):
        other = other.value if isinstance(other, Dimension) else other
        if self.value is None or other is None:
            return None
        return self.value == other

    def __ne__(self, other):
        eq = self.__eq__(other)
        return None if eq is None else not eq

    def __hash__(self):
        return hash(self.value)

    def __str__(self) -> str:
        return "?" if self.value is None else str(self.value)

    def __repr__(self) -> str:
        return f"Dimension({self.value})"

    def __mul__(self, other):
        o = other.value if isinstance(other, Dimension) else other
        return Dimension(None if self.value is None or o is None else self.value * o)

    __rmul__ = __mul__


class TensorShape:
    """A static shape: `dims` is None for unknown rank, else a list of ints/None."""

    def __init__(self, dims):
        if dims is None:
            self._dims = None
        elif isinstance(dims, TensorShape):
            self._dims = None if dims._dims is None else list(dims._dims)
        elif isinstance(dims, (int, np.integer)):
            self._dims = [int(dims)]
        else:
            self._dims = [d.value if isinstance(d, Dimension) else (None if d is None or (
                isinstance(d, (int, np.integer)) and d < 0) else int(d)) for d in dims]

    @property
    def dims(self):
        return None if self._dims is None else [Dimension(d) for d in self._dims]

    @property
    def ndims(self):
        return None if self._dims is None else len(self._dims)

    rank = ndims

    def as_list(self) -> list:
        if self._dims is None:
            raise ValueError("as_list() is not defined on an unknown TensorShape.")
        return list(self._dims)

    def is_fully_defined(self) -> bool:
        return self._dims is not None and all(d is not None for d in self._dims)

    def num_elements(self):
        return int(np.prod(self._dims)) if self.is_fully_defined() else None

    def is_compatible_with(self, other) -> bool:
        other = as_shape(other)
        if self._dims is None or other._dims is None:
            return True
        return len(self._dims) == len(other._dims) and all(
            a is None or b is None or a == b for a, b in zip(self._dims, other._dims))

    def merge_with(self, other) -> "TensorShape":
        other = as_shape(other)
        if self._dims is None:
            return other
        if other._dims is None:
            return self
        if not self.is_compatible_with(other):
            raise ValueError(f"Shapes {self} and {other} are not compatible")
        return TensorShape([a if a is not None else b for a, b in zip(self._dims, other._dims)])

    def concatenate(self, other) -> "TensorShape":
        other = as_shape(other)
        if self._dims is None or other._dims is None:
            return TensorShape(None)
        return TensorShape(self._dims + other._dims)

    def assert_is_compatible_with(self, other) -> None:
        if not self.is_compatible_with(other):
            raise ValueError(f"Shapes {self} and {as_shape(other)} are incompatible")

    def __len__(self) -> int:
        if self._dims is None:
            raise ValueError("Cannot take the length of Shape with unknown rank.")
        return len(self._dims)

    def __iter__(self):
        if self._dims is None:
            raise ValueError("Cannot iterate over a shape with unknown rank.")
        return iter(Dimension(d) for d in self._dims)

    def __getitem__(self, key):
        if self._dims is None:
            return TensorShape(None) if isinstance(key, slice) else Dimension(None)
        if isinstance(key, slice):
            return TensorShape(self._dims[key])
        return Dimension(self._dims[key])

    def __eq__(self, other) -> bool:
        try:
            other = as_shape(other)
        except (TypeError, ValueError):
            return NotImplemented
        return self._dims == other._dims

    def __hash__(self):
        return hash(None if self._dims is None else tuple(self._dims))

    def __str__(self) -> str:
        if self._dims is None:
            return "<unknown>"
        parts = ["?" if d is None else str(d) for d in self._dims]
        return f"({parts[0]},)" if len(parts) == 1 else "(" + ", ".join(parts) + ")"

    def __repr__(self) -> str:
        if self._dims is None:
            return "TensorShape(None)"
        return "TensorShape([" + ", ".join(repr(Dimension(d)) for d in self._dims) + "])"

    def as_proto(self):
        from summaries.proto import TensorShapeProto
        p = TensorShapeProto()
        if self._dims is None:
            p.unknown_rank = True
        else:
            for d in self._dims:
                p.dim.add(size=-1 if d is None else d)
        return p


def as_shape(shape) -> TensorShape:
    return shape if isinstance(shape, TensorShape) else TensorShape(shape)


def unknown_shape() -> TensorShape:
    return TensorShape(None)


def broadcast_shapes(a: TensorShape, b: TensorShape) -> TensorShape:
    """Static numpy-style broadcast of two shapes; unknown dims stay unknown."""
    if a._dims is None or b._dims is None:
        return TensorShape(None)
    x, y = a._dims, b._dims
    n = max(len(x), len(y))
    x = [1] * (n - len(x)) + x
    y = [1] * (n - len(y)) + y
    out = []
    for p, q in zip(x, y):
        if p == 1:
            out.append(q)
        elif q == 1:
            out.append(p)
        elif p is None or q is None:
            out.append(p if q is None else q)
        elif p == q:
            out.append(p)
        else:
            raise ValueError(f"Dimensions must be equal, but are {p} and {q} for shapes {a} and {b}")
    return TensorShape(out)
