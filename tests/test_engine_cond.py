"""TF1 `tf.cond` (Switch/Merge with dead tensors): only the taken branch runs.

Truth: numpy formulas, central finite differences (float64), and real TensorFlow 2.21 in TF1 graph
mode with v1 control flow (tests/data/engine_cond/reference.npz and graph.json, written by
make_reference.py there, whose graph builders this test reuses with `summaries`).
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

import summaries as tf
from summaries.engine.session import DEAD

from conftest import load_script
from gradcheck import numeric_grad

DATA = Path(__file__).parent / "data" / "engine_cond"
REF = np.load(DATA / "reference.npz")
REFERENCE = load_script(DATA / "make_reference.py")


pytestmark = pytest.mark.usefixtures("fresh_graph")


def plan_sources(sess) -> list[str]:
    return [p.source for p in sess._plans.values()]


# ---- side effects ------------------------------------------------------------------------------------
def test_assign_runs_only_in_the_taken_branch():
    v = tf.Variable(0.0)
    p = tf.placeholder(tf.bool, [])
    r = tf.cond(p, lambda: tf.assign(v, 1.0), lambda: tf.assign(v, 2.0))
    with tf.Session() as sess:
        sess.run(v.initializer)
        assert sess.run(r, {p: True}) == 1.0 and sess.run(v) == 1.0
        assert sess.run(r, {p: False}) == 2.0 and sess.run(v) == 2.0


def test_counters_increment_only_in_the_taken_branch():
    hits_t = tf.Variable(0, name="hits_t")
    hits_f = tf.Variable(0, name="hits_f")
    p = tf.placeholder(tf.bool, [])
    out = tf.cond(p, lambda: tf.assign_add(hits_t, 1), lambda: tf.assign_add(hits_f, 10))
    preds = [True, True, False, True, False, False, False]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for flag in preds:
            sess.run(out, {p: flag})
        assert sess.run([hits_t, hits_f]) == [sum(preds), 10 * (len(preds) - sum(preds))]


def test_branch_returning_ops_runs_only_their_side_effects():
    v = tf.Variable(0.0)
    w = tf.Variable(0.0)
    p = tf.placeholder(tf.bool, [])
    out = tf.cond(p, lambda: tf.group(tf.assign_add(v, 1.0), tf.assign_add(w, 1.0)), lambda: tf.no_op())
    assert out.dtype == tf.bool  # as TF1: the branch's pivot gated on the op
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for flag in (True, False, True):
            sess.run(out, {p: flag})
        assert sess.run([v, w]) == [2.0, 2.0]


def test_batch_norm_pattern_matches_numpy_and_tensorflow():
    x, training, ma_mean, ma_var, m, v = REFERENCE.batchnorm_case(tf)
    batches, flags, decay = REF["input_batches"], REFERENCE.TRAINING, REFERENCE.DECAY
    np_mean, np_var = np.zeros(3), np.ones(3)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for i, (batch, flag) in enumerate(zip(batches, flags)):
            got_m, got_v = sess.run([m, v], {x: batch, training: flag})
            if flag:
                want_m, want_v = batch.mean(0), batch.var(0)
                np_mean = np_mean * decay + want_m * (1 - decay)
                np_var = np_var * decay + want_v * (1 - decay)
            else:
                want_m, want_v = np_mean, np_var
            np.testing.assert_allclose([got_m, got_v], [want_m, want_v], rtol=1e-12)
            np.testing.assert_allclose(sess.run([ma_mean, ma_var]), [np_mean, np_var], rtol=1e-12)
            np.testing.assert_allclose(sess.run([ma_mean, ma_var]), [REF[f"bn_ma_mean_{i}"], REF[f"bn_ma_var_{i}"]],
                                       rtol=1e-12)
            np.testing.assert_allclose([got_m, got_v], [REF[f"bn_m_{i}"], REF[f"bn_v_{i}"]], rtol=1e-12)


# ---- values and gradients ------------------------------------------------------------------------------
@pytest.mark.parametrize("flag", [True, False])
def test_values_and_gradients_match_numpy_finite_differences_and_tensorflow(flag):
    p, x, w, y, (gx, gw) = REFERENCE.matrix_case(tf)
    X, W = REF["input_x"], REF["input_w"]

    def np_f(xv, wv):
        return np.tanh(xv @ wv).sum() if flag else 0.5 * (xv * xv).sum() + wv.sum()

    with tf.Session() as sess:
        got_y, got_gx, got_gw = sess.run([y, gx, gw], {p: flag, x: X, w: W})
        np.testing.assert_allclose(got_y, np_f(X, W), rtol=1e-12)
        np.testing.assert_allclose(got_gx, numeric_grad(lambda a: sess.run(y, {p: flag, x: a, w: W}), X), rtol=1e-6,
                                   atol=1e-8)
        np.testing.assert_allclose(got_gw, numeric_grad(lambda b: sess.run(y, {p: flag, x: X, w: b}), W), rtol=1e-6,
                                   atol=1e-8)
    np.testing.assert_allclose(got_y, REF[f"matrix_y_{flag}"], rtol=1e-12)
    np.testing.assert_allclose(got_gx, REF[f"matrix_gx_{flag}"], rtol=1e-12)
    np.testing.assert_allclose(got_gw, REF[f"matrix_gw_{flag}"], rtol=1e-12)


@pytest.mark.parametrize("xv", [4.0, -4.0, 0.25])
def test_untaken_sqrt_does_not_poison_the_gradient(xv):
    x, y, g = REFERENCE.scalar_case(tf)
    with tf.Session() as sess:
        got_y, got_g = sess.run([y, g], {x: xv})
    want_y, want_g = (3 * np.sqrt(xv), 3 / (2 * np.sqrt(xv))) if xv > 0 else (1 - xv, -1.0)
    assert np.isfinite(got_g)
    np.testing.assert_allclose([got_y, got_g], [want_y, want_g], rtol=1e-12)
    np.testing.assert_allclose([got_y, got_g], [REF[f"scalar_y_{xv}"], REF[f"scalar_g_{xv}"]], rtol=1e-12)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_where_would_have_given_nan():
    """The independent check that the case above is a real one: a select multiplies 0 by sqrt's inf."""
    x = tf.placeholder(tf.float64, [])
    y = tf.where(x > 0, tf.sqrt(x), -x)
    with tf.Session() as sess:
        assert np.isnan(sess.run(tf.gradients(y, x)[0], {x: -4.0}))


