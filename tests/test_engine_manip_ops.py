"""tf.range/tile/pad/split/sequence_mask/boolean_mask/gather_nd/tensordot/linspace/matrix_transpose/einsum:
values against numpy, static shapes, gradients against central finite differences (float64), errors."""
from __future__ import annotations

import numpy as np
import pytest

import summaries as tf

from gradcheck import check_gradients as check_grad

RNG = np.random.default_rng(7)


pytestmark = pytest.mark.usefixtures("fresh_graph")


def run(fetches, feed=None):
    with tf.Session() as sess:
        return sess.run(fetches, feed)


def rand(*shape):
    return RNG.standard_normal(shape)


# ---- range, linspace --------------------------------------------------------------------------------
@pytest.mark.parametrize("args,kw", [((5,), {}), ((2, 9, 3), {}), ((10, 1, -2), {}), ((0, 1, 0.25), {}),
                                     ((3,), {"dtype": tf.float64}), ((1.5, 4), {}), ((4, 4), {})])
def test_range_values_and_static_shape(args, kw):
    t = tf.range(*args, **kw)
    v = run(t)
    ref = np.arange(*args, dtype=kw["dtype"].np if "dtype" in kw else None)
    np.testing.assert_allclose(v, ref)
    assert t.shape.as_list() == [len(ref)]
    assert t.op.type == "Range"


def test_range_dtype_rules_and_names():
    assert tf.range(5).dtype == tf.int32
    assert tf.range(2.0).dtype == tf.float32
    assert tf.range(0, 5, 0.5).dtype == tf.float32
    assert tf.range(tf.constant(3, tf.int64)).dtype == tf.int64
    assert tf.range(tf.constant(1, tf.int64), 3.0).dtype == tf.float32
    assert tf.range(3).op.name == "range_5"  # the five ranges above are range, range_1, ...
    with tf.name_scope("outer"):
        assert tf.range(3, name="r").op.name == "outer/r"


def test_range_dynamic_limit():
    x = tf.placeholder(tf.float32, [None, 2])
    t = tf.range(tf.shape(x)[0])
    assert t.shape.as_list() == [None]
    np.testing.assert_array_equal(run(t, {x: np.zeros((4, 2))}), np.arange(4))


def test_range_errors():
    with pytest.raises(ValueError, match="Requires delta != 0"):
        tf.range(0, 5, 0)
    with pytest.raises(ValueError, match="Requires start <= limit when delta > 0: 5/0"):
        tf.range(5, 0)
    with pytest.raises(ValueError, match="Shape must be rank 0"):
        tf.range([1, 2])
    with pytest.raises(TypeError):
        tf.range(tf.constant(True))
    n = tf.placeholder(tf.int32, [])
    t = tf.range(5, n, -1)
    with pytest.raises(tf.errors.InvalidArgumentError, match="Requires start >= limit when delta < 0"):
        run(t, {n: 7})


@pytest.mark.parametrize("num", [1, 2, 7])
def test_linspace(num):
    t = tf.linspace(-1.0, 2.0, num)
    assert t.op.type == "LinSpace" and t.shape.as_list() == [num] and t.dtype == tf.float32
    np.testing.assert_allclose(run(t), np.linspace(-1.0, 2.0, num), rtol=1e-6)
    assert tf.lin_space is tf.linspace


def test_linspace_dynamic_num_and_errors():
    n = tf.placeholder(tf.int32, [])
    t = tf.linspace(tf.constant(0.0, tf.float64), 1.0, n)
    assert t.shape.as_list() == [None] and t.dtype == tf.float64
    np.testing.assert_allclose(run(t, {n: 4}), np.linspace(0, 1, 4))
    with pytest.raises(tf.errors.InvalidArgumentError, match="Requires num > 0"):
        run(t, {n: 0})
    with pytest.raises(ValueError, match="Requires num > 0"):
        tf.linspace(0.0, 1.0, 0)
    with pytest.raises(TypeError, match="int32"):
        tf.linspace(0, 1, 3)


