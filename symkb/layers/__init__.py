"""Layers with tf_keras semantics, weights in tf_keras layout and order."""
from .base import Layer  # noqa: F401
from .core import (Activation, Dense, Dropout, Flatten, Input, InputLayer,  # noqa: F401
                   Lambda, Permute, RepeatVector, Reshape)
from .merge import Add, Average, Concatenate, Maximum, Minimum, Multiply, Subtract  # noqa: F401
from .embedding import Embedding, Masking  # noqa: F401
from .recurrent import GRU, LSTM, RNN, SimpleRNN  # noqa: F401
from .recurrent_cells import GRUCell, LSTMCell, SimpleRNNCell, StackedRNNCells  # noqa: F401
from .wrappers import Bidirectional, TimeDistributed  # noqa: F401
from .convolutional import Conv1D, Conv1DTranspose, Conv2D, Conv2DTranspose, Conv3D  # noqa: F401
from .separable import DepthwiseConv2D, SeparableConv1D, SeparableConv2D  # noqa: F401
from .pooling import (AveragePooling1D, AveragePooling2D, AveragePooling3D,  # noqa: F401
                      GlobalAveragePooling1D, GlobalAveragePooling2D, GlobalAveragePooling3D,
                      GlobalMaxPooling1D, GlobalMaxPooling2D, GlobalMaxPooling3D,
                      MaxPooling1D, MaxPooling2D, MaxPooling3D)
from .reshaping import (Cropping1D, Cropping2D, UpSampling1D, UpSampling2D,  # noqa: F401
                        ZeroPadding1D, ZeroPadding2D)
from .normalization import BatchNormalization, GroupNormalization, LayerNormalization  # noqa: F401
from .attention import AdditiveAttention, Attention  # noqa: F401
from .multi_head_attention import MultiHeadAttention  # noqa: F401
from .noise import GaussianDropout, GaussianNoise, SpatialDropout1D, SpatialDropout2D  # noqa: F401
from .convolutional import Conv3DTranspose  # noqa: F401
from .separable import DepthwiseConv1D  # noqa: F401
from .reshaping import Cropping3D, UpSampling3D, ZeroPadding3D  # noqa: F401
from .convolutional import (Convolution1D, Convolution1DTranspose, Convolution2D,  # noqa: F401
                            Convolution2DTranspose, Convolution3D, Convolution3DTranspose)
from .separable import SeparableConvolution1D, SeparableConvolution2D  # noqa: F401
from .pooling import (AvgPool1D, AvgPool2D, AvgPool3D, GlobalAvgPool1D,  # noqa: F401
                      GlobalAvgPool2D, GlobalAvgPool3D, GlobalMaxPool1D, GlobalMaxPool2D,
                      GlobalMaxPool3D, MaxPool1D, MaxPool2D, MaxPool3D)
from .activation_layers import (ELU, Identity, LeakyReLU, PReLU, ReLU,  # noqa: F401
                                Softmax, ThresholdedReLU)
from .preprocessing import Normalization, Rescaling  # noqa: F401
from .merge import Dot  # noqa: F401
from .op_lambda import TFOpLambda  # noqa: F401
from .noise import AlphaDropout, SpatialDropout3D  # noqa: F401
from .normalization import UnitNormalization  # noqa: F401
from .core import ActivityRegularization  # noqa: F401
