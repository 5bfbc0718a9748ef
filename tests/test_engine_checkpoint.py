"""tf.train.Saver and V2 checkpoints against checkpoints written by real TensorFlow.

The reference files under data/engine_checkpoint/ come from make_fixture.py (tf.compat.v1.train.Saver):
`tf/` holds model.ckpt-1 and model.ckpt-2 with values.npz, `many/` 24 variables with many.npz.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

import summaries as tf
from summaries.engine import checkpoint
from summaries.engine.errors import InvalidArgumentError, NotFoundError
from summaries.proto.graph_pb2 import MetaGraphDef

DATA = Path(__file__).resolve().parent / "data" / "engine_checkpoint"
TF_DIR, MANY_DIR = DATA / "tf", DATA / "many"
BUNDLE_FILES = (".index", ".data-00000-of-00001")


def step_values(step: int) -> dict[str, np.ndarray]:
    with np.load(DATA / "values.npz") as z:
        return {k.split("/", 1)[1]: z[k] for k in z.files if k.startswith(f"{step}/")}


def many_values() -> dict[str, np.ndarray]:
    with np.load(DATA / "many.npz") as z:
        return {k: z[k] for k in z.files}


def assert_same(got: dict, want: dict) -> None:
    assert sorted(got) == sorted(want)
    for name, value in want.items():
        assert np.asarray(got[name]).dtype == value.dtype, name
        np.testing.assert_array_equal(got[name], value, err_msg=name)


def make_variables(values: dict[str, np.ndarray]) -> dict:
    return {name: tf.Variable(value, name=name) for name, value in values.items()}


# ---- reading TensorFlow's checkpoints ----------------------------------------------------------------
@pytest.mark.parametrize("step", [1, 2])
def test_reads_tf_bundle(step):
    assert_same(checkpoint.read_bundle(str(TF_DIR / f"model.ckpt-{step}")), step_values(step))


def test_reads_tf_bundle_with_restart_points():
    assert_same(checkpoint.read_bundle(str(MANY_DIR / "model.ckpt")), many_values())


def test_latest_checkpoint_and_state_from_tf():
    assert tf.train.latest_checkpoint(str(TF_DIR)) == str(TF_DIR / "model.ckpt-2")
    state = tf.train.get_checkpoint_state(str(TF_DIR))
    assert state.model_checkpoint_path == str(TF_DIR / "model.ckpt-2")
    assert list(state.all_model_checkpoint_paths) == [str(TF_DIR / "model.ckpt-1"), str(TF_DIR / "model.ckpt-2")]


def test_latest_checkpoint_without_state_file(tmp_path):
    assert tf.train.latest_checkpoint(str(tmp_path)) is None
    assert tf.train.get_checkpoint_state(str(tmp_path)) is None


def test_list_and_load_variable():
    want = step_values(2)
    assert tf.train.list_variables(str(TF_DIR)) == sorted((k, list(v.shape)) for k, v in want.items())
    np.testing.assert_array_equal(tf.train.load_variable(str(TF_DIR), "layer/kernel"), want["layer/kernel"])
    np.testing.assert_array_equal(tf.train.load_variable(str(TF_DIR / "model.ckpt-1"), "weights:0"),
                                  step_values(1)["weights"])


def test_restore_tf_checkpoint_into_engine():
    tf.reset_default_graph()
    want = step_values(2)
    variables = make_variables({k: np.zeros_like(v) for k, v in want.items()})
    with tf.Session() as sess:
        tf.train.Saver().restore(sess, tf.train.latest_checkpoint(str(TF_DIR)))
        assert_same(sess.run(variables), want)


# ---- writing what TensorFlow writes --------------------------------------------------------------------
def test_saver_writes_tf_bytes(tmp_path):
    """Same variables and values as TF's Saver: identical .index, .data and checkpoint state file."""
    tf.reset_default_graph()
    variables = make_variables(step_values(1))
    step2 = [tf.assign(variables[k], v) for k, v in step_values(2).items()]
    saver = tf.train.Saver(save_relative_paths=True)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert saver.save(sess, str(tmp_path / "model.ckpt"), global_step=1,
                          write_meta_graph=False) == str(tmp_path / "model.ckpt-1")
        sess.run(step2)
        saver.save(sess, str(tmp_path / "model.ckpt"), global_step=tf.constant(2), write_meta_graph=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in TF_DIR.iterdir())
    for f in TF_DIR.iterdir():
        assert (tmp_path / f.name).read_bytes() == f.read_bytes(), f.name