@pytest.mark.parametrize("fp", [True, False])
@pytest.mark.parametrize("fq", [True, False])
def test_nested_cond_with_tuples(fp, fq):
    p, q, a, loss, ga = REFERENCE.nested_case(tf)
    A = REF["input_a"]

    def np_loss(av):
        if fp:
            u, s = (av * 2.0, av.sum()) if fq else (np.exp(av), (av * av).sum())
        else:
            u, s = av - 1.0, 7.0
        return (u * u).sum() + s * s + av.sum()

    with tf.Session() as sess:
        got_loss, got_g = sess.run([loss, ga], {p: fp, q: fq, a: A})
    np.testing.assert_allclose(got_loss, np_loss(A), rtol=1e-12)
    np.testing.assert_allclose(got_g, numeric_grad(np_loss, A), rtol=1e-6)
    np.testing.assert_allclose([got_loss, *got_g], [REF[f"nested_loss_{fp}_{fq}"], *REF[f"nested_g_{fp}_{fq}"]],
                               rtol=1e-12)


def test_nested_side_effects_run_only_on_the_taken_path():
    counts = [tf.Variable(0, name=f"c{i}") for i in range(3)]
    p = tf.placeholder(tf.bool, [])
    q = tf.placeholder(tf.bool, [])
    out = tf.cond(p, lambda: tf.cond(q, lambda: tf.assign_add(counts[0], 1), lambda: tf.assign_add(counts[1], 1)),
                  lambda: tf.assign_add(counts[2], 1))
    runs = [(True, True), (True, False), (False, True), (True, True), (False, False)]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for fp, fq in runs:
            sess.run(out, {p: fp, q: fq})
        assert sess.run(counts) == [sum(fp and fq for fp, fq in runs), sum(fp and not fq for fp, fq in runs),
                                    sum(not fp for fp, _ in runs)]