@pytest.mark.parametrize("num", [1, 4])
def test_linspace_gradient(num):
    check_grad(lambda a, b: tf.linspace(a, b, num), [rand(), rand()])


# ---- tile -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape,mult", [((2, 3), (2, 1)), ((2, 3), (1, 3)), ((3,), (4,)), ((1, 2, 2), (2, 2, 3))])
def test_tile_values_shape_and_gradient(shape, mult):
    x = rand(*shape)
    t = tf.tile(tf.constant(x), list(mult))
    assert t.op.type == "Tile" and t.shape.as_list() == list(np.tile(x, mult).shape)
    np.testing.assert_allclose(run(t), np.tile(x, mult))
    check_grad(lambda a: tf.tile(a, list(mult)), [x])


def test_tile_unknown_dims_and_runtime_multiples():
    x = tf.placeholder(tf.float64, [None, 3])
    assert tf.tile(x, [2, 2]).shape.as_list() == [None, 6]
    n = tf.placeholder(tf.int32, [])
    t = tf.tile(x, tf.stack([n, 1]))
    assert t.shape.as_list() == [None, None]
    xv = rand(2, 3)
    np.testing.assert_allclose(run(t, {x: xv, n: 3}), np.tile(xv, (3, 1)))
    g = tf.gradients(tf.reduce_sum(t * t), x)[0]
    np.testing.assert_allclose(run(g, {x: xv, n: 3}), 2 * 3 * xv)


def test_tile_errors():
    x = tf.zeros([2, 3])
    with pytest.raises(ValueError, match="Shape must be rank 3 but is rank 2 for 'Tile'"):
        tf.tile(x, [1, 2, 3])
    with pytest.raises(tf.errors.InvalidArgumentError, match="non-negative"):
        run(tf.tile(x, [1, -1]))
    m = tf.placeholder(tf.int32, [None])
    with pytest.raises(tf.errors.InvalidArgumentError, match="length 2"):
        run(tf.tile(x, m), {m: [1, 2, 3]})


# ---- pad --------------------------------------------------------------------------------------------
PADS = [[1, 2], [0, 1]]


@pytest.mark.parametrize("mode", ["CONSTANT", "REFLECT", "SYMMETRIC", "reflect"])
def test_pad_values_and_shape(mode):
    x = rand(3, 4)
    t = tf.pad(tf.constant(x), PADS, mode)
    assert t.op.type == ("Pad" if mode == "CONSTANT" else "MirrorPad")
    assert t.shape.as_list() == [6, 5]
    np.testing.assert_allclose(run(t), np.pad(x, PADS, mode=mode.lower()))


def test_pad_constant_values_unknown_dims():
    x = tf.placeholder(tf.float32, [None, 2])
    t = tf.pad(x, [[0, 1], [2, 0]], constant_values=-3)
    assert t.op.type == "PadV2" and t.shape.as_list() == [None, 4]
    xv = rand(3, 2).astype(np.float32)
    np.testing.assert_allclose(run(t, {x: xv}), np.pad(xv, [[0, 1], [2, 0]], constant_values=-3))


@pytest.mark.parametrize("mode,pads", [("CONSTANT", PADS), ("REFLECT", [[2, 1], [1, 3]]),
                                       ("SYMMETRIC", [[3, 2], [0, 4]])])
def test_pad_gradient(mode, pads):
    check_grad(lambda a: tf.pad(a, pads, mode), [rand(3, 4)])


def test_pad_constant_values_gradient():
    check_grad(lambda a, c: tf.pad(a, PADS, constant_values=c), [rand(2, 3), rand()])


