"""TF1 behaviour of the engine: names, scopes, printing, feeds, errors, fetches, summary tags, and the
XOR TensorBoard program checked against the graph and tags real TF1 wrote (tests/data/fixtures/tf1_xor)."""
from __future__ import annotations

import collections
import json
import re
from pathlib import Path

import numpy as np
import pytest

import summaries as tf
from summaries.proto import GraphDef, Summary

FIXTURES = Path(__file__).parent / "data" / "fixtures"


pytestmark = pytest.mark.usefixtures("fresh_graph")


# ---- naming ----------------------------------------------------------------------------------------
def test_op_names_are_made_unique_like_tf1():
    a = tf.constant(1)
    b = tf.constant(2)
    assert (a.op.name, b.op.name) == ("Const", "Const_1")
    assert tf.add(a, b).name == "Add:0"
    assert tf.add(a, b).name == "Add_1:0"
    # The operator's lower-case "add" collides case-insensitively with "Add" and "Add_1".
    assert (a + b).name == "add_2:0"
    assert (a + b).name == "add_3:0"
    assert (a - b).name == "sub:0"
    assert (a * 3).op.inputs[1].op.name == "mul/y"  # ... and its constant lives in its scope
    assert tf.placeholder(tf.float32, name="x").name == "x:0"
    assert tf.placeholder(tf.float32, name="x").name == "x_1:0"


def test_case_insensitive_dedup_gives_mean_1():
    v = tf.placeholder(tf.float32, [3])
    with tf.name_scope("stats"):
        m = tf.reduce_mean(v)
        s = tf.summary.scalar("mean", m)
    assert m.op.name == "stats/Mean"
    with tf.Session() as sess:
        summ = Summary.FromString(sess.run(s, {v: [1, 2, 3]}))
    assert [x.tag for x in summ.value] == ["stats/mean_1"]
    assert summ.value[0].simple_value == pytest.approx(2.0)


def test_name_scope_yields_scope_string_and_nests():
    with tf.name_scope("layer1") as scope:
        assert scope == "layer1/"
        with tf.name_scope("inner") as inner:
            assert inner == "layer1/inner/"
            assert tf.constant(1.0).op.name == "layer1/inner/Const"
    with tf.name_scope("layer1") as again:
        assert again == "layer1_1/"
    with tf.name_scope("layer1/"):  # a trailing slash re-enters the scope as is
        assert tf.constant(1.0).op.name == "layer1/Const"


def test_variable_scope_reuse_rules():
    with tf.variable_scope("layer1"):
        w = tf.get_variable("W", shape=[3, 2])
    assert w.name == "layer1/W:0"
    with pytest.raises(ValueError, match=r"Variable layer1/W already exists, disallowed"):
        with tf.variable_scope("layer1"):
            tf.get_variable("W", shape=[3, 2])
    with tf.variable_scope("layer1", reuse=True):
        assert tf.get_variable("W", shape=[3, 2]) is w
        with pytest.raises(ValueError, match="does not exist"):
            tf.get_variable("nope", shape=[1])
    with tf.variable_scope("layer1") as scope:
        scope.reuse_variables()
        assert tf.get_variable("W") is w
    with tf.variable_scope("auto", reuse=tf.AUTO_REUSE):
        a = tf.get_variable("v", [2])
    with tf.variable_scope("auto", reuse=tf.AUTO_REUSE):
        assert tf.get_variable("v", [2]) is a


def test_get_variable_default_initializer_is_glorot_uniform():
    with tf.variable_scope("d"):
        w = tf.get_variable("W", shape=[300, 200])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        v = sess.run(w)
    limit = np.sqrt(6.0 / (300 + 200))
    assert v.dtype == np.float32
    assert np.abs(v).max() <= limit and np.abs(v).max() > 0.95 * limit
    assert abs(v.std() - limit / np.sqrt(3)) < 0.01