# ---- structures ----------------------------------------------------------------------------------------
def test_structured_outputs_keep_their_structure():
    p = tf.placeholder(tf.bool, [])
    x = tf.placeholder(tf.float32, [2])
    tup = tf.cond(p, lambda: (x, x * 2.0), lambda: (x * 3.0, x))
    lst = tf.cond(p, lambda: [x, x + 1.0], lambda: [x - 1.0, x])
    dct = tf.cond(p, lambda: {"b": x, "a": x * 2.0}, lambda: {"a": x, "b": x * 3.0})
    single = tf.cond(p, lambda: [x], lambda: [x * 2.0])
    strict = tf.cond(p, lambda: [x], lambda: [x * 2.0], strict=True)
    assert isinstance(tup, tuple) and isinstance(lst, list) and list(dct) == ["b", "a"]
    assert isinstance(single, tf.Tensor) and isinstance(strict, list) and len(strict) == 1
    xv = np.array([1.0, 2.0], np.float32)
    with tf.Session() as sess:
        for flag in (True, False):
            got = sess.run([tup, lst, dct, single, strict], {p: flag, x: xv})
            if flag:
                want = [(xv, 2 * xv), [xv, xv + 1], {"b": xv, "a": 2 * xv}, xv, [xv]]
            else:
                want = [(3 * xv, xv), [xv - 1, xv], {"b": 3 * xv, "a": xv}, 2 * xv, [2 * xv]]
            np.testing.assert_allclose(got[0], want[0])
            np.testing.assert_allclose(got[1], want[1])
            assert got[2].keys() == want[2].keys()
            for k in want[2]:
                np.testing.assert_allclose(got[2][k], want[2][k])
            np.testing.assert_allclose(got[3], want[3])
            np.testing.assert_allclose(got[4], want[4])


def test_python_number_branches():
    p = tf.placeholder(tf.bool, [])
    x = tf.placeholder(tf.float64, [])
    nums = tf.cond(p, lambda: 1.5, lambda: 2.5)
    mixed = tf.cond(p, lambda: x * 2.0, lambda: 0.0)
    assert nums.dtype == tf.float32 and mixed.dtype == tf.float64
    with tf.Session() as sess:
        assert sess.run([nums, mixed], {p: True, x: 3.0}) == [1.5, 6.0]
        assert sess.run([nums, mixed], {p: False, x: 3.0}) == [2.5, 0.0]


def test_mismatched_structures_and_types_raise():
    p = tf.placeholder(tf.bool, [])
    x = tf.placeholder(tf.float32, [])
    with pytest.raises(ValueError, match="same nested structure"):
        tf.cond(p, lambda: (x, x), lambda: x)
    with pytest.raises(ValueError, match="same nested structure"):
        tf.cond(p, lambda: {"a": x}, lambda: {"b": x})
    with pytest.raises(ValueError, match="same type"):
        tf.cond(p, lambda: x, lambda: tf.constant(1))
    with pytest.raises(ValueError, match="must have a return value"):
        tf.cond(p, lambda: None, lambda: x)
    with pytest.raises(TypeError):
        tf.cond(x, lambda: x, lambda: x)


def test_output_shape_is_the_most_specific_compatible_one():
    p = tf.placeholder(tf.bool, [])
    a = tf.placeholder(tf.float32, [None, 3])
    b = tf.placeholder(tf.float32, [2, None])
    c = tf.placeholder(tf.float32, [2, 3])
    assert tf.cond(p, lambda: a, lambda: b).shape.as_list() == [None, None]
    assert tf.cond(p, lambda: c, lambda: c * 2.0).shape.as_list() == [2, 3]
    assert tf.cond(p, lambda: c, lambda: tf.reduce_sum(c)).shape.ndims is None


def test_python_bool_predicate_is_accepted():
    x = tf.constant(2.0)
    with tf.Session() as sess:
        assert sess.run(tf.cond(True, lambda: x * 3.0, lambda: x)) == 6.0
        assert sess.run(tf.cond(False, lambda: x * 3.0, lambda: x)) == 2.0


# ---- executor -----------------------------------------------------------------------------------------
def test_fetching_a_tensor_of_the_untaken_branch_raises():
    p = tf.placeholder(tf.bool, [])
    x = tf.placeholder(tf.float32, [])
    out = tf.cond(p, lambda: tf.sqrt(x, name="root"), lambda: -x)
    root = tf.get_default_graph().get_tensor_by_name("cond/root:0")
    with tf.Session() as sess:
        assert sess.run([out, root], {p: True, x: 4.0}) == [2.0, 2.0]
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"'cond/root:0'.*branch of a `cond` that was not "
                                                                  r"taken"):
            sess.run([out, root], {p: False, x: 4.0})


def test_kernel_errors_in_a_branch_name_their_op():
    p = tf.placeholder(tf.bool, [])
    x = tf.placeholder(tf.float32, [None, None])
    out = tf.cond(p, lambda: tf.matmul(x, x), lambda: x)
    with tf.Session() as sess:
        assert sess.run(out, {p: False, x: np.ones((2, 3))}).shape == (2, 3)
        with pytest.raises(tf.errors.InvalidArgumentError) as e:
            sess.run(out, {p: True, x: np.ones((2, 3))})
        assert e.value.op.name == "cond/MatMul"