def test_saver_writes_tf_bytes_across_restart_points(tmp_path):
    tf.reset_default_graph()
    make_variables(many_values())
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        tf.train.Saver(save_relative_paths=True).save(sess, str(tmp_path / "model.ckpt"), write_meta_graph=False)
    for f in MANY_DIR.iterdir():
        assert (tmp_path / f.name).read_bytes() == f.read_bytes(), f.name


def test_meta_graph_is_written_and_rotated_with_the_bundle(tmp_path):
    tf.reset_default_graph()
    tf.Variable(1.0, name="v")
    saver = tf.train.Saver(max_to_keep=1)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        first = saver.save(sess, str(tmp_path / "m"), global_step=1)
        meta = MetaGraphDef.FromString(Path(first + ".meta").read_bytes())
        assert "v" in {n.name for n in meta.graph_def.node}
        saver.save(sess, str(tmp_path / "m"), global_step=2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint", "m-2.data-00000-of-00001", "m-2.index",
                                                          "m-2.meta"]


# ---- the engine round trip -------------------------------------------------------------------------------
def build_regression():
    x = tf.constant(np.linspace(-1, 1, 16).reshape(8, 2), tf.float32)
    y = tf.matmul(x, tf.constant([[2.0], [-3.0]])) + 0.5
    with tf.variable_scope("model"):
        w = tf.get_variable("w", [2, 1], initializer=tf.zeros_initializer())
        b = tf.get_variable("b", [1], initializer=tf.zeros_initializer())
    step = tf.train.get_or_create_global_step()
    loss = tf.reduce_mean(tf.square(tf.matmul(x, w) + b - y))
    train_op = tf.train.GradientDescentOptimizer(0.1).minimize(loss, global_step=step)
    return train_op, [w, b, step]


def test_train_save_restore_into_fresh_graph(tmp_path):
    tf.reset_default_graph()
    train_op, variables = build_regression()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(5):
            sess.run(train_op)
        trained = sess.run(variables)
        path = tf.train.Saver().save(sess, str(tmp_path / "model.ckpt"), global_step=variables[-1])
    assert path == str(tmp_path / "model.ckpt-5")
    assert np.abs(trained[0]).sum() > 0
    tf.reset_default_graph()
    _, variables = build_regression()
    with tf.Session() as sess:
        tf.train.Saver().restore(sess, tf.train.latest_checkpoint(str(tmp_path)))
        restored = sess.run(variables)
    for got, want in zip(restored, trained):
        np.testing.assert_array_equal(got, want)
    assert dict(tf.train.list_variables(str(tmp_path))) == {"global_step": [], "model/b": [1], "model/w": [2, 1]}


@pytest.mark.parametrize("save_path", ["model.ckpt", "./model.ckpt"])
def test_classic_relative_save_path(tmp_path, monkeypatch, save_path):
    """saver.save(sess, "./model.ckpt", global_step=step); restore(sess, latest_checkpoint("."))."""
    monkeypatch.chdir(tmp_path)
    tf.reset_default_graph()
    v = tf.Variable([1.0, 2.0], name="v")
    saver = tf.train.Saver()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for step in (10, 20):
            assert saver.save(sess, save_path, global_step=step) == f"{save_path}-{step}"
    assert (tmp_path / "checkpoint").read_text().splitlines() == [
        'model_checkpoint_path: "model.ckpt-20"', 'all_model_checkpoint_paths: "model.ckpt-10"',
        'all_model_checkpoint_paths: "model.ckpt-20"']
    assert tf.train.latest_checkpoint(".") == "./model.ckpt-20"
    with tf.Session() as sess:
        saver.restore(sess, tf.train.latest_checkpoint("."))
        np.testing.assert_array_equal(sess.run(v), [1.0, 2.0])


def test_max_to_keep_deletes_oldest(tmp_path):
    tf.reset_default_graph()
    v = tf.Variable(0.0, name="v")
    bump = tf.assign_add(v, 1.0)
    saver = tf.train.Saver(max_to_keep=2)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for step in range(1, 5):
            sess.run(bump)
            saver.save(sess, str(tmp_path / "m"), global_step=step, write_meta_graph=False)
    assert saver.last_checkpoints == [str(tmp_path / "m-3"), str(tmp_path / "m-4")]
    assert sorted(p.name for p in tmp_path.glob("m-*")) == [
        "m-3.data-00000-of-00001", "m-3.index", "m-4.data-00000-of-00001", "m-4.index"]
    state = tf.train.get_checkpoint_state(str(tmp_path))
    assert list(state.all_model_checkpoint_paths) == saver.last_checkpoints
    assert tf.train.load_variable(str(tmp_path), "v") == 4.0