def test_print_tensor_shapes_and_dtypes():
    assert str(tf.constant(1) + tf.constant(2)) == 'Tensor("add:0", shape=(), dtype=int32)'
    x = tf.placeholder("float", [None, 2], name="X")
    assert str(x) == 'Tensor("X:0", shape=(?, 2), dtype=float32)'
    assert x.get_shape().as_list() == [None, 2]
    assert x.shape[1].value == 2 and x.shape[0].value is None
    w = tf.Variable(tf.zeros([2, 3]))
    y = tf.matmul(x, w)
    assert y.shape.as_list() == [None, 3]
    assert tf.reshape(y, [-1]).shape.as_list() == [None]
    assert tf.reduce_sum(y, axis=1).shape.as_list() == [None]
    assert tf.placeholder(tf.int32).shape.ndims is None
    assert str(tf.constant([1.0, 2.0], name="c")) == 'Tensor("c:0", shape=(2,), dtype=float32)'


# ---- feeds and errors --------------------------------------------------------------------------------
def test_missing_feed_message_is_tf1s():
    b = tf.placeholder(tf.float32, [3], name="B")
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match=re.escape("You must feed a value for placeholder tensor 'B' with dtype float "
                                           "and shape [3]")):
            sess.run(b * 2)


def test_feed_shape_is_checked_and_names_work():
    x = tf.placeholder(tf.float32, [None, 2], name="x-input")
    y = x * 2
    with tf.Session() as sess:
        with pytest.raises(ValueError, match=re.escape("Cannot feed value of shape (4, 3) for Tensor 'x-input:0', "
                                                       "which has shape '(?, 2)'")):
            sess.run(y, {x: np.zeros((4, 3))})
        out = sess.run(y, {"x-input:0": [[1, 2]]})
        assert out.dtype == np.float32 and out.tolist() == [[2, 4]]


def test_uninitialized_variable_raises_failed_precondition_naming_it():
    with tf.name_scope("layer1"):
        w = tf.Variable(tf.ones([2]), name="weight1")
    with tf.Session() as sess:
        with pytest.raises(tf.errors.FailedPreconditionError, match="uninitialized value layer1/weight1"):
            sess.run(w + 1)
        sess.run(w.initializer)
        assert sess.run(w + 1).tolist() == [2, 2]


def test_fetch_structures():
    a, b = tf.constant(1.0), tf.constant([1, 2])
    noop = tf.no_op()
    Pair = collections.namedtuple("Pair", "x y")
    with tf.Session() as sess:
        assert sess.run(a) == 1.0 and isinstance(sess.run(a), np.float32)
        r = sess.run([a, (b, {"k": a, "n": [b]}), noop, Pair(a, b)])
        assert r[0] == 1.0 and r[1][0].tolist() == [1, 2] and r[1][1]["k"] == 1.0
        assert r[1][1]["n"][0].tolist() == [1, 2] and r[2] is None
        assert isinstance(r[3], Pair) and r[3].x == 1.0
        assert sess.run("Const:0") == 1.0
        assert sess.run({"a": a})["a"] == 1.0


def test_lists_holding_tensors_are_packed_at_any_depth():
    """TF1 stacks a (nested) list holding tensors; a nested one once became a tensor of their names."""
    j, f = tf.constant(2), tf.constant(2.5)
    packed = [tf.convert_to_tensor([j, 1]), tf.convert_to_tensor([[j, 1], [j, j]]),
              tf.convert_to_tensor([[1.0, f], [3.0, 4.0]]), tf.gather(tf.constant([[5, 6], [7, 8], [9, 10]]), [[j, 0]])]
    with tf.Session() as sess:
        got = sess.run(packed)
    assert [g.dtype for g in got] == [np.int32, np.int32, np.float32, np.int32]
    assert [g.tolist() for g in got] == [[2, 1], [[2, 1], [2, 2]], [[1.0, 2.5], [3.0, 4.0]], [[[9, 10], [5, 6]]]]


def test_float32_stays_float32_and_plans_are_cached():
    x = tf.placeholder(tf.float32, [None, 3])
    w = tf.Variable(tf.random_normal([3, 2]))
    y = tf.nn.softmax(tf.matmul(x, w) * 0.5 + 1)
    loss = tf.reduce_mean(tf.square(y))
    train = tf.train.AdamOptimizer(0.1).minimize(loss)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(3):
            lv, _ = sess.run([loss, train], {x: np.ones((4, 3))})
        assert isinstance(lv, np.float32)
        assert sess.run(w).dtype == np.float32
        assert len(sess._plans) == 3  # init, train step, w
        assert all(v.dtype == np.float32 for v in sess._store.values() if v.dtype.kind == "f")


