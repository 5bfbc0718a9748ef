"""tf.train.ExponentialMovingAverage against real TensorFlow (tests/data/engine_ema/reference.json,
written by make_reference.py there with tf.compat.v1) and against the formula in numpy."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import summaries as tf

from conftest import load_script

DATA = Path(__file__).parent / "data" / "engine_ema"
REFERENCE = json.loads((DATA / "reference.json").read_text())
SCRIPT = load_script(DATA / "make_reference.py")  # its build(tf) makes the graph TF made, here with `summaries`


def test_averages_and_names_equal_tensorflow():
    tf.reset_default_graph()
    w, b, x, mean, slow, slow_op, fast, fast_op = SCRIPT.build(tf)
    assert sorted(v.op.name for v in tf.global_variables()) == REFERENCE["global_variables"]
    assert sorted(slow.variables_to_restore()) == REFERENCE["restore"]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for feed, want in zip(REFERENCE["feeds"], REFERENCE["steps"]):
            sess.run([slow_op, fast_op], {x: feed})
            w_avg, b_avg, m_avg = sess.run([slow.average(w), slow.average(b), fast.average(mean)])
            np.testing.assert_allclose(w_avg, want["w"], rtol=1e-6)
            np.testing.assert_allclose(b_avg, want["b"], rtol=1e-6)
            np.testing.assert_allclose(m_avg, want["mean"], rtol=1e-6)


def test_plain_decay_follows_the_formula_and_trains_nothing():
    tf.reset_default_graph()
    v = tf.Variable(np.float64(3.0), name="v")
    ema = tf.train.ExponentialMovingAverage(0.75)
    update = ema.apply([v])
    shadow = ema.average(v)
    assert shadow.op.name == "v/ExponentialMovingAverage" and not shadow.trainable
    assert ema.average_name(v) == "v/ExponentialMovingAverage"
    want = 3.0
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for target in [5.0, -1.0, 2.5]:
            sess.run(tf.assign(v, target))
            sess.run(update)
            want -= (want - target) * 0.25
            assert sess.run(shadow) == pytest.approx(want, rel=1e-12)


def test_restoring_the_averages_into_the_model(tmp_path):
    tf.reset_default_graph()
    v = tf.Variable(1.0, name="v")
    ema = tf.train.ExponentialMovingAverage(0.5)
    update = ema.apply([v])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(tf.assign(v, 3.0))
        sess.run(update)  # shadow 1 -> 2
        path = tf.train.Saver().save(sess, str(tmp_path / "model"))
    with tf.Session() as sess:
        tf.train.Saver(ema.variables_to_restore()).restore(sess, path)
        assert sess.run(v) == 2.0


def test_bad_inputs_are_named():
    tf.reset_default_graph()
    n = tf.Variable(1, name="counter")
    ema = tf.train.ExponentialMovingAverage(0.9)
    with pytest.raises(TypeError, match="counter"):
        ema.apply([n])
    v = tf.Variable(1.0, name="v")
    ema.apply([v])
    with pytest.raises(ValueError, match="already computed for: v"):
        ema.apply([v])
    with pytest.raises(ValueError, match="fully defined shape"):
        ema.apply([tf.placeholder(tf.float32, [None], name="batch")])