def test_mirror_pad_second_order():
    """Through MirrorPadGrad (its gradient is MirrorPad): d sum(fold(2 pad(x)))/dx = 2 * copies of x_i."""
    x = tf.placeholder(tf.float64, [4])
    y = tf.reduce_sum(tf.pad(x, [[2, 1]], "REFLECT") ** 2)
    gg = tf.gradients(tf.gradients(y, x)[0], x)[0]
    count = np.zeros(4)  # how many padded cells copy each input cell
    np.add.at(count, np.pad(np.arange(4), [[2, 1]], "reflect"), 1)
    np.testing.assert_allclose(run(gg, {x: rand(4)}), 2 * count)


def test_pad_errors():
    x = tf.zeros([2, 3])
    with pytest.raises(ValueError, match="Unknown padding mode: WRAP"):
        tf.pad(x, PADS, "wrap")
    with pytest.raises(ValueError, match="rank of inputs"):
        tf.pad(x, [[1, 1]])
    with pytest.raises(ValueError, match="non-negative"):
        tf.pad(x, [[1, -1], [0, 0]])
    with pytest.raises(ValueError, match="paddings must be less than the dimension size: 2, 0"):
        tf.pad(x, [[2, 0], [0, 0]], "REFLECT")
    tf.pad(x, [[2, 0], [0, 0]], "SYMMETRIC")
    p = tf.placeholder(tf.float32, [None])
    with pytest.raises(tf.errors.InvalidArgumentError, match="no greater than"):
        run(tf.pad(p, [[3, 0]], "SYMMETRIC"), {p: [1, 2]})


# ---- split ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("sizes,axis", [(3, 0), (2, 1), ([1, 3], 1), ([4, -1], 0), ([-1, 0, 1], -1), (1, 0)])
def test_split_values_and_shapes(sizes, axis):
    x = rand(6, 4)
    parts = tf.split(tf.constant(x), sizes, axis)
    assert parts[0].op.type == ("Split" if isinstance(sizes, int) else "SplitV")
    cuts = sizes if isinstance(sizes, int) else np.cumsum(
        [x.shape[axis] - sum(s for s in sizes if s != -1) if s == -1 else s for s in sizes])[:-1]
    ref = np.split(x, cuts, axis)
    got = run(parts)
    assert len(got) == len(ref)
    for t, g, r in zip(parts, got, ref):
        np.testing.assert_allclose(g, r)
        assert t.shape.as_list() == list(r.shape)


def test_split_unknown_dims():
    x = tf.placeholder(tf.float32, [None, 4])
    a, b = tf.split(x, 2, axis=1)
    assert a.shape.as_list() == [None, 2]
    c, d = tf.split(x, [1, -1], 0)
    assert c.shape.as_list() == [1, 4] and d.shape.as_list() == [None, 4]
    e, f = tf.split(x, 2)
    assert e.shape.as_list() == [None, 4]
    with pytest.raises(tf.errors.InvalidArgumentError, match="evenly divisible by 2 but is 3"):
        run(e, {x: np.zeros((3, 4))})
    with pytest.raises(tf.errors.InvalidArgumentError, match="Determined shape"):
        run(tf.split(x, [2, 3]), {x: np.zeros((4, 4))})


@pytest.mark.parametrize("sizes,axis,use", [(3, 1, [0, 1, 2]), ([2, -1], 0, [1]), ([1, 1, 1], 1, [0, 2])])
def test_split_gradient(sizes, axis, use):
    check_grad(lambda a: [tf.split(a, sizes, axis)[i] for i in use], [rand(4, 3)])


def test_split_errors():
    x = tf.zeros([5, 4])
    with pytest.raises(ValueError, match="Dimension size must be evenly divisible by 2 but is 5 for 'split'"):
        tf.split(x, 2)
    with pytest.raises(ValueError, match="Determined shape"):
        tf.split(x, [2, 2])
    with pytest.raises(ValueError, match="Determined shape"):
        tf.split(x, [4, 3, -1], 0)
    with pytest.raises(ValueError, match="at most one -1"):
        tf.split(x, [-1, -1])
    with pytest.raises(ValueError, match=r"range \[-2, 2\)"):
        tf.split(x, 2, axis=2)