def test_eval_run_interactive_session_and_device():
    with tf.device("/cpu:0"):
        c = tf.constant(3.0) * 2
    v = tf.Variable(1.0)
    sess = tf.InteractiveSession()
    try:
        v.initializer.run()
        assert c.eval() == 6.0 and v.eval() == 1.0
        tf.assign_add(v, 2.0).eval()
        assert v.eval() == 3.0
    finally:
        sess.close()
    with pytest.raises(ValueError, match="No default session"):
        c.eval()
    with tf.Session() as s:
        assert c.eval() == 6.0 and s.graph is tf.get_default_graph()


def test_remote_session_target_is_a_clear_error():
    with pytest.raises(ValueError, match="not supported"):
        tf.Session("grpc://localhost:2222")


def test_assign_ops_and_manual_update():
    w = tf.Variable([1.0, 2.0])
    step = tf.assign(w, w - 0.5)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(step)
        sess.run(w.assign_sub([1.0, 1.0]))
        assert sess.run(w).tolist() == [-0.5, 0.5]


# ---- summaries ----------------------------------------------------------------------------------------
def test_control_dependency_on_a_fed_placeholder_is_satisfied_by_the_feed():
    tf.reset_default_graph()
    x = tf.placeholder(tf.float32, [2], name="x")
    with tf.control_dependencies([x]):
        y = tf.constant(3.0) * 2.0
    with tf.Session() as sess:
        assert sess.run(y, {x: [1.0, 2.0]}) == 6.0
        with pytest.raises(tf.errors.InvalidArgumentError, match="placeholder tensor 'x'"):
            sess.run(y)


def test_read_value_sees_the_update_it_depends_on():
    """TF1's read_value() is a new read under the current control dependencies (value() is the one made with
    the variable): it runs after the assign it depends on and sees the new value."""
    tf.reset_default_graph()
    v = tf.Variable(1.0, name="v")
    bump = tf.assign_add(v, 10.0)
    with tf.control_dependencies([bump]):
        after = v.read_value()
    assert after.op.type == "Identity" and after.op.name == "read"
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(after) == 11.0
        assert sess.run(after) == 21.0


def test_summary_tags_follow_scopes_and_image_numbering():
    x = tf.placeholder(tf.float32, [None, 4])
    with tf.name_scope("cost"):
        c = tf.reduce_mean(x)
        tf.summary.scalar("cost", c)
    img = tf.reshape(x, [-1, 2, 2, 1])
    tf.summary.image("input", img, 3)
    tf.summary.histogram("x", x)
    merged = tf.summary.merge_all()
    assert merged.op.name == "Merge/MergeSummary"
    with tf.Session() as sess:
        s = Summary.FromString(sess.run(merged, {x: np.random.rand(5, 4)}))
    assert [v.tag for v in s.value] == ["cost/cost", "input/image/0", "input/image/1", "input/image/2", "x"]
    assert s.value[1].image.height == 2 and s.value[1].image.colorspace == 1