def test_max_to_keep_none_keeps_every_file_but_lists_only_the_last(tmp_path):
    tf.reset_default_graph()
    tf.Variable(0.0, name="v")
    saver = tf.train.Saver(max_to_keep=None)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for step in range(3):
            saver.save(sess, str(tmp_path / "m"), global_step=step, write_meta_graph=False)
    assert len(list(tmp_path.glob("m-*.index"))) == 3
    assert list(tf.train.get_checkpoint_state(str(tmp_path)).all_model_checkpoint_paths) == [str(tmp_path / "m-2")]


# ---- errors ---------------------------------------------------------------------------------------------
def copy_tf_checkpoint(tmp_path) -> str:
    for suffix in BUNDLE_FILES:
        shutil.copy(TF_DIR / ("model.ckpt-2" + suffix), tmp_path / ("model.ckpt-2" + suffix))
    return str(tmp_path / "model.ckpt-2")


def flip_byte(path: str, offset: int) -> None:
    data = bytearray(Path(path).read_bytes())
    data[offset] ^= 0x01
    Path(path).write_bytes(bytes(data))


def test_corrupt_data_file_is_named(tmp_path):
    prefix = copy_tf_checkpoint(tmp_path)
    flip_byte(prefix + ".data-00000-of-00001", 3)  # inside "counts", the first tensor
    reader = checkpoint.BundleReader(prefix)
    np.testing.assert_array_equal(reader.get("weights"), step_values(2)["weights"])
    with pytest.raises(tf.errors.DataLossError, match=r"data-00000-of-00001.*checksum mismatch.*counts"):
        reader.get("counts")


@pytest.mark.parametrize("offset", [10, -48, -45, -3])  # a data entry, the two block handles, the magic
def test_corrupt_index_is_named(tmp_path, offset):
    prefix = copy_tf_checkpoint(tmp_path)
    flip_byte(prefix + ".index", offset)
    with pytest.raises(tf.errors.DataLossError, match=r"model\.ckpt-2\.index"):
        checkpoint.read_bundle(prefix)


def test_not_a_checkpoint(tmp_path):
    (tmp_path / "x.index").write_bytes(b"model_checkpoint_path: 'x'\n" * 4)
    tf.reset_default_graph()
    tf.Variable(1.0, name="v")
    with tf.Session() as sess:
        with pytest.raises(tf.errors.DataLossError, match=r"x\.index.*not an sstable"):
            tf.train.Saver().restore(sess, str(tmp_path / "x"))
        with pytest.raises(ValueError, match="not a valid checkpoint"):
            tf.train.Saver().restore(sess, str(tmp_path / "missing"))


def test_restore_mismatches_name_the_variable():
    want = step_values(2)
    for name, shape, dtype, error, text in [("layer/kernel", (2, 4), np.float64, InvalidArgumentError, "shape"),
                                            ("counts", (2, 5), np.int32, InvalidArgumentError, "dtype"),
                                            ("absent", (), np.float32, NotFoundError, "not found")]:
        tf.reset_default_graph()
        make_variables({k: v for k, v in want.items() if k != name})
        tf.Variable(np.zeros(shape, dtype), name=name)
        with tf.Session() as sess:
            with pytest.raises(error, match=f"{name}.*{text}|{text}.*{name}"):
                tf.train.Saver().restore(sess, str(TF_DIR / "model.ckpt-2"))


def test_saver_without_variables():
    tf.reset_default_graph()
    with pytest.raises(ValueError, match="No variables to save"):
        tf.train.Saver()


# ---- tables larger than one block ------------------------------------------------------------------------
def test_multi_block_round_trip(tmp_path):
    """Long names overflow the 256 KiB data block: the index then points at several blocks."""
    rng = np.random.default_rng(0)
    dtypes = [np.float16, np.float32, np.float64, np.int8, np.uint8, np.int16, np.int32, np.int64, np.bool_,
              np.complex64]
    tensors = {f"{i:05d}/" + "n" * 200: (rng.standard_normal(i % 4 + 1) * 10).astype(dtypes[i % 10])
               for i in range(3000)}  # names differ early, so prefix compression cannot shrink them
    checkpoint.write_bundle(str(tmp_path / "big"), tensors)
    assert (tmp_path / "big.index").stat().st_size > 2 * 256 * 1024
    assert_same(checkpoint.read_bundle(str(tmp_path / "big")), tensors)