_PLAIN_LINE = re.compile(r"^    (t\d+(, t\d+)* = )?K\d+\((f\d+|t\d+)?(, (f\d+|t\d+))*\)$")


def test_plans_without_cond_or_loop_have_no_guarded_lines():
    """Speed/design guard: a graph without Switch compiles to exactly one plain kernel call per op, and a
    cond or a while loop (with its gradient) elsewhere in the graph changes nothing."""
    x = tf.placeholder(tf.float32, [None, 4])
    y = tf.placeholder(tf.float32, [None, 1])
    loss = tf.reduce_mean(tf.square(tf.layers.dense(tf.layers.dense(x, 8, tf.nn.relu), 1) - y))
    step = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    feed = {x: np.ones((2, 4)), y: np.ones((2, 1))}
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run([step, loss], feed)
        before = plan_sources(sess)
        body = before[-1].splitlines()[1:-1]
        assert body and all(_PLAIN_LINE.match(line) for line in body), body
        assert all("DEAD" not in s for s in before)
        p = tf.placeholder(tf.bool, [])
        tf.cond(p, lambda: loss * 2.0, lambda: loss)
        looped = tf.while_loop(lambda i, v: i < 3, lambda i, v: (i + 1, v * 2.0), (0, loss))[1]
        tf.gradients(looped, x)
        sess._plans.clear()
        sess.run(tf.global_variables_initializer())
        sess.run([step, loss], feed)
        assert plan_sources(sess) == before


def test_only_ops_that_can_see_a_dead_tensor_are_guarded():
    x = tf.placeholder(tf.float32, [])
    p = tf.placeholder(tf.bool, [])
    pre = tf.square(x)
    out = tf.cond(p, lambda: pre * 2.0, lambda: pre + 1.0)
    post = out * 3.0
    with tf.Session() as sess:
        assert sess.run(post, {p: True, x: 2.0}) == 24.0
        src = plan_sources(sess)[0]
    lines = src.splitlines()[1:-1]
    guarded = [ln for ln in lines if " if " in ln and "raise" not in ln]
    # the pivots switch_t/switch_f, each branch's Const and op, and `post` (after a Merge of maybe-dead inputs);
    # `pre`, the predicate's Switch and the Merge itself run unguarded
    assert len(guarded) == 7, src
    assert sum(1 for ln in lines if "raise _dead" in ln) == 1


def test_dead_sentinel_never_reaches_a_fetch_or_kernel():
    p = tf.placeholder(tf.bool, [])
    x = tf.placeholder(tf.float64, [])
    y = tf.cond(p, lambda: tf.cond(p, lambda: x + 1.0, lambda: x - 1.0), lambda: x * 0.5)
    g = tf.gradients(y * y + x, x)[0]
    with tf.Session() as sess:
        for flag, want_y, want_g in ((True, 4.0, 2 * 4.0 + 1), (False, 1.5, 2 * 1.5 * 0.5 + 1)):
            got = sess.run([y, g], {p: flag, x: 3.0})
            assert all(v is not DEAD for v in got)
            np.testing.assert_allclose(got, [want_y, want_g])


# ---- training and graph export ----------------------------------------------------------------------------
def test_gradient_descent_through_a_cond_follows_numpy():
    w = tf.Variable(0.5, dtype=tf.float64)
    p = tf.placeholder(tf.bool, [])
    loss = tf.cond(p, lambda: tf.square(w - 3.0), lambda: tf.square(w + 1.0) * 0.5)
    lr = 0.1
    step = tf.train.GradientDescentOptimizer(lr).minimize(loss)
    flags = [True, False, True, True, False] * 8
    want = 0.5
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for flag in flags:
            sess.run(step, {p: flag})
            want -= lr * (2 * (want - 3.0) if flag else (want + 1.0))
        np.testing.assert_allclose(sess.run(w), want, rtol=1e-12)
        for _ in range(200):
            sess.run(step, {p: True})
        np.testing.assert_allclose(sess.run(w), 3.0, rtol=1e-9)


def test_cond_nodes_look_like_tensorflow_graph_def():
    REFERENCE.graph_case(tf)
    ours = REFERENCE.cond_nodes(tf.get_default_graph().as_graph_def())
    theirs = json.loads((DATA / "graph.json").read_text())["nodes"]
    assert [n[:2] for n in ours] == [n[:2] for n in theirs]
    forward = [n for n in theirs if n[0].startswith("cond/")]
    assert [n for n in ours if n[0].startswith("cond/")] == forward