# ---- the XOR TensorBoard program vs real TF1 --------------------------------------------------------------
def _xor_program(logdir, learning_rate, steps=1001):
    """The program behind tests/data/fixtures/tf1_xor (see its README)."""
    tf.reset_default_graph()
    tf.set_random_seed(777)
    x_data = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    y_data = np.array([[0], [1], [1], [0]], dtype=np.float32)
    X = tf.placeholder(tf.float32, [None, 2], name="x-input")
    Y = tf.placeholder(tf.float32, [None, 1], name="y-input")
    with tf.name_scope("layer1"):
        W1 = tf.Variable(tf.random_normal([2, 2]), name="weight1")
        b1 = tf.Variable(tf.random_normal([2]), name="bias1")
        layer1 = tf.sigmoid(tf.matmul(X, W1) + b1)
        tf.summary.histogram("weights1", W1)
        tf.summary.histogram("biases1", b1)
        tf.summary.histogram("layer1", layer1)
    with tf.name_scope("layer2"):
        W2 = tf.Variable(tf.random_normal([2, 1]), name="weight2")
        b2 = tf.Variable(tf.random_normal([1]), name="bias2")
        hypothesis = tf.sigmoid(tf.matmul(layer1, W2) + b2)
        tf.summary.histogram("weights2", W2)
        tf.summary.histogram("biases2", b2)
        tf.summary.histogram("hypothesis", hypothesis)
    with tf.name_scope("cost"):
        cost = -tf.reduce_mean(Y * tf.log(hypothesis) + (1 - Y) * tf.log(1 - hypothesis))
        tf.summary.scalar("cost", cost)
    with tf.name_scope("train"):
        train = tf.train.GradientDescentOptimizer(learning_rate).minimize(cost)
    with tf.name_scope("accuracy"):
        predicted = tf.cast(hypothesis > 0.5, dtype=tf.float32)
        accuracy = tf.reduce_mean(tf.cast(tf.equal(predicted, Y), dtype=tf.float32))
        tf.summary.scalar("accuracy", accuracy)
    with tf.Session() as sess:
        merged = tf.summary.merge_all()
        writer = tf.summary.FileWriter(logdir)
        writer.add_graph(sess.graph)
        sess.run(tf.global_variables_initializer())
        for step in range(steps):
            summary, _ = sess.run([merged, train], feed_dict={X: x_data, Y: y_data})
            if step % 10 == 0:
                writer.add_summary(summary, global_step=step)
        writer.close()


_RESOURCE_ONLY = re.compile(r"ReadVariableOp|VarIsInitializedOp|/Read/|/IsInitialized/|ResourceApply|/gradients/")
_SAME_KIND = {"AddV2": "Add", "VarHandleOp": "VariableV2", "AssignVariableOp": "Assign", "Fill": "OnesLike"}


