"""TensorFlow V2 checkpoints (tensor bundles) and `tf.train.Saver`, without TensorFlow.

A checkpoint `<prefix>` is two files, so TensorFlow reads ours and we read its:
- `<prefix>.data-00000-of-00001`: the tensors' raw little-endian bytes, one after another;
- `<prefix>.index`: an immutable sorted table (TF's leveldb-style format) mapping "" to a
  BundleHeaderProto and each tensor name to a BundleEntryProto (dtype, shape, offset, size, CRC).
The `checkpoint` text file in the directory lists the recent prefixes for `latest_checkpoint`.
"""
from __future__ import annotations

import glob
import os
import struct
from typing import Iterator, Mapping

import numpy as np
from google.protobuf import message as _message
from google.protobuf import text_format

from summaries.engine.errors import DataLossError, NotFoundError, UnimplementedError, kernel_error
from summaries.engine.variables import global_variables
from summaries.events.record import masked_crc32c
from summaries.summary.encode import varint
from summaries.proto.graph_pb2 import MetaGraphDef
from summaries.proto.tensor_bundle_pb2 import BundleEntryProto, BundleHeaderProto, CheckpointState

_MAGIC = 0xDB4775248B80FB57  # TF's table magic number, the last 8 bytes of every .index
_FOOTER = 48  # two block handles padded to 40 bytes + magic
_BLOCK_SIZE = 256 * 1024  # a data block is closed once it reaches this size (TF's default)
_RESTART_INTERVAL = 16  # keys between full (unshared) keys in a data block
_U32 = struct.Struct("<I")
# DataType enum <-> numpy dtype for the plain-bytes dtypes (strings are stored differently).
_DTYPES = {1: np.float32, 2: np.float64, 3: np.int32, 4: np.uint8, 5: np.int16, 6: np.int8, 8: np.complex64,
           9: np.int64, 10: np.bool_, 17: np.uint16, 18: np.complex128, 19: np.float16, 22: np.uint32,
           23: np.uint64}
_ENUMS = {np.dtype(t): e for e, t in _DTYPES.items()}


# ---- the sorted table format of `.index` --------------------------------------------------------------
def _read_varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = buf[pos]  # IndexError on truncation: reported by the caller as corruption
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80 or shift > 63:
            return result, pos
        shift += 7


class _Block:
    """A block being built: entries sharing a prefix with the previous key, restart points at the end."""

    def __init__(self, restart_interval: int):
        self.interval, self.buf, self.restarts, self.count, self.last = restart_interval, bytearray(), [0], 0, b""

    def add(self, key: bytes, value: bytes) -> None:
        shared = 0
        if self.count < self.interval:
            while shared < min(len(key), len(self.last)) and key[shared] == self.last[shared]:
                shared += 1
        else:
            self.restarts.append(len(self.buf))
            self.count = 0
        self.buf += varint(shared) + varint(len(key) - shared) + varint(len(value)) + key[shared:] + value
        self.last, self.count = key, self.count + 1

    def size(self) -> int:
        return len(self.buf) + 4 * len(self.restarts) + 4

    def finish(self) -> bytes:
        return bytes(self.buf) + struct.pack(f"<{len(self.restarts) + 1}I", *self.restarts, len(self.restarts))


def _separator(start: bytes, limit: bytes) -> bytes:
    """A short key >= start and < limit for the index (TF's bytewise FindShortestSeparator)."""
    i = 0
    while i < min(len(start), len(limit)) and start[i] == limit[i]:
        i += 1
    if i < min(len(start), len(limit)) and start[i] < 0xFF and start[i] + 1 < limit[i]:
        return start[:i] + bytes([start[i] + 1])
    return start


def _successor(key: bytes) -> bytes:
    """A short key >= key (TF's bytewise FindShortSuccessor) for the index entry of the last block."""
    for i, byte in enumerate(key):
        if byte != 0xFF:
            return key[:i] + bytes([byte + 1])
    return key


