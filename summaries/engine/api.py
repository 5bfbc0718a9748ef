"""The flat TF1 namespace behind `import summaries as tf`: tf.placeholder, tf.Session, tf.train, tf.nn, ..."""
from __future__ import annotations

import os
import shutil
import sys
import types

import summaries.summary as summary  # noqa: F401  (tf.summary is the real module)
from summaries.engine import data  # noqa: F401  (tf.data is the real module)
from summaries.engine import errors  # noqa: F401
from summaries.engine.array_ops import (cast, concat, constant, expand_dims, fill, gather, identity, one_hot,  # noqa
                                        ones, ones_like, pack, placeholder, placeholder_with_default, random_normal,
                                        random_shuffle, random_uniform, rank, reshape, shape, size, squeeze, stack,
                                        stop_gradient, to_float, to_int32, transpose, truncated_normal, unstack,
                                        where, zeros, zeros_like)
from summaries.engine.control_flow import cond, control_dependencies, group, no_op, tuple  # noqa: F401
from summaries.engine.dtypes import (DType, Dimension, TensorShape, as_dtype, bool_ as bool, double,  # noqa
                                     float16, float32, float64, half, int8, int16, int32, int64, string, uint8)
from summaries.engine.gradients import gradients  # noqa: F401
from summaries.engine.graph import (Graph, GraphKeys, Operation, Tensor, convert_to_tensor,  # noqa: F401
                                    get_default_graph, name_scope, op_scope, reset_default_graph)
from summaries.engine.math_ops import (abs, add, add_n, arg_max, arg_min, argmax, argmin, ceil,  # noqa: F401
                                       clip_by_value, cos, div, divide, equal, exp, floor, floordiv, greater,
                                       greater_equal, less, less_equal, log, log1p, logical_and, logical_not,
                                       logical_or, logical_xor, matmul, maximum, minimum, mod, multiply, negative,
                                       not_equal, pow, reciprocal, reduce_all, reduce_any, reduce_max, reduce_mean,
                                       reduce_min, reduce_prod, reduce_sum, round, rsqrt, sign, sin, sqrt, square,
                                       squared_difference, subtract, truediv)
from summaries.engine import checkpoint as _checkpoint
from summaries.engine import conv_ops as _conv
from summaries.engine import layers as _layers
from summaries.engine import learning_rate_decay as _lr
from summaries.engine import metrics as _metrics
from summaries.engine import moving_averages as _moving_averages
from summaries.engine import nn_extra_ops as _nnx
from summaries.engine import nn_ops as _nn
from summaries.engine import rnn as _rnn
from summaries.engine import train as _train
from summaries.engine.session import (ConfigProto, GPUOptions, InteractiveSession, RunMetadata,  # noqa: F401
                                      RunOptions, Session, get_default_session)
from summaries.engine.variables import (AUTO_REUSE, Variable, VariableScope, all_variables, assign,  # noqa: F401
                                        assign_add, assign_sub, constant_initializer, get_variable,
                                        get_variable_scope, global_variables, global_variables_initializer,
                                        glorot_normal_initializer, glorot_uniform_initializer,
                                        initialize_all_variables, initialize_variables, local_variables,
                                        local_variables_initializer, ones_initializer, random_normal_initializer,
                                        random_uniform_initializer, trainable_variables,
                                        truncated_normal_initializer, variable_scope, variables_initializer,
                                        variance_scaling_initializer, xavier_initializer, zeros_initializer)
from summaries.engine.manip_ops import (boolean_mask, einsum, gather_nd, lin_space, linspace,  # noqa: F401
                                        matrix_transpose, pad, range, sequence_mask, split, tensordot, tile)
from summaries.engine.nn_extra_ops import Print, div_no_nan, py_func  # noqa: F401
from summaries.engine.nn_ops import sigmoid, tanh  # noqa: F401
from summaries.engine.reduce_ops import count_nonzero, reduce_logsumexp  # noqa: F401
from summaries.engine.second_order import hessians  # noqa: F401
from summaries.engine.sequence_ops import reverse, reverse_sequence, reverse_v2  # noqa: F401
from summaries.engine.while_loop import foldl, map_fn, scan, while_loop  # noqa: F401
from summaries.summary import FileWriter

# TF0.x/1.0 names still used by the classic labs.
mul, sub, neg, scalar_mul = multiply, subtract, negative, multiply
newaxis = None
keras = None


def set_random_seed(seed) -> None:
    """Graph-level seed: random ops without their own seed become repeatable."""
    get_default_graph().seed = None if seed is None else int(seed)


def device(device_name):
    return get_default_graph().device(device_name)


