"""Everything one run holds in memory, by kind and tag, with TensorBoard's purge rules.

Scalars are columnar (numpy arrays of step, wall time, value, consolidated on read);
histograms are [k, 3] arrays; images and audio are *references* into the event files
(read on demand, never kept); graphs and run metadata are kept as bytes.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from board_server.data.provider import (BlobSequencePoint, HistogramPoint, ScalarSeries, TagInfo,
                                        TextPoint)


@dataclass(frozen=True)
class BlobRef:
    """Where the blobs of one step live: the event record, and which Summary.Value in it."""
    path: str
    offset: int  # of the record in the file
    value_index: int
    kind: str  # "image" / "audio" (TF1 protos), "image_tensor" / "audio_tensor" (TF2 string tensors)


def _narrowest(values) -> np.ndarray:
    """Values as float32 when that loses nothing (every simple_value arrives as a Python float),
    else float64: one float64 block would otherwise widen the whole series when it is joined."""
    wide = np.array(values, np.float64)
    with np.errstate(over="ignore"):
        narrow = wide.astype(np.float32)
    return narrow if np.array_equal(narrow, wide, equal_nan=True) else wide


class ScalarColumn:
    """One scalar series: appends go to lists, reads get consolidated numpy arrays."""

    __slots__ = ("_steps", "_walls", "_values", "_pending", "_blocks", "_series")

    def __init__(self):
        self._steps = np.empty(0, np.int32)
        self._walls = np.empty(0, np.float64)
        self._values = np.empty(0, np.float32)
        self._pending: list[tuple[int, float, float]] = []
        self._blocks: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self._series: ScalarSeries | None = None

    def append(self, step: int, wall: float, value: float) -> None:
        self._pending.append((step, wall, value))
        self._series = None

    def extend(self, steps: np.ndarray, walls: np.ndarray, values: np.ndarray) -> None:
        """Append many points at once (the bulk reader's path), after any single appends."""
        self._flush_pending()
        self._blocks.append((steps, walls, values))
        self._series = None

    def _flush_pending(self) -> None:
        if self._pending:
            steps, walls, values = zip(*self._pending)
            self._blocks.append((np.array(steps, np.int64), np.array(walls, np.float64), _narrowest(values)))
            self._pending = []

    def _consolidate(self) -> None:
        self._flush_pending()
        if self._blocks:
            blocks = [(self._steps, self._walls, self._values), *self._blocks]
            self._steps = _narrow_steps(np.concatenate([b[0] for b in blocks]))
            self._walls = np.concatenate([b[1] for b in blocks]).astype(np.float64, copy=False)
            # float32 values (every simple_value) stay float32: half the memory, same numbers
            self._values = np.concatenate([b[2] for b in blocks if b[2].size] or [np.empty(0, np.float32)])
            self._blocks = []

    def series(self) -> ScalarSeries:
        if self._series is None:
            self._consolidate()
            self._series = ScalarSeries(self._steps, self._walls, self._values)
        return self._series

    def purge_from(self, step: int) -> int:
        """Drop points with step >= `step`; returns how many."""
        self._consolidate()
        keep = self._steps < step
        dropped = int(keep.size - keep.sum())
        if dropped:
            self._steps, self._walls, self._values = self._steps[keep], self._walls[keep], self._values[keep]
            self._series = None
        return dropped

    def __len__(self) -> int:
        return self._steps.size + len(self._pending) + sum(b[0].size for b in self._blocks)


class ThinnedList:
    """A growing series kept to at most 2 x `limit` points, evenly spread, first and latest always kept.

    Every `stride`-th point is kept; when the list outgrows 2 x limit, every other kept point goes
    and the stride doubles. The newest point is held too (replaced by the next one) so a chart
    always ends at the last step. Histograms use it: a long run's memory stays bounded, like
    TensorBoard's 500-step reservoir, but deterministic and evenly spaced.
    """

    __slots__ = ("items", "limit", "stride", "seen", "last_is_extra")

    def __init__(self, limit: int = 500):
        self.items: list = []
        self.limit, self.stride, self.seen, self.last_is_extra = limit, 1, 0, False

    def append(self, point) -> None:
        if self.last_is_extra:
            self.items.pop()
        on_stride = self.seen % self.stride == 0
        self.seen += 1
        self.items.append(point)
        self.last_is_extra = not on_stride
        if len(self.items) > 2 * self.limit:
            extra = self.items.pop() if self.last_is_extra else None
            newest = extra if extra is not None else self.items[-1]
            self.items = self.items[::2]
            self.stride *= 2
            self.last_is_extra = self.items[-1] is not newest
            if self.last_is_extra:
                self.items.append(newest)

    def purge_from(self, step: int) -> int:
        kept = [p for p in self.items if p.step < step]
        dropped = len(self.items) - len(kept)
        self.items, self.last_is_extra = kept, False
        return dropped

    def __iter__(self):
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


def _narrow_steps(steps: np.ndarray) -> np.ndarray:
    """Steps as int32 when they fit (most runs), else int64."""
    if steps.size and (steps.min() < -2**31 or steps.max() >= 2**31):
        return steps.astype(np.int64, copy=False)
    return steps.astype(np.int32)


@dataclass
class RunData:
    """One run's data. `tag_info[plugin][tag]` says which tags exist for which dashboard."""
    tag_info: dict[str, dict[str, TagInfo]] = field(default_factory=dict)
    scalars: dict[str, ScalarColumn] = field(default_factory=dict)
    histograms: dict[str, ThinnedList] = field(default_factory=dict)  # of HistogramPoint
    blobs: dict[str, list[tuple[BlobSequencePoint, BlobRef]]] = field(default_factory=dict)
    text: dict[str, list[TextPoint]] = field(default_factory=dict)
    tensors: dict[str, ThinnedList] = field(default_factory=dict)  # of TensorPoint, other plugins' tensors
    plugin_contents: dict[str, dict[str, bytes]] = field(default_factory=dict)  # plugin -> tag -> content
    run_metadata: dict[str, bytes] = field(default_factory=dict)
    keras_models: dict[str, str] = field(default_factory=dict)
    graph: bytes | None = None
    start_time: float | None = None
    events: int = 0

    def note_tag(self, plugin: str, tag: str, step: int, description: str = "", display_name: str = "",
                 samples: int = 1) -> None:
        tags = self.tag_info.setdefault(plugin, {})
        info = tags.get(tag)
        if info is None or (info.last_step or 0) < step or info.samples < samples:
            tags[tag] = TagInfo(display_name=display_name or (info.display_name if info else tag),
                                description=description or (info.description if info else ""),
                                plugin=plugin, last_step=step, samples=max(samples, info.samples if info else 1))

    def _column(self, tag: str, first_step: int) -> ScalarColumn:
        column = self.scalars.get(tag)
        if column is None:
            column = self.scalars[tag] = ScalarColumn()
            self.note_tag("scalars", tag, first_step)
        return column

    def add_scalar(self, tag: str, step: int, wall: float, value: float) -> None:
        self._column(tag, step).append(step, wall, value)

    def add_scalars(self, tag: str, steps: np.ndarray, walls: np.ndarray, values: np.ndarray) -> None:
        self._column(tag, int(steps[0])).extend(steps, walls, values)

    def purge_from(self, step: int, tags=None) -> int:
        """TensorBoard's orphan purge: drop everything at or after `step` (in `tags`, or all)."""
        dropped = 0
        for tag, column in self.scalars.items():
            if tags is None or tag in tags:
                dropped += column.purge_from(step)
        for store in (self.histograms, self.tensors):
            for tag, series in store.items():
                if tags is None or tag in tags:
                    dropped += series.purge_from(step)
        for store in (self.blobs, self.text):
            for tag, points in store.items():
                if tags is None or tag in tags:
                    kept = [p for p in points if _step_of(p) < step]
                    dropped += len(points) - len(kept)
                    points[:] = kept
        return dropped


def _step_of(point) -> int:
    return point[0].step if isinstance(point, tuple) else point.step
