"""Series: sibling ops of one type named `base`, `base_1`, `base_2`, ... drawn as one expandable box, as
TensorBoard does (from 5 members, its default), so graphs with many repeated ops stay narrow and readable.

A bare `base` counts as number 0. Only ops form series, never scopes. Labels list the numbers as ranges:
`add_[0-9]`, `add_[1-3,5-9]`; past MAX_RUNS ranges the middle ones are elided (the box shows the count).
"""
from __future__ import annotations

from dataclasses import dataclass

SERIES_MIN = 5
MAX_RUNS = 4
MAX_DIGITS = 18  # longer suffixes are not numbers we group by (and int() of thousands of digits raises)


@dataclass
class Series:
    scope: str  # the members' scope ("" for the root, and for the scope named "" of names like "/x")
    base: str
    op: str
    members: list[int]  # op indices, by number
    numbers: list[int]

    @property
    def label(self) -> str:
        runs: list[list[int]] = []
        for value in sorted(set(self.numbers)):
            if runs and value == runs[-1][1] + 1:
                runs[-1][1] = value
            else:
                runs.append([value, value])
        text = [f"{lo}-{hi}" if hi > lo else str(lo) for lo, hi in runs]
        if len(text) > MAX_RUNS:
            text = text[:MAX_RUNS - 2] + ["…", text[-1]]
        return f"{self.base}_[{','.join(text)}]"


def suffix_number(leaf: str) -> tuple[str, int] | None:
    """'add_12' -> ('add', 12); None when the leaf has no `_<decimal>` suffix."""
    base, sep, tail = leaf.rpartition("_")
    if sep and tail.isascii() and tail.isdigit() and len(tail) <= MAX_DIGITS:
        return base, int(tail)
    return None


def find_series(segments: list[list[str]], ops: list[str], minimum: int = SERIES_MIN) -> list[Series]:
    """Groups of at least `minimum` ops sharing parent scope, op type and base name.

    `segments[i]` is op i's name split into scopes (its last part the drawn leaf). Only leaves with a
    numeric suffix are keyed at first, so graphs without repeated ops pay one substring test per op.
    """
    numbered: dict[tuple, list[tuple[int, int]]] = {}
    for i, parts in enumerate(segments):
        leaf = parts[-1]
        if "_" not in leaf or "/" in leaf:  # "/" only in the joined tail of over-deep names
            continue
        split = suffix_number(leaf)
        if split is not None:
            key = (len(parts), "/".join(parts[:-1]), ops[i], split[0])
            numbered.setdefault(key, []).append((split[1], i))
    groups = {key: found for key, found in numbered.items() if len(found) >= minimum - 1}
    if not groups:
        return []
    bases = {key[3] for key in groups}
    for i, parts in enumerate(segments):  # a bare `base` joins its numbered siblings as number 0
        if parts[-1] in bases:
            key = (len(parts), "/".join(parts[:-1]), ops[i], parts[-1])
            if key in groups:
                groups[key].append((0, i))
    out = []
    for (_depth, scope, op, base), found in groups.items():
        if len(found) >= minimum:
            found.sort()
            out.append(Series(scope, base, op, [i for _, i in found], [v for v, _ in found]))
    return out