# ---- sequence_mask, boolean_mask ----------------------------------------------------------------------
def test_sequence_mask():
    lengths = np.array([[1, 3], [0, 2]])
    t = tf.sequence_mask(lengths, 4)
    assert t.dtype == tf.bool and t.shape.as_list() == [2, 2, 4]
    np.testing.assert_array_equal(run(t), np.arange(4) < lengths[..., None])
    f = tf.sequence_mask([2, 0, 1], dtype=tf.float32)
    assert f.dtype == tf.float32 and f.shape.as_list() == [3, None]
    np.testing.assert_array_equal(run(f), (np.arange(2) < np.array([2, 0, 1])[:, None]).astype(np.float32))
    n = tf.placeholder(tf.int64, [None])
    np.testing.assert_array_equal(run(tf.sequence_mask(n, 3), {n: [3, 1]}), [[1, 1, 1], [1, 0, 0]])
    with pytest.raises(ValueError, match="maxlen must be scalar"):
        tf.sequence_mask([1], [2, 3])


@pytest.mark.parametrize("shape,mshape,axis", [((4, 3), (4,), None), ((2, 3, 2), (2, 3), None),
                                               ((2, 3, 2), (3,), 1), ((2, 3, 2), (3, 2), 1)])
def test_boolean_mask(shape, mshape, axis):
    x = rand(*shape)
    m = RNG.random(mshape) > 0.4
    t = tf.boolean_mask(tf.constant(x), m, axis=axis)
    a = axis or 0
    ref = x.reshape(shape[:a] + (-1,) + shape[a + len(mshape):])[(slice(None),) * a + (m.ravel(),)]
    np.testing.assert_allclose(run(t), ref)
    assert t.shape.as_list() == list(shape[:a]) + [None] + list(shape[a + len(mshape):])
    check_grad(lambda v: tf.boolean_mask(v, m, axis=axis), [x])


def test_boolean_mask_unknown_dims_and_errors():
    x = tf.placeholder(tf.float32, [None, 2])
    m = tf.placeholder(tf.bool, [None])
    t = tf.boolean_mask(x, m)
    assert t.shape.as_list() == [None, 2]
    xv = rand(3, 2).astype(np.float32)
    np.testing.assert_allclose(run(t, {x: xv, m: [True, False, True]}), xv[[0, 2]])
    with pytest.raises(ValueError, match="mask cannot be scalar"):
        tf.boolean_mask(x, True)
    with pytest.raises(ValueError, match="Number of mask dimensions must be specified"):
        tf.boolean_mask(x, tf.placeholder(tf.bool))
    with pytest.raises(ValueError):
        tf.boolean_mask(tf.zeros([3, 2]), [True, False])


# ---- gather ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape,idx,axis", [((5,), 3, 0), ((5,), [4, 0, 4], 0), ((3, 4), 2, 1), ((3, 4), 1, 0),
                                            ((3, 4), [[0, 3], [3, 3]], 1), ((2, 3, 4), [1, 0], -2),
                                            ((2, 3, 4), 0, -1)])
def test_gather_values_and_gradient_for_any_index_rank_and_axis(shape, idx, axis):
    """Scalar indices on any axis (e.g. map_fn reading row i of a vector) and repeated indices accumulate."""
    x = rand(*shape)
    np.testing.assert_allclose(run(tf.gather(tf.constant(x), idx, axis=axis)), np.take(x, idx, axis=axis))
    check_grad(lambda p: tf.gather(p, idx, axis=axis), [x])


# ---- gather_nd ------------------------------------------------------------------------------------
@pytest.mark.parametrize("idx", [[[0, 1], [2, 0]], [[1], [0], [1]], [[[0, 1, 1]], [[2, 0, 0]]], [1, 0]])
def test_gather_nd_values_shape_gradient(idx):
    x = rand(3, 2, 2)
    iv = np.array(idx)
    t = tf.gather_nd(tf.constant(x), iv)
    ref = x[tuple(np.moveaxis(iv, -1, 0))]
    assert t.op.type == "GatherNd" and t.shape.as_list() == list(ref.shape)
    np.testing.assert_allclose(run(t), ref)
    check_grad(lambda p: tf.gather_nd(p, iv), [x])


