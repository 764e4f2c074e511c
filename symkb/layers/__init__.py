"""Layers with tf_keras semantics, weights in tf_keras layout and order."""
from .base import Layer  # noqa: F401
from .core import (Activation, Dense, Dropout, Flatten, Input, InputLayer,  # noqa: F401
                   Lambda, Permute, RepeatVector, Reshape)
from .merge import Add, Average, Concatenate, Maximum, Minimum, Multiply, Subtract  # noqa: F401
from .embedding import Embedding, Masking  # noqa: F401
from .recurrent import GRU, LSTM, RNN, SimpleRNN  # noqa: F401
from .recurrent_cells import GRUCell, LSTMCell, SimpleRNNCell, StackedRNNCells  # noqa: F401
from .wrappers import Bidirectional, TimeDistributed  # noqa: F401
