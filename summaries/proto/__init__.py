"""TensorFlow's event, summary and graph protobufs (same package names and field numbers).

Used by both wings: the writer in `summaries` and the reader in `board_server`.
"""
from summaries.proto.event_pb2 import Event, LogMessage, SessionLog, SourceMetadata, TaggedRunMetadata
from summaries.proto.graph_pb2 import AttrValue, GraphDef, MetaGraphDef, NodeDef, VersionDef
from summaries.proto.step_stats_pb2 import RunMetadata, StepStats
from summaries.proto.summary_pb2 import DataClass, HistogramProto, Summary, SummaryMetadata
from summaries.proto.types_pb2 import DataType, TensorProto, TensorShapeProto

__all__ = ["AttrValue", "DataClass", "DataType", "Event", "GraphDef", "HistogramProto", "LogMessage",
           "MetaGraphDef", "NodeDef", "RunMetadata", "SessionLog", "SourceMetadata", "StepStats", "Summary",
           "SummaryMetadata", "TaggedRunMetadata", "TensorProto", "TensorShapeProto", "VersionDef"]