def add_to_collection(name, value):
    get_default_graph().add_to_collection(name, value)


def get_collection(key, scope=None):
    return get_default_graph().get_collection(key, scope)


def get_collection_ref(key):
    return get_default_graph().get_collection_ref(key)


def disable_eager_execution():
    """Graph mode is the only mode here."""


def disable_v2_behavior():
    """Graph mode is the only mode here."""


def executing_eagerly() -> bool:
    return False


def global_norm(t_list, name=None):
    with name_scope(name or "global_norm"):
        return sqrt(add_n([reduce_sum(square(t)) for t in t_list if t is not None]))


def clip_by_global_norm(t_list, clip_norm, use_norm=None, name=None):
    with name_scope(name or "clip_by_global_norm"):
        norm = use_norm if use_norm is not None else global_norm(t_list)
        scale = truediv(clip_norm, maximum(norm, clip_norm))
        return [None if t is None else multiply(t, scale) for t in t_list], norm


def clip_by_norm(t, clip_norm, axes=None, name=None):
    with name_scope(name or "clip_by_norm"):
        n = sqrt(reduce_sum(square(t), axes, keepdims=True))
        return multiply(t, truediv(clip_norm, maximum(n, clip_norm)))


# ---- namespaces ----------------------------------------------------------------------------------------
nn = types.SimpleNamespace(
    relu=_nn.relu, relu6=_nn.relu6, elu=_nn.elu, softplus=_nn.softplus, leaky_relu=_nn.leaky_relu,
    sigmoid=_nn.sigmoid, tanh=_nn.tanh, softmax=_nn.softmax, log_softmax=_nn.log_softmax,
    softmax_cross_entropy_with_logits=_nn.softmax_cross_entropy_with_logits,
    softmax_cross_entropy_with_logits_v2=_nn.softmax_cross_entropy_with_logits_v2,
    sparse_softmax_cross_entropy_with_logits=_nn.sparse_softmax_cross_entropy_with_logits,
    sigmoid_cross_entropy_with_logits=_nn.sigmoid_cross_entropy_with_logits, dropout=_nn.dropout,
    l2_loss=_nn.l2_loss, bias_add=_nn.bias_add, moments=_nn.moments, embedding_lookup=gather,
    top_k=_nnx.top_k, in_top_k=_nnx.in_top_k, l2_normalize=_nnx.l2_normalize, selu=_nnx.selu,
    batch_normalization=_nn.batch_normalization,
    conv2d=_conv.conv2d, max_pool=_conv.max_pool, max_pool2d=_conv.max_pool2d, avg_pool=_conv.avg_pool,
    conv2d_transpose=_conv.conv2d_transpose, atrous_conv2d=_conv.atrous_conv2d, conv1d=_conv.conv1d,
    depthwise_conv2d=_conv.depthwise_conv2d,
    xw_plus_b=lambda x, w, b, name=None: add(matmul(x, w), b, name=name or "xw_plus_b"),
    dynamic_rnn=_rnn.dynamic_rnn, static_rnn=_rnn.static_rnn, bidirectional_dynamic_rnn=_rnn.bidirectional_dynamic_rnn,
    static_bidirectional_rnn=_rnn.static_bidirectional_rnn,
    rnn_cell=types.SimpleNamespace(
        RNNCell=_rnn.RNNCell, BasicRNNCell=_rnn.BasicRNNCell, BasicLSTMCell=_rnn.BasicLSTMCell,
        LSTMCell=_rnn.LSTMCell, GRUCell=_rnn.GRUCell, MultiRNNCell=_rnn.MultiRNNCell,
        DropoutWrapper=_rnn.DropoutWrapper, LSTMStateTuple=_rnn.LSTMStateTuple))
layers = types.SimpleNamespace(
    dense=_layers.dense, conv2d=_layers.conv2d, max_pooling2d=_layers.max_pooling2d,
    average_pooling2d=_layers.average_pooling2d, dropout=_layers.dropout, flatten=_layers.flatten,
    batch_normalization=_layers.batch_normalization, conv2d_transpose=_layers.conv2d_transpose,
    conv1d=_layers.conv1d, max_pooling1d=_layers.max_pooling1d,
    average_pooling1d=_layers.average_pooling1d)
losses = _nn.losses
softmax = _nn.softmax


