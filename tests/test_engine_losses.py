"""tf.losses with weights, reductions and label smoothing against TF1's formulas written in numpy."""
from __future__ import annotations

import numpy as np
import pytest

import summaries as tf

RNG = np.random.default_rng(9)
R = tf.losses.Reduction


def run(t, feed=None):
    with tf.Session() as sess:
        return sess.run(t, feed)


def log_softmax(z):
    z = z - z.max(-1, keepdims=True)
    return z - np.log(np.exp(z).sum(-1, keepdims=True))


pytestmark = pytest.mark.usefixtures("fresh_graph")


def test_masking_weights_divide_by_the_nonzero_ones():
    """A padding mask of zeros: TF1's default reduction averages over the real elements only."""
    logits = RNG.standard_normal((4, 5))
    labels = np.array([0, 3, 1, 4])
    mask = np.array([1.0, 1.0, 0.0, 0.0])
    per = -log_softmax(logits)[np.arange(4), labels]
    got = run(tf.losses.sparse_softmax_cross_entropy(labels, tf.constant(logits), weights=mask))
    np.testing.assert_allclose(got, (per * mask).sum() / 2, rtol=1e-12)
    pred, target = RNG.standard_normal((4, 3)), RNG.standard_normal((4, 3))
    w = np.array([[1.0], [0.0], [2.0], [0.0]])  # broadcast over the last axis: 6 nonzero weights
    got = run(tf.losses.mean_squared_error(tf.constant(target), tf.constant(pred), weights=tf.constant(w)))
    np.testing.assert_allclose(got, (((pred - target) ** 2) * w).sum() / 6, rtol=1e-12)
    assert run(tf.losses.absolute_difference(tf.constant(target), tf.constant(pred), weights=0.0)) == 0.0


@pytest.mark.parametrize("reduction,reduce", [
    (R.NONE, lambda l, w: l * w), (R.SUM, lambda l, w: (l * w).sum()),
    (R.MEAN, lambda l, w: (l * w).sum() / np.broadcast_to(w, l.shape).sum()),
    (R.SUM_OVER_BATCH_SIZE, lambda l, w: (l * w).sum() / l.size),
    (R.SUM_BY_NONZERO_WEIGHTS, lambda l, w: (l * w).sum() / np.count_nonzero(np.broadcast_to(w, l.shape)))])
def test_every_reduction(reduction, reduce):
    pred, target = RNG.standard_normal((3, 2)), RNG.standard_normal((3, 2))
    w = np.array([[0.5, 0.0], [2.0, 1.0], [0.0, 0.0]])
    got = run(tf.losses.mean_squared_error(tf.constant(target), tf.constant(pred), weights=tf.constant(w),
                                           reduction=reduction))
    np.testing.assert_allclose(got, reduce((pred - target) ** 2, w), rtol=1e-12)


def test_label_smoothing():
    logits = RNG.standard_normal((3, 4))
    onehot = np.eye(4)[[2, 0, 3]]
    smoothed = onehot * 0.8 + 0.2 / 4
    got = run(tf.losses.softmax_cross_entropy(tf.constant(onehot), tf.constant(logits), label_smoothing=0.2))
    np.testing.assert_allclose(got, -(smoothed * log_softmax(logits)).sum(-1).mean(), rtol=1e-12)
    labels = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    z = RNG.standard_normal((3, 2))
    soft = labels * 0.9 + 0.05
    want = (np.maximum(z, 0) - z * soft + np.log1p(np.exp(-np.abs(z)))).mean()
    got = run(tf.losses.sigmoid_cross_entropy(tf.constant(labels), tf.constant(z), label_smoothing=0.1))
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_losses_are_collected_once_each():
    tf.losses.mean_squared_error(tf.zeros([2]), tf.ones([2]))
    tf.losses.absolute_difference(tf.zeros([2]), tf.ones([2]), loss_collection=None)
    assert len(tf.get_collection(tf.GraphKeys.LOSSES)) == 1
    assert np.isclose(run(tf.losses.get_total_loss()), 1.0)


def test_class_count_known_only_when_run():
    """label_smoothing and sequence_loss read the number of classes at run time when the graph has None."""
    onehot, logits = np.eye(4)[[2, 0, 3]], RNG.standard_normal((3, 4))
    x, z = tf.placeholder(tf.float64, [None, None]), tf.placeholder(tf.float64, [None, None])
    got = run(tf.losses.softmax_cross_entropy(x, z, label_smoothing=0.2), {x: onehot, z: logits})
    want = -((onehot * 0.8 + 0.05) * log_softmax(logits)).sum(-1).mean()
    np.testing.assert_allclose(got, want, rtol=1e-12)
    lg, tg = tf.placeholder(tf.float64, [2, 3, None]), tf.placeholder(tf.int32, [2, 3])
    seq_logits, targets = RNG.standard_normal((2, 3, 5)), RNG.integers(0, 5, (2, 3))
    got = run(tf.contrib.seq2seq.sequence_loss(lg, tg, tf.ones([2, 3], tf.float64)), {lg: seq_logits, tg: targets})
    want = -np.take_along_axis(log_softmax(seq_logits), targets[..., None], -1).mean()
    np.testing.assert_allclose(got, want, rtol=1e-12)
