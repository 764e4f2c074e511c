"""The tf_keras.backend-compatible surface: ``from symkb import backend as K``.

Every op takes numpy arrays, Python numbers, Variables and KerasTensors: with
a KerasTensor operand it records a graph node and returns a KerasTensor,
otherwise it computes with numpy and returns an ``np.ndarray``.

The functions live in topic modules: ``config`` (floatx, epsilon, image data
format), ``session`` (uids, learning phase, clear_session), ``tensors``
(placeholders, constants, shapes), ``variables``, ``random_ops``,
``math_ops``, ``activations``, ``losses``, ``nn_ops`` (bias, normalisation,
dropout, learning-phase switches), ``shape_ops``, ``conv_ops``, ``pooling``,
``control_ops`` (map_fn, foldl, foldr), ``rnn``, ``gradients`` and ``function``.
"""
from ..ir import KerasTensor, Variable  # noqa: F401
from .activations import (elu, hard_sigmoid, log_softmax, relu, selu, sigmoid,  # noqa: F401
                          softmax, softplus, softsign, tanh)
from .config import (backend, cast_to_floatx, epsilon, floatx, image_data_format,  # noqa: F401
                     normalize_data_format, set_epsilon, set_floatx, set_image_data_format)
from .control_ops import foldl, foldr, map_fn  # noqa: F401
from .conv_ops import (conv1d, conv2d, conv2d_transpose, conv3d,  # noqa: F401
                       depthwise_conv2d, local_conv1d, local_conv2d, separable_conv1d,
                       separable_conv2d)
from .conv_ops import conv3d_transpose  # noqa: F401
from .function import function  # noqa: F401
from .gradients import gradients  # noqa: F401
from .losses import (binary_crossentropy, binary_focal_crossentropy,  # noqa: F401
                     categorical_crossentropy, categorical_focal_crossentropy,
                     sparse_categorical_crossentropy)
from .math_ops import (abs, add, all, any, argmax, argmin, batch_dot, cast, clip,  # noqa: F401
                       cos, cumprod, cumsum, divide, dot, equal, exp, gather, greater,
                       greater_equal, less, less_equal, log, logsumexp, max, maximum, mean,
                       min, minimum, multiply, negative, not_equal, pow, prod, round, sign,
                       sin, sqrt, square, std, subtract, sum, switch, transpose, var)
from .nn_ops import (batch_normalization, bias_add, dropout, in_test_phase,  # noqa: F401
                     in_top_k, in_train_phase, l2_normalize, normalize_batch_in_training)
from .pooling import pool2d, pool3d, resize_images, resize_volumes  # noqa: F401
from .random_ops import (random_bernoulli, random_binomial, random_normal,  # noqa: F401
                         random_normal_variable, random_uniform, random_uniform_variable,
                         truncated_normal)
from .rnn import rnn  # noqa: F401
from .session import (clear_session, get_uid, learning_phase,  # noqa: F401
                      learning_phase_scope, reset_uids, set_learning_phase)
from .shape_ops import (batch_flatten, concatenate, expand_dims, flatten,  # noqa: F401
                        one_hot, permute_dimensions, repeat, repeat_elements, reshape, reverse,
                        slice, spatial_2d_padding, spatial_3d_padding, squeeze, stack,
                        temporal_padding, tile)
from .tensors import (arange, constant, count_params, dtype, identity,  # noqa: F401
                      int_shape, is_keras_tensor, is_placeholder, is_sparse, is_tensor,
                      manual_variable_initialization, name_scope, ndim, ones_like, placeholder,
                      print_tensor, shape, stop_gradient, to_dense, zeros_like)
from .variables import (batch_get_value, batch_set_value, eval, eye,  # noqa: F401
                        get_value, moving_average_update, ones, set_value, update, update_add,
                        update_sub, variable, zeros)