train = types.SimpleNamespace(
    Optimizer=_train.Optimizer, GradientDescentOptimizer=_train.GradientDescentOptimizer,
    MomentumOptimizer=_train.MomentumOptimizer, AdamOptimizer=_train.AdamOptimizer,
    AdagradOptimizer=_train.AdagradOptimizer, RMSPropOptimizer=_train.RMSPropOptimizer,
    SummaryWriter=FileWriter, Saver=_checkpoint.Saver, get_or_create_global_step=_train.get_or_create_global_step,
    create_global_step=_train.create_global_step, get_global_step=_train.get_global_step,
    global_step=_train.global_step, AdadeltaOptimizer=_train.AdadeltaOptimizer,
    exponential_decay=_lr.exponential_decay, piecewise_constant=_lr.piecewise_constant,
    polynomial_decay=_lr.polynomial_decay, natural_exp_decay=_lr.natural_exp_decay,
    inverse_time_decay=_lr.inverse_time_decay, cosine_decay=_lr.cosine_decay,
    ExponentialMovingAverage=_moving_averages.ExponentialMovingAverage,
    latest_checkpoint=_checkpoint.latest_checkpoint, get_checkpoint_state=_checkpoint.get_checkpoint_state,
    update_checkpoint_state=_checkpoint.update_checkpoint_state,
    checkpoint_exists=_checkpoint.checkpoint_exists, list_variables=_checkpoint.list_variables,
    load_variable=_checkpoint.load_variable)
metrics = types.SimpleNamespace(accuracy=_metrics.accuracy, mean=_metrics.mean)

initializers = types.SimpleNamespace(
    zeros=zeros_initializer, ones=ones_initializer, constant=constant_initializer,
    random_normal=random_normal_initializer, truncated_normal=truncated_normal_initializer,
    random_uniform=random_uniform_initializer, glorot_uniform=glorot_uniform_initializer,
    glorot_normal=glorot_normal_initializer, variance_scaling=variance_scaling_initializer,
    global_variables=global_variables_initializer, variables=variables_initializer,
    local_variables=local_variables_initializer)

contrib = types.SimpleNamespace(
    layers=types.SimpleNamespace(
        xavier_initializer=xavier_initializer, variance_scaling_initializer=variance_scaling_initializer,
        xavier_initializer_conv2d=xavier_initializer, fully_connected=_layers.fully_connected,
        l1_regularizer=_nnx.l1_regularizer, l2_regularizer=_nnx.l2_regularizer),
    rnn=types.SimpleNamespace(**vars(nn.rnn_cell), static_rnn=_rnn.static_rnn,
                              static_bidirectional_rnn=_rnn.static_bidirectional_rnn),
    seq2seq=types.SimpleNamespace(sequence_loss=_nn.sequence_loss))

random = types.SimpleNamespace(normal=random_normal, uniform=random_uniform, truncated_normal=truncated_normal,
                               set_random_seed=set_random_seed, set_seed=set_random_seed, shuffle=random_shuffle)
math = types.SimpleNamespace(add=add, subtract=subtract, multiply=multiply, divide=divide, log=log, exp=exp,
                             sqrt=sqrt, square=square, reduce_mean=reduce_mean, reduce_sum=reduce_sum,
                             sigmoid=sigmoid, tanh=tanh, argmax=argmax, equal=equal, abs=abs, maximum=maximum,
                             minimum=minimum, pow=pow, negative=negative, reduce_logsumexp=reduce_logsumexp,
                             count_nonzero=count_nonzero, top_k=_nnx.top_k, in_top_k=_nnx.in_top_k,
                             l2_normalize=_nnx.l2_normalize, divide_no_nan=div_no_nan)


def _app_run(main=None, argv=None):
    main = main or sys.modules["__main__"].main
    sys.exit(main(list(argv) if argv is not None else list(sys.argv)))


app = types.SimpleNamespace(run=_app_run)


class _GFile:
    """`tf.gfile`: local files only."""
    Exists = staticmethod(os.path.exists)
    IsDirectory = staticmethod(os.path.isdir)
    ListDirectory = staticmethod(os.listdir)
    MakeDirs = staticmethod(lambda p: os.makedirs(p, exist_ok=True))
    MkDir = staticmethod(os.mkdir)
    Remove = staticmethod(os.remove)
    DeleteRecursively = staticmethod(shutil.rmtree)
    Open = GFile = staticmethod(open)


gfile = _GFile


class _Logging:
    DEBUG, INFO, WARN, ERROR, FATAL = 10, 20, 30, 40, 50
    set_verbosity = staticmethod(lambda level: None)
    info = staticmethod(lambda msg, *a: print(msg % a if a else msg))
    warning = warn = staticmethod(lambda msg, *a: print(msg % a if a else msg, file=sys.stderr))
    error = staticmethod(lambda msg, *a: print(msg % a if a else msg, file=sys.stderr))


logging = _Logging
compat = types.SimpleNamespace(v1=sys.modules[__name__])