def _table(entries: list[tuple[bytes, bytes]]) -> bytes:
    """The table file for sorted (key, value) pairs: data blocks, an empty metaindex, the index, the footer."""
    out = bytearray()

    def put(block: _Block) -> bytes:
        contents = block.finish() + b"\0"  # block then its compression type: 0 = none
        handle = varint(len(out)) + varint(len(contents) - 1)
        out.extend(contents + _U32.pack(masked_crc32c(contents)))
        return handle

    index, data, pending, last = _Block(1), _Block(_RESTART_INTERVAL), None, b""
    for key, value in entries:
        if pending is not None:
            index.add(_separator(last, key), pending)
            pending = None
        data.add(key, value)
        last = key
        if data.size() >= _BLOCK_SIZE:
            pending, data = put(data), _Block(_RESTART_INTERVAL)
    if data.buf:
        pending = put(data)
    metaindex = put(_Block(_RESTART_INTERVAL))
    if pending is not None:
        index.add(_successor(last), pending)
    handles = metaindex + put(index)
    return bytes(out) + handles.ljust(_FOOTER - 8, b"\0") + struct.pack("<Q", _MAGIC)


def _block(buf: bytes, handle: bytes, pos: int) -> tuple[bytes, int]:
    """The checked contents of the block a handle (at `pos` in `handle`) points to."""
    offset, pos = _read_varint(handle, pos)
    size, pos = _read_varint(handle, pos)
    if offset + size + 5 > len(buf):
        raise ValueError(f"block at {offset} runs past the end of the file")
    contents = buf[offset:offset + size + 1]
    if _U32.unpack_from(buf, offset + size + 1)[0] != masked_crc32c(contents):
        raise ValueError(f"block checksum mismatch at offset {offset}")
    if contents[-1] != 0:
        raise ValueError(f"compressed block (type {contents[-1]}) at offset {offset} is not supported")
    return contents[:-1], pos


def _entries(block: bytes) -> Iterator[tuple[bytes, bytes]]:
    num_restarts = _U32.unpack_from(block, len(block) - 4)[0]
    limit, pos, key = len(block) - 4 * (num_restarts + 1), 0, b""
    if limit < 0:
        raise ValueError("bad restart array")
    while pos < limit:
        shared, pos = _read_varint(block, pos)
        unshared, pos = _read_varint(block, pos)
        size, pos = _read_varint(block, pos)
        if shared > len(key) or pos + unshared + size > limit:
            raise ValueError("bad block entry")
        key = key[:shared] + block[pos:pos + unshared]
        yield key, block[pos + unshared:pos + unshared + size]
        pos += unshared + size


def _read_table(path: str) -> dict[bytes, bytes]:
    with open(path, "rb") as f:
        buf = f.read()
    if len(buf) < _FOOTER or struct.unpack_from("<Q", buf, len(buf) - 8)[0] != _MAGIC:
        raise DataLossError(None, None, f"Unable to open table file {path}: Data loss: not an sstable (bad magic "
                                        f"number): perhaps your file is in a different file format")
    try:
        footer = buf[-_FOOTER:]
        _, pos = _block(buf, footer, 0)  # the metaindex: checked, but it is always empty
        index, _ = _block(buf, footer, pos)
        return {k: v for _, handle in _entries(index) for k, v in _entries(_block(buf, handle, 0)[0])}
    except (ValueError, IndexError, struct.error) as e:
        raise DataLossError(None, None, f"Corrupt checkpoint index {path}: {e}") from None


# ---- tensor bundles ------------------------------------------------------------------------------------
def _data_path(prefix: str, shard: int, num_shards: int) -> str:
    return f"{prefix}.data-{shard:05d}-of-{num_shards:05d}"