def test_gather_nd_repeated_indices_accumulate_and_unknown_shapes():
    p = tf.placeholder(tf.float64, [None, 3])
    i = tf.placeholder(tf.int64, [None, 1])
    t = tf.gather_nd(p, i)
    assert t.shape.as_list() == [None, 3]
    assert tf.gather_nd(p, tf.placeholder(tf.int32, [2, None])).shape.ndims is None
    g = tf.gradients(tf.reduce_sum(t), p)[0]
    np.testing.assert_allclose(run(g, {p: rand(3, 3), i: [[1], [1], [0]]}), [[1] * 3, [2] * 3, [0] * 3])


def test_gather_nd_errors():
    x = tf.zeros([3, 2])
    with pytest.raises(ValueError, match=r"indices.shape\[-1\] must be <= params.rank.*'GatherNd'"):
        tf.gather_nd(x, [[0, 1, 0]])
    with pytest.raises(TypeError, match="indices"):
        tf.gather_nd(x, [[0.5]])
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"indices\[1\] = \[3, 0\] does not index into"):
        run(tf.gather_nd(x, [[0, 0], [3, 0]]))


# ---- tensordot, einsum, matrix_transpose --------------------------------------------------------------
@pytest.mark.parametrize("sa,sb,axes", [((2, 3), (3, 4), 1), ((2, 3, 4), (3, 4, 2), 2), ((3, 2), (3, 4), [[0], [0]]),
                                        ((2, 3, 4), (4, 2, 3), [[2, 1], [0, 2]]), ((2,), (3,), 0),
                                        ((2, 3), (2, 3), [[0, 1], [0, 1]]), ((2, 3), (3, 2), [1, 0])])
def test_tensordot(sa, sb, axes):
    a, b = rand(*sa), rand(*sb)
    t = tf.tensordot(tf.constant(a), tf.constant(b), axes)
    ref = np.tensordot(a, b, axes)
    assert t.shape.as_list() == list(ref.shape)
    np.testing.assert_allclose(run(t), ref, rtol=1e-12)
    check_grad(lambda x, y: tf.tensordot(x, y, axes), [a, b])


def test_tensordot_unknown_dims():
    a = tf.placeholder(tf.float64, [None, 3, None])
    b = tf.placeholder(tf.float64, [3, 2])
    t = tf.tensordot(a, b, [[1], [0]])
    assert t.shape.as_list() == [None, None, 2]
    av, bv = rand(4, 3, 5), rand(3, 2)
    np.testing.assert_allclose(run(t, {a: av, b: bv}), np.tensordot(av, bv, [[1], [0]]))
    ga = tf.gradients(tf.reduce_sum(t), a)[0]
    np.testing.assert_allclose(run(ga, {a: av, b: bv}), np.broadcast_to(bv.sum(1)[None, :, None], av.shape))


def test_tensordot_errors():
    with pytest.raises(ValueError, match="Dimensions must be equal, but are 3 and 4"):
        tf.tensordot(tf.zeros([2, 3]), tf.zeros([4, 2]), 1)
    with pytest.raises(ValueError, match="Different number of contraction axes"):
        tf.tensordot(tf.zeros([2, 3]), tf.zeros([3, 2]), [[1], [0, 1]])
    with pytest.raises(ValueError, match="must not be larger"):
        tf.tensordot(tf.zeros([2, 3]), tf.zeros([3, 2]), 3)


