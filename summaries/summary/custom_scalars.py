"""Pure builder of TensorBoard's custom scalars layout summary (dict or Layout -> `Summary`).

TensorBoard's Custom Scalars dashboard reads one summary per run: tag `custom_scalars__config__`,
plugin `custom_scalars` (no content), a DT_STRING scalar tensor holding a serialized `Layout`
(tensorboard/plugins/custom_scalar). It takes the last one a run wrote and merges the runs' layouts.
The dict form is tensorboardX's:
    {category: {chart_title: ["Multiline", [tag_regex, ...]] | ["Margin", [value, lower, upper]]}}
A Layout proto may be given instead (e.g. for `closed` categories, which the dict form cannot say).
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from summaries.proto import DataType, Summary, SummaryMetadata, TensorProto, TensorShapeProto
from summaries.proto import layout_pb2

__all__ = ["PLUGIN_NAME", "CONFIG_TAG", "layout_proto", "custom_scalars", "multiline_layout", "margin_layout"]

PLUGIN_NAME = "custom_scalars"
CONFIG_TAG = "custom_scalars__config__"
MULTILINE, MARGIN = "Multiline", "Margin"


def _tags(category: str, title: str, tags) -> list[str]:
    if isinstance(tags, (str, bytes)) or not isinstance(tags, Sequence):
        raise ValueError(f"custom scalars category {category!r}, chart {title!r}: tags must be a list of strings, "
                         f"got {type(tags).__name__}")
    bad = [t for t in tags if not isinstance(t, str)]
    if bad:
        raise ValueError(f"custom scalars category {category!r}, chart {title!r}: tags must be strings, "
                         f"got {bad[0]!r:.60}")
    return list(tags)


def _chart(category: str, title, spec) -> layout_pb2.Chart:
    if not isinstance(title, str):
        raise ValueError(f"custom scalars category {category!r}: chart title must be a string, got {title!r:.60}")
    if isinstance(spec, (str, bytes)) or not isinstance(spec, Sequence) or len(spec) != 2:
        raise ValueError(f"custom scalars category {category!r}, chart {title!r}: expected "
                         f"['Multiline', [regex, ...]] or ['Margin', [value, lower, upper]], got {spec!r:.80}")
    kind, tags = spec[0], _tags(category, title, spec[1])
    if kind == MARGIN:
        if len(tags) != 3:
            raise ValueError(f"custom scalars category {category!r}, chart {title!r}: a Margin chart needs "
                             f"exactly 3 tags (value, lower, upper), got {len(tags)}")
        series = layout_pb2.MarginChartContent.Series(value=tags[0], lower=tags[1], upper=tags[2])
        return layout_pb2.Chart(title=title, margin=layout_pb2.MarginChartContent(series=[series]))
    if kind != MULTILINE:
        raise ValueError(f"custom scalars category {category!r}, chart {title!r}: chart type must be "
                         f"'Multiline' or 'Margin', got {kind!r:.60}")
    if not tags:
        raise ValueError(f"custom scalars category {category!r}, chart {title!r}: a Multiline chart needs a tag regex")
    for regex in tags:
        try:
            re.compile(regex)  # TensorBoard matches with Python's re, from the start of each tag
        except re.error as e:
            raise ValueError(f"custom scalars category {category!r}, chart {title!r}: bad tag regex "
                             f"{regex!r}: {e}") from None
    return layout_pb2.Chart(title=title, multiline=layout_pb2.MultilineChartContent(tag=tags))


def layout_proto(layout) -> layout_pb2.Layout:
    """tensorboardX's dict form (or a Layout, ours or TensorBoard's) as our Layout; ValueError naming
    the category and chart that is malformed."""
    if hasattr(layout, "SerializeToString") and not isinstance(layout, Mapping):
        return layout_pb2.Layout.FromString(layout.SerializeToString())
    if not isinstance(layout, Mapping):
        raise ValueError(f"custom scalars layout must be a dict {{category: {{chart: [kind, tags]}}}}, "
                         f"got {type(layout).__name__}")
    categories = []
    for category, charts in layout.items():
        if not isinstance(category, str):
            raise ValueError(f"custom scalars category title must be a string, got {category!r:.60}")
        if not isinstance(charts, Mapping):
            raise ValueError(f"custom scalars category {category!r}: expected a dict {{chart: [kind, tags]}}, "
                             f"got {type(charts).__name__}")
        categories.append(layout_pb2.Category(title=category,
                                              chart=[_chart(category, t, s) for t, s in charts.items()]))
    return layout_pb2.Layout(category=categories)


def custom_scalars(layout) -> Summary:
    """TensorBoard's layout summary, as tensorboardX's `add_custom_scalars` writes it."""
    data = layout_proto(layout).SerializeToString()
    metadata = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name=PLUGIN_NAME))
    tensor = TensorProto(dtype=DataType.DT_STRING, string_val=[data], tensor_shape=TensorShapeProto())
    return Summary(value=[Summary.Value(tag=CONFIG_TAG, tensor=tensor, metadata=metadata)])


def multiline_layout(tags, category: str = "default", title: str = "untitled") -> dict:
    """tensorboardX's `add_custom_scalars_multilinechart` layout: one Multiline chart."""
    return {category: {title: [MULTILINE, tags]}}


def margin_layout(tags, category: str = "default", title: str = "untitled") -> dict:
    """tensorboardX's `add_custom_scalars_marginchart` layout: one Margin chart of (value, lower, upper)."""
    return {category: {title: [MARGIN, tags]}}