def write_bundle(prefix: str, tensors: Mapping[str, np.ndarray]) -> None:
    """Write `tensors` as a single-shard V2 checkpoint at `prefix` (data in sorted name order, like TF)."""
    header = BundleHeaderProto(num_shards=1)
    header.version.producer = 1
    entries, data = [(b"", header.SerializeToString())], bytearray()
    for name in sorted(tensors):
        arr = np.asarray(tensors[name])
        if arr.dtype not in _ENUMS:
            raise TypeError(f"cannot checkpoint {name!r}: unsupported dtype {arr.dtype}")
        raw = np.ascontiguousarray(arr, arr.dtype.newbyteorder("<")).tobytes()
        entry = BundleEntryProto(dtype=_ENUMS[arr.dtype], offset=len(data), size=len(raw), crc32c=masked_crc32c(raw))
        entry.shape.SetInParent()
        for d in arr.shape:
            entry.shape.dim.add(size=d)
        entries.append((name.encode(), entry.SerializeToString()))
        data += raw
    os.makedirs(os.path.dirname(os.path.abspath(prefix)), exist_ok=True)
    _write_atomic(_data_path(prefix, 0, 1), bytes(data))
    _write_atomic(prefix + ".index", _table(entries))


def _write_atomic(path: str, content: bytes) -> None:
    """Write to `<path>.tmp`, then rename: a reader (or a crash) never sees half a file."""
    with open(path + ".tmp", "wb") as f:
        f.write(content)
    os.replace(path + ".tmp", path)


class BundleReader:
    """The index of a V2 checkpoint; tensors are read (and CRC-checked) on demand."""

    def __init__(self, prefix: str):
        self.prefix, index = prefix, prefix + ".index"
        if not os.path.exists(index):
            raise NotFoundError(None, None, f"Unsuccessful TensorSliceReader constructor: Failed to find any "
                                            f"matching files for {prefix}")
        table = _read_table(index)
        try:
            self.header = BundleHeaderProto.FromString(table.pop(b""))
            self.entries = {k.decode(): BundleEntryProto.FromString(v) for k, v in table.items()}
        except (KeyError, UnicodeDecodeError, _message.DecodeError):
            raise DataLossError(None, None, f"Corrupt checkpoint index {index}: bad bundle header or entry") from None
        if self.header.endianness != BundleHeaderProto.LITTLE:
            raise UnimplementedError(None, None, f"{index}: big-endian checkpoints are not supported")

    def shape(self, name: str) -> list[int]:
        return [d.size for d in self._entry(name).shape.dim]

    def dtype(self, name: str) -> np.dtype:
        entry = self._entry(name)
        if entry.dtype not in _DTYPES:
            raise UnimplementedError(None, None, f"{self.prefix}: tensor {name!r} has unsupported dtype enum "
                                                 f"{entry.dtype}")
        return np.dtype(_DTYPES[entry.dtype])

    def get(self, name: str) -> np.ndarray:
        entry, dtype, shape = self._entry(name), self.dtype(name), self.shape(name)
        if entry.slices:
            raise UnimplementedError(None, None, f"{self.prefix}: {name!r} is a partitioned variable")
        path = _data_path(self.prefix, entry.shard_id, self.header.num_shards)
        with open(path, "rb") as f:
            f.seek(entry.offset)
            raw = f.read(entry.size)
        if len(raw) != entry.size or entry.size != int(np.prod(shape)) * dtype.itemsize:
            raise DataLossError(None, None, f"{path}: truncated or wrong size for tensor {name!r}")
        if masked_crc32c(raw) != entry.crc32c:
            raise DataLossError(None, None, f"{path}: checksum mismatch for tensor {name!r}")
        return np.frombuffer(raw, dtype.newbyteorder("<")).astype(dtype).reshape(shape)

    def _entry(self, name: str) -> BundleEntryProto:
        try:
            return self.entries[name]
        except KeyError:
            raise NotFoundError(None, None, f"Key {name} not found in checkpoint") from None