@pytest.mark.parametrize("eq,shapes", [("ij,jk->ik", [(2, 3), (3, 4)]), ("ij->ji", [(2, 3)]), ("ij->", [(2, 3)]),
                                       ("bij,bjk->bik", [(2, 2, 3), (2, 3, 2)]), ("i,j->ij", [(2,), (3,)]),
                                       ("ij,jk,kl->il", [(2, 3), (3, 2), (2, 2)]), ("ij,ij->i", [(2, 3), (2, 3)]),
                                       ("ik,jk", [(2, 3), (4, 3)]), ("ijk->j", [(2, 3, 2)]), ("i,i->", [(3,), (3,)])])
def test_einsum(eq, shapes):
    xs = [rand(*s) for s in shapes]
    t = tf.einsum(eq, *[tf.constant(x) for x in xs])
    ref = np.einsum(eq, *xs)
    assert t.op.type == "Einsum" and t.shape.as_list() == list(ref.shape)
    np.testing.assert_allclose(run(t), ref, rtol=1e-12)
    check_grad(lambda *ps: tf.einsum(eq, *ps), xs)


def test_einsum_unknown_dims_and_errors():
    a = tf.placeholder(tf.float32, [None, 3])
    assert tf.einsum("ij,jk->ki", a, tf.zeros([3, 5])).shape.as_list() == [5, None]
    for eq, args, msg in [("...ij->ij", [a], "ellipsis"), ("ii->i", [tf.zeros([2, 2])], "repeat"),
                          ("ij,jk->ik", [a], "operands"), ("ij->k", [a], "absent"),
                          ("ijk->i", [a], "rank-3"), ("ij,jk->ik", [a, tf.zeros([4, 2])], "index 'j'")]:
        with pytest.raises(ValueError, match=msg):
            tf.einsum(eq, *args)


def test_matrix_transpose():
    x = rand(2, 3, 4)
    t = tf.matrix_transpose(tf.constant(x))
    assert t.op.name == "matrix_transpose/transpose" and t.shape.as_list() == [2, 4, 3]
    np.testing.assert_allclose(run(t), np.swapaxes(x, -1, -2))
    assert tf.matrix_transpose(tf.placeholder(tf.float32, [None, 5])).shape.as_list() == [5, None]
    check_grad(tf.matrix_transpose, [rand(2, 2, 3)])
    with pytest.raises(ValueError, match="rank >= 2"):
        tf.matrix_transpose(tf.zeros([3]))


def test_graph_def_export_names_and_op_types():
    x = tf.placeholder(tf.float32, [None, 4])
    tf.tile(x, [1, 2])
    tf.pad(x, [[0, 1], [1, 1]], "SYMMETRIC")
    tf.pad(x, [[0, 1], [1, 1]], constant_values=1.0)
    tf.split(x, [1, 3], axis=1)
    tf.gather_nd(x, [[0, 1]])
    tf.einsum("ij->j", x)
    tf.linspace(0.0, 1.0, 3)
    nodes = {n.name: n.op for n in tf.get_default_graph().as_graph_def().node}
    for name, op in [("Tile", "Tile"), ("MirrorPad", "MirrorPad"), ("PadV2", "PadV2"), ("split", "SplitV"),
                     ("GatherNd", "GatherNd"), ("einsum", "Einsum"), ("LinSpace", "LinSpace"),
                     ("Tile/multiples", "Const"), ("split/size_splits", "Const")]:
        assert nodes[name] == op


def test_second_derivative_through_concat():
    """concat's gradient is a SplitV whose own gradient is a concat: d2/dx2 of sum(c * c), c = [x^3, 2x]."""
    tf.reset_default_graph()
    x = tf.placeholder(tf.float64, [3])
    c = tf.concat([x * x * x, 2.0 * x], 0)
    y = tf.reduce_sum(c * c)
    (g,) = tf.gradients(y, [x])
    (h,) = tf.gradients(tf.reduce_sum(g), [x])
    xv = np.array([0.5, -1.0, 2.0])
    with tf.Session() as sess:
        got = sess.run(h, {x: xv})
    np.testing.assert_allclose(got, 30 * xv ** 4 + 8, rtol=1e-12)  # y = x^6 + 4x^2 per element
