"""Plain-loop references for the conv/pool engine tests, written from TF's documented geometry (the rule for the
output size and the padding before), and a feed-and-run helper; shared by test_engine_conv*.py."""
from __future__ import annotations

import math

import numpy as np

import summaries as tf


def ref_geometry(size, k, s, padding, d=1):
    """(output length, padding before) for a k-tap window dilated by d (span (k-1)*d+1), TF's rule."""
    span = (k - 1) * d + 1
    if padding == "VALID":
        return (size - span) // s + 1, 0
    out = math.ceil(size / s)
    return out, max((out - 1) * s + span - size, 0) // 2


def taps(h, wd, kh, kw, sh, sw, dh, dw, padding):
    """Yield (oy, ox, i, j, iy, ix) for every filter tap landing on a real input cell."""
    oh, pt = ref_geometry(h, kh, sh, padding, dh)
    ow, pl = ref_geometry(wd, kw, sw, padding, dw)
    for oy in range(oh):
        for ox in range(ow):
            for i in range(kh):
                for j in range(kw):
                    iy, ix = oy * sh + i * dh - pt, ox * sw + j * dw - pl
                    if 0 <= iy < h and 0 <= ix < wd:
                        yield oy, ox, i, j, iy, ix


def ref_conv2d(x, w, sh=1, sw=1, padding="SAME", dh=1, dw=1):
    n, h, wd, _ = x.shape
    kh, kw, _, co = w.shape
    y = np.zeros((n, ref_geometry(h, kh, sh, padding, dh)[0], ref_geometry(wd, kw, sw, padding, dw)[0], co))
    for oy, ox, i, j, iy, ix in taps(h, wd, kh, kw, sh, sw, dh, dw, padding):
        y[:, oy, ox] += x[:, iy, ix] @ w[i, j]
    return y


def ref_pool(x, kh, kw, sh, sw, padding, reduce):
    n, h, wd, c = x.shape
    oh, pt = ref_geometry(h, kh, sh, padding)
    ow, pl = ref_geometry(wd, kw, sw, padding)
    y = np.zeros((n, oh, ow, c))
    for b in range(n):
        for oy in range(oh):
            for ox in range(ow):
                for ch in range(c):
                    cells = [x[b, oy * sh + i - pt, ox * sw + j - pl, ch] for i in range(kh) for j in range(kw)
                             if 0 <= oy * sh + i - pt < h and 0 <= ox * sw + j - pl < wd]
                    y[b, oy, ox, ch] = reduce(cells)
    return y


def run(build, *values, unknown_batch=True):
    """Feed `values` (the first with an unknown batch size); return build(*placeholders) and its value."""
    tf.reset_default_graph()
    phs = [tf.placeholder(tf.as_dtype(v.dtype), [None] + list(v.shape[1:]) if i == 0 and unknown_batch else v.shape)
           for i, v in enumerate(values)]
    y = build(*phs)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        return y, sess.run(y, dict(zip(phs, values)))