def read_bundle(prefix: str) -> dict[str, np.ndarray]:
    """Every tensor of the V2 checkpoint at `prefix`, by name."""
    reader = BundleReader(prefix)
    return {name: reader.get(name) for name in reader.entries}


def list_variables(ckpt_dir_or_file: str) -> list[tuple[str, list[int]]]:
    """`tf.train.list_variables`: (name, shape) pairs of a checkpoint prefix or directory, sorted."""
    reader = BundleReader(_prefix(ckpt_dir_or_file))
    return [(name, reader.shape(name)) for name in sorted(reader.entries)]


def load_variable(ckpt_dir_or_file: str, name: str) -> np.ndarray:
    """`tf.train.load_variable`: one tensor of a checkpoint prefix or directory ("name:0" accepted)."""
    return BundleReader(_prefix(ckpt_dir_or_file)).get(name[:-2] if name.endswith(":0") else name)


def _prefix(ckpt_dir_or_file: str) -> str:
    if os.path.isdir(ckpt_dir_or_file):
        latest = latest_checkpoint(ckpt_dir_or_file)
        if latest is None:
            raise ValueError(f"Couldn't find 'checkpoint' file or checkpoints in given directory "
                             f"{ckpt_dir_or_file}")
        return latest
    return ckpt_dir_or_file


# ---- the `checkpoint` state file -----------------------------------------------------------------------
def update_checkpoint_state(save_dir: str, model_checkpoint_path: str, all_model_checkpoint_paths: list[str],
                            latest_filename: str | None = None, save_relative_paths: bool = False) -> None:
    """Rewrite `<save_dir>/checkpoint`; paths are relative when the directory or the caller asks (as TF)."""
    save_dir, paths = save_dir or ".", list(all_model_checkpoint_paths)
    if not paths or paths[-1] != model_checkpoint_path:
        paths.append(model_checkpoint_path)
    paths = [os.path.relpath(p, save_dir) if (save_relative_paths and os.path.isabs(p))
             or not (os.path.isabs(save_dir) or os.path.isabs(p)) else p for p in paths]
    state = CheckpointState(model_checkpoint_path=paths[-1], all_model_checkpoint_paths=paths)
    path = os.path.join(save_dir, latest_filename or "checkpoint")
    _write_atomic(path, text_format.MessageToString(state).encode())


def get_checkpoint_state(checkpoint_dir: str, latest_filename: str | None = None) -> CheckpointState | None:
    """`tf.train.get_checkpoint_state`: the parsed state file with paths made relative to `checkpoint_dir`."""
    path = os.path.join(checkpoint_dir, latest_filename or "checkpoint")
    if not os.path.exists(path):
        return None
    try:
        with open(path) as f:
            state = text_format.Parse(f.read(), CheckpointState())
    except (text_format.ParseError, UnicodeDecodeError):
        return None
    if not state.model_checkpoint_path:
        raise ValueError(f"Invalid checkpoint state loaded from {checkpoint_dir}")
    state.model_checkpoint_path = os.path.join(checkpoint_dir, state.model_checkpoint_path)
    state.all_model_checkpoint_paths[:] = [os.path.join(checkpoint_dir, p) for p in state.all_model_checkpoint_paths]
    return state


def latest_checkpoint(checkpoint_dir: str, latest_filename: str | None = None) -> str | None:
    """`tf.train.latest_checkpoint`: the newest prefix listed in the state file, if its index exists."""
    state = get_checkpoint_state(checkpoint_dir, latest_filename)
    if state is not None and os.path.exists(state.model_checkpoint_path + ".index"):
        return state.model_checkpoint_path
    return None


def checkpoint_exists(prefix: str) -> bool:
    return os.path.exists(prefix + ".index")


