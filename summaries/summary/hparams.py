"""Pure builders of TensorBoard's hparams summaries (numpy/python values -> `Summary`).

The three summaries TensorBoard's HParams dashboard reads, each a `Summary.Value` whose metadata
carries an `HParamsPluginData` (plugin "hparams", data version 0) and an empty float tensor, as
TensorBoard's own `hparams.summary` writes them:
    `_hparams_/experiment`          which hparams (type, optional discrete domain) and metrics exist;
    `_hparams_/session_start_info`  one session's hparam values;
    `_hparams_/session_end_info`    how the session ended.
`SummaryWriter.add_hparams` writes all three, plus the metric scalars, into a sub-run per session.
"""
from __future__ import annotations

import numbers
import time
from collections.abc import Mapping

import numpy as np

from summaries.proto import DataType, Summary, SummaryMetadata, TensorProto, TensorShapeProto
from summaries.proto import hparams_pb2 as hp

__all__ = ["PLUGIN_NAME", "EXPERIMENT_TAG", "SESSION_START_INFO_TAG", "SESSION_END_INFO_TAG", "hparam_value",
           "experiment", "session_start", "session_end", "hparams_summaries"]

PLUGIN_NAME = "hparams"
PLUGIN_DATA_VERSION = 0  # the version TensorBoard's reader accepts
EXPERIMENT_TAG = "_hparams_/experiment"
SESSION_START_INFO_TAG = "_hparams_/session_start_info"
SESSION_END_INFO_TAG = "_hparams_/session_end_info"
_STATUS = {"unknown": hp.STATUS_UNKNOWN, "success": hp.STATUS_SUCCESS, "failure": hp.STATUS_FAILURE,
           "running": hp.STATUS_RUNNING}


def hparam_value(key: str, value) -> hp.Value:
    """A bool, number (python, numpy, or a one-element array/tensor) or string as a protobuf Value.

    Anything else is a ValueError naming the hparam: TensorBoard could not show it.
    """
    if isinstance(value, (bool, np.bool_)):
        return hp.Value(bool_value=bool(value))
    if isinstance(value, str):
        return hp.Value(string_value=value)
    if isinstance(value, numbers.Real):
        return hp.Value(number_value=float(value))
    if hasattr(value, "__array__") and not isinstance(value, (bytes, bytearray)):
        arr = np.asarray(value.detach().cpu() if hasattr(value, "detach") and hasattr(value, "cpu") else value)
        if arr.size == 1 and arr.dtype == np.bool_:
            return hp.Value(bool_value=bool(arr.reshape(())))
        if arr.size == 1 and np.issubdtype(arr.dtype, np.number) and not np.iscomplexobj(arr):
            return hp.Value(number_value=float(arr.reshape(())))
    raise ValueError(f"hparam {key!r}: expected a number, string or bool, got {type(value).__name__} "
                     f"{value!r:.60}")


def _type_of(value: hp.Value) -> int:
    return {"number_value": hp.DATA_TYPE_FLOAT64, "string_value": hp.DATA_TYPE_STRING,
            "bool_value": hp.DATA_TYPE_BOOL}[value.WhichOneof("kind")]


def _values(hparam_dict: Mapping) -> dict[str, hp.Value]:
    if not isinstance(hparam_dict, Mapping):
        raise TypeError(f"hparam_dict must be a dict, got {type(hparam_dict).__name__}")
    out = {}
    for key, value in hparam_dict.items():
        if not isinstance(key, str):
            raise ValueError(f"hparam name {key!r}: expected a string")
        out[key] = hparam_value(key, value)
    return out


def _summary(tag: str, data: hp.HParamsPluginData) -> Summary:
    data.version = PLUGIN_DATA_VERSION
    metadata = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name=PLUGIN_NAME,
                                                                      content=data.SerializeToString()))
    empty = TensorProto(dtype=DataType.DT_FLOAT, tensor_shape=TensorShapeProto(dim=[TensorShapeProto.Dim(size=0)]))
    return Summary(value=[Summary.Value(tag=tag, metadata=metadata, tensor=empty)])


def experiment(hparam_dict: Mapping, metric_names, hparam_domain_discrete: Mapping | None = None,
               time_created_secs: float | None = None) -> Summary:
    """The experiment: each hparam's type from its value (and its discrete domain when given), each metric's tag.

    `hparam_domain_discrete` maps an hparam to the list of values it may take; every value must have
    the hparam's type and the hparam's own value must be one of them (ValueError otherwise).
    """
    values = _values(hparam_dict)
    domains = dict(hparam_domain_discrete or {})
    infos = []
    for key, value in values.items():
        info = hp.HParamInfo(name=key, type=_type_of(value))
        if key in domains:
            domain = domains.pop(key)
            if isinstance(domain, (str, bytes)) or not hasattr(domain, "__iter__"):
                raise ValueError(f"hparam {key!r}: the discrete domain must be a list, got {type(domain).__name__}")
            allowed = [hparam_value(key, d) for d in domain]
            if any(_type_of(a) != info.type for a in allowed):
                raise ValueError(f"hparam {key!r}: every value of its discrete domain must have its type")
            if value not in allowed:
                raise ValueError(f"hparam {key!r}: value {hparam_dict[key]!r} is not in its discrete domain")
            info.domain_discrete.values.extend(allowed)
        infos.append(info)
    if domains:
        raise ValueError(f"hparam_domain_discrete names hparams not in hparam_dict: {sorted(domains)}")
    metrics = [hp.MetricInfo(name=hp.MetricName(tag=str(name))) for name in metric_names]
    exp = hp.Experiment(hparam_infos=infos, metric_infos=metrics,
                        time_created_secs=time.time() if time_created_secs is None else time_created_secs)
    return _summary(EXPERIMENT_TAG, hp.HParamsPluginData(experiment=exp))


def session_start(hparam_dict: Mapping, group_name: str = "", start_time_secs: float | None = None) -> Summary:
    """One session's hparam values (the run it is written to is the session)."""
    info = hp.SessionStartInfo(group_name=group_name,
                               start_time_secs=time.time() if start_time_secs is None else start_time_secs)
    for key, value in _values(hparam_dict).items():
        info.hparams[key].CopyFrom(value)
    return _summary(SESSION_START_INFO_TAG, hp.HParamsPluginData(session_start_info=info))


def session_end(status: str = "success", end_time_secs: float | None = None) -> Summary:
    """How the session ended: "success", "failure", "running" or "unknown"."""
    if status not in _STATUS:
        raise ValueError(f"session status {status!r}: expected one of {sorted(_STATUS)}")
    info = hp.SessionEndInfo(status=_STATUS[status], end_time_secs=time.time() if end_time_secs is None
                             else end_time_secs)
    return _summary(SESSION_END_INFO_TAG, hp.HParamsPluginData(session_end_info=info))


def hparams_summaries(hparam_dict: Mapping, metric_dict: Mapping,
                      hparam_domain_discrete: Mapping | None = None) -> tuple[Summary, Summary, Summary]:
    """tensorboardX's `hparams()`: the experiment, session-start and session-end summaries of one session."""
    if not isinstance(metric_dict, Mapping):
        raise TypeError(f"metric_dict must be a dict, got {type(metric_dict).__name__}")
    now = time.time()
    return (experiment(hparam_dict, list(metric_dict), hparam_domain_discrete, now),
            session_start(hparam_dict, start_time_secs=now), session_end("success", now))
