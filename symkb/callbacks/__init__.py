"""Callbacks for ``fit``/``evaluate``/``predict`` with tf_keras's names and
behaviour: History, a progress bar, EarlyStopping, ModelCheckpoint,
LearningRateScheduler, ReduceLROnPlateau, CSVLogger, TerminateOnNaN and
LambdaCallback.

A callback sees ``self.model`` (``stop_training``, ``optimizer.learning_rate``,
``get_weights``/``set_weights``, ``save``/``save_weights``) and
``self.params`` (``verbose``, ``epochs``, ``steps``).
"""
from .base import Callback, History  # noqa: F401
from .callback_list import CallbackList  # noqa: F401
from .checkpoint import CSVLogger, ModelCheckpoint  # noqa: F401
from .lambda_callback import LambdaCallback  # noqa: F401
from .progress import ProgbarLogger  # noqa: F401
from .schedule import LearningRateScheduler, ReduceLROnPlateau  # noqa: F401
from .stopping import EarlyStopping, TerminateOnNaN  # noqa: F401