# ---- tf.train.Saver --------------------------------------------------------------------------------------
class Saver:
    """`tf.train.Saver`: saves the variables' session values as V2 checkpoints and restores them.

    TF's other arguments (sharded, keep_checkpoint_every_n_hours, write_version, ...) are accepted and ignored:
    one shard, V2 format, rotation by max_to_keep only.
    """

    def __init__(self, var_list=None, max_to_keep: int | None = 5, allow_empty: bool = False,
                 pad_step_number: bool = False, save_relative_paths: bool = False, **kwargs):
        if var_list is None:
            var_list = global_variables()
        if isinstance(var_list, dict):
            self._vars = dict(var_list)
        else:
            self._vars = {}
            for v in var_list:
                if v.op.name in self._vars:
                    raise ValueError(f"At least two variables have the same name: {v.op.name}")
                self._vars[v.op.name] = v
        if not self._vars and not allow_empty:
            raise ValueError("No variables to save")
        self._max_to_keep, self._relative, self._pad = max_to_keep, save_relative_paths, pad_step_number
        self._last: list[str] = []

    @property
    def last_checkpoints(self) -> list[str]:
        return list(self._last)

    def save(self, sess, save_path: str, global_step=None, latest_filename: str | None = None,
             meta_graph_suffix: str = "meta", write_meta_graph: bool = True, write_state: bool = True,
             strip_default_attrs: bool = False, save_debug_info: bool = False) -> str:
        """Write `<save_path>[-<step>]`, update the `checkpoint` file, delete prefixes beyond max_to_keep."""
        if global_step is not None:
            step = int(sess.run(global_step) if hasattr(global_step, "op") else global_step)
            save_path = f"{save_path}-{step:08d}" if self._pad else f"{save_path}-{step}"
        write_bundle(save_path, {name: np.asarray(value) for name, value in sess.run(self._vars).items()})
        if write_meta_graph:
            meta = MetaGraphDef(graph_def=sess.graph.as_graph_def())
            meta.meta_info_def.meta_graph_version = "v1"
            _write_atomic(f"{save_path}.{meta_graph_suffix}", meta.SerializeToString())
        if write_state:
            if save_path in self._last:
                self._last.remove(save_path)
            self._last.append(save_path)
            if self._max_to_keep:
                while len(self._last) > self._max_to_keep:
                    for old in glob.glob(glob.escape(self._last.pop(0)) + ".*"):
                        if old.rsplit(".", 1)[-1] in ("index", meta_graph_suffix) or ".data-" in old:
                            os.remove(old)
            else:
                self._last = self._last[-1:]
            update_checkpoint_state(os.path.dirname(save_path), save_path, self._last, latest_filename,
                                    self._relative)
        return save_path

    def restore(self, sess, save_path: str) -> None:
        """Load every variable from the checkpoint; check all names, dtypes and shapes before assigning."""
        if save_path is None:
            raise ValueError("Can't load save_path when it is None.")
        if not checkpoint_exists(save_path):
            raise ValueError(f"The passed save_path is not a valid checkpoint: {save_path}")
        reader, values = BundleReader(save_path), {}
        for name, var in self._vars.items():
            if name not in reader.entries:
                raise NotFoundError(None, None, f"Restoring from checkpoint failed: Key {name} not found in "
                                                f"checkpoint {save_path}")
            if reader.dtype(name) != var.dtype.np:
                raise kernel_error(f"tensor_name = {name}; expected dtype {var.dtype.c_name} "
                                                       f"does not equal original dtype {reader.dtype(name)}")
            shape = reader.shape(name)
            if not var.get_shape().is_compatible_with(shape):
                raise kernel_error(f"Restoring from checkpoint failed: Assign requires shapes of "
                                                       f"both tensors to match for variable {name}. lhs shape= "
                                                       f"{var.get_shape().as_list()} rhs shape= {shape}")
            values[name] = reader.get(name)
        for name, var in self._vars.items():  # all checked and read: only now is anything assigned
            var.load(values[name], sess)