def test_xor_program_matches_tf1_fixture(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    expected = json.loads((FIXTURES / "tf1_xor" / "expected.json").read_text())["runs"]
    for run, lr in [("xor_logs", 0.1), ("xor_logs_r0_01", 0.01)]:
        _xor_program(str(tmp_path / run), lr)
        ea = EventAccumulator(str(tmp_path / run), size_guidance={"scalars": 0, "histograms": 0})
        ea.Reload()
        exp = expected[run]
        assert sorted(ea.Tags()["scalars"]) == sorted(exp["scalars"])
        assert sorted(ea.Tags()["histograms"]) == sorted(exp["histograms_tf1"])
        for tag, points in exp["scalars"].items():
            assert [e.step for e in ea.Scalars(tag)] == [p[0] for p in points]
        for tag, hists in exp["histograms_tf1"].items():
            assert [e.step for e in ea.Histograms(tag)] == [h["step"] for h in hists]
        ours = {n.name: n.op for n in GraphDef.FromString(ea.Graph().SerializeToString()).node}
        theirs = dict(exp["graph"]["node_ops"])
        assert {n.split("/")[0] for n in ours} == {n.split("/")[0] for n in theirs}
        for name, op in theirs.items():
            if _RESOURCE_ONLY.search(name):
                continue
            assert name in ours, name
            assert _SAME_KIND.get(op, op) == ours[name], (name, op, ours[name])


def test_xor_graph_def_has_shapes_and_control_inputs():
    x = tf.placeholder(tf.float32, [None, 2], name="x-input")
    w = tf.Variable(tf.ones([2, 1]), name="w")
    loss = tf.reduce_mean(tf.matmul(x, w))
    train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    gd = tf.get_default_graph().as_graph_def()
    nodes = {n.name: n for n in gd.node}
    assert nodes["x-input"].op == "Placeholder"
    assert [d.size for d in nodes["x-input"].attr["shape"].shape.dim] == [-1, 2]
    assert nodes["w"].op == "VariableV2" and nodes["w/read"].op == "Identity"
    assert list(nodes["w/read"].input) == ["w"]
    assert list(nodes["w/Assign"].input) == ["w", "ones"] or nodes["w/Assign"].input[0] == "w"
    mm = nodes["MatMul"]
    assert list(mm.input) == ["x-input", "w/read"]
    assert [d.size for d in mm.attr["_output_shapes"].list.shape[0].dim] == [-1, 1]
    assert any(i.startswith("^") for i in nodes[train.name].input)
    assert nodes["GradientDescent/update_w/ApplyGradientDescent"].op == "ApplyGradientDescent"
    assert any(n.startswith("gradients/") for n in nodes)


def test_deep_xor_reaches_accuracy_one():
    tf.set_random_seed(777)
    x_data = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    y_data = np.array([[0], [1], [1], [0]], dtype=np.float32)
    X = tf.placeholder(tf.float32, [None, 2])
    Y = tf.placeholder(tf.float32, [None, 1])
    h = X
    for fan_in, fan_out in [(2, 10), (10, 10), (10, 10), (10, 1)]:
        W = tf.Variable(tf.random_normal([fan_in, fan_out]))
        b = tf.Variable(tf.random_normal([fan_out]))
        h = tf.sigmoid(tf.matmul(h, W) + b)
    cost = -tf.reduce_mean(Y * tf.log(h) + (1 - Y) * tf.log(1 - h))
    train = tf.train.GradientDescentOptimizer(learning_rate=0.1).minimize(cost)
    accuracy = tf.reduce_mean(tf.cast(tf.equal(tf.cast(h > 0.5, tf.float32), Y), tf.float32))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(10001):
            sess.run(train, feed_dict={X: x_data, Y: y_data})
        assert sess.run(accuracy, feed_dict={X: x_data, Y: y_data}) == 1.0


def test_summary_ops_resolve_whatever_was_imported_first():
    """`tf.summary.histogram` is the graph op even when the numpy builders were imported before the engine."""
    import subprocess
    import sys
    code = ("import summaries.summary.builders\nimport summaries as tf\n"
            "t = tf.summary.histogram('w', tf.constant([1.0]))\nassert t.name == 'w:0', t.name\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_tensor_summary_carries_the_value():
    """tf.summary.tensor_summary's Summary holds the fetched tensor (read back by the server's decoder)."""
    import numpy as np

    import summaries as tf
    from board_server.data.tensors import tensor_to_numpy
    from summaries.proto import Summary
    tf.reset_default_graph()
    x = tf.placeholder(tf.float32, [2, 3])
    s = tf.summary.tensor_summary("t", x)
    words = tf.summary.tensor_summary("w", tf.constant(["a", "b"]))
    value = np.arange(6, dtype=np.float32).reshape(2, 3)
    with tf.Session() as sess:
        got, got_words = sess.run([s, words], feed_dict={x: value})
    np.testing.assert_array_equal(tensor_to_numpy(Summary.FromString(got).value[0].tensor), value)
    assert tensor_to_numpy(Summary.FromString(got_words).value[0].tensor).tolist() == [b"a", b"b"]


@pytest.mark.parametrize("key", [(slice(None), -1), (slice(None), slice(None, 2)), (Ellipsis, 1),
                                 (slice(1, None),), (0, slice(None, None, 2)), (slice(None), None, -1),
                                 (slice(-3, None), 0)])
def test_slice_static_shape_never_contradicts_the_run(key):
    """Where `x[key]` claims a static size it is the size every run gets, whatever the unknown dims are;
    `x[:, -1]` of [?, 4, 3] must know its last axis (layers after an RNN need it)."""
    tf.reset_default_graph()
    x = tf.placeholder(tf.float32, [None, 4, None])
    y = x[key]
    with tf.Session() as sess:
        for batch, depth in ((0, 1), (1, 2), (2, 3), (7, 5)):
            value = np.zeros((batch, 4, depth), np.float32)
            try:
                value[key]
            except IndexError:  # an index past a small run's end: an error there too, not a shape
                with pytest.raises(tf.errors.InvalidArgumentError):
                    sess.run(y, {x: value})
                continue
            got = sess.run(y, {x: value}).shape
            static = y.shape.as_list()
            assert len(static) == len(got) and all(s is None or s == g for s, g in zip(static, got)), (key, static, got)
    known = tf.placeholder(tf.float32, [None, 4, 3])[:, -1]
    assert known.shape.as_list() == [None, 3]
