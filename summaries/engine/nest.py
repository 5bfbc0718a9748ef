"""Nested structures of tensors (TF's `nest`): cond branches, loop variables, RNN states, dataset elements.

Leaves are whatever is not a dict or one of `sequences` (lists and tuples by default; `tf.data` treats a
list as one tensor). Dicts are walked in sorted key order; namedtuples are rebuilt as themselves.
"""
from __future__ import annotations

SEQUENCES = (list, tuple)


def flatten(structure, sequences=SEQUENCES) -> list:
    """The leaves of `structure`, depth first."""
    if isinstance(structure, dict):
        return [leaf for k in sorted(structure) for leaf in flatten(structure[k], sequences)]
    if isinstance(structure, sequences):
        return [leaf for item in structure for leaf in flatten(item, sequences)]
    return [structure]


def pack_as(structure, flat, sequences=SEQUENCES):
    """`flat` (in `flatten` order) rebuilt into the shape of `structure`."""
    leaves = iter(flat)

    def build(s):
        if isinstance(s, dict):
            values = {k: build(s[k]) for k in sorted(s)}
            return type(s)((k, values[k]) for k in s)
        if isinstance(s, sequences):
            items = [build(item) for item in s]
            return type(s)(*items) if hasattr(s, "_fields") else type(s)(items)
        return next(leaves)
    return build(structure)


def assert_same_structure(a, b, sequences=SEQUENCES) -> None:
    """ValueError (TypeError for a different sequence type) unless `a` and `b` nest alike, as TF's."""
    a_nests, b_nests = isinstance(a, (dict, *sequences)), isinstance(b, (dict, *sequences))
    if not a_nests and not b_nests:
        return
    if a_nests != b_nests or isinstance(a, dict) != isinstance(b, dict) or len(a) != len(b) or (
            isinstance(a, dict) and sorted(a) != sorted(b)):
        raise ValueError(f"The two structures don't have the same nested structure.\n\nFirst structure: "
                         f"{a!r}\n\nSecond structure: {b!r}")
    if type(a) is not type(b):
        raise TypeError(f"The two structures don't have the same sequence type. First structure has type "
                        f"{type(a)}, while second structure has type {type(b)}.")
    pairs = ((a[k], b[k]) for k in sorted(a)) if isinstance(a, dict) else zip(a, b)
    for x, y in pairs:
        assert_same_structure(x, y, sequences)


def flatten_up_to(structure, other, sequences=SEQUENCES) -> list:
    """The parts of `other` at the leaves of `structure`; `other` may nest deeper there (a shape written as
    a list where `structure` has a tensor). ValueError when `other` lacks part of the structure."""
    if isinstance(structure, dict):
        return [part for k in sorted(structure) for part in flatten_up_to(structure[k], other[k], sequences)]
    if isinstance(structure, sequences):
        items = list(other) if isinstance(other, (dict, *sequences)) else None
        if items is None or len(items) != len(structure):
            raise ValueError(f"{other!r} does not have the structure of {structure!r}")
        return [part for s, o in zip(structure, items) for part in flatten_up_to(s, o, sequences)]
    return [other]
